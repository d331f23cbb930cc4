/**
 * cloud-init NoCloud as a guest reads it (issue 11 item 9). The seeds are made by the standard tools —
 * genisoimage, cloud-localds (cloud-image-utils), mkfs.vfat (dosfstools) with mcopy (mtools) — through
 * test/sim/fixtures/make-cidata-images, never by this project's own builder. Rules: cloud-init's NoCloud
 * documentation (label cidata or CIDATA, vfat or iso9660, both user-data and meta-data required, meta-data
 * local-hostname, network-config v1/v2); what the agent reports: ocaml/xapi/xapi_guest_agent.ml
 * (data/host_name_dns -> VM_guest_metrics.netbios_name host_name; attr/vif/<dev>/ipv4|ipv6/<n> -> networks).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulator, Simulator } from "../../simulator";
import { readSeed } from "../../simulator/behaviour/nocloud-fs";
import { parseNoCloud } from "../../simulator/behaviour/cloud-init";
import { ipv4For, ipv6For } from "../../simulator/behaviour/guest-metrics";
import { Client, Rec } from "./helpers/rpc";

const MAC0 = "aa:bb:cc:00:00:01";
const MAC1 = "aa:bb:cc:00:00:02";
let dir: string;
const image = (name: string) => fs.readFileSync(path.join(dir, name));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cidata-"));
  try {
    execFileSync(path.join(__dirname, "fixtures", "make-cidata-images"), [dir, MAC0, MAC1], { stdio: "pipe" });
  } catch (e) {
    throw new Error(
      `making the NoCloud fixtures needs genisoimage, cloud-image-utils, dosfstools and mtools (.ci/run ` +
        `installs them): ${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`,
    );
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const seedOf = (name: string) => {
  const seed = readSeed(image(name));
  return seed && { fs: seed.fs, label: seed.label, ...parseNoCloud(seed.files) };
};

describe("NoCloud seed parser, on images made by the standard tools", () => {
  it("genisoimage -volid cidata -joliet -rock: hostname, and network-config v2 static addresses matched by MAC", () => {
    const seed = seedOf("genisoimage.iso")!;
    expect(seed).toMatchObject({ fs: "iso9660", label: "cidata", instanceId: "iid-iso", hostname: "iso-guest" });
    // nic1 is on DHCP: no static addresses for it.
    expect([...seed.addresses!]).toEqual([[MAC0, { ipv4: ["192.0.2.20"], ipv6: ["2001:db8::20"] }]]);
  });

  it("cloud-localds (its default ISO9660): network-config v1 with address/prefix and address + netmask", () => {
    const seed = seedOf("cloud-localds.img")!;
    expect(seed).toMatchObject({ fs: "iso9660", label: "cidata", hostname: "localds-guest" });
    expect([...seed.addresses!]).toEqual([[MAC1, { ipv4: ["198.51.100.30", "198.51.100.31"] }]]);
  });

  it("mkfs.vfat -n CIDATA + mcopy: FAT long names, JSON meta-data, v2 under a network: key", () => {
    const seed = seedOf("vfat.img")!;
    expect(seed).toMatchObject({ fs: "vfat", label: "CIDATA", instanceId: "iid-fat", hostname: "fat-guest" });
    expect([...seed.addresses!]).toEqual([[MAC0, { ipv4: ["203.0.113.40"] }]]);
  });

  it("reads FAT32 (lower-case label) and Rock Ridge names without Joliet", () => {
    expect(seedOf("fat32.img")).toMatchObject({ fs: "vfat", label: "cidata", hostname: "fat-guest" });
    expect(seedOf("rock-only.iso")).toMatchObject({ fs: "iso9660", label: "cidata", hostname: "iso-guest" });
  });

  it("is no seed under another label, nor without user-data", () => {
    expect(readSeed(image("other-label.iso"))).toBeUndefined();
    const files = readSeed(image("genisoimage.iso"))!.files;
    files.delete("user-data");
    expect(parseNoCloud(files)).toBeUndefined();
  });
});

describe("a guest booting with a seed attached", () => {
  let sim: Simulator;
  let c: Client;
  let debian: string;
  let net: string;
  let sr: string;
  beforeAll(async () => {
    sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0, guestMetricsDelayMs: 20 });
    c = await new Client(sim.url).login();
    [debian] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    [net] = await c.call<string[]>("network.get_by_name_label", "Pool-wide network associated with eth0");
    [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
  });
  afterAll(() => sim.close());

  /** A diskless Debian guest with NICs 0 (MAC0) and 1 (MAC1), and `seed` uploaded and attached as `type`. */
  async function guestWith(name: string, seed: string | undefined, type: "Disk" | "CD" = "Disk"): Promise<string> {
    const vm = await c.call<string>("VM.clone", debian, name);
    await c.call("VM.remove_from_other_config", vm, "disks");
    await c.call("VM.provision", vm);
    for (const [device, MAC] of [
      ["0", MAC0],
      ["1", MAC1],
    ])
      await c.call("VIF.create", {
        device,
        network: net,
        VM: vm,
        MAC,
        MTU: 1500,
        other_config: {},
        qos_algorithm_type: "",
        qos_algorithm_params: {},
      });
    if (seed) {
      const bytes = image(seed);
      const vdi = await c.call<string>("VDI.create", {
        SR: sr,
        virtual_size: Math.ceil(bytes.length / 1048576) * 1048576,
        type: "user",
        sharable: false,
        read_only: false,
        other_config: {},
      });
      // As a user uploads it: the raw image through xapi's HTTP side channel.
      const res = await fetch(`${sim.url}/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=raw`, {
        method: "PUT",
        body: bytes,
      });
      expect(res.status).toBe(200);
      await c.call("VBD.create", {
        VM: vm,
        VDI: vdi,
        userdevice: "3",
        bootable: false,
        mode: "RO",
        type,
        empty: false,
        other_config: {},
        qos_algorithm_type: "",
        qos_algorithm_params: {},
      });
    }
    await c.call("VM.start", vm, false, false);
    return vm;
  }

  async function reported(vm: string): Promise<Rec> {
    for (let i = 0; i < 500; i++) {
      const gm = await c.call<string>("VM.get_guest_metrics", vm);
      if (gm !== "OpaqueRef:NULL") {
        const r = await c.call<Rec>("VM_guest_metrics.get_record", gm);
        if (Object.keys(r.networks as object).length > 0) return r;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${vm} never reported its addresses`);
  }

  it("ISO seed on a disk: local-hostname shows as netbios_name.host_name, NIC 0 has its static addresses, NIC 1 (DHCP) the derived ones", async () => {
    const r = await reported(await guestWith("seeded-iso", "genisoimage.iso"));
    expect(r.netbios_name).toEqual({ host_name: "iso-guest" });
    expect(r.networks).toEqual({
      "0/ip": "192.0.2.20",
      "0/ipv4/0": "192.0.2.20",
      "0/ipv6/0": "2001:db8::20",
      "1/ip": ipv4For(MAC1),
      "1/ipv4/0": ipv4For(MAC1),
      "1/ipv6/0": ipv6For(MAC1),
    });
  });

  it("cloud-localds image as a CD: v1 addresses on NIC 1", async () => {
    const r = await reported(await guestWith("seeded-cd", "cloud-localds.img", "CD"));
    expect(r.netbios_name).toEqual({ host_name: "localds-guest" });
    expect((r.networks as Record<string, string>)["1/ipv4/1"]).toBe("198.51.100.31");
    expect((r.networks as Record<string, string>)["0/ip"]).toBe(ipv4For(MAC0));
  });

  it("FAT seed on a disk", async () => {
    const r = await reported(await guestWith("seeded-fat", "vfat.img"));
    expect(r.netbios_name).toEqual({ host_name: "fat-guest" });
    expect((r.networks as Record<string, string>)["0/ip"]).toBe("203.0.113.40");
  });

  it("no seed, or the files under another label: no hostname, derived addresses", async () => {
    for (const [name, seed] of [
      ["unseeded", undefined],
      ["wrong-label", "other-label.iso"],
    ]) {
      const r = await reported(await guestWith(name as string, seed));
      expect(r.netbios_name).toEqual({});
      expect((r.networks as Record<string, string>)["0/ip"]).toBe(ipv4For(MAC0));
    }
  });

  it("sim.guests settings win over the seed (the hostname the agent is told to report)", async () => {
    const vm = await guestWith("seed-overridden", "genisoimage.iso");
    sim.guests.set(vm, { hostname: "told" });
    expect((await reported(vm)).netbios_name).toEqual({ host_name: "told" });
  });
});
