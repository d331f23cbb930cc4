/** session.* (docs/xapi-semantics.md §2): login with a failure delay, logout, idle expiry, the per-originator cap. */
import { XapiError, fail } from "./errors";
import { CallCtx, Xapi } from "./xapi";
import { nowDatetime } from "./time";
import { directoryLogin, type DirectoryLogin } from "./directory";

const lastUse = new WeakMap<Xapi, Map<string, number>>();

/** Simulator-only bookkeeping behind sim.sessions: logins served and the most sessions alive at once. */
export interface SessionStats {
  logins: number;
  peak: number;
}
const stats = new WeakMap<Xapi, SessionStats>();

export function sessionStats(x: Xapi): SessionStats {
  let s = stats.get(x);
  if (!s) stats.set(x, (s = { logins: 0, peak: 0 }));
  return s;
}

function uses(x: Xapi): Map<string, number> {
  let m = lastUse.get(x);
  if (!m) lastUse.set(x, (m = new Map()));
  return m;
}

/** SESSION_INVALID [ref] unless `ref` is a live session; refreshes its idle clock. HOST_IS_SLAVE on a non-master. */
export function checkSession(x: Xapi, ref: unknown, host: string): string {
  const s = typeof ref === "string" ? x.store.tryGet("session", ref) : undefined;
  if (!s) throw new XapiError("SESSION_INVALID", [String(ref)]);
  const u = uses(x);
  const now = Date.now();
  if (now - (u.get(ref as string) ?? now) > x.opts.sessionIdleTimeoutMs) {
    destroySession(x, ref as string);
    throw new XapiError("SESSION_INVALID", [String(ref)]);
  }
  u.set(ref as string, now);
  if (host !== x.masterRef() && !s.pool) fail("HOST_IS_SLAVE", masterAddress(x));
  return ref as string;
}

export function masterAddress(x: Xapi): string {
  return x.hostAddress.get(x.masterRef()) ?? "127.0.0.1";
}

export function destroySession(x: Xapi, ref: string): void {
  if (!x.store.has("session", ref)) return;
  x.store.destroy("session", ref);
  uses(x).delete(ref);
  for (const l of x.sessionListeners) l(ref);
}

/** Expires every live session (fault injection, and what a xapi restart does). */
export function expireAllSessions(x: Xapi): void {
  for (const ref of [...x.store.table("session").keys()]) destroySession(x, ref);
}

export async function loginWithPassword(x: Xapi, ctx: CallCtx, args: unknown[]): Promise<string> {
  const [uname, pwd, , originator] = args as [string, string, string, string];
  if (ctx.host !== x.masterRef()) fail("HOST_IS_SLAVE", masterAddress(x));
  // The local superuser first, then the directory when external auth is on (xapi_session.ml login_with_password).
  let user: DirectoryLogin | undefined;
  if (uname !== x.opts.username || pwd !== x.opts.password) {
    try {
      user = directoryLogin(x, uname, pwd, ctx.host);
    } catch (e) {
      await x.sleep(x.opts.loginFailureDelayMs); // thread_delay_and_raise_error
      throw e;
    }
    if (!user) {
      await x.sleep(x.opts.loginFailureDelayMs);
      fail("SESSION_AUTHENTICATION_FAILED", uname, "Authentication failure");
    }
  }
  const orig = originator ?? "";
  const ref = x.store.create("session", {
    this_host: ctx.host,
    this_user: "OpaqueRef:NULL",
    last_active: nowDatetime(),
    pool: false,
    is_local_superuser: !user,
    validation_time: nowDatetime(),
    auth_user_name: user?.name ?? uname,
    originator: orig,
    client_certificate: false,
    ...(user ? { subject: user.subject, auth_user_sid: user.sid, rbac_permissions: user.permissions } : {}),
  });
  uses(x).set(ref, Date.now());
  // Oldest sessions of the same originator are destroyed beyond the cap (db_gc_util.ml timeout_sessions).
  // The anonymous bucket (root, no originator) is capped by max_sessions = 2 × max_tasks = 400 (docs/xapi-semantics.md §2.2, inferred).
  const cap = orig === "" ? Math.min(400, x.opts.maxSessionsPerOriginator) : x.opts.maxSessionsPerOriginator;
  const same = [...x.store.table("session")].filter(([, s]) => s.originator === orig);
  for (let i = 0; i < same.length - cap; i++) destroySession(x, same[i][0]);
  const st = sessionStats(x);
  st.logins++;
  st.peak = Math.max(st.peak, x.store.table("session").size);
  return ref;
}

export function register(x: Xapi): void {
  x.on("session.login_with_password", (xx, ctx, args) => loginWithPassword(xx, ctx, args));
  x.on("session.slave_local_login_with_password", (xx, ctx, args) =>
    loginWithPassword(xx, { ...ctx, host: xx.masterRef() }, args),
  );
  x.on("session.logout", (xx, ctx) => destroySession(xx, ctx.session));
  x.on("session.local_logout", (xx, ctx) => destroySession(xx, ctx.session));
  x.on("session.get_this_host", (xx, _ctx, [self]) => xx.store.get("session", self).this_host);
  x.on("session.get_all_subject_identifiers", () => []);
}
