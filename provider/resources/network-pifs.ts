// The PIFs the Network kind asks about, found with get_all_where filters (xapi's db_filter_parse.mly: field "x" = "y",
// and, or, not, parentheses) so that only the matches travel, never the PIF table: every VLAN network adds a PIF on
// each host, so a whole-table read in each call would make a stack of N networks cost N².
import type { Xapi } from "./common/connection";
import { fixedFieldOf } from "./common/lookups";
import { NULL_REF, type PIFRecord } from "../xapi";

/** An untagged physical NIC of a host: its PIF. */
export interface Nic {
  ref: string;
  host: string;
  device: string;
}

/**
 * `field "name" = "value"`. The filter language has no escape for a quote; no device name or ref has one, so a value
 * with a quote matches nothing (false), as the client-side comparison it replaces did.
 */
export function fieldIs(name: string, value: string | number): string {
  const v = String(value);
  return v.includes('"') ? "false" : `field "${name}" = "${v}"`;
}

/** Physical PIFs that are members of a bond: bond_slave_of is not a null ref (isNullRef: the null ref or ""). */
export const bondMember =
  `${fieldIs("physical", "true")} and not (${fieldIs("bond_slave_of", NULL_REF)}) and ` +
  `not (${fieldIs("bond_slave_of", "")})`;

/** The records of the PIFs matching `where`, in the table's order (as get_all_records lists them). */
export async function pifsWhere(xapi: Xapi, where: string): Promise<Array<[string, PIFRecord]>> {
  return Object.entries(await xapi.call<Record<string, PIFRecord>>("PIF.get_all_records_where", where));
}

/**
 * Every untagged physical PIF of the pool (physical, VLAN -1), in the table's order. The refs are asked each time (a
 * NIC can be introduced or forgotten); host and device are set when xapi makes the PIF, so are read once per session.
 * Not the records: a NIC's record lists every VLAN on it (VLAN_slave_of).
 */
export async function physicalNics(xapi: Xapi): Promise<Nic[]> {
  const refs = await xapi.call<string[]>(
    "PIF.get_all_where",
    `${fieldIs("physical", "true")} and ${fieldIs("VLAN", -1)}`,
  );
  const nics = await Promise.all(
    refs.map(async (ref) => {
      const [host, device] = await Promise.all([
        fixedFieldOf<string>(xapi, "PIF", "host", ref),
        fixedFieldOf<string>(xapi, "PIF", "device", ref),
      ]);
      // Forgotten between the two reads: as if the list had been read a moment later.
      return host === undefined || device === undefined ? [] : [{ ref, host, device }];
    }),
  );
  return nics.flat();
}

/** The network of a bond: its master PIF's (both set when the bond is made); the null ref when the bond is gone. */
export async function bondNetwork(xapi: Xapi, bond: string): Promise<string> {
  const master = await fixedFieldOf<string>(xapi, "Bond", "master", bond);
  const network = master ? await fixedFieldOf<string>(xapi, "PIF", "network", master) : undefined;
  return network ?? NULL_REF;
}
