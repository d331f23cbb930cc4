/** SR, PBD and secrets (docs/xapi-semantics.md §6.5; xapi_sr.ml, xapi_pbd.ml, sm drivers). */
import { randomUUID } from "crypto";
import { fail, XapiError } from "../engine/errors";
import { NULL_REF } from "../engine/datamodel";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { refreshSr, refreshVdi, srAttached } from "./allowed-ops";
import { backendKey, backendsOf, findBackend } from "./storage-backend";
import { DRIVERS, SmDriver, smError } from "./sm-drivers";
import { MiB } from "./units";
import { checkLive, checkSrHostLive } from "./forwarding";
import { completeTask, createTask, failTask } from "../engine/tasks";
import { toXapiError } from "../engine/errors";

export const SR_METADATA = 4 * MiB;
const ISO_FILES = ["debian-12.7.0-amd64-netinst.iso", "ubuntu-24.04.1-live-server-amd64.iso"];

export function driverOf(x: Xapi, sr: string): SmDriver | undefined {
  return DRIVERS.get(String(x.store.get("SR", sr).type));
}

/** Recomputes physical_utilisation and virtual_allocation from the SR's VDIs. */
export function account(x: Xapi, sr: string): void {
  const row = x.store.tryGet("SR", sr);
  if (!row) return;
  const d = DRIVERS.get(String(row.type));
  let virt = 0;
  let phys = d?.thick ? SR_METADATA : 0;
  for (const v of row.VDIs as string[]) {
    const vdi = x.store.get("VDI", v);
    virt += vdi.virtual_size as number;
    phys += vdi.physical_utilisation as number;
  }
  if (row.virtual_allocation !== virt || row.physical_utilisation !== phys)
    x.store.update("SR", sr, { virtual_allocation: virt, physical_utilisation: phys });
}

export function freeSpace(x: Xapi, sr: string): number {
  const row = x.store.get("SR", sr);
  return (row.physical_size as number) - (row.physical_utilisation as number);
}

/**
 * Keys ending in "password" move into new secret objects, `<key>_secret` = the new secret's uuid
 * (Xapi_secret.move_passwds_to_secrets). message_forwarding.ml runs it first thing in SR.create,
 * SR.probe and PBD.create; nothing ever destroys the secret it makes (PBD.create copies it).
 */
function movePasswordsToSecrets(x: Xapi, dc: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(dc)) {
    if (k.endsWith("password")) {
      const ref = x.store.create("secret", { value: v, other_config: {} });
      out[`${k}_secret`] = x.store.get("secret", ref).uuid as string;
    } else out[k] = v;
  }
  return out;
}

/**
 * Every key ending in "password_secret" gets a new secret holding a copy of the referenced one's value
 * (Xapi_secret.duplicate_passwds, called by Xapi_pbd.create_common: each PBD has its own secret).
 * An unknown uuid fails like Db.Secret.get_by_uuid: UUID_INVALID [secret; uuid].
 */
function duplicatePasswords(x: Xapi, dc: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...dc };
  for (const [k, v] of Object.entries(dc)) {
    if (!k.endsWith("password_secret")) continue;
    const value = x.store.get("secret", x.store.byUuid("secret", v)).value;
    const ref = x.store.create("secret", { value, other_config: {} });
    out[k] = x.store.get("secret", ref).uuid as string;
  }
  return out;
}

/** Destroys the secrets that "password_secret" keys name, ignoring any already gone (Xapi_secret.clean_out_passwds). */
function cleanOutPasswords(x: Xapi, map: Record<string, string>): void {
  for (const [k, v] of Object.entries(map)) {
    if (!k.endsWith("password_secret")) continue;
    try {
      x.store.destroy("secret", x.store.byUuid("secret", v));
    } catch {
      /* xapi swallows any failure here */
    }
  }
}

