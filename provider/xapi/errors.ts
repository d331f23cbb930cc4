/**
 * Two error classes with stable codes, so callers branch on `err.code`, never on message text:
 * - XapiError: the server answered with an API failure (`code` is the XAPI code, e.g. HANDLE_INVALID).
 * - XapiTransportError: the call did not produce an API answer (network, TLS, HTTP, protocol, timeout).
 * Neither ever carries a session id, a password or a secret: see Redactor.
 */

export class XapiError extends Error {
  override readonly name = "XapiError";
  /** The XAPI error code, e.g. "HANDLE_INVALID", "SESSION_INVALID", "VM_BAD_POWER_STATE". */
  readonly code: string;
  /** The error parameters, all strings (session refs replaced by "<session>"). */
  readonly params: string[];
  /** The wire method that failed, e.g. "VM.start" (with "Async." for the task's own failure). */
  readonly method: string;

  constructor(code: string, params: string[], method: string) {
    super(XapiError.describe(code, params, method));
    this.code = code;
    this.params = params;
    this.method = method;
  }

  private static describe(code: string, params: string[], method: string): string {
    if (code === "SESSION_AUTHENTICATION_FAILED") {
      return (
        `${method}: authentication failed for user ${JSON.stringify(params[0] ?? "")}` +
        (params[1] ? `: ${params[1]}` : "")
      );
    }
    return `${method}: ${code}${params.length ? ` ${JSON.stringify(params)}` : ""}`;
  }
}

/** Stable codes of transport-level failures. */
export const TransportErrorCodes = [
  /** The URL given to connect() cannot be parsed or has an unsupported scheme. */
  "XAPI_INVALID_URL",
  /** An option given to connect() is invalid (e.g. a TLS fingerprint that is not SHA-256 hex). */
  "XAPI_INVALID_OPTION",
  /** No TCP connection could be made (refused, DNS failure, no route, connect timeout). */
  "XAPI_UNREACHABLE",
  /** The server closed the connection before the response was complete. */
  "XAPI_CONNECTION_CLOSED",
  /** The server answered with an HTTP status other than 2xx. */
  "XAPI_HTTP_STATUS",
  /** The body is not an XAPI response (HTML page, garbage, wrong content type). */
  "XAPI_NOT_XAPI",
  /** The body starts like an XAPI response but is incomplete or malformed. */
  "XAPI_MALFORMED_RESPONSE",
  /** The server's certificate does not match the pinned SHA-256 fingerprint. */
  "XAPI_TLS_FINGERPRINT_MISMATCH",
  /** The server's certificate is not trusted (self-signed, unknown CA, wrong host name, expired). */
  "XAPI_TLS_UNTRUSTED",
  /** Any other TLS failure (handshake, protocol). */
  "XAPI_TLS_ERROR",
  /** The call did not complete within its timeout. */
  "XAPI_TIMEOUT",
  /** The caller aborted the call through its AbortSignal. */
  "XAPI_ABORTED",
  /** The client was closed. */
  "XAPI_CLIENT_CLOSED",
  /** A parameter cannot be encoded (undefined, null, a function, a non-finite number). */
  "XAPI_INVALID_PARAMETER",
  /** A watched task was destroyed before it completed. */
  "XAPI_TASK_VANISHED",
  /** No pool member answered as master. */
  "XAPI_NO_MASTER",
] as const;
export type TransportErrorCode = (typeof TransportErrorCodes)[number];

export interface TransportErrorDetails {
  /** The wire method being called, when there is one. */
  method?: string;
  /** The host (host:port) the call went to. */
  host?: string;
  /** HTTP status, for XAPI_HTTP_STATUS. */
  status?: number;
  /** The certificate fingerprint the server presented (TLS errors). */
  fingerprint?: string;
  cause?: unknown;
}

export class XapiTransportError extends Error {
  override readonly name = "XapiTransportError";
  readonly code: TransportErrorCode;
  readonly method?: string;
  readonly host?: string;
  readonly status?: number;
  readonly fingerprint?: string;

  constructor(code: TransportErrorCode, message: string, details: TransportErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    this.method = details.method;
    this.host = details.host;
    this.status = details.status;
    this.fingerprint = details.fingerprint;
  }
}

export function isXapiError(e: unknown, code?: string): e is XapiError {
  return e instanceof XapiError && (code === undefined || e.code === code);
}

export function isTransportError(e: unknown, code?: TransportErrorCode): e is XapiTransportError {
  return e instanceof XapiTransportError && (code === undefined || e.code === code);
}

/**
 * Remembers every secret the client has handled (password, session refs) and scrubs them from text.
 * Every error and log line built by the client passes through it.
 */
export class Redactor {
  /** Secrets of 4 characters or more, and their labels: replaced wherever they appear. */
  private readonly secrets = new Map<string, string>();
  /** Shorter secrets (a short password): replaced where they stand as a whole token, not inside words. */
  private readonly short = new Map<string, { re: RegExp; label: string }>();

  add(secret: string | undefined, label: string): void {
    if (!secret) return;
    if (secret.length >= 4) this.secrets.set(secret, label);
    else
      this.short.set(secret, {
        re: new RegExp(`(?<![A-Za-z0-9])${secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9])`, "g"),
        label,
      });
  }

  remove(secret: string | undefined): void {
    if (!secret) return;
    this.secrets.delete(secret);
    this.short.delete(secret);
  }

  private get empty(): boolean {
    return this.secrets.size === 0 && this.short.size === 0;
  }

  text(s: string): string {
    if (this.empty || !s) return s;
    for (const [secret, label] of this.secrets) if (s.includes(secret)) s = s.split(secret).join(label);
    for (const [secret, { re, label }] of this.short) if (s.includes(secret)) s = s.replace(re, label);
    // A session_id query argument of an unknown (older) session is still a secret.
    return s.replace(/(session_id=)[^&\s"']+/g, "$1<session>");
  }

  params(params: string[]): string[] {
    return this.empty ? params : params.map((p) => this.text(p));
  }

  /** Rebuilds an error with its message and params scrubbed. */
  error<E>(e: E): E {
    if (e instanceof XapiError) {
      const params = this.params(e.params);
      if (params.some((p, i) => p !== e.params[i])) return new XapiError(e.code, params, e.method) as E;
      return e;
    }
    if (e instanceof Error) {
      const clean = this.text(e.message);
      if (clean !== e.message) e.message = clean;
      if (e.stack) e.stack = this.text(e.stack);
    }
    return e;
  }
}
