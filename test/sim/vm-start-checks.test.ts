/**
 * VM.start's checks as xapi makes them (xapi-project/xen-api ocaml/xapi/): xapi_vm_helpers.ml
 * assert_can_boot_here / validate_basic_parameters / assert_enough_pcpus, xapi_vm.ml start /
 * update_platform_secureboot, xapi_xenops.ml firmware_of_vm, vm_platform.ml sanity_check.
 */
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { install, masterHost, templateNamed } from "./helpers/install";
import { Client, expectError, Rec } from "./helpers/rpc";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let sim: Simulator;
let c: Client;
let host: string;
let debian: string; // UEFI, secureboot=auto, no device-model
let other: string; // BIOS, no device-model
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ seed: { hostMemory: 16 * GiB } }));
  host = await masterHost(c);
  debian = await templateNamed(c, "Debian Bookworm 12");
  other = await templateNamed(c, "Other install media");
});
afterAll(() => sim.close());

const platformOf = (vm: string) => c.call<Record<string, string>>("VM.get_platform", vm);

/** A halted VM made by VM.create from a template's record with `patch` (VM.create defers validation to start). */
async function created(name: string, patch: Rec): Promise<string> {
  const rec = await c.call<Rec>("VM.get_record", other);
  return c.call<string>("VM.create", { ...rec, name_label: name, is_a_template: false, other_config: {}, ...patch });
}

describe("firmware and device model (xapi_vm.ml start, xapi_xenops.ml firmware_of_vm)", () => {
  it("refuses HVM_boot_params:firmware other than bios or uefi: INVALID_VALUE [HVM-boot-params['firmware'], value]", async () => {
    const vm = await install(c, other, "bad-firmware");
    await c.call("VM.remove_from_HVM_boot_params", vm, "firmware");
    await c.call("VM.add_to_HVM_boot_params", vm, "firmware", "efi");
    const before = await platformOf(vm);
    await expectError(c.call("VM.start", vm, false, false), "INVALID_VALUE", ["HVM-boot-params['firmware']", "efi"]);
    await expectError(c.call("VM.start_on", vm, host, false, false), "INVALID_VALUE", [
      "HVM-boot-params['firmware']",
      "efi",
    ]);
    // firmware_of_vm raises before xapi_vm.start writes the platform.
    expect(await platformOf(vm)).toEqual(before);
    expect(await c.call("VM.get_power_state", vm)).toBe("Halted");
  });

  it("gives a UEFI guest qemu-upstream-uefi and a BIOS guest qemu-upstream-compat (xapi_vm_helpers.ml ensure_device_model_profile_present)", async () => {
    const uefi = await install(c, debian, "uefi-guest");
    const bios = await install(c, other, "bios-guest");
    expect((await platformOf(uefi))["device-model"]).toBeUndefined();
    await c.call("VM.start", uefi, false, false);
    await c.call("VM.start", bios, false, false);
    expect((await platformOf(uefi))["device-model"]).toBe("qemu-upstream-uefi");
    expect((await platformOf(bios))["device-model"]).toBe("qemu-upstream-compat");
    await c.call("VM.hard_shutdown", uefi);
    await c.call("VM.hard_shutdown", bios);
  });

  it("upgrades platform:device-model=qemu-trad to the firmware's default and keeps any other model", async () => {
    const trad = await install(c, debian, "trad-guest");
    await c.call("VM.add_to_platform", trad, "device-model", "qemu-trad");
    await c.call("VM.start", trad, false, false);
    expect((await platformOf(trad))["device-model"]).toBe("qemu-upstream-uefi");
    await c.call("VM.hard_shutdown", trad);
    const compat = await install(c, debian, "compat-uefi-guest");
    await c.call("VM.add_to_platform", compat, "device-model", "qemu-upstream-compat");
    await c.call("VM.start", compat, false, false);
    expect((await platformOf(compat))["device-model"]).toBe("qemu-upstream-compat");
    await c.call("VM.hard_shutdown", compat);
  });

  it("refuses a BIOS guest on qemu-upstream-uefi (vm_platform.ml sanity_check)", async () => {
    const vm = await install(c, other, "bios-on-uefi-model");
    await c.call("VM.add_to_platform", vm, "device-model", "qemu-upstream-uefi");
    await expectError(c.call("VM.start", vm, false, false), "INVALID_VALUE", [
      "platform:device-model",
      "BIOS boot is not supported with qemu-upstream-uefi",
    ]);
  });

  it("leaves PV guests without a device model", async () => {
    const [pvTemplate] = await c.call<string[]>("VM.get_by_name_label", "CentOS 6 (64-bit)");
    const vm = await install(c, pvTemplate, "pv-in-pvh-guest");
    await c.call("VM.start", vm, false, false);
    expect((await platformOf(vm))["device-model"]).toBeUndefined();
    await c.call("VM.hard_shutdown", vm);
  });
});

