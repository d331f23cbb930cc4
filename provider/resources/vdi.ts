// Vdi: a virtual disk on an SR, empty or filled from a local raw/VHD image
// (uploaded through /import_raw_vdi; the image's hash is an output, so a changed
// file plans a replacement). Growing resizes in place (online when attached to a
// running VM); shrinking is refused at preview; a changed SR plans a replacement.
import * as path from "node:path";
import * as fs from "node:fs";
import { z } from "zod";
import { isXapiError } from "../xapi/errors";
import type { SRRecord, VDIRecord } from "../xapi";
import { stateSchemas } from "./boundary";
import type {
  CheckFailure,
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
import { xapiFor, type Xapi } from "./common/connection";
import { fileSha256, imageVirtualSize } from "./common/files";
import { connectionAndAdoption } from "./common/adoption";
import { convergeOwnedFields } from "./common/convergence";
import { undoCreate, withId } from "./common/create-result";
import { forcedReplaces } from "./common/forced-replaces";
import { identityEntries } from "./common/identity";
import { recordByUuid, refByUuid } from "./common/lookups";
import { goneMessage } from "./common/messages";
import { ifStated, liveOwned } from "./common/read-inputs";
import { assertSamePool, poolOf } from "./common/same-pool";
import { readObserved } from "./common/read-observed";
import { changedAttributes, type AttributeSpec, type LiveComparison } from "./common/live";
import { common, stringMap, tags, uuid } from "./common/schema-parts";
import { progressReporter } from "./common/progress";
import { diskSizeHelp, formatSize, parseSizeSpec } from "./common/sizes";
import { containsUnknown, isUnknown } from "./common/unknowns";

const vdiTypes = ["user", "system", "ephemeral", "suspend", "crashdump"] as const;

/** VHD-based drivers accept 1 MiB to 2040 GiB (sm vhdutil validate_and_round_vhd_size). */
const vhdLimits = { min: 1024 * 1024, max: 2040 * 1024 ** 3 };
const vhdBasedTypes = new Set(["lvm", "ext", "nfs", "smb", "lvmoiscsi", "lvmohba", "file"]);

export const inputSchema = z
  .object({
    ...common,
    adopt: uuid.optional().describe("UUID of an existing VDI to take over instead of creating one"),
    sr: uuid.describe("UUID of the SR holding the disk"),
    size: z
      .union([z.number(), z.string()])
      .optional()
      .describe(`virtual size: ${diskSizeHelp}; with source, defaults to the image's size`),
    type: z.enum(vdiTypes).default("user").describe("VDI type"),
    sharable: z.boolean().default(false).describe("may be attached to several VMs at once"),
    readOnly: z.boolean().default(false).describe("read-only disk"),
    name: z.string().min(1).describe("name_label"),
    description: z.string().default("").describe("name_description"),
    source: z
      .object({
        path: z.string().min(1).describe("local file"),
        format: z.enum(["raw", "vhd"]).default("raw").describe("image format"),
      })
      .strict()
      .optional()
      .describe("fill the new disk from a local image file"),
    otherConfig: stringMap.default({}).describe("other_config keys owned by this program (others are left alone)"),
    tags: tags.default([]).describe("tags owned by this program (others are left alone)"),
  })
  .strict();

type Parsed = z.infer<typeof inputSchema>;

/** Inputs after check: size in bytes (absent for an adopted disk that states none), the source's absolute path and hash. */
export type Inputs = Omit<Parsed, "size"> & {
  size?: number;
  sourceHash?: string;
};

export const outputSchema = z.object({
  poolUuid: z
    .string()
    .describe(
      "UUID of the pool the VDI is in: a refresh or delete through a connection that now reaches another pool fails instead of dropping the resource",
    ),
  uuid: z.string().describe("UUID of the VDI (the resource id)"),
  virtualSize: z.number().describe("virtual_size in bytes as the SR rounded it"),
  physicalUtilisation: z.number().describe("physical_utilisation in bytes"),
  sourceHash: z.string().optional().describe("sha256 of the source image; a changed file plans a replacement"),
});

export type Outputs = Inputs & z.infer<typeof outputSchema>;

async function check(olds: Prior<Inputs>, news: Props, ctx: ResourceContext): Promise<CheckResult<Inputs>> {
  const { value, failures } = checkInputs(inputSchema, news, ctx, ["source"]);
  if (!value) return { failures };
  // `size` is in bytes once known; during preview it may still be the unknown sentinel, passed on as it came.
  const out: Omit<Inputs, "size"> & { size?: number | string } = { ...value };
  let size: number | undefined;
  let atLeast = false;
  if (value.size !== undefined && !isUnknown(value.size)) {
    const spec = parseSizeSpec(value.size);
    size = spec?.bytes;
    atLeast = !!spec?.atLeast;
    if (size === undefined)
      return {
        failures: [
          {
            property: "size",
            reason:
              typeof value.size === "number"
                ? `size: a number of bytes must be a positive whole number (given ${value.size}); or use a string such as "20GiB"`
                : `size: "${value.size}" is not a size; use ${diskSizeHelp}`,
          },
        ],
      };
  }
  if (value.source && !containsUnknown(value.source)) {
    const file = path.resolve(value.source.path);
    const previous = olds;
    if (
      !fs.existsSync(file) &&
      previous.source?.path === file &&
      typeof previous.sourceHash === "string" &&
      typeof previous.size === "number"
    ) {
      // The image only fills the disk when it is created: once the disk exists, a removed file
      // (a CI workspace, a cleaned cache) changes nothing. A different path still plans a replacement.
      return {
        inputs: {
          ...(out as Inputs),
          source: { path: file, format: value.source.format },
          sourceHash: previous.sourceHash,
          size: size === undefined || (atLeast && size < previous.size) ? previous.size : size,
        },
      };
    }
    if (!fs.existsSync(file))
      return { failures: [{ property: "source.path", reason: `source.path: no such file ${file}` }] };
    let imageSize: number;
    try {
      imageSize = imageVirtualSize(file, value.source.format);
    } catch (err) {
      return { failures: [{ property: "source.path", reason: (err as Error).message }] };
    }
    if (size === undefined) size = imageSize;
    else if (size < imageSize)
      return {
        failures: [
          {
            property: "size",
            reason: `size: ${formatSize(size)} is smaller than the image ${file} (${formatSize(imageSize)})`,
          },
        ],
      };
    out.source = { path: file, format: value.source.format };
    out.sourceHash = await fileSha256(file);
  }
  if (size === undefined && !isUnknown(value.size) && !containsUnknown(value.source) && !value.adopt)
    return { failures: [{ property: "size", reason: `size: required for an empty disk (${diskSizeHelp})` }] };
  if (size !== undefined) out.size = size;

  const sizeFailures: CheckFailure[] = [];
  const oldSize = typeof olds.size === "number" ? olds.size : undefined;
  // "atLeast:": a disk already as large or larger (grown outside Pulumi, read back by refresh) keeps its size.
  if (atLeast && size !== undefined && oldSize !== undefined && oldSize > size && olds.sr === value.sr)
    out.size = size = oldSize;
  if (size !== undefined && oldSize !== undefined && size < oldSize && olds.sr === value.sr) {
    const wanted = typeof value.size === "string" ? value.size.trim() : formatSize(size).replace(" ", "");
    sizeFailures.push({
      property: "size",
      reason:
        `size: shrinking a disk from ${formatSize(oldSize)} to ${formatSize(size)} would destroy data, and ` +
        `XenServer refuses it; keep ${formatSize(oldSize)} or more, replace the disk, or accept the size it ` +
        `has now with size: "atLeast:${wanted}" (or the ignoreChanges: ["size"] resource option)`,
    });
  }
  if (size !== undefined && !isUnknown(value.sr)) {
    const xapi = await xapiFor(ctx.config, value.connection);
    const sr = await srFacts(xapi, value.sr);
    if (!sr) return { failures: [{ property: "sr", reason: `sr: no SR with uuid ${value.sr} in this pool` }] };
    if (vhdBasedTypes.has(sr.type) && (size < vhdLimits.min || size > vhdLimits.max)) {
      sizeFailures.push({
        property: "size",
        reason: `size: ${formatSize(size)} is outside what a ${sr.type} SR accepts (${formatSize(vhdLimits.min)} to ${formatSize(vhdLimits.max)})`,
      });
    }
    if (sr.content_type === "iso" && !value.adopt)
      sizeFailures.push({
        property: "sr",
        reason: `sr: "${sr.name_label}" is an ISO library; disks go on an SR with content type user`,
      });
  }
  return sizeFailures.length ? { failures: sizeFailures } : { inputs: out as Inputs };
}

type SrFacts = Pick<SRRecord, "type" | "content_type" | "name_label">;
const srFactsCache = new WeakMap<Xapi, Map<string, Promise<SrFacts | undefined>>>();

/**
 * What check() needs of an SR, read once per session and SR uuid: every disk of a stack names one of a few SRs,
 * and a preview of 1,000 disks made 2,000 calls for these. Safe to keep for the provider process: an SR's type
 * and content type are fixed when it is made (SR.create / SR.introduce), and the same uuid is the same storage
 * when an SR is forgotten and introduced again; the name only words a message. An SR not found is not kept (the
 * stack may make it before the disk's next check).
 */
function srFacts(xapi: Xapi, uuid: string): Promise<SrFacts | undefined> {
  let bySr = srFactsCache.get(xapi);
  if (!bySr) srFactsCache.set(xapi, (bySr = new Map()));
  let facts = bySr.get(uuid);
  if (!facts) {
    facts = (async () => {
      const found = await recordByUuid<SRRecord>(xapi, "SR", uuid);
      return (
        found && {
          type: found.record.type,
          content_type: found.record.content_type,
          name_label: found.record.name_label,
        }
      );
    })();
    bySr.set(uuid, facts);
    const drop = () => bySr.delete(uuid);
    facts.then((f) => f ?? drop(), drop);
  }
  return facts;
}

async function diff(id: string, o: Prior<Outputs>, n: Inputs, ctx?: ResourceContext): Promise<DiffResult> {
  const which = connectionAndAdoption(id, o, n);
  const replaces = which.replaces;
  const same = (a: unknown, b: unknown) =>
    !containsUnknown(b) && JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  // An adopted disk stays where and what it is: only its mutable fields are compared.
  if (!which.keepsAdoption) {
    for (const k of ["type", "sourceHash"] as const) if (!same(o[k], n[k])) replaces.push(k);
    // An SR uuid that is unknown (the SR is being replaced) is not a reason to replace the disk: when the
    // engine asks whether dependents of a delete-before-replace SR must go first, "yes" would destroy disks
    // that an attach-mode SR brings back under the same uuid. The known uuid decides during `up`.
    if (!isUnknown(n.sr) && !same(o.sr, n.sr)) replaces.push("sr");
    if (!same(o.source?.format, n.source?.format)) replaces.push("source");
  }
  forcedReplaces(replaces, ctx);
  // An adopted disk may have no stated size yet: its live size is the reference.
  const oldSize = typeof o.size === "number" ? o.size : o.virtualSize;
  const grows = !replaces.length && typeof n.size === "number" && typeof oldSize === "number" && n.size > oldSize;
  if (grows && ctx) await assertResizable(id, n, ctx);
  const updates = isUnknown(n.sr) || which.updates || comparison.compare(o, n).length > 0;
  return { changes: replaces.length > 0 || updates, replaces };
}

/**
 * Growing a disk that a running VM uses needs the SR driver's VDI_RESIZE_ONLINE
 * capability (the SMAPIv1 drivers lack it): say so at preview, not midway through `up`.
 */
async function assertResizable(id: string, n: Inputs, ctx: ResourceContext): Promise<void> {
  const xapi = await xapiFor(ctx.config, n.connection);
  const found = await recordByUuid<VDIRecord>(xapi, "VDI", id);
  if (!found || !(await attachedToRunningVm(xapi, found.record))) return;
  const sr = await xapi.call<SRRecord>("SR.get_record", found.record.SR);
  const sms = await xapi.call<Record<string, { type: string; capabilities: string[] }>>("SM.get_all_records");
  const caps = Object.values(sms).find((s) => s.type === sr.type)?.capabilities ?? [];
  if (!caps.includes("VDI_RESIZE_ONLINE")) {
    throw new Error(
      `size: disk "${n.name}" (${id}) is attached to a running VM and its ${sr.type} SR cannot resize ` +
        `disks online; shut the VM down (or unplug the disk) and run \`pulumi up\` again`,
    );
  }
}

async function create(n: Inputs, ctx: ResourceContext): Promise<CreateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  if (n.adopt) {
    const found = await recordByUuid<VDIRecord>(xapi, "VDI", n.adopt);
    if (!found) throw new Error(`adopt: no VDI with uuid ${n.adopt} in this pool`);
    await converge(xapi, found.ref, found.record, n, { otherConfig: {}, tags: [] });
    return { id: found.record.uuid, outs: await outputs(xapi, found.ref, n) };
  }
  const sr = await refByUuid(xapi, "SR", n.sr);
  if (!sr) throw new Error(`sr: no SR with uuid ${n.sr} in this pool`);
  const ref = await xapi.call<string>("VDI.create", {
    SR: sr,
    virtual_size: n.size,
    type: n.type,
    sharable: n.sharable,
    read_only: n.source ? false : n.readOnly,
    name_label: n.name,
    name_description: n.description,
    other_config: { ...n.otherConfig, ...identityEntries(n.identity) },
    tags: n.tags,
    xenstore_data: {},
    sm_config: {},
  });
  try {
    if (n.source) {
      const what = `uploading ${n.source.path} to disk "${n.name}"`;
      await xapi
        .importRawVdi(ref, n.source.path, {
          format: n.source.format,
          onProgress: progressReporter(`uploading ${path.basename(n.source.path)} to VDI "${n.name}"`),
        })
        .catch((e: unknown) => {
          // "PUT /import_raw_vdi on host: HTTP 500" alone names neither the disk nor the file.
          if (e instanceof Error) e.message = `${what}: ${e.message}`;
          throw e;
        });
      if (n.readOnly) await xapi.call("VDI.set_read_only", ref, true);
    }
    // Inside the try: a failure here too must not leave a disk the engine never learns about. The SR is the one
    // the disk was just made on: its uuid is n.sr, not read back.
    return withId(await outputs(xapi, ref, n, { sr: n.sr }));
  } catch (err) {
    return undoCreate(
      err,
      { kind: "disk", cli: "vdi", name: n.name, identity: n.identity },
      () => xapi.call("VDI.destroy", ref),
      () => xapi.call<string>("VDI.get_uuid", ref),
    );
  }
}

