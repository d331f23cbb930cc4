// Sr: a storage repository. `mode: "create"` formats new storage (SR.create);
// `mode: "attach"` introduces an existing SR by its UUID and plugs it, touching no
// data. Shared SRs get a PBD on every host, all plugged; local ones (lvm, ext)
// one PBD on the named host. Delete unplugs and forgets (data kept) unless
// destroyOnDelete is true. Passwords in deviceConfig are handed to XAPI as secret
// objects (the driver's `<key>_secret` convention); xapi copies them into one
// secret per PBD (Xapi_secret.duplicate_passwds), so the provider's own secret is
// only a vehicle for SR.create / PBD.create and is destroyed once the PBDs exist.
// A new password is written into the secret each PBD's device_config names.
import { z } from "zod";
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
import { profileOf, xapiFor, type Xapi } from "./common/connection";
import { connectionAndAdoption } from "./common/adoption";
import { convergeOwnedFields } from "./common/convergence";
import { undoCreate, withId } from "./common/create-result";
import { forcedReplaces } from "./common/forced-replaces";
import { masterHost, recordByUuid, refByUuid } from "./common/lookups";
import { describeVms, goneMessage } from "./common/messages";
import { liveOwned } from "./common/read-inputs";
import { existingRecord, poolOf } from "./common/same-pool";
import { sameMap, sameSet } from "./common/owned-map";
import { isNullRef, type HostRecord, type PBDRecord, type SRRecord } from "../xapi";
import { claim } from "./common/claims";
import { releasePoolReferences } from "./common/pool-references";
import { progressReporter, reportNotice } from "./common/progress";
import {
  changedAttributes,
  hostsLacking,
  xapiRecords,
  type AttributeSpec,
  type LiveComparison,
  type LiveRecords,
} from "./common/live";
import { readObserved } from "./common/read-observed";
import { common, stringMap, tags, uuid } from "./common/schema-parts";
import { containsUnknown, isUnknown } from "./common/unknowns";
import {
  explainUnplugRefusal,
  hostStates,
  offlineAmong,
  partialAttachMessage,
  pbdStates,
  plugMissing,
  unplugRefusals,
} from "./sr-pbds";

/**
 * What each well-known driver reads from device_config: the keys its code reads from `dconf` (not only its
 * CONFIGURATION list), in xapi-project/sm master (libs/sm/drivers/*.py, 2026-04) and xcp-ng/sm 3.2.12-8.3
 * (drivers/*.py), which agree for the network types. Keys the drivers write themselves into a PBD
 * (multiSession, localIQN, targetlist, multipathing…) are not inputs.
 */
const srTypes: Record<string, { shared: boolean; contentType: string; required: string[]; optional: string[] }> = {
  // NFSSR.py load/validate_remotepath/check_server/set_transport: server, serverpath, nfsversion, options (the
  // mount options; nothing reads "nfsoptions"), useUDP ("true"), probeversion (take the server's newest version).
  nfs: {
    shared: true,
    contentType: "user",
    required: ["server", "serverpath"],
    optional: ["nfsversion", "options", "useUDP", "probeversion"],
  },
  // SMBSR.py load/mount + cifutils.getCIFCredentials: server, username, password(_secret). The mount always
  // uses vers=3.0 (getMountOptions): SMBSR reads no "vers" key, nor any mount options.
  smb: { shared: true, contentType: "user", required: ["server"], optional: ["username", "password"] },
  // ISOSR.py load/attach/_checkTargetStr + cifutils (prefix "cifs"): location, legacy_mode, iso_path, nfsversion,
  // type (cifs or nfs_iso), options, vers (cifs with type only: 1.0 or 3.0), username, cifspassword(_secret).
  iso: {
    shared: true,
    contentType: "iso",
    required: ["location"],
    optional: ["type", "options", "nfsversion", "vers", "username", "cifspassword", "legacy_mode", "iso_path"],
  },
  lvm: { shared: false, contentType: "user", required: ["device"], optional: [] },
  ext: { shared: false, contentType: "user", required: ["device"], optional: [] },
  // LVHDoISCSISR.py + BaseISCSI.py load + LVHDSR.py load: target, targetIQN, SCSIid, port (1-65535), chapuser +
  // chappassword(_secret), incoming_chapuser + incoming_chappassword(_secret), multihomed, usediscoverynumber,
  // allocation (thick or thin).
  lvmoiscsi: {
    shared: true,
    contentType: "user",
    required: ["target", "targetIQN", "SCSIid"],
    optional: [
      "port",
      "chapuser",
      "chappassword",
      "incoming_chapuser",
      "incoming_chappassword",
      "multihomed",
      "usediscoverynumber",
      "allocation",
    ],
  },
};

