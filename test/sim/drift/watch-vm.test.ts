// xen-drift watch on a Vm: a memory change, a rename and a shutdown made by another client are each reported as
// they happen, with the attribute, the values and who made it (the simulator's /audit_log names the user).
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResourceContext } from "../../../provider/resources/contract";
import { type TimelineEvent } from "../../../provider/drift/watch";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "../resources/pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";
import { configDir, until, startWatch } from "./workdir";

const { Vm: vm } = resourceKinds;

const password = "drift-watch-vm-pw";
const GiB = 1024 ** 3;
let lab: SimulatedPool | undefined;
let ctx: ResourceContext;
let dir: string;
const { createWith } = resourceSteps(() => ctx);

beforeAll(async () => {
  lab = await startPool(password, { users: ["ops:ops-pw:pool-admin"] });
  ({ ctx } = lab);
  dir = configDir("xen-drift-watch-vm-", lab.sim.url, "root", password);
});

afterAll(async () => {
  await stopPool(lab);
  fs.rmSync(dir, { recursive: true, force: true });
});

it("reports a VM's memory, name and power state as they change, with who changed each", async () => {
  const made = await createWith(vm, { name: "app", template: "Debian Bookworm 12", memory: "2GiB", vcpus: 1 });
  const stateFile = path.join(dir, "state.json");
  fs.writeFileSync(
    stateFile,
    JSON.stringify({
      version: 3,
      deployment: {
        resources: [
          {
            urn: "urn:pulumi:dev::lab::pulumi-nodejs:xenserver:Vm::app",
            type: "pulumi-nodejs:xenserver:Vm",
            custom: true,
            id: made.id,
            outputs: made.outs,
          },
        ],
      },
    }),
  );
  const watch = await startWatch({ stateFile, configFile: path.join(dir, "config.json"), statePollMs: 50 });
  try {
    await changes(made.id, watch.events);
  } finally {
    await watch.stop();
  }
});

async function changes(id: string, events: TimelineEvent[]): Promise<void> {
  expect(events).toEqual([]);
  // Another client, logged in as a directory user with the pool-admin role.
  const ops = await (
    await import("../../../provider/xapi")
  ).XapiClient.connect({ url: lab!.sim.url, username: "ops", password: "ops-pw" });
  const ref = await ops.call<string>("VM.get_by_uuid", id);
  const drift = (p: string) => () => events.find((e) => e.event === "drift" && e.change?.path === p);

  const t0 = Date.now();
  await ops.call("VM.set_memory_dynamic_range", ref, 1.5 * GiB, 1.5 * GiB);
  const memory = await until("the memory drift", drift("memory.dynamicMax"));
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(memory).toMatchObject({
    finding: { type: "Vm", name: "app", actor: { user: "ops", call: "VM.set_memory_dynamic_range" } },
    change: { expected: 2 * GiB, actual: 1.5 * GiB },
  });

  await ops.call("VM.set_name_label", ref, "app-renamed");
  expect(await until("the rename", drift("name"))).toMatchObject({
    finding: { actor: { user: "ops", call: "VM.set_name_label" } },
    change: { expected: "app", actual: "app-renamed" },
  });

  await ops.call("VM.hard_shutdown", ref);
  expect(await until("the shutdown", drift("powerState"))).toMatchObject({
    finding: { actor: { user: "ops", call: "VM.hard_shutdown" } },
    change: { expected: "Running", actual: "Halted" },
  });
  // Computed fields (residentOn, addresses, allowed operations) changed too, and are never drift.
  expect(events.filter((e) => e.event === "drift").map((e) => e.change?.path)).toEqual([
    "memory.dynamicMin",
    "memory.dynamicMax",
    "name",
    "powerState",
  ]);
  await ops.close();
}
