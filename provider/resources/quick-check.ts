/**
 * A state schema (boundary.ts stateSchemas) as a plain predicate: "does this bag conform?" answered without zod.
 * In a fresh provider process zod pays 1.5-13 ms for each state schema's first parse (it generates a parser per
 * object schema) and tens of µs per bag while V8 warms those up: replaying a refresh's 1,000 outputs costs 34 CPU ms
 * with zod, 8 with this (npm run bench:boundary). It only says yes where validate() would report no failure; on a
 * no, or for a schema kind it does not model exactly, the boundary asks zod, which words the messages.
 */
import { z } from "zod";
import { isUnknown } from "./common/unknowns";

/**
 * A compiled schema node. Optional and nullable wrappers fold into flags, and one interpreter (`fits`) walks every
 * schema: V8 optimizes that one function early, where zod's per-schema parsers each warm up on their own.
 */
interface Node {
  kind: Kind;
  optional: boolean;
  nullable: boolean;
  /** A value unknown during preview fits here (see compile). */
  tolerant: boolean;
  values?: ReadonlySet<unknown>;
  item?: Node;
  keys?: string[];
  fields?: Node[];
  options?: Node[];
}

const enum Kind {
  Defer, // not modelled: zod decides
  String,
  Number,
  Boolean,
  OneOf,
  Array,
  Record,
  Object,
  Union,
}

/** The predicate for a bag against `schema`; reads the bag, never changes it. */
export function quickCheck(schema: z.ZodType): (bag: unknown) => boolean {
  const root = compile(schema, "root");
  return (bag) => fits(root, bag);
}

function fits(n: Node, v: unknown): boolean {
  if (v === undefined && n.optional) return true;
  if (v === null && n.nullable) return true;
  if (n.tolerant && isUnknown(v)) return true;
  switch (n.kind) {
    case Kind.String:
      return typeof v === "string";
    case Kind.Number:
      return typeof v === "number" && Number.isFinite(v);
    case Kind.Boolean:
      return typeof v === "boolean";
    case Kind.OneOf:
      return n.values!.has(v);
    case Kind.Array: {
      if (!Array.isArray(v)) return false;
      const item = n.item!;
      for (let i = 0; i < v.length; i++) if (!fits(item, v[i])) return false;
      return true;
    }
    case Kind.Record: {
      // zod reads symbol keys too, and refuses an enumerable one as a key that is not a string
      if (!z.core.util.isPlainObject(v) || Object.getOwnPropertySymbols(v).length) return false;
      const item = n.item!;
      for (const k in v)
        if (Object.prototype.hasOwnProperty.call(v, k) && k !== "__proto__" && !fits(item, v[k])) return false;
      return true;
    }
    case Kind.Object: {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
      const keys = n.keys!;
      const fields = n.fields!;
      for (let i = 0; i < keys.length; i++) {
        const x = (v as Record<string, unknown>)[keys[i]];
        if (x === undefined ? !fields[i].optional : !fits(fields[i], x)) return false;
      }
      return true;
    }
    case Kind.Union: {
      const options = n.options!;
      for (let i = 0; i < options.length; i++) if (fits(options[i], v)) return true;
      return false;
    }
    default:
      return false;
  }
}

/** Every node has every field, in one order: one hidden class, so `fits` reads them all the same way. */
function newNode(kind: Kind, tolerant: boolean, more: Partial<Node> = {}): Node {
  return {
    kind,
    optional: false,
    nullable: false,
    tolerant,
    values: more.values,
    item: more.item,
    keys: more.keys,
    fields: more.fields,
    options: more.options,
  };
}

/** Not modelled: refuses all but what an optional or nullable wrapper lets through without running it, as zod does. */
const deferred = (): Node => newNode(Kind.Defer, false);

/**
 * Where a node sits, for values unknown during preview: validate() drops the issues zod reports at such a value's own
 * path, which it reaches through objects, arrays and records (never for the bag itself); a union folds its options'
 * issues into one at the union's own path, so below a union an unknown value is held to its type like any other.
 */
type Position = "root" | "child" | "inUnion";

/** The parts of a zod definition compile reads (zod's own parsers read the same). */
interface Def {
  type: string;
  checks?: unknown[];
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  options?: z.ZodType[];
}

