// The VM record's own settings: names, owned maps and tags, HA and ordering, CPU and memory, firmware.
// `running`: what may change on a running VM is applied live; the rest waits for a halted VM (update() halts
// it first when a cold change needs that).
import type { Xapi } from "../common/connection";
import { convergeOwnedFields, convergeOwnedMap } from "../common/convergence";
import type { Inputs, Outputs } from "./inputs";
import { refOfUuid } from "./devices";
import { firmwareOf } from "./live";
import { NULL_REF, type VMRecord } from "./records";

type Previous = Partial<Pick<Outputs, "otherConfig" | "xenstoreData" | "platform" | "blockedOperations" | "tags">>;

export async function applySettings(
  xapi: Xapi,
  ref: string,
  vm: VMRecord,
  n: Inputs,
  previous: Previous,
): Promise<void> {
  const owned = (k: keyof Previous) => Object.keys((previous[k] as Record<string, string> | undefined) ?? {});
  await convergeOwnedFields(xapi, "VM", ref, vm, n, {
    otherConfig: previous.otherConfig ?? {},
    tags: previous.tags ?? [],
  });
  // An adopted VM's unstated maps are undefined: owning no key changes nothing.
  await convergeOwnedMap(
    xapi,
    "VM",
    ref,
    "xenstore_data",
    vm.xenstore_data,
    n.xenstoreData ?? {},
    owned("xenstoreData"),
  );
  // blocked_operations: set_blocked_operations recomputes allowed_operations once (xapi_vm.ml), whatever changes.
  const blocked: Record<string, string> = { ...vm.blocked_operations };
  const wantBlocked = n.blockedOperations ?? {};
  for (const k of owned("blockedOperations")) if (!(k in wantBlocked)) delete blocked[k];
  Object.assign(blocked, wantBlocked);
  if (JSON.stringify(blocked) !== JSON.stringify(vm.blocked_operations))
    await xapi.call("VM.set_blocked_operations", ref, blocked);
  if (n.haRestartPriority !== undefined && vm.ha_restart_priority !== n.haRestartPriority)
    await xapi.call("VM.set_ha_restart_priority", ref, n.haRestartPriority);
  if (n.startDelay !== undefined && Number(vm.start_delay) !== n.startDelay)
    await xapi.call("VM.set_start_delay", ref, n.startDelay);
  if (n.shutdownDelay !== undefined && Number(vm.shutdown_delay) !== n.shutdownDelay)
    await xapi.call("VM.set_shutdown_delay", ref, n.shutdownDelay);
  if (n.affinityHost !== undefined) {
    const host = await refOfUuid(xapi, "host", n.affinityHost);
    if (host !== vm.affinity) await xapi.call("VM.set_affinity", ref, host ?? NULL_REF);
  }
  if (n.boot?.order !== undefined && vm.HVM_boot_params.order !== n.boot.order)
    await xapi.call("VM.set_HVM_boot_params", ref, { ...vm.HVM_boot_params, order: n.boot.order });
}

/** Platform keys, topology, firmware, static memory and vcpusMax: applied to a halted VM only. */
export async function applyHalted(xapi: Xapi, ref: string, vm: VMRecord, n: Inputs, previous: Previous): Promise<void> {
  const platform: Record<string, string> = { ...(n.platform ?? {}) };
  if (n.coresPerSocket !== undefined) platform["cores-per-socket"] = String(n.coresPerSocket);
  const ownedPlatform = Object.keys(previous.platform ?? {});
  if (n.boot) {
    // Secure Boot follows the firmware the program states; an omitted boot input leaves it as it is.
    if (n.boot.firmware === "uefi-secureboot") platform.secureboot = "true";
    else if (n.boot.firmware === "uefi" && vm.platform.secureboot !== "false") platform.secureboot = "false";
    const firmware = n.boot.firmware === "bios" ? "bios" : "uefi";
    if (vm.HVM_boot_params.firmware !== firmware || firmwareOf(vm) !== n.boot.firmware)
      await xapi.call("VM.set_HVM_boot_params", ref, {
        ...vm.HVM_boot_params,
        firmware,
        ...(n.boot.order !== undefined ? { order: n.boot.order } : {}),
      });
  }
  await convergeOwnedMap(xapi, "VM", ref, "platform", vm.platform, platform, ownedPlatform);
  await applyCpu(xapi, ref, vm, n, false);
  await applyMemory(xapi, ref, vm, n, false);
}

/** vCPUs: VCPUs_max only when halted (raised first when growing); VCPUs_at_startup live through set_VCPUs_number_live. */
export async function applyCpu(xapi: Xapi, ref: string, vm: VMRecord, n: Inputs, running: boolean): Promise<void> {
  const at = Number(vm.VCPUs_at_startup);
  const max = Number(vm.VCPUs_max);
  const wantAt = n.vcpus ?? at;
  const wantMax = n.vcpusMax ?? n.vcpus ?? max;
  if (running) {
    if (wantAt !== at && wantAt <= max) await xapi.call("VM.set_VCPUs_number_live", ref, wantAt);
    return;
  }
  // Order matters (xapi_vm.ml): raise VCPUs_max before VCPUs_at_startup, lower VCPUs_at_startup first.
  if (wantMax > max) await xapi.call("VM.set_VCPUs_max", ref, wantMax);
  if (wantAt !== at) await xapi.call("VM.set_VCPUs_at_startup", ref, wantAt);
  if (wantMax < max) await xapi.call("VM.set_VCPUs_max", ref, wantMax);
}

export async function applyMemory(xapi: Xapi, ref: string, vm: VMRecord, n: Inputs, running: boolean): Promise<void> {
  const m = n.memory;
  if (!m) return;
  const smin = Number(vm.memory_static_min);
  const staticMin = m.staticMin ?? Math.min(smin, m.dynamicMin);
  if (running) {
    if (Number(vm.memory_dynamic_min) !== m.dynamicMin || Number(vm.memory_dynamic_max) !== m.dynamicMax)
      await xapi.call("VM.set_memory_dynamic_range", ref, m.dynamicMin, m.dynamicMax);
    return;
  }
  const now = [smin, Number(vm.memory_static_max), Number(vm.memory_dynamic_min), Number(vm.memory_dynamic_max)];
  const want = [staticMin, m.staticMax, m.dynamicMin, m.dynamicMax];
  if (now.some((v, i) => v !== want[i]))
    await xapi.call("VM.set_memory_limits", ref, want[0], want[1], want[2], want[3]);
}
