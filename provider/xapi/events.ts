/**
 * The watch loop, modelled on Xen Orchestra's (docs/xapi-semantics.md §5.3): a token from `event.inject("pool", …)`, then
 * every record of the watched classes, then `event.from` long-polls. A full resync follows EVENTS_LOST,
 * SESSION_INVALID and a rejected token; network errors back off exponentially; stop() ends it cleanly.
 */
import { XapiTransportError, isTransportError, isXapiError } from "./errors";
import type { EventBatch } from "./event-types";
import type { XapiRecords } from "./generated/types";
import type { Ref } from "./ref";
import type { TaskRpc } from "./tasks";
import type { Logger } from "./tls";

export type SyncReason = "initial" | "events-lost" | "session" | "token" | "error";

type RecordOf<C extends string> = C extends keyof XapiRecords ? XapiRecords[C] : Record<string, unknown>;

/**
 * One change seen by watch(), typed by class: `watch(["VM", "VDI"], (ev) => …)` narrows `ev.record` to
 * `VMRecord` once `ev.class === "VM"` is checked.
 */
export type WatchEvent<C extends string = string> =
  | (C extends unknown
      ? { kind: "add" | "mod"; class: C; ref: Ref<C>; record: RecordOf<C> } | { kind: "del"; class: C; ref: Ref<C> }
      : never)
  /** A full (re)sync finished: every current object was reported (add/mod) and every vanished one (del). */
  | { kind: "synced"; reason: SyncReason };

export type WatchHandler<C extends string = string> = (ev: WatchEvent<C>) => void | Promise<void>;

export interface WatchOptions {
  /** event.from long-poll timeout in seconds (default 60.1, as XO). */
  pollTimeoutS?: number;
  /** Pause between polls so that bursts arrive as one batch (default 0: xapi already batches). */
  debounceMs?: number;
  /** First and maximum delays of the exponential backoff after a network error (ms). */
  backoffMs?: [number, number];
}

export interface Watcher {
  /** Resolves once the initial sync has been delivered. */
  readonly ready: Promise<void>;
  /** Stops the loop and waits for it to end. */
  stop(): Promise<void>;
}

export interface WatchRpc extends TaskRpc {
  /** Logs in again (SESSION_INVALID seen by the loop itself). */
  relogin(): Promise<void>;
}

export function startWatch(
  rpc: WatchRpc,
  logger: Logger,
  classes: string[],
  handler: WatchHandler,
  opts: WatchOptions = {},
): Watcher {
  const pollTimeoutS = opts.pollTimeoutS ?? 60.1;
  const [backoffMin, backoffMax] = opts.backoffMs ?? [500, 30_000];
  const byLower = new Map(classes.map((c) => [c.toLowerCase(), c]));
  const known = new Map<string, Set<string>>(classes.map((c) => [c, new Set<string>()]));
  let stopped = false;
  let poll: AbortController | undefined;
  let wake: (() => void) | undefined;
  let readyResolve!: () => void;
  let readyReject!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  ready.catch(() => undefined);

  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });

  const emit = async (ev: WatchEvent): Promise<void> => {
    try {
      await handler(ev);
    } catch (e) {
      logger.warn(
        `watch handler failed on ${ev.kind}${"ref" in ev ? ` ${ev.class} ${ev.ref}` : ""}: ${(e as Error).message}`,
      );
    }
  };

  const call = (method: string, args: unknown[], timeoutMs?: number): Promise<unknown> => {
    poll = new AbortController();
    return rpc.call(method, args, {
      signal: poll.signal,
      timeoutMs,
      unlimited: true,
      noSessionRetry: method === "event.from",
    });
  };

  /** Token first, then records: a change between the two shows up in the first poll (XO's order). */
  async function sync(reason: SyncReason): Promise<string> {
    const pools = (await call("pool.get_all", [])) as string[];
    const token = (await call("event.inject", ["pool", pools[0]])) as string;
    for (const cls of classes) {
      const records = (await call(`${cls}.get_all_records`, [])) as Record<string, Record<string, unknown>>;
      const seen = known.get(cls)!;
      const now = new Set(Object.keys(records));
      for (const ref of now) {
        if (stopped) return token;
        await emit({ kind: seen.has(ref) ? "mod" : "add", class: cls, ref, record: records[ref] });
      }
      for (const ref of seen) if (!now.has(ref)) await emit({ kind: "del", class: cls, ref });
      known.set(cls, now);
    }
    await emit({ kind: "synced", reason });
    return token;
  }

  async function run(): Promise<void> {
    let token: string | undefined;
    let reason: SyncReason = "initial";
    let backoff = backoffMin;
    while (!stopped) {
      try {
        if (token === undefined) {
          token = await sync(reason);
          if (reason === "initial") readyResolve();
        }
        if (opts.debounceMs) await sleep(opts.debounceMs);
        if (stopped) break;
        const batch = (await call(
          "event.from",
          [classes, token, pollTimeoutS],
          pollTimeoutS * 1000 + 15_000,
        )) as EventBatch;
        backoff = backoffMin;
        for (const ev of batch.events ?? []) {
          const cls = byLower.get(String(ev.class).toLowerCase());
          if (!cls) continue;
          const set = known.get(cls)!;
          if (ev.operation === "del") {
            set.delete(ev.ref);
            await emit({ kind: "del", class: cls, ref: ev.ref });
          } else if (ev.snapshot) {
            const kind = set.has(ev.ref) ? "mod" : "add";
            set.add(ev.ref);
            await emit({ kind, class: cls, ref: ev.ref, record: ev.snapshot });
          }
        }
        token = batch.token;
      } catch (e) {
        if (stopped) break;
        if (isXapiError(e, "EVENTS_LOST")) {
          reason = "events-lost";
        } else if (isXapiError(e, "SESSION_INVALID")) {
          reason = "session";
          await rpc.relogin().catch((err) => logger.warn(`watch: login failed: ${(err as Error).message}`));
        } else if (isXapiError(e, "EVENT_FROM_TOKEN_PARSE_FAILURE")) {
          reason = "token";
        } else if (isTransportError(e) && e.code === "XAPI_CLIENT_CLOSED") {
          break;
        } else {
          if (reason === "initial" && token === undefined && !isTransportError(e)) {
            readyReject(e);
            break;
          }
          logger.warn(`watch: ${(e as Error).message}; retrying in ${backoff} ms`);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, backoffMax);
          // After a network error the token is still good; an API error resyncs.
          if (!isTransportError(e)) {
            reason = "error";
            token = undefined;
          }
          continue;
        }
        logger.debug(`watch: full resync (${reason})`);
        token = undefined;
      }
    }
  }

  const done = run().catch((e) => {
    readyReject(e);
    logger.warn(`watch loop ended: ${(e as Error).message}`);
  });

  return {
    ready,
    async stop() {
      stopped = true;
      poll?.abort(new XapiTransportError("XAPI_ABORTED", "watch stopped"));
      wake?.();
      await done;
      readyReject(new XapiTransportError("XAPI_ABORTED", "watch stopped before the initial sync"));
    },
  };
}
