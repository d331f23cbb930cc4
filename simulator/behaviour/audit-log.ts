/**
 * GET /audit_log (ocaml/xapi/audit_log.ml handler): the RBAC audit lines of side-effecting calls, built from the
 * simulator's call log. Each line follows rbac_audit.ml audit_line_of: the debug-log header (debug.ml format,
 * brand "audit") and the s-expression (trackid, subject sid, subject name, ALLOWED/DENIED, OK/ERROR:…, API, the
 * call, its parameters). `since` filters by the line's timestamp (log_timestamp_of_iso8601, write_line).
 * [UNSURE] A reference's name and UUID are resolved when the log is read (xapi resolves them when it writes the
 * line); a destroy's are read before the call, as xapi caches them (rbac_audit.ml allowed_pre_fn). The real file is
 * written through syslog, whose own prefix before '[' is left out.
 */
import type { IncomingMessage, ServerResponse } from "http";
import type { CallRecord } from "../engine/call-log";
import type { Xapi } from "../engine/xapi";
import type { SideChannel } from "../wire/http";

/** rbac_audit.ml has_to_audit: getters (".get") and these actions are not audited. */
const NOT_AUDITED = new Set(["session.local_logout", "session.logout", "event.next", "event.from"]);

export function audited(method: string): boolean {
  const m = method.startsWith("Async.") ? method.slice(6) : method;
  return !m.includes(".get") && !NOT_AUDITED.has(m) && !m.startsWith("system.");
}

/** sExpr.ml string_of: single-quoted, with \ and ' escaped. */
const q = (s: string) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function argSexpr(x: Xapi, name: string, v: unknown, cached: CallRecord["names"]): string {
  if (typeof v === "string" && v.startsWith("OpaqueRef:")) {
    const hit = cached?.[v] ?? findRef(x, v);
    return `(${q(name)} ${q(hit?.name ?? "")} ${q(hit?.uuid ?? "")} ${q(v)})`;
  }
  if (v && typeof v === "object")
    return `(${q(name)} (${Object.entries(v as Record<string, unknown>)
      .map(([k, fv]) => argSexpr(x, k, fv, cached))
      .join(" ")}) '' '')`;
  return `(${q(name)} ${q(String(v))} '' '')`;
}

function findRef(x: Xapi, ref: string): { name: string; uuid: string } | undefined {
  for (const cls of ["VM", "VDI", "SR", "network", "PIF", "PBD", "VBD", "VIF", "host", "pool", "Bond", "VLAN"]) {
    const r = x.store.tryGet(cls, ref) as { name_label?: string; uuid?: string } | undefined;
    if (r) return { name: r.name_label ?? "", uuid: r.uuid ?? "" };
  }
  return undefined;
}

/** xapi's log timestamp (debug.ml gettimestring) without its trailing "Z|": "20261207T04:01:02.123". */
export function logTimestamp(iso: string): string {
  return iso.replace(/-/g, "").replace(/Z$/, "");
}

export function auditLine(x: Xapi, c: CallRecord, threadId: number): string {
  const method = c.method.startsWith("Async.") ? c.method.slice(6) : c.method;
  const denied = !!c.denied;
  const result = denied ? "" : c.error ? `ERROR:${c.error[0]}` : "OK";
  // rbac_audit.ml get_subject_identifier: LOCAL_SUPERUSER for the local superuser, else the session's SID.
  const who = [q(c.trackid ?? ""), q(c.subject ?? ""), q(c.user), q(denied ? "DENIED" : "ALLOWED"), q(result)];
  const args = Object.entries(c.args).map(([k, v]) => argSexpr(x, k, v, c.names));
  const sexpr = `(${who.join(" ")} 'API' ${q(method)} (${args.join(" ")}))`;
  return `[${logTimestamp(c.start)}Z| info|sim|${threadId} dispatch:${method}||audit] ${sexpr}`;
}

const auditLog: SideChannel = async (x: Xapi, _host: string, req: IncomingMessage, res: ServerResponse, url: URL) => {
  void req;
  const sid = url.searchParams.get("session_id");
  if (!sid || !x.store.has("session", sid)) {
    res.writeHead(401, { "content-type": "text/html", "content-length": "0" });
    res.end();
    return;
  }
  const since = logTimestamp(url.searchParams.get("since") ?? "");
  const lines = x.callLog
    .list()
    .filter((c) => c.trackid && audited(c.method) && (since === "" || logTimestamp(c.start) >= since))
    .map((c) => auditLine(x, c, c.seq));
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(lines.map((l) => l + "\n").join(""));
};

export const auditChannels = new Map<string, SideChannel>([["GET /audit_log", auditLog]]);
