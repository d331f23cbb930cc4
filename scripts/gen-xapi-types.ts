/**
 * Generates the typed XAPI surface of provider/xapi from the datamodel:
 *   provider/xapi/generated/types.ts   record interfaces, enums, the typed method map
 *   provider/xapi/generated/schema.ts  runtime type strings used to decode wire values
 *
 * Usage: npm run gen          (write the files)
 *        npm run gen:check    (exit 1 when the checked-in files are stale)
 *
 * Source: simulator/data/datamodel.json (the repository's copy, written by scripts/sync-reference-data),
 * or ../shared/xapi/xenapi-datamodel.json when that copy does not exist yet. Only the classes in CLASSES
 * and the enums they define are read, so both sources give the same output.
 */
import * as fs from "fs";
import * as path from "path";

const CLASSES = [
  "session",
  "pool",
  "host",
  "host_metrics",
  "host_cpu",
  "network",
  "PIF",
  "PIF_metrics",
  "VLAN",
  "Bond",
  "SR",
  "PBD",
  "SM",
  "VDI",
  "VBD",
  "VBD_metrics",
  "VIF",
  "VM",
  "VM_metrics",
  "VM_guest_metrics",
  "console",
  "task",
  "event",
  "secret",
  "message",
];

/** `event` records are hand-typed (provider/xapi/event-types.ts): their wire shape differs from the datamodel. */
const HAND_TYPED_RECORDS = new Set(["event"]);

interface Param {
  name: string;
  type: string;
  required?: boolean;
  optional?: boolean;
}
interface Message {
  name: string;
  params: Param[];
  result: string;
}
interface Field {
  name: string;
  type: string;
  qualifier: string;
  default?: string;
}
interface Enum {
  name: string;
  values: string[];
}
interface XClass {
  name: string;
  fields: Field[];
  messages: Message[];
  enums?: Enum[];
}

const root = path.resolve(__dirname, "..", "..");
const repoRoot = fs.existsSync(path.join(root, "package.json")) ? root : path.resolve(__dirname, "..");

function findDatamodel(): string {
  if (process.env.XAPI_DATAMODEL) return path.resolve(process.env.XAPI_DATAMODEL);
  const inRepo = path.join(repoRoot, "simulator", "data", "datamodel.json");
  if (fs.existsSync(inRepo)) return inRepo;
  const shared = path.join(repoRoot, "..", "shared", "xapi", "xenapi-datamodel.json");
  if (fs.existsSync(shared)) return shared;
  throw new Error(`no datamodel found (looked for ${inRepo} and ${shared})`);
}

const pascal = (s: string): string =>
  s
    .split("_")
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join("");

export const recordTypeName = (cls: string): string => `${pascal(cls)}Record`;
const enumTypeName = (e: string): string => pascal(e);
const createTypeName = (cls: string): string => `${pascal(cls)}CreateRecord`;

function hasRecordConstructor(c: XClass): boolean {
  return c.messages.some((m) => m.name === "create" && m.params.some((p) => p.type === `${c.name} record`));
}

/** Type strings: "int", "VM ref", "enum vm_power_state", "string set", "(string -> string) map", "VM record". */
function tsType(t: string, inScope: Set<string>, enums: Map<string, string[]>): string {
  t = t.trim();
  if (t.endsWith(" set")) return `${wrap(tsType(t.slice(0, -4), inScope, enums))}[]`;
  if (t.endsWith(" map")) {
    const [k, v] = splitMap(t);
    const kt = tsType(k, inScope, enums);
    const vt = tsType(v, inScope, enums);
    if (k.startsWith("enum ") && enums.has(k.slice(5))) return `Partial<Record<${kt}, ${vt}>>`;
    return `Record<string, ${vt}>`;
  }
  if (t.endsWith(" ref")) return `Ref<${JSON.stringify(t.slice(0, -4))}>`;
  if (t.endsWith(" record")) {
    const c = t.slice(0, -7);
    return inScope.has(c) && !HAND_TYPED_RECORDS.has(c) ? recordTypeName(c) : "Record<string, unknown>";
  }
  if (t.startsWith("enum ")) {
    const e = t.slice(5);
    return enums.has(e) ? enumTypeName(e) : "string";
  }
  switch (t) {
    case "int":
    case "float":
      return "number";
    case "bool":
      return "boolean";
    case "string":
      return "string";
    case "datetime":
      return "XapiDateTime";
    case "void":
      return "void";
    case "an event batch":
      return "EventBatch";
    default:
      throw new Error(`unknown datamodel type: ${t}`);
  }
}

