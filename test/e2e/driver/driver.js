#!/usr/bin/env node
// Runs a Pulumi program through the real engine with the Automation API, in a
// process of its own (jest's module registry confuses Pulumi's closure
// serializer). Started by test/e2e/harness.ts and scripts/demo with one JSON
// argument; prints one line "RESULT <json>" per operation, in order.
"use strict";
const path = require("node:path");

async function main() {
  const job = JSON.parse(process.argv[2]);
  // Resolve Pulumi from the project directory: the same copy the program uses.
  const projectRequire = require("node:module").createRequire(path.join(job.projectDir, "package.json"));
  const auto = projectRequire("@pulumi/pulumi/automation");
  const program = projectRequire(job.program);
  const programFn = typeof program === "function" ? program : (program.default ?? (() => program));

  const pulumiCommand = await auto.PulumiCommand.get({ root: job.pulumiRoot });
  const envVars = {
    PULUMI_HOME: job.pulumiHome,
    PULUMI_CONFIG_PASSPHRASE: job.passphrase ?? "e2e-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_BACKEND_URL: "file://" + job.stateDir,
    ...(job.env ?? {}),
  };
  const stack = await auto.LocalWorkspace.createOrSelectStack(
    { stackName: job.stackName, projectName: job.projectName, program: async () => programFn(job.programArgs ?? {}) },
    {
      pulumiCommand,
      pulumiHome: job.pulumiHome,
      envVars,
      projectSettings: {
        name: job.projectName,
        runtime: "nodejs",
        main: job.projectDir,
        backend: { url: "file://" + job.stateDir },
      },
      secretsProvider: "passphrase",
    },
  );
  for (const [key, v] of Object.entries(job.config ?? {})) {
    await stack.setConfig(key, { value: String(v.value), secret: !!v.secret });
  }
  let log = "";
  const onOutput = (s) => {
    log += s;
    if (job.echo) process.stderr.write(s);
  };
  // job.parallel applies to every operation (the engine's --parallel), not only to up.
  const par = job.parallel ? { parallel: job.parallel } : {};
  // The engine's diagnostic events (DiagnosticEvent: urn, message, severity, ephemeral), when asked for.
  let events = [];
  const onEvent = (e) => {
    if (e.diagnosticEvent) events.push(e.diagnosticEvent);
  };
  const watch = job.captureEvents ? { onEvent } : {};
  for (const op of job.ops) {
    let result;
    log = "";
    events = [];
    const t0 = Date.now();
    switch (op) {
      case "up": {
        const r = await stack.up({ onOutput, ...watch, ...par });
        result = { op, changes: r.summary.resourceChanges ?? {}, outputs: plainOutputs(r.outputs) };
        break;
      }
      case "up-refresh": {
        // pulumi up --refresh: reads the live state first, so the update reverts what changed outside Pulumi.
        const r = await stack.up({ onOutput, ...watch, ...par, refresh: true });
        result = { op, changes: r.summary.resourceChanges ?? {}, outputs: plainOutputs(r.outputs) };
        break;
      }
      case "preview": {
        const r = await stack.preview({ onOutput, ...watch, diff: true, ...par });
        result = { op, changes: r.changeSummary ?? {} };
        break;
      }
      case "preview-expect-failure": {
        try {
          await stack.preview({ onOutput });
          result = { op, failed: false };
        } catch (err) {
          result = { op, failed: true, message: String(err && err.message ? err.message : err) };
        }
        break;
      }
      case "refresh-expect-failure":
      case "refresh-program-expect-failure": {
        try {
          // refresh-program: run the program, so the provider sees the current stack config (not the state's).
          await stack.refresh({ onOutput, runProgram: op === "refresh-program-expect-failure" });
          result = { op, failed: false };
        } catch (err) {
          result = { op, failed: true, message: String(err && err.message ? err.message : err) };
        }
        break;
      }
      case "refresh":
      case "refresh-program": {
        const r = await stack.refresh({ onOutput, ...watch, runProgram: op === "refresh-program", ...par });
        result = { op, changes: r.summary.resourceChanges ?? {} };
        break;
      }
      case "destroy": {
        const r = await stack.destroy({ onOutput, ...watch, ...par });
        result = { op, changes: r.summary.resourceChanges ?? {} };
        break;
      }
      case "export": {
        const d = await stack.exportStack();
        result = { op, deployment: d };
        break;
      }
      case "outputs": {
        result = { op, outputs: plainOutputs(await stack.outputs()) };
        break;
      }
      default:
        throw new Error("unknown op " + op);
    }
    result.ms = Date.now() - t0; // wall time of the operation (bench:scale compares these)
    if (job.captureLog) result.log = log;
    if (job.captureEvents) result.events = events;
    process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
  }
}

function plainOutputs(outputs) {
  const out = {};
  for (const [k, v] of Object.entries(outputs ?? {})) out[k] = { value: v.value, secret: v.secret };
  return out;
}

main().catch((err) => {
  process.stderr.write("driver: " + (err && err.stack ? err.stack : String(err)) + "\n");
  process.exit(1);
});
