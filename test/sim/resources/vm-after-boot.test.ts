// cloudInit.detachAfterBoot (docs/resources/vm.md): once the guest has booted, the config drive's VBD is
// unplugged and destroyed and its VDI destroyed; the guest keeps what cloud-init gave it at boot. A VM that is
// not started keeps its drive until the boot that reads it. The waits watch event.from (no status polling).
// Simulator: the guest reads its NoCloud seed while it boots (simulator/behaviour/cloud-init.ts, as cloud-init's
// DataSourceNoCloud does), the agent reports netbios_name.host_name from data/host_name_dns
// (xapi_guest_agent.ml); VBD.unplug/destroy and VDI.destroy as xapi_vbd.ml / xapi_vdi.ml.
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { closeAll } from "../../../provider/resources/common/connection";
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Vm: vm } = resourceKinds;

let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;

beforeAll(async () => {
  lab = await startPool("vm-after-boot-pw", { hosts: 1, guestMetricsDelayMs: 200 });
  ({ xapi, ctx } = lab);
});
afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

async function net0(): Promise<string> {
  const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
  return Object.values(nets).find((n) => n.name_label === "Pool-wide network associated with eth0")!.uuid;
}

/** The VDIs named as the config drive of VM `name`, and the VBDs of the VM that hold them. */
async function configDrive(name: string, vmUuid: string): Promise<{ vdis: string[]; vbds: string[] }> {
  const vdis = Object.keys(
    await xapi.call<Record<string, unknown>>("VDI.get_all_records_where", `field "name__label" = "${name} cloud-init"`),
  );
  const [vmRef] = Object.keys(
    await xapi.call<Record<string, unknown>>("VM.get_all_records_where", `field "uuid" = "${vmUuid}"`),
  );
  const vbds = Object.entries(
    await xapi.call<Record<string, { VDI: string }>>("VBD.get_all_records_where", `field "VM" = "${vmRef}"`),
  )
    .filter(([, b]) => vdis.includes(b.VDI))
    .map(([r]) => r);
  return { vdis, vbds };
}

async function hostnameOf(vmUuid: string): Promise<string | undefined> {
  const [rec] = Object.values(
    await xapi.call<Record<string, { guest_metrics: string }>>(
      "VM.get_all_records_where",
      `field "uuid" = "${vmUuid}"`,
    ),
  );
  const all = await xapi.call<Record<string, { netbios_name: Record<string, string> }>>(
    "VM_guest_metrics.get_all_records",
  );
  return all[rec.guest_metrics]?.netbios_name.host_name;
}

describe("Vm cloudInit.detachAfterBoot", () => {
  it("removes the config drive once the guest has booted (waitForIp); the guest keeps its cloud-init hostname and the next diff shows no changes", async () => {
    const mark = lab!.sim.calls.mark();
    const program = {
      name: "ci-ip",
      template: "Debian Bookworm 12",
      memory: "1GiB",
      networkInterfaces: [{ network: await net0() }],
      cloudInit: {
        userData: "#cloud-config\n",
        metaData: "instance-id: ci-ip\nlocal-hostname: booted-once\n",
        detachAfterBoot: true,
      },
      waitForIp: { timeout: 30 },
    };
    const { id, outs } = await createWith(vm, program);
    expect(outs.powerState).toBe("Running");
    expect(outs.cloudInitVdi).toBeNull();
    expect(await configDrive("ci-ip", id)).toEqual({ vdis: [], vbds: [] });
    expect(await hostnameOf(id)).toBe("booted-once");
    // The template's disk is still the only disk: the drive was never listed among the disks.
    expect((outs.disks as unknown[]).length).toBe(1);

    // refresh, preview and destroy, each in a session of its own as each pulumi command's provider process has
    // (statusPolls counts per session: a VM read once by each of three commands is not polled).
    await closeAll();
    const r = await vm.read(id, outs, ctx);
    expect(r.props!.cloudInitVdi).toBeNull();
    await closeAll();
    const again = await updateWith(vm, id, r.props!, program);
    expect(again.diff).toMatchObject({ changes: false, replaces: [] });

    await closeAll();
    await vm.delete(id, r.props!, ctx);
    await expect(xapi.call("VM.get_by_uuid", id)).rejects.toThrow(/UUID_INVALID/);
    // The waits watched event.from: no getter was read in a loop.
    expect(lab!.sim.calls.statusPolls({ since: mark })).toEqual([]);
  });

  it("without waitForIp, waits for the guest agent's first report (event.from), then removes the drive", async () => {
    const mark = lab!.sim.calls.mark();
    const { id, outs } = await createWith(vm, {
      name: "ci-agent",
      template: "Debian Bookworm 12",
      memory: "1GiB",
      networkInterfaces: [{ network: await net0() }],
      cloudInit: { userData: "#cloud-config\n", detachAfterBoot: true },
    });
    expect(outs.cloudInitVdi).toBeNull();
    expect(await configDrive("ci-agent", id)).toEqual({ vdis: [], vbds: [] });
    // Default meta-data: the VM's name is the guest's hostname, read from the drive before it went.
    expect(await hostnameOf(id)).toBe("ci-agent");
    const methods = lab!.sim.calls.list({ since: mark }).map((c) => c.method);
    expect(methods).toContain("event.from");
    expect(methods).not.toContain("VM.get_guest_metrics");
    expect(methods).not.toContain("VM.get_power_state");
    await vm.delete(id, outs, ctx);
  });

  it("a halted VM keeps its drive until the update that starts it; that boot reads it and then it goes", async () => {
    const program = {
      name: "ci-later",
      template: "Debian Bookworm 12",
      memory: "1GiB",
      networkInterfaces: [{ network: await net0() }],
      cloudInit: {
        userData: "#cloud-config\n",
        metaData: "instance-id: ci-later\nlocal-hostname: first-boot\n",
        detachAfterBoot: true,
      },
      powerState: "Halted",
    };
    const { id, outs } = await createWith(vm, program);
    expect(outs.powerState).toBe("Halted");
    expect(outs.cloudInitVdi).toMatch(/^[0-9a-f-]{36}$/);
    const attached = await configDrive("ci-later", id);
    expect(attached.vdis.length).toBe(1);
    expect(attached.vbds.length).toBe(1);

    const start = await updateWith(vm, id, outs, { ...program, powerState: "Running", waitForIp: { timeout: 30 } });
    expect(start.diff).toMatchObject({ changes: true, replaces: [] });
    const started = (await start.run()).outs;
    expect(started.powerState).toBe("Running");
    expect(started.cloudInitVdi).toBeNull();
    expect(await configDrive("ci-later", id)).toEqual({ vdis: [], vbds: [] });
    expect(await hostnameOf(id)).toBe("first-boot");

    // The deletion after that destroys the VM and its own disk; there is no drive left to destroy.
    await vm.delete(id, started, ctx);
    await expect(xapi.call("VM.get_by_uuid", id)).rejects.toThrow(/UUID_INVALID/);
  });
});
