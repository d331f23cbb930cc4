/**
 * Operation checks and `allowed_operations` (xapi_vm_lifecycle.ml and friends, docs/xapi-semantics.md §6.9.2):
 * the same check raises errors for a call and, run strictly for every operation, fills the advisory lists.
 */
import { XapiError } from "../engine/errors";
import { checkCancelled, setCancellable } from "../engine/tasks";
import { Row } from "../engine/store";
import { CallCtx, Xapi } from "../engine/xapi";
import { DRIVERS } from "./sm-drivers";
import { pvDriversKnown } from "./pv-drivers";
import vmOperationTable from "../data/vm-operations.json";

/** Which VM operations each state permits, after xapi_vm_lifecycle.ml: data in ../data/vm-operations.json. */
interface VmOperationTable {
  /** Power states an operation needs (`allowed_power_states`); an operation absent here needs none. */
  powerStates: Record<string, string[]>;
  allowedOnTemplate: string[];
  allowedOnSnapshot: string[];
  /** Operations that need the guest's PV drivers (or a PV domain). */
  needGuestFeatures: string[];
  /**
   * Groups of operations that may run together (xapi_vm_lifecycle.ml is_allowed_concurrently's long_copies:
   * clone, copy and export): `op` is allowed when it and every operation in progress are in one group.
   */
  concurrentWithEachOther: string[][];
  /** Operations that may run while others are in progress (hard_shutdown cancels them). */
  concurrent: string[];
  /** The operations `allowed_operations` lists when permitted, in this order. */
  advertised: string[];
}
const vmOps: VmOperationTable = vmOperationTable;
const POWER = vmOps.powerStates;
const TEMPLATE_OK = new Set(vmOps.allowedOnTemplate);
const SNAPSHOT_OK = new Set(vmOps.allowedOnSnapshot);
const NEEDS_GUEST_FEATURE = new Set(vmOps.needGuestFeatures);
const CONCURRENT_OK = new Set(vmOps.concurrent);
const CONCURRENT_GROUPS = vmOps.concurrentWithEachOther.map((g) => new Set(g));
const VM_ADVERTISED = vmOps.advertised;

export function hasGuestFeatures(x: Xapi, vm: Row): boolean {
  if (vm.domain_type === "pv" || vm.domain_type === "pvh" || vm.domain_type === "pv_in_pvh") return true;
  const gm = x.store.tryGet("VM_guest_metrics", vm.guest_metrics);
  return !!gm && (gm.PV_drivers_detected as boolean);
}

/** An operation check's verdict; an XapiError only when raised (building one per refused op would be costly). */
export interface OpError {
  code: string;
  params: string[];
}

const opError = (code: string, params: string[]): OpError => ({ code, params });

/** The error xapi raises for `op` on `vm`, or undefined when allowed. */
export function vmOperationError(x: Xapi, ref: string, op: string): OpError | undefined {
  const vm = x.store.get("VM", ref);
  const blocked = (vm.blocked_operations as Record<string, string>)[op];
  if (blocked !== undefined) return opError("OPERATION_BLOCKED", [ref, blocked]);
  const states = powerStates(x, vm, op);
  const ps = vm.power_state as string;
  if (states && !states.includes(ps)) {
    return opError("VM_BAD_POWER_STATE", [ref, states.map((s) => s.toLowerCase()).join(", "), ps.toLowerCase()]);
  }
  const current = Object.entries(vm.current_operations as Record<string, string>);
  const together = (g: Set<string>) => g.has(op) && current.every(([, other]) => g.has(other));
  if (current.length > 0 && !CONCURRENT_OK.has(op) && !CONCURRENT_GROUPS.some(together)) {
    const [task, other] = current[0];
    return opError("OTHER_OPERATION_IN_PROGRESS", ["VM", ref, other, task]);
  }
  if (vm.is_control_domain) {
    if (op === "changing_dynamic_range") return undefined;
    return opError("OPERATION_NOT_ALLOWED", [
      op === "destroy" || op === "changing_VCPUs"
        ? "This operation is not allowed on dom0"
        : "This operation is not allowed on a control domain",
    ]);
  }
  if (vm.is_a_snapshot) {
    if (!SNAPSHOT_OK.has(op)) return opError("VM_IS_SNAPSHOT", [ref, op]);
  } else if (vm.is_a_template) {
    if (!TEMPLATE_OK.has(op) || (op === "destroy" && vm.is_default_template))
      return opError("VM_IS_TEMPLATE", [ref, op]);
  }
  if (op === "provision" && !vm.is_a_template) return opError("PROVISION_ONLY_ALLOWED_ON_TEMPLATE", []);
  if (op === "revert" && !vm.is_a_snapshot) return opError("REVERT_ONLY_ALLOWED_ON_SNAPSHOT", []);
  if (NEEDS_GUEST_FEATURE.has(op) && !hasGuestFeatures(x, vm)) return opError("VM_LACKS_FEATURE", [ref]);
  if (op === "changing_VCPUs_live" && !canHotplugVcpus(x, vm)) return opError("VM_LACKS_FEATURE", [ref]);
  return undefined;
}

