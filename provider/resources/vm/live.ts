// A VM as it is in the pool, read by ref from its own record's device lists (VM.get_by_uuid, then get_record of the
// VM, its VBDs, VIFs, VDIs and consoles): indexed reads only, so a read costs the same in a pool of any size
// (issue 14: get_all_records_where is a scan of the whole table in xapi), and turned into the resource's outputs
// and the inputs a refresh reports.
import type { Xapi } from "../common/connection";
import type { LiveRecords } from "../common/live";
import { recordOf, recordsOfRefs } from "../common/lookups";
import { findByUuid } from "../common/uuid-batch";
import { pickInputs } from "../common/read-inputs";
import { poolOf } from "../common/same-pool";
import { ownedView } from "../common/owned-map";
import { diskInputOf, nicInputOf } from "./classify";
import { inputSchema, type DiskOutput, type Inputs, type NicOutput, type Outputs } from "./inputs";
import { addressesByDevice } from "./power";
import type { GuestSeen } from "./guest-watch";
import { hotplugRefusals, type Refusals } from "./hotplug";
import {
  NULL_REF,
  type GuestMetricsRecord,
  type VBDRecord,
  type VDIRecord,
  type VIFRecord,
  type VMRecord,
} from "./records";

export interface Live {
  ref: string;
  vm: VMRecord;
  vbds: Record<string, VBDRecord>;
  vifs: Record<string, VIFRecord>;
  vdis: Record<string, VDIRecord>;
  networks: Record<string, string>;
  /** The guest agent's record, when it was read (a running VM whose agent has reported, guest not skipped). */
  guest?: GuestMetricsRecord;
  console?: string;
}

/**
 * What readLive is told about the guest: "skip" when the caller needs no addresses or console (delete, the plan
 * of an update), or what a watch just saw of the guest agent (its record is then not read again).
 */
export type GuestKnown = "skip" | GuestSeen | undefined;

/** What the caller knows of the VM: its ref (one call less), and its record when that is still current. */
export interface KnownVm {
  ref: string;
  record?: VMRecord;
}

/** The VM (not a template or snapshot) with this uuid; undefined when there is none. */
async function vmRecord(
  xapi: Xapi,
  uuid: string,
  known?: KnownVm,
): Promise<{ ref: string; record: VMRecord } | undefined> {
  const ref = known?.ref;
  let found: { ref: string; record: VMRecord } | undefined;
  // Lookups made together (a refresh's parallel reads) share one query (common/uuid-batch.ts); alone, as before.
  if (ref === undefined) found = await findByUuid<VMRecord>(xapi, "VM", uuid);
  else if (known?.record) found = { ref, record: known.record };
  else {
    const record = await recordOf<VMRecord>(xapi, "VM", ref);
    found = record && { ref, record };
  }
  return found && !found.record.is_a_template ? found : undefined;
}

/** The VM with this uuid and its devices; undefined when there is none. */
export async function readLive(
  xapi: Xapi,
  uuid: string,
  guest?: GuestKnown,
  known?: KnownVm,
): Promise<Live | undefined> {
  const found = await vmRecord(xapi, uuid, known);
  if (!found) return undefined;
  const { ref, record: vm } = found;
  const running = (vm.power_state === "Running" || vm.power_state === "Paused") && guest !== "skip";
  const watched = guest === "skip" ? undefined : guest;
  const seen = running && watched?.metrics === vm.guest_metrics ? watched.record : undefined;
  const [vbds, vifs, gm, consoles] = await Promise.all([
    recordsOfRefs<VBDRecord>(xapi, "VBD", vm.VBDs),
    recordsOfRefs<VIFRecord>(xapi, "VIF", vm.VIFs),
    seen ??
      (running && vm.guest_metrics !== NULL_REF
        ? xapi.call<GuestMetricsRecord>("VM_guest_metrics.get_record", vm.guest_metrics).catch(() => undefined)
        : undefined),
    recordsOfRefs<{ protocol: string; location: string }>(xapi, "console", running ? vm.consoles : []),
  ]);
  // A VDI gone between the two reads leaves its VBD showing as empty.
  const vdis = await recordsOfRefs<VDIRecord>(
    xapi,
    "VDI",
    Object.values(vbds)
      .map((b) => b.VDI)
      .filter((r) => r !== NULL_REF),
  );
  const rfb = Object.values(consoles).find((c) => c.protocol === "rfb");
  return { ref, vm, vbds, vifs, vdis, networks: gm?.networks ?? {}, guest: gm, console: rfb?.location };
}

