/**
 * The session with a pool (docs/xapi-semantics.md §2): which member is the master, over which transport, with which
 * session ref. Logs in with an originator, follows HOST_IS_SLAVE to the master, logs in again on
 * SESSION_INVALID, and, when the master stops answering, asks the other members it knows who the master is.
 */
import { Redactor, XapiTransportError, isTransportError, isXapiError } from "./errors";
import { HttpEndpoint } from "./http-endpoint";
import { PinSet, type Logger, type TlsOptions } from "./tls";
import { RpcTransport, UnsupportedProtocol, type CallOptions, type TransportKind } from "./transport";
import { jsonRpcWire } from "./transport-jsonrpc";
import { xmlRpcWire } from "./transport-xmlrpc";

export interface SessionOptions {
  url: URL;
  username: string;
  password: string;
  transport: TransportKind | "auto";
  tls: TlsOptions;
  originator: string;
  logger: Logger;
  redactor: Redactor;
  connectTimeoutMs: number;
  loginTimeoutMs: number;
  /** Extra member URLs given by the user (members behind NAT or on non-default ports). */
  members?: URL[];
}

/** Parses and checks the URL given to connect(); a bare host name means https. */
export function parseXapiUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new XapiTransportError("XAPI_INVALID_URL", `not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new XapiTransportError("XAPI_INVALID_URL", `unsupported URL scheme ${url.protocol} (use https: or http:)`);
  }
  if (!url.hostname) throw new XapiTransportError("XAPI_INVALID_URL", `the URL has no host: ${JSON.stringify(raw)}`);
  if (url.username || url.password)
    throw new XapiTransportError("XAPI_INVALID_URL", "put credentials in username/password, not in the URL");
  return url;
}

/**
 * The URL of a pool member from its address as xapi reports it (HOST_IS_SLAVE, host.address): an IP, a
 * host name, an unbracketed IPv6 address, or host:port. Scheme, and port when none is given, come from `base`.
 */
export function memberUrl(address: string, base: URL): URL {
  const a = address.trim();
  let hostPort: string;
  if (a.startsWith("[")) hostPort = a;
  else if ((a.match(/:/g) ?? []).length > 1) hostPort = `[${a}]`;
  else hostPort = a;
  const hasPort = /\]:\d+$/.test(hostPort) || (!hostPort.startsWith("[") && /:\d+$/.test(hostPort));
  const url = new URL(`${base.protocol}//${hostPort}${hasPort || !base.port ? "" : `:${base.port}`}/`);
  return url;
}

/** How long the master has to answer the check after a dropped connection. */
const PROBE_TIMEOUT_MS = 10_000;
/** Timeout of the background logout of a session replaced by a new login. */
const BACKGROUND_LOGOUT_TIMEOUT_MS = 5000;

export class Session {
  private endpoint!: HttpEndpoint;
  private transport!: RpcTransport;
  private ref: string | undefined;
  private loggingIn: Promise<void> | undefined;
  /** The check of the master after a dropped connection, shared by concurrent callers (see checkMaster). */
  private checking: Promise<boolean> | undefined;
  private readonly endpoints = new Map<string, HttpEndpoint>();
  /** Known pool member URLs (from host records), used to find a new master. */
  private members: URL[] = [];
  private closed = false;
  /** Accepted certificate fingerprints, shared by every endpoint of the pool. */
  readonly pins: PinSet;

  constructor(private readonly opts: SessionOptions) {
    this.pins = new PinSet(opts.tls.fingerprint);
  }

