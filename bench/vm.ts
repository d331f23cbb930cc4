// npm run bench:vm: what a VM costs. XAPI calls per create, read, update and delete (the resource module against
// the simulator, as the provider process runs it), the status-polling calls the simulator's call log finds (must
// be 0), and the wall time of `pulumi up` through the real engine for 1 VM and for 20 VMs with --parallel 10,
// each guest agent booting in 1 s. The last line is the summary the issue asks for.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../simulator";
import { engineBinDir, repoRoot } from "./engine";
import { closeAll, xapiFor } from "../provider/resources/common/connection";
import type { ResourceContext } from "../provider/resources/contract";
import { resourceKinds } from "../provider/resources/registry";

const { Vm: vm } = resourceKinds;

const password = "bench-vm";

async function sim(): Promise<Simulator> {
  return startSimulator({
    port: 0,
    username: "root",
    password,
    hosts: 3,
    guestMetricsDelayMs: 1000,
    guests: ["boot-delay=1000"],
  });
}

async function moduleCounts(s: Simulator): Promise<{ create: number; read: number; update: number; delete: number }> {
  const settings: Record<string, string> = {
    "xenserver:url": s.url,
    "xenserver:username": "root",
    "xenserver:password": password,
  };
  const ctx: ResourceContext = { config: { get: (k) => settings[k] } };
  const xapi = await xapiFor(ctx.config, undefined); // one login, shared as in the provider process
  const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
  const net = (n: string) => Object.values(nets).find((x) => x.name_label === n)!.uuid;
  const program = {
    name: "bench-vm",
    template: "Debian Bookworm 12",
    vcpus: 1,
    vcpusMax: 4,
    memory: "1GiB",
    disks: [{ size: "12GiB" }, { size: "1GiB" }],
    networkInterfaces: [
      { network: net("Pool-wide network associated with eth0") },
      { network: net("Pool-wide network associated with eth1") },
    ],
    cloudInit: { userData: "#cloud-config\n" },
    waitForIp: { timeout: 60 },
  };
  const since = (mark: number) => s.calls.list({ since: mark }).length;
  let mark = s.calls.mark();
  const checked = (await vm.check({}, program, ctx)).inputs!;
  const { id, outs } = await vm.create(checked, ctx);
  const create = since(mark);
  mark = s.calls.mark();
  const r = await vm.read(id, outs, ctx);
  const read = since(mark);
  mark = s.calls.mark();
  const news = (await vm.check(r.inputs!, { ...program, vcpus: 2 }, ctx)).inputs!;
  await vm.diff(id, r.props!, news, ctx);
  const { outs: after } = await vm.update(id, r.props!, news, ctx);
  const update = since(mark);
  mark = s.calls.mark();
  await vm.delete(id, after, ctx);
  const del = since(mark);
  await closeAll();
  return { create, read, update, delete: del };
}

const programSource = `
const xen = require("pulumi-xenserver");
module.exports = async (a) => {
  const net = await xen.getNetwork({ name: "Pool-wide network associated with eth0" });
  const out = {};
  for (let i = 0; i < a.count; i++) {
    const v = new xen.Vm("vm-" + i, {
      name: "bench-" + i,
      template: "Debian Bookworm 12",
      memory: "1GiB",
      networkInterfaces: [{ network: net.uuid }],
      waitForIp: { timeout: 120 },
    });
    out["vm" + i] = v.ipAddresses;
  }
  return out;
};
`;

async function timedUp(s: Simulator, count: number, parallel: number): Promise<number> {
  const binDir = process.env.PULUMI_XENSERVER_ENGINE_BIN ?? engineBinDir();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `bench-vm-${count}-`));
  fs.mkdirSync(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "home"));
  // Inside the package, so that require("pulumi-xenserver") resolves to this checkout (package self-reference).
  const programFile = path.join(repoRoot, "bin/bench", `vm-program-${process.pid}.js`);
  fs.writeFileSync(programFile, programSource);
  const job = (ops: string[]) => ({
    projectDir: repoRoot,
    program: programFile,
    pulumiRoot: path.dirname(binDir),
    pulumiHome: path.join(work, "home"),
    stateDir: path.join(work, "state"),
    stackName: `bench${count}`,
    projectName: "xenserver-bench-vm",
    config: {
      "xenserver:url": { value: s.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: password, secret: true },
    },
    programArgs: { count },
    parallel,
    ops,
  });
  try {
    // The stack is made first (an empty preview), so that the timed run is the up alone.
    await driver(job(["preview"]), binDir);
    const t0 = Date.now();
    await driver(job(["up"]), binDir);
    const seconds = (Date.now() - t0) / 1000;
    await driver(job(["destroy"]), binDir);
    return seconds;
  } finally {
    fs.rmSync(programFile, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function driver(job: object, binDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "test/e2e/driver/driver.js"), JSON.stringify(job)], {
      cwd: repoRoot,
      env: { ...process.env, PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`pulumi failed (exit ${code}):\n${err.slice(-4000)}`)),
    );
  });
}

async function main(): Promise<void> {
  const s = await sim();
  try {
    const c = await moduleCounts(s);
    console.log(
      `calls per VM (2 disks, 2 NICs, cloud-init, waitForIp): create ${c.create}, read ${c.read}, update (vcpus live) ${c.update}, delete ${c.delete}`,
    );
    const one = await timedUp(s, 1, 10);
    console.log(`pulumi up, 1 VM: ${one.toFixed(1)} s`);
    const twenty = await timedUp(s, 20, 10);
    console.log(`pulumi up, 20 VMs (--parallel 10): ${twenty.toFixed(1)} s`);
    // Polling is counted per session (one operation: one pulumi command, or the module calls above).
    const polls = s.calls.statusPolls();
    for (const p of polls) console.log(`status polling: ${p.method} on ${p.object} x${p.count}`);
    const pollCount = polls.reduce((a, p) => a + p.count, 0);
    const acrossSessions = s.calls.statusPolls({ perSession: false }).reduce((a, p) => a + p.count, 0);
    console.log(
      `status getters read 3+ times on one object over the whole run, all sessions together: ${acrossSessions}`,
    );
    console.log(
      `vm: create ${c.create}, read ${c.read}, update ${c.update}, delete ${c.delete} calls; ` +
        `polling ${pollCount}; up 1 VM ${one.toFixed(1)} s, 20 VMs ${twenty.toFixed(1)} s (B/A ` +
        `= ${(twenty / one).toFixed(2)})`,
    );
  } finally {
    await s.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
