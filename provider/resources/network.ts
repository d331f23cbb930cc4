// Network: a private network (no PIF), a VLAN network on a physical NIC of every
// host (pool.create_VLAN_from_PIF), or a bond network over NICs of every host
// (Bond.create). Name, description, MTU, other_config and tags update in place;
// a changed VLAN tag, NIC or bond plans a replacement.
import { z } from "zod";
import { stateSchemas } from "./boundary";
import type {
  CheckResult,
  DiffResult,
  ReadResult,
  ResourceContext,
  Prior,
  Props,
  ResourceModule,
  CreateResult,
  UpdateResult,
} from "./contract";
import { checkInputs } from "./common/check";
import { xapiFor, type Xapi } from "./common/connection";
import { connectionAndAdoption } from "./common/adoption";
import { convergeOwnedFields } from "./common/convergence";
import { undoCreate, withId } from "./common/create-result";
import { forcedReplaces } from "./common/forced-replaces";
import { identityEntries } from "./common/identity";
import { fieldOf, fixedFieldOf, hostNames, masterHost, recordByUuid, recordsOfRefs } from "./common/lookups";
import { describeVms, goneMessage } from "./common/messages";
import { reportNotice } from "./common/progress";
import { ifStated, liveOwned } from "./common/read-inputs";
import { existingRecord, poolOf } from "./common/same-pool";
import { sameSet } from "./common/owned-map";
import { isNullRef, type NetworkRecord, type PIFRecord } from "../xapi";
import {
  changedAttributes,
  hostsLacking,
  xapiRecords,
  type AttributeSpec,
  type LiveComparison,
  type LiveRecords,
} from "./common/live";
import { readObserved } from "./common/read-observed";
import { common, stringMap, tags, uuid } from "./common/schema-parts";
import { predictConflicts, type NetworkShape } from "./network-conflicts";
import { physicalNics, type Nic } from "./network-pifs";
import { containsUnknown, isUnknown } from "./common/unknowns";

const bondModes = ["balance-slb", "active-backup", "lacp"] as const;

export const inputSchema = z
  .object({
    ...common,
    adopt: uuid.optional().describe("UUID of an existing network to take over instead of creating one"),
    name: z.string().min(1).describe("name_label"),
    description: z.string().default("").describe("name_description"),
    mtu: z.number().int().min(1280).max(9216).default(1500).describe("MTU in bytes, 1280–9216"),
    vlan: z.number().int().min(0).max(4094).optional().describe("VLAN tag (0–4094); needs nic"),
    nic: z
      .string()
      .min(1)
      .optional()
      .describe('the physical NIC carrying the VLAN, by device name ("eth1") or XenCenter name ("NIC 1")'),
    bond: z
      .object({
        nics: z.array(z.string().min(1)).min(2).describe("NICs to bond on every host"),
        mode: z.enum(bondModes).default("balance-slb").describe("bond mode"),
      })
      .strict()
      .optional()
      .describe("make a bond network over these NICs on every host"),
    otherConfig: stringMap.default({}).describe("other_config keys owned by this program (others are left alone)"),
    tags: tags.default([]).describe("tags owned by this program (others are left alone)"),
  })
  .strict();

export type Inputs = z.infer<typeof inputSchema>;

export const outputSchema = z.object({
  poolUuid: z
    .string()
    .describe(
      "UUID of the pool the network is in: a refresh or delete through a connection that now reaches another pool fails instead of dropping the resource",
    ),
  uuid: z.string().describe("UUID of the network (the resource id)"),
  bridge: z.string().describe("bridge name on the hosts, e.g. xapi3"),
  pifs: z.array(z.string()).describe("UUIDs of the network's PIFs (VLAN or bond masters), one per host"),
  missingOn: z
    .array(z.string())
    .describe(
      "names of the hosts lacking their VLAN or bond PIF (removed out of band): a refresh shows them, and `up` makes them again",
    ),
  mtuInEffect: z
    .record(z.string(), z.number())
    .describe(
      "host name → MTU the network's plugged PIF has there (PIF.MTU, read from the bridge when xapi brings " +
        "the PIF up); it differs from mtu after an MTU change until the PIF is plugged again. {} for a " +
        "network without PIFs",
    ),
});

