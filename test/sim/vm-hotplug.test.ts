/**
 * Hot-plug rules for VBDs and VIFs, in xapi's order (xapi-project/xen-api ocaml/xapi/): xapi_vbd_helpers.ml
 * valid_operations, xapi_vbd.ml plug, xapi_vif_helpers.ml valid_operations, xapi_pv_driver_version.ml.
 */
import { startSimulator, Simulator } from "../../simulator";
import { install, masterHost, templateNamed } from "./helpers/install";
import { Client, expectError, Rec } from "./helpers/rpc";

const GiB = 1024 * 1024 * 1024;

let sim: Simulator;
let c: Client;
let sr: string;
let net: string;
let hvm: string; // a running HVM guest without a guest agent
let pv: string; // a running PV-in-PVH guest
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  c = await new Client(sim.url).login();
  const [pool] = await c.call<string[]>("pool.get_all");
  sr = await c.call<string>("pool.get_default_SR", pool);
  [net] = await c.call<string[]>("network.get_by_name_label", "Pool-wide network associated with eth0");
  hvm = await install(c, await templateNamed(c, "Other install media"), "hvm-guest");
  pv = await install(c, await templateNamed(c, "CentOS 6 (64-bit)"), "pv-guest");
  await c.call("VM.start", hvm, false, false);
  await c.call("VM.start", pv, false, false);
});
afterAll(() => sim.close());

/** Out-of-band guest metrics, as the guest agent would have reported them. */
function agentReports(vm: string, fields: Rec | undefined): void {
  const old = sim.store.get("VM", vm).guest_metrics as string;
  if (sim.store.has("VM_guest_metrics", old)) sim.store.destroy("VM_guest_metrics", old);
  const gm = fields ? sim.store.create("VM_guest_metrics", { live: true, ...fields }) : "OpaqueRef:NULL";
  sim.store.set("VM", vm, "guest_metrics", gm);
}

async function disk(vm: string, patch: Rec = {}): Promise<string> {
  const vdi = await c.call<string>("VDI.create", {
    SR: sr,
    virtual_size: GiB,
    type: "user",
    sharable: false,
    read_only: false,
    other_config: {},
  });
  return c.call<string>("VBD.create", {
    VM: vm,
    VDI: vdi,
    userdevice: "autodetect",
    bootable: false,
    mode: "RW",
    type: "Disk",
    empty: false,
    unpluggable: true,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
    ...patch,
  });
}