async function attachedToRunningVm(xapi: Xapi, vdi: VDIRecord): Promise<boolean> {
  for (const vbd of vdi.VBDs) {
    if (await xapi.call<boolean>("VBD.get_currently_attached", vbd)) return true;
  }
  return false;
}

async function converge(
  xapi: Xapi,
  ref: string,
  live: VDIRecord,
  n: Inputs,
  previous: { otherConfig: Record<string, string>; tags: string[] },
): Promise<void> {
  await convergeOwnedFields(xapi, "VDI", ref, live, n, previous, async () => {
    if (n.size !== undefined && n.size > Number(live.virtual_size)) {
      const onProgress = progressReporter(`resizing VDI "${n.name}" to ${formatSize(n.size)}`);
      if (await attachedToRunningVm(xapi, live))
        await xapi.callAsync("VDI.resize_online", [ref, n.size], { onProgress });
      else await xapi.callAsync("VDI.resize", [ref, n.size], { onProgress });
    }
    if (n.sharable !== undefined && live.sharable !== n.sharable) await xapi.call("VDI.set_sharable", ref, n.sharable);
    if (n.readOnly !== undefined && live.read_only !== n.readOnly)
      await xapi.call("VDI.set_read_only", ref, n.readOnly);
  });
}

/** `known`: the record and SR uuid read in this same call (read()), or known otherwise; the rest is read now. */
async function outputs(
  xapi: Xapi,
  ref: string,
  n: Inputs,
  known?: { live?: VDIRecord; sr?: string },
): Promise<Outputs> {
  const live = known?.live ?? (await xapi.call<VDIRecord>("VDI.get_record", ref));
  const sr = known?.sr ?? (await xapi.call<string>("SR.get_uuid", live.SR));
  const out: Outputs = {
    ...n,
    sr,
    uuid: live.uuid,
    poolUuid: (await poolOf(xapi)).uuid,
    virtualSize: Number(live.virtual_size),
    physicalUtilisation: Number(live.physical_utilisation),
  };
  return out;
}

