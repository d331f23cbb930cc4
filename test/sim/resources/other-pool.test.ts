// A connection that now reaches another pool (a URL pointed elsewhere by mistake, a DNS name moved): refresh and
// delete must fail, not drop the resources from the state (the next up would make them again in the wrong pool).
import type { EngineResource } from "../../../provider/resources/contract";
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi } = resourceKinds;

let a: SimulatedPool | undefined;
let b: SimulatedPool | undefined;

beforeAll(async () => {
  a = await startPool("pw-a");
  b = await startPool("pw-b");
  const [ref] = await b.xapi.call<string[]>("pool.get_all");
  await b.xapi.call("pool.set_name_label", ref, "staging");
});

afterAll(async () => {
  await stopPool(a);
  await stopPool(b);
});

const { createWith } = resourceSteps(() => a!.ctx);

describe("a resource read or deleted through a connection that reaches another pool", () => {
  it.each([
    ["network", () => ({ mod: network as EngineResource, news: { name: "elsewhere" } })],
    [
      "SR",
      () => ({
        mod: sr as EngineResource,
        news: { type: "nfs", name: "elsewhere", deviceConfig: { server: "192.0.2.80", serverpath: "/e" } },
      }),
    ],
  ] as const)("%s: refresh and delete fail, naming both pools and what to do", async (kind, make) => {
    const { mod, news } = make();
    const made = await createWith(mod, news);
    const poolA = await a!.xapi.call<string>("pool.get_uuid", (await a!.xapi.call<string[]>("pool.get_all"))[0]);
    expect(made.outs.poolUuid).toBe(poolA);
    const wrong = b!.ctx;
    await expect(mod.read(made.id, made.outs, wrong)).rejects.toThrow(
      new RegExp(
        `${kind} ${made.id} was made in pool ${poolA}, but connection "default" now reaches pool "staging" .*xenserver:url`,
      ),
    );
    await expect(mod.delete(made.id, made.outs, wrong)).rejects.toThrow(/now reaches pool "staging"/);
    // Through the right connection nothing changed, and a real deletion is still seen as one.
    expect((await mod.read(made.id, made.outs, a!.ctx)).id).toBe(made.id);
    await mod.delete(made.id, made.outs, a!.ctx);
    expect(await mod.read(made.id, made.outs, a!.ctx)).toEqual({ id: "" });
  });

  it("VDI: likewise", async () => {
    const srs = await a!.xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const made = await createWith(vdi, {
      name: "elsewhere",
      sr: Object.values(srs).find((s) => s.type === "lvm")!.uuid,
      size: "1GiB",
    });
    await expect(vdi.read(made.id, made.outs, b!.ctx)).rejects.toThrow(
      /was made in pool .* now reaches pool "staging"/,
    );
    await expect(vdi.delete(made.id, made.outs, b!.ctx)).rejects.toThrow(/now reaches pool "staging"/);
    await vdi.delete(made.id, made.outs, a!.ctx);
  });

  it("state written before poolUuid existed keeps the old rule (not found: gone)", async () => {
    const made = await createWith(network, { name: "old-state" });
    const { poolUuid: _p, ...oldOuts } = made.outs;
    expect(await network.read(made.id, oldOuts, b!.ctx)).toEqual({ id: "" });
    await network.delete(made.id, made.outs, a!.ctx);
  });

  it("Pool: refresh and delete fail instead of dropping the resource or untagging the other pool", async () => {
    const made = await createWith(pool, { otherConfig: { owner: "a" } });
    await expect(pool.read(made.id, made.outs, b!.ctx)).rejects.toThrow(/now reaches pool "staging"/);
    await expect(pool.delete(made.id, made.outs, b!.ctx)).rejects.toThrow(/now reaches pool "staging"/);
    await pool.delete(made.id, made.outs, a!.ctx);
  });
});
