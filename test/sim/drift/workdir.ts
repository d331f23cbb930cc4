// What the xen-drift suites share: a temporary directory with the stack configuration xen-drift reads (the same
// keys the provider takes), a watch run in this process, and a wait for something it prints.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runWatch, type TimelineEvent, type WatchOptions } from "../../../provider/drift/watch";

/** A fresh directory holding config.json with the pool's URL and the given account (the password as a secret). */
export function configDir(prefix: string, url: string, username: string, password: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(
    path.join(dir, "config.json"),
    JSON.stringify({
      "xenserver:url": { value: url },
      "xenserver:username": { value: username },
      "xenserver:password": { value: password, secret: true },
    }),
  );
  return dir;
}

/** Resolves with `get()`'s first defined value, checking every 20 ms; fails naming `what` after
 * `ms` (generous: a loaded machine delays a watch's output, and a passing wait ends at once). */
export async function until<T>(what: string, get: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `xen-drift watch` running in this process: the JSON events it has printed so far, and how to end it. */
export interface RunningWatch {
  events: TimelineEvent[];
  stop(): Promise<void>;
}

/**
 * Starts `xen-drift watch` (stack "dev", JSON lines, no unmanaged objects unless `options` say otherwise) and
 * resolves once its first comparison is done; a watch that fails to start rejects at once.
 */
export async function startWatch(options: Partial<WatchOptions>): Promise<RunningWatch> {
  const events: TimelineEvent[] = [];
  const stop = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const done = runWatch({
    stack: "dev",
    format: "json",
    includeUnmanaged: false,
    out: (l) => events.push(JSON.parse(l)),
    ...options,
    signal: stop.signal,
    onReady: ready,
  });
  await Promise.race([isReady, done]);
  return {
    events,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}
