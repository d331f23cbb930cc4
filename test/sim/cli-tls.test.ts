import { spawn } from "child_process";
import * as https from "https";
import * as path from "path";
import { TLSSocket } from "tls";
import { startSimulator } from "../../simulator";
import { parseArgs } from "../../simulator/cli";
import { jsonCall } from "./helpers/rpc";

const root = path.join(__dirname, "..", "..");

describe("xapi-sim CLI", () => {
  it("parses the documented flags", () => {
    expect(parseArgs(["--port", "0", "--user", "u", "--password", "p", "--hosts", "3", "--tls", "--state", "/tmp/s.json"])).toEqual({
      port: 0,
      username: "u",
      password: "p",
      hosts: 3,
      tls: true,
      statePath: "/tmp/s.json",
    });
  });

  it("prints exactly one line with the URLs once ready, serves XAPI, and exits cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, ["-r", path.join(__dirname, "helpers", "register-ts.js"), path.join(root, "simulator", "cli.ts"), "--port", "0", "--user", "admin", "--password", "secret", "--hosts", "2"], { cwd: root });
    let out = "";
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    const urls = line.split(" ");
    expect(urls).toHaveLength(2);
    expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await jsonCall(urls[0], "session.login_with_password", ["admin", "secret"])).toMatch(/^OpaqueRef:/);
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
    expect(out.trim().split("\n")).toHaveLength(1);
  }, 30000);
});

describe("HTTPS", () => {
  it("serves XAPI over TLS with a self-signed certificate whose SHA-256 fingerprint it reports", async () => {
    const sim = await startSimulator({ password: "pw", tls: true });
    try {
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const { body, peer } = await new Promise<{ body: string; peer: string }>((resolve, reject) => {
        const req = https.request(`${sim.url}/jsonrpc`, { method: "POST", ca: sim.certificate }, (res) => {
          const peer = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve({ body: b, peer }));
        });
        req.on("error", reject);
        req.end(JSON.stringify({ jsonrpc: "2.0", method: "session.login_with_password", params: ["root", "pw"], id: 1 }));
      });
      expect(JSON.parse(body).result).toMatch(/^OpaqueRef:/);
      expect(peer).toBe(sim.fingerprint);
    } finally {
      await sim.close();
    }
  });
});
