import { startSimulator, Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let sim: Simulator;
let c: Client;
let host: string;
let local: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ seed: { localSrSize: 20 * GiB } }));
  const [pool] = await c.call<string[]>("pool.get_all");
  host = await c.call<string>("pool.get_master", pool);
  [local] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
});
afterAll(() => sim.close());

const vdiRec = (sr: string, size: number, extra: Rec = {}) => ({
  SR: sr,
  virtual_size: size,
  type: "user",
  sharable: false,
  read_only: false,
  other_config: {},
  ...extra,
});
const createSR = (dc: Record<string, string>, type: string, shared: boolean, name = `${type}-sr`, content = "user") =>
  c.call<string>("SR.create", host, dc, 0, name, "", type, content, shared, {});

describe("seeded storage", () => {
  it("has a local LVM SR (the pool default), an ISO library with ISOs and a tools SR", async () => {
    const [pool] = await c.call<string[]>("pool.get_all");
    expect(await c.call("pool.get_default_SR", pool)).toBe(local);
    expect(await c.call<Rec>("SR.get_record", local)).toMatchObject({
      type: "lvm",
      content_type: "user",
      shared: false,
      physical_size: 20 * GiB,
    });
    const [iso] = await c.call<string[]>("SR.get_by_name_label", "ISO library");
    expect((await c.call<string[]>("SR.get_VDIs", iso)).length).toBeGreaterThanOrEqual(3);
    const sms = Object.values(await c.call<Record<string, Rec>>("SM.get_all_records")).map((s) => s.type);
    expect(sms).toEqual(expect.arrayContaining(["lvm", "ext", "nfs", "smb", "iso", "lvmoiscsi"]));
  });
});

describe("SR.create", () => {
  it("creates a shared NFS SR with one plugged PBD per host and records device_config", async () => {
    const sr = await createSR({ server: "nfs.lab", serverpath: "/vms" }, "NFS", true);
    const rec = await c.call<Rec>("SR.get_record", sr);
    expect(rec).toMatchObject({ type: "nfs", shared: true, physical_utilisation: 0, virtual_allocation: 0 });
    expect(rec.physical_size as number).toBeGreaterThan(0);
    const pbds = await Promise.all((rec.PBDs as string[]).map((p) => c.call<Rec>("PBD.get_record", p)));
    expect(pbds.map((p) => [p.host, p.currently_attached, p.device_config])).toEqual([
      [host, true, { server: "nfs.lab", serverpath: "/vms" }],
    ]);
  });

  it("refuses unknown types with SR_UNKNOWN_DRIVER and bad device_config like the SM drivers", async () => {
    await expectError(createSR({}, "zfs", false), "SR_UNKNOWN_DRIVER", ["zfs"]);
    await expectError(createSR({}, "lvm", false), "SR_BACKEND_FAILURE_90", [
      "",
      "The request is missing the device parameter",
      "",
    ]);
    await expectError(createSR({ device: "sdb" }, "ext", false), "SR_BACKEND_FAILURE_91", [
      "",
      "The device is not a valid path [opterr=path is sdb]",
      "",
    ]);
    await expectError(createSR({ serverpath: "/x" }, "nfs", true), "SR_BACKEND_FAILURE_102", [
      "",
      "The request is missing the server parameter",
      "",
    ]);
    await expectError(createSR({ server: "s" }, "nfs", true), "SR_BACKEND_FAILURE_101");
    // Without `type`, ISOSR checks no target string: the location reads as an SMB share and its mount fails.
    await expectError(createSR({ location: "no-colon" }, "iso", true, "iso", "iso"), "SR_BACKEND_FAILURE_222");
    await expectError(
      createSR({ location: "no-colon", type: "nfs_iso" }, "iso", true, "iso", "iso"),
      "SR_BACKEND_FAILURE_225",
    );
    await expectError(createSR({ target: "10.0.0.9" }, "lvmoiscsi", true), "SR_BACKEND_FAILURE_96");
    await expectError(
      createSR({ target: "10.0.0.9", targetIQN: "iqn.x" }, "lvmoiscsi", true),
      "SR_BACKEND_FAILURE_107",
    );
    // Nothing half-created was left behind.
    expect(await c.call("SR.get_by_name_label", "lvm-sr")).toEqual([]);
  });

  it("moves password keys into secrets (smb password -> password_secret)", async () => {
    const sr = await createSR({ server: "//files/share", username: "u", password: "s3cret" }, "smb", true);
    const [pbd] = await c.call<string[]>("SR.get_PBDs", sr);
    const dc = await c.call<Record<string, string>>("PBD.get_device_config", pbd);
    expect(dc.password).toBeUndefined();
    const secret = await c.call<string>("secret.get_by_uuid", dc.password_secret);
    expect(await c.call("secret.get_value", secret)).toBe("s3cret");
  });

  it("creates ISO SRs whose ISOs appear on SR.scan", async () => {
    const sr = await createSR({ location: "isos.lab:/export/isos", type: "nfs_iso" }, "iso", true, "isos", "iso");
    expect(await c.call<string[]>("SR.get_VDIs", sr)).toEqual([]);
    await c.call("SR.scan", sr);
    const vdis = await c.call<string[]>("SR.get_VDIs", sr);
    expect(vdis.length).toBeGreaterThan(0);
    expect(await c.call("SR.get_sm_config", sr)).toEqual({ iso_type: "nfs_iso" });
    expect(await c.call<Rec>("VDI.get_record", vdis[0])).toMatchObject({
      read_only: true,
      name_label: expect.stringMatching(/\.iso$/),
    });
  });

  it("creates lvm / ext / lvmoiscsi SRs, refusing a device already used by an attached SR", async () => {
    await createSR({ device: "/dev/sdb" }, "lvm", false, "lvm-b");
    await expectError(createSR({ device: "/dev/sdb" }, "ext", false), "SR_BACKEND_FAILURE_16");
    await createSR({ device: "/dev/sdc" }, "ext", false, "ext-c");
    await createSR(
      { target: "10.0.0.9", targetIQN: "iqn.2026-01.lab:t", SCSIid: "36001405abc" },
      "lvmoiscsi",
      true,
      "iscsi",
    );
    expect(await c.call("SR.get_supported_types")).toEqual(
      expect.arrayContaining(["lvm", "ext", "nfs", "smb", "iso", "lvmoiscsi"]),
    );
  });
});

