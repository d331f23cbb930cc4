// After a boot: wait for the guest agent (event.from on the VM, no polling), and remove the cloud-init drive.
import type { Xapi } from "../common/connection";
import { recordsOfRefs, refByUuid } from "../common/lookups";
import { reportStatus } from "../common/progress";
import { NULL_REF } from "./records";
import { watchGuest, type GuestSeen } from "./guest-watch";

/** Waits until the VM's guest agent has reported (guest_metrics set), at most `timeoutS`; returns what it saw. */
export async function waitForAgent(xapi: Xapi, ref: string, name: string, timeoutS: number): Promise<GuestSeen> {
  reportStatus(`waiting for the guest agent (up to ${timeoutS} s)`);
  const { seen, timedOut } = await watchGuest(xapi, ref, Date.now() + timeoutS * 1000, (g) => g.metrics !== NULL_REF);
  if (timedOut)
    throw new Error(
      `cloudInit.detachAfterBoot: VM "${name}" has not booted its guest agent within ${timeoutS} s; the config drive stays attached`,
    );
  return seen;
}

/** Unplugs and destroys the config drive's VBD, then its VDI. */
export async function detachCloudInit(xapi: Xapi, vm: string, vdiUuid: string): Promise<void> {
  const vdi = await refByUuid(xapi, "VDI", vdiUuid);
  if (!vdi) return;
  // The drive's own VBDs (VDI.VBDs), not a scan of the pool's.
  const vbds = await recordsOfRefs<{ VM: string; currently_attached: boolean }>(
    xapi,
    "VBD",
    await xapi.call<string[]>("VDI.get_VBDs", vdi),
  );
  for (const [vbd, r] of Object.entries(vbds)) {
    if (r.VM !== vm) continue;
    if (r.currently_attached) await xapi.callAsync("VBD.unplug", [vbd]);
    await xapi.call("VBD.destroy", vbd);
  }
  await xapi.callAsync("VDI.destroy", [vdi]);
}
