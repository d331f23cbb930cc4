// XAPI helpers shared by the resources: find by uuid, converge names, owned maps and tags.
import { isXapiError } from "../../xapi/errors";
import { configKey, defaultProfile, profileOf, type Xapi } from "./connection";
import { containsUnknown } from "./unknowns";
import { ownedMapChanges, ownedView, type StringMap } from "./owned-map";

/** The object's ref, or undefined when no object has this uuid (deleted out of band). */
export async function refByUuid(xapi: Xapi, cls: string, uuid: string): Promise<string | undefined> {
  try {
    return await xapi.call<string>(`${cls}.get_by_uuid`, uuid);
  } catch (err) {
    if (isXapiError(err, "UUID_INVALID") || isXapiError(err, "HANDLE_INVALID")) return undefined;
    throw err;
  }
}

export async function recordByUuid<R>(
  xapi: Xapi,
  cls: string,
  uuid: string,
): Promise<{ ref: string; record: R } | undefined> {
  const ref = await refByUuid(xapi, cls, uuid);
  if (!ref) return undefined;
  try {
    return { ref, record: await xapi.call<R>(`${cls}.get_record`, ref) };
  } catch (err) {
    if (isXapiError(err, "HANDLE_INVALID")) return undefined;
    throw err;
  }
}

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
export async function convergeOwnedTags(
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

/** other_config keys that record which stack and resource made (or adopted) an object. */
export const identityKeys = { stack: "pulumi-xenserver:stack", resource: "pulumi-xenserver:resource" } as const;

export function identityEntries(identity: string | undefined): StringMap {
  if (!identity) return {};
  const i = identity.lastIndexOf("/");
  return { [identityKeys.stack]: identity.slice(0, i), [identityKeys.resource]: identity.slice(i + 1) };
}

/** Sets name_label / name_description when they differ. */
export async function convergeNames(
  xapi: Xapi,
  cls: string,
  ref: string,
  live: { name_label: string; name_description: string },
  name: string | undefined,
  description: string | undefined,
): Promise<void> {
  if (name !== undefined && live.name_label !== name) await xapi.call(`${cls}.set_name_label`, ref, name);
  if (description !== undefined && live.name_description !== description)
    await xapi.call(`${cls}.set_name_description`, ref, description);
}

/** The fields of `o` that are inputs (present and not null): what read() carries over from state. */
export function pickInputs<T>(o: object, keys: string[]): T {
  const out: Record<string, unknown> = {};
  const src = o as Record<string, unknown>;
  for (const k of keys) if (src[k] !== undefined && src[k] !== null) out[k] = src[k];
  return out as T;
}

/**
 * The live values of the fields every resource owns, limited to those the program
 * states: what a refresh reports, so `up` repairs drift and an adopted object's
 * unstated fields never show as changes.
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

/**
 * For an adopted object, fields that only matter when creating are not compared.
 * With `id`, adopting the very object the resource already is (its own uuid)
 * counts too: it stays the same object.
 */
export function sameAdoption(o: { adopt?: string | null }, n: { adopt?: string | null }, id?: string): boolean {
  return !!n.adopt && (o.adopt === n.adopt || n.adopt === id);
}

/** Whether `adopt` changes to the object the resource already is: an update, not a replacement (which would adopt it, then delete it). */
export function adoptsItself(id: string, o: { adopt?: string | null }, n: { adopt?: string | null }): boolean {
  return !!n.adopt && n.adopt === id && o.adopt !== n.adopt;
}

/**
 * Whether the connection profile changed for an object the stack adopted: the
 * adopted object stays the same object, so that is an update (a replacement
 * would adopt it again and then delete it).
 */
export function adoptedConnectionChange(
  o: { adopt?: string | null; connection?: string | null },
  n: { adopt?: string | null; connection?: string | null },
  changed: boolean,
): boolean {
  return changed && sameAdoption(o, n);
}

/**
 * The part of every diff about which pool and which object: a changed connection or
 * adopt plans a replacement, except where the object stays the same one (an adopted
 * object reached through another profile, or adopt set to the object itself), which
 * is an update. `keepsAdoption`: the creation-only fields are then not compared.
 */
export function connectionAndAdoption(
  id: string,
  o: { adopt?: string | null; connection?: string | null },
  n: { adopt?: string | null; connection?: string | null },
): { replaces: string[]; updates: boolean; keepsAdoption: boolean } {
  const same = (a: unknown, b: unknown) => !containsUnknown(b) && (a ?? null) === (b ?? null);
  const connectionChanged = !same(profileOf(o.connection), profileOf(n.connection));
  const adoptedMoved = adoptedConnectionChange(o, n, connectionChanged);
  const selfAdopted = adoptsItself(id, o, n);
  const replaces: string[] = [];
  if (connectionChanged && !adoptedMoved) replaces.push("connection");
  if (!same(o.adopt, n.adopt) && !selfAdopted) replaces.push("adopt");
  return { replaces, updates: adoptedMoved || selfAdopted, keepsAdoption: sameAdoption(o, n, id) };
}

/** update() found no object: for an adopted object reached through a new profile, say why. */
export function goneMessage(
  kind: string,
  id: string,
  o: { connection?: string | null },
  n: { adopt?: string | null; connection?: string | null },
): string {
  if (n.adopt && (o.connection ?? "default") !== (n.connection ?? "default")) {
    return `adopt: no ${kind} with uuid ${id} through connection "${n.connection ?? "default"}"; an adopted ${kind} cannot move to another pool: change adopt as well (or keep connection "${o.connection ?? "default"}")`;
  }
  return `${kind} ${id} no longer exists; run \`pulumi refresh\` and \`pulumi up\` to re-create it`;
}

/** Adds the inputs the replaceOnChanges option forces (ctx.forceReplace) to `replaces`. */
export function forcedReplaces(replaces: string[], ctx: { forceReplace?: string[] } | undefined): string[] {
  for (const k of ctx?.forceReplace ?? []) if (!replaces.includes(k)) replaces.push(k);
  return replaces;
}

/** create()'s result: the id is the uuid the outputs already read back (no second round trip). */
export function withId<O extends { uuid: string }>(outs: O): { id: string; outs: O } {
  return { id: outs.uuid, outs };
}

/** `"web" (uuid …)` for each VM, for messages that would otherwise list OpaqueRefs. */
export async function describeVms(xapi: Xapi, vms: string[]): Promise<string[]> {
  return Promise.all(
    [...new Set(vms)].map(async (vm) => {
      const r = await xapi.call<{ name_label: string; uuid: string }>("VM.get_record", vm);
      return `"${r.name_label}" (${r.uuid})`;
    }),
  );
}

/**
 * A create made `kind` but a later step failed (`err`): undo it. When the undo fails too, the object is left
 * behind and the engine never learns of it, so the error says so, with what finds it again (uuid when XAPI still
 * answers, and the identity key every created object carries) and how to remove it. Always throws.
 */
export async function undoCreate(
  err: unknown,
  what: { kind: string; cli: string; name: string; identity?: string; verb?: "destroy" | "forget" },
  undo: () => Promise<unknown>,
  uuid: () => Promise<string>,
): Promise<never> {
  try {
    await undo();
  } catch (undoErr) {
    const id = await uuid().catch(() => undefined);
    const tag = what.identity ? `other-config:${identityKeys.resource}="${what.identity}"` : undefined; // xe's spelling
    const find = id ? `uuid ${id}` : tag ? `the ${what.kind} tagged ${tag}` : `the ${what.kind} named "${what.name}"`;
    const verb = what.verb ?? "destroy";
    const how = id
      ? `xe ${what.cli}-${verb} uuid=${id}`
      : tag
        ? `xe ${what.cli}-list ${tag}, then xe ${what.cli}-${verb}`
        : `xe ${what.cli}-list name-label="${what.name}", then xe ${what.cli}-${verb}`;
    const first = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${first}\nRemoving the half-made ${what.kind} "${what.name}" failed too (${undoErr instanceof Error ? undoErr.message : String(undoErr)}): it is left behind, not in the stack's state. Find it as ${find} and ${verb === "forget" ? "forget it (its data stays on the storage)" : "delete it"} by hand (${how}) before running up again.`,
      { cause: err },
    );
  }
  throw err;
}

