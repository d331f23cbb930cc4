// The parts of check() every resource shares: schema validation (zod issues turned into Pulumi check failures that
// name the field and what is allowed), the connection profile, and the rule that `adopt` excludes creation-only fields.
import { z } from "zod";
import type { CheckFailure, ResourceContext } from "../contract";
import { ConnectionConfigError, resolveConnection } from "./connection";
import { containsUnknown, isUnknown } from "./unknowns";

export function checkInputs<S extends z.ZodType>(
  schema: S,
  news: Record<string, unknown>,
  ctx: ResourceContext,
  creationOnly: string[] = [],
): { value?: z.infer<S>; failures: CheckFailure[] } {
  const { value, failures } = validate(schema, news);
  if (news.adopt !== undefined && !isUnknown(news.adopt)) {
    for (const f of creationOnly) {
      if (news[f] !== undefined)
        failures.push({
          property: f,
          reason: `${f}: cannot be combined with adopt (an adopted object keeps how it was made; remove ${f} or adopt)`,
        });
    }
  }
  // An empty profile name already failed the schema ("must not be empty"): one failure is enough.
  if (
    news.connection === undefined ||
    (typeof news.connection === "string" && news.connection !== "" && !isUnknown(news.connection))
  ) {
    try {
      resolveConnection(ctx.config, news.connection as string | undefined);
    } catch (err) {
      if (!(err instanceof ConnectionConfigError)) throw err;
      failures.push({ property: "connection", reason: `connection: ${err.message}` });
    }
  }
  if (failures.length) return { failures };
  if (value && news.adopt !== undefined) stripDefaults(value as Record<string, unknown>, news);
  return { value, failures };
}

/**
 * An adopted object keeps what the program does not state: schema defaults
 * (description "", MTU 1500, readOnly false…) must not overwrite its live values.
 * The owned maps keep their empty defaults: owning no key changes nothing.
 */
function stripDefaults(value: Record<string, unknown>, news: Record<string, unknown>): void {
  for (const k of Object.keys(value)) if (news[k] === undefined && k !== "otherConfig" && k !== "tags") delete value[k];
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function valueAt(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = obj;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function reasonOf(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys":
      return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_type":
      return input === undefined
        ? `is required (${issue.expected})`
        : `must be ${issue.expected === "int" ? "an integer" : `a ${issue.expected}`}`;
    case "too_small":
      if (issue.origin === "string")
        return Number(issue.minimum) === 1 ? "must not be empty" : `must be at least ${issue.minimum} characters long`;
      if (issue.origin === "array" || issue.origin === "set")
        return `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? "" : "s"}`;
      return `must be ≥ ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters long`;
      if (issue.origin === "array" || issue.origin === "set")
        return `must have at most ${issue.maximum} item${Number(issue.maximum) === 1 ? "" : "s"}`;
      return `must be ≤ ${issue.maximum}`;
    case "invalid_union": {
      // e.g. size: number | string given true. zod's own message is "Invalid input".
      const expected = [
        ...new Set(
          issue.errors.flatMap((branch) => branch.filter((i) => i.code === "invalid_type").map((i) => i.expected)),
        ),
      ];
      return expected.length ? `must be ${expected.map((e) => `a ${e}`).join(" or ")}` : issue.message;
    }
    default:
      return issue.message;
  }
}

/**
 * Parses `news` with the schema. Issues on values that are unknown during preview
 * are ignored (they are checked again at `up`, when known).
 */
export function validate<S extends z.ZodType>(
  schema: S,
  news: unknown,
): { value?: z.infer<S>; failures: CheckFailure[] } {
  const r = schema.safeParse(news);
  if (r.success) return { value: r.data, failures: [] };
  const failures: CheckFailure[] = [];
  for (const issue of r.error.issues) {
    if (issue.path.length && isUnknown(valueAt(news, issue.path))) continue;
    const base = issue.code === "unrecognized_keys" ? "" : fieldPath(issue.path);
    failures.push({
      property: base || "(inputs)",
      reason: `${base || "inputs"}: ${reasonOf(issue, valueAt(news, issue.path))}`,
    });
  }
  if (!failures.length) {
    const value = parseAroundUnknowns(schema, news);
    if (value) return { value, failures };
  }
  return { failures };
}

/**
 * Only unknown values failed: the rest is still parsed (defaults filled in, sizes
 * normalized by the caller…) and the unknown fields are kept as they are.
 * Otherwise the host would hand diff() the raw program values, and preview would
 * show replacements (e.g. a missing default compared with the state) that `up`
 * does not make.
 */
function parseAroundUnknowns<S extends z.ZodType>(schema: S, news: unknown): z.infer<S> | undefined {
  if (!(schema instanceof z.ZodObject) || !news || typeof news !== "object") return undefined;
  const all = news as Record<string, unknown>;
  const unknownKeys = Object.keys(all).filter((k) => containsUnknown(all[k]) && k in schema.shape);
  const known = Object.fromEntries(Object.entries(all).filter(([k]) => !unknownKeys.includes(k)));
  const mask = Object.fromEntries(unknownKeys.map((k) => [k, true])) as Record<string, true> & Record<number, never>;
  const r = schema.omit(mask).safeParse(known);
  if (!r.success) return undefined;
  return {
    ...(r.data as Record<string, unknown>),
    ...Object.fromEntries(unknownKeys.map((k) => [k, all[k]])),
  } as z.infer<S>;
}
