/**
 * Waiting for tasks without polling (docs/xapi-semantics.md §4.3): one `event.from(["task"], …)` loop per client serves
 * every pending callAsync. Each new task is `event.inject`ed, which both yields a token from before its
 * latest change and wakes a poll already in flight, so a completion is never missed.
 */
import { decodeXmlValueFragment } from "./codec-xmlrpc";
import { XapiError, XapiTransportError, isTransportError, isXapiError } from "./errors";
import type { EventBatch } from "./event-types";
import type { TaskRecord } from "./generated/types";
import { converterFor, resultType } from "./normalize";
import type { Logger } from "./tls";

/** What the task layer needs from the client: calls with the session prepended and retries applied. */
export interface TaskRpc {
  call(method: string, args: unknown[], opts?: RpcCallOptions): Promise<unknown>;
}

export interface RpcCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bypass the concurrency cap (long polls must not starve ordinary calls). */
  unlimited?: boolean;
  /** Do not log in again and retry on SESSION_INVALID (the caller resyncs instead). */
  noSessionRetry?: boolean;
}

interface Waiter {
  resolve(rec: TaskRecord): void;
  reject(e: unknown): void;
  onProgress?: (p: number) => void;
  lastProgress: number;
}

/** Long-poll timeout of the task loop, in seconds (sent as a double). */
const POLL_TIMEOUT_S = 30.1;

export class TaskWatcher {
  private readonly waiters = new Map<string, Waiter>();
  private token: string | undefined;
  private running = false;
  private poll: AbortController | undefined;
  private closed = false;

  constructor(
    private readonly rpc: TaskRpc,
    private readonly logger: Logger,
  ) {}

  /** Resolves with the task's record once its status is no longer `pending`. */
  async wait(taskRef: string, onProgress?: (p: number) => void): Promise<TaskRecord> {
    if (this.closed) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed");
    const done = new Promise<TaskRecord>((resolve, reject) => {
      this.waiters.set(taskRef, { resolve, reject, onProgress, lastProgress: -1 });
    });
    try {
      const t = (await this.rpc.call("event.inject", ["task", taskRef], { unlimited: true })) as string;
      if (this.token === undefined || t < this.token) this.token = t;
      this.ensureLoop();
    } catch (e) {
      this.settle(taskRef, undefined, e);
    }
    return done;
  }

  /** Stops waiting for a task (its caller gave up). */
  forget(taskRef: string): void {
    this.waiters.delete(taskRef);
    if (this.waiters.size === 0) this.poll?.abort();
  }

  private settle(ref: string, rec: TaskRecord | undefined, err?: unknown): void {
    const w = this.waiters.get(ref);
    if (!w) return;
    this.waiters.delete(ref);
    if (err !== undefined) w.reject(err);
    else w.resolve(rec!);
  }

  private ensureLoop(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      // The next task starts from its own injected token rather than replaying every task change since.
      this.token = undefined;
      // A waiter registered while the loop was winding down.
      if (this.waiters.size > 0 && !this.closed) for (const ref of [...this.waiters.keys()]) void this.reinject(ref);
    });
  }

  private async reinject(ref: string): Promise<void> {
    try {
      const t = (await this.rpc.call("event.inject", ["task", ref], { unlimited: true })) as string;
      if (this.token === undefined || t < this.token) this.token = t;
      this.ensureLoop();
    } catch (e) {
      this.settle(ref, undefined, e);
    }
  }

  private async loop(): Promise<void> {
    let backoff = 250;
    while (this.waiters.size > 0 && !this.closed) {
      const token = this.token ?? "";
      this.poll = new AbortController();
      let batch: EventBatch;
      try {
        batch = (await this.rpc.call("event.from", [["task"], token, POLL_TIMEOUT_S], {
          timeoutMs: POLL_TIMEOUT_S * 1000 + 15_000,
          signal: this.poll.signal,
          unlimited: true,
        })) as EventBatch;
        backoff = 250;
      } catch (e) {
        if (this.closed || this.waiters.size === 0) return;
        if (isXapiError(e, "EVENTS_LOST") || isXapiError(e, "EVENT_FROM_TOKEN_PARSE_FAILURE")) {
          // Start again from each task's own token.
          this.token = undefined;
          await Promise.all([...this.waiters.keys()].map((ref) => this.reinject(ref)));
          continue;
        }
        if (isTransportError(e) && e.code !== "XAPI_CLIENT_CLOSED") {
          this.logger.debug(`task watch: ${e.code}; retrying in ${backoff} ms`);
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 10_000);
          continue;
        }
        for (const ref of [...this.waiters.keys()]) this.settle(ref, undefined, e);
        return;
      }
      if (this.token === token) this.token = batch.token;
      else if (this.token !== undefined && batch.token < this.token) this.token = batch.token;
      for (const ev of batch.events ?? []) {
        if (ev.class !== "task") continue;
        const w = this.waiters.get(ev.ref);
        if (!w) continue;
        if (ev.operation === "del") {
          this.settle(
            ev.ref,
            undefined,
            new XapiTransportError("XAPI_TASK_VANISHED", `task ${ev.ref} was destroyed before it completed`),
          );
          continue;
        }
        const rec = ev.snapshot as unknown as TaskRecord;
        if (!rec) continue;
        if (w.onProgress && typeof rec.progress === "number" && rec.progress !== w.lastProgress) {
          w.lastProgress = rec.progress;
          try {
            w.onProgress(rec.progress);
          } catch (err) {
            this.logger.warn(`onProgress callback threw: ${(err as Error).message}`);
          }
        }
        if (rec.status !== "pending") this.settle(ev.ref, rec);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.poll?.abort();
    for (const ref of [...this.waiters.keys()]) {
      this.settle(
        ref,
        undefined,
        new XapiTransportError("XAPI_CLIENT_CLOSED", "the client was closed while waiting for a task"),
      );
    }
  }
}

/** The value of a finished task: its XML-RPC `result` fragment decoded with the method's result type. */
export function taskOutcome(rec: TaskRecord, method: string, taskRef: string): unknown {
  if (rec.status === "success") {
    const raw = decodeXmlValueFragment(typeof rec.result === "string" ? rec.result : "");
    const type = resultType(method);
    const conv = type ? converterFor(type) : null;
    return conv ? conv(raw) : raw;
  }
  const info =
    Array.isArray(rec.error_info) && rec.error_info.length
      ? rec.error_info
      : [rec.status === "cancelled" ? "TASK_CANCELLED" : "INTERNAL_ERROR", taskRef];
  const [code, ...params] = info;
  throw new XapiError(String(code), params.map(String), method);
}