describe("PBDs and SR teardown", () => {
  it("attaches a non-shared SR on one host only: SR_NOT_SHARABLE [sr, other host]", async () => {
    const two = await startSimulator({ password: "pw", loginFailureDelayMs: 0, hosts: 2 });
    try {
      const k = await new Client(two.url).login();
      const hosts = await k.call<string[]>("host.get_all");
      const sr = await k.call<string>(
        "SR.create",
        hosts[0],
        { device: "/dev/sdx" },
        0,
        "local-x",
        "",
        "ext",
        "user",
        false,
        {},
      );
      const pbd = await k.call<string>("PBD.create", {
        host: hosts[1],
        SR: sr,
        device_config: { device: "/dev/sdx" },
        other_config: {},
      });
      await expectError(k.call("PBD.plug", pbd), "SR_NOT_SHARABLE", [sr, hosts[0]]);
    } finally {
      await two.close();
    }
  });

  it("plug and unplug are idempotent; destroy of an attached PBD is refused", async () => {
    const sr = await createSR({ server: "nfs.lab", serverpath: "/pbd" }, "nfs", true, "pbd-sr");
    const [pbd] = await c.call<string[]>("SR.get_PBDs", sr);
    await c.call("PBD.plug", pbd);
    await expectError(c.call("PBD.destroy", pbd), "OPERATION_NOT_ALLOWED", ["PBD is currently attached"]);
    await c.call("PBD.unplug", pbd);
    await c.call("PBD.unplug", pbd);
    expect(await c.call("PBD.get_currently_attached", pbd)).toBe(false);
    await expectError(c.call("PBD.create", { host, SR: sr, device_config: {} }), "PBD_EXISTS", [sr, host, pbd]);
  });

  it("SR.destroy: SR_HAS_PBD while plugged, SR_NOT_EMPTY with VDIs, then succeeds", async () => {
    const sr = await createSR({ server: "nfs.lab", serverpath: "/teardown" }, "nfs", true, "teardown");
    const vdi = await c.call<string>("VDI.create", vdiRec(sr, GiB));
    const [pbd] = await c.call<string[]>("SR.get_PBDs", sr);
    await expectError(c.call("SR.destroy", sr), "SR_HAS_PBD", [sr]);
    await c.call("PBD.unplug", pbd);
    await expectError(c.call("SR.destroy", sr), "SR_NOT_EMPTY", []);
    await expectError(c.call("VDI.destroy", vdi), "SR_HAS_NO_PBDS", [sr]);
    await c.call("PBD.plug", pbd);
    await c.call("VDI.destroy", vdi);
    await c.call("PBD.unplug", pbd);
    await c.call("SR.destroy", sr);
    await expectError(c.call("PBD.get_record", pbd), "HANDLE_INVALID");
  });

  it("SR.destroy of an SR without PBDs is SR_HAS_NO_PBDS", async () => {
    const sr = await c.call<string>("SR.introduce", "", "bare", "", "nfs", "user", true, {});
    await expectError(c.call("SR.destroy", sr), "SR_HAS_NO_PBDS", [sr]);
  });

  it("forget keeps the data: introduce with the same uuid + PBD + plug + scan finds the VDIs again", async () => {
    const dc = { server: "nfs.lab", serverpath: "/keep" };
    const sr = await createSR(dc, "nfs", true, "keep");
    const uuid = await c.call<string>("SR.get_uuid", sr);
    const vdi = await c.call<string>("VDI.create", vdiRec(sr, 3 * GiB, { name_label: "precious" }));
    const vdiUuid = await c.call<string>("VDI.get_uuid", vdi);
    const [pbd] = await c.call<string[]>("SR.get_PBDs", sr);
    await expectError(c.call("SR.forget", sr), "SR_HAS_PBD", [sr]);
    await c.call("PBD.unplug", pbd);
    await c.call("SR.forget", sr);
    await expectError(c.call("VDI.get_record", vdi), "HANDLE_INVALID");
    expect(await c.call<string>("SR.probe", host, dc, "nfs", {})).toContain(`<UUID>${uuid}</UUID>`);
    await expectError(
      c.call("SR.introduce", (await c.call<Rec>("SR.get_record", local)).uuid, "dup", "", "lvm", "user", false, {}),
      "SR_UUID_EXISTS",
    );
    const back = await c.call<string>("SR.introduce", uuid, "keep again", "", "nfs", "user", true, {});
    const newPbd = await c.call<string>("PBD.create", { host, SR: back, device_config: dc, other_config: {} });
    expect(await c.call("PBD.get_currently_attached", newPbd)).toBe(false);
    await c.call("PBD.plug", newPbd);
    expect(await c.call("SR.get_VDIs", back)).toEqual([]);
    await c.call("SR.scan", back);
    const found = await c.call<string>("VDI.get_by_uuid", vdiUuid);
    expect(await c.call<Rec>("VDI.get_record", found)).toMatchObject({
      name_label: "precious",
      virtual_size: 3 * GiB,
      SR: back,
    });
  });

  it("SR.probe lists NFS exports in SR_BACKEND_FAILURE_101 when serverpath is missing", async () => {
    const e = await expectError(c.call("SR.probe", host, { server: "nfs.lab" }, "nfs", {}), "SR_BACKEND_FAILURE_101");
    expect(e.params[2]).toContain("<Path>/vms</Path>");
  });
});

