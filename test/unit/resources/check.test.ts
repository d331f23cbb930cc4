// Bad input is rejected by check() — at `pulumi preview` — with a message that
// names the field and what is allowed. These cases need no XAPI round trip; the
// ones that do (unknown NICs, SR lookups, shrinking) are in test/sim/resources.
import { resourceKinds } from "../../../provider/resources/registry";
import type { EngineResource, ResourceContext } from "../../../provider/resources/contract";
import { uuid } from "../../../provider/resources/common/schema-parts";
import { validate } from "../../../provider/resources/common/check";
import { z } from "zod";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi } = resourceKinds;

const ctx: ResourceContext = {
  config: {
    get: (k: string) =>
      ({ "xenserver:url": "https://pool.invalid", "xenserver:username": "root", "xenserver:password": "pw" })[k],
  },
};

const nfs = { type: "nfs", name: "store", deviceConfig: { server: "10.0.0.5", serverpath: "/exports/xen" } };

const cases: Array<[string, EngineResource, Record<string, unknown>, string, RegExp]> = [
  ["network: MTU below 1280", network, { name: "n", mtu: 1000 }, "mtu", /mtu: must be ≥ 1280/],
  ["network: MTU above 9216", network, { name: "n", mtu: 9300 }, "mtu", /mtu: must be ≤ 9216/],
  ["network: VLAN tag above 4094", network, { name: "n", vlan: 4095, nic: "eth1" }, "vlan", /vlan: must be ≤ 4094/],
  ["network: negative VLAN tag", network, { name: "n", vlan: -1, nic: "eth1" }, "vlan", /vlan: must be ≥ 0/],
  [
    "network: VLAN tag that is not an integer",
    network,
    { name: "n", vlan: 10.5, nic: "eth1" },
    "vlan",
    /vlan: must be an integer/,
  ],
  ["network: VLAN without a NIC", network, { name: "n", vlan: 10 }, "nic", /needs both vlan .* and nic/],
  ["network: NIC without a VLAN", network, { name: "n", nic: "eth1" }, "vlan", /needs both vlan .* and nic/],
  [
    "network: bond of one NIC",
    network,
    { name: "n", bond: { nics: ["eth1"] } },
    "bond.nics",
    /bond.nics: must have at least 2 items/,
  ],
  ["network: empty name", network, { name: "" }, "name", /^name: must not be empty$/],
  ["network: empty tag", network, { name: "n", tags: ["ok", ""] }, "tags[1]", /^tags\[1\]: must not be empty$/],
  [
    "network: unknown bond mode",
    network,
    { name: "n", bond: { nics: ["eth1", "eth2"], mode: "round-robin" } },
    "bond.mode",
    /must be one of "balance-slb", "active-backup", "lacp"/,
  ],
  [
    "network: both VLAN and bond",
    network,
    { name: "n", vlan: 5, nic: "eth1", bond: { nics: ["eth1", "eth2"] } },
    "bond",
    /either a VLAN network .* or a bond network/,
  ],
  [
    "network: adopt with a creation-only field",
    network,
    { name: "n", adopt: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", vlan: 5, nic: "eth1" },
    "vlan",
    /cannot be combined with adopt/,
  ],
  ["network: misspelt field", network, { name: "n", mtuu: 1500 }, "(inputs)", /unknown field\(s\) "mtuu"/],
  ["network: missing name", network, {}, "name", /name: is required/],
  [
    "network: connection profile not configured",
    network,
    { name: "n", connection: "lab" },
    "connection",
    /connection "lab" is not configured.*configured: default/,
  ],
  ["network: adopt that is not a UUID", network, { name: "n", adopt: "net-1" }, "adopt", /adopt: must be a UUID/],
  [
    "pool: default SR that is not a UUID",
    pool,
    { defaultSr: "local-storage" },
    "defaultSr",
    /defaultSr: must be a UUID/,
  ],
  ["pool: tags that are not strings", pool, { tags: [1] }, "tags[0]", /tags\[0\]: must be a string/],
  [
    "sr: NFS without serverpath",
    sr,
    { ...nfs, deviceConfig: { server: "10.0.0.5" } },
    "deviceConfig",
    /a nfs SR needs "serverpath"/,
  ],
  [
    "sr: NFS with an unknown device-config key",
    sr,
    { ...nfs, deviceConfig: { ...nfs.deviceConfig, path: "/x" } },
    "deviceConfig",
    /unknown key\(s\) "path" for a nfs SR \(allowed: server, serverpath/,
  ],
  [
    "sr: NFS version that does not exist",
    sr,
    { ...nfs, deviceConfig: { ...nfs.deviceConfig, nfsversion: "5" } },
    "deviceConfig.nfsversion",
    /must be "3" or a version 4 \("4", "4.0", "4.1", "4.2"\)/,
  ],
  ["sr: attach without the SR's uuid", sr, { ...nfs, mode: "attach" }, "existingUuid", /mode "attach" needs the UUID/],
  [
    "sr: create with a uuid",
    sr,
    { ...nfs, existingUuid: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21" },
    "existingUuid",
    /only with mode "attach"/,
  ],
  ["sr: unknown mode", sr, { ...nfs, mode: "import" }, "mode", /mode: must be one of "create", "attach"/],
  ["sr: host on a shared SR", sr, { ...nfs, host: "xs1" }, "host", /host is only for local SRs/],
  [
    "sr: iSCSI without target IQN and SCSI id",
    sr,
    { type: "lvmoiscsi", name: "i", deviceConfig: { target: "10.0.0.9" } },
    "deviceConfig",
    /needs "targetIQN", "SCSIid"/,
  ],
  [
    "sr: local LVM without a device",
    sr,
    { type: "lvm", name: "l", deviceConfig: {} },
    "deviceConfig",
    /a lvm SR needs "device"/,
  ],
  [
    "sr: destroying an ISO library",
    sr,
    { type: "iso", name: "isos", deviceConfig: { location: "192.0.2.5:/isos" }, destroyOnDelete: true },
    "destroyOnDelete",
    /always forgotten, never destroyed/,
  ],
  [
    "sr: adopt with device config",
    sr,
    { ...nfs, adopt: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21" },
    "deviceConfig",
    /deviceConfig: cannot be combined with adopt/,
  ],
  [
    "vdi: size that does not parse",
    vdi,
    { sr: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", name: "d", size: "20 gigs" },
    "size",
    /size: "20 gigs" is not a size; use bytes/,
  ],
  [
    "vdi: empty disk without a size",
    vdi,
    { sr: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", name: "d" },
    "size",
    /size: required for an empty disk/,
  ],
  [
    "vdi: unknown VDI type",
    vdi,
    { sr: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", name: "d", size: "1GiB", type: "cdrom" },
    "type",
    /type: must be one of "user", "system"/,
  ],
  [
    "vdi: source file that does not exist",
    vdi,
    { sr: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", name: "d", source: { path: "/nonexistent/disk.img" } },
    "source.path",
    /no such file \/nonexistent\/disk.img/,
  ],
  [
    "vdi: unsupported image format",
    vdi,
    { sr: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", name: "d", source: { path: "/etc/hostname", format: "qcow2" } },
    "source.format",
    /must be one of "raw", "vhd"/,
  ],
  [
    "vdi: a raw file given as VHD",
    vdi,
    { sr: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", name: "d", source: { path: __filename, format: "vhd" } },
    "source.path",
    /no VHD footer/,
  ],
  ["vdi: sr that is not a UUID", vdi, { sr: "Local storage", name: "d", size: "1GiB" }, "sr", /sr: must be a UUID/],
];

describe("check rejects bad input, naming the field and what is allowed", () => {
  it.each(cases)("%s", async (_title, mod, news, property, reason) => {
    const r = await mod.check({}, news, ctx);
    expect(r.inputs).toBeUndefined();
    const failure = r.failures?.find((f) => f.property === property);
    expect(failure).toBeDefined();
    expect(failure!.reason).toMatch(reason);
  });

  it("lists every configured connection profile when one is missing", async () => {
    const multi: ResourceContext = {
      config: {
        get: (k) =>
          k === "xenserver:pools"
            ? JSON.stringify({ lab: { url: "https://a", username: "u" }, prod: { url: "https://b", username: "u" } })
            : undefined,
      },
    };
    const r = await network.check({}, { name: "n", connection: "staging" }, multi);
    expect(r.failures?.[0].reason).toMatch(/connection "staging" is not configured.*configured: lab, prod/);
  });

  it("accepts a private network and fills defaults", async () => {
    const r = await network.check({}, { name: "backend" }, ctx);
    expect(r.failures).toBeUndefined();
    expect(r.inputs).toMatchObject({ name: "backend", description: "", mtu: 1500, otherConfig: {}, tags: [] });
  });

  it("reports an empty connection name once, as empty", async () => {
    const r = await network.check({}, { name: "n", connection: "" }, ctx);
    expect(r.failures).toEqual([{ property: "connection", reason: "connection: must not be empty" }]);
  });

  it("lowercases a UUID pasted in capitals (XAPI looks UUIDs up exactly)", async () => {
    const r = validate(z.object({ sr: uuid }), { sr: "5B7C7C3E-6F1A-4C7E-9A0E-2F7C9D1E4B21" });
    expect(r.failures).toEqual([]);
    expect(r.value?.sr).toBe("5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21");
  });

  it("ignores values that are unknown during preview", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const r = await pool.check({}, { defaultSr: unknown }, ctx);
    expect(r.failures).toBeUndefined();
    // A connection profile computed by another resource is not looked up until it is known.
    expect((await network.check({}, { name: "n", connection: unknown }, ctx)).failures).toBeUndefined();
  });
});
