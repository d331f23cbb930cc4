// What one resource call costs must not grow with the pool (issue 14: a stack of N resources would cost N²).
// Counted with the simulator's call log, with few and with many objects of the same kind in the pool.
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Vdi: vdi } = resourceKinds;

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
});
