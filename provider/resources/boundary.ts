/**
 * Where the engine's property bags become a module's typed values (contract.ts): checked inputs and old outputs are
 * checked once against the module's state schemas, then handed over as they came.
 */
import { z } from "zod";
import { validate } from "./common/check";
import type { EngineResource, Prior, Props, ResourceModule, StateSchemas } from "./contract";
import { quickCheck } from "./quick-check";

/**
 * The TypeScript type of a field as a schema: a stored value is held to its type (string, number, enum, shape),
 * not to the program-facing rules (UUID format, ranges, lengths), which check() applies to what the program gives.
 */
function storedType(field: z.ZodType): z.ZodType {
  if (field instanceof z.ZodNullable) return storedType(field.unwrap() as z.ZodType).nullable();
  if (field instanceof z.ZodDefault || field instanceof z.ZodOptional)
    return storedType(field.unwrap() as z.ZodType).optional();
  if (field instanceof z.ZodString) return z.string();
  if (field instanceof z.ZodNumber) return z.number();
  if (field instanceof z.ZodArray) return z.array(storedType(field.element as z.ZodType));
  if (field instanceof z.ZodRecord) return z.record(z.string(), storedType(field.valueType as z.ZodType));
  if (field instanceof z.ZodObject) return lenient(field.shape);
  if (field instanceof z.ZodUnion) return z.union((field.options as z.ZodType[]).map(storedType));
  return field; // booleans, enums, literals: the rule is the type
}

function lenient(shape: z.ZodRawShape): z.ZodType {
  return z.looseObject(
    Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, storedType(v as z.ZodType).nullish()])),
  );
}

/**
 * A module's state schemas from its input and output schemas: each field optional (older state, an adopted object's
 * unstated defaults) and nullable (the engine stores undefined as null); fields no schema names are kept.
 * `checkedExtra`: fields check() adds to the program's inputs (Vdi's sourceHash).
 */
export function stateSchemas(
  inputSchema: z.ZodObject,
  outputSchema: z.ZodObject,
  checkedExtra: z.ZodRawShape = {},
): StateSchemas {
  return {
    inputs: lenient({ ...inputSchema.shape, ...checkedExtra }),
    outputs: lenient({ ...inputSchema.shape, ...checkedExtra, ...outputSchema.shape }),
  };
}

/** A state schema with its plain predicate (quick-check.ts), which answers for zod whenever it says yes. */
interface Held {
  schema: z.ZodType;
  fits: (bag: unknown) => boolean;
}

/** The predicate is made on first use: a refresh's provider process reads outputs only. */
function held(schema: z.ZodType): Held {
  let fits: ((bag: unknown) => boolean) | undefined;
  return { schema, fits: (bag) => (fits ??= quickCheck(schema))(bag) };
}

/**
 * The bag, once it fits `schema`. Returned as given, not as zod would rewrite it: filling in a default here would
 * overwrite what an adopted object keeps. Values unknown during preview are let through (validate skips them).
 */
function conforming<T extends Props>({ schema, fits }: Held, bag: Props | undefined, kind: string, what: string): T {
  const value = bag ?? {};
  if (fits(value)) return value as T;
  const { failures } = validate(schema, value);
  if (failures.length)
    throw new Error(
      `${kind}: the ${what} do not fit this provider version (${failures.map((f) => f.reason).join("; ")}); ` +
        "were they written by another version, or edited by hand?",
    );
  return value as T;
}

/** The module as the engine calls it (contract.ts EngineResource); a refused bag is a rejected promise. */
export function atBoundary<I extends Props, O extends Props>(mod: ResourceModule<I, O>): EngineResource {
  const inputs = held(mod.schemas.inputs);
  const outputs = held(mod.schemas.outputs);
  const news = (bag: Props | undefined) => conforming<I>(inputs, bag, mod.kind, "checked inputs");
  const oldInputs = (bag: Props | undefined) => conforming<Prior<I>>(inputs, bag, mod.kind, "stored inputs");
  const olds = (bag: Props | undefined) => conforming<Prior<O>>(outputs, bag, mod.kind, "stored outputs");
  return {
    inputSchema: mod.inputSchema,
    comparison: mod.comparison,
    check: async (o, n, ctx) => mod.check(oldInputs(o), n, ctx),
    diff: async (id, o, n, ctx) => mod.diff(id, olds(o), news(n), ctx),
    create: async (n, ctx) => mod.create(news(n), ctx),
    read: async (id, o, ctx) => mod.read(id, olds(o), ctx),
    update: async (id, o, n, ctx) => mod.update(id, olds(o), news(n), ctx),
    delete: async (id, o, ctx) => mod.delete(id, olds(o), ctx),
  };
}