/**
 * ref → uuid/name of hosts and networks, per session: each ref read once (get_record, shared by concurrent
 * callers) when first asked for. A ref is never reused, so one that is gone stays answered as undefined.
 */
const directories = new WeakMap<Xapi, Map<string, Promise<{ uuid: string; name: string } | undefined>>>();

export function uuidOfRef(
  xapi: Xapi,
  cls: "host" | "network" | "SR",
  ref: string,
): Promise<{ uuid: string; name: string } | undefined> {
  if (ref === NULL_REF) return Promise.resolve(undefined);
  let known = directories.get(xapi);
  if (!known) directories.set(xapi, (known = new Map()));
  const key = `${cls} ${ref}`;
  let p = known.get(key);
  if (!p) {
    p = recordOf<{ uuid: string; name_label: string }>(xapi, cls, ref).then(
      (r) => r && { uuid: r.uuid, name: r.name_label },
    );
    known.set(key, p);
    p.catch(() => known.delete(key)); // a failed read (not a missing object) is tried again next time
  }
  return p;
}

/** The VM's disk VBDs (not CDs) in device order, without the cloud-init drive. */
export function diskVbds(live: Live, cloudInitVdi?: string | null): Array<[string, VBDRecord]> {
  return Object.entries(live.vbds)
    .filter(([, b]) => b.type === "Disk" && !(cloudInitVdi && live.vdis[b.VDI]?.uuid === cloudInitVdi))
    .sort(([, a], [, b]) => Number(a.userdevice) - Number(b.userdevice));
}

/**
 * The guest agent's record a preview's diff just read, per connection and VM: the update that follows in the same
 * command uses it (once, within a minute) instead of reading it again.
 */
const keptForUpdate = new WeakMap<Xapi, Map<string, { at: number; seen: GuestSeen }>>();

export function takeForUpdate(xapi: Xapi, uuid: string): GuestSeen | undefined {
  const kept = keptForUpdate.get(xapi)?.get(uuid);
  keptForUpdate.get(xapi)?.delete(uuid);
  return kept && Date.now() - kept.at < 60_000 ? kept.seen : undefined;
}

/**
 * What xapi would refuse to change on the VM with this uuid live (hotplug.ts), for a preview: its record (2 calls),
 * its guest agent's when it runs, its VBDs only when `needCd` (one call each). Undefined when there is no such VM.
 */
export async function readRefusals(xapi: Xapi, uuid: string, needCd: boolean): Promise<Refusals | undefined> {
  const found = await vmRecord(xapi, uuid);
  if (!found) return undefined;
  const vm = found.record;
  if (vm.power_state === "Halted") return {};
  const [gm, vbds] = await Promise.all([
    vm.power_state === "Running" && vm.guest_metrics !== NULL_REF
      ? xapi.call<GuestMetricsRecord>("VM_guest_metrics.get_record", vm.guest_metrics).catch(() => undefined)
      : undefined,
    needCd ? recordsOfRefs<VBDRecord>(xapi, "VBD", vm.VBDs) : ({} as Record<string, VBDRecord>),
  ]);
  if (gm) {
    let kept = keptForUpdate.get(xapi);
    if (!kept) keptForUpdate.set(xapi, (kept = new Map()));
    if (kept.size > 1000) kept.clear(); // previews never followed by an update
    kept.set(uuid, { at: Date.now(), seen: { metrics: vm.guest_metrics, record: gm } });
  }
  return hotplugRefusals(
    vm,
    gm,
    Object.values(vbds).some((b) => b.type === "CD"),
  );
}

/** What xapi would refuse to change on this VM live (hotplug.ts), from what readLive read. */
export function liveRefusals(live: Live): Refusals {
  return hotplugRefusals(live.vm, live.guest, cdVbd(live) !== undefined);
}

export function cdVbd(live: Live): [string, VBDRecord] | undefined {
  return Object.entries(live.vbds).find(([, b]) => b.type === "CD");
}

export function sortedVifs(live: Live): Array<[string, VIFRecord]> {
  return Object.entries(live.vifs).sort(([, a], [, b]) => Number(a.device) - Number(b.device));
}