const poolCache = new WeakMap<Xapi, Promise<{ uuid: string; name: string }>>();

/** The pool a session reaches (read once per session: a pool's UUID never changes). */
export function poolOf(xapi: Xapi): Promise<{ uuid: string; name: string }> {
  let p = poolCache.get(xapi);
  if (!p) {
    p = (async () => {
      const [ref] = await xapi.call<string[]>("pool.get_all");
      const r = await xapi.call<{ uuid: string; name_label: string }>("pool.get_record", ref);
      return { uuid: r.uuid, name: r.name_label };
    })();
    poolCache.set(xapi, p);
    p.catch(() => poolCache.delete(xapi));
  }
  return p;
}

/**
 * The object is not found through the resource's connection. If that connection now reaches another pool than
 * the one the object was made in (a URL pointed elsewhere by mistake, a DNS name moved), "not found" means
 * nothing: refuse, rather than let a refresh drop the resource from the state and the next up make it again in
 * the wrong pool. State written before `poolUuid` existed has no pool to compare with.
 */
export async function assertSamePool(
  xapi: Xapi,
  kind: string,
  id: string,
  o: { poolUuid?: string | null; connection?: string | null },
): Promise<void> {
  if (!o.poolUuid) return;
  const here = await poolOf(xapi);
  if (here.uuid === o.poolUuid) return;
  throw new Error(`${kind} ${id} was made in pool ${o.poolUuid}, but ${otherPoolMessage(kind, here, o.connection)}`);
}

/**
 * The object for read() and delete(): undefined when it is gone, but only once the connection is known to reach
 * the resource's pool (assertSamePool) — "not found" in another pool is refused, not taken for a deletion.
 */
export async function existingRecord<R>(
  xapi: Xapi,
  cls: string,
  kind: string,
  id: string,
  o: { poolUuid?: string | null; connection?: string | null },
): Promise<{ ref: string; record: R } | undefined> {
  const found = await recordByUuid<R>(xapi, cls, id);
  if (!found) await assertSamePool(xapi, kind, id, o);
  return found;
}

/** The end of the refusal when a connection reaches another pool than the resource's: what happened, what to do. */
export function otherPoolMessage(
  kind: string,
  here: { uuid: string; name: string },
  connection: string | null | undefined,
): string {
  const profile = connection ?? defaultProfile;
  return `connection "${profile}" now reaches pool "${here.name}" (${here.uuid}); the ${kind} is not dropped from the state on that account. Point the connection back at its pool (${configKey(profile, "url")}) and run pulumi up or pulumi refresh --run-program; if that pool is really gone, remove the resource from the state (pulumi state delete <urn>).`;
}

/** The pool master's host ref. */
export async function masterHost(xapi: Xapi): Promise<string> {
  const [pool] = await xapi.call<string[]>("pool.get_all");
  return xapi.call<string>("pool.get_master", pool);
}
