// Review findings: failure and ordering cases of the resource modules against the simulator.
import { startSimulator, type Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { closeAll } from "../../../provider/resources/common/connection";
import type { ResourceContext, ResourceModule } from "../../../provider/resources/registry";
import * as network from "../../../provider/resources/network";

let sim: Simulator;
let xapi: XapiClient;
let ctx: ResourceContext;
const GiB = 1024 ** 3;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, username: "root", password: "pw", hosts: 2, seed: { hostMemory: 16 * GiB } });
  const settings: Record<string, string> = { "xenserver:url": sim.url, "xenserver:username": "root", "xenserver:password": "pw" };
  ctx = { config: { get: (k: string) => settings[k] } };
  xapi = await XapiClient.connect({ url: sim.url, username: "root", password: "pw" });
});

afterAll(async () => {
  await closeAll();
  await xapi.close();
  await sim.close();
});

async function createWith(mod: ResourceModule, news: Record<string, unknown>) {
  const checked = await mod.check({}, news, ctx);
  expect(checked.failures).toBeUndefined();
  return { checked: checked.inputs!, ...(await mod.create(checked.inputs!, ctx)) };
}

/** A running VM with a VIF on `net`. */
async function runningVmOn(net: string, name: string): Promise<string> {
  const [tpl] = await xapi.call<string[]>("VM.get_by_name_label", "Other install media");
  const vm = await xapi.call<string>("VM.clone", tpl, name);
  await xapi.call("VM.provision", vm);
  await xapi.call("VIF.create", { device: "0", network: net, VM: vm, MAC: "", MTU: 1500, other_config: {}, qos_algorithm_type: "", qos_algorithm_params: {} });
  await xapi.call("VM.start", vm, false, false);
  return vm;
}

describe("Network delete while a running VM uses it", () => {
  it("refuses without tearing down the VLANs first", async () => {
    const { id, outs } = await createWith(network, { name: "guests", vlan: 77, nic: "eth1", identity: "p/s/guests" });
    const ref = await xapi.call<string>("network.get_by_uuid", id);
    await runningVmOn(ref, "web");
    await expect(network.delete(id, outs, ctx)).rejects.toThrow(/NETWORK_CONTAINS_VIF/);
    // The network is still in service: its VLAN PIFs are still there and plugged.
    const pifs = await xapi.call<string[]>("network.get_PIFs", ref);
    expect(pifs).toHaveLength(2);
  });
});
