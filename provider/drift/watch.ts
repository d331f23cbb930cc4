// xen-drift watch: compares again after every batch of events and every resync, and reports what changed since
// the previous comparison — new drift as it happens, and drift undone (reverted) so that it stays on the
// timeline. While the stack's update lock is held (its own `pulumi up`), findings are held; once it ends the
// desired state is reloaded and compared again, so the stack's own changes are never reported. Never writes to XAPI.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findingKey, type Change, type Finding } from "./compare";
import { Detector, type PoolWatch } from "./detector";
import { applyIgnores, readIgnoreFile, type IgnoreRule } from "./ignore";
import { changeLine, findingLines } from "./report";
import { configFrom, desired, managedResources, stackIdentity, type CommonOptions, type Deployment } from "./state";
import { Metrics } from "./metrics";
import { AuditTail } from "./audit";

export interface WatchOptions extends CommonOptions {
  webhook?: string;
  exec?: string;
  metricsPort?: number;
  auditLog?: boolean;
  /** Where lines go (default stdout). */
  out?: (line: string) => void;
  /** Polling period of the state and the lock, ms (default 250). */
  statePollMs?: number;
  /** Ends the watch (tests, signals). */
  signal?: AbortSignal;
  /** Called once the initial comparison is reported. */
  onReady?: () => void;
  /** Called when findings start being held (the stack's update lock is taken) and when they stop (reloaded). */
  onHeld?: (held: boolean) => void;
}

export type TimelineEvent =
  | { event: "drift"; at: string; finding: Finding; change?: Change }
  | { event: "resolved"; at: string; finding: Finding; change?: Change; openedAt: string; durationMs: number }
  | { event: "resync"; at: string; pool: string; reason: string }
  | { event: "expired-ignore"; at: string; rule: IgnoreRule };

interface Open {
  finding: Finding;
  change?: Change;
  openedAt: string;
}

/** The stack's state file and lock directory when the backend is a local directory (file://). */
export function fileBackend(deployment: Deployment, stackName: string, backendUrl: string | undefined) {
  if (!backendUrl?.startsWith("file://")) return undefined;
  const root = path.join(backendUrl.slice("file://".length), ".pulumi");
  const urn = String(deployment.deployment?.resources?.[0]?.urn ?? "");
  const project = /^urn:pulumi:[^:]+::([^:]+)::/.exec(urn)?.[1];
  const candidates = [
    project && path.join(root, "stacks", project, `${stackName}.json`),
    path.join(root, "stacks", `${stackName}.json`),
  ].filter((p): p is string => !!p);
  const locks = [
    project && path.join(root, "locks", "organization", project, stackName),
    path.join(root, "locks", stackName),
  ];
  return {
    stateFiles: candidates,
    lockDirs: locks.filter((p): p is string => !!p),
  };
}

/** Whether any lock file is present (the backend holds the stack's lock during an update). */
export function lockHeld(dirs: string[]): boolean {
  return dirs.some((d) => {
    try {
      return fs.readdirSync(d).some((f) => f.endsWith(".json"));
    } catch {
      return false;
    }
  });
}

function mtimes(files: string[]): string {
  return files
    .map((f) => {
      try {
        return String(fs.statSync(f).mtimeMs);
      } catch {
        return "-";
      }
    })
    .join(",");
}

/** POSTs with retries and exponential backoff (0.5 s, 1 s, 2 s, 4 s); gives up after 5 attempts. */
export async function postWithRetry(url: string, body: string, attempts = 5, firstDelayMs = 500): Promise<boolean> {
  let delay = firstDelayMs;
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (res.ok) return true;
      if (res.status < 500 && res.status !== 429) return false; // the receiver refuses it: retrying will not help
    } catch {
      // network error: retry
    }
    if (i < attempts - 1) await new Promise((r) => setTimeout(r, delay));
    delay *= 2;
  }
  return false;
}

