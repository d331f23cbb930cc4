// xen-drift check against the simulator, with a state document shaped as `pulumi stack export` writes it: each
// kind's changes made by another client are reported attribute by attribute, deletions and hand-made objects
// are found, ignore rules (and their expiry) apply, and for every kind (Vm included) the report agrees with what a
// refresh followed by a preview would plan (read + diff): the same comparison code.
import * as fs from "node:fs";
import * as path from "node:path";
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext, EngineResource } from "../../../provider/resources/contract";
import { check } from "../../../provider/drift/cli";
import type { Finding } from "../../../provider/drift/compare";
import type { Report } from "../../../provider/drift/report";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "../resources/pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";
import { configDir } from "./workdir";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi, Vm: vm } = resourceKinds;

const password = "drift-check-pw";
let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
let dir: string;
const { createWith } = resourceSteps(() => ctx);

interface Made {
  kind: string;
  name: string;
  mod: EngineResource;
  id: string;
  outs: Record<string, unknown>;
  checked: Record<string, unknown>;
}
const made: Made[] = [];

function stateFile(resources: Made[]): string {
  const doc = {
    version: 3,
    deployment: {
      resources: [
        { urn: "urn:pulumi:dev::lab::pulumi:pulumi:Stack::lab-dev", type: "pulumi:pulumi:Stack", custom: false },
        ...resources.map((r) => ({
          urn: `urn:pulumi:dev::lab::pulumi-nodejs:xenserver:${r.kind}::${r.name}`,
          type: `pulumi-nodejs:xenserver:${r.kind}`,
          custom: true,
          id: r.id,
          inputs: r.checked,
          outputs: { ...r.outs, __provider: "exports.handler = …" },
          sourcePosition: `project:///index.ts#${10 + resources.indexOf(r)},5`,
        })),
      ],
    },
  };
  const file = path.join(dir, `state-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

async function run(extra: Partial<Parameters<typeof check>[0]> = {}, resources = made): Promise<Report> {
  let text = "";
  const report = await check(
    {
      stack: "dev",
      stateFile: stateFile(resources),
      configFile: path.join(dir, "config.json"),
      format: "json",
      includeUnmanaged: false,
      ...extra,
    },
    (s) => (text += s),
  );
  if ((extra.format ?? "json") === "json") expect(JSON.parse(text).inSync).toBe(report.findings.length === 0);
  return report;
}

const byName = (r: Report, name: string): Finding | undefined => r.findings.find((f) => f.name === name);

beforeAll(async () => {
  lab = await startPool(password, { hosts: 2 });
  ({ xapi, ctx } = lab);
  dir = configDir("xen-drift-check-", lab.sim.url, "root", password);
  const identity = (name: string) => `lab/dev/${name}`;
  const add = async (kind: string, name: string, mod: EngineResource, news: Record<string, unknown>) => {
    const m = await createWith(mod, { ...news, identity: identity(name) });
    made.push({ kind, name, mod, id: m.id, outs: m.outs, checked: m.checked });
    return m;
  };
  await add("Pool", "pool", pool, { otherConfig: { owner: "infra" }, tags: ["lab"] });
  await add("Network", "backend", network, { name: "backend", mtu: 9000, otherConfig: { tier: "db" } });
  await add("Network", "storage", network, { name: "storage", vlan: 30, nic: "eth1" });
  const store = await add("Sr", "store", sr, {
    type: "nfs",
    name: "store",
    deviceConfig: { server: "192.0.2.10", serverpath: "/exports/drift" },
  });
  await add("Vdi", "disk", vdi, { sr: store.id, name: "data", size: 1024 ** 3 });
  await add("Vdi", "scratch", vdi, { sr: store.id, name: "scratch", size: 1024 ** 3 });
  const backend = made.find((m) => m.name === "backend")!.id;
  const server = {
    template: "Debian Bookworm 12",
    memory: "2GiB",
    vcpus: 2,
    networkInterfaces: [{ network: backend }],
  };
  await add("Vm", "web", vm, { ...server, name: "web", disks: [{ size: "10GiB" }], tags: ["web"] });
  await add("Vm", "db", vm, { ...server, name: "db" });
});

afterAll(async () => {
  await stopPool(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

const refOf = (cls: string, name: string) =>
  xapi.call<string>(`${cls}.get_by_uuid`, made.find((m) => m.name === name)!.id);

describe("xen-drift check", () => {
  it("is in sync right after the deploy", async () => {
    const r = await run();
    expect(r.findings).toEqual([]);
    expect(r.resources).toBe(8);
  });

  it("reports each kind's out-of-band change with the attribute, the expected and the live value", async () => {
    const [poolRef] = await xapi.call<string[]>("pool.get_all");
    await xapi.call("pool.remove_from_other_config", poolRef, "owner");
    await xapi.call("pool.add_to_other_config", poolRef, "owner", "someone-else");
    await xapi.call("pool.add_to_other_config", poolRef, "unowned-key", "not compared");
    await xapi.call("network.set_MTU", await refOf("network", "backend"), 1500);
    await xapi.call("network.add_tags", await refOf("network", "backend"), "not-owned-tag");
    await xapi.call("SR.set_name_label", await refOf("SR", "store"), "renamed-by-hand");
    await xapi.call("VDI.resize", await refOf("VDI", "disk"), 2 * 1024 ** 3);
    const r = await run();
    expect(byName(r, "pool")?.changes).toEqual([
      { path: 'otherConfig["owner"]', expected: "infra", actual: "someone-else" },
    ]);
    expect(byName(r, "backend")?.changes).toEqual([{ path: "mtu", expected: 9000, actual: 1500 }]);
    expect(byName(r, "store")?.changes).toEqual([{ path: "name", expected: "store", actual: "renamed-by-hand" }]);
    expect(byName(r, "disk")?.changes).toEqual([{ path: "size", expected: 1024 ** 3, actual: 2 * 1024 ** 3 }]);
    expect(byName(r, "disk")?.source).toEqual({ uri: "project:///index.ts", line: 14, column: 5 });
    expect(byName(r, "storage")).toBeUndefined();
  });

  it("reports a VM's memory, name and power state changed by another client; its computed fields never drift", async () => {
    const web = await refOf("VM", "web");
    const GiB = 1024 ** 3;
    await xapi.call("VM.set_memory_dynamic_range", web, 1.5 * GiB, 1.5 * GiB);
    await xapi.call("VM.set_name_label", web, "web-renamed");
    await xapi.call("VM.add_tags", web, "not-owned-tag");
    await xapi.call("VM.hard_shutdown", await refOf("VM", "db"));
    const r = await run();
    expect(byName(r, "web")?.changes).toEqual([
      { path: "name", expected: "web", actual: "web-renamed" },
      { path: "memory.dynamicMin", expected: 2 * GiB, actual: 1.5 * GiB },
      { path: "memory.dynamicMax", expected: 2 * GiB, actual: 1.5 * GiB },
    ]);
    // residentOn, ipAddresses and the like change with the power state: computed, never drift.
    expect(byName(r, "db")?.changes).toEqual([{ path: "powerState", expected: "Running", actual: "Halted" }]);
    // Who: the latest write naming the VM in the pool's audit log.
    expect(byName(r, "db")?.actor).toMatchObject({ user: "root", call: "VM.hard_shutdown" });
    expect(byName(r, "web")?.actor).toMatchObject({ user: "root", call: "VM.add_tags" });
  });

  it("agrees with refresh + preview (read, then diff against the program) on every kind", async () => {
    const r = await run();
    for (const m of made) {
      const refreshed = await m.mod.read(m.id, m.outs, ctx);
      // (check() is skipped: for the resized disk a preview stops at check, refusing to shrink it back.)
      const diff = await m.mod.diff(m.id, refreshed.props!, m.checked, ctx);
      expect({ name: m.name, changes: diff.changes }).toEqual({ name: m.name, changes: !!byName(r, m.name) });
    }
  });

  it("sees a VLAN missing on one host, and a disk deleted outside Pulumi", async () => {
    const net = await refOf("network", "storage");
    const pifs = await xapi.call<string[]>("network.get_PIFs", net);
    await xapi.call("VLAN.destroy", await xapi.call<string>("PIF.get_VLAN_master_of", pifs[1]));
    await xapi.call("VDI.destroy", await refOf("VDI", "scratch"));
    const r = await run();
    expect(byName(r, "storage")?.changes).toEqual([{ path: "missingOn", expected: [], actual: [expect.any(String)] }]);
    expect(byName(r, "scratch")).toMatchObject({ kind: "deleted", uuid: made.find((m) => m.name === "scratch")!.id });
    // The destroy's audit line keeps the VDI's UUID (read before the call, as xapi does).
    expect(byName(r, "scratch")?.actor).toMatchObject({ user: "root", call: "VDI.destroy" });
  });

  it("reports hand-made objects with --include-unmanaged, not the installer's", async () => {
    const hand = await xapi.call<string>("network.create", {
      name_label: "made-by-hand",
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: [],
    });
    const r = await run({ includeUnmanaged: true });
    const unmanaged = r.findings.filter((f) => f.kind === "unmanaged");
    expect(unmanaged.map((f) => f.name)).toContain("made-by-hand");
    // No audit line names a new object's UUID: the create that gave it its name stands for it.
    expect(unmanaged.find((f) => f.name === "made-by-hand")?.actor).toMatchObject({
      user: "root",
      call: "network.create",
    });
    expect(unmanaged.map((f) => f.name).filter((n) => /^Pool-wide network|^Local storage|guest-tools/.test(n))).toEqual(
      [],
    );
    expect((await run()).findings.some((f) => f.kind === "unmanaged")).toBe(false);
    await xapi.call("network.destroy", hand);
  });

  it("applies ignore rules until they expire, and reports the expired ones", async () => {
    const rules = path.join(dir, "ignore.json");
    fs.writeFileSync(
      rules,
      JSON.stringify({
        rules: [
          { resource: "Network:backend", attribute: "mtu", reason: "jumbo frames off during the switch swap" },
          { resource: "disk", reason: "resized by the DBA, expired", expires: "2001-01-01" },
        ],
      }),
    );
    const r = await run({ ignoreFile: rules });
    expect(byName(r, "backend")).toBeUndefined();
    expect(r.ignored.map((i) => `${i.finding.name} ${i.change?.path}`)).toEqual(["backend mtu"]);
    expect(byName(r, "disk")?.changes[0].path).toBe("size");
    expect(r.expired.map((e) => e.resource)).toEqual(["disk"]);
  });

  it("writes SARIF that points at the program line", async () => {
    let text = "";
    await check(
      {
        stack: "dev",
        stateFile: stateFile(made),
        configFile: path.join(dir, "config.json"),
        format: "sarif",
        includeUnmanaged: false,
      },
      (s) => (text += s),
    );
    const doc = JSON.parse(text);
    expect(doc.version).toBe("2.1.0");
    const disk = doc.runs[0].results.find((x: { message: { text: string } }) => x.message.text.includes("Vdi disk"));
    expect(disk.ruleId).toBe("xen-drift/modified");
    expect(disk.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "index.ts", uriBaseId: "PROJECTROOT" },
      region: { startLine: 14, startColumn: 5 },
    });
  });
});
