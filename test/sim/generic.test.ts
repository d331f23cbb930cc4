import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let vm: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient());
  const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
  vm = await c.call<string>("VM.clone", tpl, "generic-vm");
});
afterAll(() => sim.close());

describe("generic messages from the datamodel", () => {
  it("get_record / get_<field> / get_by_uuid / get_by_name_label (a set) agree", async () => {
    const rec = await c.call<Rec>("VM.get_record", vm);
    expect(await c.call("VM.get_name_label", vm)).toBe("generic-vm");
    expect(await c.call("VM.get_by_uuid", rec.uuid)).toBe(vm);
    expect(await c.call("VM.get_by_name_label", "generic-vm")).toEqual([vm]);
    expect(await c.call("VM.get_by_name_label", "no such VM")).toEqual([]);
  });

  it("returns HANDLE_INVALID [Class, ref] for unknown refs, including OpaqueRef:NULL", async () => {
    await expectError(c.call("VDI.get_record", "OpaqueRef:NULL"), "HANDLE_INVALID", ["VDI", "OpaqueRef:NULL"]);
    await expectError(c.call("network.get_MTU", "garbage"), "HANDLE_INVALID", ["network", "garbage"]);
  });

  it("returns UUID_INVALID [Class, uuid] for an unknown uuid or one of another class", async () => {
    const sr = (await c.call<string[]>("SR.get_all"))[0];
    const srUuid = await c.call<string>("SR.get_uuid", sr);
    await expectError(c.call("VM.get_by_uuid", srUuid), "UUID_INVALID", ["VM", srUuid]);
    await expectError(c.call("VM.get_by_uuid", "nope"), "UUID_INVALID", ["VM", "nope"]);
  });

  it("has setters only for RW fields: set_power_state is MESSAGE_METHOD_UNKNOWN", async () => {
    await expectError(c.call("VM.set_power_state", vm, "Running"), "MESSAGE_METHOD_UNKNOWN", ["VM.set_power_state"]);
    await c.call("VM.set_name_description", vm, "described");
    expect(await c.call("VM.get_name_description", vm)).toBe("described");
  });

  it("checks the session of unknown methods with parameters before answering MESSAGE_METHOD_UNKNOWN", async () => {
    const res = await fetch(`${sim.url}/jsonrpc`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", method: "VM.frobnicate", params: ["OpaqueRef:bad"], id: 1 }),
    });
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("SESSION_INVALID");
    const res2 = await fetch(`${sim.url}/jsonrpc`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", method: "VM.frobnicate", params: [], id: 1 }),
    });
    expect(((await res2.json()) as { error: { data: string[] } }).error.data).toEqual(["VM.frobnicate"]);
  });

  it("counts parameters without the session: VM.start(session, vm) is [VM.start, 3, 1]", async () => {
    await expectError(c.call("VM.start", vm), "MESSAGE_PARAMETER_COUNT_MISMATCH", ["VM.start", "3", "1"]);
    await expectError(c.call("VM.get_record"), "MESSAGE_PARAMETER_COUNT_MISMATCH", ["VM.get_record", "1", "0"]);
  });

  it("checks the parameter count before the session, and unmarshals before the session too", async () => {
    const bad = new Client(sim.url);
    bad.session = "OpaqueRef:not-a-session";
    await expectError(bad.call("VM.start", vm), "MESSAGE_PARAMETER_COUNT_MISMATCH", ["VM.start", "3", "1"]);
    await expectError(bad.call("VM.start", vm, "yes", false), "INTERNAL_ERROR");
    await expectError(bad.call("VM.start", vm, false, false), "SESSION_INVALID", ["OpaqueRef:not-a-session"]);
  });

  it("fills trailing defaulted parameters and ignores surplus ones (VM.snapshot, session.login_with_password)", async () => {
    const snap = await c.call<string>("VM.snapshot", vm, "snap-defaults");
    expect(await c.call("VM.get_is_a_snapshot", snap)).toBe(true);
    await expectError(c.call("VM.snapshot", vm), "MESSAGE_PARAMETER_COUNT_MISMATCH", ["VM.snapshot", "2", "1"]);
  });

  it("add_to_<map> refuses an existing key with MAP_DUPLICATE_KEY [Class, field, ref, key]; remove_from is idempotent", async () => {
    await c.call("VM.add_to_other_config", vm, "k", "v");
    await expectError(c.call("VM.add_to_other_config", vm, "k", "v"), "MAP_DUPLICATE_KEY", [
      "VM",
      "other_config",
      vm,
      "k",
    ]);
    await c.call("VM.remove_from_other_config", vm, "k");
    await c.call("VM.remove_from_other_config", vm, "k");
    expect((await c.call<Record<string, string>>("VM.get_other_config", vm)).k).toBeUndefined();
  });

  it("add_<set> is idempotent and remove_<set> of an absent value is a no-op", async () => {
    await c.call("VM.add_tags", vm, "web");
    await c.call("VM.add_tags", vm, "web");
    expect(await c.call("VM.get_tags", vm)).toEqual(["web"]);
    await c.call("VM.remove_tags", vm, "db");
    await c.call("VM.remove_tags", vm, "web");
    expect(await c.call("VM.get_tags", vm)).toEqual([]);
  });

  it("answers INTERNAL_ERROR for wrong parameter types and unknown enum values, matching enums case-insensitively", async () => {
    await expectError(c.call("VM.set_actions_after_crash", vm, "explode"), "INTERNAL_ERROR");
    await expectError(
      c.call("network.set_MTU", (await c.call<string[]>("network.get_all"))[0], "big"),
      "INTERNAL_ERROR",
    );
    await c.call("VM.set_actions_after_crash", vm, "DESTROY");
    expect(await c.call("VM.get_actions_after_crash", vm)).toBe("destroy");
  });

  it("has no Async form for getters: Async.VM.get_record fails with Fault", async () => {
    await expectError(c.call("Async.VM.get_record", vm), "Fault", [
      "No async mode for this operation (rpc: VM.get_record)",
    ]);
  });
});