export const inputSchema = z
  .object({
    ...common,
    adopt: uuid.optional().describe("UUID of an SR already in the pool to take over instead of creating one"),
    type: z
      .string()
      .min(1)
      .describe("SR driver: nfs, smb, iso, lvm, ext, lvmoiscsi, or any type the pool's SM plugins support"),
    mode: z
      .enum(["create", "attach"])
      .default("create")
      .describe(
        '"create" formats new storage; "attach" introduces the existing SR existingUuid and plugs it (no data touched)',
      ),
    existingUuid: uuid.optional().describe("with mode attach: the UUID of the existing SR on the storage"),
    host: z
      .string()
      .min(1)
      .optional()
      .describe("for local SRs (lvm, ext): the host, by name, hostname or UUID (default: the pool master)"),
    name: z.string().min(1).describe("name_label"),
    description: z.string().default("").describe("name_description"),
    deviceConfig: stringMap
      .default({})
      .describe("driver settings (device_config); keys containing 'password' become XAPI secrets"),
    shared: z.boolean().optional().describe("override whether the SR is shared (default from the type)"),
    contentType: z.string().optional().describe("content_type (default from the type: user, or iso for iso)"),
    smConfig: stringMap.default({}).describe("sm_config given at creation"),
    destroyOnDelete: z
      .boolean()
      .default(false)
      .describe("destroy the SR and its data on delete instead of forgetting it"),
    allowPartialAttach: z
      .boolean()
      .default(false)
      .describe(
        "keep a shared SR that some hosts cannot attach (storage unreachable from them, or host offline) " +
          "instead of failing; they are listed in missingOn, and each update tries to plug them again",
      ),
    otherConfig: stringMap.default({}).describe("other_config keys owned by this program (others are left alone)"),
    tags: tags.default([]).describe("tags owned by this program (others are left alone)"),
  })
  .strict();

export type Inputs = z.infer<typeof inputSchema>;

export const outputSchema = z.object({
  poolUuid: z
    .string()
    .describe(
      "UUID of the pool the SR is in: a refresh or delete through a connection that now reaches another pool fails instead of dropping the resource",
    ),
  uuid: z.string().describe("UUID of the SR (the resource id)"),
  physicalSize: z.number().describe("physical_size in bytes"),
  physicalUtilisation: z.number().describe("physical_utilisation in bytes"),
  virtualAllocation: z.number().describe("virtual_allocation in bytes"),
  pbds: z.array(z.string()).describe("UUIDs of the plugged PBDs, one per host that sees the SR"),
  missingOn: z
    .array(z.string())
    .describe(
      "names of the hosts where the SR should be plugged and is not (a PBD unplugged or removed out of " +
        "band): a refresh shows them, and `up` plugs the SR there again",
    ),
  secrets: z
    .record(z.string(), z.string())
    .describe(
      "deviceConfig key → UUID of a XAPI secret this provider still owns for that password (destroyed on " +
        "delete); {} once the PBDs hold their own copies, as they do after a create",
    ),
});

export type Outputs = Inputs & z.infer<typeof outputSchema>;

const creationOnly = ["type", "mode", "existingUuid", "host", "deviceConfig", "shared", "contentType", "smConfig"];

export function isPasswordKey(key: string): boolean {
  return /password/i.test(key) && !key.endsWith("_secret");
}

/** Checks that need no XAPI: device_config keys per type, mode/uuid pairing, host only for local SRs. */
export function checkStatic(v: Inputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const known = srTypes[v.type];
  if (v.mode === "attach" && !v.existingUuid)
    failures.push({
      property: "existingUuid",
      reason: 'existingUuid: mode "attach" needs the UUID of the existing SR',
    });
  if (v.mode === "create" && v.existingUuid)
    failures.push({
      property: "existingUuid",
      reason: 'existingUuid: only with mode "attach" (a created SR gets a new UUID)',
    });
  if (known && !v.adopt && !containsUnknown(v.deviceConfig)) {
    const missing = known.required.filter((k) => !v.deviceConfig[k] && !v.deviceConfig[`${k}_secret`]);
    if (missing.length)
      failures.push({
        property: "deviceConfig",
        reason:
          `deviceConfig: a ${v.type} SR needs ${missing.map((m) => `"${m}"`).join(", ")} (allowed ` +
          `keys: ${[...known.required, ...known.optional].join(", ")})`,
      });
    const allowed = new Set([...known.required, ...known.optional]);
    const unknownKeys = Object.keys(v.deviceConfig).filter(
      (k) => !allowed.has(k) && !allowed.has(k.replace(/_secret$/, "")),
    );
    if (unknownKeys.length)
      failures.push({
        property: "deviceConfig",
        reason:
          `deviceConfig: unknown key(s) ${unknownKeys.map((k) => `"${k}"`).join(", ")} for a ${v.type} SR ` +
          `(allowed: ${[...allowed].join(", ")})${ignoredKeyHint(v.type, unknownKeys)}`,
      });
    failures.push(...deviceConfigValues(v.type, v.deviceConfig));
  }
  if (v.destroyOnDelete && (v.type === "iso" || v.contentType === "iso")) {
    failures.push({
      property: "destroyOnDelete",
      reason:
        "destroyOnDelete: an ISO library is a share of files that XenServer does not own; it is always forgotten, never destroyed",
    });
  }
  const shared = v.shared ?? known?.shared ?? false;
  if (v.host && shared && !isUnknown(v.shared))
    failures.push({
      property: "host",
      reason: `host: a shared ${v.type} SR is plugged on every host; host is only for local SRs`,
    });
  return failures;
}

/** Keys users reach for that the driver would silently ignore: say what it reads instead. */
function ignoredKeyHint(type: string, keys: string[]): string {
  if (type === "nfs" && keys.includes("nfsoptions"))
    return '; NFSSR takes mount options from "options" (nothing reads "nfsoptions")';
  if (type === "smb" && keys.includes("vers"))
    return '; SMBSR always mounts with SMB 3.0 and reads no "vers" (an iso SR over SMB does, with type "cifs")';
  return "";
}