export type Outputs = Inputs & z.infer<typeof outputSchema>;

/** "NIC 1" (XenCenter's name) is eth1. */
function nicDevice(nic: string): string {
  const m = /^nic\s*(\d+)$/i.exec(nic.trim());
  return m ? `eth${m[1]}` : nic.trim();
}

async function check(olds: Prior<Inputs>, news: Props, ctx: ResourceContext): Promise<CheckResult<Inputs>> {
  const { value, failures } = checkInputs(inputSchema, news, ctx, ["vlan", "nic", "bond"]);
  if (!value) return { failures };
  if ((value.vlan === undefined) !== (value.nic === undefined)) {
    const missing = value.vlan === undefined ? "vlan" : "nic";
    return {
      failures: [
        {
          property: missing,
          reason: `${missing}: a VLAN network needs both vlan (the tag) and nic (the physical NIC)`,
        },
      ],
    };
  }
  if (value.bond && value.vlan !== undefined)
    return {
      failures: [
        {
          property: "bond",
          reason: "bond: a network is either a VLAN network (vlan + nic) or a bond network, not both",
        },
      ],
    };
  const nics = [...(value.nic ? [value.nic] : []), ...(Array.isArray(value.bond?.nics) ? value.bond.nics : [])];
  // During preview the NICs, or the whole bond, may be unknown: checked at `up`.
  if (nics.length && !nics.some(isUnknown) && !containsUnknown(value.bond)) {
    const xapi = await xapiFor(ctx.config, value.connection);
    const poolNics = await physicalNics(xapi);
    const perHost = await nicsPerHost(xapi, poolNics);
    const known = new Set([...perHost.values()].flatMap((s) => [...s]));
    const field = (bad: string[]) => (value.nic && bad.includes(value.nic) ? "nic" : "bond.nics");
    const bad = nics.filter((n) => !known.has(nicDevice(n)));
    if (bad.length) {
      return {
        failures: [
          {
            property: field(bad),
            reason: `${field(bad)}: unknown NIC ${bad.map((b) => `"${b}"`).join(", ")}; this pool's NICs are ${[...known].sort().join(", ")}`,
          },
        ],
      };
    }
    // The VLAN or bond is made on every host: each host needs the NICs.
    for (const [host, devices] of perHost) {
      const missing = nics.filter((n) => !devices.has(nicDevice(n)));
      if (missing.length)
        return {
          failures: [
            {
              property: field(missing),
              reason: `${field(missing)}: host ${host} has no NIC ${missing.map((m) => `"${m}"`).join(", ")} (it has ${[...devices].sort().join(", ")})`,
            },
          ],
        };
    }
    if (value.bond && new Set(value.bond.nics.map(nicDevice)).size !== value.bond.nics.length) {
      return { failures: [{ property: "bond.nics", reason: "bond.nics: a NIC is listed twice" }] };
    }
    const conflicts = await predictConflicts(xapi, value, olds as NetworkShape, nicDevice);
    if (conflicts.length) return { failures: conflicts };
    if (value.bond && !value.adopt && !Object.keys(olds).length && !isUnknown(value.mtu)) {
      const notice = await bondMtuNotice(xapi, poolNics, value.name, value.bond.nics.map(nicDevice), value.mtu);
      if (notice) reportNotice(notice, "warning");
    }
  }
  return { inputs: value };
}

/**
 * xapi's Bond.create brings the bond up, which sets the MTU of each member NIC's network to the bond network's
 * (nm.ml bring_pif_up). Said at preview: a Network resource managing one of those networks will see it drift.
 */
