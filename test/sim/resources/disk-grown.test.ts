// Issue 9 item 6: a disk grown outside Pulumi. Once a refresh has read the larger size back, a program that still
// says the old size would shrink it; check refuses, and says how to accept the live size: `size: "atLeast:…"` keeps
// a disk at least that large as it is (and grows a smaller one), or the ignoreChanges resource option.
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Vdi: vdi } = resourceKinds;

let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
const { createWith, updateWith } = resourceSteps(() => ctx);
const GiB = 1024 ** 3;

beforeAll(async () => {
  lab = await startPool("grown-pw");
  ({ xapi, ctx } = lab);
});
afterAll(() => stopPool(lab));

async function localSr(): Promise<string> {
  const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
  return Object.values(srs).find((s) => s.type === "lvm")!.uuid;
}

/** A 1 GiB disk, resized to 3 GiB outside Pulumi, then refreshed: the state's inputs say 3 GiB. */
async function grownDisk(name: string) {
  const made = await createWith(vdi, { sr: await localSr(), name, size: "1GiB" });
  await xapi.call("VDI.resize", await xapi.call<string>("VDI.get_by_uuid", made.id), 3 * GiB);
  const refreshed = await vdi.read(made.id, made.outs, ctx);
  expect(refreshed.inputs?.size).toBe(3 * GiB);
  return { ...made, state: { ...refreshed.props!, ...refreshed.inputs! } };
}

describe("a disk grown outside Pulumi", () => {
  it("the shrink refusal says how to accept the live size", async () => {
    const d = await grownDisk("grown-a");
    const r = await vdi.check(d.state, { ...d.checked, size: "1GiB" }, ctx);
    expect(r.failures?.map((f) => f.reason)).toEqual([
      "size: shrinking a disk from 3 GiB to 1 GiB would destroy data, and XenServer refuses it; keep 3 GiB " +
        'or more, replace the disk, or accept the size it has now with size: "atLeast:1GiB" (or the ' +
        'ignoreChanges: ["size"] resource option)',
    ]);
    await vdi.delete(d.id, d.state, ctx);
  });

  it('size "atLeast:1GiB" accepts the 3 GiB disk as it is: no failure, no change', async () => {
    const d = await grownDisk("grown-b");
    const u = await updateWith(vdi, d.id, d.state, { ...d.checked, size: "atLeast:1GiB" });
    expect(u.checked.size).toBe(3 * GiB);
    expect(u.diff).toMatchObject({ changes: false });
    await vdi.delete(d.id, d.state, ctx);
  });

  it('size "atLeast:4GiB" grows a smaller disk to 4 GiB, and a new disk is made at that size', async () => {
    const d = await grownDisk("grown-c");
    const u = await updateWith(vdi, d.id, d.state, { ...d.checked, size: "atLeast:4GiB" });
    expect(u.diff).toMatchObject({ changes: true, replaces: [] });
    const grown = await u.run();
    expect(grown.outs.virtualSize).toBe(4 * GiB);
    await vdi.delete(d.id, grown.outs, ctx);
    const fresh = await createWith(vdi, { sr: await localSr(), name: "fresh", size: "atLeast:2GiB" });
    expect(fresh.outs.virtualSize).toBe(2 * GiB);
    await vdi.delete(fresh.id, fresh.outs, ctx);
  });

  it("ignoreChanges: the engine hands check the old size, which passes", async () => {
    const d = await grownDisk("grown-d");
    // processIgnoreChanges copies the old input into the new inputs before check (docs/resource-options.md).
    const r = await vdi.check(d.state, { ...d.checked, size: d.state.size }, ctx);
    expect(r.failures).toBeUndefined();
    await vdi.delete(d.id, d.state, ctx);
  });
});