function line(ev: TimelineEvent, format: string): string {
  if (format === "json") return JSON.stringify(ev);
  switch (ev.event) {
    case "drift":
      return ev.change
        ? `${ev.at} drift ${ev.finding.type} ${ev.finding.name} ${changeLine(ev.change)}${ev.finding.actor ? ` (${actorShort(ev.finding)})` : ""}`
        : `${ev.at} drift ${findingLines(ev.finding)[0]}`;
    case "resolved":
      return (
        `${ev.at} ` +
        `resolved ${ev.finding.type} ${ev.finding.name}${ev.change ? ` ${ev.change.path}` : ` (${ev.finding.kind})`} ` +
        `after ${ev.durationMs} ms (reverted before anyone acted)`
      );
    case "resync":
      return `${ev.at} resync pool ${ev.pool} (${ev.reason}): compared everything again`;
    case "expired-ignore":
      return `${ev.at} expired ignore rule ${ev.rule.resource} ${ev.rule.attribute ?? "*"} (${ev.rule.reason}), applying no longer`;
  }
}

function actorShort(f: Finding): string {
  const a = f.actor;
  if (!a) return "";
  if (a === "unknown") return "by unknown";
  return `by ${a.user}${a.originator ? ` via ${a.originator}` : ""}`;
}

