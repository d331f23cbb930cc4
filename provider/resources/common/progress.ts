/**
 * Progress of long operations, shown on the row of the resource being changed: the runtime runs each provider call
 * inside withResourceStatus(urn), and the steps inside it call progressReporter() or reportStatus(). Messages go to
 * the engine as ephemeral status (provider/status/engine-log.ts), at most one a second per resource. Without an
 * engine connection or a URN (state written before the sdk sent it), they go to the process's stderr as before,
 * which the engine shows among the stack's diagnostics.
 *
 * Messages name the step, the object and a percentage: never an input wholesale, so no credential can reach them.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { engineAddress, engineLog, type LogSink } from "../../status/engine-log";
import { LatestWins } from "../../status/throttle";

/** The hidden input (and output) in which the sdk passes a resource's own URN; "__" keys are never displayed. */
export const resourceUrnKey = "__resourceUrn";

/** The URN held in a property bag, if it looks like one. */
export function urnIn(props: Record<string, unknown> | undefined): string | undefined {
  const urn = props?.[resourceUrnKey];
  return typeof urn === "string" && urn.startsWith("urn:pulumi:") ? urn : undefined;
}

class ResourceStatus {
  private readonly throttle: LatestWins;
  constructor(
    readonly urn: string | undefined,
    label?: string,
  ) {
    this.throttle = new LatestWins((text) => deliver(urn, label ? `${label}: ${text}` : text, text));
  }
  show(text: string): void {
    this.throttle.offer(text);
  }
  /** After a success the latest step stays on the row ("…: 100%"); after a failure, the error does. */
  end(ok: boolean): void {
    if (ok) this.throttle.flush();
    else this.throttle.close();
  }
}

const operations = new AsyncLocalStorage<ResourceStatus>();
/** Steps run outside any provider call (tests, benchmarks): stderr, throttled alike. */
const detached = new ResourceStatus(undefined);

/**
 * Runs one provider call of the resource `urn`: what its steps report shows on that resource. `label` ("Vm <uuid>")
 * prefixes the stderr lines written instead when there is no URN or no engine, to say which resource they are about.
 */
export async function withResourceStatus<T>(urn: string | undefined, fn: () => Promise<T>, label?: string): Promise<T> {
  const status = new ResourceStatus(urn, label);
  let ok = false;
  try {
    const r = await operations.run(status, fn);
    ok = true;
    return r;
  } finally {
    status.end(ok);
  }
}

/**
 * Returns a task-progress callback (0..1) for the step `what`: "<what>: N%" at each 10 % step, thinned further to
 * one message a second. The resource is the one of the call that creates the reporter, whichever context calls it
 * later (XAPI task events arrive on the client's shared watcher).
 */
export function progressReporter(what: string): (fraction: number) => void {
  const status = operations.getStore() ?? detached;
  let tenth = -1;
  return (fraction) => {
    if (!Number.isFinite(fraction)) return;
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (Math.floor(pct / 10) > tenth) {
      tenth = Math.floor(pct / 10);
      status.show(`${what}: ${pct}%`);
    }
  };
}

/** Shows what the current call is doing now (a step without a percentage: "waiting for an IP address"). */
export function reportStatus(text: string): void {
  (operations.getStore() ?? detached).show(text);
}

/**
 * A note worth keeping (a restart, a hard shutdown, an MTU that takes effect later): listed under the resource
 * in the update's Diagnostics, not as a passing status; never thinned. Without a URN or an engine, the same
 * stderr line as before ("pulumi-xenserver: warning: …").
 */
export function reportNotice(text: string, severity: "info" | "warning" = "info"): void {
  const line = `${severity === "warning" ? "warning: " : ""}${text}`;
  const urn = operations.getStore()?.urn;
  const to = urn ? engine() : null;
  if (!urn || !to) return toStderr(line);
  void to.send({ urn, message: text, ephemeral: false, severity }).then((ok) => {
    if (!ok) giveUp(to, line);
  });
}

let sink: LogSink | null | undefined;

/** The engine's Log client, or null when this process has no engine (or the engine stopped answering). */
function engine(): LogSink | null {
  if (sink === undefined) {
    const address = engineAddress();
    sink = address ? engineLog(address) : null;
  }
  return sink;
}

/** Tests: send status to `s` (null: to stderr) instead of the engine found in the process's arguments. */
export function useLogSink(s: LogSink | null | undefined): void {
  sink?.close();
  sink = s;
}

/** `text` to the engine, on the resource's row; `line` to stderr when that cannot be done. */
function deliver(urn: string | undefined, line: string, text: string): void {
  const to = urn ? engine() : null;
  if (!urn || !to) return toStderr(line);
  void to.send({ urn, message: text, ephemeral: true }).then((ok) => {
    if (!ok) giveUp(to, line);
  });
}

/** One failed delivery and the engine is given up on for this process: a slow engine must not pile up calls. */
function giveUp(to: LogSink, line: string): void {
  if (sink === to) {
    to.close();
    sink = null;
  }
  toStderr(line);
}

function toStderr(text: string): void {
  process.stderr.write(`pulumi-xenserver: ${text}\n`);
}
