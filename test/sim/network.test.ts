import { startSimulator, Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let eth1: Rec & { ref: string };
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 2 }));
  const pifs = await c.call<Record<string, Rec>>("PIF.get_all_records_where", 'field "device" = "eth1"');
  const [ref, rec] = Object.entries(pifs)[0];
  eth1 = { ...rec, ref };
});
afterAll(() => sim.close());

const newNet = (name: string, extra: Rec = {}) =>
  c.call<string>("network.create", { name_label: name, other_config: {}, ...extra });

describe("seeded networking", () => {
  it("gives each host eth0 (management, static IP) and eth1 on pool-wide networks", async () => {
    const pifs = Object.values(await c.call<Record<string, Rec>>("PIF.get_all_records"));
    expect(
      pifs.filter((p) => p.device === "eth0" && p.management && p.ip_configuration_mode === "Static"),
    ).toHaveLength(2);
    const nets = await c.call<Record<string, Rec>>("network.get_all_records");
    const mgmt = Object.values(nets).find((n) => n.bridge === "xenbr0")!;
    expect(mgmt.PIFs).toHaveLength(2);
  });
});

describe("network.create / destroy / MTU", () => {
  it("auto-names bridges xapiN, turns MTU <= 0 into 1500, and sets MTU with a plain setter", async () => {
    const n = await newNet("mtu", { MTU: 0 });
    expect(await c.call<Rec>("network.get_record", n)).toMatchObject({
      MTU: 1500,
      bridge: expect.stringMatching(/^xapi\d+$/),
      default_locking_mode: "unlocked",
    });
    await c.call("network.set_MTU", n, 9000);
    expect(await c.call("network.get_MTU", n)).toBe(9000);
  });

  it("refuses reserved or too long bridge names and duplicate bridges", async () => {
    await expectError(newNet("b", { bridge: "xenbr9" }), "INVALID_VALUE", ["bridge", "xenbr9"]);
    await expectError(newNet("b", { bridge: "a-very-long-bridge-name" }), "INVALID_VALUE");
    await newNet("b", { bridge: "br-lab" });
    await expectError(newNet("b", { bridge: "br-lab" }), "BRIDGE_NAME_EXISTS", ["br-lab"]);
  });

  it("refuses to destroy a network with PIFs (NETWORK_CONTAINS_PIF)", async () => {
    await expectError(c.call("network.destroy", eth1.network), "NETWORK_CONTAINS_PIF");
  });
});

