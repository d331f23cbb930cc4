/**
 * PIF, VLAN and Bond rules as xapi applies them (xapi_vlan.ml destroy, xapi_pif.ml plug/unplug, xapi_bond.ml
 * create/destroy, message_forwarding.ml do_op_on): refusal order and what moves with a bond.
 */
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let hosts: string[];
let master: string;
let template: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 2 }));
  const [pool] = await c.call<string[]>("pool.get_all");
  master = await c.call<string>("pool.get_master", pool);
  hosts = await c.call<string[]>("host.get_all");
  hosts.sort((a, b) => (a === master ? -1 : b === master ? 1 : 0));
  [template] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
});
afterAll(() => sim.close());

const newNet = (name: string) => c.call<string>("network.create", { name_label: name, other_config: {} });
const pifOn = async (host: string, device: string) => {
  const pifs = await c.call<Record<string, Rec>>(
    "PIF.get_all_records_where",
    `field "device" = "${device}" and field "host" = "${host}" and field "VLAN" = "-1"`,
  );
  return Object.keys(pifs)[0];
};
const poolRef = async () => (await c.call<string[]>("pool.get_all"))[0];
const setLive = (host: string, live: boolean) =>
  sim.store.set("host_metrics", sim.store.get("host", host).metrics as string, "live", live);
