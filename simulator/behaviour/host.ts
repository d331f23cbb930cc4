/** host and host memory accounting (docs/xapi-semantics.md §6.2, §6.9.2 memory checks). */
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";
import { MiB } from "./units";

/**
 * Memory a domain needs beyond its own: memory_check.vm_compute_memory_overhead with xapi-idl's memory
 * models (HVM/PVH, Linux PV, PV-in-PVH): extra MiBs, shadow pages, per-vCPU pages and the PVH shim.
 */
export function memoryOverhead(vm: Row): number {
  const staticMaxMib = Math.ceil((vm.memory_static_max as number) / MiB);
  const vcpus = Math.max(0, vm.VCPUs_max as number);
  const multiplier = (vm.HVM_shadow_multiplier as number) || 1;
  const type = vm.domain_type === "unspecified" ? (vm.HVM_boot_policy ? "hvm" : "pv") : vm.domain_type;
  const [internal, external, shim] =
    type === "pv" ? [0, 1, 0] : type === "pv_in_pvh" ? [1, 1, 23 + Math.floor(staticMaxMib / 90)] : [1, 1, 0];
  const mibOfPages = (pages: number) => Math.ceil(pages / 256);
  const shadow = Math.max(1, Math.floor(mibOfPages(256 * vcpus + 2 * staticMaxMib) * multiplier));
  return (internal + external + shadow + mibOfPages(38 * vcpus) + shim) * MiB;
}

/** What a running VM occupies now: its balloon target (memory_target, as xenopsd reports it) plus overhead. */
export function vmFootprint(vm: Row): number {
  return ((vm.memory_target as number) || (vm.memory_dynamic_max as number)) + memoryOverhead(vm);
}

/**
 * Memory a VM needs to start (xapi_vm_helpers.assert_enough_memory_available): dynamic_min plus overhead,
 * or static_max for pv_in_pvh guests.
 */
export function vmStartMemory(vm: Row): number {
  const guest = (vm.domain_type === "pv_in_pvh" ? vm.memory_static_max : vm.memory_dynamic_min) as number;
  // memory_check.vm_compute_required_memory counts the guest in whole MiB (Memory.mib_of_kib_used rounds up).
  return Math.ceil(guest / MiB) * MiB + memoryOverhead(vm);
}

function hostTotal(x: Xapi, h: Row): number {
  return (x.store.tryGet("host_metrics", h.metrics)?.memory_total as number) ?? 0;
}

/** Free memory as host_metrics reports it: every resident domain at its current size. */
export function hostFreeMemory(x: Xapi, host: string): number {
  const h = x.store.get("host", host);
  let free = hostTotal(x, h);
  for (const v of h.resident_VMs as string[]) {
    const vm = x.store.get("VM", v);
    free -= vm.is_control_domain ? (vm.memory_dynamic_max as number) : vmFootprint(vm);
  }
  // Ballooning (squeezed) keeps guests within the host: targets shrink towards dynamic_min.
  return Math.max(0, free);
}

/**
 * Memory available for a new VM "with maximum compression" (memory_check.ml): every resident VM
 * ballooned down to dynamic_min.
 */
export function hostAvailableForStart(x: Xapi, host: string): number {
  const h = x.store.get("host", host);
  let free = hostTotal(x, h);
  for (const v of h.resident_VMs as string[]) {
    const vm = x.store.get("VM", v);
    free -= vm.is_control_domain
      ? (vm.memory_dynamic_max as number)
      : (vm.memory_dynamic_min as number) + memoryOverhead(vm);
  }
  return free;
}

export function refreshHostMemory(x: Xapi, host: string): void {
  const h = x.store.tryGet("host", host);
  if (!h || !x.store.has("host_metrics", h.metrics)) return;
  x.store.update("host_metrics", h.metrics as string, {
    memory_free: hostFreeMemory(x, host),
    last_updated: nowDatetime(),
  });
}

export function register(x: Xapi): void {
  x.on("host.compute_free_memory", (xx, _ctx, [host]) => hostAvailableForStart(xx, host as string));
  x.on("host.compute_memory_overhead", (xx, _ctx, [host]) => (xx.store.get("host", host), 96 * MiB));
  x.on("host.get_servertime", (xx, _ctx, [host]) => (xx.store.get("host", host), nowDatetime()));
  x.on("host.get_server_localtime", (xx, _ctx, [host]) => (xx.store.get("host", host), nowDatetime().slice(0, -1)));
  x.on("host.get_management_interface", (xx, _ctx, [host]) => {
    const h = xx.store.get("host", host);
    return (h.PIFs as string[]).find((p) => xx.store.get("PIF", p).management) ?? "OpaqueRef:NULL";
  });
  x.on(
    "host.enable",
    (xx, _ctx, [host]) => (xx.store.get("host", host), xx.store.set("host", host as string, "enabled", true)),
  );
  x.on(
    "host.disable",
    (xx, _ctx, [host]) => (xx.store.get("host", host), xx.store.set("host", host as string, "enabled", false)),
  );
  x.on(
    "host.get_system_status_capabilities",
    () => '<?xml version="1.0" ?><system-status-capabilities></system-status-capabilities>',
  );
  x.on("host.call_plugin", (_xx, ctx, [, plugin, fn]) => {
    void ctx;
    return `${String(plugin)}.${String(fn)}: not available in the simulator`;
  });
}
