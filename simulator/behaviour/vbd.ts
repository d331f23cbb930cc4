/** VBD lifecycle (docs/xapi-semantics.md §6.7; xapi_vbd.ml, xapi_vbd_helpers.ml). */
import { fail } from "../engine/errors";
import { NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { refreshVbd, refreshVdi } from "./allowed-ops";
import { vbdHotplugError } from "./hotplug";
import { destroyVbdRecord } from "./sr";

const VBD_VDI_TYPES = new Set(["system", "user", "ephemeral", "suspend", "crashdump", "metadata", "rrd", "pvs_cache"]);

/** "1", "xvdb", "hdb", "sdb" all name device 1; undefined when not a device name. */
export function deviceNumber(userdevice: string): number | undefined {
  if (/^[0-9]+$/.test(userdevice)) return Number(userdevice);
  const m = /^(?:xvd|hd|sd)([a-z]+)$/.exec(userdevice);
  if (!m) return undefined;
  let n = 0;
  for (const ch of m[1]) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

export function deviceName(n: number): string {
  let s = "";
  let k = n + 1;
  while (k > 0) {
    const r = (k - 1) % 26;
    s = String.fromCharCode(97 + r) + s;
    k = Math.floor((k - 1) / 26);
  }
  return `xvd${s}`;
}

export function createVbd(x: Xapi, r: Row): string {
  const s = x.store;
  const vm = s.get("VM", r.VM);
  if (!r.empty) {
    const vdi = s.get("VDI", r.VDI);
    if (!VBD_VDI_TYPES.has(String(vdi.type))) fail("VDI_INCOMPATIBLE_TYPE", r.VDI as string, vdi.type as string);
  }
  if (r.type === "CD" && r.mode !== "RO") fail("VBD_CDS_MUST_BE_READONLY");
  if (r.empty && r.type !== "CD") fail("VBD_NOT_REMOVABLE_MEDIA", "in constructor");
  if (!r.empty && r.mode === "RW" && s.get("VDI", r.VDI).read_only) fail("VDI_READONLY", r.VDI as string);
  const migrating = Object.entries(vm.current_operations as Record<string, string>).find(
    ([, op]) => op === "pool_migrate" || op === "migrate_send",
  );
  if (migrating) fail("OTHER_OPERATION_IN_PROGRESS", "VM", r.VM as string, migrating[1], migrating[0]);
  const max = r.type === "Floppy" ? 1 : 254;
  const used = new Set((vm.VBDs as string[]).map((b) => deviceNumber(String(s.get("VBD", b).userdevice))));
  let userdevice = String(r.userdevice);
  if (userdevice === "autodetect") {
    let n = 0;
    while (used.has(n)) n++;
    if (n > max) fail("INVALID_DEVICE", userdevice);
    userdevice = String(n);
  } else {
    const n = deviceNumber(userdevice);
    if (n === undefined || n > max) fail("INVALID_DEVICE", userdevice);
    if (r.type === "Floppy" && !vm.HVM_boot_policy)
      fail("NOT_IMPLEMENTED", "Floppy drives are only supported for HVM guests");
    if (used.has(n!)) fail("DEVICE_ALREADY_EXISTS", userdevice);
  }
  const vdi = r.empty ? undefined : s.get("VDI", r.VDI);
  const backendKind = (vdi?.sm_config as Record<string, string> | undefined)?.["backend-kind"];
  const metrics = s.create("VBD_metrics", {
    io_read_kbs: 0,
    io_write_kbs: 0,
    last_updated: "19700101T00:00:00Z",
    other_config: {},
  });
  const ref = s.create("VBD", {
    ...r,
    VDI: r.empty ? (r.VDI ?? NULL_REF) : r.VDI,
    userdevice,
    device: "",
    currently_attached: false,
    storage_lock: false,
    status_code: 0,
    status_detail: "",
    runtime_properties: {},
    qos_supported_algorithms: [],
    metrics,
    other_config: { ...(r.other_config as object), ...(backendKind ? { "backend-kind": backendKind } : {}) },
    allowed_operations: [],
    current_operations: {},
  });
  refreshVbd(x, ref);
  if (vdi) refreshVdi(x, r.VDI as string);
  return ref;
}

function vmOf(x: Xapi, vbd: string): [Row, Row] {
  const b = x.store.get("VBD", vbd);
  return [b, x.store.get("VM", b.VM)];
}

export function plugVbd(x: Xapi, vbd: string, hot: boolean): void {
  const s = x.store;
  const [b] = vmOf(x, vbd);
  if (hot) {
    const e = vbdHotplugError(x, vbd, "plug");
    if (e) throw e;
  }
  s.update("VBD", vbd, { currently_attached: true, device: deviceName(deviceNumber(String(b.userdevice)) ?? 0) });
  refreshVbd(x, vbd);
  if (s.has("VDI", b.VDI)) refreshVdi(x, b.VDI as string);
}

export function unplugVbd(x: Xapi, vbd: string, force: boolean): void {
  const s = x.store;
  const [b] = vmOf(x, vbd);
  const e = vbdHotplugError(x, vbd, force ? "unplug_force" : "unplug");
  if (e) throw e;
  s.update("VBD", vbd, { currently_attached: false });
  refreshVbd(x, vbd);
  if (s.has("VDI", b.VDI)) refreshVdi(x, b.VDI as string);
}

export function register(x: Xapi): void {
  x.on("VBD.create", (xx, _ctx, [rec]) => createVbd(xx, rec as Row));
  x.on("VBD.plug", (xx, _ctx, [self]) => plugVbd(xx, self as string, true));
  x.on("VBD.unplug", (xx, _ctx, [self]) => unplugVbd(xx, self as string, false));
  x.on("VBD.unplug_force", (xx, _ctx, [self]) => unplugVbd(xx, self as string, true));
  x.on("VBD.destroy", (xx, _ctx, [self]) => {
    const [b, vm] = vmOf(xx, self as string);
    if (b.currently_attached) fail("OPERATION_NOT_ALLOWED", `VBD '${b.uuid}' still attached to '${vm.uuid}'`);
    destroyVbdRecord(xx, self as string);
    if (xx.store.has("VDI", b.VDI)) refreshVdi(xx, b.VDI as string);
  });
  x.on("VBD.insert", (xx, _ctx, [self, vdi]) => {
    const [b, vm] = vmOf(xx, self as string);
    if (b.type !== "CD") fail("VBD_NOT_REMOVABLE_MEDIA", self as string);
    if (vm.power_state === "Suspended") fail("VM_BAD_POWER_STATE", b.VM as string, "halted, running", "suspended");
    if (!b.empty) fail("VBD_NOT_EMPTY", self as string);
    xx.store.get("VDI", vdi);
    xx.store.update("VBD", self as string, { VDI: vdi, empty: false });
    refreshVbd(xx, self as string);
    refreshVdi(xx, vdi as string);
  });
  x.on("VBD.eject", (xx, _ctx, [self]) => {
    const [b, vm] = vmOf(xx, self as string);
    if (b.type !== "CD") fail("VBD_NOT_REMOVABLE_MEDIA", self as string);
    if (vm.power_state === "Suspended") fail("VM_BAD_POWER_STATE", b.VM as string, "halted, running", "suspended");
    if (b.empty) fail("VBD_IS_EMPTY", self as string);
    const old = b.VDI as string;
    xx.store.update("VBD", self as string, { VDI: NULL_REF, empty: true });
    refreshVbd(xx, self as string);
    refreshVdi(xx, old);
  });
  x.on("VBD.set_mode", (xx, _ctx, [self, mode]) => {
    const [b, vm] = vmOf(xx, self as string);
    if (vm.power_state !== "Halted")
      fail("VM_BAD_POWER_STATE", b.VM as string, "halted", String(vm.power_state).toLowerCase());
    xx.store.set("VBD", self as string, "mode", mode);
  });
  x.on("VBD.assert_attachable", (xx, _ctx, [self]) => void xx.store.get("VBD", self));
}
