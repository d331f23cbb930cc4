/** The XenAPI datamodel (compacted copy in simulator/data, see scripts/sync-reference-data), indexed for dispatch. */
import datamodelJson from "../data/datamodel.json";
import { parseType, XType } from "./types";

export type Qualifier = "RW" | "RO/runtime" | "RO/constructor";

export interface FieldDef {
  name: string;
  type: XType;
  typeName: string;
  qualifier: Qualifier;
  /** The datamodel default, already decoded to a value; undefined when the datamodel has none. */
  default?: unknown;
}

export interface ParamDef {
  name: string;
  type: XType;
  optional: boolean;
}

export interface MessageDef {
  cls: string;
  name: string;
  wireName: string;
  params: ParamDef[];
  result: XType;
  implicit: boolean;
  takesSession: boolean;
  hasAsync: boolean;
  /** The roles whose sessions may make the call (datamodel_roles.ml); rbac.ts checks them. */
  roles: string[];
}

export interface ClassDef {
  name: string;
  fields: Map<string, FieldDef>;
  fieldList: FieldDef[];
  messages: Map<string, MessageDef>;
}

interface RawClass {
  name: string;
  fields: { name: string; type: string; qualifier: string; default?: string }[];
  messages: {
    name: string;
    params: { name: string; type: string; optional?: boolean }[];
    result: string;
    implicit: boolean;
    roles?: string[];
  }[];
  enums: { name: string; values: string[] }[];
}

/** Classes for which xapi generates no Async variant (datamodel.ml `no_async_messages_for`). */
const NO_ASYNC_CLASSES = new Set(["session", "event", "task", "data_source", "blob"]);
/**
 * Custom messages declared with `~flags:[\`Session]` (no `Async`) in xen-api's ocaml/idl/datamodel*.ml, for the
 * classes served here; every other custom message, and every create/destroy, has an Async form.
 */
const NO_ASYNC_MESSAGES = new Set([
  "add_to_NVRAM",
  "remove_from_NVRAM",
  "set_NVRAM",
  "add_to_platform",
  "remove_from_platform",
  "set_platform",
  "backup_rrds",
  "detect_nonhomogeneous_external_auth",
  "disable_external_auth",
  "enable_external_auth",
  "emergency_clear_mandatory_guidance",
  "emergency_disable_tls_verification",
  "emergency_ha_disable",
  "emergency_reenable_tls_verification",
  "emergency_reset_server_certificate",
  "enable_tls_verification",
  "external_auth_set_ldaps",
  "forget_data_source_archives",
  "get",
  "get_allowed_VBD_devices",
  "get_allowed_VIF_devices",
  "get_boot_record",
  "get_data_sources",
  "get_guest_secureboot_readiness",
  "get_nbd_info",
  "get_server_localtime",
  "get_servertime",
  "get_since",
  "get_supported_types",
  "get_system_status_capabilities",
  "ha_compute_hypothetical_max_host_failures_to_tolerate",
  "ha_compute_max_host_failures_to_tolerate",
  "ha_compute_vm_failover_plan",
  "ha_failover_plan_exists",
  "ha_prevent_restarts_for",
  "local_management_reconfigure",
  "management_disable",
  "query_data_source",
  "record_data_source",
  "reset_cpu_features",
  "set_HVM_boot_policy",
  "set_HVM_shadow_multiplier",
  "set_VCPUs_at_startup",
  "set_VCPUs_max",
  "set_cpu_features",
  "set_domain_type",
  "set_ext_auth_max_threads",
  "set_ha_always_run",
  "set_ha_restart_priority",
  "set_hostname_live",
  "set_is_a_snapshot",
  "set_local_auth_max_threads",
  "set_managed",
  "set_memory_dynamic_max",
  "set_memory_dynamic_min",
  "set_memory_static_max",
  "set_memory_static_min",
  "set_metadata_of_pool",
  "set_missing",
  "set_physical_size",
  "set_physical_utilisation",
  "set_protection_policy",
  "set_read_only",
  "set_sharable",
  "set_snapshot_of",
  "set_snapshot_schedule",
  "set_snapshot_time",
  "set_virtual_allocation",
  "set_virtual_size",
  "shutdown_agent",
  "sync_data",
  "test_archive_target",
]);

/** Classes stored in the DB whose rows are served by get_all and friends; `where` variants are hidden but callable. */
const HIDDEN_WHERE = ["get_all_records_where", "get_all_where"];