describe("record constructors", () => {
  it("read RW and StaticRO members, ignore unknown ones and default the optional ones", async () => {
    const net = await c.call<string>("network.create", {
      name_label: "ctor-net",
      other_config: {},
      extra: "ignored",
      PIFs: ["ignored"],
    });
    const rec = await c.call<Rec>("network.get_record", net);
    expect(rec).toMatchObject({ name_label: "ctor-net", MTU: 1500, managed: true, PIFs: [], VIFs: [], tags: [] });
    expect(rec.bridge).toMatch(/^xapi\d+$/);
  });

  it("fail with INTERNAL_ERROR Dispatcher_FieldNotFound when a required member is missing", async () => {
    await expectError(c.call("network.create", { name_label: "no other_config" }), "INTERNAL_ERROR", [
      'Server_helpers.Dispatcher_FieldNotFound("other_config")',
    ]);
  });

  it("accept a full get_record result back", async () => {
    const net = (await c.call<string[]>("network.get_all"))[0];
    const rec = await c.call<Rec>("network.get_record", net);
    const copy = await c.call<string>("network.create", { ...rec, bridge: "" });
    expect(await c.call("network.get_name_label", copy)).toBe(rec.name_label);
  });
});

describe("get_all_records_where", () => {
  it("filters on DB columns with double underscores for namespaced fields", async () => {
    const hits = await c.call<Record<string, Rec>>(
      "VM.get_all_records_where",
      'field "is_a_template" = "true" and field "name__label" = "Debian Bookworm 12"',
    );
    expect(Object.values(hits).map((r) => r.name_label)).toEqual(["Debian Bookworm 12"]);
    const refs = await c.call<string[]>("VM.get_all_where", 'field "name__label" = "generic-vm"');
    expect(refs).toEqual([vm]);
  });

  it("gives and/or the same precedence, associating left", async () => {
    // (false or true) and false = false; a right-associative parser would say true.
    expect(
      await c.call(
        "VM.get_all_where",
        'field "name__label" = "x" or field "name__label" = "generic-vm" and field "name__label" = "y"',
      ),
    ).toEqual([]);
    expect(
      await c.call("VM.get_all_where", 'not (field "name__label" = "x") and field "name__label" = "generic-vm"'),
    ).toEqual([vm]);
  });

  it("answers INTERNAL_ERROR missing field for single-underscore namespaced columns and INVALID_VALUE for syntax errors", async () => {
    await expectError(c.call("VM.get_all_records_where", 'field "name_label" = "generic-vm"'), "INTERNAL_ERROR", [
      "missing field",
      "name_label",
      "",
    ]);
    await expectError(c.call("VM.get_all_records_where", 'field "name__label" = '), "INVALID_VALUE");
  });

  it("answers an or of column comparisons (a batch of reads by UUID) as the same comparisons one by one would", async () => {
    // simulator/engine/filter.ts compileFilter tests such an `or` with one set lookup per column.
    const all = await c.call<Record<string, Rec & { uuid: string }>>("VM.get_all_records");
    const uuids = Object.values(all).map((r) => r.uuid);
    const some = [uuids[0], uuids[2], "not-a-uuid", uuids[uuids.length - 1]];
    const where = some.map((u) => `field "uuid" = "${u}"`).join(" or ");
    const hits = await c.call<Record<string, { uuid: string }>>("VM.get_all_records_where", where);
    expect(
      Object.values(hits)
        .map((r) => r.uuid)
        .sort(),
    ).toEqual([uuids[0], uuids[2], uuids[uuids.length - 1]].sort());
    // Literal first, and two columns in one `or`.
    const mixed = `"${uuids[1]}" = field "uuid" or field "name__label" = "generic-vm"`;
    const refs = await c.call<string[]>("VM.get_all_where", mixed);
    expect(refs.sort()).toEqual([Object.keys(all).find((r) => all[r].uuid === uuids[1])!, vm].sort());
  });

  it("reports a missing column in an or when a row reaches it, left to right", async () => {
    // xapi ocaml/database/db_filter.ml eval_expr: Or is OCaml's short-circuit ||, and a missing column raises when evaluated.
    // Every row but generic-vm reaches the bad column, so the query fails...
    await expectError(
      c.call("VM.get_all_where", 'field "name__label" = "generic-vm" or field "name_label" = "x"'),
      "INTERNAL_ERROR",
      ["missing field", "name_label", ""],
    );
    // ...and with `true` first, no row does.
    expect((await c.call<string[]>("VM.get_all_where", 'true or field "name_label" = "x"')).length).toBeGreaterThan(1);
  });
});

describe("Async availability (datamodel flags)", () => {
  it("offers Async for custom lifecycle messages and record constructors, not for messages declared without it", async () => {
    const t = await c.task("network.create", { name_label: "async-ctor", other_config: {} });
    expect(t.status).toBe("success");
    await expectError(c.call("Async.VM.set_VCPUs_max", vm, 2), "Fault", [
      "No async mode for this operation (rpc: VM.set_VCPUs_max)",
    ]);
    await expectError(c.call("Async.session.logout"), "Fault");
  });

  it("checks the session before answering Fault", async () => {
    const res = await fetch(`${sim.url}/jsonrpc`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", method: "Async.VM.get_record", params: ["OpaqueRef:bad", vm], id: 1 }),
    });
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("SESSION_INVALID");
  });
});
