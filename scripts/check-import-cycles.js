#!/usr/bin/env node
// Finds import cycles between the repository's TypeScript modules, type-only imports included: `import`,
// `import type`, `export … from`, `import x = require()`, `import("…")` in types or code, and `require("…")`.
// A relative specifier or the package's own name (tsconfig `paths`) is an edge; other packages are not.
// Usage: scripts/check-import-cycles.js [--warn DIR]... DIR...
//   Cycles among DIRs fail (exit 1); a cycle touching a --warn DIR is printed only.
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const ROOT = path.join(__dirname, "..");
/** tsconfig `paths`: the package imports itself by name in the provider's serialized closures. */
const SELF = { "pulumi-xenserver": path.join(ROOT, "sdk", "index.ts") };

function sourceFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") out.push(...sourceFiles(p));
    } else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Every module specifier `file` names, whatever the form of import. */
function specifiers(file) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      out.push(node.moduleReference.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      out.push(node.argument.literal.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The repository file a specifier names, or undefined for another package. */
function resolve(from, spec) {
  if (SELF[spec]) return SELF[spec];
  if (!spec.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, "index.ts")]) {
    if (candidate.endsWith(".ts") && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined; // .json data and generated .js files cannot import back
}

/** Strongly connected components with more than one module (or a module importing itself): Tarjan's algorithm. */
function stronglyConnected(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const connect = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? new Set()).has(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) connect(v);
  return out;
}

/** One shortest cycle through `start` inside `members`, as a path that ends where it began. */
function exampleCycle(graph, members, start) {
  const inScc = new Set(members);
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!inScc.has(w)) continue;
      if (w === start) {
        const chain = [start];
        for (let u = v; u !== start; u = prev.get(u)) chain.splice(1, 0, u);
        return [...chain, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The import graph of the .ts files under `dirs` (edges to files outside them are dropped) and its cycles. */
function findCycles(dirs) {
  const files = dirs.flatMap((d) => sourceFiles(path.resolve(d)));
  const known = new Set(files);
  const graph = new Map();
  for (const f of files) {
    const targets = new Set();
    for (const spec of specifiers(f)) {
      const target = resolve(f, spec);
      if (target && known.has(target)) targets.add(target);
    }
    graph.set(f, targets);
  }
  return stronglyConnected(graph).map((members) => ({ members, example: exampleCycle(graph, members, members[0]) }));
}

function main(argv) {
  const warn = [];
  const strict = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--warn") warn.push(path.resolve(argv[++i]));
    else strict.push(path.resolve(argv[i]));
  }
  if (strict.length + warn.length === 0) {
    console.error("usage: scripts/check-import-cycles.js [--warn DIR]... DIR...");
    return 2;
  }
  const rel = (f) => path.relative(process.cwd(), f);
  let failed = false;
  for (const { members, example } of findCycles([...strict, ...warn])) {
    const warnOnly = members.some((m) => warn.some((d) => m.startsWith(d + path.sep)));
    failed ||= !warnOnly;
    console.log(`${warnOnly ? "warning" : "error"}: import cycle among ${members.length} modules`);
    console.log(`  e.g. ${example.map(rel).join(" -> ")}`);
    console.log(`  all: ${members.map(rel).join(", ")}`);
  }
  if (!failed) console.log(`no import cycle in ${strict.map(rel).join(", ") || "(no strict directory)"}`);
  return failed ? 1 : 0;
}

module.exports = { findCycles };
if (require.main === module) process.exitCode = main(process.argv.slice(2));