/** Xapi_pbd.destroy: the PBD record, then the secrets its device_config names. */
function destroyPbd(x: Xapi, pbd: string): void {
  const dc = x.store.get("PBD", pbd).device_config as Record<string, string>;
  x.store.destroy("PBD", pbd);
  cleanOutPasswords(x, dc);
}

/** device_config as the driver sees it: secrets resolved back to passwords. */
function resolvedDc(x: Xapi, dc: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...dc };
  for (const [k, v] of Object.entries(dc)) {
    if (k.endsWith("password_secret") && k !== "cifspassword_secret") {
      try {
        out[k.slice(0, -7)] = x.store.get("secret", x.store.byUuid("secret", v)).value as string;
      } catch {
        /* a dangling secret reads as no password */
      }
    }
  }
  return out;
}

function hostsMasterFirst(x: Xapi): string[] {
  const master = x.masterRef();
  return [master, ...[...x.store.table("host").keys()].filter((h) => h !== master)];
}

/** The files a new ISO share holds; SR.scan introduces them as VDIs (ISOSR.create itself does not scan). */
function isoFiles(): Map<string, Row> {
  const files = new Map<string, Row>();
  for (const name of ISO_FILES) {
    const size = 600 * MiB + name.length * MiB;
    files.set(randomUUID(), {
      name_label: name,
      name_description: "",
      virtual_size: size,
      physical_utilisation: size,
      type: "user",
      sharable: false,
      read_only: true,
      other_config: {},
      storage_lock: false,
      location: name,
      managed: true,
      missing: false,
      parent: NULL_REF,
      sm_config: {},
      allowed_operations: [],
    });
  }
  return files;
}

/**
 * LVHDSR.create / EXTSR.create's lvutil.createVG, per device: the root disk is refused (Rootdev 105: the root
 * device and its first two partitions, util.getrootdev), then a path that does not exist (InvalidDev 19).
 * Simulated hosts have the block devices of simulator/README.md "The seeded pool".
 */
function checkLocalDevices(devices: string): void {
  for (const dev of devices.split(",")) {
    if ([SYSTEM_DISK, `${SYSTEM_DISK}1`, `${SYSTEM_DISK}2`].includes(dev))
      throw smError(
        105,
        "Root system device, cannot be used for VM storage",
        `Device ${dev} contains core system files, please use another device`,
      );
    if (!hostBlockDevice.test(dev)) throw smError(19, "No such device", `Device ${dev} does not exist`);
  }
}

/** Every simulated host's disks: the system disk sda (partitions 1–3, also by id) and data disks sdb to sdz. */
const SYSTEM_DISK = "/dev/sda";
const hostBlockDevice = /^\/dev\/(sda[1-3]?|sd[b-z]|disk\/by-id\/scsi-sim-\d+(-part[1-3])?)$/;

/** Attaches a PBD: validates device_config with the driver, finds (or, for a new SR, makes) the storage. */
function plug(x: Xapi, pbd: string): void {
  const s = x.store;
  const p = s.get("PBD", pbd);
  if (p.currently_attached) return;
  const sr = s.get("SR", p.SR);
  const d = DRIVERS.get(String(sr.type));
  if (!d) fail("SR_UNKNOWN_DRIVER", sr.type as string);
  const dc = resolvedDc(x, p.device_config as Record<string, string>);
  const location = d!.check(dc);
  assertReachable(x, p.host as string, d!.type, dc);
  const key = backendKey(d!.type, location, sr.uuid as string);
  let b = backendsOf(x).get(key);
  if (!b) {
    if (d!.type !== "iso" && findBackend(x, d!.type, location).length === 0 && !((sr.physical_size as number) > 0)) {
      throw smError(47, "The SR is not available", `no SR found at ${location}`);
    }
    b = { type: d!.type, location, srUuid: sr.uuid as string, size: d!.backendSize, vdis: new Map() };
    backendsOf(x).set(key, b);
  }
  checkSharing(x, pbd, p.SR as string);
  s.set("PBD", pbd, "currently_attached", true);
  if ((sr.physical_size as number) < 0) s.update("SR", p.SR as string, { physical_size: b.size });
  account(x, p.SR as string);
  refreshSr(x, p.SR as string);
}

