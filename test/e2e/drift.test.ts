// xen-drift end to end: a small lab deployed by the real engine (a network, an NFS SR, two disks, a VM) with this
// package installed from its tarball; xen-drift (the package's own bin) reads the stack through the Automation API
// as a read-only directory user of the simulator. Another XAPI client (a pool-admin user) changes a network's MTU,
// an SR's name, a disk's size, the VM's memory, name and power state, deletes a disk and makes a network by hand:
// `watch` reports each as it happens and `check` lists them all (exit 2), with attribute, values and author;
// ignore rules apply until they expire; the stack's own `pulumi refresh` + `pulumi up` are not reported as drift,
// and `check` then exits 0. One deployment serves every step.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack, packedProjectDir } from "./harness";

const password = "drift-e2e-pw";
const GiB = 1024 ** 3;

const program = `
const xen = require("pulumi-xenserver");
module.exports = async (a) => {
  const net = new xen.Network("backend", { name: "backend", mtu: 9000 });
  const store = new xen.Sr("store", {
    type: "nfs",
    name: "store",
    deviceConfig: { server: "192.0.2.10", serverpath: "/exports/drift-e2e" },
  });
  const data = new xen.Vdi("data", { sr: store.uuid, name: "data", size: a.dataSize });
  const scratch = new xen.Vdi("scratch", { sr: store.uuid, name: "scratch", size: "1GiB" });
  const app = new xen.Vm("app", {
    name: "app",
    template: "Debian Bookworm 12",
    memory: "2GiB",
    vcpus: 1,
    networkInterfaces: [{ network: net.uuid }],
  });
  return { net: net.uuid, store: store.uuid, data: data.uuid, scratch: scratch.uuid, app: app.uuid };
};
`;

interface Finding {
  kind: string;
  name: string;
  type: string;
  uuid: string;
  changes: Array<{ path: string; expected: unknown; actual: unknown }>;
  actor?: { user: string; call?: string } | "unknown";
}
interface Report {
  findings: Finding[];
  expiredRules: Array<{ resource: string }>;
}
interface Event {
  event: string;
  finding?: Finding;
  change?: { path: string; expected: unknown; actual: unknown };
}