async function bondMtuNotice(
  xapi: Xapi,
  nics: Nic[],
  name: string,
  devices: string[],
  mtu: number,
): Promise<string | undefined> {
  const members = nics.filter((p) => devices.includes(p.device));
  const nets = new Set(
    (await Promise.all(members.map((p) => fixedFieldOf<string>(xapi, "PIF", "network", p.ref)))).filter(
      (net): net is string => net !== undefined,
    ),
  );
  const changed: string[] = [];
  for (const net of nets) {
    // Two fields, not the record, which lists every VIF on the network.
    const [label, netMtu] = await Promise.all([
      xapi.call<string>("network.get_name_label", net),
      xapi.call<number>("network.get_MTU", net),
    ]);
    if (Number(netMtu) !== mtu) changed.push(`"${label}" (now ${netMtu})`);
  }
  if (!changed.length) return undefined;
  return (
    `bond network "${name}": xapi's Bond.create sets the MTU of the bonded NICs' ` +
    `network${changed.length > 1 ? "s" : ""} ${changed.join(", ")} to ${mtu}, the bond network's. A Network ` +
    "resource that manages the mtu of one of them will show drift at the next refresh: give it the same mtu"
  );
}

/** Physical NIC device names per host (by host name). */
async function nicsPerHost(xapi: Xapi, nics: Nic[]): Promise<Map<string, Set<string>>> {
  const hosts = await hostNames(xapi);
  const names = new Map(hosts);
  const out = new Map<string, Set<string>>(hosts.map(([, name]) => [name, new Set<string>()]));
  for (const p of nics) out.get(names.get(p.host) ?? p.host)?.add(p.device);
  return out;
}

async function diff(id: string, o: Prior<Outputs>, n: Inputs, ctx?: ResourceContext): Promise<DiffResult> {
  const which = connectionAndAdoption(id, o, n);
  const replaces = which.replaces;
  const differs = (a: unknown, b: unknown) => isUnknown(b) || a !== b;
  if (!which.keepsAdoption) {
    if (differs(o.vlan, n.vlan)) replaces.push("vlan");
    if (differs(o.nic && nicDevice(o.nic), n.nic && (isUnknown(n.nic) ? n.nic : nicDevice(n.nic))))
      replaces.push("nic");
    // During preview the bond, or its NICs, may be unknown: that may be a new bond.
    if (
      containsUnknown(n.bond) ||
      !!o.bond !== !!n.bond ||
      (o.bond &&
        n.bond &&
        (!sameSet(o.bond.nics.map(nicDevice), n.bond.nics.map(nicDevice)) || o.bond.mode !== n.bond.mode))
    )
      replaces.push("bond");
  }
  forcedReplaces(replaces, ctx);
  const updates = which.updates || comparison.compare(o, n).length > 0 || !!o.missingOn?.length;
  // A NIC can be in one bond only, and a NIC carries a given VLAN tag once: when the new network may sit on
  // the same NICs (a bond change, or a VLAN network reached through another profile, perhaps of the same
  // pool), the old one must go first.
  // A replacement that keeps the VLAN tag and NIC (replaceOnChanges on another input, say) or any bond
  // replacement would collide with the old network in the same way.
  const keepsVlan = n.vlan !== undefined && !replaces.includes("vlan") && !replaces.includes("nic");
  const sameNicsPossible =
    replaces.length > 0 &&
    (!!n.bond || !!o.bond || keepsVlan || (replaces.includes("connection") && n.vlan !== undefined));
  return { changes: replaces.length > 0 || updates, replaces, deleteBeforeReplace: sameNicsPossible };
}