/** The server a network driver's attach contacts first (NFSSR/ISOSR util._testHost, SMBSR mount, iSCSI login). */
function storageServer(type: string, dc: Record<string, string>): string | undefined {
  const unc = (v: string | undefined) => v?.replace(/\\/g, "/").split("/")[2];
  if (type === "nfs") return dc.server;
  if (type === "smb") return unc(dc.server);
  if (type === "lvmoiscsi") return dc.target;
  if (type === "iso")
    return dc.location?.startsWith("//") || dc.location?.startsWith("\\\\")
      ? unc(dc.location)
      : dc.location?.split(":")[0];
  return undefined;
}

/**
 * The driver's attach on a host that cannot reach the storage server (sim.faults.storageUnreachable), with the
 * error it raises there (XE_SR_ERRORCODES.xml): NFSSR.attach and ISOSR's NFS mount test the port first
 * (NFSTarget 108), SMBSR.attach fails its mount (SMBMount 111); [UNSURE] ISOSR over CIFS (ISOMountFailure 222)
 * and LVMoISCSISR (ISCSILogin 68).
 */
function assertReachable(x: Xapi, host: string, type: string, dc: Record<string, string>): void {
  const server = storageServer(type, dc);
  if (!server || !x.faults.unreachableStorage.has(`${host} ${server}`)) return;
  const cifs = type === "smb" || (type === "iso" && !dc.location?.includes(":"));
  if (type === "nfs" || (type === "iso" && !cifs))
    throw smError(108, "Unable to detect an NFS service on this target.", `${server}: connection timed out`);
  if (type === "smb") throw smError(111, "SMB mount error", `mount failed: ${server} unreachable`);
  if (type === "iso")
    throw smError(222, "Could not mount the directory specified in Device Configuration", `${server} unreachable`);
  throw smError(
    68,
    "ISCSI login failed - check access settings for the initiator on the storage, if CHAP is used verify CHAP credentials",
  );
}

/** A non-shared SR may be attached on one host only (xapi_pbd.check_sharing_constraint). */
function checkSharing(x: Xapi, pbd: string, sr: string): void {
  const row = x.store.get("SR", sr);
  if (row.shared) return;
  const host = x.store.get("PBD", pbd).host;
  const other = (row.PBDs as string[])
    .map((p) => x.store.get("PBD", p))
    .find((p) => p.currently_attached && p.host !== host);
  if (other) fail("SR_NOT_SHARABLE", sr, other.host as string);
}

function scan(x: Xapi, sr: string): void {
  const s = x.store;
  const row = s.get("SR", sr);
  if (!srAttached(x, row)) fail("SR_HAS_NO_PBDS", sr);
  for (const b of backendsOf(x).values()) {
    if (b.srUuid !== row.uuid) continue;
    for (const [uuid, rec] of b.vdis) {
      if ([...s.table("VDI").values()].some((v) => v.uuid === uuid)) continue;
      const ref = s.create("VDI", {
        ...rec,
        uuid,
        SR: sr,
        VBDs: [],
        snapshots: [],
        crash_dumps: [],
        current_operations: {},
      });
      refreshVdi(x, ref);
    }
    b.vdis.clear();
  }
  account(x, sr);
}

/**
 * Xapi_sr.really_forget: removes the records of an SR (PBDs, VDIs), remembering the VDIs on the storage. The
 * VDIs' VBDs stay, pointing at nothing, until the database GC (collectVbds) empties or removes them.
 */
