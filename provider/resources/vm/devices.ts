// Disks, network interfaces and the CD drive: made to match the program's ordered lists. On a running VM,
// devices are hot-plugged and unplugged; a disk grows online.
import type { Xapi } from "../common/connection";
import { refByUuid } from "../common/lookups";
import { formatSize } from "../common/sizes";
import type { DiskOutput, Inputs, NicInput } from "./inputs";
import { cdVbd, diskVbds, sortedVifs, type Live } from "./live";
import { findIso, quote } from "./lookups";
import { NULL_REF, type VBDRecord } from "./records";

export async function refOfUuid(xapi: Xapi, cls: string, uuid: string): Promise<string | undefined> {
  return refByUuid(xapi, cls, uuid);
}

/** Device 3 is the CD drive's (as XenCenter and xe do for HVM guests); disks take the other free numbers. */
const cdDevice = "3";

function nextFreeDevice(used: Set<string>): string {
  for (let i = 0; ; i++) if (String(i) !== cdDevice && !used.has(String(i))) return String(i);
}

function usedDevices(live: Live): Set<string> {
  return new Set(Object.values(live.vbds).map((b) => b.userdevice));
}

export interface DiskPlan {
  /** VDI uuids made by this resource and no longer in the program: destroyed. */
  destroyed: string[];
}

/**
 * Disks to match `n.disks` by position. `owned`: the VDI uuids this resource made (destroyed when removed).
 * `running`: new disks are plugged, removed ones unplugged first, grown ones resized online.
 */
export async function applyDisks(
  xapi: Xapi,
  live: Live,
  n: Inputs,
  previous: DiskOutput[],
  running: boolean,
  cloudInitVdi: string | null | undefined,
): Promise<void> {
  const have: Array<[string, VBDRecord] | undefined> = diskVbds(live, cloudInitVdi);
  const used = usedDevices(live);
  // Removed from the end (or replaced at a position): unplug, destroy the VBD, and the VDI when this resource made it.
  for (let i = 0; i < have.length; i++) {
    const [vbdRef, vbd] = have[i]!; // emptied below only at positions already passed
    const want = n.disks[i];
    const vdi = live.vdis[vbd.VDI];
    const prev = previous[i];
    const sameDisk =
      (want === undefined && prev?.fromTemplate) ||
      (want !== undefined &&
        (want.vdi !== undefined
          ? vdi?.uuid === want.vdi
          : prev === undefined || (prev.vdi === undefined && (want.sr === undefined || want.sr === prev.sr))));
    if (sameDisk) continue;
    await removeVbd(xapi, vbdRef, vbd, running);
    used.delete(vbd.userdevice);
    if (vdi && prev?.owned !== false && prev?.vdi === undefined && !n.keepDisksOnDelete)
      await xapi.callAsync("VDI.destroy", [vbd.VDI]);
    have[i] = undefined;
  }
  for (let i = 0; i < n.disks.length; i++) {
    const want = n.disks[i];
    const existing = have[i];
    if (existing) {
      const [vbdRef, vbd] = existing;
      const vdi = live.vdis[vbd.VDI];
      if (want.vdi === undefined && want.size !== undefined && vdi && want.size > Number(vdi.virtual_size)) {
        if (running && vbd.currently_attached) await xapi.callAsync("VDI.resize_online", [vbd.VDI, want.size]);
        else await xapi.callAsync("VDI.resize", [vbd.VDI, want.size]);
      }
      if (want.name !== undefined && vdi && vdi.name_label !== want.name)
        await xapi.call("VDI.set_name_label", vbd.VDI, want.name);
      if (want.bootable !== undefined && vbd.bootable !== want.bootable)
        await xapi.call("VBD.set_bootable", vbdRef, want.bootable);
      if (want.mode !== undefined && vbd.mode !== want.mode) await xapi.call("VBD.set_mode", vbdRef, want.mode);
      continue;
    }
    let vdiRef: string;
    if (want.vdi !== undefined) {
      const r = await refByUuid(xapi, "VDI", want.vdi);
      if (!r) throw new Error(`disks[${i}].vdi: no VDI with UUID ${want.vdi} in this pool`);
      vdiRef = r;
    } else {
      const srUuid = want.sr ?? n.sr;
      const sr = srUuid ? await refByUuid(xapi, "SR", srUuid) : await poolDefaultSr(xapi);
      if (!sr) throw new Error(`disks[${i}].sr: no SR to put the disk on (the pool has no default SR); give sr`);
      vdiRef = await xapi.call<string>("VDI.create", {
        SR: sr,
        virtual_size: want.size,
        type: "user",
        sharable: false,
        read_only: false,
        name_label: want.name ?? `${n.name} disk ${i}`,
        name_description: `disk ${i} of VM ${n.name} (${formatSize(want.size ?? 0)})`,
        other_config: {},
        xenstore_data: {},
        sm_config: {},
        tags: [],
      });
    }
    const device = nextFreeDevice(used);
    used.add(device);
    await createVbd(
      xapi,
      live.ref,
      vdiRef,
      device,
      "Disk",
      want.mode ?? "RW",
      want.bootable ?? i === 0,
      running,
      want.vdi === undefined,
    );
  }
}

