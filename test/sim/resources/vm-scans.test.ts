// Issue 14: a Vm's calls must not grow with the pool. The simulator's call log shows which XAPI calls a check,
// create, read and delete of the benchmark's VM shape make (bench/scale.ts: "Debian Bookworm 12", Halted, one NIC);
// the same calls, by method and number, must be made with 30 more VMs, VDIs and networks in the pool.
// In xapi (ocaml/database/db_cache_impl.ml) get_all_records_where folds over the whole table
// (find_refs_with_filter_internal), get_by_name_label too (read_field_where': "linear scan"), get_all_records reads
// every row; get_by_uuid is an index lookup (db_get_by_uuid: Database.lookup_uuid) and get_record finds one row by
// its ref (read_record).
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { closeAll } from "../../../provider/resources/common/connection";
import { resourceKinds } from "../../../provider/resources/registry";
import { startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Vm: vm } = resourceKinds;

let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;

beforeAll(async () => {
  lab = await startPool("vm-scans-pw");
  ({ xapi, ctx } = lab);
});
afterAll(() => stopPool(lab));

// The pool class has one row: pool.get_all is not a scan.
const scan = /^(?!pool\.).*\.(get_all_records_where|get_all_where|get_all_records|get_all|get_by_name_label)$/;

interface Phases {
  check: string[];
  create: string[];
  read: string[];
  delete: string[];
}

/** The methods each step of one Vm's life calls; on a fresh provider connection (no cache from before) or not. */
async function lifeOfOneVm(name: string, freshSession: boolean): Promise<Phases> {
  if (freshSession) await closeAll();
  const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
  const net = Object.values(nets).find((n) => n.name_label === "Pool-wide network associated with eth0")!.uuid;
  const program = { name, template: "Debian Bookworm 12", powerState: "Halted", networkInterfaces: [{ network: net }] };
  const since = (mark: number) => lab!.sim.calls.list({ since: mark }).map((c) => c.method.replace(/^Async\./, ""));
  let mark = lab!.sim.calls.mark();
  const checked = await vm.check({}, program, ctx);
  expect(checked.failures).toBeUndefined();
  const check = since(mark);
  mark = lab!.sim.calls.mark();
  const { id, outs } = await vm.create(checked.inputs!, ctx);
  const create = since(mark);
  mark = lab!.sim.calls.mark();
  const r = await vm.read(id, outs, ctx);
  expect(r.props).toEqual(outs);
  const read = since(mark);
  mark = lab!.sim.calls.mark();
  await vm.delete(id, r.props!, ctx);
  const del = since(mark);
  await expect(xapi.call("VM.get_by_uuid", id)).rejects.toThrow(/UUID_INVALID/);
  return { check, create, read, delete: del };
}

const countsOf = (ms: string[]) => ms.reduce<Record<string, number>>((a, m) => ((a[m] = (a[m] ?? 0) + 1), a), {});

/** 30 more VMs (clones of the template), VDIs and networks: what a Vm call must not read through. */
async function crowdThePool(): Promise<void> {
  const [tpl] = await xapi.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
  const [pool] = await xapi.call<string[]>("pool.get_all");
  const sr = await xapi.call<string>("pool.get_default_SR", pool);
  for (let i = 0; i < 30; i++) {
    await xapi.call("VM.clone", tpl, `crowd-${i}`);
    await xapi.call("VDI.create", {
      SR: sr,
      virtual_size: 1024 ** 2,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: `crowd-${i}`,
    });
    await xapi.call("network.create", { name_label: `crowd-${i}`, other_config: {} });
  }
}

