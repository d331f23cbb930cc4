/**
 * The network SM drivers' device_config checks as sm makes them (xapi-project/sm libs/sm/drivers/NFSSR.py load and
 * validate_remotepath, nfs.py validate_nfsversion, ISOSR.py load/_checkTargetStr/attach, BaseISCSI.py load,
 * LVHDSR.py load; errors from core/XE_SR_ERRORCODES.xml; a plain Python exception reaches xapi as Fault 1200,
 * SRCommand.py run, which sm_exec.ml turns into SR_BACKEND_FAILURE_1200).
 */
import { startSimulator, Simulator } from "../../simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let host: string;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  c = await new Client(sim.url).login();
  const [pool] = await c.call<string[]>("pool.get_all");
  host = await c.call<string>("pool.get_master", pool);
});
afterAll(() => sim.close());

const create = (type: string, dc: Record<string, string>, content = "user") =>
  c.call<string>("SR.create", host, dc, 0, `${type}-sr`, "", type, content, true, {});
const failure = (code: number, message: string): [string, string[]] => [
  `SR_BACKEND_FAILURE_${code}`,
  ["", message, ""],
];

describe("nfs", () => {
  it("nfsversion: 3 or any 4.x; anything else is validate_nfsversion's NfsException (Fault 1200)", async () => {
    await create("nfs", { server: "nfs.lab", serverpath: "/v42", nfsversion: "4.2" });
    await expectError(
      create("nfs", { server: "nfs.lab", serverpath: "/v2", nfsversion: "2" }),
      ...failure(1200, "Invalid nfsversion."),
    );
  });
  it("checks server, then nfsversion, then serverpath (load before validate_remotepath)", async () => {
    await expectError(
      create("nfs", { serverpath: "/x", nfsversion: "2" }),
      ...failure(102, "The request is missing the server parameter"),
    );
    await expectError(create("nfs", { server: "nfs.lab", nfsversion: "2" }), ...failure(1200, "Invalid nfsversion."));
    await expectError(
      create("nfs", { server: "nfs.lab" }),
      ...failure(101, "The request is missing the serverpath parameter"),
    );
  });
});

describe("iso", () => {
  it("type cifs needs a //server/share target (ISOLocationStringError); vers 1.0 or 3.0 (ISOInvalidSMBversion)", async () => {
    const bad =
      "Incorrect Location string format. String must be in the format SERVER:PATH for NFS targets, or \\\\SERVER\\PATH for CIFS targets";
    await expectError(create("iso", { location: "smb.lab:/isos", type: "cifs" }, "iso"), ...failure(225, bad));
    await expectError(create("iso", { location: "nfs.lab/isos", type: "nfs_iso" }, "iso"), ...failure(225, bad));
    await expectError(
      create("iso", { location: "//smb.lab/isos", type: "cifs", vers: "2.1" }, "iso"),
      ...failure(227, "Given SMB version is not allowed. Choose either 1.0 or 3.0"),
    );
    await create("iso", { location: "//smb.lab/isos", type: "cifs", vers: "1.0" }, "iso");
    await expectError(
      create("iso", { location: "nfs.lab:/isos", nfsversion: "2" }, "iso"),
      ...failure(1200, "Invalid nfsversion."),
    );
  });
  it('legacy_mode skips the target checks whatever its value ("legacy_mode" in dconf)', async () => {
    await create("iso", { location: "/opt/isos", legacy_mode: "false" }, "iso");
  });
});

describe("lvmoiscsi", () => {
  const lun = { target: "iscsi.lab", targetIQN: "iqn.2026-01.lab:vms", SCSIid: "36001405abc" };
  it("port 1-65535 (ISCSIPort 142), checked before targetIQN as BaseISCSI.load does", async () => {
    const port = "Incorrect value for iSCSI port, must be a number between 1 and 65535";
    await expectError(create("lvmoiscsi", { target: "iscsi.lab", port: "70000" }), ...failure(142, port));
    await expectError(create("lvmoiscsi", { ...lun, port: "x" }), ...failure(142, port));
  });
  it("allocation thick or thin (LVHDSR.load: InvalidArg)", async () => {
    await expectError(create("lvmoiscsi", { ...lun, allocation: "sparse" }), "SR_BACKEND_FAILURE_1", [
      "",
      "Invalid argument [opterr=Allocation parameter must be one of ['thin', 'thick']]",
      "",
    ]);
  });
  it("the SM record lists CONFIGURATION as LVHDoISCSISR.py declares it", async () => {
    const [sm] = Object.values(
      await c.call<Record<string, Rec>>("SM.get_all_records_where", 'field "type" = "lvmoiscsi"'),
    );
    expect(Object.keys(sm.configuration as object)).toEqual(
      expect.arrayContaining(["incoming_chapuser", "incoming_chappassword", "usediscoverynumber", "allocation"]),
    );
  });
});
