/**
 * The storage drivers the simulator knows, after xapi-project/sm `libs/sm/drivers/*.py`
 * (CAPABILITIES, CONFIGURATION, the device-config checks in `load`) and `XE_SR_ERRORCODES.xml`.
 */
import { XapiError } from "../engine/errors";
import driverTable from "../data/sm-drivers.json";
import { GiB, MiB } from "./units";

export interface SmDriver {
  type: string;
  name: string;
  description: string;
  driver: string;
  configuration: Record<string, string>;
  capabilities: string[];
  /** Disks are VHD: sizes round up to 2 MiB, between 1 MB and 2040 GiB (vhdutil.validate_and_round_vhd_size). */
  vhd: boolean;
  /** Space is allocated in full at creation (LVM) rather than on write. */
  thick: boolean;
  /** Size the simulated backend reports when an SR of this type is created. */
  backendSize: number;
  /** Throws the driver's SR_BACKEND_FAILURE for a bad device_config; returns the location identifying the storage. */
  check(dc: Record<string, string>): string;
}

/** SR_BACKEND_FAILURE_<n> ["", message, ""] as sm_exec.ml reports an SM XenError. */
export function smError(code: number, message: string, opterr?: string, stderr = ""): XapiError {
  return new XapiError(`SR_BACKEND_FAILURE_${code}`, ["", opterr ? `${message} [opterr=${opterr}]` : message, stderr]);
}

function devicePath(dc: Record<string, string>): string {
  if (!dc.device) throw smError(90, "The request is missing the device parameter");
  for (const dev of dc.device.split(",")) {
    if (!/^\/[A-Za-z0-9_\-./:]*$/.test(dev)) throw smError(91, "The device is not a valid path", `path is ${dev}`);
  }
  return dc.device;
}

/** nfs.validate_nfsversion: "3" or anything starting with "4"; its NfsException reaches xapi as Fault 1200. */
function checkNfsVersion(dc: Record<string, string>): void {
  if (dc.nfsversion && !(dc.nfsversion === "3" || dc.nfsversion.startsWith("4")))
    throw smError(1200, "Invalid nfsversion.");
}

