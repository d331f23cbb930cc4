/** network, PIF, VLAN, Bond (docs/xapi-semantics.md §6.3, §6.4; xapi_network.ml, xapi_vlan.ml, xapi_bond.ml). */
import { fail } from "../engine/errors";
import { NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { checkLive } from "./forwarding";

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function nextBridge(x: Xapi): string {
  const used = new Set([...x.store.table("network").values()].map((n) => n.bridge));
  for (let i = 0; ; i++) if (!used.has(`xapi${i}`)) return `xapi${i}`;
}

export function createNetwork(x: Xapi, rec: Row): string {
  const bridge = String(rec.bridge ?? "");
  if (bridge !== "") {
    if (bridge.length > 15 || /^(xen|xapi|vif|tap|eth)/.test(bridge)) fail("INVALID_VALUE", "bridge", bridge);
    if ([...x.store.table("network").values()].some((n) => n.bridge === bridge)) fail("BRIDGE_NAME_EXISTS", bridge);
  }
  const mtu = Number(rec.MTU ?? 1500);
  return x.store.create("network", {
    ...rec,
    MTU: mtu <= 0 ? 1500 : mtu,
    bridge: bridge || nextBridge(x),
    default_locking_mode: "unlocked",
    purpose: [],
    assigned_ips: {},
    allowed_operations: [],
    current_operations: {},
  });
}

function pifsOf(x: Xapi, network: string): [string, Row][] {
  return (x.store.get("network", network).PIFs as string[]).map((p) => [p, x.store.get("PIF", p)]);
}

export function createVlan(x: Xapi, taggedPif: string, tag: number, network: string): string {
  const s = x.store;
  const net = s.get("network", network);
  const pif = s.get("PIF", taggedPif);
  if (!net.managed) fail("NETWORK_UNMANAGED", network);
  const existing = pifsOf(x, network).find(([, p]) => p.host === pif.host);
  if (existing) fail("NETWORK_ALREADY_CONNECTED", pif.host as string, existing[0]);
  if (!pif.managed) fail("PIF_UNMANAGED", taggedPif);
  if (pif.bond_slave_of !== NULL_REF && s.has("Bond", pif.bond_slave_of))
    fail("CANNOT_ADD_VLAN_TO_BOND_SLAVE", taggedPif);
  if ((pif.VLAN as number) >= 0) fail("PIF_IS_VLAN", taggedPif);
  if (tag < 0 || tag > 4094) fail("VLAN_TAG_INVALID", tag);
  for (const v of pif.VLAN_slave_of as string[])
    if (s.get("VLAN", v).tag === tag) fail("PIF_VLAN_EXISTS", pif.device as string);
  const [vlan, untagged] = createVlanInternal(x, taggedPif, tag, network, pif.device as string);
  // xapi_vlan.ml create plugs the new PIF (Xapi_pif.plug → Nm.bring_pif_up), which sets the VLAN network's MTU.
  s.update("PIF", untagged, { currently_attached: true });
  bringUpMtu(x, untagged);
  return vlan;
}

/** xapi_vlan.ml create_internal: the VLAN record and its untagged PIF (unplugged), with no checks. */
function createVlanInternal(
  x: Xapi,
  taggedPif: string,
  tag: number,
  network: string,
  device: string,
): [string, string] {
  const s = x.store;
  const pif = s.get("PIF", taggedPif);
  const metrics = s.create("PIF_metrics", { carrier: true, speed: 0, duplex: false, other_config: {} });
  const untagged = s.create("PIF", {
    device,
    network,
    host: pif.host,
    MAC: "fe:ff:ff:ff:ff:ff",
    MTU: pif.MTU,
    VLAN: tag,
    metrics,
    physical: false,
    currently_attached: false,
    management: false,
    ip_configuration_mode: "None",
    primary_address_type: pif.primary_address_type,
  });
  const vlan = s.create("VLAN", { tagged_PIF: taggedPif, untagged_PIF: untagged, tag, other_config: {} });
  s.update("PIF", untagged, { VLAN_master_of: vlan });
  return [vlan, untagged];
}

/**
 * nm.ml determine_mtu: the MTU a PIF's bridge gets when the PIF is brought up is the PIF's other_config:mtu when it
 * parses, else its network's MTU. network.set_MTU alone changes nothing on a running bridge.
 */
export function determineMtu(x: Xapi, pif: string): number {
  const p = x.store.get("PIF", pif);
  const own = Number.parseInt((p.other_config as Record<string, string> | undefined)?.mtu ?? "", 10);
  return Number.isNaN(own) ? Number(x.store.get("network", p.network).MTU) : own;
}

/**
 * nm.ml bring_pif_up, the MTU parts: a bond master's members' networks take the bond network's MTU (in the
 * database), and the PIF's MTU field is synced from its bridge, which now has determine_mtu's value.
 */
function bringUpMtu(x: Xapi, pif: string): void {
  const s = x.store;
  const p = s.get("PIF", pif);
  const bondMtu = s.get("network", p.network).MTU;
  for (const bond of p.bond_master_of as string[])
    for (const slave of (s.tryGet("Bond", bond)?.slaves as string[] | undefined) ?? []) {
      const net = s.get("PIF", slave).network as string;
      if (s.get("network", net).MTU !== bondMtu) s.set("network", net, "MTU", bondMtu);
    }
  const mtu = determineMtu(x, pif);
  if (p.MTU !== mtu) s.set("PIF", pif, "MTU", mtu);
}

/** message_forwarding.ml do_op_on → check_live: a call run on another host than the master needs that host live. */
const forwardTo = checkLive;

/** xapi_pif.ml assert_no_protection_enabled: an attached PIF cannot change while HA or the redo log is on. */
function assertNoProtection(x: Xapi, pif: Row): void {
  if (!pif.currently_attached) return;
  const pool = x.store.get("pool", x.poolRef());
  if (pool.ha_enabled) fail("HA_IS_ENABLED");
  if (pool.redo_log_enabled) fail("REDO_LOG_IS_ENABLED");
}

/** VIFs on `networks` of VMs resident on `host` (xapi_bond.ml get_local_vifs; the "can only start on this host" case is not modelled). */
function localVifs(x: Xapi, host: string, networks: string[]): string[] {
  const s = x.store;
  return networks
    .flatMap((n) => s.get("network", n).VIFs as string[])
    .filter((v) => s.tryGet("VM", s.get("VIF", v).VM)?.resident_on === host);
}

/**
 * xapi_pif.ml unplug, its refusals in order (run on the PIF's host): PIF_UNMANAGED, HA_IS_ENABLED /
 * REDO_LOG_IS_ENABLED, PIF_IS_MANAGEMENT_INTERFACE, VIF_IN_USE [network; vif] (a VIF being attached, or
 * attached to a running or paused VM resident on this host: xapi_network_attach_helpers.ml), PIF_DOES_NOT_ALLOW_UNPLUG.
 */
function unplugPif(x: Xapi, self: string): void {
  const s = x.store;
  const p = s.get("PIF", self);
  if (!p.managed) fail("PIF_UNMANAGED", self);
  assertNoProtection(x, p);
  if (p.management) fail("PIF_IS_MANAGEMENT_INTERFACE", self);
  const network = p.network as string;
  for (const v of (s.tryGet("network", network)?.VIFs as string[] | undefined) ?? []) {
    const vif = s.get("VIF", v);
    const vm = s.tryGet("VM", vif.VM);
    const attaching = Object.values((vif.current_operations as Record<string, string>) ?? {}).includes("attach");
    if (attaching && vm && (vm.resident_on === p.host || vm.scheduled_to_be_resident_on === p.host))
      fail("VIF_IN_USE", network, v);
    if (
      vif.currently_attached &&
      vm &&
      vm.resident_on === p.host &&
      (vm.power_state === "Running" || vm.power_state === "Paused")
    )
      fail("VIF_IN_USE", network, v);
  }
  if (p.disallow_unplug) fail("PIF_DOES_NOT_ALLOW_UNPLUG", self);
  // A bond slave is not brought down (its master is).
  if (p.bond_slave_of === NULL_REF) s.set("PIF", self, "currently_attached", false);
}

/**
 * xapi_vlan.ml destroy, its checks in order: PIF_ALREADY_BONDED (bond slave or master), PIF_IS_MANAGEMENT_INTERFACE
 * (an attached management PIF on a slave host), HA_IS_ENABLED / REDO_LOG_IS_ENABLED, PIF_IS_PHYSICAL [], then PIF.unplug's.
 */
export function destroyVlan(x: Xapi, vlan: string): void {
  const s = x.store;
  const v = s.get("VLAN", vlan);
  const untagged = s.tryGet("PIF", v.untagged_PIF);
  if (untagged) {
    const ref = v.untagged_PIF as string;
    if (
      (untagged.bond_slave_of !== NULL_REF && s.has("Bond", untagged.bond_slave_of)) ||
      (untagged.bond_master_of as string[]).length > 0
    )
      fail("PIF_ALREADY_BONDED", ref);
    if (untagged.host !== x.masterRef() && untagged.currently_attached && untagged.management)
      fail("PIF_IS_MANAGEMENT_INTERFACE", ref);
    assertNoProtection(x, untagged);
    if ((untagged.VLAN as number) < 0) fail("PIF_IS_PHYSICAL");
    unplugPif(x, ref);
    s.destroy("PIF", ref);
    if (s.has("PIF_metrics", untagged.metrics)) s.destroy("PIF_metrics", untagged.metrics as string);
  }
  if (s.has("VLAN", vlan)) s.destroy("VLAN", vlan);
}

function createVlanOnNetworkHosts(x: Xapi, pifs: [string, Row][], network: string, tag: number): string[] {
  const created: string[] = [];
  try {
    for (const [ref] of pifs) created.push(createVlan(x, ref, tag, network));
  } catch (e) {
    // xapi_pool.ml safe_destroy_VLANs: a failure to remove one is ignored.
    for (const v of created) {
      try {
        destroyVlan(x, v);
      } catch {
        /* left in place, as xapi does */
      }
    }
    throw e;
  }
  return created.map((v) => x.store.get("VLAN", v).untagged_PIF as string);
}

function liveHostPifs(x: Xapi, pred: (p: Row) => boolean): [string, Row][] {
  return [...x.store.table("PIF")].filter(([, p]) => {
    const h = x.store.tryGet("host", p.host);
    const m = h && x.store.tryGet("host_metrics", h.metrics);
    return pred(p) && (!m || m.live === true);
  });
}

/** xapi_bond.ml requirements_of_mode: the properties a mode accepts, with their defaults. */
const LACP_PROPERTIES: Record<string, { default?: string; valid: (v: string) => boolean }> = {
  hashing_algorithm: { default: "tcpudp_ports", valid: (v) => ["src_mac", "tcpudp_ports"].includes(v) },
  "lacp-time": { default: "slow", valid: (v) => ["fast", "slow"].includes(v) },
  "lacp-aggregation-key": { valid: (v) => /^[+-]?\d+$/.test(v) },
  "lacp-fallback-ab": { default: "true", valid: (v) => ["true", "false"].includes(v) },
};

/** Map_check.validate_kvpair + add_defaults: a property the mode does not know, or a bad value, is INVALID_VALUE ["properties"; "k = v"]. */
function bondProperties(mode: string, properties: Record<string, string>): Record<string, string> {
  const reqs = mode === "lacp" ? LACP_PROPERTIES : {};
  for (const [k, v] of Object.entries(properties))
    if (!Object.hasOwn(reqs, k) || !reqs[k].valid(v)) fail("INVALID_VALUE", "properties", `${k} = ${v}`);
  const defaults = Object.fromEntries(
    Object.entries(reqs).flatMap(([k, r]) => (r.default !== undefined && !(k in properties) ? [[k, r.default]] : [])),
  );
  return { ...defaults, ...properties };
}

const IP_FIELDS = ["ip_configuration_mode", "IP", "netmask", "gateway", "DNS"] as const;

/** xapi_bond.ml move_configuration: the IPv4 configuration moves from one PIF to the other. */
function moveConfiguration(x: Xapi, from: string, to: string): void {
  const f = x.store.get("PIF", from);
  x.store.update("PIF", to, Object.fromEntries(IP_FIELDS.map((k) => [k, f[k] ?? ""])));
  x.store.update("PIF", from, { ip_configuration_mode: "None", IP: "", netmask: "", gateway: "", DNS: "" });
}

/** xapi_bond.ml move_vlan: the VLAN is re-created on `newSlave` (or merged into one with that tag there) and the old one removed. */
function moveVlan(x: Xapi, host: string, newSlave: string, oldVlan: string): void {
  const s = x.store;
  const v = s.get("VLAN", oldVlan);
  const oldMaster = v.untagged_PIF as string;
  const om = s.get("PIF", oldMaster);
  const network = om.network as string;
  const same = (s.get("PIF", newSlave).VLAN_slave_of as string[]).find((w) => s.get("VLAN", w).tag === v.tag);
  let newMaster: string;
  if (same) {
    newMaster = s.get("VLAN", same).untagged_PIF as string;
    const newNetwork = s.get("PIF", newMaster).network;
    for (const vif of localVifs(x, host, [network])) s.set("VIF", vif, "network", newNetwork);
  } else {
    newMaster = createVlanInternal(x, newSlave, v.tag as number, network, s.get("PIF", newSlave).device as string)[1];
  }
  moveConfiguration(x, oldMaster, newMaster);
  s.destroy("VLAN", oldVlan);
  s.destroy("PIF", oldMaster);
  if (s.has("PIF_metrics", om.metrics)) s.destroy("PIF_metrics", om.metrics as string);
  if (om.currently_attached)
    s.update("PIF", newMaster, { currently_attached: true, ...(om.management ? { management: true } : {}) });
}

/**
 * xapi_bond.ml create (and message_forwarding: PIF_BOND_NEEDS_MORE_MEMBERS, HOST_OFFLINE first). Checks in order:
 * NETWORK_UNMANAGED, NETWORK_ALREADY_CONNECTED, MAC_INVALID, INVALID_VALUE (properties), PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE,
 * per member PIF_UNMANAGED / PIF_ALREADY_BONDED / PIF_VLAN_EXISTS [device] / HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE,
 * PIF_CANNOT_BOND_CROSS_HOST, INCOMPATIBLE_PIF_PROPERTIES, PIF_BOND_MORE_THAN_ONE_IP. The members' VLANs and the local
 * VIFs on their networks move onto the bond; disallow_unplug moves to the master.
 */
function createBond(
  x: Xapi,
  network: string,
  memberList: string[],
  mac: string,
  mode: string,
  props: Record<string, string>,
): string {
  const s = x.store;
  if (memberList.length === 0) fail("PIF_BOND_NEEDS_MORE_MEMBERS");
  const host = s.get("PIF", memberList[0]).host as string;
  forwardTo(x, host);
  const net = s.get("network", network);
  if (!net.managed) fail("NETWORK_UNMANAGED", network);
  const existing = pifsOf(x, network).find(([, p]) => p.host === host);
  if (existing) fail("NETWORK_ALREADY_CONNECTED", host, existing[0]);
  if (mac !== "" && !MAC_RE.test(mac)) fail("MAC_INVALID", mac);
  const properties = bondProperties(mode, props);
  const members = [...new Set(memberList)];
  const pifs = members.map((m) => s.get("PIF", m));
  const hasIp = (p: Row) =>
    (p.primary_address_type === "IPv6" ? p.ipv6_configuration_mode : p.ip_configuration_mode) !== "None";
  const managementPif = members.find((_, i) => pifs[i].management);
  const withIp = members.filter((_, i) => hasIp(pifs[i]));
  const primary = managementPif ?? withIp[0] ?? members[0];
  const p0 = s.get("PIF", primary);
  members.forEach((m, i) => {
    if (pifs[i].primary_address_type !== p0.primary_address_type) fail("PIF_INCOMPATIBLE_PRIMARY_ADDRESS_TYPE", m);
  });
  const pool = s.get("pool", x.poolRef());
  pifs.forEach((p, i) => {
    if (!p.managed) fail("PIF_UNMANAGED", members[i]);
    // xapi_pif_helpers.ml bond_is_allowed_on_pif, by the PIF's type
    if (p.VLAN_master_of !== NULL_REF && s.has("VLAN", p.VLAN_master_of)) fail("PIF_VLAN_EXISTS", p.device as string);
    if (p.physical && p.bond_slave_of !== NULL_REF && s.has("Bond", p.bond_slave_of))
      fail("PIF_ALREADY_BONDED", members[i]);
    if (pool.ha_enabled && p.management) fail("HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE");
  });
  if (pifs.some((p) => p.host !== host)) fail("PIF_CANNOT_BOND_CROSS_HOST");
  if (new Set(pifs.map((p) => JSON.stringify(p.properties))).size > 1) fail("INCOMPATIBLE_PIF_PROPERTIES");
  if (withIp.length > 1) fail("PIF_BOND_MORE_THAN_ONE_IP");
  const memberNetworks = pifs.map((p) => p.network as string);
  const vifsToMove = localVifs(x, host, memberNetworks);
  const vlansToMove = pifs.flatMap((p) => p.VLAN_slave_of as string[]);
  const disallowUnplug = pifs.some((p) => p.disallow_unplug);
  const used = new Set([...s.table("PIF").values()].filter((p) => p.host === host).map((p) => p.device));
  let n = 0;
  while (used.has(`bond${n}`)) n++;
  const master = s.create("PIF", {
    device: `bond${n}`,
    network,
    host,
    MAC: mac || p0.MAC,
    MTU: net.MTU,
    VLAN: -1,
    metrics: s.create("PIF_metrics", { carrier: true, speed: 0, duplex: true, other_config: {} }),
    physical: false,
    currently_attached: true,
    management: !!managementPif,
    ip_configuration_mode: "None",
    primary_address_type: p0.primary_address_type,
    properties: p0.properties,
  });
  const bond = s.create("Bond", {
    master,
    other_config: {},
    primary_slave: primary,
    mode,
    properties,
    links_up: members.length,
    auto_update_mac: mac === "",
  });
  moveConfiguration(x, primary, master);
  for (const m of members) s.update("PIF", m, { bond_slave_of: bond, management: false, currently_attached: false });
  for (const v of vlansToMove) moveVlan(x, host, master, v);
  for (const v of vifsToMove) s.set("VIF", v, "network", network);
  if (disallowUnplug) {
    s.set("PIF", master, "disallow_unplug", true);
    for (const m of members) s.set("PIF", m, "disallow_unplug", false);
  }
  // xapi_bond.ml create ends with Nm.bring_pif_up master: the members' networks take the bond network's MTU.
  bringUpMtu(x, master);
  return bond;
}

/**
 * xapi_bond.ml destroy: refuses only HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE (after forwarding's HOST_OFFLINE).
 * The master's IP configuration and management go back to the primary slave, and so do its VLANs, the local
 * VIFs on the bond network (to the primary slave's network) and disallow_unplug.
 */
function destroyBond(x: Xapi, bond: string): void {
  const s = x.store;
  const b = s.get("Bond", bond);
  const masterRef = b.master as string;
  const master = s.get("PIF", masterRef);
  const host = master.host as string;
  forwardTo(x, host);
  const primary = b.primary_slave as string;
  const primaryNetwork = s.get("PIF", primary).network;
  const vifsToMove = localVifs(x, host, [master.network as string]);
  const vlansToMove = [...(master.VLAN_slave_of as string[])];
  if (s.get("pool", x.poolRef()).ha_enabled && master.management) fail("HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE");
  moveConfiguration(x, masterRef, primary);
  const members = [...(b.slaves as string[])];
  for (const m of members)
    s.update("PIF", m, {
      currently_attached: master.currently_attached || master.management,
      ...(m === primary && master.management ? { management: true } : {}),
    });
  s.set("PIF", masterRef, "management", false);
  for (const v of vlansToMove) moveVlan(x, host, primary, v);
  for (const v of vifsToMove) s.set("VIF", v, "network", primaryNetwork);
  if (master.disallow_unplug) s.set("PIF", primary, "disallow_unplug", true);
  s.destroy("Bond", bond);
  s.destroy("PIF", masterRef);
  if (s.has("PIF_metrics", master.metrics)) s.destroy("PIF_metrics", master.metrics as string);
  for (const m of members) if (s.has("PIF", m)) s.set("PIF", m, "bond_slave_of", NULL_REF);
}

export function register(x: Xapi): void {
  x.on("network.create", (xx, _ctx, [rec]) => createNetwork(xx, rec as Row));
  x.on("network.destroy", (xx, _ctx, [self]) => {
    const s = xx.store;
    const net = s.get("network", self);
    // xapi_network.ml destroy also counts VIFs with `reserved` set, an internal-only field that xapi never sets
    // to true today (xapi_vif_helpers creates VIFs with reserved=false; force_state_reset clears it): not modelled.
    const attached = (net.VIFs as string[]).filter((v) => s.get("VIF", v).currently_attached);
    if (attached.length) fail("NETWORK_CONTAINS_VIF", ...attached);
    if ((net.PIFs as string[]).length) fail("NETWORK_CONTAINS_PIF", ...(net.PIFs as string[]));
    if ((net.other_config as Record<string, string>).is_host_internal_management_network === "true")
      fail("CANNOT_DESTROY_SYSTEM_NETWORK", self as string);
    for (const v of [...(net.VIFs as string[])]) destroyVifRecord(xx, v);
    s.destroy("network", self as string);
  });
  x.on(
    "VLAN.create",
    (xx, _ctx, [pif, tag, network]) => (
      forwardTo(xx, xx.store.get("PIF", pif).host as string),
      createVlan(xx, pif as string, tag as number, network as string)
    ),
  );
  x.on("VLAN.destroy", (xx, _ctx, [self]) => {
    forwardTo(xx, xx.store.get("PIF", xx.store.get("VLAN", self).tagged_PIF).host as string);
    destroyVlan(xx, self as string);
  });
  x.on("PIF.create_VLAN", (xx, _ctx, [device, network, host, tag]) => {
    const pif = [...xx.store.table("PIF")].find(([, p]) => p.host === host && p.device === device && p.VLAN === -1);
    xx.store.get("host", host);
    if (!pif) return fail("INVALID_VALUE", "device", device as string);
    return xx.store.get("VLAN", createVlan(xx, pif[0], tag as number, network as string)).untagged_PIF;
  });
  x.on("pool.create_VLAN_from_PIF", (xx, _ctx, [pif, network, tag]) => {
    const p = xx.store.get("PIF", pif);
    xx.store.get("network", network);
    const pifs = liveHostPifs(xx, (q) => q.network === p.network);
    return createVlanOnNetworkHosts(xx, pifs, network as string, tag as number);
  });
  x.on("pool.create_VLAN", (xx, _ctx, [device, network, tag]) => {
    xx.store.get("network", network);
    const pifs = liveHostPifs(xx, (q) => q.device === device && q.VLAN === -1 && q.physical === true);
    return createVlanOnNetworkHosts(xx, pifs, network as string, tag as number);
  });
  x.on("Bond.create", (xx, _ctx, [network, members, mac, mode, properties]) =>
    createBond(
      xx,
      network as string,
      members as string[],
      mac as string,
      (mode as string) ?? "balance-slb",
      (properties as Record<string, string>) ?? {},
    ),
  );
  x.on("Bond.destroy", (xx, _ctx, [self]) => destroyBond(xx, self as string));
  x.on(
    "Bond.set_mode",
    (xx, _ctx, [self, mode]) => (xx.store.get("Bond", self), xx.store.set("Bond", self as string, "mode", mode)),
  );
  x.on("Bond.set_property", (xx, _ctx, [self, k, v]) => {
    const b = xx.store.get("Bond", self);
    xx.store.set("Bond", self as string, "properties", { ...(b.properties as object), [k as string]: v });
  });
  // xapi_pif.ml plug: PIF_UNMANAGED, then CANNOT_PLUG_BOND_SLAVE for a (non SR-IOV) physical bond slave.
  x.on("PIF.plug", (xx, _ctx, [self]) => {
    const p = xx.store.get("PIF", self);
    forwardTo(xx, p.host as string);
    if (!p.managed) fail("PIF_UNMANAGED", self as string);
    const type =
      p.VLAN_master_of !== NULL_REF
        ? "vlan"
        : (p.bond_master_of as string[]).length
          ? "bond"
          : p.physical
            ? "physical"
            : "other";
    if (type === "physical" && p.bond_slave_of !== NULL_REF && (p.sriov_physical_PIF_of as string[]).length === 0)
      fail("CANNOT_PLUG_BOND_SLAVE", self as string);
    if (p.bond_slave_of === NULL_REF) {
      xx.store.set("PIF", self as string, "currently_attached", true);
      bringUpMtu(xx, self as string);
    }
  });
  x.on("PIF.unplug", (xx, _ctx, [self]) => {
    forwardTo(xx, xx.store.get("PIF", self).host as string);
    unplugPif(xx, self as string);
  });
  x.on("PIF.reconfigure_ip", (xx, _ctx, [self, mode, ip, netmask, gateway, dns]) => {
    xx.store.get("PIF", self);
    if (mode === "Static" && !/^\d+\.\d+\.\d+\.\d+$/.test(ip as string)) fail("INVALID_IP_ADDRESS_SPECIFIED", "IP");
    xx.store.update(
      "PIF",
      self as string,
      mode === "Static"
        ? { ip_configuration_mode: mode, IP: ip, netmask, gateway, DNS: dns }
        : { ip_configuration_mode: mode, IP: mode === "DHCP" ? "" : "", netmask: "", gateway: "", DNS: "" },
    );
  });
  x.on("PIF.destroy", (xx, _ctx, [self]) => {
    const p = xx.store.get("PIF", self);
    // xapi_pif.ml destroy: PIF_IS_PHYSICAL [], then VLAN.destroy through the API (forwarded to the PIF's host).
    if ((p.VLAN as number) < 0) fail("PIF_IS_PHYSICAL");
    const vlan = p.VLAN_master_of as string;
    if (xx.store.has("VLAN", vlan)) {
      forwardTo(xx, xx.store.get("PIF", xx.store.get("VLAN", vlan).tagged_PIF).host as string);
      destroyVlan(xx, vlan);
    } else xx.store.destroy("PIF", self as string);
  });
  x.on("PIF.forget", (xx, _ctx, [self]) => {
    const p = xx.store.get("PIF", self);
    if (p.management) fail("PIF_IS_MANAGEMENT_INTERFACE", self as string);
    xx.store.destroy("PIF", self as string);
  });
  x.on("PIF.scan", (xx, _ctx, [host]) => void xx.store.get("host", host));
  x.on("PIF.set_property", (xx, _ctx, [self, name, value]) => {
    const p = xx.store.get("PIF", self);
    // xapi_pif.set_property knows one property, gro, with values on/off.
    if (name !== "gro") fail("INVALID_VALUE", "properties", String(name));
    if (value !== "on" && value !== "off") fail("INVALID_VALUE", "properties", String(value));
    xx.store.set("PIF", self as string, "properties", { ...(p.properties as object), [name as string]: value });
  });
}

/** Deletes a VIF and its metrics (also used by VM.destroy and network.destroy). */
export function destroyVifRecord(x: Xapi, vif: string): void {
  const v = x.store.tryGet("VIF", vif);
  if (!v) return;
  x.store.destroy("VIF", vif);
  if (x.store.has("VIF_metrics", v.metrics)) x.store.destroy("VIF_metrics", v.metrics as string);
}
