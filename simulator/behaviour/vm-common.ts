/** Helpers shared by the VM modules. */
import { fail } from "../engine/errors";
import { EPOCH, NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { CallCtx, Xapi } from "../engine/xapi";
import { refreshVm, withVmOperation } from "./allowed-ops";

export function lc(s: unknown): string {
  return String(s).toLowerCase();
}

export function newVmMetrics(x: Xapi, vm: Row): string {
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

export function deriveDomainType(r: Row): string {
  if (r.domain_type && r.domain_type !== "unspecified") return r.domain_type as string;
  return r.HVM_boot_policy ? "hvm" : "pv";
}

export type VmOp = (x: Xapi, ctx: CallCtx, ref: string, args: unknown[]) => unknown;

export function op(x: Xapi, name: string, operation: string, fn: VmOp): void {
  x.on(`VM.${name}`, (xx, ctx, args) => {
    const ref = args[0] as string;
    xx.store.get("VM", ref);
    return withVmOperation(xx, ctx, ref, operation, () => fn(xx, ctx, ref, args.slice(1)));
  });
}

/**
 * xapi_vm_helpers.set_is_a_template: a template loses its VM_metrics and ha_always_run; leaving template
 * status is "install time" (VM_metrics.install_time; the simulator also gives metrics to a VM without any).
 */
export function setIsATemplate(x: Xapi, ref: string, value: boolean): void {
  const vm = x.store.get("VM", ref);
  if (value) {
    if (vm.power_state !== "Halted") fail("VM_BAD_POWER_STATE", ref, "halted", lc(vm.power_state));
    if (x.store.has("VM_metrics", vm.metrics)) x.store.destroy("VM_metrics", vm.metrics as string);
    x.store.update("VM", ref, { is_a_template: true, metrics: NULL_REF, ha_always_run: false });
  } else {
    const metrics = x.store.has("VM_metrics", vm.metrics) ? (vm.metrics as string) : newVmMetrics(x, vm);
    x.store.set("VM_metrics", metrics, "install_time", nowDatetime());
    x.store.update("VM", ref, { is_a_template: false, metrics });
  }
  refreshVm(x, ref);
}
