/** The watch loop against the simulator: initial sync, live changes, EVENTS_LOST and session resyncs, stop. */
import type { Simulator } from "../../../simulator";
import { XapiClient, type Ref, type WatchEvent } from "../../../provider/xapi";
import { connect, sim } from "./sim";

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(["jsonrpc", "xmlrpc"] as const)("watch over %s", (transport) => {
  let s: Simulator;
  let c: XapiClient;
  let template: Ref<"VM">;
  beforeEach(async () => {
    s = await sim();
    c = await connect(s, { transport });
    const vms = await c.call("VM.get_all_records");
    template = Object.entries(vms).find(([, r]) => r.is_a_template)![0] as Ref<"VM">;
  });
  afterEach(async () => {
    await c.close();
    await s.close();
  });

  it("reports every existing object, then creations, changes and deletions as they happen", async () => {
    const events: WatchEvent[] = [];
    const w = c.watch(["VM"], (e) => void events.push(e));
    await w.ready;
    const initial = events.filter((e) => e.kind === "add").length;
    expect(initial).toBe(Object.keys(await c.call("VM.get_all_records")).length);
    expect(events[events.length - 1]).toEqual({ kind: "synced", reason: "initial" });

    const vm = await c.call("VM.clone", template, "watched");
    await waitFor(() => events.some((e) => e.kind === "add" && e.ref === vm));
    await c.call("VM.set_name_label", vm, "renamed");
    await waitFor(() => events.some((e) => e.kind === "mod" && e.ref === vm && e.record.name_label === "renamed"));
    const mod = events.find((e) => e.kind === "mod" && e.ref === vm) as Extract<WatchEvent, { record: unknown }>;
    expect(typeof mod.record.VCPUs_max).toBe("number");
    await c.call("VM.destroy", vm);
    await waitFor(() => events.some((e) => e.kind === "del" && e.ref === vm));
    await w.stop();
  });

  it("resyncs after EVENTS_LOST and reports what changed meanwhile", async () => {
    const events: WatchEvent[] = [];
    const w = c.watch(["VM"], (e) => void events.push(e), { backoffMs: [10, 100] });
    await w.ready;
    events.length = 0;
    s.faults.failNext("event.from", 1, "EVENTS_LOST");
    // The poll in flight returns on this change; the next poll gets EVENTS_LOST.
    const vm = await c.call("VM.clone", template, "during-loss");
    await waitFor(() => events.some((e) => e.kind === "synced"));
    expect(events).toContainEqual({ kind: "synced", reason: "events-lost" });
    expect(events.some((e) => e.kind !== "synced" && e.ref === vm)).toBe(true);
    await w.stop();
  });

  it("logs in again and resyncs when its session is invalidated", async () => {
    const events: WatchEvent[] = [];
    const w = c.watch(["VM"], (e) => void events.push(e), { backoffMs: [10, 100] });
    await w.ready;
    events.length = 0;
    s.faults.expireSessions();
    await waitFor(() => events.some((e) => e.kind === "synced"));
    expect(events).toContainEqual({ kind: "synced", reason: "session" });
    const vm = await c.call("VM.clone", template, "after-relogin");
    await waitFor(() => events.some((e) => e.kind === "add" && e.ref === vm));
    await w.stop();
  });

  it("resyncs when the server rejects the token", async () => {
    const events: WatchEvent[] = [];
    const w = c.watch(["VM"], (e) => void events.push(e), { backoffMs: [10, 100] });
    await w.ready;
    events.length = 0;
    s.faults.failNext("event.from", 1, "EVENT_FROM_TOKEN_PARSE_FAILURE", ["bad"]);
    await c.call("VM.clone", template, "wake");
    await waitFor(() => events.some((e) => e.kind === "synced"));
    expect(events).toContainEqual({ kind: "synced", reason: "token" });
    await w.stop();
  });

  it("stops promptly while a long poll is in flight", async () => {
    const w = c.watch(["VM", "VDI"], () => undefined);
    await w.ready;
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
