/** VM lifecycle (SEMANTICS §6.9; xapi_vm.ml, xapi_vm_clone.ml, xapi_templates.ml, xapi_vm_lifecycle.ml). */
import { randomUUID } from "crypto";
import { fail, XapiError } from "../engine/errors";
import { EPOCH, NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { CallCtx, Xapi } from "../engine/xapi";
import { assertVmOperation, refreshVbd, refreshVdi, refreshVif, refreshVm, withVmOperation } from "./allowed-ops";
import { scheduleGuestMetrics, clearGuestMetrics } from "./guest-metrics";
import { hostFreeMemory, memoryOverhead, refreshHostMemory, vmFootprint } from "./host";
import { destroyVifRecord } from "./network";
import { createConsole, destroyConsoles } from "./console";
import { createMessage } from "./pool";
import { destroyVbdRecord } from "./sr";
import { createVbd, deviceName, deviceNumber } from "./vbd";
import { cloneVdi, copyVdi, destroyVdi, newVdi, snapshotVdi } from "./vdi";
import { createVif, macFromSeed } from "./vif";

let nextDomid = 1;

function lc(s: unknown): string {
  return String(s).toLowerCase();
}

function newVmMetrics(x: Xapi, vm: Row): string {
  return x.store.create("VM_metrics", {
    memory_actual: 0,
    VCPUs_number: 0,
    VCPUs_CPU: {},
    VCPUs_params: {},
    VCPUs_flags: {},
    state: [],
    start_time: EPOCH,
    install_time: nowDatetime(),
    last_updated: EPOCH,
    current_domain_type: vm.domain_type ?? "unspecified",
  });
}

function deriveDomainType(r: Row): string {
  if (r.domain_type && r.domain_type !== "unspecified") return r.domain_type as string;
  return r.HVM_boot_policy ? "hvm" : "pv";
}

export function createVm(x: Xapi, rec: Row): string {
  const other = { ...(rec.other_config as Record<string, string>) };
  if (!other.mac_seed) other.mac_seed = randomUUID();
  const ref = x.store.create("VM", {
    ...rec,
    other_config: other,
    power_state: "Halted",
    domid: -1,
    resident_on: NULL_REF,
    scheduled_to_be_resident_on: NULL_REF,
    guest_metrics: NULL_REF,
    is_default_template: false,
    is_a_snapshot: false,
    is_control_domain: false,
    snapshot_of: NULL_REF,
    parent: NULL_REF,
    current_operations: {},
    blocked_operations: (rec.blocked_operations as object) ?? {},
  });
  if (rec.power_state !== undefined && rec.power_state !== "Halted") {
    x.store.destroy("VM", ref);
    fail("VM_BAD_POWER_STATE", ref, "halted", lc(rec.power_state));
  }
  const vm = x.store.get("VM", ref);
  x.store.update("VM", ref, { metrics: newVmMetrics(x, vm), memory_overhead: memoryOverhead(vm) });
  refreshVm(x, ref);
  return ref;
}

export function destroyVm(x: Xapi, ref: string): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  if ((vm.other_config as Record<string, string>).default_template === "true" && !vm.is_default_template) fail("VM_CANNOT_DELETE_DEFAULT_TEMPLATE");
  assertVmOperation(x, ref, "destroy");
  for (const b of [...(vm.VBDs as string[])]) {
    const vdi = s.get("VBD", b).VDI as string;
    destroyVbdRecord(x, b);
    if (s.has("VDI", vdi)) refreshVdi(x, vdi);
  }
  for (const v of [...(vm.VIFs as string[])]) destroyVifRecord(x, v);
  if (s.has("VM_metrics", vm.metrics)) s.destroy("VM_metrics", vm.metrics as string);
  if (s.has("VM_guest_metrics", vm.guest_metrics)) s.destroy("VM_guest_metrics", vm.guest_metrics as string);
  for (const c of [...(vm.children as string[])]) s.set("VM", c, "parent", vm.parent);
  for (const snap of [...(vm.snapshots as string[])]) s.set("VM", snap, "snapshot_of", NULL_REF);
  s.destroy("VM", ref);
}

// ---------------------------------------------------------------- placement and start

