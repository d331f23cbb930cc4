// npm run bench:boundary: what the resource boundary (provider/resources/boundary.ts) costs per property bag, zod's
// validate() beside the plain predicate (quick-check.ts), in the same run. The bags are real: the checked inputs and
// the outputs of a Network, a Vdi and two Vms (the scale bench's, and one with disks, NICs and cloud-init) created
// against the simulator, as the engine hands them back (JSON, undefined as null).
// Two figures per path: warm (µs per bag once V8 has optimized everything), and cold: a fresh node process replaying
// the outputs a refresh of bench:scale's 1,000 resources reads (750 Vdi, 150 Network, 100 Vm), as a fresh
// dynamic-provider process meets them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validate } from "../provider/resources/common/check";
import type { Props, StateSchemas } from "../provider/resources/contract";
import * as network from "../provider/resources/network";
import { quickCheck } from "../provider/resources/quick-check";
import { bagMaker, scaleShapedBags, type StoredBag } from "./stored-bags";
import * as vdi from "../provider/resources/vdi";
import * as vm from "../provider/resources/vm";

type Kind = "Network" | "Vdi" | "Vm" | "Vm (disks, NICs, cloud-init)";
type Bags = Record<Kind, { inputs: Props; outputs: Props }>;
type Path = "zod" | "fast";

const schemasOf: Record<Kind, StateSchemas> = {
  Network: network.resource.schemas,
  Vdi: vdi.resource.schemas,
  Vm: vm.resource.schemas,
  "Vm (disks, NICs, cloud-init)": vm.resource.schemas,
};

/** One bag's check as the boundary makes it: true when it fits. */
function checker(p: Path, schema: StateSchemas["inputs"]): (bag: Props) => boolean {
  if (p === "zod") return (bag) => validate(schema, bag).failures.length === 0;
  const fits = quickCheck(schema);
  return (bag) => fits(bag);
}

async function realBags(): Promise<Bags> {
  const { startSimulator } = await import("../simulator");
  const sim = await startSimulator({ port: 0, username: "root", password: "bench", hosts: 1 });
  const maker = bagMaker(sim.url, "bench");
  try {
    const xapi = await maker.xapi();
    const srs = Object.values(await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records"));
    const nets = Object.values(
      await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records"),
    );
    const pif = (n: string) => nets.find((x) => x.name_label === `Pool-wide network associated with ${n}`)!.uuid;
    const scale = await scaleShapedBags(maker, srs.find((s) => s.type === "lvm")!.uuid);
    const full = await maker.make("Vm", {
      name: "bench-vm",
      identity: "bench/boundary/bench-vm",
      template: "Debian Bookworm 12",
      vcpus: 1,
      vcpusMax: 4,
      memory: "1GiB",
      powerState: "Halted",
      tags: ["bench"],
      otherConfig: { owner: "bench" },
      disks: [{ size: "12GiB" }, { size: "1GiB", name: "data" }],
      networkInterfaces: [{ network: pif("eth0") }, { network: scale.Network.outputs.uuid, lockingMode: "unlocked" }],
      cloudInit: { userData: "#cloud-config\n" },
    });
    const pair = ({ inputs, outputs }: StoredBag) => ({ inputs, outputs });
    return {
      Network: pair(scale.Network),
      Vdi: pair(scale.Vdi),
      Vm: pair(scale.Vm),
      "Vm (disks, NICs, cloud-init)": pair(full),
    };
  } finally {
    await maker.removeAll();
    await sim.close();
  }
}

/** µs per bag once warm: the best of 5 timed rounds after a warm-up. */
function warm(check: (bag: Props) => boolean, bag: Props): number {
  const rounds = 5;
  const n = 20_000;
  let best = Infinity;
  let fits = 0;
  for (let i = 0; i < n; i++) fits += check(bag) ? 1 : 0;
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fits += check(bag) ? 1 : 0;
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e3 / n);
  }
  if (fits !== n * (rounds + 1)) throw new Error("bench:boundary: a real bag did not fit");
  return best;
}