const wrap = (t: string): string => (/^[\w<>", ]+$/.test(t) && !t.includes("|") ? t : `(${t})`);

function splitMap(t: string): [string, string] {
  const inner = t.slice(0, -4).trim();
  if (!inner.startsWith("(") || !inner.endsWith(")")) throw new Error(`bad map type: ${t}`);
  const body = inner.slice(1, -1);
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0 && body.startsWith(" -> ", i)) return [body.slice(0, i), body.slice(i + 4)];
  }
  throw new Error(`bad map type: ${t}`);
}

function isRequired(p: Param): boolean {
  if (p.required !== undefined) return p.required;
  return !p.optional;
}

function safeIdent(name: string): string {
  const reserved = new Set([
    "function",
    "class",
    "default",
    "new",
    "delete",
    "in",
    "import",
    "export",
    "var",
    "this",
    "public",
    "private",
    "protected",
    "interface",
    "package",
    "static",
    "implements",
    "let",
    "yield",
    "enum",
    "type",
  ]);
  return reserved.has(name) ? `${name}_` : name;
}

export function generate(model: XClass[]): { types: string; schema: string } {
  const classes = CLASSES.map((n) => {
    const c = model.find((m) => m.name === n);
    if (!c) throw new Error(`class ${n} missing from the datamodel`);
    return c;
  });
  const inScope = new Set(CLASSES);
  const enums = new Map<string, string[]>();
  for (const c of classes) for (const e of c.enums ?? []) if (!enums.has(e.name)) enums.set(e.name, e.values);
  const enumNames = [...enums.keys()].sort();

  const header = [
    "// GENERATED by scripts/gen-xapi-types.ts from the XenAPI datamodel. Do not edit: run `npm run gen`.",
  ];

  const t: string[] = [
    ...header,
    'import type { XapiDateTime } from "../datetime";',
    'import type { EventBatch } from "../event-types";',
    'import type { Ref } from "../ref";',
    "",
  ];
  for (const e of enumNames) {
    const vals = enums.get(e)!;
    t.push(`export const ${enumTypeName(e)}Values = ${JSON.stringify(vals)} as const;`);
    t.push(`export type ${enumTypeName(e)} = (typeof ${enumTypeName(e)}Values)[number];`);
  }
  t.push("");
  for (const c of classes) {
    if (HAND_TYPED_RECORDS.has(c.name)) continue;
    // Type aliases, not interfaces: they are assignable to Record<string, unknown> (generic record code).
    t.push(`/** A \`${c.name}\` record as returned by \`${c.name}.get_record\`. */`);
    t.push(`export type ${recordTypeName(c.name)} = {`);
    for (const f of c.fields) {
      t.push(`  /** ${f.type} (${f.qualifier}) */`);
      t.push(`  ${/^\w+$/.test(f.name) ? f.name : JSON.stringify(f.name)}: ${tsType(f.type, inScope, enums)};`);
    }
    t.push("};");
    t.push("");
  }
  for (const c of classes) {
    if (!hasRecordConstructor(c)) continue;
    t.push(
      `/** The record \`${c.name}.create\` takes: RW and constructor fields; those with a datamodel default may be omitted. */`,
    );
    t.push(`export type ${createTypeName(c.name)} = {`);
    for (const f of c.fields) {
      if (f.qualifier !== "RW" && f.qualifier !== "RO/constructor") continue;
      const opt = f.default !== undefined ? "?" : "";
      t.push(`  ${/^\w+$/.test(f.name) ? f.name : JSON.stringify(f.name)}${opt}: ${tsType(f.type, inScope, enums)};`);
    }
    t.push("};");
    t.push("");
  }
  t.push("/** Class name → record type, for the classes in scope. */");
  t.push("export interface XapiRecords {");
  for (const c of classes) if (!HAND_TYPED_RECORDS.has(c.name)) t.push(`  ${c.name}: ${recordTypeName(c.name)};`);
  t.push("}");
  t.push("");
  t.push("/** Every message of the classes in scope: arguments after the session, and the decoded result. */");
  t.push("export interface XapiMethods {");
  const methods = collectMethods(classes);
  for (const m of methods) {
    const cls = m.wire.slice(0, m.wire.indexOf("."));
    const ctor = m.wire.endsWith(".create") && m.params.length === 1 && m.params[0].type === `${cls} record`;
    const args = m.params.map(
      (p) =>
        `${safeIdent(p.name)}${isRequired(p) ? "" : "?"}: ${ctor ? createTypeName(cls) : tsType(p.type, inScope, enums)}`,
    );
    t.push(`  ${JSON.stringify(m.wire)}: { args: [${args.join(", ")}]; result: ${tsType(m.result, inScope, enums)} };`);
  }
  t.push("}");
  t.push("");

  const s: string[] = [...header, ""];
  s.push("/** Datamodel type of every field of the classes in scope. */");
  s.push("export const FIELD_TYPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {");
  for (const c of classes) {
    s.push(`  ${JSON.stringify(c.name)}: {`);
    for (const f of c.fields) s.push(`    ${JSON.stringify(f.name)}: ${JSON.stringify(f.type)},`);
    s.push("  },");
  }
  s.push("};");
  s.push("");
  s.push("/** Wire name → [whether the first parameter is the session, parameter types after it, result type]. */");
  s.push("export const METHOD_TYPES: Readonly<Record<string, readonly [boolean, readonly string[], string]>> = {");
  for (const m of methods)
    s.push(
      `  ${JSON.stringify(m.wire)}: [${m.session}, ${JSON.stringify(m.params.map((p) => p.type))}, ${JSON.stringify(m.result)}],`,
    );
  s.push("};");
  s.push("");
  return { types: t.join("\n"), schema: s.join("\n") };
}