/**
 * Outputs from the live VM. `n` gives the input fields (as the program states them); for the fields it states,
 * `stated` decides between the live value (read: drift shows) and the program's (create/update).
 */
export async function outputsOf(xapi: Xapi, live: Live, n: Inputs, previous?: Partial<Outputs>): Promise<Outputs> {
  const vm = live.vm;
  const cloudInitVdi = previous?.cloudInitVdi ?? null;
  const cloudInitPresent =
    !!cloudInitVdi && Object.values(live.vbds).some((b) => live.vdis[b.VDI]?.uuid === cloudInitVdi);
  const byDevice = addressesByDevice(live.networks);
  const disks: DiskOutput[] = diskVbds(live, cloudInitVdi).map(([, b], i) => {
    const vdi = live.vdis[b.VDI];
    const stated = n.disks[i] ?? {};
    const prevOwned = previous?.disks?.[i]?.owned;
    const fromTemplate = previous?.disks?.[i]?.fromTemplate ?? false;
    return {
      ...diskInputOf(stated),
      device: b.userdevice,
      vdiUuid: vdi?.uuid ?? "",
      virtualSize: Number(vdi?.virtual_size ?? 0),
      owned: stated.vdi !== undefined ? false : (prevOwned ?? true),
      fromTemplate,
    };
  });
  const nics: NicOutput[] = [];
  for (const [, v] of sortedVifs(live)) {
    const stated = n.networkInterfaces[nics.length];
    const net = await uuidOfRef(xapi, "network", v.network);
    nics.push({
      ...(stated ? nicInputOf(stated) : { network: net?.uuid ?? "" }),
      device: v.device,
      mac: v.MAC,
      network: net?.uuid ?? "",
      ipAddresses: byDevice[v.device] ?? [],
    });
  }
  const host = await uuidOfRef(xapi, "host", vm.resident_on);
  return {
    ...n,
    disks,
    networkInterfaces: nics,
    uuid: vm.uuid,
    poolUuid: (await poolOf(xapi)).uuid,
    powerState: vm.power_state,
    residentOn: host?.uuid ?? null,
    residentOnName: host?.name ?? null,
    ipAddresses: [...new Set(Object.values(byDevice).flat())],
    cloudInitVdi: cloudInitPresent ? cloudInitVdi : null,
    cdromVdi: cdromUuid(live),
    consoleUrl: live.console ?? null,
    secureBootReadiness: previous?.secureBootReadiness ?? null,
  } as Outputs;
}

function cdromUuid(live: Live): string | null {
  const cd = cdVbd(live);
  return cd && !cd[1].empty ? (live.vdis[cd[1].VDI]?.uuid ?? null) : null;
}

/** The UUID of a host or network, from the live records (what the program's inputs name them by). */
async function uuidIn(records: LiveRecords, cls: "host" | "network", ref: string): Promise<string | undefined> {
  if (ref === NULL_REF) return undefined;
  return (await records.get<{ uuid: string }>(cls, ref))?.uuid;
}

/**
 * What a refresh reports as inputs: the stated fields at their live values, so `up` repairs drift. The Vm's
 * comparison (comparison.ts) runs it for read() and for xen-drift alike; `records` answers host and network refs.
 */
