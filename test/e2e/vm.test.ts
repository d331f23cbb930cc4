// Vm through the real engine against a 3-host simulator, with this package installed from its tarball:
// 3 VMs made in parallel (two NICs, cloud-init naming the guests, waitForIp, one with a Vdi resource disk) →
// preview with no changes → a hot change (no restart in the call log) → a cold change (clean shutdown and start in
// the call log) → a replacement that keeps the Vdi resource's disk → power state changed out of band, refresh + up
// → VM deleted out of band, re-created → Vm.get() of a hand-made VM reads it and manages nothing → adopting it
// previews as no changes → destroy leaves nothing → no status polling anywhere in the run.
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

const password = "vm-e2e-pw";

const program = `
const xen = require("pulumi-xenserver");
module.exports = async (a) => {
  const pool = await xen.getPool();
  const net0 = await xen.getNetwork({ name: "Pool-wide network associated with eth0" });
  const net1 = await xen.getNetwork({ name: "Pool-wide network associated with eth1" });
  const data = new xen.Vdi("data", { sr: pool.defaultSrUuid, name: "e2e-data", size: "1GiB" });
  const out = { data: data.uuid };
  for (const i of [1, 2, 3]) {
    const vm = new xen.Vm("vm-" + i, {
      name: "vm-" + i,
      template: i === 1 ? a.template1 : "Debian Bookworm 12",
      vcpus: a.vcpus,
      vcpusMax: 4,
      memory: a.memory,
      disks: i === 1 ? [{ size: "12GiB" }, { vdi: data.uuid }] : [{}],
      networkInterfaces: [{ network: net0.uuid }, { network: net1.uuid }],
      // The guest's hostname (web-N) differs from the VM's name: it can only come from the config drive.
      cloudInit: {
        userData: "#cloud-config\\npackage_update: true\\n",
        metaData: "instance-id: vm-" + i + "\\nlocal-hostname: web-" + i + "\\n",
      },
      waitForIp: { timeout: 60 },
    });
    out["vm" + i] = { uuid: vm.uuid, ips: vm.ipAddresses, host: vm.residentOnName, power: vm.powerState, disks: vm.disks };
  }
  if (a.get) {
    const got = xen.Vm.get("got", a.get);
    out.got = { uuid: got.uuid, name: got.name, power: got.powerState, nics: got.networkInterfaces };
  }
  if (a.adopt) {
    const adopted = new xen.Vm("adopted", { adopt: a.adopt, name: "by-hand" });
    out.adopted = adopted.uuid;
  }
  return out;
};
`;

