// The sdk classes construct their Pulumi resource with V8's stack capture off (sdk/resource.ts withoutPromiseStacks):
// Pulumi's Node SDK formats a stack trace for each of the four promises of every property (runtime/rpc.js
// transferProperties, runtime/debuggable.js debuggablePromise), kept only for PULUMI_DEBUG_PROMISE_LEAKS.
// Run in a plain node process on the built package (bin/, which `npm test` builds first) under Pulumi's mocks: the
// registration serializes the dynamic provider's closure, which needs the V8 inspector Jest's environment lacks.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const repo = path.resolve(__dirname, "../../..");

// Prints, as JSON: the frames of every stack V8 formats while the resource is constructed, the stack of the one
// with frames, the stack limit before and after, and the error the constructor threw if any.
const script = `
const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name + "-id", state: a.inputs }), call: (a) => a.inputs },
  "stacks", "test", true);
const sdk = require(${JSON.stringify(path.join(repo, "bin/sdk"))});
const [kind, name, args] = JSON.parse(process.argv[1]);
const frames = [];
const texts = [];
Error.prepareStackTrace = (err, callsites) => {
  const text = String(err) + callsites.map((c) => "\\n    at " + c.toString()).join("");
  frames.push(callsites.length);
  if (callsites.length) texts.push(text);
  return text;
};
const limit = Error.stackTraceLimit;
let error;
let made;
(function userCode() {
  try {
    made = new sdk[kind](name, args);
  } catch (err) {
    error = { message: err.message, stack: err.stack };
  }
})();
Error.prepareStackTrace = undefined;
const report = { frames, texts, limitBefore: limit, limitAfter: Error.stackTraceLimit, error };
(made ? made.urn.promise() : Promise.resolve()).then(() => console.log(JSON.stringify(report)));
`;

interface Report {
  frames: number[];
  texts: string[];
  limitBefore: number;
  limitAfter: number;
  error?: { message: string; stack: string };
}

function construct(kind: string, name: string, args: object, debugLeaks = false): Report {
  const env = { ...process.env };
  delete env.PULUMI_DEBUG_PROMISE_LEAKS;
  if (debugLeaks) env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
  const out = execFileSync(process.execPath, ["-e", script, JSON.stringify([kind, name, args])], {
    cwd: repo,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Report;
}

const sr = "0b7fd4a8-7f1e-4c1b-9c55-0d5a0c0fbe01";

describe("constructing a resource formats no stack per property", () => {
  test("a Vdi (20 properties): only the source position's stack has frames, and it reaches the caller", () => {
    const r = construct("Vdi", "disk", { name: "disk", sr, size: "1GiB" });
    // Resource.callsites() (the source position sent with RegisterResource) raises the limit for its own stack.
    expect(r.frames.filter((n) => n > 0)).toHaveLength(1);
    expect(r.texts[0]).toContain("userCode");
    expect(r.limitAfter).toBe(r.limitBefore);
    expect(r.error).toBeUndefined();
  });

  test("with PULUMI_DEBUG_PROMISE_LEAKS set, Pulumi's debug stacks are kept (four per property)", () => {
    const r = construct("Vdi", "disk", { name: "disk", sr, size: "1GiB" }, true);
    expect(r.frames.filter((n) => n > 0).length).toBeGreaterThanOrEqual(4 * 20);
  });

  test("an error thrown while constructing keeps a stack that reaches its caller", () => {
    const r = construct("Vm", "", { name: "x", template: "Debian Bookworm 12" }); // Pulumi: "Missing resource name"
    expect(r.error?.message).toContain("Missing resource name");
    expect(r.error?.stack).toContain("userCode");
    expect(r.limitAfter).toBe(r.limitBefore);
  });
});
