/**
 * npm run bench:client — our XAPI client against Xen Orchestra's `xen-api` client, same process, same
 * simulator (run in a child process so that CPU time is the clients' own). Workloads, over JSON-RPC and XML-RPC:
 *   - VM.get_record, one call at a time
 *   - VM.get_record, 16 calls in flight
 *   - VM.get_all_records with 1,000 VMs
 * Prints calls/s, p50/p99 latency, CPU time per call and ours/theirs, then one line:
 *   throughput ratio (ours/xen-api): <lowest ratio across the workloads>
 *
 * Over JSON-RPC a third subject runs too, "floor": no client at all, only what any JSON-RPC client must do —
 * keep-alive sockets, a prebuilt request, the bytes read up to Content-Length and one JSON.parse. Its ratio
 * against xen-api is the most any client that hands back decoded records can reach on this server and machine
 * (the simulator's own time is in every subject's wall clock).
 */
import { fork } from "child_process";
import * as net from "net";
import * as path from "path";
import { XapiClient } from "../provider/xapi";
import { BENCH_PASSWORD, BENCH_USER } from "./client-sim";

type Call = (method: string, ...args: unknown[]) => Promise<unknown>;
interface Subject {
  name: string;
  call: Call;
  close(): Promise<void>;
}
interface Stats {
  calls: number;
  seconds: number;
  latenciesMs: number[];
  cpuUs: number;
}

const VMS = Number(process.env.BENCH_VMS ?? 1000);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = 4;

// xen-api is ESM-only; TypeScript's CommonJS output would turn import() into require().
const importEsm = new Function("s", "return import(s)") as (s: string) => Promise<Record<string, unknown>>;

