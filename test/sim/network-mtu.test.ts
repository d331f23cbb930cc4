/**
 * When an MTU takes effect (xapi-project/xen-api ocaml/xapi/nm.ml determine_mtu and bring_pif_up): network.set_MTU
 * only changes the database; a PIF's bridge (and its MTU field, synced from the bridge) takes the network's MTU, or
 * the PIF's other_config:mtu, when the PIF is brought up (PIF.plug, VLAN.create via xapi_vlan.ml create, Bond.create
 * via xapi_bond.ml create). Bringing a bond master up sets its members' networks' MTU to the bond network's.
 */
import { startSimulator, Simulator } from "../../simulator";
import { Client, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let host: string;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  c = await new Client(sim.url).login();
  const [pool] = await c.call<string[]>("pool.get_all");
  host = await c.call<string>("pool.get_master", pool);
});
afterAll(() => sim.close());

const newNet = (name: string, MTU = 1500) =>
  c.call<string>("network.create", { name_label: name, MTU, other_config: {} });
const pifOn = async (device: string) =>
  Object.keys(
    await c.call<Record<string, Rec>>(
      "PIF.get_all_records_where",
      `field "device" = "${device}" and field "host" = "${host}" and field "VLAN" = "-1"`,
    ),
  )[0];

describe("network.set_MTU reaches the bridge at the next plug (nm.ml determine_mtu)", () => {
  it("a VLAN PIF keeps its MTU until it is plugged again; other_config:mtu wins over the network's", async () => {
    const net = await newNet("jumbo-vlan", 9000);
    const vlan = await c.call<string>("VLAN.create", await pifOn("eth1"), 310, net);
    const pif = await c.call<string>("VLAN.get_untagged_PIF", vlan);
    // VLAN.create plugs the PIF: its bridge has the network's MTU.
    expect(await c.call("PIF.get_MTU", pif)).toBe(9000);
    await c.call("network.set_MTU", net, 1500);
    expect(await c.call("PIF.get_MTU", pif)).toBe(9000);
    await c.call("PIF.unplug", pif);
    await c.call("PIF.plug", pif);
    expect(await c.call("PIF.get_MTU", pif)).toBe(1500);
    await c.call("PIF.add_to_other_config", pif, "mtu", "4000");
    await c.call("PIF.unplug", pif);
    await c.call("PIF.plug", pif);
    expect(await c.call("PIF.get_MTU", pif)).toBe(4000);
    await c.call("VLAN.destroy", vlan);
  });
});

describe("Bond.create sets the members' networks to the bond network's MTU (nm.ml bring_pif_up)", () => {
  it("the NICs' networks take MTU 9000 from a jumbo bond network; the bond PIF has it too", async () => {
    const members = [await pifOn("eth2"), await pifOn("eth3")];
    const memberNets = await Promise.all(members.map((m) => c.call<string>("PIF.get_network", m)));
    expect(await Promise.all(memberNets.map((n) => c.call("network.get_MTU", n)))).toEqual([1500, 1500]);
    const bond = await c.call<string>(
      "Bond.create",
      await newNet("jumbo-bond", 9000),
      members,
      "",
      "active-backup",
      {},
    );
    expect(await Promise.all(memberNets.map((n) => c.call("network.get_MTU", n)))).toEqual([9000, 9000]);
    expect(await c.call("PIF.get_MTU", await c.call<string>("Bond.get_master", bond))).toBe(9000);
    await c.call("Bond.destroy", bond);
    // The members' networks keep the MTU they were given.
    expect(await Promise.all(memberNets.map((n) => c.call("network.get_MTU", n)))).toEqual([9000, 9000]);
    for (const n of memberNets) await c.call("network.set_MTU", n, 1500);
  });
});
