/**
 * TLS policy for connections to a pool (SEMANTICS §9; issue 4):
 * - default: the system CAs (or `ca`) must vouch for the certificate and its host name;
 * - `fingerprint`: the certificate's SHA-256 fingerprint must equal the pin — the safe answer to XenServer's
 *   self-signed certificates;
 * - `insecure: true`: anything goes, with a warning on every new connection.
 * Failures name the fingerprint seen, so a user can check it out of band and pin it.
 */
import type { TLSSocket } from "tls";
import { buildConnector } from "undici";
import { XapiTransportError } from "./errors";

export interface TlsOptions {
  /** SHA-256 fingerprint of the server certificate, hex, with or without colons (`AB:CD:…` or `abcd…`). */
  fingerprint?: string;
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
  const hex = fp.trim().replace(/^sha-?256[:=]?/i, "").replace(/[:\s]/g, "").toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new XapiTransportError("XAPI_INVALID_OPTION", "tls.fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons optional");
  }
  return hex.match(/../g)!.join(":");
}

type Connector = buildConnector.connector;

export function makeConnector(tls: TlsOptions, logger: Logger, connectTimeoutMs: number): Connector {
  const pin = tls.fingerprint ? normalizeFingerprint(tls.fingerprint) : undefined;
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
        logger.warn(`TLS verification is OFF for ${host} (insecure: true); certificate SHA-256 fingerprint ${seen ?? "unknown"}`);
      } else if (pin) {
        if (seen !== pin) {
          failure = new XapiTransportError(
            "XAPI_TLS_FINGERPRINT_MISMATCH",
            `the certificate of ${host} has SHA-256 fingerprint ${seen ?? "unknown"}, not the pinned ${pin}`,
            { host, fingerprint: seen },
          );
        }
      } else if (!s.authorized) {
        failure = new XapiTransportError(
          "XAPI_TLS_UNTRUSTED",
          `the certificate of ${host} is not trusted (${String(s.authorizationError)}); its SHA-256 fingerprint is ${seen ?? "unknown"}: ` +
            "after checking it on the host (e.g. `openssl x509 -noout -fingerprint -sha256 -in /etc/xensource/xapi-ssl.pem`), pin it with tls.fingerprint, or give the CA with tls.ca",
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
