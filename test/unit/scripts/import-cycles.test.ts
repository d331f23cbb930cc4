import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const { findCycles } = require("../../../scripts/check-import-cycles") as {
  findCycles(dirs: string[]): { members: string[]; example: string[] }[];
};

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Writes `files` (name → source) into a fresh directory and returns it. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cycles-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("scripts/check-import-cycles", () => {
  it("finds a cycle made only of type-only imports, an import() type and a folder index", () => {
    const dir = tree({
      "a.ts": 'import type { B } from "./b";\nexport type A = { b?: B };\n',
      "b.ts": 'export type B = { c?: import("./lib").C };\n',
      "lib/index.ts": 'export { type A as C } from "../a";\n',
      "free.ts": 'import { A } from "./a";\nexport const x: A = {};\n',
    });
    const cycles = findCycles([dir]);
    expect(cycles.map((c) => c.members.map((m) => path.relative(dir, m)))).toEqual([["a.ts", "b.ts", "lib/index.ts"]]);
    expect(cycles[0].example.map((m) => path.relative(dir, m))).toEqual(["a.ts", "b.ts", "lib/index.ts", "a.ts"]);
  });

  it("finds a cycle closed by a lazy require() and a module importing itself", () => {
    const dir = tree({
      "a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
      "b.ts": 'export const b = () => require("./a");\n',
      "self.ts": 'import * as me from "./self";\nexport const s = me;\n',
    });
    expect(findCycles([dir]).map((c) => c.members.length)).toEqual([2, 1]);
  });

  it("finds none in an acyclic tree, and ignores other packages and JSON", () => {
    const dir = tree({
      "a.ts":
        'import { b } from "./b";\nimport data from "./a.json";\nimport * as fs from "fs";\nexport const a = [b, data, fs];\n',
      "b.ts": "export const b = 1;\n",
      "a.json": "{}",
    });
    expect(findCycles([dir])).toEqual([]);
  });

  it("finds none in simulator/ and sdk/", () => {
    const root = path.join(__dirname, "..", "..", "..");
    expect(findCycles([path.join(root, "simulator"), path.join(root, "sdk")])).toEqual([]);
  });
});
