// The stack's URL pointed at another pool by mistake: a refresh through the real engine fails with both pools
// named instead of dropping every resource from the state (the next up would make them again in the wrong pool).
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

const program = `
const xen = require("pulumi-xenserver");
module.exports = () => {
  const net = new xen.Network("net", { name: "backend" });
  const pool = new xen.Pool("pool", { otherConfig: { owner: "e2e" } });
  return { net: net.uuid, pool: pool.uuid };
};
`;

describe("a connection that now reaches another pool", () => {
  let prod: Simulator;
  let staging: Simulator;
  const stack = new E2EStack("other-pool");
  beforeAll(async () => {
    prod = await startSimulator({ port: 0, username: "root", password: "Same-Pw-9" });
    staging = await startSimulator({ port: 0, username: "root", password: "Same-Pw-9" });
    const x = await XapiClient.connect({ url: staging.url, username: "root", password: "Same-Pw-9" });
    const [ref] = await x.call<string[]>("pool.get_all");
    await x.call("pool.set_name_label", ref, "staging");
    await x.close();
  });
  afterAll(async () => {
    await prod.close();
    await staging.close();
    stack.dispose();
  });
  const config = (url: string) => ({
    "xenserver:url": { value: url },
    "xenserver:username": { value: "root" },
    "xenserver:password": { value: "Same-Pw-9", secret: true },
  });

  it("refresh fails naming both pools and keeps the state; back on the right pool all is the same", async () => {
    const [up] = await stack.run(["up"], { programSource: program, config: config(prod.url) });
    expect(up.changes).toEqual({ create: 3 });
    // A plain refresh uses the provider configuration recorded in the state (the right pool): nothing happens.
    // One that runs the program sees the new URL: it must fail, not drop the network and the pool from the state.
    const [plain, wrong] = await stack.run(["refresh-expect-failure", "refresh-program-expect-failure"], {
      programSource: program,
      config: config(staging.url),
    });
    expect(plain.failed).toBe(false);
    expect(wrong.failed).toBe(true);
    expect(wrong.message).toMatch(/was made in pool .* now reaches pool "staging"/);
    expect(wrong.message).toMatch(/pulumi state delete/);
    // Back on the right URL (a refresh that runs the program records it again): all the same, nothing lost.
    const [refresh, preview] = await stack.run(["refresh-program", "preview"], {
      programSource: program,
      config: config(prod.url),
    });
    expect(refresh.changes).toEqual({ same: 3 });
    expect(preview.changes).toEqual({ same: 3 });
    const [destroy] = await stack.run(["destroy"], { programSource: program, config: config(prod.url) });
    expect(destroy.changes).toEqual({ delete: 3 });
  });
});
