// Pool, Network, Sr and Vdi through the real engine against the simulator, with
// this package installed from its npm tarball: up → preview (no changes) →
// update in place → replace → out-of-band delete + refresh + up → destroy, and
// the stack state never holds the password in plain text.
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

const password = "pa55-e2e-Do-Not-Leak";

const program = `
const xen = require("pulumi-xenserver");
module.exports = (a) => {
  const pool = new xen.Pool("pool", { otherConfig: { stage: a.stage } });
  const backend = new xen.Network("backend", { name: "backend", mtu: a.mtu });
  const storageNet = new xen.Network("storage-net", { name: "storage", vlan: a.vlan, nic: "eth1" });
  const store = new xen.Sr("store", { type: "nfs", name: a.srName, deviceConfig: { server: "192.0.2.10", serverpath: a.serverpath } });
  const disk = new xen.Vdi("disk", { sr: store.uuid, name: "data", size: a.diskSize });
  return { pool: pool.uuid, backend: backend.uuid, storageNet: storageNet.uuid, store: store.uuid, disk: disk.uuid, diskSize: disk.virtualSize };
};
`;

describe("resources through the real engine", () => {
  let sim: Simulator;
  let xapi: XapiClient;
  const stack = new E2EStack("resources");
  let config: Record<string, { value: string; secret?: boolean }>;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password, hosts: 2 });
    xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
    config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: password, secret: true },
    };
  });
  afterAll(async () => {
    await xapi.close();
    await sim.close();
    stack.dispose();
  });

  const base = { stage: "one", mtu: 1500, vlan: 100, srName: "store", serverpath: "/exports/a", diskSize: "1GiB" };
  const run = (ops: string[], args: Partial<typeof base> = {}) =>
    stack.run(ops, { programSource: program, config, programArgs: { ...base, ...args } });

  async function ownedObjects(): Promise<string[]> {
    const found: string[] = [];
    for (const cls of ["network", "SR", "VDI"]) {
      const recs = await xapi.call<Record<string, { other_config: Record<string, string>; uuid: string }>>(
        `${cls}.get_all_records`,
      );
      for (const r of Object.values(recs))
        if (r.other_config["pulumi-xenserver:stack"] === "xenserver-e2e/resources") found.push(`${cls}:${r.uuid}`);
    }
    return found;
  }

  it("runs the whole lifecycle", async () => {
    const sessionsBefore = sim.store.table("session").size;
    const [up, preview] = await run(["up", "preview"]);
    expect(up.changes).toEqual({ create: 6 });
    // The provider processes logged their XAPI sessions out when the engine stopped them.
    expect(sim.store.table("session").size).toBe(sessionsBefore);
    expect(up.outputs?.diskSize.value).toBe(1024 ** 3);
    expect(preview.changes).toEqual({ same: 6 });
    expect(await ownedObjects()).toHaveLength(4);

    // In place: MTU, SR name, disk growth, pool other_config.
    const [inPlace] = await run(["up"], { stage: "two", mtu: 9000, srName: "store-renamed", diskSize: "2GiB" });
    expect(inPlace.changes).toEqual({ same: 2, update: 4 });
    expect(inPlace.outputs?.diskSize.value).toBe(2 * 1024 ** 3);

    // Replacements: a new VLAN tag, a new NFS export (and the disk on the new SR).
    const [replaced] = await run(["up"], {
      stage: "two",
      mtu: 9000,
      srName: "store-renamed",
      diskSize: "2GiB",
      vlan: 101,
      serverpath: "/exports/b",
    });
    expect(replaced.changes).toEqual({ same: 3, replace: 3 });
    const vlans = await xapi.call<Record<string, { tag: number }>>("VLAN.get_all_records");
    expect(
      Object.values(vlans)
        .map((v) => v.tag)
        .sort(),
    ).toEqual([101, 101]);

    // Out-of-band deletion: refresh notices, up re-creates.
    const backendRef = await xapi.call<string>("network.get_by_uuid", replaced.outputs!.backend.value as string);
    await xapi.call("network.destroy", backendRef);
    const final = {
      stage: "two",
      mtu: 9000,
      srName: "store-renamed",
      diskSize: "2GiB",
      vlan: 101,
      serverpath: "/exports/b",
    };
    const [refresh, again, quiet] = await run(["refresh", "up", "preview"], final);
    expect(refresh.changes.delete).toBe(1);
    expect(again.changes).toEqual({ same: 5, create: 1 });
    expect(quiet.changes).toEqual({ same: 6 });

    // A refresh of unchanged objects changes nothing.
    const [calm] = await run(["refresh"], final);
    expect(calm.changes).toEqual({ same: 6 });

    // Out-of-band changes: refresh reports them as drift, up puts the program's values back,
    // and keys other tools add to other_config are not drift.
    const netRef = await xapi.call<string>("network.get_by_uuid", again.outputs!.backend.value as string);
    await xapi.call("network.set_MTU", netRef, 1500);
    await xapi.call("network.add_to_other_config", netRef, "xo:owner", "someone-else");
    const srRef = await xapi.call<string>("SR.get_by_uuid", again.outputs!.store.value as string);
    await xapi.call("SR.set_name_label", srRef, "renamed-by-hand");
    const [drift, repair, settled] = await run(["refresh", "up", "preview"], final);
    expect(drift.changes).toEqual({ same: 4, update: 2 });
    expect(repair.changes).toEqual({ same: 4, update: 2 });
    expect(settled.changes).toEqual({ same: 6 });
    expect(await xapi.call("network.get_MTU", netRef)).toBe(9000);
    expect(await xapi.call("SR.get_name_label", srRef)).toBe("store-renamed");
    expect(await xapi.call<Record<string, string>>("network.get_other_config", netRef)).toMatchObject({
      "xo:owner": "someone-else",
    });

    // Credentials never reach the state in plain text.
    await run(["export"], final);
    expect(stack.stateText()).not.toContain(password);

    const [destroy] = await run(["destroy"], final);
    expect(destroy.changes).toEqual({ delete: 6 });
    expect(await ownedObjects()).toEqual([]);
    const [poolRef] = await xapi.call<string[]>("pool.get_all");
    expect(await xapi.call<Record<string, string>>("pool.get_other_config", poolRef)).not.toHaveProperty(
      "pulumi-xenserver:stack",
    );
  });
});
