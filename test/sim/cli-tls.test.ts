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
    expect(
      parseArgs(["--port", "0", "--user", "u", "--password", "p", "--hosts", "3", "--tls", "--state", "/tmp/s.json"]),
    ).toEqual({
      port: 0,
      username: "u",
      password: "p",
      hosts: 3,
      tls: true,
      statePath: "/tmp/s.json",
    });
  });

  const run = (...args: string[]) => {
    const child = spawn(
      process.execPath,
      ["-r", path.join(__dirname, "helpers", "register-ts.js"), path.join(root, "simulator", "cli.ts"), ...args],
      { cwd: root },
    );
    let out = "";
    const line = new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    return { child, line, output: () => out };
  };

  it("prints exactly one line with the URLs once ready, serves XAPI, and exits cleanly on SIGTERM", async () => {
    const {
      child,
      line: ready,
      output,
    } = run("--port", "0", "--user", "admin", "--password", "secret", "--hosts", "2");
    const line = await ready;
    const urls = line.split(" ");
    expect(urls).toHaveLength(2);
    expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await jsonCall(urls[0], "session.login_with_password", ["admin", "secret"])).toMatch(/^OpaqueRef:/);
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
    expect(output().trim().split("\n")).toHaveLength(1);
  }, 30000);

  it("with --tls prints https URLs and the certificate's SHA-256 fingerprint, and exits on SIGINT", async () => {
    const { child, line } = run("--port", "0", "--user", "u", "--password", "p", "--tls");
    expect(await line).toMatch(/^https:\/\/127\.0\.0\.1:\d+ fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", (c) => resolve(c));
      child.kill("SIGINT");
    });
    expect(code).toBe(0);
  }, 30000);

  it("refuses unknown arguments with a usage message and status 2", async () => {
    const { child, line } = run("--bogus");
    line.catch(() => undefined);
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain("unknown argument --bogus");
    expect(err).toContain("usage: xapi-sim --port");
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
        req.end(
          JSON.stringify({ jsonrpc: "2.0", method: "session.login_with_password", params: ["root", "pw"], id: 1 }),
        );
      });
      expect(JSON.parse(body).result).toMatch(/^OpaqueRef:/);
      expect(peer).toBe(sim.fingerprint);
    } finally {
      await sim.close();
    }
  });
});
