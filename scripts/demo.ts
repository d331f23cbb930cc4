// The main job: deploy the example lab (examples/lab) onto the embedded XAPI
// simulator with the real Pulumi engine, then show that a second preview plans
// no changes. Run with `npm run demo`; `--keep` leaves the simulator running.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator } from "../simulator";

const repoRoot = path.resolve(__dirname, "../..");

async function main(): Promise<void> {
  const binDir = process.argv[2];
  if (!binDir) throw new Error("usage: demo.js <pulumi bin dir> (run it through `npm run demo`)");
  const keep = process.argv.includes("--keep");
  const password = `demo-${Math.random().toString(36).slice(2)}`;
  const sim = await startSimulator({ port: 0, username: "root", password, hosts: 2 });
  console.log(`xapi-sim: a 2-host pool at ${sim.url}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "xenserver-lab-"));
  fs.mkdirSync(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "home"));
  const job = {
    projectDir: repoRoot,
    program: path.join(repoRoot, "bin/examples/lab/index.js"),
    pulumiRoot: path.dirname(binDir),
    pulumiHome: path.join(work, "home"),
    stateDir: path.join(work, "state"),
    stackName: "lab",
    projectName: "xenserver-lab",
    config: {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: password, secret: true },
    },
    ops: ["up", "preview"],
    echo: true,
  };
  const results = await new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "test/e2e/driver/driver.js"), JSON.stringify(job)], {
      cwd: repoRoot,
      env: { ...process.env, PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out.split("\n").filter((l) => l.startsWith("RESULT ")))
        : reject(new Error(`pulumi failed (exit ${code})`)),
    );
  });
  const [up, preview] = results.map((l) => JSON.parse(l.slice(7)));
  console.log("\n== lab deployed ==");
  console.log(
    JSON.stringify(
      Object.fromEntries(
        Object.entries(up.outputs as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]),
      ),
      null,
      2,
    ),
  );
  console.log(`changes: ${JSON.stringify(up.changes)}; second preview: ${JSON.stringify(preview.changes)}`);
  console.log(`state: ${job.stateDir}`);
  if (keep) {
    console.log(`simulator still running at ${sim.url} (user root, password ${password}); Ctrl-C to stop`);
    return;
  }
  await sim.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