export async function liveInputs(records: LiveRecords, live: Live, o: Outputs, all: boolean): Promise<Inputs> {
  const vm = live.vm;
  const stated = (k: keyof Inputs) => all || (o[k] !== undefined && o[k] !== null);
  // Input fields only; cloudInit (userData may be a secret) is not handed back: its digest stands for it.
  const n = pickInputs<Inputs>(o, [...Object.keys(inputSchema.shape), "cloudInitHash"]);
  delete (n as Partial<Inputs>).cloudInit;
  n.name = vm.name_label;
  if (stated("description")) n.description = vm.name_description;
  n.powerState = vm.power_state;
  n.tags = all ? [...vm.tags] : (o.tags ?? []).filter((t) => vm.tags.includes(t));
  n.otherConfig = all ? { ...vm.other_config } : ownedView(vm.other_config, Object.keys(o.otherConfig ?? {}));
  n.xenstoreData = all ? { ...vm.xenstore_data } : ownedView(vm.xenstore_data, Object.keys(o.xenstoreData ?? {}));
  n.platform = all ? { ...vm.platform } : ownedView(vm.platform, Object.keys(o.platform ?? {}));
  n.blockedOperations = all
    ? { ...vm.blocked_operations }
    : ownedView(vm.blocked_operations, Object.keys(o.blockedOperations ?? {}));
  if (stated("vcpus")) n.vcpus = Number(vm.VCPUs_at_startup);
  if (stated("vcpusMax")) n.vcpusMax = Number(vm.VCPUs_max);
  if (stated("coresPerSocket") && vm.platform["cores-per-socket"])
    n.coresPerSocket = Number(vm.platform["cores-per-socket"]);
  if (stated("memory")) {
    n.memory = {
      dynamicMin: Number(vm.memory_dynamic_min),
      dynamicMax: Number(vm.memory_dynamic_max),
      staticMax: Number(vm.memory_static_max),
    };
    if (all || o.memory?.staticMin !== undefined) n.memory.staticMin = Number(vm.memory_static_min);
  }
  if (stated("haRestartPriority")) n.haRestartPriority = vm.ha_restart_priority as Inputs["haRestartPriority"];
  if (stated("startDelay")) n.startDelay = Number(vm.start_delay);
  if (stated("shutdownDelay")) n.shutdownDelay = Number(vm.shutdown_delay);
  if (stated("affinityHost")) n.affinityHost = await uuidIn(records, "host", vm.affinity);
  if (stated("boot")) {
    const firmware = firmwareOf(vm);
    n.boot = { firmware, ...(all || o.boot?.order !== undefined ? { order: vm.HVM_boot_params.order ?? "" } : {}) };
  }
  const cd = cdVbd(live);
  if (stated("cdrom") || (all && cd)) {
    const vdi = cd && !cd[1].empty ? live.vdis[cd[1].VDI] : undefined;
    // The program's spelling (a name or a UUID) stands while the same ISO is in the drive.
    n.cdrom = !vdi ? "" : vdi.uuid === o.cdromVdi ? o.cdrom : vdi.uuid;
  }
  n.disks = diskVbds(live, o.cloudInitVdi).map(([, b], i) => {
    const vdi = live.vdis[b.VDI];
    const before = o.disks?.[i] ? diskInputOf(o.disks[i]) : {};
    const d: Record<string, unknown> = { ...before };
    if (before.vdi !== undefined) d.vdi = vdi?.uuid ?? before.vdi;
    else if (before.size !== undefined || all) {
      // The program's size stands while the disk was not resized elsewhere (the SR rounds sizes up).
      const live = Number(vdi?.virtual_size ?? 0);
      d.size = o.disks?.[i]?.virtualSize === live && before.size !== undefined ? before.size : live;
    }
    if (before.bootable !== undefined || all) d.bootable = b.bootable;
    if (before.mode !== undefined || all) d.mode = b.mode;
    if (before.name !== undefined || all) d.name = vdi?.name_label ?? "";
    return d as Inputs["disks"][number];
  });
  // The template's disks the program does not list stay unlisted.
  while (
    n.disks.length &&
    o.disks?.[n.disks.length - 1]?.fromTemplate &&
    !Object.keys(n.disks[n.disks.length - 1]).length
  )
    n.disks.pop();
  n.networkInterfaces = [];
  for (const [, v] of sortedVifs(live)) {
    const before = o.networkInterfaces?.[n.networkInterfaces.length];
    const x: Record<string, unknown> = { network: (await uuidIn(records, "network", v.network)) ?? "" };
    if (all || before?.mac !== undefined) x.mac = v.MAC;
    if (all || before?.mtu !== undefined) x.mtu = Number(v.MTU);
    if (all || before?.lockingMode !== undefined) x.lockingMode = v.locking_mode;
    if (all || before?.ipv4Allowed !== undefined) x.ipv4Allowed = [...v.ipv4_allowed];
    if (all || before?.ipv6Allowed !== undefined) x.ipv6Allowed = [...v.ipv6_allowed];
    n.networkInterfaces.push(x as Inputs["networkInterfaces"][number]); // network, and the fields stated
  }
  return n;
}

/** The firmware a VM boots: UEFI with Secure Boot when platform:secureboot is "true". */
export function firmwareOf(vm: Pick<VMRecord, "HVM_boot_params" | "platform">): "bios" | "uefi" | "uefi-secureboot" {
  if (vm.HVM_boot_params.firmware !== "uefi") return "bios";
  return vm.platform.secureboot === "true" ? "uefi-secureboot" : "uefi";
}