describe("Vm through the real engine (3-host simulator)", () => {
  let sim: Simulator;
  let xapi: XapiClient;
  const stack = new E2EStack("vm");
  let config: Record<string, { value: string; secret?: boolean }>;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password, hosts: 3, guestMetricsDelayMs: 300 });
    xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
    config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: password, secret: true },
    };
  });
  afterAll(async () => {
    await xapi.close();
    await sim.close();
    stack.dispose();
  });

  const base = { template1: "Debian Bookworm 12", vcpus: 1, memory: "1GiB", adopt: "", get: "" };
  let args = { ...base };
  const run = (ops: string[], change: Partial<typeof base> = {}) => {
    args = { ...args, ...change };
    return stack.run(ops, { programSource: program, config, programArgs: args });
  };
  type VmOut = { uuid: string; ips: string[]; host: string; power: string; disks: Array<{ vdiUuid: string }> };
  const vmOut = (outs: Record<string, { value: unknown }> | undefined, i: number) => outs![`vm${i}`].value as VmOut;
  const ref = (uuid: string) => xapi.call<string>("VM.get_by_uuid", uuid);
  const methodsSince = (mark: number) => sim.calls.list({ since: mark }).map((c) => c.method.replace(/^Async\./, ""));

  async function stackObjects(): Promise<string[]> {
    const found: string[] = [];
    for (const cls of ["VM", "VDI"]) {
      const recs = await xapi.call<Record<string, { other_config: Record<string, string>; uuid: string }>>(
        `${cls}.get_all_records`,
      );
      for (const r of Object.values(recs))
        if (r.other_config["pulumi-xenserver:stack"] === "xenserver-e2e/vm") found.push(`${cls}:${r.uuid}`);
    }
    return found;
  }

  it("runs the whole VM lifecycle", async () => {
    const vdisBefore = (await xapi.call<string[]>("VDI.get_all")).length;
    const vbdsBefore = (await xapi.call<string[]>("VBD.get_all")).length;
    const vifsBefore = (await xapi.call<string[]>("VIF.get_all")).length;

    // 3 VMs in parallel, each running with addresses; the guests' hostnames come from cloud-init's meta-data.
    const [up, preview] = await run(["up", "preview"]);
    expect(up.changes.create).toBe(5); // the stack, the Vdi and 3 VMs
    // One read of every guest-metrics record (not a status getter, so the test adds no polling of its own).
    const metrics = await xapi.call<Record<string, { netbios_name: Record<string, string> }>>(
      "VM_guest_metrics.get_all_records",
    );
    for (const i of [1, 2, 3]) {
      const v = vmOut(up.outputs, i);
      expect(v.power).toBe("Running");
      expect(v.ips.length).toBeGreaterThan(0);
      expect(v.host).toMatch(/./);
      const [record] = Object.values(
        await xapi.call<Record<string, { guest_metrics: string }>>(
          "VM.get_all_records_where",
          `field "uuid" = "${v.uuid}"`,
        ),
      );
      expect(metrics[record.guest_metrics].netbios_name.host_name).toBe(`web-${i}`);
    }
    expect(Object.keys(preview.changes)).toEqual(["same"]);
    const vm1 = vmOut(up.outputs, 1);
    const data = up.outputs!.data.value as string;
    expect(vm1.disks[1].vdiUuid).toBe(data);

    // Hot: vCPUs within vcpusMax: applied live, no shutdown, no start.
    const domids = async () =>
      Promise.all([1, 2, 3].map(async (i) => xapi.call<number>("VM.get_domid", await ref(vmOut(up.outputs, i).uuid))));
    const before = await domids();
    let mark = sim.calls.mark();
    const [hot] = await run(["up"], { vcpus: 2 });
    expect(hot.changes.update).toBe(3);
    expect(methodsSince(mark)).toEqual(expect.arrayContaining(["VM.set_VCPUs_number_live"]));
    expect(methodsSince(mark).filter((m) => /shutdown|VM\.start|reboot/.test(m))).toEqual([]);
    expect(await domids()).toEqual(before);

    // Cold: static memory: each VM shut down cleanly, changed and started again.
    mark = sim.calls.mark();
    const [cold] = await run(["up"], { memory: "2GiB" });
    expect(cold.changes.update).toBe(3);
    const coldCalls = methodsSince(mark);
    expect(coldCalls.filter((m) => m === "VM.clean_shutdown").length).toBe(3);
    expect(coldCalls.filter((m) => m === "VM.start").length).toBe(3);
    expect(coldCalls.filter((m) => m === "VM.hard_shutdown").length).toBe(0);

    // Replace: a new template for vm-1; the Vdi resource's disk survives and is attached to the new VM.
    const [replaced] = await run(["up"], { template1: "Debian Bullseye 11" });
    expect(replaced.changes.replace).toBe(1);
    const newVm1 = vmOut(replaced.outputs, 1);
    expect(newVm1.uuid).not.toBe(vm1.uuid);
    expect(newVm1.disks[1].vdiUuid).toBe(data);
    await expect(ref(vm1.uuid)).rejects.toThrow(/UUID_INVALID/);

    // Power state changed out of band: refresh sees it, up starts the VM again.
    const vm2 = vmOut(replaced.outputs, 2);
    await xapi.call("VM.hard_shutdown", await ref(vm2.uuid));
    const [, fixed] = await run(["refresh", "up"]);
    expect(fixed.changes.update).toBe(1);
    expect(await xapi.call("VM.get_power_state", await ref(vm2.uuid))).toBe("Running");

    // Deleted out of band: re-created.
    const vm3 = vmOut(replaced.outputs, 3);
    const r3 = await ref(vm3.uuid);
    await xapi.call("VM.hard_shutdown", r3);
    // As XenCenter's "delete VM" does: the VM and its disks (VM.destroy alone leaves the VDIs).
    const vbds3 = await xapi.call<string[]>("VM.get_VBDs", r3);
    const vdis3 = await Promise.all(vbds3.map((b) => xapi.call<string>("VBD.get_VDI", b)));
    await xapi.call("VM.destroy", r3);
    for (const v of vdis3) if (v !== "OpaqueRef:NULL") await xapi.call("VDI.destroy", v);
    const [, recreated] = await run(["refresh", "up"]);
    expect(recreated.changes.create).toBe(1);
    expect(vmOut(recreated.outputs, 3).uuid).not.toBe(vm3.uuid);

    // Adopting a VM made by hand: previews as no changes afterwards.
    const templates = await xapi.call<Record<string, unknown>>(
      "VM.get_all_records_where",
      'field "name__label" = "Debian Bookworm 12" and field "is_a_template" = "true"',
    );
    const hand = await xapi.call<string>("VM.clone", Object.keys(templates)[0], "by-hand");
    await xapi.call("VM.remove_from_other_config", hand, "disks"); // a diskless VM is enough here
    await xapi.call("VM.provision", hand);
    await xapi.call("VM.start", hand, false, false);
    const handUuid = await xapi.call<string>("VM.get_uuid", hand);
    // Vm.get() through the engine: the hand-made VM is read, not managed; dropping the reference leaves it.
    const [got] = await run(["up"], { get: handUuid });
    expect(got.outputs!.got.value).toMatchObject({ uuid: handUuid, name: "by-hand", power: "Running", nics: [] });
    const [adopted, adoptPreview] = await run(["up", "preview"], { get: "", adopt: handUuid });
    expect(adopted.changes.create).toBe(1);
    expect(adopted.outputs!.adopted.value).toBe(handUuid);
    expect(Object.keys(adoptPreview.changes)).toEqual(["same"]);
    expect(await xapi.call("VM.get_name_label", hand)).toBe("by-hand");

    // Destroy: no VM, VBD, VIF or VDI the stack made is left (the adopted VM went with it).
    const [destroyed] = await run(["destroy"]);
    expect(destroyed.changes.delete).toBeGreaterThanOrEqual(6);
    expect(await stackObjects()).toEqual([]);
    expect((await xapi.call<string[]>("VDI.get_all")).length).toBe(vdisBefore);
    expect((await xapi.call<string[]>("VBD.get_all")).length).toBe(vbdsBefore);
    expect((await xapi.call<string[]>("VIF.get_all")).length).toBe(vifsBefore);
    // No status polling anywhere in the run (the simulator's call log, per session: each pulumi command is one).
    expect(sim.calls.statusPolls()).toEqual([]);
  }, 1_200_000);
});
