/**
 * The RPC path's HTTP/1.1 client: keep-alive connections made by the endpoint's connector (the same TLS
 * policy as the undici Pool), one request at a time per connection, the whole answer read as UTF-8 text.
 *
 * Why not undici here: an RPC call is a small POST answered in full, and undici's general machinery
 * (request objects, header validation, the llhttp parser, stream plumbing) was most of the client's CPU per
 * call (profiled: ~40 µs of ~125 µs per VM.get_record, and much more while the JIT warms up). Failures are
 * reported as the undici errors they replace (SocketError, HeadersTimeoutError, ClientDestroyedError…), so
 * HttpEndpoint.mapError maps them to the same XAPI codes; those classes are loaded only when an error is made
 * (undici-errors.ts). Streams (VDI import/export) still use undici.
 */
import { isAscii } from "buffer";
import type { Socket } from "net";
import type { Connector } from "./tls";
import { undiciError } from "./undici-errors";

export interface Http1Request {
  path: string;
  /** Header lines, already serialized (`name: value\r\n` each); host and content-length are added. */
  headerLines: string;
  body: string;
  /** Inactivity timeout: for the response head, then between body chunks. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Http1Response {
  statusCode: number;
  contentType: string;
  text: string;
}

export interface Http1Options {
  /** Idle time after which a connection is closed when the server gives no Keep-Alive hint. */
  keepAliveTimeout: number;
  /** Upper bound on a server's Keep-Alive hint. */
  keepAliveMaxTimeout: number;
}

/** As undici: a server's `Keep-Alive: timeout=N` is honoured minus this margin. */
const KEEP_ALIVE_THRESHOLD_MS = 2000;
const MAX_HEAD_BYTES = 64 * 1024;
/** Bodies above this size (several socket reads) are assembled in one buffer as they arrive. */
const LARGE_BODY = 256 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");

