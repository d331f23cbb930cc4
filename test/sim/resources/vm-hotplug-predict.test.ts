// What the running guest would refuse live is said at preview as a restart (or refused under updatePolicy "fail",
// naming the field and why), and up restarts instead of failing. The simulator refuses as xapi does:
// xapi_vbd_helpers.ml / xapi_vif_helpers.ml valid_operations (VM_MISSING_PV_DRIVERS), xapi_vbd.ml plug
// (DISK_VBD_MUST_BE_READWRITE_FOR_HVM), xapi_vm_lifecycle.ml check_op_for_feature (VM_LACKS_FEATURE) and
// allowed_power_states (changing_VCPUs_live needs Running); HVM CD drives are not hot-plugged.
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Vm: vm } = resourceKinds;

let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
let net0: string;

beforeAll(async () => {
  // Guests named bare-* run no agent: no PV drivers, no guest metrics.
  lab = await startPool("vm-hotplug-pw", { hosts: 1, guestMetricsDelayMs: 100, guests: ["bare-*:agent=absent"] });
  ({ xapi, ctx } = lab);
  const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
  net0 = Object.values(nets).find((n) => n.name_label === "Pool-wide network associated with eth0")!.uuid;
});
afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

/** The preview lines diff() writes (stderr), while `f` runs. */
async function previewLines<T>(f: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk).trim());
    return true;
  });
  try {
    return { result: await f(), lines };
  } finally {
    spy.mockRestore();
  }
}

const vmRef = (uuid: string) => xapi.call<string>("VM.get_by_uuid", uuid);

