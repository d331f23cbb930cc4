// Which object a resource is: adopted objects across a connection-profile change or a move to another pool,
// a local SR whose host is written another way, and a created object the program then adopts by its own uuid.
import { startSimulator, type Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { closeAll } from "../../../provider/resources/common/connection";
import type { ResourceContext, EngineResource } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Sr: sr, Vdi: vdi } = resourceKinds;

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

/** What the engine does for one `up`: check, diff, then update or create-before-delete (or delete-before-create). */
async function up(
  mod: EngineResource,
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