function forgetRecords(x: Xapi, sr: string, keepData: boolean): void {
  const s = x.store;
  const row = s.get("SR", sr);
  const backs = [...backendsOf(x).entries()].filter(([, b]) => b.srUuid === row.uuid);
  for (const v of [...(row.VDIs as string[])]) {
    const vdi = s.get("VDI", v);
    if (keepData) for (const [, b] of backs) b.vdis.set(vdi.uuid as string, { ...vdi, VBDs: [] });
    s.destroy("VDI", v);
  }
  // Xapi_sr.really_forget destroys the PBDs with Xapi_pbd.destroy, so their secrets go too.
  for (const p of [...(row.PBDs as string[])]) destroyPbd(x, p);
  if (!keepData) for (const [k] of backs) backendsOf(x).delete(k);
  s.destroy("SR", sr);
}

/**
 * db_gc_util.ml gc_VBDs (every db_GC_TIMER, 30 s): a VBD whose VM is gone, or whose VDI is gone while it is not
 * empty, is destroyed, except that a CD of a live VM is kept and made empty.
 */
export function collectVbds(x: Xapi): void {
  const s = x.store;
  for (const [ref, b] of [...s.table("VBD")]) {
    const vmOk = s.has("VM", b.VM);
    if (vmOk && (b.empty || s.has("VDI", b.VDI))) continue;
    if (vmOk && b.type === "CD") s.update("VBD", ref, { VDI: NULL_REF, empty: true });
    else destroyVbdRecord(x, ref);
  }
}

function dbGc(x: Xapi): void {
  const tick = () => {
    collectVbds(x);
    x.later(x.opts.dbGcIntervalMs, tick);
  };
  x.later(x.opts.dbGcIntervalMs, tick);
}

export function destroyVbdRecord(x: Xapi, vbd: string): void {
  const v = x.store.tryGet("VBD", vbd);
  if (!v) return;
  x.store.destroy("VBD", vbd);
  if (x.store.has("VBD_metrics", v.metrics)) x.store.destroy("VBD_metrics", v.metrics as string);
}

function probe(x: Xapi, host: string, dc: Record<string, string>, type: string): string {
  x.store.get("host", host);
  const d = DRIVERS.get(type.toLowerCase());
  if (!d) return fail("SR_UNKNOWN_DRIVER", type);
  if (!d.capabilities.includes("SR_PROBE")) throw new XapiError("SR_OPERATION_NOT_SUPPORTED", [NULL_REF]);
  if (d.type === "nfs" && dc.server && !dc.serverpath) {
    const exports = [...new Set(findBackendsByPrefix(x, "nfs", `${dc.server}:`).map((b) => b.location.split(":")[1]))];
    throw smError(
      101,
      "The request is missing the serverpath parameter",
      undefined,
      `<?xml version="1.0" ?>\n<nfs-exports>\n${exports.map((p) => nfsExportXml(dc.server, p)).join("")}</nfs-exports>\n`,
    );
  }
  const location = d.check(dc);
  const found = findBackend(x, d.type, location);
  return `<?xml version="1.0" ?>\n<SRlist>\n${found.map((b) => `\t<SR>\n\t\t<UUID>${b.srUuid}</UUID>\n\t</SR>\n`).join("")}</SRlist>\n`;
}

/** One <Export> of the probe answer sm's NFSSR gives when serverpath is missing. */
function nfsExportXml(server: string, path: string): string {
  return `\t<Export>\n\t\t<Target>${server}</Target>\n\t\t<Path>${path}</Path>\n\t\t<Accesslist>*</Accesslist>\n\t</Export>\n`;
}

function findBackendsByPrefix(x: Xapi, type: string, prefix: string) {
  return [...backendsOf(x).values()].filter((b) => b.type === type && b.location.startsWith(prefix));
}

