/**
 * The module graph of lib/src has no cycles: every relative import of every .ts file under it,
 * followed from file to file, never comes back to where it started. A cycle makes the order in
 * which modules run depend on which one is imported first (a value read from a module that has
 * not finished loading is undefined), and makes two modules one: neither can be read, tested or
 * moved without the other.
 *
 * Imports are read with TypeScript's own scanner (`ts.preProcessFile`): `import … from`,
 * `import "…"`, `export … from` and `import("…")`. Type-only imports (`import type`, `import {
 * type X }`) count as well: they vanish from the compiled JavaScript, so they cannot break a
 * run, but they still make one module depend on the other's definitions, and a graph that is
 * acyclic only once types are erased hides the same tangle (the type would be the next thing
 * to become a value). Imports of packages (not starting with ".") are not followed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";

const SRC = path.join(__dirname, "..", "lib", "src");

/** Every .ts file under `root` (no .d.ts), as absolute paths, sorted. */
function tsFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(p));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

/** The file a relative specifier names: `x.ts`, or `x/index.ts`; null when neither exists. */
function resolveRelative(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier.replace(/\.js$/, ""));
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts"), base]) {
    if (candidate.endsWith(".ts") && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** The import graph of the .ts files under `root`: file → the files it imports (relative imports only). */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(root)) {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const target = resolveRelative(file, ref.fileName);
      if (target === null) throw new Error(`${path.relative(root, file)}: cannot resolve import '${ref.fileName}'`);
      targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/**
 * One cycle of `graph` as the list of its files, the first repeated at the end (a → b → a), or
 * null when there is none. Depth-first search; the cycle reported is the first one met in the
 * sorted order of files, so the message is the same on every run.
 */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next);
      if (s === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (s === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(file, "done");
    return null;
  };
  for (const file of [...graph.keys()].sort()) {
    if (state.has(file)) continue;
    const found = visit(file);
    if (found) return found;
  }
  return null;
}

function describeCycle(root: string, cycle: string[]): string {
  return cycle.map((f) => path.relative(root, f).replace(/\\/g, "/")).join(" → ");
}

test("no import cycle in lib/src (type-only imports included)", () => {
  const root = process.env.IMPORT_CYCLES_ROOT ?? SRC; // another tree can be checked by pointing at its src folder
  const graph = importGraph(root);
  assert.ok(graph.size > 50, `expected the library's modules under ${root}, found ${graph.size} files`);
  const cycle = findCycle(graph);
  assert.equal(cycle, null, cycle ? `import cycle: ${describeCycle(root, cycle)}` : "");
});

test("the check finds a cycle, names its files in order, and follows type-only, re-export and folder imports", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mirna-dl-cycles-"));
  try {
    fs.mkdirSync(path.join(dir, "sub"));
    fs.writeFileSync(path.join(dir, "a.ts"), `import { b } from "./b";\nexport const a = b + 1;\n`);
    fs.writeFileSync(path.join(dir, "b.ts"), `export { c as b } from "./sub";\n`);
    fs.writeFileSync(path.join(dir, "sub", "index.ts"), `export * from "./c";\n`);
    fs.writeFileSync(path.join(dir, "sub", "c.ts"), `import type { Unused } from "node:fs";\n// import { a } from "../a"; (a comment: not an import)\nexport const c = 1;\n`);
    assert.equal(findCycle(importGraph(dir)), null);
    // A type-only import closes the loop.
    fs.writeFileSync(path.join(dir, "sub", "c.ts"), `import type { A } from "../a";\nexport const c = 1;\nexport type C = A;\n`);
    const cycle = findCycle(importGraph(dir));
    assert.ok(cycle);
    assert.equal(describeCycle(dir, cycle), "a.ts → b.ts → sub/index.ts → sub/c.ts → a.ts");
    // An import that names no file is an error, not a silently missing edge.
    fs.writeFileSync(path.join(dir, "b.ts"), `export { c as b } from "./nowhere";\n`);
    assert.throws(() => importGraph(dir), /b\.ts: cannot resolve import '\.\/nowhere'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
