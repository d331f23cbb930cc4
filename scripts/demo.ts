// The main job: deploy the example lab (examples/lab) onto the embedded XAPI
// simulator with the real Pulumi engine, then show that a second preview plans
// no changes. Then drift: another XAPI client changes a VM's memory, xen-drift watch
// reports it with who did it, `pulumi up --refresh` heals it and `xen-drift check`
// exits 0. Run with `npm run demo`; `--keep` leaves the simulator running.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../simulator";
import { XapiClient } from "../provider/xapi";

const repoRoot = path.resolve(__dirname, "../..");

async function main(): Promise<void> {
  const binDir = process.argv[2];
  if (!binDir) throw new Error("usage: demo.js <pulumi bin dir> (run it through `npm run demo`)");
  const keep = process.argv.includes("--keep");
  const password = `demo-${Math.random().toString(36).slice(2)}`;
  // Two directory users besides root: alice (pool-admin) changes things by hand, auditor (read-only) runs xen-drift.
  const sim = await startSimulator({
    port: 0,
    username: "root",
    password,
    hosts: 2,
    users: [`alice:${password}-alice:pool-admin`, `auditor:${password}-auditor:read-only`],
  });
  console.log(`xapi-sim: a 2-host pool at ${sim.url}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "xenserver-lab-"));
  fs.mkdirSync(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "home"));
  const job = {
    projectDir: repoRoot,
    program: path.join(repoRoot, "bin/examples/lab/index.js"),
    pulumiRoot: path.dirname(binDir),
    pulumiHome: path.join(work, "home"),
    stateDir: path.join(work, "state"),
    stackName: "lab",
    projectName: "xenserver-lab",
    config: {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: password, secret: true },
    },
    ops: ["up", "preview"],
    echo: true,
  };
  const results = await engine(job, binDir);
  const [up, preview] = results.map((l) => JSON.parse(l) as { changes: unknown; outputs: unknown });
  console.log("\n== lab deployed ==");
  console.log(
    JSON.stringify(
      Object.fromEntries(
        Object.entries(up.outputs as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]),
      ),
      null,
      2,
    ),
  );
  console.log(`changes: ${JSON.stringify(up.changes)}; second preview: ${JSON.stringify(preview.changes)}`);
  console.log(`state: ${job.stateDir}`);
  await driftStep(sim, job, binDir, work, password);
  if (keep) {
    console.log(`simulator still running at ${sim.url} (user root, password ${password}); Ctrl-C to stop`);
    return;
  }
  await sim.close();
}

type Job = Record<string, unknown> & { stateDir: string; pulumiHome: string; stackName: string; projectName: string };

/** Runs the job's operations through test/e2e/driver/driver.js; returns each operation's RESULT JSON. */
function engine(job: Job, binDir: string): Promise<string[]> {
  return new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "test/e2e/driver/driver.js"), JSON.stringify(job)], {
      cwd: repoRoot,
      env: { ...process.env, PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(
            out
              .split("\n")
              .filter((l) => l.startsWith("RESULT "))
              .map((l) => l.slice(7)),
          )
        : reject(new Error(`pulumi failed (exit ${code})`)),
    );
  });
}

/**
 * Drift: alice, another XAPI client, lowers lab-web-1's memory; `xen-drift watch` (run as the read-only auditor,
 * reading the stack through the Automation API) reports it with who did it; `pulumi up --refresh` heals it; and
 * `xen-drift check` then exits 0.
 */
async function driftStep(sim: Simulator, job: Job, binDir: string, work: string, password: string): Promise<void> {
  console.log("\n== drift ==");
  // The project as xen-drift reads it (--cwd): the engine's project name and file:// backend.
  const project = path.join(work, "project");
  fs.mkdirSync(project);
  fs.writeFileSync(
    path.join(project, "Pulumi.yaml"),
    `name: ${job.projectName}\nruntime: nodejs\nbackend:\n  url: file://${job.stateDir}\n`,
  );
  fs.writeFileSync(
    path.join(project, "read-only.json"),
    JSON.stringify({
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "auditor" },
      "xenserver:password": { value: `${password}-auditor`, secret: true },
    }),
  );
  const env = {
    ...process.env,
    PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    PULUMI_HOME: job.pulumiHome,
    PULUMI_BACKEND_URL: `file://${job.stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const cli = path.join(repoRoot, "bin/provider/drift/cli.js");
  const args = (cmd: string) => [cli, cmd, "--stack", job.stackName, "--cwd", project, "--config", "read-only.json"];
  const watch = spawn(process.execPath, args("watch"), { cwd: project, env, stdio: ["ignore", "pipe", "inherit"] });
  const seen: string[] = [];
  watch.stdout.on("data", (d: Buffer) => seen.push(...d.toString().split("\n").filter(Boolean)));
  const waitFor = async (what: string, ok: () => boolean, ms = 30_000) => {
    for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 10)))
      if (Date.now() > end) throw new Error(`demo: timed out waiting for ${what}`);
  };
  try {
    await waitFor("xen-drift watch to subscribe", () =>
      sim.calls.list().some((c) => c.user === "auditor" && c.method === "event.from"),
    );
    console.log("xen-drift watch --stack lab is running as auditor (read-only role)");
    const alice = await XapiClient.connect({ url: sim.url, username: "alice", password: `${password}-alice` });
    const [vm] = Object.entries(
      await alice.call<Record<string, { name_label: string; is_a_template: boolean }>>("VM.get_all_records"),
    ).find(([, r]) => r.name_label === "lab-web-1" && !r.is_a_template)!;
    const t0 = Date.now();
    await alice.call("VM.set_memory_dynamic_range", vm, 1536 * 1024 ** 2, 1536 * 1024 ** 2);
    console.log("alice (another XAPI client) set lab-web-1's memory to 1.5 GiB (VM.set_memory_dynamic_range)");
    await waitFor("the drift line", () => seen.some((l) => l.includes("memory.dynamicMax")));
    const ms = Date.now() - t0;
    for (const l of seen.filter((x) => x.includes(" drift "))) console.log(`  watch> ${l}`);
    console.log(`xen-drift reported it ${ms} ms after the change`);
    await alice.close();

    console.log("healing it: pulumi up --refresh");
    const [healed] = (await engine({ ...job, ops: ["up-refresh"], echo: false }, binDir)).map(
      (l) => JSON.parse(l) as { changes: unknown },
    );
    console.log(`pulumi up --refresh: ${JSON.stringify(healed.changes)}`);
    await waitFor("the resolved line", () => seen.some((l) => l.includes(" resolved ")), 10_000).catch(() => {});
    for (const l of seen.filter((x) => x.includes(" resolved "))) console.log(`  watch> ${l}`);
  } finally {
    watch.kill();
  }
  const check = spawn(process.execPath, args("check"), { cwd: project, env, stdio: ["ignore", "inherit", "inherit"] });
  const code = await new Promise<number>((r) => check.on("close", (c) => r(c ?? 1)));
  console.log(`xen-drift check exited ${code} (0: in sync)`);
  if (code !== 0) throw new Error("demo: the stack is not in sync after pulumi up");
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
