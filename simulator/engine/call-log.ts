/**
 * The call log: every XAPI call the simulator served, with who made it, when, how long it took and how it
 * failed. Simulator-only state (sim.calls, --call-log FILE), never part of xapi's DB.
 */
import * as fs from "fs";
import { MessageDef } from "./datamodel";

export interface CallRecord {
  /** Position in the log, from 1, never reused (clear() keeps counting). */
  seq: number;
  /** Wire name as called, e.g. "Async.VM.clone", "VM_start", "system.listMethods". */
  method: string;
  transport: "xmlrpc" | "jsonrpc";
  /** The session's originator (session.login_with_password's 4th parameter); "" when none or no session. */
  originator: string;
  /** The session's auth_user_name (for a login, the name given); "" when the call has no valid session. */
  user: string;
  /** ISO 8601 UTC, millisecond precision. */
  start: string;
  /** Time until the answer was ready (for Async.* calls: until the task ref was returned). */
  durationMs: number;
  /** [code, ...params] when the call failed; absent on success. */
  error?: string[];
  /** For Async.* calls, the task that runs the work. */
  task?: string;
  /** The session's track id as xapi logs it (context.ml trackid_of_session: MD5 of the session ref). */
  trackid?: string;
  /**
   * The session's subject as the audit log names it (rbac_audit.ml get_subject_identifier): LOCAL_SUPERUSER for
   * the local superuser, else the directory SID. Absent when the call has no valid session.
   */
  subject?: string;
  /** The permission RBAC refused (rbac.ml check): the call, or its task, failed RBAC_PERMISSION_DENIED. */
  denied?: string;
  /**
   * For a destroy: the name and UUID of each object reference argument, read before the call (rbac_audit.ml
   * allowed_pre_fn caches a destroy's arguments while the object still exists).
   */
  names?: Record<string, { name: string; uuid: string }>;
  /**
   * The arguments xapi's audit log would show (rbac_audit.ml sexpr_args_of): descriptive names (name_label…)
   * and object references, by parameter name; never the session, passwords or other free values.
   */
  args: Record<string, unknown>;
}

/** Getters a client calls in a loop when it waits by polling instead of by events or tasks. */
export const STATUS_GETTERS = new Set([
  "task.get_status",
  "task.get_progress",
  "task.get_record",
  "VM.get_power_state",
  "VM.get_guest_metrics",
  "VM.get_record",
  "VM_guest_metrics.get_networks",
  "VM_guest_metrics.get_record",
]);

/** rbac_audit.ml sexpr_args_of, heuristic 1: descriptive parameters are always shown. */
const DESCRIPTIVE = new Set(["name", "label", "description", "name_label", "name_description", "new_name"]);
const MEMORY_LIMIT = 100_000;

function auditArgs(m: MessageDef | undefined, args: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!m) return out;
  m.params.forEach((p, i) => {
    const v = args[i];
    if (v === undefined) return;
    if (DESCRIPTIVE.has(p.name) && typeof v === "string") out[p.name] = v;
    else if (typeof v === "string" && v.startsWith("OpaqueRef:") && v !== "OpaqueRef:NULL") out[p.name] = v;
    else if (v && typeof v === "object" && !Array.isArray(v) && p.type.kind === "record") {
      // A constructor's record: the same two heuristics, one level down (rbac_audit.ml "__structure").
      const nested: Record<string, unknown> = {};
      for (const [k, fv] of Object.entries(v as Record<string, unknown>))
        if (typeof fv === "string" && (DESCRIPTIVE.has(k) || (fv.startsWith("OpaqueRef:") && fv !== "OpaqueRef:NULL")))
          nested[k] = fv;
      if (Object.keys(nested).length > 0) out[p.name] = nested;
    }
  });
  return out;
}

/** The object references among a call's audit arguments, a constructor's record included. */
function refsIn(args: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const v of Object.values(args)) {
    if (typeof v === "string" && v.startsWith("OpaqueRef:")) out.push(v);
    else if (v && typeof v === "object")
      for (const f of Object.values(v)) if (typeof f === "string" && f.startsWith("OpaqueRef:")) out.push(f);
  }
  return out;
}

export class CallLog {
  private entries: CallRecord[] = [];
  private perMethod = new Map<string, number>();
  private perTransport = { xmlrpc: 0, jsonrpc: 0 };
  private nextSeq = 1;
  private fd: number | undefined;

