/** Consoles exist while a domain runs: created at start, removed at shutdown (as xapi_xenops does). */
import { Xapi } from "../engine/xapi";

export function createConsole(x: Xapi, vm: string, host: string): void {
  if ((x.store.get("VM", vm).consoles as string[]).length > 0) return;
  const ref = x.store.create("console", { protocol: "rfb", location: "", VM: vm, other_config: {} });
  const address = x.store.tryGet("host", host)?.address ?? "127.0.0.1";
  x.store.set(
    "console",
    ref,
    "location",
    `https://${String(address)}/console?uuid=${String(x.store.get("console", ref).uuid)}`,
  );
}

export function destroyConsoles(x: Xapi, vm: string): void {
  for (const c of [...(x.store.get("VM", vm).consoles as string[])]) x.store.destroy("console", c);
}
