// What XAPI would refuse at `up` that a read of the pool can tell at preview: a VLAN tag already on the NIC
// (PIF_VLAN_EXISTS), a VLAN on a bond member (CANNOT_ADD_VLAN_TO_BOND_SLAVE), a bond over a NIC already bonded
// (PIF_ALREADY_BONDED) — each named with the network that holds it — and the same made twice by one program.
import type { CheckFailure } from "./contract";
import { claim, heldBy } from "./common/claims";
import { profileOf, type Xapi } from "./common/connection";
import { identityKeys } from "./common/identity";
import { fieldOf, recordsOfRefs } from "./common/lookups";
import { bondMember, bondNetwork, fieldIs, pifsWhere } from "./network-pifs";
import type { NetworkRecord, PIFRecord } from "../xapi";

export interface NetworkShape {
  connection?: string;
  identity?: string;
  vlan?: number;
  nic?: string;
  bond?: { nics: string[] };
}

/**
 * `olds`: the resource's previous inputs; what it already made itself (the same tag on the same NIC, the same bond
 * members) is no conflict. `device` maps "NIC 1" to "eth1".
 */
export async function predictConflicts(
  xapi: Xapi,
  n: NetworkShape,
  olds: NetworkShape,
  device: (nic: string) => string,
): Promise<CheckFailure[]> {
  const profile = String(profileOf(n.connection));
  const nic = n.nic === undefined ? undefined : device(n.nic);
  const bondNics = (n.bond?.nics ?? []).map(device);

  // Only the PIFs that would conflict are read (filtered by XAPI), and only their networks and hosts.
  const nets = new Map<string, Promise<NetworkRecord | undefined>>();
  const network = (net: string) => {
    let r = nets.get(net);
    if (!r) nets.set(net, (r = recordsOfRefs<NetworkRecord>(xapi, "network", [net]).then((rs) => rs[net])));
    return r;
  };
  const ours = async (net: string) => !!n.identity && identityOf(await network(net)) === n.identity;
  const named = async (net: string) => {
    const r = await network(net);
    return `network "${r?.name_label ?? net}" (${r?.uuid ?? net})`;
  };
  const uuid = async (net: string) => (await network(net))?.uuid;
  const hostName = async (p: PIFRecord) => (await fieldOf<string>(xapi, "host", "name_label", p.host)) ?? p.host;

  if (nic !== undefined && typeof n.vlan === "number") {
    // During preview the tag may be unknown (not a number): checked at `up`.
    const same = olds.vlan === n.vlan && olds.nic !== undefined && device(olds.nic) === nic;
    // What it made itself is no conflict: the pool is not asked.
    if (!same) {
      let taken: PIFRecord | undefined;
      for (const [, p] of await pifsWhere(xapi, `${fieldIs("device", nic)} and ${fieldIs("VLAN", n.vlan)}`))
        if (!(await ours(p.network))) {
          taken = p;
          break;
        }
      if (taken)
        return [
          {
            property: "vlan",
            reason:
              `vlan: tag ${n.vlan} is already in use on ${nic} of host ${await hostName(taken)}, ` +
              `by ${await named(taken.network)} (PIF_VLAN_EXISTS); choose another tag, or take that network over with ` +
              `adopt: "${await uuid(taken.network)}"`,
          },
        ];
      const [bonded] = await pifsWhere(xapi, `${bondMember} and ${fieldIs("device", nic)}`);
      if (bonded) {
        const [, member] = bonded;
        const bond = await named(await bondNetwork(xapi, member.bond_slave_of));
        return [
          {
            property: "nic",
            reason:
              `nic: ${nic} of host ${await hostName(member)} is a member of the bond ` +
              `of ${bond} (CANNOT_ADD_VLAN_TO_BOND_SLAVE); put the VLAN on another NIC`,
          },
        ];
      }
    }
  }
  if (bondNics.length) {
    const before = new Set((olds.bond?.nics ?? []).map(device));
    const asked = bondNics.filter((d) => !before.has(d));
    const members = asked.length
      ? await pifsWhere(xapi, `${bondMember} and (${asked.map((d) => fieldIs("device", d)).join(" or ")})`)
      : [];
    for (const [, p] of members) {
      const net = await bondNetwork(xapi, p.bond_slave_of);
      if (await ours(net)) continue;
      return [
        {
          property: "bond.nics",
          reason:
            `bond.nics: ${p.device} of host ${await hostName(p)} is already bonded, in the bond of ${await named(net)} ` +
            `(PIF_ALREADY_BONDED); bond other NICs, or take that network over with adopt: "${await uuid(net)}"`,
        },
      ];
    }
  }
  // Then two resources of this program (claimed only once the pool has no conflict, so a failed check holds
  // nothing) making the same thing: a tag on a NIC once; a NIC in one bond, carrying no VLAN.
  const key = (what: string, d: string) => `${what}\u0000${profile}\u0000${d}`;
  if (nic !== undefined && typeof n.vlan === "number") {
    const twice = claim(key(`vlan ${n.vlan}`, nic), n.identity);
    if (twice)
      return [
        {
          property: "vlan",
          reason: `vlan: Network resource "${twice}" of this program already makes VLAN ${n.vlan} on ${nic}; a NIC carries a tag once`,
        },
      ];
    claim(key("vlan", nic), n.identity);
    const bonding = heldBy(key("bond", nic), n.identity);
    if (bonding)
      return [
        {
          property: "nic",
          reason: `nic: Network resource "${bonding}" of this program bonds ${nic}; a bond member carries no VLAN (put it on another NIC)`,
        },
      ];
  }
  for (const d of bondNics) {
    const other = claim(key("bond", d), n.identity);
    const vlan = heldBy(key("vlan", d), n.identity);
    if (other || vlan)
      return [
        {
          property: "bond.nics",
          reason: other
            ? `bond.nics: Network resource "${other}" of this program also bonds ${d}; a NIC can be in one bond only`
            : `bond.nics: Network resource "${vlan}" of this program puts a VLAN on ${d}; a bond member carries no VLAN`,
        },
      ];
  }
  return [];
}

function identityOf(net: NetworkRecord | undefined): string | undefined {
  const stack = net?.other_config[identityKeys.stack];
  const resource = net?.other_config[identityKeys.resource];
  return stack && resource ? `${stack}/${resource}` : undefined;
}
