import { startSimulator, Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let sim: Simulator;
let c: Client;
let debian: string;
let other: string;
let net: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({
    // Long enough that VM.start answers before the agent reports, on a loaded machine.
    guestMetricsDelayMs: 300,
    seed: { hostMemory: 16 * GiB },
  }));
  [debian] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
  [other] = await c.call<string[]>("VM.get_by_name_label", "Other install media");
  [net] = await c.call<string[]>("network.get_by_name_label", "Pool-wide network associated with eth0");
});
afterAll(() => sim.close());

async function installed(name: string, tpl = debian): Promise<string> {
  const vm = await c.call<string>("VM.clone", tpl, name);
  const [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
  const srUuid = await c.call<string>("SR.get_uuid", sr);
  const oc = await c.call<Record<string, string>>("VM.get_other_config", vm);
  if (oc.disks) {
    await c.call("VM.remove_from_other_config", vm, "disks");
    await c.call("VM.add_to_other_config", vm, "disks", oc.disks.replace(/sr=""/g, `sr="${srUuid}"`));
  }
  await c.call("VM.provision", vm);
  await c.call("VIF.create", {
    device: "0",
    network: net,
    VM: vm,
    MAC: "",
    MTU: 1500,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
  return vm;
}

const waitFor = async <T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 2000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("templates, clone and provision", () => {
  it("seeds default templates flagged is_default_template with a provisioning disks spec", async () => {
    const t = await c.call<Rec>("VM.get_record", debian);
    expect(t).toMatchObject({
      is_a_template: true,
      is_default_template: true,
      power_state: "Halted",
      other_config: { default_template: "true" },
    });
    expect((t.other_config as Record<string, string>).disks).toContain(
      '<disk device="0" size="10737418240" sr="" bootable="true" type="system"/>',
    );
  });

  it("VM.clone of a template is a template with a fresh mac_seed, without default_template, with base_template_name", async () => {
    const vm = await c.call<string>("VM.clone", debian, "clone-of-template");
    const r = await c.call<Rec>("VM.get_record", vm);
    const oc = r.other_config as Record<string, string>;
    expect(r).toMatchObject({
      is_a_template: true,
      is_default_template: false,
      power_state: "Halted",
      name_label: "clone-of-template",
    });
    expect(oc.default_template).toBeUndefined();
    expect(oc.base_template_name).toBe("Debian Bookworm 12");
    expect(oc.mac_seed).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("VM.provision needs a valid SR uuid in the disks spec: UUID_INVALID [sr, value]", async () => {
    const vm = await c.call<string>("VM.clone", debian, "no-sr");
    await expectError(c.call("VM.provision", vm), "UUID_INVALID", ["sr", ""]);
  });

  it("VM.provision creates the disks, clears the template flag and removes other_config.disks", async () => {
    const vm = await installed("provisioned");
    const r = await c.call<Rec>("VM.get_record", vm);
    expect(r.is_a_template).toBe(false);
    expect((r.other_config as Record<string, string>).disks).toBeUndefined();
    const vbds = await Promise.all((r.VBDs as string[]).map((b) => c.call<Rec>("VBD.get_record", b)));
    expect(vbds.map((b) => [b.userdevice, b.type, b.mode, b.bootable, b.other_config])).toEqual([
      ["0", "Disk", "RW", true, { owner: "" }],
    ]);
    expect(await c.call<Rec>("VDI.get_record", vbds[0].VDI)).toMatchObject({
      virtual_size: 10 * GiB,
      type: "system",
      name_description: "Created by template provisioner",
    });
    await expectError(c.call("VM.provision", vm), "PROVISION_ONLY_ALLOWED_ON_TEMPLATE", []);
  });

  it("refuses lifecycle operations on templates with VM_IS_TEMPLATE [vm, op] and deleting default templates", async () => {
    await expectError(c.call("VM.start", debian, false, false), "VM_IS_TEMPLATE", [debian, "start"]);
    await expectError(c.call("VM.destroy", debian), "VM_IS_TEMPLATE", [debian, "destroy"]);
  });
});

describe("power states", () => {
  it("starts: Running, resident_on, domid, devices attached with device names, a VM_STARTED message", async () => {
    const vm = await installed("starter");
    await c.call("VM.start", vm, false, false);
    const r = await c.call<Rec>("VM.get_record", vm);
    expect(r).toMatchObject({ power_state: "Running", domain_type: "hvm" });
    expect(r.domid as number).toBeGreaterThan(0);
    expect(await c.call<string[]>("host.get_resident_VMs", r.resident_on)).toContain(vm);
    const vbd = await c.call<Rec>("VBD.get_record", (r.VBDs as string[])[0]);
    expect(vbd).toMatchObject({ currently_attached: true, device: "xvda" });
    expect(await c.call("VIF.get_currently_attached", (r.VIFs as string[])[0])).toBe(true);
    const msgs = Object.values(await c.call<Record<string, Rec>>("message.get_all_records"));
    expect(msgs.some((m) => m.name === "VM_STARTED" && m.obj_uuid === r.uuid)).toBe(true);
    expect(r.allowed_operations).toEqual(expect.arrayContaining(["hard_shutdown", "hard_reboot", "pause", "snapshot"]));
    expect(r.allowed_operations).not.toContain("start");
  });

  it("answers VM_BAD_POWER_STATE [vm, expected lowercase list, actual lowercase]", async () => {
    const vm = await installed("bad-power");
    await expectError(c.call("VM.hard_shutdown", vm), "VM_BAD_POWER_STATE", [
      vm,
      "paused, suspended, running",
      "halted",
    ]);
    await expectError(c.call("VM.clean_reboot", vm), "VM_BAD_POWER_STATE", [vm, "running", "halted"]);
    await c.call("VM.start", vm, false, false);
    await expectError(c.call("VM.start", vm, false, false), "VM_BAD_POWER_STATE", [vm, "halted", "running"]);
    await expectError(c.call("VM.destroy", vm), "VM_BAD_POWER_STATE", [vm, "halted, suspended", "running"]);
  });

  it("goes through pause/unpause, suspend/resume, reboot and hard_shutdown", async () => {
    const vm = await installed("cycler");
    await c.call("VM.start", vm, true, false);
    expect(await c.call("VM.get_power_state", vm)).toBe("Paused");
    await c.call("VM.unpause", vm);
    const dom1 = await c.call<number>("VM.get_domid", vm);
    await c.call("VM.hard_reboot", vm);
    expect(await c.call<number>("VM.get_domid", vm)).not.toBe(dom1);
    // Suspend needs the guest's cooperation: wait for the agent to report.
    await waitFor(
      () => c.call<string>("VM.get_guest_metrics", vm),
      (g) => g !== "OpaqueRef:NULL",
    );
    await c.call("VM.suspend", vm);
    const r = await c.call<Rec>("VM.get_record", vm);
    expect(r).toMatchObject({ power_state: "Suspended", resident_on: "OpaqueRef:NULL" });
    expect(await c.call("VDI.get_type", r.suspend_VDI)).toBe("suspend");
    await c.call("VM.resume", vm, false, false);
    expect(await c.call("VM.get_power_state", vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
    const h = await c.call<Rec>("VM.get_record", vm);
    expect(h).toMatchObject({ power_state: "Halted", resident_on: "OpaqueRef:NULL", domid: -1 });
    expect(await c.call("VBD.get_currently_attached", (h.VBDs as string[])[0])).toBe(false);
  });

  it("refuses clean_shutdown of an HVM guest without guest tools: VM_LACKS_FEATURE", async () => {
    const vm = await installed("no-tools", other);
    await c.call("VM.start", vm, false, false);
    await expectError(c.call("VM.clean_shutdown", vm), "VM_LACKS_FEATURE", [vm]);
    await c.call("VM.hard_shutdown", vm);
  });

  it("refuses conflicting concurrent operations with OTHER_OPERATION_IN_PROGRESS", async () => {
    const slow = await startSimulator({ password: "pw", loginFailureDelayMs: 0, operationDelayMs: 150 });
    try {
      const k = await new Client(slow.url).login();
      const [t] = await k.call<string[]>("VM.get_by_name_label", "Other install media");
      const vm = await k.call<string>("VM.clone", t, "busy");
      await k.call("VM.provision", vm);
      const starting = k.call("VM.start", vm, false, false);
      await new Promise((r) => setTimeout(r, 40));
      await expectError(k.call("VM.clone", vm, "while-starting"), "OTHER_OPERATION_IN_PROGRESS", [
        "VM",
        vm,
        "start",
        /^OpaqueRef:/,
      ]);
      await starting;
    } finally {
      await slow.close();
    }
  });

  // xapi_vm_lifecycle.ml is_allowed_concurrently: clone, copy and export ("long_copies") run together, so many VMs
  // are cloned from one template at once; any other operation still waits for them.
  it("clones one VM several times at once, but refuses other operations during a clone", async () => {
    const slow = await startSimulator({ password: "pw", loginFailureDelayMs: 0, operationDelayMs: 150 });
    try {
      const k = await new Client(slow.url).login();
      const [t] = await k.call<string[]>("VM.get_by_name_label", "Other install media");
      const clones = await Promise.all(["a", "b", "c"].map((n) => k.call<string>("VM.clone", t, n)));
      expect(new Set(clones).size).toBe(3);
      const vm = clones[0];
      await k.call("VM.provision", vm);
      const cloning = k.call("VM.clone", vm, "copy-of-a");
      await new Promise((r) => setTimeout(r, 40));
      const copying = k.call("VM.copy", vm, "second-copy", "");
      await expectError(k.call("VM.start", vm, false, false), "OTHER_OPERATION_IN_PROGRESS", [
        "VM",
        vm,
        "clone",
        /^OpaqueRef:/,
      ]);
      await expect(Promise.all([cloning, copying])).resolves.toEqual([
        expect.stringMatching(/^OpaqueRef:/),
        expect.stringMatching(/^OpaqueRef:/),
      ]);
    } finally {
      await slow.close();
    }
  });

  it("accounts host memory and refuses starts that do not fit: HOST_NOT_ENOUGH_FREE_MEMORY [needed, available]", async () => {
    const vm = await installed("huge", other);
    await c.call("VM.set_memory_limits", vm, GiB, 64 * GiB, 64 * GiB, 64 * GiB);
    const e = await expectError(c.call("VM.start", vm, false, false), "HOST_NOT_ENOUGH_FREE_MEMORY");
    expect(Number(e.params[0])).toBeGreaterThan(Number(e.params[1]));
    const [pool] = await c.call<string[]>("pool.get_all");
    const host = await c.call<string>("pool.get_master", pool);
    const metrics = await c.call<string>("host.get_metrics", host);
    const free0 = await c.call<number>("host_metrics.get_memory_free", metrics);
    const small = await installed("small", other);
    await c.call("VM.start", small, false, false);
    expect(await c.call<number>("host_metrics.get_memory_free", metrics)).toBeLessThan(free0 - 128 * MiB);
    await c.call("VM.hard_shutdown", small);
    expect(await c.call<number>("host_metrics.get_memory_free", metrics)).toBe(free0);
  });

  it("computes memory_overhead with xapi's HVM model: 1 + 1 + shadow + per-vCPU pages (MiB)", async () => {
    const vm = await installed("overhead", other);
    await c.call("VM.set_VCPUs_max", vm, 2);
    await c.call("VM.set_memory_limits", vm, GiB, GiB, GiB, GiB);
    // shadow = ceil((256*2 + 1024 + 1024) pages / 256) = 10 MiB; 38 pages per vCPU -> 1 MiB.
    expect(await c.call("VM.compute_memory_overhead", vm)).toBe((1 + 1 + 10 + 1) * MiB);
    expect(await c.call("VM.get_memory_overhead", vm)).toBe((1 + 1 + 10 + 1) * MiB);
  });

  it("starts a VM when its dynamic_min fits even if its dynamic_max does not (start needs dynamic_min)", async () => {
    const vm = await installed("balloon", other);
    await c.call("VM.set_memory_limits", vm, 512 * MiB, 40 * GiB, 512 * MiB, 40 * GiB);
    await c.call("VM.start", vm, false, false);
    expect(await c.call("VM.get_power_state", vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
  });

  it("validates VCPUs and memory in setters; VM.start collapses bad settings into NO_HOSTS_AVAILABLE, start_on is specific", async () => {
    const vm = await installed("vcpus", other);
    await expectError(c.call("VM.set_VCPUs_at_startup", vm, 0), "INVALID_VALUE", [
      "VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max",
      "0",
    ]);
    await expectError(c.call("VM.set_VCPUs_max", vm, 0), "INVALID_VALUE");
    await c.call("VM.set_VCPUs_max", vm, 4);
    await c.call("VM.set_VCPUs_at_startup", vm, 4);
    await expectError(c.call("VM.set_VCPUs_max", vm, 2), "INVALID_VALUE", [
      "VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max",
      "2",
    ]);
    await expectError(
      c.call("VM.set_memory_limits", vm, 512 * MiB, 256 * MiB, 256 * MiB, 256 * MiB),
      "MEMORY_CONSTRAINT_VIOLATION_ORDER",
      [],
    );
    // VM.create defers validation to start (xapi_vm.ml create).
    const rec = await c.call<Rec>("VM.get_record", other);
    const bad = await c.call<string>("VM.create", {
      ...rec,
      name_label: "bad-vcpus",
      is_a_template: false,
      VCPUs_max: 1,
      VCPUs_at_startup: 2,
      other_config: {},
    });
    await expectError(c.call("VM.start", bad, false, false), "NO_HOSTS_AVAILABLE", []);
    const [pool] = await c.call<string[]>("pool.get_all");
    const host = await c.call<string>("pool.get_master", pool);
    await expectError(c.call("VM.start_on", bad, host, false, false), "VALUE_NOT_SUPPORTED", [
      "VCPUs-at-startup",
      "2",
      "value greater than VCPUs-max",
    ]);
    expect((await c.call<Record<string, string>>("VM.get_other_config", bad)).mac_seed).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("destroys a VM with its VBDs and VIFs but keeps its VDIs", async () => {
    const vm = await installed("doomed");
    const r = await c.call<Rec>("VM.get_record", vm);
    const vbd = (r.VBDs as string[])[0];
    const vdi = await c.call<string>("VBD.get_VDI", vbd);
    await c.call("VM.destroy", vm);
    await expectError(c.call("VM.get_record", vm), "HANDLE_INVALID", ["VM", vm]);
    await expectError(c.call("VBD.get_record", vbd), "HANDLE_INVALID");
    await expectError(c.call("VIF.get_record", (r.VIFs as string[])[0]), "HANDLE_INVALID");
    expect(await c.call<string[]>("VDI.get_VBDs", vdi)).toEqual([]);
  });

  it("snapshots and reverts: snapshot is a template+snapshot keeping MACs, revert restores fields", async () => {
    const vm = await installed("snappy");
    const mac = await c.call<string>("VIF.get_MAC", (await c.call<string[]>("VM.get_VIFs", vm))[0]);
    const snap = await c.call<string>("VM.snapshot", vm, "before");
    expect(await c.call<Rec>("VM.get_record", snap)).toMatchObject({
      is_a_snapshot: true,
      is_a_template: true,
      snapshot_of: vm,
    });
    expect(await c.call<string>("VIF.get_MAC", (await c.call<string[]>("VM.get_VIFs", snap))[0])).toBe(mac);
    expect(await c.call("VM.get_snapshots", vm)).toEqual([snap]);
    // The VM's parent becomes its latest snapshot; the snapshot has metrics of its own.
    expect(await c.call("VM.get_parent", vm)).toBe(snap);
    expect(await c.call("VM.get_children", snap)).toEqual([vm]);
    expect(await c.call("VM.get_metrics", snap)).not.toBe("OpaqueRef:NULL");
    await expectError(c.call("VM.start", snap, false, false), "VM_IS_SNAPSHOT", [snap, "start"]);
    await expectError(c.call("VM.revert", vm), "REVERT_ONLY_ALLOWED_ON_SNAPSHOT", []);
    await c.call("VM.set_name_description", vm, "changed");
    await c.call("VM.revert", snap);
    expect(await c.call("VM.get_name_description", vm)).not.toBe("changed");
  });
});

describe("copy, create and the template flag", () => {
  it("VM.copy makes full copies of the disks into the given SR", async () => {
    const vm = await installed("to-copy");
    const sr = await c.call<string>(
      "SR.create",
      (await c.call<string[]>("host.get_all"))[0],
      { server: "nfs.lab", serverpath: "/copy" },
      0,
      "copy-target",
      "",
      "nfs",
      "user",
      true,
      {},
    );
    const copy = await c.call<string>("VM.copy", vm, "copied", sr);
    const [vbd] = await c.call<string[]>("VM.get_VBDs", copy);
    const vdi = await c.call<string>("VBD.get_VDI", vbd);
    expect(await c.call<Rec>("VDI.get_record", vdi)).toMatchObject({ SR: sr, virtual_size: 10 * GiB });
    const [srcVbd] = await c.call<string[]>("VM.get_VBDs", vm);
    expect(await c.call("VBD.get_VDI", srcVbd)).not.toBe(vdi);
  });

  it("VM.create forces Halted, adds a mac_seed and metrics; VM_BAD_POWER_STATE for another power state", async () => {
    const rec = await c.call<Rec>("VM.get_record", other);
    const vm = await c.call<string>("VM.create", {
      ...rec,
      name_label: "created",
      is_a_template: false,
      other_config: {},
    });
    const r = await c.call<Rec>("VM.get_record", vm);
    expect(r).toMatchObject({
      power_state: "Halted",
      is_default_template: false,
      domid: -1,
      guest_metrics: "OpaqueRef:NULL",
    });
    expect(r.metrics).not.toBe("OpaqueRef:NULL");
    await expectError(
      c.call("VM.create", { ...rec, name_label: "running?", is_a_template: false, power_state: "Running" }),
      "VM_BAD_POWER_STATE",
      [/^OpaqueRef:/, "halted", "running"],
    );
    expect(await c.call("VM.get_by_name_label", "running?")).toEqual([]);
  });

  it("set_is_a_template(true) needs Halted and drops the VM_metrics", async () => {
    const vm = await installed("templatable", other);
    await c.call("VM.start", vm, false, false);
    await expectError(c.call("VM.set_is_a_template", vm, true), "VM_BAD_POWER_STATE", [vm, "halted", "running"]);
    await c.call("VM.hard_shutdown", vm);
    const metrics = await c.call<string>("VM.get_metrics", vm);
    await c.call("VM.set_is_a_template", vm, true);
    expect(await c.call("VM.get_metrics", vm)).toBe("OpaqueRef:NULL");
    await expectError(c.call("VM_metrics.get_record", metrics), "HANDLE_INVALID");
  });
});

describe("VBDs and VIFs", () => {
  it("resolves autodetect at once, refuses duplicate devices (1 = xvdb = hdb) and bad names", async () => {
    const vm = await installed("devices");
    const [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
    const vdi = await c.call<string>("VDI.create", {
      SR: sr,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    const base = {
      VM: vm,
      VDI: vdi,
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    };
    const vbd = await c.call<string>("VBD.create", { ...base, userdevice: "autodetect" });
    expect(await c.call("VBD.get_userdevice", vbd)).toBe("1");
    const vdi2 = await c.call<string>("VDI.create", {
      SR: sr,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    await expectError(c.call("VBD.create", { ...base, VDI: vdi2, userdevice: "xvdb" }), "DEVICE_ALREADY_EXISTS", [
      "xvdb",
    ]);
    await expectError(c.call("VBD.create", { ...base, VDI: vdi2, userdevice: "floppy9" }), "INVALID_DEVICE", [
      "floppy9",
    ]);
    await expectError(
      c.call("VBD.create", { ...base, VDI: vdi2, userdevice: "3", type: "CD" }),
      "VBD_CDS_MUST_BE_READONLY",
      [],
    );
    await expectError(
      c.call("VBD.create", { ...base, VDI: "OpaqueRef:NULL", userdevice: "4", empty: true }),
      "VBD_NOT_REMOVABLE_MEDIA",
      ["in constructor"],
    );
  });

  it("handles CD drives: empty drive, insert, eject, and refuses insert into a full one", async () => {
    const vm = await installed("cdrom");
    const [iso] = await c.call<string[]>("SR.get_by_name_label", "ISO library");
    const [isoVdi] = await c.call<string[]>("SR.get_VDIs", iso);
    const cd = await c.call<string>("VBD.create", {
      VM: vm,
      VDI: "OpaqueRef:NULL",
      userdevice: "3",
      bootable: false,
      mode: "RO",
      type: "CD",
      empty: true,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    await expectError(c.call("VBD.eject", cd), "VBD_IS_EMPTY", [cd]);
    await c.call("VBD.insert", cd, isoVdi);
    expect(await c.call<Rec>("VBD.get_record", cd)).toMatchObject({ empty: false, VDI: isoVdi });
    await expectError(c.call("VBD.insert", cd, isoVdi), "VBD_NOT_EMPTY", [cd]);
    await c.call("VBD.eject", cd);
    expect(await c.call<Rec>("VBD.get_record", cd)).toMatchObject({ empty: true, VDI: "OpaqueRef:NULL" });
    const disk = (await c.call<string[]>("VM.get_VBDs", vm)).find((b) => b !== cd)!;
    await expectError(c.call("VBD.insert", disk, isoVdi), "VBD_NOT_REMOVABLE_MEDIA", [disk]);
  });

  it("hot-plugs only on running VMs and refuses to destroy an attached VBD", async () => {
    const vm = await installed("hotplug");
    const [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
    const vdi = await c.call<string>("VDI.create", {
      SR: sr,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    const vbd = await c.call<string>("VBD.create", {
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
    });
    await expectError(c.call("VBD.plug", vbd), "VM_BAD_POWER_STATE", [vm, "running", "halted"]);
    await c.call("VM.start", vm, false, false);
    await waitFor(
      () => c.call<string>("VM.get_guest_metrics", vm),
      (g) => g !== "OpaqueRef:NULL",
    );
    await expectError(c.call("VBD.plug", vbd), "DEVICE_ALREADY_ATTACHED", [vbd]);
    await c.call("VBD.unplug", vbd);
    await expectError(c.call("VBD.unplug", vbd), "DEVICE_ALREADY_DETACHED", [vbd]);
    await c.call("VBD.plug", vbd);
    const uuid = await c.call<string>("VBD.get_uuid", vbd);
    const vmUuid = await c.call<string>("VM.get_uuid", vm);
    await expectError(c.call("VBD.destroy", vbd), "OPERATION_NOT_ALLOWED", [
      `VBD '${uuid}' still attached to '${vmUuid}'`,
    ]);
  });

  it("generates VIF MACs from the VM's mac_seed, refuses bad devices and MACs", async () => {
    const vm = await installed("vifs");
    const [vif0] = await c.call<string[]>("VM.get_VIFs", vm);
    expect(await c.call<Rec>("VIF.get_record", vif0)).toMatchObject({
      MAC: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/),
      MAC_autogenerated: true,
      network: net,
    });
    const base = {
      network: net,
      VM: vm,
      MTU: 1500,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    };
    await expectError(c.call("VIF.create", { ...base, device: "0", MAC: "" }), "DEVICE_ALREADY_EXISTS", ["0"]);
    await expectError(c.call("VIF.create", { ...base, device: "eth1", MAC: "" }), "INVALID_DEVICE", ["eth1"]);
    await expectError(c.call("VIF.create", { ...base, device: "1", MAC: "nope" }), "MAC_INVALID", ["nope"]);
    const vif1 = await c.call<string>("VIF.create", { ...base, device: "1", MAC: "02:00:00:00:00:01" });
    expect(await c.call<Rec>("VIF.get_record", vif1)).toMatchObject({
      MAC: "02:00:00:00:00:01",
      MAC_autogenerated: false,
    });
    expect(await c.call("network.get_VIFs", net)).toEqual(expect.arrayContaining([vif0, vif1]));
  });
});

describe("guest agent", () => {
  it("reports guest metrics with per-VIF addresses after a start when the template has tools", async () => {
    const vm = await installed("agent");
    await c.call("VM.start", vm, false, false);
    expect(await c.call("VM.get_guest_metrics", vm)).toBe("OpaqueRef:NULL");
    const gm = await waitFor(
      () => c.call<string>("VM.get_guest_metrics", vm),
      (g) => g !== "OpaqueRef:NULL",
    );
    // The metrics object appears first, the addresses follow in a later mod.
    const networks = await waitFor(
      () => c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm),
      (n) => "0/ip" in n,
    );
    expect(networks["0/ip"]).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(networks["0/ipv4/0"]).toBe(networks["0/ip"]);
    expect(networks["0/ipv6/0"]).toMatch(/^fe80::/);
    // Deterministic: the same VM reports the same addresses after a reboot, and start resets the metrics first.
    await c.call("VM.hard_reboot", vm);
    expect(await c.call("VM.get_guest_metrics", vm)).toBe("OpaqueRef:NULL");
    const gm2 = await waitFor(
      () => c.call<string>("VM.get_guest_metrics", vm),
      (g) => g !== "OpaqueRef:NULL",
    );
    expect(
      await waitFor(
        () => c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm2),
        (n) => "0/ip" in n,
      ),
    ).toEqual(networks);
  });

  it("never reports for a VM without tools", async () => {
    const vm = await installed("silent", other);
    await c.call("VM.start", vm, false, false);
    await new Promise((r) => setTimeout(r, 100));
    expect(await c.call("VM.get_guest_metrics", vm)).toBe("OpaqueRef:NULL");
  });
});

describe("records stay datamodel-shaped", () => {
  it("every row of every table has exactly its class's datamodel fields after a full lifecycle", async () => {
    const vm = await installed("shape");
    await c.call("VM.start", vm, false, false);
    await waitFor(
      () => c.call<string>("VM.get_guest_metrics", vm),
      (g) => g !== "OpaqueRef:NULL",
    );
    const snap = await c.call<string>("VM.snapshot", vm, "shape-snap");
    await c.call("VM.suspend", vm);
    await c.call("VM.resume", vm, false, false);
    await c.call("VM.hard_shutdown", vm);
    await c.call("VM.revert", snap);
    const { classes } = await import("../../simulator/engine/datamodel");
    for (const [cls, table] of sim.store.tables) {
      const fields = classes
        .get(cls)!
        .fieldList.map((f) => f.name)
        .sort();
      for (const row of table.values()) expect([cls, Object.keys(row).sort()]).toEqual([cls, fields]);
    }
  });
});
