/** One XAPI call, in xapi's order (docs/xapi-semantics.md §3.5): lookup, parameter count, unmarshalling, session, operation. */
import { createHash } from "crypto";
import { WireValue } from "../wire/value";
import { encodeValue } from "../wire/xmlrpc";
import { classes, MessageDef } from "./datamodel";
import { decode, decodeCtorRecord } from "./decode";
import { XapiError, toXapiError } from "./errors";
import { genericHandler } from "./generic";
import { checkSession } from "./sessions";
import { deniedPermission, permissionDenied } from "./rbac";
import { completeTask, createTask, failTask } from "./tasks";
import { XType } from "./types";
import { CallCtx, Handler, Xapi } from "./xapi";

export type Outcome =
  { ok: true; value: unknown; type: XType } | { ok: false; error: XapiError } | { bare: true; value: string[] };

const taskRefType: XType = { kind: "ref", cls: "task" };

function lookup(name: string): MessageDef | undefined {
  const dot = name.indexOf(".");
  if (dot > 0) return classes.get(name.slice(0, dot))?.messages.get(name.slice(dot + 1));
  // The alternative wire name `<Class>_<message>`: try every class prefix.
  for (let i = name.indexOf("_"); i > 0; i = name.indexOf("_", i + 1)) {
    const m = classes.get(name.slice(0, i))?.messages.get(name.slice(i + 1));
    if (m) return m;
  }
  return undefined;
}

export function listMethods(): string[] {
  const out: string[] = [];
  for (const c of classes.values()) for (const m of c.messages.values()) out.push(m.wireName);
  out.push("system.listMethods", "system.isAlive");
  return out;
}