/**
 * xapi_vm_lifecycle.allowed_power_states: clone and copy take a Suspended VM only when it is a snapshot or the
 * pool's other_config:allow_clone_suspended_vm is "true" (helpers.ml clone_suspended_vm_enabled).
 */
function powerStates(x: Xapi, vm: Row, op: string): string[] | undefined {
  const states = POWER[op];
  if (op !== "clone" && op !== "copy") return states;
  const pool = x.store.tryGet("pool", x.poolRef());
  const enabled = (pool?.other_config as Record<string, string> | undefined)?.allow_clone_suspended_vm === "true";
  return vm.is_a_snapshot || enabled ? [...states, "Suspended"] : states;
}

/**
 * xapi_vm_lifecycle.check_op_for_feature for changing_VCPUs_live: implicit support when the VM is not live,
 * has booted PV (VM_metrics.current_domain_type) or has PV drivers of a known version; otherwise the guest
 * must advertise feature-vcpu-hotplug=1.
 */
function canHotplugVcpus(x: Xapi, vm: Row): boolean {
  if (vm.power_state !== "Running" && vm.power_state !== "Paused") return true;
  const current = x.store.tryGet("VM_metrics", vm.metrics)?.current_domain_type;
  if (current === "pv" || current === "pv_in_pvh" || current === "pvh") return true;
  const gm = x.store.tryGet("VM_guest_metrics", vm.guest_metrics);
  if (pvDriversKnown(gm)) return true;
  return (gm?.other as Record<string, string> | undefined)?.["feature-vcpu-hotplug"] === "1";
}

export function assertVmOperation(x: Xapi, ref: string, op: string): void {
  const e = vmOperationError(x, ref, op);
  if (e) throw new XapiError(e.code, e.params);
}

export function vmAllowed(x: Xapi, ref: string): string[] {
  return VM_ADVERTISED.filter((op) => !vmOperationError(x, ref, op));
}

