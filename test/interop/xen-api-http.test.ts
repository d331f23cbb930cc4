/** Interop: disk upload and download through Xen Orchestra's `xen-api` client (putResource / getResource). */
import { execFile } from "child_process";
import * as path from "path";
import { startSimulator, Simulator } from "../../simulator";

interface Seen {
  buffer: { result?: string; length?: number; same?: boolean; zeros?: boolean; error?: string };
  stream: { same?: boolean; error?: string };
}

let sim: Simulator;
let seen: Seen;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  seen = await new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(__dirname, "xo-http-driver.mjs"), sim.url, "root", "pw"],
      { timeout: 60000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split("\n").pop()!) as Seen);
      },
    );
  });
}, 60000);
afterAll(() => sim.close());

describe("xen-api putResource / getResource", () => {
  it("uploads a buffer, gets the VDI ref as the task result, and downloads the same bytes", () => {
    expect(seen.buffer.error).toBeUndefined();
    expect(seen.buffer.result).toMatch(/^OpaqueRef:/);
    expect(seen.buffer).toMatchObject({ length: 4 * 1024 * 1024, same: true, zeros: true });
  });

  it("uploads a stream of unknown length with the 1 PiB Content-Length hack (probe request first)", () => {
    expect(seen.stream).toEqual({ same: true });
  });
});
