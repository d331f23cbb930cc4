// The boundary's plain predicate (provider/resources/quick-check.ts) beside zod's validate(), which it answers for
// when it says yes: over every kind's state schemas, real bags (fixtures/stored-bags.json: the outputs and checked
// inputs of resources created against the simulator by bench/boundary.ts), bags generated from the schemas, and
// each of those mutated at every place (wrong types, null, missing, extra keys, values unknown during preview).
import { z } from "zod";
import { validate } from "../../../provider/resources/common/check";
import type { StateSchemas } from "../../../provider/resources/contract";
import * as network from "../../../provider/resources/network";
import * as pool from "../../../provider/resources/pool";
import { quickCheck } from "../../../provider/resources/quick-check";
import { resourceKinds } from "../../../provider/resources/registry";
import * as sr from "../../../provider/resources/sr";
import * as vdi from "../../../provider/resources/vdi";
import * as vm from "../../../provider/resources/vm";
import stored from "./fixtures/stored-bags.json";

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const modules = [pool.resource, network.resource, sr.resource, vdi.resource, vm.resource];
const realBags: Record<string, unknown[]> = {};
for (const [name, bags] of Object.entries(stored as Record<string, Record<"inputs" | "outputs", unknown>>))
  for (const what of ["inputs", "outputs"] as const)
    (realBags[`${name.split(" ")[0]} ${what}`] ??= []).push(bags[what]);

/** What the boundary decided before the predicate: the bag fits when validate() reports no failure. */
const zodFits = (schema: z.ZodType, bag: unknown) => validate(schema, bag).failures.length === 0;

/** A seeded generator, so a failure names a bag that can be made again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value that fits `schema` (a state schema: the kinds boundary.ts storedType makes). */
function generate(schema: z.ZodType, rnd: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const many = (): number => (depth > 3 ? 0 : Math.floor(rnd() * 4));
  if (schema instanceof z.ZodOptional)
    return rnd() < 0.25 ? undefined : generate(schema.unwrap() as z.ZodType, rnd, depth);
  if (schema instanceof z.ZodNullable) return rnd() < 0.2 ? null : generate(schema.unwrap() as z.ZodType, rnd, depth);
  if (schema instanceof z.ZodString) return pick(["", "eth0", "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", "x y"]);
  if (schema instanceof z.ZodNumber) return pick([0, 1, -3, 1.5, 1500, 2 ** 40]);
  if (schema instanceof z.ZodBoolean) return rnd() < 0.5;
  if (schema instanceof z.ZodEnum || schema instanceof z.ZodLiteral) return pick([...schema._zod.values!]);
  if (schema instanceof z.ZodArray)
    return Array.from({ length: many() }, () => generate(schema.element as z.ZodType, rnd, depth + 1));
  if (schema instanceof z.ZodRecord)
    return Object.fromEntries(
      Array.from({ length: many() }, (_, i) => [`k${i}`, generate(schema.valueType as z.ZodType, rnd, depth + 1)]),
    );
  if (schema instanceof z.ZodObject) {
    const bag: Record<string, unknown> = {};
    for (const [k, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const v = generate(field, rnd, depth + 1);
      if (v !== undefined || rnd() < 0.1) bag[k] = v; // now and then an explicit undefined
    }
    if (rnd() < 0.3) bag.fieldOfAnotherVersion = pick([1, "x", null, { a: [1] }]);
    return bag;
  }
  if (schema instanceof z.ZodUnion) return generate(pick(schema.options as z.ZodType[]), rnd, depth);
  throw new Error(`the generator does not know the schema kind ${schema.def.type}: teach it, as quick-check.ts`);
}

/** Values put in every place of a bag: each kind's wrong types, and odd objects an engine never sends. */
const replacements = (): unknown[] => [
  "s",
  "",
  0,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  true,
  null,
  undefined,
  [],
  ["s"],
  [1],
  [null],
  [{}],
  {},
  { a: 1 },
  { a: "s" },
  { a: null },
  { a: [1] },
  unknown,
  [unknown],
  { a: unknown },
  { vdi: "s", bootable: unknown },
  new Date(0),
  new Map([["a", "s"]]),
  Object.create(null) as object,
  Object.assign(Object.create(null) as object, { a: 1 }),
  { [Symbol("s")]: "s" },
  JSON.parse('{"__proto__": 1}'),
  () => "s",
];

type Path = (string | number)[];

/** Every place in a value: object keys, array indices. */
function placesIn(value: unknown, at: Path = []): Path[] {
  if (!value || typeof value !== "object") return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...at, k], ...placesIn((value as Record<string | number, unknown>)[k], [...at, k])]);
}

function setAt(value: unknown, at: Path, to: unknown, remove = false): unknown {
  if (!at.length) return to;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const [k, ...rest] = at;
  if (remove && !rest.length) delete copy[k];
  else copy[k] = setAt(copy[k], rest, to, remove);
  return copy;
}

