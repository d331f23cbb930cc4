// Each resource's whole lifecycle against the simulator, calling the resource
// modules as the dynamic provider does (no engine): check, create, read, update,
// delete, plus the check failures that need a look at the pool.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { closeAll } from "../../../provider/resources/common/connection";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi } = resourceKinds;

let sim: Simulator;
let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

beforeAll(async () => {
  lab = await startPool("s3cret-pw", { hosts: 2 });
  ({ sim, xapi, ctx } = lab);
});

afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

async function localSrUuid(): Promise<string> {
  const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
  return Object.values(srs).find((s) => s.type === "lvm")!.uuid;
}

describe("Network", () => {
  it("creates a VLAN network on every host, updates MTU in place, and destroys VLANs with it", async () => {
    const { id, outs, checked } = await createWith(network, {
      name: "storage",
      vlan: 42,
      nic: "NIC 1",
      mtu: 9000,
      otherConfig: { owner: "infra" },
      identity: "lab/dev/storage",
    });
    expect((outs.pifs as string[]).length).toBe(2); // one VLAN PIF per host
    const ref = await xapi.call<string>("network.get_by_uuid", id);
    const rec = await xapi.call<{ MTU: number; other_config: Record<string, string> }>("network.get_record", ref);
    expect(rec.MTU).toBe(9000);
    expect(rec.other_config).toMatchObject({
      owner: "infra",
      "pulumi-xenserver:stack": "lab/dev",
      "pulumi-xenserver:resource": "storage",
    });

    // A key another tool adds is not drift; a key the program owns is.
    await xapi.call("network.add_to_other_config", ref, "xo:managed", "yes");
    await xapi.call("network.remove_from_other_config", ref, "owner");
    const refreshed = await network.read(id, outs, ctx);
    expect(refreshed.inputs?.otherConfig).toEqual({});
    expect((await network.diff(id, refreshed.props!, checked)).changes).toBe(true);

    const u = await updateWith(network, id, outs, { ...checked, mtu: 1500 });
    expect(u.diff).toMatchObject({ changes: true, replaces: [] });
    await u.run();
    expect(await xapi.call("network.get_MTU", ref)).toBe(1500);
    const after = await xapi.call<Record<string, string>>("network.get_other_config", ref);
    expect(after).toMatchObject({ owner: "infra", "xo:managed": "yes" });

    await network.delete(id, outs, ctx);
    expect(await network.read(id, outs, ctx)).toEqual({ id: "" });
    const vlans = await xapi.call<Record<string, { tag: number }>>("VLAN.get_all_records");
    expect(Object.values(vlans).filter((v) => v.tag === 42)).toHaveLength(0);
  });

  it("creates a bond over two NICs on every host and removes it on delete", async () => {
    const { id, outs } = await createWith(network, {
      name: "bonded",
      bond: { nics: ["eth2", "eth3"], mode: "active-backup" },
    });
    const bonds = await xapi.call<Record<string, { mode: string }>>("Bond.get_all_records");
    expect(Object.values(bonds).map((b) => b.mode)).toEqual(["active-backup", "active-backup"]);
    await network.delete(id, outs, ctx);
    expect(Object.keys(await xapi.call("Bond.get_all_records"))).toHaveLength(0);
  });

  it("refuses to delete a VLAN network that carries management, before removing any host's VLAN", async () => {
    const { id, outs } = await createWith(network, { name: "mgmt-vlan", vlan: 77, nic: "eth1" });
    const ref = await xapi.call<string>("network.get_by_uuid", id);
    const [pif] = await xapi.call<string[]>("network.get_PIFs", ref);
    sim.store.set("PIF", pif, "management", true); // as if host.management_reconfigure had moved it here
    await expect(network.delete(id, outs, ctx)).rejects.toThrow(
      /carries the management interface of sim-host-\d; move management to another network/,
    );
    const vlans = await xapi.call<Record<string, { tag: number }>>("VLAN.get_all_records");
    expect(Object.values(vlans).filter((v) => v.tag === 77)).toHaveLength(2);
    sim.store.set("PIF", pif, "management", false);
    await network.delete(id, outs, ctx);
  });

  it("rejects an unknown NIC at check, listing the pool's NICs", async () => {
    const r = await network.check({}, { name: "x", vlan: 5, nic: "eth9" }, ctx);
    expect(r.failures?.[0]).toMatchObject({ property: "nic" });
    expect(r.failures?.[0].reason).toMatch(/unknown NIC "eth9"; this pool's NICs are eth0, eth1, eth2, eth3/);
  });

  it("rejects a bond over a NIC that one host lacks, naming the host", async () => {
    const solo = await startSimulator({ port: 0, username: "root", password: "s3cret-pw", hosts: 2 });
    try {
      const settings: Record<string, string> = {
        "xenserver:url": solo.url,
        "xenserver:username": "root",
        "xenserver:password": "s3cret-pw",
      };
      const soloCtx: ResourceContext = { config: { get: (k: string) => settings[k] } };
      const c = await XapiClient.connect({ url: solo.url, username: "root", password: "s3cret-pw" });
      const pifs = await c.call<Record<string, { device: string; host: string }>>("PIF.get_all_records");
      const hosts = await c.call<Record<string, { name_label: string }>>("host.get_all_records");
      const [ref, pif] = Object.entries(pifs).find(
        ([, p]) => p.device === "eth3" && hosts[p.host].name_label === "sim-host-2",
      )!;
      void pif;
      await c.call("PIF.forget", ref);
      await c.close();
      const r = await network.check({}, { name: "b", bond: { nics: ["eth2", "eth3"] } }, soloCtx);
      expect(r.failures?.[0].reason).toMatch(
        /bond.nics: host sim-host-2 has no NIC "eth3" \(it has eth0, eth1, eth2\)/,
      );
    } finally {
      await closeAll();
      await solo.close();
    }
  });

  it("adopts an existing network and converges its name", async () => {
    const ref = await xapi.call<string>("network.create", {
      name_label: "legacy",
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: ["keep"],
    });
    const uuid = await xapi.call<string>("network.get_uuid", ref);
    const { id, outs } = await createWith(network, { name: "renamed", adopt: uuid, tags: ["managed"] });
    expect(id).toBe(uuid);
    expect(await xapi.call("network.get_name_label", ref)).toBe("renamed");
    expect((await xapi.call<string[]>("network.get_tags", ref)).sort()).toEqual(["keep", "managed"]);
    await network.delete(id, outs, ctx);
  });
});

describe("Pool", () => {
  it("adopts the pool, sets fields and leaves the pool in place on delete", async () => {
    const { id, outs, checked } = await createWith(pool, {
      name: "lab",
      otherConfig: { env: "test" },
      identity: "lab/dev/pool",
    });
    const [ref] = await xapi.call<string[]>("pool.get_all");
    expect(id).toBe(await xapi.call("pool.get_uuid", ref));
    expect(await xapi.call("pool.get_name_label", ref)).toBe("lab");
    expect((outs.hosts as string[]).length).toBe(2);
    expect((await pool.read(id, outs, ctx)).inputs).toMatchObject({ name: "lab", otherConfig: { env: "test" } });
    const u = await updateWith(pool, id, outs, { ...checked, otherConfig: {} });
    await u.run();
    expect(await xapi.call<Record<string, string>>("pool.get_other_config", ref)).not.toHaveProperty("env");
    await pool.delete(id, outs, ctx);
    expect(await xapi.call<string[]>("pool.get_all")).toEqual([ref]);
  });

  it("keeps the pool (and its identity keys) when the connection profile changes, and refuses another pool", async () => {
    const { id, outs, checked } = await createWith(pool, { otherConfig: { env: "lab" }, identity: "lab/dev/pool" });
    const other = await startSimulator({ port: 0, username: "root", password: "s3cret-pw" });
    try {
      const pools = JSON.stringify({
        alias: { url: sim.url, username: "root", password: "s3cret-pw" },
        elsewhere: { url: other.url, username: "root", password: "s3cret-pw" },
      });
      const withPools: ResourceContext = {
        config: { get: (k: string) => (k === "xenserver:pools" ? pools : ctx.config.get(k)) },
      };
      const news = { ...checked, connection: "alias" };
      expect(await pool.diff(id, outs, news)).toMatchObject({ changes: true, replaces: [] });
      const moved = await pool.update(id, outs, news, withPools);
      const [ref] = await xapi.call<string[]>("pool.get_all");
      expect(await xapi.call<Record<string, string>>("pool.get_other_config", ref)).toMatchObject({
        env: "lab",
        "pulumi-xenserver:stack": "lab/dev",
      });
      await expect(pool.update(id, moved.outs, { ...checked, connection: "elsewhere" }, withPools)).rejects.toThrow(
        /leads to pool [0-9a-f-]{36}, not to this resource's pool .*cannot move to another pool/,
      );
      await pool.delete(id, moved.outs, withPools);
    } finally {
      await other.close();
    }
  });

  it("refuses a local default SR in a multi-host pool", async () => {
    const r = await pool.check({}, { defaultSr: await localSrUuid() }, ctx);
    expect(r.failures?.[0].reason).toMatch(
      /defaultSr: SR "Local storage" is local to one host; a pool of 2 hosts needs a shared SR/,
    );
  });
});

describe("Sr", () => {
  const nfs = { type: "nfs", name: "vm-store", deviceConfig: { server: "192.0.2.10", serverpath: "/exports/vms" } };

  it("creates a shared NFS SR plugged on every host and forgets it on delete", async () => {
    const { id, outs } = await createWith(sr, nfs);
    expect((outs.pbds as string[]).length).toBe(2);
    await sr.delete(id, outs, ctx);
    expect(await sr.read(id, outs, ctx)).toEqual({ id: "" });
  });

  it("attaches an existing SR by uuid, touching no data", async () => {
    const { id, outs } = await createWith(sr, nfs);
    const srRef = await xapi.call<string>("SR.get_by_uuid", id);
    const disk = await xapi.call<string>("VDI.create", {
      SR: srRef,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "survivor",
    });
    const diskUuid = await xapi.call<string>("VDI.get_uuid", disk);
    await sr.delete(id, outs, ctx); // forgotten: storage kept
    await expect(xapi.call("VDI.get_by_uuid", diskUuid)).rejects.toMatchObject({ code: "UUID_INVALID" });
    const attached = await createWith(sr, { ...nfs, name: "again", mode: "attach", existingUuid: id });
    expect(attached.id).toBe(id);
    expect((attached.outs.pbds as string[]).length).toBe(2);
    // The disk that was on the storage is back after the attach (the provider scans it).
    expect(await xapi.call("VDI.get_name_label", await xapi.call<string>("VDI.get_by_uuid", diskUuid))).toBe(
      "survivor",
    );
    await sr.delete(attached.id, attached.outs, ctx);
  });

  it("stores SMB passwords as XAPI secrets and removes them on delete", async () => {
    const { id, outs } = await createWith(sr, {
      type: "smb",
      name: "share",
      deviceConfig: { server: "//192.0.2.20/vms", username: "svc", password: "hunter2" },
    });
    // xapi copies the provider's secret into the PBDs, so the provider keeps none of its own.
    expect(outs.secrets).toEqual({});
    const pbd = await xapi.call<string>("PBD.get_by_uuid", (outs.pbds as string[])[0]);
    const dc = await xapi.call<Record<string, string>>("PBD.get_device_config", pbd);
    expect(dc).not.toHaveProperty("password");
    const secretRef = await xapi.call<string>("secret.get_by_uuid", dc.password_secret);
    expect(await xapi.call("secret.get_value", secretRef)).toBe("hunter2");

    // Rotating the password updates the PBD's secret in place; the SR is not replaced.
    const rotate = await updateWith(sr, id, outs, {
      type: "smb",
      name: "share",
      deviceConfig: { server: "//192.0.2.20/vms", username: "svc", password: "correct-horse" },
    });
    expect(rotate.diff).toMatchObject({ changes: true, replaces: [] });
    await rotate.run();
    expect(await xapi.call("secret.get_value", secretRef)).toBe("correct-horse");
    // A new server is a different SR.
    const moved = await updateWith(sr, id, outs, {
      type: "smb",
      name: "share",
      deviceConfig: { server: "//192.0.2.21/vms", username: "svc", password: "correct-horse" },
    });
    expect(moved.diff).toMatchObject({ changes: true, replaces: ["deviceConfig"] });
    await sr.delete(id, outs, ctx);
    await expect(xapi.call("secret.get_by_uuid", dc.password_secret)).rejects.toMatchObject({ code: "UUID_INVALID" });
  });

  it("adopts an SR of a well-known type without restating its device config", async () => {
    const { id: made, outs: madeOuts } = await createWith(sr, nfs);
    const adopted = await createWith(sr, { type: "nfs", name: "adopted", adopt: made });
    expect(adopted.id).toBe(made);
    expect(await sr.diff(made, adopted.outs, adopted.checked)).toMatchObject({ changes: false });
    await sr.delete(made, madeOuts, ctx);
  });

  it("refuses destroyOnDelete while the SR holds disks, leaving it plugged", async () => {
    const { id, outs } = await createWith(sr, { ...nfs, destroyOnDelete: true });
    const srRef = await xapi.call<string>("SR.get_by_uuid", id);
    const disk = await xapi.call<string>("VDI.create", {
      SR: srRef,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "keep-me",
    });
    await expect(sr.delete(id, outs, ctx)).rejects.toThrow(
      /still holds 1 disk\(s\) \("keep-me"\); delete them first, or set destroyOnDelete: false/,
    );
    const pbds = await xapi.call<string[]>("SR.get_PBDs", srRef);
    for (const p of pbds) expect(await xapi.call("PBD.get_currently_attached", p)).toBe(true);
    await xapi.call("VDI.destroy", disk);
    await sr.delete(id, outs, ctx);
    await expect(xapi.call("SR.get_by_uuid", id)).rejects.toMatchObject({ code: "UUID_INVALID" });
  });

  it("leaves no XAPI secret behind when storing the passwords fails", async () => {
    const before = (await xapi.call<string[]>("secret.get_all")).length;
    sim.faults.failNext("secret.get_uuid", 1, "INTERNAL_ERROR", ["injected"]);
    const checked = (
      await sr.check(
        {},
        { type: "smb", name: "s", deviceConfig: { server: "//192.0.2.20/x", username: "u", password: "p" } },
        ctx,
      )
    ).inputs!;
    await expect(sr.create(checked, ctx)).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
    expect((await xapi.call<string[]>("secret.get_all")).length).toBe(before);
  });

  it("rejects an SR type the pool has no driver for, listing the supported ones", async () => {
    const r = await sr.check({}, { type: "zfs", name: "z", deviceConfig: { location: "/tank" } }, ctx);
    expect(r.failures?.[0].reason).toMatch(
      /unknown SR type "zfs"; this pool supports ext, iso, lvm, lvmoiscsi, nfs, smb/,
    );
  });

  it("rejects a host that is not in the pool", async () => {
    const r = await sr.check({}, { type: "lvm", name: "l", host: "xs9", deviceConfig: { device: "/dev/sdb" } }, ctx);
    expect(r.failures?.[0].reason).toMatch(/host: no host "xs9" in this pool \(hosts: sim-host-1, sim-host-2\)/);
  });
});

describe("Vdi", () => {
  it("creates, grows in place, refuses to shrink at check, and destroys", async () => {
    const srUuid = await localSrUuid();
    const { id, outs, checked } = await createWith(vdi, { sr: srUuid, name: "data", size: "1GiB" });
    expect(outs.virtualSize).toBe(GiB);
    const grow = await updateWith(vdi, id, outs, { ...checked, size: "2GiB" });
    expect(grow.diff).toMatchObject({ changes: true, replaces: [] });
    const grown = await grow.run();
    expect(grown.outs.virtualSize).toBe(2 * GiB);
    const shrink = await vdi.check(grown.outs, { ...checked, size: "512MiB" }, ctx);
    expect(shrink.failures?.[0]).toMatchObject({ property: "size" });
    expect(shrink.failures?.[0].reason).toMatch(/shrinking a disk from 2 GiB to 512 MiB would destroy data/);
    await vdi.delete(id, grown.outs, ctx);
    expect(await vdi.read(id, grown.outs, ctx)).toEqual({ id: "" });
  });

  it("refuses at preview to grow a disk a running VM uses on an SR without online resize, then grows it offline", async () => {
    const srUuid = await localSrUuid();
    const { id, outs, checked } = await createWith(vdi, { sr: srUuid, name: "hot", size: "1GiB" });
    const templates = await xapi.call<Record<string, { name_label: string; is_a_template: boolean }>>(
      "VM.get_all_records_where",
      'field "is_a_template"="true"',
    );
    const template = Object.entries(templates).find(([, t]) => t.name_label === "Debian Bookworm 12")![0];
    const vm = await xapi.call<string>("VM.clone", template, "resize-target");
    await xapi.call("VM.set_is_a_template", vm, false);
    const vdiRef = await xapi.call<string>("VDI.get_by_uuid", id);
    await xapi.call("VBD.create", {
      VM: vm,
      VDI: vdiRef,
      userdevice: "autodetect",
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    await xapi.call("VM.start", vm, false, false);
    // The local LVM driver cannot resize online: the diff (run at preview) says so, before anything changes.
    const news = (await vdi.check(outs, { ...checked, size: "3GiB" }, ctx)).inputs!;
    await expect(vdi.diff(id, outs, news, ctx)).rejects.toThrow(
      /attached to a running VM and its lvm SR cannot resize disks online; shut the VM down/,
    );
    // Deleting a disk in use is refused with a message that says what to do.
    await expect(vdi.delete(id, outs, ctx)).rejects.toThrow(/attached to a running VM; detach it \(or stop the VM\)/);
    await xapi.call("VM.hard_shutdown", vm);
    expect(await vdi.diff(id, outs, news, ctx)).toMatchObject({ changes: true, replaces: [] });
    sim.calls.clear();
    const grown = await vdi.update(id, outs, news, ctx);
    expect(grown.outs.virtualSize).toBe(3 * GiB);
    expect(sim.calls.counts()["Async.VDI.resize"]).toBe(1);
    await vdi.delete(id, grown.outs, ctx);
  });

  it("adopts a read-only disk without changing what the program does not state", async () => {
    const srUuid = await localSrUuid();
    const srRef = await xapi.call<string>("SR.get_by_uuid", srUuid);
    const ref = await xapi.call<string>("VDI.create", {
      SR: srRef,
      virtual_size: GiB,
      type: "user",
      sharable: false,
      read_only: true,
      other_config: {},
      name_label: "golden",
      name_description: "base image",
    });
    const uuid = await xapi.call<string>("VDI.get_uuid", ref);
    const { id, outs, checked } = await createWith(vdi, { adopt: uuid, sr: srUuid, name: "golden-managed" });
    expect(await xapi.call("VDI.get_read_only", ref)).toBe(true);
    expect(await xapi.call("VDI.get_name_description", ref)).toBe("base image");
    // Settled: a refresh and the same program plan nothing; a different sr does not replace an adopted disk.
    const refreshed = await vdi.read(id, outs, ctx);
    expect((await vdi.diff(id, refreshed.props!, checked, ctx)).changes).toBe(false);
    expect(await vdi.diff(id, outs, { ...checked, sr: "00000000-0000-0000-0000-000000000000" }, ctx)).toMatchObject({
      changes: false,
      replaces: [],
    });
    await vdi.delete(id, outs, ctx);
  });

  it("rejects a size below the SR's minimum and a disk on an ISO library", async () => {
    const srUuid = await localSrUuid();
    const small = await vdi.check({}, { sr: srUuid, name: "tiny", size: 4096 }, ctx);
    expect(small.failures?.[0].reason).toMatch(/size: 4 KiB is outside what a lvm SR accepts \(1 MiB to 2040 GiB\)/);
    const isos = await xapi.call<Record<string, { uuid: string; content_type: string }>>("SR.get_all_records");
    const iso = Object.values(isos).find((s) => s.content_type === "iso")!.uuid;
    const onIso = await vdi.check({}, { sr: iso, name: "d", size: "1GiB" }, ctx);
    expect(onIso.failures?.[0].reason).toMatch(/is an ISO library/);
  });

  it("uploads a raw image, records its hash, and plans a replacement when the file changes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-vdi-"));
    const file = path.join(dir, "disk.img");
    fs.writeFileSync(file, Buffer.alloc(2 * MiB, 7));
    const { id, outs, checked } = await createWith(vdi, {
      sr: await localSrUuid(),
      name: "seeded",
      source: { path: file },
    });
    expect(outs.sourceHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(outs.size).toBe(2 * MiB);
    fs.writeFileSync(file, Buffer.alloc(2 * MiB, 8));
    const again = await vdi.check(checked, { sr: checked.sr, name: "seeded", source: { path: file } }, ctx);
    expect((await vdi.diff(id, outs, again.inputs!)).replaces).toContain("sourceHash");
    // Once the disk exists, the image file may go away (a CI workspace): nothing changes.
    fs.rmSync(file);
    const gone = await vdi.check(checked, { sr: checked.sr, name: "seeded", source: { path: file } }, ctx);
    expect(gone.failures).toBeUndefined();
    expect(await vdi.diff(id, outs, gone.inputs!)).toMatchObject({ changes: false, replaces: [] });
    // A new disk still needs its file.
    expect(
      (await vdi.check({}, { sr: checked.sr, name: "seeded", source: { path: file } }, ctx)).failures?.[0].reason,
    ).toMatch(/no such file/);
    await vdi.delete(id, outs, ctx);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
