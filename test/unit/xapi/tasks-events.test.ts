/** callAsync and watch() against a scripted server with real event.from semantics (long poll, tokens). */
import { XapiClient, XapiError, type WatchEvent } from "../../../provider/xapi";
import { MiniEvents } from "./mini-events";
import { standard, startFake, type FakeServer } from "./fake-xapi";

const creds = { username: "root", password: "secret" };
const NEW_VM = "OpaqueRef:11111111-2222-4333-8444-555555555555";

function taskRecord(status: string, progress: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status, progress, result: "", error_info: [], ...extra };
}

describe("callAsync", () => {
  let ev: MiniEvents;
  let server: FakeServer;
  let client: XapiClient;
  let nextTask = 0;
  /** Scripted task lifecycles, keyed by Async method. */
  let script: (task: string) => void;

  beforeEach(async () => {
    ev = new MiniEvents();
    server = await startFake(
      standard(async (req) => {
        if (req.method.startsWith("Async.")) {
          const task = `OpaqueRef:task-${++nextTask}`;
          ev.change("task", task, "add", taskRecord("pending", 0));
          setTimeout(() => script(task), 10);
          return { result: task };
        }
        if (req.method === "event.inject")
          return {
            result: ev.inject(String(req.params[1]), String(req.params[2]), lastSnapshot(String(req.params[2]))),
          };
        if (req.method === "event.from")
          return { result: await ev.from(req.params[1] as string[], String(req.params[2]), Number(req.params[3])) };
        if (req.method === "task.destroy" || req.method === "task.cancel") {
          if (req.method === "task.cancel") {
            const ref = String(req.params[1]);
            ev.change("task", ref, "mod", taskRecord("cancelled", 1, { error_info: ["TASK_CANCELLED", ref] }));
          }
          return { result: "" };
        }
        return { error: ["MESSAGE_METHOD_UNKNOWN", req.method] };
      }),
    );
    client = await XapiClient.connect({ url: server.url, ...creds });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  function lastSnapshot(ref: string): Record<string, unknown> | undefined {
    return [...ev.changes].reverse().find((c) => c.ref === ref && c.snapshot)?.snapshot;
  }

  it("returns the task's decoded result, reports progress, waits through event.from and destroys the task", async () => {
    script = (task) => {
      ev.change("task", task, "mod", taskRecord("pending", 0.5));
      setTimeout(
        () => ev.change("task", task, "mod", taskRecord("success", 1, { result: `<value>${NEW_VM}</value>` })),
        20,
      );
    };
    const progress: number[] = [];
    const vm = await client.callAsync("VM.clone", ["OpaqueRef:template", "web"], {
      onProgress: (p) => progress.push(p),
    });
    expect(vm).toBe(NEW_VM);
    expect(progress).toContain(0.5);
    const methods = server.calls.map((c) => c.method);
    expect(methods).toContain("Async.VM.clone");
    expect(methods).not.toContain("task.get_record");
    expect(methods).not.toContain("task.get_status");
    await new Promise((r) => setTimeout(r, 50));
    expect(server.calls.filter((c) => c.method === "task.destroy").map((c) => c.params[1])).toEqual([
      "OpaqueRef:task-" + nextTask,
    ]);
  });

  it("turns a failed task into an XapiError with the task's error_info", async () => {
    script = (task) =>
      ev.change(
        "task",
        task,
        "mod",
        taskRecord("failure", 1, { error_info: ["VM_BAD_POWER_STATE", "OpaqueRef:vm", "halted", "running"] }),
      );
    const err = (await client.callAsync("VM.start", ["OpaqueRef:vm", false, false]).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("VM_BAD_POWER_STATE");
    expect(err.params).toEqual(["OpaqueRef:vm", "halted", "running"]);
    expect(err.method).toBe("VM.start");
  });

  it("cancels the task when the caller aborts", async () => {
    script = () => undefined; // never finishes by itself
    const ctl = new AbortController();
    const p = client.callAsync("VM.clone", ["OpaqueRef:t", "x"], { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: "XAPI_ABORTED" });
    expect(server.calls.some((c) => c.method === "task.cancel")).toBe(true);
  });

  it("cancels the task when it outlives its timeout", async () => {
    script = () => undefined;
    await expect(client.callAsync("VM.clone", ["OpaqueRef:t", "x"], { timeoutMs: 80 })).rejects.toMatchObject({
      code: "XAPI_TIMEOUT",
    });
    expect(server.calls.some((c) => c.method === "task.cancel")).toBe(true);
  });

  it("serves many concurrent tasks with one event.from loop", async () => {
    script = (task) => ev.change("task", task, "mod", taskRecord("success", 1, { result: `<value>${task}</value>` }));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.callAsync<string>("VM.clone", ["OpaqueRef:t", `vm${i}`])),
    );
    expect(new Set(results).size).toBe(10);
  });
});

describe("watch", () => {
  let ev: MiniEvents;
  let server: FakeServer;
  let client: XapiClient;
  let vms: Record<string, Record<string, unknown>>;
  let loseEventsOnce = false;
  let dropPolls = 0;

  beforeEach(async () => {
    ev = new MiniEvents();
    vms = { "OpaqueRef:vm-1": { name_label: "one", VCPUs_max: "2" } };
    server = await startFake(
      standard(async (req, res) => {
        switch (req.method) {
          case "pool.get_all":
            return { result: ["OpaqueRef:pool"] };
          case "event.inject":
            return { result: ev.inject(String(req.params[1]), String(req.params[2])) };
          case "VM.get_all_records":
            return { result: vms };
          case "event.from":
            if (dropPolls > 0) {
              dropPolls--;
              res.socket?.destroy();
              return "handled";
            }
            if (loseEventsOnce) {
              loseEventsOnce = false;
              return { error: ["EVENTS_LOST"] };
            }
            return {
              result: await ev.from(
                req.params[1] as string[],
                String(req.params[2]),
                Math.min(Number(req.params[3]), 1),
              ),
            };
        }
        return { error: ["MESSAGE_METHOD_UNKNOWN", req.method] };
      }),
    );
    // XML-RPC: ints arrive as untyped strings and must come out as numbers.
    client = await XapiClient.connect({ url: server.url, ...creds, transport: "xmlrpc" });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  const waitFor = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  };

  it("delivers the initial records, then changes, with typed records", async () => {
    const seen: WatchEvent[] = [];
    const w = client.watch(["VM"], (e) => void seen.push(e));
    await w.ready;
    expect(seen).toEqual([
      { kind: "add", class: "VM", ref: "OpaqueRef:vm-1", record: { name_label: "one", VCPUs_max: 2 } },
      { kind: "synced", reason: "initial" },
    ]);
    ev.change("VM", "OpaqueRef:vm-2", "add", { name_label: "two" });
    ev.change("VM", "OpaqueRef:vm-1", "del");
    await waitFor(() => seen.length >= 4);
    expect(seen.slice(2)).toEqual(
      expect.arrayContaining([
        { kind: "add", class: "VM", ref: "OpaqueRef:vm-2", record: { name_label: "two" } },
        { kind: "del", class: "VM", ref: "OpaqueRef:vm-1" },
      ]),
    );
    await w.stop();
  });

  it("resyncs fully after EVENTS_LOST, reporting objects that vanished meanwhile", async () => {
    const seen: WatchEvent[] = [];
    const w = client.watch(["VM"], (e) => void seen.push(e), { backoffMs: [10, 50] });
    await w.ready;
    seen.length = 0;
    vms = { "OpaqueRef:vm-3": { name_label: "three" } };
    loseEventsOnce = true;
    ev.change("pool", "OpaqueRef:pool", "mod", {}); // wakes the poll in flight
    await waitFor(() => seen.some((e) => e.kind === "synced"));
    expect(seen).toEqual(
      expect.arrayContaining([
        { kind: "add", class: "VM", ref: "OpaqueRef:vm-3", record: { name_label: "three" } },
        { kind: "del", class: "VM", ref: "OpaqueRef:vm-1" },
        { kind: "synced", reason: "events-lost" },
      ]),
    );
    await w.stop();
  });

  it("keeps its token through network errors, backing off, and misses no change", async () => {
    const seen: WatchEvent[] = [];
    const log: string[] = [];
    await client.close();
    client = await XapiClient.connect({
      url: server.url,
      ...creds,
      transport: "xmlrpc",
      failoverTimeoutMs: 1000,
      logger: { debug: () => undefined, warn: (m) => log.push(m) },
    });
    const w = client.watch(["VM"], (e) => void seen.push(e), { backoffMs: [20, 100] });
    await w.ready;
    seen.length = 0;
    dropPolls = 8; // the client repeats a read-only call once after a drop: 8 drops fail 4 polls
    ev.change("VM", "OpaqueRef:vm-9", "add", { name_label: "nine" });
    await waitFor(() => seen.some((e) => e.kind === "add" && e.ref === "OpaqueRef:vm-9"));
    expect(seen.some((e) => e.kind === "synced")).toBe(false); // no resync was needed
    // One retry per dropped poll, each delay twice the one before, up to the maximum.
    expect(
      log
        .map((l) => /retrying in (\d+) ms/.exec(l)?.[1])
        .filter(Boolean)
        .map(Number),
    ).toEqual([20, 40, 80, 100]);
    await w.stop();
  });

  it("stops cleanly while a long poll is in flight", async () => {
    const w = client.watch(["VM"], () => undefined);
    await w.ready;
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
