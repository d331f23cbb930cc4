// After a boot: wait for the guest agent (event.from on the VM, no polling), and remove the cloud-init drive.
import type { Xapi } from "../common/connection";
import { refByUuid } from "../common/lookups";
import { reportStatus } from "../common/progress";
import { NULL_REF } from "./records";

interface EventBatch {
  events: Array<{ class: string; ref: string; snapshot?: Record<string, unknown> }>;
  token: string;
}

/** Waits until the VM's guest agent has reported (guest_metrics set), at most `timeoutS`. */
export async function waitForAgent(xapi: Xapi, ref: string, name: string, timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  reportStatus(`waiting for the guest agent (up to ${timeoutS} s)`);
  let token = await xapi.call<string>("event.inject", "VM", ref);
  if ((await xapi.call<string>("VM.get_guest_metrics", ref)) !== NULL_REF) return;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(
        `cloudInit.detachAfterBoot: VM "${name}" has not booted its guest agent within ${timeoutS} s; the config drive stays attached`,
      );
    const batch = await xapi.call<EventBatch>("event.from", [`vm/${ref}`], token, Math.min(30, left / 1000));
    token = batch.token;
    if (batch.events.some((e) => e.ref === ref && e.snapshot && e.snapshot.guest_metrics !== NULL_REF)) return;
  }
}

/** Unplugs and destroys the config drive's VBD, then its VDI. */
export async function detachCloudInit(xapi: Xapi, vm: string, vdiUuid: string): Promise<void> {
  const vdi = await refByUuid(xapi, "VDI", vdiUuid);
  if (!vdi) return;
  const vbds = await xapi.call<Record<string, { VM: string; currently_attached: boolean }>>(
    "VBD.get_all_records_where",
    `field "VDI" = "${vdi}"`,
  );
  for (const [vbd, r] of Object.entries(vbds)) {
    if (r.VM !== vm) continue;
    if (r.currently_attached) await xapi.callAsync("VBD.unplug", [vbd]);
    await xapi.call("VBD.destroy", vbd);
  }
  await xapi.callAsync("VDI.destroy", [vdi]);
}
