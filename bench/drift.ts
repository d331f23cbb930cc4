// npm run bench:drift: detection latency of `xen-drift watch` on a stack of 500 managed networks, with the
// simulator's event.from batching at xapi's 50 ms, over 200 out-of-band changes (the time from the change's
// answer to the drift line on the watcher's stdout), and the watcher's resident memory with 10,000 objects of a
// watched class in the pool. The scheduled way of finding drift is timed beside it: every resource's read()
// (what `pulumi refresh` asks the provider for), in this process, without the engine's own overhead.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { startSimulator } from "../simulator";
import { XapiClient } from "../provider/xapi";
import { setConnector } from "../provider/resources/common/connection";
import { resourceKinds } from "../provider/resources/registry";

const { Network: network } = resourceKinds;

const MANAGED = 500;
const TOTAL = 10_000;
const CHANGES = 200;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main(): Promise<void> {
  const password = "bench-drift";
  const sim = await startSimulator({ port: 0, username: "root", password, hosts: 2, eventFromDelayMs: 50 });
  const xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-drift-"));
  const [poolRef] = await xapi.call<string[]>("pool.get_all");
  const poolUuid = await xapi.call<string>("pool.get_uuid", poolRef);
  const resources: Record<string, unknown>[] = [];
  const refs: string[] = [];
  for (let i = 0; i < MANAGED; i++) {
    const name = `managed-${i}`;
    const ref = await xapi.call<string>("network.create", {
      name_label: name,
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: [],
    });
    const rec = await xapi.call<{ uuid: string; bridge: string }>("network.get_record", ref);
    refs.push(ref);
    resources.push({
      urn: `urn:pulumi:bench::drift::pulumi-nodejs:xenserver:Network::${name}`,
      type: "pulumi-nodejs:xenserver:Network",
      custom: true,
      id: rec.uuid,
      outputs: {
        name,
        description: "",
        mtu: 1500,
        otherConfig: {},
        tags: [],
        uuid: rec.uuid,
        poolUuid,
        bridge: rec.bridge,
        pifs: [],
        missingOn: [],
      },
    });
  }
  // The rest of the 10,000 objects: unmanaged networks, in the watched class, made in-process (fast).
  for (let i = MANAGED; i < TOTAL; i++)
    sim.store.create("network", { name_label: `other-${i}`, MTU: 1500, other_config: {}, tags: [] });
  const stateFile = path.join(dir, "state.json");
  fs.writeFileSync(stateFile, JSON.stringify({ version: 3, deployment: { resources } }));
  const configFile = path.join(dir, "config.json");
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: password },
    }),
  );

  // The scheduled way: read() of every resource, as a refresh asks of the provider.
  const settings: Record<string, string> = {
    "xenserver:url": sim.url,
    "xenserver:username": "root",
    "xenserver:password": password,
  };
  setConnector(async () => xapi as never);
  const t0 = performance.now();
  for (const r of resources)
    await network.read(String(r.id), r.outputs as Record<string, unknown>, { config: { get: (k) => settings[k] } });
  const refreshMs = performance.now() - t0;
  setConnector(undefined);

  const child = spawn(
    process.execPath,
    [
      path.join(__dirname, "../provider/drift/cli.js"),
      "watch",
      "--stack",
      "bench",
      "--state-file",
      stateFile,
      "--config",
      configFile,
      "--format",
      "json",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const waiting = new Map<string, (at: number) => void>();
  let readyResolve!: () => void;
  const started = new Promise<void>((r) => (readyResolve = r));
  readline.createInterface({ input: child.stdout! }).on("line", (l) => {
    const at = performance.now();
    const ev = JSON.parse(l) as { event: string; finding?: { name: string }; change?: { actual: unknown } };
    if (ev.event === "drift" && ev.finding) waiting.get(`${ev.finding.name}=${String(ev.change?.actual)}`)?.(at);
  });
  // Ready once a first change is reported (the initial comparison prints nothing when in sync).
  const probe = new Promise<number>((r) => waiting.set(`managed-0=probe`, r));
  const poll = setInterval(() => void xapi.call("network.set_name_label", refs[0], "probe"), 500);
  await probe;
  clearInterval(poll);
  readyResolve();
  await started;

  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const idx = 1 + (i % (MANAGED - 1));
    const value = `changed-${i}`;
    const seen = new Promise<number>((r) => waiting.set(`managed-${idx}=${value}`, r));
    await xapi.call("network.set_name_label", refs[idx], value);
    const changedAt = performance.now();
    const at = await Promise.race([
      seen,
      new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`no drift line for change ${i}`)), 10_000)),
    ]);
    latencies.push(Math.max(0, at - changedAt));
  }
  const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await xapi.close();
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const p50 = pct(latencies, 50);
  const p99 = pct(latencies, 99);
  console.log("| measure | value |\n|---|---|");
  console.log(`| managed objects | ${MANAGED} (networks) |`);
  console.log(`| objects in the pool's watched class | ${TOTAL} |`);
  console.log(`| event.from batching | 50 ms |`);
  console.log(`| detection latency p50 / p99 over ${CHANGES} changes | ${p50.toFixed(1)} ms / ${p99.toFixed(1)} ms |`);
  console.log(`| read() of every resource (refresh's provider side, no engine) | ${refreshMs.toFixed(0)} ms |`);
  console.log(`| watcher resident memory | ${rssMb.toFixed(0)} MB |`);
  console.log(
    `drift: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${CHANGES} changes; refresh reads (no engine) ${refreshMs.toFixed(0)} ms (C/A = ${(refreshMs / p50).toFixed(0)}); watcher rss ${rssMb.toFixed(0)} MB with ${TOTAL} objects`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
