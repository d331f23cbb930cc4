// Drift-only ignore rules (separate from ignoreChanges: an alarm is not an actuator). A JSON file:
//   { "rules": [ { "resource": "Network:storage-*", "attribute": "mtu", "reason": "…", "expires": "2027-01-31" } ] }
// `resource` matches the resource's name, `Kind:name`, its URN or (for unmanaged objects) `Kind:uuid`, with `*`
// wildcards; `attribute` (default `*`) matches the attribute path. An expired rule stops applying and is reported.
import * as fs from "node:fs";
import type { Change, Finding } from "./compare";

export interface IgnoreRule {
  resource: string;
  attribute?: string;
  reason: string;
  /** YYYY-MM-DD (the rule applies through that day, UTC) or an ISO time. */
  expires?: string;
}

export interface IgnoreResult {
  findings: Finding[];
  /** What the rules hid, with the rule that hid it. */
  ignored: Array<{ finding: Finding; change?: Change; rule: IgnoreRule }>;
  expired: IgnoreRule[];
}

export class IgnoreFileError extends Error {
  override readonly name = "IgnoreFileError";
}

export function readIgnoreFile(file: string): IgnoreRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new IgnoreFileError(`ignore file ${file}: ${(e as Error).message}`);
  }
  const rules = (doc as { rules?: unknown })?.rules;
  if (!Array.isArray(rules)) throw new IgnoreFileError(`ignore file ${file}: expected { "rules": [ … ] }`);
  return rules.map((r, i) => {
    const at = `ignore file ${file}: rules[${i}]`;
    if (!r || typeof r !== "object") throw new IgnoreFileError(`${at}: not an object`);
    const { resource, attribute, reason, expires } = r as Record<string, unknown>;
    if (typeof resource !== "string" || !resource)
      throw new IgnoreFileError(`${at}.resource: a pattern such as "Network:lab-*" is required`);
    if (attribute !== undefined && typeof attribute !== "string")
      throw new IgnoreFileError(`${at}.attribute: must be a pattern string`);
    if (typeof reason !== "string" || !reason.trim())
      throw new IgnoreFileError(`${at}.reason: say why this drift is accepted`);
    if (expires !== undefined && (typeof expires !== "string" || Number.isNaN(expiryTime(expires))))
      throw new IgnoreFileError(`${at}.expires: ${JSON.stringify(expires)} is not a date (YYYY-MM-DD or ISO time)`);
    return { resource, attribute, reason, expires } as IgnoreRule;
  });
}

function expiryTime(s: string): number {
  // A bare date covers the whole day.
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T23:59:59.999Z`) : Date.parse(s);
}

function glob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
}

function matchesResource(rule: IgnoreRule, f: Finding): boolean {
  const re = glob(rule.resource);
  return [f.name, `${f.type}:${f.name}`, `${f.type}:${f.uuid}`, f.urn ?? ""].some((s) => s && re.test(s));
}

/** Applies the rules that have not expired at `now`; changes the rules hide leave their findings. */
export function applyIgnores(findings: Finding[], rules: IgnoreRule[], now = new Date()): IgnoreResult {
  const expired = rules.filter((r) => r.expires && expiryTime(r.expires) < now.getTime());
  const active = rules.filter((r) => !expired.includes(r));
  const out: IgnoreResult = { findings: [], ignored: [], expired };
  for (const f of findings) {
    const rules = active.filter((r) => matchesResource(r, f));
    if (!rules.length) {
      out.findings.push(f);
      continue;
    }
    if (!f.changes.length) {
      const rule = rules.find((r) => !r.attribute || r.attribute === "*");
      if (rule) out.ignored.push({ finding: f, rule });
      else out.findings.push(f);
      continue;
    }
    const kept: Change[] = [];
    for (const c of f.changes) {
      const rule = rules.find((r) => glob(r.attribute ?? "*").test(c.path));
      if (rule) out.ignored.push({ finding: f, change: c, rule });
      else kept.push(c);
    }
    if (kept.length) out.findings.push({ ...f, changes: kept });
  }
  return out;
}
