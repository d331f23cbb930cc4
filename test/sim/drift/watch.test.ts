// xen-drift watch against the simulator: a change made by another client is reported as it happens, its revert
// stays on the timeline, a forced resync (EVENTS_LOST, master failover) misses nothing, the state file's change
// (the stack's own update) reloads the desired state instead of reporting drift, and the metrics endpoint
// counts findings and resyncs.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "../resources/pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";
import { configDir, until, startWatch } from "./workdir";

const { Network: network } = resourceKinds;

const password = "drift-watch-pw";
let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
let dir: string;
const { createWith } = resourceSteps(() => ctx);

function writeState(file: string, id: string, outs: Record<string, unknown>): void {
  const doc = {
    version: 3,
    deployment: {
      resources: [
        {
          urn: "urn:pulumi:dev::lab::pulumi-nodejs:xenserver:Network::backend",
          type: "pulumi-nodejs:xenserver:Network",
          custom: true,
          id,
          outputs: outs,
        },
      ],
    },
  };
  fs.writeFileSync(file, JSON.stringify(doc));
}

beforeAll(async () => {
  // Members on 127.0.0.x and one port, as in a real pool: a client finds the new master from host.address.
  lab = await startPool(password, { hosts: 2, hostAddressing: "loopback" });
  ({ xapi, ctx } = lab);
  dir = configDir("xen-drift-watch-", lab.sim.url, "root", password);
});

afterAll(async () => {
  await stopPool(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

it("reports drift as it happens, keeps reverted drift on the timeline, and misses nothing across resyncs", async () => {
  const made = await createWith(network, { name: "backend", mtu: 9000 });
  const ref = await xapi.call<string>("network.get_by_uuid", made.id);
  const stateFile = path.join(dir, "state.json");
  writeState(stateFile, made.id, made.outs);
  const watch = await startWatch({
    stateFile,
    configFile: path.join(dir, "config.json"),
    metricsPort: 0,
    statePollMs: 50,
  });
  const { events } = watch;
  expect(events).toEqual([]);

  // A change by another client: reported with attribute, values, and its author from the pool's audit log.
  const t0 = Date.now();
  await xapi.call("network.set_MTU", ref, 1500);
  const drift = await until("the drift line", () => events.find((e) => e.event === "drift"));
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(drift).toMatchObject({
    finding: { kind: "modified", name: "backend", actor: { user: "root", call: "network.set_MTU" } },
    change: { path: "mtu", expected: 9000, actual: 1500 },
  });

  // Reverted: the drift closes, and both ends stay on the timeline.
  await xapi.call("network.set_MTU", ref, 9000);
  const resolved = await until("the resolved line", () => events.find((e) => e.event === "resolved"));
  expect(resolved).toMatchObject({ change: { path: "mtu" } });

  // EVENTS_LOST (xapi: the token is older than what the event log keeps): the watch resyncs and compares again.
  lab!.sim.faults.failNext("event.from", 1, "EVENTS_LOST");
  await xapi.call("network.set_name_label", ref, "renamed-while-lost");
  await until("the resync", () => events.find((e) => e.event === "resync" && e.reason === "events-lost"));
  await until("the rename", () =>
    events.find((e) => e.event === "drift" && e.change?.path === "name" && e.change.actual === "renamed-while-lost"),
  );

  // The stack's own change: the state file changes (an update ended), so the desired state is reloaded and the new
  // name is not drift any more — the finding closes without anyone reverting it on the pool.
  const n = events.length;
  writeState(stateFile, made.id, { ...made.outs, name: "renamed-while-lost" });
  await until("the reload", () => events.slice(n).find((e) => e.event === "resolved" && e.change?.path === "name"));

  // Master failover: sessions are lost and the old master stops answering; the client finds the new master, the
  // watch resyncs, and a change made meanwhile is reported.
  lab!.sim.faults.failover(1);
  const direct = await (
    await import("../../../provider/xapi")
  ).XapiClient.connect({
    url: lab!.sim.urls[1],
    username: "root",
    password,
  });
  await direct.call("network.set_MTU", await direct.call<string>("network.get_by_uuid", made.id), 1280);
  await until(
    "the MTU change after failover",
    () => events.find((e) => e.event === "drift" && e.change?.path === "mtu" && e.change.actual === 1280),
    30_000,
  );
  await direct.close();
  lab!.sim.faults.recoverHost(0);

  await watch.stop();
}, 60_000);

it("serves Prometheus metrics", async () => {
  const made = await createWith(network, { name: "metered", mtu: 1500 });
  const stateFile = path.join(dir, "metered.json");
  writeState(stateFile, made.id, made.outs);
  const servers: http.Server[] = [];
  const origListen = http.Server.prototype.listen;
  // Port 0: the test reads the port the server got.
  jest.spyOn(http.Server.prototype, "listen").mockImplementation(function (this: http.Server, ...args: unknown[]) {
    servers.push(this);
    return origListen.apply(this, args as never);
  });
  const watch = await startWatch({ stateFile, configFile: path.join(dir, "config.json"), metricsPort: 0 });
  jest.restoreAllMocks();
  await xapi.call("network.set_MTU", await xapi.call<string>("network.get_by_uuid", made.id), 9000);
  expect(servers).toHaveLength(1);
  const port = (servers[0].address() as AddressInfo).port;
  let text = "";
  for (let i = 0; i < 200 && !/xen_drift_findings\{stack="dev",kind="modified"\} 1/.test(text); i++) {
    text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(text).toMatch(/xen_drift_findings\{stack="dev",kind="modified"\} 1/);
  expect(text).toMatch(/xen_drift_last_comparison_timestamp_seconds\{stack="dev"\} \d+/);
  expect(text).toMatch(/xen_drift_event_lag_seconds_count\{stack="dev"\} 1/);
  await watch.stop();
});
