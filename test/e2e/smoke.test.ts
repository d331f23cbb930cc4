// The packaging path users take: this package installed from its npm tarball,
// a dynamic resource whose provider code lives in the package, driven through
// up / preview / refresh / destroy by the real engine. Catches closure
// serialization failures, which only show up under the real engine.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { E2EStack } from "./harness";

const program = (content: string) => `
const xen = require("pulumi-xenserver");
module.exports = (args) => {
  const f = new xen.internal.SmokeFile("greeting", { dir: args.dir, name: "greeting.txt", content: ${JSON.stringify(content)} });
  return { path: f.path, bytes: f.bytes, tag: f.tag };
};
`;

describe("smoke: packaged dynamic resource through the real engine", () => {
  const stack = new E2EStack("smoke");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-smoke-files-"));
  const file = path.join(dir, "greeting.txt");
  const config = { "xenserver:smokeTag": { value: "from-stack-config" } };
  afterAll(() => {
    stack.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates, previews with no changes, updates, refreshes and destroys", async () => {
    const [up, preview] = await stack.run(["up", "preview"], { programSource: program("hello"), config, programArgs: { dir } });
    expect(up.changes).toEqual({ create: 2 }); // the stack and the file
    expect(up.outputs?.path.value).toBe(file);
    expect(up.outputs?.bytes.value).toBe(5);
    expect(up.outputs?.tag.value).toBe("from-stack-config");
    expect(fs.readFileSync(file, "utf8")).toBe("hello");
    expect(preview.changes).toEqual({ same: 2 });

    const [update] = await stack.run(["up"], { programSource: program("hello, world"), config, programArgs: { dir } });
    expect(update.changes.update).toBe(1);
    expect(fs.readFileSync(file, "utf8")).toBe("hello, world");

    // Out-of-band deletion: refresh drops the resource, the next up re-creates it.
    fs.rmSync(file);
    const [refresh, again] = await stack.run(["refresh", "up"], { programSource: program("hello, world"), config, programArgs: { dir } });
    expect(refresh.changes.delete).toBe(1);
    expect(again.changes.create).toBe(1);
    expect(fs.existsSync(file)).toBe(true);

    const [destroy] = await stack.run(["destroy"], { programSource: program("hello, world"), config, programArgs: { dir } });
    expect(destroy.changes).toEqual({ delete: 2 });
    expect(fs.existsSync(file)).toBe(false);
  });
});