describe("VLANs", () => {
  it("VLAN.create makes an attached untagged PIF with the tagged PIF's device and MTU", async () => {
    const net = await newNet("vlan10");
    const vlan = await c.call<string>("VLAN.create", eth1.ref, 10, net);
    const v = await c.call<Rec>("VLAN.get_record", vlan);
    expect(v).toMatchObject({ tagged_PIF: eth1.ref, tag: 10 });
    const pif = await c.call<Rec>("PIF.get_record", v.untagged_PIF);
    expect(pif).toMatchObject({
      device: "eth1",
      VLAN: 10,
      MAC: "fe:ff:ff:ff:ff:ff",
      MTU: 1500,
      physical: false,
      currently_attached: true,
      VLAN_master_of: vlan,
      network: net,
    });
    expect(await c.call("PIF.get_VLAN_slave_of", eth1.ref)).toContain(vlan);
    expect(await c.call("network.get_PIFs", net)).toEqual([v.untagged_PIF]);
  });

  it("checks in xapi's order: tag range, duplicate tag (by device name), network already connected", async () => {
    const a = await newNet("vlan-a");
    await expectError(c.call("VLAN.create", eth1.ref, 4095, a), "VLAN_TAG_INVALID", ["4095"]);
    await c.call("VLAN.create", eth1.ref, 20, a);
    const b = await newNet("vlan-b");
    await expectError(c.call("VLAN.create", eth1.ref, 20, b), "PIF_VLAN_EXISTS", ["eth1"]);
    await expectError(c.call("VLAN.create", eth1.ref, 21, a), "NETWORK_ALREADY_CONNECTED", [
      eth1.host as string,
      /^OpaqueRef:/,
    ]);
  });

  it("refuses a VLAN on a VLAN PIF (PIF_IS_VLAN) and on an unmanaged network", async () => {
    const net = await newNet("vlan30");
    const vlan = await c.call<string>("VLAN.create", eth1.ref, 30, net);
    const untagged = await c.call<string>("VLAN.get_untagged_PIF", vlan);
    await expectError(c.call("VLAN.create", untagged, 31, await newNet("x")), "PIF_IS_VLAN", [untagged]);
    await expectError(
      c.call("VLAN.create", eth1.ref, 32, await newNet("unmanaged", { managed: false })),
      "NETWORK_UNMANAGED",
    );
  });

  it("pool.create_VLAN_from_PIF creates the VLAN on every host of the PIF's network", async () => {
    const net = await newNet("pool-vlan");
    const pifs = await c.call<string[]>("pool.create_VLAN_from_PIF", eth1.ref, net, 100);
    expect(pifs).toHaveLength(2);
    const hosts = new Set(await Promise.all(pifs.map((p) => c.call<string>("PIF.get_host", p))));
    expect(hosts.size).toBe(2);
  });

  it("VLAN.destroy removes the untagged PIF, then the network can go", async () => {
    const net = await newNet("vlan-gone");
    const vlan = await c.call<string>("VLAN.create", eth1.ref, 40, net);
    const untagged = await c.call<string>("VLAN.get_untagged_PIF", vlan);
    await expectError(c.call("network.destroy", net), "NETWORK_CONTAINS_PIF", [untagged]);
    await c.call("VLAN.destroy", vlan);
    await expectError(c.call("PIF.get_record", untagged), "HANDLE_INVALID", ["PIF", untagged]);
    await c.call("network.destroy", net);
  });
});

describe("bonds", () => {
  it("Bond.create makes a bondN master PIF inheriting the primary slave's MAC; destroy restores the slaves", async () => {
    const s2 = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
    try {
      const k = await new Client(s2.url).login();
      const pifs = Object.entries(await k.call<Record<string, Rec>>("PIF.get_all_records"));
      const eth0 = pifs.find(([, p]) => p.device === "eth0")!;
      const e1 = pifs.find(([, p]) => p.device === "eth1")!;
      const net = await k.call<string>("network.create", { name_label: "bond", other_config: {} });
      await expectError(k.call("Bond.create", net, [], "", "active-backup", {}), "PIF_BOND_NEEDS_MORE_MEMBERS", []);
      await expectError(k.call("Bond.create", net, [eth0[0], e1[0]], "zz", "active-backup", {}), "MAC_INVALID", ["zz"]);
      const bond = await k.call<string>("Bond.create", net, [eth0[0], e1[0]], "", "active-backup", {});
      const b = await k.call<Rec>("Bond.get_record", bond);
      expect(b).toMatchObject({ mode: "active-backup", primary_slave: eth0[0], auto_update_mac: true });
      expect((b.slaves as string[]).sort()).toEqual([eth0[0], e1[0]].sort());
      const master = await k.call<Rec>("PIF.get_record", b.master);
      expect(master).toMatchObject({
        device: "bond0",
        MAC: eth0[1].MAC,
        management: true,
        IP: eth0[1].IP,
        VLAN: -1,
        network: net,
      });
      expect(await k.call("PIF.get_management", eth0[0])).toBe(false);
      await k.call("Bond.destroy", bond);
      expect(await k.call<Rec>("PIF.get_record", eth0[0])).toMatchObject({
        management: true,
        IP: eth0[1].IP,
        bond_slave_of: "OpaqueRef:NULL",
      });
    } finally {
      await s2.close();
    }
  });
});
