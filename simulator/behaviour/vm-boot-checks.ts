/**
 * Whether and where a VM may start (xapi_vm_helpers.assert_can_boot_here, choose_host_for_vm) and the
 * platform VM.start resolves before the domain is built (xapi_vm.start, vm_platform.sanity_check).
 */
import { XapiError } from "../engine/errors";
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";
import { hostAvailableForStart, vmStartMemory } from "./host";
import { deriveDomainType } from "./vm-common";

/** OCaml's string_of_float, as xapi prints floats in error parameters ("0.5", "0."). */
function ocamlFloat(v: number): string {
  return Number.isInteger(v) ? `${v}.` : String(v);
}

/** vm_platform.is_true: "true"/"1" and "false"/"0" in any case; anything else is `fallback`. */
function platformFlag(platform: Record<string, string>, key: string, fallback: boolean): boolean {
  const v = platform[key]?.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return fallback;
}

/**
 * xapi_vm_helpers.validate_basic_parameters: vCPU counts, memory that Vm_memory_constraints.transform can
 * coerce (only static_max < static_min or dynamic_max < dynamic_min cannot be), the shadow multiplier and
 * actions_after_crash.
 */
function basicParameterError(vm: Row): XapiError | undefined {
  const vmax = vm.VCPUs_max as number;
  const vstart = vm.VCPUs_at_startup as number;
  if (vmax < 1) return new XapiError("INVALID_VALUE", ["VCPUs_max", String(vmax)]);
  if (vstart < 1) return new XapiError("INVALID_VALUE", ["VCPUs-at-startup", String(vstart)]);
  if (vstart > vmax)
    return new XapiError("VALUE_NOT_SUPPORTED", ["VCPUs-at-startup", String(vstart), "value greater than VCPUs-max"]);
  const [smin, dmin, dmax, smax] = [
    vm.memory_static_min,
    vm.memory_dynamic_min,
    vm.memory_dynamic_max,
    vm.memory_static_max,
  ] as number[];
  if (smax < smin || dmax < dmin) return new XapiError("MEMORY_CONSTRAINT_VIOLATION", []);
  const shadow = vm.HVM_shadow_multiplier as number;
  if (shadow < 1) return new XapiError("INVALID_VALUE", ["HVM_shadow_multiplier", ocamlFloat(shadow)]);
  const crash = String(vm.actions_after_crash);
  const field = "VM.actions_after_crash";
  if (crash === "rename_restart")
    return new XapiError("VALUE_NOT_SUPPORTED", [
      field,
      crash,
      "option would leak a domain; VMs and not domains are managed by this API",
    ]);
  if ((crash === "coredump_and_destroy" || crash === "coredump_and_restart") && deriveDomainType(vm) !== "pv")
    return new XapiError("VALUE_NOT_SUPPORTED", [
      field,
      crash,
      "cannot invoke a coredump of an HVM, PVH or PV-in-PVH domain",
    ]);
  return undefined;
}

function vmSRs(x: Xapi, vm: Row): string[] {
  const srs = new Set<string>();
  for (const b of vm.VBDs as string[]) {
    const vbd = x.store.get("VBD", b);
    if (!vbd.empty && x.store.has("VDI", vbd.VDI)) srs.add(x.store.get("VDI", vbd.VDI).SR as string);
  }
  return [...srs];
}

/** xapi_vm_helpers.assert_enough_pcpus: VCPUs_max against the host's cpu_info, unless platform:vcpu-unrestricted. */
function pcpuError(x: Xapi, vm: Row, host: Row): XapiError | undefined {
  const vcpus = vm.VCPUs_max as number;
  const pcpus = Number((host.cpu_info as Record<string, string>).cpu_count ?? 0);
  if (vcpus <= pcpus || platformFlag(vm.platform as Record<string, string>, "vcpu-unrestricted", false))
    return undefined;
  return new XapiError("HOST_NOT_ENOUGH_PCPUS", [String(vcpus), String(pcpus)]);
}

/**
 * xapi_vm_helpers.assert_can_boot_here, in its order: parameters, host enabled, storage and networks visible
 * from `host`, then memory (HOST_NOT_ENOUGH_FREE_MEMORY [needed, available] in bytes) and physical CPUs.
 */
export function bootError(x: Xapi, ref: string, host: string, checkMemory: boolean): XapiError | undefined {
  const s = x.store;
  const vm = s.get("VM", ref);
  const bad = basicParameterError(vm);
  if (bad) return bad;
  const h = s.get("host", host);
  if (!h.enabled && !vm.is_control_domain) return new XapiError("HOST_DISABLED", [host]);
  for (const sr of vmSRs(x, vm)) {
    const ok = (s.get("SR", sr).PBDs as string[]).some((p) => {
      const pbd = s.get("PBD", p);
      return pbd.host === host && pbd.currently_attached;
    });
    if (!ok) return new XapiError("VM_REQUIRES_SR", [ref, sr]);
  }
  for (const v of vm.VIFs as string[]) {
    const net = s.get("network", s.get("VIF", v).network);
    const pifs = net.PIFs as string[];
    if (pifs.length > 0 && !pifs.some((p) => s.get("PIF", p).host === host))
      return new XapiError("VM_REQUIRES_NETWORK", [ref, s.get("VIF", v).network as string]);
  }
  if (checkMemory) {
    const need = vmStartMemory(vm);
    const free = hostAvailableForStart(x, host);
    if (need > free) return new XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", [String(need), String(free)]);
  }
  return pcpuError(x, vm, h);
}

/**
 * choose_host_for_vm: the affinity host first, else the host with most memory; every failure on every host
 * is NO_HOSTS_AVAILABLE, except that a host failing only on memory reports its memory error.
 */
