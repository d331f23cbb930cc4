// The desired state: the stack's resources of this provider, read from a `pulumi stack export` document (a file,
// or the Automation API's exportStack on a project directory), and the stack configuration the provider reads
// its connections from.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ProviderConfig } from "../resources/contract";

/**
 * The Pulumi type tokens of this package's resources: the engine records a dynamic resource of module "xenserver"
 * as `pulumi-nodejs:dynamic/xenserver:Network` (@pulumi/pulumi dynamic.Resource); the shorter
 * `pulumi-nodejs:xenserver:Network` is read too (hand-written state documents).
 */
const typePrefixes = ["pulumi-nodejs:dynamic/xenserver:", "pulumi-nodejs:xenserver:"];

/** Pulumi's marker for a secret value in a deployment document. */
const secretSig = "4dabf18193072939515e22adb298388d";

/** A secret whose plaintext the document does not hold: never compared, never printed. */
export const opaqueSecret = Symbol("opaque secret");

export interface SourcePosition {
  uri: string;
  line: number;
  column?: number;
}

export interface ManagedResource {
  urn: string;
  /** The resource's name in the program. */
  name: string;
  /** Network, Sr… */
  kind: string;
  /** The XAPI object's UUID (the resource id). */
  id: string;
  /** Inputs and outputs as the state holds them (secrets unwrapped when the document has their plaintext). */
  outputs: Record<string, unknown>;
  /** Top-level outputs that are secrets: compared by hash, never printed. */
  secrets: Set<string>;
  source?: SourcePosition;
}

export interface Deployment {
  version?: number;
  deployment?: { resources?: Array<Record<string, unknown>>; pending_operations?: unknown[] } & Record<string, unknown>;
}

/** The managed resources of this provider in a deployment: references (get()) and pending deletions left out. */
export function managedResources(doc: Deployment): ManagedResource[] {
  const out: ManagedResource[] = [];
  for (const r of doc.deployment?.resources ?? []) {
    const type = String(r.type ?? "");
    const prefix = typePrefixes.find((p) => type.startsWith(p));
    if (!prefix || r.external || r.delete || r.pendingReplacement) continue;
    const urn = String(r.urn);
    const secrets = new Set<string>();
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((r.outputs ?? {}) as Record<string, unknown>)) {
      // The dynamic provider's plumbing ("__provider", the resource's own "__resourceUrn"), not the object's.
      if (k.startsWith("__")) continue;
      const u = unwrapSecret(v);
      if (u.secret) secrets.add(k);
      outputs[k] = u.value;
    }
    out.push({
      urn,
      name: urn.slice(urn.lastIndexOf("::") + 2),
      kind: type.slice(prefix.length),
      id: String(r.id ?? ""),
      outputs,
      secrets,
      source: sourcePosition(r),
    });
  }
  return out;
}

function unwrapSecret(v: unknown): { value: unknown; secret: boolean } {
  if (v && typeof v === "object" && !Array.isArray(v) && (v as Record<string, unknown>)[secretSig] !== undefined) {
    const plain = (v as { plaintext?: string }).plaintext;
    return { value: plain === undefined ? opaqueSecret : JSON.parse(plain), secret: true };
  }
  return { value: v, secret: false };
}

/**
 * Where the program declares the resource. The engine records `sourcePosition` ("project:///index.ts#12,5" or a
 * file URI) from the SDK's call-site capture; since this package's sdk classes sit between the program and the
 * Pulumi resource constructors, a position inside this package's own files is skipped in favour of the first
 * stack frame outside it, when the state records the stack trace.
 */
export function sourcePosition(r: Record<string, unknown>): SourcePosition | undefined {
  const candidates: string[] = [];
  if (typeof r.sourcePosition === "string") candidates.push(r.sourcePosition);
  const trace = r.stackTrace as { frames?: Array<{ sourcePosition?: string }> } | undefined;
  for (const f of trace?.frames ?? []) if (typeof f.sourcePosition === "string") candidates.push(f.sourcePosition);
  const parsed = candidates.map(parsePosition).filter((p): p is SourcePosition => !!p);
  return parsed.find((p) => !ownFile(p.uri)) ?? parsed[0];
}