/** The values the drivers refuse (sm: nfs.validate_nfsversion, ISOSR attach, BaseISCSI load, LVHDSR load). */
function deviceConfigValues(type: string, dc: Record<string, string>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const bad = (key: string, allowed: string) =>
    failures.push({ property: `deviceConfig.${key}`, reason: `deviceConfig.${key}: ${allowed}` });
  if ((type === "nfs" || type === "iso") && dc.nfsversion && !(dc.nfsversion === "3" || dc.nfsversion.startsWith("4")))
    bad("nfsversion", 'must be "3" or a version 4 ("4", "4.0", "4.1", "4.2")');
  if (type === "iso" && dc.type === "cifs" && dc.vers && !["1.0", "3.0"].includes(dc.vers))
    bad("vers", 'the SMB version must be "1.0" or "3.0"');
  if (type === "iso" && dc.vers && dc.type !== "cifs")
    bad("vers", 'ISOSR reads vers only with type "cifs" (an SMB share)');
  if (type === "lvmoiscsi" && dc.port && !(/^\d+$/.test(dc.port) && Number(dc.port) >= 1 && Number(dc.port) <= 65535))
    bad("port", "must be a port number between 1 and 65535");
  if (type === "lvmoiscsi" && dc.allocation && !["thick", "thin"].includes(dc.allocation))
    bad("allocation", 'must be "thick" or "thin"');
  return failures;
}

async function check(_olds: Prior<Inputs>, news: Props, ctx: ResourceContext): Promise<CheckResult<Inputs>> {
  const { value, failures } = checkInputs(
    inputSchema,
    news,
    ctx,
    creationOnly.filter((f) => f !== "type"),
  );
  if (!value) return { failures };
  failures.push(...checkStatic(value));
  if (failures.length) return { failures };
  const xapi = await xapiFor(ctx.config, value.connection);
  if (!srTypes[value.type] && !isUnknown(value.type)) {
    const sms = await xapi.call<Record<string, { type: string }>>("SM.get_all_records");
    const types = [...new Set(Object.values(sms).map((s) => s.type))].sort();
    if (!types.includes(value.type))
      return {
        failures: [
          { property: "type", reason: `type: unknown SR type "${value.type}"; this pool supports ${types.join(", ")}` },
        ],
      };
  }
  if (value.host && !isUnknown(value.host) && !(await findHost(xapi, value.host))) {
    const hosts = Object.values(await xapi.call<Record<string, HostRecord>>("host.get_all_records")).map(
      (h) => h.name_label,
    );
    return {
      failures: [
        { property: "host", reason: `host: no host "${value.host}" in this pool (hosts: ${hosts.join(", ")})` },
      ],
    };
  }
  const inUse = await deviceInUse(xapi, value, _olds);
  if (inUse) return { failures: [{ property: "deviceConfig.device", reason: inUse }] };
  // SR names are not unique in XAPI, but two SRs of one program with one name cannot be told apart (getSr, XenCenter).
  const twice =
    typeof value.name === "string" && !isUnknown(value.name)
      ? claim(`sr name\u0000${profileOf(value.connection)}\u0000${value.name}`, value.identity)
      : undefined;
  if (twice)
    return {
      failures: [
        {
          property: "name",
          reason: `name: Sr resource "${twice}" of this program already names its SR "${value.name}"; give each SR its own name`,
        },
      ],
    };
  return { inputs: value };
}

/**
 * A local SR's device that another SR's PBD on the same host already names: sm's LVHDSR/EXTSR create refuse it
 * (util.test_hostPBD_devs, SR_BACKEND_FAILURE_16 SRInUse). Whether the device exists at all no XAPI read tells.
 */
async function deviceInUse(
  xapi: Xapi,
  v: { type: string; mode?: string; adopt?: string; host?: string; deviceConfig?: Record<string, string> },
  olds: Record<string, unknown>,
): Promise<string | undefined> {
  const device = v.deviceConfig?.device;
  if ((v.type !== "ext" && v.type !== "lvm") || v.mode === "attach" || v.adopt || !device || containsUnknown(device))
    return undefined;
  if ((olds.deviceConfig as Record<string, string> | undefined)?.device === device) return undefined; // its own
  if (v.host !== undefined && isUnknown(v.host)) return undefined; // checked at up
  const host = v.host ? await findHost(xapi, v.host) : await masterHost(xapi);
  const pbds =
    await xapi.call<Record<string, { host: string; SR: string; device_config: Record<string, string> }>>(
      "PBD.get_all_records",
    );
  const wanted = device.split(",");
  for (const p of Object.values(pbds ?? {})) {
    if (p.host !== host || !(p.device_config.device ?? "").split(",").some((d) => wanted.includes(d))) continue;
    const sr = await xapi.call<{ uuid: string; name_label: string }>("SR.get_record", p.SR);
    return (
      `deviceConfig.device: ${device} is already used by SR "${sr.name_label}" (${sr.uuid}) on that host ` +
      `(SR_BACKEND_FAILURE_16, SRInUse); use another device, or take that SR over with adopt: "${sr.uuid}"`
    );
  }
  return undefined;
}

