// npm run bench:scale: a stack of N objects (VDIs, private networks and halted VMs on those networks) through the
// real engine against the simulator, phase by phase (up, preview, refresh, destroy), next to the same stack shape
// made of no-op dynamic resources: the floor, what the engine and Pulumi's dynamic-provider host cost by
// themselves. The two stacks' phases are run alternately, so that the machine's load drifts over both alike.
//
//   npm run bench:scale -- [--n 1000] [--vms 100] [--parallel 16] [--profile DIR] [--only ours|floor] [--keep]
//                          [--floor-slots] [--floor-bags]
//   (or SCALE_N, SCALE_VMS, SCALE_PARALLEL, SCALE_PROFILE)
//
// --profile DIR profiles the dynamic-provider processes with V8's CPU profiler (a preload given in NODE_OPTIONS,
// which the workspace environment passes through the engine to the provider plugin); one directory per stack and
// phase (and DIR/<stack>-<phase>-program for the process that runs the program); read them with
// `node bin/bench/cpuprofile-top.js DIR/ours-up`. The profiler adds a fixed cost to every process, which pulls the
// ratios towards 1 (N=1000, refresh: 1.03 with the profiler, ~1.5 without): take figures from runs without it. --keep leaves each stack's state directory
// (its checkpoints and their backups) in place and prints where. --floor-slots constructs each floor resource with the
// same property names as ours (undefined), to show what exposing those outputs costs in the program's process;
// --floor-bags gives each floor resource the values one of ours stores, to show what the size of our property bags
// costs the engine and Pulumi's dynamic-provider host.
// Both stacks run in a project directory where the package is installed from its `npm pack` tarball, as users
// install it (test/e2e/packed-project.ts): what a resource stores in the state depends on it (provider/dynamic.ts).
// The provider's peak RSS is VmHWM of the dynamic-provider processes this run's engine starts (/proc); sessions
// is the most XAPI sessions alive at once in the simulator (sim.sessions); calls are counted by sim.calls.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../simulator";
import * as network from "../provider/resources/network";
import * as vdi from "../provider/resources/vdi";
import * as vm from "../provider/resources/vm";
import { propertySlots } from "../sdk/resource";
import type { Props } from "../provider/resources/contract";
import { installPackedProject } from "../test/e2e/packed-project";
import { engineBinDir, repoRoot } from "./engine";
import { bagMaker, scaleShapedBags } from "./stored-bags";

const password = "bench-scale";
const phases = ["up", "preview", "refresh", "destroy"] as const;
type Phase = (typeof phases)[number];
type Flavour = "ours" | "floor";

interface Options {
  n: number;
  vms: number;
  parallel: number;
  profile?: string;
  only?: Flavour;
  keep: boolean;
  floorSlots: boolean;
  floorBags: boolean;
}

function options(argv: string[]): Options {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const n = Number(arg("n") ?? process.env.SCALE_N ?? 1000);
  const vms = Number(arg("vms") ?? process.env.SCALE_VMS ?? Math.round(n / 10));
  const parallel = Number(arg("parallel") ?? process.env.SCALE_PARALLEL ?? 16);
  const only = (arg("only") ?? process.env.SCALE_ONLY) as Flavour | undefined;
  if (!(n >= 3) || !(vms >= 0) || vms > n / 2 || !(parallel >= 1))
    throw new Error(
      `bench:scale: --n must be ≥ 3, --vms at most n/2, --parallel ≥ 1 (given ${n}, ${vms}, ${parallel})`,
    );
  if (only && only !== "ours" && only !== "floor") throw new Error(`bench:scale: --only is ours or floor`);
  const keep = argv.includes("--keep");
  const floorSlots = argv.includes("--floor-slots");
  const floorBags = argv.includes("--floor-bags");
  return { n, vms, parallel, profile: arg("profile") ?? process.env.SCALE_PROFILE, only, keep, floorSlots, floorBags };
}

