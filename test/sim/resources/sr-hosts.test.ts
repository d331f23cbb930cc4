// Sr on a two-host pool where one host cannot see the storage or is offline, or XAPI would refuse an unplug
// part-way: what the user gets (issue 15, problems 1, 2 and 5).
import type { Simulator } from "../../../simulator";
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Sr: sr } = resourceKinds;

const GiB = 1024 ** 3;

let sim: Simulator;
let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
let slave: string;
let slaveName: string;

beforeAll(async () => {
  lab = await startPool("s3cret-pw", { hosts: 2 });
  ({ sim, xapi, ctx } = lab);
  const [pool] = await xapi.call<string[]>("pool.get_all");
  const master = await xapi.call<string>("pool.get_master", pool);
  slave = (await xapi.call<string[]>("host.get_all")).find((h) => h !== master)!;
  slaveName = await xapi.call<string>("host.get_name_label", slave);
});
afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);
const nfs = (name: string, server = "192.0.2.10", extra: Record<string, unknown> = {}) => ({
  type: "nfs",
  name,
  deviceConfig: { server, serverpath: `/exports/${name}` },
  ...extra,
});
const setLive = (live: boolean) =>
  sim.store.set("host_metrics", sim.store.get("host", slave).metrics as string, "live", live);
const srsNamed = (name: string) => xapi.call<string[]>("SR.get_by_name_label", name);
const attached = async (id: string) => {
  const ref = await xapi.call<string>("SR.get_by_uuid", id);
  const pbds = await xapi.call<string[]>("SR.get_PBDs", ref);
  return Promise.all(pbds.map((p) => xapi.call<boolean>("PBD.get_currently_attached", p)));
};
async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).not.toMatch(/OpaqueRef/);
  return err!;
}
async function diskOn(id: string, name: string): Promise<string> {
  return xapi.call<string>("VDI.create", {
    SR: await xapi.call<string>("SR.get_by_uuid", id),
    virtual_size: GiB,
    type: "user",
    sharable: false,
    read_only: false,
    other_config: {},
    name_label: name,
  });
}

describe("a shared SR that a host cannot attach (problem 1)", () => {
  afterEach(() => sim.faults.storageUnreachable(1, "192.0.2.66", false));

  it("create fails naming the host and why, and leaves no SR behind", async () => {
    sim.faults.storageUnreachable(1, "192.0.2.66");
    const checked = await sr.check({}, nfs("unreachable", "192.0.2.66"), ctx);
    const err = await failure(sr.create(checked.inputs!, ctx));
    expect(err.message).toMatch(
      new RegExp(
        `^SR "unreachable" is not attached on ${slaveName} \\(SR_BACKEND_FAILURE_108: Unable to detect an NFS service`,
      ),
    );
    expect(err.message).toMatch(/run pulumi up again; or set allowPartialAttach: true/);
    expect(await srsNamed("unreachable")).toEqual([]);
  });

  it("attach mode: the same refusal, and the SR is forgotten again (its data stays)", async () => {
    const made = await createWith(sr, nfs("to-attach", "192.0.2.66"));
    await diskOn(made.id, "kept");
    await sr.delete(made.id, made.outs, ctx);
    sim.faults.storageUnreachable(1, "192.0.2.66");
    const checked = await sr.check({}, nfs("to-attach", "192.0.2.66", { mode: "attach", existingUuid: made.id }), ctx);
    const err = await failure(sr.create(checked.inputs!, ctx));
    expect(err.message).toMatch(new RegExp(`is not attached on ${slaveName} \\(SR_BACKEND_FAILURE_108`));
    expect(await srsNamed("to-attach")).toEqual([]);
    sim.faults.storageUnreachable(1, "192.0.2.66", false);
    const again = await createWith(sr, nfs("to-attach", "192.0.2.66", { mode: "attach", existingUuid: made.id }));
    expect(await xapi.call<string[]>("VDI.get_by_name_label", "kept")).toHaveLength(1);
    await sr.delete(again.id, again.outs, ctx);
  });

  it("allowPartialAttach keeps it, lists the host, and an up after the fix plugs it", async () => {
    sim.faults.storageUnreachable(1, "192.0.2.66");
    const { id, outs, checked } = await createWith(sr, nfs("partial", "192.0.2.66", { allowPartialAttach: true }));
    expect(outs.missingOn).toEqual([slaveName]);
    expect(outs.pbds as string[]).toHaveLength(1);
    // The storage is reachable again, and the program drops allowPartialAttach: the update plugs the host.
    sim.faults.storageUnreachable(1, "192.0.2.66", false);
    const strict = await updateWith(sr, id, outs, nfs("partial", "192.0.2.66"));
    expect(strict.diff).toMatchObject({ changes: true, replaces: [] });
    const { outs: fixed } = await strict.run();
    expect(fixed.missingOn).toEqual([]);
    expect(await attached(id)).toEqual([true, true]);
    expect(checked.allowPartialAttach).toBe(true);
    await sr.delete(id, fixed, ctx);
  });

  it("a refresh shows a PBD unplugged behind the program's back; the next up plugs it again", async () => {
    const { id, outs } = await createWith(sr, nfs("drifted"));
    const ref = await xapi.call<string>("SR.get_by_uuid", id);
    for (const p of await xapi.call<string[]>("SR.get_PBDs", ref))
      if ((await xapi.call<string>("PBD.get_host", p)) === slave) await xapi.call("PBD.unplug", p);
    const refreshed = (await sr.read(id, outs, ctx)).props!;
    expect(refreshed.missingOn).toEqual([slaveName]);
    const up = await updateWith(sr, id, refreshed, nfs("drifted"));
    expect(up.diff).toMatchObject({ changes: true, replaces: [] });
    expect((await up.run()).outs.missingOn).toEqual([]);
    expect(await attached(id)).toEqual([true, true]);
    await sr.delete(id, outs, ctx);
  });
});

