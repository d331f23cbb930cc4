// What one resource call costs must not grow with the pool (issue 14: a stack of N resources would cost N²).
// Counted with the simulator's call log, with few and with many objects of the same kind in the pool.
import { resourceKinds } from "../../../provider/resources/registry";
import { setConnector, type Xapi } from "../../../provider/resources/common/connection";
import { XapiClient } from "../../../provider/xapi";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Network: network, Vdi: vdi, Vm: vm } = resourceKinds;

let lab: SimulatedPool | undefined;
beforeAll(async () => {
  lab = await startPool("scale-pw");
});
afterAll(() => stopPool(lab));

const { createWith } = resourceSteps(() => lab!.ctx);

describe("a Vdi read", () => {
  it("asks for its SR's UUID once per session, not for the SR's record, which lists every disk on it", async () => {
    const { sim, xapi } = lab!;
    const pool = await xapi.call<Record<string, { default_SR: string }>>("pool.get_all_records");
    const srRef = Object.values(pool)[0].default_SR;
    const sr = await xapi.call<string>("SR.get_uuid", srRef);
    const made: Array<{ id: string; outs: Record<string, unknown> }> = [];
    const readAll = async (disks: typeof made) => {
      sim.calls.clear();
      for (const d of disks) {
        const r = await vdi.read(d.id, d.outs, lab!.ctx);
        expect(r.props!.sr).toBe(sr);
      }
      return { ...sim.calls.counts() };
    };

    for (let i = 0; i < 3; i++) made.push(await createWith(vdi, { name: `few-${i}`, sr, size: "1MiB" }));
    const few = await readAll(made.slice(0, 3));
    for (let i = 0; i < 60; i++) made.push(await createWith(vdi, { name: `many-${i}`, sr, size: "1MiB" }));
    const many = await readAll(made.slice(-3));

    for (const counts of [few, many]) {
      expect(counts["SR.get_record"]).toBeUndefined();
      expect(Object.keys(counts).filter((m) => /get_all_records/.test(m))).toEqual([]);
    }
    // The provider session asks for the SR's UUID at most once; after that, three reads cost the same calls
    // whether the SR holds 3 disks or 63.
    const { ["SR.get_uuid"]: learnt, ...fewOthers } = few;
    expect(learnt ?? 0).toBeLessThanOrEqual(1);
    expect(many).toEqual(fewOthers);
    for (const d of made) await vdi.delete(d.id, d.outs, lab!.ctx);
  });

  it("made together, as a refresh makes them, share one filtered query instead of two calls each", async () => {
    const { sim, xapi } = lab!;
    const pool = await xapi.call<Record<string, { default_SR: string }>>("pool.get_all_records");
    const sr = await xapi.call<string>("SR.get_uuid", Object.values(pool)[0].default_SR);
    const made: Array<{ id: string; outs: Record<string, unknown> }> = [];
    for (let i = 0; i < 40; i++) made.push(await createWith(vdi, { name: `together-${i}`, sr, size: "1MiB" }));
    // One of them is deleted by someone else: its read says it is gone, as a read alone does.
    const [gone] = made.splice(7, 1);
    await xapi.call("VDI.destroy", await xapi.call<string>("VDI.get_by_uuid", gone.id));
    const alone = [];
    for (const d of made) alone.push(await vdi.read(d.id, d.outs, lab!.ctx));
    const goneAlone = await vdi.read(gone.id, gone.outs, lab!.ctx);

    sim.calls.clear();
    const [goneTogether, ...together] = await Promise.all([gone, ...made].map((d) => vdi.read(d.id, d.outs, lab!.ctx)));
    const counts = sim.calls.counts();
    expect(together).toEqual(alone);
    expect(goneTogether).toEqual(goneAlone);
    expect(goneAlone.id).toBe("");
    // xapi's filter syntax (db_filter_parse.mly): field "uuid" = "…" or …; one query answers all 40 (≤ 64 a query).
    expect(counts["VDI.get_all_records_where"]).toBe(1);
    expect(counts["VDI.get_by_uuid"]).toBeUndefined();
    expect(counts["VDI.get_record"]).toBeUndefined();
    for (const d of made) await vdi.delete(d.id, d.outs, lab!.ctx);
  });
});

describe("Vm reads", () => {
  it("made together, as a refresh makes them, find their VMs with one filtered query", async () => {
    const { sim, xapi } = lab!;
    const nets = await xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
    const net = Object.values(nets).find((n) => n.name_label === "Pool-wide network associated with eth0")!.uuid;
    const made: Array<{ id: string; outs: Record<string, unknown> }> = [];
    for (let i = 0; i < 6; i++)
      made.push(
        await createWith(vm, {
          name: `together-vm-${i}`,
          template: "Debian Bookworm 12",
          powerState: "Halted",
          networkInterfaces: [{ network: net }],
        }),
      );
    const alone = [];
    for (const d of made) alone.push(await vm.read(d.id, d.outs, lab!.ctx));
    sim.calls.clear();
    const together = await Promise.all(made.map((d) => vm.read(d.id, d.outs, lab!.ctx)));
    const counts = sim.calls.counts();
    expect(together).toEqual(alone);
    expect(counts["VM.get_all_records_where"]).toBe(1);
    expect(counts["VM.get_by_uuid"]).toBeUndefined();
    for (const d of made) await vm.delete(d.id, d.outs, lab!.ctx);
  });
});

