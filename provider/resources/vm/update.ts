// update(): the plan classify() made, applied. Hot changes go to the running VM; cold ones halt it first (clean
// shutdown with a timeout, then hard), are applied, and the VM is started again (and its address waited for).
import type { Prior, ResourceContext, UpdateResult } from "../contract";
import { xapiFor, type Xapi } from "../common/connection";
import { goneMessage } from "../common/messages";
import { reportNotice } from "../common/progress";
import type { Inputs, Outputs } from "./inputs";
import { classify, isUp, type Change } from "./classify";
import { dependsOnGuest, withRefusals } from "./hotplug";
import type { GuestSeen } from "./guest-watch";
import { applyCdrom, applyDisks, applyNics } from "./devices";
import { applyCpu, applyHalted, applyMemory, applySettings } from "./settings";
import { liveRefusals, readLive, takeForUpdate } from "./live";
import { setPowerState, shutdown, untilGuestAgent } from "./power";
import { bringUp } from "./create";

export async function update(
  id: string,
  olds: Prior<Outputs>,
  n: Inputs,
  ctx: ResourceContext,
): Promise<UpdateResult<Outputs>> {
  const o = olds as Outputs; // Vm's helpers take whole outputs: a field older state lacks reads as absent, as before
  const xapi = await xapiFor(ctx.config, n.connection);
  const plan = classify(o, n);
  // The guest's agent record is needed only when a live change depends on what the guest allows (hotplug.ts): the
  // one the preview's diff just read, else read now; the outputs (bringUp) reuse it when the VM was not restarted.
  const guestMatters = dependsOnGuest(plan, n);
  let live = await readLive(xapi, id, guestMatters ? takeForUpdate(xapi, id) : "skip");
  if (!live) throw new Error(goneMessage("VM", id, o, n));
  let state = live.vm.power_state;
  // The same prediction as diff's, from the VM as it is now: what the guest would refuse live needs a restart.
  const changes = guestMatters && isUp(state) ? withRefusals(plan, n, liveRefusals(live)) : plan;
  const cold = changes.filter((c) => c.kind === "cold");
  let seen: GuestSeen | undefined = live.guest ? { metrics: live.vm.guest_metrics, record: live.guest } : undefined;
  if (cold.length && isUp(state)) {
    if (n.updatePolicy === "fail") throw new Error(refusal(n, cold));
    reportNotice(`${n.name}: restarting for ${cold.map((c) => c.field).join(", ")}`);
    // "Shut down cleanly, changed and started again": a suspended or paused VM is resumed first, since a hard
    // shutdown (the only one xapi allows from those states) would discard its memory; bringUp suspends or pauses it
    // again after the change. A program that asks for Halted has accepted that.
    if ((state === "Suspended" || state === "Paused") && n.powerState !== "Halted")
      state = await wake(xapi, live.ref, state, n);
    await shutdown(xapi, live.ref, state, n.shutdownTimeout ?? 120);
    state = "Halted";
    seen = undefined;
    live = (await readLive(xapi, id, "skip", { ref: live.ref }))!;
  }
  const running = state === "Running" || state === "Paused";
  await applySettings(xapi, live.ref, live.vm, n, o);
  const vm = live.vm; // applySettings changed names and owned maps, not what the CPU/memory/firmware steps compare
  if (state === "Halted") await applyHalted(xapi, live.ref, vm, n, o);
  else if (running) {
    await applyCpu(xapi, live.ref, vm, n, true);
    await applyMemory(xapi, live.ref, vm, n, true);
  }
  if (n.disks) await applyDisks(xapi, live, n, o.disks ?? [], running, o.cloudInitVdi);
  if (n.networkInterfaces) await applyNics(xapi, live, n.networkInterfaces, running);
  if (n.cdrom !== undefined && (n.cdrom !== o.cdrom || (n.cdrom !== "" && !o.cdromVdi)))
    await applyCdrom(xapi, live, n.cdrom);
  const outs = await bringUp(xapi, live.ref, id, n, state, o.cloudInitVdi ?? null, o, seen);
  return { outs };
}

/**
 * Resumes a suspended VM (or unpauses a paused one) so that it can shut down cleanly, and gives its guest agent up to
 * 30 s to report again (xapi asks the PV drivers for a clean shutdown; a resumed guest's drivers reconnect first).
 * Refuses if the VM cannot be woken.
 */
async function wake(xapi: Xapi, ref: string, state: "Suspended" | "Paused", n: Inputs): Promise<"Running"> {
  try {
    await setPowerState(xapi, ref, state, "Running", n.shutdownTimeout ?? 120);
    await untilGuestAgent(xapi, ref, Math.min(n.shutdownTimeout ?? 120, 30));
    return "Running";
  } catch (err) {
    throw new Error(
      `${n.name}: the VM is ${state.toLowerCase()} and must be resumed to shut down cleanly for the change, ` +
        `but ${state === "Suspended" ? "VM.resume" : "VM.unpause"} failed (${(err as Error).message}); ` +
        `a hard shutdown would discard its memory. Resume it, or set powerState "Halted" to accept that`,
    );
  }
}

/** The refusal under updatePolicy "fail": names the fields (with why, when the live guest is the reason) and what to do. */
export function refusal(n: Inputs, cold: Change[]): string {
  const fields = cold.map((c) => (c.reason ? `${c.field} (${c.reason})` : c.field));
  return (
    `${n.name}: ${fields.join(", ")} can only change while the VM is halted, and updatePolicy is "fail"; ` +
    `set updatePolicy "restart" (the VM is shut down cleanly, changed and started again), or set ` +
    `powerState "Halted" first`
  );
}
