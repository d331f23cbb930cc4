/**
 * XapiClient: the one object the provider talks to. It adds to the session layer the session ref on every
 * call, one retry on SESSION_INVALID / HOST_IS_SLAVE / a vanished master, the concurrency cap, per-call
 * timeouts, Async calls through tasks, the watch loop and the VDI side channels.
 */
import type { Readable } from "stream";
import { Redactor, XapiTransportError, isTransportError, isXapiError } from "./errors";
import { startWatch, type WatchHandler, type WatchOptions, type Watcher } from "./events";
import type { TaskRecord, XapiMethods } from "./generated/types";
import {
  exportRawVdi,
  importRawVdi,
  type ExportRawVdiOptions,
  type ImportRawVdiOptions,
  type VdiHttpContext,
} from "./http-vdi";
import { Limiter } from "./limiter";
import { takesSession } from "./normalize";
import { Session, parseXapiUrl } from "./session";
import { TaskWatcher, taskOutcome, type RpcCallOptions } from "./tasks";
import type { Logger, TlsOptions } from "./tls";
import type { TransportKind } from "./transport";
import { USER_AGENT } from "./version";

export interface XapiClientOptions {
  /** `https://host[:port]` of the pool master (a member works too: HOST_IS_SLAVE is followed). */
  url: string;
  username: string;
  password: string;
  /** "jsonrpc" (default through "auto"), "xmlrpc", or "auto": JSON-RPC unless the host lacks /jsonrpc. */
  transport?: TransportKind | "auto";
  tls?: TlsOptions;
  /** Calls in flight at once (default 8). Long polls (event.from) are not counted. */
  maxConcurrency?: number;
  /** Per-call timeout in ms (default 60 000). event.from uses its long-poll timeout plus a margin. */
  callTimeoutMs?: number;
  /** Session originator (default `pulumi-xenserver/<version>`). */
  originator?: string;
  logger?: Logger;
  /** TCP/TLS connect timeout in ms (default 10 000). */
  connectTimeoutMs?: number;
  /**
   * URLs of other pool members, for when host.address alone does not reach them (NAT, non-default ports).
   * Members found in host records are added automatically.
   */
  members?: string[];
  /** How long to look for a new master when the current one stops answering (default 60 000 ms). */
  failoverTimeoutMs?: number;
}

export interface CallAsyncOptions {
  /** Aborting cancels the task (task.cancel) and rejects with XAPI_ABORTED. */
  signal?: AbortSignal;
  /** Cancels the task and rejects with XAPI_TIMEOUT after this many ms. */
  timeoutMs?: number;
  /** Task progress, 0..1, as it changes. */
  onProgress?: (p: number) => void;
}

const silentLogger: Logger = { debug: () => undefined, warn: () => undefined };

type Args<M extends keyof XapiMethods> = XapiMethods[M]["args"];
type Result<M extends keyof XapiMethods> = XapiMethods[M]["result"];
/** A method name the typed overload does not cover: known names must use it, unless T is given explicitly. */
type Untyped<M extends string> = string extends M ? string : M extends keyof XapiMethods ? never : string;

export class XapiClient {
  private readonly limiter: Limiter;
  private readonly tasks: TaskWatcher;
  private readonly watchers = new Set<Watcher>();
  private readonly callTimeoutMs: number;
  private readonly failoverTimeoutMs: number;
  private readonly learnCertificates: boolean;
  private closed = false;

  private constructor(
    private readonly session: Session,
    private readonly redactor: Redactor,
    private readonly logger: Logger,
    opts: XapiClientOptions,
  ) {
    this.limiter = new Limiter(opts.maxConcurrency ?? 8);
    this.callTimeoutMs = opts.callTimeoutMs ?? 60_000;
    this.failoverTimeoutMs = opts.failoverTimeoutMs ?? 60_000;
    this.learnCertificates = opts.tls?.learnPoolCertificates ?? true;
    this.tasks = new TaskWatcher({ call: (m, a, o) => this.invoke(m, a, o ?? {}) }, logger);
  }