/** The device_config check of each driver's `load`, by SR type; the rest of a driver is data (../data/sm-drivers.json). */
const DEVICE_CONFIG_CHECKS: Record<string, (dc: Record<string, string>) => string> = {
  lvm: devicePath,
  ext: devicePath,
  // NFSSR.py load: server (ConfigServerMissing), then nfs.validate_nfsversion ("3" or "4…"; its NfsException is no
  // XenError, so SRCommand.run answers Fault 1200, GenericException); validate_remotepath: serverpath
  // (ConfigServerPathMissing). [UNSURE] A relative serverpath: sm has no check (ConfigServerPathBad is never raised);
  // the mount fails (NFSMount).
  nfs(dc) {
    if (!dc.server) throw smError(102, "The request is missing the server parameter");
    checkNfsVersion(dc);
    if (!dc.serverpath) throw smError(101, "The request is missing the serverpath parameter");
    if (!dc.serverpath.startsWith("/")) throw smError(73, "NFS mount error", "mount failed: bad serverpath");
    return `${dc.server}:${dc.serverpath}`;
  },
  smb(dc) {
    if (!dc.server) throw smError(102, "The request is missing the server parameter");
    if (!/^(\/\/|\\\\)[^/\\]+[/\\].+/.test(dc.server))
      throw smError(111, "SMB mount error", "mount failed: invalid share path");
    return dc.server.replace(/\\/g, "/");
  },
  // ISOSR.py load: location (ConfigLocationMissing); legacy_mode (present, any value) skips the target check;
  // _checkTargetStr only with `type`: cifs needs a //server/share target, any other type a server:path
  // (ISOLocationStringError); nfs.validate_nfsversion (Fault 1200). attach: without `type` the protocol is nfs_iso
  // when the location has ":/", else cifs; vers (cifs with `type` only) must be 1.0 or 3.0 (ISOInvalidSMBversion).
  iso(dc) {
    if (!dc.location) throw smError(94, "The request is missing the location parameter");
    const loc = dc.location;
    const unc = /^(\/\/|\\\\)[^/\\]+[/\\].+/.test(loc);
    const badTarget = () =>
      smError(
        225,
        "Incorrect Location string format. String must be in the format SERVER:PATH for NFS targets, or \\\\SERVER\\PATH for CIFS targets",
      );
    if (!("legacy_mode" in dc) && dc.type !== undefined && (dc.type === "cifs" ? !unc : !loc.includes(":")))
      throw badTarget();
    checkNfsVersion(dc);
    if ("legacy_mode" in dc) return loc;
    const cifs = dc.type !== undefined ? dc.type === "cifs" : !loc.includes(":/");
    if (cifs && dc.type !== undefined && dc.vers !== undefined && !["1.0", "3.0"].includes(dc.vers))
      throw smError(227, "Given SMB version is not allowed. Choose either 1.0 or 3.0");
    // [UNSURE] A location neither //server/share nor server:/path fails at the mount (ISOMountFailure).
    if (cifs ? !unc : !/^[^:/]+:\/.*/.test(loc))
      throw smError(222, "Could not mount the directory specified in Device Configuration", `mount failed: ${loc}`);
    return loc;
  },
  // BaseISCSI.py load, in order: target (ConfigTargetMissing), port 1-65535 (ISCSIPort), targetIQN
  // (ConfigTargetIQNMissing); LVHDoISCSISR: SCSIid (ConfigSCSIid, with the LUNs found); LVHDSR.py load on an SR
  // (not a probe): allocation thick or thin (InvalidArg).
  lvmoiscsi(dc) {
    if (!dc.target) throw smError(95, "The request is missing the target parameter");
    if (dc.port && !(/^\d+$/.test(dc.port) && Number(dc.port) >= 1 && Number(dc.port) <= 65535))
      throw smError(142, "Incorrect value for iSCSI port, must be a number between 1 and 65535");
    if (!dc.targetIQN) throw smError(96, "The request is missing or has an incorrect target IQN parameter");
    if (!dc.SCSIid)
      throw smError(
        107,
        "The SCSIid parameter is missing or incorrect",
        undefined,
        `<?xml version="1.0" ?><iscsi-target><LUN><vendor>SIM</vendor><serial></serial><LUNid>0</LUNid>` +
          `<size>${1024 * GiB}</size><SCSIid>36001405sim0000000000000000000001</SCSIid></LUN></iscsi-target>`,
      );
    if (dc.allocation && !["thick", "thin"].includes(dc.allocation))
      throw smError(1, "Invalid argument", "Allocation parameter must be one of ['thin', 'thick']");
    return `${dc.target}/${dc.targetIQN}/${dc.SCSIid}`;
  },
};

/** TypeScript gives each JSON row the other rows' configuration keys as optional undefined; keep the present ones. */
function presentKeys(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
}

export const SM_DRIVERS: SmDriver[] = driverTable.map(({ backendSizeGiB, configuration, ...data }) => {
  const check = DEVICE_CONFIG_CHECKS[data.type];
  if (!check) throw new Error(`sm-drivers.json: no device_config check for SR type ${data.type}`);
  return { ...data, configuration: presentKeys(configuration), backendSize: backendSizeGiB * GiB, check };
});

export const DRIVERS = new Map(SM_DRIVERS.map((d) => [d.type, d]));

/** VHD size rounding and bounds (sm `vhdutil.validate_and_round_vhd_size`). */
export const VHD_MAX = 2040 * GiB;
export function roundVdiSize(d: SmDriver | undefined, size: number): number {
  if (!d || !d.vhd) return size;
  if (size < 0 || size > VHD_MAX) throw smError(79, "VDI Invalid size", "VDI size must be between 1 MB and 2088960 MB");
  const unit = 2 * MiB;
  return Math.max(unit, Math.ceil(size / unit) * unit);
}
