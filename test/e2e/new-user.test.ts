// Issue 9: what a new user hit, each through the real engine (preview and destroy are the engine's doing).
import { startSimulator, type Simulator } from "../../simulator";
import { XapiClient } from "../../provider/xapi";
import { E2EStack } from "./harness";

describe("what a new user hit, through the real engine", () => {
  let sim: Simulator;
  let xapi: XapiClient;
  const stacks: E2EStack[] = [];
  let config: Record<string, { value: string; secret?: boolean }>;
  const newStack = (name: string) => {
    const s = new E2EStack(name);
    stacks.push(s);
    return s;
  };
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "newuser-pw", hosts: 1 });
    xapi = await XapiClient.connect({ url: sim.url, username: "root", password: "newuser-pw" });
    config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "newuser-pw", secret: true },
    };
  });
  afterAll(async () => {
    await xapi.close();
    await sim.close();
    for (const s of stacks) s.dispose();
  });

  it("destroy of a stack whose Pool.defaultSr is its own SR leaves a working default SR, and a redeploy onto it works", async () => {
    const [poolRef] = await xapi.call<string[]>("pool.get_all");
    const originalDefault = await xapi.call<string>("pool.get_default_SR", poolRef);
    const lab = newStack("destroy-lab");
    const program = `const xen = require("pulumi-xenserver");
module.exports = () => {
  const store = new xen.Sr("store", { type: "nfs", name: "lab-store", deviceConfig: { server: "192.0.2.10", serverpath: "/exports/lab" } });
  const pool = new xen.Pool("pool", { defaultSr: store.uuid, otherConfig: { "lab:owner": "infra" } });
  return { store: store.uuid };
};`;
    await lab.run(["up"], { programSource: program, config });
    expect(await xapi.call("pool.get_default_SR", poolRef)).not.toBe(originalDefault);
    await lab.run(["destroy"], { programSource: program, config });
    expect(await xapi.call("pool.get_default_SR", poolRef)).toBe(originalDefault);
    await expect(xapi.call("SR.get_record", originalDefault)).resolves.toBeDefined();

    // What failed before: a disk on the pool's default SR, found through getPool.
    const disk = newStack("destroy-redeploy");
    const redeploy = `const xen = require("pulumi-xenserver");
module.exports = async () => {
  const pool = await xen.getPool();
  const d = new xen.Vdi("disk", { sr: pool.defaultSrUuid, name: "after-destroy", size: "1GiB" });
  return { disk: d.uuid };
};`;
    const [up] = await disk.run(["up"], { programSource: redeploy, config });
    expect(up.outputs?.disk.value).toMatch(/^[0-9a-f-]{36}$/);
    await disk.run(["destroy"], { programSource: redeploy, config });
  });

  it("preview names a nested field's value and a deviceConfig's offending value, never {<nil>} or {[secret]}", async () => {
    const s = newStack("messages");
    // The engine stops a preview at the first failing resource: one program per message.
    const programs = [
      [
        `new xen.Sr("store", { type: "nfs", name: "s", deviceConfig: { server: "192.0.2.10", serverpath: "/x", nfsversion: "5" } });`,
        /deviceConfig\.nfsversion: must be "3" or a version 4 \("4", "4\.0", "4\.1", "4\.2"\) \(given "5"\)/,
      ],
      [
        `new xen.Network("guests", { name: "g", bond: { nics: ["eth2", "eth3"], mode: "fast" } });`,
        /bond\.mode: must be one of .* \(given "fast"\)/,
      ],
    ] as const;
    for (const [body, message] of programs) {
      const programSource = `const xen = require("pulumi-xenserver");\nmodule.exports = () => { ${body} };`;
      const [preview] = await s.run(["preview-expect-failure"], { programSource, config });
      expect(preview.failed).toBe(true);
      expect(preview.message).toMatch(message);
      expect(preview.message).not.toContain("<nil>");
      expect(preview.message).not.toContain("[secret]");
    }
  });

  it("preview of a private network fails on a wrong password, naming the URL and the keys, with no stack trace", async () => {
    const s = newStack("bad-password");
    const programSource = `const xen = require("pulumi-xenserver");
module.exports = () => { new xen.Network("private", { name: "private" }); };`;
    const wrong = { ...config, "xenserver:password": { value: "not-the-password", secret: true } };
    const [preview] = await s.run(["preview-expect-failure"], { programSource, config: wrong });
    expect(preview.failed).toBe(true);
    expect(preview.message).toContain(`cannot connect to ${sim.url} (connection "default")`);
    expect(preview.message).toMatch(/check xenserver:username .* and xenserver:password/);
    expect(preview.message).not.toMatch(/connection\.[jt]s:\d+|\n\s+at /);
    expect(preview.message).not.toContain("not-the-password");
  });

  it("preview fails on a malformed xenserver:tlsFingerprint, naming the key", async () => {
    const s = newStack("bad-pin");
    const programSource = `const xen = require("pulumi-xenserver");
module.exports = () => { new xen.Network("private", { name: "private" }); };`;
    const pinned = { ...config, "xenserver:tlsFingerprint": { value: "12:34" } };
    const [preview] = await s.run(["preview-expect-failure"], { programSource, config: pinned });
    expect(preview.failed).toBe(true);
    expect(preview.message).toMatch(/xenserver:tlsFingerprint must be a SHA-256 fingerprint/);
  });

  it("preview of a VLAN whose tag is already on the NIC fails naming vlan, the NIC and the network holding it", async () => {
    const net = await xapi.call<string>("network.create", {
      name_label: "made-by-hand",
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: [],
    });
    await xapi.call("pool.create_VLAN", "eth1", net, 77);
    const uuid = await xapi.call<string>("network.get_uuid", net);
    const s = newStack("vlan-conflict");
    const programSource = `const xen = require("pulumi-xenserver");
module.exports = () => { new xen.Network("storage", { name: "storage", vlan: 77, nic: "eth1" }); };`;
    const [preview] = await s.run(["preview-expect-failure"], { programSource, config });
    expect(preview.failed).toBe(true);
    expect(preview.message).toContain(
      `vlan: tag 77 is already in use on eth1 of host sim-host-1, by network "made-by-hand" (${uuid}) (PIF_VLAN_EXISTS)`,
    );
  });

  it("an adopted network kept with retainOnDelete keeps its identity keys after destroy, as documented", async () => {
    const ref = await xapi.call<string>("network.create", {
      name_label: "kept",
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: [],
    });
    const uuid = await xapi.call<string>("network.get_uuid", ref);
    const s = newStack("retained");
    const programSource = `const xen = require("pulumi-xenserver");
module.exports = (a) => { new xen.Network("kept", { adopt: a.uuid, name: "kept" }, { retainOnDelete: true }); };`;
    await s.run(["up", "destroy"], { programSource, config, programArgs: { uuid } });
    // The engine never called delete: the keys docs/resource-options.md says stay, stay.
    expect(await xapi.call<Record<string, string>>("network.get_other_config", ref)).toEqual({
      "pulumi-xenserver:stack": "xenserver-e2e/retained",
      "pulumi-xenserver:resource": "kept",
    });
  });
});