function ownFile(uri: string): boolean {
  return /\/(node_modules\/)?pulumi-xenserver\/bin\/sdk\/|\/bin\/sdk\/[a-z-]+\.js$|\/@pulumi\/pulumi\//.test(uri);
}

export function parsePosition(s: string): SourcePosition | undefined {
  const m = /^(.*)#(\d+)(?:,(\d+))?$/.exec(s);
  if (!m) return undefined;
  return { uri: m[1], line: Number(m[2]), column: m[3] ? Number(m[3]) : undefined };
}

/** A `pulumi stack export` file. */
export function readStateFile(file: string): Deployment {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Deployment;
}

/** Stack configuration as flat "namespace:key" → string, the form the provider's configure() receives. */
export function configFrom(values: Record<string, string>): ProviderConfig {
  return { get: (k) => values[k] };
}

export interface StackSource {
  stack: string;
  cwd: string;
}

/** What the reading process runs: selectStack, exportStack and getAllConfig, printed as one JSON document. */
const readStackScript = (automation: string) => `
const auto = require(${JSON.stringify(automation)});
(async () => {
  const [stackName, workDir] = process.argv.slice(1);
  const stack = await auto.LocalWorkspace.selectStack({ stackName, workDir });
  const deployment = await stack.exportStack();
  const config = {};
  for (const [k, v] of Object.entries(await stack.getAllConfig())) config[k] = v.value;
  process.stdout.write(JSON.stringify({ deployment, config }));
})().catch((e) => {
  process.stderr.write(String((e && e.message) || e));
  process.exit(1);
});`;

/**
 * Reads the stack through the Automation API: selectStack on the project directory, exportStack, and the stack
 * configuration with secrets (the passphrase or secrets provider comes from the environment, as for `pulumi`).
 * It runs in a short-lived node process: loaded into a long-running watch, the Automation API's modules would stay
 * resident (about 70 MB) for nothing.
 */
export function loadStack(src: StackSource): Promise<{ deployment: Deployment; config: Record<string, string> }> {
  const script = readStackScript(require.resolve("@pulumi/pulumi/automation"));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, src.stack, src.cwd], {
      cwd: src.cwd,
      env: process.env, // as it is now (a test, or an embedding program, may have changed it)
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`reading stack ${src.stack} in ${src.cwd}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as { deployment: Deployment; config: Record<string, string> });
      } catch (e) {
        reject(new Error(`reading stack ${src.stack}: ${(e as Error).message}`));
      }
    });
  });
}

/** Report formats (report.ts renders them). */
export type Format = "human" | "json" | "sarif";

export interface CommonOptions {
  stack: string;
  cwd?: string;
  stateFile?: string;
  configFile?: string;
  format: Format;
  includeUnmanaged: boolean;
  ignoreFile?: string;
}

/** The desired state and the connections' configuration, from the stack or a state file. */
export async function desired(o: CommonOptions): Promise<{ deployment: Deployment; config: Record<string, string> }> {
  let config: Record<string, string> = {};
  let deployment: Deployment;
  if (o.stateFile) deployment = readStateFile(o.stateFile);
  else ({ deployment, config } = await loadStack({ stack: o.stack, cwd: path.resolve(o.cwd ?? ".") }));
  if (o.configFile) {
    const raw = JSON.parse(fs.readFileSync(o.configFile, "utf8")) as Record<string, { value?: unknown } | string>;
    for (const [k, v] of Object.entries(raw))
      config[k] = typeof v === "string" ? v : typeof v?.value === "string" ? v.value : JSON.stringify(v?.value);
  }
  return { deployment, config };
}

/** `<project>/<stack>`, as the identity keys of the stack's objects name it. */
export function stackIdentity(deployment: Deployment, stack: string): string {
  const urn = String(deployment.deployment?.resources?.[0]?.urn ?? "");
  const m = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(urn);
  return m ? `${m[2]}/${m[1]}` : stack;
}
