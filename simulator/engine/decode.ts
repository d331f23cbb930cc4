/** Wire values to API values by datamodel type, with rpclib's leniency and its INTERNAL_ERROR on mismatch. */
import { WireValue, describe } from "../wire/value";
import { classes, enums } from "./datamodel";
import { XapiError } from "./errors";
import { XType } from "./types";

function typeError(expected: string, w: WireValue): never {
  throw new XapiError("INTERNAL_ERROR", [`Failure("Expected ${expected}, got '${describe(w)}'")`]);
}

const INT = /^-?[0-9]+$/;

export function decode(w: WireValue, t: XType): unknown {
  switch (t.kind) {
    case "string":
    case "ref":
      if (w.t === "string") return w.v;
      return typeError("string", w);
    case "datetime":
      if (w.t === "datetime" || w.t === "string") return w.v;
      return typeError("datetime", w);
    case "enum": {
      if (w.t !== "string") return typeError("string", w);
      const values = enums.get(t.name);
      if (!values) return w.v;
      const lc = w.v.toLowerCase();
      const hit = values.find((x) => x.toLowerCase() === lc);
      if (hit === undefined) throw new XapiError("INTERNAL_ERROR", [`Rpc.Runtime_error("${t.name}", S(${w.v}))`]);
      return hit;
    }
    case "int":
      if ((w.t === "int" || w.t === "string") && INT.test(w.v)) return Number(w.v);
      return typeError("int64", w);
    case "float":
      if (w.t === "double") return w.v;
      if ((w.t === "int" || w.t === "string") && w.v.trim() !== "" && !Number.isNaN(Number(w.v))) return Number(w.v);
      return typeError("float", w);
    case "bool":
      if (w.t === "bool") return w.v;
      return typeError("bool", w);
    case "set":
      if (w.t !== "array") return typeError("array", w);
      return w.v.map((x) => decode(x, t.of));
    case "map": {
      if (w.t !== "struct") return typeError("struct", w);
      const out: Record<string, unknown> = {};
      for (const [k, v] of w.v) out[k] = decode(v, t.value);
      return out;
    }
    case "option":
      return w.t === "nil" ? undefined : decode(w, t.of);
    case "record":
      // Constructors read the struct field by field (see generic.ts); other record params are rare.
      if (w.t !== "struct") return typeError("struct", w);
      return w.v;
    default:
      return typeError(t.kind, w);
  }
}

/**
 * A constructor record: only RW and StaticRO fields are read; a field with no default must be present
 * (else INTERNAL_ERROR Dispatcher_FieldNotFound), unknown members are ignored (docs/xapi-semantics.md §3.4).
 */
export function decodeCtorRecord(cls: string, w: WireValue): Record<string, unknown> {
  if (w.t !== "struct") typeError("struct", w);
  const members = (w as { v: Map<string, WireValue> }).v;
  const def = classes.get(cls)!;
  const out: Record<string, unknown> = {};
  for (const f of def.fieldList) {
    if (f.qualifier === "RO/runtime") continue;
    const m = members.get(f.name);
    if (m === undefined) {
      if (f.default === undefined) {
        throw new XapiError("INTERNAL_ERROR", [`Server_helpers.Dispatcher_FieldNotFound("${f.name}")`]);
      }
      continue;
    }
    out[f.name] = decode(m, f.type);
  }
  return out;
}