const enum State {
  Head,
  Length,
  Chunked,
  UntilClose,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

interface Pending {
  resolve(r: Http1Response): void;
  reject(e: unknown): void;
  /** Counted from when the request is written, re-armed by every chunk (as undici's headersTimeout/bodyTimeout; connecting has its own). */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

class Connection {
  pending: Pending | undefined;
  /** Closes the connection once idle for idleMs; created once, re-armed (refresh) at every release. */
  private idleTimer: NodeJS.Timeout | undefined;
  private idleMs = 0;
  /** The call timeout of the request in flight; created once per duration, re-armed (refresh) by each send and chunk. */
  private callTimer: NodeJS.Timeout | undefined;
  private callMs = 0;
  private state = State.Head;
  private head: Buffer | undefined;
  private chunks: Buffer[] = [];
  /** A large body of known length is copied here as it arrives (rather than concatenated at the end). */
  private body: Buffer | undefined;
  private filled = 0;
  private remaining = 0;
  private chunkState = Chunk.Size;
  /** Unparsed bytes of a chunked body (size lines, CRLFs, trailers). */
  private rest: Buffer | undefined;
  private statusCode = 0;
  private contentType = "";
  private reusable = true;
  private keepAliveMs: number;

  constructor(
    readonly socket: Socket,
    private readonly pool: Http1Pool,
  ) {
    this.keepAliveMs = pool.opts.keepAliveTimeout;
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("end", () => socket.destroy());
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.onClose());
  }

  /** Sends a request; the connection must be free. */
  send(req: Http1Request, host: string, p: Pending): void {
    this.pending = p;
    this.state = State.Head;
    if (this.callTimer && this.callMs === p.timeoutMs) this.callTimer.refresh();
    else {
      if (this.callTimer) clearTimeout(this.callTimer);
      this.callMs = p.timeoutMs;
      // Firing with no request in flight (it finished) does nothing; the socket keeps the process alive meanwhile.
      this.callTimer = setTimeout(() => {
        if (this.pending)
          this.destroy(
            this.state === State.Head ? undiciError("HeadersTimeoutError") : undiciError("BodyTimeoutError"),
          );
      }, p.timeoutMs).unref();
    }
    this.socket.ref();
    // The same request head as undici's (xapi keeps the connection open on `connection: keep-alive`).
    this.socket.write(
      `POST ${req.path} HTTP/1.1\r\nhost: ${host}\r\nconnection: ` +
        `keep-alive\r\n${req.headerLines}content-length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`,
    );
  }

  /** Destroys the socket; a request in flight fails with `err`. */
  destroy(err: unknown): void {
    this.fail(err);
    this.socket.destroy();
  }

  private fail(err: unknown): void {
    this.reusable = false;
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.chunks = [];
    this.head = this.rest = this.body = undefined;
    if (settle(p)) p.reject(err);
  }

  private onClose(): void {
    this.pool.forget(this);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.callTimer) clearTimeout(this.callTimer);
    // Only a request in flight fails: an idle connection closing makes no error (nor loads undici's errors).
    if (!this.pending) this.reusable = false;
    else if (this.state === State.UntilClose) this.complete();
    else this.fail(undiciError("SocketError", "other side closed"));
  }

  private onData(d: Buffer): void {
    const p = this.pending;
    if (!p) {
      // Nothing was asked: the connection is out of step.
      this.socket.destroy();
      return;
    }
    this.callTimer?.refresh();
    try {
      if (this.state === State.Head) {
        const buf: Buffer = this.head ? Buffer.concat([this.head, d]) : d;
        const from = this.head ? Math.max(0, this.head.length - 3) : 0;
        const end = buf.indexOf(CRLF2, from);
        if (end < 0) {
          if (buf.length > MAX_HEAD_BYTES) throw undiciError("HeadersOverflowError");
          this.head = buf;
          return;
        }
        this.head = undefined;
        const more = this.parseHead(buf.toString("latin1", 0, end));
        d = buf.subarray(end + 4);
        if (more === "informational") {
          if (d.length) this.onData(d);
          return;
        }
        if (more === "done") {
          if (d.length) this.reusable = false;
          this.complete();
          return;
        }
      }
      if (this.state === State.Length) {
        let last = false;
        if (d.length >= this.remaining) {
          if (d.length > this.remaining) {
            this.reusable = false;
            d = d.subarray(0, this.remaining);
          }
          last = true;
        }
        this.remaining -= d.length;
        if (this.body) this.filled += d.copy(this.body, this.filled);
        else if (d.length) this.chunks.push(d);
        if (last) this.complete();
      } else if (this.state === State.Chunked) {
        this.chunked(d);
      } else if (this.state === State.UntilClose) {
        this.chunks.push(d);
      }
    } catch (e) {
      this.destroy(e);
    }
  }

  /** Parses a response head; says whether a body follows. */
  private parseHead(head: string): "body" | "done" | "informational" {
    let eol = head.indexOf("\r\n");
    if (eol < 0) eol = head.length;
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(head.slice(0, eol));
    if (!m) throw parserError("Invalid HTTP response", "INVALID_CONSTANT");
    const status = Number(m[2]);
    if (status === 101) throw undiciError("SocketError", "unexpected protocol upgrade");
    if (status < 200) return "informational";
    let contentType: string | undefined;
    let length: number | undefined;
    let chunked = false;
    let close = m[1] === "0";
    let keepAlive: string | undefined;
    // Header lines, without splitting the head: only the few names we read are compared (by length first).
    while (eol < head.length) {
      const start = eol + 2;
      eol = head.indexOf("\r\n", start);
      if (eol < 0) eol = head.length;
      const colon = head.indexOf(":", start);
      if (colon <= start || colon >= eol) throw parserError("Invalid header", "INVALID_HEADER_TOKEN");
      const len = colon - start;
      if (len !== 10 && len !== 12 && len !== 14 && len !== 17) continue;
      const name = head.slice(start, colon).toLowerCase();
      const value = head.slice(colon + 1, eol).trim();
      switch (name) {
        case "content-type":
          contentType = contentType === undefined ? value : `${contentType}, ${value}`;
          break;
        case "content-length": {
          if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value)))
            throw parserError("Invalid content-length", "INVALID_CONTENT_LENGTH");
          length = Number(value);
          break;
        }
        case "transfer-encoding":
          if (/(^|,)\s*chunked\s*$/i.test(value)) chunked = true;
          break;
        case "connection":
          if (/(^|,)\s*close\s*(,|$)/i.test(value)) close = true;
          else if (m[1] === "0" && /(^|,)\s*keep-alive\s*(,|$)/i.test(value)) close = false;
          break;
        case "keep-alive":
          keepAlive = value;
          break;
      }
    }
    this.statusCode = status;
    this.contentType = contentType ?? "";
    if (close) this.reusable = false;
    const hint = keepAlive ? /timeout=(\d+)/.exec(keepAlive) : null;
    if (hint) {
      const ms = Math.min(Number(hint[1]) * 1000 - KEEP_ALIVE_THRESHOLD_MS, this.pool.opts.keepAliveMaxTimeout);
      if (ms <= 0) this.reusable = false;
      else this.keepAliveMs = ms;
    } else {
      this.keepAliveMs = this.pool.opts.keepAliveTimeout;
    }
    if (status === 204 || status === 304) return "done";
    if (chunked) {
      this.state = State.Chunked;
      this.chunkState = Chunk.Size;
      return "body";
    }
    if (length !== undefined) {
      if (length === 0) return "done";
      this.state = State.Length;
      this.remaining = length;
      if (length > LARGE_BODY) {
        this.body = Buffer.allocUnsafe(length);
        this.filled = 0;
      }
      return "body";
    }
    this.state = State.UntilClose;
    this.reusable = false;
    return "body";
  }

  private chunked(d: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, d]) : d;
    this.rest = undefined;
    for (;;) {
      if (this.chunkState === Chunk.Data) {
        if (buf.length === 0) return;
        const n = Math.min(this.remaining, buf.length);
        this.chunks.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        this.remaining -= n;
        if (this.remaining === 0) this.chunkState = Chunk.DataEnd;
        continue;
      }
      if (this.chunkState === Chunk.DataEnd) {
        if (buf.length < 2) break;
        if (buf[0] !== 13 || buf[1] !== 10) throw parserError("Invalid chunk end", "STRICT");
        buf = buf.subarray(2);
        this.chunkState = Chunk.Size;
        continue;
      }
      if (this.chunkState === Chunk.Size) {
        const eol = buf.indexOf("\r\n");
        if (eol < 0) {
          if (buf.length > 1024) throw parserError("Invalid chunk size", "INVALID_CHUNK_SIZE");
          break;
        }
        const line = buf.toString("latin1", 0, eol);
        const hex = /^\s*([0-9a-fA-F]+)\s*(;.*)?$/.exec(line);
        if (!hex) throw parserError("Invalid chunk size", "INVALID_CHUNK_SIZE");
        const size = parseInt(hex[1], 16);
        buf = buf.subarray(eol + 2);
        if (size === 0) this.chunkState = Chunk.Trailer;
        else {
          this.remaining = size;
          this.chunkState = Chunk.Data;
        }
        continue;
      }
      // Trailer: optional header lines, then an empty line.
      if (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) {
        if (buf.length > 2) this.reusable = false;
        this.complete();
        return;
      }
      const end = buf.indexOf(CRLF2);
      if (end >= 0) {
        if (buf.length > end + 4) this.reusable = false;
        this.complete();
        return;
      }
      if (buf.length > MAX_HEAD_BYTES) throw undiciError("HeadersOverflowError");
      break;
    }
    if (buf.length) this.rest = buf;
  }

  private complete(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const chunks = this.chunks;
    this.chunks = [];
    let text: string;
    if (this.body) {
      const body = this.filled === this.body.length ? this.body : this.body.subarray(0, this.filled);
      // Pure ASCII (the usual xapi answer) decodes faster as latin1, to the same string.
      text = isAscii(body) ? body.toString("latin1") : body.toString("utf8");
      this.body = undefined;
    } else
      text =
        chunks.length === 0
          ? ""
          : chunks.length === 1
            ? chunks[0].toString("utf8")
            : Buffer.concat(chunks).toString("utf8");
    const res: Http1Response = { statusCode: this.statusCode, contentType: this.contentType, text };
    const first = settle(p);
    this.state = State.Head;
    if (this.reusable && !this.socket.destroyed) {
      this.socket.unref();
      if (this.idleTimer && this.idleMs === this.keepAliveMs) this.idleTimer.refresh();
      else {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleMs = this.keepAliveMs;
        // A connection in use when the timer fires is left alone: the next release re-arms the timer.
        this.idleTimer = setTimeout(() => {
          if (!this.pending) this.socket.destroy();
        }, this.idleMs).unref();
      }
      this.pool.release(this);
    } else {
      this.socket.destroy();
    }
    if (first) p.resolve(res);
  }
}

