// `connection: "default"` names the same connection as no connection at all
// (resolveConnection): writing it out must not plan a replacement, which for an
// adopted object deletes what the new resource has just adopted.
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Pool: pool, Sr: sr, Vdi: vdi } = resourceKinds;

const uuid = "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21";
const net = { adopt: uuid, name: "n", otherConfig: {}, tags: [], uuid, bridge: "xapi1", pifs: [] };
const store = { adopt: uuid, type: "nfs", name: "s", otherConfig: {}, tags: [], uuid, secrets: {} };
const disk = { adopt: uuid, sr: uuid, name: "d", otherConfig: {}, tags: [], uuid, virtualSize: 1024 ** 3 };

describe('connection "default"', () => {
  it.each([
    ["network", network, net],
    ["sr", sr, store],
    ["vdi", vdi, disk],
    ["pool", pool, { otherConfig: {}, tags: [] }],
  ] as const)("is the same connection as none for a %s", async (_kind, mod, state) => {
    const d1 = await mod.diff(uuid, state, { ...state, connection: "default" });
    expect(d1).toMatchObject({ changes: false });
    const d2 = await mod.diff(uuid, { ...state, connection: "default" }, state);
    expect(d2).toMatchObject({ changes: false });
  });

  it("still replaces a created object when the profile really changes", async () => {
    const { adopt: _adopt, ...created } = net;
    expect(await network.diff(uuid, created, { ...created, connection: "lab" })).toMatchObject({
      changes: true,
      replaces: ["connection"],
    });
  });
});
