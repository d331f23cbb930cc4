/** network, PIF, VLAN, Bond (SEMANTICS §6.3, §6.4; xapi_network.ml, xapi_vlan.ml, xapi_bond.ml). */
import { fail } from "../engine/errors";
import { NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";

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
  if (pif.bond_slave_of !== NULL_REF && s.has("Bond", pif.bond_slave_of)) fail("CANNOT_ADD_VLAN_TO_BOND_SLAVE", taggedPif);
  if ((pif.VLAN as number) >= 0) fail("PIF_IS_VLAN", taggedPif);
  if (tag < 0 || tag > 4094) fail("VLAN_TAG_INVALID", tag);
  for (const v of pif.VLAN_slave_of as string[]) if (s.get("VLAN", v).tag === tag) fail("PIF_VLAN_EXISTS", pif.device as string);
  const metrics = s.create("PIF_metrics", { carrier: true, speed: 0, duplex: false, other_config: {} });
  const untagged = s.create("PIF", {
    device: pif.device,
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
    bond_master_of: [],
    VLAN_slave_of: [],
    tunnel_access_PIF_of: [],
    tunnel_transport_PIF_of: [],
    sriov_physical_PIF_of: [],
    sriov_logical_PIF_of: [],
    capabilities: [],
    properties: {},
  });
  const vlan = s.create("VLAN", { tagged_PIF: taggedPif, untagged_PIF: untagged, tag, other_config: {} });
  s.update("PIF", untagged, { VLAN_master_of: vlan, currently_attached: true });
  return vlan;
}

export function destroyVlan(x: Xapi, vlan: string): void {
  const s = x.store;
  const v = s.get("VLAN", vlan);
  const untagged = s.tryGet("PIF", v.untagged_PIF);
  if (untagged) {
    if ((untagged.VLAN as number) < 0) fail("PIF_IS_PHYSICAL");
    if (untagged.management) fail("PIF_IS_MANAGEMENT_IFACE", v.untagged_PIF as string);
    if (untagged.bond_slave_of !== NULL_REF && s.has("Bond", untagged.bond_slave_of)) fail("PIF_ALREADY_BONDED", v.untagged_PIF as string);
    s.destroy("PIF", v.untagged_PIF as string);
    if (s.has("PIF_metrics", untagged.metrics)) s.destroy("PIF_metrics", untagged.metrics as string);
  }
  s.destroy("VLAN", vlan);
}

function createVlanOnNetworkHosts(x: Xapi, pifs: [string, Row][], network: string, tag: number): string[] {
  const created: string[] = [];
  try {
    for (const [ref] of pifs) created.push(createVlan(x, ref, tag, network));
  } catch (e) {
    for (const v of created) destroyVlan(x, v);
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

function createBond(x: Xapi, network: string, members: string[], mac: string, mode: string, properties: Record<string, string>): string {
  const s = x.store;
  const net = s.get("network", network);
  if (!net.managed) fail("NETWORK_UNMANAGED", network);
  if (mac !== "" && !MAC_RE.test(mac)) fail("MAC_INVALID", mac);
  if (members.length === 0) fail("PIF_BOND_NEEDS_MORE_MEMBERS");
  const pifs = members.map((m) => s.get("PIF", m));
  const host = pifs[0].host as string;
  if (pifs.some((p) => p.host !== host)) fail("PIF_CANNOT_BOND_CROSS_HOST");
  const existing = pifsOf(x, network).find(([, p]) => p.host === host);
  if (existing) fail("NETWORK_ALREADY_CONNECTED", host, existing[0]);
  pifs.forEach((p, i) => {
    if (p.bond_slave_of !== NULL_REF && s.has("Bond", p.bond_slave_of)) fail("PIF_ALREADY_BONDED", members[i]);
    if ((p.VLAN as number) >= 0) fail("PIF_IS_VLAN", members[i]);
  });
  if (new Set(pifs.map((p) => JSON.stringify(p.properties))).size > 1) fail("INCOMPATIBLE_PIF_PROPERTIES");
  const withIp = pifs.filter((p) => p.ip_configuration_mode !== "None");
  if (withIp.length > 1) fail("PIF_BOND_MORE_THAN_ONE_IP");
  const primary = withIp[0] ? members[pifs.indexOf(withIp[0])] : members[0];
  const p0 = s.get("PIF", primary);
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
    management: p0.management,
    ip_configuration_mode: p0.ip_configuration_mode,
    IP: p0.IP,
    netmask: p0.netmask,
    gateway: p0.gateway,
    DNS: p0.DNS,
    bond_master_of: [],
    VLAN_slave_of: [],
    tunnel_access_PIF_of: [],
    tunnel_transport_PIF_of: [],
    sriov_physical_PIF_of: [],
    sriov_logical_PIF_of: [],
    capabilities: [],
    properties: p0.properties,
  });
  const bond = s.create("Bond", { master, other_config: {}, primary_slave: primary, mode, properties, links_up: members.length, auto_update_mac: mac === "" });
  for (const m of members) s.update("PIF", m, { bond_slave_of: bond, management: false, ip_configuration_mode: "None", IP: "", netmask: "", gateway: "", DNS: "", currently_attached: false });
  return bond;
}