describe("an offline host (problem 2)", () => {
  afterEach(() => setLive(true));

  it("create of a shared SR is refused up front, naming the host; nothing is made", async () => {
    setLive(false);
    const secrets = (await xapi.call<string[]>("secret.get_all")).length;
    const checked = await sr.check({}, nfs("while-down"), ctx);
    const err = await failure(sr.create(checked.inputs!, ctx));
    expect(err.message).toBe(
      `SR "while-down": host ${slaveName} is offline, so the shared SR could not be attached there; ` +
        `nothing was created. Bring it back online (or remove it from the pool), then run pulumi up again; ` +
        `or set allowPartialAttach: true to attach it on the hosts that are up (HOST_OFFLINE)`,
    );
    expect(await srsNamed("while-down")).toEqual([]);
    expect((await xapi.call<string[]>("secret.get_all")).length).toBe(secrets);
  });

  it("with allowPartialAttach it is made on the live hosts, and the offline one is listed", async () => {
    setLive(false);
    const { id, outs } = await createWith(sr, nfs("partly-up", undefined, { allowPartialAttach: true }));
    expect(outs.missingOn).toEqual([slaveName]);
    // Forgetting it needs no call on the offline host: its PBD was never plugged.
    await sr.delete(id, outs, ctx);
    expect(await srsNamed("partly-up")).toEqual([]);
  });

  it("delete is refused before anything is unplugged while an offline host still has it attached", async () => {
    const { id, outs } = await createWith(sr, nfs("stuck"));
    setLive(false);
    for (const destroyOnDelete of [false, true]) {
      const err = await failure(sr.delete(id, { ...outs, destroyOnDelete }, ctx));
      expect(err.message).toBe(
        `SR ${id} ("stuck") cannot be removed; nothing was unplugged on any host: it is attached ` +
          `on ${slaveName}, which is offline, and XAPI cannot unplug it there: bring the host back online, or ` +
          `remove it from the pool if it is gone for good (xe host-forget), first (HOST_OFFLINE)`,
      );
      expect(await attached(id)).toEqual([true, true]);
    }
    setLive(true);
    await sr.delete(id, outs, ctx);
  });

  it("a local SR on an offline host is not destroyed (XAPI runs SR.destroy there)", async () => {
    const { id, outs } = await createWith(sr, {
      type: "ext",
      name: "slave-local",
      host: slaveName,
      deviceConfig: { device: "/dev/sdq" },
      destroyOnDelete: true,
    });
    await xapi.call("PBD.unplug", (await xapi.call<string[]>("SR.get_PBDs", await xapi.call("SR.get_by_uuid", id)))[0]);
    setLive(false);
    const err = await failure(sr.delete(id, outs, ctx));
    expect(err.message).toMatch(
      new RegExp(`XAPI destroys a local SR on its own host, ${slaveName}, which is offline: .*\\(HOST_OFFLINE\\)$`),
    );
    setLive(true);
    await sr.delete(id, outs, ctx);
    expect(await srsNamed("slave-local")).toEqual([]);
  });
});

