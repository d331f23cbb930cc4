/**
 * cloud-init NoCloud as the simulated guest reads it at boot: the first attached disk or CD holding a `cidata`
 * seed (nocloud-fs.ts) with user-data and meta-data gives the guest its hostname (meta-data `local-hostname`)
 * and its static addresses (network-config version 1 or 2, interfaces matched by MAC address).
 */
import { load } from "js-yaml";
import { Xapi } from "../engine/xapi";
import { GuestAddresses } from "./guest-agent";
import { readSeed } from "./nocloud-fs";
import { vdiData } from "./vdi-data";

export interface NoCloud {
  instanceId?: string;
  hostname?: string;
  /** Static addresses per MAC address (lower case). */
  addresses: Map<string, GuestAddresses>;
}

/** Parses a seed's files; undefined unless both meta-data and user-data are there (cloud-init's NoCloud rule). */
export function parseNoCloud(files: Map<string, Buffer>): NoCloud | undefined {
  const meta = files.get("meta-data");
  if (!meta || !files.has("user-data")) return undefined;
  const md = yaml(meta);
  const out: NoCloud = { addresses: new Map() };
  if (md && typeof md === "object") {
    const m = md as Record<string, unknown>;
    if (typeof m["instance-id"] === "string") out.instanceId = m["instance-id"];
    if (typeof m["local-hostname"] === "string") out.hostname = m["local-hostname"];
  }
  const net = files.get("network-config");
  if (net) out.addresses = staticAddresses(yaml(net));
  return out;
}

function yaml(b: Buffer): unknown {
  try {
    return load(b.toString("utf8"));
  } catch {
    return undefined; // [UNSURE] cloud-init then ignores the file; the guest keeps its defaults
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

/** network-config v1 (`config:` list of physical interfaces with subnets) or v2 (`ethernets:`), maybe under `network:`. */
function staticAddresses(doc: unknown): Map<string, GuestAddresses> {
  const out = new Map<string, GuestAddresses>();
  const net = isObj(doc) && isObj(doc.network) ? doc.network : doc;
  if (!isObj(net)) return out;
  const add = (mac: unknown, addrs: string[]) => {
    if (typeof mac !== "string" || addrs.length === 0) return;
    const bare = addrs.map((a) => a.split("/")[0]);
    const ipv4 = bare.filter((a) => !a.includes(":"));
    const ipv6 = bare.filter((a) => a.includes(":"));
    out.set(mac.toLowerCase(), { ...(ipv4.length ? { ipv4 } : {}), ...(ipv6.length ? { ipv6 } : {}) });
  };
  if (Number(net.version) === 1 && Array.isArray(net.config)) {
    for (const iface of net.config.filter(isObj)) {
      if (iface.type !== "physical" || !Array.isArray(iface.subnets)) continue;
      const addrs = iface.subnets
        .filter(isObj)
        .filter((s) => s.type === "static" || s.type === "static6")
        .map((s) => s.address)
        .filter((a): a is string => typeof a === "string");
      add(iface.mac_address, addrs);
    }
  } else if (Number(net.version) === 2 && isObj(net.ethernets)) {
    for (const eth of Object.values(net.ethernets).filter(isObj)) {
      const mac = isObj(eth.match) ? eth.match.macaddress : undefined;
      // Netplan allows an address as a string or as a one-key map of the address to its options.
      const addrs = (Array.isArray(eth.addresses) ? eth.addresses : [])
        .map((a) => (typeof a === "string" ? a : isObj(a) ? Object.keys(a)[0] : undefined))
        .filter((a): a is string => typeof a === "string");
      add(mac, addrs);
    }
  }
  return out;
}

/** What each running guest read at its last boot, by VM: [domid, seed]. */
const atBoot = new WeakMap<Xapi, Map<string, [number, NoCloud | undefined]>>();

function cache(x: Xapi): Map<string, [number, NoCloud | undefined]> {
  let m = atBoot.get(x);
  if (!m) atBoot.set(x, (m = new Map()));
  return m;
}

/** The guest boots: cloud-init looks at its attached disks and CDs, in device order, for a seed. */
export function readNoCloudAtBoot(x: Xapi, vm: string): void {
  const row = x.store.get("VM", vm);
  const vbds = (row.VBDs as string[])
    .map((b) => x.store.get("VBD", b))
    .filter((b) => b.currently_attached && !b.empty && x.store.has("VDI", b.VDI))
    .sort((a, b) => Number(a.userdevice) - Number(b.userdevice));
  let found: NoCloud | undefined;
  for (const vbd of vbds) {
    const bytes = vdiData(x).get(vbd.VDI as string);
    const seed = bytes && readSeed(bytes);
    found = seed ? parseNoCloud(seed.files) : undefined;
    if (found) break;
  }
  cache(x).set(vm, [row.domid as number, found]);
}

/** The seed the running guest read at boot, if any. */
export function bootNoCloud(x: Xapi, vm: string): NoCloud | undefined {
  const hit = cache(x).get(vm);
  return hit && hit[0] === x.store.tryGet("VM", vm)?.domid ? hit[1] : undefined;
}
