// Power: moving a VM between Halted, Running, Paused and Suspended; shutting down cleanly with a timeout,
// then hard; and waiting for the guest agent's addresses by watching event.from (never polling).
import { isXapiError } from "../../xapi/errors";
import type { Xapi } from "../common/connection";
import { progressReporter, reportStatus } from "../common/progress";
import { inCidr } from "./check";
import { NULL_REF, type GuestMetricsRecord, type VMRecord } from "./records";

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
      process.stderr.write(
        `pulumi-xenserver: clean shutdown of VM ${await xapi.call<string>("VM.get_uuid", ref)} did not finish (${(err as Error).message}); shutting it down hard\n`,
      );
    }
  }
  reportStatus("shutting down (hard)");
  await xapi.callAsync("VM.hard_shutdown", [ref]);
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
  if (now === "Running" && to === "Suspended")
    await xapi.callAsync("VM.suspend", [ref], { onProgress: progressReporter("suspending") });
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

interface EventBatch {
  events: Array<{ class: string; ref: string; operation: string; snapshot?: Record<string, unknown> }>;
  token: string;
}

/**
 * Waits until the guest agent reports an address (inside `cidr`, on `interface`, when given). Watches the VM and
 * its VM_guest_metrics through event.from: no status polling. The timeout error names the VM and what the agent
 * last reported.
 */
export async function waitForIp(xapi: Xapi, ref: string, name: string, w: WaitForIp): Promise<string> {
  const deadline = Date.now() + w.timeout * 1000;
  reportStatus(`waiting for an IP address${w.cidr ? ` in ${w.cidr}` : ""} (up to ${w.timeout} s)`);
  // A token from before the first look, so that nothing reported in between is missed.
  let token = await xapi.call<string>("event.inject", "VM", ref);
  let gm = await xapi.call<string>("VM.get_guest_metrics", ref);
  let networks: Record<string, string> | undefined;
  if (gm !== NULL_REF) networks = (await xapi.call<GuestMetricsRecord>("VM_guest_metrics.get_record", gm)).networks;
  for (;;) {
    const found = matching(networks, w);
    if (found) {
      reportStatus(`IP address ${found}`);
      return found;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const seen = networks && Object.keys(networks).length ? JSON.stringify(networks) : "nothing (no address yet)";
      const agent =
        gm === NULL_REF
          ? "the guest agent has not reported at all (is it installed and running?)"
          : `the guest agent last reported ${seen}`;
      const want = [w.cidr ? `inside ${w.cidr}` : "", w.interface !== undefined ? `on interface ${w.interface}` : ""]
        .filter(Boolean)
        .join(" ");
      throw new Error(
        `waitForIp: VM "${name}" reported no address${want ? ` ${want}` : ""} within ${w.timeout} s; ${agent}`,
      );
    }
    const classes = [`vm/${ref}`, ...(gm !== NULL_REF ? [`vm_guest_metrics/${gm}`] : [])];
    const batch = await xapi.call<EventBatch>("event.from", classes, token, Math.min(30, Math.max(0.1, left / 1000)));
    token = batch.token;
    for (const ev of batch.events) {
      if (ev.class === "vm" && ev.ref === ref && ev.snapshot) {
        const next = String(ev.snapshot.guest_metrics ?? NULL_REF);
        if (next !== gm) {
          gm = next;
          networks = undefined;
          // The metrics object may have been made with its addresses already: read it once, then watch it.
          if (gm !== NULL_REF)
            networks = (await xapi.call<GuestMetricsRecord>("VM_guest_metrics.get_record", gm)).networks;
        }
      } else if (ev.class === "vm_guest_metrics" && ev.ref === gm && ev.snapshot) {
        networks = ev.snapshot.networks as Record<string, string>;
      }
    }
  }
}