async function create(n: Inputs, ctx: ResourceContext): Promise<CreateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  let ref: string;
  if (n.adopt) {
    const found = await recordByUuid<NetworkRecord>(xapi, "network", n.adopt);
    if (!found) throw new Error(`adopt: no network with uuid ${n.adopt} in this pool`);
    ref = found.ref;
    await converge(xapi, ref, found.record, n, { otherConfig: {}, tags: [] });
  } else {
    ref = await xapi.call<string>("network.create", {
      name_label: n.name,
      name_description: n.description,
      MTU: n.mtu,
      other_config: { ...n.otherConfig, ...identityEntries(n.identity) },
      tags: n.tags,
    });
    try {
      if (n.vlan !== undefined && n.nic) await createVlan(xapi, ref, n.vlan, nicDevice(n.nic));
      if (n.bond) await createBonds(xapi, ref, n.bond.nics.map(nicDevice), n.bond.mode);
      return withId(await outputs(xapi, ref, n));
    } catch (err) {
      // Nothing half-made is left behind: the engine will not know about it (or the error says what is).
      return undoCreate(
        err,
        { kind: "network", cli: "network", name: n.name, identity: n.identity },
        () => destroyNetwork(xapi, ref),
        () => xapi.call<string>("network.get_uuid", ref),
      );
    }
  }
  return withId(await outputs(xapi, ref, n));
}

async function createVlan(xapi: Xapi, network: string, tag: number, device: string): Promise<void> {
  const nics = await physicalNics(xapi);
  const master = await masterHost(xapi);
  const candidates = nics.filter((p) => p.device === device);
  const onMaster = candidates.find((p) => p.host === master) ?? candidates[0];
  if (!onMaster) throw new Error(`nic: no physical NIC ${device} in this pool`);
  // Creates the VLAN on every host whose PIF shares the NIC's network.
  await xapi.call("pool.create_VLAN_from_PIF", onMaster.ref, network, tag);
}

async function createBonds(
  xapi: Xapi,
  network: string,
  devices: string[],
  mode: (typeof bondModes)[number],
): Promise<void> {
  const nics = await physicalNics(xapi);
  for (const [host, name_label] of await hostNames(xapi)) {
    const members = devices.map((d) => nics.find((p) => p.host === host && p.device === d)?.ref);
    if (!members.every((m) => m !== undefined))
      throw new Error(`bond.nics: host ${name_label} lacks one of ${devices.join(", ")}`);
    await xapi.call("Bond.create", network, members, "", mode, {});
  }
}

/**
 * Removes the network's VLANs or bonds host by host, then the network. XAPI checks each VLAN.destroy or
 * Bond.destroy on its own host, so a refusal on a later host would leave the earlier hosts already torn down:
 * every refusal that the database predicts is looked for on every host first, and nothing is removed if any is found.
 */
