import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulator, Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError, jsonCall, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 2 }));
});
afterAll(() => sim.close());

describe("fault injection", () => {
  it("adds latency to every call", async () => {
    sim.faults.latency(120);
    const t0 = Date.now();
    await c.call("pool.get_all");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    sim.faults.latency(0);
  });

  it("fails the next N calls of a method with a chosen error, then recovers", async () => {
    sim.faults.failNext("pool.get_all", 2, "HOST_OFFLINE", ["OpaqueRef:x"]);
    await expectError(c.call("pool.get_all"), "HOST_OFFLINE", ["OpaqueRef:x"]);
    await expectError(c.call("pool.get_all"), "HOST_OFFLINE");
    await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
  });

  it("drops connections without an answer", async () => {
    sim.faults.dropConnections(1);
    await expect(c.call("pool.get_all")).rejects.toThrow();
    await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
  });

  it("expires every session", async () => {
    const other = await new Client(sim.url).login();
    sim.faults.expireSessions();
    await expectError(other.call("pool.get_all"), "SESSION_INVALID", [other.session]);
    c = await new Client(sim.url).login();
  });

  it("fails an Async task midway: progress moved, then failure in error_info", async () => {
    const [tpl] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
    sim.faults.failTaskMidway("VM.clone");
    const t = await c.task("VM.clone", tpl, "midway");
    expect(t.status).toBe("failure");
    expect((t.error_info as string[])[0]).toBe("INTERNAL_ERROR");
    expect((await c.task("VM.clone", tpl, "fine")).status).toBe("success");
  });

  it("counts calls per method", async () => {
    sim.calls.clear();
    await c.call("pool.get_all");
    await c.call("pool.get_all");
    await c.call("Async.VM.get_all").catch(() => undefined);
    expect(sim.calls.counts()).toMatchObject({ "pool.get_all": 2, "Async.VM.get_all": 1 });
  });

  it("fails the master over: the other host becomes master, the old one stops answering until recovered", async () => {
    const hosts = await c.call<string[]>("host.get_all");
    const oldUrl = sim.url;
    sim.faults.failover(1);
    expect(sim.url).toBe(sim.urls[1]);
    await expect(jsonCall(oldUrl, "session.login_with_password", ["root", "pw"])).rejects.toThrow();
    const k = await new Client(sim.url).login();
    const [pool] = await k.call<string[]>("pool.get_all");
    expect(await k.call("pool.get_master", pool)).toBe(hosts[1]);
    sim.faults.recoverHost(0);
    await expectError(jsonCall(sim.urls[0], "session.login_with_password", ["root", "pw"]), "HOST_IS_SLAVE", [
      "127.0.0.1",
    ]);
    await k.call("pool.designate_new_master", hosts[0]);
    c = await new Client(sim.urls[0]).login();
    expect(sim.url).toBe(sim.urls[0]);
  });
});

describe("persistence and restart", () => {
  it("restarts from memory: objects survive, sessions do not", async () => {
    const net = await c.call<string>("network.create", { name_label: "survivor", other_config: {} });
    await sim.restart();
    await expectError(c.call("pool.get_all"), "SESSION_INVALID");
    c = await new Client(sim.url).login();
    expect(await c.call("network.get_name_label", net)).toBe("survivor");
  });

  it("persists to --state atomically and comes back with the same refs in a new process", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xapi-sim-"));
    const statePath = path.join(dir, "state.json");
    const a = await startSimulator({ password: "pw", loginFailureDelayMs: 0, statePath });
    const k = await new Client(a.url).login();
    const net = await k.call<string>("network.create", { name_label: "persisted", other_config: {} });
    await k.call("network.add_to_other_config", net, "k", "v");
    const [sr] = await k.call<string[]>("SR.get_by_name_label", "Local storage");
    const vdi = await k.call<string>("VDI.create", {
      SR: sr,
      virtual_size: 2 * 1024 * 1024,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    const put = await fetch(`${a.url}/import_raw_vdi?session_id=${k.session}&vdi=${vdi}`, {
      method: "PUT",
      body: Buffer.alloc(512, 5),
    });
    await put.arrayBuffer();
    const nfs = await k.call<string>(
      "SR.create",
      await k.call<string>("pool.get_master", (await k.call<string[]>("pool.get_all"))[0]),
      { server: "nfs.lab", serverpath: "/kept" },
      0,
      "kept",
      "",
      "nfs",
      "user",
      true,
      {},
    );
    const nfsUuid = await k.call<string>("SR.get_uuid", nfs);
    for (const p of await k.call<string[]>("SR.get_PBDs", nfs)) await k.call("PBD.unplug", p);
    await k.call("SR.forget", nfs);
    await new Promise((r) => setTimeout(r, 100));
    await a.close();
    expect(fs.readdirSync(dir)).toEqual(["state.json"]);
    const b = await startSimulator({ password: "pw", loginFailureDelayMs: 0, statePath });
    try {
      const k2 = await new Client(b.url).login();
      expect(await k2.call<Rec>("network.get_record", net)).toMatchObject({
        name_label: "persisted",
        other_config: { k: "v" },
      });
      expect(await k2.call("VM.get_by_name_label", "Debian Bookworm 12")).toHaveLength(1);
      const disk = Buffer.from(
        await (await fetch(`${b.url}/export_raw_vdi?session_id=${k2.session}&vdi=${vdi}`)).arrayBuffer(),
      );
      expect(disk.subarray(0, 512).every((x) => x === 5)).toBe(true);
      const host = await k2.call<string>("pool.get_master", (await k2.call<string[]>("pool.get_all"))[0]);
      expect(await k2.call<string>("SR.probe", host, { server: "nfs.lab", serverpath: "/kept" }, "nfs", {})).toContain(
        nfsUuid,
      );
      const { token } = await k2.call<{ token: string }>("event.from", ["network"], "", 0);
      expect(token).toMatch(/^\d{20},\d{20}$/);
    } finally {
      await b.close();
      fs.rmSync(dir, { recursive: true });
    }
  });
});
