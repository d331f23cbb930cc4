// Watching a VM's guest agent through event.from alone: no getter is called, so nothing is read twice. A token
// of "" returns the current snapshot of every subscribed object at once (xapi_event.ml from), so each new
// subscription starts from what is there now and misses nothing after it.
import type { Xapi } from "../common/connection";
import { NULL_REF, type GuestMetricsRecord } from "./records";

/** What the guest agent had reported when the watch ended: its VM_guest_metrics ref and record (or none). */
export interface GuestSeen {
  metrics: string;
  record?: GuestMetricsRecord;
}

interface EventBatch {
  events: Array<{ class: string; ref: string; operation: string; snapshot?: Record<string, unknown> }>;
  token: string;
}

/**
 * Watches the VM `ref` and its current VM_guest_metrics until `done(seen)` holds or `deadline` (ms since the
 * epoch) passes; returns what was seen last either way (the caller words the timeout).
 */
export async function watchGuest(
  xapi: Xapi,
  ref: string,
  deadline: number,
  done: (seen: GuestSeen) => boolean,
): Promise<{ seen: GuestSeen; timedOut: boolean }> {
  const seen: GuestSeen = { metrics: NULL_REF };
  let token = "";
  let first = true;
  for (;;) {
    const left = deadline - Date.now();
    if (!first) {
      if (done(seen)) return { seen, timedOut: false };
      if (left <= 0) return { seen, timedOut: true };
    }
    first = false;
    const classes = [`vm/${ref}`, ...(seen.metrics !== NULL_REF ? [`vm_guest_metrics/${seen.metrics}`] : [])];
    const batch = await xapi.call<EventBatch>("event.from", classes, token, Math.min(30, Math.max(0.1, left / 1000)));
    token = batch.token;
    let resubscribe = false;
    for (const ev of batch.events) {
      if (ev.class === "vm" && ev.ref === ref && ev.snapshot) {
        const gm = String(ev.snapshot.guest_metrics ?? NULL_REF);
        if (gm !== seen.metrics) {
          seen.metrics = gm;
          seen.record = undefined;
          // The new metrics object may already hold addresses: a fresh subscription returns its snapshot.
          resubscribe = gm !== NULL_REF;
        }
      } else if (ev.class === "vm_guest_metrics" && ev.ref === seen.metrics && ev.snapshot) {
        // The event of a vm_guest_metrics object carries that class's whole record; the watch is typed for any class.
        seen.record = ev.snapshot as unknown as GuestMetricsRecord;
      }
    }
    if (resubscribe) token = "";
  }
}