async function destroyNetwork(xapi: Xapi, ref: string): Promise<void> {
  const net = await xapi.call<{ uuid: string; name_label: string; VIFs: string[]; PIFs: string[] }>(
    "network.get_record",
    ref,
  );
  // Only the network's own VIFs and PIFs (its record lists them) can refuse the delete: each is read by its ref, and
  // a network without PIFs (a private network, most of a large stack) reads nothing about the pool's hosts.
  const hasPifs = net.PIFs.length > 0;
  const [vifs, pifs, pool] = await Promise.all([
    recordsOfRefs<{ currently_attached: boolean; VM: string }>(xapi, "VIF", net.VIFs),
    recordsOfRefs<PIFRecord>(xapi, "PIF", net.PIFs),
    hasPifs
      ? xapi
          .call<string[]>("pool.get_all")
          .then(([p]) =>
            xapi.call<{ master: string; ha_enabled: boolean; redo_log_enabled: boolean }>("pool.get_record", p),
          )
      : undefined,
  ]);
  // Names and liveness of the PIFs' hosts only, field by field: a host's record lists every PIF and VM on it.
  const hostRefs = [...new Set(Object.values(pifs).map((p) => p.host))];
  const names = new Map<string, string | undefined>();
  const live = new Map<string, boolean | undefined>();
  await Promise.all(
    hostRefs.map(async (h) => {
      const [name, metrics] = await Promise.all([
        fieldOf<string>(xapi, "host", "name_label", h),
        h === pool?.master ? undefined : fieldOf<string>(xapi, "host", "metrics", h),
      ]);
      names.set(h, name);
      if (metrics !== undefined) live.set(h, await fieldOf<boolean>(xapi, "host_metrics", "live", metrics));
    }),
  );
  const network = `network ${net.uuid} ("${net.name_label}")`;
  // network.destroy refuses attached VIFs; VLAN.destroy refuses those of VMs running on the VLAN's host
  // (VIF_IN_USE, through PIF.unplug) and Bond.destroy moves them to the NICs' network: refuse before either.
  const users = Object.values(vifs)
    .filter((v) => v.currently_attached)
    .map((v) => v.VM);
  if (users.length) {
    throw new Error(
      `${network} is in use by running VMs: ${(await describeVms(xapi, users)).join(", ")}; shut them down ` +
        `or move their VIFs to another network before deleting it (NETWORK_CONTAINS_VIF)`,
    );
  }
  const hostName = (h: string) => names.get(h) ?? h;
  const on = (list: PIFRecord[]) => [...new Set(list.map((p) => hostName(p.host)))].join(", ");
  const all = Object.values(pifs).filter((p) => p.VLAN >= 0 || p.bond_master_of.length > 0);
  const management = Object.values(pifs).filter((p) => p.management);
  if (management.length) {
    throw new Error(
      `${network} carries the management interface of ${on(management)}; move management to another ` +
        `network (host.management_reconfigure) before deleting it (PIF_IS_MANAGEMENT_INTERFACE)`,
    );
  }
  const refusals: string[] = [];
  // Each VLAN.destroy and Bond.destroy is forwarded to the PIF's host, which must be live (the master always is).
  const offline = all.filter((p) => p.host !== pool?.master && live.get(p.host) !== true);
  if (offline.length)
    refusals.push(
      `host ${on(offline)} is offline, so XAPI cannot remove the network's VLAN or bond there: bring it ` +
        `back online, or remove it from the pool, first (HOST_OFFLINE)`,
    );
  // VLAN.destroy unplugs the VLAN PIF (xapi_vlan.ml destroy, xapi_pif.ml unplug); Bond.destroy does not unplug.
  const vlans = all.filter((p) => p.VLAN >= 0);
  const attached = vlans.filter((p) => p.currently_attached);
  if (attached.length && pool?.ha_enabled)
    refusals.push(
      `HA is enabled on the pool, and XAPI does not unplug a VLAN (on ${on(attached)}) while it is: disable HA first (HA_IS_ENABLED)`,
    );
  else if (attached.length && pool?.redo_log_enabled)
    refusals.push(
      `the pool's redo log is enabled, and XAPI does not unplug a VLAN (on ${on(attached)}) while it is: ` +
        `disable it (pool.disable_redo_log) first (REDO_LOG_IS_ENABLED)`,
    );
  const unmanaged = vlans.filter((p) => !p.managed);
  if (unmanaged.length)
    refusals.push(
      `its VLAN PIF on ${on(unmanaged)} is not managed by XAPI (managed=false), which does not unplug it (PIF_UNMANAGED)`,
    );
  const pinned = vlans.filter((p) => p.disallow_unplug);
  if (pinned.length)
    refusals.push(
      `its VLAN PIF on ${on(pinned)} has disallow_unplug set (clustering uses it, or an administrator set ` +
        `it): clear it (PIF.set_disallow_unplug false) first (PIF_DOES_NOT_ALLOW_UNPLUG)`,
    );
  if (refusals.length)
    throw new Error(`${network} cannot be deleted; nothing was removed on any host: ${refusals.join("; ")}`);
  for (const p of all) {
    if (p.VLAN >= 0 && !isNullRef(p.VLAN_master_of)) await xapi.call("VLAN.destroy", p.VLAN_master_of);
    else for (const b of p.bond_master_of) await xapi.call("Bond.destroy", b);
  }
  await xapi.call("network.destroy", ref);
}

async function converge(
  xapi: Xapi,
  ref: string,
  live: NetworkRecord,
  n: Inputs,
  previous: { otherConfig: Record<string, string>; tags: string[] },
): Promise<void> {
  await convergeOwnedFields(xapi, "network", ref, live, n, previous, async () => {
    if (n.mtu !== undefined && live.MTU !== n.mtu) await xapi.call("network.set_MTU", ref, n.mtu);
  });
}

