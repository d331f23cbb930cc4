/**
 * The storage drivers the simulator knows, after xapi-project/sm `libs/sm/drivers/*.py`
 * (CAPABILITIES, CONFIGURATION, the device-config checks in `load`) and `XE_SR_ERRORCODES.xml`.
 */
import { XapiError } from "../engine/errors";
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

const LVHD_CAPS = [
  "SR_PROBE",
  "SR_UPDATE",
  "SR_TRIM",
  "VDI_CREATE",
  "VDI_DELETE",
  "VDI_ATTACH",
  "VDI_DETACH",
  "VDI_MIRROR",
  "VDI_CLONE",
  "VDI_SNAPSHOT",
  "VDI_RESIZE",
  "ATOMIC_PAUSE",
  "VDI_RESET_ON_BOOT/2",
  "VDI_UPDATE",
  "VDI_CONFIG_CBT",
  "VDI_ACTIVATE",
  "VDI_DEACTIVATE",
];
const FILE_CAPS = [
  "SR_PROBE",
  "SR_UPDATE",
  "SR_CACHING",
  "VDI_CREATE",
  "VDI_DELETE",
  "VDI_ATTACH",
  "VDI_DETACH",
  "VDI_UPDATE",
  "VDI_CLONE",
  "VDI_SNAPSHOT",
  "VDI_RESIZE",
  "VDI_GENERATE_CONFIG",
  "VDI_MIRROR",
  "VDI_RESET_ON_BOOT/2",
  "ATOMIC_PAUSE",
  "VDI_CONFIG_CBT",
  "VDI_ACTIVATE",
  "VDI_DEACTIVATE",
  "THIN_PROVISIONING",
  "VDI_READ_CACHING",
];

function devicePath(dc: Record<string, string>): string {
  if (!dc.device) throw smError(90, "The request is missing the device parameter");
  for (const dev of dc.device.split(",")) {
    if (!/^\/[A-Za-z0-9_\-./:]*$/.test(dev)) throw smError(91, "The device is not a valid path", `path is ${dev}`);
  }
  return dc.device;
}

