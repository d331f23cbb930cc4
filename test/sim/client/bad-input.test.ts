/**
 * Every bad-input case of the client issue, against the simulator over both transports: non-XAPI answers
 * (HTML, garbage, HTTP 500, truncated, connection closed mid-response), an unreachable host, a malformed URL and
 * wrong credentials each give a distinct error code and a clear message, and the client works again afterwards.
 */
import type { Simulator } from "../../../simulator";
import { XapiClient, XapiError, XapiTransportError } from "../../../provider/xapi";
import { PASSWORD, USER, connect, recordingLogger, sim } from "./sim";
import { failure } from "../../helpers/client-errors";
import { closedPort } from "../../helpers/ports";

describe.each(["jsonrpc", "xmlrpc"] as const)("bad input over %s", (transport) => {
  let s: Simulator;
  let c: XapiClient;
  let log: ReturnType<typeof recordingLogger>;
  let vm: string;
  beforeAll(async () => {
    s = await sim();
    log = recordingLogger();
    c = await connect(s, { transport, logger: log, failoverTimeoutMs: 3000 });
    expect(c.transport).toBe(transport);
    [vm] = (await c.call("VM.get_all")) as string[];
  });
  afterAll(async () => {
    await c?.close();
    await s?.close();
  });
  beforeEach(() => {
    log.lines.length = 0;
    s.calls.clear();
  });
  afterEach(async () => {
    // Every fault was consumed, nothing logged the password, and the same client works again.
    expect(log.lines.join("\n")).not.toContain(PASSWORD);
    expect(s.faults.pending()).toEqual({ dropConnections: 0, answers: [] });
    await expect(c.call("pool.get_all")).resolves.toHaveLength(1);
  });

  const wire = () => (transport === "jsonrpc" ? "jsonrpc" : "xmlrpc");

  it("an HTML page (200 text/html) is XAPI_NOT_XAPI, naming the method and the host", async () => {
    s.faults.respondWith("html");
    const err = (await failure(c.call("pool.get_all"))) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_NOT_XAPI");
    expect(err.method).toBe("pool.get_all");
    expect(err.host).toBe(new URL(s.url).host);
    expect(err.message).toMatch(/^pool\.get_all on 127\.0\.0\.1:\d+: .*HTML page, not XAPI/);
    expect(s.calls.transports()[wire()]).toBe(0);
  });

  it("a garbage body (200, neither XML nor JSON) is XAPI_NOT_XAPI", async () => {
    s.faults.respondWith("garbage");
    const err = (await failure(c.call("pool.get_all"))) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_NOT_XAPI");
    expect(err.message).toMatch(
      new RegExp(
        `^pool\\.get_all on 127\\.0\\.0\\.1:\\d+: the response is not ${transport === "jsonrpc" ? "JSON" : "XML"}-RPC$`,
      ),
    );
  });

  it("an HTTP 500 is XAPI_HTTP_STATUS with the status, without the page", async () => {
    s.faults.respondWith(500);
    const err = (await failure(c.call("pool.get_all"))) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_HTTP_STATUS");
    expect(err.status).toBe(500);
    expect(err.message).toMatch(/^pool\.get_all on 127\.0\.0\.1:\d+: HTTP 500$/);
    expect(err.message).not.toMatch(/injected fault/);
  });

  it("a truncated answer (consistent Content-Length) is XAPI_MALFORMED_RESPONSE, not repeated", async () => {
    s.faults.respondWith("truncated");
    const err = (await failure(c.call("VM.get_record", vm as never))) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_MALFORMED_RESPONSE");
    expect(err.message).toMatch(/^VM\.get_record on 127\.0\.0\.1:\d+: the (JSON|XML)-RPC response is truncated/);
    expect(s.calls.counts()["VM.get_record"]).toBe(1);
  });

  it("a connection closed mid-response under a read-only call: the client repeats the call, which succeeds", async () => {
    s.faults.closeMidResponse();
    await expect(c.call("VM.get_name_label", vm as never)).resolves.toEqual(expect.any(String));
    // The call ran twice on the server: the broken answer and the client's repeat on a new connection.
    expect(s.calls.counts()["VM.get_name_label"]).toBe(2);
  });

  it("a connection closed mid-response under a call that changes state is XAPI_CONNECTION_CLOSED, not repeated", async () => {
    const description = `set-under-fault-${transport}`;
    s.faults.closeMidResponse();
    const err = (await failure(c.call("VM.set_name_description", vm as never, description))) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_CONNECTION_CLOSED");
    expect(err.message).toMatch(
      /^VM\.set_name_description on 127\.0\.0\.1:\d+: the server closed the connection before the response was complete$/,
    );
    // The call ran once (the server had done it before the connection broke); the client did not repeat it.
    expect(s.calls.counts()["VM.set_name_description"]).toBe(1);
    await expect(c.call("VM.get_name_description", vm as never)).resolves.toBe(description);
  });

  it("a fault at login fails connect() with the same code", async () => {
    s.faults.respondWith("html");
    const err = await failure(XapiClient.connect({ url: s.url, username: USER, password: PASSWORD, transport }));
    expect(err.code).toBe("XAPI_NOT_XAPI");
    expect(err.message).not.toContain(PASSWORD);
  });

  it("wrong credentials are SESSION_AUTHENTICATION_FAILED naming the user, never the password", async () => {
    const wrong = `wrong-pw-${transport}-5521`;
    const attemptLog = recordingLogger();
    const err = (await failure(
      XapiClient.connect({ url: s.url, username: USER, password: wrong, transport, logger: attemptLog }),
    )) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("SESSION_AUTHENTICATION_FAILED");
    expect(err.method).toBe("session.login_with_password");
    expect(err.message).toContain(`authentication failed for user "${USER}"`);
    const everything = JSON.stringify([err.message, err.stack, err.params, attemptLog.lines]);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
  });

  it("an unreachable host (a closed port) is XAPI_UNREACHABLE", async () => {
    const port = await closedPort();
    const err = (await failure(
      XapiClient.connect({ url: `http://127.0.0.1:${port}`, username: USER, password: PASSWORD, transport }),
    )) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_UNREACHABLE");
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it.each(["http://not a host", "ftp://127.0.0.1", "http://", "http://root:pw-in-url@127.0.0.1"])(
    "a malformed URL (%s) is XAPI_INVALID_URL",
    async (url) => {
      const err = (await failure(
        XapiClient.connect({ url, username: USER, password: PASSWORD, transport }),
      )) as XapiTransportError;
      expect(err).toBeInstanceOf(XapiTransportError);
      expect(err.code).toBe("XAPI_INVALID_URL");
      expect(err.message).not.toContain("pw-in-url");
      expect(err.message).not.toContain(PASSWORD);
    },
  );
});
