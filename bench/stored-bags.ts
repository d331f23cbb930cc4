// Real property bags for the benches: the checked inputs and the outputs of resources made against a simulator
// through the provider's own modules (check + create, as the engine calls them), as the engine stores them.
import { closeAll, xapiFor, type Xapi } from "../provider/resources/common/connection";
import type { Props } from "../provider/resources/contract";
import { resourceKinds } from "../provider/resources/registry";

export interface StoredBag {
  id: string;
  inputs: Props;
  outputs: Props;
}

/** The engine's copy of a result: through JSON, undefined as null (runtime.ts jsonSafe). */
export const asStored = (v: unknown): Props =>
  JSON.parse(JSON.stringify(v, (_k, x) => (x === undefined ? null : x))) as Props;

/** Makes resources against the simulator at `url` (user root); removeAll() deletes them and logs out. */
export function bagMaker(url: string, password: string) {
  const settings: Record<string, string> = {
    "xenserver:url": url,
    "xenserver:username": "root",
    "xenserver:password": password,
  };
  const ctx = { config: { get: (k: string) => settings[k] } };
  const made: Array<{ kind: string; bag: StoredBag }> = [];
  return {
    xapi: (): Promise<Xapi> => xapiFor(ctx.config, undefined),
    async make(kind: string, program: Props): Promise<StoredBag> {
      const checked = await resourceKinds[kind].check({}, program, ctx);
      if (!checked.inputs) throw new Error(`bench: ${kind} check failed: ${JSON.stringify(checked.failures)}`);
      const inputs = asStored(checked.inputs);
      const { id, outs } = await resourceKinds[kind].create(inputs, ctx);
      const bag = { id, inputs, outputs: asStored(outs) };
      made.push({ kind, bag });
      return bag;
    },
    async removeAll(): Promise<void> {
      for (const { kind, bag } of made.reverse()) await resourceKinds[kind].delete(bag.id, bag.outputs, ctx);
      made.length = 0;
      await closeAll();
    },
  };
}

export type BagMaker = ReturnType<typeof bagMaker>;

/** One of each of bench:scale's resources: a private network, a 16 MiB VDI on `sr`, a halted VM on that network. */
export async function scaleShapedBags(
  maker: BagMaker,
  sr: string,
): Promise<Record<"Network" | "Vdi" | "Vm", StoredBag>> {
  const identity = (name: string) => ({ name, identity: `bench/scale/${name}` });
  const Network = await maker.make("Network", identity("scale-net-0"));
  const Vdi = await maker.make("Vdi", { ...identity("scale-vdi-0"), sr, size: "16MiB" });
  const Vm = await maker.make("Vm", {
    ...identity("scale-vm-0"),
    template: "Debian Bookworm 12",
    memory: "512MiB",
    powerState: "Halted",
    networkInterfaces: [{ network: Network.outputs.uuid }],
  });
  return { Network, Vdi, Vm };
}
