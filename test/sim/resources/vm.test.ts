// The Vm resource's lifecycle against the simulator, calling the module as the dynamic provider does:
// check, create, read, diff/update (hot, cold, replace), delete. Simulator behaviour follows xapi
// (xapi_vm.ml provision/start/clean_shutdown/destroy; xapi_vm_clone.ml; docs/xapi-semantics.md §6.9).
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceKinds } from "../../../provider/resources/registry";
import { readIsoFiles } from "../../../provider/resources/common/iso9660";
import { vdiData } from "../../../simulator/behaviour/vdi-data";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Vdi: vdi, Vm: vm } = resourceKinds;

let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
const GiB = 1024 ** 3;

beforeAll(async () => {
  lab = await startPool("vm-pw", { hosts: 2, guestMetricsDelayMs: 40 });
  ({ xapi, ctx } = lab);
});
afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

async function networkUuid(name: string): Promise<string> {
  const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
  return Object.values(nets).find((n) => n.name_label === name)!.uuid;
}

async function defaultSrUuid(): Promise<string> {
  const [pool] = await xapi.call<string[]>("pool.get_all");
  return xapi.call<string>("SR.get_uuid", await xapi.call<string>("pool.get_default_SR", pool));
}

describe("Vm", () => {
  it("creates from a Debian template: disks grown, a new disk and a Vdi resource, 2 NICs, cloud-init, running with an IP", async () => {
    const net0 = await networkUuid("Pool-wide network associated with eth0");
    const net1 = await networkUuid("Pool-wide network associated with eth1");
    const sr = await defaultSrUuid();
    const data = await createWith(vdi, { sr, name: "data", size: "2GiB" });
    const program = {
      name: "web-1",
      identity: "lab/dev/web-1",
      template: "Debian Bookworm 12",
      vcpus: 2,
      vcpusMax: 4,
      memory: "2GiB",
      disks: [{ size: "20GiB" }, { size: "1GiB", name: "scratch" }, { vdi: data.id }],
      networkInterfaces: [{ network: net0 }, { network: net1, mac: "02:16:3e:00:00:01" }],
      cloudInit: { userData: "#cloud-config\npackages: [nginx]\n" },
      waitForIp: { timeout: 30 },
      tags: ["web"],
    };
    const { id, outs } = await createWith(vm, program);
    expect(outs.powerState).toBe("Running");
    expect(outs.residentOn).toMatch(/^[0-9a-f-]{36}$/);
    expect((outs.ipAddresses as string[]).length).toBeGreaterThan(0);
    const disks = outs.disks as Array<{ device: string; virtualSize: number; owned: boolean; vdiUuid: string }>;
    expect(disks.map((d) => d.virtualSize)).toEqual([20 * GiB, 1 * GiB, 2 * GiB]);
    expect(disks.map((d) => d.owned)).toEqual([true, true, false]);
    expect(disks[2].vdiUuid).toBe(data.id);
    expect(disks.map((d) => d.device)).not.toContain("3");
    const nics = outs.networkInterfaces as Array<{ device: string; mac: string; network: string }>;
    expect(nics.map((x) => [x.device, x.network])).toEqual([
      ["0", net0],
      ["1", net1],
    ]);
    expect(nics[1].mac).toBe("02:16:3e:00:00:01");

    const ref = await xapi.call<string>("VM.get_by_uuid", id);
    const rec = await xapi.call<{
      VCPUs_max: number;
      VCPUs_at_startup: number;
      memory_static_max: number;
      other_config: Record<string, string>;
    }>("VM.get_record", ref);
    expect([rec.VCPUs_max, rec.VCPUs_at_startup, rec.memory_static_max]).toEqual([4, 2, 2 * GiB]);
    expect(rec.other_config["pulumi-xenserver:resource"]).toBe("web-1");

    // The cloud-init drive is a VDI holding an ISO9660 volume labelled cidata, with the user-data.
    const ci = await xapi.call<string>("VDI.get_by_uuid", outs.cloudInitVdi as string);
    const image = vdiData(lab!.sim.xapi).get(ci)!;
    const iso = readIsoFiles(Buffer.from(image));
    expect(iso.label).toBe("cidata");
    expect(iso.files["user-data"].toString()).toContain("packages: [nginx]");
    expect(iso.files["meta-data"].toString()).toContain("local-hostname: web-1");

    // Read: the VM by UUID, then one indexed read per device of its own, never a scan of the pool's tables
    // (issue 14: it was 6 get_all_records_where-style calls, each walking a whole table); unchanged → no diff.
    const own = await xapi.call<{ VBDs: string[]; VIFs: string[] }>("VM.get_record", ref);
    const mark = lab!.sim.calls.mark();
    const r = await vm.read(id, outs, ctx);
    const count = (m: string) => lab!.sim.calls.list({ since: mark, method: m }).length;
    expect(lab!.sim.calls.list({ since: mark, method: /get_all|get_by_name_label/ })).toEqual([]);
    expect([count("VM.get_by_uuid"), count("VM.get_record")]).toEqual([1, 1]);
    expect([count("VBD.get_record"), count("VIF.get_record")]).toEqual([own.VBDs.length, own.VIFs.length]);
    expect(count("VDI.get_record")).toBe(4); // 3 disks and the cloud-init drive; the CD drive is empty
    expect(lab!.sim.calls.list({ since: mark }).length).toBe(2 + own.VBDs.length + own.VIFs.length + 4 + 2);
    const again = await vm.check(r.inputs!, program, ctx);
    expect(again.failures).toBeUndefined();
    const d = await vm.diff(id, r.props!, again.inputs!, ctx);
    expect(d).toMatchObject({ changes: false, replaces: [] });

    // Delete: the VM, its VBDs/VIFs, its own disks and the cloud-init drive go; the Vdi resource stays.
    await vm.delete(id, r.props!, ctx);
    for (const u of [disks[0].vdiUuid, disks[1].vdiUuid, outs.cloudInitVdi as string])
      await expect(xapi.call("VDI.get_by_uuid", u)).rejects.toThrow(/UUID_INVALID/);
    await expect(xapi.call("VM.get_by_uuid", id)).rejects.toThrow(/UUID_INVALID/);
    expect(await xapi.call("VDI.get_by_uuid", data.id)).toMatch(/^OpaqueRef:/);
  });

  it(
    "updates hot changes live (no restart), cold ones with a restart, refuses cold ones under " +
      "updatePolicy fail, and replaces for a new template",
    async () => {
      const net0 = await networkUuid("Pool-wide network associated with eth0");
      const program = {
        name: "app-1",
        identity: "lab/dev/app-1",
        template: "Debian Bookworm 12",
        vcpus: 1,
        vcpusMax: 4,
        memory: "1GiB",
        networkInterfaces: [{ network: net0 }],
        // Live vCPU changes need the guest agent's feature-vcpu-hotplug (VM_LACKS_FEATURE before it reports).
        waitForIp: { timeout: 30 },
      };
      const { id, outs } = await createWith(vm, program);
      const ref = await xapi.call<string>("VM.get_by_uuid", id);
      const domid = () => xapi.call<number>("VM.get_domid", ref);
      const firstDomid = await domid();

      // Hot: vCPUs within vcpusMax, a name, a tag, a second NIC, a new disk; the domain stays the same (no restart).
      const hot = await updateWith(vm, id, outs, {
        ...program,
        name: "app-1b",
        vcpus: 3,
        tags: ["blue"],
        networkInterfaces: [{ network: net0 }, { network: net0 }],
        disks: [{}, { size: "1GiB" }],
      });
      expect(hot.diff).toMatchObject({ changes: true, replaces: [] });
      const afterHot = (await hot.run()).outs;
      expect(await domid()).toBe(firstDomid);
      expect(await xapi.call("VM.get_VCPUs_at_startup", ref)).toBe(3);
      expect((afterHot.networkInterfaces as unknown[]).length).toBe(2);
      expect((afterHot.disks as unknown[]).length).toBe(2);

      // Cold under updatePolicy "fail": refused at preview (diff), naming the field.
      const coldProgram = { ...program, name: "app-1b", vcpus: 3, tags: ["blue"], memory: "2GiB" };
      const checked = await vm.check(afterHot, { ...coldProgram, updatePolicy: "fail" }, ctx);
      await expect(vm.diff(id, afterHot, checked.inputs!, ctx)).rejects.toThrow(
        /app-1b: memory.staticMax can only change while the VM is halted, and updatePolicy is "fail"/,
      );
      expect(await domid()).toBe(firstDomid);

      // Cold under "restart": shut down, changed, started again (a new domain).
      const cold = await updateWith(vm, id, afterHot, {
        ...coldProgram,
        networkInterfaces: [{ network: net0 }, { network: net0 }],
        disks: [{}, { size: "1GiB" }],
      });
      expect(cold.diff).toMatchObject({ changes: true, replaces: [] });
      const afterCold = (await cold.run()).outs;
      expect(afterCold.powerState).toBe("Running");
      expect(await domid()).not.toBe(firstDomid);
      expect(await xapi.call("VM.get_memory_static_max", ref)).toBe(2 * GiB);

      // Halted out of band: read sees it, and the next update starts the VM again.
      await xapi.call("VM.hard_shutdown", ref);
      const r = await vm.read(id, afterCold, ctx);
      expect(r.props!.powerState).toBe("Halted");
      const fix = await updateWith(vm, id, r.props!, {
        ...coldProgram,
        networkInterfaces: [{ network: net0 }, { network: net0 }],
        disks: [{}, { size: "1GiB" }],
      });
      expect(fix.diff).toMatchObject({ changes: true, replaces: [] });
      expect((await fix.run()).outs.powerState).toBe("Running");

      // A new template replaces the VM.
      const c2 = await vm.check(afterCold, { ...coldProgram, template: "Debian Bullseye 11" }, ctx);
      expect((await vm.diff(id, afterCold, c2.inputs!, ctx)).replaces).toEqual(["template"]);
      await vm.delete(id, afterCold, ctx);
    },
  );

  it("adopts a hand-made VM stating only its name; the next diff shows no changes", async () => {
    const [t] = Object.keys(
      await xapi.call<Record<string, unknown>>(
        "VM.get_all_records_where",
        'field "name__label" = "Debian Bookworm 12" and field "is_a_template" = "true"',
      ),
    );
    const hand = await xapi.call<string>("VM.clone", t, "by-hand");
    await xapi.call("VM.remove_from_other_config", hand, "disks");
    await xapi.call("VM.provision", hand);
    await xapi.call("VM.start", hand, false, false);
    const uuid = await xapi.call<string>("VM.get_uuid", hand);
    const program = { adopt: uuid, name: "by-hand", identity: "lab/dev/by-hand" };
    const { id, outs } = await createWith(vm, program);
    expect(id).toBe(uuid);
    expect(outs.powerState).toBe("Running");
    const again = await vm.check(outs, program, ctx);
    expect(await vm.diff(id, outs, again.inputs!, ctx)).toMatchObject({ changes: false, replaces: [] });
    await vm.delete(id, outs, ctx);
  });

  describe("check() failures that need a look at the pool (at preview, nothing is made)", () => {
    const cases: Array<[string, () => Promise<Record<string, unknown>>, string, RegExp]> = [
      [
        "an unknown template",
        async () => ({ template: "Debian Trixie 13" }),
        "template",
        /template: no template named or with UUID "Debian Trixie 13"/,
      ],
      [
        "an ambiguous template name lists the candidates",
        async () => {
          const [t] = Object.keys(
            await xapi.call<Record<string, unknown>>(
              "VM.get_all_records_where",
              'field "name__label" = "Rocky Linux 9" and field "is_a_template" = "true"',
            ),
          );
          await xapi.call("VM.clone", t, "Rocky Linux 9");
          return { template: "Rocky Linux 9" };
        },
        "template",
        /template: "Rocky Linux 9" is ambiguous: 2 templates match \([0-9a-f-]{36} \("Rocky Linux 9"\), [0-9a-f-]{36} \("Rocky Linux 9"\)\); give the UUID/,
      ],
      [
        "an unknown SR",
        async () => ({ sr: "00000000-0000-4000-8000-000000000000" }),
        "sr",
        /sr: no SR with UUID 00000000-0000-4000-8000-000000000000 in this pool/,
      ],
      [
        "an ISO library as the VM's SR",
        async () => ({ sr: await isoSrUuid() }),
        "sr",
        /is an ISO library; disks go on an SR with content type user/,
      ],
      [
        "a new disk on an ISO SR",
        async () => ({ disks: [{}, { size: "1GiB", sr: await isoSrUuid() }] }),
        "disks[1].sr",
        /disks\[1\].sr: ".*" is an ISO library/,
      ],
      [
        "an unknown network",
        async () => ({ networkInterfaces: [{ network: "00000000-0000-4000-8000-000000000001" }] }),
        "networkInterfaces[0].network",
        /no network with UUID 00000000-0000-4000-8000-000000000001 in this pool/,
      ],
      [
        "an unknown ISO",
        async () => ({ cdrom: "windows.iso" }),
        "cdrom",
        /cdrom: no ISO named or with UUID "windows.iso"/,
      ],
      [
        "shrinking a template disk",
        async () => ({ disks: [{ size: "5GiB" }] }),
        "disks[0].size",
        /disks\[0\].size: 5 GiB is smaller than the disk's 10 GiB; disks can grow, never shrink/,
      ],
      [
        "a new disk without a size",
        async () => ({ disks: [{}, { name: "data" }] }),
        "disks[1].size",
        /disks\[1\].size: is required for a new disk \(the template has 1 disk\)/,
      ],
      [
        "more NICs than the template allows",
        async () => ({ networkInterfaces: Array.from({ length: 8 }, () => ({ network: defaultNet })) }),
        "networkInterfaces",
        /networkInterfaces: 8 interfaces; template "Debian Bookworm 12" allows at most 7/,
      ],
      [
        "more vCPUs than the template allows",
        async () => ({ vcpus: 2, vcpusMax: 128 }),
        "vcpusMax",
        /vcpusMax: 128 is above the 64 vCPUs template "Debian Bookworm 12" allows/,
      ],
      [
        "an ISO attached as a disk",
        async () => ({ disks: [{}, { vdi: await isoUuid() }] }),
        "disks[1].vdi",
        /is an ISO; put it in cdrom instead/,
      ],
      [
        "an unknown affinity host",
        async () => ({ affinityHost: "00000000-0000-4000-8000-000000000002" }),
        "affinityHost",
        /affinityHost: no host with UUID 00000000-0000-4000-8000-000000000002 in this pool/,
      ],
    ];
    let defaultNet = "";
    beforeAll(async () => {
      defaultNet = await networkUuid("Pool-wide network associated with eth0");
    });
    it.each(cases)("%s", async (_label, extra, property, reason) => {
      const news = { name: "bad", template: "Debian Bookworm 12", ...(await extra()) };
      const before = await xapi.call<string[]>("VM.get_all");
      const r = await vm.check({}, news, ctx);
      expect(r.inputs).toBeUndefined();
      const f = r.failures?.find((x) => x.property === property);
      expect(f?.reason).toMatch(reason);
      // Preview failed: nothing was made.
      expect((await xapi.call<string[]>("VM.get_all")).length).toBe(before.length);
    });
  });
});

async function isoSrUuid(): Promise<string> {
  const srs = await xapi.call<Record<string, { uuid: string; content_type: string }>>("SR.get_all_records");
  return Object.values(srs).find((s) => s.content_type === "iso")!.uuid;
}

async function isoUuid(): Promise<string> {
  const sr = await xapi.call<string>("SR.get_by_uuid", await isoSrUuid());
  const [v] = await xapi.call<string[]>("SR.get_VDIs", sr);
  return xapi.call<string>("VDI.get_uuid", v);
}
