/**
 * Dropped connections versus master failover: one dropped connection to a master that still answers is not
 * a master change (no new login, no new session on the server), and a failover that logs in again does not
 * leave the old session open on the server.
 */
import type { Simulator } from "../../../simulator";
import type { XapiClient } from "../../../provider/xapi";
import { connect, recordingLogger, sim } from "./sim";

const logins = (s: Simulator): number => s.calls.counts()["session.login_with_password"] ?? 0;
const liveSessions = (s: Simulator): number => s.store.table("session").size;
const sessionRefs = (s: Simulator): string[] => [...s.store.table("session").keys()];
const clientSessions = (s: Simulator): number =>
  [...s.store.table("session").values()].filter((r) =>
    /^pulumi-xenserver\//.test((r as { originator?: string }).originator ?? ""),
  ).length;

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(["jsonrpc", "xmlrpc"] as const)("dropped connections and failover over %s", (transport) => {
  let s: Simulator;
  let c: XapiClient | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
    await s.close();
  });

  it("a dropped connection to a master that still answers is not a master change: no new login, no new session", async () => {
    s = await sim({ hosts: 3 });
    const log = recordingLogger();
    c = await connect(s, { transport, logger: log, failoverTimeoutMs: 5000 });
    const [vm] = (await c.call("VM.get_all")) as string[];
    const master = c.masterUrl;
    const loginsBefore = logins(s);
    const sessionsBefore = liveSessions(s);
    expect(sessionsBefore).toBe(1);

    // The master is checked over a new connection, and a read-only call repeated.
    s.faults.dropConnections(1);
    await expect(c.call("VM.get_all")).resolves.toContain(vm);
    await expect(c.call("VM.set_name_description", vm as never, "after a drop")).resolves.toBe("");

    // A call that may have run is not repeated, but the master is only checked, not replaced.
    s.faults.dropConnections(1);
    await expect(c.call("VM.set_name_description", vm as never, "x")).rejects.toMatchObject({
      code: "XAPI_CONNECTION_CLOSED",
    });
    await expect(c.call("VM.set_name_description", vm as never, "y")).resolves.toBe("");
    await expect(c.call("VM.get_name_description", vm as never)).resolves.toBe("y");

    expect(logins(s)).toBe(loginsBefore);
    expect(liveSessions(s)).toBe(sessionsBefore);
    expect(c.masterUrl).toBe(master);
    expect(log.lines.filter((l) => /master changed|not answering|looking for the pool master/.test(l))).toEqual([]);
  });

  it("a master that drops the call and the check is searched for; found again, it gets a new session and the old one is logged out", async () => {
    s = await sim({ hosts: 3 });
    const log = recordingLogger();
    c = await connect(s, { transport, logger: log, failoverTimeoutMs: 5000 });
    const [vm] = (await c.call("VM.get_all")) as string[];
    const master = c.masterUrl;
    const loginsBefore = logins(s);
    expect(liveSessions(s)).toBe(1);

    // Read-only: the call and the check of the master are both dropped. (Login attempts on members answer HOST_IS_SLAVE
    // and are counted too, hence "more", not "one more".)
    const [first] = sessionRefs(s);
    s.faults.dropConnections(2);
    await expect(c.call("VM.get_all")).resolves.toContain(vm);
    expect(logins(s)).toBeGreaterThan(loginsBefore);
    await waitFor(() => liveSessions(s) === 1);
    const [second] = sessionRefs(s);
    expect(second).not.toBe(first);

    // A write: the call and the check of the master are both dropped.
    s.faults.dropConnections(2);
    await expect(c.call("VM.set_name_description", vm as never, "x")).rejects.toMatchObject({
      code: "XAPI_CONNECTION_CLOSED",
    });
    await waitFor(() => liveSessions(s) === 1);
    expect(sessionRefs(s)).not.toContain(second);
    await expect(c.call("VM.set_name_description", vm as never, "y")).resolves.toBe("");

    expect(c.masterUrl).toBe(master);
    expect(log.lines.some((l) => /not answering/.test(l))).toBe(true);
    expect(log.lines.some((l) => /master changed/.test(l))).toBe(false);
  });

  it("a real master change still fails over and leaves one live session of the client on the server", async () => {
    s = await sim({ hosts: 3 });
    const log = recordingLogger();
    c = await connect(s, { transport, logger: log, failoverTimeoutMs: 10_000 });
    await c.call("pool.get_all");
    const oldMaster = c.masterUrl;
    const loginsBefore = logins(s);
    s.faults.failover(2);
    // Eight calls in flight see the master go: one search, announced once.
    const all = await Promise.all(Array.from({ length: 8 }, () => c!.call("VM.get_all")));
    for (const r of all) expect(r).toEqual(expect.any(Array));
    expect(log.lines.filter((l) => /is not answering .* looking for the pool master/.test(l))).toHaveLength(1);
    expect(c.masterUrl).toBe(s.urls[2]);
    expect(c.masterUrl).not.toBe(oldMaster);
    expect(log.lines.some((l) => /pool master changed: now/.test(l))).toBe(true);
    expect(logins(s)).toBeGreaterThan(loginsBefore);
    // Let any background logout settle, then count.
    await new Promise((r) => setTimeout(r, 50));
    expect(clientSessions(s)).toBe(1);
    await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
    expect(clientSessions(s)).toBe(1);
  });
});
