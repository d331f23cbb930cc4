// The client's own connector (provider/xapi/tls.ts makeConnector), which replaced undici's buildConnector so
// that RPC-only processes never load undici: each case runs it and undici's connector, built with the options
// the client used to give it (lib/core/connect.js), and expects the same observable behaviour.
import * as net from "node:net";
import * as tls from "node:tls";
import { buildConnector } from "undici";
import { PinSet, makeConnector, type Connector } from "../../../provider/xapi/tls";
import { makeCertificate, type TlsMaterial } from "./fake-xapi";

const quiet = { debug: () => undefined, warn: () => undefined };

const ours = (timeout: number, ca?: string): Connector =>
  makeConnector({ insecure: true, ca }, new PinSet(undefined), quiet, timeout);
const undici = (timeout: number, ca?: string): Connector =>
  buildConnector({ rejectUnauthorized: false, ca, maxCachedSessions: 0, timeout });

interface Seen {
  /** As the server saw it: the SNI name sent (false: none) and the ALPN protocol agreed. */
  servername: string | false;
  alpn: string | false | null;
  authorized: boolean;
  authorizationError: string | null;
  reused: boolean;
  keepAlive: unknown[][];
  noDelay: unknown[][];
}

let material: TlsMaterial;
let server: tls.Server;
let port: number;
/** Resolved by the server with the next connection's own socket (not whichever came last, under load). */
let serverSideWaiters: Array<(s: tls.TLSSocket) => void> = [];
const nextServerSide = () => new Promise<tls.TLSSocket>((r) => serverSideWaiters.push(r));
const open = new Set<net.Socket>();

beforeAll(async () => {
  material = makeCertificate();
  server = tls.createServer({ key: material.key, cert: material.cert, ALPNProtocols: ["h2", "http/1.1"] }, (s) => {
    const waiters = serverSideWaiters;
    serverSideWaiters = [];
    for (const w of waiters) w(s);
    open.add(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
});

function connect(c: Connector, opts: Partial<Parameters<Connector>[0]>): Promise<net.Socket> {
  return new Promise((resolve, reject) =>
    c(
      { protocol: "https:", hostname: "127.0.0.1", port: String(port), servername: undefined, ...opts } as never,
      (err, s) => (err ? reject(err) : resolve(s!)),
    ),
  );
}

async function observe(c: Connector, hostname: string): Promise<Seen> {
  const keepAlive = jest.spyOn(net.Socket.prototype, "setKeepAlive");
  const noDelay = jest.spyOn(net.Socket.prototype, "setNoDelay");
  try {
    const serverSide = nextServerSide();
    const first = (await connect(c, { hostname, host: `${hostname}:${port}` })) as tls.TLSSocket;
    const side = await serverSide;
    await new Promise((r) => setTimeout(r, 50)); // TLS 1.3 session tickets arrive after the handshake
    first.destroy();
    const second = (await connect(c, { hostname, host: `${hostname}:${port}` })) as tls.TLSSocket;
    const reused = second.isSessionReused();
    second.destroy();
    return {
      servername: (side as tls.TLSSocket & { servername: string | false }).servername,
      alpn: side.alpnProtocol,
      authorized: first.authorized,
      authorizationError: first.authorizationError ? String(first.authorizationError) : null,
      reused,
      keepAlive: keepAlive.mock.calls.slice(0, 1),
      noDelay: noDelay.mock.calls.slice(0, 1),
    };
  } finally {
    keepAlive.mockRestore();
    noDelay.mockRestore();
  }
}

describe("makeConnector opens connections as undici's connector did", () => {
  test("by host name: SNI, http/1.1 only, no session reuse, TCP keep-alive and no delay", async () => {
    const seen = await observe(ours(5000), "localhost");
    expect(seen).toEqual(await observe(undici(5000), "localhost"));
    expect(seen).toMatchObject({
      servername: "localhost",
      alpn: "http/1.1",
      authorized: false,
      reused: false,
      keepAlive: [[true, 60_000]],
      noDelay: [[true]],
    });
  });

  test("by IP address: no SNI (RFC 6066 names hosts only)", async () => {
    const seen = await observe(ours(5000), "127.0.0.1");
    expect(seen).toEqual(await observe(undici(5000), "127.0.0.1"));
    expect(seen.servername).toBe(false);
  });

  test("with a CA bundle, the certificate is trusted; without, the reason is reported, not enforced", async () => {
    const withCa = await observe(ours(5000, material.cert), "localhost");
    expect(withCa).toEqual(await observe(undici(5000, material.cert), "localhost"));
    expect(withCa.authorized).toBe(true);
    const without = await observe(ours(5000), "127.0.0.1");
    expect(without.authorizationError).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  test("plain HTTP: a TCP connection with the same socket options", async () => {
    const plain = net.createServer((s) => {
      open.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", () => r()));
    const p = (plain.address() as net.AddressInfo).port;
    try {
      const calls = async (c: Connector) => {
        const keepAlive = jest.spyOn(net.Socket.prototype, "setKeepAlive");
        const noDelay = jest.spyOn(net.Socket.prototype, "setNoDelay");
        try {
          const s = await connect(c, { protocol: "http:", port: String(p) });
          s.destroy();
          return { tls: s instanceof tls.TLSSocket, keepAlive: keepAlive.mock.calls, noDelay: noDelay.mock.calls };
        } finally {
          keepAlive.mockRestore();
          noDelay.mockRestore();
        }
      };
      const seen = await calls(ours(5000));
      expect(seen).toEqual(await calls(undici(5000)));
      expect(seen).toEqual({ tls: false, keepAlive: [[true, 60_000]], noDelay: [[true]] });
    } finally {
      for (const s of open) s.destroy();
      await new Promise((r) => plain.close(r));
    }
  });

  test("a handshake that never comes fails after the connect timeout with undici's ConnectTimeoutError", async () => {
    const silent = net.createServer((s) => {
      open.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const p = String((silent.address() as net.AddressInfo).port);
    try {
      const failure = async (c: Connector) => {
        const t0 = Date.now();
        const e = (await connect(c, { port: p }).catch((err: unknown) => err)) as Error & { code?: string };
        return { name: e.name, code: e.code, message: e.message, ms: Date.now() - t0 };
      };
      const seen = await failure(ours(200));
      const theirs = await failure(undici(200));
      expect({ ...seen, ms: 0 }).toEqual({ ...theirs, ms: 0 });
      expect(seen).toMatchObject({
        name: "ConnectTimeoutError",
        code: "UND_ERR_CONNECT_TIMEOUT",
        message: `Connect Timeout Error (attempted address: 127.0.0.1:${p}, timeout: 200ms)`,
      });
      expect(seen.ms).toBeGreaterThanOrEqual(190);
      expect(seen.ms).toBeLessThan(3000);
    } finally {
      for (const s of open) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test("a refused connection reports the socket's own error", async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const p = String((closed.address() as net.AddressInfo).port);
    await new Promise((r) => closed.close(r));
    const code = (c: Connector) =>
      connect(c, { port: p }).then(
        () => "connected",
        (e: { code?: string }) => e.code,
      );
    expect(await code(ours(5000))).toBe("ECONNREFUSED");
    expect(await code(undici(5000))).toBe("ECONNREFUSED");
  });
});
