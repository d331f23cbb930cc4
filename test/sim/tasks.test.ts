import { startSimulator, Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let tpl: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ taskGcMs: 300 }));
  [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
});
afterAll(() => sim.close());

describe("Async.* and tasks", () => {
  it("returns a task at once; on success result is an XML-RPC value fragment, progress 1 and finished set", async () => {
    const t = await c.task("VM.clone", tpl, "async-clone");
    expect(t).toMatchObject({
      status: "success",
      progress: 1,
      error_info: [],
      name_label: "Async.VM.clone",
      name_description: "",
      type: "<none/>",
    });
    expect(t.result).toMatch(/^<value>OpaqueRef:[0-9a-f-]{36}<\/value>$/);
    expect(t.finished).not.toBe("19700101T00:00:00Z");
    const vm = /<value>(.*)<\/value>/.exec(t.result as string)![1];
    expect(await c.call("VM.get_name_label", vm)).toBe("async-clone");
  });

  it("writes <value></value> for void results", async () => {
    const net = await c.call<string>("network.create", { name_label: "n", other_config: {} });
    const t = await c.task("network.destroy", net);
    expect(t.result).toBe("<value></value>");
  });

  it("reports operation errors (even HANDLE_INVALID) through error_info, status failure", async () => {
    const t = await c.task("VM.start", "OpaqueRef:NULL", false, false);
    expect(t).toMatchObject({ status: "failure", error_info: ["HANDLE_INVALID", "VM", "OpaqueRef:NULL"], progress: 1 });
  });

  it("reports parameter-count and session errors directly, not through a task", async () => {
    await expectError(c.call("Async.VM.start", tpl), "MESSAGE_PARAMETER_COUNT_MISMATCH", ["VM.start", "3", "1"]);
  });

  it("cancels a pending cancellable task: status cancelled, error_info TASK_CANCELLED", async () => {
    const slow = await startSimulator({ password: "pw", loginFailureDelayMs: 0, operationDelayMs: 200 });
    try {
      const s = await new Client(slow.url).login();
      const [t0] = await s.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
      const task = await s.call<string>("Async.VM.clone", t0, "cancel-me");
      await new Promise((r) => setTimeout(r, 30));
      expect(await s.call("task.get_allowed_operations", task)).toEqual(["cancel"]);
      await s.call("task.cancel", task);
      let rec: Rec;
      do rec = await s.call<Rec>("task.get_record", task);
      while (rec.status === "pending");
      expect(rec).toMatchObject({ status: "cancelled", error_info: ["TASK_CANCELLED", task], allowed_operations: [] });
      expect(await s.call("VM.get_by_name_label", "cancel-me")).toEqual([]);
      await s.call("task.cancel", task);
    } finally {
      await slow.close();
    }
  });

  it("destroys a finished task at once; completed tasks are garbage-collected later", async () => {
    const t = await c.task("VM.clone", tpl, "gc");
    await c.call("task.destroy", t.$ref);
    await expectError(c.call("task.get_record", t.$ref), "HANDLE_INVALID", ["task", t.$ref as string]);
    const t2 = await c.task("VM.clone", tpl, "gc2");
    await new Promise((r) => setTimeout(r, 400));
    await expectError(c.call("task.get_status", t2.$ref), "HANDLE_INVALID");
  });

  it("lets clients create tasks (for HTTP handlers) and set their status", async () => {
    const task = await c.call<string>("task.create", "upload", "desc");
    expect(await c.call<Rec>("task.get_record", task)).toMatchObject({
      status: "pending",
      name_label: "upload",
      name_description: "desc",
      progress: 0,
    });
    await c.call("task.set_status", task, "success");
    expect(await c.call("task.get_status", task)).toBe("success");
  });
});

describe("task garbage collection", () => {
  it("keeps at most 200 tasks, deleting the oldest completed ones first", async () => {
    const pending = await c.call<string>("task.create", "still running", "");
    for (let i = 0; i < 210; i++) {
      const t = await c.call<string>("task.create", `t${i}`, "");
      await c.call("task.set_status", t, "success");
    }
    expect((await c.call<string[]>("task.get_all")).length).toBeLessThanOrEqual(201);
    expect(await c.call("task.get_status", pending)).toBe("pending");
  });
});
