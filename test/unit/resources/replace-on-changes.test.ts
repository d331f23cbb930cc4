// The replaceOnChanges resource option, applied by the provider (the engine cannot for dynamic resources).
import { configure, dispatch } from "../../../provider/runtime";
import { replacedBy, replaceOnChangesKey } from "../../../provider/replace-on-changes";
import { setConnector, type Xapi } from "../../../provider/resources/common/connection";

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const keys = ["name", "mtu", "tags", "otherConfig", "bond", "vlan", "nic", "description"];
const olds = {
  name: "n",
  mtu: 1500,
  tags: ["a"],
  otherConfig: { k: "1" },
  bond: { nics: ["eth1", "eth2"], mode: "balance-slb" },
  uuid: "u",
  bridge: "xapi1",
};

describe("replacedBy", () => {
  it("names the top-level input whose path changed", () => {
    expect(replacedBy(["mtu"], olds, { ...olds, mtu: 9000 }, keys)).toEqual(["mtu"]);
    expect(replacedBy(["mtu"], olds, { ...olds, name: "m" }, keys)).toEqual([]);
    expect(replacedBy(["bond.mode"], olds, { ...olds, bond: { ...olds.bond, mode: "lacp" } }, keys)).toEqual(["bond"]);
    expect(replacedBy(["bond.mode"], olds, { ...olds, bond: { ...olds.bond, nics: ["eth1", "eth3"] } }, keys)).toEqual(
      [],
    );
    expect(replacedBy(["tags[0]"], olds, { ...olds, tags: ["b"] }, keys)).toEqual(["tags"]);
    expect(replacedBy(["otherConfig.*"], olds, { ...olds, otherConfig: { k: "1", j: "2" } }, keys)).toEqual([
      "otherConfig",
    ]);
    expect(replacedBy(['otherConfig["k"]'], olds, { ...olds, otherConfig: { k: "2" } }, keys)).toEqual(["otherConfig"]);
  });

  it("counts an input that was removed or added as changed", () => {
    const { tags: _t, ...withoutTags } = olds;
    expect(replacedBy(["tags"], olds, withoutTags, keys)).toEqual(["tags"]);
    expect(replacedBy(["vlan"], olds, { ...olds, vlan: 5 }, keys)).toEqual(["vlan"]);
    expect(replacedBy(["*"], olds, withoutTags, keys)).toEqual(["tags"]);
  });

  it("* covers every input, never the outputs (uuid, bridge are not inputs)", () => {
    const { uuid: _u, bridge: _b, ...inputs } = olds;
    expect(replacedBy(["*"], olds, inputs, keys)).toEqual([]);
    expect(replacedBy(["*"], olds, { ...inputs, name: "m", mtu: 9000 }, keys).sort()).toEqual(["mtu", "name"]);
  });

  it("compares maps whatever their key order, and treats an unknown value as a change", () => {
    expect(
      replacedBy(["otherConfig"], { otherConfig: { a: "1", b: "2" } }, { otherConfig: { b: "2", a: "1" } }, keys),
    ).toEqual([]);
    expect(replacedBy(["mtu"], olds, { ...olds, mtu: unknown }, keys)).toEqual(["mtu"]);
    expect(replacedBy(["bond.mode"], olds, { ...olds, bond: unknown }, keys)).toEqual(["bond"]);
  });
});

describe("the provider host applies the option", () => {
  beforeAll(() => {
    configure({ get: (k: string) => ({ "xenserver:url": "https://pool.invalid", "xenserver:username": "root" })[k] });
    // check() connects once per profile before checking (issue 9 item 3); these inputs need no call.
    setConnector(async () => ({}) as Xapi);
  });
  afterAll(() => setConnector(undefined));

  it("check keeps the option with the checked inputs, diff turns the update into a replacement", async () => {
    const checked = (await dispatch(
      "Network",
      "check",
      {},
      { name: "n", mtu: 9000, [replaceOnChangesKey]: ["mtu"] },
    )) as { inputs: Record<string, unknown> };
    expect(checked.inputs[replaceOnChangesKey]).toEqual(["mtu"]);
    const state = {
      name: "n",
      description: "",
      mtu: 1500,
      otherConfig: {},
      tags: [],
      uuid: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21",
      bridge: "xapi1",
      pifs: [],
    };
    const d = (await dispatch("Network", "diff", state.uuid, state, checked.inputs)) as {
      changes: boolean;
      replaces: string[];
    };
    expect(d).toMatchObject({ changes: true, replaces: ["mtu"] });
    // Without the option, the same change is an update in place.
    const { [replaceOnChangesKey]: _o, ...plain } = checked.inputs;
    expect(await dispatch("Network", "diff", state.uuid, state, plain)).toMatchObject({ changes: true, replaces: [] });
    // A change the option does not name stays an update.
    const renamed = (await dispatch(
      "Network",
      "check",
      {},
      { name: "m", mtu: 1500, [replaceOnChangesKey]: ["mtu"] },
    )) as { inputs: Record<string, unknown> };
    expect(await dispatch("Network", "diff", state.uuid, state, renamed.inputs)).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("a forced replacement deletes first where the new object would collide with the old one", async () => {
    const opt = { [replaceOnChangesKey]: ["mtu"] };
    const vlanState = {
      name: "v",
      description: "",
      mtu: 1500,
      otherConfig: {},
      tags: [],
      vlan: 10,
      nic: "eth1",
      uuid: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21",
      bridge: "xapi2",
      pifs: [],
    };
    const { uuid, bridge: _b, pifs: _p, ...vlanInputs } = vlanState;
    // The same tag on the same NIC cannot exist twice: the old VLAN network goes first.
    expect(await dispatch("Network", "diff", uuid, vlanState, { ...vlanInputs, mtu: 9000, ...opt })).toMatchObject({
      changes: true,
      replaces: ["mtu"],
      deleteBeforeReplace: true,
    });
    // A private network can be made before the old one goes.
    const { vlan: _v, nic: _n, ...privState } = vlanState;
    const { vlan: _v2, nic: _n2, ...privInputs } = vlanInputs;
    expect(await dispatch("Network", "diff", uuid, privState, { ...privInputs, mtu: 9000, ...opt })).toMatchObject({
      changes: true,
      replaces: ["mtu"],
      deleteBeforeReplace: false,
    });
    // An attached SR (same UUID) and a Pool (the same pool, adopted again) also go first.
    const attached = {
      type: "nfs",
      mode: "attach",
      existingUuid: uuid,
      name: "s",
      description: "",
      deviceConfig: { server: "a", serverpath: "/x" },
      smConfig: {},
      destroyOnDelete: false,
      otherConfig: {},
      tags: [],
    };
    expect(
      await dispatch(
        "Sr",
        "diff",
        uuid,
        { ...attached, uuid },
        { ...attached, name: "t", [replaceOnChangesKey]: ["name"] },
      ),
    ).toMatchObject({ replaces: ["name"], deleteBeforeReplace: true });
    expect(
      await dispatch(
        "Pool",
        "diff",
        uuid,
        { name: "p", otherConfig: {}, tags: [], uuid },
        { name: "q", otherConfig: {}, tags: [], [replaceOnChangesKey]: ["name"] },
      ),
    ).toMatchObject({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
  });
});
