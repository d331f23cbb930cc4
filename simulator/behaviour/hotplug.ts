/**
 * The hot-plug checks of VBD.plug/unplug/unplug_force and VIF.plug/unplug, in xapi's order
 * (xapi_vbd_helpers.ml and xapi_vif_helpers.ml valid_operations: the first rule that refuses an operation
 * gives its error).
 */
import { XapiError } from "../engine/errors";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { pvDriversKnown } from "./pv-drivers";

export type HotplugOp = "plug" | "unplug" | "unplug_force";

const err = (code: string, ...params: string[]) => new XapiError(code, params);

/** Helpers.domain_type: the running domain's type (VM_metrics) for a live VM, the configured one otherwise. */
function currentDomainType(x: Xapi, vm: Row): string {
  if (vm.power_state === "Halted") return String(vm.domain_type);
  return String(x.store.tryGet("VM_metrics", vm.metrics)?.current_domain_type ?? vm.domain_type);
}

/** Power state, then the VM's own operations in progress (shared by VBDs and VIFs). */
function stateError(vmRef: string, vm: Row, self: string, op: HotplugOp, attached: boolean): XapiError | undefined {
  if (vm.power_state === "Running") {
    if (op === "plug" && attached) return err("DEVICE_ALREADY_ATTACHED", self);
    if (op !== "plug" && !attached) return err("DEVICE_ALREADY_DETACHED", self);
  } else return err("VM_BAD_POWER_STATE", vmRef, "running", String(vm.power_state).toLowerCase());
  if (op === "unplug_force") return undefined;
  for (const running of Object.values(vm.current_operations as Record<string, string>))
    if (["clean_shutdown", "hard_shutdown", "suspend", "pause"].includes(running))
      return err("OPERATION_NOT_ALLOWED", `Current operation on VM:${vmRef} is ${running}`);
  return undefined;
}

/**
 * An HVM guest may hot-plug when its guest metrics say can_use_hotplug_<kind>=yes, or say nothing but
 * PV_drivers_detected; "no" refuses; without either, PV drivers of a known version are needed
 * (Xapi_pv_driver_version.make_error_opt: VM_MISSING_PV_DRIVERS [vm]).
 */
function driverError(x: Xapi, vmRef: string, vm: Row, kind: "VBD" | "VIF"): XapiError | undefined {
  const gm = x.store.tryGet("VM_guest_metrics", vm.guest_metrics);
  const claim = gm?.[kind === "VBD" ? "can_use_hotplug_vbd" : "can_use_hotplug_vif"];
  if (claim === "yes") return undefined;
  if (claim === "no") return err("OPERATION_NOT_ALLOWED", `VM states it does not support ${kind} hotplug.`);
  if (gm?.PV_drivers_detected) return undefined;
  return pvDriversKnown(gm) ? undefined : err("VM_MISSING_PV_DRIVERS", vmRef);
}

/** xapi_vbd_helpers.valid_operations for plug/unplug/unplug_force, then xapi_vbd.ml plug's own check. */
export function vbdHotplugError(x: Xapi, ref: string, op: HotplugOp): XapiError | undefined {
  const s = x.store;
  const vbd = s.get("VBD", ref);
  const vmRef = vbd.VM as string;
  const vm = s.get("VM", vmRef);
  if (op !== "plug" && !vbd.unpluggable) return err("VBD_NOT_UNPLUGGABLE", ref);
  const state = stateError(vmRef, vm, ref, op, vbd.currently_attached as boolean);
  if (state) return state;
  const hvm = currentDomainType(x, vm) === "hvm";
  if (hvm) {
    const drivers = driverError(x, vmRef, vm, "VBD");
    if (drivers) return drivers;
    if (vbd.type === "CD")
      return err("OPERATION_NOT_ALLOWED", "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected");
  }
  if (vbd.empty || !s.has("VDI", vbd.VDI)) return undefined;
  const vdi = s.get("VDI", vbd.VDI);
  if (vdi.managed === false) return err("VDI_NOT_MANAGED", ref);
  if (op !== "plug") return undefined;
  if (!vbd.currently_attached) {
    // The sharing check: other VBDs of the VDI that are attached (VMs Suspended and system domains aside).
    const others = (vdi.VBDs as string[])
      .filter((b) => b !== ref)
      .map((b) => s.get("VBD", b))
      .filter((o) => {
        const ovm = s.get("VM", o.VM);
        return ovm.power_state !== "Suspended" && !isSystemDomain(ovm) && o.currently_attached;
      });
    const needWrite = vbd.mode === "RW";
    if (!vdi.sharable && !isSystemDomain(vm) && (others.some((o) => o.mode === "RW") || (needWrite && others.length)))
      return err("VDI_IN_USE", vbd.VDI as string);
    if (needWrite && vdi.read_only) return err("VDI_READONLY", vbd.VDI as string);
  }
  // xapi_vbd.ml plug (CA-83260): an HVM guest's disk must be read-write; dom0's loopback plugs skip this.
  if (!isSystemDomain(vm) && hvm && vbd.type !== "CD" && vbd.mode === "RO")
    return err("DISK_VBD_MUST_BE_READWRITE_FOR_HVM", ref);
  return undefined;
}

/** System_domains.is_system_domain: the control domain, or other_config:is_system_domain=true. */
function isSystemDomain(vm: Row): boolean {
  return !!vm.is_control_domain || (vm.other_config as Record<string, string>).is_system_domain === "true";
}

/** xapi_vif_helpers.valid_operations for plug/unplug (VIF.unplug_force is checked as unplug). */
export function vifHotplugError(x: Xapi, ref: string, op: "plug" | "unplug"): XapiError | undefined {
  const vif = x.store.get("VIF", ref);
  const vmRef = vif.VM as string;
  const vm = x.store.get("VM", vmRef);
  if (op === "plug" && vm.is_control_domain)
    return err("OPERATION_NOT_ALLOWED", "Control domain does not support hotplug");
  const state = stateError(vmRef, vm, ref, op, vif.currently_attached as boolean);
  if (state) return state;
  if (currentDomainType(x, vm) === "hvm") return driverError(x, vmRef, vm, "VIF");
  return undefined;
}
