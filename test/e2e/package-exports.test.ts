// Every subpath that package.json exports loads from the installed tarball: a program (or the state's serialized
// provider, which requires bin/provider/runtime — or bin/provider/host, written before the rename — by name)
// must not meet an export with no file behind it.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { packedProjectDir } from "./harness";

/** What each export must provide once loaded (the "./bin/*" pattern: the paths the provider requires by name). */
const expected: Record<string, string[]> = {
  "pulumi-xenserver": ["Pool", "Network", "Sr", "Vdi"],
  "pulumi-xenserver/provider": ["XapiClient", "XapiError", "isNullRef"],
  "pulumi-xenserver/simulator": ["startSimulator"],
  "pulumi-xenserver/bin/provider/runtime": ["configure", "dispatch"],
  "pulumi-xenserver/bin/provider/host": ["configure", "dispatch"],
  "pulumi-xenserver/package.json": ["name", "version"],
};

describe("the package's exports, as installed from the tarball", () => {
  const installed = path.join(packedProjectDir(), "node_modules", "pulumi-xenserver", "package.json");
  const exportsMap = JSON.parse(fs.readFileSync(installed, "utf8")).exports as Record<string, unknown>;

  it("names no subpath this test does not load", () => {
    const covered = (key: string) =>
      Object.keys(expected).some((spec) => {
        const sub = spec === "pulumi-xenserver" ? "." : `.${spec.slice("pulumi-xenserver".length)}`;
        return key === sub || (key.endsWith("*") && sub.startsWith(key.slice(0, -1)));
      });
    expect(Object.keys(exportsMap).filter((k) => !covered(k))).toEqual([]);
  });

  it.each(Object.entries(expected))("require(%j) loads and provides %j", async (spec, names) => {
    const script = `const m = require(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { cwd: packedProjectDir() });
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(names));
  });
});
