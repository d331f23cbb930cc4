// Convergence: writing to a live object only what differs from the program, and only the parts the program owns
// (its other_config keys and tags; what xapi or other tools set stays).
import type { Xapi } from "./connection";
import { identityEntries } from "./identity";
import { ownedMapChanges, type StringMap } from "./owned-map";

/** Writes the owned keys of a map field (e.g. other_config): only what differs. */
export async function convergeOwnedMap(
  xapi: Xapi,
  cls: string,
  ref: string,
  field: string,
  live: StringMap,
  desired: StringMap,
  previouslyOwned: string[],
): Promise<void> {
  const { set, remove } = ownedMapChanges(live, desired, previouslyOwned);
  for (const k of remove) await xapi.call(`${cls}.remove_from_${field}`, ref, k);
  for (const [k, v] of Object.entries(set)) {
    // add_to_ fails with MAP_DUPLICATE_KEY when the key exists.
    if (k in live) await xapi.call(`${cls}.remove_from_${field}`, ref, k);
    await xapi.call(`${cls}.add_to_${field}`, ref, k, v);
  }
}

/** Adds the desired tags, removes the previously owned ones no longer desired; other tags stay. */
async function convergeOwnedTags(
  xapi: Xapi,
  cls: string,
  ref: string,
  live: string[],
  desired: string[],
  previouslyOwned: string[],
): Promise<void> {
  const liveSet = new Set(live);
  for (const t of previouslyOwned)
    if (!desired.includes(t) && liveSet.has(t)) await xapi.call(`${cls}.remove_tags`, ref, t);
  for (const t of desired) if (!liveSet.has(t)) await xapi.call(`${cls}.add_tags`, ref, t);
}

/** The live fields every resource owns on its object. */
interface OwnedFieldsRecord {
  name_label: string;
  name_description: string;
  other_config: StringMap;
  tags: string[];
}

/** What the program states for those fields (undefined: not managed, as for an adopted object's unstated name). */
interface OwnedFieldsInputs {
  name?: string;
  description?: string;
  otherConfig?: StringMap;
  tags?: string[];
  identity?: string;
}

/** What the resource owned before this change: its other_config keys (`alsoOwned`: more keys it always owns). */
interface PreviouslyOwned {
  otherConfig: StringMap;
  tags: string[];
  alsoOwned?: string[];
}

/**
 * The sequence every resource runs on its own object: name_label and name_description where they differ, then
 * `kindFields` (the kind's own fields: MTU, size, the pool's SRs…), the owned other_config keys (with the identity
 * keys) and the owned tags.
 */
export async function convergeOwnedFields(
  xapi: Xapi,
  cls: string,
  ref: string,
  live: OwnedFieldsRecord,
  n: OwnedFieldsInputs,
  previous: PreviouslyOwned,
  kindFields?: () => Promise<void>,
): Promise<void> {
  if (n.name !== undefined && live.name_label !== n.name) await xapi.call(`${cls}.set_name_label`, ref, n.name);
  if (n.description !== undefined && live.name_description !== n.description)
    await xapi.call(`${cls}.set_name_description`, ref, n.description);
  await kindFields?.();
  const desired = { ...(n.otherConfig ?? {}), ...identityEntries(n.identity) };
  const owned = [...Object.keys(previous.otherConfig), ...(previous.alsoOwned ?? [])];
  await convergeOwnedMap(xapi, cls, ref, "other_config", live.other_config, desired, owned);
  await convergeOwnedTags(xapi, cls, ref, live.tags, n.tags ?? [], previous.tags);
}