export const enums = new Map<string, string[]>();
export const classes = new Map<string, ClassDef>();
/** Lower-case class name -> datamodel spelling (event classes are lower-case on the wire). */
export const classByLower = new Map<string, string>();

for (const c of datamodelJson as unknown as RawClass[]) {
  for (const e of c.enums) enums.set(e.name, e.values);
}

for (const c of datamodelJson as unknown as RawClass[]) {
  const fields = new Map<string, FieldDef>();
  const fieldList: FieldDef[] = [];
  for (const f of c.fields) {
    const type = parseType(f.type);
    const def: FieldDef = { name: f.name, type, typeName: f.type, qualifier: f.qualifier as Qualifier };
    def.default = f.default === undefined ? undefined : decodeDefault(f.default, type);
    fields.set(f.name, def);
    fieldList.push(def);
  }
  const messages = new Map<string, MessageDef>();
  for (const m of c.messages) {
    const params = m.params.map((p) => ({ name: p.name, type: parseType(p.type), optional: !!p.optional }));
    const takesSession = params.length > 0 && params[0].name === "session_id" && p0IsSession(params[0].type);
    const isGenericAccessor = m.implicit && !["create", "destroy"].includes(m.name);
    messages.set(m.name, {
      cls: c.name,
      name: m.name,
      wireName: `${c.name}.${m.name}`,
      params: takesSession ? params.slice(1) : params,
      result: parseType(m.result),
      implicit: m.implicit,
      roles: m.roles ?? [],
      takesSession,
      hasAsync:
        !NO_ASYNC_CLASSES.has(c.name) &&
        !isGenericAccessor &&
        takesSession &&
        !(NO_ASYNC_MESSAGES.has(m.name) && !m.implicit),
    });
  }
  if (messages.has("get_all_records") && c.name !== "message") {
    for (const name of HIDDEN_WHERE) {
      messages.set(name, {
        cls: c.name,
        name,
        wireName: `${c.name}.${name}`,
        params: [{ name: "expr", type: parseType("string"), optional: false }],
        result: parseType(name === "get_all_where" ? `${c.name} ref set` : `(${c.name} ref -> ${c.name} record) map`),
        implicit: true,
        takesSession: true,
        hasAsync: false,
        // As the class's get_all_records.
        roles: c.messages.find((x) => x.name === "get_all_records")?.roles ?? [],
      });
    }
  }
  classes.set(c.name, { name: c.name, fields, fieldList, messages });
  classByLower.set(c.name.toLowerCase(), c.name);
}

function p0IsSession(t: XType): boolean {
  return t.kind === "ref" && t.cls === "session";
}

export function getClass(name: string): ClassDef {
  const c = classes.get(name);
  if (!c) throw new Error(`class ${name} is not in the simulator's datamodel`);
  return c;
}

export const EPOCH = "19700101T00:00:00Z";
export const NULL_REF = "OpaqueRef:NULL";

/** The value a field takes when neither the datamodel nor the behaviour code gives one. */
export function zeroValue(t: XType): unknown {
  switch (t.kind) {
    case "string":
      return "";
    case "int":
    case "float":
      return 0;
    case "bool":
      return false;
    case "datetime":
      return EPOCH;
    case "ref":
      return NULL_REF;
    case "enum":
      return enums.get(t.name)?.[0] ?? "";
    case "set":
      return [];
    case "map":
      return {};
    case "option":
      return undefined;
    default:
      return "";
  }
}

/** Decodes the datamodel's OCaml-flavoured default text ("{}", "\"\"", "0.", "Null", "{\"a\" -> \"b\"}"). */
function decodeDefault(text: string, t: XType): unknown {
  if (text === "Null") return NULL_REF;
  if (t.kind === "set" || t.kind === "map") {
    const inner = text.slice(1, -1).trim();
    if (inner === "") return t.kind === "set" ? [] : {};
    if (t.kind === "set") return inner.split(",").map((x) => decodeDefault(x.trim(), t.of));
    const m: Record<string, unknown> = {};
    for (const kv of inner.split(",")) {
      const [k, v] = kv.split("->").map((x) => x.trim());
      m[String(decodeDefault(k, t.key))] = decodeDefault(v, t.value);
    }
    return m;
  }
  const unq = text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  switch (t.kind) {
    case "int":
    case "float":
      return Number(unq);
    case "bool":
      return unq === "true";
    default:
      return unq;
  }
}