describe("a VLAN network", () => {
  // Two hosts, so that the per-host parts (a VLAN PIF on each, names, liveness) are in the calls. Every VLAN network
  // adds a PIF on each host and lists itself on the NIC's PIF (VLAN_slave_of), so a read of the PIF table, or of the
  // NIC's or a host's record, grows with the stack. Filtered reads (PIF.get_all_where / get_all_records_where,
  // xapi's db_filter_parse.mly expressions, see ocaml/database/db_cache_impl.ml find_refs_with_filter_internal) send
  // back only the matches.
  let two: SimulatedPool | undefined;
  // What the provider received: the answers' size as JSON text, a stand-in for the bytes on the wire.
  let received = 0;
  beforeAll(async () => {
    two = await startPool("scale-vlan-pw", { hosts: 2 });
    setConnector(async (s) => {
      const client = await XapiClient.connect({ url: s.url, username: s.username, password: s.password });
      const measured = async (answer: Promise<unknown>) => {
        const r = await answer;
        received += JSON.stringify(r ?? null).length;
        return r;
      };
      return {
        call: (method: string, ...args: unknown[]) => measured(client.call(method, ...args)),
        callAsync: (method: string, args?: unknown[]) => measured(client.callAsync(method, args)),
        importRawVdi: (vdi: string, file: string) => client.importRawVdi(vdi, file),
        close: () => client.close(),
      } as Xapi;
    });
  });
  afterAll(async () => {
    await stopPool(two);
    setConnector(undefined);
  });
  const steps = resourceSteps(() => two!.ctx);
  const unfiltered = /^(PIF|network|VIF|host)\.get_all_records$|^(PIF|network|VIF)\.get_all$|^host\.get_record$/;

  interface Phase {
    calls: Record<string, number>;
    received: number;
  }

  /** The calls, by method and number, and the size of the answers, of each step of one network's life. */
  async function lifeOfOne(program: Record<string, unknown>): Promise<Record<string, Phase>> {
    const { sim, ctx } = two!;
    const phases: Record<string, Phase> = {};
    const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      const mark = sim.calls.mark();
      const before = received;
      const out = await run();
      const calls: Record<string, number> = {};
      for (const c of sim.calls.list({ since: mark })) calls[c.method] = (calls[c.method] ?? 0) + 1;
      phases[name] = { calls, received: received - before };
      return out;
    };
    const checked = await step("check", () => network.check({}, program, ctx));
    expect(checked.failures).toBeUndefined();
    const made = await step("create", () => network.create(checked.inputs!, ctx));
    expect(made.outs.pifs).toHaveLength(2); // one per host
    const r = await step("read", () => network.read(made.id, made.outs, ctx));
    expect(r.props).toEqual(made.outs);
    const renamed = { ...checked.inputs!, description: "renamed" };
    const u = await step("update", () => network.update(made.id, made.outs, renamed, ctx));
    expect(u.outs.missingOn).toEqual([]);
    await step("delete", () => network.delete(made.id, u.outs, ctx));
    await expect(two!.xapi.call("network.get_by_uuid", made.id)).rejects.toThrow(/UUID_INVALID/);
    return phases;
  }

  it("checks, creates, reads, updates and deletes with the same calls and answers beside 2 or 32 other VLANs", async () => {
    const vlan = { name: "measured", vlan: 200, nic: "eth1" };
    const bond = { name: "measured-bond", bond: { nics: ["eth2", "eth3"] } };
    // A session reads each NIC's network once, the first time a bond is checked: not what is measured.
    expect((await network.check({}, bond, two!.ctx)).failures).toBeUndefined();
    const others: Array<{ id: string; outs: Record<string, unknown> }> = [];
    for (let i = 0; i < 2; i++)
      others.push(await steps.createWith(network, { name: `few-${i}`, vlan: 10 + i, nic: "eth1" }));
    const few = { vlan: await lifeOfOne(vlan), bond: await lifeOfOne(bond) };
    for (let i = 2; i < 32; i++)
      others.push(await steps.createWith(network, { name: `many-${i}`, vlan: 10 + i, nic: "eth1" }));
    const many = { vlan: await lifeOfOne(vlan), bond: await lifeOfOne(bond) };

    for (const kind of ["vlan", "bond"] as const) {
      for (const phases of [few[kind], many[kind]])
        for (const [phase, { calls }] of Object.entries(phases))
          expect([kind, phase, Object.keys(calls).filter((m) => unfiltered.test(m))]).toEqual([kind, phase, []]);
      const callsOf = (phases: Record<string, Phase>) =>
        Object.fromEntries(Object.entries(phases).map(([phase, p]) => [phase, p.calls]));
      expect(callsOf(many[kind])).toEqual(callsOf(few[kind]));
      // The answers are the same records but for the measured network's bridge name and the like (xapi7 → xapi37):
      // a few characters, where one more VLAN PIF record alone is hundreds (before: a VLAN check 41 → 180 kB).
      const growth = Object.entries(few[kind]).map(([phase, p]) => [
        kind,
        phase,
        Math.abs(many[kind][phase].received - p.received),
      ]);
      expect(growth.filter(([, , g]) => Number(g) > 16)).toEqual([]);
    }
    // The conflicts are still looked for: the tag of another network on the same NIC is refused.
    const clash = await network.check({}, { name: "clash", vlan: 20, nic: "eth1" }, two!.ctx);
    expect(clash.failures?.[0].reason).toMatch(/^vlan: tag 20 is already in use on eth1 of host .*\(PIF_VLAN_EXISTS\)/);
    for (const o of others) await network.delete(o.id, o.outs, two!.ctx);
  });
});
