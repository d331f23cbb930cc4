// The report of one comparison, as people read it (human), as programs read it (json) and as code-scanning tools
// read it (SARIF 2.1.0, each finding pointing at the program line that declares the resource).
import type { Actor, Change, Finding } from "./compare";
import type { IgnoreResult, IgnoreRule } from "./ignore";

export type { Format } from "./state";
import type { Format } from "./state";

export interface Report extends IgnoreResult {
  stack: string;
  checkedAt: string;
  /** Resources compared and pools watched. */
  resources: number;
  pools: number;
}

const show = (v: unknown): string => (v === undefined ? "(none)" : JSON.stringify(v));

export function actorText(a: Actor | "unknown" | undefined): string {
  if (!a) return "";
  if (a === "unknown") return "by unknown";
  return `by ${a.user}${a.originator ? ` via ${a.originator}` : ""}${a.call ? ` (${a.call}${a.at ? ` at ${a.at}` : ""})` : ""}`;
}

function ruleText(r: IgnoreRule): string {
  return `${r.resource}${r.attribute ? ` ${r.attribute}` : ""}: ${r.reason}${r.expires ? ` (until ${r.expires})` : ""}`;
}

export function changeLine(c: Change): string {
  return `${c.path}: expected ${show(c.expected)}, live ${show(c.actual)}`;
}

export function findingLines(f: Finding): string[] {
  const who = actorText(f.actor);
  const label = `${f.type} ${f.name}${f.urn ? "" : ` (${f.uuid})`}`;
  const tail = [`first seen ${f.firstSeen}`, who].filter(Boolean).join(", ");
  switch (f.kind) {
    case "deleted":
      return [`- ${label}: deleted outside Pulumi [pool ${f.pool}] (${tail})`];
    case "unmanaged":
      return [`+ ${label}: not managed by any stack [pool ${f.pool}] (${tail})`];
    case "modified":
      return [`~ ${label} [pool ${f.pool}] (${tail})`, ...f.changes.map((c) => `    ${changeLine(c)}`)];
  }
}

export function human(r: Report): string {
  const count = (k: string) => r.findings.filter((f) => f.kind === k).length;
  const lines: string[] = [];
  const drifted = r.findings.length;
  lines.push(
    drifted
      ? `xen-drift: stack ${r.stack}: ${count("modified")} changed, ${count("deleted")} ` +
          `deleted, ${count("unmanaged")} unmanaged (${r.resources} resources on ${r.pools} ` +
          `pool${r.pools === 1 ? "" : "s"})`
      : `xen-drift: stack ${r.stack} is in sync (${r.resources} resources on ${r.pools} pool${r.pools === 1 ? "" : "s"})`,
  );
  for (const f of r.findings) lines.push(...findingLines(f));
  for (const i of r.ignored)
    lines.push(
      `ignored: ${i.finding.type} ${i.finding.name}${i.change ? ` ${i.change.path}` : ""} (${ruleText(i.rule)})`,
    );
  for (const e of r.expired) lines.push(`expired ignore rule, no longer applied: ${ruleText(e)}`);
  return lines.join("\n") + "\n";
}

export function json(r: Report): string {
  return (
    JSON.stringify(
      {
        schemaVersion: 1,
        stack: r.stack,
        checkedAt: r.checkedAt,
        inSync: r.findings.length === 0,
        resources: r.resources,
        findings: r.findings,
        ignored: r.ignored.map((i) => ({
          urn: i.finding.urn,
          name: i.finding.name,
          type: i.finding.type,
          kind: i.finding.kind,
          path: i.change?.path,
          rule: i.rule,
        })),
        expiredRules: r.expired,
      },
      null,
      2,
    ) + "\n"
  );
}

const rules = [
  { id: "xen-drift/modified", text: "An attribute the program manages differs on the pool" },
  { id: "xen-drift/deleted", text: "An object the program manages was deleted outside Pulumi" },
  { id: "xen-drift/unmanaged", text: "An object of a managed kind that no stack owns" },
  { id: "xen-drift/expired-ignore", text: "An ignore rule has expired and no longer applies" },
];

function location(f: Finding): Record<string, unknown>[] {
  const logical = [{ fullyQualifiedName: f.urn ?? `${f.type}:${f.uuid}`, kind: "resource" }];
  if (!f.source) return [{ logicalLocations: logical }];
  const project = f.source.uri.startsWith("project:///");
  const artifactLocation = project
    ? { uri: f.source.uri.slice("project:///".length), uriBaseId: "PROJECTROOT" }
    : { uri: f.source.uri };
  const region: Record<string, number> = { startLine: f.source.line };
  if (f.source.column) region.startColumn = f.source.column;
  return [{ physicalLocation: { artifactLocation, region }, logicalLocations: logical }];
}

export function sarif(r: Report): string {
  const results = r.findings.map((f) => ({
    ruleId: `xen-drift/${f.kind}`,
    level: f.kind === "unmanaged" ? "note" : "warning",
    message: {
      text: findingLines(f)
        .map((l) => l.trim())
        .join("; "),
    },
    locations: location(f),
    partialFingerprints: { driftKey: `${f.kind}|${f.urn ?? f.uuid}` },
    properties: { pool: f.pool, uuid: f.uuid, changes: f.changes, actor: f.actor ?? null, firstSeen: f.firstSeen },
  }));
  for (const e of r.expired)
    results.push({
      ruleId: "xen-drift/expired-ignore",
      level: "note",
      message: { text: `expired ignore rule: ${ruleText(e)}` },
      locations: [],
      partialFingerprints: { driftKey: `expired|${e.resource}|${e.attribute ?? "*"}` },
      properties: {} as never,
    });
  const doc = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "xen-drift",
            rules: rules.map((x) => ({ id: x.id, shortDescription: { text: x.text } })),
          },
        },
        originalUriBaseIds: { PROJECTROOT: { description: { text: "the Pulumi project directory" } } },
        results,
      },
    ],
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

export function render(r: Report, format: Format): string {
  return format === "json" ? json(r) : format === "sarif" ? sarif(r) : human(r);
}