/** Each bag mutated once per place and replacement, with a key removed, and with an extra key in each object. */
function* mutants(bag: unknown): Generator<unknown> {
  for (const v of replacements()) yield v; // the bag itself
  for (const at of placesIn(bag)) {
    for (const v of replacements()) yield setAt(bag, at, v);
    yield setAt(bag, at, undefined, true);
  }
  for (const at of [[], ...placesIn(bag)]) {
    const here = at.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], bag);
    if (here && typeof here === "object" && !Array.isArray(here)) {
      yield setAt(bag, at, { ...here, extra: 1 });
      yield setAt(bag, at, { ...here, extra: unknown });
    }
  }
}

const cases = modules.flatMap((m) =>
  (["inputs", "outputs"] as const).map((what) => ({ kind: m.kind, what, schema: m.schemas[what] })),
);

function validBags(kind: string, what: string, schema: z.ZodType): unknown[] {
  const rnd = random(kind.length * 1000 + what.length);
  return [{}, ...(realBags[`${kind} ${what}`] ?? []), ...Array.from({ length: 12 }, () => generate(schema, rnd))];
}

describe("the boundary's quick check (quick-check.ts) against zod", () => {
  it("covers every resource kind the provider serves", () => {
    expect(modules.map((m) => m.kind).sort()).toEqual(Object.keys(resourceKinds).sort());
  });

  it.each(cases)("$kind $what: both accept the real and the generated bags", ({ kind, what, schema }) => {
    const fits = quickCheck(schema);
    for (const bag of validBags(kind, what, schema)) {
      expect({ bag, zod: zodFits(schema, bag) }).toEqual({ bag, zod: true });
      expect({ bag, quick: fits(bag) }).toEqual({ bag, quick: true });
    }
  });

  it.each(cases)(
    "$kind $what: on mutated bags it never accepts what zod refuses, and refuses only what zod refuses",
    ({ kind, what, schema }) => {
      const fits = quickCheck(schema);
      let accepted = 0;
      let refused = 0;
      for (const valid of validBags(kind, what, schema))
        for (const bag of mutants(valid)) {
          const zod = zodFits(schema, bag);
          const quick = fits(bag);
          // the invariant: a yes stands for zod's yes; a no goes to zod, so an extra no only costs time
          if (quick && !zod) throw new Error(`quick check accepts a bag zod refuses: ${describeBag(bag)}`);
          // exact for every kind a state schema uses, so no bag goes to zod for nothing
          if (zod && !quick) throw new Error(`quick check refuses a bag zod accepts: ${describeBag(bag)}`);
          if (zod) accepted++;
          else refused++;
        }
      // the mutations reach both answers
      expect(accepted).toBeGreaterThan(50);
      expect(refused).toBeGreaterThan(50);
    },
  );

  it("lets a value unknown during preview through where validate() does, not inside a union", () => {
    const { inputs } = vm.resource.schemas as StateSchemas;
    const fits = quickCheck(inputs);
    expect(fits({ vcpus: unknown, memory: unknown, disks: [unknown], otherConfig: { a: unknown } })).toBe(true);
    // a disk is a union (attached or new): zod folds its options' issues into one at `disks[0]`, whose value is an
    // object, not the unknown value
    const inUnion = { disks: [{ vdi: "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21", bootable: unknown }] };
    expect(zodFits(inputs, inUnion)).toBe(false);
    expect(fits(inUnion)).toBe(false);
    // the bag itself is never let through
    expect(zodFits(inputs, unknown)).toBe(false);
    expect(fits(unknown)).toBe(false);
  });

  it("defers to zod on kinds it does not model exactly (a format, a refinement, a default, a transform…)", () => {
    const deferred: [z.ZodType, unknown][] = [
      [z.looseObject({ n: z.int().nullish() }), { n: 1.5 }],
      [z.looseObject({ s: z.email().nullish() }), { s: "x" }],
      [z.looseObject({ s: z.string().min(2).nullish() }), { s: "x" }],
      [
        z.looseObject({
          b: z
            .boolean()
            .refine((b) => b)
            .nullish(),
        }),
        { b: false },
      ],
      [z.looseObject({ s: z.string().default("d").optional() }), {}],
      [
        z.looseObject({
          s: z
            .string()
            .transform((s) => s.length)
            .nullish(),
        }),
        { s: "x" },
      ],
      [z.looseObject({ u: z.xor([z.string(), z.string()]).nullish() }), { u: "x" }],
      [z.strictObject({ s: z.string().nullish() }), { s: "x", extra: 1 }],
      [z.looseObject({ s: z.string() }), { s: "x" }],
      [z.looseObject({ s: z.string().exactOptional() }), { s: undefined }], // an "optional" that refuses undefined
    ];
    for (const [schema, bag] of deferred) expect(quickCheck(schema)(bag)).toBe(false);
    // while what is modelled is answered
    expect(quickCheck(z.looseObject({ n: z.number().nullish() }))({ n: 1.5 })).toBe(true);
  });
});

function describeBag(bag: unknown): string {
  return JSON.stringify(bag, (_k, v) =>
    v === undefined ? "<undefined>" : typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
  );
}