  /** `file`: append every call as one JSON line (created if missing). */
  constructor(file?: string) {
    if (file) this.fd = fs.openSync(file, "a");
  }

  record(
    r: Omit<CallRecord, "seq" | "args" | "start"> & { startMs: number; def?: MessageDef; rawArgs: unknown[] },
  ): CallRecord {
    const { startMs, def, rawArgs, ...rest } = r;
    const rec: CallRecord = {
      seq: this.nextSeq++,
      ...rest,
      start: new Date(startMs).toISOString(),
      args: auditArgs(def, rawArgs),
    };
    this.entries.push(rec);
    // Long-running simulators keep the newest entries in memory; counts and the file stay complete.
    if (this.entries.length > MEMORY_LIMIT) this.entries.splice(0, this.entries.length - MEMORY_LIMIT);
    this.perMethod.set(rec.method, (this.perMethod.get(rec.method) ?? 0) + 1);
    this.perTransport[rec.transport]++;
    if (this.fd !== undefined) fs.writeSync(this.fd, JSON.stringify(rec) + "\n");
    return rec;
  }

  /** Calls since the last clear() (the newest 100 000), oldest first; `since` a mark() keeps the later ones. */
  list(filter: { method?: string | RegExp; since?: number } = {}): CallRecord[] {
    const { method, since = 0 } = filter;
    return this.entries.filter(
      (e) =>
        e.seq >= since &&
        (method === undefined || (typeof method === "string" ? e.method === method : method.test(e.method))),
    );
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.perMethod);
  }

  count(method: string): number {
    return this.perMethod.get(method) ?? 0;
  }

  transports(): { xmlrpc: number; jsonrpc: number } {
    return { ...this.perTransport };
  }

  /** The seq the next call will get: list({ since: mark() }) later gives the calls made in between. */
  mark(): number {
    return this.nextSeq;
  }

  clear(): void {
    this.entries = [];
    this.perMethod.clear();
    this.perTransport = { xmlrpc: 0, jsonrpc: 0 };
  }

  /**
   * Status polling: each (getter, object) from STATUS_GETTERS read at least `min` times (default 3) in a row in one
   * session since `since`, most read first. A client that waits by polling does so in one session and does nothing
   * to the object between its reads; so separate operations (each `pulumi` command runs its own provider process,
   * hence its own session) reading an object once each are not polling, and neither is a client that reads an
   * object again after it changed it itself: a call of the session naming the object (a set_, create, start…, any
   * call but a get_) ends the row. Reads by the same session of other objects, or other getters, do not.
   * `perSession: false` looks at all sessions together. An empty list proves a client waited on events or tasks,
   * not in a loop.
   */
  statusPolls(
    opts: { since?: number; min?: number; perSession?: boolean } = {},
  ): { method: string; object: string; count: number }[] {
    const min = opts.min ?? 3;
    const perSession = opts.perSession ?? true;
    const rows = new Map<string, { method: string; object: string; count: number; last: number }>();
    const worst = new Map<string, { method: string; object: string; count: number }>();
    const actedOn = new Map<string, number>(); // session + object → seq of the session's last call naming it
    for (const e of this.list({ since: opts.since })) {
      const method = e.method.startsWith("Async.") ? e.method.slice(6) : e.method;
      const session = perSession ? (e.trackid ?? "") : "";
      if (!STATUS_GETTERS.has(method)) {
        if (!/\.get_/.test(method)) for (const ref of refsIn(e.args)) actedOn.set(`${session}\u0000${ref}`, e.seq);
        continue;
      }
      const object = String(Object.values(e.args)[0] ?? "");
      const key = `${session}\u0000${method}\u0000${object}`;
      const before = rows.get(key);
      const changed = before !== undefined && (actedOn.get(`${session}\u0000${object}`) ?? 0) > before.last;
      const row = before && !changed ? before : { method, object, count: 0, last: 0 };
      row.count++;
      row.last = e.seq;
      rows.set(key, row);
      if (row.count > (worst.get(key)?.count ?? 0)) worst.set(key, { method, object, count: row.count });
    }
    return [...worst.values()].filter((p) => p.count >= min).sort((a, b) => b.count - a.count);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