/** `live`: a record read in this same call (read()); otherwise it is read after the changes. */
async function outputs(
  xapi: Xapi,
  ref: string,
  n: Inputs,
  known?: { live: NetworkRecord; records: LiveRecords },
): Promise<Outputs> {
  const live = known?.live ?? (await xapi.call<NetworkRecord>("network.get_record", ref));
  const records = known?.records ?? xapiRecords(xapi);
  const pifs = await Promise.all(live.PIFs.map((p) => xapi.call<string>("PIF.get_uuid", p)));
  const out: Outputs = {
    ...n,
    uuid: live.uuid,
    poolUuid: (await poolOf(xapi)).uuid,
    bridge: live.bridge,
    pifs: pifs.sort(),
    missingOn: await missingOn(n, live, records),
    mtuInEffect: await mtuInEffect(live, records),
  };
  return out;
}

/** The MTU each host's bridge has for this network: its plugged PIF's MTU field (nm.ml syncs it at bring-up). */
async function mtuInEffect(live: NetworkRecord, records: LiveRecords): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of live.PIFs) {
    const pif = await records.get<PIFRecord>("PIF", p);
    if (!pif?.currently_attached) continue;
    const host = (await records.hostNames()).find(([h]) => h === pif.host)?.[1];
    out[host ?? pif.host] = Number(pif.MTU);
  }
  return out;
}

/**
 * network.set_MTU only records the MTU: xapi gives a bridge its network's MTU when it brings a PIF up (nm.ml
 * determine_mtu; a PIF's other_config:mtu wins). Says so when an MTU change leaves bridges on the old value.
 */
function mtuNotice(name: string, mtu: number, inEffect: Record<string, number>): string | undefined {
  const behind = Object.entries(inEffect).filter(([, v]) => v !== mtu);
  if (!behind.length) return undefined;
  return (
    `network "${name}": MTU ${mtu} is recorded, but xapi applies a network's MTU only when it plugs ` +
    `the network's PIF on a host; until then ${behind.map(([h, v]) => `${h} keeps ${v}`).join(", ")}. It takes ` +
    "effect at the host's next reboot, or at once with xe pif-unplug and xe pif-plug of that PIF (not on a management " +
    "interface, and not while VMs use the network). mtuInEffect shows the MTU each bridge has"
  );
}

/** A VLAN or bond network has a PIF on every host: the hosts without one (VLAN.destroy or Bond.destroy ran there). */
async function missingOn(n: Prior<Inputs>, live: NetworkRecord, records: LiveRecords): Promise<string[]> {
  if ((n.vlan === undefined || n.vlan === null) && !n.bond) return [];
  const hosts = new Set<string>();
  for (const p of live.PIFs) {
    const pif = await records.get<PIFRecord>("PIF", p);
    if (pif) hosts.add(pif.host);
  }
  return hostsLacking(records, (h) => hosts.has(h));
}

/** The attributes updated in place, compared as diff() always did. */
const inPlace: AttributeSpec = [
  ["name", "scalar"],
  ["description", "scalar"],
  ["mtu", "scalar"],
  ["otherConfig", "map"],
  ["tags", "set"],
];

/** How read(), diff() and xen-drift see a network's managed attributes (common/live.ts). */
export const comparison: LiveComparison<Prior<Outputs>, Inputs> = {
  cls: "network",
  classes: ["network", "PIF", "host"],
  async observe(id, o, records, all = false) {
    const found = await records.byUuid<NetworkRecord>("network", id);
    if (!found) return undefined;
    const live = found.record;
    const inputs = { ...liveOwned(live, o, all), ...ifStated(o, "mtu", Number(live.MTU), all) };
    return { ref: found.ref, inputs, missingOn: await missingOn(o, live, records) };
  },
  compare: (o, n) => changedAttributes(inPlace, o, n),
};

