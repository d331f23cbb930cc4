/** Clone, copy, snapshot, checkpoint, provision and revert (xapi_vm_clone.ml, xapi_templates.ml, xapi_vm_snapshot.ml). */
import { randomUUID } from "crypto";
import { fail, XapiError } from "../engine/errors";
import { EPOCH, NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";
import { refreshVm } from "./allowed-ops";
import { destroyVifRecord } from "./network";
import { destroyVbdRecord } from "./sr";
import { createVbd } from "./vbd";
import { cloneVdi, copyVdi, destroyVdi, newVdi, snapshotVdi } from "./vdi";
import { createVif, macFromSeed } from "./vif";
import { newVmMetrics, op } from "./vm-common";
import { halt, suspendSR } from "./vm-power";

function copyRecord(vm: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(vm))
    out[k] = Array.isArray(v) ? [...v] : v && typeof v === "object" ? { ...(v as object) } : v;
  for (const k of [
    "uuid",
    "VBDs",
    "VIFs",
    "consoles",
    "snapshots",
    "children",
    "crash_dumps",
    "VUSBs",
    "VGPUs",
    "VTPMs",
    "attached_PCIs",
    "resident_VMs",
  ])
    delete out[k];
  return out;
}

type DiskCopy = (vdi: string) => string;

function copyMetrics(x: Xapi, vm: Row): string {
  const m = x.store.tryGet("VM_metrics", vm.metrics);
  const ref = newVmMetrics(x, vm);
  if (m)
    x.store.update("VM_metrics", ref, {
      memory_actual: m.memory_actual,
      VCPUs_number: m.VCPUs_number,
      install_time: m.install_time,
      current_domain_type: m.current_domain_type,
    });
  return ref;
}

function copyGuestMetrics(x: Xapi, vm: Row): string {
  const gm = x.store.tryGet("VM_guest_metrics", vm.guest_metrics);
  if (!gm) return NULL_REF;
  const copy: Row = {};
  for (const [k, v] of Object.entries(gm))
    if (k !== "uuid") copy[k] = v && typeof v === "object" ? { ...(v as object) } : v;
  return x.store.create("VM_guest_metrics", copy);
}

