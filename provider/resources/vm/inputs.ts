// The Vm resource's inputs and outputs: the zod schemas (the single source of truth for the sdk class and
// schema.json) and the checked forms the other vm/*.ts files work on.
import { z } from "zod";
import { common, stringMap, tags, uuid } from "../common/schema-parts";
import { sizeHelp } from "../common/sizes";

const size = z.union([z.number(), z.string()]);
const nonNegativeInt = z.number().int().min(0);

export const firmwares = ["bios", "uefi", "uefi-secureboot"] as const;
export const powerStates = ["Running", "Halted", "Paused", "Suspended"] as const;
export const lockingModes = ["network_default", "locked", "unlocked", "disabled"] as const;
export const haPriorities = ["restart", "best-effort", ""] as const;

const newOrTemplateDisk = z
  .object({
    size: size.optional().describe(`size: ${sizeHelp}; required for a new disk, grows a template disk`),
    sr: uuid.optional().describe("SR of a new disk (default: the VM's sr, else the pool's default SR)"),
    name: z.string().min(1).optional().describe("name_label of the disk"),
    bootable: z.boolean().optional().describe("the VBD's bootable flag"),
    mode: z.enum(["RW", "RO"]).optional().describe("read-write or read-only"),
  })
  .strict();

const attachedDisk = z
  .object({
    vdi: uuid.describe("UUID of an existing VDI (a Vdi resource's uuid): attached, never destroyed with the VM"),
    bootable: z.boolean().optional().describe("the VBD's bootable flag"),
    mode: z.enum(["RW", "RO"]).optional().describe("read-write or read-only"),
  })
  .strict();

const nic = z
  .object({
    network: uuid.describe("UUID of the network"),
    mac: z.string().optional().describe("MAC address (kept fixed); generated when absent, then stable"),
    mtu: z.number().int().min(68).max(9216).optional().describe("MTU of the interface (default: the network's)"),
    lockingMode: z.enum(lockingModes).optional().describe("VIF locking mode"),
    ipv4Allowed: z.array(z.string()).optional().describe("IPv4 addresses the VIF may use (locking mode locked)"),
    ipv6Allowed: z.array(z.string()).optional().describe("IPv6 addresses the VIF may use (locking mode locked)"),
  })
  .strict();

const memoryRange = z
  .object({
    staticMin: size.optional().describe("memory_static_min (default: the template's)"),
    dynamicMin: size.describe("memory_dynamic_min"),
    dynamicMax: size.describe("memory_dynamic_max"),
    staticMax: size.describe("memory_static_max"),
  })
  .strict();

export const inputSchema = z
  .object({
    ...common,
    adopt: uuid.optional().describe("UUID of an existing VM to take over instead of creating one"),
    name: z.string().min(1).describe("name_label"),
    description: z.string().default("").describe("name_description"),
    template: z.string().min(1).optional().describe("template to clone, by name or UUID (required unless adopt)"),
    cloneType: z
      .enum(["fast", "full"])
      .default("fast")
      .describe("fast: VM.clone (copy-on-write); full: VM.copy of the template's disks onto sr"),
    sr: uuid.optional().describe("SR for the template's disks (default: the pool's default SR)"),
    tags: tags.default([]).describe("tags owned by this program (others are left alone)"),
    otherConfig: stringMap.default({}).describe("other_config keys owned by this program"),
    xenstoreData: stringMap.default({}).describe("xenstore_data keys owned by this program"),
    platform: stringMap.default({}).describe("platform keys owned by this program (applied when halted)"),
    affinityHost: uuid.optional().describe("UUID of the host the VM prefers to start on"),
    blockedOperations: stringMap.default({}).describe("operations to block, with the reason shown (owned keys)"),
    haRestartPriority: z.enum(haPriorities).optional().describe("HA restart priority"),
    startDelay: nonNegativeInt.optional().describe("seconds to wait after starting this VM in an ordered start"),
    shutdownDelay: nonNegativeInt.optional().describe("seconds to wait after shutting this VM down in an ordered stop"),
    vcpus: z.number().int().min(1).optional().describe("vCPUs at start (default: the template's)"),
    vcpusMax: z.number().int().min(1).optional().describe("maximum vCPUs: headroom for hot-add (default: vcpus)"),
    coresPerSocket: z.number().int().min(1).optional().describe("cores per socket; must divide vcpusMax"),
    memory: z
      .union([size, memoryRange])
      .optional()
      .describe(
        'memory: one size (bytes, or a string such as "4GiB") or { staticMin?, dynamicMin, dynamicMax, staticMax }',
      ),
    disks: z
      .array(z.union([attachedDisk, newOrTemplateDisk]))
      .default([])
      .describe("disks in device order: the template's disks first (by position), then new or attached disks"),
    networkInterfaces: z.array(nic).default([]).describe("network interfaces in device order"),
    cdrom: z.string().optional().describe('ISO in the CD drive, by name or UUID; "" for an empty drive'),
    boot: z
      .object({
        firmware: z.enum(firmwares).describe("bios, uefi or uefi-secureboot"),
        order: z
          .string()
          .regex(/^[cdn]{1,3}$/, { message: 'must be letters of "c" (disk), "d" (CD), "n" (network), e.g. "cdn"' })
          .optional()
          .describe('boot order, e.g. "cd" (c disk, d CD, n network)'),
      })
      .strict()
      .optional()
      .describe("firmware and boot order; Secure Boot is never changed unless stated"),
    cloudInit: z
      .object({
        userData: z.string().describe("cloud-init user-data (may be a secret)"),
        metaData: z.string().optional().describe("meta-data (default: instance-id and local-hostname from name)"),
        networkConfig: z.string().optional().describe("network-config (version 1 or 2)"),
        detachAfterBoot: z.boolean().default(false).describe("remove the config drive once the guest has booted"),
        changes: z
          .enum(["replace", "ignore"])
          .default("replace")
          .describe("a changed cloud-init replaces the VM (replace) or is ignored (ignore)"),
      })
      .strict()
      .optional()
      .describe("NoCloud config drive (ISO9660 labelled cidata) attached as a disk"),
    powerState: z.enum(powerStates).default("Running").describe("desired power state"),
    waitForIp: z
      .object({
        timeout: z.number().int().min(1).default(300).describe("seconds to wait for an address"),
        cidr: z.string().optional().describe("wait for an address inside this CIDR, e.g. 10.0.0.0/8"),
        interface: z.number().int().min(0).optional().describe("wait on this interface's device number"),
      })
      .strict()
      .optional()
      .describe("after the VM starts, wait until the guest agent reports an address (event.from, no polling)"),
    updatePolicy: z
      .enum(["restart", "fail"])
      .default("restart")
      .describe("changes that need a halted VM: restart it (restart) or refuse the update (fail)"),
    shutdownTimeout: z
      .number()
      .int()
      .min(1)
      .default(120)
      .describe("seconds a clean shutdown may take before a hard one"),
    keepDisksOnDelete: z.boolean().default(false).describe("keep every disk when the VM is deleted"),
  })
  .strict();

