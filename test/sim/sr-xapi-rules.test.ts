/**
 * SR and PBD rules as xapi applies them on a pool with more than one host: SR.create's plugs that may fail
 * (xapi_sr.ml create, xapi-client/tasks.ml wait_for_all), host liveness on forwarded calls (message_forwarding.ml
 * check_live, forward_pbd_op, forward_sr_op, forward_sr_all_op), PBD.unplug's refusals (xapi_pbd.ml unplug,
 * message_forwarding.ml with_unplug_locks) and the VBDs SR.forget leaves to the database GC (xapi_sr.ml
 * really_forget, db_gc_util.ml gc_VBDs).
 */
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

const GiB = 1024 ** 3;

let sim: Simulator;
let c: Client;
let master: string;
let slave: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 2, dbGcIntervalMs: 2000 }));
  const [pool] = await c.call<string[]>("pool.get_all");
  master = await c.call<string>("pool.get_master", pool);
  slave = (await c.call<string[]>("host.get_all")).find((h) => h !== master)!;
});
afterAll(() => sim.close());

const setLive = (host: string, live: boolean) =>
  sim.store.set("host_metrics", sim.store.get("host", host).metrics as string, "live", live);
const nfs = (server: string, name: string) =>
  c.call<string>("SR.create", master, { server, serverpath: "/vms" }, 0, name, "", "nfs", "user", true, {});
const pbdOn = async (sr: string, host: string) => {
  for (const p of await c.call<string[]>("SR.get_PBDs", sr))
    if ((await c.call<string>("PBD.get_host", p)) === host) return p;
  throw new Error("no PBD on that host");
};
const attachedByHost = async (sr: string) =>
  Object.fromEntries(
    await Promise.all(
      (await c.call<string[]>("SR.get_PBDs", sr)).map(async (p) => {
        const r = await c.call<Rec>("PBD.get_record", p);
        return [r.host === master ? "master" : "slave", r.currently_attached];
      }),
    ),
  );
