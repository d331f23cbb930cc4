/**
 * Shutdown paths (issue 11 item 4): a guest that ignores or never acknowledges a clean request, and
 * hard_shutdown/hard_reboot cancelling clean operations in flight. Sources: ocaml/xapi/message_forwarding.ml
 * VM.hard_shutdown / hard_reboot / cancel, ocaml/xapi/xapi_vm.ml clean_shutdown / shutdown / hard_shutdown,
 * ocaml/xenopsd/lib/xenops_server.ml VM_shutdown_domain, ocaml/xenopsd/xc/xenops_server_xen.ml VM_save,
 * ocaml/xapi/xapi_xenops.ml transform_xenops_exn (the error codes and their parameters).
 */
import { startSimulator, Simulator } from "../../simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let debian: string;
beforeAll(async () => {
  sim = await startSimulator({
    password: "pw",
    loginFailureDelayMs: 0,
    guestMetricsDelayMs: 20,
    shutdownAckTimeoutMs: 300,
    shutdownTimeoutMs: 700,
    suspendAckTimeoutMs: 250,
    suspendTimeoutMs: 600,
  });
  c = await new Client(sim.url).login();
  [debian] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
});
afterAll(() => sim.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running diskless Debian guest whose agent has reported (clean operations need its PV drivers). */
async function running(name: string, shutdown: "obey" | "ignore" | "no-ack"): Promise<string> {
  const vm = await c.call<string>("VM.clone", debian, name);
  await c.call("VM.remove_from_other_config", vm, "disks");
  await c.call("VM.provision", vm);
  sim.guests.set(vm, { shutdown });
  await c.call("VM.start", vm, false, false);
  for (let i = 0; i < 500 && (await c.call("VM.get_guest_metrics", vm)) === "OpaqueRef:NULL"; i++) await sleep(10);
  return vm;
}

const powerState = (vm: string) => c.call<string>("VM.get_power_state", vm);
const taskRecord = async (task: string) => {
  for (;;) {
    const t = await c.call<Rec>("task.get_record", task);
    if (t.status !== "pending") return t;
    await sleep(10);
  }
};

describe("a guest that does not obey a clean request", () => {
  it("obeying guest: clean_shutdown halts at once", async () => {
    const vm = await running("obeys", "obey");
    await c.call("VM.clean_shutdown", vm);
    expect(await powerState(vm)).toBe("Halted");
  });

  it(
    "ignoring guest: clean_shutdown waits the whole timeout, then VM_SHUTDOWN_TIMEOUT [vm, timeout as " +
      "OCaml prints a float]; the VM keeps running",
    async () => {
      const vm = await running("ignores", "ignore");
      const t0 = Date.now();
      await expectError(c.call("VM.clean_shutdown", vm), "VM_SHUTDOWN_TIMEOUT", [vm, "0.7"]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
      expect(await powerState(vm)).toBe("Running");
      await expectError(c.call("VM.clean_reboot", vm), "VM_SHUTDOWN_TIMEOUT", [vm, "0.7"]);
      await c.call("VM.hard_shutdown", vm);
    },
  );

  it("unacknowledging guest: VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT [vm] after the ack timeout", async () => {
    const vm = await running("no-ack", "no-ack");
    const t0 = Date.now();
    await expectError(c.call("VM.clean_shutdown", vm), "VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT", [vm]);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(700);
    expect(await powerState(vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
  });

  it("suspend has its own request: VM_FAILED_SUSPEND_ACKNOWLEDGMENT [vm] or VM_SUSPEND_TIMEOUT [vm, timeout]", async () => {
    const vm = await running("no-suspend", "no-ack");
    await expectError(c.call("VM.suspend", vm), "VM_FAILED_SUSPEND_ACKNOWLEDGMENT", [vm]);
    sim.guests.set(vm, { shutdown: "ignore" });
    await expectError(c.call("VM.suspend", vm), "VM_SUSPEND_TIMEOUT", [vm, "0.6"]);
    expect(await powerState(vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
  });

  it("VM.shutdown falls back to a hard shutdown when the clean one fails, with VM.shutdown_delay as its timeout", async () => {
    const vm = await running("fallback", "ignore");
    await c.call("VM.set_shutdown_delay", vm, 1);
    const t0 = Date.now();
    await c.call("VM.shutdown", vm);
    // 1 s of clean timeout, the hard shutdown, then Xapi_vm_helpers.shutdown_delay sleeps another second.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(await powerState(vm)).toBe("Halted");
  });
});

describe("hard_shutdown and hard_reboot cancel clean operations in flight", () => {
  it("hard_shutdown cancels a hanging clean_shutdown task: the task ends cancelled, the VM Halted", async () => {
    const vm = await running("hung-shutdown", "ignore");
    const task = await c.call<string>("Async.VM.clean_shutdown", vm);
    await sleep(50);
    expect(Object.values(await c.call<Record<string, string>>("VM.get_current_operations", vm))).toEqual([
      "clean_shutdown",
    ]);
    await c.call("VM.hard_shutdown", vm);
    const t = await taskRecord(task);
    expect(t.status).toBe("cancelled");
    expect(t.error_info).toEqual(["TASK_CANCELLED", task]);
    expect(await powerState(vm)).toBe("Halted");
    expect(await c.call("VM.get_current_operations", vm)).toEqual({});
  });

  it("hard_shutdown cancels a hanging clean_reboot and a hanging suspend", async () => {
    for (const method of ["clean_reboot", "suspend"]) {
      const vm = await running(`hung-${method}`, "no-ack");
      const task = await c.call<string>(`Async.VM.${method}`, vm);
      await sleep(50);
      await c.call("VM.hard_shutdown", vm);
      expect((await taskRecord(task)).status).toBe("cancelled");
      expect(await powerState(vm)).toBe("Halted");
    }
  });

  it("hard_shutdown cancels a synchronous clean_shutdown too: it fails with TASK_CANCELLED", async () => {
    const vm = await running("hung-sync", "ignore");
    const pending = c.call("VM.clean_shutdown", vm).then(
      () => "succeeded",
      (e: Error) => e,
    );
    await sleep(50);
    await c.call("VM.hard_shutdown", vm);
    const outcome = await pending;
    expect(outcome).toMatchObject({ code: "TASK_CANCELLED" });
    expect(await powerState(vm)).toBe("Halted");
  });

  it("hard_reboot cancels a hanging clean_shutdown and reboots: a new domid, still Running", async () => {
    const vm = await running("hung-reboot", "ignore");
    const domid = await c.call<number>("VM.get_domid", vm);
    const task = await c.call<string>("Async.VM.clean_shutdown", vm);
    await sleep(50);
    await c.call("VM.hard_reboot", vm);
    expect((await taskRecord(task)).status).toBe("cancelled");
    expect(await powerState(vm)).toBe("Running");
    expect(await c.call<number>("VM.get_domid", vm)).not.toBe(domid);
    await c.call("VM.hard_shutdown", vm);
  });

  it("Task.cancel ends a hanging clean_shutdown; the VM stays Running", async () => {
    const vm = await running("cancel-by-client", "ignore");
    const task = await c.call<string>("Async.VM.clean_shutdown", vm);
    await sleep(50);
    await c.call("task.cancel", task);
    expect((await taskRecord(task)).status).toBe("cancelled");
    expect(await powerState(vm)).toBe("Running");
    await c.call("VM.hard_shutdown", vm);
  });
});
