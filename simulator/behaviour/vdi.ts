/** VDI lifecycle (docs/xapi-semantics.md §6.6; xapi_vdi.ml and the sm drivers' size rules). */
import { fail, XapiError } from "../engine/errors";
import { EPOCH, NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";
import { refreshVdi, srAttached, vdiAttached } from "./allowed-ops";
import { account, destroyVbdRecord, freeSpace } from "./sr";
import { DRIVERS, roundVdiSize, smError } from "./sm-drivers";
import { vdiData } from "./vdi-data";
import { checkSrHostLive } from "./forwarding";

const VDI_TYPES = new Set([
  "system",
  "user",
  "ephemeral",
  "suspend",
  "crashdump",
  "ha_statefile",
  "metadata",
  "redo_log",
  "rrd",
  "pvs_cache",
  "cbt_metadata",
]);

function srFor(x: Xapi, sr: string) {
  const row = x.store.get("SR", sr);
  const d = DRIVERS.get(String(row.type));
  if (!srAttached(x, row)) fail("SR_HAS_NO_PBDS", sr);
  return { row, d };
}

/** xapi_sr_operations.check_sm_features: the driver's capabilities, minus create/delete on the tools SR. */
function requireCap(x: Xapi, sr: string, cap: string): void {
  const row = x.store.get("SR", sr);
  const d = DRIVERS.get(String(row.type));
  const toolsForbidden = row.is_tools_sr === true && (cap === "VDI_CREATE" || cap === "VDI_DELETE");
  if (!d || !d.capabilities.includes(cap) || toolsForbidden) fail("SR_OPERATION_NOT_SUPPORTED", sr);
}

/** Space a new volume of `size` takes at once on the SR. */
function initialUse(x: Xapi, sr: string, size: number): number {
  const d = DRIVERS.get(String(x.store.get("SR", sr).type));
  return d?.thick ? size : 0;
}

function assertSpace(x: Xapi, sr: string, need: number): void {
  if (need > freeSpace(x, sr)) throw smError(44, "There is insufficient space");
}

/** Creates a VDI as the SM driver would: size rounded, space checked, location and sm_config filled. */
export function newVdi(x: Xapi, rec: Row): string {
  const sr = rec.SR as string;
  const { d } = srFor(x, sr);
  requireCap(x, sr, "VDI_CREATE");
  const size = roundVdiSize(d, rec.virtual_size as number);
  const use = initialUse(x, sr, size);
  assertSpace(x, sr, use);
  const ref = x.store.create("VDI", {
    name_label: "",
    name_description: "",
    xenstore_data: {},
    tags: [],
    ...rec,
    virtual_size: size,
    physical_utilisation: use,
    storage_lock: false,
    managed: true,
    missing: false,
    parent: NULL_REF,
    is_a_snapshot: false,
    snapshot_of: NULL_REF,
    snapshot_time: EPOCH,
    on_boot: "persist",
    allow_caching: false,
    sm_config: { ...((rec.sm_config as object) ?? {}), ...(d?.vhd ? { vdi_type: "vhd" } : {}) },
    current_operations: {},
  });
  x.store.set("VDI", ref, "location", x.store.get("VDI", ref).uuid);
  account(x, sr);
  refreshVdi(x, ref);
  return ref;
}

export function destroyVdi(x: Xapi, vdi: string): void {
  const s = x.store;
  const v = s.get("VDI", vdi);
  if (vdiAttached(x, v)) fail("VDI_IN_USE", vdi, "destroy");
  const sr = v.SR as string;
  srFor(x, sr);
  if (v.type === "rrd") fail("VDI_HAS_RRDS", vdi);
  requireCap(x, sr, "VDI_DELETE");
  for (const vbd of [...(v.VBDs as string[])]) destroyVbdRecord(x, vbd);
  for (const [vm, row] of s.table("VM")) if (row.suspend_VDI === vdi) s.set("VM", vm, "suspend_VDI", NULL_REF);
  s.destroy("VDI", vdi);
  vdiData(x).delete(vdi);
  account(x, sr);
}

function resize(x: Xapi, vdi: string, size: number, online: boolean): void {
  const s = x.store;
  const v = s.get("VDI", vdi);
  const sr = v.SR as string;
  // xapi_vdi.check_operation_error: SR_HAS_NO_PBDS (resize), then VDI_IN_USE, then the driver's features.
  const { d } = srFor(x, sr);
  if (!online && vdiAttached(x, v)) fail("VDI_IN_USE", vdi, "resize");
  requireCap(x, sr, online ? "VDI_RESIZE_ONLINE" : "VDI_RESIZE");
  if (size < (v.virtual_size as number)) throw smError(79, "VDI Invalid size", "shrinking not allowed");
  const rounded = roundVdiSize(d, size);
  const grow = d?.thick ? rounded - (v.virtual_size as number) : 0;
  assertSpace(x, sr, grow);
  s.update("VDI", vdi, { virtual_size: rounded, physical_utilisation: (v.physical_utilisation as number) + grow });
  account(x, sr);
}

/** A copy of a VDI record in `sr` (clone, snapshot, copy share this). */
function duplicate(x: Xapi, vdi: string, sr: string, patch: Row): string {
  const v = x.store.get("VDI", vdi);
  const { d } = srFor(x, sr);
  const size = v.virtual_size as number;
  const use = d?.thick ? size : Math.min(size, v.physical_utilisation as number);
  assertSpace(x, sr, use);
  const ref = x.store.create("VDI", {
    name_label: v.name_label,
    name_description: v.name_description,
    SR: sr,
    virtual_size: size,
    physical_utilisation: use,
    type: v.type,
    sharable: v.sharable,
    read_only: v.read_only,
    other_config: { ...(v.other_config as object) },
    xenstore_data: { ...(v.xenstore_data as object) },
    tags: [...(v.tags as string[])],
    storage_lock: false,
    managed: true,
    missing: false,
    parent: NULL_REF,
    sm_config: d?.vhd ? { vdi_type: "vhd" } : {},
    on_boot: v.on_boot,
    current_operations: {},
    ...patch,
  });
  x.store.set("VDI", ref, "location", x.store.get("VDI", ref).uuid);
  const data = vdiData(x).get(vdi);
  if (data) vdiData(x).set(ref, Buffer.from(data));
  account(x, sr);
  refreshVdi(x, ref);
  return ref;
}

export function snapshotVdi(x: Xapi, vdi: string): string {
  const v = x.store.get("VDI", vdi);
  if (v.sharable) fail("VDI_IS_SHARABLE", vdi);
  requireCap(x, v.SR as string, "VDI_SNAPSHOT");
  return duplicate(x, vdi, v.SR as string, { is_a_snapshot: true, snapshot_of: vdi, snapshot_time: nowDatetime() });
}

/** Without the driver's VDI_CLONE, xapi fakes a clone with a copy ("We fake clone ourselves"): same result here. */
export function cloneVdi(x: Xapi, vdi: string): string {
  const v = x.store.get("VDI", vdi);
  return duplicate(x, vdi, v.SR as string, {});
}

export function copyVdi(x: Xapi, vdi: string, sr: string, into: string): string {
  const s = x.store;
  const v = s.get("VDI", vdi);
  if (into && into !== NULL_REF && s.has("VDI", into)) {
    const dst = s.get("VDI", into);
    if (dst.read_only) fail("VDI_READONLY", into);
    if ((dst.virtual_size as number) < (v.virtual_size as number)) fail("VDI_TOO_SMALL", into, String(v.virtual_size));
    const data = vdiData(x).get(vdi);
    if (data) vdiData(x).set(into, Buffer.from(data));
    s.touch("VDI", into);
    return into;
  }
  const target = sr && sr !== NULL_REF ? sr : (v.SR as string);
  s.get("SR", target);
  requireCap(x, target, "VDI_CREATE");
  return duplicate(x, vdi, target, { read_only: false, sm_config: {} });
}

export function register(x: Xapi): void {
  x.on("VDI.create", (xx, _ctx, [rec]) => {
    const r = rec as Row;
    if (r.type === "cbt_metadata") fail("VDI_INCOMPATIBLE_TYPE", "", "cbt_metadata");
    if (!VDI_TYPES.has(String(r.type)))
      throw new XapiError("INTERNAL_ERROR", [`Rpc.Runtime_error("vdi_type", S(${String(r.type)}))`]);
    xx.store.get("SR", r.SR);
    checkSrHostLive(xx, r.SR as string);
    return newVdi(xx, r);
  });
  // message_forwarding.ml VDI.forward_vdi_op: run on the SR's host (the master for a shared SR), which must be live.
  const onSrHost = (xx: Xapi, vdi: unknown) => checkSrHostLive(xx, xx.store.get("VDI", vdi).SR as string);
  x.on("VDI.destroy", (xx, _ctx, [self]) => (onSrHost(xx, self), destroyVdi(xx, self as string)));
  x.on(
    "VDI.resize",
    (xx, _ctx, [self, size]) => (onSrHost(xx, self), resize(xx, self as string, size as number, false)),
  );
  x.on(
    "VDI.resize_online",
    (xx, _ctx, [self, size]) => (onSrHost(xx, self), resize(xx, self as string, size as number, true)),
  );
  x.on("VDI.snapshot", (xx, _ctx, [self]) => (onSrHost(xx, self), snapshotVdi(xx, self as string)));
  x.on("VDI.clone", (xx, _ctx, [self]) => (onSrHost(xx, self), cloneVdi(xx, self as string)));
  for (const field of ["name_label", "name_description"])
    x.on(`VDI.set_${field}`, (xx, _ctx, [self, v]) => {
      onSrHost(xx, self);
      xx.store.set("VDI", self as string, field, v);
    });
  x.on("VDI.copy", (xx, _ctx, [self, sr, , into]) =>
    copyVdi(xx, self as string, (sr as string) ?? NULL_REF, (into as string) ?? NULL_REF),
  );
  x.on("VDI.forget", (xx, _ctx, [self]) => {
    const v = xx.store.get("VDI", self);
    xx.store.destroy("VDI", self as string);
    account(xx, v.SR as string);
  });
  x.on("VDI.update", (xx, _ctx, [self]) => void onSrHost(xx, self));
  x.on(
    "VDI.set_sharable",
    (xx, _ctx, [self, v]) => (
      xx.store.get("VDI", self),
      xx.store.set("VDI", self as string, "sharable", v),
      refreshVdi(xx, self as string)
    ),
  );
  x.on(
    "VDI.set_read_only",
    (xx, _ctx, [self, v]) => (
      xx.store.get("VDI", self),
      xx.store.set("VDI", self as string, "read_only", v),
      refreshVdi(xx, self as string)
    ),
  );
  x.on("VDI.introduce", (xx, _ctx, args) => {
    const [
      uuid,
      name_label,
      name_description,
      SR,
      type,
      sharable,
      read_only,
      other_config,
      location,
      xenstore_data,
      sm_config,
      managed,
      virtual_size,
      physical_utilisation,
      metadata_of_pool,
      is_a_snapshot,
      snapshot_time,
      snapshot_of,
    ] = args;
    xx.store.get("SR", SR);
    if (uuid && [...xx.store.table("VDI").values()].some((v) => v.uuid === uuid))
      fail("DB_UNIQUENESS_CONSTRAINT_VIOLATION", "VDI", "uuid", String(uuid));
    const ref = xx.store.create("VDI", {
      ...(uuid ? { uuid } : {}),
      name_label,
      name_description,
      SR,
      type,
      sharable,
      read_only,
      other_config,
      location,
      xenstore_data,
      sm_config,
      managed: managed ?? true,
      virtual_size: virtual_size ?? 0,
      physical_utilisation: physical_utilisation ?? 0,
      metadata_of_pool: metadata_of_pool ?? NULL_REF,
      is_a_snapshot: is_a_snapshot ?? false,
      snapshot_time: snapshot_time ?? EPOCH,
      snapshot_of: snapshot_of ?? NULL_REF,
      storage_lock: false,
      missing: false,
      parent: NULL_REF,
      current_operations: {},
    });
    account(xx, SR as string);
    refreshVdi(xx, ref);
    return ref;
  });
}