const vdiRec = (sr: string, extra: Rec = {}) => ({
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
async function newVm(name: string): Promise<string> {
  const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Other install media");
  const vm = await c.call<string>("VM.clone", tpl, name);
  await c.call("VM.provision", vm);
  return vm;
}

describe("SR.create plugs each PBD as a task and ignores the failures (xapi_sr.ml create, Tasks.wait_for_all)", () => {
  it("a host that cannot reach the NFS server is left unplugged; the call succeeds; its plug task failed", async () => {
    sim.faults.storageUnreachable(1, "far.nfs");
    try {
      const before = new Set(await c.call<string[]>("task.get_all"));
      const sr = await nfs("far.nfs", "half-attached");
      expect(await attachedByHost(sr)).toEqual({ master: true, slave: false });
      const plugs = Object.entries(await c.call<Record<string, Rec>>("task.get_all_records")).filter(
        ([ref, t]) => !before.has(ref) && t.name_label === "Async.PBD.plug",
      );
      expect(plugs.map(([, t]) => t.status).sort()).toEqual(["failure", "success"]);
      const failed = plugs.find(([, t]) => t.status === "failure")![1];
      // NFSSR.attach tests the server's port first: util._testHost(server, NFSPORT, 'NFSTarget').
      expect((failed.error_info as string[])[0]).toBe("SR_BACKEND_FAILURE_108");
      // PBD.plug once the server is reachable again attaches it.
      sim.faults.storageUnreachable(1, "far.nfs", false);
      await c.call("PBD.plug", await pbdOn(sr, slave));
      expect(await attachedByHost(sr)).toEqual({ master: true, slave: true });
    } finally {
      sim.faults.storageUnreachable(1, "far.nfs", false);
    }
  });

  it("an offline host is left unplugged (its Async.PBD.plug fails HOST_OFFLINE)", async () => {
    setLive(slave, false);
    try {
      const sr = await nfs("nfs.lab", "offline-half");
      expect(await attachedByHost(sr)).toEqual({ master: true, slave: false });
    } finally {
      setLive(slave, true);
    }
  });

  it("a local SR on an offline host is refused before anything is made (SR.create do_op_on: HOST_OFFLINE)", async () => {
    setLive(slave, false);
    try {
      const srs = (await c.call<string[]>("SR.get_all")).length;
      await expectError(
        c.call("SR.create", slave, { device: "/dev/sdz" }, 0, "far-local", "", "ext", "user", false, {}),
        "HOST_OFFLINE",
        [slave],
      );
      expect((await c.call<string[]>("SR.get_all")).length).toBe(srs);
    } finally {
      setLive(slave, true);
    }
  });
});

describe("host liveness on forwarded calls (message_forwarding.ml check_live)", () => {
  it("PBD.plug and PBD.unplug answer HOST_OFFLINE [host] for an offline host, even for an unplugged PBD", async () => {
    const sr = await nfs("nfs.lab", "live-check");
    const far = await pbdOn(sr, slave);
    await c.call("PBD.unplug", far);
    setLive(slave, false);
    try {
      await expectError(c.call("PBD.unplug", far), "HOST_OFFLINE", [slave]);
      await expectError(c.call("PBD.plug", far), "HOST_OFFLINE", [slave]);
      // The master is always live: its PBD is served.
      await c.call("PBD.unplug", await pbdOn(sr, master));
      // SR.forget goes to every PBD's host but lets an offline one pass (forward_sr_all_op).
      await c.call("SR.forget", sr);
      await expectError(c.call("SR.get_record", sr), "HANDLE_INVALID", ["SR", sr]);
    } finally {
      setLive(slave, true);
    }
  });

  it("SR and VDI calls on a local SR run on its host (forward_sr_op): HOST_OFFLINE while it is down", async () => {
    const sr = await c.call<string>(
      "SR.create",
      slave,
      { device: "/dev/sdy" },
      0,
      "slave-ext",
      "",
      "ext",
      "user",
      false,
      {},
    );
    const vdi = await c.call<string>("VDI.create", vdiRec(sr));
    setLive(slave, false);
    try {
      await expectError(c.call("VDI.create", vdiRec(sr)), "HOST_OFFLINE", [slave]);
      await expectError(c.call("VDI.resize", vdi, 2 * GiB), "HOST_OFFLINE", [slave]);
      await expectError(c.call("VDI.set_name_label", vdi, "renamed"), "HOST_OFFLINE", [slave]);
      await expectError(c.call("VDI.destroy", vdi), "HOST_OFFLINE", [slave]);
      await expectError(c.call("SR.scan", sr), "HOST_OFFLINE", [slave]);
      // A shared SR's calls go to the master, which is always live.
      const shared = await nfs("nfs.lab", "still-served");
      const d = await c.call<string>("VDI.create", vdiRec(shared));
      await c.call("VDI.set_name_label", d, "renamed");
      await c.call("VDI.destroy", d);
    } finally {
      setLive(slave, true);
    }
    await c.call("VDI.destroy", vdi);
    await c.call("PBD.unplug", (await c.call<string[]>("SR.get_PBDs", sr))[0]);
    setLive(slave, false);
    try {
      // SR.destroy: SR_HAS_PBD and SR_INDESTRUCTIBLE first, then forward_sr_op (consider_unplugged_pbds).
      await expectError(c.call("SR.destroy", sr), "HOST_OFFLINE", [slave]);
    } finally {
      setLive(slave, true);
    }
    await c.call("SR.destroy", sr);
  });
});

describe("PBD.unplug refusals (xapi_pbd.ml unplug, message_forwarding.ml with_unplug_locks)", () => {
  it("OTHER_OPERATION_IN_PROGRESS [VDI; vdi; op; task] while a VDI of the SR has an operation", async () => {
    const sr = await nfs("nfs.lab", "busy");
    const vdi = await c.call<string>("VDI.create", vdiRec(sr));
    sim.store.set("VDI", vdi, "current_operations", { "OpaqueRef:other-task": "clone" });
    await expectError(c.call("PBD.unplug", await pbdOn(sr, slave)), "OTHER_OPERATION_IN_PROGRESS", [
      "VDI",
      vdi,
      "clone",
      "OpaqueRef:other-task",
    ]);
    expect(await attachedByHost(sr)).toEqual({ master: true, slave: true });
    sim.store.set("VDI", vdi, "current_operations", {});
    await c.call("PBD.unplug", await pbdOn(sr, slave));
  });

  it("HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED [sr] when an HA-protected VM has a disk on the SR", async () => {
    const sr = await nfs("nfs.lab", "protected");
    const vm = await newVm("ha-protected");
    await c.call("VBD.create", vbdRec(vm, await c.call<string>("VDI.create", vdiRec(sr))));
    // abort_if_storage_attached_to_protected_vms: ha_always_run with restart priority "restart" (is_xha_protected_r).
    sim.store.update("VM", vm, { ha_always_run: true, ha_restart_priority: "restart" });
    const [pool] = await c.call<string[]>("pool.get_all");
    sim.store.set("pool", pool, "ha_enabled", true);
    try {
      await expectError(c.call("PBD.unplug", await pbdOn(sr, slave)), "HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED", [sr]);
      // ha_allow_overcommit lifts the constraint.
      sim.store.set("pool", pool, "ha_allow_overcommit", true);
      await c.call("PBD.unplug", await pbdOn(sr, slave));
    } finally {
      sim.store.update("pool", pool, { ha_enabled: false, ha_allow_overcommit: false });
    }
  });

  it("VDI_IN_USE names the disks VMs running on the PBD's host hold; an empty CD drive does not count", async () => {
    const sr = await nfs("nfs.lab", "in-use");
    const vm = await newVm("disk-user");
    const vdi = await c.call<string>("VDI.create", vdiRec(sr));
    await c.call("VBD.create", vbdRec(vm, vdi));
    await c.call("VBD.create", vbdRec(vm, "OpaqueRef:NULL", { type: "CD", mode: "RO", empty: true }));
    await c.call("VM.start_on", vm, master, false, false);
    await c.call("PBD.unplug", await pbdOn(sr, slave));
    await expectError(c.call("PBD.unplug", await pbdOn(sr, master)), "VDI_IN_USE", [vdi]);
    await c.call("VM.hard_shutdown", vm);
    await c.call("PBD.unplug", await pbdOn(sr, master));
  });
});

describe("SR.forget leaves the VBDs to the database GC (xapi_sr.ml really_forget, db_gc_util.ml gc_VBDs)", () => {
  it("the VBDs outlive their VDIs until the GC, which empties a CD drive and removes a disk's VBD", async () => {
    const sr = await nfs("nfs.lab", "forgotten");
    const vm = await newVm("forgets");
    const disk = await c.call<string>("VBD.create", vbdRec(vm, await c.call<string>("VDI.create", vdiRec(sr))));
    const isoShare = await c.call<string>(
      "SR.create",
      master,
      { location: "isos.lab:/share" },
      0,
      "iso-share",
      "",
      "iso",
      "iso",
      true,
      {},
    );
    await c.call("SR.scan", isoShare);
    const [iso] = await c.call<string[]>("SR.get_VDIs", isoShare);
    const cd = await c.call<string>("VBD.create", vbdRec(vm, iso, { type: "CD", mode: "RO" }));
    for (const s of [sr, isoShare]) {
      for (const p of await c.call<string[]>("SR.get_PBDs", s)) await c.call("PBD.unplug", p);
      await c.call("SR.forget", s);
    }
    // Right after the forget the VBDs are still there (read in-process: the GC runs every 2 s), naming VDIs that no
    // longer exist.
    expect(sim.store.get("VBD", disk).empty).toBe(false);
    expect(sim.store.has("VDI", sim.store.get("VBD", cd).VDI)).toBe(false);
    for (let i = 0; i < 60 && sim.store.has("VBD", disk); i++) await new Promise((r) => setTimeout(r, 100));
    await expectError(c.call("VBD.get_record", disk), "HANDLE_INVALID", ["VBD", disk]);
    expect(await c.call<Rec>("VBD.get_record", cd)).toMatchObject({ VDI: "OpaqueRef:NULL", empty: true, type: "CD" });
  });
});
