import { startSimulator, Simulator } from "../../simulator";
import { jsonCall, xmlCall, xmlPost } from "./helpers/rpc";

let sim: Simulator;
let session: string;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  session = (await jsonCall(sim.url, "session.login_with_password", ["root", "pw"])) as string;
});
afterAll(() => sim.close());

const v = (s: string) => `<value>${s}</value>`;

describe("XML-RPC", () => {
  it("answers on any POST path but /jsonrpc with text/xml and a Status/Value envelope", async () => {
    for (const path of ["/", "/RPC2", "/xmlrpc", "/anything/else"]) {
      const r = await xmlPost(sim.url, xmlCall("pool.get_all", [v(session)]), path);
      expect(r.status).toBe(200);
      expect(r.type).toBe("text/xml");
      expect(r.text).toMatch(
        new RegExp(
          [
            /^<\?xml version="1.0"\?><methodResponse><params><param><value><struct><member>/.source,
            /<name>Status<\/name><value>Success<\/value><\/member><member><name>Value<\/name>/.source,
            /<value><array><data><value>OpaqueRef:[0-9a-f-]{36}<\/value><\/data><\/array><\/value>/.source,
            /<\/member><\/struct><\/value><\/param><\/params><\/methodResponse>$/.source,
          ].join(""),
        ),
      );
    }
  });

  it("writes ints untagged, booleans as 1/0, floats as <double>, datetimes in xapi's basic ISO form", async () => {
    const pool = ((await jsonCall(sim.url, "pool.get_all", [session])) as string[])[0];
    const host = (await jsonCall(sim.url, "pool.get_master", [session, pool])) as string;
    const major = await xmlPost(sim.url, xmlCall("host.get_API_version_major", [v(session), v(host)]));
    expect(major.text).toContain("<name>Value</name><value>2</value>");
    const enabled = await xmlPost(sim.url, xmlCall("host.get_enabled", [v(session), v(host)]));
    expect(enabled.text).toContain("<value><boolean>1</boolean></value>");
    const time = await xmlPost(sim.url, xmlCall("host.get_servertime", [v(session), v(host)]));
    expect(time.text).toMatch(/<value><dateTime.iso8601>\d{8}T\d\d:\d\d:\d\dZ<\/dateTime.iso8601><\/value>/);
    const task = (await jsonCall(sim.url, "task.create", [session, "t", "d"])) as string;
    const progress = await xmlPost(sim.url, xmlCall("task.get_progress", [v(session), v(task)]));
    expect(progress.text).toContain("<value><double>0</double></value>");
  });

  it("fails with an ErrorDescription array and HTTP 200", async () => {
    const r = await xmlPost(sim.url, xmlCall("VM.get_record", [v(session), v("OpaqueRef:NULL")]));
    expect(r.status).toBe(200);
    expect(r.text).toBe(
      '<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name>' +
        "<value>Failure</value></member><member><name>ErrorDescription</name><value><array><data>" +
        "<value>HANDLE_INVALID</value><value>VM</value><value>OpaqueRef:NULL</value></data></array></value>" +
        "</member></struct></value></param></params></methodResponse>",
    );
  });

  it("reads <boolean>true</boolean> as false, like rpclib", async () => {
    const pool = ((await jsonCall(sim.url, "pool.get_all", [session])) as string[])[0];
    await xmlPost(
      sim.url,
      xmlCall("pool.set_wlb_enabled", [v(session), v(pool), "<value><boolean>1</boolean></value>"]),
    );
    expect(await jsonCall(sim.url, "pool.get_wlb_enabled", [session, pool])).toBe(true);
    await xmlPost(
      sim.url,
      xmlCall("pool.set_wlb_enabled", [v(session), v(pool), "<value><boolean>true</boolean></value>"]),
    );
    expect(await jsonCall(sim.url, "pool.get_wlb_enabled", [session, pool])).toBe(false);
  });

  it("accepts ints as <int>, <i4>, <i8> or untyped digits, and rejects a string bool with INTERNAL_ERROR", async () => {
    const net = ((await jsonCall(sim.url, "network.get_all", [session])) as string[])[0];
    for (const [n, enc] of [
      [9000, "<value><int>9000</int></value>"],
      [1400, "<value><i4>1400</i4></value>"],
      [1500, "<value><i8>1500</i8></value>"],
      [1280, "<value>1280</value>"],
    ] as const) {
      await xmlPost(sim.url, xmlCall("network.set_MTU", [v(session), v(net), enc]));
      expect(await jsonCall(sim.url, "network.get_MTU", [session, net])).toBe(n);
    }
    const pool = ((await jsonCall(sim.url, "pool.get_all", [session])) as string[])[0];
    const r = await xmlPost(sim.url, xmlCall("pool.set_wlb_enabled", [v(session), v(pool), v("true")]));
    expect(r.text).toContain("<value>INTERNAL_ERROR</value>");
  });

  it("answers HTTP 500 with an HTML body for bodies it cannot parse (including a missing <params>)", async () => {
    for (const body of ["not xml", "<methodCall><methodName>pool.get_all</methodName></methodCall>"]) {
      const r = await xmlPost(sim.url, body);
      expect(r.status).toBe(500);
      expect(r.type).toBe("text/html");
      expect(r.text).toContain("<h1>HTTP 500 internal server error</h1>");
    }
  });

  it("returns system.listMethods unwrapped, listing get_all_records of every class and no Async names", async () => {
    const r = await xmlPost(sim.url, xmlCall("system.listMethods", []));
    expect(r.text.startsWith('<?xml version="1.0"?><methodResponse><params><param><value><array><data>')).toBe(true);
    expect(r.text).not.toContain("Status");
    for (const m of ["VM.get_all_records", "VDI.get_all_records", "pool.get_all_records", "event.from"])
      expect(r.text).toContain(`<value>${m}</value>`);
    expect(r.text).not.toContain("Async.");
  });

  it("deletes control characters and escapes markup in strings", async () => {
    const pool = ((await jsonCall(sim.url, "pool.get_all", [session])) as string[])[0];
    await jsonCall(sim.url, "pool.set_name_description", [session, pool, 'a<b>&"c"\u0001d\te']);
    const r = await xmlPost(sim.url, xmlCall("pool.get_name_description", [v(session), v(pool)]));
    expect(r.text).toContain("<value>a&lt;b&gt;&amp;&quot;c&quot;d\te</value>");
  });

  it("refuses strings that are not UTF-8 with INVALID_VALUE", async () => {
    const pool = ((await jsonCall(sim.url, "pool.get_all", [session])) as string[])[0];
    const [before, after] = xmlCall("pool.set_name_label", [v(session), v(pool), v("bad@")]).split("@");
    const body = Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe]), Buffer.from(after)]);
    const res = await fetch(`${sim.url}/`, { method: "POST", body });
    const text = await res.text();
    expect(text).toContain("<value>INVALID_VALUE</value><value>Invalid UTF-8 string in parameter</value>");
  });

  it("dispatches the alternative wire name Class_message", async () => {
    const r = await xmlPost(sim.url, xmlCall("pool_get_all", [v(session)]));
    expect(r.text).toContain("<value>Success</value>");
  });
});

