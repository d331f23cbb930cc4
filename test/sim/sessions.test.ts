import { startSimulator, Simulator } from "../../simulator";
import { Client, expectError, jsonCall } from "./helpers/rpc";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    password: "pw",
    hosts: 2,
    loginFailureDelayMs: 150,
    sessionIdleTimeoutMs: 400,
    maxSessionsPerOriginator: 3,
  });
});
afterAll(() => sim.close());

describe("sessions", () => {
  it("logs in with two parameters or with version and originator", async () => {
    expect(await jsonCall(sim.url, "session.login_with_password", ["root", "pw"])).toMatch(/^OpaqueRef:[0-9a-f-]{36}$/);
    expect(await jsonCall(sim.url, "session.login_with_password", ["root", "pw", "2.21", "tests"])).toMatch(
      /^OpaqueRef:/,
    );
  });

  it("fails wrong credentials with SESSION_AUTHENTICATION_FAILED [user, message] after the configured delay", async () => {
    const t0 = Date.now();
    await expectError(
      jsonCall(sim.url, "session.login_with_password", ["root", "wrong"]),
      "SESSION_AUTHENTICATION_FAILED",
      ["root", "Authentication failure"],
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("invalidates a logged-out session: SESSION_INVALID [ref]", async () => {
    const c = await new Client(sim.url).login();
    await c.call("session.logout");
    await expectError(c.call("pool.get_all"), "SESSION_INVALID", [c.session]);
  });

  it("expires sessions left idle longer than the idle timeout", async () => {
    const c = await new Client(sim.url).login();
    await c.call("pool.get_all");
    await new Promise((r) => setTimeout(r, 450));
    await expectError(c.call("pool.get_all"), "SESSION_INVALID");
  });

  it("keeps at most N sessions per originator, destroying the oldest", async () => {
    const cs = [];
    for (let i = 0; i < 4; i++) cs.push(await new Client(sim.url).login("root", "pw", "capped"));
    await expectError(cs[0].call("pool.get_all"), "SESSION_INVALID");
    await expect(cs[3].call("pool.get_all")).resolves.toHaveLength(1);
    const other = await new Client(sim.url).login("root", "pw", "other-originator");
    await expect(other.call("pool.get_all")).resolves.toHaveLength(1);
  });

  it("answers HOST_IS_SLAVE [master address] on a pool member", async () => {
    await expectError(jsonCall(sim.urls[1], "session.login_with_password", ["root", "pw"]), "HOST_IS_SLAVE", [
      "127.0.0.1",
    ]);
    const c = await new Client(sim.url).login();
    await expectError(jsonCall(sim.urls[1], "pool.get_all", [c.session]), "HOST_IS_SLAVE", ["127.0.0.1"]);
  });

  it("reports the master and API version like XenAPI.py reads them", async () => {
    const c = await new Client(sim.url).login();
    const [pool] = await c.call<string[]>("pool.get_all");
    const master = await c.call<string>("pool.get_master", pool);
    expect(await c.call("host.get_API_version_major", master)).toBe(2);
    expect(await c.call("host.get_API_version_minor", master)).toBe(21);
    expect(await c.call("session.get_this_host", c.session)).toBe(master);
  });
});

// sim.sessions is the simulator's own bookkeeping (no XAPI record holds it): what a benchmark reads to show how
// many sessions a client keeps. Logins and logouts follow ocaml/xapi/xapi_session.ml login_with_password / logout.
describe("sim.sessions", () => {
  it("counts the sessions alive, the most alive at once and the logins, across restart()", async () => {
    const s = await startSimulator({ password: "pw" });
    try {
      expect(s.sessions.live()).toBe(0);
      const a = await new Client(s.url).login("root", "pw");
      const b = await new Client(s.url).login("root", "pw");
      expect(s.sessions.live()).toBe(2);
      expect(s.sessions.peak()).toBe(2);
      await a.call("session.logout");
      expect(s.sessions.live()).toBe(1);
      expect(s.sessions.peak()).toBe(2);
      s.sessions.resetPeak();
      expect(s.sessions.peak()).toBe(1);
      await b.call("session.logout");
      await new Client(s.url).login("root", "pw");
      expect(s.sessions.peak()).toBe(1);
      expect(s.sessions.logins()).toBe(3);
      await s.restart(); // xapi restarts without its sessions
      expect(s.sessions.live()).toBe(0);
      await new Client(s.url).login("root", "pw");
      expect(s.sessions.logins()).toBe(4);
      expect(s.sessions.peak()).toBe(1);
    } finally {
      await s.close();
    }
  });
});
