// Typed lookups for programs: find existing pool objects by name, uuid or tags.
// They run in the program's process, connect with the same stack configuration as
// the resources (xenserver:*), and log out when done.
import * as pulumi from "@pulumi/pulumi";
import { resolveConnection } from "../provider/resources/common/connection";
import type { XapiClient } from "../provider/xapi";

export interface LookupArgs {
  /** Connection profile under xenserver:pools (default connection when absent). */
  connection?: string;
}

/** Select by exactly one of name (name_label), uuid, or tags (all must be present). */
export interface Selector extends LookupArgs {
  name?: string;
  uuid?: string;
  tags?: string[];
}

async function withXapi<T>(connection: string | undefined, fn: (xapi: XapiClient) => Promise<T>): Promise<T> {
  // runtime.getConfig reads the raw value (secrets included) without Config's secret warnings.
  const settings = resolveConnection({ get: (k: string) => pulumi.runtime.getConfig(k) }, connection);
  const { XapiClient: Client } = await import("../provider/xapi");
  const xapi = await Client.connect({
    url: settings.url,
    username: settings.username,
    password: settings.password,
    tls: settings.tls,
  });
  try {
    return await fn(xapi);
  } finally {
    await xapi.close();
  }
}

interface Named {
  uuid: string;
  name_label: string;
  tags?: string[];
}

/** Picks the one record the selector names; an ambiguous or empty match is an error listing candidates. */
export function selectOne<R extends Named>(
  kind: string,
  records: Record<string, R>,
  sel: Selector,
  extra?: (r: R) => boolean,
): { ref: string; record: R } {
  const given = [sel.name !== undefined, sel.uuid !== undefined, sel.tags !== undefined].filter(Boolean).length;
  if (given !== 1) throw new Error(`get${kind}: give exactly one of name, uuid or tags`);
  const all = Object.entries(records).filter(([, r]) => !extra || extra(r));
  const matches = all.filter(([, r]) =>
    sel.uuid !== undefined
      ? r.uuid === sel.uuid
      : sel.name !== undefined
        ? r.name_label === sel.name
        : sel.tags!.every((t) => (r.tags ?? []).includes(t)),
  );
  const what =
    sel.uuid !== undefined
      ? `uuid ${sel.uuid}`
      : sel.name !== undefined
        ? `name "${sel.name}"`
        : `tags ${JSON.stringify(sel.tags)}`;
  if (matches.length === 0) {
    const names = all
      .map(([, r]) => `"${r.name_label}"`)
      .slice(0, 20)
      .join(", ");
    throw new Error(`get${kind}: no ${kind.toLowerCase()} with ${what}${names ? ` (available: ${names})` : ""}`);
  }
  if (matches.length > 1) {
    throw new Error(
      `get${kind}: ${what} is ambiguous; candidates: ${matches.map(([, r]) => `${r.uuid} ("${r.name_label}")`).join(", ")}; select by uuid instead`,
    );
  }
  return { ref: matches[0][0], record: matches[0][1] };
}

export interface PoolInfo {
  uuid: string;
  name: string;
  masterUuid: string;
  defaultSrUuid: string | null;
  hostUuids: string[];
}

export async function getPool(args: LookupArgs = {}): Promise<PoolInfo> {
  return withXapi(args.connection, async (xapi) => {
    const pools =
      await xapi.call<Record<string, { uuid: string; name_label: string; master: string; default_SR: string }>>(
        "pool.get_all_records",
      );
    const hosts = await xapi.call<Record<string, { uuid: string }>>("host.get_all_records");
    const [p] = Object.values(pools);
    const defaultSr =
      p.default_SR === "OpaqueRef:NULL" ? null : await xapi.call<string>("SR.get_uuid", p.default_SR).catch(() => null);
    return {
      uuid: p.uuid,
      name: p.name_label,
      masterUuid: hosts[p.master]?.uuid ?? "",
      defaultSrUuid: defaultSr,
      hostUuids: Object.values(hosts)
        .map((h) => h.uuid)
        .sort(),
    };
  });
}

export interface HostInfo {
  uuid: string;
  name: string;
  hostname: string;
  address: string;
  enabled: boolean;
}
interface HostRec extends Named {
  hostname: string;
  address: string;
  enabled: boolean;
}
const hostInfo = (h: HostRec): HostInfo => ({
  uuid: h.uuid,
  name: h.name_label,
  hostname: h.hostname,
  address: h.address,
  enabled: h.enabled,
});

export async function getHosts(args: LookupArgs = {}): Promise<HostInfo[]> {
  return withXapi(args.connection, async (xapi) =>
    Object.values(await xapi.call<Record<string, HostRec>>("host.get_all_records"))
      .map(hostInfo)
      .sort((a, b) => a.name.localeCompare(b.name)),
  );
}

export async function getHost(sel: Selector): Promise<HostInfo> {
  return withXapi(sel.connection, async (xapi) =>
    hostInfo(selectOne("Host", await xapi.call<Record<string, HostRec>>("host.get_all_records"), sel).record),
  );
}

export interface NetworkInfo {
  uuid: string;
  name: string;
  bridge: string;
  mtu: number;
  tags: string[];
}
interface NetworkRec extends Named {
  bridge: string;
  MTU: number;
  tags: string[];
}

export async function getNetwork(sel: Selector): Promise<NetworkInfo> {
  return withXapi(sel.connection, async (xapi) => {
    const n = selectOne("Network", await xapi.call<Record<string, NetworkRec>>("network.get_all_records"), sel).record;
    return { uuid: n.uuid, name: n.name_label, bridge: n.bridge, mtu: Number(n.MTU), tags: n.tags };
  });
}