interface MethodInfo {
  wire: string;
  session: boolean;
  params: Param[];
  result: string;
}

function collectMethods(classes: XClass[]): MethodInfo[] {
  const out: MethodInfo[] = [];
  for (const c of classes) {
    const seen = new Set<string>();
    for (const m of c.messages) {
      seen.add(m.name);
      const session = m.params.length > 0 && m.params[0].type === "session ref" && m.params[0].name === "session_id";
      const params = session ? m.params.slice(1) : m.params;
      out.push({ wire: `${c.name}.${m.name}`, session, params, result: m.result });
    }
    // Callable but absent from the published datamodel (docs/xapi-semantics.md §3.1).
    if (seen.has("get_all_records") && !seen.has("get_all_records_where")) {
      const rec = c.messages.find((m) => m.name === "get_all_records")!;
      const expr: Param = { name: "expr", type: "string", required: true };
      out.push({ wire: `${c.name}.get_all_records_where`, session: true, params: [expr], result: rec.result });
      if (!seen.has("get_all_where")) {
        out.push({ wire: `${c.name}.get_all_where`, session: true, params: [expr], result: `${c.name} ref set` });
      }
    }
  }
  return out.sort((a, b) => (a.wire < b.wire ? -1 : a.wire > b.wire ? 1 : 0));
}

function main(): void {
  const check = process.argv.includes("--check");
  const src = findDatamodel();
  const model = JSON.parse(fs.readFileSync(src, "utf8")) as XClass[];
  const { types, schema } = generate(model);
  const outDir = path.join(repoRoot, "provider", "xapi", "generated");
  const files: [string, string][] = [
    [path.join(outDir, "types.ts"), types],
    [path.join(outDir, "schema.ts"), schema],
  ];
  if (check) {
    const stale = files.filter(([f, text]) => !fs.existsSync(f) || fs.readFileSync(f, "utf8") !== text);
    if (stale.length) {
      console.error(
        `stale generated files (run \`npm run gen\`): ${stale.map(([f]) => path.relative(repoRoot, f)).join(", ")}`,
      );
      process.exit(1);
    }
    console.log(`generated XAPI types are current (source: ${path.relative(repoRoot, src)})`);
    return;
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const [f, text] of files) fs.writeFileSync(f, text);
  console.log(
    `wrote ${files.map(([f]) => path.relative(repoRoot, f)).join(", ")} from ${path.relative(repoRoot, src)}`,
  );
}

if (require.main === module) main();
