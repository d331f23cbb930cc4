/** Clone, copy, snapshot, checkpoint, provision and revert (xapi_vm_clone.ml, xapi_templates.ml, xapi_vm_snapshot.ml). */
import { inheritGuest } from "./guest-agent";
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
import { newVmMetrics, op, setIsATemplate } from "./vm-common";
import { halt } from "./vm-power";
import { createSuspendImage } from "./vm-suspend";

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

/**
 * xapi_vm_clone.safe_clone_disks: each VBD's disk in order (an empty VBD has none, a CD keeps its ISO); when one
 * fails, the disks made so far are destroyed and the error goes on.
 */
function cloneDisks(x: Xapi, vbds: string[], disk: DiskCopy): [string, string, boolean][] {
  const done: [string, string, boolean][] = [];
  try {
    for (const b of vbds) {
      const vbd = x.store.get("VBD", b);
      if (vbd.empty) done.push([b, NULL_REF, false]);
      else if (vbd.type === "CD") done.push([b, vbd.VDI as string, false]);
      else done.push([b, disk(vbd.VDI as string), true]);
    }
  } catch (e) {
    deleteDisks(x, done);
    throw e;
  }
  return done;
}

/** xapi_vm_clone.delete_disks: best effort, CDs never. */
function deleteDisks(x: Xapi, disks: [string, string, boolean][]): void {
  for (const [, vdi, mine] of disks) {
    if (!mine || !x.store.has("VDI", vdi)) continue;
    try {
      destroyVdi(x, vdi);
    } catch {
      // xapi ignores a failed clean-up here too.
    }
  }
}

/**
 * xapi_vm_clone.clone: the disks first (rolled back on failure), then the VM record, VBDs, VIFs and, for a
 * Suspended source (clone/copy only), a copy of its suspend image; the new VM is Suspended then too. A failure
 * after the disks destroys the new VM and its disks.
 */
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
  const snapshot = kind === "snapshot";
  const vbds = (vm.VBDs as string[]).filter((b) => !snapshot || !ignore.includes(s.get("VBD", b).VDI as string));
  const disks = cloneDisks(x, vbds, disk);
  let ref: string | undefined;
  try {
    ref = copyVmRecord(x, src, name, kind);
    for (const [b, vdi] of disks) {
      const vbd = s.get("VBD", b);
      createVbd(x, {
        VM: ref,
        VDI: vdi,
        userdevice: vbd.userdevice,
        bootable: vbd.bootable,
        mode: vbd.mode,
        type: vbd.type,
        empty: vbd.empty || vdi === NULL_REF,
        unpluggable: vbd.unpluggable,
        // CA-58405: the new VM owns the new disks (owner="" unless the VBD already says).
        other_config:
          vbd.type === "Disk" ? { owner: "", ...(vbd.other_config as object) } : { ...(vbd.other_config as object) },
        qos_algorithm_type: vbd.qos_algorithm_type,
        qos_algorithm_params: { ...(vbd.qos_algorithm_params as object) },
      });
    }
    const seed = (s.get("VM", ref).other_config as Record<string, string>).mac_seed;
    for (const v of vm.VIFs as string[]) {
      const vif = s.get("VIF", v);
      createVif(x, {
        VM: ref,
        device: vif.device,
        network: vif.network,
        MAC: snapshot ? vif.MAC : macFromSeed(seed, Number(vif.device)),
        MTU: vif.MTU,
        other_config: { ...(vif.other_config as object) },
        qos_algorithm_type: vif.qos_algorithm_type,
        qos_algorithm_params: { ...(vif.qos_algorithm_params as object) },
        locking_mode: vif.locking_mode,
        ipv4_allowed: [...(vif.ipv4_allowed as string[])],
        ipv6_allowed: [...(vif.ipv6_allowed as string[])],
      });
    }
    if (!snapshot && vm.power_state === "Suspended" && s.has("VDI", vm.suspend_VDI))
      s.update("VM", ref, { power_state: "Suspended", suspend_VDI: disk(vm.suspend_VDI as string) });
    refreshVm(x, ref);
    return ref;
  } catch (e) {
    if (ref && s.has("VM", ref)) destroyVmRecord(x, ref);
    deleteDisks(x, disks);
    throw e;
  }
}