export async function createVbd(
  xapi: Xapi,
  vm: string,
  vdi: string,
  userdevice: string,
  type: "Disk" | "CD",
  mode: "RW" | "RO",
  bootable: boolean,
  plug: boolean,
  owned = false,
): Promise<string> {
  const ref = await xapi.call<string>("VBD.create", {
    VM: vm,
    VDI: vdi,
    userdevice,
    bootable,
    mode,
    type,
    empty: vdi === NULL_REF,
    unpluggable: true,
    // owner: XenCenter's and xapi's mark of a disk that belongs to the VM (VM.clone and provision set it too).
    other_config: owned ? { owner: "" } : {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
  if (plug) await xapi.callAsync("VBD.plug", [ref]);
  return ref;
}

export async function removeVbd(xapi: Xapi, ref: string, vbd: VBDRecord, running: boolean): Promise<void> {
  if (running && vbd.currently_attached) await xapi.callAsync("VBD.unplug", [ref]);
  await xapi.call("VBD.destroy", ref);
}

async function poolDefaultSr(xapi: Xapi): Promise<string | undefined> {
  const [pool] = await xapi.call<string[]>("pool.get_all");
  const r = await xapi.call<string>("pool.get_default_SR", pool);
  return r === NULL_REF ? undefined : r;
}

/** Network interfaces by position: device i is entry i. A changed MAC or MTU means a new VIF (both are fixed at creation). */
export async function applyNics(xapi: Xapi, live: Live, wanted: NicInput[], running: boolean): Promise<void> {
  const have = sortedVifs(live);
  const netRefs = new Map<string, string>();
  const netRef = async (uuid: string) => {
    let r = netRefs.get(uuid);
    if (!r) {
      r = await refByUuid(xapi, "network", uuid);
      if (!r) throw new Error(`networkInterfaces: no network with UUID ${uuid} in this pool`);
      netRefs.set(uuid, r);
    }
    return r;
  };
  const keep = new Set<string>();
  for (let i = 0; i < wanted.length; i++) {
    const want = wanted[i];
    const found = have.find(([, v]) => v.device === String(i));
    const net = await netRef(want.network);
    if (found) {
      const [vifRef, vif] = found;
      const recreate =
        (want.mac !== undefined && vif.MAC.toLowerCase() !== want.mac) ||
        (want.mtu !== undefined && Number(vif.MTU) !== want.mtu);
      if (!recreate) {
        keep.add(vifRef);
        if (vif.network !== net) {
          // VIF.move works on a running VM; on a halted one the record is simply re-pointed.
          await xapi.callAsync("VIF.move", [vifRef, net]);
        }
        if (want.lockingMode !== undefined && vif.locking_mode !== want.lockingMode)
          await xapi.call("VIF.set_locking_mode", vifRef, want.lockingMode);
        if (want.ipv4Allowed !== undefined && JSON.stringify(vif.ipv4_allowed) !== JSON.stringify(want.ipv4Allowed))
          await xapi.call("VIF.set_ipv4_allowed", vifRef, want.ipv4Allowed);
        if (want.ipv6Allowed !== undefined && JSON.stringify(vif.ipv6_allowed) !== JSON.stringify(want.ipv6Allowed))
          await xapi.call("VIF.set_ipv6_allowed", vifRef, want.ipv6Allowed);
        continue;
      }
      if (running && vif.currently_attached) await xapi.callAsync("VIF.unplug", [vifRef]);
      await xapi.call("VIF.destroy", vifRef);
      keep.add(vifRef);
    }
    const mtu = want.mtu ?? Number(await xapi.call<number>("network.get_MTU", net));
    const ref = await xapi.call<string>("VIF.create", {
      device: String(i),
      network: net,
      VM: live.ref,
      // "" lets xapi generate a MAC from the VM's mac_seed (stable for this VM).
      MAC: want.mac ?? (found ? found[1].MAC : ""),
      MTU: mtu,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
      locking_mode: want.lockingMode ?? "network_default",
      ipv4_allowed: want.ipv4Allowed ?? [],
      ipv6_allowed: want.ipv6Allowed ?? [],
    });
    if (running) await xapi.callAsync("VIF.plug", [ref]);
  }
  for (const [vifRef, vif] of have) {
    if (keep.has(vifRef) || Number(vif.device) < wanted.length) continue;
    if (running && vif.currently_attached) await xapi.callAsync("VIF.unplug", [vifRef]);
    await xapi.call("VIF.destroy", vifRef);
  }
}

/** The CD drive: made when missing, its ISO ejected and another inserted (live when running). Returns the ISO's uuid. */
export async function applyCdrom(xapi: Xapi, live: Live, cdrom: string | undefined): Promise<void> {
  if (cdrom === undefined) return;
  const iso = cdrom === "" ? undefined : await findIso(xapi, cdrom);
  const cd = cdVbd(live);
  if (!cd) {
    await createVbd(xapi, live.ref, iso?.ref ?? NULL_REF, cdDevice, "CD", "RO", false, false);
    return;
  }
  const [ref, vbd] = cd;
  if (!vbd.empty && vbd.VDI === iso?.ref) return;
  if (!vbd.empty) await xapi.callAsync("VBD.eject", [ref]);
  if (iso) await xapi.callAsync("VBD.insert", [ref, iso.ref]);
}

/** The VBDs of this VM whose VDI has one of these uuids (the cloud-init drive). */
export function vbdsOfVdi(live: Live, vdiUuid: string): Array<[string, VBDRecord]> {
  return Object.entries(live.vbds).filter(([, b]) => live.vdis[b.VDI]?.uuid === vdiUuid);
}

export { quote };
