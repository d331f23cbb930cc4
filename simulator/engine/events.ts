/** event.from / event.inject (docs/xapi-semantics.md §5): tokens, blocking, coalescing, valid_ref_counts. */
import { classByLower } from "./datamodel";
import { XapiError, fail } from "./errors";
import { EventBatch, EventRecord } from "../wire/xmlrpc";
import { Xapi } from "./xapi";

const pad = (n: number) => String(n).padStart(20, "0");

export function makeToken(gen: number, messageGen = 0): string {
  return `${pad(gen)},${pad(messageGen)}`;
}

function parseToken(token: string): number {
  if (token === "") return 0;
  const m = /^\s*(-?[0-9]+),(-?[0-9]+)\s*$/.exec(token);
  if (!m) return fail("EVENT_FROM_TOKEN_PARSE_FAILURE", token);
  return Number(m[1]);
}

interface Subscription {
  all: boolean;
  classes: Set<string>;
  objects: Set<string>;
}

function parseSubscription(classes: string[]): Subscription {
  const s: Subscription = { all: false, classes: new Set(), objects: new Set() };
  for (const c of classes) {
    if (c === "*") s.all = true;
    else {
      const slash = c.indexOf("/");
      if (slash >= 0) s.objects.add(c.slice(slash + 1));
      else s.classes.add(c.toLowerCase());
    }
  }
  return s;
}

function onlyTasks(sub: Subscription): boolean {
  return !sub.all && sub.objects.size === 0 && [...sub.classes].every((c) => c === "task");
}

function collect(x: Xapi, sub: Subscription, since: number): EventRecord[] {
  const changes = x.store.changesSince(
    since,
    (cls, ref) => sub.all || sub.classes.has(cls.toLowerCase()) || sub.objects.has(ref),
  );
  return changes.map((c) => {
    const e: EventRecord = {
      id: String(c.gen),
      timestamp: "0.0",
      class: c.cls.toLowerCase(),
      operation: c.op,
      ref: c.ref,
      cls: c.cls,
    };
    if (c.op !== "del") e.snapshot = x.store.get(c.cls, c.ref);
    return e;
  });
}

/**
 * xapi's event.from batching (xapi_event.ml `from` → `from_inner`, run through throttle.ml
 * `Batching.with_recursive_loop` with xapi_globs.ml `event_from_delay`, 50 ms / 50 ms since xapi 25.x): every call
 * first sleeps `delay_before` (none for task-only subscriptions: `event_from_task_delay`), then gathers; when
 * nothing matched it blocks until a matching change (`wait2`), sleeps delay_between/8 and gathers again, the
 * sleep doubling on each empty gather up to delay_between. Never returns empty before `timeout` seconds.
 */
export function eventFrom(
  x: Xapi,
  session: string,
  classes: string[],
  token: string,
  timeout: number,
): Promise<EventBatch> {
  const since = parseToken(token);
  const sub = parseSubscription(classes);
  const ms = !Number.isFinite(timeout) || timeout < 0 ? 86400_000 : timeout * 1000;
  const between = x.opts.eventFromDelayMs;
  const before = onlyTasks(sub) ? 0 : between;
  const batch = (): EventBatch => {
    const gen = x.store.generation;
    return { events: collect(x, sub, since), valid_ref_counts: x.store.counts(), token: makeToken(gen) };
  };
  const deadline = Date.now() + ms;
  if (before <= 0) {
    const first = batch();
    if (first.events.length > 0 || ms === 0) return Promise.resolve(first);
  }
  return new Promise((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    let pause: NodeJS.Timeout | undefined = undefined;
    // Batching.make: delay_initial = delay_between / 16; each recursive call doubles it first (so /8, /4 …).
    let step = between / 16;
    let sleeping = false;
    const finish = (r: EventBatch | XapiError) => {
      if (done) return;
      done = true;
      unsubscribe();
      cancelCloseHook();
      x.sessionListeners.delete(onLogout);
      if (timer) clearTimeout(timer);
      if (pause) clearTimeout(pause);
      if (r instanceof XapiError) reject(r);
      else resolve(r);
    };
    /** One gather: returns the batch when it has events or the timeout passed; otherwise blocks again. */
    const gather = () => {
      sleeping = false;
      const b = batch();
      if (b.events.length > 0 || Date.now() >= deadline) finish(b);
    };
    const sleepThenGather = (d: number) => {
      if (d <= 0) return gather();
      sleeping = true;
      pause = setTimeout(gather, d);
    };
    const onLogout = (s: string) => {
      if (s === session) finish(new XapiError("SESSION_INVALID", [session]));
    };
    // wait2: woken only by a change the subscription matches.
    const unsubscribe = x.store.onChange(() => {
      if (sleeping || done) return;
      if (collect(x, sub, since).length === 0) return;
      step = Math.min(between, step * 2);
      sleepThenGather(step);
    });
    x.sessionListeners.add(onLogout);
    const cancelCloseHook = x.onClose(() => finish(batch()));
    timer = setTimeout(() => finish(batch()), ms);
    timer.unref?.();
    if (before > 0) sleepThenGather(before);
  });
}

export function register(x: Xapi): void {
  x.on("event.from", (xx, ctx, [classes, token, timeout]) =>
    eventFrom(xx, ctx.session, classes as string[], token as string, timeout as number),
  );
  x.on("event.inject", (xx, _ctx, [cls, ref]) => {
    const name = classByLower.get(String(cls).toLowerCase()) === cls ? (cls as string) : undefined;
    if (!name || !xx.store.has(name, ref)) return fail("HANDLE_INVALID", String(cls), String(ref));
    const token = makeToken(xx.store.generation);
    xx.store.touch(name, ref as string);
    return token;
  });
  x.on("event.get_current_id", (xx) => xx.store.generation + 1);
  legacy(x);
}

/** The deprecated register/next pair: one queue per session, no coalescing. */
function legacy(x: Xapi): void {
  const regs = new Map<string, { sub: Set<string>; since: number }>();
  x.on("event.register", (xx, ctx, [classes]) => {
    const r = regs.get(ctx.session) ?? { sub: new Set<string>(), since: xx.store.generation };
    for (const c of classes as string[]) r.sub.add(c.toLowerCase());
    regs.set(ctx.session, r);
  });
  x.on("event.unregister", (_xx, ctx, [classes]) => {
    const r = regs.get(ctx.session);
    if (r) for (const c of classes as string[]) r.sub.delete(c.toLowerCase());
  });
  x.on("event.next", async (xx, ctx) => {
    const r = regs.get(ctx.session);
    if (!r) return fail("SESSION_NOT_REGISTERED", ctx.session);
    const b = await eventFrom(xx, ctx.session, [...r.sub], makeToken(r.since), 86400);
    r.since = Number(b.token.split(",")[0]);
    const ts = `${Math.floor(Date.now() / 1000)}.`;
    return b.events.map((e) => ({ ...e, timestamp: ts }));
  });
}
