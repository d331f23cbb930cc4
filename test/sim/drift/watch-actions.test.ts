// xen-drift watch's actions on each timeline event, against the simulator: `--webhook <url>` POSTs the event as
// JSON and retries with exponential backoff when the receiver fails, and `--exec "<cmd>"` runs a shell command per
// event with the event as JSON on its stdin and in XEN_DRIFT_EVENT (docs/drift.md, `watch`).
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { parse } from "../../../provider/drift/cli";
import { type TimelineEvent, type WatchOptions } from "../../../provider/drift/watch";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "../resources/pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";
import { configDir, until, startWatch } from "./workdir";

const { Network: network } = resourceKinds;

const password = "drift-actions-pw";
let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
let dir: string;
const { createWith } = resourceSteps(() => ctx);

/** A managed network in a state file, and a watch of it with `extra` options; returns the printed events. */
async function watchNetwork(name: string, extra: Partial<WatchOptions>) {
  const made = await createWith(network, { name, mtu: 9000 });
  const ref = await xapi.call<string>("network.get_by_uuid", made.id);
  const stateFile = path.join(dir, `${name}.json`);
  const resource = {
    urn: `urn:pulumi:dev::lab::pulumi-nodejs:xenserver:Network::${name}`,
    type: "pulumi-nodejs:xenserver:Network",
    custom: true,
    id: made.id,
    outputs: made.outs,
  };
  fs.writeFileSync(stateFile, JSON.stringify({ version: 3, deployment: { resources: [resource] } }));
  const watch = await startWatch({ stateFile, configFile: path.join(dir, "config.json"), auditLog: false, ...extra });
  return { ref, printed: watch.events, end: watch.stop };
}

beforeAll(async () => {
  lab = await startPool(password, { hosts: 2 });
  ({ xapi, ctx } = lab);
  dir = configDir("xen-drift-actions-", lab.sim.url, "root", password);
});

afterAll(async () => {
  await stopPool(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

it("--webhook POSTs each event as JSON, retrying a failing receiver with exponential backoff", async () => {
  expect(parse(["watch", "--stack", "dev", "--webhook", "http://127.0.0.1:1/hook"]).webhook).toBe(
    "http://127.0.0.1:1/hook",
  );
  // The receiver fails the first two requests (503), then accepts.
  const requests: Array<{ at: number; method?: string; type?: string; body: string; status: number }> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const status = requests.length < 2 ? 503 : 200;
      requests.push({ at: Date.now(), method: req.method, type: req.headers["content-type"], body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const w = await watchNetwork("hooked", { webhook: url });
  try {
    await xapi.call("network.set_MTU", w.ref, 1500);
    await until("three attempts", () => (requests.length >= 3 ? true : undefined));
    const drift = w.printed.find((e) => e.event === "drift")!;
    expect(drift).toMatchObject({ finding: { name: "hooked" }, change: { path: "mtu", expected: 9000, actual: 1500 } });
    expect(requests.slice(0, 3).map((r) => [r.method, r.type, r.status])).toEqual([
      ["POST", "application/json", 503],
      ["POST", "application/json", 503],
      ["POST", "application/json", 200],
    ]);
    for (const r of requests.slice(0, 3)) expect(JSON.parse(r.body)).toEqual(drift);
    // Backoff: 0.5 s before the second attempt, 1 s before the third.
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(450);
    expect(requests[2].at - requests[1].at).toBeGreaterThanOrEqual(950);

    // Accepted: the next event is posted once, and the accepted drift was not sent again.
    await xapi.call("network.set_MTU", w.ref, 9000);
    await until("the resolved event posted", () => requests.find((r) => JSON.parse(r.body).event === "resolved"));
    expect(requests.map((r) => [JSON.parse(r.body).event, r.status])).toEqual([
      ["drift", 503],
      ["drift", 503],
      ["drift", 200],
      ["resolved", 200],
    ]);
    expect(JSON.parse(requests[3].body)).toEqual(w.printed.find((e) => e.event === "resolved"));
  } finally {
    await w.end();
    server.close();
  }
}, 60_000);

it('--exec "<cmd>" runs the command once per event, with the event as JSON on stdin and in XEN_DRIFT_EVENT', async () => {
  expect(parse(["watch", "--stack", "dev", "--exec", "notify-send drift"]).exec).toBe("notify-send drift");
  const out = fs.mkdtempSync(path.join(dir, "exec-"));
  // $$: the shell's pid, one pair of files per run of the command.
  const cmd = `cat > '${out}'/$$.stdin && printf '%s' "$XEN_DRIFT_EVENT" > '${out}'/$$.env`;
  const w = await watchNetwork("executed", { exec: cmd });
  try {
    await xapi.call("network.set_MTU", w.ref, 1500);
    await until("the drift line", () => w.printed.find((e) => e.event === "drift"));
    await xapi.call("network.set_MTU", w.ref, 9000);
    await until("the resolved line", () => w.printed.find((e) => e.event === "resolved"));
    const parsed = (f: string) => {
      try {
        return JSON.parse(fs.readFileSync(path.join(out, f), "utf8")) as TimelineEvent;
      } catch {
        return undefined; // not written yet
      }
    };
    // Each run writes its stdin copy, then its environment copy.
    const seen = await until("two runs of the command", () => {
      const runs = fs.readdirSync(out).filter((f) => f.endsWith(".env"));
      const events = runs.map((f) => [parsed(f.replace(/env$/, "stdin")), parsed(f)]);
      return runs.length >= 2 && events.every(([a, b]) => a && b) ? events : undefined;
    });
    for (const [stdin, env] of seen) expect(env).toEqual(stdin);
    expect(seen).toHaveLength(2);
    const events = seen.map(([stdin]) => stdin!).sort((a, b) => a.event.localeCompare(b.event));
    expect(events).toEqual([w.printed.find((e) => e.event === "drift"), w.printed.find((e) => e.event === "resolved")]);
    expect(events[0]).toMatchObject({ finding: { name: "executed" }, change: { path: "mtu", actual: 1500 } });
  } finally {
    await w.end();
  }
}, 60_000);
