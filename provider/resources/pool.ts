// Pool: the pool the connection points at, adopted (a pool cannot be created
// through the API). Name, description, default/suspend-image/crash-dump SRs,
// other_config and tags converge in place. What the pool had before is recorded
// (`originals`) when a field is first managed, and put back when the field leaves
// the program or the resource is deleted: a destroy never leaves the pool pointing
// at an SR the stack made. It never ejects hosts.
import { z } from "zod";
import { stateSchemas } from "./boundary";
import type {
  CheckResult,
  DiffResult,
  ReadResult,
  ResourceContext,
  Prior,
  Props,
  ResourceModule,
  CreateResult,
  UpdateResult,
} from "./contract";
import { checkInputs } from "./common/check";
import { profileOf, xapiFor, type Xapi } from "./common/connection";
import { convergeOwnedFields } from "./common/convergence";
import { forcedReplaces } from "./common/forced-replaces";
import { identityKeys } from "./common/identity";
import { refByUuid } from "./common/lookups";
import { otherPoolMessage } from "./common/messages";
import { liveOwned, pickInputs } from "./common/read-inputs";
import { changedAttributes, xapiRecords, type AttributeSpec, type LiveComparison } from "./common/live";
import { common, stringMap, tags, uuid } from "./common/schema-parts";
import { isUnknown } from "./common/unknowns";
import { isNullRef, NULL_REF, type PoolRecord } from "../xapi";

export const inputSchema = z
  .object({
    ...common,
    name: z.string().min(1).optional().describe("name_label of the pool"),
    description: z.string().optional().describe("name_description"),
    defaultSr: uuid.optional().describe("UUID of the default SR for new disks (must be shared in a multi-host pool)"),
    suspendImageSr: uuid.optional().describe("UUID of the SR for suspend images"),
    crashDumpSr: uuid.optional().describe("UUID of the SR for crash dumps"),
    otherConfig: stringMap.default({}).describe("other_config keys owned by this program (others are left alone)"),
    tags: tags.default([]).describe("tags owned by this program (others are left alone)"),
  })
  .strict();

export type Inputs = z.infer<typeof inputSchema>;

export const outputSchema = z.object({
  uuid: z.string().describe("UUID of the pool (the resource id)"),
  master: z.string().describe("UUID of the pool master host"),
  hosts: z.array(z.string()).describe("UUIDs of the pool's hosts"),
  liveName: z.string().describe("the pool's name_label as it is now"),
  originals: z
    .object({
      srs: z.record(z.string(), z.string().nullable()),
      otherConfig: z.record(z.string(), z.string().nullable()),
      tags: z.record(z.string(), z.boolean()),
    })
    .describe(
      "what the pool had before this resource managed it, put back on delete: each managed SR field's SR " +
        "UUID (null: none), each owned other_config key's value (null: absent), whether the pool already had " +
        "each owned tag",
    ),
});

type Originals = z.infer<typeof outputSchema>["originals"];

export type Outputs = Inputs & z.infer<typeof outputSchema>;

const srFields = [
  ["defaultSr", "default_SR"],
  ["suspendImageSr", "suspend_image_SR"],
  ["crashDumpSr", "crash_dump_SR"],
] as const;

async function check(olds: Prior<Inputs>, news: Props, ctx: ResourceContext): Promise<CheckResult<Inputs>> {
  const { value, failures } = checkInputs(inputSchema, news, ctx);
  if (!value) return { failures };
  const known = srFields.filter(([k]) => value[k] !== undefined && !isUnknown(value[k]));
  if (known.length) {
    const xapi = await xapiFor(ctx.config, value.connection);
    const hosts = await xapi.call<string[]>("host.get_all");
    for (const [k] of known) {
      const ref = await refByUuid(xapi, "SR", value[k]!);
      if (!ref) {
        failures.push({ property: k, reason: `${k}: no SR with uuid ${value[k]} in this pool` });
        continue;
      }
      const sr = await xapi.call("SR.get_record", ref);
      if (k === "defaultSr" && hosts.length > 1 && !sr.shared) {
        failures.push({
          property: k,
          reason: `${k}: SR "${sr.name_label}" is local to one host; a pool of ${hosts.length} hosts needs a shared SR as its default`,
        });
      }
    }
  }
  return failures.length ? { failures } : { inputs: value };
}

async function diff(_id: string, o: Prior<Outputs>, n: Inputs, ctx?: ResourceContext): Promise<DiffResult> {
  // replaceOnChanges: the "new" Pool adopts the same pool, so the old one must strip its keys first.
  const forced = forcedReplaces([], ctx);
  if (forced.length) return { changes: true, replaces: forced, deleteBeforeReplace: true };
  // The pool is always adopted: a new profile for the same pool is an update of the same object (a
  // replacement would tag it, then the old resource's delete would strip the tags again). update()
  // refuses a profile that leads to another pool.
  if (profileOf(o.connection) !== profileOf(n.connection)) return { changes: true, replaces: [] };
  return { changes: comparison.compare(o, n).length > 0, replaces: [] };
}