async function vif(vm: string, device: string, MAC = ""): Promise<string> {
  return c.call<string>("VIF.create", {
    device,
    network: net,
    VM: vm,
    MAC,
    MTU: 1500,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
}

describe("VBD hot-plug (xapi_vbd_helpers.ml valid_operations)", () => {
  afterEach(() => agentReports(hvm, undefined));

  it("an HVM guest needs PV drivers of a known version, or can_use_hotplug_vbd, or PV_drivers_detected", async () => {
    const vbd = await disk(hvm);
    await expectError(c.call("VBD.plug", vbd), "VM_MISSING_PV_DRIVERS", [hvm]);
    agentReports(hvm, { PV_drivers_version: { major: "9", minor: "4", build: "sim" } });
    await expectError(c.call("VBD.plug", vbd), "VM_MISSING_PV_DRIVERS", [hvm]);
    agentReports(hvm, { can_use_hotplug_vbd: "no", PV_drivers_detected: true });
    await expectError(c.call("VBD.plug", vbd), "OPERATION_NOT_ALLOWED", ["VM states it does not support VBD hotplug."]);
    agentReports(hvm, { can_use_hotplug_vbd: "unspecified", PV_drivers_detected: true });
    await c.call("VBD.plug", vbd);
    agentReports(hvm, { can_use_hotplug_vbd: "yes" });
    await c.call("VBD.unplug", vbd);
    agentReports(hvm, { PV_drivers_version: { major: "9", minor: "4", micro: "0", build: "12" } });
    await c.call("VBD.plug", vbd);
    expect(await c.call("VBD.get_currently_attached", vbd)).toBe(true);
  });

  it("checks in xapi's order: unpluggable, then power state and attachment, then drivers", async () => {
    const pinned = await disk(hvm, { unpluggable: false });
    // VBD_NOT_UNPLUGGABLE comes before the device state (the VBD is not even attached) and the drivers.
    await expectError(c.call("VBD.unplug", pinned), "VBD_NOT_UNPLUGGABLE", [pinned]);
    await expectError(c.call("VBD.unplug_force", pinned), "VBD_NOT_UNPLUGGABLE", [pinned]);
    const vbd = await disk(hvm);
    // Not attached: DEVICE_ALREADY_DETACHED before VM_MISSING_PV_DRIVERS.
    await expectError(c.call("VBD.unplug", vbd), "DEVICE_ALREADY_DETACHED", [vbd]);
    const halted = await install(c, await templateNamed(c, "Other install media"), "halted-guest");
    const off = await disk(halted);
    await expectError(c.call("VBD.plug", off), "VM_BAD_POWER_STATE", [halted, "running", "halted"]);
  });

  it("refuses while the VM shuts down, suspends or pauses: OPERATION_NOT_ALLOWED [Current operation on VM:<vm> is <op>]", async () => {
    const vbd = await disk(pv);
    const ops = sim.store.get("VM", pv).current_operations as Record<string, string>;
    sim.store.set("VM", pv, "current_operations", { ...ops, "OpaqueRef:in-flight": "clean_shutdown" });
    try {
      await expectError(c.call("VBD.plug", vbd), "OPERATION_NOT_ALLOWED", [
        `Current operation on VM:${pv} is clean_shutdown`,
      ]);
    } finally {
      sim.store.set("VM", pv, "current_operations", ops);
    }
    await c.call("VBD.plug", vbd);
  });

  it("a read-only Disk VBD on a running HVM guest: DISK_VBD_MUST_BE_READWRITE_FOR_HVM [vbd] (xapi_vbd.ml plug, CA-83260)", async () => {
    agentReports(hvm, { can_use_hotplug_vbd: "yes" });
    const ro = await disk(hvm, { mode: "RO" });
    await expectError(c.call("VBD.plug", ro), "DISK_VBD_MUST_BE_READWRITE_FOR_HVM", [ro]);
    // A PV guest may have read-only disks.
    const pvRo = await disk(pv, { mode: "RO" });
    await c.call("VBD.plug", pvRo);
  });

  it("HVM CD drives are never hot-plugged: OPERATION_NOT_ALLOWED, after the driver check", async () => {
    const cd = await c.call<string>("VBD.create", {
      VM: hvm,
      VDI: "OpaqueRef:NULL",
      userdevice: "autodetect",
      bootable: false,
      mode: "RO",
      type: "CD",
      empty: true,
      unpluggable: true,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    await expectError(c.call("VBD.plug", cd), "VM_MISSING_PV_DRIVERS", [hvm]);
    agentReports(hvm, { can_use_hotplug_vbd: "yes" });
    await expectError(c.call("VBD.plug", cd), "OPERATION_NOT_ALLOWED", [
      "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected",
    ]);
  });

  it("plugs a disk into dom0 (a loopback attach in xapi_vbd.ml plug)", async () => {
    const dom0 = await c.call<string>("host.get_control_domain", await masterHost(c));
    const vbd = await disk(dom0);
    await c.call("VBD.plug", vbd);
    expect(await c.call("VBD.get_currently_attached", vbd)).toBe(true);
  });
});

describe("VIF hot-plug (xapi_vif_helpers.ml valid_operations)", () => {
  afterEach(() => agentReports(hvm, undefined));

  it("dom0 refuses first: OPERATION_NOT_ALLOWED [Control domain does not support hotplug]", async () => {
    const dom0 = await c.call<string>("host.get_control_domain", await masterHost(c));
    const v = await vif(dom0, "7", "02:00:00:00:00:07"); // dom0 has no mac_seed
    await expectError(c.call("VIF.plug", v), "OPERATION_NOT_ALLOWED", ["Control domain does not support hotplug"]);
  });

  it("an HVM guest needs PV drivers or can_use_hotplug_vif", async () => {
    const v = await vif(hvm, "3");
    await expectError(c.call("VIF.plug", v), "VM_MISSING_PV_DRIVERS", [hvm]);
    agentReports(hvm, { can_use_hotplug_vif: "no", can_use_hotplug_vbd: "yes", PV_drivers_detected: true });
    await expectError(c.call("VIF.plug", v), "OPERATION_NOT_ALLOWED", ["VM states it does not support VIF hotplug."]);
    agentReports(hvm, { can_use_hotplug_vif: "yes" });
    await c.call("VIF.plug", v);
    await expectError(c.call("VIF.plug", v), "DEVICE_ALREADY_ATTACHED", [v]);
    agentReports(hvm, undefined);
    // unplug_force is checked as unplug (message_forwarding.ml VIF.unplug_common).
    await expectError(c.call("VIF.unplug_force", v), "VM_MISSING_PV_DRIVERS", [hvm]);
  });

  it("a PV guest hot-plugs without drivers", async () => {
    const v = await vif(pv, "4");
    await c.call("VIF.plug", v);
    await c.call("VIF.unplug", v);
    await expectError(c.call("VIF.unplug", v), "DEVICE_ALREADY_DETACHED", [v]);
  });
});