/** As undici's llhttp failures: HTTPParserError with an `HPE_` code. */
function parserError(message: string, code: string): Error {
  const e = undiciError("HTTPParserError", message);
  e.code = `HPE_${code}`;
  return e;
}

/** Marks a request finished (abort listener dropped); false when it already was. */
function settle(p: Pending): boolean {
  if (p.done) return false;
  p.done = true;
  if (p.onAbort) p.signal!.removeEventListener("abort", p.onAbort);
  return true;
}

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly connectOpts: Parameters<Connector>[0];
  private closed = false;

  constructor(
    url: URL,
    private readonly connector: Connector,
    readonly opts: Http1Options,
  ) {
    let hostname = url.hostname;
    if (hostname.startsWith("[")) hostname = hostname.slice(1, hostname.indexOf("]"));
    this.connectOpts = {
      host: url.host,
      hostname,
      protocol: url.protocol,
      port: url.port,
      servername: undefined,
      localAddress: null,
    } as never;
    this.host = url.host;
  }

  private readonly host: string;

  /** Sends one request; failures are passed through `mapError` (the endpoint's mapping to XAPI errors). */
  request(req: Http1Request, mapError: (e: unknown) => unknown = (e) => e): Promise<Http1Response> {
    return new Promise<Http1Response>((resolve, rejectRaw) => {
      const reject = (e: unknown): void => rejectRaw(mapError(e));
      const signal = req.signal;
      if (signal?.aborted) {
        reject(undiciError("RequestAbortedError"));
        return;
      }
      if (this.closed) {
        reject(undiciError("ClientDestroyedError"));
        return;
      }
      let conn: Connection | undefined;
      const p: Pending = { resolve, reject, timeoutMs: req.timeoutMs, signal, onAbort: undefined, done: false };
      if (signal) {
        p.onAbort = () => {
          if (conn?.pending === p) conn.destroy(undiciError("RequestAbortedError"));
          else if (settle(p)) reject(undiciError("RequestAbortedError"));
        };
        signal.addEventListener("abort", p.onAbort, { once: true });
      }
      let c: Connection | undefined;
      while ((c = this.idle.pop()) && c.socket.destroyed);
      if (c) {
        conn = c;
        c.send(req, this.host, p);
        return;
      }
      this.connector(this.connectOpts, (err, socket) => {
        if (err || !socket) {
          (socket as Socket | null)?.destroy();
          if (settle(p)) reject(err ?? undiciError("SocketError", "no socket"));
          return;
        }
        if (this.closed || p.done) {
          // Closed, or the caller gave up while connecting.
          socket.destroy();
          if (settle(p)) reject(undiciError("ClientDestroyedError"));
          return;
        }
        conn = new Connection(socket as Socket, this);
        this.all.add(conn);
        conn.send(req, this.host, p);
      });
    });
  }

  release(c: Connection): void {
    if (this.closed) c.socket.destroy();
    else this.idle.push(c);
  }

  forget(c: Connection): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.all]) {
      if (c.pending) c.destroy(undiciError("ClientDestroyedError"));
      else c.socket.destroy();
    }
    this.idle.length = 0;
  }
}
