// Attribution from xapi's audit log lines (rbac_audit.ml audit_line_of, sExpr.ml string_of): parsing, the
// choice of the latest successful write naming the object, and "unknown" where the log cannot be read.
import { AuditTail, attribute, parseAuditLine } from "../../../provider/drift/audit";
import type { Finding } from "../../../provider/drift/compare";
import type { XapiClient } from "../../../provider/xapi";

const uuid = "5d0c2a7e-0f3b-4d7e-9a55-0a1b2c3d4e5f";
const line = (t: string, user: string, result: string, call: string) =>
  `Dec  7 04:01:02 host xapi: [${t}Z| info|host|42 dispatch:${call}||audit] ('trackid=abc' ` +
  `'LOCAL_SUPERUSER' '${user}' 'ALLOWED' '${result}' 'API' '${call}' (('self' 'it\\'s mine' '${uuid}' ` +
  `'OpaqueRef:1')))`;

const finding: Finding = {
  kind: "modified",
  pool: "default",
  name: "backend",
  type: "Network",
  uuid,
  changes: [],
  firstSeen: "2026-12-07T04:01:03.000Z",
};

const client = (text: string | Error, status = 200) =>
  ({
    getText: async () => {
      if (text instanceof Error) throw text;
      return { status, text };
    },
  }) as unknown as XapiClient;

describe("audit log attribution", () => {
  it("parses a line, with a syslog prefix and escaped quotes", () => {
    expect(parseAuditLine(line("20261207T04:01:02.123", "root", "OK", "network.set_MTU"))).toEqual({
      at: "2026-12-07T04:01:02.123Z",
      subject: "LOCAL_SUPERUSER",
      name: "root",
      allowed: true,
      ok: true,
      call: "network.set_MTU",
      objects: ["self", "it's mine", uuid, "OpaqueRef:1"],
    });
    expect(parseAuditLine("[20261207T04:01:02.123Z| info|host|42 xapi||debug] not an audit line")).toBeUndefined();
  });

  it("names the latest successful write of the object before it was seen", async () => {
    const log = [
      line("20261207T04:00:00.000", "alice", "OK", "network.set_MTU"),
      line("20261207T04:01:00.000", "bob", "OK", "network.set_MTU"),
      line("20261207T04:01:01.000", "carol", "ERROR:MTU_INVALID", "network.set_MTU"),
      line("20261207T04:09:00.000", "dave", "OK", "network.set_MTU"),
    ].join("\n");
    expect(await attribute(client(log), finding, new Date("2026-12-07T04:01:03.000Z"))).toEqual({
      user: "bob",
      call: "network.set_MTU",
      at: "2026-12-07T04:01:00.000Z",
    });
  });

  it("says unknown when the log cannot be read, is refused, or names no one", async () => {
    const seen = new Date("2026-12-07T04:01:03.000Z");
    expect(await attribute(client(new Error("connect ECONNREFUSED")), finding, seen)).toBe("unknown");
    expect(await attribute(client("", 403), finding, seen)).toBe("unknown");
    expect(
      await attribute(
        client(line("20261207T04:00:00.000", "root", "OK", "VM.start").replace(uuid, "x")),
        finding,
        seen,
      ),
    ).toBe("unknown");
  });
});

describe("AuditTail: the log read as it grows", () => {
  const at = (s: string) => new Date(`2026-12-07T${s}Z`);
  const stamp = (s: string) => `20261207T${s}`;

  it("asks only for what is new (with a 2 s overlap) and forgets writes past the lookback", async () => {
    const log: string[] = [];
    const asked: string[] = [];
    const client = {
      getText: async (_p: string, q: { since: string }) => {
        asked.push(q.since);
        // xapi sends every line stamped at or after `since` (audit_log.ml write_line).
        const since = q.since.replace(/-/g, "").replace(/Z$/, "");
        return { status: 200, text: log.filter((l) => /\[(\S+?)Z\|/.exec(l)![1] >= since).join("\n") };
      },
    } as unknown as XapiClient;
    const tail = new AuditTail(client, 60_000);

    log.push(line(stamp("04:00:30.000"), "alice", "OK", "network.set_MTU"));
    expect(await tail.read(at("04:01:00.000"))).toBe(true);
    expect(asked.at(-1)).toBe("2026-12-07T04:00:00.000Z"); // the first read: the whole lookback
    expect(tail.actor(finding, at("04:01:00.000"))).toMatchObject({ user: "alice" });

    log.push(line(stamp("04:01:10.000"), "bob", "OK", "network.set_name_label"));
    expect(await tail.read(at("04:01:11.000"))).toBe(true);
    expect(asked.at(-1)).toBe("2026-12-07T04:00:28.000Z"); // 2 s before the newest line read
    expect(tail.actor(finding, at("04:01:11.000"))).toMatchObject({ user: "bob", call: "network.set_name_label" });

    // A line stamped before the newest one but written after it (another xapi thread) is still seen.
    log.push(line(stamp("04:01:09.500"), "carol", "OK", "network.set_MTU"));
    await tail.read(at("04:01:12.000"));
    await tail.read(at("04:01:12.500"));
    expect(tail.actor(finding, at("04:01:12.500"))).toMatchObject({ user: "bob" });
    expect(tail.actor(finding, at("04:01:08.900"))).toMatchObject({ user: "carol" }); // bob is after 1 s of skew

    // Past the lookback, a write no longer names anyone.
    await tail.read(at("04:02:15.000"));
    expect(tail.actor(finding, at("04:02:15.000"))).toBe("unknown");
  });

  it("says the log cannot be read when the request fails", async () => {
    const failing = { getText: async () => ({ status: 403, text: "" }) } as unknown as XapiClient;
    expect(await new AuditTail(failing).read(new Date())).toBe(false);
  });
});