export function cloneInto(
  x: Xapi,
  src: string,
  name: string,
  kind: "clone" | "copy" | "snapshot",
  disk: DiskCopy,
  ignore: string[] = [],
): string {
  const s = x.store;
  const vm = s.get("VM", src);
  const rec = copyRecord(vm);
  const other = { ...(vm.other_config as Record<string, string>) };
  const snapshot = kind === "snapshot";
  // xapi_vm_clone.copy_vm_record: a fresh mac_seed except for snapshots; default_template and
  // xensource_internal dropped; base_template_name kept, or set from a template's name.
  if (!snapshot) other.mac_seed = randomUUID();
  delete other.default_template;
  delete other.xensource_internal;
  if (vm.is_a_template && other.base_template_name === undefined) other.base_template_name = vm.name_label as string;
  const ref = s.create("VM", {
    ...rec,
    name_label: name,
    other_config: other,
    is_a_template: snapshot || (vm.is_a_snapshot as boolean) || (vm.is_a_template as boolean),
    is_default_template: false,
    is_a_snapshot: snapshot,
    snapshot_of: snapshot ? src : NULL_REF,
    snapshot_time: snapshot ? nowDatetime() : EPOCH,
    // Clones and copies are new top-level VMs; a snapshot takes the source's parent (CA-52668).
    parent: snapshot ? vm.parent : NULL_REF,
    power_state: "Halted",
    resident_on: NULL_REF,
    scheduled_to_be_resident_on: NULL_REF,
    domid: -1,
    guest_metrics: NULL_REF,
    generation_id: snapshot ? vm.generation_id : `${Date.now()}:${Math.floor(Math.random() * 1e9)}`,
    current_operations: {},
    allowed_operations: [],
    metrics: NULL_REF,
    suspend_VDI: NULL_REF,
  });
  // copy_metrics / copy_guest_metrics: the new VM gets copies of the source's metrics objects.
  s.update("VM", ref, { metrics: copyMetrics(x, vm), guest_metrics: copyGuestMetrics(x, vm) });
  if (snapshot) s.set("VM", src, "parent", ref);
  for (const b of vm.VBDs as string[]) {
    const vbd = s.get("VBD", b);
    const isDisk = vbd.type === "Disk" && !vbd.empty && s.has("VDI", vbd.VDI);
    if (isDisk && ignore.includes(vbd.VDI as string)) continue;
    const vdi = isDisk ? disk(vbd.VDI as string) : vbd.VDI;
    createVbd(x, {
      VM: ref,
      VDI: vdi,
      userdevice: vbd.userdevice,
      bootable: vbd.bootable,
      mode: vbd.mode,
      type: vbd.type,
      empty: vbd.empty,
      unpluggable: vbd.unpluggable,
      // CA-58405: the new VM owns the new disks (owner="" unless the VBD already says).
      other_config:
        vbd.type === "Disk" ? { owner: "", ...(vbd.other_config as object) } : { ...(vbd.other_config as object) },
      qos_algorithm_type: vbd.qos_algorithm_type,
      qos_algorithm_params: { ...(vbd.qos_algorithm_params as object) },
    });
  }
  for (const v of vm.VIFs as string[]) {
    const vif = s.get("VIF", v);
    createVif(x, {
      VM: ref,
      device: vif.device,
      network: vif.network,
      MAC: snapshot ? vif.MAC : macFromSeed(other.mac_seed, Number(vif.device)),
      MTU: vif.MTU,
      other_config: { ...(vif.other_config as object) },
      qos_algorithm_type: vif.qos_algorithm_type,
      qos_algorithm_params: { ...(vif.qos_algorithm_params as object) },
      locking_mode: vif.locking_mode,
      ipv4_allowed: [...(vif.ipv4_allowed as string[])],
      ipv6_allowed: [...(vif.ipv6_allowed as string[])],
    });
  }
  refreshVm(x, ref);
  return ref;
}

interface ProvisionDisk {
  device: string;
  size: number;
  sr: string;
  bootable: boolean;
  type: string;
}

