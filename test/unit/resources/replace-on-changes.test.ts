// The replaceOnChanges resource option, applied by the provider (the engine cannot for dynamic resources).
import { configure, dispatch } from "../../../provider/host";
import { replacedBy, replaceOnChangesKey } from "../../../provider/replace-on-changes";

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const olds = { name: "n", mtu: 1500, tags: ["a"], otherConfig: { k: "1" }, bond: { nics: ["eth1", "eth2"], mode: "balance-slb" }, uuid: "u", bridge: "xapi1" };

describe("replacedBy", () => {
  it("names the top-level input whose path changed", () => {
    expect(replacedBy(["mtu"], olds, { ...olds, mtu: 9000 })).toEqual(["mtu"]);
    expect(replacedBy(["mtu"], olds, { ...olds, name: "m" })).toEqual([]);
    expect(replacedBy(["bond.mode"], olds, { ...olds, bond: { ...olds.bond, mode: "lacp" } })).toEqual(["bond"]);
    expect(replacedBy(["bond.mode"], olds, { ...olds, bond: { ...olds.bond, nics: ["eth1", "eth3"] } })).toEqual([]);
    expect(replacedBy(["tags[0]"], olds, { ...olds, tags: ["b"] })).toEqual(["tags"]);
    expect(replacedBy(["otherConfig.*"], olds, { ...olds, otherConfig: { k: "1", j: "2" } })).toEqual(["otherConfig"]);
    expect(replacedBy(['otherConfig["k"]'], olds, { ...olds, otherConfig: { k: "2" } })).toEqual(["otherConfig"]);
  });

  it("* covers every input, never the outputs (uuid, bridge are not inputs)", () => {
    const { uuid: _u, bridge: _b, ...inputs } = olds;
    expect(replacedBy(["*"], olds, inputs)).toEqual([]);
    expect(replacedBy(["*"], olds, { ...inputs, name: "m", mtu: 9000 }).sort()).toEqual(["mtu", "name"]);
  });

  it("compares maps whatever their key order, and treats an unknown value as a change", () => {
    expect(replacedBy(["otherConfig"], { otherConfig: { a: "1", b: "2" } }, { otherConfig: { b: "2", a: "1" } })).toEqual([]);
    expect(replacedBy(["mtu"], olds, { ...olds, mtu: unknown })).toEqual(["mtu"]);
    expect(replacedBy(["bond.mode"], olds, { ...olds, bond: unknown })).toEqual(["bond"]);
  });
});

describe("the provider host applies the option", () => {
  beforeAll(() => configure({ get: (k: string) => ({ "xenserver:url": "https://pool.invalid", "xenserver:username": "root" })[k] }));

  it("check keeps the option with the checked inputs, diff turns the update into a replacement", async () => {
    const checked = (await dispatch("Network", "check", {}, { name: "n", mtu: 9000, [replaceOnChangesKey]: ["mtu"] })) as { inputs: Record<string, unknown> };
    expect(checked.inputs[replaceOnChangesKey]).toEqual(["mtu"]);
    const state = { name: "n", description: "", mtu: 1500, otherConfig: {}, tags: [], uuid: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", bridge: "xapi1", pifs: [] };
    const d = (await dispatch("Network", "diff", state.uuid, state, checked.inputs)) as { changes: boolean; replaces: string[] };
    expect(d).toMatchObject({ changes: true, replaces: ["mtu"] });
    // Without the option, the same change is an update in place.
    const { [replaceOnChangesKey]: _o, ...plain } = checked.inputs;
    expect(await dispatch("Network", "diff", state.uuid, state, plain)).toMatchObject({ changes: true, replaces: [] });
    // A change the option does not name stays an update.
    const renamed = (await dispatch("Network", "check", {}, { name: "m", mtu: 1500, [replaceOnChangesKey]: ["mtu"] })) as { inputs: Record<string, unknown> };
    expect(await dispatch("Network", "diff", state.uuid, state, renamed.inputs)).toMatchObject({ changes: true, replaces: [] });
  });
});
