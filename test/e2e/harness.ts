// Helpers for suites that drive the real Pulumi engine. Each suite gets its own
// PULUMI_HOME and file:// backend in a temp dir; programs run through the
// Automation API in a child process (test/e2e/driver/driver.js) inside a project
// directory where this package is installed from its `npm pack` tarball, as users get it.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const repoRoot = path.resolve(__dirname, "../..");

/** The directory holding `pulumi` (and the dynamic-provider plugin), from scripts/ensure-pulumi. */
export function engineBinDir(): string {
  const out = execFileSync(path.join(repoRoot, "scripts/ensure-pulumi"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = out.trim().split("\n");
  return lines[lines.length - 1];
}

/** Set by global-setup.ts: a project dir with the packed package installed. */
export function packedProjectDir(): string {
  const dir = process.env.PULUMI_XENSERVER_E2E_PROJECT;
  if (!dir)
    throw new Error("PULUMI_XENSERVER_E2E_PROJECT is not set: run the e2e suites through jest (global-setup.ts)");
  return dir;
}

export interface OpResult {
  op: string;
  changes: Record<string, number>;
  outputs?: Record<string, { value: unknown; secret: boolean }>;
  deployment?: {
    version: number;
    deployment: { resources?: Array<Record<string, unknown>> } & Record<string, unknown>;
  };
  failed?: boolean;
  message?: string;
  /** Wall time of the operation in the driver, in milliseconds. */
  ms?: number;
  /** The engine's output for this operation, when StackOptions.captureLog is set. */
  log?: string;
  /** The engine's diagnostic events of this operation, when StackOptions.captureEvents is set. */
  events?: DiagnosticEvent[];
}

/** An Automation API DiagnosticEvent: what the engine shows, on a resource's row when it has a urn. */
export interface DiagnosticEvent {
  urn?: string;
  message: string;
  severity: string;
  /** A status (shown while the resource changes), not kept among the update's diagnostics. */
  ephemeral?: boolean;
}

export interface StackOptions {
  /** Source of a CommonJS module exporting the program function `(args) => outputs`. */
  programSource: string;
  config?: Record<string, { value: string | number | boolean; secret?: boolean }>;
  env?: Record<string, string>;
  programArgs?: Record<string, unknown>;
  captureLog?: boolean;
  captureEvents?: boolean;
}

/** A stack with its own state dir and PULUMI_HOME, run in the packed project. */
export class E2EStack {
  readonly workDir: string;
  private programCount = 0;

  constructor(
    readonly name: string,
    readonly projectName = "xenserver-e2e",
  ) {
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `pxs-e2e-${name}-`));
    fs.mkdirSync(path.join(this.workDir, "state"));
    fs.mkdirSync(path.join(this.workDir, "home"));
  }

  /** Runs the operations in order and returns one result per operation. */
  async run(ops: string[], options: StackOptions): Promise<OpResult[]> {
    const projectDir = packedProjectDir();
    const binDir = process.env.PULUMI_XENSERVER_ENGINE_BIN ?? engineBinDir();
    const programFile = path.join(projectDir, "programs", `${this.name}-${process.pid}-${this.programCount++}.js`);
    fs.mkdirSync(path.dirname(programFile), { recursive: true });
    fs.writeFileSync(programFile, options.programSource);
    const job = {
      projectDir,
      program: programFile,
      pulumiRoot: path.dirname(binDir),
      pulumiHome: path.join(this.workDir, "home"),
      stateDir: path.join(this.workDir, "state"),
      stackName: this.name,
      projectName: this.projectName,
      config: options.config ?? {},
      env: options.env ?? {},
      programArgs: options.programArgs ?? {},
      ops,
      echo: !!process.env.E2E_ECHO,
      captureLog: !!options.captureLog,
      captureEvents: !!options.captureEvents,
    };
    const { stdout, stderr, code } = await runNode(
      path.join(projectDir, "driver.js"),
      [JSON.stringify(job)],
      projectDir,
      binDir,
    );
    const results = stdout
      .split("\n")
      .filter((l) => l.startsWith("RESULT "))
      .map((l) => JSON.parse(l.slice("RESULT ".length)) as OpResult);
    if (code !== 0) {
      const done = results.map((r) => r.op).join(", ") || "none";
      throw new Error(`pulumi ${ops[results.length]} failed (completed: ${done}):\n${stderr.slice(-6000)}`);
    }
    return results;
  }

  /** The raw files of the stack's state (for searching for leaked secrets). */
  stateText(): string {
    const parts: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else parts.push(fs.readFileSync(p, "utf8"));
      }
    };
    walk(path.join(this.workDir, "state"));
    return parts.join("\n");
  }

  dispose(): void {
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}

function runNode(
  script: string,
  args: string[],
  cwd: string,
  binDir: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd,
      env: { ...process.env, PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (process.env.E2E_ECHO) process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout, stderr, code: code ?? 1 }));
  });
}
