// A resource that spans hosts is whole only when every host has its part. A VLAN network whose VLAN was
// destroyed on one host (xapi_vlan.ml destroy runs per host), or a shared SR unplugged on one host
// (xapi_pbd.ml unplug), is seen by read (missingOn), planned as an update by diff, and repaired by update.
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Sr: sr } = resourceKinds;

let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
let slave: string;
let slaveName: string;

beforeAll(async () => {
  lab = await startPool("s3cret-pw", { hosts: 2 });
  ({ xapi, ctx } = lab);
  const [pool] = await xapi.call<string[]>("pool.get_all");
  const master = await xapi.call<string>("pool.get_master", pool);
  slave = (await xapi.call<string[]>("host.get_all")).find((h) => h !== master)!;
  slaveName = await xapi.call<string>("host.get_name_label", slave);
});

afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => ctx);

describe("per-host parts", () => {
  it("a VLAN destroyed on one host: read reports the host, diff plans an update, update makes the VLAN again", async () => {
    const made = await createWith(network, { name: "parts-vlan", vlan: 211, nic: "eth1" });
    expect(made.outs.missingOn).toEqual([]);
    expect(made.outs.pifs).toHaveLength(2);
    const ref = await xapi.call<string>("network.get_by_uuid", made.id);
    const pifs = await xapi.call<Record<string, { host: string; VLAN_master_of: string }>>(
      "PIF.get_all_records_where",
      `field "network" = "${ref}"`,
    );
    const onSlave = Object.values(pifs).find((p) => p.host === slave)!;
    await xapi.call("VLAN.destroy", onSlave.VLAN_master_of);

    const read = await network.read(made.id, made.outs, ctx);
    expect(read.props!.missingOn).toEqual([slaveName]);
    expect(read.props!.pifs).toHaveLength(1);
    const { diff, run } = await updateWith(network, made.id, read.props!, made.checked);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const { outs } = await run();
    expect(outs.missingOn).toEqual([]);
    expect(outs.pifs).toHaveLength(2);
    const again = await network.read(made.id, outs, ctx);
    expect(again.props!.missingOn).toEqual([]);
    expect((await updateWith(network, made.id, again.props!, made.checked)).diff.changes).toBe(false);
    await network.delete(made.id, outs, ctx);
  });

  it("a shared SR unplugged on one host: read reports the host, diff plans an update, update plugs it again", async () => {
    const made = await createWith(sr, {
      type: "nfs",
      name: "parts-sr",
      deviceConfig: { server: "192.0.2.10", serverpath: "/exports/parts" },
    });
    expect(made.outs.missingOn).toEqual([]);
    const ref = await xapi.call<string>("SR.get_by_uuid", made.id);
    const pbds = await xapi.call<Record<string, { host: string }>>(
      "PBD.get_all_records_where",
      `field "SR" = "${ref}"`,
    );
    const onSlave = Object.entries(pbds).find(([, p]) => p.host === slave)![0];
    await xapi.call("PBD.unplug", onSlave);

    const read = await sr.read(made.id, made.outs, ctx);
    expect(read.props!.missingOn).toEqual([slaveName]);
    const { diff, run } = await updateWith(sr, made.id, read.props!, made.checked);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const { outs } = await run();
    expect(outs.missingOn).toEqual([]);
    expect(await xapi.call<boolean>("PBD.get_currently_attached", onSlave)).toBe(true);
    await sr.delete(made.id, outs, ctx);
  });
});