function vmSRs(x: Xapi, vm: Row): string[] {
  const srs = new Set<string>();
  for (const b of vm.VBDs as string[]) {
    const vbd = x.store.get("VBD", b);
    if (!vbd.empty && x.store.has("VDI", vbd.VDI)) srs.add(x.store.get("VDI", vbd.VDI).SR as string);
  }
  return [...srs];
}

/** The checks of `assert_can_boot_here`: parameters, storage and networks visible from `host`, then memory. */
export function bootError(x: Xapi, ref: string, host: string, checkMemory: boolean): XapiError | undefined {
  const s = x.store;
  const vm = s.get("VM", ref);
  const vmax = vm.VCPUs_max as number;
  const vstart = vm.VCPUs_at_startup as number;
  if (vmax < 1) return new XapiError("INVALID_VALUE", ["VCPUs_max", String(vmax)]);
  if (vstart < 1) return new XapiError("INVALID_VALUE", ["VCPUs-at-startup", String(vstart)]);
  if (vstart > vmax) return new XapiError("VALUE_NOT_SUPPORTED", ["VCPUs-at-startup", String(vstart), "value greater than VCPUs-max"]);
  const [smin, dmin, dmax, smax] = [vm.memory_static_min, vm.memory_dynamic_min, vm.memory_dynamic_max, vm.memory_static_max] as number[];
  if (!(smin <= dmin && dmin <= dmax && dmax <= smax) || smax <= 0) return new XapiError("MEMORY_CONSTRAINT_VIOLATION", []);
  if ((vm.HVM_shadow_multiplier as number) < 1) return new XapiError("VALUE_NOT_SUPPORTED", ["HVM_shadow_multiplier", String(vm.HVM_shadow_multiplier), "value must be >= 1.0"]);
  const h = s.get("host", host);
  if (!h.enabled) return new XapiError("HOST_DISABLED", [host]);
  for (const sr of vmSRs(x, vm)) {
    const ok = (s.get("SR", sr).PBDs as string[]).some((p) => {
      const pbd = s.get("PBD", p);
      return pbd.host === host && pbd.currently_attached;
    });
    if (!ok) return new XapiError("VM_REQUIRES_SR", [ref, sr]);
  }
  for (const v of vm.VIFs as string[]) {
    const net = s.get("network", s.get("VIF", v).network);
    const pifs = net.PIFs as string[];
    if (pifs.length > 0 && !pifs.some((p) => s.get("PIF", p).host === host)) return new XapiError("VM_REQUIRES_NETWORK", [ref, s.get("VIF", v).network as string]);
  }
  if (checkMemory) {
    const need = vmFootprint(vm);
    const free = hostFreeMemory(x, host);
    if (need > free) return new XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", [String(need), String(free)]);
  }
  return undefined;
}

export function chooseHost(x: Xapi, ref: string, exclude?: string): string {
  const vm = x.store.get("VM", ref);
  const hosts = [...x.store.table("host").keys()].filter((h) => h !== exclude);
  const affinity = vm.affinity as string;
  const ordered = hosts.includes(affinity) ? [affinity, ...hosts.filter((h) => h !== affinity)] : hosts.sort((a, b) => hostFreeMemory(x, b) - hostFreeMemory(x, a));
  const fit = ordered.find((h) => !bootError(x, ref, h, true));
  if (fit) return fit;
  const withoutMemory = ordered.find((h) => !bootError(x, ref, h, false));
  if (withoutMemory) throw bootError(x, ref, withoutMemory, true)!;
  throw new XapiError("NO_HOSTS_AVAILABLE", []);
}