describe("VDIs", () => {
  it("rounds sizes up to 2 MiB on VHD SRs and accounts space on thick LVM", async () => {
    const before = await c.call<number>("SR.get_physical_utilisation", local);
    const vdi = await c.call<string>("VDI.create", vdiRec(local, 1000));
    expect(await c.call<Rec>("VDI.get_record", vdi)).toMatchObject({
      virtual_size: 2 * MiB,
      is_a_snapshot: false,
      managed: true,
      on_boot: "persist",
      snapshot_of: "OpaqueRef:NULL",
      sm_config: { vdi_type: "vhd" },
    });
    const odd = await c.call<string>("VDI.create", vdiRec(local, 5 * MiB + 1));
    expect(await c.call("VDI.get_virtual_size", odd)).toBe(6 * MiB);
    expect(await c.call<number>("SR.get_physical_utilisation", local)).toBe(before + 8 * MiB);
    expect(await c.call<number>("SR.get_virtual_allocation", local)).toBeGreaterThanOrEqual(8 * MiB);
  });

  it("refuses sizes above 2040 GiB and full SRs like SM does", async () => {
    await expectError(c.call("VDI.create", vdiRec(local, 2041 * GiB)), "SR_BACKEND_FAILURE_79", [
      "",
      "VDI Invalid size [opterr=VDI size must be between 1 MB and 2088960 MB]",
      "",
    ]);
    await expectError(c.call("VDI.create", vdiRec(local, 30 * GiB)), "SR_BACKEND_FAILURE_44", [
      "",
      "There is insufficient space",
      "",
    ]);
  });

  it("refuses cbt_metadata VDIs and VDIs on unplugged SRs", async () => {
    await expectError(c.call("VDI.create", vdiRec(local, GiB, { type: "cbt_metadata" })), "VDI_INCOMPATIBLE_TYPE", [
      "",
      "cbt_metadata",
    ]);
  });

  it("resizes detached VDIs up (rounded), refuses shrinking and resize_online on drivers without it", async () => {
    const vdi = await c.call<string>("VDI.create", vdiRec(local, GiB));
    await c.call("VDI.resize", vdi, 2 * GiB + 1);
    expect(await c.call("VDI.get_virtual_size", vdi)).toBe(2 * GiB + 2 * MiB);
    await expectError(c.call("VDI.resize", vdi, GiB), "SR_BACKEND_FAILURE_79", [
      "",
      "VDI Invalid size [opterr=shrinking not allowed]",
      "",
    ]);
    await expectError(c.call("VDI.resize_online", vdi, 3 * GiB), "SR_OPERATION_NOT_SUPPORTED", [local]);
  });

  it("snapshots (is_a_snapshot, snapshot_of), clones and copies into another SR", async () => {
    const nfs = await createSR({ server: "nfs.lab", serverpath: "/copies" }, "nfs", true, "copies");
    const vdi = await c.call<string>("VDI.create", vdiRec(local, GiB, { name_label: "src", other_config: { k: "v" } }));
    const snap = await c.call<string>("VDI.snapshot", vdi, {});
    expect(await c.call<Rec>("VDI.get_record", snap)).toMatchObject({
      is_a_snapshot: true,
      snapshot_of: vdi,
      SR: local,
    });
    expect(await c.call("VDI.get_snapshots", vdi)).toEqual([snap]);
    const clone = await c.call<string>("VDI.clone", vdi, {});
    expect(await c.call<Rec>("VDI.get_record", clone)).toMatchObject({
      is_a_snapshot: false,
      name_label: "src",
      virtual_size: GiB,
    });
    const copy = await c.call<string>("VDI.copy", vdi, nfs);
    expect(await c.call<Rec>("VDI.get_record", copy)).toMatchObject({
      SR: nfs,
      name_label: "src",
      other_config: { k: "v" },
      read_only: false,
      virtual_size: GiB,
    });
    const small = await c.call<string>("VDI.create", vdiRec(nfs, 2 * MiB));
    await expectError(c.call("VDI.copy", vdi, "OpaqueRef:NULL", "OpaqueRef:NULL", small), "VDI_TOO_SMALL", [
      small,
      String(GiB),
    ]);
    const shared = await c.call<string>("VDI.create", vdiRec(nfs, GiB, { sharable: true }));
    await expectError(c.call("VDI.snapshot", shared, {}), "VDI_IS_SHARABLE", [shared]);
  });

  it("destroys detached VBDs with the VDI, and refuses VDI_IN_USE [vdi, destroy] while attached", async () => {
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Other install media");
    const vm = await c.call<string>("VM.clone", tpl, "vdi-user");
    await c.call("VM.provision", vm);
    const vdi = await c.call<string>("VDI.create", vdiRec(local, GiB));
    const vbd = await c.call<string>("VBD.create", {
      VM: vm,
      VDI: vdi,
      userdevice: "1",
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    await c.call("VM.start", vm, false, false);
    await expectError(c.call("VDI.destroy", vdi), "VDI_IN_USE", [vdi, "destroy"]);
    await expectError(c.call("VDI.resize", vdi, 2 * GiB), "VDI_IN_USE", [vdi, "resize"]);
    await c.call("VM.hard_shutdown", vm);
    await c.call("VDI.destroy", vdi);
    await expectError(c.call("VBD.get_record", vbd), "HANDLE_INVALID", ["VBD", vbd]);
    expect(await c.call<string[]>("VM.get_VBDs", vm)).not.toContain(vbd);
  });
});

describe("the tools SR", () => {
  it("refuses VDI create and destroy (check_sm_features filters them for is_tools_sr)", async () => {
    const [tools] = await c.call<string[]>("SR.get_all_where", 'field "is_tools_sr" = "true"');
    const [iso] = await c.call<string[]>("SR.get_VDIs", tools);
    await expectError(c.call("VDI.create", vdiRec(tools, MiB)), "SR_OPERATION_NOT_SUPPORTED", [tools]);
    await expectError(c.call("VDI.destroy", iso), "SR_OPERATION_NOT_SUPPORTED", [tools]);
  });
});

describe("the SR scanning thread", () => {
  it("scans plugged SRs with other_config auto-scan=true every interval", async () => {
    const quick = await startSimulator({ password: "pw", loginFailureDelayMs: 0, srScanIntervalMs: 50 });
    try {
      const k = await new Client(quick.url).login();
      const h = await k.call<string>("pool.get_master", (await k.call<string[]>("pool.get_all"))[0]);
      const plain = await k.call<string>(
        "SR.create",
        h,
        { location: "isos.lab:/a", type: "nfs_iso" },
        0,
        "plain",
        "",
        "iso",
        "iso",
        true,
        {},
      );
      const auto = await k.call<string>(
        "SR.create",
        h,
        { location: "isos.lab:/b", type: "nfs_iso" },
        0,
        "auto",
        "",
        "iso",
        "iso",
        true,
        {},
      );
      await k.call("SR.add_to_other_config", auto, "auto-scan", "true");
      await new Promise((r) => setTimeout(r, 200));
      expect((await k.call<string[]>("SR.get_VDIs", auto)).length).toBeGreaterThan(0);
      expect(await k.call("SR.get_VDIs", plain)).toEqual([]);
    } finally {
      await quick.close();
    }
  });
});
