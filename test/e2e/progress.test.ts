// Issue 9 item 7: progress of long operations shows on the resource being changed, through the real engine. The
// provider sends the engine ephemeral status messages with the resource's URN (the engine's Log RPC, as native
// providers do), which the engine shows on that resource's row and emits as DiagnosticEvents with that urn and
// `ephemeral: true`; none of it lands among the stack's diagnostics, and no credential appears in any of it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack, type DiagnosticEvent } from "./harness";

const password = "pw-progress-9f31";
const program = (memory: string) => `
const pulumi = require("@pulumi/pulumi");
const xen = require("pulumi-xenserver");
module.exports = async (a) => {
  const disk = new xen.Vdi("golden", { sr: a.sr, name: "golden", source: { path: a.file, format: "raw" } });
  // Under a component: the URN carries the parent's type, and the siblings must not wait on each other.
  const group = new pulumi.ComponentResource("lab:index:Group", "web-group");
  const lan = await xen.getNetwork({ name: "Pool-wide network associated with eth0" });
  const vm = new xen.Vm("web", {
    name: "web",
    template: "Debian Bookworm 12",
    memory: "${memory}",
    networkInterfaces: [{ network: lan.uuid }],
    waitForIp: { timeout: 60 },
  }, { parent: group });
  const scratch = new xen.Vdi("scratch", { sr: a.sr, name: "scratch", size: "1GiB" }, { parent: group });
  return { disk: disk.uuid, vm: vm.uuid, ips: vm.ipAddresses, scratch: scratch.uuid };
};
`;

const stackName = "progress";
const project = "xenserver-e2e";
const diskUrn = `urn:pulumi:${stackName}::${project}::pulumi-nodejs:dynamic/xenserver:Vdi::golden`;
const vmUrn = `urn:pulumi:${stackName}::${project}::lab:index:Group$pulumi-nodejs:dynamic/xenserver:Vm::web`;

const statusOf = (events: DiagnosticEvent[], urn: string) =>
  events.filter((e) => e.urn === urn && e.ephemeral).map((e) => e.message.trim());

describe("progress on the resource's row, through the real engine", () => {
  let sim: Simulator;
  const stack = new E2EStack(stackName, project);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-progress-"));
  const file = path.join(dir, "golden.img");
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password, hosts: 1 });
    fs.writeFileSync(file, Buffer.alloc(64 * 1024 * 1024, 7));
  });
  afterAll(async () => {
    await sim.close();
    stack.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let sr: string;
  beforeAll(async () => {
    const xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    sr = Object.values(srs).find((s) => s.type === "lvm")!.uuid;
    await xapi.close();
  });

  it(
    "a 64 MiB upload and a VM create report ephemeral status with their own URNs; a restart is noted " +
      "under the VM; destroy too; no password anywhere",
    async () => {
      const config = {
        "xenserver:url": { value: sim.url },
        "xenserver:username": { value: "root" },
        "xenserver:password": { value: password, secret: true },
      };
      const [up, exported, preview] = await stack.run(["up", "export", "preview"], {
        programSource: program("1GiB"),
        config,
        programArgs: { sr, file },
        captureLog: true,
        captureEvents: true,
      });
      expect(up.changes).toEqual({ create: 5 });

      // The URNs the status was sent with are the engine's own names for the resources.
      const urns = (exported.deployment!.deployment.resources ?? []).map((r) => r.urn);
      expect(urns).toEqual(expect.arrayContaining([diskUrn, vmUrn]));

      const events = up.events!;
      const diskStatus = statusOf(events, diskUrn);
      expect(diskStatus.length).toBeGreaterThan(0);
      for (const m of diskStatus) expect(m).toMatch(/^uploading golden\.img to VDI "golden": \d+%$/);
      const vmStatus = statusOf(events, vmUrn);
      expect(vmStatus.length).toBeGreaterThan(0);
      expect(vmStatus.join("\n")).toMatch(/cloning template|provisioning|starting|waiting for an IP address/);
      // At most one status a second per resource, and never the old 11 lines for one upload.
      expect(diskStatus.length).toBeLessThanOrEqual(11);

      // Nothing of it at the stack's level, or kept among the update's (non-ephemeral) diagnostics.
      const progressText = /uploading|cloning template|provisioning|waiting for an IP|starting:/;
      expect(events.filter((e) => !e.ephemeral && progressText.test(e.message))).toEqual([]);
      expect(events.filter((e) => !e.urn?.includes("dynamic/xenserver") && progressText.test(e.message))).toEqual([]);

      expect(preview.changes).toEqual({ same: 5 });
      // More memory: a cold change; the VM restarts. That is noted under the VM, kept (not a passing status).
      const [grow, destroy] = await stack.run(["up", "destroy"], {
        programSource: program("2GiB"),
        config,
        programArgs: { sr, file },
        captureLog: true,
        captureEvents: true,
      });
      expect(grow.changes).toEqual({ same: 4, update: 1 });
      const notes = grow.events!.filter((e) => e.urn === vmUrn && !e.ephemeral && e.severity === "info");
      // The plan's notes (diff) and the restart (update), each once, under the VM.
      expect(notes.map((e) => e.message.trim())).toEqual([
        "web: memory.staticMax needs a restart (updatePolicy restart)",
        "web: memory.dynamicMin is applied live, without a restart",
        "web: memory.dynamicMax is applied live, without a restart",
        "web: restarting for memory.staticMax",
      ]);
      expect(grow.events!.filter((e) => e.urn !== vmUrn && /restarting for/.test(e.message))).toEqual([]);
      expect(statusOf(grow.events!, vmUrn).join("\n")).toMatch(
        /shutting down|starting|waiting for an IP address|IP address/,
      );

      expect(destroy.changes).toEqual({ delete: 5 });
      // delete finds the URN in the outputs: the VM's shutdown and destroy show on its row too.
      expect(statusOf(destroy.events!, vmUrn).join("\n")).toMatch(/shutting down|destroying/);

      for (const r of [up, preview, grow, destroy]) {
        expect(JSON.stringify(r.events)).not.toContain(password);
        expect(r.log).not.toContain(password);
      }
      expect(stack.stateText()).not.toContain(password);
    },
  );
});