export const SM_DRIVERS: SmDriver[] = [
  {
    type: "lvm",
    name: "Local VHD on LVM",
    description:
      "SR plugin which represents disks as VHD disks on Logical Volumes within a locally-attached Volume Group",
    driver: "LVMSR",
    configuration: { device: "local device path (required) (e.g. /dev/sda3)" },
    capabilities: LVHD_CAPS,
    vhd: true,
    thick: true,
    backendSize: 500 * GiB,
    check: devicePath,
  },
  {
    type: "ext",
    name: "Local EXT3 VHD",
    description:
      "SR plugin which represents disks as VHD files stored on a local EXT3 filesystem, created inside an LVM volume",
    driver: "EXTSR",
    configuration: { device: "local device path (required) (e.g. /dev/sda3)" },
    capabilities: FILE_CAPS.filter((c) => c !== "SR_CACHING").concat("SR_SUPPORTS_LOCAL_CACHING"),
    vhd: true,
    thick: false,
    backendSize: 500 * GiB,
    check: devicePath,
  },
  {
    type: "nfs",
    name: "NFS VHD",
    description: "SR plugin which stores disks as VHD files on a remote NFS filesystem",
    driver: "NFSSR",
    configuration: {
      server: "hostname or IP address of NFS server (required)",
      serverpath: "path on remote server (required)",
      nfsversion: "for type=nfs, NFS protocol version - 3, 4, 4.0, 4.1 (optional)",
    },
    capabilities: FILE_CAPS,
    vhd: true,
    thick: false,
    backendSize: 2048 * GiB,
    check(dc) {
      if (!dc.server) throw smError(102, "The request is missing the server parameter");
      if (!dc.serverpath) throw smError(101, "The request is missing the serverpath parameter");
      if (!dc.serverpath.startsWith("/")) throw smError(103, "The serverpath argument is not valid");
      if (dc.nfsversion && !["3", "4", "4.0", "4.1"].includes(dc.nfsversion))
        throw smError(72, "Required NFS server version unsupported");
      return `${dc.server}:${dc.serverpath}`;
    },
  },
  {
    type: "smb",
    name: "SMB VHD",
    description: "SR plugin which stores disks as VHD files on a remote SMB filesystem",
    driver: "SMBSR",
    configuration: {
      server: "Full path to share root on SMB server (required)",
      username: "The username to be used during SMB authentication",
      password: "The password to be used during SMB authentication",
    },
    capabilities: FILE_CAPS,
    vhd: true,
    thick: false,
    backendSize: 2048 * GiB,
    check(dc) {
      if (!dc.server) throw smError(102, "The request is missing the server parameter");
      if (!/^(\/\/|\\\\)[^/\\]+[/\\].+/.test(dc.server))
        throw smError(111, "SMB mount error", "mount failed: invalid share path");
      return dc.server.replace(/\\/g, "/");
    },
  },
  {
    type: "iso",
    name: "ISO",
    description: "Handles CD images stored as files in iso format",
    driver: "ISOSR",
    configuration: {
      location: "path to mount (required) (e.g. server:/path)",
      options: "extra options to pass to mount (e.g. '-o ro')",
      type: "cifs (SMB) or nfs_iso",
      nfsversion: "for type=nfs, NFS protocol version - 3, 4, 4.0, 4.1 (optional)",
      vers: "SMB version, default version 3",
      username: "Username to authenticate to SMB share with, can be domain\\username",
      cifspassword_secret: "Secret ID containing the password to authenticate to SMB",
      cifspassword: "Password to authenticate to SMB, (deprecated see cifspassword_secret)",
    },
    capabilities: ["VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "SR_SCAN", "SR_ATTACH", "SR_DETACH"],
    vhd: false,
    thick: false,
    backendSize: 100 * GiB,
    check(dc) {
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
  },
  {
    type: "lvmoiscsi",
    name: "LVHD over iSCSI",
    description: "SR plugin which represents disks as Logical Volumes within a Volume Group created on an iSCSI LUN",
    driver: "LVMoISCSISR",
    configuration: {
      SCSIid: "The scsi_id of the destination LUN",
      target: "IP address or hostname of the iSCSI target",
      targetIQN: "The IQN of the target LUN group to be attached",
      chapuser: "The username to be used during CHAP authentication",
      chappassword: "The password to be used during CHAP authentication",
      port: "The network port number on which to query the target",
      multihomed:
        "Enable multi-homing to this target, true or false (optional, defaults to same value as host.other_config:multipathing)",
    },
    capabilities: [
      "SR_PROBE",
      "SR_UPDATE",
      "SR_METADATA",
      "SR_TRIM",
      "SR_CACHING",
      "VDI_CREATE",
      "VDI_DELETE",
      "VDI_ATTACH",
      "VDI_DETACH",
      "VDI_GENERATE_CONFIG",
      "VDI_CLONE",
      "VDI_SNAPSHOT",
      "VDI_RESIZE",
      "ATOMIC_PAUSE",
      "VDI_RESET_ON_BOOT/2",
      "VDI_UPDATE",
      "VDI_MIRROR",
      "VDI_CONFIG_CBT",
      "VDI_ACTIVATE",
      "VDI_DEACTIVATE",
    ],
    vhd: true,
    thick: true,
    backendSize: 1024 * GiB,
    check(dc) {
      if (!dc.target) throw smError(95, "The request is missing the target parameter");
      if (!dc.targetIQN) throw smError(96, "The request is missing or has an incorrect target IQN parameter");
      if (!dc.SCSIid)
        throw smError(
          107,
          "The SCSIid parameter is missing or incorrect",
          undefined,
          `<?xml version="1.0" ?><iscsi-target><LUN><vendor>SIM</vendor><serial></serial><LUNid>0</LUNid><size>${1024 * GiB}</size><SCSIid>36001405sim0000000000000000000001</SCSIid></LUN></iscsi-target>`,
        );
      if (dc.port && !/^[0-9]+$/.test(dc.port)) throw smError(141, "Unable to connect to ISCSI service on target");
      return `${dc.target}/${dc.targetIQN}/${dc.SCSIid}`;
    },
  },
];

export const DRIVERS = new Map(SM_DRIVERS.map((d) => [d.type, d]));

/** VHD size rounding and bounds (sm `vhdutil.validate_and_round_vhd_size`). */
export const VHD_MAX = 2040 * GiB;
export function roundVdiSize(d: SmDriver | undefined, size: number): number {
  if (!d || !d.vhd) return size;
  if (size < 0 || size > VHD_MAX) throw smError(79, "VDI Invalid size", "VDI size must be between 1 MB and 2088960 MB");
  const unit = 2 * MiB;
  return Math.max(unit, Math.ceil(size / unit) * unit);
}