/** The outputs a refresh of bench:scale's stack reads, in the program's order, each its own parsed copy. */
function refreshReplay(bags: Bags): { kind: Kind; bag: Props }[] {
  const copies = (kind: Kind, n: number) =>
    Array.from({ length: n }, () => ({ kind, bag: JSON.parse(JSON.stringify(bags[kind].outputs)) as Props }));
  return [...copies("Network", 150), ...copies("Vdi", 750), ...copies("Vm", 100)];
}

/**
 * In a fresh process (`--cold <path> <bags.json>`): the replay's CPU time (every thread of the process: V8 compiles
 * and collects on threads of its own), the schemas' compiling included. CPU rather than wall time: the machine is
 * shared, and CPU is what a provider process spends.
 */
function coldChild(p: Path, file: string): void {
  const replay = refreshReplay(JSON.parse(fs.readFileSync(file, "utf8")) as Bags);
  const cpu = process.cpuUsage();
  const checks = new Map<Kind, (bag: Props) => boolean>();
  let fits = 0;
  for (const { kind, bag } of replay) {
    let check = checks.get(kind);
    if (!check) checks.set(kind, (check = checker(p, schemasOf[kind].outputs)));
    fits += check(bag) ? 1 : 0;
  }
  const { user, system } = process.cpuUsage(cpu);
  const ms = (user + system) / 1000;
  if (fits !== replay.length) throw new Error("bench:boundary: a replayed bag did not fit");
  process.stdout.write(JSON.stringify({ ms, bags: replay.length }));
}

/** The median of `runs` fresh processes' replay CPU times (ms), and how many bags each replayed. */
function cold(p: Path, file: string, runs: number): { ms: number; bags: number } {
  const results = Array.from({ length: runs }, () => {
    const out = execFileSync(process.execPath, [__filename, "--cold", p, file], { encoding: "utf8" });
    return JSON.parse(out) as { ms: number; bags: number };
  }).sort((a, b) => a.ms - b.ms);
  return results[Math.floor(runs / 2)];
}

const f = (x: number, d = 2) => x.toFixed(d);

async function main(): Promise<void> {
  const bags = await realBags();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-boundary-")), "bags.json");
  fs.writeFileSync(file, JSON.stringify(bags));
  console.log("µs per bag, warm (best of 5 rounds of 20,000)      zod    fast   ratio");
  const summary: string[] = [];
  for (const kind of Object.keys(bags) as Kind[]) {
    for (const what of ["inputs", "outputs"] as const) {
      const bag = bags[kind][what];
      const zod = warm(checker("zod", schemasOf[kind][what]), bag);
      const fast = warm(checker("fast", schemasOf[kind][what]), bag);
      const label = `${kind} ${what} (${JSON.stringify(bag).length} B)`;
      console.log(
        `  ${label.padEnd(48)} ${f(zod).padStart(6)} ${f(fast).padStart(7)} ${f(zod / fast, 1).padStart(6)}x`,
      );
      if (what === "outputs" && kind !== "Vm (disks, NICs, cloud-init)")
        summary.push(`${kind} outputs ${f(zod)} → ${f(fast)} µs`);
    }
  }
  const runs = 9;
  const { ms: zod, bags: replayed } = cold("zod", file, runs);
  const { ms: fast } = cold("fast", file, runs);
  console.log(
    `cold: a refresh's 1,000 outputs (150 Network, 750 Vdi, 100 Vm) in a fresh process, CPU time, median of ${runs}`,
  );
  console.log(`  zod  ${f(zod, 1)} ms (${f((zod * 1000) / replayed, 1)} µs per bag)`);
  console.log(`  fast ${f(fast, 1)} ms (${f((fast * 1000) / replayed, 1)} µs per bag)`);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  console.log(
    `boundary: cold refresh replay ${f(zod, 1)} → ${f(fast, 1)} CPU ms per 1,000 bags (${f(zod / fast, 1)}x); ` +
      `warm ${summary.join(", ")}`,
  );
}

if (process.argv[2] === "--cold") coldChild(process.argv[3] as Path, process.argv[4]);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
