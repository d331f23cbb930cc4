/** Bad input and faults against the simulator: TLS pinning, dropped connections, unreachable host. */
import { XapiClient, XapiError, XapiTransportError } from "../../../provider/xapi";
import { PASSWORD, USER, connect, recordingLogger, sim } from "./sim";

describe("TLS against the simulator's self-signed certificate", () => {
  it("refuses it by default, accepts it pinned, and names the fingerprint on a mismatch", async () => {
    const s = await sim({ tls: true });
    try {
      const untrusted = (await XapiClient.connect({ url: s.url, username: USER, password: PASSWORD }).catch(
        (e) => e,
      )) as XapiTransportError;
      expect(untrusted.code).toBe("XAPI_TLS_UNTRUSTED");
      expect(untrusted.fingerprint).toBe(s.fingerprint);

      const c = await connect(s, { tls: { fingerprint: s.fingerprint } });
      await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
      await c.close();

      const wrong = (await XapiClient.connect({
        url: s.url,
        username: USER,
        password: PASSWORD,
        tls: { fingerprint: "00".repeat(32) },
      }).catch((e) => e)) as XapiTransportError;
      expect(wrong.code).toBe("XAPI_TLS_FINGERPRINT_MISMATCH");
      expect(wrong.message).toContain(s.fingerprint!);
    } finally {
      await s.close();
    }
  });
});

describe("connections closed by the server", () => {
  it("repeats a read-only call after the connection drops, but not a call that may have run", async () => {
    const s = await sim();
    const log = recordingLogger();
    const c = await connect(s, { logger: log, failoverTimeoutMs: 5000 });
    try {
      const [vm] = (await c.call("VM.get_all")) as string[];
      s.faults.dropConnections(1);
      await expect(c.call("VM.get_all")).resolves.toContain(vm);
      s.faults.dropConnections(1);
      await expect(c.call("VM.set_name_description", vm as never, "x")).rejects.toMatchObject({
        code: "XAPI_CONNECTION_CLOSED",
      });
      // The client is usable afterwards.
      await expect(c.call("VM.set_name_description", vm as never, "y")).resolves.toBe("");
    } finally {
      await c.close();
      await s.close();
    }
  });
});

describe("a host that goes away", () => {
  it("reports XAPI_UNREACHABLE at connect, and XAPI_NO_MASTER when no member answers later", async () => {
    const s = await sim();
    const url = s.url;
    const c = await connect(s, { failoverTimeoutMs: 300 });
    await s.close();
    const err = (await c.call("pool.get_all").catch((e) => e)) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_NO_MASTER");
    await c.close();
    const e2 = (await XapiClient.connect({ url, username: USER, password: PASSWORD }).catch(
      (e) => e,
    )) as XapiTransportError;
    expect(e2.code).toBe("XAPI_UNREACHABLE");
  });
});

describe("API errors keep their code, params and method", () => {
  it("returns HANDLE_INVALID with the class and the ref", async () => {
    const s = await sim();
    const c = await connect(s);
    try {
      const err = (await c.call("VM.get_record", "OpaqueRef:NULL" as never).catch((e) => e)) as XapiError;
      expect(err).toBeInstanceOf(XapiError);
      expect({ code: err.code, params: err.params, method: err.method }).toEqual({
        code: "HANDLE_INVALID",
        params: ["VM", "OpaqueRef:NULL"],
        method: "VM.get_record",
      });
    } finally {
      await c.close();
      await s.close();
    }
  });
});