async function thePool(xapi: Xapi): Promise<{ ref: string; record: PoolRecord }> {
  const [ref] = await xapi.call("pool.get_all");
  return { ref, record: await xapi.call("pool.get_record", ref) };
}

/**
 * The originals once the program manages `n`: what is managed for the first time is read from the live pool
 * (before converge changes it); what is no longer managed is dropped. `previous`: what was managed before; state
 * written before originals were recorded (`before` undefined) records nothing for it, so it is left as it is.
 */
async function recordOriginals(
  xapi: Xapi,
  live: PoolRecord,
  n: Inputs,
  previous: Prior<Inputs>,
  before: Originals | undefined,
): Promise<Originals> {
  const out: Originals = { srs: {}, otherConfig: {}, tags: {} };
  const known = before ?? out;
  for (const [k, field] of srFields) {
    if (n[k] === undefined) continue;
    if (k in known.srs) out.srs[k] = known.srs[k];
    else if (before || previous[k] === undefined) out.srs[k] = (await srUuid(xapi, live[field])) ?? null;
  }
  const wasOwned = Object.keys(previous.otherConfig ?? {});
  for (const k of Object.keys(n.otherConfig)) {
    if (k in known.otherConfig) out.otherConfig[k] = known.otherConfig[k];
    else if (before || !wasOwned.includes(k)) out.otherConfig[k] = live.other_config[k] ?? null;
  }
  for (const t of n.tags) {
    if (t in known.tags) out.tags[t] = known.tags[t];
    else if (before || !(previous.tags ?? []).includes(t)) out.tags[t] = live.tags.includes(t);
  }
  return out;
}

/** Puts back the originals of the SR fields, other_config keys and tags named in `which`. */
async function putBack(xapi: Xapi, ref: string, originals: Originals, which: (k: string) => boolean): Promise<void> {
  const live = await xapi.call("pool.get_record", ref);
  for (const [k, field] of srFields) {
    if (!(k in originals.srs) || !which(k)) continue;
    const uuid = originals.srs[k];
    // An original SR that is gone since leaves the field empty rather than pointing at nothing.
    const sr = (uuid && (await refByUuid(xapi, "SR", uuid))) || NULL_REF;
    if (live[field] !== sr) await xapi.call(`pool.set_${field}`, ref, sr);
  }
  for (const [k, v] of Object.entries(originals.otherConfig)) {
    if (!which(`otherConfig.${k}`) || live.other_config[k] === (v ?? undefined)) continue;
    if (k in live.other_config) await xapi.call("pool.remove_from_other_config", ref, k);
    if (v !== null) await xapi.call("pool.add_to_other_config", ref, k, v);
  }
  for (const [t, had] of Object.entries(originals.tags)) {
    if (!which(`tags.${t}`) || live.tags.includes(t) === had) continue;
    await xapi.call(had ? "pool.add_tags" : "pool.remove_tags", ref, t);
  }
}

/** What `before` recorded that `n` no longer manages. */
function dropped(before: Originals, n: Inputs): (k: string) => boolean {
  return (k) => {
    if (k.startsWith("otherConfig.")) return !(k.slice(12) in n.otherConfig);
    if (k.startsWith("tags.")) return !n.tags.includes(k.slice(5));
    return n[k as (typeof srFields)[number][0]] === undefined;
  };
}

async function converge(
  xapi: Xapi,
  ref: string,
  live: PoolRecord,
  n: Inputs,
  previous: { otherConfig: Record<string, string>; tags: string[] },
): Promise<void> {
  // The identity keys are always owned: a Pool resource that loses its identity removes them.
  const owned = { ...previous, alsoOwned: Object.values(identityKeys) };
  await convergeOwnedFields(xapi, "pool", ref, live, n, owned, async () => {
    for (const [k, field] of srFields) {
      const want = n[k];
      if (want === undefined) continue;
      const sr = await refByUuid(xapi, "SR", want);
      if (!sr) throw new Error(`${k}: no SR with uuid ${want} in this pool`);
      if (live[field] !== sr) await xapi.call(`pool.set_${field}`, ref, sr);
    }
  });
}

/** `known`: the pool record read in this same call (read()); otherwise it is read after the changes. */
async function outputs(xapi: Xapi, n: Inputs, originals: Originals | undefined, known?: PoolRecord): Promise<Outputs> {
  const record = known ?? (await thePool(xapi)).record;
  const hosts = await xapi.call<Record<string, { uuid: string }>>("host.get_all_records");
  const hostUuids = Object.values(hosts).map((h) => h.uuid);
  const out = {
    ...n,
    uuid: record.uuid,
    master: hosts[record.master]?.uuid ?? "",
    hosts: hostUuids.sort(),
    liveName: record.name_label,
    ...(originals ? { originals } : {}),
  } as Outputs;
  return out;
}

