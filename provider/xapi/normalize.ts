/**
 * Turns decoded XML-RPC values into typed values using the datamodel (docs/xapi-semantics.md §1.3, §9.2): XML-RPC sends
 * ints as untyped strings, JSON-RPC as numbers. After this step an int field is a number whatever the
 * transport; JSON-RPC results need no conversion at all. Datetimes stay xapi's strings on both.
 */
import { FIELD_TYPES, METHOD_TYPES } from "./generated/schema";

/** A converter, or null when the wire value is already the typed value (strings, refs, enums, bools). */
export type Converter = ((v: unknown) => unknown) | null;

const toNumber = (v: unknown): unknown => {
  if (typeof v === "string" && v !== "") {
    const n = Number(v);
    return Number.isNaN(n) ? v : n;
  }
  return v;
};

const cache = new Map<string, Converter>();

/** Compiles a datamodel type string ("int", "(string -> int) map", "VM record", ...) into a converter. */
export function converterFor(type: string): Converter {
  const hit = cache.get(type);
  if (hit !== undefined) return hit;
  cache.set(type, null); // breaks recursion between record types; replaced below
  const conv = compile(type.trim());
  cache.set(type, conv);
  return conv;
}

function compile(t: string): Converter {
  if (t === "int" || t === "float") return toNumber;
  if (t.endsWith(" set")) {
    const inner = converterFor(t.slice(0, -4));
    if (!inner) return null;
    return (v) => (Array.isArray(v) ? v.map(inner) : v);
  }
  if (t.endsWith(" map")) {
    const value = converterFor(mapValueType(t));
    if (!value) return null;
    return (v) => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
      const o = v as Record<string, unknown>;
      for (const k in o) o[k] = value(o[k]);
      return o;
    };
  }
  if (t.endsWith(" record")) return recordConverter(t.slice(0, -7));
  if (t === "an event batch") return eventBatch;
  return null;
}

function mapValueType(t: string): string {
  const body = t.slice(0, -4).trim().slice(1, -1);
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0 && body.startsWith(" -> ", i)) return body.slice(i + 4);
  }
  return "string";
}

const recordCache = new Map<string, Converter>();

/** Converter for a record of `cls`; null when the class is not in scope or has no field to convert. */
export function recordConverter(cls: string): Converter {
  const hit = recordCache.get(cls);
  if (hit !== undefined) return hit;
  const fields = FIELD_TYPES[cls];
  if (!fields) {
    recordCache.set(cls, null);
    return null;
  }
  recordCache.set(cls, null);
  const steps: [string, (v: unknown) => unknown][] = [];
  for (const name of Object.keys(fields)) {
    const c = converterFor(fields[name]);
    if (c) steps.push([name, c]);
  }
  const conv: Converter = steps.length
    ? (v) => {
        if (v === null || typeof v !== "object") return v;
        const o = v as Record<string, unknown>;
        for (let i = 0; i < steps.length; i++) {
          const [name, c] = steps[i];
          const x = o[name];
          if (x !== undefined) o[name] = c(x);
        }
        return o;
      }
    : null;
  recordCache.set(cls, conv);
  return conv;
}

const lowerCaseClasses = new Map(Object.keys(FIELD_TYPES).map((c) => [c.toLowerCase(), c]));

/** Datamodel spelling of a lower-case class name from an event ("vm_guest_metrics" → "VM_guest_metrics"). */
export function classFromEventClass(lc: string): string | undefined {
  return lowerCaseClasses.get(lc.toLowerCase());
}

function eventBatch(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  const b = v as { events?: unknown; valid_ref_counts?: unknown };
  if (Array.isArray(b.events)) {
    for (const ev of b.events as { class?: unknown; snapshot?: unknown }[]) {
      if (ev && ev.snapshot !== undefined && typeof ev.class === "string") {
        const cls = classFromEventClass(ev.class);
        const conv = cls ? recordConverter(cls) : null;
        if (conv) ev.snapshot = conv(ev.snapshot);
      }
    }
  }
  if (b.valid_ref_counts && typeof b.valid_ref_counts === "object") {
    const counts = b.valid_ref_counts as Record<string, unknown>;
    for (const k in counts) counts[k] = toNumber(counts[k]);
  }
  return v;
}

/** Converter for the result of a wire method (with or without the `Async.` prefix: that returns a task ref). */
export function resultConverter(method: string): Converter {
  const sig = METHOD_TYPES[method];
  return sig ? converterFor(sig[2]) : null;
}

/** The result type of a method, for decoding a task's `result` after `Async.<method>`. */
export function resultType(method: string): string | undefined {
  return METHOD_TYPES[method]?.[2];
}

/** Parameter types after the session (undefined for methods outside the classes in scope). */
export function paramTypes(method: string): readonly string[] | undefined {
  const base = method.startsWith("Async.") ? method.slice(6) : method;
  return METHOD_TYPES[base]?.[1];
}

/** Whether the method takes the session as its first parameter (true for unknown methods). */
export function takesSession(method: string): boolean {
  const base = method.startsWith("Async.") ? method.slice(6) : method;
  const sig = METHOD_TYPES[base];
  if (sig) return sig[0];
  return !(base.startsWith("system.") || base === "session.login_with_password");
}
