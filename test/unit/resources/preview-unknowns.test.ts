// During preview, inputs computed from resources not yet created arrive as the
// unknown sentinel. check() must neither fail on them nor hand the engine
// unvalidated inputs (the host then diffs the raw program values: no defaults,
// sizes not in bytes), and diff() must plan, not throw.
import { resourceKinds } from "../../../provider/resources/registry";
import type { EngineResource, ResourceContext } from "../../../provider/resources/contract";
import { setConnector, type Xapi } from "../../../provider/resources/common/connection";

const { Network: network, Sr: sr, Vdi: vdi } = resourceKinds;

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const srUuid = "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21";
const ctx: ResourceContext = {
  config: {
    get: (k: string) =>
      ({ "xenserver:url": "https://pool.invalid", "xenserver:username": "root", "xenserver:password": "pw" })[k],
  },
};

// The few XAPI answers check() needs: an lvm SR and one host.
const fake: Xapi = {
  call: async <T>(method: string) =>
    ({
      "SR.get_by_uuid": "OpaqueRef:sr",
      "SR.get_record": { uuid: srUuid, type: "lvm", name_label: "Local storage", content_type: "user" },
      "host.get_all_records": { "OpaqueRef:h1": { uuid: "h1", name_label: "host-1", hostname: "host-1" } },
    })[method] as T,
  callAsync: async () => {
    throw new Error("not used");
  },
  importRawVdi: async () => undefined,
  close: async () => undefined,
};
beforeAll(() => setConnector(async () => fake));
afterAll(() => setConnector(undefined));

/** What the dynamic-provider host does: check, then diff the checked inputs (or the raw news when check returned none). */
async function preview(
  mod: EngineResource,
  olds: Record<string, unknown>,
  state: Record<string, unknown>,
  news: Record<string, unknown>,
) {
  const checked = await mod.check(olds, news, ctx);
  expect(checked.failures ?? []).toEqual([]);
  return mod.diff("u", state, checked.inputs ?? news, ctx);
}

describe("unknown values during preview", () => {
  it("an SR whose destroyOnDelete is unknown is not shown as replaced", async () => {
    const olds = { type: "nfs", name: "s", deviceConfig: { server: "a", serverpath: "/x" } };
    const state = {
      ...olds,
      mode: "create",
      description: "",
      smConfig: {},
      destroyOnDelete: false,
      otherConfig: {},
      tags: [],
      uuid: "u",
      secrets: {},
    };
    const d = await preview(sr, olds, state, { ...olds, destroyOnDelete: unknown });
    expect(d.replaces).toEqual([]);
  });

  it("a local SR whose shared flag is unknown may name its host", async () => {
    const r = await sr.check(
      {},
      { type: "ext", name: "s", deviceConfig: { device: "/dev/sdb" }, host: "host-1", shared: unknown },
      ctx,
    );
    expect(r.failures ?? []).toEqual([]);
  });

  it("a disk whose tags are unknown is not shown as replaced", async () => {
    const olds = { sr: srUuid, name: "d", size: "1GiB" };
    const state = {
      sr: srUuid,
      name: "d",
      size: 1024 ** 3,
      type: "user",
      sharable: false,
      readOnly: false,
      description: "",
      otherConfig: {},
      tags: [],
      uuid: "u",
      virtualSize: 1024 ** 3,
    };
    const d = await preview(vdi, olds, state, { ...olds, size: 1024 ** 3, tags: unknown });
    expect(d.replaces).toEqual([]);
  });

  it("a disk filled from a file whose path is not known yet passes check", async () => {
    const r = await vdi.check({}, { sr: srUuid, name: "d", source: { path: unknown } }, ctx);
    expect(r.failures ?? []).toEqual([]);
  });

  it("a bond network whose NICs are unknown passes check", async () => {
    const r = await network.check({}, { name: "n", bond: { nics: unknown } }, ctx);
    expect(r.failures ?? []).toEqual([]);
  });

  it("a bond network whose bond is unknown plans a replacement instead of throwing", async () => {
    const state = {
      name: "n",
      description: "",
      mtu: 1500,
      otherConfig: {},
      tags: [],
      uuid: "u",
      bridge: "xapi1",
      pifs: [],
      bond: { nics: ["eth1", "eth2"], mode: "balance-slb" },
    };
    await expect(network.diff("u", state, { ...state, bond: unknown })).resolves.toMatchObject({
      changes: true,
      replaces: ["bond"],
    });
    await expect(
      network.diff("u", state, { ...state, bond: { nics: unknown, mode: "balance-slb" } }),
    ).resolves.toMatchObject({ changes: true, replaces: ["bond"] });
  });
});