/**
 * The property names each of our resources is constructed with (sdk/resource.ts: every input and output field, the
 * identity and the URN; Pulumi adds __provider to both). The Node SDK makes an Output of each with four promises,
 * each capturing a stack trace (runtime/rpc.js transferProperties, debuggable.js), whichever provider serves it.
 */
function slotsOfOurs(): Record<string, string[]> {
  const kinds = { Network: network, Vdi: vdi, Vm: vm };
  return Object.fromEntries(
    Object.entries(kinds).map(([kind, m]) => [
      kind,
      [...Object.keys(propertySlots(m.inputSchema, m.outputSchema)), "identity", "__resourceUrn"],
    ]),
  );
}

/**
 * --floor-bags: the outputs of one of our Network, Vdi and Vm (made against the simulator, then deleted), for the
 * floor's resources to carry as inputs, so its state holds bags like ours (the floor also echoes them as outputs).
 */
async function bagsOfOurs(sim: Simulator, sr: string): Promise<Record<string, Props>> {
  const maker = bagMaker(sim.url, password);
  const made = await scaleShapedBags(maker, sr);
  await maker.removeAll();
  return Object.fromEntries(
    Object.entries(made).map(([kind, { outputs }]) => [
      kind,
      Object.fromEntries(
        Object.entries(outputs).filter(([k, v]) => v !== null && k !== "uuid" && k !== "name" && !k.startsWith("__")),
      ),
    ]),
  );
}

/** How the N objects divide: VMs as asked, 15% networks (at least one, the VMs' NICs need one), the rest VDIs. */
function shape(o: Options): { vdis: number; networks: number; vms: number } {
  const networks = Math.max(1, Math.round(o.n * 0.15));
  return { vms: o.vms, networks, vdis: o.n - networks - o.vms };
}

const oursProgram = `
const xen = require("pulumi-xenserver");
module.exports = async (a) => {
  const nets = [];
  for (let i = 0; i < a.networks; i++) nets.push(new xen.Network("net-" + i, { name: "scale-net-" + i }));
  for (let i = 0; i < a.vdis; i++) new xen.Vdi("vdi-" + i, { name: "scale-vdi-" + i, sr: a.sr, size: "16MiB" });
  for (let i = 0; i < a.vms; i++)
    new xen.Vm("vm-" + i, {
      name: "scale-vm-" + i,
      template: a.template,
      memory: "512MiB",
      powerState: "Halted",
      networkInterfaces: [{ network: nets[i % nets.length].uuid }],
    });
  return {};
};
`;

// The floor: the same resources with the same dependencies, served by a provider that does nothing.
const floorProgram = `
const pulumi = require("@pulumi/pulumi");
const noop = {
  async check(olds, news) { return { inputs: news }; },
  async diff() { return { changes: false }; },
  async create(inputs) { return { id: inputs.name, outs: { ...inputs, uuid: inputs.name } }; },
  async read(id, props) { return { id, props }; },
  async update(id, olds, news) { return { outs: news }; },
  async delete() {},
};
// With --floor-slots, each resource is seeded with the same property names as ours (a.slots), as undefined; with
// --floor-bags, with the values one of ours holds in its outputs (a.bags), so that its state has bags like ours.
const seeded = (names) => Object.fromEntries((names ?? []).map((k) => [k, undefined]));
const R = (kind, slots, name, props) =>
  new pulumi.dynamic.Resource(noop, name, { uuid: undefined, ...seeded(slots?.[kind]), ...a0.bags?.[kind], ...props });
let a0 = {};
module.exports = async (a) => {
  a0 = a;
  const nets = [];
  for (let i = 0; i < a.networks; i++) nets.push(R("Network", a.slots, "net-" + i, { name: "scale-net-" + i }));
  for (let i = 0; i < a.vdis; i++) R("Vdi", a.slots, "vdi-" + i, { name: "scale-vdi-" + i, sr: a.sr, size: "16MiB" });
  for (let i = 0; i < a.vms; i++)
    R("Vm", a.slots, "vm-" + i, {
      name: "scale-vm-" + i,
      template: a.template,
      memory: "512MiB",
      powerState: "Halted",
      networkInterfaces: [{ network: nets[i % nets.length].uuid }],
    });
  return {};
};
`;

