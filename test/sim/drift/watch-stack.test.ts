// xen-drift watch reading a real stack, against the simulator: `--cwd <dir>` reads the stack's resources and its
// pool connection (a secret password included) through the Automation API (selectStack, exportStack,
// getAllConfig) on a file:// backend made by the real `pulumi` CLI; and while the stack's update holds the
// backend's lock, findings are held, then compared again against the state the update wrote once it ends, so the
// update's own changes are never reported and a change it did not make still is.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "../resources/pool-fixture";
import { engineBinDir } from "../../e2e/harness";
import { resourceKinds } from "../../../provider/resources/registry";
import { until, startWatch } from "./workdir";

const { Network: network } = resourceKinds;

const password = "drift-stack-pw";
let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
let work: string;
let projectDir: string;
let stateDir: string;
const savedEnv = { ...process.env };
const { createWith } = resourceSteps(() => ctx);

const pulumi = (...args: string[]) =>
  execFileSync("pulumi", args, { cwd: projectDir, env: process.env, encoding: "utf8", stdio: "pipe" });

beforeAll(async () => {
  lab = await startPool(password, { hosts: 2 });
  ({ xapi, ctx } = lab);
  work = fs.mkdtempSync(path.join(os.tmpdir(), "xen-drift-stack-"));
  projectDir = path.join(work, "project");
  stateDir = path.join(work, "state");
  for (const d of [projectDir, stateDir, path.join(work, "home")]) fs.mkdirSync(d);
  // The watcher reads the stack as `pulumi` does: backend, passphrase and home from the environment.
  Object.assign(process.env, {
    PATH: `${engineBinDir()}:${process.env.PATH ?? ""}`,
    PULUMI_HOME: path.join(work, "home"),
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "drift-stack-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  });
  fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: lab\nruntime: nodejs\n");
  pulumi("stack", "init", "dev");
  pulumi("config", "set", "xenserver:url", lab.sim.url);
  pulumi("config", "set", "xenserver:username", "root");
  pulumi("config", "set", "--secret", "xenserver:password", password);
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  await stopPool(lab);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it("reads the stack through --cwd, and holds findings while the stack's update holds the lock", async () => {
  const made = await createWith(network, { name: "backend", mtu: 9000 });
  const ref = await xapi.call<string>("network.get_by_uuid", made.id);
  // The stack's state, as `pulumi up` would have left it (the engine's type token for a dynamic resource of module
  // "xenserver"), through `pulumi stack import`.
  const doc = JSON.parse(pulumi("stack", "export"));
  doc.deployment.resources = [
    { urn: "urn:pulumi:dev::lab::pulumi:pulumi:Stack::lab-dev", type: "pulumi:pulumi:Stack", custom: false },
    {
      urn: "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Network::backend",
      type: "pulumi-nodejs:dynamic/xenserver:Network",
      custom: true,
      id: made.id,
      inputs: made.checked,
      outputs: made.outs,
      parent: "urn:pulumi:dev::lab::pulumi:pulumi:Stack::lab-dev",
    },
  ];
  fs.writeFileSync(path.join(work, "import.json"), JSON.stringify(doc));
  pulumi("stack", "import", "--file", path.join(work, "import.json"));

  const heldChanges: boolean[] = [];
  const watch = await startWatch({ cwd: projectDir, statePollMs: 50, onHeld: (h) => heldChanges.push(h) });
  const { events } = watch;
  try {
    expect(events).toEqual([]);

    // --cwd: the stack's resource and its pool connection (the secret password from the stack's config).
    await xapi.call("network.set_name_label", ref, "renamed-by-hand");
    const drift = await until("the rename", () => events.find((e) => e.event === "drift"));
    expect(drift).toMatchObject({
      finding: {
        urn: "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Network::backend",
        actor: { user: "root" },
      },
      change: { path: "name", expected: "backend", actual: "renamed-by-hand" },
    });
    await xapi.call("network.set_name_label", ref, "backend");
    await until("the revert", () => events.find((e) => e.event === "resolved"));

    // An update starts: the file backend takes the stack's lock (pulumi's diy backend writes
    // .pulumi/locks/<org>/<project>/<stack>/<id>.json, "organization" for a local backend, for the update's length).
    const lockDir = path.join(stateDir, ".pulumi", "locks", "organization", "lab", "dev");
    fs.mkdirSync(lockDir, { recursive: true });
    const lock = path.join(lockDir, `${crypto.randomUUID()}.json`);
    fs.writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, username: "root", hostname: os.hostname(), timestamp: new Date() }),
    );
    await until("the hold", () => (heldChanges.includes(true) ? true : undefined));
    const before = events.length;

    // The update changes the MTU (its own change); meanwhile someone renames the network by hand.
    await xapi.call("network.set_MTU", ref, 1500);
    await xapi.call("network.set_name_label", ref, "renamed-during-update");
    await new Promise((r) => setTimeout(r, 1000)); // well past the event batching and a comparison
    expect(events.slice(before)).toEqual([]);

    // The update ends: the engine writes the new state (MTU 1500), then releases the lock.
    const stackFile = path.join(stateDir, ".pulumi", "stacks", "lab", "dev.json");
    const checkpoint = JSON.parse(fs.readFileSync(stackFile, "utf8"));
    const res = checkpoint.checkpoint.latest.resources.find((r: { id?: string }) => r.id === made.id);
    res.inputs.mtu = 1500;
    res.outputs.mtu = 1500;
    fs.writeFileSync(stackFile, JSON.stringify(checkpoint));
    fs.rmSync(lock);

    // Compared again against the new state: the hand rename is drift, the update's MTU is not.
    await until("the release", () => (heldChanges.at(-1) === false ? true : undefined));
    const rename = await until("the rename made during the update", () =>
      events.slice(before).find((e) => e.event === "drift" && e.change?.actual === "renamed-during-update"),
    );
    expect(rename).toMatchObject({ change: { path: "name", expected: "backend" } });
    expect(events.slice(before).filter((e) => "change" in e && e.change?.path === "mtu")).toEqual([]);
    expect(heldChanges).toEqual([true, false]);
  } finally {
    await watch.stop();
  }
}, 180_000);
