// An SR's deviceConfig password stays encrypted in the state after a refresh
// (read() hands the engine new inputs and outputs) and after a rotation.
import { startSimulator, type Simulator } from "../../simulator";
import { E2EStack } from "./harness";

const program = `
const xen = require("pulumi-xenserver");
module.exports = (a) => {
  const share = new xen.Sr("share", { type: "smb", name: "share", deviceConfig: { server: "//192.0.2.20/vms", username: "svc", password: a.pw } });
  return { share: share.uuid };
};
`;

describe("SR passwords in the state", () => {
  let sim: Simulator;
  const stack = new E2EStack("sr-passwords-in-state");
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "pw" });
  });
  afterAll(async () => {
    await sim.close();
    stack.dispose();
  });

  it("never holds the SMB password in plain text, refresh and rotation included", async () => {
    const config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "pw", secret: true },
    };
    const run = (ops: string[], pw: string) => stack.run(ops, { programSource: program, config, programArgs: { pw } });
    const [up, refresh, preview] = await run(["up", "refresh", "preview"], "Smb-Pw-First-1");
    expect(up.changes).toEqual({ create: 2 });
    expect(refresh.failed).toBeFalsy();
    expect(preview.changes).toEqual({ same: 2 });
    expect(stack.stateText()).not.toContain("Smb-Pw-First-1");
    const [rotate, refresh2, preview2] = await run(["up", "refresh", "preview"], "Smb-Pw-Second-2");
    expect(rotate.changes).toEqual({ same: 1, update: 1 });
    expect(refresh2.failed).toBeFalsy();
    expect(preview2.changes).toEqual({ same: 2 });
    expect(stack.stateText()).not.toContain("Smb-Pw-Second-2");
  });
});
