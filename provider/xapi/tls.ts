/**
 * TLS policy for connections to a pool (docs/xapi-semantics.md §9; issue 4):
 * - default: the system CAs (or `ca`) must vouch for the certificate and its host name;
 * - `fingerprint`: the certificate's SHA-256 fingerprint must equal the pin — the safe answer to XenServer's
 *   self-signed certificates;
 * - `insecure: true`: anything goes, with a warning on every new connection.
 * Failures name the fingerprint seen, so a user can check it out of band and pin it.
 */
import { X509Certificate } from "crypto";
import { connect as netConnect, isIP, type NetConnectOpts, type Socket } from "net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "tls";
import type { buildConnector } from "undici";
import { XapiTransportError } from "./errors";
import { undiciError } from "./undici-errors";

export interface TlsOptions {
  /**
   * SHA-256 fingerprint(s) of the server certificate, hex, with or without colons (`AB:CD:…` or `abcd…`).
   * Pool members have certificates of their own: once connected through a pinned certificate, the client
   * also trusts the certificates the pool reports for its hosts (`host.get_server_certificate`), so that
   * HOST_IS_SLAVE redirects and failover keep working (see `learnPoolCertificates`).
   */
  fingerprint?: string | string[];
  /** With `fingerprint`: trust the pool members' certificates as reported by the pinned master (default true). */
  learnPoolCertificates?: boolean;
  /** PEM CA bundle that signs the server certificate. */
  ca?: string;
  /** Accept any certificate. Logged as a warning every time a connection is made. */
  insecure?: boolean;
}

export interface Logger {
  debug(msg: string): void;
  warn(msg: string): void;
}

/** Normalises a fingerprint to the `AB:CD:…` form Node reports; throws on anything that is not 32 hex bytes. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .trim()
    .replace(/^sha-?256[:=]?/i, "")
    .replace(/[:\s]/g, "")
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new XapiTransportError(
      "XAPI_INVALID_OPTION",
      "tls.fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons optional",
    );
  }
  return hex.match(/../g)!.join(":");
}

/** The accepted fingerprints: the user's pins plus those learnt from the pool over a pinned connection. */
export class PinSet {
  private readonly pins = new Set<string>();
  constructor(fingerprints: string | string[] | undefined) {
    for (const f of fingerprints === undefined ? [] : Array.isArray(fingerprints) ? fingerprints : [fingerprints])
      this.pins.add(normalizeFingerprint(f));
  }
  get active(): boolean {
    return this.pins.size > 0;
  }
  has(fp: string | undefined): boolean {
    return fp !== undefined && this.pins.has(fp);
  }
  /** Adds the fingerprint of a PEM certificate; returns it. */
  addPem(pem: string): string {
    const fp = new X509Certificate(pem).fingerprint256;
    this.pins.add(fp);
    return fp;
  }
  describe(): string {
    return [...this.pins].join(" or ");
  }
}

/** The connector signature of undici (`new Pool(origin, { connect })`), which Http1Pool takes too. */
export type Connector = buildConnector.connector;

/**
 * Opens a TCP or TLS connection as undici's own connector does (lib/core/connect.js, built with
 * rejectUnauthorized false, `ca`, maxCachedSessions 0 and the connect timeout), without loading undici:
 * TCP keep-alive after 60 s and no Nagle delay; TLS offering only http/1.1, SNI with the host name unless it is
 * an IP address, no session reuse; the certificate checked but not enforced (the caller decides). Past the
 * timeout the socket is destroyed with undici's ConnectTimeoutError, so failures map to the same codes.
 */
function connectSocket(ca: string | undefined, timeoutMs: number): Connector {
  return (opts, callback) => {
    const https = opts.protocol === "https:";
    const port = Number(opts.port) || (https ? 443 : 80);
    const localAddress = opts.localAddress ?? undefined;
    // highWaterMark is a stream option these types omit; the values are undici's.
    const socket: Socket = https
      ? tlsConnect({
          highWaterMark: 16384,
          rejectUnauthorized: false,
          ca,
          servername: opts.servername || (isIP(opts.hostname) ? undefined : opts.hostname),
          ALPNProtocols: ["http/1.1"],
          localAddress,
          port,
          host: opts.hostname,
        } as ConnectionOptions)
      : netConnect({ highWaterMark: 64 * 1024, localAddress, port, host: opts.hostname } as NetConnectOpts);
    socket.setKeepAlive(true, 60_000);
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let later: NodeJS.Immediate | undefined;
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        // One more turn, so that a socket error already queued is reported rather than the timeout.
        later = setImmediate(() => {
          const tried = (socket as { autoSelectFamilyAttemptedAddresses?: string[] })
            .autoSelectFamilyAttemptedAddresses;
          const where = Array.isArray(tried)
            ? `attempted addresses: ${tried.join(", ")},`
            : `attempted address: ${opts.hostname}:${port},`;
          socket.destroy(
            undiciError("ConnectTimeoutError", `Connect Timeout Error (${where} timeout: ${timeoutMs}ms)`),
          );
        });
      }, timeoutMs).unref();
    }
    const settle = (err: Error | null): void => {
      clearTimeout(timer);
      clearImmediate(later);
      if (done) return;
      done = true;
      if (err) callback(err, null);
      else callback(null, socket);
    };
    socket
      .setNoDelay(true)
      .once(https ? "secureConnect" : "connect", () => settle(null))
      // Stays attached: a later error is the connection user's to handle, but must not go uncaught meanwhile.
      .on("error", (err) => settle(err));
  };
}

export function makeConnector(tls: TlsOptions, pins: PinSet, logger: Logger, connectTimeoutMs: number): Connector {
  // Verification is done here, after the handshake, so that every failure can report the fingerprint seen.
  const base = connectSocket(tls.ca, connectTimeoutMs);
  return (opts, callback) => {
    base(opts, (err, socket) => {
      if (err || !socket || opts.protocol !== "https:") {
        callback(err as Error, socket as never);
        return;
      }
      const s = socket as TLSSocket;
      const host = `${opts.hostname}${opts.port ? `:${opts.port}` : ""}`;
      const seen = s.getPeerCertificate?.()?.fingerprint256;
      let failure: XapiTransportError | undefined;
      if (tls.insecure) {
        logger.warn(
          `TLS verification is OFF for ${host} (insecure: true); certificate SHA-256 fingerprint ${seen ?? "unknown"}`,
        );
      } else if (pins.active) {
        if (!pins.has(seen)) {
          failure = new XapiTransportError(
            "XAPI_TLS_FINGERPRINT_MISMATCH",
            `the certificate of ${host} has SHA-256 fingerprint ${seen ?? "unknown"}, not the pinned ${pins.describe()}`,
            { host, fingerprint: seen },
          );
        }
      } else if (!s.authorized) {
        failure = new XapiTransportError(
          "XAPI_TLS_UNTRUSTED",
          `the certificate of ${host} is not trusted (${String(s.authorizationError)}); its SHA-256 fingerprint is ${seen ?? "unknown"}: ` +
            "after checking it on the host (e.g. `openssl x509 -noout -fingerprint -sha256 -in " +
            "/etc/xensource/xapi-ssl.pem`), pin it with tls.fingerprint, or give the CA with tls.ca",
          { host, fingerprint: seen },
        );
      }
      if (failure) {
        s.destroy();
        callback(failure, null);
        return;
      }
      callback(null, socket);
    });
  };
}
