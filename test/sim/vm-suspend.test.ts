/**
 * Where VM.suspend puts the suspend image and how big it is (xapi-project/xen-api ocaml/xapi/):
 * helpers.ml choose_suspend_sr / host_has_pbd_for_sr, xapi_xenops.ml suspend, xapi_vm_snapshot.ml checkpoint.
 */
import { startSimulator, Simulator } from "../../simulator";
import { templateNamed } from "./helpers/install";
import { Client, expectError, Rec } from "./helpers/rpc";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const NULL = "OpaqueRef:NULL";

/** xapi_xenops.ml suspend: static_max × 1.2 × 1.05 (Int64.of_float truncates) + 100 MiB. */
const imageSize = (staticMax: number) => Math.trunc(staticMax * 1.2 * 1.05) + 100 * MiB;
/** The VHD-based drivers round a new volume up to 2 MiB. */
const vhdRounded = (n: number) => Math.ceil(n / (2 * MiB)) * 2 * MiB;

/** A diskless PV-in-PVH VM (it suspends without a guest agent) with static_max 1 GiB. */
async function disklessVm(c: Client, name: string): Promise<string> {
  const vm = await c.call<string>("VM.clone", await templateNamed(c, "CentOS 6 (64-bit)"), name);
  await c.call("VM.remove_from_other_config", vm, "disks");
  await c.call("VM.provision", vm);
  await c.call("VM.set_memory_limits", vm, 512 * MiB, GiB, GiB, GiB);
  return vm;
}

describe("the suspend SR (helpers.ml choose_suspend_sr)", () => {
  let sim: Simulator;
  let c: Client;
  let pool: string;
  let hosts: string[];
  let local: string[]; // each host's local SR
  let nfs: string;
  beforeAll(async () => {
    sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0, hosts: 2, seed: { nfs: true } });
    c = await new Client(sim.url).login();
    [pool] = await c.call<string[]>("pool.get_all");
    const master = await c.call<string>("pool.get_master", pool);
    const all = await c.call<string[]>("host.get_all");
    hosts = [master, ...all.filter((h) => h !== master)];
    local = await Promise.all(hosts.map((h) => c.call<string>("host.get_suspend_image_sr", h)));
    [nfs] = await c.call<string[]>("SR.get_by_name_label", "NFS storage");
  });
  afterAll(() => sim.close());

  const imageSr = async (vm: string) => c.call<string>("VDI.get_SR", await c.call<string>("VM.get_suspend_VDI", vm));

  async function suspendedOn(name: string, host: number, suspendSr = NULL): Promise<string> {
    const vm = await disklessVm(c, name);
    await c.call("VM.set_suspend_SR", vm, suspendSr);
    await c.call("VM.start_on", vm, hosts[host], false, false);
    await c.call("VM.suspend", vm);
    return vm;
  }

  it("seeds each host's suspend_image_sr with its local SR and the pool's with the master's", async () => {
    expect(local[0]).not.toBe(local[1]);
    expect(await c.call("SR.get_name_label", local[1])).toBe("Local storage");
    expect(await c.call("pool.get_suspend_image_SR", pool)).toBe(local[0]);
  });

  it("takes VM.suspend_SR first when the VM's host sees it", async () => {
    const vm = await suspendedOn("own-sr", 1, nfs);
    expect(await imageSr(vm)).toBe(nfs);
  });

  it("skips a VM.suspend_SR the host has no PBD for, then takes the pool's suspend_image_SR", async () => {
    const vm = await suspendedOn("pool-sr", 0, local[1]);
    expect(await imageSr(vm)).toBe(local[0]);
  });

  it("falls back to the resident host's suspend_image_sr when the pool's is not visible from it", async () => {
    const vm = await suspendedOn("host-sr", 1);
    expect(await imageSr(vm)).toBe(local[1]);
  });

  it("refuses with VM_NO_SUSPEND_SR [vm ref] when none is visible, and the VM keeps running", async () => {
    const vm = await disklessVm(c, "no-sr");
    await c.call("VM.start_on", vm, hosts[1], false, false);
    await c.call("host.set_suspend_image_sr", hosts[1], NULL);
    try {
      await expectError(c.call("VM.suspend", vm), "VM_NO_SUSPEND_SR", [vm]);
      expect(await c.call("VM.get_power_state", vm)).toBe("Running");
    } finally {
      await c.call("host.set_suspend_image_sr", hosts[1], local[1]);
    }
  });

  it("makes an image of static_max × 1.2 × 1.05 + 100 MiB, fully allocated (xapi_xenops.ml suspend)", async () => {
    const vm = await suspendedOn("sized", 0, nfs);
    const uuid = await c.call<string>("VM.get_uuid", vm);
    const vdi = await c.call<Rec>("VDI.get_record", await c.call<string>("VM.get_suspend_VDI", vm));
    expect(imageSize(GiB)).toBe(1457772298);
    expect(vdi).toMatchObject({
      name_label: "Suspend image",
      name_description: "Suspend image",
      type: "suspend",
      virtual_size: vhdRounded(imageSize(GiB)),
    });
    expect(vdi.sm_config).toMatchObject({ vmhint: uuid, initial_allocation: String(imageSize(GiB)) });
  });

  it("a checkpoint's image is a snapshot of the image suspend would make, in the same SR (xapi_vm_snapshot.ml checkpoint)", async () => {
    const vm = await disklessVm(c, "checkpointed");
    await c.call("VM.set_suspend_SR", vm, nfs);
    await c.call("VM.start_on", vm, hosts[0], false, false);
    const snap = await c.call<string>("VM.checkpoint", vm, "cp");
    const image = await c.call<Rec>("VDI.get_record", await c.call<string>("VM.get_suspend_VDI", snap));
    expect(image).toMatchObject({ SR: nfs, type: "suspend", is_a_snapshot: true });
    expect(image.virtual_size).toBe(vhdRounded(imageSize(GiB)));
    // The VM is running again and holds no image of its own.
    expect(await c.call("VM.get_suspend_VDI", vm)).toBe(NULL);
    expect(await c.call("VM.get_power_state", vm)).toBe("Running");
  });
});

describe("a full suspend SR (xapi_xenops.ml suspend)", () => {
  it("is SR_SUSPEND_SPACE_INSUFFICIENT [sr] rather than the storage backend's error", async () => {
    const sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0, seed: { localSrSize: GiB } });
    try {
      const c = await new Client(sim.url).login();
      const [pool] = await c.call<string[]>("pool.get_all");
      const sr = await c.call<string>("pool.get_suspend_image_SR", pool);
      const vm = await disklessVm(c, "too-big-to-suspend");
      await c.call("VM.start", vm, false, false);
      await expectError(c.call("VM.suspend", vm), "SR_SUSPEND_SPACE_INSUFFICIENT", [sr]);
      expect(await c.call("VM.get_power_state", vm)).toBe("Running");
      expect(await c.call("VM.get_suspend_VDI", vm)).toBe(NULL);
    } finally {
      await sim.close();
    }
  });
});