export function chooseHost(x: Xapi, ref: string, exclude?: string): string {
  const vm = x.store.get("VM", ref);
  const hosts = [...x.store.table("host").keys()].filter((h) => h !== exclude);
  const affinity = vm.affinity as string;
  const ordered = hosts.includes(affinity)
    ? [affinity, ...hosts.filter((h) => h !== affinity)]
    : hosts.sort((a, b) => hostAvailableForStart(x, b) - hostAvailableForStart(x, a));
  const fit = ordered.find((h) => !bootError(x, ref, h, true));
  if (fit) return fit;
  const withoutMemory = ordered.find((h) => !bootError(x, ref, h, false));
  if (withoutMemory) throw bootError(x, ref, withoutMemory, true)!;
  throw new XapiError("NO_HOSTS_AVAILABLE", []);
}

type Firmware = "bios" | "uefi";

/** xapi_xenops.firmware_of_vm: HVM_boot_params:firmware is bios (the default) or uefi. */
function firmwareOf(vm: Row): Firmware {
  const fw = (vm.HVM_boot_params as Record<string, string>).firmware;
  if (fw === undefined || fw === "bios" || fw === "uefi") return (fw as Firmware) ?? "bios";
  throw new XapiError("INVALID_VALUE", ["HVM-boot-params['firmware']", fw]);
}

/**
 * xapi_vm_helpers.ensure_device_model_profile_present: an HVM guest without platform:device-model gets the
 * firmware's default (qemu-upstream-uefi for UEFI, qemu-upstream-compat for BIOS); qemu-trad is upgraded to it.
 */
function withDeviceModel(platform: Record<string, string>, domainType: string, fw: Firmware): Record<string, string> {
  if (domainType !== "hvm") return platform;
  const model = fw === "uefi" ? "qemu-upstream-uefi" : "qemu-upstream-compat";
  const current = platform["device-model"];
  if (current === undefined || current === "qemu-trad") return { ...platform, "device-model": model };
  return platform;
}

/**
 * xapi_vm.update_platform_secureboot: "auto" becomes "true" when the pool has UEFI certificates
 * (Helpers.get_active_uefi_certificates: pool.uefi_certificates, as custom_uefi_certificates only count when
 * xapi.conf allows custom certificates, which it does not by default), "false" otherwise.
 */
function withSecureboot(x: Xapi, platform: Record<string, string>): Record<string, string> {
  if (platform.secureboot !== "auto") return platform;
  const certs = String(x.store.get("pool", x.poolRef()).uefi_certificates ?? "");
  return { ...platform, secureboot: String(certs !== "") };
}

/** vm_platform.sanity_check: device model against firmware, then cores-per-socket against VCPUs_max. */
function platformError(platform: Record<string, string>, fw: Firmware, vm: Row, domainType: string) {
  const model = platform["device-model"];
  if (model === "qemu-trad" && fw === "uefi")
    return new XapiError("INVALID_VALUE", ["platform:device-model", "UEFI boot is not supported with qemu-trad"]);
  if (model === "qemu-upstream-uefi" && fw === "bios")
    return new XapiError("INVALID_VALUE", [
      "platform:device-model",
      "BIOS boot is not supported with qemu-upstream-uefi",
    ]);
  const cps = platform["cores-per-socket"];
  if (domainType === "pv" || cps === undefined) return undefined;
  // OCaml's int_of_string: decimal (or 0x/0o/0b) integers, optionally signed; anything else is INVALID_VALUE.
  if (!/^[-+]?(\d[\d_]*|0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+)$/.test(cps))
    return new XapiError("INVALID_VALUE", ["platform:cores-per-socket", cps]);
  const n = Number(cps.replace(/_/g, ""));
  const vcpus = vm.VCPUs_max as number;
  if (n < 1 || vcpus % n !== 0) return new XapiError("VCPU_MAX_NOT_CORES_PER_SOCKET_MULTIPLE", [String(vcpus), cps]);
  return undefined;
}

/**
 * What xapi_vm.start does on the chosen host before building the domain: resolve the firmware, write the
 * device model and secureboot into VM.platform, check nested-virt memory and flags, then Xapi_xenops's
 * sanity check (which fails after the platform was written, as in xapi).
 */
export function prepareStart(x: Xapi, ref: string): void {
  const vm = x.store.get("VM", ref);
  const fw = firmwareOf(vm);
  const domainType = deriveDomainType(vm);
  const before = vm.platform as Record<string, string>;
  const platform = withSecureboot(x, withDeviceModel(before, domainType, fw));
  if (platform !== before) x.store.set("VM", ref, "platform", platform);
  // xapi_vm.assert_memory_constraints: nested virtualisation needs memory pinned at static_max.
  const [smin, dmin, dmax, smax] = [
    vm.memory_static_min,
    vm.memory_dynamic_min,
    vm.memory_dynamic_max,
    vm.memory_static_max,
  ] as number[];
  if (platformFlag(platform, "nested-virt", false) && !(smin <= dmin && dmin === dmax && dmax === smax))
    throw new XapiError("MEMORY_CONSTRAINT_VIOLATION_MAXPIN", ["nested virt"]);
  // vm_platform.check_restricted_flags: nested-virt must be booleanish when present.
  const nested = platform["nested-virt"];
  if (nested !== undefined && !["true", "1", "false", "0"].includes(nested.toLowerCase()))
    throw new XapiError("INVALID_VALUE", ["platform:nested-virt", nested]);
  const e = platformError(platform, fw, vm, domainType);
  if (e) throw e;
}
