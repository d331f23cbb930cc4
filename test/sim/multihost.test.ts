import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

const GiB = 1024 * 1024 * 1024;

let sim: Simulator;
let c: Client;
let hosts: string[];
let tpl: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 2, guestMetricsDelayMs: 20, seed: { nfs: true, hostMemory: 8 * GiB } }));
  hosts = await c.call<string[]>("host.get_all");
  [tpl] = await c.call<string[]>("VM.get_by_name_label", "Other install media");
});
afterAll(() => sim.close());

async function runningOn(host: string, name: string, memory = GiB): Promise<string> {
  const vm = await c.call<string>("VM.clone", tpl, name);
  await c.call("VM.provision", vm);
  await c.call("VM.set_memory_limits", vm, memory, memory, memory, memory);
  await c.call("VM.start_on", vm, host, false, false);
  return vm;
}

describe("a pool of two hosts", () => {
  it("seeds a shared NFS SR plugged on both hosts, master's PBD first", async () => {
    const [nfs] = await c.call<string[]>("SR.get_by_name_label", "NFS storage");
    const pbds = await Promise.all(
      (await c.call<string[]>("SR.get_PBDs", nfs)).map((p) => c.call<Rec>("PBD.get_record", p)),
    );
    expect(pbds.map((p) => [p.host, p.currently_attached])).toEqual([
      [hosts[0], true],
      [hosts[1], true],
    ]);
  });

  it("starts on the chosen host and gives running VMs an RFB console, removed at shutdown", async () => {
    const vm = await runningOn(hosts[1], "on-host-2");
    expect(await c.call("VM.get_resident_on", vm)).toBe(hosts[1]);
    const [console] = await c.call<string[]>("VM.get_consoles", vm);
    expect(await c.call<Rec>("console.get_record", console)).toMatchObject({
      protocol: "rfb",
      VM: vm,
      location: expect.stringMatching(/^https:\/\/.*\/console\?uuid=/),
    });
    await c.call("VM.hard_shutdown", vm);
    expect(await c.call("VM.get_consoles", vm)).toEqual([]);
  });

  it("pool_migrate moves a running VM and its memory between hosts", async () => {
    const vm = await runningOn(hosts[0], "mover");
    const m1 = await c.call<string>("host.get_metrics", hosts[1]);
    const before = await c.call<number>("host_metrics.get_memory_free", m1);
    await c.call("VM.pool_migrate", vm, hosts[1], {});
    expect(await c.call("VM.get_resident_on", vm)).toBe(hosts[1]);
    expect(await c.call<number>("host_metrics.get_memory_free", m1)).toBeLessThan(before - GiB + 1);
    await c.call("VM.hard_shutdown", vm);
    await expectError(c.call("VM.pool_migrate", vm, hosts[0], {}), "VM_BAD_POWER_STATE", [vm, "running", "halted"]);
  });

  it("evacuates a host when the others have room, and names what prevents it otherwise", async () => {
    const vm = await runningOn(hosts[0], "evacuee");
    await c.call("host.assert_can_evacuate", hosts[0]);
    await c.call("host.evacuate", hosts[0]);
    expect(await c.call("VM.get_resident_on", vm)).toBe(hosts[1]);
    const big = await runningOn(hosts[0], "too-big", 3 * GiB);
    await runningOn(hosts[1], "filler", 2 * GiB);
    const blockers = await c.call<Record<string, string[]>>("host.get_vms_which_prevent_evacuation", hosts[0]);
    expect(blockers[big][0]).toBe("HOST_NOT_ENOUGH_FREE_MEMORY");
    await expectError(c.call("host.assert_can_evacuate", hosts[0]), "HOST_NOT_ENOUGH_FREE_MEMORY");
    for (const v of await c.call<string[]>(
      "VM.get_all_where",
      'field "power_state" = "Running" and field "is_control_domain" = "false"',
    ))
      await c.call("VM.hard_shutdown", v);
  });

  it("redirects disk uploads and downloads to the host that has the SR: 302 with the same path and query", async () => {
    const srs = await c.call<Record<string, Rec>>("SR.get_all_records_where", 'field "name__label" = "Local storage"');
    const local2 = (
      await Promise.all(
        Object.keys(srs).map(
          async (ref) => [ref, await c.call<string>("PBD.get_host", (srs[ref].PBDs as string[])[0])] as const,
        ),
      )
    ).find(([, h]) => h === hosts[1])![0];
    const vdi = await c.call<string>("VDI.create", {
      SR: local2,
      virtual_size: 2 * 1024 * 1024,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    const path = `/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=raw`;
    const redirect = await fetch(`${sim.url}${path}`, { method: "PUT", body: Buffer.alloc(16, 7), redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(`${sim.urls[1]}${path}`);
    const put = await fetch(redirect.headers.get("location")!, { method: "PUT", body: Buffer.alloc(16, 7) });
    expect(put.status).toBe(200);
    await put.arrayBuffer();
    const get = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}`, { redirect: "manual" });
    expect(get.status).toBe(302);
    const data = Buffer.from(await (await fetch(get.headers.get("location")!)).arrayBuffer());
    expect(data.subarray(0, 16).every((b) => b === 7)).toBe(true);
  });

  it("checkpoints: a suspended snapshot with a suspend image; needs guest cooperation", async () => {
    const plain = await runningOn(hosts[1], "no-tools-checkpoint", GiB / 2);
    await expectError(c.call("VM.checkpoint", plain, "cp"), "VM_LACKS_FEATURE", [plain]);
    const [debian] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const vm = await c.call<string>("VM.clone", debian, "with-tools");
    await c.call("VM.set_is_a_template", vm, false);
    await c.call("VM.start_on", vm, hosts[1], false, false);
    for (let i = 0; i < 200 && (await c.call("VM.get_guest_metrics", vm)) === "OpaqueRef:NULL"; i++)
      await new Promise((r) => setTimeout(r, 10));
    const cp = await c.call<string>("VM.checkpoint", vm, "cp");
    const r = await c.call<Rec>("VM.get_record", cp);
    expect(r).toMatchObject({ is_a_snapshot: true, snapshot_of: vm, power_state: "Suspended" });
    expect(await c.call("VDI.get_type", r.suspend_VDI)).toBe("suspend");
    expect(await c.call("VM.get_power_state", vm)).toBe("Running");
  });
});
