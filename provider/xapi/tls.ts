/**
 * TLS policy for connections to a pool (docs/xapi-semantics.md §9; issue 4):
 * - default: the system CAs (or `ca`) must vouch for the certificate and its host name;
 * - `fingerprint`: the certificate's SHA-256 fingerprint must equal the pin — the safe answer to XenServer's
 *   self-signed certificates;
 * - `insecure: true`: anything goes, with a warning on every new connection.
 * Failures name the fingerprint seen, so a user can check it out of band and pin it.
 */
import { X509Certificate } from "crypto";
import type { TLSSocket } from "tls";
import { buildConnector } from "undici";
import { XapiTransportError } from "./errors";

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

type Connector = buildConnector.connector;

export function makeConnector(tls: TlsOptions, pins: PinSet, logger: Logger, connectTimeoutMs: number): Connector {
  // Verification is done here, after the handshake, so that every failure can report the fingerprint seen.
  const base = buildConnector({
    rejectUnauthorized: false,
    ca: tls.ca,
    maxCachedSessions: 0,
    timeout: connectTimeoutMs,
  });
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
