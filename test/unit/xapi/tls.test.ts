/** TLS: verification on by default, SHA-256 pinning, a CA bundle, and an explicit, noisy insecure mode. */
import { XapiClient, XapiTransportError, normalizeFingerprint } from "../../../provider/xapi";
import { makeCertificate, recordingLogger, standard, startFake, type FakeServer, type TlsMaterial } from "./fake-xapi";

const creds = { username: "root", password: "secret" };

describe("TLS", () => {
  let tls: TlsMaterial;
  let server: FakeServer;
  beforeAll(async () => {
    tls = makeCertificate();
    server = await startFake(
      standard(() => ({ result: [] })),
      tls,
    );
  });
  afterAll(() => server.close());

  it("refuses a self-signed certificate by default, and names its fingerprint so it can be pinned", async () => {
    const err = (await XapiClient.connect({ url: server.url, ...creds }).catch((e) => e)) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_TLS_UNTRUSTED");
    expect(err.fingerprint).toBe(tls.fingerprint);
    expect(err.message).toContain(tls.fingerprint);
  });

  it("accepts the certificate whose SHA-256 fingerprint is pinned (any case, colons optional)", async () => {
    const pin = tls.fingerprint.replace(/:/g, "").toLowerCase();
    const c = await XapiClient.connect({ url: server.url, ...creds, tls: { fingerprint: pin } });
    await expect(c.call("VM.get_all")).resolves.toEqual([]);
    await c.close();
  });

  it("refuses a certificate that does not match the pin, showing the fingerprint seen", async () => {
    const wrong = "AA:".repeat(31) + "AA";
    const err = (await XapiClient.connect({ url: server.url, ...creds, tls: { fingerprint: wrong } }).catch(
      (e) => e,
    )) as XapiTransportError;
    expect(err.code).toBe("XAPI_TLS_FINGERPRINT_MISMATCH");
    expect(err.message).toContain(tls.fingerprint);
    expect(err.message).toContain(wrong);
  });

  it("trusts a certificate signed by the given CA bundle", async () => {
    const c = await XapiClient.connect({ url: server.url, ...creds, tls: { ca: tls.cert } });
    await expect(c.call("VM.get_all")).resolves.toEqual([]);
    await c.close();
  });

  it("connects with insecure: true and warns every time it is used", async () => {
    const log = recordingLogger();
    const c = await XapiClient.connect({ url: server.url, ...creds, tls: { insecure: true }, logger: log });
    await c.close();
    const c2 = await XapiClient.connect({ url: server.url, ...creds, tls: { insecure: true }, logger: log });
    await c2.close();
    expect(
      log.lines.filter((l) => l.startsWith("warn") && /verification is (disabled|OFF)/.test(l)).length,
    ).toBeGreaterThanOrEqual(2);
  });

  /** A pinned master and a member with its own certificate; the master reports both hosts. */
  async function pinnedPool(): Promise<{ master: FakeServer; member: FakeServer; memberTls: TlsMaterial }> {
    const memberTls = makeCertificate();
    const member = await startFake(
      standard(() => ({ result: ["from-member"] })),
      memberTls,
    );
    let hosts: Record<string, { address: string }> = {};
    const master = await startFake((req) => {
      switch (req.method) {
        case "session.login_with_password":
          return { result: "OpaqueRef:5e55104e-0000-4000-8000-00000000beef" };
        case "host.get_all_records":
          return { result: hosts };
        case "host.get_server_certificate":
          return { result: req.params[1] === "OpaqueRef:h2" ? memberTls.cert : tls.cert };
        default:
          return { result: ["from-master"] };
      }
    }, tls);
    hosts = {
      "OpaqueRef:h1": { address: `127.0.0.1:${master.port}` },
      "OpaqueRef:h2": { address: `127.0.0.1:${member.port}` },
    };
    return { master, member, memberTls };
  }

  it("trusts the other members' certificates as reported by the pinned master, so failover still works", async () => {
    const { master, member } = await pinnedPool();
    const c = await XapiClient.connect({
      url: master.url,
      ...creds,
      tls: { fingerprint: tls.fingerprint },
      failoverTimeoutMs: 2000,
    });
    try {
      await expect(c.call("VM.get_all")).resolves.toEqual(["from-master"]);
      await master.close();
      await expect(c.call("VM.get_all")).resolves.toEqual(["from-member"]);
      expect(c.masterUrl).toBe(member.url);
    } finally {
      await c.close();
      await member.close();
    }
  });

  it("without learnPoolCertificates, only the pinned certificates are trusted: failover cannot reach the member", async () => {
    const { master, member } = await pinnedPool();
    const c = await XapiClient.connect({
      url: master.url,
      ...creds,
      tls: { fingerprint: tls.fingerprint, learnPoolCertificates: false },
      failoverTimeoutMs: 500,
    });
    try {
      await master.close();
      const err = (await c.call("VM.get_all").catch((e) => e)) as XapiTransportError;
      expect(err.code).toBe("XAPI_NO_MASTER");
    } finally {
      await c.close();
      await member.close();
    }
  });

  it("accepts any of several pinned fingerprints", async () => {
    const { master, member, memberTls } = await pinnedPool();
    const c = await XapiClient.connect({
      url: member.url,
      ...creds,
      tls: { fingerprint: ["00".repeat(32), memberTls.fingerprint] },
    });
    try {
      await expect(c.call("VM.get_all")).resolves.toEqual(["from-member"]);
    } finally {
      await c.close();
      await member.close();
      await master.close();
    }
  });

  it("rejects a fingerprint that is not 32 hex bytes", () => {
    expect(() => normalizeFingerprint("abc")).toThrow(/64 hex digits/);
    expect(normalizeFingerprint("sha256:" + "ab".repeat(32))).toBe(Array(32).fill("AB").join(":"));
  });
});