/** xapi_vm_clone.copy_vm_record: the new VM (Halted here; cloneInto sets a copied suspend image). */
function copyVmRecord(x: Xapi, src: string, name: string, kind: "clone" | "copy" | "snapshot"): string {
  const s = x.store;
  const vm = s.get("VM", src);
  const rec = copyRecord(vm);
  const other = { ...(vm.other_config as Record<string, string>) };
  const snapshot = kind === "snapshot";
  // A fresh mac_seed except for snapshots; default_template and xensource_internal dropped;
  // base_template_name kept, or set from a template's name.
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
  inheritGuest(x, src, ref);
  return ref;
}

/** Undoes copyVmRecord and the devices made since (xapi destroys the VM row; its VBDs/VIFs are GC'd). */
function destroyVmRecord(x: Xapi, ref: string): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  for (const b of [...(vm.VBDs as string[])]) destroyVbdRecord(x, b);
  for (const v of [...(vm.VIFs as string[])]) destroyVifRecord(x, v);
  if (s.has("VM_metrics", vm.metrics)) s.destroy("VM_metrics", vm.metrics as string);
  if (s.has("VM_guest_metrics", vm.guest_metrics)) s.destroy("VM_guest_metrics", vm.guest_metrics as string);
  if (s.has("VM", vm.snapshot_of) && s.get("VM", vm.snapshot_of).parent === ref)
    s.set("VM", vm.snapshot_of as string, "parent", vm.parent);
  s.destroy("VM", ref);
}

/** xapi_vm.ml clone/copy: a copy of a snapshot (a checkpoint's Suspended state) is shut down at once. */
function haltedIfOfSnapshot(x: Xapi, src: string, copy: string): string {
  if (x.store.get("VM", src).is_a_snapshot && x.store.get("VM", copy).power_state !== "Halted") halt(x, copy);
  return copy;
}

interface ProvisionDisk {
  device: string;
  size: number;
  sr: string;
  bootable: boolean;
  type: string;
}

const PROVISION_TYPES = new Set(["system", "user", "ephemeral", "suspend", "crashdump"]);

/**
 * xapi_templates.disks_of_xml: <provision> holding <disk> elements that each need device, size (an integer),
 * sr and bootable; an unknown or missing type is "system". Anything else is Parse_failure.
 */
