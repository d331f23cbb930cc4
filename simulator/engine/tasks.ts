/** Tasks (docs/xapi-semantics.md §4): Async.* runs, results as XML-RPC value fragments, cancellation, garbage collection. */
import { EPOCH } from "./datamodel";
import { XapiError } from "./errors";
import { nowDatetime } from "./time";
import { Xapi } from "./xapi";

export function createTask(x: Xapi, label: string, description: string, host: string): string {
  const ref = x.store.create("task", {
    name_label: label,
    name_description: description,
    created: nowDatetime(),
    finished: EPOCH,
    status: "pending",
    resident_on: host,
    progress: 0,
    type: "<none/>",
    result: "",
    error_info: [],
    allowed_operations: [],
    current_operations: {},
  });
  return ref;
}

export function isPending(x: Xapi, task: string): boolean {
  return x.store.tryGet("task", task)?.status === "pending";
}

export function completeTask(x: Xapi, task: string, resultXml: string): void {
  if (!isPending(x, task)) return;
  const cancelled = Object.values(x.store.get("task", task).current_operations as Record<string, string>).includes(
    "cancel",
  );
  if (cancelled) return cancelTask(x, task);
  finish(x, task, { status: "success", result: resultXml, error_info: [] });
}

export function failTask(x: Xapi, task: string, e: XapiError): void {
  if (!isPending(x, task)) return;
  if (e.code === "TASK_CANCELLED") return cancelTask(x, task);
  finish(x, task, { status: "failure", error_info: e.description });
}

/** Marks the running task cancellable (TaskHelper.set_cancellable): allowed_operations = ["cancel"]. */
export function setCancellable(x: Xapi, task: string | undefined): void {
  if (task && isPending(x, task)) x.store.set("task", task, "allowed_operations", ["cancel"]);
}

function cancelTask(x: Xapi, task: string): void {
  finish(x, task, { status: "cancelled", error_info: ["TASK_CANCELLED", task] });
}

function finish(x: Xapi, task: string, patch: Record<string, unknown>): void {
  const destroyRequested = (x.store.get("task", task).current_operations as Record<string, string>).task === "destroy";
  x.store.update("task", task, {
    ...patch,
    progress: 1,
    finished: nowDatetime(),
    allowed_operations: [],
    current_operations: {},
  });
  if (destroyRequested) {
    x.store.destroy("task", task);
    return;
  }
  x.later(x.opts.taskGcMs, () => {
    if (x.store.has("task", task)) x.store.destroy("task", task);
  });
  trimTasks(x);
}

/** Beyond 200 tasks, xapi's GC deletes the oldest completed ones first (db_gc_util.ml timeout_tasks). */
const MAX_TASKS = 200;
function trimTasks(x: Xapi): void {
  const table = x.store.table("task");
  if (table.size <= MAX_TASKS) return;
  const done = [...table]
    .filter(([, t]) => t.status !== "pending")
    .sort((a, b) => String(a[1].finished).localeCompare(String(b[1].finished)));
  for (const [ref] of done.slice(0, table.size - MAX_TASKS)) x.store.destroy("task", ref);
}

/** Raised inside operations that notice a cancellation request. */
export function checkCancelled(x: Xapi, task: string | undefined): void {
  if (!task) return;
  const t = x.store.tryGet("task", task);
  if (t && Object.values(t.current_operations as Record<string, string>).includes("cancel")) {
    throw new XapiError("TASK_CANCELLED", [task]);
  }
}

export function register(x: Xapi): void {
  x.on("task.create", (xx, ctx, [label, description]) =>
    createTask(xx, label as string, description as string, ctx.host),
  );
  x.on("task.cancel", (xx, ctx, [task]) => {
    const t = xx.store.get("task", task);
    // Cancelling a finished task is a silent no-op (xapi_task.ml).
    if (t.status !== "pending") return;
    xx.store.set("task", task as string, "current_operations", {
      ...(t.current_operations as object),
      [ctx.task ?? ctx.session]: "cancel",
    });
  });
  x.on("task.destroy", (xx, _ctx, [task]) => {
    const t = xx.store.get("task", task);
    if (t.status === "pending")
      xx.store.set("task", task as string, "current_operations", {
        ...(t.current_operations as object),
        task: "destroy",
      });
    else xx.store.destroy("task", task as string);
  });
  x.on("task.set_status", (xx, _ctx, [task, status]) => {
    xx.store.get("task", task);
    const patch: Record<string, unknown> = { status };
    if (status !== "pending") Object.assign(patch, { finished: nowDatetime(), progress: 1 });
    xx.store.update("task", task as string, patch);
    if (status !== "pending") trimTasks(xx);
  });
  x.on("task.set_progress", (xx, _ctx, [task, p]) =>
    xx.store.update("task", xx.store.get("task", task) && (task as string), { progress: p }),
  );
  x.on("task.set_result", (xx, _ctx, [task, r]) =>
    xx.store.update("task", xx.store.get("task", task) && (task as string), { result: r }),
  );
  x.on("task.set_error_info", (xx, _ctx, [task, e]) =>
    xx.store.update("task", xx.store.get("task", task) && (task as string), { error_info: e }),
  );
}
