// Issue 9 item 3: connection errors show at preview. check() connects once per profile before anything else; the
// failure names the URL and the stack config key to fix, and carries no trace into this package's files.
import { startSimulator, type Simulator } from "../../../simulator";
import { configure, dispatch } from "../../../provider/host";
import { closeAll, setConnector, xapiFor } from "../../../provider/resources/common/connection";
import type { CheckResult } from "../../../provider/resources/contract";

let sim: Simulator;
let tlsSim: Simulator;
const calls = () => Object.values(sim.calls.counts()).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, username: "root", password: "right-pw", loginFailureDelayMs: 0 });
  tlsSim = await startSimulator({ port: 0, username: "root", password: "right-pw", tls: true });
});
afterAll(async () => {
  await closeAll();
  await sim.close();
  await tlsSim.close();
});
beforeEach(() => setConnector(undefined)); // forgets sessions and verdicts between cases

async function checkWith(settings: Record<string, string>, news: Record<string, unknown> = { name: "private" }) {
  configure({ get: (k) => settings[k] });
  return (await dispatch("Network", "check", {}, news)) as CheckResult;
}

describe("connection errors at preview", () => {
  it("a wrong password fails check, naming the URL and the username/password keys", async () => {
    const r = await checkWith({
      "xenserver:url": sim.url,
      "xenserver:username": "root",
      "xenserver:password": "wrong",
    });
    expect(r.failures).toHaveLength(1);
    expect(r.failures![0].reason).toMatch(
      new RegExp(
        `^connection: cannot connect to ${sim.url} \\(connection "default"\\): .*authentication failed.*; ` +
          `check xenserver:username \\(or XENSERVER_USERNAME\\) and xenserver:password`,
      ),
    );
    expect(r.failures![0].reason).not.toContain("wrong");
  });

  it("a private network (no call of its own) still connects at check", async () => {
    const r = await checkWith({
      "xenserver:url": sim.url,
      "xenserver:username": "root",
      "xenserver:password": "right-pw",
    });
    expect(r.failures).toBeUndefined();
    expect(sim.calls.counts()["session.login_with_password"]).toBeGreaterThan(0);
  });

  it("connects once per profile, however many resources are checked", async () => {
    const settings = { "xenserver:url": sim.url, "xenserver:username": "root", "xenserver:password": "wrong" };
    sim.calls.clear();
    for (let i = 0; i < 5; i++) expect((await checkWith(settings)).failures).toHaveLength(1);
    expect(sim.calls.counts()["session.login_with_password"]).toBe(1);
    expect(calls()).toBe(1);
  });

  it("a malformed tlsFingerprint fails check, naming the config key", async () => {
    const r = await checkWith({
      "xenserver:url": tlsSim.url,
      "xenserver:username": "root",
      "xenserver:password": "right-pw",
      "xenserver:tlsFingerprint": "not-a-pin",
    });
    expect(r.failures![0].reason).toMatch(
      /^connection: cannot connect to https:.*xenserver:tlsFingerprint must be a SHA-256 fingerprint.*; check xenserver:tlsFingerprint/,
    );
  });

  it("a wrong pin fails check with the fingerprint seen and the key", async () => {
    const r = await checkWith({
      "xenserver:url": tlsSim.url,
      "xenserver:username": "root",
      "xenserver:password": "right-pw",
      "xenserver:tlsFingerprint": "AB".repeat(32),
    });
    expect(r.failures![0].reason).toMatch(
      /has SHA-256 fingerprint .*, not the pinned .*; check xenserver:tlsFingerprint$/,
    );
  });

  it("an unpinned self-signed certificate names tlsFingerprint and caCert", async () => {
    const r = await checkWith({ "xenserver:url": tlsSim.url, "xenserver:username": "root", "xenserver:password": "x" });
    expect(r.failures![0].reason).toMatch(/not trusted.*; set xenserver:tlsFingerprint or xenserver:caCert$/);
  });

  it("an unreachable URL in a named profile names that profile's url key", async () => {
    const closed = await startSimulator({ port: 0, username: "root", password: "pw" });
    const url = closed.url;
    await closed.close();
    const pools = JSON.stringify({ lab: { url, username: "root", password: "pw" } });
    const r = await checkWith({ "xenserver:pools": pools }, { name: "n", connection: "lab" });
    expect(r.failures![0].reason).toMatch(
      new RegExp(
        `^connection: cannot connect to ${url} \\(connection "lab"\\): .*; check xenserver:pools\\.lab\\.url$`,
      ),
    );
  });

  it("outside check, the error a resource method throws carries no trace into the package's files", async () => {
    const settings: Record<string, string> = {
      "xenserver:url": sim.url,
      "xenserver:username": "root",
      "xenserver:password": "wrong",
    };
    const err = (await xapiFor({ get: (k) => settings[k] }, undefined).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^cannot connect to .*; check xenserver:username/);
    expect(err.stack).not.toMatch(/\.ts:\d+|\.js:\d+/);
  });
});
