#!/usr/bin/env node
/** `xapi-sim --port <n|0> --user <u> --password <p> [--hosts N] [--tls] [--state FILE] [--nfs]`: prints one line when ready. */
import { startSimulator, SimulatorOptions } from "./index";
import { parseGuestRule } from "./behaviour/guest-agent";
import { parseUser } from "./engine/directory";

function usage(msg?: string): never {
  if (msg) process.stderr.write(`xapi-sim: ${msg}\n`);
  process.stderr.write(
    "usage: xapi-sim --port <n|0> --user <u> --password <p> [--hosts N] [--tls] [--state FILE] [--host ADDR]" +
      " [--addressing ports|loopback] [--nfs] [--login-delay MS] [--guest-metrics-delay MS] [--call-log FILE]" +
      " [--guest [NAME_GLOB:]key=value,...]... [--rbac-user NAME:PASSWORD:ROLE]...\n",
  );
  process.exit(msg ? 2 : 0);
}

export function parseArgs(argv: string[]): SimulatorOptions {
  const o: SimulatorOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const num = (): number => {
      const v = next();
      if (!/^[0-9]+$/.test(v)) usage(`${a} needs a number, got ${v}`);
      return Number(v);
    };
    switch (a) {
      case "--port":
        o.port = num();
        break;
      case "--user":
        o.username = next();
        break;
      case "--password":
        o.password = next();
        break;
      case "--hosts":
        o.hosts = num();
        break;
      case "--tls":
        o.tls = true;
        break;
      case "--state":
        o.statePath = next();
        break;
      case "--host":
        o.host = next();
        break;
      case "--addressing": {
        const v = next();
        if (v !== "ports" && v !== "loopback") usage(`--addressing takes ports or loopback, got ${v}`);
        o.hostAddressing = v as "ports" | "loopback";
        break;
      }
      case "--nfs":
        o.seed = { ...o.seed, nfs: true };
        break;
      case "--login-delay":
        o.loginFailureDelayMs = num();
        break;
      case "--guest-metrics-delay":
        o.guestMetricsDelayMs = num();
        break;
      case "--guest": {
        const rule = next();
        try {
          parseGuestRule(rule);
        } catch (e) {
          usage((e as Error).message);
        }
        o.guests = [...(o.guests ?? []), rule];
        break;
      }
      case "--rbac-user": {
        const spec = next();
        try {
          parseUser(spec);
        } catch (e) {
          usage((e as Error).message);
        }
        o.users = [...(o.users ?? []), spec];
        break;
      }
      case "--call-log":
        o.callLogPath = next();
        break;
      case "-h":
      case "--help":
        usage();
        break;
      default:
        usage(`unknown argument ${a}`);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const sim = await startSimulator(parseArgs(process.argv.slice(2)));
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void sim.close().then(() => process.exit(0));
  };
  // Handlers first: whoever reads the ready line may signal at once.
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const parts = [sim.urls.join(" ")];
  if (sim.fingerprint) parts.push(`fingerprint=${sim.fingerprint}`);
  process.stdout.write(`${parts.join(" ")}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`xapi-sim: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
