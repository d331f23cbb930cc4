// diff() plans updates in place where XAPI can change a field, and replacements
// (with changes: true) where it cannot — never a failed update.
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi } = resourceKinds;

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const net = { name: "n", description: "", mtu: 1500, otherConfig: {}, tags: [], uuid: "u", bridge: "xapi1", pifs: [] };
const vlanNet = { ...net, vlan: 10, nic: "eth1" };
const bondNet = { ...net, bond: { nics: ["eth1", "eth2"], mode: "balance-slb" } };
const nfsSr = {
  type: "nfs",
  mode: "create",
  name: "s",
  description: "",
  deviceConfig: { server: "a", serverpath: "/x" },
  smConfig: {},
  destroyOnDelete: false,
  otherConfig: {},
  tags: [],
};
const disk = {
  sr: "s1",
  size: 1073741824,
  type: "user",
  sharable: false,
  readOnly: false,
  name: "d",
  description: "",
  otherConfig: {},
  tags: [],
};

describe("diff", () => {
  it("reports no change for identical inputs", async () => {
    expect(await network.diff("u", vlanNet, { ...vlanNet })).toMatchObject({ changes: false, replaces: [] });
    expect(await sr.diff("u", nfsSr, { ...nfsSr })).toMatchObject({ changes: false, replaces: [] });
    expect(await vdi.diff("u", disk, { ...disk })).toMatchObject({ changes: false, replaces: [] });
    expect(await pool.diff("u", { otherConfig: {}, tags: [] }, { otherConfig: {}, tags: [] })).toMatchObject({
      changes: false,
    });
  });

  it("updates MTU, name and owned maps of a network in place", async () => {
    expect(await network.diff("u", vlanNet, { ...vlanNet, mtu: 9000 })).toMatchObject({ changes: true, replaces: [] });
    expect(await network.diff("u", vlanNet, { ...vlanNet, name: "m", otherConfig: { a: "1" } })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("replaces a network whose VLAN tag or NIC changes", async () => {
    expect(await network.diff("u", vlanNet, { ...vlanNet, vlan: 11 })).toMatchObject({
      changes: true,
      replaces: ["vlan"],
    });
    expect(await network.diff("u", vlanNet, { ...vlanNet, nic: "eth2" })).toMatchObject({
      changes: true,
      replaces: ["nic"],
    });
  });

  it("treats XenCenter's NIC name as the device name", async () => {
    expect(await network.diff("u", vlanNet, { ...vlanNet, nic: "NIC 1" })).toMatchObject({
      changes: false,
      replaces: [],
    });
  });

  it("deletes a VLAN network first when it moves to another connection profile (the same NIC and tag may be reused)", async () => {
    expect(await network.diff("u", vlanNet, { ...vlanNet, connection: "lab" })).toMatchObject({
      changes: true,
      replaces: ["connection"],
      deleteBeforeReplace: true,
    });
    expect(await network.diff("u", net, { ...net, connection: "lab" })).toMatchObject({
      changes: true,
      replaces: ["connection"],
      deleteBeforeReplace: false,
    });
  });

  it("replaces a bond whose mode changes, deleting the old bond first", async () => {
    const d = await network.diff("u", bondNet, { ...bondNet, bond: { nics: ["eth2", "eth1"], mode: "lacp" } });
    expect(d).toMatchObject({ changes: true, replaces: ["bond"], deleteBeforeReplace: true });
    expect(
      await network.diff("u", bondNet, { ...bondNet, bond: { nics: ["eth2", "eth1"], mode: "balance-slb" } }),
    ).toMatchObject({ changes: false });
  });

  it("replaces an SR whose device config changes; local SRs are deleted first", async () => {
    expect(await sr.diff("u", nfsSr, { ...nfsSr, deviceConfig: { server: "b", serverpath: "/x" } })).toMatchObject({
      changes: true,
      replaces: ["deviceConfig"],
      deleteBeforeReplace: false,
    });
    const lvm = { ...nfsSr, type: "lvm", deviceConfig: { device: "/dev/sdb" } };
    expect(await sr.diff("u", lvm, { ...lvm, deviceConfig: { device: "/dev/sdc" } })).toMatchObject({
      changes: true,
      replaces: ["deviceConfig"],
      deleteBeforeReplace: true,
    });
  });

  it("does not replace an SR when the program states the type's defaults it had left out (or drops them)", async () => {
    expect(await sr.diff("u", nfsSr, { ...nfsSr, shared: true, contentType: "user" })).toMatchObject({
      changes: false,
      replaces: [],
    });
    expect(await sr.diff("u", { ...nfsSr, shared: true, contentType: "user" }, nfsSr)).toMatchObject({
      changes: false,
      replaces: [],
    });
    const iso = { ...nfsSr, type: "iso", deviceConfig: { location: "h:/isos" } };
    expect(await sr.diff("u", iso, { ...iso, contentType: "iso" })).toMatchObject({ changes: false });
    // A real change still replaces.
    expect(await sr.diff("u", nfsSr, { ...nfsSr, shared: false })).toMatchObject({
      changes: true,
      replaces: ["shared"],
    });
    expect(await sr.diff("u", nfsSr, { ...nfsSr, contentType: "iso" })).toMatchObject({
      changes: true,
      replaces: ["contentType"],
    });
    expect(await sr.diff("u", nfsSr, { ...nfsSr, shared: unknown })).toMatchObject({
      changes: true,
      replaces: ["shared"],
    });
  });

  it("does not ask XAPI about a local SR's host when the connection changes or is unknown (it is replaced anyway)", async () => {
    const noPool = { config: { get: () => undefined } }; // any XAPI lookup would fail: no connection configured
    const lvm = { ...nfsSr, type: "lvm", host: "xs1", deviceConfig: { device: "/dev/sdb" } };
    expect(await sr.diff("u", lvm, { ...lvm, host: "xs1.example", connection: "lab" }, noPool)).toMatchObject({
      changes: true,
      replaces: ["connection"],
    });
    expect(await sr.diff("u", lvm, { ...lvm, host: "xs1.example", connection: unknown }, noPool)).toMatchObject({
      changes: true,
      replaces: ["connection"],
    });
  });

  it("updates an SR's name and destroyOnDelete in place", async () => {
    expect(await sr.diff("u", nfsSr, { ...nfsSr, name: "t", destroyOnDelete: true })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("grows a disk in place and replaces it on a new SR or image", async () => {
    expect(await vdi.diff("u", disk, { ...disk, size: 2 * 1073741824 })).toMatchObject({ changes: true, replaces: [] });
    expect(await vdi.diff("u", disk, { ...disk, sr: "s2" })).toMatchObject({ changes: true, replaces: ["sr"] });
    expect(await vdi.diff("u", { ...disk, sourceHash: "sha256:a" }, { ...disk, sourceHash: "sha256:b" })).toMatchObject(
      { changes: true, replaces: ["sourceHash"] },
    );
  });

  it("plans a replacement when a replace-only field is unknown during preview", async () => {
    expect(await vdi.diff("u", disk, { ...disk, type: unknown })).toMatchObject({ changes: true, replaces: ["type"] });
  });

  it("does not replace a disk whose SR uuid is unknown (its SR is being replaced): the known uuid decides at up", async () => {
    expect(await vdi.diff("u", disk, { ...disk, sr: unknown })).toMatchObject({ changes: true, replaces: [] });
  });
});
