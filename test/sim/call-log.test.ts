/**
 * The call log (sim.calls, --call-log FILE): simulator-only state. The arguments kept follow xapi's audit log
 * heuristics (ocaml/xapi/rbac_audit.ml sexpr_args_of): descriptive names and object refs, never secrets.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulator, Simulator, CallRecord } from "../../simulator";
import { parseArgs } from "../../simulator/cli";
import { Client, expectError, xmlCall, xmlPost } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "call-log-"));
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0, callLogPath: path.join(dir, "calls.jsonl") });
  c = await new Client(sim.url).login("root", "pw", "call-log-tests");
});
afterAll(async () => {
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("call log", () => {
  it("records method, originator, session user, start, duration and transport of every call", async () => {
    const mark = sim.calls.mark();
    const before = Date.now();
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    await xmlPost(sim.url, xmlCall("system.listMethods", []));
    const [byName, listed] = sim.calls.list({ since: mark });
    expect(byName).toMatchObject({
      seq: mark,
      method: "VM.get_by_name_label",
      transport: "jsonrpc",
      originator: "call-log-tests",
      user: "root",
      args: { label: "Debian Bookworm 12" },
    });
    expect(Date.parse(byName.start)).toBeGreaterThanOrEqual(before - 1);
    expect(byName.durationMs).toBeGreaterThanOrEqual(0);
    expect(byName.error).toBeUndefined();
    expect(listed).toMatchObject({ method: "system.listMethods", transport: "xmlrpc", user: "", originator: "" });
    expect(tpl).toMatch(/^OpaqueRef:/);
  });

  it("records the error of a failed call, and the task of an Async call", async () => {
    const mark = sim.calls.mark();
    await expectError(c.call("VM.get_record", "OpaqueRef:nope"), "HANDLE_INVALID");
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const task = await c.call<string>("Async.VM.clone", tpl, "logged-clone");
    const [failed, , asyncCall] = sim.calls.list({ since: mark });
    expect(failed.error).toEqual(["HANDLE_INVALID", "VM", "OpaqueRef:nope"]);
    expect(asyncCall).toMatchObject({ method: "Async.VM.clone", task, args: { vm: tpl, new_name: "logged-clone" } });
  });

  it("keeps passwords and sessions out: a login shows its user and originator only", async () => {
    const mark = sim.calls.mark();
    await new Client(sim.url).login("root", "pw", "someone");
    await expectError(new Client(sim.url).login("root", "wrong-secret", "intruder"), "SESSION_AUTHENTICATION_FAILED");
    const logins = sim.calls.list({ since: mark, method: "session.login_with_password" });
    expect(logins.map((l) => [l.user, l.originator, l.error?.[0]])).toEqual([
      ["root", "someone", undefined],
      ["root", "intruder", "SESSION_AUTHENTICATION_FAILED"],
    ]);
    const text = JSON.stringify(sim.calls.list());
    expect(text).not.toContain("wrong-secret");
    expect(text).not.toContain(c.session);
  });

  it("counts per method and per transport; clear() starts afresh and mark() keeps counting", async () => {
    sim.calls.clear();
    const mark = sim.calls.mark();
    await c.call("pool.get_all");
    await c.call("pool.get_all");
    expect(sim.calls.counts()).toEqual({ "pool.get_all": 2 });
    expect(sim.calls.count("pool.get_all")).toBe(2);
    expect(sim.calls.transports()).toEqual({ xmlrpc: 0, jsonrpc: 2 });
    expect(sim.calls.list().map((e) => e.seq)).toEqual([mark, mark + 1]);
  });

  it("statusPolls() names the getters called in a loop on one object, and nothing for a client that waits on events", async () => {
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const polled = await c.task("VM.clone", tpl, "polled"); // Client.task polls task.get_record
    const mark = sim.calls.mark();
    const task = await c.call<string>("Async.VM.clone", tpl, "waited");
    let token = "";
    for (let done = false; !done;) {
      const batch = await c.call<{ token: string; events: { ref: string; snapshot?: { status: string } }[] }>(
        "event.from",
        ["task"],
        token,
        5,
      );
      token = batch.token;
      done = batch.events.some((e) => e.ref === task && e.snapshot?.status !== "pending");
    }
    const viaEvents = sim.calls.statusPolls({ since: mark, min: 3 });
    expect(viaEvents).toEqual([]);
    const all = sim.calls.statusPolls({ min: 1 });
    expect(all.some((p) => p.method === "task.get_record" && p.object === polled.$ref)).toBe(true);
  });

  it("statusPolls() flags a 2 s poll loop in one session, not one read per operation in sessions of their own", async () => {
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const loop = sim.calls.mark();
    // As Ansible's xenserver_guest waits for an IP: the same getter on the same VM every 2 s.
    for (let i = 0; i < 3; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 2000));
      await c.call("VM.get_guest_metrics", tpl);
    }
    expect(sim.calls.statusPolls({ since: loop })).toEqual([{ method: "VM.get_guest_metrics", object: tpl, count: 3 }]);
    // Three operations (as three pulumi commands, each its own provider process and session) read it once each.
    const ops = sim.calls.mark();
    for (const originator of ["up", "refresh", "destroy"]) {
      const op = await new Client(sim.url).login("root", "pw", originator);
      await op.call("VM.get_guest_metrics", tpl);
    }
    expect(sim.calls.statusPolls({ since: ops })).toEqual([]);
    expect(sim.calls.statusPolls({ since: ops, perSession: false })).toEqual([
      { method: "VM.get_guest_metrics", object: tpl, count: 3 },
    ]);
  }, 20_000);

  it("statusPolls() keeps counting a poll loop among the session's other calls, not reads after its own changes", async () => {
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const other = await c.call<string>("VM.clone", tpl, "other");
    const polled = await c.call<string>("VM.clone", tpl, "polled");
    // A loop on one VM while the same session works on another VM and reads the polled one's other fields.
    const loop = sim.calls.mark();
    for (let i = 0; i < 3; i++) {
      await c.call("VM.get_record", polled);
      await c.call("VM.get_VBDs", polled);
      await c.call("VM.set_name_description", other, `step ${i}`);
    }
    expect(sim.calls.statusPolls({ since: loop })).toEqual([{ method: "VM.get_record", object: polled, count: 3 }]);
    // A client reading the VM again after each change it made to it: not waiting, not a poll.
    const own = sim.calls.mark();
    for (let i = 0; i < 3; i++) {
      await c.call("VM.get_record", polled);
      await c.call("VM.set_name_description", polled, `step ${i}`);
    }
    expect(sim.calls.statusPolls({ since: own })).toEqual([]);
    // Then three reads with nothing done to it in between: a poll again.
    const after = sim.calls.mark();
    for (let i = 0; i < 3; i++) await c.call("VM.get_record", polled);
    expect(sim.calls.statusPolls({ since: after })).toEqual([{ method: "VM.get_record", object: polled, count: 3 }]);
  });

  it("--call-log FILE writes the same records as JSON lines", async () => {
    const mark = sim.calls.mark();
    await c.call("pool.get_all");
    const lines = fs
      .readFileSync(path.join(dir, "calls.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as CallRecord);
    expect(lines.find((l) => l.seq === mark)).toEqual(sim.calls.list({ since: mark })[0]);
    expect(parseArgs(["--call-log", "/tmp/calls.jsonl"])).toEqual({ callLogPath: "/tmp/calls.jsonl" });
  });

  it("survives restart(): the log belongs to the simulator, not to one xapi process", async () => {
    const n = sim.calls.count("pool.get_all");
    await sim.restart();
    c = await new Client(sim.url).login("root", "pw", "call-log-tests");
    await c.call("pool.get_all");
    expect(sim.calls.count("pool.get_all")).toBe(n + 1);
  });
});
