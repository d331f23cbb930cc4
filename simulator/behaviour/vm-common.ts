/** Helpers shared by the VM modules. */
import { EPOCH } from "../engine/datamodel";
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { CallCtx, Xapi } from "../engine/xapi";
import { withVmOperation } from "./allowed-ops";

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
