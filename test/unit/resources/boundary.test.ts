// The contract's boundary (provider/resources/boundary.ts): what the engine hands back is held to the module's
// types once, and reaches the module as it came.
import { atBoundary, stateSchemas } from "../../../provider/resources/boundary";
import type { ResourceModule } from "../../../provider/resources/contract";
import * as network from "../../../provider/resources/network";
import * as pool from "../../../provider/resources/pool";

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const ctx = { config: { get: () => undefined } };

/** A module that records what it was handed. */
function recorder() {
  const seen: unknown[] = [];
  const mod: ResourceModule<Record<string, unknown>, Record<string, unknown>> = {
    ...network.resource,
    diff: async (_id, olds, news) => (seen.push(olds, news), { changes: false }),
    delete: async (_id, olds) => void seen.push(olds),
  };
  return { seen, engine: atBoundary(mod) };
}

describe("the resource boundary", () => {
  it("refuses stored outputs of the wrong type, naming the field and not echoing the value", async () => {
    const { engine } = recorder();
    const err = (await engine.delete("u", { name: "n", mtu: "secret-looking-text" }, ctx).catch((e) => e)) as Error;
    expect(err.message).toMatch(
      /^Network: the stored outputs do not fit this provider version \(mtu: must be a number\)/,
    );
    expect(err.message).not.toContain("secret-looking-text");
  });

  it("hands the module the values as they came: no defaults filled in, unknown values and extra fields kept", async () => {
    const { seen, engine } = recorder();
    const olds = { name: "n", poolUuid: null, fieldOfAnOlderVersion: 1 };
    const news = { name: "n", mtu: unknown, bond: unknown };
    await engine.diff("u", olds, news, ctx);
    expect(seen).toEqual([olds, news]);
  });

  it("asks zod only about a bag the quick check (quick-check.ts) does not accept, for zod's messages", async () => {
    const schemas = stateSchemas(network.inputSchema, network.outputSchema);
    const parse = jest.spyOn(schemas.outputs, "safeParse");
    const engine = atBoundary({ ...network.resource, schemas, delete: async () => undefined });
    await engine.delete("u", { name: "n", mtu: 1500, bond: null, pifs: [], otherConfig: { a: "b" } }, ctx);
    expect(parse).not.toHaveBeenCalled();
    const err = (await engine.delete("u", { name: "n", mtu: "9000" }, ctx).catch((e) => e)) as Error;
    expect(err.message).toMatch(
      /^Network: the stored outputs do not fit this provider version \(mtu: must be a number\)/,
    );
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it("holds stored values to their type, not to the program-facing rules (a short name, an out-of-range MTU)", () => {
    const { outputs } = stateSchemas(network.inputSchema, network.outputSchema);
    expect(outputs.safeParse({ name: "", mtu: 1, bond: { nics: ["eth1"] } }).success).toBe(true);
    expect(outputs.safeParse({ bond: { nics: "eth1" } }).success).toBe(false);
  });

  it("keeps a nested field's own nullability (Pool originals: null means the pool had no value)", () => {
    const { outputs } = stateSchemas(pool.inputSchema, pool.outputSchema);
    const originals = { srs: { defaultSr: null }, otherConfig: { owner: null }, tags: { t: false } };
    expect(outputs.safeParse({ originals }).success).toBe(true);
    expect(outputs.safeParse({ originals: { ...originals, tags: { t: null } } }).success).toBe(false);
  });
});
