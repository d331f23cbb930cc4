/** Session behaviour of XapiClient against stand-in servers: login, retries, redirects, limits, secrets. */
import { XapiClient, XapiError } from "../../../provider/xapi";
import { recordingLogger, standard, startFake, type FakeServer, type RpcRequest } from "./fake-xapi";

const creds = { username: "root", password: "secret" };
const SESSION = "OpaqueRef:5e55104e-0000-4000-8000-00000000beef";

describe("XapiClient sessions", () => {
  const servers: FakeServer[] = [];
  const clients: XapiClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async (h: Parameters<typeof startFake>[0]): Promise<FakeServer> => {
    const s = await startFake(h);
    servers.push(s);
    return s;
  };
  const connect = async (opts: Parameters<typeof XapiClient.connect>[0]): Promise<XapiClient> => {
    const c = await XapiClient.connect(opts);
    clients.push(c);
    return c;
  };

  it("logs in with the originator pulumi-xenserver/<version> and prepends the session to calls", async () => {
    const s = await start(standard(() => ({ result: ["OpaqueRef:a"] })));
    const c = await connect({ url: s.url, ...creds });
    await expect(c.call("VM.get_all")).resolves.toEqual(["OpaqueRef:a"]);
    const login = s.calls.find((r) => r.method === "session.login_with_password")!;
    expect(login.params[3]).toMatch(/^pulumi-xenserver\/\d+\.\d+\.\d+/);
    expect(s.calls.find((r) => r.method === "VM.get_all")!.params).toEqual([SESSION]);
  });

  it("uses JSON-RPC by default", async () => {
    const s = await start(standard(() => ({ result: [] })));
    const c = await connect({ url: s.url, ...creds });
    expect(c.transport).toBe("jsonrpc");
    expect(s.calls.every((r) => r.protocol === "jsonrpc")).toBe(true);
  });

  it("falls back to XML-RPC when the host has no /jsonrpc", async () => {
    const inner = standard(() => ({ result: [] }));
    const s = await start((req, res) => {
      if (req.protocol === "jsonrpc") {
        res.writeHead(404, { "content-type": "text/html" }).end("<html>not found</html>");
        return "handled";
      }
      return inner(req, res);
    });
    const c = await connect({ url: s.url, ...creds, transport: "auto" });
    expect(c.transport).toBe("xmlrpc");
    await expect(c.call("VM.get_all")).resolves.toEqual([]);
  });

  it("falls back to XML-RPC when /jsonrpc answers 200 with an XML body (a host that routes every path to XML-RPC)", async () => {
    const inner = standard(() => ({ result: ["xml"] }));
    const s = await start((req, res) => {
      if (req.protocol === "jsonrpc") {
        res
          .writeHead(200, { "content-type": "text/xml" })
          .end(`<?xml version="1.0"?><methodResponse><fault></fault></methodResponse>`);
        return "handled";
      }
      return inner(req, res);
    });
    const c = await connect({ url: s.url, ...creds, transport: "auto" });
    expect(c.transport).toBe("xmlrpc");
    await expect(c.call("VM.get_all")).resolves.toEqual(["xml"]);
  });

  it("sends event.from's timeout as <double> on the wire over XML-RPC, and the datamodel's types for other calls", async () => {
    const s = await start(
      standard((req) => ({
        result: req.method === "event.from" ? { events: [], valid_ref_counts: {}, token: "1" } : "",
      })),
    );
    const c = await connect({ url: s.url, ...creds, transport: "xmlrpc" });
    await c.call("event.from", ["VM"], "", 60);
    await c.call("VM.set_VCPUs_max", "OpaqueRef:vm", 4);
    const raw = (m: string) => s.calls.find((r: RpcRequest) => r.method === m)!.raw;
    expect(raw("event.from")).toContain("<param><value><double>60</double></value></param></params>");
    expect(raw("VM.set_VCPUs_max")).toContain("<param><value><int>4</int></value></param></params>");
  });

  it("logs in again on SESSION_INVALID and retries the call once", async () => {
    let logins = 0;
    let expired = true;
    const s = await start(async (req, res) => {
      if (req.method === "session.login_with_password") return { result: `OpaqueRef:session-${++logins}` };
      if (req.method === "VM.get_all" && expired) {
        expired = false;
        return { error: ["SESSION_INVALID", String(req.params[0])] };
      }
      return standard(() => ({ result: [String(req.params[0])] }))(req, res);
    });
    const c = await connect({ url: s.url, ...creds });
    await expect(c.call("VM.get_all")).resolves.toEqual(["OpaqueRef:session-2"]);
    expect(logins).toBe(2);
  });

  it("gives up after one retry and never shows the session ref", async () => {
    const log = recordingLogger();
    const s = await start(standard((req) => ({ error: ["SESSION_INVALID", String(req.params[0])] })));
    const c = await connect({ url: s.url, ...creds, logger: log });
    const err = (await c.call("VM.get_all").catch((e) => e)) as XapiError;
    expect(err.code).toBe("SESSION_INVALID");
    expect(err.params).toEqual(["<session>"]);
    expect(JSON.stringify([err.message, err.stack, err.params, log.lines])).not.toContain("5e55104e");
    expect(s.calls.filter((r) => r.method === "VM.get_all")).toHaveLength(2);
  });

  it("never shows the password or the session, even when the server echoes them", async () => {
    const log = recordingLogger();
    const s = await start(async (req, res) => {
      if (req.method === "session.login_with_password") return { result: SESSION };
      return standard(() => ({ error: ["INTERNAL_ERROR", `echo ${String(req.params[0])} pw=secret-pw-123`] }))(
        req,
        res,
      );
    });
    const c = await connect({ url: s.url, username: "root", password: "secret-pw-123", logger: log });
    const err = (await c.call("VM.get_all").catch((e) => e)) as XapiError;
    expect(err.params[0]).toBe("echo <session> pw=<password>");
    expect(JSON.stringify([err.message, err.stack, err.params, log.lines])).not.toMatch(/secret-pw-123|5e55104e/);
  });

  it("hides a password shorter than 4 characters where it stands as a token, and leaves words that contain it", async () => {
    const log = recordingLogger();
    const s = await start(async (req, res) => {
      if (req.method === "session.login_with_password") return { result: SESSION };
      return standard(() => ({ error: ["INTERNAL_ERROR", "pw=ab1 (ab1) in tab1e"] }))(req, res);
    });
    const c = await connect({ url: s.url, username: "root", password: "ab1", logger: log });
    const err = (await c.call("VM.get_all").catch((e) => e)) as XapiError;
    expect(err.params[0]).toBe("pw=<password> (<password>) in tab1e");
    expect(JSON.stringify([err.message, log.lines])).not.toMatch(/[^a-z]ab1[^a-z]/);
  });

  it("hides credentials passed in call parameters (SR device_config, secret values) when the server echoes them", async () => {
    const s = await start(
      standard((req) => ({ error: ["SR_BACKEND_FAILURE_73", "", `mount failed: ${JSON.stringify(req.params)}`] })),
    );
    const c = await connect({ url: s.url, ...creds });
    const err = (await c
      .call<string>(
        "SR.create",
        "OpaqueRef:host",
        { server: "nfs1", password: "nfs-pass-4411" },
        0,
        "n",
        "d",
        "nfs",
        "user",
        true,
        {},
      )
      .catch((e) => e)) as XapiError;
    expect(err.code).toBe("SR_BACKEND_FAILURE_73");
    expect(JSON.stringify([err.message, err.params])).not.toContain("nfs-pass-4411");
    const err2 = (await c
      .call("secret.create", { value: "the-secret-value", other_config: {} })
      .catch((e) => e)) as XapiError;
    expect(JSON.stringify([err2.message, err2.params])).not.toContain("the-secret-value");
    c.registerSecret("chap-99887766");
    const err3 = (await c.call<string[]>("VM.get_all", "chap-99887766").catch((e) => e)) as XapiError;
    expect(JSON.stringify(err3.params)).not.toContain("chap-99887766");
  });

  it("follows HOST_IS_SLAVE to the master at login", async () => {
    const master = await start(standard(() => ({ result: "master" })));
    const member = await start(() => ({ error: ["HOST_IS_SLAVE", `127.0.0.1:${master.port}`] }));
    const c = await connect({ url: member.url, ...creds });
    expect(c.masterUrl).toBe(master.url);
    await expect(c.call("pool.get_all")).resolves.toBe("master");
  });

  it("caps calls in flight at maxConcurrency (default 8)", async () => {
    let inFlight = 0;
    let peak = 0;
    const s = await start(
      standard(async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { result: "" };
      }),
    );
    const c = await connect({ url: s.url, ...creds, maxConcurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, () => c.call("VM.get_all")));
    expect(peak).toBe(3);
    // Without the option: 8 in flight.
    peak = 0;
    const d = await connect({ url: s.url, ...creds });
    await Promise.all(Array.from({ length: 20 }, () => d.call("VM.get_all")));
    expect(peak).toBe(8);
  });

  it("logs out on close()", async () => {
    const s = await start(standard(() => ({ result: [] })));
    const c = await XapiClient.connect({ url: s.url, ...creds });
    await c.close();
    const logout = s.calls.find((r: RpcRequest) => r.method === "session.logout");
    expect(logout?.params).toEqual([SESSION]);
    await expect(c.call("VM.get_all")).rejects.toMatchObject({ code: "XAPI_CLIENT_CLOSED" });
  });
});
