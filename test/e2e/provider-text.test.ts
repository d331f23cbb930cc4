// The `__provider` text the engine stores in every resource's inputs and outputs (provider/dynamic.ts). Installed
// from npm, the package now stores a reference to its per-kind module (a few hundred characters) instead of the
// serialized closure (about 3 KB) that earlier versions wrote. State written by those versions must keep working:
// the dynamic-provider host evaluates the text stored with each resource, the new program's for check, diff,
// create and update, the stored outputs' for read (refresh) and delete.
import { startSimulator, type Simulator } from "../../simulator";
import { E2EStack, type OpResult } from "./harness";

// What versions before this change stored: provider/dynamic.ts's makeProvider closure, which loads
// pulumi-xenserver/bin/provider/runtime and calls configure() and dispatch(kind, method, ...args). The resources
// get the same properties the sdk's Network class gives them.
const oldProgram = `
const pulumi = require("@pulumi/pulumi");
const sdk = require("pulumi-xenserver/bin/sdk/resource");
const network = require("pulumi-xenserver/bin/provider/resources/network");
function makeProvider(kind, byName, byPath) {
  function runtime() {
    try {
      return require(byName);
    } catch (err) {
      if (err.code !== "MODULE_NOT_FOUND") throw err;
      return require(byPath);
    }
  }
  return {
    async configure(req) { runtime().configure(req.config); },
    async check(olds, news) { return runtime().dispatch(kind, "check", olds, news); },
    async diff(id, olds, news) { return runtime().dispatch(kind, "diff", id, olds, news); },
    async create(inputs) { return runtime().dispatch(kind, "create", inputs); },
    async read(id, props) { return runtime().dispatch(kind, "read", id, props); },
    async update(id, olds, news) { return runtime().dispatch(kind, "update", id, olds, news); },
    async delete(id, props) { await runtime().dispatch(kind, "delete", id, props); },
  };
}
const runtimePath = "pulumi-xenserver/bin/provider/runtime";
const provider = makeProvider("Network", runtimePath, require.resolve(runtimePath));
const net = (name, args) =>
  new pulumi.dynamic.Resource(
    provider,
    name,
    {
      ...sdk.propertySlots(network.inputSchema, network.outputSchema),
      ...args,
      ...sdk.internalProps("Network", name, undefined),
    },
    undefined,
    "xenserver",
    "Network",
  );
module.exports = () => {
  const kept = net("kept", { name: "text-kept", mtu: 1500 });
  const dropped = net("dropped", { name: "text-dropped" });
  return { kept: kept.uuid, dropped: dropped.uuid };
};
`;

const newProgram = `
const xen = require("pulumi-xenserver");
module.exports = (a) => {
  const kept = new xen.Network("kept", { name: a.name, mtu: 1500 });
  return { kept: kept.uuid };
};
`;

type StateResource = { urn: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };

function networks(exported: OpResult): StateResource[] {
  return ((exported.deployment!.deployment.resources ?? []) as StateResource[]).filter((r) =>
    r.urn.includes("xenserver:Network::"),
  );
}

const providerText = (bag: Record<string, unknown> | undefined) => String(bag?.__provider ?? "");

describe("the stored provider text", () => {
  let sim: Simulator;
  const stack = new E2EStack("provider-text");
  let config: Record<string, { value: string; secret?: boolean }>;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "Text-Pw-3" });
    config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "Text-Pw-3", secret: true },
    };
  });
  afterAll(async () => {
    await sim.close();
    stack.dispose();
  });
  const simNetworks = () =>
    [...sim.store.table("network").values()]
      .map((n) => (n as { name_label: string }).name_label)
      .filter((n) => n.startsWith("text-"))
      .sort();

  it("is a short module reference, and state holding the older closure text refreshes, updates and deletes", async () => {
    const [created, before] = await stack.run(["up", "export"], { programSource: oldProgram, config });
    expect(created.changes).toEqual({ create: 3 });
    for (const r of networks(before)) {
      expect(providerText(r.inputs)).toContain('byName: "pulumi-xenserver/bin/provider/runtime"');
      expect(providerText(r.outputs).length).toBeGreaterThan(2000);
    }
    expect(simNetworks()).toEqual(["text-dropped", "text-kept"]);

    // The new program over the old state: nothing to change for "kept"; "dropped" goes, deleted through its old text.
    const args = { name: "text-kept" };
    const [preview, refresh, up, after] = await stack.run(["preview", "refresh", "up", "export"], {
      programSource: newProgram,
      config,
      programArgs: args,
    });
    expect(preview.changes).toEqual({ same: 2, delete: 1 });
    expect(refresh.changes).toEqual({ same: 3 });
    expect(up.changes).toEqual({ same: 2, delete: 1 });
    expect(simNetworks()).toEqual(["text-kept"]);
    const [kept] = networks(after);
    expect(kept.outputs!.uuid).toBe(created.outputs!.kept.value);
    expect(providerText(kept.inputs)).toBe(
      'exports.handler = __f0;\nconst provider = require("pulumi-xenserver/bin/provider/kinds/network");\n\n' +
        "function __f0() {\n  return (function() {\n    with({ this: undefined, arguments: undefined }) {\n\n" +
        "return () => provider;\n\n    }\n  }).apply(undefined, undefined).apply(this, arguments);\n}\n",
    );

    // An update stores the new text in the outputs too; refresh and destroy then go through it.
    const [renamed, final, again] = await stack.run(["up", "export", "refresh"], {
      programSource: newProgram,
      config,
      programArgs: { name: "text-renamed" },
    });
    expect(renamed.changes).toEqual({ same: 1, update: 1 });
    const [updated] = networks(final);
    expect(providerText(updated.outputs)).toBe(providerText(updated.inputs));
    expect(providerText(updated.outputs).length).toBeLessThan(400);
    expect(again.changes).toEqual({ same: 2 });
    expect(simNetworks()).toEqual(["text-renamed"]);
    await stack.run(["destroy"], { programSource: newProgram, config, programArgs: { name: "text-renamed" } });
    expect(simNetworks()).toEqual([]);
  });
});
