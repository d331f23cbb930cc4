/**
 * One HTTP(S) origin (a pool member): keep-alive connections under the TLS policy (RPC calls on our
 * Http1Pool, streams on an undici Pool), and the mapping of every network failure to an XapiTransportError
 * code. Knows nothing of RPC.
 */
import type { Dispatcher, Pool } from "undici";
import { Redactor, XapiTransportError, type TransportErrorCode } from "./errors";
import { Http1Pool } from "./http1-pool";
import { makeConnector, type Connector, type Logger, type PinSet, type TlsOptions } from "./tls";
import { isUndiciError } from "./undici-errors";

export interface HttpRequest {
  method: "GET" | "POST" | "PUT";
  /** Path and query, starting with "/". */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer | NodeJS.ReadableStream | null;
  /** Inactivity timeout for headers and body. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** The wire method, for error messages. */
  rpcMethod?: string;
}

/** A small request answered in full: the RPC path. */
export interface TextResponse {
  statusCode: number;
  contentType: string;
  text: string;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData["body"];
}

export class HttpEndpoint {
  readonly origin: string;
  readonly host: string;
  /** The stream path (request: VDI import/export), made on first use: loading undici costs ~80 ms of CPU. */
  private pool: Pool | undefined;
  private readonly connect: Connector;
  /** The RPC path (send): a lean HTTP/1.1 client over the same connector; see http1-pool.ts. */
  private readonly rpc: Http1Pool;
  private closed = false;

  constructor(
    url: URL,
    tls: TlsOptions,
    pins: PinSet,
    private readonly logger: Logger,
    private readonly redactor: Redactor,
    connectTimeoutMs = 10_000,
  ) {
    this.origin = url.origin;
    this.host = url.host;
    this.connect = makeConnector(tls, pins, logger, connectTimeoutMs);
    this.rpc = new Http1Pool(url, this.connect, { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 30_000 });
  }

  private streamPool(): Pool {
    if (!this.pool) {
      const { Pool } = require("undici") as typeof import("undici");
      this.pool = new Pool(this.origin, {
        connect: this.connect,
        // Idle sockets are dropped before a server is likely to close them (a request on a socket the server
        // just closed fails as XAPI_CONNECTION_CLOSED); a server's Keep-Alive hint still applies, up to 30 s.
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 30_000,
        // Large answers: no body size limit beyond memory.
        maxResponseSize: -1,
      });
    }
    return this.pool;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    if (this.closed)
      throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed", {
        method: req.rpcMethod,
        host: this.host,
      });
    try {
      const res = await this.streamPool().request({
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body as Dispatcher.DispatchOptions["body"],
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: req.signal,
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    } catch (e) {
      throw this.mapError(e, req);
    }
  }

  /**
   * Sends a POST with a text body and reads the whole answer as UTF-8 text: the path every RPC call takes
   * (see http1-pool.ts). Failures are mapped as for request().
   */
  send(req: HttpRequest & { method: "POST"; body: string }): Promise<TextResponse> {
    if (this.closed)
      return Promise.reject(
        new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed", {
          method: req.rpcMethod,
          host: this.host,
        }),
      );
    return this.rpc.request(
      {
        path: req.path,
        headerLines: headerLines(req.headers),
        body: req.body,
        timeoutMs: req.timeoutMs,
        signal: req.signal,
      },
      (e) => this.mapError(e, req),
    );
  }

  /** Reads a whole body as UTF-8 text, mapping mid-body failures. */
  async text(res: HttpResponse, req: HttpRequest): Promise<string> {
    try {
      return await res.body.text();
    } catch (e) {
      throw this.mapError(e, req);
    }
  }

  mapError(e: unknown, req: { rpcMethod?: string; signal?: AbortSignal }): XapiTransportError {
    if (e instanceof XapiTransportError) return this.redactor.error(e);
    const err = e as { code?: string; message?: string; name?: string; cause?: unknown };
    const cause = (err.cause ?? {}) as { code?: string; message?: string };
    const code = err.code ?? "";
    const causeCode = cause.code ?? "";
    const where = `${req.rpcMethod ? `${req.rpcMethod} on ` : ""}${this.host}`;
    const make = (c: TransportErrorCode, msg: string): XapiTransportError =>
      new XapiTransportError(c, this.redactor.text(msg), {
        method: req.rpcMethod,
        host: this.host,
        cause: this.redactor.error(e),
      });
    if (cause instanceof XapiTransportError) return this.redactor.error(cause);
    if (req.signal?.aborted || err.name === "AbortError" || code === "UND_ERR_ABORTED") {
      const reason = req.signal?.reason as { code?: string } | undefined;
      if (reason instanceof XapiTransportError) return reason;
      if (reason?.code === "XAPI_TIMEOUT") return make("XAPI_TIMEOUT", `${where}: timed out`);
      return make("XAPI_ABORTED", `${where}: aborted`);
    }
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT")
      return make("XAPI_TIMEOUT", `${where}: no answer within the call timeout`);
    if (code === "UND_ERR_CONNECT_TIMEOUT") return make("XAPI_UNREACHABLE", `${where}: connection timed out`);
    if (code === "UND_ERR_CLOSED" || code === "UND_ERR_DESTROYED")
      return make("XAPI_CLIENT_CLOSED", `${where}: the client is closed`);
    if (
      code === "UND_ERR_SOCKET" ||
      code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" ||
      code === "ECONNRESET" ||
      code === "EPIPE" ||
      causeCode === "ECONNRESET"
    ) {
      return make(
        "XAPI_CONNECTION_CLOSED",
        `${where}: the server closed the connection before the response was complete`,
      );
    }
    const net = code || causeCode;
    if (
      ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ETIMEDOUT", "EADDRNOTAVAIL"].includes(
        net,
      )
    ) {
      return make("XAPI_UNREACHABLE", `${where}: cannot connect (${net})`);
    }
    if (/^(ERR_SSL|ERR_TLS|EPROTO)/.test(net) || /SSL|TLS/.test(err.message ?? "")) {
      return make("XAPI_TLS_ERROR", `${where}: TLS failure (${net || err.message})`);
    }
    if (isUndiciError(e)) return make("XAPI_CONNECTION_CLOSED", `${where}: ${err.message}`);
    return make("XAPI_UNREACHABLE", `${where}: ${err.message ?? String(e)}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rpc.close();
    await this.pool?.destroy().catch(() => undefined);
  }
}

const serialized = new WeakMap<Record<string, string>, string>();

/** `name: value\r\n` lines; RPC callers pass one constant object per wire format, so this is cached. */
function headerLines(headers: Record<string, string> | undefined): string {
  if (!headers) return "";
  let s = serialized.get(headers);
  if (s === undefined) {
    s = "";
    for (const k of Object.keys(headers)) {
      const v = headers[k];
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v))
        throw new XapiTransportError("XAPI_INVALID_PARAMETER", `invalid HTTP header ${JSON.stringify(k)}`);
      s += `${k}: ${v}\r\n`;
    }
    serialized.set(headers, s);
  }
  return s;
}
