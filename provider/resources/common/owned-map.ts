// Maps such as other_config are shared with xapi and other tools. A program owns
// only the keys it set: those are compared and written, the rest is left alone.
// The owned key list is kept in the resource's outputs.

export type StringMap = Record<string, string>;

/** The keys to add/change and remove so that `live` holds `desired` for the owned keys. */
export function ownedMapChanges(
  live: StringMap,
  desired: StringMap,
  previouslyOwned: string[],
): { set: StringMap; remove: string[] } {
  const set: StringMap = {};
  for (const [k, v] of Object.entries(desired)) if (live[k] !== v) set[k] = v;
  const remove = previouslyOwned.filter((k) => !(k in desired) && k in live);
  return { set, remove };
}

/** The owned part of a live map: what a refresh reports. */
export function ownedView(live: StringMap, owned: string[]): StringMap {
  const out: StringMap = {};
  for (const k of owned) if (k in live) out[k] = live[k];
  return out;
}

export function sameMap(a: StringMap | null | undefined, b: StringMap | null | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (b ?? {})[k] === (a ?? {})[k]);
}

export function sameSet(a: string[] | null | undefined, b: string[] | null | undefined): boolean {
  const sa = new Set(a ?? []);
  const sb = new Set(b ?? []);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