function parseDisks(xml: string): ProvisionDisk[] {
  const out: ProvisionDisk[] = [];
  for (const m of xml.matchAll(/<disk\b([^>]*)\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([A-Za-z_]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    out.push({
      device: attrs.device ?? "0",
      size: Number(attrs.size ?? 0),
      sr: attrs.sr ?? "",
      bootable: attrs.bootable === "true",
      type: attrs.type ?? "system",
    });
  }
  return out;
}

function provision(x: Xapi, ref: string): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  const other = { ...(vm.other_config as Record<string, string>) };
  const disks = other.disks ? parseDisks(other.disks) : [];
  const srs = disks.map((d) => {
    try {
      return s.byUuid("SR", d.sr);
    } catch {
      throw new XapiError("UUID_INVALID", ["sr", d.sr]);
    }
  });
  s.set("VM", ref, "is_a_template", false);
  disks.forEach((d, i) => {
    const vdi = newVdi(x, {
      SR: srs[i],
      virtual_size: d.size,
      type: d.type,
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "",
      name_description: "Created by template provisioner",
    });
    s.set("VDI", vdi, "name_label", d.device);
    createVbd(x, {
      VM: ref,
      VDI: vdi,
      userdevice: d.device,
      bootable: d.bootable,
      mode: "RW",
      type: "Disk",
      empty: false,
      unpluggable: d.type !== "system",
      other_config: { owner: "" },
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
  });
  delete other.disks;
  s.set("VM", ref, "other_config", other);
  if (!s.has("VM_metrics", s.get("VM", ref).metrics)) s.set("VM", ref, "metrics", newVmMetrics(x, s.get("VM", ref)));
}

function revert(x: Xapi, snap: string): void {
  const s = x.store;
  const sn = s.get("VM", snap);
  const vmRef = sn.snapshot_of as string;
  if (!s.has("VM", vmRef)) fail("VM_REVERT_FAILED", vmRef, snap);
  const vm = s.get("VM", vmRef);
  if (vm.power_state !== "Halted") halt(x, vmRef);
  for (const b of [...(vm.VBDs as string[])]) {
    const vbd = s.get("VBD", b);
    const vdi = vbd.VDI as string;
    destroyVbdRecord(x, b);
    if (vbd.type === "Disk" && s.has("VDI", vdi) && (s.get("VDI", vdi).VBDs as string[]).length === 0)
      destroyVdi(x, vdi);
  }
  for (const v of [...(vm.VIFs as string[])]) destroyVifRecord(x, v);
  const keep = [
    "name_label",
    "name_description",
    "memory_static_min",
    "memory_static_max",
    "memory_dynamic_min",
    "memory_dynamic_max",
    "VCPUs_max",
    "VCPUs_at_startup",
    "VCPUs_params",
    "platform",
    "HVM_boot_policy",
    "HVM_boot_params",
    "PV_args",
    "PV_bootloader",
    "PV_kernel",
    "PV_ramdisk",
    "other_config",
    "xenstore_data",
    "actions_after_crash",
    "actions_after_reboot",
    "actions_after_shutdown",
    "domain_type",
    "tags",
  ];
  const patch: Row = {};
  for (const k of keep) patch[k] = sn[k];
  s.update("VM", vmRef, patch);
  for (const b of sn.VBDs as string[]) {
    const vbd = s.get("VBD", b);
    const isDisk = vbd.type === "Disk" && !vbd.empty && s.has("VDI", vbd.VDI);
    createVbd(x, {
      VM: vmRef,
      VDI: isDisk ? cloneVdi(x, vbd.VDI as string) : vbd.VDI,
      userdevice: vbd.userdevice,
      bootable: vbd.bootable,
      mode: vbd.mode,
      type: vbd.type,
      empty: vbd.empty,
      unpluggable: vbd.unpluggable,
      other_config: { ...(vbd.other_config as object) },
      qos_algorithm_type: vbd.qos_algorithm_type,
      qos_algorithm_params: {},
    });
  }
  for (const v of sn.VIFs as string[]) {
    const vif = s.get("VIF", v);
    createVif(x, {
      VM: vmRef,
      device: vif.device,
      network: vif.network,
      MAC: vif.MAC,
      MTU: vif.MTU,
      other_config: { ...(vif.other_config as object) },
      qos_algorithm_type: "",
      qos_algorithm_params: {},
      locking_mode: vif.locking_mode,
      ipv4_allowed: [],
      ipv6_allowed: [],
    });
  }
  s.set("VM", vmRef, "parent", snap);
  refreshVm(x, vmRef);
}

export function register(x: Xapi): void {
  op(x, "clone", "clone", (xx, _ctx, ref, [name]) =>
    cloneInto(xx, ref, name as string, "clone", (v) => cloneVdi(xx, v)),
  );
  op(x, "copy", "copy", (xx, _ctx, ref, [name, sr]) =>
    cloneInto(xx, ref, name as string, "copy", (v) => copyVdi(xx, v, sr as string, NULL_REF)),
  );
  op(x, "snapshot", "snapshot", (xx, _ctx, ref, [name, ignore]) =>
    cloneInto(xx, ref, name as string, "snapshot", (v) => snapshotVdi(xx, v), (ignore as string[]) ?? []),
  );
  op(x, "checkpoint", "checkpoint", (xx, _ctx, ref, [name]) => {
    const vm = xx.store.get("VM", ref);
    const snap = cloneInto(xx, ref, name as string, "snapshot", (v) => snapshotVdi(xx, v));
    const image = newVdi(xx, {
      SR: suspendSR(xx, vm),
      virtual_size: (vm.memory_static_max as number) + 4 * 1024 * 1024,
      type: "suspend",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "Suspend image",
      name_description: "Suspend image",
    });
    xx.store.update("VM", snap, { power_state: "Suspended", suspend_VDI: image });
    return snap;
  });
  op(x, "provision", "provision", (xx, _ctx, ref) => provision(xx, ref));
  op(x, "revert", "revert", (xx, _ctx, ref) => revert(xx, ref));
}