export type Parsed = z.infer<typeof inputSchema>;

export interface MemoryBytes {
  staticMin?: number;
  dynamicMin: number;
  dynamicMax: number;
  staticMax: number;
}

export interface DiskInput {
  size?: number;
  sr?: string;
  name?: string;
  bootable?: boolean;
  mode?: "RW" | "RO";
  vdi?: string;
}

export type NicInput = z.infer<typeof nic>;

/** Inputs after check: sizes in bytes, MACs lower-case, a digest of the cloud-init drive's content. */
export type Inputs = Omit<Parsed, "memory" | "disks"> & {
  memory?: MemoryBytes;
  disks: DiskInput[];
  /** sha256 of the cloud-init drive's files: a changed cloud-init is seen without keeping the text twice. */
  cloudInitHash?: string;
};

const diskOut = z.object({
  device: z.string().describe("userdevice"),
  vdiUuid: z.string().describe("UUID of the VDI"),
  virtualSize: z.number().describe("virtual size in bytes"),
  owned: z.boolean().describe("destroyed with the VM (false for attached Vdi resources)"),
  fromTemplate: z.boolean().describe("one of the template's disks (kept when the program lists fewer disks)"),
});
const nicOut = z.object({
  device: z.string().describe("device number"),
  mac: z.string().describe("MAC address"),
  network: z.string().describe("UUID of the network"),
  ipAddresses: z.array(z.string()).describe("addresses the guest agent reports on this interface"),
});

export const outputSchema = z.object({
  uuid: z.string().describe("UUID of the VM (the resource id)"),
  poolUuid: z.string().describe("UUID of the pool the VM is in"),
  residentOn: z.string().nullable().describe("UUID of the host the VM runs on (null when halted)"),
  residentOnName: z.string().nullable().describe("name of the host the VM runs on"),
  ipAddresses: z.array(z.string()).describe("every address the guest agent reports"),
  networkInterfaces: z
    .array(nicOut)
    .describe("per network interface, with its input fields: device, MAC, network, addresses"),
  disks: z.array(diskOut).describe("per disk in device order, with its input fields: device, VDI UUID, size"),
  cloudInitVdi: z.string().nullable().describe("UUID of the cloud-init config drive's VDI (null once detached)"),
  cdromVdi: z.string().nullable().describe("UUID of the ISO in the CD drive (null when empty or none)"),
  consoleUrl: z.string().nullable().describe("the VM's RFB console location, while it runs"),
  secureBootReadiness: z.string().nullable().describe("VM.get_secureboot_readiness, where the pool has it"),
});

export type DiskOutput = DiskInput & z.infer<typeof diskOut>;
export type NicOutput = NicInput & z.infer<typeof nicOut>;

export type Outputs = Omit<Inputs, "disks" | "networkInterfaces"> &
  Omit<z.infer<typeof outputSchema>, "disks" | "networkInterfaces"> & {
    disks: DiskOutput[];
    networkInterfaces: NicOutput[];
  };