// Under --profile, preloaded into the dynamic-provider process. Node 20 refuses --cpu-prof in NODE_OPTIONS, so the
// profile is taken through the inspector (the same V8 CPU profiler, the same .cpuprofile format) and written at exit.
// The engine stops providers with a signal: a process with no handler of its own (the floor's) then exits normally.
const profilePreload = `
const inspector = require("node:inspector");
const fs = require("node:fs");
const path = require("node:path");
const session = new inspector.Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.start");
process.on("exit", () =>
  session.post("Profiler.stop", (err, r) => {
    if (!err) fs.writeFileSync(path.join(process.env.BENCH_CPU_PROFILE_DIR, "CPU." + process.pid + ".cpuprofile"), JSON.stringify(r.profile));
  }),
);
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => setTimeout(() => process.exit(0), 1500).unref());
`;

interface PhaseResult {
  seconds: number;
  calls: number;
  rssMb: number;
  /** CPU seconds by process: providers, engine, program (the driver) and this one (the simulator, mostly). */
  cpu: CpuUse & { simulator: number };
  sessions: number;
  /** The stack's checkpoint after the phase, in bytes (the engine rewrites it after each step). */
  stateBytes: number;
}

class Stack {
  readonly work: string;
  readonly programFile: string;

  constructor(
    readonly flavour: Flavour,
    readonly o: Options,
    readonly sim: Simulator,
    readonly args: Record<string, unknown>,
    readonly binDir: string,
    readonly projectDir: string,
  ) {
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), `bench-scale-${flavour}-`));
    fs.mkdirSync(path.join(this.work, "state"));
    fs.mkdirSync(path.join(this.work, "home"));
    this.programFile = path.join(projectDir, "programs", `scale-${flavour}-${process.pid}.js`);
    fs.mkdirSync(path.dirname(this.programFile), { recursive: true });
    fs.writeFileSync(this.programFile, flavour === "ours" ? oursProgram : floorProgram);
  }

  async run(phase: Phase): Promise<PhaseResult> {
    const env: Record<string, string> = {};
    const programEnv: Record<string, string> = {};
    if (this.o.profile) {
      const dir = path.resolve(this.o.profile, `${this.flavour}-${phase}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.mkdirSync(`${dir}-program`, { recursive: true });
      const preload = path.join(this.work, "cpu-profile.js");
      fs.writeFileSync(preload, profilePreload);
      env.NODE_OPTIONS = `--require ${preload}`;
      env.BENCH_CPU_PROFILE_DIR = dir;
      // The process that runs the program (the Automation API runs it inline, as the language host would).
      Object.assign(programEnv, env, { BENCH_CPU_PROFILE_DIR: `${dir}-program` });
    }
    const job = {
      projectDir: this.projectDir,
      program: this.programFile,
      pulumiRoot: path.dirname(this.binDir),
      pulumiHome: path.join(this.work, "home"),
      stateDir: path.join(this.work, "state"),
      stackName: `scale${this.flavour}`,
      projectName: `xenserver-bench-scale-${this.flavour}`,
      config: {
        "xenserver:url": { value: this.sim.url },
        "xenserver:username": { value: "root" },
        "xenserver:password": { value: password, secret: true },
      },
      env,
      programArgs: this.args,
      parallel: this.o.parallel,
      ops: [phase],
    };
    const callsBefore = totalCalls(this.sim);
    this.sim.sessions.resetPeak();
    const simCpu = process.cpuUsage();
    const { ms, rssKb, cpu } = await driver(job, this.projectDir, this.binDir, programEnv);
    const sim = process.cpuUsage(simCpu);
    return {
      seconds: ms / 1000,
      cpu: { ...cpu, simulator: (sim.user + sim.system) / 1e6 },
      calls: totalCalls(this.sim) - callsBefore,
      rssMb: rssKb / 1024,
      sessions: this.sim.sessions.peak(),
      stateBytes: this.stateBytes(job.projectName, job.stackName),
    };
  }

  private stateBytes(project: string, stack: string): number {
    try {
      return fs.statSync(path.join(this.work, "state/.pulumi/stacks", project, `${stack}.json`)).size;
    } catch {
      return 0;
    }
  }

  dispose(): void {
    fs.rmSync(this.programFile, { force: true });
    if (this.o.keep) console.log(`kept ${this.flavour}'s state and PULUMI_HOME in ${this.work}`);
    else fs.rmSync(this.work, { recursive: true, force: true });
  }
}

function totalCalls(s: Simulator): number {
  return Object.values(s.calls.counts()).reduce((a, b) => a + b, 0);
}

/** Runs one operation through test/e2e/driver: its wall time, the dynamic providers' peak RSS (kB), CPU seconds. */
function driver(
  job: object,
  projectDir: string,
  binDir: string,
  programEnv: Record<string, string>,
): Promise<{ ms: number; rssKb: number; cpu: CpuUse }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectDir, "driver.js"), JSON.stringify(job)], {
      cwd: projectDir,
      env: {
        ...process.env,
        ...programEnv,
        PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const rss = watchProviders(child);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const use = rss.stop();
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line) return reject(new Error(`pulumi failed (exit ${code}):\n${err.slice(-4000)}`));
      resolve({ ms: (JSON.parse(line.slice(7)) as { ms: number }).ms, ...use });
    });
  });
}