export interface PifInfo {
  uuid: string;
  device: string;
  hostUuid: string;
  networkUuid: string;
  mac: string;
  vlan: number;
  management: boolean;
}

/** A host's NIC by device name ("eth1" or "NIC 1"); the host by name or uuid (default: the master). */
export async function getPif(args: LookupArgs & { device: string; host?: string }): Promise<PifInfo> {
  return withXapi(args.connection, async (xapi) => {
    const hosts = await xapi.call<Record<string, HostRec>>("host.get_all_records");
    const [pool] = await xapi.call<string[]>("pool.get_all");
    const hostRef = args.host
      ? Object.entries(hosts).find(([, h]) => h.uuid === args.host || h.name_label === args.host)?.[0]
      : await xapi.call<string>("pool.get_master", pool);
    if (!hostRef)
      throw new Error(
        `getPif: no host "${args.host}" (hosts: ${Object.values(hosts)
          .map((h) => h.name_label)
          .join(", ")})`,
      );
    const device = /^nic\s*(\d+)$/i.test(args.device.trim())
      ? `eth${/(\d+)/.exec(args.device)![1]}`
      : args.device.trim();
    const pifs = await xapi.call<
      Record<
        string,
        {
          uuid: string;
          device: string;
          host: string;
          network: string;
          MAC: string;
          VLAN: number;
          management: boolean;
        }
      >
    >("PIF.get_all_records");
    const onHost = Object.values(pifs).filter((p) => p.host === hostRef && p.VLAN === -1);
    const pif = onHost.find((p) => p.device === device);
    if (!pif)
      throw new Error(
        `getPif: no NIC "${args.device}" on ${hosts[hostRef].name_label} (NICs: ${onHost
          .map((p) => p.device)
          .sort()
          .join(", ")})`,
      );
    return {
      uuid: pif.uuid,
      device: pif.device,
      hostUuid: hosts[hostRef].uuid,
      networkUuid: await xapi.call<string>("network.get_uuid", pif.network),
      mac: pif.MAC,
      vlan: Number(pif.VLAN),
      management: pif.management,
    };
  });
}

export interface SrInfo {
  uuid: string;
  name: string;
  type: string;
  shared: boolean;
  contentType: string;
  physicalSize: number;
  physicalUtilisation: number;
  tags: string[];
}
interface SrRec extends Named {
  type: string;
  shared: boolean;
  content_type: string;
  physical_size: number;
  physical_utilisation: number;
  tags: string[];
}

export async function getSr(sel: Selector & { type?: string }): Promise<SrInfo> {
  return withXapi(sel.connection, async (xapi) => {
    const s = selectOne(
      "Sr",
      await xapi.call<Record<string, SrRec>>("SR.get_all_records"),
      sel,
      (r) => !sel.type || r.type === sel.type,
    ).record;
    return {
      uuid: s.uuid,
      name: s.name_label,
      type: s.type,
      shared: s.shared,
      contentType: s.content_type,
      physicalSize: Number(s.physical_size),
      physicalUtilisation: Number(s.physical_utilisation),
      tags: s.tags,
    };
  });
}

export interface VdiInfo {
  uuid: string;
  name: string;
  srUuid: string;
  virtualSize: number;
  type: string;
  readOnly: boolean;
  tags: string[];
}
interface VdiRec extends Named {
  SR: string;
  virtual_size: number;
  type: string;
  read_only: boolean;
  is_a_snapshot: boolean;
  tags: string[];
}

export async function getVdi(sel: Selector & { sr?: string }): Promise<VdiInfo> {
  return withXapi(sel.connection, async (xapi) => {
    const srRef = sel.sr ? await xapi.call<string>("SR.get_by_uuid", sel.sr) : undefined;
    const v = selectOne(
      "Vdi",
      await xapi.call<Record<string, VdiRec>>("VDI.get_all_records"),
      sel,
      (r) => !r.is_a_snapshot && (!srRef || r.SR === srRef),
    ).record;
    return {
      uuid: v.uuid,
      name: v.name_label,
      srUuid: await xapi.call<string>("SR.get_uuid", v.SR),
      virtualSize: Number(v.virtual_size),
      type: v.type,
      readOnly: v.read_only,
      tags: v.tags,
    };
  });
}

export interface TemplateInfo {
  uuid: string;
  name: string;
  isDefault: boolean;
  memoryStaticMax: number;
  vcpusMax: number;
  tags: string[];
}
interface VmRec extends Named {
  is_a_template: boolean;
  is_a_snapshot: boolean;
  is_control_domain: boolean;
  is_default_template: boolean;
  memory_static_max: number;
  VCPUs_max: number;
  tags: string[];
}

/** A VM template (default or custom; snapshots excluded). */
export async function getTemplate(sel: Selector): Promise<TemplateInfo> {
  return withXapi(sel.connection, async (xapi) => {
    const vms = await xapi.call<Record<string, VmRec>>("VM.get_all_records_where", 'field "is_a_template"="true"');
    const t = selectOne(
      "Template",
      vms,
      sel,
      (r) => r.is_a_template && !r.is_a_snapshot && !r.is_control_domain,
    ).record;
    return {
      uuid: t.uuid,
      name: t.name_label,
      isDefault: t.is_default_template,
      memoryStaticMax: Number(t.memory_static_max),
      vcpusMax: Number(t.VCPUs_max),
      tags: t.tags,
    };
  });
}
