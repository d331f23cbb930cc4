// What the xen-drift suites share: a temporary directory with the stack configuration xen-drift reads (the same
// keys the provider takes), and a wait for something a running watch prints.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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
