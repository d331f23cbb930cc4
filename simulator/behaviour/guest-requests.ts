/**
 * Requests the guest must answer (xenopsd: xenops_server.ml VM_shutdown_domain, xenops_server_xen.ml
 * request_shutdown / VM_save): a clean shutdown, reboot or suspend is acknowledged and carried out, ignored,
 * or never acknowledged, as the simulated guest's `shutdown` setting says (guest-agent.ts). Operations that
 * wait here end with TASK_CANCELLED on Task.cancel or when hard_shutdown/hard_reboot cancel them.
 */
import { XapiError } from "../engine/errors";
import { CallCtx, Xapi } from "../engine/xapi";
import { guestOf } from "./guest-agent";

/** A clean operation waiting for its guest; hard_shutdown/hard_reboot abort it. */
interface Waiter {
  vm: string;
  op: string;
  abort: () => void;
}

const waiters = new WeakMap<Xapi, Set<Waiter>>();

function waitersOf(x: Xapi): Set<Waiter> {
  let s = waiters.get(x);
  if (!s) waiters.set(x, (s = new Set()));
  return s;
}

/** OCaml's string_of_float, as xapi prints VM_SHUTDOWN_TIMEOUT's timeout: 1200. → "1200.", 0.5 → "0.5". */
function ocamlFloat(n: number): string {
  return Number.isInteger(n) ? `${n}.` : String(n);
}

function cancelRequested(x: Xapi, task: string | undefined): boolean {
  const t = task ? x.store.tryGet("task", task) : undefined;
  return !!t && Object.values(t.current_operations as Record<string, string>).includes("cancel");
}

/**
 * xenops_server.ml VM_shutdown_domain: the request must be acknowledged within min(ack timeout, timeout)
 * (else Failed_to_acknowledge_shutdown_request, VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT [vm]) and the domain must
 * halt within `timeoutS` (else Failed_to_shutdown, VM_SHUTDOWN_TIMEOUT [vm, timeout]). Task.cancel, or a
 * hard_shutdown/hard_reboot, ends the wait with TASK_CANCELLED.
 */
export async function requestShutdown(
  x: Xapi,
  ctx: CallCtx,
  vm: string,
  opName: string,
  timeoutS: number,
  kind: "shutdown" | "suspend" = "shutdown",
): Promise<void> {
  // An unenlightened HVM guest is not asked (Domain.shutdown_wait_for_ack); the sim refuses those earlier
  // (VM_LACKS_FEATURE), so every guest that gets here answers the request its own way.
  const answer = guestOf(x, vm).shutdown;
  if (answer === "obey") return;
  // Suspend: xenops_server_xen.ml VM_save, its own ack timeout (30 s) and VM_FAILED_SUSPEND_ACKNOWLEDGMENT /
  // VM_SUSPEND_TIMEOUT (xapi_xenops.ml transform_xenops_exn).
  const ackMs =
    kind === "suspend" ? x.opts.suspendAckTimeoutMs : Math.min(x.opts.shutdownAckTimeoutMs, timeoutS * 1000);
  const waitMs = answer === "no-ack" ? ackMs : Math.max(0, timeoutS * 1000);
  const [ackCode, timeoutCode] =
    kind === "suspend"
      ? ["VM_FAILED_SUSPEND_ACKNOWLEDGMENT", "VM_SUSPEND_TIMEOUT"]
      : ["VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT", "VM_SHUTDOWN_TIMEOUT"];
  const timeoutError =
    answer === "no-ack" ? new XapiError(ackCode, [vm]) : new XapiError(timeoutCode, [vm, ocamlFloat(timeoutS)]);
  const taskRef = ctx.task ?? `OpaqueRef:${ctx.session.slice(10, 18)}-sync-${opName}`;
  // Such a guest never halts by itself: the wait ends with an error, a cancellation or the simulator's close.
  await new Promise<never>((_resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      offChange();
      offClose();
      waitersOf(x).delete(waiter);
    };
    const cancelled = () => {
      cleanup();
      reject(new XapiError("TASK_CANCELLED", [taskRef]));
    };
    const waiter: Waiter = { vm, op: opName, abort: cancelled };
    waitersOf(x).add(waiter);
    const timer = setTimeout(() => {
      cleanup();
      reject(timeoutError);
    }, waitMs);
    timer.unref?.();
    const offChange = x.store.onChange(() => {
      if (cancelRequested(x, ctx.task)) cancelled();
    });
    const offClose = x.onClose(cancelled);
  });
}

/** message_forwarding.ml cancel: Task.cancel each listed operation in flight on the VM, then wait for them. */
export async function cancelInFlight(x: Xapi, ctx: CallCtx, vm: string, ops: string[]): Promise<void> {
  const current = Object.entries(x.store.get("VM", vm).current_operations as Record<string, string>);
  const victims = current.filter(([, o]) => ops.includes(o)).map(([key]) => key);
  for (const key of victims) {
    const t = x.store.tryGet("task", key);
    if (t && t.status === "pending")
      x.store.set("task", key, "current_operations", {
        ...(t.current_operations as object),
        [ctx.task ?? ctx.session]: "cancel",
      });
  }
  for (const w of [...waitersOf(x)]) if (w.vm === vm && ops.includes(w.op)) w.abort();
  // wait_for_tasks: until none of them is listed on the VM any more.
  const gone = () => {
    const now = x.store.tryGet("VM", vm)?.current_operations as Record<string, string> | undefined;
    return !now || victims.every((k) => !(k in now));
  };
  if (gone()) return;
  await new Promise<void>((resolve) => {
    const off = x.store.onChange(() => {
      if (gone()) {
        off();
        resolve();
      }
    });
  });
}