async function findHost(xapi: Xapi, name: string): Promise<string | undefined> {
  const hosts = await xapi.call<Record<string, HostRecord>>("host.get_all_records");
  return Object.entries(hosts).find(
    ([, h]) => h.uuid === name.toLowerCase() || h.name_label === name || h.hostname === name,
  )?.[0];
}

/** What `shared` and `contentType` are when the program leaves them out: the type's defaults, as create uses them. */
function effectiveShared(x: { shared?: boolean | null; type?: string | null }): boolean {
  return x.shared ?? srTypes[x.type ?? ""]?.shared ?? false;
}
function effectiveContentType(x: { contentType?: string | null; type?: string | null }): string {
  return x.contentType ?? srTypes[x.type ?? ""]?.contentType ?? "user";
}

/**
 * Whether a local SR's `host` names the host its PBD is on. The same host can be written as its name, hostname or
 * UUID, or left out (the master): restating it must not replace — that is, wipe — the SR.
 */
async function sameLocalHost(
  id: string,
  o: Prior<Outputs>,
  n: Inputs,
  ctx: ResourceContext | undefined,
): Promise<boolean> {
  if (o.host === n.host) return true;
  if (!ctx || isUnknown(n.host)) return false;
  const xapi = await xapiFor(ctx.config, n.connection);
  const wanted = n.host ? await findHost(xapi, n.host) : await masterHost(xapi);
  const found = await recordByUuid<SRRecord>(xapi, "SR", id);
  if (found?.record.PBDs.length) return wanted === (await xapi.call<string>("PBD.get_host", found.record.PBDs[0]));
  // The SR is gone (a refresh will say so): compare with the host the state names.
  return wanted === (o.host ? await findHost(xapi, o.host) : await masterHost(xapi));
}

async function diff(id: string, o: Prior<Outputs>, n: Inputs, ctx?: ResourceContext): Promise<DiffResult> {
  const which = connectionAndAdoption(id, o, n);
  const replaces = which.replaces;
  const same = (a: unknown, b: unknown) =>
    !containsUnknown(b) && JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  let passwordsChanged = false;
  if (!which.keepsAdoption) {
    for (const k of ["type", "mode", "existingUuid"] as const) if (!same(o[k], n[k])) replaces.push(k);
    // Compared as the values create used: `shared: true` on an nfs SR, or `contentType: "user"`, changes nothing.
    if (isUnknown(n.shared) || effectiveShared(o) !== effectiveShared(n)) replaces.push("shared");
    if (isUnknown(n.contentType) || effectiveContentType(o) !== effectiveContentType(n)) replaces.push("contentType");
    // (Asked through the resource's connection only when that stays: a new or unknown profile replaces anyway.)
    const hostMatters =
      !effectiveShared(n) &&
      !replaces.includes("type") &&
      !replaces.includes("connection") &&
      !containsUnknown(n.connection);
    if (hostMatters && !(await sameLocalHost(id, o, n, ctx))) replaces.push("host");
    // A new password is written into the secret the PBDs already reference; any other change needs a new SR.
    const settings = (m: Record<string, string> | null | undefined) =>
      Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !isPasswordKey(k)));
    if (
      containsUnknown(n.deviceConfig) ||
      !sameMap(settings(o.deviceConfig), settings(n.deviceConfig)) ||
      !sameSet(Object.keys(o.deviceConfig ?? {}), Object.keys(n.deviceConfig ?? {}))
    )
      replaces.push("deviceConfig");
    else passwordsChanged = !sameMap(o.deviceConfig, n.deviceConfig);
    if (!sameMap(o.smConfig, n.smConfig)) replaces.push("smConfig");
  }
  forcedReplaces(replaces, ctx);
  const updates =
    which.updates ||
    passwordsChanged ||
    o.destroyOnDelete !== n.destroyOnDelete ||
    comparison.compare(o, n).length > 0 ||
    (o.allowPartialAttach ?? false) !== (n.allowPartialAttach ?? false) ||
    // A refresh found hosts without the SR: an up plugs it there again (or says why it cannot).
    (!n.allowPartialAttach && !!o.missingOn?.length);
  const shared = n.shared ?? srTypes[n.type]?.shared ?? false;
  // An attached SR's UUID, or a local device, cannot be in use twice.
  return {
    changes: replaces.length > 0 || updates,
    replaces,
    deleteBeforeReplace: replaces.length > 0 && (n.mode === "attach" || !shared),
  };
}

async function storeSecrets(
  xapi: Xapi,
  deviceConfig: Record<string, string>,
): Promise<{ config: Record<string, string>; secrets: Record<string, string> }> {
  const config: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(deviceConfig)) {
    if (!isPasswordKey(k)) {
      config[k] = v;
      continue;
    }
    let ref: string | undefined;
    try {
      ref = await xapi.call<string>("secret.create", { value: v, other_config: {} });
      const id = await xapi.call<string>("secret.get_uuid", ref);
      secrets[k] = id;
      config[`${k}_secret`] = id;
    } catch (err) {
      // The secrets stored so far (and this one, if it was made) would be orphans: nothing refers to them.
      if (ref && secrets[k] === undefined) await xapi.call("secret.destroy", ref).catch(() => undefined);
      await destroySecrets(xapi, secrets).catch(() => undefined);
      throw err;
    }
  }
  return { config, secrets };
}

