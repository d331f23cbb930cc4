#!/usr/bin/env node
// xen-drift: drift detection for the stacks of this provider, from XAPI's event stream.
//   xen-drift check --stack <name> [--cwd <dir> | --state-file <file>] [--format human|json|sarif] …
//   xen-drift watch --stack <name> [--cwd <dir> | --state-file <file>] [--format human|json] …
// check exits 0 in sync, 2 when drift is found, 1 on error (terraform plan -detailed-exitcode's convention).
import { parseArgs } from "node:util";
import { AuditTail } from "./audit";
import type { Finding } from "./compare";
import { Detector } from "./detector";
import { applyIgnores, readIgnoreFile, type IgnoreRule } from "./ignore";
import { render, type Format, type Report } from "./report";
import { configFrom, desired, managedResources, stackIdentity, type CommonOptions } from "./state";
import { runWatch } from "./watch";

export const exitCodes = { inSync: 0, error: 1, drift: 2 } as const;

const usage = `usage:
  xen-drift check --stack <name> [--cwd <dir> | --state-file <file>] [--format human|json|sarif]
                  [--include-unmanaged] [--ignore-file <file>] [--config <file>] [--no-audit-log]
  xen-drift watch --stack <name> [--cwd <dir> | --state-file <file>] [--format human|json]
                  [--include-unmanaged] [--ignore-file <file>] [--config <file>]
                  [--webhook <url>] [--exec "<cmd>"] [--metrics-port <port>] [--audit-log | --no-audit-log]

  --cwd         the Pulumi project directory (default: the current directory); the stack is read through the
                Automation API (selectStack + exportStack) and its configuration gives each pool's connection
  --state-file  a \`pulumi stack export\` file instead; connections then come from --config (the output of
                \`pulumi config --json --show-secrets\`) or XENSERVER_URL / XENSERVER_USERNAME / XENSERVER_PASSWORD
exit codes (check): 0 in sync, 2 drift found, 1 error`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      cwd: { type: "string" },
      "state-file": { type: "string" },
      config: { type: "string" },
      format: { type: "string", default: "human" },
      "include-unmanaged": { type: "boolean", default: false },
      "ignore-file": { type: "string" },
      webhook: { type: "string" },
      exec: { type: "string" },
      "metrics-port": { type: "string" },
      "audit-log": { type: "boolean" },
      "no-audit-log": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0];
  if (values.help || !command) throw new UsageError(usage);
  if (command !== "check" && command !== "watch")
    throw new UsageError(`unknown command "${command}": use check or watch\n${usage}`);
  if (!values.stack) throw new UsageError(`--stack: the stack name is required\n${usage}`);
  if (values.cwd && values["state-file"]) throw new UsageError("--cwd and --state-file: give one, not both");
  const formats = command === "check" ? ["human", "json", "sarif"] : ["human", "json"];
  if (!formats.includes(values.format!))
    throw new UsageError(`--format: "${values.format}" is not one of ${formats.join(", ")}`);
  const port = values["metrics-port"];
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) < 65536))
    throw new UsageError(`--metrics-port: "${port}" is not a port number (0–65535)`);
  if (values.webhook !== undefined && !/^https?:\/\//.test(values.webhook))
    throw new UsageError(`--webhook: "${values.webhook}" is not an http(s) URL`);
  const common: CommonOptions = {
    stack: values.stack,
    cwd: values.cwd,
    stateFile: values["state-file"],
    configFile: values.config,
    format: values.format as Format,
    includeUnmanaged: !!values["include-unmanaged"],
    ignoreFile: values["ignore-file"],
  };
  return {
    command,
    common,
    webhook: values.webhook,
    exec: values.exec,
    metricsPort: port === undefined ? undefined : Number(port),
    auditLog: values["no-audit-log"] ? false : values["audit-log"] !== false,
  };
}

export function progress(format: string): (msg: string) => void {
  const tty = process.stderr.isTTY && format === "human";
  return (msg) => {
    if (tty) process.stderr.write(`\r\x1b[K${msg}`);
  };
}

/** How far back `check` reads the audit log for who made a change (xapi sends every line since then). */
export const checkLookbackMs = 24 * 3600_000;

/** Each finding's author from its pool's audit log: one read per pool ("unknown" where it cannot be read). */
async function attributeAll(detector: Detector, findings: Finding[]): Promise<void> {
  const now = new Date();
  for (const p of detector.pools) {
    const mine = findings.filter((f) => f.pool === p.profile);
    if (!mine.length) continue;
    const tail = new AuditTail(p.client, checkLookbackMs);
    const readable = await tail.read(now);
    for (const f of mine) f.actor = readable ? tail.actor(f, now) : "unknown";
  }
}

/** One comparison; returns the report and writes it to `out`. `auditLog` false: no "who changed it". */
export async function check(
  o: CommonOptions,
  out: (s: string) => void = (s) => process.stdout.write(s),
  auditLog = true,
) {
  const say = progress(o.format);
  say(`reading stack ${o.stack}…`);
  const { deployment, config } = await desired(o);
  const rules: IgnoreRule[] = o.ignoreFile ? readIgnoreFile(o.ignoreFile) : [];
  const resources = managedResources(deployment);
  const detector = new Detector({
    stack: stackIdentity(deployment, o.stack),
    resources,
    config: configFrom(config),
    includeUnmanaged: o.includeUnmanaged,
  });
  try {
    say(`loading the live records of ${resources.length} resources…`);
    await detector.start();
    say(`comparing ${resources.length} resources…`);
    const findings = await detector.compareAll();
    if (auditLog) {
      say("reading the audit log…");
      await attributeAll(detector, findings);
    }
    say("");
    const report: Report = {
      stack: o.stack,
      checkedAt: new Date().toISOString(),
      resources: resources.length,
      pools: detector.pools.length,
      ...applyIgnores(findings, rules),
    };
    out(render(report, o.format));
    return report;
  } finally {
    await detector.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return e instanceof UsageError && argv.some((a) => a === "-h" || a === "--help") ? 0 : exitCodes.error;
  }
  try {
    if (args.command === "check") {
      const report = await check(args.common, undefined, args.auditLog);
      return report.findings.length ? exitCodes.drift : exitCodes.inSync;
    }
    await runWatch({
      ...args.common,
      webhook: args.webhook,
      exec: args.exec,
      metricsPort: args.metricsPort,
      auditLog: args.auditLog,
    });
    return exitCodes.inSync;
  } catch (e) {
    process.stderr.write(`xen-drift: ${(e as Error).message}\n`);
    return exitCodes.error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`xen-drift: ${(e as Error).message}\n`);
      process.exit(exitCodes.error);
    },
  );
}