/** Makes the VLAN or bond again on the hosts that lack it (removed there out of band). */
async function repairParts(xapi: Xapi, ref: string, n: Inputs): Promise<void> {
  const records = xapiRecords(xapi);
  const live = (await records.get<NetworkRecord>("network", ref))!;
  const lacking = await missingOn(n, live, records);
  if (!lacking.length) return;
  const hosts = await records.hostNames();
  const nics = await physicalNics(xapi);
  const nicOn = (host: string, device: string) => nics.find((p) => p.host === host && p.device === device)?.ref;
  for (const [host, name_label] of hosts) {
    if (!lacking.includes(name_label)) continue;
    if (n.vlan !== undefined && n.nic) {
      const tagged = nicOn(host, nicDevice(n.nic));
      if (!tagged) throw new Error(`nic: host ${name_label} has no NIC ${n.nic}; the VLAN cannot be made there again`);
      await xapi.call("VLAN.create", tagged, n.vlan, ref);
    } else if (n.bond) {
      const members = n.bond.nics.map((d) => nicOn(host, nicDevice(d)));
      if (!members.every((m) => m !== undefined))
        throw new Error(
          `bond.nics: host ${name_label} lacks one of ${n.bond.nics.join(", ")}; the bond cannot be made there again`,
        );
      await xapi.call("Bond.create", ref, members, "", n.bond.mode, {});
    }
  }
}

/** What kind of network it is, from its PIFs: VLAN tag and NIC, or bond NICs and mode. */
async function liveKind(xapi: Xapi, live: NetworkRecord): Promise<Partial<Inputs>> {
  for (const pifRef of live.PIFs) {
    const pif = await xapi.call<PIFRecord>("PIF.get_record", pifRef);
    if (pif.VLAN >= 0) {
      const vlan = await xapi.call<{ tagged_PIF: string }>("VLAN.get_record", pif.VLAN_master_of);
      return { vlan: Number(pif.VLAN), nic: await xapi.call<string>("PIF.get_device", vlan.tagged_PIF) };
    }
    if (pif.bond_master_of.length) {
      const bond = await xapi.call<{ slaves: string[]; mode: (typeof bondModes)[number] }>(
        "Bond.get_record",
        pif.bond_master_of[0],
      );
      const nics = await Promise.all(bond.slaves.map((p) => xapi.call<string>("PIF.get_device", p)));
      return { bond: { nics: nics.sort(), mode: bond.mode } };
    }
  }
  return {};
}

async function read(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<ReadResult<Inputs, Outputs>> {
  return readObserved<Inputs, Outputs, NetworkRecord>(id, o, ctx, {
    comparison,
    inputKeys: Object.keys(inputSchema.shape),
    described: liveKind,
    outputs: (xapi, seen, inputs) => outputs(xapi, seen.ref, inputs, seen),
  });
}

async function update(id: string, o: Prior<Outputs>, n: Inputs, ctx: ResourceContext): Promise<UpdateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  const found = await recordByUuid<NetworkRecord>(xapi, "network", id);
  if (!found) throw new Error(goneMessage("network", id, o, n));
  await converge(xapi, found.ref, found.record, n, { otherConfig: o.otherConfig ?? {}, tags: o.tags ?? [] });
  await repairParts(xapi, found.ref, n);
  const outs = await outputs(xapi, found.ref, n);
  if (n.mtu !== undefined && n.mtu !== Number(found.record.MTU)) {
    const notice = mtuNotice(n.name, n.mtu, outs.mtuInEffect);
    if (notice) reportNotice(notice);
  }
  return { outs };
}

async function delete_(id: string, o: Prior<Outputs>, ctx: ResourceContext): Promise<void> {
  const xapi = await xapiFor(ctx.config, o.connection);
  const found = await existingRecord<NetworkRecord>(xapi, "network", "network", id, o);
  if (!found) return; // already gone
  await destroyNetwork(xapi, found.ref);
}

/** The Network kind (contract.ts); registry.ts serves it. */
export const resource: ResourceModule<Inputs, Outputs> = {
  kind: "Network",
  inputSchema,
  schemas: stateSchemas(inputSchema, outputSchema),
  check,
  diff,
  create,
  read,
  update,
  delete: delete_,
  comparison,
};
