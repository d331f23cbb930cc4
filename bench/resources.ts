// XAPI calls per resource operation, counted by the simulator, for each resource:
// what one create, read (refresh), update and delete costs against a pool.
// Run with `npm run bench:resources`.
import { startSimulator } from "../simulator";
import { closeAll, xapiFor } from "../provider/resources/common/connection";
import type { EngineResource, ResourceContext } from "../provider/resources/contract";
import { resourceKinds } from "../provider/resources/registry";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi } = resourceKinds;

interface Case {
  name: string;
  mod: EngineResource;
  inputs: (env: { localSr: string }) => Record<string, unknown>;
  change: Record<string, unknown>;
}

async function main(): Promise<void> {
  const hosts = Number(process.env.BENCH_HOSTS ?? 2);
  const sim = await startSimulator({ port: 0, username: "root", password: "bench", hosts });
  const settings: Record<string, string> = {
    "xenserver:url": sim.url,
    "xenserver:username": "root",
    "xenserver:password": "bench",
  };
  const ctx: ResourceContext = { config: { get: (k) => settings[k] } };
  const xapi = await xapiFor(ctx.config, undefined); // the login is shared by every operation, as in the provider process
  const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
  const env = { localSr: Object.values(srs).find((s) => s.type === "lvm")!.uuid };

  const cases: Case[] = [
    {
      name: "Pool",
      mod: pool,
      inputs: () => ({ name: "bench", otherConfig: { a: "1" } }),
      change: { otherConfig: { a: "2" } },
    },
    {
      name: "Network (private)",
      mod: network,
      inputs: () => ({ name: "net", otherConfig: { a: "1" } }),
      change: { mtu: 9000 },
    },
    {
      name: "Network (VLAN)",
      mod: network,
      inputs: () => ({ name: "vlan", vlan: 10, nic: "eth1" }),
      change: { mtu: 9000 },
    },
    {
      name: "Network (bond)",
      mod: network,
      inputs: () => ({ name: "bond", bond: { nics: ["eth2", "eth3"] } }),
      change: { name: "bond2" },
    },
    {
      name: "Sr (nfs)",
      mod: sr,
      inputs: () => ({ type: "nfs", name: "nfs", deviceConfig: { server: "192.0.2.1", serverpath: "/x" } }),
      change: { name: "nfs2" },
    },
    { name: "Vdi", mod: vdi, inputs: (e) => ({ sr: e.localSr, name: "disk", size: "1GiB" }), change: { size: "2GiB" } },
  ];

  const count = async (fn: () => Promise<unknown>) => {
    sim.calls.clear();
    await fn();
    const counts = sim.calls.counts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const polls = Object.entries(counts)
      .filter(([m]) => /get_status|get_progress/.test(m))
      .reduce((a, [, n]) => a + n, 0);
    return { total, polls, events: counts["event.from"] ?? 0 };
  };

  console.log(`XAPI calls per operation (${hosts}-host simulated pool; check included in create and update)`);
  console.log("resource             create  read  update  delete   event.from  status polls");
  let totalPolls = 0;
  for (const c of cases) {
    const inputs = c.inputs(env);
    let id = "";
    let outs: Record<string, unknown> = {};
    let checked: Record<string, unknown> = {};
    const create = await count(async () => {
      checked = (await c.mod.check({}, inputs, ctx)).inputs!;
      const r = await c.mod.create(checked, ctx);
      id = r.id;
      outs = r.outs;
    });
    const read = await count(() => c.mod.read(id, outs, ctx));
    const update = await count(async () => {
      const news = (await c.mod.check(checked, { ...inputs, ...c.change }, ctx)).inputs!;
      outs = (await c.mod.update(id, outs, news, ctx)).outs;
    });
    const del = await count(() => c.mod.delete(id, outs, ctx));
    const ev = create.events + read.events + update.events + del.events;
    const polls = create.polls + read.polls + update.polls + del.polls;
    totalPolls += polls;
    console.log(
      `${c.name.padEnd(20)} ${String(create.total).padStart(6)} ${String(read.total).padStart(5)} ` +
        `${String(update.total).padStart(7)} ${String(del.total).padStart(7)} ${String(ev).padStart(12)} ` +
        `${String(polls).padStart(13)}`,
    );
  }
  console.log(`task status polls across all operations: ${totalPolls} (waits use event.from)`);
  await closeAll();
  await sim.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
