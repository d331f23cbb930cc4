// How check() failures reach the engine. The engine prints `property <p> value <inputs[p]> has a problem: <reason>`,
// looking <p> up as one top-level key: a nested field (deviceConfig.nfsversion, bond.mode, tags[0]) prints
// `value {<nil>}`, and a secret input such as deviceConfig prints `{[secret]}` whatever it holds
// (pkg/resource/deploy/step_generator.go issueCheckFailures). So each failure goes out with no property, which the
// engine prints as `has a problem: <reason>`, and the reason itself shows the value given, passwords excepted.
import type { CheckFailure } from "./resources/contract";
import { isUnknown } from "./resources/common/unknowns";

/** deviceConfig keys holding passwords (sr.ts isPasswordKey) and anything named like a secret. */
const secretKey = /password|secret/i;

export function forEngine(failures: CheckFailure[], news: Record<string, unknown>): CheckFailure[] {
  return failures.map((f) => ({ property: "", reason: withValue(f, news) }));
}

function withValue(f: CheckFailure, news: Record<string, unknown>): string {
  const path = pathOf(f.property);
  if (!path.length) return f.reason;
  if (path.some((p) => typeof p === "string" && secretKey.test(p))) return f.reason;
  const value = valueAt(news, path);
  if (value === undefined || isUnknown(value)) return f.reason;
  const text = shown(value);
  const said = [text, typeof value === "string" ? value : undefined].filter((t) => t !== undefined && t !== "");
  return said.some((t) => f.reason.includes(`given ${t}`) || (t!.length > 2 && f.reason.includes(t!)))
    ? f.reason
    : `${f.reason} (given ${text})`;
}

/** "deviceConfig.nfsversion" → ["deviceConfig", "nfsversion"], "tags[0]" → ["tags", 0]; "(inputs)" → []. */
function pathOf(property: string): Array<string | number> {
  if (!property || property.startsWith("(")) return [];
  const out: Array<string | number> = [];
  for (const m of property.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

function valueAt(obj: unknown, path: Array<string | number>): unknown {
  let v = obj;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** The value as JSON, passwords inside maps replaced, long values cut. */
function shown(value: unknown): string {
  const text = JSON.stringify(value, (k, v) => (k && secretKey.test(k) && v !== "" ? "[secret]" : v)) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}
