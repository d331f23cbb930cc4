/**
 * RBAC (ocaml/xapi/rbac.ml, xapi_role.ml, the rbac_static.ml that gen_rbac.ml generates from the datamodel): the
 * static roles, the permissions each grants (one per call, named by the call in lower case), the check every call
 * with a session goes through, and the read-only `role` class, which xapi serves from static tables, not its DB.
 * The local superuser's sessions may do anything; a directory user's session holds the permissions of its
 * subject's roles (xapi_session.ml get_permissions), and a call outside them fails RBAC_PERMISSION_DENIED.
 */
import { createHash } from "crypto";
import { classes, MessageDef } from "./datamodel";
import { XapiError } from "./errors";
import type { Xapi } from "./xapi";

/** datamodel_roles.ml `ordered`: decreasing privileges; client-cert is internal (no subject can hold it). */
export const staticRoles = [
  {
    name: "pool-admin",
    description:
      "The Pool Administrator role has full access to all features and settings, including accessing Dom0 " +
      "and managing subjects, roles and external authentication",
  },
  {
    name: "pool-operator",
    description:
      "The Pool Operator role manages host- and pool-wide resources, including setting up storage, " +
      "creating resource pools and managing patches, high availability (HA) and workload balancing (WLB)",
  },
  {
    name: "vm-power-admin",
    description:
      "The VM Power Administrator role has full access to VM and template management and can choose where " +
      "to start VMs and use the dynamic memory control and VM snapshot features",
  },
  { name: "vm-admin", description: "The VM Administrator role can manage VMs and templates" },
  { name: "vm-operator", description: "The VM Operator role can use VMs and interact with VM consoles" },
  {
    name: "client-cert",
    description:
      "The Client Certificate role has access to functionality granted to those who authenticate using a client certificate",
    internal: true,
  },
  { name: "read-only", description: "The Read-Only role can log in with basic read-only access" },
] as const;

export type RoleName = (typeof staticRoles)[number]["name"];
/** The roles a directory user may be given (client-cert is only for certificate logins). */
export const assignableRoles = staticRoles.filter((r) => !("internal" in r)).map((r) => r.name);

/** Constants.rbac_pool_admin_uuid: pool-admin's fixed UUID (the default of subject.roles). */
const poolAdminUuid = "0165f154-ba3e-034e-6b27-5d271af109ba";

