/** callAsync against the simulator: results, failures, progress, cancellation; waits with event.from only. */
import type { Simulator } from "../../../simulator";
import { XapiClient, XapiError, type Ref } from "../../../provider/xapi";
import { connect, sim } from "./sim";

describe.each(["jsonrpc", "xmlrpc"] as const)("callAsync over %s", (transport) => {
  let s: Simulator;
  let c: XapiClient;
  let template: Ref<"VM">;
  beforeAll(async () => {
    s = await sim({ operationDelayMs: 150 });
    c = await connect(s, { transport });
    const vms = await c.call("VM.get_all_records");
    template = Object.entries(vms).find(([, r]) => r.is_a_template)![0] as Ref<"VM">;
  });
  afterAll(async () => {
    await c.close();
    await s.close();
  });

  it("returns the decoded result of the task and destroys the task", async () => {
    s.calls.clear();
    const clone = await c.callAsync<Ref<"VM">>("VM.clone", [template, "clone-1"]);
    expect(clone).toMatch(/^OpaqueRef:/);
    await expect(c.call("VM.get_name_label", clone)).resolves.toBe("clone-1");
    const counts = s.calls.counts();
    expect(counts["Async.VM.clone"]).toBe(1);
    expect(counts["task.get_record"] ?? 0).toBe(0);
    expect(counts["task.get_status"] ?? 0).toBe(0);
    await waitFor(() => (s.calls.counts()["task.destroy"] ?? 0) === 1);
    const tasks = [...s.store.table("task").values()] as { name_label: string }[];
    expect(tasks.filter((t) => t.name_label === "Async.VM.clone")).toHaveLength(0);
  });

  it("waits for slow tasks without polling: the call log shows no status getter called in a loop", async () => {
    const mark = s.calls.mark();
    for (let i = 0; i < 3; i++) await c.callAsync<Ref<"VM">>("VM.clone", [template, `unpolled-${i}`]);
    expect(s.calls.list({ since: mark, method: "Async.VM.clone" })).toHaveLength(3);
    expect(s.calls.statusPolls({ since: mark, min: 2 })).toEqual([]);
    expect(s.calls.list({ since: mark, method: "event.from" }).length).toBeGreaterThan(0);
  });

  it("types the task result by the method's result type: a ref set, an int", async () => {
    const vm = await c.callAsync<Ref<"VM">>("VM.clone", [template, "clone-2"]);
    const hosts = await c.callAsync<string[]>("VM.get_possible_hosts", [vm]);
    expect(hosts).toEqual(await c.call("host.get_all"));
    const overhead = await c.callAsync<number>("VM.compute_memory_overhead", [vm]);
    expect(typeof overhead).toBe("number");
    expect(overhead).toBeGreaterThan(0);
  });

  it("reports a message without an Async variant directly, as xapi's Fault", async () => {
    const err = (await c.callAsync("VM.get_boot_record", [template]).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("Fault");
  });

  it("raises the task's error_info as an XapiError for the method", async () => {
    s.faults.failTaskMidway("VM.clone");
    const err = (await c.callAsync("VM.clone", [template, "never"]).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("INTERNAL_ERROR");
    expect(err.method).toBe("VM.clone");
  });

  it("raises HANDLE_INVALID from the task for a bad ref", async () => {
    const err = (await c.callAsync("VM.clone", ["OpaqueRef:NULL", "x"]).catch((e) => e)) as XapiError;
    expect(err.code).toBe("HANDLE_INVALID");
    expect(err.params).toEqual(["VM", "OpaqueRef:NULL"]);
  });

  it("reports progress as the task moves", async () => {
    const progress: number[] = [];
    const p = c.callAsync("VM.clone", [template, "with-progress"], { onProgress: (x) => progress.push(x) });
    await waitFor(() => pendingTask("Async.VM.clone") !== undefined);
    s.store.set("task", pendingTask("Async.VM.clone")!, "progress", 0.4);
    await p;
    expect(progress).toContain(0.4);
    expect(progress[progress.length - 1]).toBe(1);
  });

  it("cancels the task on abort and rejects with XAPI_ABORTED", async () => {
    const ctl = new AbortController();
    const p = c.callAsync("VM.clone", [template, "aborted"], { signal: ctl.signal });
    await waitFor(() => pendingTask("Async.VM.clone") !== undefined);
    const task = pendingTask("Async.VM.clone")!;
    ctl.abort();
    await expect(p).rejects.toMatchObject({ code: "XAPI_ABORTED" });
    // The client rejects at once and sends task.cancel in the background: wait for it (a loaded machine is slow).
    await waitFor(() => (s.calls.counts()["task.cancel"] ?? 0) >= 1);
    // The operation notices, the task ends cancelled, and the client destroys it.
    await waitFor(() => !s.store.has("task", task));
  });

  it("cancels the task on timeout and rejects with XAPI_TIMEOUT", async () => {
    await expect(c.callAsync("VM.clone", [template, "slow"], { timeoutMs: 30 })).rejects.toMatchObject({
      code: "XAPI_TIMEOUT",
    });
  });

  function pendingTask(label: string): string | undefined {
    for (const [ref, t] of s.store.table("task")) {
      const r = t as { name_label: string; status: string };
      if (r.name_label === label && r.status === "pending") return ref;
    }
    return undefined;
  }
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
