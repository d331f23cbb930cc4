// undici is loaded only by what needs it: VDI import/export streams. `require("undici")` costs ~80 ms of CPU
// (its index loads fetch, websocket…), in the user's program process (the sdk imports the resource modules for
// their schemas) and in every dynamic-provider process. RPC calls go through the client's own HTTP/1.1 pool and
// connector; undici's error classes (the RPC path's failures) come from its small errors module, on first use.
// Run in plain node processes on the built package (bin/, which `npm test` builds first): Jest's module registry
// is not Node's require.cache.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Simulator } from "../../../simulator";
import { PASSWORD, USER, sim } from "./sim";

const repo = path.resolve(__dirname, "../../..");
const bin = (p: string) => path.join(repo, "bin", p);

/** Runs `body` (an async function's text, given `c` when connected) and prints undici's loaded files at each mark. */
async function run(body: string, target?: Simulator): Promise<Record<string, string[]>> {
  const script = `
const path = require("path");
const undiciDir = path.dirname(require.resolve("undici/package.json"));
const marks = {};
const mark = (name) => {
  marks[name] = Object.keys(require.cache).filter((k) => k.includes("/undici/")).map((k) => path.relative(undiciDir, k));
};
const opts = JSON.parse(process.argv[1]);
(async () => {
  ${body}
})().then(
  () => console.log(JSON.stringify(marks)),
  (e) => { console.error(e); process.exit(1); },
);`;
  const opts = target && {
    url: target.url,
    username: USER,
    password: PASSWORD,
    tls: { fingerprint: target.fingerprint },
    members: target.urls,
  };
  // Asynchronously: the simulator answers from this process.
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", script, JSON.stringify(opts ?? {})], {
    cwd: repo,
    encoding: "utf8",
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, string[]>;
}

describe("undici stays unloaded in processes that make only RPC calls", () => {
  let s: Simulator;
  let dir: string;
  beforeAll(async () => {
    s = await sim({ tls: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "no-undici-"));
  });
  afterAll(async () => {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("importing the sdk (the user's program) or the provider runtime (a dynamic provider) loads none of it", async () => {
    const marks = await run(`
      require(${JSON.stringify(bin("sdk"))});
      mark("sdk");
      require(${JSON.stringify(bin("provider/runtime"))});
      mark("runtime");`);
    expect(marks).toEqual({ sdk: [], runtime: [] });
  });

  test("a login over TLS (pinned), calls, a task and logout load none of undici's index", async () => {
    const marks = await run(
      `
      const { XapiClient } = require(${JSON.stringify(bin("provider/xapi"))});
      const c = await XapiClient.connect(opts);
      const vms = await c.call("VM.get_all_records");
      await c.call("pool.get_all");
      await c.call("SR.get_all_records");
      mark("calls");
      const template = Object.keys(vms).find((r) => vms[r].is_a_template);
      await c.callAsync("VM.clone", [template, "no-undici"]);
      mark("task");
      await c.close();
      mark("closed");`,
      s,
    );
    expect(marks.calls).toEqual([]);
    // Ending a task wait aborts its event.from poll: an undici RequestAbortedError, from the errors module only.
    expect(marks.task.filter((f) => f !== path.join("lib", "core", "errors.js"))).toEqual([]);
    expect(marks.closed.filter((f) => f !== path.join("lib", "core", "errors.js"))).toEqual([]);
  });

  test("a VDI upload (a stream) loads undici then, and only then", async () => {
    const file = path.join(dir, "disk.raw");
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 7));
    const marks = await run(
      `
      const { XapiClient } = require(${JSON.stringify(bin("provider/xapi"))});
      const c = await XapiClient.connect(opts);
      const srs = await c.call("SR.get_all_records");
      const sr = Object.keys(srs).find((r) => srs[r].content_type === "user");
      const vdi = await c.call("VDI.create", { SR: sr, virtual_size: 64 * 1024, type: "user", sharable: false,
        read_only: false, other_config: {}, name_label: "no-undici" });
      mark("before");
      await c.importRawVdi(vdi, ${JSON.stringify(file)});
      mark("after");
      await c.close();`,
      s,
    );
    expect(marks.before.filter((f) => f !== path.join("lib", "core", "errors.js"))).toEqual([]);
    expect(marks.after).toContain("index.js");
  });
});
