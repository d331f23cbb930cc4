// xen-drift with a read-only account: `check` and `watch` do their whole job (initial snapshot, event.from,
// comparison, the audit log for "who changed it") as a directory user with xapi's read-only role, and the
// simulator's call log shows that they never wrote: no call outside what read-only may make (ocaml/xapi/rbac.ml
// check: none was refused), and no call but getters, event.from/event.inject and the session's own login/logout.
import * as fs from "node:fs";
import * as path from "node:path";
import type { XapiClient } from "../../../provider/xapi";
import type { EngineResource, ResourceContext } from "../../../provider/resources/contract";
import { check } from "../../../provider/drift/cli";
import { type TimelineEvent } from "../../../provider/drift/watch";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "../resources/pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";
import { configDir, startWatch } from "./workdir";

const { Network: network, Sr: sr, Vdi: vdi } = resourceKinds;

const password = "drift-ro-pw";
let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
let dir: string;
let stateFile: string;
const { createWith } = resourceSteps(() => ctx);
const ids: Record<string, string> = {};

/**
 * Calls that change nothing xapi stores. event.inject is in read-only's permissions (datamodel: roles_all) and
 * writes no field: it only makes the object appear in the next event.from answer.
 */
const reading = (method: string) =>
  /\.get_|\.get$|^event\.from$|^event\.inject$|^session\.(login_with_password|logout)$/.test(
    method.replace(/^Async\./, ""),
  );

beforeAll(async () => {
  lab = await startPool(password, { hosts: 2, users: ["auditor:ro-secret:read-only"] });
  ({ xapi, ctx } = lab);
  dir = configDir("xen-drift-ro-", lab.sim.url, "auditor", "ro-secret");
  const resources: unknown[] = [];
  const add = async (kind: string, name: string, mod: EngineResource, news: Record<string, unknown>) => {
    const m = await createWith(mod, { ...news, identity: `lab/dev/${name}` });
    ids[name] = m.id;
    resources.push({
      urn: `urn:pulumi:dev::lab::pulumi-nodejs:xenserver:${kind}::${name}`,
      type: `pulumi-nodejs:xenserver:${kind}`,
      custom: true,
      id: m.id,
      inputs: m.checked,
      outputs: m.outs,
    });
    return m;
  };
  await add("Network", "backend", network, { name: "backend", mtu: 9000 });
  await add("Network", "storage", network, { name: "storage", vlan: 31, nic: "eth1" });
  const store = await add("Sr", "store", sr, {
    type: "nfs",
    name: "store",
    deviceConfig: { server: "192.0.2.10", serverpath: "/exports/ro" },
  });
  await add("Vdi", "disk", vdi, { sr: store.id, name: "data", size: 1024 ** 3 });
  stateFile = path.join(dir, "state.json");
  fs.writeFileSync(stateFile, JSON.stringify({ version: 3, deployment: { resources } }));
});

afterAll(async () => {
  await stopPool(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

const options = { stack: "dev", format: "json" as const, includeUnmanaged: false };

it("check runs as a read-only user, reports drift with its author, and writes nothing", async () => {
  const since = lab!.sim.calls.mark();
  const quiet = await check({ ...options, stateFile, configFile: path.join(dir, "config.json") }, () => undefined);
  expect(quiet.findings).toEqual([]);
  await xapi.call("network.set_MTU", await xapi.call<string>("network.get_by_uuid", ids.backend), 1500);
  const report = await check({ ...options, stateFile, configFile: path.join(dir, "config.json") }, () => undefined);
  expect(report.findings).toEqual([
    expect.objectContaining({ name: "backend", changes: [{ path: "mtu", expected: 9000, actual: 1500 }] }),
  ]);
  const mine = lab!.sim.calls.list({ since }).filter((c) => c.user === "auditor");
  expect(mine.length).toBeGreaterThan(0);
  expect(mine.filter((c) => c.denied || c.error?.[0] === "RBAC_PERMISSION_DENIED")).toEqual([]);
  expect([...new Set(mine.map((c) => c.method))].filter((m) => !reading(m))).toEqual([]);
});

it("watch runs as a read-only user: the drift line names who made the change, and nothing is written", async () => {
  const since = lab!.sim.calls.mark();
  const watch = await startWatch({ stateFile, configFile: path.join(dir, "config.json"), statePollMs: 50 });
  const { events } = watch;
  const initial = events.filter((e) => e.event === "drift").map((e) => e.change?.path);
  expect(initial).toEqual(["mtu"]); // left by the previous test
  await xapi.call("SR.set_name_label", await xapi.call<string>("SR.get_by_uuid", ids.store), "renamed-by-root");
  const end = Date.now() + 10_000;
  let drift: TimelineEvent | undefined;
  while (!(drift = events.find((e) => e.event === "drift" && e.change?.path === "name")) && Date.now() < end)
    await new Promise((r) => setTimeout(r, 20));
  expect(drift).toMatchObject({
    finding: { name: "store", actor: { user: "root", call: "SR.set_name_label" } },
    change: { expected: "store", actual: "renamed-by-root" },
  });
  await watch.stop();
  const mine = lab!.sim.calls.list({ since }).filter((c) => c.user === "auditor");
  expect(mine.some((c) => c.method === "event.from")).toBe(true);
  expect(mine.filter((c) => c.denied || c.error?.[0] === "RBAC_PERMISSION_DENIED")).toEqual([]);
  expect([...new Set(mine.map((c) => c.method))].filter((m) => !reading(m))).toEqual([]);
});
