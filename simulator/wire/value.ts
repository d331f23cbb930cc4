/** A decoded request parameter, keeping the wire type so that type checks match rpclib's. */
export type WireValue =
  | { t: "string"; v: string }
  | { t: "int"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "double"; v: number }
  | { t: "datetime"; v: string }
  | { t: "base64"; v: string }
  | { t: "array"; v: WireValue[] }
  | { t: "struct"; v: Map<string, WireValue> }
  | { t: "nil" };

/** rpclib's printed form of a value, used in INTERNAL_ERROR texts for type errors. */
export function describe(w: WireValue): string {
  switch (w.t) {
    case "string":
      return `S(${w.v})`;
    case "int":
      return `I(${w.v})`;
    case "bool":
      return `B(${w.v})`;
    case "double":
      return `F(${w.v})`;
    case "datetime":
      return `D(${w.v})`;
    case "base64":
      return `B64(${w.v})`;
    case "array":
      return `[${w.v.map(describe).join(",")}]`;
    case "struct":
      return `{${[...w.v].map(([k, v]) => `${k}:${describe(v)}`).join(",")}}`;
    default:
      return "N";
  }
}

/** JSON-RPC params to wire values: integers are ints, other numbers doubles. */
export function fromJson(x: unknown): WireValue {
  if (x === null || x === undefined) return { t: "nil" };
  if (typeof x === "string") return { t: "string", v: x };
  if (typeof x === "boolean") return { t: "bool", v: x };
  if (typeof x === "number") return Number.isInteger(x) ? { t: "int", v: String(x) } : { t: "double", v: x };
  if (Array.isArray(x)) return { t: "array", v: x.map(fromJson) };
  const m = new Map<string, WireValue>();
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) m.set(k, fromJson(v));
  return { t: "struct", v: m };
}