describe("xen-drift against a deployed stack (real engine, simulator)", () => {
  let sim: Simulator;
  let ops: XapiClient;
  const stack = new E2EStack("drift");
  let project: string;
  let env: NodeJS.ProcessEnv;
  let watch: ChildProcess | undefined;
  const lines: Event[] = [];
  let outs: Record<string, string> = {};

  const config = () => ({
    "xenserver:url": { value: sim.url },
    "xenserver:username": { value: "root" },
    "xenserver:password": { value: password, secret: true },
  });
  const run = (ops: string[], dataSize = "1GiB") =>
    stack.run(ops, { programSource: program, config: config(), programArgs: { dataSize } });

  /** xen-drift as the package ships it, run as the read-only user, the stack read through the Automation API. */
  const xenDrift = (args: string[]) =>
    spawn(
      process.execPath,
      [
        path.join(packedProjectDir(), "node_modules/pulumi-xenserver/bin/provider/drift/cli.js"),
        ...args,
        "--stack",
        "drift",
        "--cwd",
        project,
        "--config",
        path.join(project, "read-only.json"),
      ],
      { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] },
    );

  async function check(extra: string[] = []): Promise<{ code: number; findings: Finding[]; report: Report }> {
    const child = xenDrift(["check", "--format", "json", ...extra]);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? 1)));
    if (code === 1) throw new Error(`xen-drift check failed: ${err}`);
    const report = JSON.parse(out);
    return { code, findings: report.findings, report };
  }

  async function until<T>(what: string, get: () => T | undefined, ms = 15_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; watch said ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      username: "root",
      password,
      users: ["auditor:auditor-pw:read-only", "ops:ops-pw:pool-admin"],
    });
    ops = await XapiClient.connect({ url: sim.url, username: "ops", password: "ops-pw" });
    // A project directory for xen-drift: the engine's project (name, file:// backend) and the user's environment.
    project = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-e2e-drift-"));
    fs.writeFileSync(
      path.join(project, "Pulumi.yaml"),
      `name: xenserver-e2e\nruntime: nodejs\nbackend:\n  url: file://${path.join(stack.workDir, "state")}\n`,
    );
    // The read-only account's connection, overriding the stack's (root) configuration.
    fs.writeFileSync(
      path.join(project, "read-only.json"),
      JSON.stringify({
        "xenserver:url": { value: sim.url },
        "xenserver:username": { value: "auditor" },
        "xenserver:password": { value: "auditor-pw", secret: true },
      }),
    );
    const binDir = process.env.PULUMI_XENSERVER_ENGINE_BIN!;
    env = {
      ...process.env,
      PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      PULUMI_HOME: path.join(stack.workDir, "home"),
      PULUMI_BACKEND_URL: `file://${path.join(stack.workDir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
  });
  afterAll(async () => {
    watch?.kill();
    await ops?.close();
    await sim?.close();
    stack.dispose();
    fs.rmSync(project, { recursive: true, force: true });
  });

  it("deploys the lab, in sync for check", async () => {
    const [up] = await run(["up"]);
    outs = Object.fromEntries(Object.entries(up.outputs!).map(([k, v]) => [k, String(v.value)]));
    const { code, findings } = await check();
    expect(findings).toEqual([]);
    expect(code).toBe(0);
  });

  it("reports each out-of-band change as it happens (watch) and all of them (check), with values and author", async () => {
    watch = xenDrift(["watch", "--format", "json", "--include-unmanaged"]);
    let buf = "";
    watch.stdout!.on("data", (d) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    // Ready once the read-only user's event.from is waiting.
    await until("the watch's subscription", () =>
      sim.calls.list().some((c) => c.user === "auditor" && c.method === "event.from") ? true : undefined,
    );
    const ref = (cls: string, uuid: string) => ops.call<string>(`${cls}.get_by_uuid`, uuid);
    const app = await ref("VM", outs.app);
    await ops.call("network.set_MTU", await ref("network", outs.net), 1500);
    await ops.call("SR.set_name_label", await ref("SR", outs.store), "store-renamed");
    await ops.call("VDI.resize", await ref("VDI", outs.data), 2 * GiB);
    await ops.call("VM.set_memory_dynamic_range", app, 1.5 * GiB, 1.5 * GiB);
    await ops.call("VM.set_name_label", app, "app-renamed");
    await ops.call("VM.hard_shutdown", app);
    await ops.call("VDI.destroy", await ref("VDI", outs.scratch));
    await ops.call("network.create", {
      name_label: "by-hand",
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: [],
    });

    const expected: Array<[string, string | undefined, unknown, unknown]> = [
      ["backend", "mtu", 9000, 1500],
      ["store", "name", "store", "store-renamed"],
      ["data", "size", GiB, 2 * GiB],
      ["app", "memory.dynamicMax", 2 * GiB, 1.5 * GiB],
      ["app", "name", "app", "app-renamed"],
      ["app", "powerState", "Running", "Halted"],
    ];
    const drift = (name: string, p?: string) => () =>
      lines.find((e) => e.event === "drift" && e.finding?.name === name && e.change?.path === p);
    for (const [name, p, before, after] of expected) {
      const e = await until(`watch: ${name} ${p}`, drift(name, p));
      expect(e.change).toMatchObject({ expected: before, actual: after });
      expect(e.finding!.actor).toMatchObject({ user: "ops" });
    }
    const deleted = await until("watch: scratch deleted", drift("scratch"));
    expect(deleted.finding).toMatchObject({ kind: "deleted", actor: { user: "ops", call: "VDI.destroy" } });
    const made = await until("watch: by-hand", drift("by-hand"));
    expect(made.finding).toMatchObject({ kind: "unmanaged", actor: { user: "ops", call: "network.create" } });

    const { code, findings } = await check(["--include-unmanaged"]);
    expect(code).toBe(2);
    const find = (name: string) => findings.find((f) => f.name === name);
    for (const [name, p, before, after] of expected) {
      expect(find(name)?.changes).toContainEqual({ path: p, expected: before, actual: after });
      expect(find(name)?.actor).toMatchObject({ user: "ops" });
    }
    expect(find("scratch")).toMatchObject({ kind: "deleted", actor: { user: "ops" } });
    expect(find("by-hand")).toMatchObject({ kind: "unmanaged", actor: { user: "ops" } });
  });

  it("applies ignore rules until they expire", async () => {
    const rules = path.join(project, "ignore.json");
    fs.writeFileSync(
      rules,
      JSON.stringify({
        rules: [
          { resource: "Network:backend", attribute: "mtu", reason: "jumbo frames off during the switch swap" },
          { resource: "Vdi:data", attribute: "size", reason: "grown by the DBA", expires: "2001-01-01" },
        ],
      }),
    );
    const { code, findings, report } = await check(["--ignore-file", rules]);
    expect(code).toBe(2);
    expect(findings.find((f) => f.name === "backend")).toBeUndefined();
    expect(findings.find((f) => f.name === "data")?.changes[0].path).toBe("size");
    expect(report.expiredRules.map((r) => r.resource)).toEqual(["Vdi:data"]);
  });

  it("reports nothing of the stack's own refresh + up, and check exits 0 after it", async () => {
    await ops.call(
      "network.destroy",
      await ops.call<string>("network.get_by_uuid", lines.find((e) => e.finding?.name === "by-hand")!.finding!.uuid),
    );
    const before = lines.length;
    // The disk grown by hand is accepted in the program (a Vdi never shrinks); the rest is healed by up.
    await run(["refresh", "up"], "2GiB");
    await new Promise((r) => setTimeout(r, 1500)); // the watch reloads the state after the update's lock is gone
    const after = lines.slice(before);
    expect(after.filter((e) => e.event === "drift")).toEqual([]);
    const { code, findings } = await check();
    expect(findings).toEqual([]);
    expect(code).toBe(0);
    // Nothing but getters, event.from/inject and logins by the read-only user in the whole run.
    const written = sim.calls
      .list()
      .filter((c) => c.user === "auditor")
      .filter((c) => !/\.get_|\.get$|^event\.(from|inject)$|^session\.(login_with_password|logout)$/.test(c.method));
    expect(written.map((c) => c.method)).toEqual([]);
  });
});
