// Resource options through the real engine: replaceOnChanges, which the engine cannot apply to a dynamic
// resource on its own (the dynamic provider host reports no changed keys), is applied by the provider.
import { startSimulator, type Simulator } from "../../simulator";
import { E2EStack } from "./harness";

const program = `
const xen = require("pulumi-xenserver");
module.exports = (a) => {
  const strict = new xen.Network("strict", { name: a.name, mtu: a.mtu }, { replaceOnChanges: ["mtu"] });
  const plain = new xen.Network("plain", { name: "plain-" + a.name, mtu: a.mtu });
  return { strict: strict.uuid, plain: plain.uuid };
};
`;

describe("resource options through the real engine", () => {
  let sim: Simulator;
  const stack = new E2EStack("resource-options");
  let config: Record<string, { value: string; secret?: boolean }>;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "Opt-Pw-7" });
    config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "Opt-Pw-7", secret: true },
    };
  });
  afterAll(async () => {
    await sim.close();
    stack.dispose();
  });
  const run = (ops: string[], args: { name: string; mtu: number }) =>
    stack.run(ops, { programSource: program, config, programArgs: args });

  it("replaceOnChanges turns a change of the named property into a replacement, and leaves other changes in place", async () => {
    const [first] = await run(["up"], { name: "n", mtu: 1500 });
    expect(first.changes).toEqual({ create: 3 });
    // A rename is an update for both networks; an MTU change replaces only the one that asks for it.
    const [renamed] = await run(["up"], { name: "m", mtu: 1500 });
    expect(renamed.changes).toEqual({ same: 1, update: 2 });
    expect(renamed.outputs!.strict.value).toBe(first.outputs!.strict.value);
    const [preview, up] = await run(["preview", "up"], { name: "m", mtu: 9000 });
    expect(preview.changes).toEqual({ same: 1, update: 1, replace: 1 });
    expect(up.changes).toEqual({ same: 1, update: 1, replace: 1 });
    expect(up.outputs!.strict.value).not.toBe(first.outputs!.strict.value);
    expect(up.outputs!.plain.value).toBe(first.outputs!.plain.value);
    const [again] = await run(["preview"], { name: "m", mtu: 9000 });
    expect(again.changes).toEqual({ same: 3 });
    await run(["destroy"], { name: "m", mtu: 9000 });
  });
});
