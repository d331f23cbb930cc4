/** VM records: create, destroy, the template flag and device queries (docs/xapi-semantics.md §6.9.1; xapi_vm.ml). */
import { randomUUID } from "crypto";
import { fail } from "../engine/errors";
import { NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { assertVmOperation, refreshVdi, refreshVm } from "./allowed-ops";
import { memoryOverhead } from "./host";
import { destroyVifRecord } from "./network";
import { destroyVbdRecord } from "./sr";
import { deviceNumber } from "./vbd";
import { lc, newVmMetrics, setIsATemplate } from "./vm-common";
import { addToMap } from "../engine/generic";
import * as power from "./vm-power";
import * as shutdown from "./vm-shutdown";
import * as copies from "./vm-copies";
import * as resources from "./vm-resources";

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
  if ((vm.other_config as Record<string, string>).default_template === "true" && !vm.is_default_template)
    fail("VM_CANNOT_DELETE_DEFAULT_TEMPLATE");
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
  s.destroy("VM", ref);
}

export function register(x: Xapi): void {
  x.on("VM.create", (xx, _ctx, [rec]) => createVm(xx, rec as Row));
  x.on("VM.destroy", (xx, _ctx, [self]) => destroyVm(xx, self as string));
  // Custom in xapi (xapi_vm.ml): blocking or unblocking an operation recomputes allowed_operations.
  x.on(
    "VM.set_blocked_operations",
    (xx, _ctx, [ref, value]) => (
      xx.store.get("VM", ref),
      xx.store.set("VM", ref as string, "blocked_operations", value),
      refreshVm(xx, ref as string)
    ),
  );
  x.on(
    "VM.add_to_blocked_operations",
    (xx, _ctx, [ref, key, value]) => (
      addToMap(xx, "VM", ref as string, "blocked_operations", key as string, value),
      refreshVm(xx, ref as string)
    ),
  );
  x.on("VM.remove_from_blocked_operations", (xx, _ctx, [ref, key]) => {
    const ops = { ...(xx.store.get("VM", ref).blocked_operations as Record<string, string>) };
    delete ops[key as string];
    xx.store.set("VM", ref as string, "blocked_operations", ops);
    refreshVm(xx, ref as string);
  });
  power.register(x);
  shutdown.register(x);
  copies.register(x);
  resources.register(x);
  x.on("VM.set_is_a_template", (xx, _ctx, [ref, v]) => setIsATemplate(xx, ref as string, v as boolean));
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
    return Array.from({ length: 255 }, (_, i) => i)
      .filter((i) => !used.has(i))
      .map(String);
  });
  x.on("VM.get_allowed_VIF_devices", (xx, _ctx, [ref]) => {
    const vm = xx.store.get("VM", ref);
    const used = new Set((vm.VIFs as string[]).map((v) => String(xx.store.get("VIF", v).device)));
    return Array.from({ length: 16 }, (_, i) => String(i)).filter((d) => !used.has(d));
  });
  x.on("VM.assert_operation_valid", (xx, _ctx, [ref, operation]) =>
    assertVmOperation(xx, ref as string, operation as string),
  );
  x.on("VM.update_allowed_operations", (xx, _ctx, [ref]) => (xx.store.get("VM", ref), refreshVm(xx, ref as string)));
  x.on("VM.get_boot_record", (xx, _ctx, [ref]) => xx.store.get("VM", ref));
  x.on("VM.compute_memory_overhead", (xx, _ctx, [ref]) => memoryOverhead(xx.store.get("VM", ref)));
}
