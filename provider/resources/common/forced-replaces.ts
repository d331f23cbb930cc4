// The replaceOnChanges option's part of a diff: the runtime finds the inputs it names that changed
// (provider/replace-on-changes.ts, ctx.forceReplace); each kind's diff replaces for them too.

/** Adds the inputs the replaceOnChanges option forces (ctx.forceReplace) to `replaces`. */
export function forcedReplaces(replaces: string[], ctx: { forceReplace?: string[] } | undefined): string[] {
  for (const k of ctx?.forceReplace ?? []) if (!replaces.includes(k)) replaces.push(k);
  return replaces;
}