describe("Vm calls whatever the size of the pool (issue 14)", () => {
  it("reads and deletes without a table scan, and makes the same calls with 30 more VMs, VDIs and networks", async () => {
    const small = await lifeOfOneVm("scan-1", true);
    expect(small.read.filter((m) => scan.test(m))).toEqual([]);
    expect(small.delete.filter((m) => scan.test(m))).toEqual([]);
    expect(small.create.filter((m) => scan.test(m))).toEqual([]);
    // A session's first check: the client's list of hosts at login (client.ts, for fail-over) and the one search
    // for the template by name; create re-reads the template found (VM.get_record), it does not search again.
    expect(small.check.filter((m) => scan.test(m))).toEqual(["host.get_all_records", "VM.get_all_records_where"]);
    // The VM is read by ref: not through a table, and only its own devices.
    expect(small.read).toEqual([
      "VM.get_by_uuid",
      "VM.get_record",
      "VBD.get_record",
      "VIF.get_record",
      "VDI.get_record",
    ]);

    await crowdThePool();
    const crowded = await lifeOfOneVm("scan-2", true);
    expect(countsOf(crowded.check)).toEqual(countsOf(small.check));
    expect(countsOf(crowded.create)).toEqual(countsOf(small.create));
    expect(countsOf(crowded.read)).toEqual(countsOf(small.read));
    expect(countsOf(crowded.delete)).toEqual(countsOf(small.delete));

    // The next Vm in the same session (the provider process of one pulumi command): no scan at all.
    const next = await lifeOfOneVm("scan-3", false);
    for (const phase of [next.check, next.create, next.read, next.delete])
      expect(phase.filter((m) => scan.test(m))).toEqual([]);
  });

  it("a create failing midway destroys the VM and the disk the template gave it, found through the VM's own VBDs", async () => {
    const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
    const net = Object.values(nets).find((n) => n.name_label === "Pool-wide network associated with eth0")!.uuid;
    const program = { name: "half-made", template: "Debian Bookworm 12", networkInterfaces: [{ network: net }] };
    const checked = await vm.check({}, program, ctx);
    const vdisBefore = (await xapi.call<string[]>("VDI.get_all")).length;
    const mark = lab!.sim.calls.mark();
    lab!.sim.faults.failNext("VIF.create", 1, "INTERNAL_ERROR", ["injected"]);
    await expect(vm.create(checked.inputs!, ctx)).rejects.toThrow(/INTERNAL_ERROR/);
    const methods = lab!.sim.calls.list({ since: mark }).map((c) => c.method.replace(/^Async\./, ""));
    expect(await xapi.call("VM.get_by_name_label", "half-made")).toEqual([]);
    expect((await xapi.call<string[]>("VDI.get_all")).length).toBe(vdisBefore);
    expect(methods).toEqual(expect.arrayContaining(["VM.get_VBDs", "VM.destroy", "VDI.destroy"]));
    expect(methods.filter((m) => scan.test(m))).toEqual([]);
  });

  it("finds a template by UUID through the index, and keeps the errors for a template that is not there", async () => {
    await closeAll();
    const [tpl] = await xapi.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    const tplUuid = await xapi.call<string>("VM.get_uuid", tpl);
    const program = { name: "by-uuid", template: tplUuid.toUpperCase(), powerState: "Halted" };
    const mark = lab!.sim.calls.mark();
    expect((await vm.check({}, program, ctx)).failures).toBeUndefined();
    const methods = lab!.sim.calls.list({ since: mark }).map((c) => c.method);
    expect(methods.filter((m) => m.startsWith("VM."))).toEqual(["VM.get_by_uuid", "VM.get_record"]);
    // A VM is not a template: the same failure as before (no template with that UUID).
    const ref = await xapi.call<string>("VM.clone", tpl, "not-a-template");
    await xapi.call("VM.set_is_a_template", ref, false);
    const vmUuid = await xapi.call<string>("VM.get_uuid", ref);
    const asVm = await vm.check({}, { ...program, template: vmUuid }, ctx);
    expect(asVm.failures).toEqual([
      expect.objectContaining({
        property: "template",
        reason: expect.stringContaining(`no template named or with UUID "${vmUuid}"`),
      }),
    ]);
    const missing = await vm.check({}, { ...program, template: "No Such Template" }, ctx);
    expect(missing.failures).toEqual([
      expect.objectContaining({
        property: "template",
        reason: expect.stringContaining('no template named or with UUID "No Such Template"'),
      }),
    ]);
    await xapi.call("VM.destroy", ref);
  });
});