/** A process's CPU time, user + system, from its /proc/PID/stat line (fields 14 and 15, in USER_HZ = 100 ticks). */
function cpuSeconds(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Which of the run's processes a pid is: the dynamic-provider host, the engine (the pulumi CLI), or the driver. */
type Role = "provider" | "engine" | "program" | "other";

/** CPU seconds by role: the providers, the engine, and the driver's process (which runs the program inline). */
export type CpuUse = Record<Exclude<Role, "other">, number>;

/**
 * The peak resident set (VmHWM) of the dynamic-provider processes under `child`, from /proc. VmHWM is the kernel's
 * own high-water mark, so a sample taken any time before the process ends sees its peak (growth in its last 200 ms
 * may be missed). Also each process's CPU time (user + system) as last sampled, summed by role: what a process
 * uses in its last 200 ms is missed. The simulator runs in this process: each process is looked at once (parent,
 * command line), and only the run's own processes are read again, so that sampling never holds up the simulator.
 */
function watchProviders(child: ChildProcess): { stop(): { rssKb: number; cpu: CpuUse } } {
  let peak = 0;
  const cpu = new Map<number, { role: Role; s: number }>(); // pid → its CPU seconds at the last sample
  const seen = new Map<number, { parent: number; role: Role }>();
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch {
      return undefined; // the process ended meanwhile
    }
  };
  const ours = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 20; p = seen.get(p)?.parent, hops++)
      if (p === child.pid) return true;
    return false; // another run's process (other benches and tests share the machine)
  };
  const roleOf = (pid: number): Role => {
    if (pid === child.pid) return "program";
    const argv = (read(`/proc/${pid}/cmdline`) ?? "").split("\0");
    if (argv.some((a) => a.includes("cmd/dynamic-provider"))) return "provider";
    return path.basename(argv[0] ?? "") === "pulumi" ? "engine" : "other";
  };
  const sample = () => {
    for (const d of fs.readdirSync("/proc")) {
      const pid = Number(d);
      if (!pid || seen.has(pid)) continue;
      const stat = read(`/proc/${pid}/stat`);
      if (!stat) continue;
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      seen.set(pid, { parent, role: roleOf(pid) });
    }
    for (const [pid, p] of seen) {
      if (!ours(pid)) continue;
      // A process seen between its fork and its exec still shows its parent's command line: look again.
      if (p.role !== "provider" && pid !== child.pid) p.role = roleOf(pid);
      if (p.role === "other") continue;
      const stat = read(`/proc/${pid}/stat`);
      if (!stat) {
        seen.delete(pid); // ended; its pid may be reused
        continue;
      }
      cpu.set(pid, { role: p.role, s: cpuSeconds(stat) });
      const m = p.role === "provider" && /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? "");
      if (m) peak = Math.max(peak, Number(m[1]));
    }
  };
  const timer = setInterval(sample, 200);
  return {
    stop() {
      clearInterval(timer);
      const use: CpuUse = { provider: 0, engine: 0, program: 0 };
      for (const { role, s } of cpu.values()) if (role !== "other") use[role] += s;
      return { rssKb: peak, cpu: use };
    },
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const counts = shape(o);
  const sim = await startSimulator({
    port: 0,
    username: "root",
    password,
    hosts: 1,
    loginFailureDelayMs: 0,
    seed: { localSrSize: 1024 ** 5 }, // 1 PiB: the VMs' disks are thick-provisioned on the local LVM SR
  });
  const binDir = process.env.PULUMI_XENSERVER_ENGINE_BIN ?? engineBinDir();
  const projectDir = installPackedProject(repoRoot);
  const pool = [...sim.store.table("pool").values()][0] as { default_SR: string };
  const sr = (sim.store.get("SR", pool.default_SR) as { uuid: string }).uuid;
  const args = {
    ...counts,
    sr,
    template: "Debian Bookworm 12",
    slots: o.floorSlots ? slotsOfOurs() : undefined,
    bags: o.floorBags ? await bagsOfOurs(sim, sr) : undefined,
  };
  const flavours: Flavour[] = o.only ? [o.only] : ["floor", "ours"];
  const stacks = Object.fromEntries(flavours.map((f) => [f, new Stack(f, o, sim, args, binDir, projectDir)])) as Record<
    Flavour,
    Stack
  >;
  const results: Partial<Record<Flavour, Partial<Record<Phase, PhaseResult>>>> = {};
  console.log(
    `bench:scale: ${o.n} resources (${counts.vdis} VDIs, ${counts.networks} networks, ${counts.vms} VMs), ` +
      `--parallel ${o.parallel}${o.profile ? `, profiling into ${o.profile}` : ""}`,
  );
  try {
    for (const phase of phases) {
      for (const f of flavours) {
        const r = await stacks[f].run(phase);
        (results[f] ??= {})[phase] = r;
        console.log(
          `${phase.padEnd(8)} ${f.padEnd(5)} ${r.seconds.toFixed(1).padStart(6)} s  ` +
            `cpu s: ${Object.entries(r.cpu)
              .map(([k, v]) => `${k} ${v.toFixed(1)}`)
              .join(", ")};` +
            (f === "ours"
              ? `  ${(r.calls / o.n).toFixed(1)} XAPI calls/resource, provider rss ${r.rssMb.toFixed(0)} MB, sessions ${r.sessions}`
              : `  provider rss ${r.rssMb.toFixed(0)} MB`) +
            (phase === "up" ? `, state ${(r.stateBytes / o.n / 1024).toFixed(1)} KB/resource` : ""),
        );
      }
    }
  } finally {
    for (const s of Object.values(stacks)) s.dispose();
    await sim.close();
  }
  const ours = results.ours;
  const floor = results.floor;
  if (!ours || !floor) return;
  const part = (p: Phase) => {
    const a = ours[p]!.seconds;
    const b = floor[p]!.seconds;
    return `${p} ${a.toFixed(1)} s (floor ${b.toFixed(1)} s, ratio ${(a / b).toFixed(2)})`;
  };
  const rss = Math.max(...phases.map((p) => ours[p]!.rssMb));
  const sessions = Math.max(...phases.map((p) => ours[p]!.sessions));
  console.log(
    `calls per resource: ${phases.map((p) => `${p} ${(ours[p]!.calls / o.n).toFixed(1)}`).join(", ")}; ` +
      `floor provider rss ${Math.max(...phases.map((p) => floor[p]!.rssMb)).toFixed(0)} MB`,
  );
  console.log(
    `scale: ${o.n} resources; ${phases.map(part).join("; ")}; provider rss ${rss.toFixed(0)} MB; sessions ${sessions}`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