async function remainingSecrets(xapi: Xapi, secrets: Record<string, string>): Promise<Record<string, string>> {
  const left: Record<string, string> = {};
  for (const [k, id] of Object.entries(secrets)) if (await refByUuid(xapi, "secret", id).catch(() => id)) left[k] = id;
  return left;
}

async function destroySecrets(xapi: Xapi, secrets: Record<string, string>): Promise<void> {
  for (const s of Object.values(secrets)) {
    const ref = await refByUuid(xapi, "secret", s);
    if (ref) await xapi.call("secret.destroy", ref);
  }
}

interface PbdConfig {
  uuid: string;
  device_config: Record<string, string>;
}

/** The device_config of each PBD (read once, shared by the steps of an update that need it). */
async function pbdConfigs(xapi: Xapi, pbds: string[]): Promise<PbdConfig[]> {
  return Promise.all(pbds.map((p) => xapi.call<PbdConfig>("PBD.get_record", p)));
}

/** The secret UUIDs a PBD's device_config names (`<key>_secret`, and every `*password_secret`). */
function namedSecrets(configs: PbdConfig[]): Set<string> {
  const named = new Set<string>();
  for (const c of configs)
    for (const [k, v] of Object.entries(c.device_config)) if (k.endsWith("_secret")) named.add(v);
  return named;
}

/**
 * Password rotation. xapi gives every PBD its own secret (Xapi_pbd.create copies the one it is handed;
 * SR.create then sets one PBD's device_config on all of them), so the new value is written into each
 * secret a PBD's device_config names under `<key>_secret`. Every target is found before any is written.
 */
async function rotatePasswords(
  xapi: Xapi,
  pbds: () => Promise<PbdConfig[]>,
  olds: Record<string, string>,
  desired: Record<string, string>,
): Promise<void> {
  const changed = Object.keys(desired).filter(
    (k) => isPasswordKey(k) && olds[k] !== undefined && olds[k] !== desired[k],
  );
  if (!changed.length) return;
  const targets = new Map<string, { key: string; ref: string }>();
  for (const pbd of await pbds()) {
    for (const k of changed) {
      const id = pbd.device_config[`${k}_secret`];
      if (!id)
        throw new Error(
          `deviceConfig.${k}: PBD ${pbd.uuid} has no ${k}_secret in its device_config; replace the SR to store the password again`,
        );
      if (targets.has(id)) continue;
      const ref = await refByUuid(xapi, "secret", id);
      if (!ref)
        throw new Error(
          `deviceConfig.${k}: the XAPI secret ${id} holding this password (PBD ${pbd.uuid}) is gone; replace the SR to store it again`,
        );
      targets.set(id, { key: k, ref });
    }
  }
  for (const { key, ref } of targets.values()) {
    if ((await xapi.call<string>("secret.get_value", ref)) !== desired[key])
      await xapi.call("secret.set_value", ref, desired[key]);
  }
}

/**
 * The provider's own secrets (state written before the PBDs' copies were understood) that no PBD of the
 * SR names any more are destroyed: one copy fewer of each password at rest. Returns those still in use.
 */
async function dropUnusedSecrets(
  xapi: Xapi,
  pbds: () => Promise<PbdConfig[]>,
  secrets: Record<string, string>,
): Promise<Record<string, string>> {
  if (!Object.keys(secrets).length) return {};
  const named = namedSecrets(await pbds());
  const kept: Record<string, string> = {};
  for (const [k, id] of Object.entries(secrets)) {
    if (named.has(id)) kept[k] = id;
    else await destroySecrets(xapi, { [k]: id });
  }
  return kept;
}