describe("JSON-RPC", () => {
  const post = async (body: unknown) => {
    const res = await fetch(`${sim.url}/jsonrpc`, { method: "POST", body: JSON.stringify(body) });
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  };

  it("answers v2 with application/json (no charset) and echoes the id with its type", async () => {
    const r = await post({ jsonrpc: "2.0", method: "pool.get_all", params: [session], id: "abc" });
    expect(r.type).toBe("application/json");
    expect(JSON.parse(r.body)).toEqual({ jsonrpc: "2.0", result: [expect.stringMatching(/^OpaqueRef:/)], id: "abc" });
  });

  it("answers v1 with result/error/id and an array error", async () => {
    expect(JSON.parse((await post({ method: "pool.get_all", params: [session], id: 7 })).body)).toEqual({
      result: [expect.any(String)],
      error: null,
      id: 7,
    });
    expect(
      JSON.parse((await post({ method: "VM.get_record", params: [session, "OpaqueRef:NULL"], id: 8 })).body),
    ).toEqual({
      result: null,
      error: ["HANDLE_INVALID", "VM", "OpaqueRef:NULL"],
      id: 8,
    });
  });

  it("answers v2 errors with code 1, the XAPI code as message and its params as data", async () => {
    const r = await post({ jsonrpc: "2.0", method: "VM.get_record", params: [session, "OpaqueRef:x"], id: 0 });
    expect(JSON.parse(r.body)).toEqual({
      jsonrpc: "2.0",
      error: { code: 1, message: "HANDLE_INVALID", data: ["VM", "OpaqueRef:x"] },
      id: 0,
    });
  });

  it("sends ints as JSON numbers and datetimes as strings", async () => {
    const pool = ((await jsonCall(sim.url, "pool.get_all", [session])) as string[])[0];
    const host = (await jsonCall(sim.url, "pool.get_master", [session, pool])) as string;
    const rec = (await jsonCall(sim.url, "host.get_record", [session, host])) as Record<string, unknown>;
    expect(rec.API_version_major).toBe(2);
    expect(rec.last_software_update).toBe("19700101T00:00:00Z");
  });

  it("treats a missing id (a notification), a non-object or bad JSON as a parse error: HTTP 500", async () => {
    for (const body of [{ jsonrpc: "2.0", method: "pool.get_all", params: [session] }, [1, 2]])
      expect((await post(body)).status).toBe(500);
    const res = await fetch(`${sim.url}/jsonrpc`, { method: "POST", body: "{bad" });
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("text/html");
  });

  it("takes v2 params as missing/null (no params) or an object (one struct parameter)", async () => {
    expect(JSON.parse((await post({ jsonrpc: "2.0", method: "system.listMethods", id: 1 })).body).result).toContain(
      "VM.start",
    );
    const r = JSON.parse((await post({ jsonrpc: "2.0", method: "pool.get_all", params: null, id: 1 })).body);
    expect(r.error.message).toBe("MESSAGE_PARAMETER_COUNT_MISMATCH");
  });

  it("serves sessions across transports", async () => {
    const r = await xmlPost(sim.url, xmlCall("session.get_this_host", [v(session), v(session)]));
    expect(r.text).toMatch(/<value>OpaqueRef:[0-9a-f-]{36}<\/value>/);
  });

  it("answers GET / with a welcome page and other GETs with 404", async () => {
    expect((await fetch(`${sim.url}/`)).status).toBe(200);
    expect((await fetch(`${sim.url}/nothing-here`)).status).toBe(404);
  });

  it("sends CORS headers and answers OPTIONS", async () => {
    const res = await fetch(`${sim.url}/jsonrpc`, { method: "OPTIONS" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toBe("X-Requested-With");
  });
});
