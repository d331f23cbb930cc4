// The deviceConfig keys and values each network driver reads, as the preview checks them (issue 15, problem 3).
// Sources: xapi-project/sm libs/sm/drivers/NFSSR.py, SMBSR.py, ISOSR.py, LVHDoISCSISR.py, libs/sm/BaseISCSI.py,
// LVHDSR.py, nfs.py validate_nfsversion, cifutils.py; xcp-ng/sm 3.2.12-8.3 drivers/*.py read the same keys.
import { checkStatic, inputSchema, type Inputs } from "../../../provider/resources/sr";

const inputs = (type: string, deviceConfig: Record<string, string>): Inputs =>
  inputSchema.parse({ type, name: "s", deviceConfig });
const reasons = (type: string, deviceConfig: Record<string, string>) =>
  checkStatic(inputs(type, deviceConfig)).map((f) => `${f.property}: ${f.reason}`);

const nfs = { server: "192.0.2.10", serverpath: "/exports/vms" };

describe("nfs (NFSSR.py load, check_server, set_transport)", () => {
  it("takes mount options from options, with useUDP and probeversion", () => {
    expect(reasons("nfs", { ...nfs, options: "noatime", useUDP: "true", probeversion: "true" })).toEqual([]);
  });
  it("refuses nfsoptions, which no driver reads, saying what NFSSR reads instead", () => {
    expect(reasons("nfs", { ...nfs, nfsoptions: "noatime" })).toEqual([
      'deviceConfig: deviceConfig: unknown key(s) "nfsoptions" for a nfs SR (allowed: server, serverpath, ' +
        'nfsversion, options, useUDP, probeversion); NFSSR takes mount options from "options" (nothing reads ' +
        '"nfsoptions")',
    ]);
  });
  it('accepts nfsversion "3" and any version 4 (nfs.validate_nfsversion), refuses others', () => {
    for (const v of ["3", "4", "4.1", "4.2"]) expect(reasons("nfs", { ...nfs, nfsversion: v })).toEqual([]);
    expect(reasons("nfs", { ...nfs, nfsversion: "2" })).toEqual([
      'deviceConfig.nfsversion: deviceConfig.nfsversion: must be "3" or a version 4 ("4", "4.0", "4.1", "4.2")',
    ]);
  });
});

describe("smb (SMBSR.py load, getMountOptions; cifutils.getCIFCredentials)", () => {
  it("reads server, username and password only", () => {
    expect(reasons("smb", { server: "//192.0.2.20/vms", username: "u", password: "p" })).toEqual([]);
  });
  it("refuses vers, which SMBSR ignores (it always mounts vers=3.0)", () => {
    expect(reasons("smb", { server: "//192.0.2.20/vms", vers: "2.1" })[0]).toMatch(
      /unknown key\(s\) "vers" for a smb SR \(allowed: server, username, password\); SMBSR always mounts with SMB 3.0 and reads no "vers"/,
    );
  });
});

describe("iso (ISOSR.py load, attach)", () => {
  it("reads iso_path, and vers with type cifs (1.0 or 3.0)", () => {
    expect(reasons("iso", { location: "192.0.2.10:/isos", type: "nfs_iso", iso_path: "/linux" })).toEqual([]);
    expect(reasons("iso", { location: "//192.0.2.20/isos", type: "cifs", vers: "1.0" })).toEqual([]);
    expect(reasons("iso", { location: "//192.0.2.20/isos", type: "cifs", vers: "2.1" })).toEqual([
      'deviceConfig.vers: deviceConfig.vers: the SMB version must be "1.0" or "3.0"',
    ]);
    expect(reasons("iso", { location: "192.0.2.10:/isos", vers: "3.0" })).toEqual([
      'deviceConfig.vers: deviceConfig.vers: ISOSR reads vers only with type "cifs" (an SMB share)',
    ]);
  });
});

describe("lvmoiscsi (BaseISCSI.py load, LVHDSR.py load)", () => {
  const iscsi = { target: "192.0.2.30", targetIQN: "iqn.2026-01.lab:vms", SCSIid: "36001405abc" };
  it("reads usediscoverynumber and allocation, and incoming CHAP", () => {
    expect(
      reasons("lvmoiscsi", {
        ...iscsi,
        usediscoverynumber: "1",
        allocation: "thin",
        incoming_chapuser: "in",
        incoming_chappassword: "pw",
      }),
    ).toEqual([]);
  });
  it("refuses a port outside 1-65535 (ISCSIPort) and an allocation other than thick or thin", () => {
    expect(reasons("lvmoiscsi", { ...iscsi, port: "70000", allocation: "sparse" })).toEqual([
      "deviceConfig.port: deviceConfig.port: must be a port number between 1 and 65535",
      'deviceConfig.allocation: deviceConfig.allocation: must be "thick" or "thin"',
    ]);
  });
});
