// Every relative link in the shipped Markdown (README.md, docs/, simulator/README.md) must lead somewhere, both in
// this repository and in the tarball `npm pack` makes: npm renders the README and users read docs/ from
// node_modules, where a link to a file left out of the package is dead.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "../../..");

function packedFiles(): Set<string> {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return new Set(pack.files.map((f) => f.path));
}

function markdownFiles(): string[] {
  const found = ["README.md", "simulator/README.md"];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".md")) found.push(rel);
    }
  };
  walk("docs");
  return found;
}

/** Link targets outside fenced code blocks and inline code. */
function linksOf(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = m[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

const isRelative = (target: string) => !/^[a-z][a-z0-9+.-]*:/i.test(target);

describe("documentation links", () => {
  const files = markdownFiles();
  const packed = packedFiles();
  const relativeLinks = files.flatMap((file) =>
    linksOf(fs.readFileSync(path.join(root, file), "utf8"))
      .filter(isRelative)
      .map((target) => ({ file, target })),
  );

  it("finds the links it is meant to check", () => {
    // A parser that found nothing would pass every check below.
    expect(relativeLinks.length).toBeGreaterThan(40);
    expect(relativeLinks).toContainEqual({ file: "README.md", target: "simulator/README.md" });
  });

  it("ships every Markdown file it checks", () => {
    expect(files.filter((f) => !packed.has(f))).toEqual([]);
  });

  it("every relative link in README.md and docs/ resolves in the repository and in the packed tarball", () => {
    const broken: string[] = [];
    for (const { file, target } of relativeLinks) {
      const [p, anchor] = target.split("#");
      const rel = p ? path.posix.normalize(path.posix.join(path.posix.dirname(file), p)) : file;
      if (rel.startsWith("..")) broken.push(`${file}: ${target} leaves the package`);
      else if (!fs.existsSync(path.join(root, rel))) broken.push(`${file}: ${target} (no ${rel} in the repository)`);
      else if (!packed.has(rel) && !fs.statSync(path.join(root, rel)).isDirectory())
        broken.push(`${file}: ${target} (${rel} is not in the npm package)`);
      else if (anchor && rel.endsWith(".md") && !anchorsOf(fs.readFileSync(path.join(root, rel), "utf8")).has(anchor))
        broken.push(`${file}: ${target} (no heading #${anchor} in ${rel})`);
    }
    expect(broken).toEqual([]);
  });
});