function destroyBond(x: Xapi, bond: string): void {
  const s = x.store;
  const b = s.get("Bond", bond);
  const master = s.tryGet("PIF", b.master);
  if (master && (master.VLAN_slave_of as string[]).length > 0) fail("PIF_VLAN_STILL_EXISTS", b.master as string);
  const primary = b.primary_slave as string;
  for (const m of [...(b.slaves as string[])]) {
    const restore = m === primary && master ? { management: master.management, ip_configuration_mode: master.ip_configuration_mode, IP: master.IP, netmask: master.netmask, gateway: master.gateway, DNS: master.DNS } : {};
    s.update("PIF", m, { bond_slave_of: NULL_REF, currently_attached: true, ...restore });
  }
  if (master) {
    s.destroy("PIF", b.master as string);
    if (s.has("PIF_metrics", master.metrics)) s.destroy("PIF_metrics", master.metrics as string);
  }
  s.destroy("Bond", bond);
}

export function register(x: Xapi): void {
  x.on("network.create", (xx, _ctx, [rec]) => createNetwork(xx, rec as Row));
  x.on("network.destroy", (xx, _ctx, [self]) => {
    const s = xx.store;
    const net = s.get("network", self);
    const attached = (net.VIFs as string[]).filter((v) => s.get("VIF", v).currently_attached);
    if (attached.length) fail("NETWORK_CONTAINS_VIF", ...attached);
    if ((net.PIFs as string[]).length) fail("NETWORK_CONTAINS_PIF", ...(net.PIFs as string[]));
    if ((net.other_config as Record<string, string>).is_host_internal_management_network === "true") fail("CANNOT_DESTROY_SYSTEM_NETWORK", self as string);
    for (const v of [...(net.VIFs as string[])]) destroyVifRecord(xx, v);
    s.destroy("network", self as string);
  });
  x.on("VLAN.create", (xx, _ctx, [pif, tag, network]) => createVlan(xx, pif as string, tag as number, network as string));
  x.on("VLAN.destroy", (xx, _ctx, [self]) => destroyVlan(xx, self as string));
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
    createBond(xx, network as string, members as string[], mac as string, (mode as string) ?? "balance-slb", (properties as Record<string, string>) ?? {}),
  );
  x.on("Bond.destroy", (xx, _ctx, [self]) => destroyBond(xx, self as string));
  x.on("Bond.set_mode", (xx, _ctx, [self, mode]) => (xx.store.get("Bond", self), xx.store.set("Bond", self as string, "mode", mode)));
  x.on("Bond.set_property", (xx, _ctx, [self, k, v]) => {
    const b = xx.store.get("Bond", self);
    xx.store.set("Bond", self as string, "properties", { ...(b.properties as object), [k as string]: v });
  });
  x.on("PIF.plug", (xx, _ctx, [self]) => (xx.store.get("PIF", self), xx.store.set("PIF", self as string, "currently_attached", true)));
  x.on("PIF.unplug", (xx, _ctx, [self]) => {
    const p = xx.store.get("PIF", self);
    if (p.disallow_unplug || p.management) fail("PIF_DOES_NOT_ALLOW_UNPLUG", self as string);
    xx.store.set("PIF", self as string, "currently_attached", false);
  });
  x.on("PIF.reconfigure_ip", (xx, _ctx, [self, mode, ip, netmask, gateway, dns]) => {
    xx.store.get("PIF", self);
    if (mode === "Static" && !/^\d+\.\d+\.\d+\.\d+$/.test(ip as string)) fail("INVALID_IP_ADDRESS_SPECIFIED", "IP");
    xx.store.update("PIF", self as string, mode === "Static" ? { ip_configuration_mode: mode, IP: ip, netmask, gateway, DNS: dns } : { ip_configuration_mode: mode, IP: mode === "DHCP" ? "" : "", netmask: "", gateway: "", DNS: "" });
  });
  x.on("PIF.destroy", (xx, _ctx, [self]) => {
    const p = xx.store.get("PIF", self);
    if ((p.VLAN as number) < 0) fail("PIF_IS_PHYSICAL", self as string);
    const vlan = p.VLAN_master_of as string;
    if (xx.store.has("VLAN", vlan)) destroyVlan(xx, vlan);
    else xx.store.destroy("PIF", self as string);
  });
  x.on("PIF.forget", (xx, _ctx, [self]) => {
    const p = xx.store.get("PIF", self);
    if (p.management) fail("PIF_IS_MANAGEMENT_IFACE", self as string);
    xx.store.destroy("PIF", self as string);
  });
  x.on("PIF.scan", (xx, _ctx, [host]) => void xx.store.get("host", host));
}

/** Deletes a VIF and its metrics (also used by VM.destroy and network.destroy). */
export function destroyVifRecord(x: Xapi, vif: string): void {
  const v = x.store.tryGet("VIF", vif);
  if (!v) return;
  x.store.destroy("VIF", vif);
  if (x.store.has("VIF_metrics", v.metrics)) x.store.destroy("VIF_metrics", v.metrics as string);
}