describe("secureboot=auto (xapi_vm.ml update_platform_secureboot, helpers.ml get_active_uefi_certificates)", () => {
  it("becomes false when the pool has no UEFI certificates and true when it has, written into VM.platform", async () => {
    const [pool] = await c.call<string[]>("pool.get_all");
    expect(await c.call("pool.get_uefi_certificates", pool)).toBe("");
    const without = await install(c, debian, "sb-without-certs");
    expect((await platformOf(without)).secureboot).toBe("auto");
    await c.call("VM.start", without, false, false);
    expect((await platformOf(without)).secureboot).toBe("false");
    await c.call("VM.hard_shutdown", without);
    // Certificates come with the host's install (XenServer ships them; XCP-ng after secureboot-certs install).
    sim.store.set("pool", pool, "uefi_certificates", "UEsDBBQAAAAIAA==");
    try {
      const withCerts = await install(c, debian, "sb-with-certs");
      await c.call("VM.start", withCerts, false, false);
      expect((await platformOf(withCerts)).secureboot).toBe("true");
      await c.call("VM.hard_shutdown", withCerts);
      // Once resolved the value stays: the next start sees "false"/"true", not "auto".
      await c.call("VM.start", without, false, false);
      expect((await platformOf(without)).secureboot).toBe("false");
      await c.call("VM.hard_shutdown", without);
    } finally {
      sim.store.set("pool", pool, "uefi_certificates", "");
    }
  });

  it("ignores custom_uefi_certificates, which xapi only honours with allow-custom-uefi-certs (off by default)", async () => {
    const [pool] = await c.call<string[]>("pool.get_all");
    await expectError(c.call("pool.set_custom_uefi_certificates", pool, "abc"), "OPERATION_NOT_ALLOWED", [
      "Setting UEFI certificates is not possible when allow_custom_uefi_certs is false",
    ]);
    await expectError(c.call("pool.set_uefi_certificates", pool, "abc"), "OPERATION_NOT_ALLOWED", [
      "Setting UEFI certificates is deprecated, please use `set_custom_uefi_certificates`",
    ]);
    sim.store.set("pool", pool, "custom_uefi_certificates", "Y3VzdG9t");
    try {
      const vm = await install(c, debian, "sb-custom-only");
      await c.call("VM.start", vm, false, false);
      expect((await platformOf(vm)).secureboot).toBe("false");
      await c.call("VM.hard_shutdown", vm);
    } finally {
      sim.store.set("pool", pool, "custom_uefi_certificates", "");
    }
  });
});

