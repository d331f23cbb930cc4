/** Where and how big a VM's suspend image is (helpers.ml choose_suspend_sr, xapi_xenops.ml suspend). */
import { XapiError } from "../engine/errors";
import { Xapi } from "../engine/xapi";
import { MiB } from "./units";
import { newVdi } from "./vdi";

/**
 * helpers.ml choose_suspend_sr: VM.suspend_SR, then the pool's suspend_image_SR, then the resident host's
 * suspend_image_sr, each only if that host has a PBD for it (host_has_pbd_for_sr); else VM_NO_SUSPEND_SR [vm].
 */
export function chooseSuspendSR(x: Xapi, ref: string): string {
  const s = x.store;
  const vm = s.get("VM", ref);
  const host = vm.resident_on as string;
  const pool = s.get("pool", x.poolRef());
  const hostSr = s.tryGet("host", host)?.suspend_image_sr;
  const visible = (sr: unknown) =>
    s.has("SR", sr) && (s.get("SR", sr).PBDs as string[]).some((p) => s.tryGet("PBD", p)?.host === host);
  const sr = [vm.suspend_SR, pool.suspend_image_SR, hostSr].find(visible);
  if (sr === undefined) throw new XapiError("VM_NO_SUSPEND_SR", [ref]);
  return sr as string;
}

/** xapi_xenops.ml suspend: static_max × 1.2 × 1.05 (truncated), plus vGPU framebuffers, plus 100 MiB. */
export function suspendImageSize(x: Xapi, ref: string): number {
  const vm = x.store.get("VM", ref);
  const ram = Math.trunc((vm.memory_static_max as number) * 1.2 * 1.05);
  let vgpu = 0;
  for (const g of (vm.VGPUs as string[] | undefined) ?? []) {
    const type = x.store.tryGet("VGPU_type", x.store.tryGet("VGPU", g)?.type);
    vgpu += (type?.framebuffer_size as number | undefined) ?? 0;
  }
  return ram + vgpu + 100 * MiB;
}

/**
 * The VDI xapi_xenops.ml suspend creates ("Suspend image", type suspend, fully allocated through
 * sm_config initial_allocation); a full SR is SR_SUSPEND_SPACE_INSUFFICIENT [sr] rather than the SM error.
 */
export function createSuspendImage(x: Xapi, ref: string): string {
  const sr = chooseSuspendSR(x, ref);
  const size = suspendImageSize(x, ref);
  try {
    return newVdi(x, {
      SR: sr,
      virtual_size: size,
      type: "suspend",
      sharable: false,
      read_only: false,
      other_config: {},
      xenstore_data: {},
      sm_config: { vmhint: x.store.get("VM", ref).uuid as string, initial_allocation: String(size) },
      tags: [],
      name_label: "Suspend image",
      name_description: "Suspend image",
    });
  } catch (e) {
    if (e instanceof XapiError && e.code === "SR_BACKEND_FAILURE_44")
      throw new XapiError("SR_SUSPEND_SPACE_INSUFFICIENT", [sr]);
    throw e;
  }
}
