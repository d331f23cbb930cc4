/** The simulated xapi: the object store plus everything a call needs (handlers, sessions, faults, options). */
import { Store } from "./store";
import { CallLog } from "./call-log";

export interface EngineOptions {
  username: string;
  password: string;
  /** xapi waits 5 s before answering a failed login (`thread_delay_and_raise_error`). */
  loginFailureDelayMs: number;
  /** xapi destroys sessions idle for 24 h (`inactive_session_timeout`). */
  sessionIdleTimeoutMs: number;
  /** xapi keeps at most 500 sessions per originator (`max_sessions_per_originator`). */
  maxSessionsPerOriginator: number;
  /** Delay before a started VM with guest tools reports VM_guest_metrics. */
  guestMetricsDelayMs: number;
  /** xenopsd's domain_shutdown_ack_timeout: a guest must acknowledge a clean shutdown request within this (60 s). */
  shutdownAckTimeoutMs: number;
  /** xapi's domain_shutdown_total_timeout: a clean shutdown or reboot must complete within this (1200 s). */
  shutdownTimeoutMs: number;
  /** xenopsd's vm_suspend_ack_timeout (30 s) and vm_suspend_timeout (1200 s). */
  suspendAckTimeoutMs: number;
  suspendTimeoutMs: number;
  /** Simulated duration of lifecycle operations (VM start, clone, ...), so that concurrency conflicts are observable. */
  operationDelayMs: number;
  /** event.from's batching delay (xapi_globs.ml event_from_delay: 50 ms before gathering and between gathers). */
  eventFromDelayMs: number;
  /** Period of the SR scanning thread when the master's other_config has no auto-scan-interval (xapi: 30 s). */
  srScanIntervalMs: number;
  /** Period of the database GC (db_gc.ml db_GC_TIMER: 30 s), which collects VBDs left by SR.forget. */
  dbGcIntervalMs: number;
  /** Completed tasks are garbage-collected this long after finishing (xapi: 65 min). */
  taskGcMs: number;
  apiVersionMajor: number;
  apiVersionMinor: number;
}

export interface CallCtx {
  /** The session ref (empty for session-less calls). */
  session: string;
  /** The host that received the call. */
  host: string;
  /** The task running this call, for Async.* calls. */
  task?: string;
  wireName: string;
}

export type Handler = (x: Xapi, ctx: CallCtx, args: unknown[]) => unknown;

export interface FaultState {
  latencyMs: number;
  failNext: Map<string, { count: number; code: string; params: string[] }>;
  failTaskMidway: Set<string>;
  /** "<host ref> <server>": that host cannot reach that storage server (its PBD.plug fails as the driver's attach). */
  unreachableStorage: Set<string>;
}

export class Xapi {
  store = new Store();
  readonly handlers = new Map<string, Handler>();
  /** Every call served; the simulator hands the same log to the Xapi it rebuilds on restart. */
  callLog = new CallLog();
  readonly faults: FaultState = {
    latencyMs: 0,
    failNext: new Map(),
    failTaskMidway: new Set(),
    unreachableStorage: new Set(),
  };
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Called when a session is destroyed, so blocked event.from calls can fail with SESSION_INVALID. */
  readonly sessionListeners = new Set<(session: string) => void>();
  /** Host ref -> the address clients use to reach it. */
  readonly hostAddress = new Map<string, string>();
  /** Host ref -> the base URL it serves on (scheme, address, port), for HTTP redirects. */
  readonly hostUrl = new Map<string, string>();
  closed = false;

  constructor(readonly opts: EngineOptions) {}

  on(wireName: string, h: Handler): void {
    this.handlers.set(wireName, h);
  }

  poolRef(): string {
    return this.store.table("pool").keys().next().value as string;
  }

  masterRef(): string {
    return this.store.get("pool", this.poolRef()).master as string;
  }

  /** setTimeout that is cancelled by close(). */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    t.unref?.();
    this.timers.add(t);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : this.later(ms, resolve)));
  }

  private readonly closeHooks = new Set<() => void>();

  /** Runs `fn` when the simulator closes (to end blocked calls); returns a function that cancels it. */
  onClose(fn: () => void): () => void {
    this.closeHooks.add(fn);
    return () => this.closeHooks.delete(fn);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const fn of [...this.closeHooks]) fn();
    this.closeHooks.clear();
  }
}
