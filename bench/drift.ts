// npm run bench:drift: detection latency of `xen-drift watch` on a stack of 500 managed networks deployed through
// the real Pulumi engine (Automation API, file:// backend), with the simulator's event.from batching at xapi's
// 50 ms, over 200 out-of-band changes: the time from the change's answer to its drift line on the watcher's
// stdout. Beside it, in the same run, the scheduled way of finding drift on the same stack: the time of
// `pulumi refresh --preview-only --expect-no-changes` (stack.previewRefresh). The pool holds 10,000 networks (the
// watched class) throughout; the watcher's resident memory is read at the end.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import * as auto from "@pulumi/pulumi/automation";
import { startSimulator } from "../simulator";
import { engineBinDir, repoRoot } from "./engine";
import { XapiClient } from "../provider/xapi";
import * as xen from "../sdk";

// The figures; smaller ones through the environment, to try the bench out quickly.
const MANAGED = Number(process.env.BENCH_MANAGED ?? 500);
const TOTAL = Number(process.env.BENCH_TOTAL ?? 10_000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Undone when the bench fails half-way: the simulator, the temporary directory, the watcher. */
const onFailure: Array<() => unknown> = [];

const say = (msg: string) => void process.stderr.write(`bench:drift: ${msg}\n`);

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<void> {
  // Each change drifts a resource not drifted yet: a drifted attribute changing again opens no new finding.
  if (CHANGES >= MANAGED) throw new Error(`BENCH_CHANGES (${CHANGES}) must be below BENCH_MANAGED (${MANAGED})`);
  const password = "bench-drift";
  const sim = await startSimulator({ port: 0, username: "root", password, hosts: 2, eventFromDelayMs: 50 });
  onFailure.push(() => sim.close());
  // The pool's other networks, unmanaged, made in-process (fast): 10,000 objects of the watched class in all.
  for (let i = MANAGED; i < TOTAL; i++)
    sim.store.create("network", { name_label: `other-${i}`, MTU: 1500, other_config: {}, tags: [] });

  const binDir = engineBinDir();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-drift-"));
  onFailure.push(() => fs.rmSync(work, { recursive: true, force: true }));
  const projectDir = path.join(work, "project");
  const stateDir = path.join(work, "state");
  for (const d of [projectDir, stateDir, path.join(work, "home")]) fs.mkdirSync(d);
  // The dynamic-provider plugin loads @pulumi/pulumi from the project directory: this checkout's.
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(projectDir, "node_modules"));
  const env: Record<string, string> = {
    PULUMI_HOME: path.join(work, "home"),
    PULUMI_CONFIG_PASSPHRASE: "bench-drift",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  };
  const stack = await auto.LocalWorkspace.createOrSelectStack(
    {
      stackName: "bench",
      projectName: "drift-bench",
      program: async () => {
        for (let i = 0; i < MANAGED; i++) new xen.Network(`managed-${i}`, { name: `managed-${i}` });
      },
    },
    {
      workDir: projectDir,
      pulumiCommand: await auto.PulumiCommand.get({ root: path.dirname(binDir) }),
      pulumiHome: env.PULUMI_HOME,
      envVars: env,
      projectSettings: { name: "drift-bench", runtime: "nodejs", backend: { url: env.PULUMI_BACKEND_URL } },
      secretsProvider: "passphrase",
    },
  );
  await stack.setConfig("xenserver:url", { value: sim.url });
  await stack.setConfig("xenserver:username", { value: "root" });
  await stack.setConfig("xenserver:password", { value: password, secret: true });

  say(`deploying ${MANAGED} networks with pulumi up…`);
  let t = performance.now();
  const up = await stack.up();
  const deployMs = performance.now() - t;
  if (up.summary.resourceChanges?.create !== MANAGED + 1) throw new Error(`up made ${JSON.stringify(up.summary)}`);
  const loadAtRefresh = load();
  say("pulumi refresh --preview-only --expect-no-changes…");
  t = performance.now();
  await stack.previewRefresh({ expectNoChanges: true }); // pulumi refresh --preview-only --expect-no-changes
  const refreshMs = performance.now() - t;

  const xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
  const refs = new Map<string, string>();
  const refOf = (name: string) => refs.get(name) as never;
  for (const [ref, r] of Object.entries(
    await xapi.call<Record<string, { name_label: string }>>("network.get_all_records"),
  ))
    if (r.name_label.startsWith("managed-")) refs.set(r.name_label, ref);
  if (refs.size !== MANAGED) throw new Error(`the pool has ${refs.size} managed networks, not ${MANAGED}`);

  say(`watching; ${CHANGES} changes…`);
  // The watcher reads the stack as a user's would: the project directory and stack name (Automation API).
  const child = spawn(
    process.execPath,
    [
      path.join(__dirname, "../provider/drift/cli.js"),
      "watch",
      "--stack",
      "bench",
      "--cwd",
      projectDir,
      "--format",
      "json",
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  onFailure.push(() => child.kill("SIGKILL"));
  const waiting = new Map<string, (at: number) => void>();
  readline.createInterface({ input: child.stdout! }).on("line", (l) => {
    const at = performance.now();
    const ev = JSON.parse(l) as { event: string; finding?: { name: string }; change?: { actual: unknown } };
    if (ev.event === "drift" && ev.finding) waiting.get(`${ev.finding.name}=${String(ev.change?.actual)}`)?.(at);
  });
  // Ready once a first change is reported (the initial comparison prints nothing when in sync).
  const probe = new Promise<number>((r) => waiting.set(`managed-0=probe`, r));
  const poll = setInterval(() => void xapi.call("network.set_name_label", refOf("managed-0"), "probe"), 500);
  await Promise.race([
    probe,
    new Promise((_, rej) =>
      setTimeout(() => rej(new Error("the watcher reported no change within 5 minutes")), 300_000),
    ),
  ]).finally(() => clearInterval(poll));

  const loadAtWatch = load();
  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const name = `managed-${1 + i}`;
    const value = `changed-${i}`;
    const seen = new Promise<number>((r) => waiting.set(`${name}=${value}`, r));
    await xapi.call("network.set_name_label", refOf(name), value);
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
  fs.rmSync(work, { recursive: true, force: true });

  const p50 = pct(latencies, 50);
  const p99 = pct(latencies, 99);
  console.log("| measure | value |\n|---|---|");
  console.log(
    `| managed objects | ${MANAGED} networks, deployed by \`pulumi up\` in ${(deployMs / 1000).toFixed(1)} s |`,
  );
  console.log(`| objects in the pool's watched class | ${TOTAL} |`);
  console.log(`| event.from batching | 50 ms (xapi's event_from_delay) |`);
  console.log(`| detection latency p50 / p99 over ${CHANGES} changes | ${p50.toFixed(1)} ms / ${p99.toFixed(1)} ms |`);
  console.log(`| \`pulumi refresh --preview-only --expect-no-changes\` | ${refreshMs.toFixed(0)} ms |`);
  console.log(`| watcher resident memory | ${rssMb.toFixed(0)} MB |`);
  console.log(`| load average (1/5/15 min) at the refresh / during the changes | ${loadAtRefresh} / ${loadAtWatch} |`);
  console.log(
    `drift: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${CHANGES} changes; refresh ` +
      `--preview-only ${refreshMs.toFixed(0)} ms (C/A = ${(refreshMs / p50).toFixed(0)}); watcher ` +
      `rss ${rssMb.toFixed(0)} MB with ${TOTAL} objects`,
  );
}

main().catch(async (e) => {
  console.error(e);
  for (const undo of onFailure.reverse()) await Promise.resolve(undo()).catch(() => undefined);
  process.exit(1);
});
