/** Every bad-input case of issue 4 gives a clear, distinct error code, against a stand-in server. */
import { XapiClient, XapiError, XapiTransportError } from "../../../provider/xapi";
import { codeOf } from "../../helpers/client-errors";
import { closedPort } from "../../helpers/ports";
import { recordingLogger, standard, startFake, type FakeServer } from "./fake-xapi";

const creds = { username: "root", password: "secret" };

describe("bad input and faults", () => {
  let fake: FakeServer | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("rejects a malformed URL before any network access", async () => {
    await expect(codeOf(XapiClient.connect({ url: "https://not a host", ...creds }))).resolves.toBe("XAPI_INVALID_URL");
    await expect(codeOf(XapiClient.connect({ url: "ftp://xen.example", ...creds }))).resolves.toBe("XAPI_INVALID_URL");
    await expect(codeOf(XapiClient.connect({ url: "https://root:pw@xen.example", ...creds }))).resolves.toBe(
      "XAPI_INVALID_URL",
    );
  });

  it("rejects invalid options with XAPI_INVALID_OPTION", async () => {
    const url = "https://xen.example";
    await expect(codeOf(XapiClient.connect({ url, ...creds, maxConcurrency: 0 }))).resolves.toBe("XAPI_INVALID_OPTION");
    await expect(codeOf(XapiClient.connect({ url, ...creds, callTimeoutMs: Number.NaN }))).resolves.toBe(
      "XAPI_INVALID_OPTION",
    );
    await expect(codeOf(XapiClient.connect({ url, ...creds, tls: { fingerprint: "12:34" } }))).resolves.toBe(
      "XAPI_INVALID_OPTION",
    );
  });

  it("reports an unreachable host", async () => {
    const port = await closedPort();
    await expect(codeOf(XapiClient.connect({ url: `http://127.0.0.1:${port}`, ...creds }))).resolves.toBe(
      "XAPI_UNREACHABLE",
    );
  });

  it("reports a server that answers with an HTML page", async () => {
    fake = await startFake((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Welcome to nginx!</body></html>");
      return "handled";
    });
    const err = (await XapiClient.connect({ url: fake.url, ...creds }).catch((e) => e)) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_NOT_XAPI");
    expect(err.message).toMatch(/HTML/);
  });

  it("reports a web server without XAPI (404 on every POST) as not XAPI", async () => {
    fake = await startFake((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" }).end("<html><body>Not Found</body></html>");
      return "handled";
    });
    const err = (await XapiClient.connect({ url: fake.url, ...creds }).catch((e) => e)) as XapiTransportError;
    expect(err.code).toBe("XAPI_NOT_XAPI");
    expect(err.status).toBe(404);
  });

  it("reports a garbage body", async () => {
    fake = await startFake((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end("\u0000\u0001garbage");
      return "handled";
    });
    await expect(codeOf(XapiClient.connect({ url: fake.url, ...creds, transport: "jsonrpc" }))).resolves.toBe(
      "XAPI_NOT_XAPI",
    );
    await expect(codeOf(XapiClient.connect({ url: fake.url, ...creds, transport: "xmlrpc" }))).resolves.toBe(
      "XAPI_NOT_XAPI",
    );
  });

  it("reports an HTTP 500 with its status and without the body (which may quote the request)", async () => {
    fake = await startFake((_req, res) => {
      res.writeHead(500, { "content-type": "text/html" }).end("<html><body>Xmlrpc.Parse_error(secret)</body></html>");
      return "handled";
    });
    const err = (await XapiClient.connect({ url: fake.url, ...creds }).catch((e) => e)) as XapiTransportError;
    expect(err.code).toBe("XAPI_HTTP_STATUS");
    expect(err.status).toBe(500);
    expect(err.message).not.toMatch(/secret/);
  });

  it.each(["jsonrpc", "xmlrpc"] as const)("reports a truncated %s body", async (transport) => {
    fake = await startFake((req, res) => {
      const body =
        req.protocol === "jsonrpc"
          ? '{"jsonrpc":"2.0","result":"OpaqueRef:1234'
          : '<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name>';
      res.writeHead(200, { "content-type": req.protocol === "jsonrpc" ? "application/json" : "text/xml" }).end(body);
      return "handled";
    });
    await expect(codeOf(XapiClient.connect({ url: fake.url, ...creds, transport }))).resolves.toBe(
      "XAPI_MALFORMED_RESPONSE",
    );
  });

  it("reports a server that closes the connection mid-response", async () => {
    fake = await startFake((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "400" });
      res.write('{"jsonrpc":"2.0","result":');
      setTimeout(() => res.socket?.destroy(), 20);
      return "handled";
    });
    await expect(
      codeOf(XapiClient.connect({ url: fake.url, ...creds, transport: "jsonrpc", failoverTimeoutMs: 200 })),
    ).resolves.toBe("XAPI_CONNECTION_CLOSED");
  });

  it("reports wrong credentials naming the user, never the password", async () => {
    fake = await startFake(standard());
    const log = recordingLogger();
    const err = (await XapiClient.connect({
      url: fake.url,
      username: "admin",
      password: "hunter2-pw",
      logger: log,
    }).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("SESSION_AUTHENTICATION_FAILED");
    expect(err.method).toBe("session.login_with_password");
    expect(err.message).toMatch(/"admin"/);
    expect(JSON.stringify([err.message, err.stack, err.params, log.lines])).not.toMatch(/hunter2-pw/);
  });

  it("times out a call that gets no answer", async () => {
    fake = await startFake(
      standard(async (req) => {
        if (req.method === "VM.get_all") await new Promise((r) => setTimeout(r, 1000));
        return { result: [] };
      }),
    );
    const c = await XapiClient.connect({ url: fake.url, ...creds, callTimeoutMs: 150 });
    try {
      await expect(codeOf(c.call("VM.get_all"))).resolves.toBe("XAPI_TIMEOUT");
    } finally {
      await c.close();
    }
  });

  it("gives event.from its long-poll timeout plus a margin, whatever the call timeout", async () => {
    fake = await startFake(
      standard(async (req) => {
        await new Promise((r) => setTimeout(r, 300));
        return { result: { events: [], valid_ref_counts: {}, token: String(req.params[2]) } };
      }),
    );
    const c = await XapiClient.connect({ url: fake.url, ...creds, callTimeoutMs: 100 });
    try {
      await expect(c.call("event.from", ["VM"], "t", 0.3)).resolves.toMatchObject({ events: [] });
    } finally {
      await c.close();
    }
  });

  it("refuses parameters that XAPI cannot represent", async () => {
    fake = await startFake(standard(() => ({ result: "" })));
    const c = await XapiClient.connect({ url: fake.url, ...creds });
    try {
      await expect(codeOf(c.call<void>("VM.set_name_label", "OpaqueRef:x", undefined))).resolves.toBe(
        "XAPI_INVALID_PARAMETER",
      );
    } finally {
      await c.close();
    }
  });
});
