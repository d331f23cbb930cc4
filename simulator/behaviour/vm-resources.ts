/** Memory and VCPU settings (docs/xapi-semantics.md §6.9.3; vm_memory_constraints.ml, xapi_vm.ml). */
import { fail } from "../engine/errors";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { hostAvailableForStart, memoryOverhead, refreshHostMemory } from "./host";
import { op } from "./vm-common";

function assertOrder(smin: number, dmin: number, dmax: number, smax: number): void {
  if (!(smin <= dmin && dmin <= dmax && dmax <= smax)) fail("MEMORY_CONSTRAINT_VIOLATION_ORDER");
}

const VCPU_RULE = "VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max";

function mem(vm: Row): [number, number, number, number] {
  return [vm.memory_static_min, vm.memory_dynamic_min, vm.memory_dynamic_max, vm.memory_static_max] as [
    number,
    number,
    number,
    number,
  ];
}

function setMem(x: Xapi, ref: string, [smin, dmin, dmax, smax]: number[]): void {
  assertOrder(smin, dmin, dmax, smax);
  x.store.update("VM", ref, {
    memory_static_min: smin,
    memory_dynamic_min: dmin,
    memory_dynamic_max: dmax,
    memory_static_max: smax,
  });
  const vm = x.store.get("VM", ref);
  x.store.set("VM", ref, "memory_overhead", memoryOverhead(vm));
  if (x.store.has("host", vm.resident_on)) refreshHostMemory(x, vm.resident_on as string);
}

/**
 * VM.set_memory_dynamic_range (message_forwarding.ml reserve_memory_for_dynamic_change, xapi_vm.ml
 * set_memory_dynamic_range). On a running VM a higher dynamic_min must fit in the host's memory with every
 * guest ballooned down (HOST_NOT_ENOUGH_FREE_MEMORY [needed, available] in KiB there, unlike VM.start's bytes);
 * then the order is checked, memory_target is set to the new dynamic_min and xenopsd balloons the guest.
 */
function setDynamicRange(x: Xapi, ref: string, min: number, max: number): void {
  const vm = x.store.get("VM", ref);
  const host = vm.resident_on as string;
  const running = vm.power_state === "Running";
  if (running) {
    const available = hostAvailableForStart(x, host);
    const change = (vm.memory_dynamic_min as number) - min;
    if (available + change < 0)
      fail("HOST_NOT_ENOUGH_FREE_MEMORY", String(Math.trunc(-change / 1024)), String(Math.trunc(available / 1024)));
  }
  assertOrder(vm.memory_static_min as number, min, max, vm.memory_static_max as number);
  x.store.update("VM", ref, { memory_target: min, memory_dynamic_min: min, memory_dynamic_max: max });
  if (running) balloon(x, ref);
}

/**
 * The balloon target xenopsd reports back (xapi_xenops.ml update_vm copies it into memory_target), with
 * memory_actual following it. [UNSURE] squeezed's sharing-out is simplified: the guest gets as much of
 * [dynamic_min, dynamic_max] as the host's memory (every other guest at its dynamic_min) allows.
 */
function balloon(x: Xapi, ref: string): void {
  const vm = x.store.get("VM", ref);
  const min = vm.memory_dynamic_min as number;
  const spare = hostAvailableForStart(x, vm.resident_on as string);
  const target = Math.max(min, Math.min(vm.memory_dynamic_max as number, min + spare));
  x.store.set("VM", ref, "memory_target", target);
  if (x.store.has("VM_metrics", vm.metrics)) x.store.set("VM_metrics", vm.metrics as string, "memory_actual", target);
  refreshHostMemory(x, vm.resident_on as string);
}

export function register(x: Xapi): void {
  op(x, "set_memory_limits", "changing_memory_limits", (xx, _ctx, ref, [smin, smax, dmin, dmax]) =>
    setMem(xx, ref, [smin, dmin, dmax, smax] as number[]),
  );
  op(x, "set_memory", "changing_memory_limits", (xx, _ctx, ref, [v]) => {
    const [smin] = mem(xx.store.get("VM", ref));
    setMem(xx, ref, [smin, v, v, v] as number[]);
  });
  op(x, "set_memory_static_range", "changing_static_range", (xx, _ctx, ref, [min, max]) => {
    const [, dmin, dmax] = mem(xx.store.get("VM", ref));
    setMem(xx, ref, [min as number, dmin, dmax, max as number]);
  });
  // message_forwarding.ml: set_memory_dynamic_min/max are set_memory_dynamic_range with the other bound kept.
  op(x, "set_memory_dynamic_range", "changing_dynamic_range", (xx, _ctx, ref, [min, max]) =>
    setDynamicRange(xx, ref, min as number, max as number),
  );
  op(x, "set_memory_dynamic_min", "changing_dynamic_range", (xx, _ctx, ref, [v]) =>
    setDynamicRange(xx, ref, v as number, xx.store.get("VM", ref).memory_dynamic_max as number),
  );
  op(x, "set_memory_dynamic_max", "changing_dynamic_range", (xx, _ctx, ref, [v]) =>
    setDynamicRange(xx, ref, xx.store.get("VM", ref).memory_dynamic_min as number, v as number),
  );
  const one = (name: string, operation: string, idx: number) =>
    op(x, name, operation, (xx, _ctx, ref, [v]) => {
      const m = mem(xx.store.get("VM", ref));
      m[idx] = v as number;
      setMem(xx, ref, m);
    });
  one("set_memory_static_min", "changing_static_range", 0);
  one("set_memory_static_max", "changing_static_range", 3);
  op(x, "set_VCPUs_max", "changing_VCPUs", (xx, _ctx, ref, [v]) => {
    const vm = xx.store.get("VM", ref);
    if ((v as number) < 1 || (v as number) < (vm.VCPUs_at_startup as number))
      fail("INVALID_VALUE", VCPU_RULE, String(v));
    xx.store.set("VM", ref, "VCPUs_max", v);
    xx.store.set("VM", ref, "memory_overhead", memoryOverhead(xx.store.get("VM", ref)));
  });
  x.on("VM.set_VCPUs_at_startup", (xx, _ctx, [ref, v]) => {
    const vm = xx.store.get("VM", ref);
    if ((v as number) < 1 || (v as number) > (vm.VCPUs_max as number)) fail("INVALID_VALUE", VCPU_RULE, String(v));
    xx.store.set("VM", ref as string, "VCPUs_at_startup", v);
  });
  // xapi_vm.ml set_VCPUs_number_live -> xapi_xenops.ml set_vcpus: xenopsd refuses n <= 0 or n > vcpu_max with
  // Invalid_vcpus carrying vcpu_max, and xapi reports that number (not n) in INVALID_VALUE.
  op(x, "set_VCPUs_number_live", "changing_VCPUs_live", (xx, _ctx, ref, [n]) => {
    const vm = xx.store.get("VM", ref);
    const max = vm.VCPUs_max as number;
    if ((n as number) <= 0 || (n as number) > max)
      fail("INVALID_VALUE", "VCPU values must satisfy: 0 < VCPUs ≤ VCPUs_max", String(max));
    xx.store.set("VM", ref, "VCPUs_at_startup", n);
    if (xx.store.has("VM_metrics", vm.metrics)) xx.store.set("VM_metrics", vm.metrics as string, "VCPUs_number", n);
    xx.store.set("VM", ref, "memory_overhead", memoryOverhead(xx.store.get("VM", ref)));
  });
}