describe("Vm: live changes the guest would refuse are predicted at preview", () => {
  it("a guest without PV drivers: vCPUs, a NIC and a disk need a restart; refused under fail, restarted under restart", async () => {
    const program = {
      name: "bare-1",
      template: "Debian Bookworm 12",
      vcpus: 1,
      vcpusMax: 4,
      memory: "1GiB",
      networkInterfaces: [{ network: net0 }],
    };
    const { id, outs } = await createWith(vm, program);
    expect(outs.powerState).toBe("Running");
    const ref = await vmRef(id);
    const domid = await xapi.call<number>("VM.get_domid", ref);
    // What xapi says to the same change made live.
    await expect(xapi.call("VM.set_VCPUs_number_live", ref, 2)).rejects.toThrow(/VM_LACKS_FEATURE/);

    const wanted = {
      ...program,
      vcpus: 2,
      networkInterfaces: [{ network: net0 }, { network: net0 }],
      disks: [{}, { size: "1GiB" }],
    };
    const failing = await vm.check(outs, { ...wanted, updatePolicy: "fail" }, ctx);
    await expect(vm.diff(id, outs, failing.inputs!, ctx)).rejects.toThrow(
      new RegExp(
        [
          /bare-1: vcpus \(the guest has no PV drivers and does not advertise feature-vcpu-hotplug, /.source,
          /so xapi refuses a live vCPU change \(VM_LACKS_FEATURE\)\), disks\[1\] \(added\) /.source,
          /\(the guest has no PV drivers \(its agent has not reported\), and xapi hot-plugs disks only with them /
            .source,
          /\(VM_MISSING_PV_DRIVERS\)\), networkInterfaces\[1\] \(added\) \(.*network interfaces only with them /.source,
          /\(VM_MISSING_PV_DRIVERS\)\) can only change while the VM is halted, and updatePolicy is "fail"/.source,
        ].join(""),
      ),
    );

    const { result: step, lines } = await previewLines(() => updateWith(vm, id, outs, wanted));
    expect(step.diff).toMatchObject({ changes: true, replaces: [] });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^pulumi-xenserver: bare-1: vcpus needs a restart \(the guest has no PV drivers.*; updatePolicy restart\)$/,
        ),
        expect.stringMatching(
          /^pulumi-xenserver: bare-1: disks\[1\] \(added\) needs a restart \(.*VM_MISSING_PV_DRIVERS\); updatePolicy restart\)$/,
        ),
        expect.stringMatching(/^pulumi-xenserver: bare-1: networkInterfaces\[1\] \(added\) needs a restart/),
      ]),
    );
    const after = (await step.run()).outs;
    expect(after.powerState).toBe("Running");
    expect(await xapi.call("VM.get_domid", ref)).not.toBe(domid);
    expect(await xapi.call("VM.get_VCPUs_at_startup", ref)).toBe(2);
    expect((after.networkInterfaces as unknown[]).length).toBe(2);
    expect((after.disks as unknown[]).length).toBe(2);
    await vm.delete(id, after, ctx);
  });

  it("a guest with PV drivers: a read-only disk and a CD drive the VM lacks need a restart; a name and a NIC do not", async () => {
    const program = {
      name: "tools-1",
      template: "Debian Bookworm 12",
      memory: "1GiB",
      networkInterfaces: [{ network: net0 }],
      waitForIp: { timeout: 30 },
    };
    const { id, outs } = await createWith(vm, program);
    const ref = await vmRef(id);
    const domid = await xapi.call<number>("VM.get_domid", ref);

    // A NIC and a new name go live.
    const { result: hot, lines: hotLines } = await previewLines(() =>
      updateWith(vm, id, outs, {
        ...program,
        name: "tools-1b",
        networkInterfaces: [{ network: net0 }, { network: net0 }],
      }),
    );
    expect(hotLines.filter((l) => /needs a restart/.test(l))).toEqual([]);
    const afterHot = (await hot.run()).outs;
    expect(await xapi.call("VM.get_domid", ref)).toBe(domid);

    const wanted = {
      ...program,
      name: "tools-1b",
      networkInterfaces: [{ network: net0 }, { network: net0 }],
      disks: [{}, { size: "1GiB", mode: "RO" }],
      cdrom: "alpine-virt-3.20.3-x86_64.iso",
    };
    const { result: cold, lines } = await previewLines(() => updateWith(vm, id, afterHot, wanted));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /tools-1b: disks\[1\] \(added\) needs a restart \(xapi plugs an HVM guest's disks read-write only \(DISK_VBD_MUST_BE_READWRITE_FOR_HVM\)/,
        ),
        expect.stringMatching(
          /tools-1b: cdrom needs a restart \(the VM has no CD drive, and xapi does not hot-plug an HVM guest's CD drive/,
        ),
      ]),
    );
    const after = (await cold.run()).outs;
    expect(after.powerState).toBe("Running");
    expect(await xapi.call("VM.get_domid", ref)).not.toBe(domid);
    const vbds = Object.values(
      await xapi.call<Record<string, { type: string; mode: string; currently_attached: boolean; empty: boolean }>>(
        "VBD.get_all_records_where",
        `field "VM" = "${ref}"`,
      ),
    );
    // The CD drive holds the ISO and the read-only disk is plugged, both since the restart.
    expect(vbds.filter((b) => b.type === "CD").map((b) => [b.empty, b.currently_attached])).toEqual([[false, true]]);
    expect(vbds.filter((b) => b.type === "Disk" && b.mode === "RO" && b.currently_attached).length).toBeGreaterThan(0);
    await vm.delete(id, after, ctx);
  });

  it("a paused VM: a vCPU change needs a restart (xapi changes vCPUs of a running VM only); it is paused again after", async () => {
    const program = {
      name: "paused-1",
      template: "Debian Bookworm 12",
      vcpus: 1,
      vcpusMax: 2,
      memory: "1GiB",
      powerState: "Paused",
    };
    const { id, outs } = await createWith(vm, program);
    expect(outs.powerState).toBe("Paused");
    const { result: step, lines } = await previewLines(() => updateWith(vm, id, outs, { ...program, vcpus: 2 }));
    expect(lines).toContain(
      "pulumi-xenserver: paused-1: vcpus needs a restart (the VM is paused: xapi plugs devices and changes " +
        "vCPUs and memory of a running VM only; updatePolicy restart)",
    );
    const after = (await step.run()).outs;
    expect(after.powerState).toBe("Paused");
    expect(await xapi.call("VM.get_VCPUs_at_startup", await vmRef(id))).toBe(2);
    await vm.delete(id, after, ctx);
  });

  // A restart is "shut down cleanly, changed and started again". xapi allows only hard_shutdown from Suspended and
  // Paused (xapi_vm_lifecycle.ml allowed_power_states), and a hard shutdown of a suspended VM destroys its suspend
  // image (xapi_vm.ml hard_shutdown): its memory would be lost. So the VM is resumed (or unpaused) first.
  for (const [asleep, wake, wanted] of [
    ["Suspended", "VM.resume", "Running"],
    ["Paused", "VM.unpause", "Paused"],
  ] as const)
    it(`a ${asleep.toLowerCase()} VM restarted for a change is woken (${wake}) and shut down cleanly, not hard`, async () => {
      const program = { name: `asleep-${asleep.toLowerCase()}`, template: "Debian Bookworm 12", vcpus: 1, vcpusMax: 2 };
      const { id, outs } = await createWith(vm, { ...program, powerState: "Running" });
      const ref = await vmRef(id);
      // The guest's agent reports its features (suspend needs them) a moment after boot (guestMetricsDelayMs).
      for (let i = 0; i < 250 && (await xapi.call<string>("VM.get_guest_metrics", ref)) === "OpaqueRef:NULL"; i++)
        await new Promise((r) => setTimeout(r, 20));
      await xapi.call(asleep === "Suspended" ? "VM.suspend" : "VM.pause", ref);
      const step = await updateWith(vm, id, outs, { ...program, vcpus: 2, powerState: wanted });
      const mark = lab!.sim.calls.mark();
      const after = (await step.run()).outs;
      const calls = lab!.sim.calls
        .list({ since: mark })
        .map((c) => c.method.replace(/^Async\./, ""))
        .filter((m) => /^VM\.(resume|unpause|clean_shutdown|hard_shutdown|start|suspend|pause)$/.test(m));
      expect(calls).toEqual([wake, "VM.clean_shutdown", "VM.start"]);
      expect(after.powerState).toBe(wanted);
      expect(await xapi.call("VM.get_VCPUs_at_startup", ref)).toBe(2);
      await vm.delete(id, after, ctx);
    });

  it("a VM asked to be Suspended is suspended once its guest agent has reported (xapi needs the PV drivers)", async () => {
    const program = { name: "sleeper-1", template: "Debian Bookworm 12", powerState: "Suspended" };
    const mark = lab!.sim.calls.mark();
    const { id, outs } = await createWith(vm, program);
    expect(outs.powerState).toBe("Suspended");
    // Then a restart for a change wakes it, shuts it down cleanly, and suspends it again.
    const step = await updateWith(vm, id, outs, { ...program, vcpus: 2 });
    const after = (await step.run()).outs;
    expect(after.powerState).toBe("Suspended");
    const power = lab!.sim.calls
      .list({ since: mark })
      .map((c) => c.method.replace(/^Async\./, ""))
      .filter((m) => /^VM\.(resume|clean_shutdown|hard_shutdown|start|suspend)$/.test(m));
    expect(power).toEqual(["VM.start", "VM.suspend", "VM.resume", "VM.clean_shutdown", "VM.start", "VM.suspend"]);
    expect(lab!.sim.calls.statusPolls({ since: mark })).toEqual([]);
    await vm.delete(id, after, ctx);
  });
});