async function create(n: Inputs, ctx: ResourceContext): Promise<CreateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  if (n.adopt) {
    const found = await recordByUuid<SRRecord>(xapi, "SR", n.adopt);
    if (!found) throw new Error(`adopt: no SR with uuid ${n.adopt} in this pool`);
    await converge(xapi, found.ref, found.record, n, { otherConfig: {}, tags: [] });
    return { id: found.record.uuid, outs: await outputs(xapi, found.ref, n, {}) };
  }
  const known = srTypes[n.type];
  const shared = n.shared ?? known?.shared ?? false;
  const contentType = n.contentType ?? known?.contentType ?? "user";
  const hosts = await xapi.call<string[]>("host.get_all");
  const master = await masterHost(xapi);
  const host = n.host ? await findHost(xapi, n.host) : master;
  if (!host) throw new Error(`host: no host "${n.host}" in this pool`);
  // XAPI plugs a shared SR on every host (and forwards a local one to its host): an offline host cannot take
  // part. Refuse before anything is made, unless a partial attachment was asked for.
  const states = await hostStates(xapi);
  const offline = offlineAmong(states, shared ? hosts : [host]);
  if (offline && (!shared || !n.allowPartialAttach))
    throw new Error(
      shared
        ? `SR "${n.name}": host ${offline} is offline, so the shared SR could not be attached there; nothing ` +
            `was created. Bring it back online (or remove it from the pool), then run pulumi up again; or set ` +
            `allowPartialAttach: true to attach it on the hosts that are up (HOST_OFFLINE)`
        : `SR "${n.name}": host ${offline} is offline, and XAPI creates a local SR on its own host; nothing ` +
            `was created. Bring it back online first (HOST_OFFLINE)`,
    );
  const { config, secrets } = await storeSecrets(xapi, n.deviceConfig);
  const passwords = Object.entries(n.deviceConfig)
    .filter(([k]) => isPasswordKey(k))
    .map(([, v]) => v);
  // SR.create leaves copies of each password that nothing names (see dropStrayCopies): note what exists before.
  const before =
    n.mode === "create" && passwords.length ? new Set(await xapi.call<string[]>("secret.get_all")) : undefined;
  let ref: string | undefined;
  try {
    if (n.mode === "create") {
      try {
        ref = await xapi.callAsync<string>(
          "SR.create",
          [host, config, 0, n.name, n.description, n.type, contentType, shared, n.smConfig],
          { onProgress: progressReporter(`creating ${n.type} SR "${n.name}"`) },
        );
      } finally {
        if (before) await dropStrayCopies(xapi, before, ref, passwords).catch(() => undefined);
      }
    } else {
      ref = await xapi.call<string>(
        "SR.introduce",
        n.existingUuid,
        n.name,
        n.description,
        n.type,
        contentType,
        shared,
        n.smConfig,
      );
      // Each PBD is plugged (or found unpluggable) by plugMissing below, as after SR.create.
      for (const h of shared ? [master, ...hosts.filter((x) => x !== master)] : [host])
        await xapi.call<string>("PBD.create", { host: h, SR: ref, device_config: config, other_config: {} });
    }
    // SR.create succeeds even where a PBD could not be plugged (xapi_sr.ml create ignores plug failures).
    const missing = await plugMissing(xapi, ref, states);
    if (
      missing.length === (await xapi.call<string[]>("SR.get_PBDs", ref)).length ||
      (missing.length && !n.allowPartialAttach)
    )
      throw new Error(partialAttachMessage(`SR "${n.name}"`, missing));
    // Each PBD now holds its own copy of every secret: the provider's are no longer needed.
    // One that cannot be destroyed stays in the `secrets` output, for delete to try again.
    let owned = secrets;
    try {
      await destroySecrets(xapi, secrets);
      owned = {};
    } catch {
      owned = await remainingSecrets(xapi, secrets);
    }
    // Plugging does not scan: an attached SR (or a new ISO library) shows its disks only after SR.scan.
    if (n.mode === "attach" || contentType === "iso")
      await xapi.callAsync("SR.scan", [ref], { onProgress: progressReporter(`scanning SR "${n.name}"`) });
    await converge(xapi, ref, await xapi.call<SRRecord>("SR.get_record", ref), n, { otherConfig: {}, tags: [] });
    return withId(await outputs(xapi, ref, n, owned));
  } catch (err) {
    // Leave nothing behind that the engine will not know about (or say what is left).
    // A new SR is destroyed (it holds nothing yet); an attached one is only forgotten.
    await destroySecrets(xapi, secrets).catch(() => undefined);
    if (!ref) throw err;
    const made = ref;
    const undo =
      n.mode === "attach"
        ? () => forget(xapi, made)
        : () => unplugAll(xapi, made, true).then(() => xapi.callAsync("SR.destroy", [made]));
    return undoCreate(
      err,
      { kind: "SR", cli: "sr", name: n.name, identity: n.identity, verb: n.mode === "attach" ? "forget" : "destroy" },
      undo,
      () => xapi.call<string>("SR.get_uuid", made),
    );
  }
}

/**
 * xapi's SR.create copies each password secret once per PBD (Xapi_secret.duplicate_passwds), then gives every PBD
 * the device_config of the PBD where the SR was made: the other copies are named by nothing. When the driver
 * refuses the SR, xapi removes the SR and PBD records but not their copies. Either way each stray copy is a
 * password at rest in the pool database. Destroyed here: secrets made during this SR.create (not in `before`),
 * named by no PBD of the SR, and holding one of this SR's passwords (so another client's secret is left alone).
 */
async function dropStrayCopies(
  xapi: Xapi,
  before: Set<string>,
  srRef: string | undefined,
  passwords: string[],
): Promise<void> {
  const named = namedSecrets(srRef ? await pbdConfigs(xapi, await xapi.call<string[]>("SR.get_PBDs", srRef)) : []);
  for (const ref of await xapi.call<string[]>("secret.get_all")) {
    if (before.has(ref)) continue;
    const secret = await xapi.call<{ uuid: string; value: string }>("secret.get_record", ref);
    if (!named.has(secret.uuid) && passwords.includes(secret.value)) await xapi.call("secret.destroy", ref);
  }
}

async function converge(
  xapi: Xapi,
  ref: string,
  live: SRRecord,
  n: Inputs,
  previous: { otherConfig: Record<string, string>; tags: string[] },
): Promise<void> {
  await convergeOwnedFields(xapi, "SR", ref, live, n, previous);
}

/** `known`: a record read in this same call (read()); otherwise it is read after the changes. */
async function outputs(
  xapi: Xapi,
  ref: string,
  n: Inputs,
  secrets: Record<string, string>,
  known?: { live: SRRecord; records: LiveRecords },
): Promise<Outputs> {
  const live = known?.live ?? (await xapi.call<SRRecord>("SR.get_record", ref));
  const records = known?.records ?? xapiRecords(xapi);
  const pbds: string[] = [];
  for (const p of live.PBDs) {
    const pbd = await records.get<PBDRecord>("PBD", p);
    if (pbd?.currently_attached) pbds.push(pbd.uuid);
  }
  const out: Outputs = {
    ...n,
    uuid: live.uuid,
    poolUuid: (await poolOf(xapi)).uuid,
    physicalSize: Number(live.physical_size),
    physicalUtilisation: Number(live.physical_utilisation),
    virtualAllocation: Number(live.virtual_allocation),
    pbds: pbds.sort(),
    missingOn: await missingOn(live, records),
    secrets,
  };
  return out;
}

