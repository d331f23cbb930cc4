// Through the real engine: bad input fails `pulumi preview` with the field named
// and creates nothing; existing objects are adopted (`adopt`) or referenced
// read-only (`get`); an SMB password never reaches the state in plain text.
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

describe("adoption, references and preview errors through the real engine", () => {
  let sim: Simulator;
  let xapi: XapiClient;
  const stack = new E2EStack("adopt");
  let config: Record<string, { value: string; secret?: boolean }>;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "adopt-pw", hosts: 1 });
    xapi = await XapiClient.connect({ url: sim.url, username: "root", password: "adopt-pw" });
    config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "adopt-pw", secret: true },
    };
  });
  afterAll(async () => {
    await xapi.close();
    await sim.close();
    stack.dispose();
  });

  it("fails preview on bad input, naming the field, and creates nothing", async () => {
    const before = Object.keys(await xapi.call("network.get_all_records")).length;
    const bad = `const xen = require("pulumi-xenserver");
module.exports = () => { new xen.Network("bad", { name: "bad", vlan: 5000, nic: "eth1" }); new xen.Network("ok", { name: "fine" }); };`;
    const [preview] = await stack.run(["preview-expect-failure"], { programSource: bad, config });
    expect(preview.failed).toBe(true);
    expect(preview.message).toMatch(/vlan: must be ≤ 4094/);
    expect(Object.keys(await xapi.call("network.get_all_records")).length).toBe(before);
  });

  it("adopts an existing network, references the pool read-only, and keeps SMB passwords out of state", async () => {
    const ref = await xapi.call<string>("network.create", {
      name_label: "legacy",
      name_description: "",
      MTU: 1500,
      other_config: { "made-by": "hand" },
      tags: [],
    });
    const legacy = await xapi.call<string>("network.get_uuid", ref);
    const [poolRef] = await xapi.call<string[]>("pool.get_all");
    const poolUuid = await xapi.call<string>("pool.get_uuid", poolRef);
    const program = `const xen = require("pulumi-xenserver");
module.exports = (a) => {
  const adopted = new xen.Network("legacy", { adopt: a.legacy, name: "legacy-managed", mtu: 9000 });
  const pool = xen.Pool.get("existing-pool", a.pool);
  const share = new xen.Sr("share", { type: "smb", name: "share", deviceConfig: { server: "//192.0.2.20/vms", username: "svc", password: "Smb-Secret-123" } });
  return { adopted: adopted.uuid, adoptedMtu: adopted.mtu, adoptedTags: adopted.tags, poolHosts: pool.hosts, poolName: pool.liveName, share: share.uuid };
};`;
    const [up, preview] = await stack.run(["up", "preview"], {
      programSource: program,
      config,
      programArgs: { legacy, pool: poolUuid },
    });
    expect(up.outputs?.adopted.value).toBe(legacy);
    // Properties the program sets or leaves to defaults are all exposed on the objects.
    expect(up.outputs?.adoptedMtu.value).toBe(9000);
    expect(up.outputs?.adoptedTags.value).toEqual([]);
    expect(typeof up.outputs?.poolName.value).toBe("string");
    expect((up.outputs?.poolHosts.value as string[]).length).toBe(1);
    expect(Object.keys(preview.changes)).toEqual(["same"]);
    expect(await xapi.call("network.get_name_label", ref)).toBe("legacy-managed");
    expect(await xapi.call("network.get_MTU", ref)).toBe(9000);
    expect(await xapi.call<Record<string, string>>("network.get_other_config", ref)).toMatchObject({
      "made-by": "hand",
    });
    expect(stack.stateText()).not.toContain("Smb-Secret-123");
    expect(stack.stateText()).not.toContain("adopt-pw");

    const [destroy] = await stack.run(["destroy"], {
      programSource: program,
      config,
      programArgs: { legacy, pool: poolUuid },
    });
    expect(destroy.changes.delete).toBeGreaterThanOrEqual(3);
    // A read-only reference is not deleted: the pool is still there.
    expect(await xapi.call<string[]>("pool.get_all")).toEqual([poolRef]);
  });

  it("fails when get() names an object that does not exist", async () => {
    const program = `const xen = require("pulumi-xenserver");
module.exports = () => { const n = xen.Network.get("ghost", "00000000-0000-4000-8000-000000000000"); return { name: n.name }; };`;
    const [preview] = await stack.run(["preview-expect-failure"], { programSource: program, config });
    expect(preview.failed).toBe(true);
    expect(preview.message).toMatch(
      /Network.get: no Network with uuid 00000000-0000-4000-8000-000000000000 in this pool/,
    );
  });
});
