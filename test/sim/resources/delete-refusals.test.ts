// Deletes that XAPI would refuse part-way are refused before anything is torn down: the object stays in service.
import { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Sr: sr } = resourceKinds;

let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
const GiB = 1024 ** 3;

beforeAll(async () => {
  lab = await startPool("pw", { hosts: 2, seed: { hostMemory: 16 * GiB } });
  ({ xapi, ctx } = lab);
});

afterAll(() => stopPool(lab));

const { createWith } = resourceSteps(() => ctx);

/** A running VM with a VIF on `net`. */
async function runningVmOn(net: string, name: string): Promise<string> {
  const [tpl] = await xapi.call<string[]>("VM.get_by_name_label", "Other install media");
  const vm = await xapi.call<string>("VM.clone", tpl, name);
  await xapi.call("VM.provision", vm);
  await xapi.call("VIF.create", {
    device: "0",
    network: net,
    VM: vm,
    MAC: "",
    MTU: 1500,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
  await xapi.call("VM.start", vm, false, false);
  return vm;
}

describe("Network delete while a running VM uses it", () => {
  it("refuses without tearing down the VLANs first", async () => {
    const { id, outs } = await createWith(network, { name: "guests", vlan: 77, nic: "eth1", identity: "p/s/guests" });
    const ref = await xapi.call<string>("network.get_by_uuid", id);
    const vmUuid = await xapi.call<string>("VM.get_uuid", await runningVmOn(ref, "web"));
    const err = await network.delete(id, outs, ctx).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/NETWORK_CONTAINS_VIF/);
    // The message names the VM (name and uuid) and the network, never an OpaqueRef.
    expect(err?.message).toContain(`"web" (${vmUuid})`);
    expect(err?.message).toContain(`network ${id} ("guests")`);
    expect(err?.message).not.toMatch(/OpaqueRef/);
    // The network is still in service: its VLAN PIFs are still there and plugged.
    const pifs = await xapi.call<string[]>("network.get_PIFs", ref);
    expect(pifs).toHaveLength(2);
  });
});

describe("Sr destroyOnDelete on an indestructible SR", () => {
  it("refuses before unplugging, so the SR stays in service", async () => {
    const { id, outs } = await createWith(sr, {
      type: "nfs",
      name: "keep",
      deviceConfig: { server: "192.0.2.30", serverpath: "/exports/keep" },
      destroyOnDelete: true,
    });
    const ref = await xapi.call<string>("SR.get_by_uuid", id);
    await xapi.call("SR.add_to_other_config", ref, "indestructible", "true");
    await expect(sr.delete(id, outs, ctx)).rejects.toThrow(/SR_INDESTRUCTIBLE|indestructible/);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", ref))
      expect(await xapi.call("PBD.get_currently_attached", pbd)).toBe(true);
  });
});

describe("Sr delete while a VM on the master uses one of its disks", () => {
  it("refuses before unplugging any PBD, so the SR stays plugged on every host", async () => {
    const { id, outs } = await createWith(sr, {
      type: "nfs",
      name: "busy",
      deviceConfig: { server: "192.0.2.40", serverpath: "/exports/busy" },
    });
    const ref = await xapi.call<string>("SR.get_by_uuid", id);
    const disk = await xapi.call<string>("VDI.create", {
      SR: ref,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "in-use",
    });
    const [tpl] = await xapi.call<string[]>("VM.get_by_name_label", "Other install media");
    const vm = await xapi.call<string>("VM.clone", tpl, "db");
    await xapi.call("VM.provision", vm);
    await xapi.call("VBD.create", {
      VM: vm,
      VDI: disk,
      userdevice: "1",
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      unpluggable: true,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    const [pool] = await xapi.call<string[]>("pool.get_all");
    await xapi.call("VM.start_on", vm, await xapi.call<string>("pool.get_master", pool), false, false);
    const err = await sr.delete(id, outs, ctx).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/VDI_IN_USE/);
    expect(err?.message).toContain(`"in-use" (used by "db" (${await xapi.call<string>("VM.get_uuid", vm)}))`);
    expect(err?.message).not.toMatch(/OpaqueRef/);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", ref))
      expect(await xapi.call("PBD.get_currently_attached", pbd)).toBe(true);
  });
});
