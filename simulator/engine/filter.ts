/**
 * The get_all_records_where expression language (xapi db_filter.mll/.mly, docs/xapi-semantics.md §3.3):
 * `field "name__label" = "x" and (not ...)`; `and`/`or` share one precedence and associate left.
 */
import { ClassDef } from "./datamodel";
import { XapiError } from "./errors";
import { XType } from "./types";

type Value = { lit: string } | { col: string };
export type Expr =
  | { op: "true" | "false" }
  | { op: "eq"; a: Value; b: Value }
  | { op: "and" | "or"; a: Expr; b: Expr }
  | { op: "not"; a: Expr };

type Tok = { k: "str"; v: string } | { k: "word"; v: string } | { k: "(" | ")" | "=" };

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) i++;
    else if (c === "(" || c === ")" || c === "=") {
      out.push({ k: c });
      i++;
    } else if (c === '"') {
      const j = s.indexOf('"', i + 1);
      if (j < 0) throw new Error('Failure("lexing: empty token")');
      out.push({ k: "str", v: s.slice(i + 1, j) });
      i = j + 1;
    } else {
      const m = /^[A-Za-z_]+/.exec(s.slice(i));
      if (!m) throw new Error(`Failure("lexing: empty token")`);
      out.push({ k: "word", v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

export function parseFilter(s: string): Expr {
  try {
    const toks = lex(s);
    let p = 0;
    const peek = () => toks[p];
    const value = (): Value => {
      const t = toks[p++];
      if (t?.k === "str") return { lit: t.v };
      if (t?.k === "word" && t.v === "field") {
        const c = toks[p++];
        if (c?.k === "str") return { col: c.v };
      }
      throw new Error("Parsing.Parse_error");
    };
    const atom = (): Expr => {
      const t = peek();
      if (t?.k === "word" && t.v === "not") {
        p++;
        return { op: "not", a: atom() };
      }
      if (t?.k === "word" && (t.v === "true" || t.v === "false")) {
        p++;
        return { op: t.v };
      }
      if (t?.k === "(") {
        p++;
        const e = expr();
        if (toks[p++]?.k !== ")") throw new Error("Parsing.Parse_error");
        return e;
      }
      const a = value();
      if (toks[p++]?.k !== "=") throw new Error("Parsing.Parse_error");
      return { op: "eq", a, b: value() };
    };
    const expr = (): Expr => {
      let e = atom();
      for (;;) {
        const t = peek();
        if (t?.k === "word" && (t.v === "and" || t.v === "or")) {
          p++;
          e = { op: t.v, a: e, b: atom() };
        } else return e;
      }
    };
    const e = expr();
    if (p !== toks.length) throw new Error("Parsing.Parse_error");
    return e;
  } catch (err) {
    throw new XapiError("INVALID_VALUE", [s, (err as Error).message]);
  }
}

/** Field namespaces in the OCaml datamodel: their columns are `<namespace>__<field>`. */
const NAMESPACES: Record<string, string[]> = {
  VM: ["name", "memory", "VCPUs", "actions", "PV", "HVM"],
  VM_metrics: ["memory", "VCPUs"],
  host_metrics: ["memory"],
  host: ["name", "API_version"],
  VBD: ["qos"],
  VIF: ["qos"],
};

/** DB column name -> field name, or undefined when xapi's DB has no such column. */
export function columnField(c: ClassDef, col: string): string | undefined {
  const ns = NAMESPACES[c.name] ?? ["name"];
  const dbl = col.indexOf("__");
  if (dbl > 0) {
    const prefix = col.slice(0, dbl);
    const field = `${prefix}_${col.slice(dbl + 2)}`;
    return ns.includes(prefix) && c.fields.has(field) ? field : undefined;
  }
  if (!c.fields.has(col)) return undefined;
  return ns.some((n) => col.startsWith(`${n}_`)) ? undefined : col;
}

/** The DB's string serialisation of a value, which filters compare against. */
export function serialise(v: unknown, t: XType): string {
  switch (t.kind) {
    case "bool":
      return v ? "true" : "false";
    case "set":
      return `(${((v as unknown[]) ?? []).map((x) => `'${serialise(x, t.of)}'`).join(" ")})`;
    case "map":
      return `(${Object.entries((v as Record<string, unknown>) ?? {})
        .map(([k, x]) => `('${k}' '${serialise(x, t.value)}')`)
        .join(" ")})`;
    default:
      return String(v ?? "");
  }
}

type Row = Record<string, unknown>;

/**
 * The filter as a test of one row, for one query over a whole table: each column name is resolved against the class
 * once, not per row and comparison, and an `or` of `field "c" = "v"` comparisons (the shape of a batch of reads by
 * UUID) becomes one set lookup per column. As before, an unknown column fails only when a row's test reaches it; an
 * `or` naming one is tested term by term, left to right, so that it fails for the same rows.
 */
export function compileFilter(e: Expr, c: ClassDef): (row: Row) => boolean {
  const resolve = (col: string) => {
    const field = columnField(c, col);
    return field === undefined ? undefined : { field, type: c.fields.get(field)!.type };
  };
  const value = (v: Value): ((row: Row) => string) => {
    if ("lit" in v) {
      const lit = v.lit;
      return () => lit;
    }
    const hit = resolve(v.col);
    if (!hit) {
      const col = v.col;
      return () => {
        throw new XapiError("INTERNAL_ERROR", ["missing field", col, ""]);
      };
    }
    const { field, type } = hit;
    return (row) => serialise(row[field], type);
  };
  const test = (x: Expr): ((row: Row) => boolean) => {
    switch (x.op) {
      case "true":
        return () => true;
      case "false":
        return () => false;
      case "not": {
        const a = test(x.a);
        return (row) => !a(row);
      }
      case "and": {
        const [a, b] = [test(x.a), test(x.b)];
        return (row) => a(row) && b(row);
      }
      case "or": {
        const sets = columnSets(x);
        if (sets) return (row) => sets.some(({ field, type, values }) => values.has(serialise(row[field], type)));
        const [a, b] = [test(x.a), test(x.b)];
        return (row) => a(row) || b(row);
      }
      case "eq": {
        const [a, b] = [value(x.a), value(x.b)];
        return (row) => a(row) === b(row);
      }
    }
  };
  /** An `or` whose every term compares a known column with a literal: the literals, by column; else undefined. */
  const columnSets = (x: Expr) => {
    const terms: Expr[] = [];
    const flatten = (t: Expr): void => (t.op === "or" ? (flatten(t.a), flatten(t.b)) : void terms.push(t));
    flatten(x);
    const byColumn = new Map<string, { field: string; type: XType; values: Set<string> }>();
    for (const t of terms) {
      if (t.op !== "eq") return undefined;
      const [col, lit] =
        "col" in t.a && "lit" in t.b ? [t.a.col, t.b.lit] : "lit" in t.a && "col" in t.b ? [t.b.col, t.a.lit] : [];
      if (col === undefined || lit === undefined) return undefined;
      const hit = resolve(col);
      if (!hit) return undefined;
      const entry = byColumn.get(hit.field) ?? { ...hit, values: new Set<string>() };
      entry.values.add(lit);
      byColumn.set(hit.field, entry);
    }
    return [...byColumn.values()];
  };
  return test(e);
}