/**
 * A shared SR is plugged on every host, a local one on its host: the hosts where it is not (a PBD unplugged, or
 * removed, out of band).
 */
async function missingOn(live: SRRecord, records: LiveRecords): Promise<string[]> {
  const attached = new Set<string>();
  const withPbd = new Set<string>();
  for (const p of live.PBDs) {
    const pbd = await records.get<PBDRecord>("PBD", p);
    if (!pbd) continue;
    withPbd.add(pbd.host);
    if (pbd.currently_attached) attached.add(pbd.host);
  }
  // A local SR belongs to the host of its PBD: other hosts never see it.
  return hostsLacking(records, (h) => attached.has(h) || (!live.shared && !withPbd.has(h)));
}

/** The attributes updated in place, compared as diff() always did. */
const inPlace: AttributeSpec = [
  ["name", "scalar"],
  ["description", "scalar"],
  ["otherConfig", "map"],
  ["tags", "set"],
];

/** How read(), diff() and xen-drift see an SR's managed attributes (common/live.ts). */
export const comparison: LiveComparison<Prior<Outputs>, Inputs> = {
  cls: "SR",
  classes: ["SR", "PBD", "host"],
  async observe(id, o, records, all = false) {
    const found = await records.byUuid<SRRecord>("SR", id);
    if (!found) return undefined;
    const live = found.record;
    const inputs: Record<string, unknown> = { ...liveOwned(live, o, all) };
    if (all) Object.assign(inputs, { type: live.type, shared: live.shared, contentType: live.content_type });
    return { ref: found.ref, inputs, missingOn: await missingOn(live, records) };
  },
  compare: (o, n) => changedAttributes(inPlace, o, n),
};

async function read(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<ReadResult<Inputs, Outputs>> {
  return readObserved<Inputs, Outputs, SRRecord>(id, o, ctx, {
    comparison,
    inputKeys: Object.keys(inputSchema.shape),
    outputs: (xapi, seen, inputs) => outputs(xapi, seen.ref, inputs, o.secrets ?? {}, seen),
  });
}

/**
 * Plugs the SR again where it is not (missingOn): a host of a shared SR that lost its PBD gets one with the device
 * config of a sibling (PBD.create copies the password secrets it names), then every unplugged PBD is plugged once
 * (not on an offline host: PBD.plug would answer HOST_OFFLINE). Returns the hosts still without it, with why.
 */
async function repairParts(xapi: Xapi, ref: string): Promise<{ host: string; reason: string }[]> {
  const records = xapiRecords(xapi);
  const live = (await records.get<SRRecord>("SR", ref))!;
  if (!(await missingOn(live, records)).length) return [];
  const pbds = (
    await Promise.all(live.PBDs.map(async (p) => [p, await records.get<PBDRecord>("PBD", p)] as const))
  ).filter((e): e is readonly [string, PBDRecord] => !!e[1]);
  if (live.shared && pbds.length) {
    const covered = new Set(pbds.map(([, pbd]) => pbd.host));
    for (const [host] of await records.all<HostRecord>("host")) {
      if (covered.has(host)) continue;
      await xapi.call<string>("PBD.create", {
        host,
        SR: ref,
        device_config: pbds[0][1].device_config,
        other_config: {},
      });
    }
  }
  return plugMissing(xapi, ref, await hostStates(xapi));
}

async function update(id: string, o: Prior<Outputs>, n: Inputs, ctx: ResourceContext): Promise<UpdateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  const found = await recordByUuid<SRRecord>(xapi, "SR", id);
  if (!found) throw new Error(goneMessage("SR", id, o, n));
  await converge(xapi, found.ref, found.record, n, { otherConfig: o.otherConfig ?? {}, tags: o.tags ?? [] });
  let configs: Promise<PbdConfig[]> | undefined;
  const pbds = () => (configs ??= pbdConfigs(xapi, found.record.PBDs));
  // An adopted SR's device config is not the program's (diff ignores it).
  if (!n.adopt) await rotatePasswords(xapi, pbds, o.deviceConfig ?? {}, n.deviceConfig ?? {});
  // Every host should have the SR: plug it where it is not (a host that was offline, storage that was unreachable,
  // a PBD unplugged out of band), and fail naming the hosts still without it unless a partial attachment is accepted.
  const missing = await repairParts(xapi, found.ref);
  if (missing.length && !n.allowPartialAttach) throw new Error(partialAttachMessage(`SR ${id} ("${n.name}")`, missing));
  return { outs: await outputs(xapi, found.ref, n, await dropUnusedSecrets(xapi, pbds, o.secrets ?? {})) };
}

/**
 * PBD.unplug fails with VDI_IN_USE on a host whose running VMs use a disk of the
 * SR: check first, so a refused delete does not leave the SR unplugged on the
 * hosts that came before.
 */