function compile(schema: z.ZodType, at: Position): Node {
  const def = schema.def as Def;
  if (!modelled(schema)) return deferred();
  const node = (kind: Kind, more?: Partial<Node>) => newNode(kind, at === "child", more);
  const inside: Position = at === "inUnion" ? "inUnion" : "child";
  switch (def.type) {
    case "optional": {
      if (def.innerType!._zod.optin === "defaulted") return deferred(); // zod would fill a value in for undefined
      const inner = compile(def.innerType!, at); // a node of its own, never shared
      inner.optional = true;
      return inner;
    }
    case "nullable": {
      const inner = compile(def.innerType!, at);
      inner.nullable = true;
      return inner;
    }
    case "string":
      return node(Kind.String);
    case "number":
      return node(Kind.Number);
    case "boolean":
      return node(Kind.Boolean);
    case "enum":
    case "literal": {
      const values = schema._zod.values; // the very set zod tests (a numeric enum's names are not in it)
      return values ? node(Kind.OneOf, { values }) : deferred();
    }
    case "array":
      return node(Kind.Array, { item: compile(def.element!, inside) });
    case "record":
      // z.record(z.string(), T): every own enumerable string key but __proto__ holds a T
      if (def.keyType!.def.type !== "string" || !modelled(def.keyType!)) return deferred();
      return node(Kind.Record, { item: compile(def.valueType!, inside) });
    case "object": {
      // extra keys kept or dropped, never refused; every field optional (a stored bag's are): a missing required key
      // would be an issue of its own
      const catchall = def.catchall;
      if (catchall && !(["unknown", "any"].includes(catchall.def.type) && modelled(catchall))) return deferred();
      const shape = def.shape!;
      // zod reads a symbol key of the shape too; the bags are JSON, so such a shape is left to zod
      if (Object.getOwnPropertySymbols(shape).length) return deferred();
      const keys: string[] = [];
      const fields: Node[] = [];
      for (const key of Object.keys(shape)) {
        if (key === "__proto__") continue; // zod skips it
        const f = compile(shape[key], inside);
        if (!f.optional) return deferred();
        keys.push(key);
        fields.push(f);
      }
      return node(Kind.Object, { keys, fields });
    }
    case "union":
      return node(Kind.Union, { options: def.options!.map((o) => compile(o, "inUnion")) });
    default:
      return deferred();
  }
}

/**
 * The kinds modelled: each with the zod class it must be (z.exactOptional() is an "optional" that refuses undefined;
 * z.email() a "string" of its own class) and the definition fields it may have. Any other field (a string or number
 * `format` as in z.int(), `coerce`, a union's `discriminator` or `inclusive`, a refinement in `checks`) changes what
 * zod accepts: such a schema defers.
 */
const modelledKinds: Record<string, { zodClass: string; fields: readonly string[] }> = {
  optional: { zodClass: "ZodOptional", fields: ["innerType"] },
  nullable: { zodClass: "ZodNullable", fields: ["innerType"] },
  string: { zodClass: "ZodString", fields: [] },
  number: { zodClass: "ZodNumber", fields: [] },
  boolean: { zodClass: "ZodBoolean", fields: [] },
  enum: { zodClass: "ZodEnum", fields: ["entries"] },
  literal: { zodClass: "ZodLiteral", fields: ["values"] },
  array: { zodClass: "ZodArray", fields: ["element"] },
  record: { zodClass: "ZodRecord", fields: ["keyType", "valueType"] },
  object: { zodClass: "ZodObject", fields: ["shape", "catchall"] },
  union: { zodClass: "ZodUnion", fields: ["options"] },
  unknown: { zodClass: "ZodUnknown", fields: [] },
  any: { zodClass: "ZodAny", fields: [] },
};

// A trait lookup per node rather than a chain of instanceof (each a call into zod's Symbol.hasInstance): compiling
// every kind's schemas is then well under a millisecond on a fresh process.
function modelled(schema: z.ZodType): boolean {
  const def = schema.def as Def;
  const kind = modelledKinds[def.type];
  if (!kind || !schema._zod.traits.has(kind.zodClass)) return false;
  for (const k of Object.keys(def)) {
    if (k === "type" || kind.fields.includes(k)) continue;
    if (k === "checks" && !def.checks?.length) continue;
    return false;
  }
  return true;
}
