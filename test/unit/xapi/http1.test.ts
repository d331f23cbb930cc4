// The client's own keep-alive HTTP/1.1 connection pool (provider/xapi/http1-pool.ts), which
// carries RPC calls, against a raw TCP server that answers exactly as each case needs.
import * as net from "node:net";
import { buildConnector } from "undici";
import { Http1Pool } from "../../../provider/xapi/http1-pool";

type Handler = (s: net.Socket, body: string) => void | Promise<void>;

let handler: Handler = () => undefined;
let conns = 0;
let server: net.Server;
let pool: Http1Pool;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = net.createServer((s) => {
    conns++;
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      const i = buf.indexOf("\r\n\r\n");
      if (i < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf)![1]);
      if (buf.length < i + 4 + len) return;
      const body = buf.slice(i + 4, i + 4 + len);
      buf = buf.slice(i + 4 + len);
      void handler(s, body);
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  pool = new Http1Pool(url, buildConnector({}), { keepAliveTimeout: 10000, keepAliveMaxTimeout: 30000 });
});
afterAll(async () => {
  pool.close();
  await new Promise((r) => server.close(r));
});

const req = (o: Record<string, unknown> = {}) =>
  pool.request({
    path: "/jsonrpc",
    headerLines: "content-type: application/json\r\n",
    body: '{"é":1}',
    timeoutMs: 500,
    ...o,
  } as Parameters<Http1Pool["request"]>[0]);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: "no error" }),
    (e: { code?: string }) => e,
  );

describe("Http1Pool", () => {
  it("sends UTF-8 bodies, reads Content-Length answers and reuses the connection", async () => {
    handler = (s, b) => {
      expect(Buffer.from(b, "latin1").toString("utf8")).toBe('{"é":1}');
      s.write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\nok",
      );
    };
    const before = conns;
    expect(await req()).toEqual({ statusCode: 200, contentType: "application/json", text: "ok" });
    await req();
    expect(conns - before).toBe(1);
  });

  it("skips 100 Continue and reads a chunked body sent byte by byte, a UTF-8 character split across chunks", async () => {
    handler = async (s) => {
      const b = Buffer.from(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: text/xml\r\nTransfer-Encoding: " +
          "chunked\r\n\r\n3;ext=1\r\nab\xc3\r\n2\r\n\xa9c\r\n0\r\nX-T: 1\r\n\r\n",
        "latin1",
      );
      for (let i = 0; i < b.length; i++) {
        s.write(b.subarray(i, i + 1));
        await sleep(1);
      }
    };
    expect(await req({ timeoutMs: 3000 })).toEqual({ statusCode: 200, contentType: "text/xml", text: "abéc" });
  });

  it("reads a large UTF-8 body arriving in arbitrary pieces", async () => {
    const big = ("é" + "x".repeat(1000)).repeat(600);
    handler = async (s) => {
      const b = Buffer.from(big);
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${b.length}\r\n\r\n`);
      for (let o = 0; o < b.length; o += 77777) {
        s.write(b.subarray(o, o + 77777));
        await new Promise((r) => setImmediate(r));
      }
    };
    expect((await req({ timeoutMs: 3000 })).text).toBe(big);
  });

  it("opens a new connection after Connection: close, and reads HTTP/1.0 bodies until close", async () => {
    handler = (s) => {
      s.write("HTTP/1.1 500 Internal\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx");
      s.end();
    };
    expect((await req()).statusCode).toBe(500);
    const before = conns;
    handler = (s) => void s.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    expect((await req()).text).toBe("");
    expect(conns - before).toBe(1); // the closed connection is not reused
    handler = (s) => {
      s.write("HTTP/1.0 200 OK\r\n\r\nhello ");
      setTimeout(() => s.end("world"), 20);
    };
    expect((await req()).text).toBe("hello world");
  });

  it("fails a truncated body, a silent server and a stalled body with undici's error codes", async () => {
    handler = (s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
      setTimeout(() => s.destroy(), 20);
    };
    expect(await failure(req())).toMatchObject({ code: "UND_ERR_SOCKET" });
    handler = () => undefined;
    expect(await failure(req({ timeoutMs: 100 }))).toMatchObject({ code: "UND_ERR_HEADERS_TIMEOUT" });
    handler = (s) => void s.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    expect(await failure(req({ timeoutMs: 100 }))).toMatchObject({ code: "UND_ERR_BODY_TIMEOUT" });
  });

  it("aborts a request in flight and refuses one whose signal is already aborted", async () => {
    const ac = new AbortController();
    handler = () => void setTimeout(() => ac.abort(new Error("x")), 20);
    expect(await failure(req({ signal: ac.signal }))).toMatchObject({ code: "UND_ERR_ABORTED" });
    expect(await failure(req({ signal: ac.signal }))).toMatchObject({ code: "UND_ERR_ABORTED" });
  });

  it("rejects a response that is not HTTP", async () => {
    handler = (s) => void s.write("SSH-2.0-OpenSSH\r\n\r\n");
    const e = (await failure(req())) as { code: string };
    expect(e.code).toMatch(/^HPE_/);
  });

  it("honours Keep-Alive: timeout=1 and a server that closes idle connections", async () => {
    const before = conns;
    handler = (s) => void s.write("HTTP/1.1 200 OK\r\ncontent-length: 1\r\nkeep-alive: timeout=1\r\n\r\na");
    await req();
    await req();
    expect(conns - before).toBe(2);
    handler = (s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na");
      setTimeout(() => s.end(), 10);
    };
    await req();
    await sleep(50);
    await req();
    await sleep(50);
    expect(conns - before).toBe(4);
  });

  it("answers concurrent requests on separate connections", async () => {
    handler = (s, b) =>
      void setTimeout(() => s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`), 10);
    const rs = await Promise.all([1, 2, 3, 4, 5].map((i) => req({ body: `b${i}` })));
    expect(rs.map((x) => x.text)).toEqual(["b1", "b2", "b3", "b4", "b5"]);
  });

  it("fails requests in flight and after close", async () => {
    const local = new Http1Pool(
      new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`),
      buildConnector({}),
      { keepAliveTimeout: 10000, keepAliveMaxTimeout: 30000 },
    );
    handler = () => undefined;
    const pending = failure(
      local.request({
        path: "/jsonrpc",
        headerLines: "content-type: application/json\r\n",
        body: "{}",
        timeoutMs: 5000,
      } as Parameters<Http1Pool["request"]>[0]),
    );
    await sleep(20);
    local.close();
    expect(await pending).toMatchObject({ code: "UND_ERR_DESTROYED" });
    expect(
      await failure(
        local.request({ path: "/", headerLines: "", body: "{}", timeoutMs: 100 } as Parameters<
          Http1Pool["request"]
        >[0]),
      ),
    ).toMatchObject({ code: "UND_ERR_DESTROYED" });
  });
});
