// Review findings: failure and ordering cases of the resource modules against the simulator.
import { startSimulator, type Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { closeAll, setConnector, type Xapi } from "../../../provider/resources/common/connection";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ResourceContext, ResourceModule } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import * as network from "../../../provider/resources/network";
import * as sr from "../../../provider/resources/sr";
import * as vdi from "../../../provider/resources/vdi";

let sim: Simulator;
let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
const GiB = 1024 ** 3;

beforeAll(async () => {
  lab = await startPool("pw", { hosts: 2, seed: { hostMemory: 16 * GiB } });
  ({ sim, xapi, ctx } = lab);
});

afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

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

/** What the engine does for one `up`: check, diff, then update or create-before-delete (or delete-before-create). */
async function up(
  mod: ResourceModule,
  id: string,
  state: Record<string, unknown>,
  news: Record<string, unknown>,
  c: ResourceContext,
) {
  const checked = await mod.check({}, news, c);
  expect(checked.failures).toBeUndefined();
  const d = await mod.diff(id, state, checked.inputs!, c);
  if (!d.changes) return state;
  if (!d.replaces?.length) return (await mod.update(id, state, checked.inputs!, c)).outs;
  if (d.deleteBeforeReplace) {
    await mod.delete(id, state, c);
    return (await mod.create(checked.inputs!, c)).outs;
  }
  const made = await mod.create(checked.inputs!, c);
  await mod.delete(id, state, c);
  return made.outs;
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

describe("an adopted object whose connection profile changes", () => {
  // A second profile for the same pool (e.g. a renamed profile, or the pool's new master address).
  const lab = () => {
    const pools = JSON.stringify({ lab: { url: sim.url, username: "root", password: "pw" } });
    return { config: { get: (k: string) => (k === "xenserver:pools" ? pools : ctx.config.get(k)) } } as ResourceContext;
  };

  it("is an update that keeps the adopted disk, network and SR (a replacement adopted them again, then deleted them)", async () => {
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const local = Object.values(srs).find((s) => s.type === "lvm")!.uuid;
    const vdiRef = await xapi.call<string>("VDI.create", {
      SR: await xapi.call("SR.get_by_uuid", local),
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "precious",
    });
    const vdiUuid = await xapi.call<string>("VDI.get_uuid", vdiRef);
    const d = await createWith(vdi, { adopt: vdiUuid, sr: local, name: "precious", identity: "p/s/precious" });
    await up(
      vdi,
      d.id,
      d.outs,
      { adopt: vdiUuid, sr: local, name: "precious", identity: "p/s/precious", connection: "lab" },
      lab(),
    );
    expect(await xapi.call("VDI.get_name_label", vdiRef)).toBe("precious");

    const netRef = await xapi.call<string>("network.create", { name_label: "shared-net", other_config: {} });
    const netUuid = await xapi.call<string>("network.get_uuid", netRef);
    const n = await createWith(network, { adopt: netUuid, name: "shared-net", identity: "p/s/net" });
    await up(
      network,
      n.id,
      n.outs,
      { adopt: netUuid, name: "shared-net", identity: "p/s/net", connection: "lab" },
      lab(),
    );
    expect(await xapi.call("network.get_name_label", netRef)).toBe("shared-net");

    const s = await createWith(sr, { adopt: local, type: "lvm", name: "Local storage", identity: "p/s/local" });
    const moved = await up(
      sr,
      s.id,
      s.outs,
      { adopt: local, type: "lvm", name: "Local storage", identity: "p/s/local", connection: "lab" },
      lab(),
    );
    expect(moved.connection).toBe("lab");
    const srRef = await xapi.call<string>("SR.get_by_uuid", local);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", srRef))
      expect(await xapi.call("PBD.get_currently_attached", pbd)).toBe(true);
  });
});

describe("an adopted object moved to another pool", () => {
  it("fails the update with a clear message and deletes nothing", async () => {
    const other = await startSimulator({ port: 0, username: "root", password: "pw2" });
    try {
      const pools = JSON.stringify({ other: { url: other.url, username: "root", password: "pw2" } });
      const c = {
        config: { get: (k: string) => (k === "xenserver:pools" ? pools : ctx.config.get(k)) },
      } as ResourceContext;
      const netRef = await xapi.call<string>("network.create", { name_label: "keep-me", other_config: {} });
      const netUuid = await xapi.call<string>("network.get_uuid", netRef);
      const n = await createWith(network, { adopt: netUuid, name: "keep-me" });
      const news = (await network.check({}, { adopt: netUuid, name: "keep-me", connection: "other" }, c)).inputs!;
      expect(await network.diff(n.id, n.outs, news)).toMatchObject({ changes: true, replaces: [] });
      await expect(network.update(n.id, n.outs, news, c)).rejects.toThrow(
        /an adopted network cannot move to another pool: change adopt as well/,
      );
      expect(await xapi.call("network.get_name_label", netRef)).toBe("keep-me");
    } finally {
      await closeAll();
      await other.close();
    }
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

describe("a create that fails after the object was made", () => {
  async function count(cls: string, name: string): Promise<number> {
    return (await xapi.call<string[]>(`${cls}.get_by_name_label`, name)).length;
  }
  const srUuid = async () => {
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    return Object.values(srs).find((s) => s.type === "lvm")!.uuid;
  };

  it.each([
    [
      "network",
      "network.get_record",
      async () => ({ mod: network as ResourceModule, news: { name: "half-net", vlan: 88, nic: "eth1" } }),
    ],
    [
      "VDI",
      "VDI.get_record",
      async () => ({ mod: vdi as ResourceModule, news: { name: "half-disk", sr: await srUuid(), size: "1GiB" } }),
    ],
    [
      "SR",
      "SR.get_record",
      async () => ({
        mod: sr as ResourceModule,
        news: { name: "half-sr", type: "nfs", deviceConfig: { server: "192.0.2.50", serverpath: "/exports/half" } },
      }),
    ],
  ] as const)(
    "leaves no %s behind (the engine never learns about it, and the next up makes another)",
    async (cls, failing, make) => {
      const { mod, news } = await make();
      const checked = await mod.check({}, news, ctx);
      expect(checked.failures).toBeUndefined();
      sim.faults.failNext(failing, 1, "INTERNAL_ERROR", ["injected"]);
      await expect(mod.create(checked.inputs!, ctx)).rejects.toThrow(/injected/);
      expect(await count(cls, news.name)).toBe(0);
    },
  );
});

describe("a create whose undo fails too", () => {
  it("says the disk is left behind, with its uuid and how to delete it", async () => {
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const checked = await vdi.check(
      {},
      {
        name: "orphan-disk",
        sr: Object.values(srs).find((s) => s.type === "lvm")!.uuid,
        size: "1GiB",
        identity: "p/s/orphan-disk",
      },
      ctx,
    );
    sim.faults.failNext("VDI.get_record", 1, "INTERNAL_ERROR", ["injected"]);
    sim.faults.failNext("VDI.destroy", 1, "INTERNAL_ERROR", ["undo refused"]);
    const err = (await vdi.create(checked.inputs!, ctx).catch((e) => e)) as Error;
    const [left] = await xapi.call<string[]>("VDI.get_by_name_label", "orphan-disk");
    const uuid = await xapi.call<string>("VDI.get_uuid", left);
    expect(err.message).toMatch(/injected/);
    expect(err.message).toMatch(/undo refused/);
    expect(err.message).toContain(`left behind, not in the stack's state. Find it as uuid ${uuid}`);
    expect(err.message).toContain(`xe vdi-destroy uuid=${uuid}`);
    await xapi.call("VDI.destroy", left);
  });
});

describe("an SR attach whose undo fails too", () => {
  it("says to forget the SR (never to destroy it: the data on the storage is the user's)", async () => {
    const nfs = {
      type: "nfs",
      name: "attach-undo",
      deviceConfig: { server: "192.0.2.70", serverpath: "/exports/undo" },
    };
    const made = await createWith(sr, nfs);
    await sr.delete(made.id, made.outs, ctx); // forgotten, storage kept
    const checked = await sr.check({}, { ...nfs, mode: "attach", existingUuid: made.id }, ctx);
    sim.faults.failNext("SR.get_record", 1, "INTERNAL_ERROR", ["injected"]);
    sim.faults.failNext("PBD.unplug", 1, "INTERNAL_ERROR", ["unplug refused"]);
    const err = (await sr.create(checked.inputs!, ctx).catch((e) => e)) as Error;
    expect(err.message).toMatch(/injected/);
    expect(err.message).toContain(
      `Find it as uuid ${made.id} and forget it (its data stays on the storage) by hand (xe sr-forget uuid=${made.id})`,
    );
    expect(err.message).not.toMatch(/sr-destroy/);
    const ref = await xapi.call<string>("SR.get_by_uuid", made.id);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", ref))
      if (await xapi.call("PBD.get_currently_attached", pbd)) await xapi.call("PBD.unplug", pbd);
    await xapi.call("SR.forget", ref);
  });
});

describe("a disk whose upload fails", () => {
  it("names the disk and the image in the error, and leaves no disk behind", async () => {
    const image = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pxs-")), "golden.img");
    fs.writeFileSync(image, Buffer.alloc(2 * 1024 * 1024, 7));
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const checked = await vdi.check(
      {},
      { name: "failing-upload", sr: Object.values(srs).find((s) => s.type === "lvm")!.uuid, source: { path: image } },
      ctx,
    );
    expect(checked.failures).toBeUndefined();
    // The upload itself fails as a 500 from xapi would reach the client.
    setConnector(async (s) => {
      const real = (await XapiClient.connect({
        url: s.url,
        username: s.username,
        password: s.password,
      })) as unknown as Xapi;
      return new Proxy(real, {
        get: (t, k) =>
          k === "importRawVdi"
            ? async () => Promise.reject(new Error("PUT /import_raw_vdi on sim-host-1: HTTP 500"))
            : Reflect.get(t, k),
      });
    });
    try {
      const err = (await vdi.create(checked.inputs!, ctx).catch((e) => e)) as Error;
      expect(err.message).toBe(
        `uploading ${image} to disk "failing-upload": PUT /import_raw_vdi on sim-host-1: HTTP 500`,
      );
      expect(await xapi.call<string[]>("VDI.get_by_name_label", "failing-upload")).toEqual([]);
    } finally {
      await closeAll();
      setConnector(undefined);
    }
  });
});

describe("a local SR whose host is written another way", () => {
  it("is the same SR (restating it must not format the disk again); another host replaces it", async () => {
    const hosts =
      await xapi.call<Record<string, { uuid: string; name_label: string; hostname: string }>>("host.get_all_records");
    const [pool] = await xapi.call<string[]>("pool.get_all");
    const master = hosts[await xapi.call<string>("pool.get_master", pool)];
    const other = Object.values(hosts).find((h) => h.uuid !== master.uuid)!;
    const made = await createWith(sr, {
      type: "ext",
      name: "scratch",
      host: other.name_label,
      deviceConfig: { device: "/dev/sdc" },
    });
    for (const host of [other.uuid, other.hostname, other.uuid.toUpperCase()]) {
      const { diff } = await updateWith(sr, made.id, made.outs, {
        type: "ext",
        name: "scratch",
        host,
        deviceConfig: { device: "/dev/sdc" },
      });
      expect(diff).toMatchObject({ changes: false, replaces: [] });
    }
    const moved = await updateWith(sr, made.id, made.outs, {
      type: "ext",
      name: "scratch",
      host: master.name_label,
      deviceConfig: { device: "/dev/sdc" },
    });
    expect(moved.diff).toMatchObject({ changes: true, replaces: ["host"], deleteBeforeReplace: true });
    // Left out, the host is the master: an SR made on the master without naming it stays put when it is named.
    const onMaster = await createWith(sr, { type: "ext", name: "scratch-m", deviceConfig: { device: "/dev/sdd" } });
    const named = await updateWith(sr, onMaster.id, onMaster.outs, {
      type: "ext",
      name: "scratch-m",
      host: master.hostname,
      deviceConfig: { device: "/dev/sdd" },
    });
    expect(named.diff).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("a created object that the program then adopts by its own uuid", () => {
  it("is kept (a replacement adopted it, then deleted it)", async () => {
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const local = Object.values(srs).find((s) => s.type === "lvm")!.uuid;
    const d = await createWith(vdi, { sr: local, name: "mine", size: "1GiB", identity: "p/s/mine" });
    const after = await up(vdi, d.id, d.outs, { adopt: d.id, sr: local, name: "mine", identity: "p/s/mine" }, ctx);
    expect(await xapi.call("VDI.get_name_label", await xapi.call<string>("VDI.get_by_uuid", d.id))).toBe("mine");
    expect(after.adopt).toBe(d.id);

    const n = await createWith(network, { name: "mine-net", identity: "p/s/mine-net" });
    await up(network, n.id, n.outs, { adopt: n.id, name: "mine-net", identity: "p/s/mine-net" }, ctx);
    expect(await xapi.call("network.get_name_label", await xapi.call<string>("network.get_by_uuid", n.id))).toBe(
      "mine-net",
    );

    const nfs = {
      type: "nfs",
      name: "mine-sr",
      deviceConfig: { server: "192.0.2.60", serverpath: "/exports/mine" },
      identity: "p/s/mine-sr",
    };
    const s = await createWith(sr, { ...nfs, destroyOnDelete: true });
    await up(sr, s.id, s.outs, { adopt: s.id, type: "nfs", name: "mine-sr", identity: "p/s/mine-sr" }, ctx);
    const ref = await xapi.call<string>("SR.get_by_uuid", s.id);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", ref))
      expect(await xapi.call("PBD.get_currently_attached", pbd)).toBe(true);
  });
});
