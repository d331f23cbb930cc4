/**
 * An RPC transport: one wire method call over one HttpEndpoint, returning the typed result or throwing
 * XapiError (API failure) / XapiTransportError (everything else). Sessions, retries and limits live above.
 */
import { CodecError, type RpcOutcome } from "./codec-xmlrpc";
import { Redactor, XapiError, XapiTransportError } from "./errors";
import type { HttpEndpoint } from "./http-endpoint";
import { resultConverter } from "./normalize";
import { USER_AGENT } from "./version";

export type TransportKind = "jsonrpc" | "xmlrpc";

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The endpoint does not serve this protocol (JSON-RPC on an old host): the auto transport falls back. */
export class UnsupportedProtocol extends Error {}

/** What tells the two protocols apart: the rest of a call (HTTP, status and error mapping) is RpcTransport's. */
export interface WireExchange {
  kind: TransportKind;
  path: string;
  contentType: string;
  encode(method: string, params: readonly unknown[]): string;
  decode(body: string): RpcOutcome;
  /** Whether a 2xx answer's content-type shows the protocol is not served at all. */
  unsupported(status: number, contentType: string): boolean;
  /** Whether decoded values are already typed (JSON numbers), so no datamodel conversion is needed. */
  typed: boolean;
}

const rpcHeaders = new Map<string, Record<string, string>>();

/** The request headers of an RPC POST: one constant object per content type (the endpoint caches their serialization). */
function headersFor(contentType: string): Record<string, string> {
  let h = rpcHeaders.get(contentType);
  if (!h)
    rpcHeaders.set(
      contentType,
      (h = Object.freeze({ "content-type": contentType, accept: contentType, "user-agent": USER_AGENT }) as Record<
        string,
        string
      >),
    );
  return h;
}

/** One protocol (JSON-RPC or XML-RPC, by its WireExchange) over one member's endpoint. */
export class RpcTransport {
  constructor(
    private readonly wire: WireExchange,
    readonly endpoint: HttpEndpoint,
    private readonly redactor: Redactor,
  ) {}

  get kind(): TransportKind {
    return this.wire.kind;
  }

  call(method: string, params: readonly unknown[], opts: CallOptions): Promise<unknown> {
    return exchange(this.endpoint, this.wire, this.redactor, method, params, opts);
  }
}

async function exchange(
  endpoint: HttpEndpoint,
  wire: WireExchange,
  redactor: Redactor,
  method: string,
  params: readonly unknown[],
  opts: CallOptions,
): Promise<unknown> {
  let body: string;
  try {
    body = wire.encode(method, params);
  } catch (e) {
    if (e instanceof CodecError)
      throw new XapiTransportError("XAPI_INVALID_PARAMETER", `${method}: ${e.message}`, { method });
    throw e;
  }
  const req = {
    method: "POST" as const,
    path: wire.path,
    headers: headersFor(wire.contentType),
    body,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    rpcMethod: method,
  };
  const res = await endpoint.send(req);
  const ct = res.contentType;
  if (wire.unsupported(res.statusCode, ct))
    throw new UnsupportedProtocol(`${endpoint.host} does not serve ${wire.path}`);
  if (res.statusCode === 404 || res.statusCode === 405 || res.statusCode === 501) {
    // xapi serves RPC on every POST path: a server that has no such route is something else.
    throw new XapiTransportError(
      "XAPI_NOT_XAPI",
      `${method} on ${endpoint.host}: HTTP ${res.statusCode} for an RPC call: not an XAPI server`,
      {
        method,
        host: endpoint.host,
        status: res.statusCode,
      },
    );
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    // The body of a 500 can quote the request (credentials, session): it is never included.
    throw new XapiTransportError("XAPI_HTTP_STATUS", `${method} on ${endpoint.host}: HTTP ${res.statusCode}`, {
      method,
      host: endpoint.host,
      status: res.statusCode,
    });
  }
  const text = res.text;
  if (/^text\/html/i.test(ct)) {
    throw new XapiTransportError(
      "XAPI_NOT_XAPI",
      `${method} on ${endpoint.host}: the server answered with an HTML page, not XAPI`,
      { method, host: endpoint.host },
    );
  }
  let outcome: RpcOutcome;
  try {
    outcome = wire.decode(text);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    const code = e.kind === "not-xapi" ? "XAPI_NOT_XAPI" : "XAPI_MALFORMED_RESPONSE";
    throw new XapiTransportError(code, `${method} on ${endpoint.host}: ${e.message}`, { method, host: endpoint.host });
  }
  if (!outcome.ok) {
    const [code, ...rest] = outcome.error;
    throw new XapiError(
      String(code ?? "UNKNOWN_ERROR"),
      redactor.params(rest.map((p) => (typeof p === "string" ? p : JSON.stringify(p)))),
      method,
    );
  }
  if (wire.typed) return outcome.value;
  const conv = resultConverter(method);
  return conv ? conv(outcome.value) : outcome.value;
}