function boot(x: Xapi, ref: string, host: string, paused: boolean): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  const domainType = deriveDomainType(vm);
  const platform = { ...(vm.platform as Record<string, string>) };
  if (domainType === "hvm" && !platform["device-model"]) platform["device-model"] = "qemu-upstream-compat";
  clearGuestMetrics(x, ref);
  s.update("VM", ref, {
    power_state: paused ? "Paused" : "Running",
    resident_on: host,
    scheduled_to_be_resident_on: NULL_REF,
    domid: nextDomid++,
    domain_type: domainType,
    platform,
    memory_target: vm.memory_dynamic_max,
    last_boot_CPU_flags: { vendor: "GenuineIntel", features: "1fcbfbff-f7fa3223-2d93fbff-00000023-00000001-000007ab-00000000-00000000-00001000-9c000400-00000000-00000000-00000000-00000000-00000000" },
  });
  attachDevices(x, ref, true);
  createConsole(x, ref, host);
  if (s.has("VM_metrics", vm.metrics)) {
    s.update("VM_metrics", vm.metrics as string, { start_time: nowDatetime(), memory_actual: vm.memory_dynamic_max, VCPUs_number: vm.VCPUs_at_startup, state: [], current_domain_type: domainType, hvm: domainType === "hvm", last_updated: nowDatetime() });
  }
  refreshHostMemory(x, host);
  createMessage(x, "VM_STARTED", 5, "VM", vm.uuid as string, "");
  if (!paused) scheduleGuestMetrics(x, ref);
}

function attachDevices(x: Xapi, ref: string, attached: boolean): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  for (const b of vm.VBDs as string[]) {
    const vbd = s.get("VBD", b);
    const patch: Row = { currently_attached: attached, reserved: false };
    if (attached) patch.device = deviceName(deviceNumber(String(vbd.userdevice)) ?? 0);
    s.update("VBD", b, patch);
    refreshVbd(x, b);
    if (s.has("VDI", vbd.VDI)) refreshVdi(x, vbd.VDI as string);
  }
  for (const v of vm.VIFs as string[]) {
    s.update("VIF", v, { currently_attached: attached, reserved: false });
    refreshVif(x, v);
  }
}

/** The state every stop path ends in (xapi_vm_lifecycle.force_state_reset, which leaves guest_metrics alone). */
function halt(x: Xapi, ref: string): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  const host = vm.resident_on as string;
  if (vm.power_state === "Suspended" && s.has("VDI", vm.suspend_VDI)) {
    const sv = vm.suspend_VDI as string;
    s.set("VM", ref, "suspend_VDI", NULL_REF);
    destroyVdi(x, sv);
  }
  s.update("VM", ref, { power_state: "Halted", resident_on: NULL_REF, scheduled_to_be_resident_on: NULL_REF, domid: -1 });
  attachDevices(x, ref, false);
  destroyConsoles(x, ref);
  if (s.has("VM_metrics", vm.metrics)) s.update("VM_metrics", vm.metrics as string, { memory_actual: 0, VCPUs_number: 0, state: [] });
  if (s.has("host", host)) refreshHostMemory(x, host);
}

function suspendSR(x: Xapi, vm: Row): string {
  const pool = x.store.get("pool", x.poolRef());
  for (const sr of [vm.suspend_SR, pool.suspend_image_SR, pool.default_SR]) if (x.store.has("SR", sr)) return sr as string;
  return fail("VM_NO_SUSPEND_SR", String(vm.uuid));
}

// ---------------------------------------------------------------- clone, copy, snapshot, provision

function copyRecord(vm: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(vm)) out[k] = Array.isArray(v) ? [...v] : v && typeof v === "object" ? { ...(v as object) } : v;
  for (const k of ["uuid", "VBDs", "VIFs", "consoles", "snapshots", "children", "crash_dumps", "VUSBs", "VGPUs", "VTPMs", "attached_PCIs", "resident_VMs"]) delete out[k];
  return out;
}

type DiskCopy = (vdi: string) => string;

