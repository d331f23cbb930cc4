/**
 * The `replaceOnChanges` resource option, applied by the provider. The engine applies it only to the keys a
 * provider reports as changed, and Pulumi's dynamic provider host never reports any: left to the engine, the
 * option would do nothing. The sdk classes pass it along as a hidden input (`__replaceOnChanges`); diff() turns
 * an update into a replacement when a property it names changed.
 *
 * Paths as Pulumi documents them: `mtu`, `bond.mode`, `tags[0]`, `otherConfig.*`, `*` (every input).
 */
import { isUnknown } from "./resources/common/unknowns";

export const replaceOnChangesKey = "__replaceOnChanges";

function segments(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split(".")) {
    const m = /^([^[\]]*)((?:\[[^\]]*\])*)$/.exec(part);
    if (!m) return [path];
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].match(/\[([^\]]*)\]/g) ?? []) out.push(idx.slice(1, -1).replace(/^"(.*)"$/, "$1"));
  }
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return v === undefined ? "null" : JSON.stringify(v);
}

function differs(a: unknown, b: unknown): boolean {
  return canonical(a) !== canonical(b); // (an unknown `b` was counted as a change by changedAt already)
}

function changedAt(segs: string[], a: unknown, b: unknown): boolean {
  if (isUnknown(b)) return true; // unknown during preview: it may change
  if (segs.length === 0) return differs(a, b);
  const [seg, ...rest] = segs;
  const ao = a && typeof a === "object" ? (a as Record<string, unknown>) : undefined;
  const bo = b && typeof b === "object" ? (b as Record<string, unknown>) : undefined;
  if (seg === "*") {
    if (!ao && !bo) return differs(a, b);
    const keys = new Set([...Object.keys(ao ?? {}), ...Object.keys(bo ?? {})]);
    return [...keys].some((k) => changedAt(rest, ao?.[k], bo?.[k]));
  }
  return changedAt(rest, ao?.[seg], bo?.[seg]);
}

/**
 * The top-level inputs to list in `replaces` because a path of `patterns` changed between the old outputs and
 * the new (checked) inputs. Only `inputKeys` count (outputs such as `uuid` are in `olds` only); an input that was
 * added or removed counts as changed.
 */
export function replacedBy(
  patterns: readonly string[],
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  inputKeys: readonly string[],
): string[] {
  const hit = new Set<string>();
  for (const p of patterns) {
    const segs = segments(p.trim());
    if (segs.length === 0) continue;
    const [first, ...rest] = segs;
    const keys = first === "*" ? inputKeys : inputKeys.filter((k) => k === first);
    for (const k of keys) if (changedAt(rest, olds[k], news[k])) hit.add(k);
  }
  return [...hit];
}