/** The attributes updated in place, compared as diff() always did. */
const inPlace: AttributeSpec = [
  ["size", "json"],
  ["name", "scalar"],
  ["description", "scalar"],
  ["sharable", "scalar"],
  ["readOnly", "scalar"],
  ["otherConfig", "map"],
  ["tags", "set"],
];

/** How read(), diff() and xen-drift see a disk's managed attributes (common/live.ts). */
export const comparison: LiveComparison<Prior<Outputs>, Inputs> = {
  cls: "VDI",
  classes: ["VDI", "SR"],
  async observe(id, o, records, all = false) {
    const found = await records.byUuid<VDIRecord>("VDI", id);
    if (!found) return undefined;
    const live = found.record;
    const liveSize = Number(live.virtual_size);
    const sr = (await records.uuidOf("SR", live.SR)) ?? "";
    const inputs = {
      ...liveOwned(live, o, all),
      sr,
      // The driver rounds sizes up: the program's size stands while the disk was not resized elsewhere.
      ...ifStated(o, "size", liveSize === o.virtualSize ? (o.size ?? undefined) : liveSize, all),
      ...ifStated(o, "sharable", live.sharable, all),
      ...ifStated(o, "readOnly", live.read_only, all),
      ...ifStated(o, "type", live.type as Inputs["type"], all),
    };
    return { ref: found.ref, inputs };
  },
  compare: (o, n) => changedAttributes(inPlace, o, n),
};