function cloneInto(x: Xapi, src: string, name: string, kind: "clone" | "copy" | "snapshot", disk: DiskCopy, ignore: string[] = []): string {
  const s = x.store;
  const vm = s.get("VM", src);
  const rec = copyRecord(vm);
  const other = { ...(vm.other_config as Record<string, string>) };
  const snapshot = kind === "snapshot";
  if (!snapshot) {
    other.mac_seed = randomUUID();
    delete other.default_template;
    delete other.xensource_internal;
    if (vm.is_a_template) other.base_template_name = vm.name_label as string;
  }
  const ref = s.create("VM", {
    ...rec,
    name_label: name,
    other_config: other,
    is_a_template: snapshot || (vm.is_a_snapshot as boolean) || (vm.is_a_template as boolean),
    is_default_template: false,
    is_a_snapshot: snapshot,
    snapshot_of: snapshot ? src : NULL_REF,
    snapshot_time: snapshot ? nowDatetime() : EPOCH,
    parent: snapshot ? NULL_REF : NULL_REF,
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
  if (!snapshot) s.set("VM", ref, "metrics", newVmMetrics(x, s.get("VM", ref)));
  if (snapshot) s.set("VM", src, "parent", vm.parent);
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
      other_config: isDisk && !snapshot ? { ...(vbd.other_config as object), owner: "" } : { ...(vbd.other_config as object) },
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
    out.push({ device: attrs.device ?? "0", size: Number(attrs.size ?? 0), sr: attrs.sr ?? "", bootable: attrs.bootable === "true", type: attrs.type ?? "system" });
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
    const vdi = newVdi(x, { SR: srs[i], virtual_size: d.size, type: d.type, sharable: false, read_only: false, other_config: {}, name_label: "", name_description: "Created by template provisioner" });
    s.set("VDI", vdi, "name_label", d.device);
    createVbd(x, { VM: ref, VDI: vdi, userdevice: d.device, bootable: d.bootable, mode: "RW", type: "Disk", empty: false, unpluggable: d.type !== "system", other_config: { owner: "" }, qos_algorithm_type: "", qos_algorithm_params: {} });
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
    if (vbd.type === "Disk" && s.has("VDI", vdi) && (s.get("VDI", vdi).VBDs as string[]).length === 0) destroyVdi(x, vdi);
  }
  for (const v of [...(vm.VIFs as string[])]) destroyVifRecord(x, v);
  const keep = ["name_label", "name_description", "memory_static_min", "memory_static_max", "memory_dynamic_min", "memory_dynamic_max", "VCPUs_max", "VCPUs_at_startup", "VCPUs_params", "platform", "HVM_boot_policy", "HVM_boot_params", "PV_args", "PV_bootloader", "PV_kernel", "PV_ramdisk", "other_config", "xenstore_data", "actions_after_crash", "actions_after_reboot", "actions_after_shutdown", "domain_type", "tags"];
  const patch: Row = {};
  for (const k of keep) patch[k] = sn[k];
  s.update("VM", vmRef, patch);
  for (const b of sn.VBDs as string[]) {
    const vbd = s.get("VBD", b);
    const isDisk = vbd.type === "Disk" && !vbd.empty && s.has("VDI", vbd.VDI);
    createVbd(x, { VM: vmRef, VDI: isDisk ? cloneVdi(x, vbd.VDI as string) : vbd.VDI, userdevice: vbd.userdevice, bootable: vbd.bootable, mode: vbd.mode, type: vbd.type, empty: vbd.empty, unpluggable: vbd.unpluggable, other_config: { ...(vbd.other_config as object) }, qos_algorithm_type: vbd.qos_algorithm_type, qos_algorithm_params: {} });
  }
  for (const v of sn.VIFs as string[]) {
    const vif = s.get("VIF", v);
    createVif(x, { VM: vmRef, device: vif.device, network: vif.network, MAC: vif.MAC, MTU: vif.MTU, other_config: { ...(vif.other_config as object) }, qos_algorithm_type: "", qos_algorithm_params: {}, locking_mode: vif.locking_mode, ipv4_allowed: [], ipv6_allowed: [] });
  }
  s.set("VM", vmRef, "parent", snap);
  refreshVm(x, vmRef);
}

// ---------------------------------------------------------------- memory and VCPUs

function assertOrder(smin: number, dmin: number, dmax: number, smax: number): void {
  if (!(smin <= dmin && dmin <= dmax && dmax <= smax)) fail("MEMORY_CONSTRAINT_VIOLATION_ORDER");
}

const VCPU_RULE = "VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max";

function mem(vm: Row): [number, number, number, number] {
  return [vm.memory_static_min, vm.memory_dynamic_min, vm.memory_dynamic_max, vm.memory_static_max] as [number, number, number, number];
}

function setMem(x: Xapi, ref: string, [smin, dmin, dmax, smax]: number[]): void {
  assertOrder(smin, dmin, dmax, smax);
  x.store.update("VM", ref, { memory_static_min: smin, memory_dynamic_min: dmin, memory_dynamic_max: dmax, memory_static_max: smax });
  const vm = x.store.get("VM", ref);
  x.store.set("VM", ref, "memory_overhead", memoryOverhead(vm));
  if (x.store.has("host", vm.resident_on)) refreshHostMemory(x, vm.resident_on as string);
}

// ---------------------------------------------------------------- registration

type VmOp = (x: Xapi, ctx: CallCtx, ref: string, args: unknown[]) => unknown;

function op(x: Xapi, name: string, operation: string, fn: VmOp): void {
  x.on(`VM.${name}`, (xx, ctx, args) => {
    const ref = args[0] as string;
    xx.store.get("VM", ref);
    return withVmOperation(xx, ctx, ref, operation, () => fn(xx, ctx, ref, args.slice(1)));
  });
}

export function register(x: Xapi): void {
  x.on("VM.create", (xx, _ctx, [rec]) => createVm(xx, rec as Row));
  x.on("VM.destroy", (xx, _ctx, [self]) => destroyVm(xx, self as string));
  op(x, "start", "start", (xx, _ctx, ref, [paused]) => boot(xx, ref, chooseHost(xx, ref), paused as boolean));
  op(x, "start_on", "start_on", (xx, _ctx, ref, [host, paused]) => {
    xx.store.get("host", host);
    const e = bootError(xx, ref, host as string, true);
    if (e) throw e;
    boot(xx, ref, host as string, paused as boolean);
  });
  op(x, "clean_shutdown", "clean_shutdown", (xx, _ctx, ref) => halt(xx, ref));
  op(x, "hard_shutdown", "hard_shutdown", (xx, _ctx, ref) => halt(xx, ref));
  op(x, "shutdown", "shutdown", (xx, _ctx, ref) => halt(xx, ref));
  op(x, "power_state_reset", "power_state_reset", (xx, _ctx, ref) => halt(xx, ref));
  const reboot: VmOp = (xx, _ctx, ref) => {
    const vm = xx.store.get("VM", ref);
    const host = vm.resident_on as string;
    attachDevices(xx, ref, false);
    clearGuestMetrics(xx, ref);
    xx.store.update("VM", ref, { power_state: "Running", domid: nextDomid++ });
    attachDevices(xx, ref, true);
    if (xx.store.has("VM_metrics", vm.metrics)) xx.store.set("VM_metrics", vm.metrics as string, "start_time", nowDatetime());
    refreshHostMemory(xx, host);
    scheduleGuestMetrics(xx, ref);
  };
  op(x, "clean_reboot", "clean_reboot", reboot);
  op(x, "hard_reboot", "hard_reboot", reboot);
  op(x, "pause", "pause", (xx, _ctx, ref) => xx.store.set("VM", ref, "power_state", "Paused"));
  op(x, "unpause", "unpause", (xx, _ctx, ref) => xx.store.set("VM", ref, "power_state", "Running"));
  op(x, "suspend", "suspend", (xx, _ctx, ref) => {
    const vm = xx.store.get("VM", ref);
    const host = vm.resident_on as string;
    const sr = suspendSR(xx, vm);
    const vdi = newVdi(xx, { SR: sr, virtual_size: (vm.memory_static_max as number) + 4 * 1024 * 1024, type: "suspend", sharable: false, read_only: false, other_config: {}, name_label: "Suspend image", name_description: "Suspend image" });
    clearGuestMetrics(xx, ref);
    xx.store.update("VM", ref, { power_state: "Suspended", resident_on: NULL_REF, domid: -1, suspend_VDI: vdi });
    destroyConsoles(xx, ref);
    refreshHostMemory(xx, host);
  });
  const resume: VmOp = (xx, _ctx, ref, [paused]) => {
    const vm = xx.store.get("VM", ref);
    const host = chooseHost(xx, ref);
    const sv = vm.suspend_VDI as string;
    xx.store.update("VM", ref, { power_state: paused ? "Paused" : "Running", resident_on: host, domid: nextDomid++, suspend_VDI: NULL_REF });
    if (xx.store.has("VDI", sv)) destroyVdi(xx, sv);
    attachDevices(xx, ref, true);
    createConsole(xx, ref, host);
    refreshHostMemory(xx, host);
    if (!paused) scheduleGuestMetrics(xx, ref);
  };
  op(x, "resume", "resume", resume);
  op(x, "resume_on", "resume_on", (xx, ctx, ref, [host, paused]) => {
    const e = bootError(xx, ref, host as string, true);
    if (e) throw e;
    return resume(xx, ctx, ref, [paused]);
  });
  op(x, "clone", "clone", (xx, _ctx, ref, [name]) => cloneInto(xx, ref, name as string, "clone", (v) => cloneVdi(xx, v)));
  op(x, "copy", "copy", (xx, _ctx, ref, [name, sr]) => cloneInto(xx, ref, name as string, "copy", (v) => copyVdi(xx, v, sr as string, NULL_REF)));
  op(x, "snapshot", "snapshot", (xx, _ctx, ref, [name, ignore]) => cloneInto(xx, ref, name as string, "snapshot", (v) => snapshotVdi(xx, v), (ignore as string[]) ?? []));
  op(x, "checkpoint", "checkpoint", (xx, _ctx, ref, [name]) => {
    const vm = xx.store.get("VM", ref);
    const snap = cloneInto(xx, ref, name as string, "snapshot", (v) => snapshotVdi(xx, v));
    const image = newVdi(xx, { SR: suspendSR(xx, vm), virtual_size: (vm.memory_static_max as number) + 4 * 1024 * 1024, type: "suspend", sharable: false, read_only: false, other_config: {}, name_label: "Suspend image", name_description: "Suspend image" });
    xx.store.update("VM", snap, { power_state: "Suspended", suspend_VDI: image });
    return snap;
  });
  op(x, "provision", "provision", (xx, _ctx, ref) => provision(xx, ref));
  op(x, "set_memory_target_live", "changing_memory_live", (xx, _ctx, ref, [target]) => xx.store.set("VM", ref, "memory_target", target));
  const running = (name: string) =>
    x.on(`VM.${name}`, (xx, _ctx, [ref]) => {
      const vm = xx.store.get("VM", ref);
      if (vm.power_state !== "Running") fail("VM_BAD_POWER_STATE", ref as string, "running", lc(vm.power_state));
    });
  running("send_sysrq");
  running("send_trigger");
  x.on("VM.get_cooperative", (xx, _ctx, [ref]) => (xx.store.get("VM", ref), true));
  op(x, "revert", "revert", (xx, _ctx, ref) => revert(xx, ref));

  op(x, "set_memory_limits", "changing_memory_limits", (xx, _ctx, ref, [smin, smax, dmin, dmax]) => setMem(xx, ref, [smin, dmin, dmax, smax] as number[]));
  op(x, "set_memory", "changing_memory_limits", (xx, _ctx, ref, [v]) => {
    const [smin] = mem(xx.store.get("VM", ref));
    setMem(xx, ref, [smin, v, v, v] as number[]);
  });
  op(x, "set_memory_static_range", "changing_static_range", (xx, _ctx, ref, [min, max]) => {
    const [, dmin, dmax] = mem(xx.store.get("VM", ref));
    setMem(xx, ref, [min as number, dmin, dmax, max as number]);
  });
  op(x, "set_memory_dynamic_range", "changing_dynamic_range", (xx, _ctx, ref, [min, max]) => {
    const [smin, , , smax] = mem(xx.store.get("VM", ref));
    setMem(xx, ref, [smin, min as number, max as number, smax]);
  });
  const one = (name: string, operation: string, idx: number) =>
    op(x, name, operation, (xx, _ctx, ref, [v]) => {
      const m = mem(xx.store.get("VM", ref));
      m[idx] = v as number;
      setMem(xx, ref, m);
    });
  one("set_memory_static_min", "changing_static_range", 0);
  one("set_memory_dynamic_min", "changing_dynamic_range", 1);
  one("set_memory_dynamic_max", "changing_dynamic_range", 2);
  one("set_memory_static_max", "changing_static_range", 3);
  op(x, "set_VCPUs_max", "changing_VCPUs", (xx, _ctx, ref, [v]) => {
    const vm = xx.store.get("VM", ref);
    if ((v as number) < 1 || (v as number) < (vm.VCPUs_at_startup as number)) fail("INVALID_VALUE", VCPU_RULE, String(v));
    xx.store.set("VM", ref, "VCPUs_max", v);
  });
  x.on("VM.set_VCPUs_at_startup", (xx, _ctx, [ref, v]) => {
    const vm = xx.store.get("VM", ref);
    if ((v as number) < 1 || (v as number) > (vm.VCPUs_max as number)) fail("INVALID_VALUE", VCPU_RULE, String(v));
    xx.store.set("VM", ref as string, "VCPUs_at_startup", v);
  });
  op(x, "set_VCPUs_number_live", "changing_VCPUs_live", (xx, _ctx, ref, [n]) => {
    const vm = xx.store.get("VM", ref);
    if ((n as number) < 1 || (n as number) > (vm.VCPUs_max as number)) fail("INVALID_VALUE", VCPU_RULE, String(n));
    xx.store.set("VM", ref, "VCPUs_at_startup", n);
    if (xx.store.has("VM_metrics", vm.metrics)) xx.store.set("VM_metrics", vm.metrics as string, "VCPUs_number", n);
  });
  x.on("VM.set_is_a_template", (xx, _ctx, [ref, v]) => {
    const vm = xx.store.get("VM", ref);
    if (v) {
      if (vm.power_state !== "Halted") fail("VM_BAD_POWER_STATE", ref as string, "halted", lc(vm.power_state));
      if (xx.store.has("VM_metrics", vm.metrics)) xx.store.destroy("VM_metrics", vm.metrics as string);
      xx.store.update("VM", ref as string, { is_a_template: true, metrics: NULL_REF, ha_always_run: false });
    } else {
      const metrics = xx.store.has("VM_metrics", vm.metrics) ? vm.metrics : newVmMetrics(xx, vm);
      xx.store.update("VM", ref as string, { is_a_template: false, metrics });
    }
    refreshVm(xx, ref as string);
  });
  x.on("VM.set_domain_type", (xx, _ctx, [ref, v]) => {
    const vm = xx.store.get("VM", ref);
    const patch: Row = { domain_type: v };
    if (v === "hvm" && !vm.HVM_boot_policy) patch.HVM_boot_policy = "BIOS order";
    if (v !== "hvm" && v !== "unspecified") patch.HVM_boot_policy = "";
    xx.store.update("VM", ref as string, patch);
  });
  x.on("VM.set_HVM_boot_policy", (xx, _ctx, [ref, v]) => {
    xx.store.get("VM", ref);
    xx.store.update("VM", ref as string, { HVM_boot_policy: v, domain_type: v ? "hvm" : "pv" });
  });
  x.on("VM.get_allowed_VBD_devices", (xx, _ctx, [ref]) => {
    const vm = xx.store.get("VM", ref);
    const used = new Set((vm.VBDs as string[]).map((b) => deviceNumber(String(xx.store.get("VBD", b).userdevice))));
    return Array.from({ length: 255 }, (_, i) => i).filter((i) => !used.has(i)).map(String);
  });
  x.on("VM.get_allowed_VIF_devices", (xx, _ctx, [ref]) => {
    const vm = xx.store.get("VM", ref);
    const used = new Set((vm.VIFs as string[]).map((v) => String(xx.store.get("VIF", v).device)));
    return Array.from({ length: 16 }, (_, i) => String(i)).filter((d) => !used.has(d));
  });
  x.on("VM.assert_operation_valid", (xx, _ctx, [ref, operation]) => assertVmOperation(xx, ref as string, operation as string));
  x.on("VM.update_allowed_operations", (xx, _ctx, [ref]) => (xx.store.get("VM", ref), refreshVm(xx, ref as string)));
  x.on("VM.assert_can_boot_here", (xx, _ctx, [ref, host]) => {
    xx.store.get("VM", ref);
    xx.store.get("host", host);
    const e = bootError(xx, ref as string, host as string, true);
    if (e) throw e;
  });
  x.on("VM.get_boot_record", (xx, _ctx, [ref]) => xx.store.get("VM", ref));
  x.on("VM.compute_memory_overhead", (xx, _ctx, [ref]) => memoryOverhead(xx.store.get("VM", ref)));
  x.on("VM.get_possible_hosts", (xx, _ctx, [ref]) => {
    xx.store.get("VM", ref);
    return [...xx.store.table("host").keys()].filter((h) => !bootError(xx, ref as string, h, true));
  });
}