/** gen_rbac.ml hash2uuid: the MD5 digest of the name, written as a UUID. */
function hashUuid(name: string): string {
  const h = createHash("md5").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function roleUuid(name: string): string {
  return name === "pool-admin" ? poolAdminUuid : hashUuid(name);
}

/** xapi_role.ml ref_of_role: "OpaqueRef:" ^ uuid. */
export function roleRef(name: string): string {
  return `OpaqueRef:${roleUuid(name)}`;
}

/** rbac.ml permission_of_action: the call's name in lower case (map-key permissions are not modelled). */
export function permissionOf(m: MessageDef): string {
  return m.wireName.toLowerCase();
}

let byRole: Map<string, string[]> | undefined;

/** Permission names each role grants, from the datamodel's per-message roles (gen_rbac.ml). */
function permissionsByRole(): Map<string, string[]> {
  if (byRole) return byRole;
  const out = new Map<string, string[]>(staticRoles.map((r) => [r.name, []]));
  for (const c of classes.values())
    for (const m of c.messages.values()) for (const r of m.roles) out.get(r)?.push(permissionOf(m));
  for (const list of out.values()) list.sort();
  return (byRole = out);
}

/** xapi_session.ml get_permissions: the role names and every permission they grant (a session's rbac_permissions). */
export function sessionPermissions(roles: string[]): string[] {
  const set = new Set<string>();
  for (const r of roles) {
    set.add(r);
    for (const p of permissionsByRole().get(r) ?? []) set.add(p);
  }
  return [...set].sort();
}

const permissionSets = new WeakMap<Xapi, Map<string, Set<string>>>();

/**
 * rbac.ml check/is_access_allowed: the local superuser passes; any other session needs the call's permission.
 * Returns the permission refused, or undefined when the call is allowed.
 */
export function deniedPermission(x: Xapi, session: string, m: MessageDef): string | undefined {
  const row = x.store.tryGet("session", session);
  if (!row || row.is_local_superuser === true) return undefined;
  let cache = permissionSets.get(x);
  if (!cache) permissionSets.set(x, (cache = new Map()));
  let set = cache.get(session);
  if (!set) cache.set(session, (set = new Set(row.rbac_permissions as string[])));
  const permission = permissionOf(m);
  return set.has(permission) ? undefined : permission;
}

/** rbac.ml check's refusal: [permission; message naming the roles that have it (xapi_role.ml get_by_permission_name_label)]. */
export function permissionDenied(permission: string): XapiError {
  const roles = staticRoles.filter((r) => permissionsByRole().get(r.name)!.includes(permission)).map((r) => r.name);
  return new XapiError("RBAC_PERMISSION_DENIED", [
    permission,
    `No permission in user session. (Roles with this permission: ${roles.join(", ")})`,
  ]);
}

interface RoleRecord {
  uuid: string;
  name_label: string;
  name_description: string;
  subroles: string[];
  is_internal: boolean;
}

/** xapi_role.ml: permissions are roles without subroles; a composite role's subroles are its permissions. */
function roleTable(): Map<string, RoleRecord> {
  const out = new Map<string, RoleRecord>();
  const perms = new Set<string>();
  for (const list of permissionsByRole().values()) for (const p of list) perms.add(p);
  for (const p of [...perms].sort())
    out.set(`OpaqueRef:${hashUuid(p)}`, {
      uuid: hashUuid(p),
      name_label: p,
      name_description: "A basic permission",
      subroles: [],
      is_internal: true,
    });
  for (const r of staticRoles)
    out.set(roleRef(r.name), {
      uuid: roleUuid(r.name),
      name_label: r.name,
      name_description: r.description,
      subroles: permissionsByRole()
        .get(r.name)!
        .map((p) => `OpaqueRef:${hashUuid(p)}`),
      is_internal: "internal" in r,
    });
  return out;
}

let roles: Map<string, RoleRecord> | undefined;
const table = () => (roles ??= roleTable());

function roleOf(ref: unknown): RoleRecord {
  const r = table().get(String(ref));
  if (!r) throw new XapiError("HANDLE_INVALID", ["role", String(ref)]);
  return r;
}

/** The `role` class as xapi_role.ml serves it: static, read-only. */
export function register(x: Xapi): void {
  const all = () => Object.fromEntries(table());
  x.on("role.get_all", () => [...table().keys()]);
  x.on("role.get_all_records", all);
  // xapi_role.ml get_all_records_where: composite roles for "subroles<>[]", permissions for "subroles=[]".
  x.on("role.get_all_records_where", (_x, _c, [expr]) => {
    const e = String(expr).replace(/\s/g, "");
    const pick = (f: (r: RoleRecord) => boolean) => Object.fromEntries([...table()].filter(([, r]) => f(r)));
    if (e === "subroles<>[]") return pick((r) => r.subroles.length > 0);
    if (e === "subroles=[]") return pick((r) => r.subroles.length === 0);
    return all();
  });
  x.on("role.get_record", (_x, _c, [self]) => roleOf(self));
  x.on("role.get_by_uuid", (_x, _c, [uuid]) => {
    const hit = [...table()].find(([, r]) => r.uuid === uuid);
    if (!hit) throw new XapiError("UUID_INVALID", ["role", String(uuid)]);
    return hit[0];
  });
  x.on("role.get_by_name_label", (_x, _c, [label]) =>
    [...table()].filter(([, r]) => r.name_label === label).map(([ref]) => ref),
  );
  for (const f of ["uuid", "name_label", "name_description", "subroles", "is_internal"] as const)
    x.on(`role.get_${f}`, (_x, _c, [self]) => roleOf(self)[f]);
  x.on("role.get_permissions", (_x, _c, [self]) => roleOf(self).subroles);
  x.on("role.get_permissions_name_label", (_x, _c, [self]) =>
    roleOf(self).subroles.map((p) => table().get(p)!.name_label),
  );
  x.on("role.get_by_permission", (_x, _c, [perm]) => {
    const p = String(perm);
    return [...table()].filter(([, r]) => r.subroles.includes(p)).map(([ref]) => ref);
  });
  x.on("role.get_by_permission_name_label", (_x, _c, [label]) =>
    staticRoles.filter((r) => permissionsByRole().get(r.name)!.includes(String(label))).map((r) => roleRef(r.name)),
  );
  // xapi_subject.ml add_to_roles / remove_from_roles (the RBAC licence feature is taken as enabled).
  x.on("subject.add_to_roles", (xx, _c, [self, role]) => {
    const roles = xx.store.get("subject", self).roles as string[];
    if (!table().has(String(role))) throw new XapiError("ROLE_NOT_FOUND", []);
    if (roles.includes(String(role))) throw new XapiError("ROLE_ALREADY_EXISTS", []);
    xx.store.set("subject", String(self), "roles", [...roles, String(role)]);
  });
  x.on("subject.remove_from_roles", (xx, _c, [self, role]) => {
    const roles = xx.store.get("subject", self).roles as string[];
    if (!roles.includes(String(role))) throw new XapiError("ROLE_NOT_FOUND", []);
    xx.store.set(
      "subject",
      String(self),
      "roles",
      roles.filter((r) => r !== role),
    );
  });
  // xapi_subject.ml get_permissions_name_label: the roles' names and their permissions.
  x.on("subject.get_permissions_name_label", (xx, _c, [self]) => {
    const refs = xx.store.get("subject", self).roles as string[];
    return sessionPermissions(staticRoles.filter((r) => refs.includes(roleRef(r.name))).map((r) => r.name));
  });
}
