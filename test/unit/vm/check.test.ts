// Vm inputs rejected by check() — at `pulumi preview`, before anything is made — each with a message naming
// the field, the value given and what is allowed. These need no pool; the ones that look at the pool (template,
// SR, network, ISO, VDI, template disks and limits) are in test/sim/resources/vm.test.ts.
import { resourceKinds } from "../../../provider/resources/registry";
import type { ResourceContext } from "../../../provider/resources/contract";

const { Vm: vm } = resourceKinds;

const ctx: ResourceContext = {
  config: {
    get: (k: string) =>
      ({ "xenserver:url": "https://pool.invalid", "xenserver:username": "root", "xenserver:password": "pw" })[k],
  },
};

const net = "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21";
const base = { name: "web-1", template: "Debian Bookworm 12" };

const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ["no template", { name: "web-1" }, "template", /template: is required \(a template name or UUID\) unless adopt/],
  ["template with adopt", { ...base, adopt: net }, "template", /template: cannot be combined with adopt/],
  ["empty name", { ...base, name: "" }, "name", /^name: must not be empty$/],
  ["misspelt field", { ...base, vcpu: 2 }, "(inputs)", /unknown field\(s\) "vcpu"/],
  ["memory that is not a size", { ...base, memory: "lots" }, "memory", /memory: "lots" is not a size; use bytes/],
  [
    "memory dynamicMax above staticMax",
    { ...base, memory: { dynamicMin: "1GiB", dynamicMax: "4GiB", staticMax: "2GiB" } },
    "memory.staticMax",
    /memory.staticMax: 2 GiB is below memory.dynamicMax 4 GiB; xapi needs staticMin ≤ dynamicMin ≤ dynamicMax ≤ staticMax/,
  ],
  [
    "memory dynamicMin above dynamicMax",
    { ...base, memory: { dynamicMin: "3GiB", dynamicMax: "2GiB", staticMax: "4GiB" } },
    "memory.dynamicMax",
    /memory.dynamicMax: 2 GiB is below memory.dynamicMin 3 GiB/,
  ],
  [
    "memory staticMin above dynamicMin",
    { ...base, memory: { staticMin: "2GiB", dynamicMin: "1GiB", dynamicMax: "2GiB", staticMax: "2GiB" } },
    "memory.dynamicMin",
    /memory.dynamicMin: 1 GiB is below memory.staticMin 2 GiB/,
  ],
  ["memory too small", { ...base, memory: "1MiB" }, "memory", /memory: 1 MiB is too small; give at least 16 MiB/],
  ["memory without staticMax", { ...base, memory: { dynamicMin: "1GiB", dynamicMax: "1GiB" } }, "memory", /memory/],
  ["vcpus above vcpusMax", { ...base, vcpus: 8, vcpusMax: 4 }, "vcpus", /vcpus: 8 is above vcpusMax 4; give at most 4/],
  ["zero vcpus", { ...base, vcpus: 0 }, "vcpus", /vcpus: must be ≥ 1/],
  [
    "coresPerSocket not dividing vcpusMax",
    { ...base, vcpus: 2, vcpusMax: 6, coresPerSocket: 4 },
    "coresPerSocket",
    /coresPerSocket: 4 does not divide vcpusMax 6; allowed: 1, 2, 3, 6/,
  ],
  [
    "waitForIp on a halted VM",
    { ...base, powerState: "Halted", waitForIp: { timeout: 60 } },
    "waitForIp",
    /waitForIp: needs powerState "Running" \(given "Halted"\)/,
  ],
  [
    "unknown power state",
    { ...base, powerState: "Off" },
    "powerState",
    /must be one of "Running", "Halted", "Paused", "Suspended"/,
  ],
  [
    "waitForIp with a bad CIDR",
    { ...base, waitForIp: { cidr: "10.0.0.0/40" } },
    "waitForIp.cidr",
    /"10.0.0.0\/40" is not a CIDR/,
  ],
  [
    "waitForIp on an interface the VM lacks",
    { ...base, networkInterfaces: [{ network: net }], waitForIp: { interface: 2 } },
    "waitForIp.interface",
    /waitForIp.interface: 2 is not one of the VM's interfaces \(devices 0 to 0\)/,
  ],
  [
    "Secure Boot with BIOS firmware",
    { ...base, boot: { firmware: "bios" }, platform: { secureboot: "true" } },
    "platform.secureboot",
    /platform.secureboot: "true" needs UEFI firmware; use boot.firmware "uefi-secureboot"/,
  ],
  [
    "unknown firmware",
    { ...base, boot: { firmware: "efi" } },
    "boot.firmware",
    /must be one of "bios", "uefi", "uefi-secureboot"/,
  ],
  [
    "boot order with a bad letter",
    { ...base, boot: { firmware: "bios", order: "cx" } },
    "boot.order",
    /must be letters of "c"/,
  ],
  [
    "boot order naming a device twice",
    { ...base, boot: { firmware: "bios", order: "cc" } },
    "boot.order",
    /names a device twice/,
  ],
  [
    "malformed MAC",
    { ...base, networkInterfaces: [{ network: net, mac: "02:16:3e:00:00" }] },
    "networkInterfaces[0].mac",
    /networkInterfaces\[0\].mac: "02:16:3e:00:00" is not a MAC address such as 02:16:3e:12:34:56/,
  ],
  [
    "multicast MAC",
    { ...base, networkInterfaces: [{ network: net, mac: "01:16:3e:00:00:01" }] },
    "networkInterfaces[0].mac",
    /is a multicast address; the first byte must be even/,
  ],
  [
    "duplicate MACs",
    {
      ...base,
      networkInterfaces: [
        { network: net, mac: "02:16:3e:00:00:01" },
        { network: net, mac: "02:16:3E:00:00:01" },
      ],
    },
    "networkInterfaces[1].mac",
    /networkInterfaces\[1\].mac: "02:16:3e:00:00:01" is already used by networkInterfaces\[0\]/,
  ],
  [
    "network that is not a UUID",
    { ...base, networkInterfaces: [{ network: "eth0" }] },
    "networkInterfaces[0].network",
    /networkInterfaces\[0\].network: must be a UUID/,
  ],
  [
    "MTU too small",
    { ...base, networkInterfaces: [{ network: net, mtu: 20 }] },
    "networkInterfaces[0].mtu",
    /must be ≥ 68/,
  ],
  [
    "locked NIC with an IPv6 address in ipv4Allowed",
    { ...base, networkInterfaces: [{ network: net, lockingMode: "locked", ipv4Allowed: ["fd00::1"] }] },
    "networkInterfaces[0].ipv4Allowed[0]",
    /"fd00::1" is not an IPv4 address/,
  ],
  [
    "the same VDI attached twice",
    { ...base, disks: [{}, { vdi: net }, { vdi: net }] },
    "disks[2].vdi",
    /disks\[2\].vdi: 5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21 is already attached as disks\[1\]/,
  ],
  [
    "disk size that is not a size",
    { ...base, disks: [{ size: "big" }] },
    "disks[0].size",
    /disks\[0\].size: "big" is not a size/,
  ],
  ["disk with an unknown mode", { ...base, disks: [{ size: "1GiB", mode: "RWX" }] }, "disks", /disks\[0\]/],
  [
    "empty cloud-init user-data",
    { ...base, cloudInit: { userData: "  " } },
    "cloudInit.userData",
    /must not be empty; start it with "#cloud-config"/,
  ],
  ["unknown updatePolicy", { ...base, updatePolicy: "force" }, "updatePolicy", /must be one of "restart", "fail"/],
  [
    "affinity host that is not a UUID",
    { ...base, affinityHost: "host-1" },
    "affinityHost",
    /affinityHost: must be a UUID/,
  ],
];

describe("Vm check() rejects bad input at preview", () => {
  it.each(cases)("%s", async (_label, news, property, reason) => {
    const r = await vm.check({}, news, ctx);
    expect(r.inputs).toBeUndefined();
    const f = r.failures?.find(
      (x) => x.property === property || (property === "disks" && x.property.startsWith("disks")),
    );
    expect(f).toBeDefined();
    expect(f!.reason).toMatch(reason);
  });
});

describe("Vm check() accepts", () => {
  it("an adoption stating only a name, without undefined values (the engine refuses them)", async () => {
    const r = await vm.check({}, { adopt: net, name: "by-hand" }, ctx);
    expect(r.failures).toBeUndefined();
    expect(Object.values(r.inputs!).every((v) => v !== undefined)).toBe(true);
    expect(r.inputs).not.toHaveProperty("disks");
    expect(r.inputs).not.toHaveProperty("powerState");
  });
});