/** Records storage for the SRs the seed created, so that forget/introduce round-trips work on them too. */
export function registerSeededBackends(x: Xapi): void {
  for (const row of x.store.table("SR").values()) {
    const d = DRIVERS.get(String(row.type));
    if (!d) continue;
    for (const p of row.PBDs as string[]) {
      const dc = x.store.get("PBD", p).device_config as Record<string, string>;
      let location: string;
      try {
        location = d.check(dc);
      } catch {
        continue;
      }
      const key = backendKey(d.type, location, row.uuid as string);
      if (!backendsOf(x).has(key))
        backendsOf(x).set(key, {
          type: d.type,
          location,
          srUuid: row.uuid as string,
          size: row.physical_size as number,
          vdis: new Map(),
        });
    }
  }
}

/**
 * xapi's SR scanning thread (xapi_sr.ml scan_all): every `auto-scan-interval` seconds (master's
 * other_config, default 30) it scans plugged SRs whose other_config has auto-scan=true or a dirty key.
 */
function scanner(x: Xapi): void {
  const interval = (): number => {
    const master = x.store.tryGet("host", x.store.table("pool").size ? x.masterRef() : undefined);
    const fromHost = Number((master?.other_config as Record<string, string> | undefined)?.["auto-scan-interval"]);
    return Number.isFinite(fromHost) && fromHost > 0 ? fromHost * 1000 : x.opts.srScanIntervalMs;
  };
  const tick = () => {
    for (const [sr, row] of x.store.table("SR")) {
      const oc = row.other_config as Record<string, string>;
      if ((oc["auto-scan"] === "true" || "dirty" in oc) && srAttached(x, row)) scan(x, sr);
    }
    x.later(interval(), tick);
  };
  x.later(interval(), tick);
}

/**
 * Xapi_sr.create's last step: each PBD is plugged by its own Async.PBD.plug task (through message forwarding, so
 * an offline host fails with HOST_OFFLINE) and Tasks.wait_for_all waits for them all, ignoring failures: SR.create
 * succeeds with the PBDs that could not be plugged left unplugged. The tasks stay, finished, as on xapi.
 */
function plugAllIgnoringFailures(x: Xapi, pbds: string[]): void {
  for (const pbd of pbds) {
    const task = createTask(x, "Async.PBD.plug", "", x.masterRef());
    try {
      checkLive(x, x.store.get("PBD", pbd).host as string);
      plug(x, pbd);
      completeTask(x, task, "");
    } catch (e) {
      failTask(x, task, toXapiError(e));
    }
  }
}

/**
 * xapi_pbd.ml unplug, as message_forwarding.ml PBD.unplug runs it: with_unplug_locks refuses while a VDI of the
 * SR has an operation (OTHER_OPERATION_IN_PROGRESS [VDI; vdi; op; task], when the master is the SR master), then
 * check_live (HOST_OFFLINE, even for an unplugged PBD); then, if attached, abort_if_storage_attached_to_protected_vms
 * (HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED [sr] on an enabled host) and VDI_IN_USE for the disks that VMs resident on
 * the PBD's host hold through an attached, non-empty VBD (metadata VDIs excepted). get_active_vdis_by_pbd also
 * counts VBDs with `reserved` set, an internal-only field nothing in xapi sets to true today (xapi_vbd.ml creates
 * VBDs with reserved=false; xapi_vm_lifecycle force_state_reset clears it): not modelled. Neither is the HA
 * statefile check (HA_IS_ENABLED).
 */
