// What xapi refuses to change on a live VM, so that preview says "needs a restart" instead of up failing. The
// rules are xapi's: xapi_vbd_helpers.ml / xapi_vif_helpers.ml valid_operations (plug, unplug), xapi_vbd.ml plug
// (CA-83260), xapi_vm_lifecycle.ml check_op_for_feature and allowed_power_states (changing_VCPUs_live needs
// Running; changing_dynamic_range needs Halted or Running), xapi_pv_driver_version.ml.
import type { Change } from "./classify";
import type { Inputs } from "./inputs";

/** The kinds of live change a guest may not take. */
export type Ability = "disks" | "nics" | "vcpus" | "memory" | "readOnlyDisk" | "cdDrive";

/** Why each kind of live change would be refused, by kind; a kind absent here is allowed. */
export type Refusals = Partial<Record<Ability, string>>;

interface VmFacts {
  power_state: string;
  /** Absent before xapi 7.5: HVM_boot_policy tells then. */
  domain_type?: string;
  HVM_boot_policy?: string;
}

interface GuestFacts {
  PV_drivers_detected?: boolean;
  PV_drivers_version?: Record<string, string>;
  can_use_hotplug_vbd?: string;
  can_use_hotplug_vif?: string;
  other?: Record<string, string>;
}

/** xapi_pv_driver_version.ml: a version is known when its parts parse as integers; Unknown is "no drivers". */
function driversKnown(gm: GuestFacts | undefined): boolean {
  const v = gm?.PV_drivers_version;
  if (!v) return false;
  const int = (s: string | undefined) => s !== undefined && /^[-+]?\d+$/.test(s);
  return (
    int(v.major) && int(v.minor) && (v.micro === undefined || int(v.micro)) && (v.build === undefined || int(v.build))
  );
}

function isHvm(vm: VmFacts): boolean {
  if (vm.domain_type && vm.domain_type !== "unspecified") return vm.domain_type === "hvm";
  return !!vm.HVM_boot_policy;
}

/**
 * The live changes xapi would refuse on this VM now. `gm` is its VM_guest_metrics record (undefined when the
 * agent has not reported); `hasCdDrive`: whether it has a CD drive (an HVM guest's cannot be hot-plugged).
 */
export function hotplugRefusals(vm: VmFacts, gm: GuestFacts | undefined, hasCdDrive: boolean): Refusals {
  if (vm.power_state === "Halted") return {};
  if (vm.power_state !== "Running") {
    const why = `the VM is ${vm.power_state.toLowerCase()}: xapi plugs devices and changes vCPUs and memory of a running VM only`;
    return { disks: why, nics: why, vcpus: why, memory: why, readOnlyDisk: why, cdDrive: why };
  }
  if (!isHvm(vm)) return {};
  const out: Refusals = {};
  const devices = (kind: "vbd" | "vif", what: string): string | undefined => {
    const claim = gm?.[kind === "vbd" ? "can_use_hotplug_vbd" : "can_use_hotplug_vif"];
    if (claim === "yes") return undefined;
    if (claim === "no") return `the guest says it cannot hot-plug ${what} (can_use_hotplug_${kind} no)`;
    if (gm?.PV_drivers_detected || driversKnown(gm)) return undefined;
    return `the guest has no PV drivers${gm ? "" : " (its agent has not reported)"}, and xapi hot-plugs ${what} only with them (VM_MISSING_PV_DRIVERS)`;
  };
  const disks = devices("vbd", "disks");
  if (disks) out.disks = disks;
  const nics = devices("vif", "network interfaces");
  if (nics) out.nics = nics;
  if (!driversKnown(gm) && gm?.other?.["feature-vcpu-hotplug"] !== "1")
    out.vcpus = `the guest has no PV drivers and does not advertise feature-vcpu-hotplug, so xapi refuses a live vCPU change (VM_LACKS_FEATURE)`;
  out.readOnlyDisk = "xapi plugs an HVM guest's disks read-write only (DISK_VBD_MUST_BE_READWRITE_FOR_HVM)";
  if (!hasCdDrive) out.cdDrive = "the VM has no CD drive, and xapi does not hot-plug an HVM guest's CD drive";
  return out;
}

/** The kinds of live change a hot change makes (none for names, maps, tags, growing a disk…). */
export function abilitiesOf(c: Change, n: Inputs): Ability[] {
  if (c.kind !== "hot") return [];
  const f = c.field;
  if (f === "vcpus") return ["vcpus"];
  if (f === "memory.dynamicMin" || f === "memory.dynamicMax") return ["memory"];
  if (f === "cdrom") return n.cdrom ? ["cdDrive"] : []; // ejecting needs no drive plugged
  if (f === "disks" || f === "networkInterfaces") return [f === "disks" ? "disks" : "nics"];
  const disk = /^disks\[(\d+)\] \((added|removed|another disk)\)$/.exec(f);
  if (disk)
    return disk[2] !== "removed" && n.disks?.[Number(disk[1])]?.mode === "RO" ? ["disks", "readOnlyDisk"] : ["disks"];
  // A NIC added or removed is plugged or unplugged; a new MAC or MTU means a new VIF (devices.ts applyNics).
  if (/^networkInterfaces\[\d+\](?: \((added|removed)\)|\.mac|\.mtu)$/.test(f)) return ["nics"];
  return [];
}

/** Whether any change depends on what the live guest allows (then a live look is worth its calls). */
export function dependsOnGuest(changes: Change[], n: Inputs): boolean {
  return changes.some((c) => abilitiesOf(c, n).length > 0);
}

/** The changes with each hot one the guest would refuse made cold, with xapi's reason. */
export function withRefusals(changes: Change[], n: Inputs, refusals: Refusals): Change[] {
  return changes.map((c) => {
    const refused = abilitiesOf(c, n).find((a) => refusals[a] !== undefined);
    return refused ? { ...c, kind: "cold", reason: refusals[refused] } : c;
  });
}