export function refreshVm(x: Xapi, ref: string): void {
  if (!x.store.has("VM", ref)) return;
  const next = vmAllowed(x, ref);
  const vm = x.store.get("VM", ref);
  if (!sameSet(next, vm.allowed_operations as string[])) x.store.set("VM", ref, "allowed_operations", next);
  for (const vbd of vm.VBDs as string[]) refreshVbd(x, vbd);
  for (const vif of vm.VIFs as string[]) refreshVif(x, vif);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Runs `fn` as operation `op` on the VM: checked, listed in current_operations, conflicting ops refused meanwhile. */
export async function withVmOperation<T>(
  x: Xapi,
  ctx: CallCtx,
  ref: string,
  op: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  assertVmOperation(x, ref, op);
  const key = ctx.task ?? `OpaqueRef:${ctx.session.slice(10, 18)}-sync-${op}`;
  const vm = x.store.get("VM", ref);
  x.store.set("VM", ref, "current_operations", { ...(vm.current_operations as object), [key]: op });
  refreshVm(x, ref);
  try {
    setCancellable(x, ctx.task);
    await x.sleep(x.opts.operationDelayMs);
    // A cancellation requested meanwhile stops the operation before it changes anything.
    checkCancelled(x, ctx.task);
    return await fn();
  } finally {
    const now = x.store.tryGet("VM", ref);
    if (now) {
      const ops = { ...(now.current_operations as Record<string, string>) };
      delete ops[key];
      x.store.set("VM", ref, "current_operations", ops);
      refreshVm(x, ref);
    }
  }
}

// ---------------------------------------------------------------- VBD, VIF, VDI, SR

export function refreshVbd(x: Xapi, ref: string): void {
  const vbd = x.store.tryGet("VBD", ref);
  if (!vbd) return;
  const vm = x.store.tryGet("VM", vbd.VM);
  const ops: string[] = [];
  const running = vm?.power_state === "Running";
  if (vbd.type === "CD" && vm?.power_state !== "Suspended") ops.push(vbd.empty ? "insert" : "eject");
  if (running) {
    if (vbd.currently_attached) {
      if (vbd.unpluggable) ops.push("unplug", "unplug_force");
    } else ops.push("plug");
  }
  ops.push("attach");
  if (!sameSet(ops, vbd.allowed_operations as string[])) x.store.set("VBD", ref, "allowed_operations", ops);
}

export function refreshVif(x: Xapi, ref: string): void {
  const vif = x.store.tryGet("VIF", ref);
  if (!vif) return;
  const vm = x.store.tryGet("VM", vif.VM);
  const ops = ["attach"];
  if (vm?.power_state === "Running") ops.push(vif.currently_attached ? "unplug" : "plug");
  if (!sameSet(ops, vif.allowed_operations as string[])) x.store.set("VIF", ref, "allowed_operations", ops);
}

export function vdiAttached(x: Xapi, vdi: Row): boolean {
  return (vdi.VBDs as string[]).some((b) => {
    const vbd = x.store.tryGet("VBD", b);
    return !!vbd && (vbd.currently_attached as boolean);
  });
}

export function refreshVdi(x: Xapi, ref: string): void {
  const vdi = x.store.tryGet("VDI", ref);
  if (!vdi) return;
  const sr = x.store.tryGet("SR", vdi.SR);
  const caps = new Set(DRIVERS.get(String(sr?.type))?.capabilities ?? []);
  const attached = vdiAttached(x, vdi);
  const ops: string[] = [];
  if (caps.has("VDI_CLONE")) ops.push("clone");
  if (caps.has("VDI_SNAPSHOT") && !vdi.sharable) ops.push("snapshot");
  if (!attached) {
    ops.push("copy", "forget", "update", "generate_config");
    if (caps.has("VDI_DELETE") && vdi.managed) ops.push("destroy");
    if (caps.has("VDI_RESIZE") && !vdi.read_only) ops.push("resize");
    if (caps.has("VDI_MIRROR")) ops.push("mirror");
    ops.push("force_unlock");
  }
  if (caps.has("VDI_RESIZE_ONLINE") && attached) ops.push("resize_online");
  if (!sameSet(ops, vdi.allowed_operations as string[])) x.store.set("VDI", ref, "allowed_operations", ops);
}

export function srAttached(x: Xapi, sr: Row): boolean {
  return (sr.PBDs as string[]).some((p) => x.store.tryGet("PBD", p)?.currently_attached === true);
}

export function refreshSr(x: Xapi, ref: string): void {
  const sr = x.store.tryGet("SR", ref);
  if (!sr) return;
  const caps = new Set(DRIVERS.get(String(sr.type))?.capabilities ?? []);
  const attached = srAttached(x, sr);
  const ops: string[] = ["pbd_create", "pbd_destroy"];
  if (attached) {
    ops.push("unplug", "scan", "update", "vdi_introduce");
    if (caps.has("VDI_CREATE")) ops.push("vdi_create");
    if (caps.has("VDI_DELETE")) ops.push("vdi_destroy");
    if (caps.has("VDI_RESIZE")) ops.push("vdi_resize");
    if (caps.has("VDI_CLONE")) ops.push("vdi_clone");
    if (caps.has("VDI_SNAPSHOT")) ops.push("vdi_snapshot");
    if (caps.has("VDI_MIRROR")) ops.push("vdi_mirror");
  } else {
    ops.push("plug", "forget");
    if ((sr.PBDs as string[]).length > 0 && (sr.VDIs as string[]).length === 0) ops.push("destroy");
  }
  if (!sameSet(ops, sr.allowed_operations as string[])) x.store.set("SR", ref, "allowed_operations", ops);
}

export function refreshAllowedOperations(x: Xapi): void {
  for (const ref of x.store.table("VM").keys()) refreshVm(x, ref);
  for (const ref of x.store.table("VDI").keys()) refreshVdi(x, ref);
  for (const ref of x.store.table("SR").keys()) refreshSr(x, ref);
}
