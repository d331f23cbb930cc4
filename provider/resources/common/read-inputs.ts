// The inputs read() reports: what the state holds for the fields XAPI cannot tell (pickInputs), with the live
// values of the fields the program states (liveOwned, ifStated), so `up` repairs drift and an adopted object's
// unstated fields never show as changes.
import { ownedView, type StringMap } from "./owned-map";

/** The fields of `o` that are inputs (present and not null): what read() carries over from state. */
export function pickInputs<T>(o: object, keys: string[]): T {
  const out: Record<string, unknown> = {};
  const src = o as Record<string, unknown>;
  for (const k of keys) if (src[k] !== undefined && src[k] !== null) out[k] = src[k];
  return out as T;
}

/**
 * The live values of the fields every resource owns, limited to those the program states: what a refresh reports.
 * `all` (a get()): every live value.
 */
export function liveOwned(
  live: { name_label: string; name_description: string; other_config: StringMap; tags: string[] },
  owned: { name?: string | null; description?: string | null; otherConfig?: StringMap | null; tags?: string[] | null },
  all = false,
) {
  return {
    ...ifStated(owned, "name", live.name_label, all),
    ...ifStated(owned, "description", live.name_description, all),
    otherConfig: all ? { ...live.other_config } : ownedView(live.other_config, Object.keys(owned.otherConfig ?? {})),
    tags: all ? [...live.tags] : (owned.tags ?? []).filter((t) => live.tags.includes(t)),
  };
}

/** `value` when the program states the field (present in `owned`) or `all` is set (a get()), else nothing. */
export function ifStated<K extends string, V>(owned: object, key: K, value: V, all = false): Partial<Record<K, V>> {
  const v = (owned as Record<string, unknown>)[key];
  return !all && (v === undefined || v === null) ? {} : ({ [key]: value } as Record<K, V>);
}