async function startSim(): Promise<{ url: string; stop(): void }> {
  const child = fork(path.join(__dirname, "client-sim.js"), [String(VMS)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m: { url: string }) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { url, stop: () => child.disconnect() };
}

async function ours(url: string, transport: "jsonrpc" | "xmlrpc"): Promise<Subject> {
  const c = await XapiClient.connect({
    url,
    username: BENCH_USER,
    password: BENCH_PASSWORD,
    transport,
    maxConcurrency: 16,
  });
  return { name: "ours", call: (m, ...a) => c.call(m, ...a), close: () => c.close() };
}

async function theirs(url: string, transport: "jsonrpc" | "xmlrpc"): Promise<Subject> {
  const mod = (await importEsm("xen-api")) as {
    createClient(o: unknown): { connect(): Promise<void>; call: Call; disconnect(): Promise<void> };
  };
  const x = mod.createClient({
    url,
    auth: { user: BENCH_USER, password: BENCH_PASSWORD },
    transport: transport === "jsonrpc" ? "json-rpc" : "xml-rpc",
    watchEvents: false,
  });
  await x.connect();
  return { name: "xen-api", call: (m, ...a) => x.call(m, ...a), close: () => x.disconnect() };
}

/**
 * The least a JSON-RPC client can do per call (see the header): keep-alive sockets (one per call in flight, up to
 * 16), a prebuilt request, the bytes read up to Content-Length, one JSON.parse. Not a client: no errors, no
 * redirects, no TLS, no limits.
 */
async function floor(url: string): Promise<Subject> {
  const u = new URL(url);
  interface Pending {
    resolve(b: Buffer): void;
    chunks: Buffer[];
    have: number;
    need: number;
    headEnd: number;
  }
  interface Conn {
    socket: net.Socket;
    pending?: Pending;
  }
  async function open(): Promise<Conn> {
    const socket = net.connect(Number(u.port), u.hostname);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const conn: Conn = { socket };
    socket.on("data", (d: Buffer) => {
      const p = conn.pending!;
      p.chunks.push(d);
      p.have += d.length;
      if (p.need < 0) {
        const buf = Buffer.concat(p.chunks);
        p.chunks = [buf];
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const len = /content-length: *(\d+)/i.exec(buf.toString("latin1", 0, end));
        if (!len) throw new Error("floor: the simulator answered without Content-Length");
        p.headEnd = end + 4;
        p.need = p.headEnd + Number(len[1]);
      }
      if (p.have >= p.need) {
        conn.pending = undefined;
        p.resolve(Buffer.concat(p.chunks).subarray(p.headEnd, p.need));
      }
    });
    return conn;
  }
  const conns = await Promise.all(Array.from({ length: 16 }, open));
  const idle = [...conns];
  const waiting: Array<(c: Conn) => void> = [];
  const post = async (body: string): Promise<Buffer> => {
    const conn = idle.pop() ?? (await new Promise<Conn>((r) => waiting.push(r)));
    try {
      return await new Promise<Buffer>((resolve) => {
        conn.pending = { resolve, chunks: [], have: 0, need: -1, headEnd: 0 };
        conn.socket.write(
          `POST /jsonrpc HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
    } finally {
      const next = waiting.shift();
      if (next) next(conn);
      else idle.push(conn);
    }
  };
  let id = 0;
  const rpc = async (method: string, params: unknown[]): Promise<unknown> => {
    const doc = JSON.parse(
      (await post(JSON.stringify({ jsonrpc: "2.0", method, params, id: ++id }))).toString("latin1"),
    ) as { result: unknown };
    return doc.result;
  };
  const session = await rpc("session.login_with_password", [BENCH_USER, BENCH_PASSWORD, "1.0", "bench-floor"]);
  return {
    name: "floor",
    call: (m, ...a) => rpc(m, [session, ...a]),
    close: async () => {
      await rpc("session.logout", [session]);
      for (const c of conns) c.socket.destroy();
    },
  };
}

async function measure(n: number, inFlight: number, op: () => Promise<unknown>): Promise<Stats> {
  const latenciesMs: number[] = new Array(n);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        const s = process.hrtime.bigint();
        await op();
        latenciesMs[i] = Number(process.hrtime.bigint() - s) / 1e6;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { calls: n, seconds, latenciesMs, cpuUs: cpu.user + cpu.system };
}

function merge(a: Stats, b: Stats): Stats {
  return {
    calls: a.calls + b.calls,
    seconds: a.seconds + b.seconds,
    latenciesMs: [...a.latenciesMs, ...b.latenciesMs],
    cpuUs: a.cpuUs + b.cpuUs,
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface Workload {
  name: string;
  n: number;
  inFlight: number;
  op: (s: Subject) => () => Promise<unknown>;
}

async function main(): Promise<void> {
  const sim = await startSim();
  const rows: string[][] = [];
  let lowest = Infinity;
  let worstP99 = -Infinity;
  let lowestCpu = Infinity;
  const ceilings: string[] = [];
  try {
    for (const transport of ["jsonrpc", "xmlrpc"] as const) {
      const subjects = [await ours(sim.url, transport), await theirs(sim.url, transport)];
      if (transport === "jsonrpc") subjects.push(await floor(sim.url));
      const vms = (await subjects[0].call("VM.get_all")) as string[];
      let k = 0;
      const aVm = (): string => vms[k++ % vms.length];
      const workloads: Workload[] = [
        { name: "VM.get_record ×1", n: 1500 * SCALE, inFlight: 1, op: (s) => () => s.call("VM.get_record", aVm()) },
        { name: "VM.get_record ×16", n: 8000 * SCALE, inFlight: 16, op: (s) => () => s.call("VM.get_record", aVm()) },
        {
          name: `VM.get_all_records (${vms.length} VMs)`,
          n: 40 * SCALE,
          inFlight: 1,
          op: (s) => () => s.call("VM.get_all_records"),
        },
      ];
      for (const w of workloads) {
        const results = new Map<string, Stats>();
        for (const s of subjects) await measure(Math.max(5, Math.ceil(w.n / 10)), w.inFlight, w.op(s)); // warm-up
        // Alternating order (AB BA AB BA) spreads drift and background load evenly over both clients.
        for (let round = 0; round < ROUNDS; round++) {
          for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
            const st = await measure(Math.ceil(w.n / ROUNDS), w.inFlight, w.op(s));
            results.set(s.name, results.has(s.name) ? merge(results.get(s.name)!, st) : st);
          }
        }
        const o = results.get("ours")!;
        const t = results.get("xen-api")!;
        const ratio = o.calls / o.seconds / (t.calls / t.seconds);
        lowest = Math.min(lowest, ratio);
        lowestCpu = Math.min(lowestCpu, t.cpuUs / t.calls / (o.cpuUs / o.calls));
        worstP99 = Math.max(worstP99, pct(o.latenciesMs, 99) / pct(t.latenciesMs, 99));
        const f = results.get("floor");
        const ceiling = f ? f.calls / f.seconds / (t.calls / t.seconds) : 0;
        if (f) {
          ceilings.push(
            `${transport} ${w.name}: floor/xen-api ${ceiling.toFixed(2)}×, ours reach ${((ratio / ceiling) * 100).toFixed(0)}% of it`,
          );
        }
        for (const [name, st] of [["ours", o], ["xen-api", t], ...(f ? [["floor", f] as const] : [])] as const) {
          rows.push([
            transport,
            w.name,
            name,
            (st.calls / st.seconds).toFixed(0),
            pct(st.latenciesMs, 50).toFixed(2),
            pct(st.latenciesMs, 99).toFixed(2),
            (st.cpuUs / st.calls).toFixed(0),
            name === "ours" ? `${ratio.toFixed(2)}×` : name === "floor" ? `(${ceiling.toFixed(2)}×)` : "",
          ]);
        }
      }
      for (const s of subjects) await s.close();
    }
  } finally {
    sim.stop();
  }
  const head = ["transport", "workload", "client", "calls/s", "p50 ms", "p99 ms", "CPU µs/call", "ours/theirs"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  console.log(
    "ceiling (what no client can beat here: keep-alive sockets, bytes up to Content-Length, one JSON.parse):",
  );
  for (const c of ceilings) console.log(`  ${c}`);
  console.log(`worst p99 ratio (ours/xen-api, lower is better): ${worstP99.toFixed(2)}`);
  // Wall-clock throughput includes the simulator's own time, the same for both clients; CPU is each client's own.
  console.log(`lowest client CPU advantage (xen-api CPU per call / ours): ${lowestCpu.toFixed(2)}`);
  console.log(`throughput ratio (ours/xen-api): ${lowest.toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