function unplugPbd(x: Xapi, pbd: string): void {
  const s = x.store;
  const p = s.get("PBD", pbd);
  const srRef = p.SR as string;
  const sr = s.get("SR", srRef);
  const srMaster = sr.shared ? x.masterRef() : (sr.PBDs as string[]).length === 1 ? p.host : undefined;
  if (srMaster === x.masterRef())
    for (const v of sr.VDIs as string[]) {
      const [op] = Object.entries(s.get("VDI", v).current_operations as Record<string, string>);
      if (op) fail("OTHER_OPERATION_IN_PROGRESS", "VDI", v, op[1], op[0]);
    }
  checkLive(x, p.host as string);
  if (!p.currently_attached) return;
  const pool = s.get("pool", x.poolRef());
  if (s.get("host", p.host).enabled && pool.ha_enabled && !pool.ha_allow_overcommit) {
    const vdis = new Set(sr.VDIs as string[]);
    const protectedUser = [...s.table("VM").values()].some(
      (vm) =>
        vm.ha_always_run === true &&
        vm.ha_restart_priority === "restart" &&
        (vm.VBDs as string[]).some((b) => vdis.has(s.tryGet("VBD", b)?.VDI as string)),
    );
    if (protectedUser) fail("HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED", srRef);
  }
  const inUse = new Set<string>();
  for (const vm of s.table("VM").values()) {
    if (vm.resident_on !== p.host) continue;
    for (const b of vm.VBDs as string[]) {
      const vbd = s.tryGet("VBD", b);
      if (!vbd || vbd.empty || !vbd.currently_attached) continue;
      const vdi = s.tryGet("VDI", vbd.VDI);
      if (vdi && vdi.SR === srRef && vdi.type !== "metadata") inUse.add(vbd.VDI as string);
    }
  }
  if (inUse.size) fail("VDI_IN_USE", ...inUse);
  s.set("PBD", pbd, "currently_attached", false);
  refreshSr(x, srRef);
}

/** The row SR.create and SR.introduce both write (xapi_sr.ml create makes it through introduce); sizes -1 until scanned. */
function createSrRecord(
  x: Xapi,
  f: {
    uuid?: string;
    nameLabel: string;
    nameDescription: string;
    type: string;
    contentType: string;
    shared: boolean;
    smConfig: Record<string, string>;
  },
): string {
  return x.store.create("SR", {
    ...(f.uuid ? { uuid: f.uuid } : {}),
    name_label: f.nameLabel,
    name_description: f.nameDescription,
    type: f.type,
    content_type: f.contentType,
    shared: f.shared,
    physical_size: -1,
    physical_utilisation: -1,
    virtual_allocation: 0,
    other_config: {},
    sm_config: f.smConfig,
  });
}

