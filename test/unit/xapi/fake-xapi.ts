/**
 * A tiny stand-in XAPI server for transport tests: serves JSON-RPC at /jsonrpc and XML-RPC elsewhere, with
 * per-test control over the raw HTTP answer. The real simulator is exercised in test/sim/client.
 */
import { execFileSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import { XMLParser } from "fast-xml-parser";
import { encodeXmlValue, valueFromNode } from "../../../provider/xapi/codec-xmlrpc";

export interface RpcRequest {
  protocol: "jsonrpc" | "xmlrpc";
  method: string;
  params: unknown[];
  raw: string;
}

export type RpcAnswer = { result: unknown } | { error: string[] };
/** Either an RPC answer (encoded in the request's protocol) or full control of the HTTP response. */
export type Handler = (
  req: RpcRequest,
  res: http.ServerResponse,
) => RpcAnswer | "handled" | Promise<RpcAnswer | "handled">;

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name: string, jPath: unknown) =>
    name === "member" || name === "param" || (name === "value" && String(jPath).endsWith("data.value")),
});

export function parseRequest(url: string, body: string): RpcRequest {
  if (url.startsWith("/jsonrpc")) {
    const j = JSON.parse(body) as { method: string; params: unknown[] };
    return { protocol: "jsonrpc", method: j.method, params: j.params, raw: body };
  }
  const doc = xmlParser.parse(body) as {
    methodCall: { methodName: string; params: { param?: { value: unknown }[] } | string };
  };
  const ps = typeof doc.methodCall.params === "object" ? (doc.methodCall.params.param ?? []) : [];
  return {
    protocol: "xmlrpc",
    method: doc.methodCall.methodName,
    params: ps.map((p) => valueFromNode(p.value)),
    raw: body,
  };
}

export function encodeAnswer(protocol: "jsonrpc" | "xmlrpc", a: RpcAnswer): { body: string; contentType: string } {
  if (protocol === "jsonrpc") {
    const body =
      "result" in a
        ? { jsonrpc: "2.0", result: a.result, id: 1 }
        : { jsonrpc: "2.0", error: { code: 1, message: a.error[0], data: a.error.slice(1) }, id: 1 };
    return { body: JSON.stringify(body), contentType: "application/json" };
  }
  const inner =
    "result" in a
      ? `<member><name>Status</name><value>Success</value></member><member><name>Value</name>${encodeXmlValue(a.result)}</member>`
      : `<member><name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name>${encodeXmlValue(a.error)}</member>`;
  return {
    body: `<?xml version="1.0"?><methodResponse><params><param><value><struct>${inner}</struct></value></param></params></methodResponse>`,
    contentType: "text/xml",
  };
}

export interface FakeServer {
  url: string;
  port: number;
  calls: RpcRequest[];
  close(): Promise<void>;
}

export interface TlsMaterial {
  key: string;
  cert: string;
  fingerprint: string;
}

/** A self-signed certificate for 127.0.0.1 / localhost, made with openssl. */
export function makeCertificate(): TlsMaterial {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xapi-tls-"));
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "3650",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  const m = { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...m, fingerprint: new X509Certificate(m.cert).fingerprint256 };
}

/** Default handler: logs in as root/secret, answers host.get_all_records with no members. */
export function standard(extra?: Handler): Handler {
  return async (req, res) => {
    if (req.method === "session.login_with_password") {
      if (req.params[0] === "root" && req.params[1] === "secret")
        return { result: "OpaqueRef:5e55104e-0000-4000-8000-00000000beef" };
      return { error: ["SESSION_AUTHENTICATION_FAILED", String(req.params[0]), "Authentication failure"] };
    }
    if (req.method === "session.logout") return { result: "" };
    if (req.method === "host.get_all_records") return { result: {} };
    if (extra) return extra(req, res);
    return { error: ["MESSAGE_METHOD_UNKNOWN", req.method] };
  };
}

export async function startFake(handler: Handler, tls?: TlsMaterial): Promise<FakeServer> {
  const calls: RpcRequest[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let rpc: RpcRequest;
      try {
        rpc = parseRequest(req.url ?? "/", raw);
      } catch {
        res
          .writeHead(500, { "content-type": "text/html" })
          .end("<html><body><h1>HTTP 500 internal server error</h1></body></html>");
        return;
      }
      calls.push(rpc);
      const answer = await handler(rpc, res);
      if (answer === "handled") return;
      const { body, contentType } = encodeAnswer(rpc.protocol, answer);
      res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body) }).end(body);
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, onRequest) : http.createServer(onRequest);
  const sockets = new Set<import("net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  if (tls) server.on("secureConnection", (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    calls,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A logger that records every line, to prove secrets never reach it. */
export function recordingLogger(): { lines: string[]; debug(m: string): void; warn(m: string): void } {
  const lines: string[] = [];
  return { lines, debug: (m) => lines.push(`debug ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}