export async function runWatch(o: WatchOptions): Promise<void> {
  const out = o.out ?? ((l: string) => void process.stdout.write(l + "\n"));
  const pollMs = o.statePollMs ?? 250;
  const metrics = new Metrics(o.stack);
  const server = o.metricsPort !== undefined ? await metrics.serve(o.metricsPort) : undefined;
  const rules: IgnoreRule[] = o.ignoreFile ? readIgnoreFile(o.ignoreFile) : [];
  const open = new Map<string, Open>();
  let held = false;
  const setHeld = (h: boolean) => {
    if (h === held) return;
    held = h;
    o.onHeld?.(h);
  };
  let detector: Detector | undefined;
  let stopped = false;
  const backendUrl = process.env.PULUMI_BACKEND_URL;
  let backend: ReturnType<typeof fileBackend>;
  const reported = new Set<IgnoreRule>();

  const emit = (ev: TimelineEvent): void => {
    out(line(ev, o.format));
    const body = JSON.stringify(ev);
    if (o.webhook)
      void postWithRetry(o.webhook, body).then((ok) => {
        if (!ok) process.stderr.write(`xen-drift: webhook ${o.webhook} did not accept an event after 5 attempts\n`);
      });
    if (o.exec) {
      const child = spawn(o.exec, {
        shell: true,
        stdio: ["pipe", "inherit", "inherit"],
        env: { ...process.env, XEN_DRIFT_EVENT: body },
      });
      child.stdin.end(body);
      child.on("error", (e) => process.stderr.write(`xen-drift: --exec: ${e.message}\n`));
    }
  };

  /** Each pool's audit log, read as it grows (dropped with its detector on a reload). */
  const tails = new WeakMap<PoolWatch, AuditTail>();
  const tailOf = (p: PoolWatch): AuditTail => {
    let t = tails.get(p);
    if (!t) tails.set(p, (t = new AuditTail(p.client)));
    return t;
  };

  /**
   * Compares the pool (all pools when undefined) and reports what opened and closed since last time. `full`: every
   * resource; otherwise only those whose comparison read something that changed since the last one.
   */
  const compare = async (pool: PoolWatch | undefined, full: boolean, eventAt?: number): Promise<void> => {
    if (!detector || held) return;
    if (pool && !detector.pools.includes(pool)) return; // a pool of the detector a reload replaced
    const now = new Date();
    const pools = pool ? [pool] : detector.pools;
    const found: Finding[] = [];
    for (const p of pools) found.push(...(await detector.comparePool(p, now, !full)));
    const result = applyIgnores(found, rules, now);
    for (const r of result.expired)
      if (!reported.has(r)) {
        reported.add(r);
        emit({ event: "expired-ignore", at: now.toISOString(), rule: r });
      }
    const current = new Map<string, { finding: Finding; change?: Change }>();
    for (const f of result.findings) {
      if (f.changes.length) for (const c of f.changes) current.set(findingKey(f, c), { finding: f, change: c });
      else current.set(findingKey(f), { finding: f });
    }
    const inScope = (f: Finding) => pools.some((p) => p.profile === f.pool);
    const readLogs = new Map<PoolWatch, Promise<boolean>>(); // one audit-log read per pool and comparison
    for (const [key, cur] of current) {
      if (open.has(key)) continue;
      if (o.auditLog !== false) {
        const p = pools.find((x) => x.profile === cur.finding.pool)!;
        const tail = tailOf(p);
        if (!readLogs.has(p)) readLogs.set(p, tail.read(now));
        cur.finding.actor = (await readLogs.get(p)) ? tail.actor(cur.finding, now) : "unknown";
      }
      open.set(key, { ...cur, openedAt: now.toISOString() });
      cur.finding.firstSeen = now.toISOString();
      emit({ event: "drift", at: now.toISOString(), finding: cur.finding, change: cur.change });
      if (eventAt !== undefined) metrics.observeLag((Date.now() - eventAt) / 1000);
    }
    for (const [key, was] of open) {
      if (current.has(key) || !inScope(was.finding)) continue;
      open.delete(key);
      emit({
        event: "resolved",
        at: now.toISOString(),
        finding: was.finding,
        change: was.change,
        openedAt: was.openedAt,
        durationMs: now.getTime() - Date.parse(was.openedAt),
      });
    }
    metrics.setFindings([...open.values()].map((x) => x.finding));
    metrics.compared(now);
  };

  // Comparisons run one at a time (each reads and updates `open`); requests that arrive meanwhile are merged.
  let chain = Promise.resolve();
  const queued = new Map<PoolWatch | undefined, { full: boolean; at?: number }>();
  const schedule = (pool: PoolWatch | undefined, full: boolean, eventAt?: number): Promise<void> => {
    const q = queued.get(pool);
    if (q) {
      q.full ||= full;
      if (eventAt !== undefined) q.at = Math.min(q.at ?? eventAt, eventAt);
      return chain;
    }
    queued.set(pool, { full, at: eventAt });
    chain = chain
      .then(() => {
        const r = queued.get(pool)!;
        queued.delete(pool);
        return compare(pool, r.full, r.at);
      })
      .catch((e) => void process.stderr.write(`xen-drift: comparison failed: ${(e as Error).message}\n`));
    return chain;
  };

  const load = async (): Promise<void> => {
    const { deployment, config } = await desired(o);
    backend = o.stateFile ? { stateFiles: [o.stateFile], lockDirs: [] } : fileBackend(deployment, o.stack, backendUrl);
    const resources = managedResources(deployment);
    const next = new Detector({
      stack: stackIdentity(deployment, o.stack),
      resources,
      config: configFrom(config),
      includeUnmanaged: o.includeUnmanaged,
      onChange: (p, cause) => {
        if (cause.reason && cause.reason !== "initial") {
          metrics.resync(p.profile);
          emit({ event: "resync", at: new Date().toISOString(), pool: p.profile, reason: cause.reason });
        }
        if (cause.reason === "initial") return;
        void schedule(p, !!cause.reason, cause.reason ? undefined : cause.at);
      },
    });
    await next.start();
    const old = detector;
    detector = next;
    await old?.stop();
  };

  await load();
  await schedule(undefined, true);
  o.onReady?.();

  // The state and the lock, polled: a new state (an update ended, or a refresh) reloads the desired state.
  let lastState = backend ? mtimes(backend.stateFiles) : "";
  let reloading = false; // one reload at a time: reading the stack takes longer than a poll period
  const poll = setInterval(() => {
    if (stopped || !backend || reloading) return;
    const lock = lockHeld(backend.lockDirs);
    const state = mtimes(backend.stateFiles);
    if (lock) {
      setHeld(true);
      return;
    }
    if (held || state !== lastState) {
      setHeld(true); // stays held until the reload is compared
      reloading = true;
      lastState = state;
      void load()
        .then(() => {
          reloading = false;
          setHeld(false);
          return schedule(undefined, true);
        })
        .catch((e) => {
          reloading = false;
          setHeld(false);
          process.stderr.write(`xen-drift: reloading the stack failed: ${(e as Error).message}\n`);
        });
    }
  }, pollMs);

  await new Promise<void>((resolve) => {
    const end = () => resolve();
    if (o.signal) {
      if (o.signal.aborted) end();
      o.signal.addEventListener("abort", end, { once: true });
    } else {
      process.once("SIGINT", end);
      process.once("SIGTERM", end);
    }
  });
  stopped = true;
  clearInterval(poll);
  await detector?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}
