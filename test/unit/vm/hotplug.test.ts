// The live changes xapi refuses, as hotplug.ts predicts them for preview: xapi_vbd_helpers.ml and
// xapi_vif_helpers.ml valid_operations (can_use_hotplug_*, PV_drivers_detected, a known PV driver version),
// xapi_vbd.ml plug (read-only disks of HVM guests), xapi_vm_lifecycle.ml check_op_for_feature and
// allowed_power_states, xapi_pv_driver_version.ml. The simulator applies the same rules (test/sim/vm-hotplug.test.ts).
import { abilitiesOf, hotplugRefusals, withRefusals } from "../../../provider/resources/vm/hotplug";
import type { Inputs } from "../../../provider/resources/vm/inputs";

const hvm = { power_state: "Running", domain_type: "hvm" };
const drivers = { PV_drivers_version: { major: "9", minor: "4", micro: "0", build: "0" } };

describe("hotplugRefusals", () => {
  it("refuses nothing on a halted VM or on a running PV guest", () => {
    expect(hotplugRefusals({ ...hvm, power_state: "Halted" }, undefined, false)).toEqual({});
    expect(hotplugRefusals({ power_state: "Running", domain_type: "pv" }, undefined, false)).toEqual({});
  });

  it("an HVM guest whose agent has not reported: no disk, NIC or vCPU hot-plug, no read-only disk, no CD drive", () => {
    const r = hotplugRefusals(hvm, undefined, false);
    expect(Object.keys(r).sort()).toEqual(["cdDrive", "disks", "nics", "readOnlyDisk", "vcpus"]);
    expect(r.disks).toMatch(/no PV drivers \(its agent has not reported\).*VM_MISSING_PV_DRIVERS/);
    expect(r.vcpus).toMatch(/VM_LACKS_FEATURE/);
  });

  it("known PV drivers allow disks, NICs and vCPUs; a read-only disk is still refused; a CD drive only when there is one", () => {
    expect(Object.keys(hotplugRefusals(hvm, drivers, true))).toEqual(["readOnlyDisk"]);
    expect(Object.keys(hotplugRefusals(hvm, drivers, false)).sort()).toEqual(["cdDrive", "readOnlyDisk"]);
  });

  it("the guest's own claims come first: can_use_hotplug_vbd no refuses disks, yes allows NICs without drivers", () => {
    const r = hotplugRefusals(hvm, { can_use_hotplug_vbd: "no", can_use_hotplug_vif: "yes" }, true);
    expect(r.disks).toBe("the guest says it cannot hot-plug disks (can_use_hotplug_vbd no)");
    expect(r.nics).toBeUndefined();
  });

  it("PV_drivers_detected allows devices; vCPUs need a known driver version or feature-vcpu-hotplug", () => {
    const detected = { PV_drivers_detected: true, PV_drivers_version: { major: "x", minor: "y" } };
    expect(Object.keys(hotplugRefusals(hvm, detected, true)).sort()).toEqual(["readOnlyDisk", "vcpus"]);
    const advertised = { ...detected, other: { "feature-vcpu-hotplug": "1" } };
    expect(hotplugRefusals(hvm, advertised, true).vcpus).toBeUndefined();
  });

  it("a paused or suspended VM takes no device, vCPU or memory change live", () => {
    for (const power_state of ["Paused", "Suspended"]) {
      const r = hotplugRefusals({ ...hvm, power_state }, drivers, true);
      expect(Object.keys(r).sort()).toEqual(["cdDrive", "disks", "memory", "nics", "readOnlyDisk", "vcpus"]);
      expect(r.vcpus).toMatch(new RegExp(`the VM is ${power_state.toLowerCase()}`));
    }
  });

  it("before xapi 7.5 (no domain_type), HVM_boot_policy tells an HVM guest", () => {
    expect(
      hotplugRefusals({ power_state: "Running", HVM_boot_policy: "BIOS order" }, undefined, true).disks,
    ).toBeDefined();
    expect(hotplugRefusals({ power_state: "Running", HVM_boot_policy: "" }, undefined, true)).toEqual({});
  });
});

describe("which hot changes depend on the guest", () => {
  const n = { disks: [{}, { size: 1, mode: "RO" }, { size: 1 }], cdrom: "x.iso" } as unknown as Inputs;
  it.each([
    ["vcpus", ["vcpus"]],
    ["memory.dynamicMax", ["memory"]],
    ["disks[1] (added)", ["disks", "readOnlyDisk"]],
    ["disks[2] (added)", ["disks"]],
    ["disks[1] (removed)", ["disks"]],
    ["networkInterfaces[1] (added)", ["nics"]],
    ["networkInterfaces[0].mac", ["nics"]],
    ["networkInterfaces[0].lockingMode", []],
    ["disks[0].size", []],
    ["cdrom", ["cdDrive"]],
    ["name", []],
    ["tags", []],
  ])("%s needs %j", (field, wanted) => {
    expect(abilitiesOf({ field, kind: "hot" }, n)).toEqual(wanted);
  });

  it("ejecting needs no drive; a cold change stays cold; a refused hot change becomes cold with the reason", () => {
    expect(abilitiesOf({ field: "cdrom", kind: "hot" }, { ...n, cdrom: "" })).toEqual([]);
    const changes = withRefusals(
      [
        { field: "vcpus", kind: "hot" },
        { field: "name", kind: "hot" },
        { field: "memory.staticMax", kind: "cold" },
      ],
      n,
      { vcpus: "no vCPU hot-plug" },
    );
    expect(changes).toEqual([
      { field: "vcpus", kind: "cold", reason: "no vCPU hot-plug" },
      { field: "name", kind: "hot" },
      { field: "memory.staticMax", kind: "cold" },
    ]);
  });
});
