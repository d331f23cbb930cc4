/** The remaining error paths of docs/xapi-semantics.md §6–§7, one assertion each, with xapi's exact parameters. */
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

const GiB = 1024 * 1024 * 1024;

let sim: Simulator;
let c: Client;
let sr: string;
let other: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ guestMetricsDelayMs: 10 }));
  [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
  [other] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
});
afterAll(() => sim.close());

const disk = (extra: Rec = {}) =>
  c.call<string>("VDI.create", {
    SR: sr,
    virtual_size: GiB,
    type: "user",
    sharable: false,
    read_only: false,
    other_config: {},
    ...extra,
  });
const vbdRec = (vm: string, vdi: string, extra: Rec = {}) => ({
  VM: vm,
  VDI: vdi,
  userdevice: "autodetect",
  bootable: false,
  mode: "RW",
  type: "Disk",
  empty: false,
  other_config: {},
  qos_algorithm_type: "",
  qos_algorithm_params: {},
  ...extra,
});
const vifRec = (vm: string, network: string, device = "0") => ({
  device,
  network,
  VM: vm,
  MAC: "",
  MTU: 1500,
  other_config: {},
  qos_algorithm_type: "",
  qos_algorithm_params: {},
});

async function runningVm(name: string): Promise<string> {
  const vm = await c.call<string>("VM.clone", other, name);
  await c.call("VM.set_is_a_template", vm, false);
  await c.call("VM.start", vm, false, false);
  for (let i = 0; i < 100 && (await c.call("VM.get_guest_metrics", vm)) === "OpaqueRef:NULL"; i++)
    await new Promise((r) => setTimeout(r, 10));
  return vm;
}

describe("network errors", () => {
  it("NETWORK_CONTAINS_VIF [attached VIFs] while a running VM uses it; detached VIFs go with the network", async () => {
    const n = await c.call<string>("network.create", { name_label: "busy", other_config: {} });
    const vm = await runningVm("on-busy");
    const vif = await c.call<string>("VIF.create", vifRec(vm, n, "1"));
    await c.call("VIF.plug", vif);
    await expectError(c.call("network.destroy", n), "NETWORK_CONTAINS_VIF", [vif]);
    await expectError(c.call("VIF.destroy", vif), "OPERATION_NOT_ALLOWED", ["VIF currently attached to a running VM"]);
    await c.call("VIF.unplug", vif);
    await c.call("network.destroy", n);
    await expectError(c.call("VIF.get_record", vif), "HANDLE_INVALID", ["VIF", vif]);
  });

  it("CANNOT_DESTROY_SYSTEM_NETWORK for the host-internal management network", async () => {
    const [himn] = await c.call<string[]>("network.get_by_name_label", "Host internal management network");
    await expectError(c.call("network.destroy", himn), "CANNOT_DESTROY_SYSTEM_NETWORK", [himn]);
  });

  it("PIF_IS_PHYSICAL [] (no parameters: xapi_pif.ml destroy) when destroying a physical PIF", async () => {
    const [eth0] = await c.call<string[]>("PIF.get_all_where", 'field "device" = "eth0"');
    await expectError(c.call("PIF.destroy", eth0), "PIF_IS_PHYSICAL", []);
  });
});

