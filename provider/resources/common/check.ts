// The parts of check() every resource shares: schema validation, the connection
// profile, and the rule that `adopt` excludes creation-only fields.
import type { z } from "zod";
import type { CheckFailure, ResourceContext } from "../registry";
import { ConnectionConfigError, resolveConnection } from "./connection";
import { validate } from "./validate";
import { isUnknown } from "./unknowns";

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
