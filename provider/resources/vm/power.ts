// Power: moving a VM between Halted, Running, Paused and Suspended; shutting down cleanly with a timeout,
// then hard; and waiting for the guest agent's addresses by watching event.from (never polling).
import { isXapiError } from "../../xapi/errors";
import type { Xapi } from "../common/connection";
import { progressReporter, reportNotice, reportStatus } from "../common/progress";
import { inCidr } from "./check";
import { NULL_REF, type VMRecord } from "./records";
import { watchGuest, type GuestSeen } from "./guest-watch";

export type PowerState = VMRecord["power_state"];

/** Halts the VM: a clean shutdown given `timeoutS`, then a hard one (also when the guest refuses or has no agent). */
export async function shutdown(xapi: Xapi, ref: string, state: PowerState, timeoutS: number): Promise<void> {
  if (state === "Halted") return;
  if (state === "Running") {
    reportStatus(`shutting down (clean, up to ${timeoutS} s)`);
    try {
      await xapi.callAsync("VM.clean_shutdown", [ref], { timeoutMs: timeoutS * 1000 });
      return;
    } catch (err) {
      if (isXapiError(err, "VM_BAD_POWER_STATE") && (await xapi.call<string>("VM.get_power_state", ref)) === "Halted")
        return;
      reportNotice(
        `clean shutdown of VM ${await xapi.call<string>("VM.get_uuid", ref)} did not finish (${(err as Error).message}); shutting it down hard`,
        "warning",
      );
    }
  }
  reportStatus("shutting down (hard)");
  await xapi.callAsync("VM.hard_shutdown", [ref]);
}

/** Waits (event.from) until the guest agent has reported, or `timeoutS` passes; the caller's next call says which. */
export async function untilGuestAgent(xapi: Xapi, ref: string, timeoutS: number): Promise<void> {
  await watchGuest(xapi, ref, Date.now() + timeoutS * 1000, (g) => g.metrics !== NULL_REF);
}

/** Brings the VM from `from` to `to`; returns whether it was started (booted) on the way. */
export async function setPowerState(
  xapi: Xapi,
  ref: string,
  from: PowerState,
  to: PowerState,
  timeoutS: number,
): Promise<boolean> {
  if (from === to) return false;
  if (to === "Halted") {
    await shutdown(xapi, ref, from, timeoutS);
    return false;
  }
  let booted = false;
  let now = from;
  if (now === "Halted") {
    await xapi.callAsync("VM.start", [ref, to === "Paused", false], { onProgress: progressReporter("starting") });
    now = to === "Paused" ? "Paused" : "Running";
    booted = true;
  } else if (now === "Suspended") {
    await xapi.callAsync("VM.resume", [ref, to === "Paused", false], { onProgress: progressReporter("resuming") });
    now = to === "Paused" ? "Paused" : "Running";
  }
  if (now === "Paused" && to !== "Paused") {
    await xapi.callAsync("VM.unpause", [ref]);
    now = "Running";
  }
  if (now === "Running" && to === "Paused") await xapi.callAsync("VM.pause", [ref]);
  if (now === "Running" && to === "Suspended") {
    // xapi suspends an HVM guest only once its PV drivers are up (xapi_vm_lifecycle.ml check_op_for_feature:
    // VM_LACKS_FEATURE); a guest just booted or resumed reports them a moment later. Watched, not polled.
    reportStatus("waiting for the guest agent before suspending");
    await untilGuestAgent(xapi, ref, timeoutS);
    await xapi.callAsync("VM.suspend", [ref], { onProgress: progressReporter("suspending") });
  }
  return booted;
}

/** The guest agent's addresses per interface device: {"0": ["10.0.0.5", "fe80::…"]}. */
export function addressesByDevice(networks: Record<string, string> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(networks ?? {})) {
    // Keys are "<dev>/ip", "<dev>/ipv4/<n>", "<dev>/ipv6/<n>"; "<dev>/ip" repeats ipv4/0.
    const m = /^(\d+)\/(ip|ipv4\/\d+|ipv6\/\d+)$/.exec(k);
    if (!m || !v) continue;
    const list = (out[m[1]] ??= []);
    if (!list.includes(v)) list.push(v);
  }
  return out;
}

export interface WaitForIp {
  timeout: number;
  cidr?: string;
  interface?: number;
}

function matching(networks: Record<string, string> | undefined, w: WaitForIp): string | undefined {
  const byDev = addressesByDevice(networks);
  const devs = w.interface !== undefined ? [String(w.interface)] : Object.keys(byDev);
  for (const d of devs)
    for (const a of byDev[d] ?? []) {
      if (w.cidr ? inCidr(a, w.cidr) : !a.startsWith("fe80:")) return a;
    }
  return undefined;
}

/**
 * Waits until the guest agent reports an address (inside `cidr`, on `interface`, when given), watching the VM and
 * its VM_guest_metrics through event.from: no status polling. Returns the address and what the agent reported, so
 * that the outputs read afterwards need not read it again. The timeout error names the VM and what the agent last
 * reported.
 */
export async function waitForIp(
  xapi: Xapi,
  ref: string,
  name: string,
  w: WaitForIp,
): Promise<{ address: string; seen: GuestSeen }> {
  reportStatus(`waiting for an IP address${w.cidr ? ` in ${w.cidr}` : ""} (up to ${w.timeout} s)`);
  const { seen, timedOut } = await watchGuest(
    xapi,
    ref,
    Date.now() + w.timeout * 1000,
    (g) => matching(g.record?.networks, w) !== undefined,
  );
  if (!timedOut) {
    const address = matching(seen.record?.networks, w)!;
    reportStatus(`IP address ${address}`);
    return { address, seen };
  }
  const networks = seen.record?.networks;
  const reported = networks && Object.keys(networks).length ? JSON.stringify(networks) : "nothing (no address yet)";
  const agent =
    seen.metrics === NULL_REF
      ? "the guest agent has not reported at all (is it installed and running?)"
      : `the guest agent last reported ${reported}`;
  const want = [w.cidr ? `inside ${w.cidr}` : "", w.interface !== undefined ? `on interface ${w.interface}` : ""]
    .filter(Boolean)
    .join(" ");
  throw new Error(
    `waitForIp: VM "${name}" reported no address${want ? ` ${want}` : ""} within ${w.timeout} s; ${agent}`,
  );
}
