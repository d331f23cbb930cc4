/**
 * Shutdown and reboot paths (xapi_vm.ml clean_shutdown/shutdown/hard_shutdown/clean_reboot/hard_reboot,
 * message_forwarding.ml hard_shutdown/hard_reboot + cancel, xenopsd xenops_server.ml VM_shutdown_domain).
 * A clean request goes to the guest, which may acknowledge and halt, ignore it, or never acknowledge it
 * (guest-agent.ts `shutdown`); hard_shutdown and hard_reboot cancel clean operations still in flight.
 */
import { Xapi } from "../engine/xapi";
import { cancelInFlight, requestShutdown } from "./guest-requests";
import { boot, halt, rebootDomain } from "./vm-power";
import { chooseHost, prepareStart } from "./vm-boot-checks";
import { op } from "./vm-common";

/** Xapi_vm_helpers.shutdown_delay: after a shutdown xapi sleeps VM.shutdown_delay seconds. */
async function shutdownDelay(x: Xapi, vm: string): Promise<void> {
  const s = Number(x.store.tryGet("VM", vm)?.shutdown_delay ?? 0);
  if (s > 0) await x.sleep(s * 1000);
}

const HARD_SHUTDOWN_CANCELS = [
  "clean_shutdown",
  "clean_reboot",
  "hard_reboot",
  "pool_migrate",
  "call_plugin",
  "shutdown",
  "suspend",
];
const HARD_REBOOT_CANCELS = ["clean_shutdown", "clean_reboot", "pool_migrate", "call_plugin", "suspend"];

export function register(x: Xapi): void {
  const total = () => x.opts.shutdownTimeoutMs / 1000;
  op(x, "clean_shutdown", "clean_shutdown", async (xx, ctx, ref) => {
    await requestShutdown(xx, ctx, ref, "clean_shutdown", total());
    halt(xx, ref);
    await shutdownDelay(xx, ref);
  });
  op(x, "clean_reboot", "clean_reboot", async (xx, ctx, ref) => {
    await requestShutdown(xx, ctx, ref, "clean_reboot", total());
    rebootDomain(xx, ref);
  });
  // xapi_vm.ml shutdown: a clean shutdown with VM.shutdown_delay (when > 0) as its timeout; any failure of it
  // is followed by a hard shutdown.
  op(x, "shutdown", "shutdown", async (xx, ctx, ref) => {
    const delay = Number(xx.store.get("VM", ref).shutdown_delay ?? 0);
    try {
      await requestShutdown(xx, ctx, ref, "shutdown", delay > 0 ? delay : total());
    } catch {
      // The fallback below is the same for every failure, as in xapi.
    }
    if (xx.store.get("VM", ref).power_state !== "Halted") halt(xx, ref);
    await shutdownDelay(xx, ref);
  });
  op(x, "hard_shutdown", "hard_shutdown", async (xx, ctx, ref) => {
    await cancelInFlight(xx, ctx, ref, HARD_SHUTDOWN_CANCELS);
    // xapi_vm.ml hard_shutdown: a VM that became Halted meanwhile needs nothing more.
    if (xx.store.get("VM", ref).power_state === "Halted") return;
    halt(xx, ref);
    await shutdownDelay(xx, ref);
  });
  op(x, "hard_reboot", "hard_reboot", async (xx, ctx, ref) => {
    await cancelInFlight(xx, ctx, ref, HARD_REBOOT_CANCELS);
    // xapi_vm.ml hard_reboot: cancelling may have left the VM Halted; then it is started.
    if (xx.store.get("VM", ref).power_state !== "Halted") return rebootDomain(xx, ref);
    const host = chooseHost(xx, ref);
    prepareStart(xx, ref);
    boot(xx, ref, host, false);
  });
}
