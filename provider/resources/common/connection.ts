// Which pool a resource talks to, and the one XAPI session per pool that all
// resources of a provider process share. Settings come from stack config read in
// configure() — never from resource inputs, so credentials never enter state.
//
//   xenserver:url / xenserver:username / xenserver:password (secret)
//   xenserver:tlsFingerprint | xenserver:caCert | xenserver:insecure
//   xenserver:pools = { "<profile>": { url, username, password, tlsFingerprint, caCert, insecure } }
//   environment fallbacks: XENSERVER_URL (or XENSERVER_HOST), XENSERVER_USERNAME, XENSERVER_PASSWORD
import type { XapiClient } from "../../xapi";

/** The subset of Pulumi's dynamic-provider Config that configure() receives (stack config, e.g. xenserver:url). */
export interface ProviderConfig {
  get(key: string): string | undefined;
}

export interface ConnectionSettings {
  profile: string;
  url: string;
  username: string;
  password: string;
  tls: { fingerprint?: string; ca?: string; insecure?: boolean };
}

/** What resources use of a XAPI client: XapiClient's own (typed) signatures, so a test can hand in a fake. */
export type Xapi = Pick<XapiClient, "call" | "callAsync" | "importRawVdi" | "close">;

export const defaultProfile = "default";

/** The profile a `connection` input names: none means "default", so the two compare equal. */
export function profileOf(connection: unknown): unknown {
  return connection === undefined || connection === null ? defaultProfile : connection;
}

export class ConnectionConfigError extends Error {
  override readonly name = "ConnectionConfigError";
}

/**
 * The pool could not be reached or refused the login. The message names the URL and the stack config keys to fix.
 * Its stack is that advice too: Pulumi's dynamic-provider host prints `${err}: ${err.stack}` for every error, and a
 * trace into this package's files helps no user.
 */
class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  constructor(message: string) {
    super(message);
    this.stack = "fix the stack configuration named above (see docs/configuration.md in pulumi-xenserver)";
  }
}

/** The config keys (and environment variables) to fix for a failure to connect, by the client's error code. */
function keysToFix(err: unknown, profile: string): string {
  const env = (v: string) => (profile === defaultProfile ? ` (or ${v})` : "");
  const code = (err as { code?: string }).code;
  switch (code) {
    case "SESSION_AUTHENTICATION_FAILED":
      return `check ${configKey(profile, "username")}${env("XENSERVER_USERNAME")} and ${configKey(profile, "password")}${env("XENSERVER_PASSWORD")}`;
    case "XAPI_TLS_FINGERPRINT_MISMATCH":
      return `check ${configKey(profile, "tlsFingerprint")}`;
    case "XAPI_TLS_UNTRUSTED":
      return `set ${configKey(profile, "tlsFingerprint")} or ${configKey(profile, "caCert")}`;
    case "XAPI_INVALID_OPTION":
      return `check ${configKey(profile, "tlsFingerprint")}, ${configKey(profile, "caCert")} and ${configKey(profile, "insecure")}`;
    default:
      return `check ${configKey(profile, "url")}${env("XENSERVER_URL")}`;
  }
}

/** A failure to connect, told in the user's terms: the URL, what went wrong, the keys to fix. */
function describeConnectionFailure(err: unknown, s: ConnectionSettings): ConnectionError {
  const what = inConfigTerms(err instanceof Error ? err.message : String(err), s.profile);
  return new ConnectionError(
    `cannot connect to ${s.url} (connection "${s.profile}"): ${what}; ${keysToFix(err, s.profile)}`,
  );
}

interface ProfileFields {
  url?: string;
  host?: string;
  username?: string;
  password?: string;
  tlsFingerprint?: string;
  caCert?: string;
  insecure?: boolean | string;
}

function profiles(config: ProviderConfig): Record<string, ProfileFields> {
  const raw = config.get("xenserver:pools");
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, ProfileFields>;
  } catch {
    // fall through: the message below must not echo the value (it may hold passwords)
  }
  throw new ConnectionConfigError(
    'xenserver:pools must be a JSON object of named connection profiles, e.g. { "lab": { "url": "https://…", "username": "root", "password": "…" } }',
  );
}

/** The names of the profiles a program may pass as `connection`. */
function profileNames(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const names = Object.keys(profiles(config));
  if (config.get("xenserver:url") || env.XENSERVER_URL || env.XENSERVER_HOST) names.unshift(defaultProfile);
  return names;
}

