/** VM placement and power states (docs/xapi-semantics.md §6.9.2; xapi_vm.ml, xapi_vm_helpers.ml, xapi_vm_lifecycle.ml). */
import { fail } from "../engine/errors";
import { NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";
import { refreshVbd, refreshVdi, refreshVif } from "./allowed-ops";
import { requestShutdown } from "./guest-requests";
import { scheduleGuestMetrics, clearGuestMetrics, guestUnpaused } from "./guest-metrics";
import { refreshHostMemory } from "./host";
import { bootError, chooseHost, prepareStart } from "./vm-boot-checks";
import { createSuspendImage } from "./vm-suspend";
import { createConsole, destroyConsoles } from "./console";
import { createMessage } from "./pool";
import { deviceName, deviceNumber } from "./vbd";
import { destroyVdi } from "./vdi";
import { lc, deriveDomainType, op, VmOp } from "./vm-common";

let nextDomid = 1;

export function boot(x: Xapi, ref: string, host: string, paused: boolean): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  const domainType = deriveDomainType(vm);
  clearGuestMetrics(x, ref);
  s.update("VM", ref, {
    power_state: paused ? "Paused" : "Running",
    resident_on: host,
    scheduled_to_be_resident_on: NULL_REF,
    domid: nextDomid++,
    domain_type: domainType,
    memory_target: vm.memory_dynamic_max,
    last_boot_CPU_flags: {
      vendor: "GenuineIntel",
      features:
        "1fcbfbff-f7fa3223-2d93fbff-00000023-00000001-000007ab-00000000-00000000-00001000-9c000400-00000000-00000000-00000000-00000000-00000000",
    },
  });
  attachDevices(x, ref, true);
  createConsole(x, ref, host);
  if (s.has("VM_metrics", vm.metrics)) {
    s.update("VM_metrics", vm.metrics as string, {
      start_time: nowDatetime(),
      memory_actual: vm.memory_dynamic_max,
      VCPUs_number: vm.VCPUs_at_startup,
      state: [],
      current_domain_type: domainType,
      hvm: domainType === "hvm",
      last_updated: nowDatetime(),
    });
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
    const patch: Row = { currently_attached: attached };
    if (attached) patch.device = deviceName(deviceNumber(String(vbd.userdevice)) ?? 0);
    s.update("VBD", b, patch);
    refreshVbd(x, b);
    if (s.has("VDI", vbd.VDI)) refreshVdi(x, vbd.VDI as string);
  }
  for (const v of vm.VIFs as string[]) {
    s.update("VIF", v, { currently_attached: attached });
    refreshVif(x, v);
  }
}

/** The state every stop path ends in (xapi_vm_lifecycle.force_state_reset, which leaves guest_metrics alone). */
export function halt(x: Xapi, ref: string): void {
  const s = x.store;
  const vm = s.get("VM", ref);
  const host = vm.resident_on as string;
  if (vm.power_state === "Suspended" && s.has("VDI", vm.suspend_VDI)) {
    const sv = vm.suspend_VDI as string;
    s.set("VM", ref, "suspend_VDI", NULL_REF);
    destroyVdi(x, sv);
  }
  s.update("VM", ref, {
    power_state: "Halted",
    resident_on: NULL_REF,
    scheduled_to_be_resident_on: NULL_REF,
    domid: -1,
  });
  attachDevices(x, ref, false);
  destroyConsoles(x, ref);
  if (s.has("VM_metrics", vm.metrics))
    s.update("VM_metrics", vm.metrics as string, { memory_actual: 0, VCPUs_number: 0, state: [] });
  if (s.has("host", host)) refreshHostMemory(x, host);
}

/** The domain restarts in place: devices re-attached, a new domid, the guest boots again. */
export function rebootDomain(x: Xapi, ref: string): void {
  const vm = x.store.get("VM", ref);
  const host = vm.resident_on as string;
  attachDevices(x, ref, false);
  clearGuestMetrics(x, ref);
  x.store.update("VM", ref, { power_state: "Running", domid: nextDomid++ });
  attachDevices(x, ref, true);
  if (x.store.has("VM_metrics", vm.metrics))
    x.store.set("VM_metrics", vm.metrics as string, "start_time", nowDatetime());
  refreshHostMemory(x, host);
  scheduleGuestMetrics(x, ref);
}

