/**
 * Compile-time checks of the typed call surface (checked by `tsc`, which `npm test` runs; not a jest suite).
 * Each `@ts-expect-error` line must fail to compile, each other line must compile.
 */
import type { Ref, VMRecord, WatchEvent, XapiClient } from "../../../provider/xapi";

export async function typedCalls(
  c: XapiClient,
  plain: string,
  vm: Ref<"VM">,
  vdi: Ref<"VDI">,
  cls: string,
): Promise<void> {
  const rec: VMRecord = await c.call("VM.get_record", vm); // typed result without a type argument
  const vcpus: number = rec.VCPUs_max;
  const fromPlain: VMRecord = await c.call("VM.get_record", plain); // plain strings are accepted as refs
  const explicit = await c.call<VMRecord>("VM.get_record", plain); // explicit result type: the contract's form
  const dynamic: unknown = await c.call(`${cls}.get_record`, plain); // computed names stay untyped
  const outside: unknown = await c.call("VM.not_in_the_datamodel", 1);
  // @ts-expect-error a VDI ref where a VM ref is expected
  await c.call("VM.get_record", vdi);
  // @ts-expect-error a number where the datamodel says string
  await c.call("VM.set_name_label", vm, 3);
  // @ts-expect-error a missing argument
  await c.call("VM.set_name_label", vm);
  const clone: Ref<"VM"> = await c.callAsync("VM.clone", [vm, "copy"]); // typed task result
  const sr = await c.callAsync<string>("SR.create", [plain, {}, 0, "n", "d", "ext", "user", false, {}]);
  // @ts-expect-error VM.clone takes a VM ref and a name
  await c.callAsync("VM.clone", [vdi, "copy"]);
  void [vcpus, fromPlain, explicit, dynamic, outside, clone, sr];
}

export function typedWatch(c: XapiClient): void {
  const all: WatchEvent[] = [];
  c.watch(["VM", "VDI"], (ev) => {
    all.push(ev); // a class-typed event is still a WatchEvent
    if (ev.kind === "synced") return;
    if (ev.class === "VM" && ev.kind !== "del") {
      const memory: number = ev.record.memory_static_max; // narrowed to VMRecord
      void memory;
    }
    if (ev.class === "VDI" && ev.kind !== "del") {
      // @ts-expect-error a VDI record has no memory_static_max
      void ev.record.memory_static_max;
    }
  });
}
