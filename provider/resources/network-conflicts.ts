// What XAPI would refuse at `up` that a read of the pool can tell at preview: a VLAN tag already on the NIC
// (PIF_VLAN_EXISTS), a VLAN on a bond member (CANNOT_ADD_VLAN_TO_BOND_SLAVE), a bond over a NIC already bonded
// (PIF_ALREADY_BONDED) — each named with the network that holds it — and the same made twice by one program.
import type { CheckFailure } from "./contract";
import { claim, heldBy } from "./common/claims";
import { profileOf, type Xapi } from "./common/connection";
import { identityKeys } from "./common/identity";
import { isNullRef, NULL_REF, type NetworkRecord, type PIFRecord } from "../xapi";

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

  const pifs = await xapi.call<Record<string, PIFRecord>>("PIF.get_all_records");
  const nets = await xapi.call<Record<string, NetworkRecord>>("network.get_all_records");
  const hosts = await xapi.call<Record<string, { name_label: string }>>("host.get_all_records");
  const ours = (net: string) => !!n.identity && identityOf(nets[net]) === n.identity;
  const named = (net: string) => `network "${nets[net]?.name_label ?? net}" (${nets[net]?.uuid ?? net})`;
  const hostName = (p: PIFRecord) => hosts[p.host]?.name_label ?? p.host;
  const bondNetwork = (bond: string) =>
    Object.values(pifs).find((p) => p.bond_master_of.includes(bond))?.network ?? NULL_REF;

  if (nic !== undefined && typeof n.vlan === "number") {
    // During preview the tag may be unknown (not a number): checked at `up`.
    const same = olds.vlan === n.vlan && olds.nic !== undefined && device(olds.nic) === nic;
    const taken = Object.values(pifs).find((p) => p.device === nic && p.VLAN === n.vlan && !ours(p.network));
    if (taken && !same)
      return [
        {
          property: "vlan",
          reason:
            `vlan: tag ${n.vlan} is already in use on ${nic} of host ${hostName(taken)}, ` +
            `by ${named(taken.network)} (PIF_VLAN_EXISTS); choose another tag, or take that network over with ` +
            `adopt: "${nets[taken.network]?.uuid}"`,
        },
      ];
    const bonded = Object.values(pifs).find((p) => p.physical && p.device === nic && !isNullRef(p.bond_slave_of));
    if (bonded && !same)
      return [
        {
          property: "nic",
          reason:
            `nic: ${nic} of host ${hostName(bonded)} is a member of the bond ` +
            `of ${named(bondNetwork(bonded.bond_slave_of))} (CANNOT_ADD_VLAN_TO_BOND_SLAVE); put the VLAN on ` +
            `another NIC`,
        },
      ];
  }
  if (bondNics.length) {
    const before = new Set((olds.bond?.nics ?? []).map(device));
    for (const p of Object.values(pifs)) {
      if (!p.physical || isNullRef(p.bond_slave_of) || !bondNics.includes(p.device) || before.has(p.device)) continue;
      const net = bondNetwork(p.bond_slave_of);
      if (ours(net)) continue;
      return [
        {
          property: "bond.nics",
          reason:
            `bond.nics: ${p.device} of host ${hostName(p)} is already bonded, in the bond of ${named(net)} ` +
            `(PIF_ALREADY_BONDED); bond other NICs, or take that network over with adopt: "${nets[net]?.uuid}"`,
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