function parseDisks(xml: string): ProvisionDisk[] {
  // [UNSURE] xapi reports an unparsable spec as an OCaml exception; INTERNAL_ERROR with its name is assumed.
  const parseFailure = () => new XapiError("INTERNAL_ERROR", ["Xapi_templates.Parse_failure"]);
  const root = /^\s*<provision\s*>([\s\S]*)<\/provision>\s*$|^\s*<provision\s*\/>\s*$/.exec(xml);
  if (!root) throw parseFailure();
  const out: ProvisionDisk[] = [];
  for (const m of (root[1] ?? "").matchAll(/<disk\b([^>]*?)\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([A-Za-z_]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    const { device, size, sr, bootable, type } = attrs;
    if (device === undefined || sr === undefined || bootable === undefined || !/^-?\d+$/.test(size ?? ""))
      throw parseFailure();
    out.push({
      device,
      size: Number(size),
      sr,
      bootable: bootable === "true",
      type: PROVISION_TYPES.has(type) ? type : "system",
    });
  }
  return out;
}

/** xapi_templates.create_disk: the SR by uuid only (the CLI, not xapi, rewrites the templates' sr=""). */
function provisionDisk(x: Xapi, ref: string, d: ProvisionDisk): void {
  const s = x.store;
  let sr: string;
  try {
    sr = s.byUuid("SR", d.sr);
  } catch {
    throw new XapiError("UUID_INVALID", ["sr", d.sr]);
  }
  const vdi = newVdi(x, {
    SR: sr,
    virtual_size: d.size,
    type: d.type,
    sharable: false,
    read_only: false,
    other_config: {},
    sm_config: { vmhint: s.get("VM", ref).uuid as string },
    name_label: "",
    name_description: "Created by template provisioner",
  });
  const vbd = createVbd(x, {
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
  s.set("VDI", vdi, "name_label", s.get("VBD", vbd).userdevice);
}

/**
 * xapi_vm.ml provision: the spec is read first, then the template flag is cleared, then each disk is made in
 * turn. A disk that fails leaves the VM a non-template with the disks made before it (pre_install is outside
 * the clean-up, which only covers the post-install script); other_config:disks stays for a retry.
 */
function provision(x: Xapi, ref: string): void {
  const s = x.store;
  const other = s.get("VM", ref).other_config as Record<string, string>;
  const disks = other.disks !== undefined ? parseDisks(other.disks) : [];
  setIsATemplate(x, ref, false);
  for (const d of disks) provisionDisk(x, ref, d);
  // xapi_templates.post_install: the keys that would provision the VM a second time go.
  const rest = { ...(s.get("VM", ref).other_config as Record<string, string>) };
  delete rest.disks;
  delete rest.postinstall;
  s.set("VM", ref, "other_config", rest);
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
  inheritGuest(x, snap, vmRef);
  refreshVm(x, vmRef);
}

export function register(x: Xapi): void {
  op(x, "clone", "clone", (xx, _ctx, ref, [name]) =>
    haltedIfOfSnapshot(
      xx,
      ref,
      cloneInto(xx, ref, name as string, "clone", (v) => cloneVdi(xx, v)),
    ),
  );
  op(x, "copy", "copy", (xx, _ctx, ref, [name, sr]) => {
    // xapi_vm.ml copy: an SR that does not exist means "each disk's own SR"; an ISO SR is refused.
    const target = xx.store.has("SR", sr) ? (sr as string) : NULL_REF;
    if (target !== NULL_REF && xx.store.get("SR", target).content_type === "iso")
      fail("OPERATION_NOT_ALLOWED", "Cannot copy a VM's disks to an ISO SR");
    const copy = cloneInto(xx, ref, name as string, "copy", (v) => copyVdi(xx, v, target, NULL_REF));
    return haltedIfOfSnapshot(xx, ref, copy);
  });
  op(x, "snapshot", "snapshot", (xx, _ctx, ref, [name, ignore]) =>
    cloneInto(xx, ref, name as string, "snapshot", (v) => snapshotVdi(xx, v), (ignore as string[]) ?? []),
  );
  // xapi_vm_snapshot.ml checkpoint: a running VM is suspended (its image where VM.suspend would put it),
  // the disks and that image are snapshotted, and the VM resumes, which drops its own image.
  op(x, "checkpoint", "checkpoint", (xx, _ctx, ref, [name]) => {
    const vm = xx.store.get("VM", ref);
    const own = xx.store.has("VDI", vm.suspend_VDI) ? undefined : createSuspendImage(xx, ref);
    try {
      const snap = cloneInto(xx, ref, name as string, "snapshot", (v) => snapshotVdi(xx, v));
      const image = snapshotVdi(xx, own ?? (vm.suspend_VDI as string));
      xx.store.update("VM", snap, { power_state: "Suspended", suspend_VDI: image });
      return snap;
    } finally {
      if (own) destroyVdi(xx, own);
    }
  });
  op(x, "provision", "provision", (xx, _ctx, ref) => provision(xx, ref));
  op(x, "revert", "revert", (xx, _ctx, ref) => revert(xx, ref));
}
