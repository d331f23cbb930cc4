/**
 * Child process of bench/client.ts: runs the simulator with `vms` VMs, so that the benchmark process measures
 * only client CPU. Sends `{ url }` to the parent once ready; exits when the parent disconnects.
 */
import { startSimulator } from "../simulator";
import { XapiClient } from "../provider/xapi";

export const BENCH_USER = "root";
export const BENCH_PASSWORD = "bench-password";

async function main(): Promise<void> {
  const vms = Number(process.argv[2] ?? 1000);
  const s = await startSimulator({ username: BENCH_USER, password: BENCH_PASSWORD, seed: { templates: true } });
  const c = await XapiClient.connect({ url: s.url, username: BENCH_USER, password: BENCH_PASSWORD });
  const all = await c.call("VM.get_all_records");
  const template = Object.entries(all).find(([, r]) => r.is_a_template)![0];
  const existing = Object.values(all).filter((r) => !r.is_a_template && !r.is_control_domain).length;
  // One clone at a time: concurrent clones of one template conflict (OTHER_OPERATION_IN_PROGRESS), as in xapi.
  for (let i = existing; i < vms; i++) {
    const vm = await c.call("VM.clone", template as never, `bench-${i}`);
    await c.call("VM.set_is_a_template", vm, false);
  }
  await c.close();
  process.send?.({ url: s.url });
  process.on("disconnect", () => void s.close().then(() => process.exit(0)));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
