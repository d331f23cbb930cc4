// Replacing an SR in mode "attach" (delete first, same SR uuid after) must keep the
// disks on it. The engine asks Vdi.diff, with the disks' `sr` unknown, whether they
// must be replaced first; answering yes destroyed them (data included) before the SR
// was forgotten. Here: an attached NFS SR gains deviceConfig.nfsversion.
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

const program = `
const xen = require("pulumi-xenserver");
module.exports = (a) => {
  const store = new xen.Sr("store", { type: "nfs", name: "vms", mode: "attach", existingUuid: a.existing, deviceConfig: a.dc });
  const disk = new xen.Vdi("disk", { sr: store.uuid, name: "data", size: "1GiB" });
  return { store: store.uuid, disk: disk.uuid };
};
`;

describe("an attached SR replaced under its disks", () => {
  let sim: Simulator;
  let xapi: XapiClient;
  const stack = new E2EStack("sr-replaced-under-disks");
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "pw", hosts: 2 });
    xapi = await XapiClient.connect({ url: sim.url, username: "root", password: "pw" });
  });
  afterAll(async () => {
    await xapi.close();
    await sim.close();
    stack.dispose();
  });

  it("keeps the disk when the attached SR is replaced", async () => {
    const [pool] = await xapi.call<string[]>("pool.get_all");
    const master = await xapi.call<string>("pool.get_master", pool);
    const dc = { server: "192.0.2.10", serverpath: "/exports/vms" };
    const sr = await xapi.call<string>("SR.create", master, dc, 0, "vms", "", "nfs", "user", true, {});
    const existing = await xapi.call<string>("SR.get_uuid", sr);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", sr)) await xapi.call("PBD.unplug", pbd);
    await xapi.call("SR.forget", sr);
    const config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "pw", secret: true },
    };
    const run = (ops: string[], d: Record<string, string>) =>
      stack.run(ops, { programSource: program, config, programArgs: { existing, dc: d } });
    const [up] = await run(["up"], dc);
    const diskUuid = up.outputs!.disk.value as string;
    const [again] = await run(["up"], { ...dc, nfsversion: "4" });
    expect(again.outputs!.store.value).toBe(existing);
    expect(again.outputs!.disk.value).toBe(diskUuid);
  });
});