async function create(n: Inputs, ctx: ResourceContext): Promise<CreateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  const { ref, record } = await thePool(xapi);
  const originals = await recordOriginals(xapi, record, n, {}, undefined);
  await converge(xapi, ref, record, n, { otherConfig: {}, tags: [] });
  return { id: record.uuid, outs: await outputs(xapi, n, originals) };
}

async function srUuid(xapi: Xapi, ref: string): Promise<string | undefined> {
  return isNullRef(ref) ? undefined : xapi.call("SR.get_uuid", ref);
}

/** The attributes updated in place, compared as diff() always did. */
const inPlace: AttributeSpec = [
  ["name", "scalar"],
  ["description", "scalar"],
  ...srFields.map(([k]) => [k, "scalar"] as const),
  ["otherConfig", "map"],
  ["tags", "set"],
];

/** How read(), diff() and xen-drift see the pool's managed attributes (common/live.ts). */
export const comparison: LiveComparison<Prior<Outputs>, Inputs> = {
  cls: "pool",
  classes: ["pool", "SR"],
  async observe(id, o, records, all = false) {
    const [found] = await records.all<PoolRecord>("pool");
    // Another UUID: the connection leads to another pool (read() refuses that; xen-drift reports the pool gone).
    if (!found || found[1].uuid !== id) return undefined;
    const [ref, record] = found;
    const inputs: Partial<Inputs> = liveOwned(record, o, all);
    for (const [k, field] of srFields) {
      if (!all && (o[k] === undefined || o[k] === null)) continue;
      const uuid = isNullRef(record[field]) ? undefined : await records.uuidOf("SR", record[field]);
      if (uuid) inputs[k] = uuid;
    }
    return { ref, inputs };
  },
  compare: (o, n) => changedAttributes(inPlace, o, n),
};

async function read(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<ReadResult<Inputs, Outputs>> {
  const xapi = await xapiFor(ctx.config, o.connection);
  const { record } = await thePool(xapi);
  // A pool is never "deleted" from under a Pool resource: another UUID means the connection leads elsewhere.
  if (record.uuid !== id) {
    if (ctx.referenceOnly) return { id: "" };
    throw new Error(
      `pool ${id}: ${otherPoolMessage("Pool resource", { uuid: record.uuid, name: record.name_label }, o.connection)}`,
    );
  }
  const seen = await comparison.observe(id, o, xapiRecords(xapi), !!ctx.referenceOnly);
  const inputs: Inputs = { ...pickInputs<Inputs>(o, ["connection", "identity"]), ...seen?.inputs };
  return {
    id,
    props: await outputs(xapi, inputs, o.originals ?? undefined, record),
    inputs,
  };
}

async function update(id: string, o: Prior<Outputs>, n: Inputs, ctx: ResourceContext): Promise<UpdateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  const { ref, record } = await thePool(xapi);
  if (record.uuid !== id) {
    throw new Error(
      `connection: profile "${n.connection ?? "default"}" leads to pool ${record.uuid}, not to this ` +
        `resource's pool ${id}; a Pool resource cannot move to another pool: give the other pool a Pool ` +
        `resource of its own (or keep connection "${o.connection ?? "default"}")`,
    );
  }
  const previous = { otherConfig: o.otherConfig ?? {}, tags: o.tags ?? [] };
  const originals = await recordOriginals(xapi, record, n, { ...o, ...previous }, o.originals ?? undefined);
  await converge(xapi, ref, record, n, previous);
  // What left the program goes back to what the pool had before (converge removed the keys and tags it owned).
  if (o.originals) await putBack(xapi, ref, o.originals, dropped(o.originals, n));
  return { outs: await outputs(xapi, n, originals) };
}

/**
 * The pool gets back what it had before (originals): default, suspend and crash-dump SRs, owned other_config keys
 * and tags; the identity keys this stack wrote are removed. State from before originals were recorded only loses
 * the identity keys.
 */
async function delete_(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<void> {
  const xapi = await xapiFor(ctx.config, o.connection);
  const { ref, record } = await thePool(xapi);
  if (record.uuid !== id)
    throw new Error(
      `pool ${id}: connection "${o.connection ?? "default"}" now reaches pool "${record.name_label}" ` +
        `(${record.uuid}); its identity keys are not removed from that pool. Point the connection back at ` +
        `pool ${id}, or remove the resource from the state (pulumi state delete <urn>) if that pool is gone.`,
    );
  if (o.originals) await putBack(xapi, ref, o.originals, () => true);
  const live = o.originals ? await xapi.call("pool.get_record", ref) : record;
  for (const k of Object.values(identityKeys))
    if (k in live.other_config) await xapi.call("pool.remove_from_other_config", ref, k);
}

/** The Pool kind (contract.ts); registry.ts serves it. */
export const resource: ResourceModule<Inputs, Outputs> = {
  kind: "Pool",
  inputSchema,
  schemas: stateSchemas(inputSchema, outputSchema),
  check,
  diff,
  create,
  read,
  update,
  delete: delete_,
  comparison,
};