export function register(x: Xapi): void {
  scanner(x);
  dbGc(x);
  x.on("SR.create", (xx, _ctx, args) => {
    const [host, dc0, , nameLabel, nameDescription, type0, contentType, shared, smConfig] = args as [
      string,
      Record<string, string>,
      number,
      string,
      string,
      string,
      string,
      boolean,
      Record<string, string> | undefined,
    ];
    const s = xx.store;
    // message_forwarding.ml SR.create: plain passwords become secrets before anything else.
    const dc = movePasswordsToSecrets(xx, dc0);
    s.get("host", host);
    // A shared SR is made on the master; a local one is forwarded to its host (do_op_on: check_live).
    if (!shared) checkLive(xx, host);
    const type = type0.toLowerCase();
    const d = DRIVERS.get(type);
    // Xapi_sr.create: the SR record, then its PBDs (each copying the secrets, Xapi_pbd.create), then the driver.
    const sr = createSrRecord(xx, {
      nameLabel,
      nameDescription,
      type,
      contentType,
      shared,
      // ISOSR.create records the share type (sm ISOSR.py).
      smConfig: d?.type === "iso" && dc0.type ? { ...(smConfig ?? {}), iso_type: dc0.type } : (smConfig ?? {}),
    });
    // A failing copy (an unknown secret uuid) is not caught there: the SR record stays, as on xapi.
    const pbds = (shared ? hostsMasterFirst(xx) : [host]).map((h) =>
      s.create("PBD", {
        host: h,
        SR: sr,
        device_config: duplicatePasswords(xx, dc),
        currently_attached: false,
        other_config: {},
      }),
    );
    const uuid = s.get("SR", sr).uuid as string;
    try {
      if (!d) return fail("SR_UNKNOWN_DRIVER", type);
      const location = d.check(dc0);
      // The driver's create runs on the master (shared) or the SR's host and contacts the storage (NFSSR.create: _testHost).
      assertReachable(xx, shared ? xx.masterRef() : host, d.type, dc0);
      if (d.type === "lvm" || d.type === "ext" || d.type === "lvmoiscsi") {
        const sameDevice = [...backendsOf(xx).values()].filter(
          (b) => ["lvm", "ext", "lvmoiscsi"].includes(b.type) && b.location === location,
        );
        for (const b of sameDevice) {
          const inUse = [...s.table("SR").values()].find((r) => r.uuid === b.srUuid);
          if (inUse && srAttached(xx, inUse)) throw smError(16, "The SR device is currently in use");
        }
      }
      if (d.type === "lvm" || d.type === "ext") checkLocalDevices(dc0.device);
      if (d.type !== "nfs" && d.type !== "smb" && d.type !== "iso") {
        // Formatting a local device or LUN wipes whatever SR was there before.
        for (const [k, b] of backendsOf(xx))
          if (b.location === location && b.type !== "nfs" && b.type !== "smb" && b.type !== "iso")
            backendsOf(xx).delete(k);
      }
      backendsOf(xx).set(backendKey(d.type, location, uuid), {
        type: d.type,
        location,
        srUuid: uuid,
        size: d.backendSize,
        vdis: d.type === "iso" ? isoFiles() : new Map(),
      });
    } catch (err) {
      // Xapi_sr.create cleans up with Db.PBD.destroy, not Xapi_pbd.destroy: the PBDs' secret copies stay behind.
      for (const p of pbds) s.destroy("PBD", p);
      s.destroy("SR", sr);
      throw err;
    }
    // Storage_access.create_sr returns the device_config of the PBD on the host that ran SR.create (the
    // master for a shared SR; SMAPIv1 drops SRmaster), and Xapi_sr.create sets it on every PBD: they all
    // end up naming that PBD's secrets, and the copies made for the other PBDs are left unreferenced.
    const mine = s.get("PBD", pbds[0]).device_config as Record<string, string>;
    for (const p of pbds.slice(1)) s.set("PBD", p, "device_config", { ...mine });
    plugAllIgnoringFailures(xx, pbds);
    account(xx, sr);
    refreshSr(xx, sr);
    for (const v of s.get("SR", sr).VDIs as string[]) refreshVdi(xx, v);
    return sr;
  });
  x.on("SR.introduce", (xx, _ctx, args) => {
    const [uuid0, nameLabel, nameDescription, type, contentType, shared, smConfig] = args as [
      string,
      string,
      string,
      string,
      string,
      boolean,
      Record<string, string> | undefined,
    ];
    const s = xx.store;
    if (uuid0 && [...s.table("SR").values()].some((r) => r.uuid === uuid0)) fail("SR_UUID_EXISTS", uuid0);
    return createSrRecord(xx, {
      uuid: uuid0,
      nameLabel,
      nameDescription,
      type: type.toLowerCase(),
      contentType,
      shared,
      smConfig: smConfig ?? {},
    });
  });
  x.on("SR.forget", (xx, _ctx, [sr]) => {
    const row = xx.store.get("SR", sr);
    if (srAttached(xx, row)) fail("SR_HAS_PBD", sr as string);
    forgetRecords(xx, sr as string, true);
  });
  x.on("SR.destroy", (xx, _ctx, [sr]) => {
    const s = xx.store;
    const row = s.get("SR", sr);
    // message_forwarding.ml SR.destroy: SR_HAS_PBD, SR_INDESTRUCTIBLE, then forward_sr_op (consider_unplugged_pbds:
    // the master's PBD for a shared SR; its host must be live), then Xapi_sr.destroy's own checks.
    if (srAttached(xx, row)) fail("SR_HAS_PBD", sr as string);
    if ((row.other_config as Record<string, string>).indestructible === "true") fail("SR_INDESTRUCTIBLE", sr as string);
    if ((row.PBDs as string[]).length === 0) fail("SR_HAS_NO_PBDS", sr as string);
    checkSrHostLive(xx, sr as string, true);
    if ((row.VDIs as string[]).some((v) => s.get("VDI", v).managed && s.get("VDI", v).type !== "rrd"))
      fail("SR_NOT_EMPTY");
    if (!DRIVERS.has(String(row.type))) fail("SR_OPERATION_NOT_SUPPORTED", sr as string);
    // Xapi_sr.destroy also cleans out secrets named in the SR's sm_config, before really_forget.
    cleanOutPasswords(xx, row.sm_config as Record<string, string>);
    forgetRecords(xx, sr as string, false);
  });
  // message_forwarding.ml forward_sr_op: run on the host of a plugged PBD (the master's, for a shared SR).
  x.on("SR.scan", (xx, _ctx, [sr]) => (checkSrHostLive(xx, sr as string), scan(xx, sr as string)));
  x.on("SR.update", (xx, _ctx, [sr]) => (checkSrHostLive(xx, sr as string), account(xx, sr as string)));
  x.on("SR.probe", (xx, _ctx, [host, dc, type]) =>
    probe(xx, host as string, movePasswordsToSecrets(xx, dc as Record<string, string>), type as string),
  );
  x.on("SR.get_supported_types", () => [...DRIVERS.keys()]);
  x.on(
    "SR.set_physical_size",
    (xx, _ctx, [sr, v]) => (xx.store.get("SR", sr), xx.store.set("SR", sr as string, "physical_size", v)),
  );
  x.on("SR.set_shared", (xx, _ctx, [sr, v]) => (xx.store.get("SR", sr), xx.store.set("SR", sr as string, "shared", v)));
  x.on(
    "SR.set_name_label",
    (xx, _ctx, [sr, v]) => (xx.store.get("SR", sr), xx.store.set("SR", sr as string, "name_label", v)),
  );
  x.on(
    "SR.set_name_description",
    (xx, _ctx, [sr, v]) => (xx.store.get("SR", sr), xx.store.set("SR", sr as string, "name_description", v)),
  );

  x.on("PBD.create", (xx, _ctx, [rec]) => {
    const r = rec as Row;
    const s = xx.store;
    // message_forwarding.ml PBD.create moves plain passwords first; Xapi_pbd.create_common then copies every secret.
    const moved = movePasswordsToSecrets(xx, (r.device_config ?? {}) as Record<string, string>);
    s.get("host", r.host);
    const sr = s.get("SR", r.SR);
    const existing = (sr.PBDs as string[]).find((p) => s.get("PBD", p).host === r.host);
    if (existing) fail("PBD_EXISTS", r.SR as string, r.host as string, existing);
    const pbd = s.create("PBD", { ...r, device_config: duplicatePasswords(xx, moved), currently_attached: false });
    refreshSr(xx, r.SR as string);
    return pbd;
  });
  // message_forwarding.ml PBD.plug: forward_pbd_op to the PBD's host (check_live), even when already plugged.
  x.on("PBD.plug", (xx, _ctx, [pbd]) => {
    checkLive(xx, xx.store.get("PBD", pbd).host as string);
    plug(xx, pbd as string);
  });
  x.on("PBD.unplug", (xx, _ctx, [pbd]) => unplugPbd(xx, pbd as string));
  x.on("PBD.destroy", (xx, _ctx, [pbd]) => {
    const p = xx.store.get("PBD", pbd);
    if (p.currently_attached) fail("OPERATION_NOT_ALLOWED", "PBD is currently attached");
    destroyPbd(xx, pbd as string);
    refreshSr(xx, p.SR as string);
  });
  x.on("secret.create", (xx, _ctx, [rec]) => xx.store.create("secret", rec as Row));
}
