/**
 * `npm run bench:sim`: figures for the XAPI simulator.
 *  - VM.get_record calls/s served by one simulator process (its own core) over JSON-RPC and XML-RPC;
 *  - event.from wake-up delay after a change;
 *  - time and memory to seed 10,000 VMs, and to serve VM.get_all_records / event.from("") over them.
 */
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { Agent, request } from "undici";
import { startSimulator } from "../simulator";
import { dispatch } from "../simulator/engine/dispatch";
import { fromJson } from "../simulator/wire/value";

const agent = new Agent({ connections: 16, pipelining: 1, keepAliveTimeout: 30_000 });

async function json(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await request(`${url}/jsonrpc`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 }),
    dispatcher: agent,
  });
  const body = (await res.body.json()) as { result?: unknown; error?: unknown };
  if (body.error) throw new Error(JSON.stringify(body.error));
  return body.result;
}

async function xml(url: string, method: string, params: string[]): Promise<string> {
  const values = params.map((p) => `<param><value>${p}</value></param>`).join("");
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${values}</params></methodCall>`;
  const res = await request(`${url}/`, { method: "POST", body, dispatcher: agent });
  return res.body.text();
}

const lean = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** A minimal keep-alive POST (the load generator must cost less than the server it measures). */
function post(url: string, p: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${p}`,
      { method: "POST", agent: lean, headers: { "content-length": Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.on("data", () => undefined);
        res.on("end", resolve);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** CPU seconds used so far by a process (Linux /proc), or undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `call` with `concurrency` workers for `ms`, returning calls/s. */
async function rate(ms: number, concurrency: number, call: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const end = Date.now() + ms;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await call();
        n++;
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const cli = path.join(__dirname, "..", "simulator", "cli.js");
  const child = spawn(process.execPath, [cli, "--port", "0", "--user", "root", "--password", "pw"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve({ child, url: out.split(/\s/)[0] });
    });
    child.on("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function throughput(): Promise<void> {
  const { child, url } = await startChild();
  try {
    const session = (await json(url, "session.login_with_password", ["root", "pw", "2.21", "bench"])) as string;
    const [tpl] = (await json(url, "VM.get_by_name_label", [session, "Debian Bookworm 12"])) as string[];
    const vm = (await json(url, "VM.clone", [session, tpl, "bench-vm"])) as string;
    const jsonBody = JSON.stringify({ jsonrpc: "2.0", method: "VM.get_record", params: [session, vm], id: 1 });
    const xmlBody =
      `<?xml version="1.0"?><methodCall><methodName>VM.get_record</methodName><params>` +
      `<param><value>${session}</value></param><param><value>${vm}</value></param></params></methodCall>`;
    await rate(500, 8, () => post(url, "/jsonrpc", jsonBody));
    console.log(`VM.get_record, simulator in its own process, 8 keep-alive connections:`);
    for (const [name, p, body] of [
      ["JSON-RPC", "/jsonrpc", jsonBody],
      ["XML-RPC ", "/", xmlBody],
    ]) {
      const c0 = cpuSeconds(child.pid!);
      const t0 = Date.now();
      let calls = 0;
      const r = await rate(3000, 8, async () => {
        await post(url, p, body);
        calls++;
      });
      const c1 = cpuSeconds(child.pid!);
      const cpu = c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined;
      const wall = (Date.now() - t0) / 1000;
      const perCore = cpu
        ? ` (simulator CPU ${((100 * cpu) / wall).toFixed(0)}%: ${((1e6 * cpu) / calls).toFixed(0)} µs per call` +
          ` = ${(calls / cpu).toFixed(0)} calls/s per core)`
        : "";
      console.log(`  ${name}  ${r.toFixed(0)} calls/s observed${perCore}`);
    }

    const delays: number[] = [];
    for (let i = 0; i < 50; i++) {
      const b = (await json(url, "event.from", [session, ["vm"], "", 0])) as { token: string };
      const waiting = json(url, "event.from", [session, ["vm"], b.token, 30]).then(() => process.hrtime.bigint());
      await new Promise((r) => setTimeout(r, 5));
      const t0 = process.hrtime.bigint();
      await json(url, "VM.set_name_description", [session, vm, `d${i}`]);
      delays.push(Number((await waiting) - t0) / 1e6);
    }
    console.log(
      `event.from wake-up: returns ${median(delays).toFixed(2)} ms (median of 50; max ${Math.max(...delays).toFixed(2)} ms) after the change was sent`,
    );
  } finally {
    child.kill("SIGTERM");
  }
}

async function tenThousand(): Promise<void> {
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  try {
    const x = sim.xapi;
    const host = x.masterRef();
    const call = async (method: string, ...params: unknown[]) => {
      const out = await dispatch(x, method, params.map(fromJson), host);
      if ("ok" in out && out.ok) return out.value;
      throw new Error(JSON.stringify(out));
    };
    const session = (await call("session.login_with_password", "root", "pw")) as string;
    const [tpl] = (await call("VM.get_by_name_label", session, "Other install media")) as string[];
    const [net] = (await call(
      "network.get_by_name_label",
      session,
      "Pool-wide network associated with eth0",
    )) as string[];
    const t0 = Date.now();
    for (let i = 0; i < 10_000; i++) {
      const vm = (await call("VM.clone", session, tpl, `vm-${i}`)) as string;
      await call("VM.set_is_a_template", session, vm, false);
      await call("VIF.create", session, {
        device: "0",
        network: net,
        VM: vm,
        MAC: "",
        MTU: 1500,
        other_config: {},
        qos_algorithm_type: "",
        qos_algorithm_params: {},
      });
    }
    const seedMs = Date.now() - t0;
    global.gc?.();
    const heap = process.memoryUsage().heapUsed - heap0;
    const rss = process.memoryUsage().rss - rss0;
    console.log(
      `10,000 VMs (VM.clone + set_is_a_template + VIF.create each, in-process dispatch): ${(seedMs / 1000).toFixed(1)} s; heap +${mb(heap)}, rss +${mb(rss)}`,
    );
    const session2 = (await json(sim.url, "session.login_with_password", ["root", "pw"])) as string;
    let t = Date.now();
    const all = (await json(sim.url, "VM.get_all_records", [session2])) as Record<string, unknown>;
    console.log(`  VM.get_all_records over JSON-RPC: ${Object.keys(all).length} records in ${Date.now() - t} ms`);
    t = Date.now();
    const text = await xml(sim.url, "VM.get_all_records", [session2]);
    console.log(`  VM.get_all_records over XML-RPC: ${mb(text.length)} in ${Date.now() - t} ms`);
    t = Date.now();
    const b = (await json(sim.url, "event.from", [session2, ["*"], "", 0])) as { events: unknown[] };
    console.log(`  event.from(["*"], ""): ${b.events.length} events in ${Date.now() - t} ms`);
    const vms = Object.keys(all);
    let i = 0;
    const r = await rate(2000, 8, () => json(sim.url, "VM.get_record", [session2, vms[i++ % vms.length]]));
    console.log(`  VM.get_record with 10,000 VMs (simulator and client in one process): ${r.toFixed(0)} calls/s`);
  } finally {
    await sim.close();
  }
}

async function main(): Promise<void> {
  await throughput();
  await tenThousand();
  await agent.close();
  lean.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