async function vlanOn(
  host: string,
  device: string,
  tag: number,
): Promise<{ net: string; vlan: string; untagged: string }> {
  const net = await newNet(`vlan${tag}`);
  const vlan = await c.call<string>("VLAN.create", await pifOn(host, device), tag, net);
  return { net, vlan, untagged: await c.call<string>("VLAN.get_untagged_PIF", vlan) };
}
/** A running VM on `host` with an attached VIF on `network`. */
async function runningVmOn(host: string, network: string, name: string): Promise<{ vm: string; vif: string }> {
  const vm = await c.call<string>("VM.clone", template, name);
  await c.call("VM.set_is_a_template", vm, false);
  await c.call("VM.start_on", vm, host, false, false);
  const vif = await c.call<string>("VIF.create", {
    device: "9",
    network,
    VM: vm,
    MAC: "",
    MTU: 1500,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
  sim.store.set("VIF", vif, "currently_attached", true); // as if hot-plugged
  return { vm, vif };
}

describe("VLAN.destroy runs PIF.unplug's checks", () => {
  it("PIF_DOES_NOT_ALLOW_UNPLUG [untagged PIF] when the VLAN PIF has disallow_unplug; nothing is removed", async () => {
    const { vlan, untagged } = await vlanOn(hosts[1], "eth1", 201);
    sim.store.set("PIF", untagged, "disallow_unplug", true);
    await expectError(c.call("VLAN.destroy", vlan), "PIF_DOES_NOT_ALLOW_UNPLUG", [untagged]);
    expect(await c.call("PIF.get_currently_attached", untagged)).toBe(true);
    sim.store.set("PIF", untagged, "disallow_unplug", false);
    await c.call("VLAN.destroy", vlan);
  });

  it("VIF_IN_USE [network, vif] for an attached VIF of a VM running on that host, not on another host", async () => {
    const here = await vlanOn(hosts[1], "eth1", 202);
    const { vif } = await runningVmOn(hosts[1], here.net, "on-vlan");
    await expectError(c.call("VLAN.destroy", here.vlan), "VIF_IN_USE", [here.net, vif]);
    const elsewhere = await vlanOn(hosts[0], "eth1", 203);
    await runningVmOn(hosts[1], elsewhere.net, "elsewhere");
    await c.call("VLAN.destroy", elsewhere.vlan);
  });

  it("HA_IS_ENABLED / REDO_LOG_IS_ENABLED for an attached PIF, PIF_UNMANAGED", async () => {
    const { vlan, untagged } = await vlanOn(hosts[0], "eth1", 204);
    const pool = await poolRef();
    sim.store.set("pool", pool, "ha_enabled", true);
    await expectError(c.call("VLAN.destroy", vlan), "HA_IS_ENABLED", []);
    sim.store.set("pool", pool, "ha_enabled", false);
    sim.store.set("pool", pool, "redo_log_enabled", true);
    await expectError(c.call("VLAN.destroy", vlan), "REDO_LOG_IS_ENABLED", []);
    sim.store.set("pool", pool, "redo_log_enabled", false);
    sim.store.set("PIF", untagged, "managed", false);
    await expectError(c.call("VLAN.destroy", vlan), "PIF_UNMANAGED", [untagged]);
    sim.store.set("PIF", untagged, "managed", true);
    await c.call("VLAN.destroy", vlan);
  });

  it("PIF_IS_MANAGEMENT_INTERFACE [pif] (xapi's wire name) for a management VLAN", async () => {
    const { vlan, untagged } = await vlanOn(hosts[0], "eth1", 205);
    sim.store.set("PIF", untagged, "management", true);
    await expectError(c.call("VLAN.destroy", vlan), "PIF_IS_MANAGEMENT_INTERFACE", [untagged]);
    sim.store.set("PIF", untagged, "management", false);
    await c.call("VLAN.destroy", vlan);
  });

  it("HOST_OFFLINE [host] when the VLAN's host is not live (forwarding); the master is always reachable", async () => {
    const { vlan } = await vlanOn(hosts[1], "eth1", 206);
    setLive(hosts[1], false);
    try {
      await expectError(c.call("VLAN.destroy", vlan), "HOST_OFFLINE", [hosts[1]]);
    } finally {
      setLive(hosts[1], true);
    }
    await c.call("VLAN.destroy", vlan);
  });
});

describe("PIF.plug / PIF.unplug", () => {
  it("unplugging the management PIF is PIF_IS_MANAGEMENT_INTERFACE; disallow_unplug is PIF_DOES_NOT_ALLOW_UNPLUG", async () => {
    const eth0 = await pifOn(hosts[0], "eth0");
    await expectError(c.call("PIF.unplug", eth0), "PIF_IS_MANAGEMENT_INTERFACE", [eth0]);
    const eth1 = await pifOn(hosts[0], "eth1");
    sim.store.set("PIF", eth1, "disallow_unplug", true);
    await expectError(c.call("PIF.unplug", eth1), "PIF_DOES_NOT_ALLOW_UNPLUG", [eth1]);
    sim.store.set("PIF", eth1, "disallow_unplug", false);
  });
});

describe("bonds", () => {
  it("checks NETWORK_ALREADY_CONNECTED before MAC_INVALID, and a VLAN member is PIF_VLAN_EXISTS [device]", async () => {
    const used = await newNet("used");
    await c.call("VLAN.create", await pifOn(hosts[1], "eth1"), 301, used);
    const members = [await pifOn(hosts[1], "eth0"), await pifOn(hosts[1], "eth1")];
    await expectError(c.call("Bond.create", used, members, "zz", "active-backup", {}), "NETWORK_ALREADY_CONNECTED", [
      hosts[1],
      /^OpaqueRef:/,
    ]);
    const v = await vlanOn(hosts[1], "eth1", 302);
    await expectError(
      c.call("Bond.create", await newNet("b"), [members[0], v.untagged], "", "active-backup", {}),
      "PIF_VLAN_EXISTS",
      ["eth1"],
    );
  });

  it("an unmanaged member is PIF_UNMANAGED; properties are checked against the mode, with lacp defaults", async () => {
    const members = [await pifOn(hosts[1], "eth0"), await pifOn(hosts[1], "eth1")];
    sim.store.set("PIF", members[1], "managed", false);
    await expectError(c.call("Bond.create", await newNet("b"), members, "", "active-backup", {}), "PIF_UNMANAGED", [
      members[1],
    ]);
    sim.store.set("PIF", members[1], "managed", true);
    await expectError(
      c.call("Bond.create", await newNet("b"), members, "", "balance-slb", { "lacp-time": "fast" }),
      "INVALID_VALUE",
      ["properties", "lacp-time = fast"],
    );
    await expectError(
      c.call("Bond.create", await newNet("b"), members, "", "lacp", { "lacp-time": "soon" }),
      "INVALID_VALUE",
      ["properties", "lacp-time = soon"],
    );
    const bond = await c.call<string>("Bond.create", await newNet("lacp"), members, "", "lacp", {
      "lacp-time": "fast",
    });
    expect(await c.call("Bond.get_properties", bond)).toEqual({
      hashing_algorithm: "tcpudp_ports",
      "lacp-time": "fast",
      "lacp-fallback-ab": "true",
    });
    await c.call("Bond.destroy", bond);
  });

  it("Bond.create moves the members' VLANs and the local VIFs onto the bond; Bond.destroy moves them back with disallow_unplug", async () => {
    const eth0 = await pifOn(hosts[1], "eth0");
    const eth1 = await pifOn(hosts[1], "eth1");
    const eth1Net = await c.call<string>("PIF.get_network", eth1);
    const v = await vlanOn(hosts[1], "eth1", 310);
    const { vif } = await runningVmOn(hosts[1], eth1Net, "bonded");
    sim.store.set("PIF", eth1, "disallow_unplug", true);
    const net = await newNet("bond-moves");
    const bond = await c.call<string>("Bond.create", net, [eth0, eth1], "", "active-backup", {});
    const master = await c.call<string>("Bond.get_master", bond);
    const [moved] = await c.call<string[]>("network.get_PIFs", v.net);
    expect(moved).not.toBe(v.untagged);
    const vlan = await c.call<string>("PIF.get_VLAN_master_of", moved);
    expect(await c.call("VLAN.get_tagged_PIF", vlan)).toBe(master);
    expect(await c.call("PIF.get_device", moved)).toMatch(/^bond\d+$/);
    expect(await c.call("VIF.get_network", vif)).toBe(net);
    expect(await c.call("PIF.get_disallow_unplug", master)).toBe(true);
    expect(await c.call("PIF.get_disallow_unplug", eth1)).toBe(false);

    const primary = await c.call<string>("Bond.get_primary_slave", bond);
    await c.call("Bond.destroy", bond);
    const [back] = await c.call<string[]>("network.get_PIFs", v.net);
    expect(await c.call("VLAN.get_tagged_PIF", await c.call<string>("PIF.get_VLAN_master_of", back))).toBe(primary);
    expect(await c.call("VIF.get_network", vif)).toBe(await c.call("PIF.get_network", primary));
    expect(await c.call("PIF.get_disallow_unplug", primary)).toBe(true);
    sim.store.set("PIF", primary, "disallow_unplug", false);
  });

  it("PIF.plug of a bond slave is CANNOT_PLUG_BOND_SLAVE; Bond.destroy of the management bond with HA on is refused", async () => {
    const members = [await pifOn(hosts[0], "eth0"), await pifOn(hosts[0], "eth1")];
    const bond = await c.call<string>("Bond.create", await newNet("mgmt-bond"), members, "", "active-backup", {});
    await expectError(c.call("PIF.plug", members[1]), "CANNOT_PLUG_BOND_SLAVE", [members[1]]);
    const pool = await poolRef();
    sim.store.set("pool", pool, "ha_enabled", true);
    try {
      await expectError(c.call("Bond.destroy", bond), "HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE", []);
    } finally {
      sim.store.set("pool", pool, "ha_enabled", false);
    }
    await c.call("Bond.destroy", bond);
    expect(await c.call("PIF.get_management", members[0])).toBe(true);
  });
});