  get sessionRef(): string {
    if (!this.ref) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "not logged in");
    return this.ref;
  }

  get transportKind(): TransportKind {
    return this.transport.kind;
  }

  get currentEndpoint(): HttpEndpoint {
    return this.endpoint;
  }

  get masterUrl(): URL {
    return new URL(this.endpoint.origin);
  }

  get memberUrls(): URL[] {
    return [...this.members];
  }

  /** First login: picks the transport, follows HOST_IS_SLAVE, learns the pool members. */
  async open(): Promise<void> {
    this.use(this.opts.url, this.opts.transport === "xmlrpc" ? "xmlrpc" : "jsonrpc");
    this.setMembers([]);
    await this.loginFollowingMaster(4);
  }

  /** Reads the pool members' addresses, for failover. Called once the session is open. */
  setMembers(addresses: string[]): void {
    const base = this.masterUrl;
    const seen = new Set<string>();
    this.members = [];
    for (const u of this.opts.members ?? []) {
      if (!seen.has(u.origin)) {
        seen.add(u.origin);
        this.members.push(u);
      }
    }
    for (const a of addresses) {
      if (!a) continue;
      try {
        const u = memberUrl(a, base);
        if (!seen.has(u.origin)) {
          seen.add(u.origin);
          this.members.push(u);
        }
      } catch {
        this.opts.logger.debug(`ignoring unusable pool member address ${JSON.stringify(a)}`);
      }
    }
  }

  private endpointFor(url: URL): HttpEndpoint {
    let ep = this.endpoints.get(url.origin);
    if (!ep) {
      ep = new HttpEndpoint(
        url,
        this.opts.tls,
        this.pins,
        this.opts.logger,
        this.opts.redactor,
        this.opts.connectTimeoutMs,
      );
      this.endpoints.set(url.origin, ep);
    }
    return ep;
  }

  private use(url: URL, kind: TransportKind): void {
    this.endpoint = this.endpointFor(url);
    this.transport = new RpcTransport(kind === "xmlrpc" ? xmlRpcWire : jsonRpcWire, this.endpoint, this.opts.redactor);
  }

  /** One call on the current transport, switching auto mode to XML-RPC when JSON-RPC is not served. */
  async send(method: string, params: readonly unknown[], call: CallOptions): Promise<unknown> {
    if (this.closed) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed", { method });
    try {
      return await this.transport.call(method, params, call);
    } catch (e) {
      if (!(e instanceof UnsupportedProtocol)) throw e;
      if (this.opts.transport !== "auto" || this.transport.kind !== "jsonrpc") {
        throw new XapiTransportError(
          "XAPI_NOT_XAPI",
          `${method} on ${this.endpoint.host}: the server does not serve ${this.transport.kind === "jsonrpc" ? "JSON-RPC at /jsonrpc" : "XML-RPC"}`,
          {
            method,
            host: this.endpoint.host,
          },
        );
      }
      this.opts.logger.debug(`${this.endpoint.host} has no JSON-RPC; using XML-RPC`);
      this.transport = new RpcTransport(xmlRpcWire, this.endpoint, this.opts.redactor);
      return this.transport.call(method, params, call);
    }
  }

  private async loginOnce(): Promise<void> {
    const { username, password, originator, redactor } = this.opts;
    const ref = (await this.send("session.login_with_password", [username, password, "1.1", originator], {
      timeoutMs: this.opts.loginTimeoutMs,
    })) as string;
    if (typeof ref !== "string" || !ref)
      throw new XapiTransportError("XAPI_NOT_XAPI", "session.login_with_password returned no session", {
        host: this.endpoint.host,
      });
    redactor.add(ref, "<session>");
    this.ref = ref;
    this.opts.logger.debug(`logged in to ${this.endpoint.host} as ${username} over ${this.transport.kind}`);
  }

  private async loginFollowingMaster(hops: number): Promise<void> {
    const tried = new Set<string>();
    for (let i = 0; ; i++) {
      try {
        await this.loginOnce();
        return;
      } catch (e) {
        if (isXapiError(e, "HOST_IS_SLAVE") && e.params[0] && i < hops + this.members.length) {
          tried.add(this.endpoint.origin);
          const next = this.masterCandidates(e.params[0]).find((u) => !tried.has(u.origin));
          if (next) {
            this.opts.logger.debug(
              `${this.endpoint.host} is a pool member; the master is ${e.params[0]}, trying ${next.host}`,
            );
            this.use(next, this.transport.kind);
            continue;
          }
        }
        throw e;
      }
    }
  }

  /**
   * URLs that may serve the master's address: known members (from options or host records) with that host
   * name — several when members share an address behind different ports — then the address itself.
   */
  private masterCandidates(address: string): URL[] {
    const direct = memberUrl(address, this.masterUrl);
    const explicitPort = /\]:\d+$|^[^:]+:\d+$/.test(address.trim());
    const same = this.members.filter(
      (m) => m.hostname === direct.hostname && (!explicitPort || m.port === direct.port),
    );
    return [...same, direct].filter((u, i, all) => all.findIndex((v) => v.origin === u.origin) === i);
  }

  /**
   * Logs in again after `stale` was rejected (SESSION_INVALID). Concurrent callers share one login; a caller
   * whose session was already replaced just retries.
   */
  async relogin(stale: string | undefined): Promise<void> {
    if (this.closed) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed");
    if (stale !== undefined && stale !== this.ref) return;
    if (!this.loggingIn) {
      this.opts.logger.debug("session expired or invalid; logging in again");
      this.loggingIn = this.loginFollowingMaster(4).finally(() => (this.loggingIn = undefined));
    }
    await this.loggingIn;
  }

  /** The member at `address` says it is not the master: move there and log in. */
  async followMaster(address: string, stale: string | undefined): Promise<void> {
    if (stale !== undefined && stale !== this.ref) return;
    if (!this.loggingIn) {
      const current = this.endpoint.origin;
      const previous = this.ref;
      const master =
        this.masterCandidates(address).find((u) => u.origin !== current) ?? memberUrl(address, this.masterUrl);
      this.opts.logger.debug(`HOST_IS_SLAVE: moving to the master ${master.host}`);
      this.use(master, this.transport.kind);
      this.loggingIn = this.loginFollowingMaster(4)
        .then(() => this.logoutInBackground(previous))
        .finally(() => (this.loggingIn = undefined));
    }
    await this.loggingIn;
  }

  /**
   * The connection of a call on `stale` dropped (XAPI_CONNECTION_CLOSED). One dropped connection is not a
   * master change: the current master is asked once, over a new connection, whether it still answers; only
   * when it does not are the other members searched (failover). Concurrent callers share one check.
   * Resolves true when a failover logged in again.
   */
  async checkMaster(stale: string | undefined, deadline: number): Promise<boolean> {
    if (this.closed) throw new XapiTransportError("XAPI_CLIENT_CLOSED", "the client is closed");
    if (stale !== undefined && stale !== this.ref) return false;
    if (this.loggingIn) {
      await this.loggingIn;
      return true;
    }
    if (!this.checking) this.checking = this.probeMaster(deadline).finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async probeMaster(deadline: number): Promise<boolean> {
    const ref = this.ref;
    if (!ref) return false;
    try {
      await this.send("pool.get_all", [ref], { timeoutMs: Math.min(this.opts.loginTimeoutMs, PROBE_TIMEOUT_MS) });
      return false;
    } catch (e) {
      // Any answer, even an error (SESSION_INVALID, HOST_IS_SLAVE…), means the host is there: the next
      // call deals with it as usual.
      if (
        !Session.isMasterDown(e) &&
        !isTransportError(e, "XAPI_CONNECTION_CLOSED") &&
        !isTransportError(e, "XAPI_TIMEOUT")
      )
        return false;
      if (this.closed) return false;
      await this.failover(ref, deadline, e);
      return true;
    }
  }

  /**
   * The master did not answer: try every other known member; a member that is not the master names it
   * (HOST_IS_SLAVE). Rounds repeat until `deadline`, as a new master takes a moment to be elected.
   */
  async failover(stale: string | undefined, deadline: number, cause: unknown): Promise<void> {
    if (stale !== undefined && stale !== this.ref) return;
    if (!this.loggingIn) {
      // Said once per search, however many calls in flight saw the master go.
      this.opts.logger.warn(
        `${this.endpoint.host} is not answering (${(cause as XapiTransportError).code}); looking for the pool master`,
      );
      this.loggingIn = this.findMaster(deadline).finally(() => (this.loggingIn = undefined));
    }
    await this.loggingIn;
  }

  private async findMaster(deadline: number): Promise<void> {
    const dead = this.endpoint.origin;
    const previous = this.ref;
    const kind = this.transport.kind;
    let lastError: unknown;
    for (let round = 0; Date.now() < deadline && !this.closed; round++) {
      const candidates = this.members.filter((m) => m.origin !== dead);
      // The old master may come back, too: try it last.
      candidates.push(new URL(dead));
      for (const url of candidates) {
        this.use(url, kind);
        try {
          await this.loginFollowingMaster(2);
          if (this.endpoint.origin !== dead)
            this.opts.logger.warn(`the pool master changed: now ${this.endpoint.host}`);
          else this.opts.logger.warn(`the pool master ${this.endpoint.host} answers again; logged in again`);
          this.logoutInBackground(previous);
          return;
        } catch (e) {
          lastError = e;
          if (!isTransportError(e) && !isXapiError(e, "HOST_IS_SLAVE")) throw e;
        }
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** round)));
    }
    throw new XapiTransportError(
      "XAPI_NO_MASTER",
      `no pool member answered as master (tried ${this.members.length || 1})`,
      {
        cause: lastError,
      },
    );
  }

  /**
   * After a new login replaced `previous`, logs that session out on the (pool-wide) master so that it does
   * not stay open on the server until it times out. Best effort: in the background, errors ignored (a
   * session lost with an old master answers SESSION_INVALID), short timeout.
   */
  private logoutInBackground(previous: string | undefined): void {
    if (!previous || previous === this.ref || this.closed) return;
    this.send("session.logout", [previous], { timeoutMs: BACKGROUND_LOGOUT_TIMEOUT_MS }).then(
      () => this.opts.logger.debug("logged out the previous session"),
      (e) => this.opts.logger.debug(`could not log out the previous session: ${(e as Error).message}`),
    );
  }

  async logout(): Promise<void> {
    const ref = this.ref;
    if (!ref || this.closed) return;
    try {
      await this.send("session.logout", [ref], { timeoutMs: 5000 });
    } catch (e) {
      this.opts.logger.debug(`logout failed: ${(e as Error).message}`);
    }
    this.ref = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
  }

  /** An endpoint for another origin (HTTP redirects of the VDI handlers), with the same TLS policy. */
  endpointForUrl(url: URL): HttpEndpoint {
    return this.endpointFor(url);
  }

  /** A transport error that means the master itself is gone (not a slow call, not a closed client). */
  static isMasterDown(e: unknown): boolean {
    return isTransportError(e, "XAPI_UNREACHABLE");
  }
}
