/**
 * Users other than the local superuser. xapi lets only root log in locally once external authentication is on
 * (xapi_session.ml login_with_password, login_as_local_superuser); everyone else is authenticated by the directory
 * (AD) and may log in only when the pool has a subject for them with at least one role. The simulator stands in for
 * the directory: its accounts are simulator state (sim.users, --rbac-user), and adding one does what an
 * administrator does in xapi — enables external auth on the hosts and adds the subject with its role.
 */
import { XapiError } from "./errors";
import { assignableRoles, roleRef, sessionPermissions, type RoleName } from "./rbac";
import type { Xapi } from "./xapi";

export interface DirectoryUser {
  name: string;
  password: string;
  /** One of xapi's static roles (datamodel_roles.ml), client-cert excepted. */
  role: RoleName;
}

interface Account {
  password: string;
  sid: string;
}

const directories = new WeakMap<Xapi, Map<string, Account>>();

function directory(x: Xapi): Map<string, Account> {
  let d = directories.get(x);
  if (!d) directories.set(x, (d = new Map()));
  return d;
}

/** [UNSURE] The service name and SID form are the simulator's own; xapi takes them from the AD join. */
export const directoryService = "sim.directory";
const sidPrefix = "S-1-5-21-1000-2000-3000-";

/** Checks a user definition as `--rbac-user name:password:role` or sim.users.add give it. */
export function checkUser(u: { name?: unknown; password?: unknown; role?: unknown }): DirectoryUser {
  if (typeof u.name !== "string" || !u.name) throw new Error("a user needs a name");
  if (typeof u.password !== "string") throw new Error(`user ${u.name}: a password is needed`);
  if (!assignableRoles.includes(u.role as never))
    throw new Error(`user ${u.name}: role ${JSON.stringify(u.role)} is not one of ${assignableRoles.join(", ")}`);
  return { name: u.name, password: u.password, role: u.role as RoleName };
}

/** `name:password:role` (the password may not contain ':'). */
export function parseUser(spec: string): DirectoryUser {
  const parts = spec.split(":");
  if (parts.length !== 3) throw new Error(`--rbac-user takes name:password:role, got ${spec}`);
  return checkUser({ name: parts[0], password: parts[1], role: parts[2] });
}

/**
 * Adds the account to the directory and, unless the pool already has it (a restart, a loaded state file), its
 * subject with the role; turns external authentication on for every host (host.external_auth_type "AD").
 */
export function addUser(x: Xapi, u: DirectoryUser): void {
  if (u.name === x.opts.username) throw new Error(`user ${u.name} is the local superuser`);
  const d = directory(x);
  const existing = [...x.store.table("subject")].find(
    ([, s]) => (s.other_config as Record<string, string>)["subject-name"] === u.name,
  );
  const sid = existing ? String(existing[1].subject_identifier) : `${sidPrefix}${1100 + d.size}`;
  d.set(u.name, { password: u.password, sid });
  for (const [ref, h] of x.store.table("host"))
    if (h.external_auth_type !== "AD") {
      x.store.set("host", ref, "external_auth_type", "AD");
      x.store.set("host", ref, "external_auth_service_name", directoryService);
    }
  if (existing) return;
  // What the AD plugin's query_subject_information returns becomes the subject's other_config (xapi_subject.ml create).
  x.store.create("subject", {
    subject_identifier: sid,
    other_config: {
      "subject-name": u.name,
      "subject-sid": sid,
      "subject-is-group": "false",
      "subject-account-disabled": "false",
      "subject-account-expired": "false",
      "subject-account-locked": "false",
      "subject-password-expired": "false",
    },
    roles: [roleRef(u.role)],
  });
}

export function users(x: Xapi): string[] {
  return [...directory(x).keys()];
}

export interface DirectoryLogin {
  subject: string;
  sid: string;
  name: string;
  permissions: string[];
}

/**
 * xapi_session.ml login_with_password, external branch: the directory authenticates (else
 * SESSION_AUTHENTICATION_FAILED), the pool must hold a subject with that SID (else SESSION_AUTHORIZATION_FAILED),
 * and the subject must have a role (else RBAC_PERMISSION_DENIED). Undefined when external auth is off or the
 * directory does not know the name: the caller fails the login as a wrong local password.
 */
export function directoryLogin(x: Xapi, uname: string, pwd: string, host: string): DirectoryLogin | undefined {
  if (!x.store.tryGet("host", host)?.external_auth_type) return undefined;
  const account = directory(x).get(uname);
  if (!account) return undefined;
  if (account.password !== pwd) throw new XapiError("SESSION_AUTHENTICATION_FAILED", [uname, "Authentication failure"]);
  const subject = [...x.store.table("subject")].find(([, s]) => s.subject_identifier === account.sid);
  if (!subject)
    throw new XapiError("SESSION_AUTHORIZATION_FAILED", [
      uname,
      `Subject ${uname} (identifier ${account.sid}, from HTTP) has no access rights in this pool`,
    ]);
  const roleNames = (subject[1].roles as string[]).map((r) => r.replace(/^OpaqueRef:/, ""));
  const permissions = sessionPermissions(
    assignableRoles.filter((name) => roleNames.includes(roleRef(name).replace(/^OpaqueRef:/, ""))),
  );
  if (!permissions.length)
    throw new XapiError("RBAC_PERMISSION_DENIED", [
      "session.login_with_password",
      `Subject ${uname} (identifier ${account.sid}) has no roles in this pool`,
    ]);
  return { subject: subject[0], sid: account.sid, name: uname, permissions };
}
