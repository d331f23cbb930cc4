// Network MTU on a two-host pool: what a user sees when the MTU changes (it reaches each bridge only at the next
// PIF plug: nm.ml determine_mtu) and when a bond network changes its NICs' networks' MTU (nm.ml bring_pif_up).
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
let hostNames: string[];

beforeAll(async () => {
  lab = await startPool("s3cret-pw", { hosts: 2 });
  ({ sim, xapi, ctx } = lab);
  hostNames = (
    await Promise.all(
      (await xapi.call<string[]>("host.get_all")).map((h) => xapi.call<string>("host.get_name_label", h)),
    )
  ).sort();
});
afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

/** Runs `fn`, returning what it wrote to stderr. */
async function stderrOf<T>(fn: () => Promise<T>): Promise<{ value: T; written: string }> {
  const spy = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const value = await fn();
    return { value, written: spy.mock.calls.map((c) => String(c[0])).join("") };
  } finally {
    spy.mockRestore();
  }
}

describe("an MTU change", () => {
  it("is recorded at once, reported as pending per host, and shown in effect once the PIF is plugged again", async () => {
    const { id, outs, checked } = await createWith(network, { name: "mtu-vlan", vlan: 77, nic: "eth1" });
    expect(outs.mtuInEffect).toEqual(Object.fromEntries(hostNames.map((h) => [h, 1500])));
    const up = await updateWith(network, id, outs, { ...checked, mtu: 9000 });
    expect(up.diff).toMatchObject({ changes: true, replaces: [] });
    const { value, written } = await stderrOf(() => up.run());
    expect(written).toContain(
      `network "mtu-vlan": MTU 9000 is recorded, but xapi applies a network's MTU only when it plugs the ` +
        `network's PIF on a host; until then ${hostNames.map((h) => `${h} keeps 1500`).join(", ")}.`,
    );
    expect(written).toMatch(/not on a management interface/);
    expect(value.outs.mtu).toBe(9000);
    expect(value.outs.mtuInEffect).toEqual(Object.fromEntries(hostNames.map((h) => [h, 1500])));
    // Re-plugging the PIF on one host (as the message says) brings the new MTU there.
    const ref = await xapi.call<string>("network.get_by_uuid", id);
    const [pif] = await xapi.call<string[]>("network.get_PIFs", ref);
    const host = await xapi.call<string>("host.get_name_label", await xapi.call<string>("PIF.get_host", pif));
    await xapi.call("PIF.unplug", pif);
    await xapi.call("PIF.plug", pif);
    const refreshed = await network.read(id, value.outs, ctx);
    expect((refreshed.props!.mtuInEffect as Record<string, number>)[host]).toBe(9000);
    await network.delete(id, refreshed.props!, ctx);
  });
});

describe("a bond network", () => {
  it("warns at preview that its NICs' networks take its MTU; an adopted one of them then drifts", async () => {
    const nic2 = Object.values(
      await xapi.call<Record<string, { network: string }>>("PIF.get_all_records_where", 'field "device" = "eth2"'),
    )[0].network;
    const nic2Uuid = await xapi.call<string>("network.get_uuid", nic2);
    const nic2Name = await xapi.call<string>("network.get_name_label", nic2);
    const adopted = await createWith(network, { adopt: nic2Uuid, name: nic2Name, mtu: 1500 });
    const { value: checked, written } = await stderrOf(() =>
      network.check({}, { name: "jumbo", mtu: 9000, bond: { nics: ["eth2", "eth3"], mode: "active-backup" } }, ctx),
    );
    expect(checked.failures).toBeUndefined();
    expect(written).toMatch(
      new RegExp(
        `warning: bond network "jumbo": xapi's Bond.create sets the MTU of the bonded NICs' networks ` +
          `"${nic2Name}" \\(now 1500\\), .* to 9000, the bond network's\\. A Network resource that manages the ` +
          `mtu of one of them will show drift`,
      ),
    );
    const bond = await network.create(checked.inputs!, ctx);
    const refreshed = await network.read(adopted.id, adopted.outs, ctx);
    expect(refreshed.inputs?.mtu).toBe(9000);
    expect((await network.diff(adopted.id, refreshed.props!, adopted.checked)).changes).toBe(true);
    await network.delete(bond.id, bond.outs, ctx);
    await xapi.call("network.set_MTU", nic2, 1500);
    expect(sim.store.get("network", nic2).MTU).toBe(1500);
  });
});