describe("VBD errors", () => {
  it("VDI_READONLY [vdi] for a RW VBD on a read-only VDI", async () => {
    const vm = await c.call<string>("VM.clone", other, "ro");
    const vdi = await disk({ read_only: true });
    await expectError(c.call("VBD.create", vbdRec(vm, vdi)), "VDI_READONLY", [vdi]);
  });

  it("VDI_INCOMPATIBLE_TYPE [vdi, type] for a VBD on a VDI type VBDs cannot use", async () => {
    const vm = await c.call<string>("VM.clone", other, "ha");
    const vdi = await disk({ type: "ha_statefile" });
    await expectError(c.call("VBD.create", vbdRec(vm, vdi)), "VDI_INCOMPATIBLE_TYPE", [vdi, "ha_statefile"]);
  });

  it("VBD_NOT_UNPLUGGABLE [vbd] for unpluggable=false, for unplug_force too", async () => {
    const vm = await runningVm("pinned");
    const vbd = await c.call<string>("VBD.create", vbdRec(vm, await disk(), { unpluggable: false }));
    await c.call("VBD.plug", vbd);
    await expectError(c.call("VBD.unplug", vbd), "VBD_NOT_UNPLUGGABLE", [vbd]);
    // xapi_vbd_helpers.ml valid_operations refuses [unplug; unplug_force] alike (an earlier version of this
    // test had unplug_force succeed, which xapi does not do).
    await expectError(c.call("VBD.unplug_force", vbd), "VBD_NOT_UNPLUGGABLE", [vbd]);
    expect(await c.call("VBD.get_currently_attached", vbd)).toBe(true);
  });

  it("VDI_IN_USE [vdi] when plugging a non-sharable VDI attached read-write elsewhere", async () => {
    const a = await runningVm("share-a");
    const b = await runningVm("share-b");
    const vdi = await disk();
    const va = await c.call<string>("VBD.create", vbdRec(a, vdi));
    const vb = await c.call<string>("VBD.create", vbdRec(b, vdi));
    await c.call("VBD.plug", va);
    await expectError(c.call("VBD.plug", vb), "VDI_IN_USE", [vdi]);
  });

  it("VM_BAD_POWER_STATE [vm, halted, actual] for VBD.set_mode on a running VM", async () => {
    const vm = await runningVm("mode");
    const vbd = await c.call<string>("VBD.create", vbdRec(vm, await disk()));
    await expectError(c.call("VBD.set_mode", vbd, "RO"), "VM_BAD_POWER_STATE", [vm, "halted", "running"]);
  });
});

describe("VM errors", () => {
  it("OPERATION_BLOCKED [vm, reason] for an operation in blocked_operations", async () => {
    const vm = await c.call<string>("VM.clone", other, "blocked");
    await c.call("VM.set_is_a_template", vm, false);
    await c.call("VM.add_to_blocked_operations", vm, "start", "maintenance window");
    await expectError(c.call("VM.start", vm, false, false), "OPERATION_BLOCKED", [vm, "maintenance window"]);
    expect(await c.call("VM.get_allowed_operations", vm)).not.toContain("start");
  });

  it("VM_CANNOT_DELETE_DEFAULT_TEMPLATE [] for a VM marked default_template that is not a default template", async () => {
    const vm = await c.call<string>("VM.clone", other, "pretender");
    await c.call("VM.add_to_other_config", vm, "default_template", "true");
    await expectError(c.call("VM.destroy", vm), "VM_CANNOT_DELETE_DEFAULT_TEMPLATE", []);
  });

  it("operations on dom0 are refused with OPERATION_NOT_ALLOWED", async () => {
    const [dom0] = await c.call<string[]>("VM.get_all_where", 'field "is_control_domain" = "true"');
    await expectError(c.call("VM.hard_shutdown", dom0), "OPERATION_NOT_ALLOWED", [
      "This operation is not allowed on a control domain",
    ]);
  });
});

describe("PBD errors", () => {
  it("PBD.unplug fails with VDI_IN_USE [vdis…] while a VM on that host uses the SR", async () => {
    const h = await c.call<string>("pool.get_master", (await c.call<string[]>("pool.get_all"))[0]);
    const nfs = await c.call<string>(
      "SR.create",
      h,
      { server: "nfs.lab", serverpath: "/inuse" },
      0,
      "inuse",
      "",
      "nfs",
      "user",
      true,
      {},
    );
    const vm = await runningVm("nfs-user");
    const vdi = await c.call<string>("VDI.create", {
      SR: nfs,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    await c.call("VBD.plug", await c.call<string>("VBD.create", vbdRec(vm, vdi)));
    const [pbd] = await c.call<string[]>("SR.get_PBDs", nfs);
    await expectError(c.call("PBD.unplug", pbd), "VDI_IN_USE", [vdi]);
  });
});
