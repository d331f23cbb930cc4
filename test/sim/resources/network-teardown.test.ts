// Network delete on a two-host pool: a refusal XAPI would give on the second host (disallow_unplug, host
// offline, HA, unmanaged PIF) is found before anything is removed on any host.
import type { Simulator } from "../../../simulator";
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network } = resourceKinds;

let sim: Simulator;
let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
let slave: string;
let slaveName: string;

beforeAll(async () => {
  lab = await startPool("s3cret-pw", { hosts: 2 });
  ({ sim, xapi, ctx } = lab);
  const [pool] = await xapi.call<string[]>("pool.get_all");
  const master = await xapi.call<string>("pool.get_master", pool);
  slave = (await xapi.call<string[]>("host.get_all")).find((h) => h !== master)!;
  slaveName = await xapi.call<string>("host.get_name_label", slave);
});

afterAll(() => stopPool(lab));

const { createWith } = resourceSteps(() => ctx);

/** The network's PIF (VLAN PIF or bond master) on each host, and the VLAN and Bond counts. */
async function teardownState(id: string) {
  const ref = await xapi.call<string>("network.get_by_uuid", id);
  const pifs = await xapi.call<Record<string, { host: string }>>(
    "PIF.get_all_records_where",
    `field "network" = "${ref}"`,
  );
  const onSlave = Object.entries(pifs).find(([, p]) => p.host === slave)![0];
  return {
    pifs: Object.keys(pifs).sort(),
    onSlave,
    vlans: Object.keys(await xapi.call("VLAN.get_all_records")).length,
    bonds: Object.keys(await xapi.call("Bond.get_all_records")).length,
  };
}

async function refusedWithNothingRemoved(id: string, outs: Record<string, unknown>, expected: RegExp[]) {
  const before = await teardownState(id);
  const err = await network.delete(id, outs, ctx).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).toContain(`network ${id} ("${outs.name}") cannot be deleted; nothing was removed on any host`);
  for (const e of expected) expect(err!.message).toMatch(e);
  expect(err!.message).not.toMatch(/OpaqueRef/);
  expect(await teardownState(id)).toEqual(before);
  return before;
}

describe("Network delete refused on a later host, with nothing removed", () => {
  it("a VLAN PIF with disallow_unplug on the second host (PIF_DOES_NOT_ALLOW_UNPLUG)", async () => {
    const { id, outs } = await createWith(network, { name: "pinned", vlan: 61, nic: "eth1" });
    const { onSlave } = await teardownState(id);
    sim.store.set("PIF", onSlave, "disallow_unplug", true);
    await refusedWithNothingRemoved(id, outs, [
      new RegExp(`VLAN PIF on ${slaveName} has disallow_unplug set.*\\(PIF_DOES_NOT_ALLOW_UNPLUG\\)$`),
    ]);
    sim.store.set("PIF", onSlave, "disallow_unplug", false);
    await network.delete(id, outs, ctx);
    expect(await network.read(id, outs, ctx)).toEqual({ id: "" });
  });

  it("the second host offline (HOST_OFFLINE), for a VLAN and for a bond network", async () => {
    const metrics = sim.store.get("host", slave).metrics as string;
    const vlanNet = await createWith(network, { name: "far-vlan", vlan: 62, nic: "eth1" });
    const bondNet = await createWith(network, {
      name: "far-bond",
      bond: { nics: ["eth2", "eth3"], mode: "active-backup" },
    });
    sim.store.set("host_metrics", metrics, "live", false);
    try {
      await refusedWithNothingRemoved(vlanNet.id, vlanNet.outs, [
        new RegExp(`host ${slaveName} is offline.*\\(HOST_OFFLINE\\)$`),
      ]);
      await refusedWithNothingRemoved(bondNet.id, bondNet.outs, [/\(HOST_OFFLINE\)$/]);
    } finally {
      sim.store.set("host_metrics", metrics, "live", true);
    }
    await network.delete(vlanNet.id, vlanNet.outs, ctx);
    await network.delete(bondNet.id, bondNet.outs, ctx);
    expect(Object.keys(await xapi.call("Bond.get_all_records"))).toHaveLength(0);
  });

  it("HA enabled (HA_IS_ENABLED) and an unmanaged VLAN PIF (PIF_UNMANAGED), both reported", async () => {
    const { id, outs } = await createWith(network, { name: "guarded", vlan: 63, nic: "eth1" });
    const { onSlave } = await teardownState(id);
    const [pool] = await xapi.call<string[]>("pool.get_all");
    sim.store.set("pool", pool, "ha_enabled", true);
    sim.store.set("PIF", onSlave, "managed", false);
    try {
      await refusedWithNothingRemoved(id, outs, [
        /HA is enabled.*\(HA_IS_ENABLED\)/,
        new RegExp(`VLAN PIF on ${slaveName} is not managed.*\\(PIF_UNMANAGED\\)`),
      ]);
    } finally {
      sim.store.set("pool", pool, "ha_enabled", false);
      sim.store.set("PIF", onSlave, "managed", true);
    }
    await network.delete(id, outs, ctx);
  });
});
