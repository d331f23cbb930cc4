/** Memory and VCPU settings (SEMANTICS §6.9.3; vm_memory_constraints.ml, xapi_vm.ml). */
import { fail } from "../engine/errors";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { memoryOverhead, refreshHostMemory } from "./host";
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
  op(x, "set_VCPUs_number_live", "changing_VCPUs_live", (xx, _ctx, ref, [n]) => {
    const vm = xx.store.get("VM", ref);
    if ((n as number) < 1 || (n as number) > (vm.VCPUs_max as number)) fail("INVALID_VALUE", VCPU_RULE, String(n));
    xx.store.set("VM", ref, "VCPUs_at_startup", n);
    if (xx.store.has("VM_metrics", vm.metrics)) xx.store.set("VM_metrics", vm.metrics as string, "VCPUs_number", n);
  });
}
