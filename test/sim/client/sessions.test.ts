/** Login, re-login, HOST_IS_SLAVE and master failover against the simulator, over both transports. */
import type { Simulator } from "../../../simulator";
import { XapiClient, XapiError, type VMRecord } from "../../../provider/xapi";
import { PASSWORD, USER, connect, recordingLogger, sim } from "./sim";

describe.each(["jsonrpc", "xmlrpc"] as const)("sessions over %s", (transport) => {
  let s: Simulator;
  const clients: XapiClient[] = [];
  beforeAll(async () => {
    s = await sim({ hosts: 3 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await s.close();
  });
  const open = async (opts: Parameters<typeof connect>[1] = {}): Promise<XapiClient> => {
    const c = await connect(s, { transport, ...opts });
    clients.push(c);
    return c;
  };

  it("logs in and reads typed records", async () => {
    const c = await open();
    expect(c.transport).toBe(transport);
    const vms = await c.call("VM.get_all_records");
    const [ref, rec] = Object.entries(vms).find(([, r]) => r.is_a_template)!;
    expect(typeof rec.memory_static_max).toBe("number");
    expect(typeof rec.is_a_template).toBe("boolean");
    const one: VMRecord = await c.call("VM.get_record", ref as never);
    expect(one.uuid).toBe(rec.uuid);
  });

  it("sets an originator of pulumi-xenserver/<version> on its session", async () => {
    const c = await open();
    const sessions = [...s.store.table("session").values()] as { originator?: string }[];
    expect(sessions.some((r) => /^pulumi-xenserver\/\d/.test(r.originator ?? ""))).toBe(true);
    expect(c.masterUrl).toBe(s.url);
  });

  it("logs in again after the session expires and retries the call", async () => {
    const c = await open();
    await c.call("pool.get_all");
    const before = s.calls.counts()["session.login_with_password"] ?? 0;
    s.faults.expireSessions();
    await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
    expect(s.calls.counts()["session.login_with_password"]).toBe(before + 1);
  });

  it("logs in once for many concurrent calls that find the session expired", async () => {
    const c = await open();
    await c.call("pool.get_all");
    const before = s.calls.counts()["session.login_with_password"] ?? 0;
    s.faults.expireSessions();
    const results = await Promise.all(Array.from({ length: 20 }, () => c.call("host.get_all")));
    expect(results.every((r) => r.length === 3)).toBe(true);
    expect(s.calls.counts()["session.login_with_password"]).toBe(before + 1);
  });

  it("rejects wrong credentials with SESSION_AUTHENTICATION_FAILED naming the user only", async () => {
    const log = recordingLogger();
    const err = (await XapiClient.connect({
      url: s.url,
      username: USER,
      password: "wrong-pw-991",
      transport,
      logger: log,
    }).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("SESSION_AUTHENTICATION_FAILED");
    expect(err.message).toContain(USER);
    expect(JSON.stringify([err.message, err.params, log.lines])).not.toContain("wrong-pw-991");
  });

  it("follows HOST_IS_SLAVE from a pool member to the master", async () => {
    const memberUrl = s.urls.find((u) => u !== s.url)!;
    const c = await open({ url: memberUrl });
    expect(c.masterUrl).toBe(s.url);
    await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
  });

  it("never puts the password or session id in errors or logs", async () => {
    const log = recordingLogger();
    const c = await open({ logger: log });
    s.faults.failNext("VM.get_all", 2, "SESSION_INVALID", ["whatever"]);
    const err = await c.call("VM.get_all").catch((e) => e);
    expect(err).toBeInstanceOf(XapiError);
    const sessionRefs = [...s.store.table("session").keys()];
    const text = JSON.stringify([err.message, err.stack, err.params, log.lines]);
    expect(text).not.toContain(PASSWORD);
    for (const ref of sessionRefs) expect(text).not.toContain(ref);
  });
});

describe("pools whose members are reached by their host.address (loopback addressing: 127.0.0.N, one port)", () => {
  it("follows HOST_IS_SLAVE and fails over using only the addresses xapi reports", async () => {
    const s = await sim({ hosts: 3, hostAddressing: "loopback" });
    const memberUrl = s.urls.find((u) => u !== s.url)!;
    const c = await XapiClient.connect({
      url: memberUrl,
      username: USER,
      password: PASSWORD,
      failoverTimeoutMs: 10_000,
    });
    try {
      expect(c.masterUrl).toBe(s.url);
      expect(c.poolMembers.sort()).toEqual([...s.urls].sort());
      s.faults.failover(2);
      await expect(c.call("VM.get_all")).resolves.toEqual(expect.any(Array));
      expect(c.masterUrl).toBe(s.urls[2]);
    } finally {
      await c.close();
      await s.close();
    }
  });
});

describe("master failover", () => {
  it("moves to the new master when the old one, still up, answers HOST_IS_SLAVE", async () => {
    const s = await sim({ hosts: 3 });
    const c = await connect(s);
    try {
      await c.call("pool.get_all");
      s.faults.failover(1, { keepOldMasterUp: true });
      await expect(c.call("VM.get_all")).resolves.toEqual(expect.any(Array));
      expect(c.masterUrl).toBe(s.urls[1]);
    } finally {
      await c.close();
      await s.close();
    }
  });

  it("finds the new master among the pool members when the old one stops answering", async () => {
    const s = await sim({ hosts: 3 });
    const log = recordingLogger();
    const c = await connect(s, { logger: log, failoverTimeoutMs: 10_000 });
    try {
      const oldMaster = c.masterUrl;
      await c.call("pool.get_all");
      s.faults.failover(2);
      await expect(c.call("VM.get_all")).resolves.toEqual(expect.any(Array));
      expect(c.masterUrl).toBe(s.urls[2]);
      expect(c.masterUrl).not.toBe(oldMaster);
      expect(log.lines.some((l) => /pool master changed/.test(l))).toBe(true);
    } finally {
      await c.close();
      await s.close();
    }
  });
});