describe("vCPUs (vm_platform.ml sanity_check, xapi_vm_helpers.ml assert_enough_pcpus)", () => {
  it("refuses cores-per-socket that does not divide VCPUs_max: VCPU_MAX_NOT_CORES_PER_SOCKET_MULTIPLE [vcpus, cps]", async () => {
    const vm = await install(c, debian, "cps");
    await c.call("VM.set_VCPUs_max", vm, 3);
    await c.call("VM.add_to_platform", vm, "cores-per-socket", "2");
    await expectError(c.call("VM.start", vm, false, false), "VCPU_MAX_NOT_CORES_PER_SOCKET_MULTIPLE", ["3", "2"]);
    // The sanity check runs after xapi_vm.start wrote the resolved platform.
    expect((await platformOf(vm))["device-model"]).toBe("qemu-upstream-uefi");
    await c.call("VM.remove_from_platform", vm, "cores-per-socket");
    await c.call("VM.add_to_platform", vm, "cores-per-socket", "0");
    await expectError(c.call("VM.start", vm, false, false), "VCPU_MAX_NOT_CORES_PER_SOCKET_MULTIPLE", ["3", "0"]);
    await c.call("VM.remove_from_platform", vm, "cores-per-socket");
    await c.call("VM.add_to_platform", vm, "cores-per-socket", "two");
    await expectError(c.call("VM.start", vm, false, false), "INVALID_VALUE", ["platform:cores-per-socket", "two"]);
    await c.call("VM.remove_from_platform", vm, "cores-per-socket");
    await c.call("VM.add_to_platform", vm, "cores-per-socket", "3");
    await c.call("VM.start", vm, false, false);
    expect(await c.call("VM.get_power_state", vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
  });

  it("refuses more vCPUs than the host has pCPUs: HOST_NOT_ENOUGH_PCPUS [vcpus, pcpus] unless platform:vcpu-unrestricted", async () => {
    const vm = await install(c, other, "many-vcpus");
    await c.call("VM.set_VCPUs_max", vm, 16);
    const pcpus = (await c.call<Record<string, string>>("host.get_cpu_info", host)).cpu_count;
    expect(pcpus).toBe("8");
    await expectError(c.call("VM.start_on", vm, host, false, false), "HOST_NOT_ENOUGH_PCPUS", ["16", "8"]);
    await expectError(c.call("VM.assert_can_boot_here", vm, host), "HOST_NOT_ENOUGH_PCPUS", ["16", "8"]);
    // VM.start asks every host through vm_can_run_on_host, which turns any refusal into "no".
    await expectError(c.call("VM.start", vm, false, false), "NO_HOSTS_AVAILABLE", []);
    await c.call("VM.add_to_platform", vm, "vcpu-unrestricted", "true");
    await c.call("VM.start", vm, false, false);
    await c.call("VM.hard_shutdown", vm);
  });
});

describe("memory (xapi_vm_helpers.ml validate_memory, assert_enough_memory_available; vm_memory_constraints.ml transform)", () => {
  it("starts a VM whose limits are out of order but coercible (dynamic range outside the static range)", async () => {
    const vm = await created("coercible", {
      memory_static_min: 512 * MiB,
      memory_dynamic_min: 256 * MiB,
      memory_dynamic_max: 2 * GiB,
      memory_static_max: GiB,
    });
    await c.call("VM.start_on", vm, host, false, false);
    expect(await c.call("VM.get_power_state", vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
  });

  it("refuses only limits that cannot be coerced: MEMORY_CONSTRAINT_VIOLATION with no parameters", async () => {
    const dyn = await created("dynamic-inverted", {
      memory_static_min: 256 * MiB,
      memory_dynamic_min: GiB,
      memory_dynamic_max: 512 * MiB,
      memory_static_max: GiB,
    });
    await expectError(c.call("VM.start_on", dyn, host, false, false), "MEMORY_CONSTRAINT_VIOLATION", []);
    const stat = await created("static-inverted", {
      memory_static_min: 2 * GiB,
      memory_dynamic_min: GiB,
      memory_dynamic_max: GiB,
      memory_static_max: GiB,
    });
    await expectError(c.call("VM.start_on", stat, host, false, false), "MEMORY_CONSTRAINT_VIOLATION", []);
    await expectError(c.call("VM.start", stat, false, false), "NO_HOSTS_AVAILABLE", []);
  });

  it("reports HOST_NOT_ENOUGH_FREE_MEMORY [needed, available] in bytes: dynamic_min in whole MiB plus overhead", async () => {
    const vm = await install(c, other, "too-big");
    const dmin = 20 * GiB + 1; // rounds up to the next MiB, as Memory.mib_of_kib_used does
    await c.call("VM.set_memory_limits", vm, 512 * MiB, 24 * GiB, dmin, 24 * GiB);
    const overhead = await c.call<number>("VM.compute_memory_overhead", vm);
    const free = await c.call<number>("host.compute_free_memory", host);
    await expectError(c.call("VM.start_on", vm, host, false, false), "HOST_NOT_ENOUGH_FREE_MEMORY", [
      String(20 * GiB + MiB + overhead),
      String(free),
    ]);
  });

  it("refuses HVM_shadow_multiplier below 1: INVALID_VALUE [HVM_shadow_multiplier, OCaml float]", async () => {
    const vm = await created("shadow", { HVM_shadow_multiplier: 0.5 });
    await expectError(c.call("VM.start_on", vm, host, false, false), "INVALID_VALUE", ["HVM_shadow_multiplier", "0.5"]);
  });

  it(
    "refuses nested-virt unless memory is pinned at static_max: MEMORY_CONSTRAINT_VIOLATION_MAXPIN " +
      "[nested virt] (xapi_vm.ml assert_memory_constraints)",
    async () => {
      const vm = await install(c, other, "nested");
      await c.call("VM.set_memory_limits", vm, 256 * MiB, GiB, 512 * MiB, GiB);
      await c.call("VM.add_to_platform", vm, "nested-virt", "true");
      await expectError(c.call("VM.start", vm, false, false), "MEMORY_CONSTRAINT_VIOLATION_MAXPIN", ["nested virt"]);
      await c.call("VM.set_memory_limits", vm, 256 * MiB, GiB, GiB, GiB);
      await c.call("VM.remove_from_platform", vm, "nested-virt");
      await c.call("VM.add_to_platform", vm, "nested-virt", "maybe");
      await expectError(c.call("VM.start", vm, false, false), "INVALID_VALUE", ["platform:nested-virt", "maybe"]);
    },
  );
});
