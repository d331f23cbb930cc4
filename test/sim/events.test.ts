import { startSimulator, Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

interface Batch {
  events: { id: string; timestamp: string; class: string; operation: string; ref: string; snapshot?: Rec }[];
  valid_ref_counts: Record<string, number>;
  token: string;
}

let sim: Simulator;
let c: Client;
beforeAll(async () => {
  ({ sim, c } = await startWithClient());
});
afterAll(() => sim.close());

const from = (classes: string[], token: string, timeout = 0.05) => c.call<Batch>("event.from", classes, token, timeout);
const newNetwork = (name: string) => c.call<string>("network.create", { name_label: name, other_config: {} });

describe("event.from", () => {
  it("returns every object of the subscribed classes as add for the empty token", async () => {
    const b = await from(["vm"], "");
    const vms = await c.call<string[]>("VM.get_all");
    expect(
      b.events
        .filter((e) => e.class === "vm")
        .map((e) => e.ref)
        .sort(),
    ).toEqual([...vms].sort());
    expect(
      b.events.every((e) => e.operation === "add" && e.timestamp === "0.0" && typeof e.id === "string" && e.snapshot),
    ).toBe(true);
    expect(b.token).toMatch(/^\d{20},\d{20}$/);
  });

  it("reports valid_ref_counts for every table, lower-case", async () => {
    const b = await from(["pool"], "");
    expect(b.valid_ref_counts.vm).toBe((await c.call<string[]>("VM.get_all")).length);
    expect(b.valid_ref_counts.sr).toBe((await c.call<string[]>("SR.get_all")).length);
    expect(b.valid_ref_counts.task).toBeGreaterThanOrEqual(0);
  });

  it("blocks until a change and wakes within milliseconds of it", async () => {
    const { token } = await from(["network"], "");
    const t0 = Date.now();
    const waiting = from(["network"], token, 10);
    setTimeout(() => void newNetwork("wake-me"), 30);
    const b = await waiting;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(b.events.map((e) => [e.operation, e.snapshot?.name_label])).toEqual([["add", "wake-me"]]);
  });

  it("returns an empty batch and a token after the timeout when nothing changed", async () => {
    const { token } = await from(["network"], "");
    const t0 = Date.now();
    const b = await from(["network"], token, 0.2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
    expect(b.events).toEqual([]);
    expect(b.token >= token).toBe(true);
  });

  it("coalesces: one event per object per batch, add with the current snapshot", async () => {
    const { token } = await from(["network"], "");
    const net = await newNetwork("coalesce");
    await c.call("network.set_name_label", net, "coalesced");
    await c.call("network.set_MTU", net, 9000);
    const b = await from(["network"], token);
    const mine = b.events.filter((e) => e.ref === net);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ operation: "add", snapshot: { name_label: "coalesced", MTU: 9000 } });
  });

  it("reports del without a snapshot, and nothing for objects created and deleted between calls", async () => {
    const existing = await newNetwork("to-delete");
    const { token } = await from(["network"], "");
    const ephemeral = await newNetwork("ephemeral");
    await c.call("network.destroy", ephemeral);
    await c.call("network.destroy", existing);
    const b = await from(["network"], token);
    expect(b.events.find((e) => e.ref === ephemeral)).toBeUndefined();
    const del = b.events.find((e) => e.ref === existing)!;
    expect(del.operation).toBe("del");
    expect("snapshot" in del).toBe(false);
  });

  it("emits mod events for the VM and VDI when a VBD is created (their VBDs sets change)", async () => {
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const vm = await c.call<string>("VM.clone", tpl, "vbd-events");
    const [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
    const vdi = await c.call<string>("VDI.create", {
      SR: sr,
      virtual_size: 1 << 30,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    const { token } = await from(["*"], "");
    const vbd = await c.call<string>("VBD.create", {
      VM: vm,
      VDI: vdi,
      userdevice: "autodetect",
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    const b = await from(["*"], token);
    const ops = b.events.map((e) => `${e.class}:${e.operation}:${e.ref}`);
    expect(ops).toEqual(expect.arrayContaining([`vbd:add:${vbd}`, `vm:mod:${vm}`, `vdi:mod:${vdi}`]));
    expect(b.events.find((e) => e.ref === vm)!.snapshot!.VBDs).toContain(vbd);
  });

  it("accepts class names in any case and single-object subscriptions class/ref", async () => {
    const a = await newNetwork("watched");
    await newNetwork("not watched");
    const { token } = await from(["NETWORK"], "");
    await c.call("network.set_name_label", a, "watched!");
    const b = await from([`network/${a}`], token);
    expect(b.events.map((e) => e.ref)).toEqual([a]);
  });

  it("emits pool mod events for other_config changes (Xen Orchestra's barrier)", async () => {
    const [pool] = await c.call<string[]>("pool.get_all");
    const { token } = await from(["pool"], "");
    await c.call("pool.add_to_other_config", pool, "xo:barrier:1", "now");
    const b = await from(["pool"], token);
    expect(b.events[0]).toMatchObject({
      operation: "mod",
      ref: pool,
      snapshot: { other_config: { "xo:barrier:1": "now" } },
    });
  });

  it("fails garbage tokens with EVENT_FROM_TOKEN_PARSE_FAILURE [token]", async () => {
    await expectError(from(["vm"], "garbage"), "EVENT_FROM_TOKEN_PARSE_FAILURE", ["garbage"]);
  });

  it("fails a blocked call with SESSION_INVALID when its session logs out", async () => {
    const other = await new Client(sim.url).login();
    const { token } = await other.call<Batch>("event.from", ["network"], "", 0);
    const waiting = expectError(other.call<Batch>("event.from", ["network"], token, 30), "SESSION_INVALID", [
      other.session,
    ]);
    await new Promise((r) => setTimeout(r, 30));
    await fetch(`${sim.url}/jsonrpc`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", method: "session.logout", params: [other.session], id: 1 }),
    });
    await waiting;
  });
});

describe("event.inject", () => {
  it("returns a token just before a mod of the object", async () => {
    const [pool] = await c.call<string[]>("pool.get_all");
    const token = await c.call<string>("event.inject", "pool", pool);
    const b = await from(["pool"], token);
    expect(b.events).toEqual([expect.objectContaining({ operation: "mod", ref: pool })]);
  });

  it("fails with HANDLE_INVALID [class, ref] for a ref not in that table", async () => {
    const [pool] = await c.call<string[]>("pool.get_all");
    await expectError(c.call("event.inject", "VM", pool), "HANDLE_INVALID", ["VM", pool]);
  });
});

describe("legacy event.register / event.next", () => {
  it("fails event.next without register with SESSION_NOT_REGISTERED, then delivers events", async () => {
    await expectError(c.call("event.next"), "SESSION_NOT_REGISTERED");
    await c.call("event.register", ["network"]);
    const next = c.call<Rec[]>("event.next");
    await newNetwork("legacy");
    const events = await next;
    expect(events.some((e) => e.operation === "add" && e.class === "network")).toBe(true);
  });
});

// xapi_event.ml `from` runs its gathers through throttle.ml `Batching.with_recursive_loop` with xapi_globs.ml
// `event_from_delay` (delay_before 50 ms, delay_between 50 ms, since xapi 25.x: commit "CP-49158: introduce a
// batching delay on first response") or, for task-only subscriptions, `event_from_task_delay` (delay_before 0).
// Behaviour changed here: the simulator used to wait the delay after a change (xapi before 2024) and answered at
// once when events were pending; it now batches as current xapi does.
describe("event.from batching (eventFromDelayMs: xapi's event_from_delay)", () => {
  const delay = 400; // xapi's is 50 ms; a larger one keeps the margins clear of a loaded machine's timer lag
  let slow: Simulator;
  let k: Client;
  beforeAll(async () => {
    slow = await startSimulator({ password: "pw", loginFailureDelayMs: 0, eventFromDelayMs: delay });
    k = await new Client(slow.url).login();
  });
  afterAll(() => slow.close());

  it("sleeps delay_before at the start of every call, even with events already pending", async () => {
    const { token } = await k.call<Batch>("event.from", ["network"], "", 0);
    await k.call("network.create", { name_label: "pending", other_config: {} });
    const t0 = Date.now();
    const b = await k.call<Batch>("event.from", ["network"], token, 10);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(delay - 5);
    expect(b.events.map((e) => e.snapshot?.name_label)).toEqual(["pending"]);
  });

  it("once blocked, gathers delay_between/8 after a matching change (wait2, then the first recursive delay)", async () => {
    const { token } = await k.call<Batch>("event.from", ["network"], "", 0);
    const waiting = k.call<Batch>("event.from", ["network"], token, 10);
    await new Promise((r) => setTimeout(r, delay + 200)); // past delay_before: the call is blocked in wait2
    const t0 = Date.now();
    await k.call("network.create", { name_label: "late", other_config: {} });
    const b = await waiting;
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(delay / 8 - 5);
    expect(took).toBeLessThan(delay);
    expect(b.events.map((e) => e.snapshot?.name_label)).toEqual(["late"]);
  });

  it("has no delay_before for task-only subscriptions (event_from_task_delay)", async () => {
    const t = await k.call<Batch>("event.from", ["task"], "", 0);
    await k.call("task.create", "x", "");
    const t1 = Date.now();
    const b = await k.call<Batch>("event.from", ["task"], t.token, 10);
    expect(Date.now() - t1).toBeLessThan(delay / 2);
    expect(b.events.length).toBeGreaterThan(0);
  });
});

describe("closing the simulator", () => {
  it("ends blocked event.from calls instead of keeping them (and the process) waiting", async () => {
    const s = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
    const k = await new Client(s.url).login();
    const { token } = await k.call<Batch>("event.from", ["network"], "", 0);
    const waiting = k.call<Batch>("event.from", ["network"], token, 60).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    await s.close();
    await waiting;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
