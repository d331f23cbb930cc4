// Users' pipelines run the simulator from the installed package: the library entry
// point and the `xapi-sim` command both work from the npm tarball.
import { spawn, execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { packedProjectDir } from "./harness";

describe("the simulator as installed from the tarball", () => {
  it("starts through require('pulumi-xenserver/simulator') and serves a login", async () => {
    const script = `
      const { startSimulator } = require("pulumi-xenserver/simulator");
      (async () => {
        const sim = await startSimulator({ port: 0, username: "root", password: "pkg-pw" });
        const res = await fetch(sim.url + "/jsonrpc", { method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "session.login_with_password", params: ["root", "pkg-pw", "1.0", "test"] }) });
        const body = await res.json();
        await sim.close();
        console.log(JSON.stringify(body));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { cwd: packedProjectDir() });
    expect(JSON.parse(stdout).result).toMatch(/^OpaqueRef:/);
  });

  it("runs the xapi-sim command, which prints one ready line with the URL", async () => {
    const bin = path.join(packedProjectDir(), "node_modules", ".bin", "xapi-sim");
    const child = spawn(bin, ["--port", "0", "--user", "root", "--password", "cli-pw"], {
      cwd: packedProjectDir(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.on("error", reject);
      child.on("exit", (code) => reject(new Error(`xapi-sim exited with ${code}`)));
    });
    child.kill("SIGTERM");
    expect(line).toMatch(/http:\/\/127\.0\.0\.1:\d+/);
  });
});