describe("refusals named before anything is unplugged (problem 5)", () => {
  it("a disk with an operation running: names the disk and the operation", async () => {
    const { id, outs } = await createWith(sr, nfs("busy"));
    const disk = await diskOn(id, "busy-disk");
    const task = await xapi.call<string>("task.create", "VDI.clone", "");
    sim.store.set("VDI", disk, "current_operations", { [task]: "clone" });
    const err = await failure(sr.delete(id, outs, ctx));
    expect(err.message).toBe(
      `SR ${id} ("busy") cannot be removed; nothing was unplugged on any host: disk "busy-disk" has a ` +
        `clone operation running (task "VDI.clone"); XAPI does not unplug an SR while one of its disks is ` +
        `busy: wait for it to finish, then delete again (OTHER_OPERATION_IN_PROGRESS)`,
    );
    expect(await attached(id)).toEqual([true, true]);
    sim.store.set("VDI", disk, "current_operations", {});
    await sr.delete(id, outs, ctx);
  });

  it("when XAPI refuses anyway (an operation started after the checks), the message names the disk", async () => {
    const { id, outs } = await createWith(sr, nfs("raced"));
    const disk = await diskOn(id, "raced-disk");
    sim.faults.failNext("PBD.unplug", 1, "OTHER_OPERATION_IN_PROGRESS", ["VDI", disk, "snapshot", "OpaqueRef:gone"]);
    const err = await failure(sr.delete(id, outs, ctx));
    expect(err.message).toMatch(
      /^disk "raced-disk" has a snapshot operation running; .*\(OTHER_OPERATION_IN_PROGRESS\)$/,
    );
    await sr.delete(id, outs, ctx);
  });

  it("an HA-protected VM with a disk on it: names the VM", async () => {
    const { id, outs } = await createWith(sr, nfs("ha-used"));
    const [tpl] = await xapi.call<string[]>("VM.get_by_name_label", "Other install media");
    const vm = await xapi.call<string>("VM.clone", tpl, "protected-vm");
    await xapi.call("VM.provision", vm);
    await xapi.call("VBD.create", {
      VM: vm,
      VDI: await diskOn(id, "ha-disk"),
      userdevice: "1",
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    sim.store.update("VM", vm, { ha_always_run: true, ha_restart_priority: "restart" });
    const [pool] = await xapi.call<string[]>("pool.get_all");
    sim.store.set("pool", pool, "ha_enabled", true);
    try {
      const err = await failure(sr.delete(id, outs, ctx));
      const vmUuid = await xapi.call<string>("VM.get_uuid", vm);
      expect(err.message).toBe(
        `SR ${id} ("ha-used") cannot be removed; nothing was unplugged on any host: HA protects VMs with ` +
          `disks on it: "protected-vm" (${vmUuid}); XAPI does not unplug storage an HA-protected VM needs: ` +
          `make them best-effort (ha-restart-priority) or disable HA first ` +
          `(HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED)`,
      );
      expect(await attached(id)).toEqual([true, true]);
    } finally {
      sim.store.set("pool", pool, "ha_enabled", false);
    }
    await sr.delete(id, outs, ctx);
  });
});