/** The first string parameter that held invalid UTF-8 (the decoder turned it into U+FFFD). */
function badString(params: WireValue[]): string | undefined {
  for (const p of params) {
    if (p.t === "string" && p.v.includes("\uFFFD")) return p.v;
    if (p.t === "array") {
      const hit = badString(p.v);
      if (hit !== undefined) return hit;
    }
    if (p.t === "struct") {
      const hit = badString([...p.v.values()]);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** What the call log needs to know from inside a call. */
interface Trace {
  def?: MessageDef;
  args: unknown[];
  user: string;
  originator: string;
  task?: string;
  trackid?: string;
  subject?: string;
  denied?: string;
  names?: Record<string, { name: string; uuid: string }>;
}

/** Runs one call and records it in the call log (engine/call-log.ts). */
export async function dispatch(
  x: Xapi,
  method: string,
  params: WireValue[],
  host: string,
  badUtf8 = false,
  transport: "xmlrpc" | "jsonrpc" = "xmlrpc",
): Promise<Outcome> {
  const startMs = Date.now();
  const t0 = performance.now();
  const trace: Trace = { args: [], user: "", originator: "" };
  const out = await run(x, method, params, host, badUtf8, trace);
  x.callLog.record({
    method,
    transport,
    originator: trace.originator,
    user: trace.user,
    startMs,
    durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
    ...("ok" in out && !out.ok ? { error: out.error.description } : {}),
    ...(trace.task ? { task: trace.task } : {}),
    ...(trace.trackid ? { trackid: trace.trackid } : {}),
    ...(trace.subject ? { subject: trace.subject } : {}),
    ...(trace.denied ? { denied: trace.denied } : {}),
    ...(trace.names ? { names: trace.names } : {}),
    def: trace.def,
    rawArgs: trace.args,
  });
  return out;
}

async function run(
  x: Xapi,
  method: string,
  params: WireValue[],
  host: string,
  badUtf8: boolean,
  trace: Trace,
): Promise<Outcome> {
  try {
    if (x.faults.latencyMs > 0) await x.sleep(x.faults.latencyMs);
    if (method === "system.listMethods") return { bare: true, value: listMethods() };
    if (method.startsWith("system.isAlive"))
      return { ok: true, value: params[0]?.t === "string" ? params[0].v : "", type: { kind: "string" } };
    const isAsync = method.startsWith("Async.");
    const name = isAsync ? method.slice(6) : method;
    const m = lookup(name);
    if (!m) {
      if (params.length > 0) checkSession(x, params[0].t === "string" ? params[0].v : "", host);
      throw new XapiError("MESSAGE_METHOD_UNKNOWN", [method]);
    }
    const required = m.params.filter((p) => !p.optional).length;
    const received = params.length - (m.takesSession ? 1 : 0);
    const hasDefaults = required !== m.params.length;
    if (hasDefaults ? received < required : received !== required) {
      throw new XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", [name, String(required), String(received)]);
    }
    if (badUtf8) {
      const bad = badString(params);
      if (bad !== undefined) throw new XapiError("INVALID_VALUE", ["Invalid UTF-8 string in parameter", bad]);
    }
    const wireArgs = m.takesSession ? params.slice(1) : params;
    const args: unknown[] = m.params.map((p, i) => {
      const w = wireArgs[i];
      if (w === undefined) return undefined;
      if (m.name === "create" && m.implicit && p.type.kind === "record") return decodeCtorRecord(m.cls, w);
      return decode(w, p.type);
    });
    trace.def = m;
    trace.args = args;
    if (m.wireName === "session.login_with_password" || m.wireName === "session.slave_local_login_with_password") {
      trace.user = String(args[0] ?? "");
      trace.originator = String(args[3] ?? "");
    }
    const session = m.takesSession ? checkSession(x, params[0].t === "string" ? params[0].v : "", host) : "";
    if (session) {
      const row = x.store.get("session", session);
      trace.user = String(row.auth_user_name ?? "");
      trace.originator = String(row.originator ?? "");
      // context.ml trackid_of_session: the audit log names a session by a hash of its ref, never the ref.
      trace.trackid = `trackid=${createHash("md5").update(session).digest("hex")}`;
      trace.subject = row.is_local_superuser === true ? "LOCAL_SUPERUSER" : String(row.auth_user_sid ?? "");
    }
    // server_helpers.do_dispatch: after unmarshalling and the session check.
    if (isAsync && !m.hasAsync) throw new XapiError("Fault", [`No async mode for this operation (rpc: ${name})`]);
    const injected = x.faults.failNext.get(m.wireName);
    if (injected && injected.count > 0) {
      if (--injected.count === 0) x.faults.failNext.delete(m.wireName);
      throw new XapiError(injected.code, injected.params);
    }
    // rbac.ml check wraps the call's implementation: an Async call gets its task, which then fails.
    trace.denied = session ? deniedPermission(x, session, m) : undefined;
    const handler: Handler = trace.denied
      ? () => {
          throw permissionDenied(trace.denied!);
        }
      : resolveHandler(x, m);
    if (m.name === "destroy") trace.names = refNames(x, m.cls, args);
    const ctx: CallCtx = { session, host, wireName: m.wireName };
    if (isAsync) {
      const task = createTask(x, method, "", x.masterRef());
      trace.task = task;
      runAsync(x, handler, { ...ctx, task }, args, m);
      return { ok: true, value: task, type: taskRefType };
    }
    const value = await handler(x, ctx, args);
    return { ok: true, value, type: m.result };
  } catch (e) {
    return { ok: false, error: toXapiError(e) };
  }
}

function runAsync(x: Xapi, handler: Handler, ctx: CallCtx, args: unknown[], m: MessageDef): void {
  const task = ctx.task!;
  setImmediate(async () => {
    try {
      if (x.faults.failTaskMidway.has(m.wireName)) {
        x.faults.failTaskMidway.delete(m.wireName);
        x.store.set("task", task, "progress", 0.5);
        throw new XapiError("INTERNAL_ERROR", [`simulated failure of ${m.wireName} midway`]);
      }
      const value = await handler(x, ctx, args);
      completeTask(x, task, encodeValue(value, m.result));
    } catch (e) {
      failTask(x, task, toXapiError(e));
    }
  });
}

const cache = new WeakMap<MessageDef, Handler>();

function resolveHandler(x: Xapi, m: MessageDef): Handler {
  const own = x.handlers.get(m.wireName);
  if (own) return own;
  let h = cache.get(m);
  if (!h) {
    h = genericHandler(classes.get(m.cls)!, m) ?? notImplemented(m);
    cache.set(m, h);
  }
  return h;
}

function notImplemented(m: MessageDef): Handler {
  return () => {
    throw new XapiError("NOT_IMPLEMENTED", [m.wireName]);
  };
}

/** The name and UUID of the object a destroy names (its audit line is written after the object is gone). */
function refNames(x: Xapi, cls: string, args: unknown[]): Record<string, { name: string; uuid: string }> {
  const out: Record<string, { name: string; uuid: string }> = {};
  for (const a of args) {
    const r = typeof a === "string" ? x.store.tryGet(cls, a) : undefined;
    if (r) out[a as string] = { name: String(r.name_label ?? ""), uuid: String(r.uuid ?? "") };
  }
  return out;
}