async function read(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<ReadResult<Inputs, Outputs>> {
  return readObserved<Inputs, Outputs, VDIRecord>(id, o, ctx, {
    comparison,
    inputKeys: [...Object.keys(inputSchema.shape), "sourceHash"],
    outputs: (xapi, { ref, live }, inputs) => outputs(xapi, ref, inputs, { live, sr: inputs.sr }),
  });
}

async function update(id: string, o: Prior<Outputs>, n: Inputs, ctx: ResourceContext): Promise<UpdateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  const found = await recordByUuid<VDIRecord>(xapi, "VDI", id);
  if (!found) throw new Error(goneMessage("VDI", id, o, n));
  await converge(xapi, found.ref, found.record, n, { otherConfig: o.otherConfig ?? {}, tags: o.tags ?? [] });
  return { outs: await outputs(xapi, found.ref, n) };
}

async function delete_(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<void> {
  const xapi = await xapiFor(ctx.config, o.connection);
  const ref = await refByUuid(xapi, "VDI", id);
  if (!ref) return assertSamePool(xapi, "VDI", id, o); // already gone (unless we are looking in another pool)
  try {
    await xapi.callAsync("VDI.destroy", [ref], { onProgress: progressReporter(`destroying VDI "${o.name}"`) });
  } catch (err) {
    if (isXapiError(err, "HANDLE_INVALID")) return;
    if (isXapiError(err, "VDI_IN_USE"))
      throw new Error(
        `VDI ${id} ("${o.name}") is attached to a running VM; detach it (or stop the VM) before deleting the disk`,
      );
    throw err;
  }
}

/** The Vdi kind (contract.ts); registry.ts serves it. */
export const resource: ResourceModule<Inputs, Outputs> = {
  kind: "Vdi",
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