/** Resolves a profile ("default" when the resource has no `connection` input). */
export function resolveConnection(
  config: ProviderConfig,
  profile: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionSettings {
  const name = profile ?? defaultProfile;
  let f: ProfileFields;
  if (name === defaultProfile) {
    f = {
      url: config.get("xenserver:url") ?? env.XENSERVER_URL ?? env.XENSERVER_HOST,
      username: config.get("xenserver:username") ?? env.XENSERVER_USERNAME,
      password: config.get("xenserver:password") ?? env.XENSERVER_PASSWORD,
      tlsFingerprint: config.get("xenserver:tlsFingerprint"),
      caCert: config.get("xenserver:caCert"),
      insecure: config.get("xenserver:insecure"),
    };
  } else {
    const all = profiles(config);
    if (!(name in all)) {
      const known = profileNames(config, env);
      throw new ConnectionConfigError(
        `connection "${name}" is not configured: set xenserver:pools.${name} in stack config (configured: ${known.length ? known.join(", ") : "none"})`,
      );
    }
    f = all[name];
  }
  let url = f.url ?? f.host;
  if (!url) {
    throw new ConnectionConfigError(
      name === defaultProfile
        ? "no XenServer connection configured: set xenserver:url (or XENSERVER_URL), xenserver:username and xenserver:password"
        : `connection "${name}" has no url`,
    );
  }
  if (!/^[a-z]+:\/\//i.test(url)) url = `https://${url}`;
  if (!f.username)
    throw new ConnectionConfigError(`connection "${name}" has no username (xenserver:username or XENSERVER_USERNAME)`);
  return {
    profile: name,
    url,
    username: f.username,
    password: f.password ?? "",
    tls: {
      fingerprint: f.tlsFingerprint || undefined,
      ca: f.caCert || undefined,
      insecure: f.insecure === true || f.insecure === "true",
    },
  };
}

type Connector = (s: ConnectionSettings) => Promise<Xapi>;

/** The stack config key of setting `k` of a connection profile: `xenserver:url`, `xenserver:pools.lab.url`. */
export function configKey(profile: string, k: string): string {
  return profile === defaultProfile ? `xenserver:${k}` : `xenserver:pools.${profile}.${k}`;
}

/** The client speaks of its options (tls.fingerprint…); a provider user sets stack config keys. */
export function inConfigTerms(message: string, profile: string): string {
  const key = (k: string) => configKey(profile, k);
  return message
    .replace(/\btls\.fingerprint\b/g, key("tlsFingerprint"))
    .replace(/\btls\.ca\b/g, key("caCert"))
    .replace(/\btls\.insecure: true\b|\binsecure: true\b/g, `${key("insecure")}: true`);
}

/**
 * XAPI calls in flight at once on the one session per pool. The engine runs up to --parallel operations at once
 * (16 unless told), each making its calls one after another (a few at once for a VM): with the client's default
 * of 8, half the operations of a large stack waited for the other half's calls (bench:scale, issue 14). xapi
 * serves each call on a thread of its own and sets no per-session limit.
 */
const maxCallsInFlight = 32;

const defaultConnector: Connector = async (s) => {
  const { XapiClient } = require("../../xapi") as typeof import("../../xapi");
  // Warnings (e.g. TLS verification switched off) go to stderr, which reaches Pulumi's output.
  const logger = {
    debug: () => undefined,
    warn: (m: string) => void process.stderr.write(`pulumi-xenserver: warning: ${inConfigTerms(m, s.profile)}\n`),
  };
  try {
    return await XapiClient.connect({
      url: s.url,
      username: s.username,
      password: s.password,
      tls: s.tls,
      logger,
      maxConcurrency: maxCallsInFlight,
    });
  } catch (err) {
    throw describeConnectionFailure(err, s);
  }
};

let connector: Connector = defaultConnector;
const sessions = new Map<string, Promise<Xapi>>();

/** Tests: connect some other way (and forget cached sessions). */
export function setConnector(c: Connector | undefined): void {
  connector = c ?? defaultConnector;
  sessions.clear();
  verified.clear();
}

/** One session per pool per provider process, shared by every resource. */
export function xapiFor(config: ProviderConfig, profile: string | null | undefined): Promise<Xapi> {
  const s = resolveConnection(config, profile);
  const key = `${s.profile}\u0000${s.url}\u0000${s.username}`;
  let session = sessions.get(key);
  if (!session) {
    session = connector(s);
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

const verified = new Map<string, Promise<string | undefined>>();

/**
 * At preview (check), connects once per profile and provider process: a wrong password, pin or URL fails there,
 * not at `up`. Returns the message of the failure, or undefined once connected.
 */
export function verifyConnection(config: ProviderConfig, profile: string | undefined): Promise<string | undefined> {
  let s: ConnectionSettings;
  try {
    s = resolveConnection(config, profile);
  } catch (err) {
    if (err instanceof ConnectionConfigError) return Promise.resolve(err.message);
    throw err;
  }
  const key = `${s.profile}\u0000${s.url}\u0000${s.username}`;
  let result = verified.get(key);
  if (!result) {
    result = xapiFor(config, profile).then(
      () => undefined,
      (err: unknown) => (err instanceof ConnectionError ? err : describeConnectionFailure(err, s)).message,
    );
    verified.set(key, result);
  }
  return result;
}

export async function closeAll(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.allSettled(all.map(async (p) => (await p).close()));
}
