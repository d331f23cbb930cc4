// Two pools in one program: named connection profiles under xenserver:pools, chosen
// per resource with `connection`, each pool's credentials kept out of the state.
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

const program = `
const xen = require("pulumi-xenserver");
module.exports = () => {
  const east = new xen.Network("east-net", { name: "replication", connection: "east" });
  const west = new xen.Network("west-net", { name: "replication", connection: "west", mtu: 9000 });
  return { east: east.uuid, west: west.uuid };
};
`;

describe("several pools in one program", () => {
  let east: Simulator;
  let west: Simulator;
  const stack = new E2EStack("multi-pool");
  beforeAll(async () => {
    east = await startSimulator({ port: 0, username: "root", password: "East-Pw-1" });
    west = await startSimulator({ port: 0, username: "admin", password: "West-Pw-2" });
  });
  afterAll(async () => {
    await east.close();
    await west.close();
    stack.dispose();
  });

  it("creates each network on its own pool and keeps both passwords out of the state", async () => {
    const pools = {
      east: { url: east.url, username: "root", password: "East-Pw-1" },
      west: { url: west.url, username: "admin", password: "West-Pw-2" },
    };
    const config = { "xenserver:pools": { value: JSON.stringify(pools), secret: true } };
    const [up, preview] = await stack.run(["up", "preview"], { programSource: program, config });
    expect(up.changes).toEqual({ create: 3 });
    expect(Object.keys(preview.changes)).toEqual(["same"]);
    const eastXapi = await XapiClient.connect({ url: east.url, username: "root", password: "East-Pw-1" });
    const westXapi = await XapiClient.connect({ url: west.url, username: "admin", password: "West-Pw-2" });
    try {
      const eastRef = await eastXapi.call<string>("network.get_by_uuid", up.outputs!.east.value as string);
      expect(await eastXapi.call("network.get_MTU", eastRef)).toBe(1500);
      const westRef = await westXapi.call<string>("network.get_by_uuid", up.outputs!.west.value as string);
      expect(await westXapi.call("network.get_MTU", westRef)).toBe(9000);
      // Each network exists only on its own pool.
      await expect(eastXapi.call("network.get_by_uuid", up.outputs!.west.value as string)).rejects.toMatchObject({
        code: "UUID_INVALID",
      });
    } finally {
      await eastXapi.close();
      await westXapi.close();
    }
    const state = stack.stateText();
    expect(state).not.toContain("East-Pw-1");
    expect(state).not.toContain("West-Pw-2");
    const [destroy] = await stack.run(["destroy"], { programSource: program, config });
    expect(destroy.changes).toEqual({ delete: 3 });
  });
});