export function register(x: Xapi): void {
  op(x, "start", "start", (xx, _ctx, ref, [paused]) => {
    const host = chooseHost(xx, ref);
    prepareStart(xx, ref);
    boot(xx, ref, host, paused as boolean);
  });
  op(x, "start_on", "start_on", (xx, _ctx, ref, [host, paused]) => {
    xx.store.get("host", host);
    const e = bootError(xx, ref, host as string, true);
    if (e) throw e;
    prepareStart(xx, ref);
    boot(xx, ref, host as string, paused as boolean);
  });
  // clean_shutdown, hard_shutdown, shutdown, clean_reboot and hard_reboot: vm-shutdown.ts.
  op(x, "power_state_reset", "power_state_reset", (xx, _ctx, ref) => halt(xx, ref));
  op(x, "pause", "pause", (xx, _ctx, ref) => xx.store.set("VM", ref, "power_state", "Paused"));
  op(x, "unpause", "unpause", (xx, _ctx, ref) => {
    xx.store.set("VM", ref, "power_state", "Running");
    guestUnpaused(xx, ref);
  });
  op(x, "suspend", "suspend", async (xx, ctx, ref) => {
    // xapi_xenops.ml suspend: the image is made and recorded before the guest is asked; a failed suspend
    // destroys it again.
    const vdi = createSuspendImage(xx, ref);
    xx.store.set("VM", ref, "suspend_VDI", vdi);
    try {
      await requestShutdown(xx, ctx, ref, "suspend", xx.opts.suspendTimeoutMs / 1000, "suspend");
    } catch (e) {
      if (xx.store.has("VM", ref)) xx.store.set("VM", ref, "suspend_VDI", NULL_REF);
      if (xx.store.has("VDI", vdi)) destroyVdi(xx, vdi);
      throw e;
    }
    const vm = xx.store.get("VM", ref);
    const host = vm.resident_on as string;
    clearGuestMetrics(xx, ref);
    xx.store.update("VM", ref, { power_state: "Suspended", resident_on: NULL_REF, domid: -1, suspend_VDI: vdi });
    destroyConsoles(xx, ref);
    refreshHostMemory(xx, host);
  });
  const resume: VmOp = (xx, _ctx, ref, [paused]) => {
    const vm = xx.store.get("VM", ref);
    const host = chooseHost(xx, ref);
    const sv = vm.suspend_VDI as string;
    xx.store.update("VM", ref, {
      power_state: paused ? "Paused" : "Running",
      resident_on: host,
      domid: nextDomid++,
      suspend_VDI: NULL_REF,
    });
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
  // xapi_vm.ml set_memory_target_live does nothing ("Use set_memory_dynamic_range instead").
  op(x, "set_memory_target_live", "changing_memory_live", () => undefined);
  const running = (name: string) =>
    x.on(`VM.${name}`, (xx, _ctx, [ref]) => {
      const vm = xx.store.get("VM", ref);
      if (vm.power_state !== "Running") fail("VM_BAD_POWER_STATE", ref as string, "running", lc(vm.power_state));
    });
  running("send_sysrq");
  running("send_trigger");
  x.on("VM.get_cooperative", (xx, _ctx, [ref]) => (xx.store.get("VM", ref), true));
  x.on("VM.assert_can_boot_here", (xx, _ctx, [ref, host]) => {
    xx.store.get("VM", ref);
    xx.store.get("host", host);
    const e = bootError(xx, ref as string, host as string, true);
    if (e) throw e;
  });
  x.on("VM.get_possible_hosts", (xx, _ctx, [ref]) => {
    xx.store.get("VM", ref);
    return [...xx.store.table("host").keys()].filter((h) => !bootError(xx, ref as string, h, true));
  });
}
