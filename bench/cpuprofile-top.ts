// Where a process spent its time, from V8 .cpuprofile files (node --cpu-prof): the top self-time entries, the
// self time by area (this package, Pulumi's dynamic-provider host, gRPC, protobuf, zod, node internals, GC), and
// how much time had this package's code anywhere on the stack. Given directories, it reads every profile in them
// (profiles of processes that never ran Pulumi's dynamic-provider host, such as the plugin script's `node -e`,
// are skipped) and sums them.
//
//   node bin/bench/cpuprofile-top.js [--top 25] [--all] FILE_OR_DIR...
import * as fs from "node:fs";
import * as path from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to, by its script URL. */
export function areaOf(frame: CallFrame): string {
  const u = frame.url;
  if (!u) {
    if (frame.functionName === "(garbage collector)") return "gc";
    if (frame.functionName === "(idle)") return "idle";
    if (frame.functionName === "(program)") return "program (V8/native)";
    return "native";
  }
  if (u.startsWith("node:")) return "node internals";
  if (u.includes("/@pulumi/pulumi/")) return "pulumi host";
  if (u.includes("/@grpc/")) return "grpc";
  if (u.includes("/google-protobuf/")) return "protobuf";
  // This package: installed (bench:scale runs it from its npm pack tarball) or a checkout's bin/.
  if (
    u.includes("/node_modules/pulumi-xenserver/") ||
    (!u.includes("/node_modules/") && /\/bin\/(provider|sdk)\//.test(u))
  )
    return "ours";
  if (u.includes("/node_modules/zod/")) return "zod";
  if (u.includes("/node_modules/undici/")) return "undici";
  if (u.includes("/node_modules/")) return `other deps (${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]})`;
  return "other";
}

function label(f: CallFrame): string {
  const file = f.url ? f.url.replace(/^file:\/\//, "").replace(/.*\/node_modules\//, "") : "";
  const short = file.includes("/bin/") ? file.slice(file.lastIndexOf("/bin/") + 1) : file;
  return `${f.functionName || "(anonymous)"} ${short ? `${short}:${f.lineNumber + 1}` : ""}`.trim();
}

interface Summary {
  files: number;
  wallMs: number;
  busyMs: number;
  self: Map<string, { ms: number; area: string }>;
  areas: Map<string, number>;
  oursOnStackMs: number;
}

function add(summary: Summary, p: Profile): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const oursOnStack = new Map<number, boolean>();
  const hasOurs = (id: number): boolean => {
    const known = oursOnStack.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const up = parent.get(id);
    const v = areaOf(n.callFrame) === "ours" || (up !== undefined && hasOurs(up));
    oursOnStack.set(id, v);
    return v;
  };
  summary.files++;
  summary.wallMs += (p.endTime - p.startTime) / 1000;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const f = byId.get(id)!.callFrame;
    const area = areaOf(f);
    summary.areas.set(area, (summary.areas.get(area) ?? 0) + ms);
    if (area === "idle") return;
    summary.busyMs += ms;
    const key = label(f);
    const e = summary.self.get(key) ?? { ms: 0, area };
    e.ms += ms;
    summary.self.set(key, e);
    if (hasOurs(id)) summary.oursOnStackMs += ms;
  });
}

function profilesIn(p: string): string[] {
  if (fs.statSync(p).isDirectory())
    return fs
      .readdirSync(p)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => path.join(p, f));
  return [p];
}

function main(argv: string[]): void {
  const topAt = argv.indexOf("--top");
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25;
  const all = argv.includes("--all");
  const inputs = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--top");
  if (!inputs.length) {
    console.error("usage: cpuprofile-top [--top N] [--all] FILE_OR_DIR...");
    process.exit(2);
  }
  const summary: Summary = { files: 0, wallMs: 0, busyMs: 0, self: new Map(), areas: new Map(), oursOnStackMs: 0 };
  for (const file of inputs.flatMap(profilesIn)) {
    const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
    // The plugin script's `node -e require.resolve(...)` and other bystanders: not the provider process.
    if (!all && !p.nodes.some((n) => n.callFrame.url.includes("cmd/dynamic-provider"))) continue;
    add(summary, p);
  }
  const pct = (ms: number) => `${((100 * ms) / summary.busyMs).toFixed(1)}%`;
  console.log(
    `${summary.files} profile(s): wall ${(summary.wallMs / 1000).toFixed(1)} s, busy (not idle) ${(summary.busyMs / 1000).toFixed(2)} s; ` +
      `this package's code on the stack ${(summary.oursOnStackMs / 1000).toFixed(2)} s (${pct(summary.oursOnStackMs)})`,
  );
  const areas = [...summary.areas].filter(([a]) => a !== "idle").sort((a, b) => b[1] - a[1]);
  console.log(
    `self time by area: ${areas.map(([a, ms]) => `${a} ${(ms / 1000).toFixed(2)} s (${pct(ms)})`).join(", ")}`,
  );
  console.log(`top ${top} self-time entries:`);
  const entries = [...summary.self].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  for (const [key, { ms, area }] of entries)
    console.log(`  ${ms.toFixed(0).padStart(7)} ms ${pct(ms).padStart(6)}  [${area}] ${key}`);
}

main(process.argv.slice(2));