async function assertNoDiskInUse(xapi: Xapi, ref: string): Promise<void> {
  const inUse: string[] = [];
  for (const vdi of await xapi.call<string[]>("SR.get_VDIs", ref)) {
    const users: string[] = [];
    for (const vbd of await xapi.call<string[]>("VDI.get_VBDs", vdi)) {
      const b = await xapi.call<{ currently_attached: boolean; VM: string }>("VBD.get_record", vbd);
      if (b.currently_attached && !isNullRef(await xapi.call<string>("VM.get_resident_on", b.VM))) users.push(b.VM);
    }
    if (users.length)
      inUse.push(
        `"${await xapi.call<string>("VDI.get_name_label", vdi)}" (used by ${(await describeVms(xapi, users)).join(", ")})`,
      );
  }
  if (inUse.length) {
    const sr = await xapi.call<{ uuid: string; name_label: string }>("SR.get_record", ref);
    throw new Error(
      `SR ${sr.uuid} ("${sr.name_label}") has disks in use by running VMs: ${inUse.join("; ")}; shut the ` +
        `VMs down or detach the disks before removing the SR (VDI_IN_USE)`,
    );
  }
}

/** The refusals unplugAll would meet part-way, found first (delete runs it before changing anything). */
async function assertCanUnplug(xapi: Xapi, ref: string, destroy: boolean): Promise<void> {
  await assertNoDiskInUse(xapi, ref);
  const sr = await xapi.call<{ uuid: string; name_label: string; shared: boolean }>("SR.get_record", ref);
  const refusals = await unplugRefusals(xapi, ref, { destroy, shared: sr.shared });
  if (refusals.length)
    throw new Error(
      `SR ${sr.uuid} ("${sr.name_label}") cannot be removed; nothing was unplugged on any host: ${refusals.join("; ")}`,
    );
}

/**
 * Unplugs every attached PBD, the pool master's last (as XenCenter does). XAPI checks each PBD.unplug on its own
 * host, so every refusal it would give on a later host is looked for first, and nothing is unplugged if one is
 * found. An unplugged PBD is not called at all: PBD.unplug answers HOST_OFFLINE for an offline host even then.
 */
async function unplugAll(xapi: Xapi, ref: string, destroy: boolean): Promise<void> {
  await assertCanUnplug(xapi, ref, destroy);
  const master = await masterHost(xapi);
  const pbds = (await pbdStates(xapi, ref)).filter((p) => p.attached);
  pbds.sort((a, b) => Number(a.host === master) - Number(b.host === master));
  for (const pbd of pbds) {
    try {
      await xapi.callAsync("PBD.unplug", [pbd.ref]);
    } catch (err) {
      throw await explainUnplugRefusal(xapi, err, ref);
    }
  }
}

async function forget(xapi: Xapi, ref: string): Promise<void> {
  await unplugAll(xapi, ref, false);
  await xapi.callAsync("SR.forget", [ref]);
}

async function delete_(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<void> {
  const xapi = await xapiFor(ctx.config, o.connection);
  const found = await existingRecord<SRRecord>(xapi, "SR", "SR", id, o); // undefined: already gone
  if (found) {
    if (o.destroyOnDelete) {
      // Refuse before unplugging anything, so a refused destroy leaves the SR in service.
      const vdis = await Promise.all(
        found.record.VDIs.map((v) =>
          xapi.call<{ name_label: string; managed: boolean; is_a_snapshot: boolean }>("VDI.get_record", v),
        ),
      );
      const disks = vdis.filter((v) => v.managed);
      if (disks.length)
        throw new Error(
          `SR ${id} ("${found.record.name_label}") still holds ${disks.length} disk(s) (${disks
            .slice(0, 5)
            .map((d) => `"${d.name_label}"`)
            .join(", ")}); delete them first, or set destroyOnDelete: false to forget the SR and keep its data`,
        );
      // SR.destroy checks this only once the PBDs are unplugged.
      if (found.record.other_config.indestructible === "true")
        throw new Error(
          `SR ${id} ("${found.record.name_label}") is marked indestructible (other_config:indestructible, ` +
            `SR_INDESTRUCTIBLE); remove that key, or set destroyOnDelete: false to forget the SR and keep its ` +
            `data`,
        );
      await assertCanUnplug(xapi, found.ref, true);
      await letGo(xapi, found.ref, o.name);
      await unplugAll(xapi, found.ref, true);
      await xapi.callAsync("SR.destroy", [found.ref], { onProgress: progressReporter(`destroying SR "${o.name}"`) });
    } else {
      await assertCanUnplug(xapi, found.ref, false);
      await letGo(xapi, found.ref, o.name);
      await forget(xapi, found.ref);
    }
  }
  await destroySecrets(xapi, o.secrets ?? {});
}

/** The pool must not keep pointing at an SR that goes: the fields naming it are emptied, and the output says so. */
async function letGo(xapi: Xapi, ref: string, name: string | null | undefined): Promise<void> {
  const released = await releasePoolReferences(xapi, ref);
  if (released.length)
    reportNotice(
      `SR "${name ?? ref}" ` +
        `was ${released.join(", ")}; ${released.length > 1 ? "those fields are" : "that field is"} now empty ` +
        `(set another SR there, e.g. with the Pool resource's defaultSr)`,
    );
}

/** The Sr kind (contract.ts); registry.ts serves it. */
export const resource: ResourceModule<Inputs, Outputs> = {
  kind: "Sr",
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