  /** Logs in (following HOST_IS_SLAVE), picks the transport and learns the pool members for failover. */
  static async connect(opts: XapiClientOptions): Promise<XapiClient> {
    const url = parseXapiUrl(opts.url);
    for (const k of ["maxConcurrency", "callTimeoutMs", "connectTimeoutMs", "failoverTimeoutMs"] as const) {
      const v = opts[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 1)) {
        throw new XapiTransportError("XAPI_INVALID_OPTION", `${k} must be a positive number, not ${JSON.stringify(v)}`);
      }
    }
    if (typeof opts.username !== "string" || typeof opts.password !== "string") {
      throw new XapiTransportError("XAPI_INVALID_OPTION", "username and password are required strings");
    }
    const redactor = new Redactor();
    redactor.add(opts.password, "<password>");
    const logger = opts.logger ?? silentLogger;
    const scrubbed: Logger = {
      debug: (m) => logger.debug(redactor.text(m)),
      warn: (m) => logger.warn(redactor.text(m)),
    };
    if (opts.tls?.insecure)
      scrubbed.warn(`TLS certificate verification is disabled for ${url.host} (tls.insecure: true)`);
    const session = new Session({
      url,
      username: opts.username,
      password: opts.password,
      transport: opts.transport ?? "auto",
      tls: opts.tls ?? {},
      originator: opts.originator ?? USER_AGENT,
      logger: scrubbed,
      redactor,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      loginTimeoutMs: Math.max(opts.callTimeoutMs ?? 60_000, 15_000),
      members: (opts.members ?? []).map(parseXapiUrl),
    });
    try {
      await session.open();
    } catch (e) {
      await session.close();
      throw redactor.error(e);
    }
    const client = new XapiClient(session, redactor, scrubbed, opts);
    await client.refreshMembers().catch((e) => scrubbed.debug(`cannot list pool members: ${(e as Error).message}`));
    return client;
  }

  /** The transport in use after negotiation. */
  get transport(): TransportKind {
    return this.session.transportKind;
  }

  /** The URL of the current master. */
  get masterUrl(): string {
    return this.session.masterUrl.origin;
  }

  /** Known pool members (from host.address), tried in turn when the master stops answering. */
  get poolMembers(): string[] {
    return this.session.memberUrls.map((u) => u.origin);
  }

  /** Calls in flight under the concurrency cap. */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /**
   * Re-reads host.address of every pool member and, when certificates are pinned, learns the members'
   * certificates from the (pinned, hence trusted) master.
   */
  async refreshMembers(): Promise<void> {
    const hosts = (await this.call("host.get_all_records")) as Record<string, { address?: string }>;
    this.session.setMembers(Object.values(hosts).map((h) => h.address ?? ""));
    if (this.session.pins.active && this.learnCertificates) {
      await Promise.all(
        Object.keys(hosts).map(async (ref) => {
          try {
            const pem = await this.call<string>("host.get_server_certificate", ref);
            const fp = this.session.pins.addPem(pem);
            this.logger.debug(`trusting pool member certificate ${fp} (${hosts[ref].address ?? ref})`);
          } catch (e) {
            this.logger.debug(`cannot read the certificate of ${hosts[ref].address ?? ref}: ${(e as Error).message}`);
          }
        }),
      );
    }
  }

  /**
   * Calls a wire method; the session ref is prepended for methods that take one. Typed for every message of
   * the classes in scope; `call<T>(anyMethod, ...)` for the rest.
   */
  call<M extends keyof XapiMethods>(method: M, ...args: Args<M>): Promise<Result<M>>;
  /** With an explicit result type (`call<VMRecord>(…)`), or for methods outside the generated map. */
  call<T = unknown, M extends string = string>(method: M & Untyped<M>, ...args: unknown[]): Promise<T>;
  call(method: string, ...args: unknown[]): Promise<unknown> {
    return this.invoke(method, args, {});
  }

  /** Same as call(), with per-call options (timeout, abort signal). */
  callWith<T = unknown>(
    method: string,
    args: unknown[],
    opts: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<T> {
    return this.invoke(method, args, opts) as Promise<T>;
  }

  /**
   * Adds a value that must never appear in an error or log line (shown as "<secret>"). Values of
   * `secret.create` records and of map keys that look like credentials (password, secret, token, key) in call
   * parameters are registered automatically.
   */
  registerSecret(value: string): void {
    this.redactor.add(value, "<secret>");
  }

  private scanSecrets(args: unknown[]): void {
    for (const a of args) {
      if (!a || typeof a !== "object" || Array.isArray(a)) continue;
      for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
        if (typeof v === "string" && SECRET_KEY.test(k)) this.registerSecret(v);
        else if (v && typeof v === "object" && !Array.isArray(v)) {
          for (const [k2, v2] of Object.entries(v as Record<string, unknown>))
            if (typeof v2 === "string" && SECRET_KEY.test(k2)) this.registerSecret(v2);
        }
      }
    }
  }

  private async invoke(method: string, args: unknown[], opts: RpcCallOptions): Promise<unknown> {
    if (this.closed) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed", { method });
    if (method.endsWith("secret.create")) {
      const rec = args[0] as { value?: unknown } | undefined;
      if (typeof rec?.value === "string") this.registerSecret(rec.value);
    }
    if (/(^|\.)(SR|PBD)\.|\.create$/.test(method)) this.scanSecrets(args);
    const withSession = takesSession(method);
    const timeoutMs = opts.timeoutMs ?? defaultTimeout(method, args, this.callTimeoutMs);
    const attempt = async (): Promise<unknown> => {
      const ref = withSession ? this.session.sessionRef : undefined;
      const params = withSession ? [ref, ...args] : args;
      try {
        return await this.session.send(method, params, { timeoutMs, signal: opts.signal });
      } catch (e) {
        const err = this.redactor.error(e);
        if (err && typeof err === "object") (err as { [STALE]?: string })[STALE] = ref;
        throw err;
      }
    };
    const run = async (): Promise<unknown> => {
      let retried = false;
      for (;;) {
        try {
          return await attempt();
        } catch (e) {
          if (retried || this.closed || opts.signal?.aborted) throw e;
          const stale = (e as { [STALE]?: string })[STALE];
          if (isXapiError(e, "SESSION_INVALID") && withSession && !opts.noSessionRetry) {
            await this.session.relogin(stale);
          } else if (isXapiError(e, "HOST_IS_SLAVE") && e.params[0]) {
            await this.session.followMaster(e.params[0], stale);
          } else if (Session.isMasterDown(e)) {
            await this.session.failover(stale, Date.now() + this.failoverTimeoutMs, e);
            this.refreshMembers().catch(() => undefined);
          } else if (isTransportError(e, "XAPI_CONNECTION_CLOSED")) {
            // One dropped connection is not a master change: the session asks the master again over a new
            // connection, and looks for another master only when that does not answer either.
            if (await this.session.checkMaster(stale, Date.now() + this.failoverTimeoutMs))
              this.refreshMembers().catch(() => undefined);
            // A call whose connection broke mid-way may have run: only repeat what is safe to repeat.
            if (!isReadOnly(method)) throw e;
          } else {
            throw e;
          }
          retried = true;
        }
      }
    };
    try {
      return opts.unlimited ? await run() : await this.limiter.run(run);
    } catch (e) {
      throw stripStale(e);
    }
  }

  /**
   * Runs `Async.<method>` and resolves with the task's decoded result. Waits through event.from (no polling),
   * reports progress, cancels the task on abort or timeout, and destroys it when done.
   */
  callAsync<M extends keyof XapiMethods>(method: M, args: Args<M>, opts?: CallAsyncOptions): Promise<Result<M>>;
  callAsync<T = unknown, M extends string = string>(
    method: M & Untyped<M>,
    args?: unknown[],
    opts?: CallAsyncOptions,
  ): Promise<T>;
  async callAsync(method: string, args: unknown[] = [], opts: CallAsyncOptions = {}): Promise<unknown> {
    const base = method.startsWith("Async.") ? method.slice(6) : method;
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort(new XapiTransportError("XAPI_ABORTED", `${base}: aborted`, { method: base }));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(
            () =>
              ctl.abort(
                new XapiTransportError("XAPI_TIMEOUT", `${base}: the task did not finish within ${opts.timeoutMs} ms`, {
                  method: base,
                }),
              ),
            opts.timeoutMs,
          )
        : undefined;
    try {
      if (ctl.signal.aborted) throw ctl.signal.reason;
      // The Async call itself is not aborted: it answers at once with the task ref, and a task created on
      // the server whose ref the client never read could not be cancelled (it would run on, leaked).
      const task = (await this.invoke(`Async.${base}`, args, {})) as string;
      if (ctl.signal.aborted) {
        await this.cancelTask(task);
        throw ctl.signal.reason;
      }
      let rec: TaskRecord;
      try {
        rec = await raceAbort(this.tasks.wait(task, opts.onProgress), ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted) await this.cancelTask(task);
        else if (!isTransportError(e, "XAPI_TASK_VANISHED")) void this.destroyTask(task);
        throw e;
      }
      void this.destroyTask(task);
      return taskOutcome(rec, base, task);
    } catch (e) {
      throw this.redactor.error(e);
    } finally {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Requests cancellation, then destroys the task once it has finished (in the background). */
  private async cancelTask(task: string): Promise<void> {
    this.tasks.forget(task);
    try {
      await this.invoke("task.cancel", [task], { timeoutMs: 10_000 });
    } catch (e) {
      this.logger.debug(`task.cancel failed: ${(e as Error).message}`);
    }
    // Wait (bounded) for the task to notice, so that destroy removes it rather than marking it.
    void raceAbort(this.tasks.wait(task), AbortSignal.timeout(60_000))
      .catch(() => undefined)
      .then(() => {
        this.tasks.forget(task);
        return this.destroyTask(task);
      });
  }

  private async destroyTask(task: string): Promise<void> {
    if (this.closed) return;
    try {
      await this.invoke("task.destroy", [task], { timeoutMs: 10_000 });
    } catch (e) {
      if (!isXapiError(e, "HANDLE_INVALID")) this.logger.debug(`task.destroy failed: ${(e as Error).message}`);
    }
  }

  /** Watches classes (datamodel spelling: "VM", "VDI") and calls `handler` for every change; see events.ts. */
  watch<C extends string>(classes: C[], handler: WatchHandler<C>, opts?: WatchOptions): Watcher {
    if (this.closed) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed");
    const w = startWatch(
      {
        call: (m, a, o) => this.invoke(m, a, o ?? {}),
        relogin: () => this.session.relogin(undefined),
      },
      this.logger,
      classes,
      handler as WatchHandler,
      opts,
    );
    const tracked: Watcher = {
      ready: w.ready,
      stop: async () => {
        this.watchers.delete(tracked);
        await w.stop();
      },
    };
    this.watchers.add(tracked);
    return tracked;
  }

  private vdiContext(): VdiHttpContext {
    return {
      endpoint: () => this.session.currentEndpoint,
      endpointForUrl: (u) => this.session.endpointForUrl(u),
      sessionRef: () => this.session.sessionRef,
      call: (m, a) => this.invoke(m, a, {}),
      waitTask: (t) => this.tasks.wait(t),
      forgetTask: (t) => this.tasks.forget(t),
      relogin: (stale) => this.session.relogin(stale),
    };
  }

  /** Uploads a raw or VHD image into an existing VDI (PUT /import_raw_vdi); resolves when the task succeeds. */
  async importRawVdi(vdiRef: string, filePath: string, opts: ImportRawVdiOptions = {}): Promise<void> {
    try {
      await importRawVdi(this.vdiContext(), vdiRef, filePath, opts);
    } catch (e) {
      throw this.redactor.error(e);
    }
  }

  /** Downloads a VDI (GET /export_raw_vdi) as a stream. */
  async exportRawVdi(vdiRef: string, opts: ExportRawVdiOptions = {}): Promise<Readable> {
    try {
      return await exportRawVdi(this.vdiContext(), vdiRef, opts);
    } catch (e) {
      throw this.redactor.error(e);
    }
  }

  /**
   * GETs one of the master's HTTP handlers with this session (`/audit_log`…) and reads the body as text. Read-only:
   * no task is created, so it works for a read-only account.
   */
  async getText(
    pathname: string,
    params: Record<string, string> = {},
    timeoutMs = 30_000,
  ): Promise<{ status: number; text: string }> {
    const q = Object.entries({ session_id: this.session.sessionRef, ...params })
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("&");
    try {
      const res = await this.session.currentEndpoint.request({
        method: "GET",
        path: `${pathname}?${q}`,
        timeoutMs,
        rpcMethod: `GET ${pathname}`,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (e) {
      throw this.redactor.error(e);
    }
  }

  /** Stops watchers and task waits, logs out, closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.watchers].map((w) => w.stop()));
    this.tasks.close();
    await this.session.logout();
    this.closed = true;
    await this.session.close();
  }
}

const STALE = Symbol("stale-session");

/** Map keys whose values are credentials: SR device_config passwords, secret.create's value, CHAP secrets… */
const SECRET_KEY = /(pass(word|wd)?|secret|token|private.?key)$/i;

function stripStale(e: unknown): unknown {
  if (e && typeof e === "object" && STALE in e) delete (e as { [STALE]?: string })[STALE];
  return e;
}

/** event.from blocks for its own timeout (seconds, 3rd argument): the HTTP timeout is that plus a margin. */
function defaultTimeout(method: string, args: unknown[], callTimeoutMs: number): number {
  if (method === "event.from" && typeof args[2] === "number" && Number.isFinite(args[2]))
    return Math.max(callTimeoutMs, args[2] * 1000 + 15_000);
  return callTimeoutMs;
}

function isReadOnly(method: string): boolean {
  const m = method.slice(method.indexOf(".") + 1);
  return m.startsWith("get_") || method === "event.from" || method.startsWith("system.");
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
