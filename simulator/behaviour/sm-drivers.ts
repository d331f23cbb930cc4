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

/** The device_config check of each driver's `load`, by SR type; the rest of a driver is data (../data/sm-drivers.json). */
const DEVICE_CONFIG_CHECKS: Record<string, (dc: Record<string, string>) => string> = {
  lvm: devicePath,
  ext: devicePath,
  nfs(dc) {
    if (!dc.server) throw smError(102, "The request is missing the server parameter");
    if (!dc.serverpath) throw smError(101, "The request is missing the serverpath parameter");
    if (!dc.serverpath.startsWith("/")) throw smError(103, "The serverpath argument is not valid");
    if (dc.nfsversion && !["3", "4", "4.0", "4.1"].includes(dc.nfsversion))
      throw smError(72, "Required NFS server version unsupported");
    return `${dc.server}:${dc.serverpath}`;
  },
  smb(dc) {
    if (!dc.server) throw smError(102, "The request is missing the server parameter");
    if (!/^(\/\/|\\\\)[^/\\]+[/\\].+/.test(dc.server))
      throw smError(111, "SMB mount error", "mount failed: invalid share path");
    return dc.server.replace(/\\/g, "/");
  },
  iso(dc) {
    if (!dc.location) throw smError(94, "The request is missing the location parameter");
    if (dc.legacy_mode === "true") return dc.location;
    const loc = dc.location;
    const isCifs = dc.type === "cifs" || loc.startsWith("//") || loc.startsWith("\\\\");
    if (isCifs ? !/^(\/\/|\\\\)[^/\\]+[/\\].+/.test(loc) : !/^[^:/]+:\/.*/.test(loc)) {
      throw smError(
        225,
        "Incorrect Location string format. String must be in the format SERVER:PATH for NFS targets, or \\\\SERVER\\PATH for CIFS targets",
      );
    }
    return loc;
  },
  lvmoiscsi(dc) {
    if (!dc.target) throw smError(95, "The request is missing the target parameter");
    if (!dc.targetIQN) throw smError(96, "The request is missing or has an incorrect target IQN parameter");
    if (!dc.SCSIid)
      throw smError(
        107,
        "The SCSIid parameter is missing or incorrect",
        undefined,
        `<?xml version="1.0" ?><iscsi-target><LUN><vendor>SIM</vendor><serial></serial><LUNid>0</LUNid>` +
          `<size>${1024 * GiB}</size><SCSIid>36001405sim0000000000000000000001</SCSIid></LUN></iscsi-target>`,
      );
    if (dc.port && !/^[0-9]+$/.test(dc.port)) throw smError(141, "Unable to connect to ISCSI service on target");
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
