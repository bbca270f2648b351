/**
 * lib/src/checks.ts: reference tables and the checks notebooks end their result sections with.
 * The end-to-end part (a fixture notebook whose check fails the run of `npm run notebooks` once
 * a reference moves by more than its tolerance) is in test/notebook-runner.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  checkReferences,
  evaluateReferences,
  formatReferenceReport,
  readReferenceTable,
  ReferenceCheckError,
  type ReferenceTable,
  validateReferenceTable,
} from "../lib/src/checks";

const table: ReferenceTable = validateReferenceTable({
  notebook: "demo",
  groups: { fixtures: "counts of the generated fixtures", real: "no references for the real inputs yet" },
  checks: {
    accuracy: { ci: { min: 0.45, max: 0.85 }, full: { value: 0.92, tolerance: 0.015, source: "3 seeds" } },
    "round trip exact": { all: { value: true } },
    "rows kept": { group: "fixtures", all: { value: 51, tolerance: 0 } },
    "trained ROC-AUC": { all: { above: "seed ROC-AUC", margin: 0.001 } },
    "seed ROC-AUC": { all: { min: 0.9, max: 1 } },
    loss: { all: { below: "seed loss" } },
    "seed loss": { all: { max: 10 } },
  },
});
/** Passes on the ci profile; `fullGood` on the full profile. */
const good = { accuracy: 0.5, "round trip exact": true, "trained ROC-AUC": 0.98, "seed ROC-AUC": 0.97, loss: 0.2, "seed loss": 0.5 };
const fullGood = { ...good, accuracy: 0.93 };

test("evaluateReferences: every kind of reference passes inside its range", () => {
  const r = evaluateReferences(table, fullGood, { profile: "full" });
  assert.deepEqual(r.failures, []);
  assert.deepEqual(r.rows.map((x) => x.check), ["accuracy", "round trip exact", "trained ROC-AUC", "seed ROC-AUC", "loss", "seed loss"]);
  const acc = r.rows[0]!;
  assert.deepEqual([acc.measured, acc.reference, acc.tolerance, acc.ok], ["0.9300", "0.92", "± 0.015", true]);
  assert.equal(r.rows[2]!.reference, "> seed ROC-AUC (0.9700)");
  // Bounds are inclusive: exactly at value ± tolerance passes.
  assert.deepEqual(evaluateReferences(table, { ...fullGood, accuracy: 0.935 }, { profile: "full" }).failures, []);
  assert.deepEqual(evaluateReferences(table, { ...good, accuracy: 0.45 }, { profile: "ci" }).failures, []);
});

test("evaluateReferences: a value outside its tolerance fails, whichever side, with measured and expected", () => {
  for (const accuracy of [0.9049, 0.9351, 0.5]) {
    const r = evaluateReferences(table, { ...fullGood, accuracy }, { profile: "full" });
    assert.equal(r.failures.length, 1, String(accuracy));
    assert.match(r.failures[0]!, /^accuracy: measured 0\.\d{4}, expected 0\.92 ± 0\.015$/);
    assert.equal(r.rows[0]!.ok, false);
  }
  // The same accuracy passes on the CI profile, whose reference is a range.
  assert.deepEqual(evaluateReferences(table, { ...good, accuracy: 0.5 }, { profile: "ci" }).failures, []);
  assert.deepEqual(evaluateReferences(table, { ...good, accuracy: 0.3 }, { profile: "ci" }).failures, ["accuracy: measured 0.3000, outside 0.45 … 0.85"]);
});

test("evaluateReferences: exact values, booleans and comparisons fail when they should", () => {
  const f = (measured: Record<string, number | boolean | null | undefined>, group?: string) =>
    evaluateReferences(table, measured, { profile: "ci", group }).failures;
  assert.deepEqual(f({ ...good, "rows kept": 52 }, "fixtures"), ["rows kept: measured 52, expected 51 exactly"]);
  assert.deepEqual(f({ ...good, "rows kept": 51 }, "fixtures"), []);
  assert.deepEqual(f({ ...good, "round trip exact": false }), ["round trip exact: measured false, expected true"]);
  assert.deepEqual(f({ ...good, "round trip exact": 1 }), ["round trip exact: expected true (a boolean), measured 1"]);
  // Strictly above, with the margin.
  assert.deepEqual(f({ ...good, "trained ROC-AUC": 0.9705 }), ["trained ROC-AUC: measured 0.9705, not above seed ROC-AUC 0.9700 + 0.001"]);
  assert.deepEqual(f({ ...good, "trained ROC-AUC": 0.96 }).length, 1);
  assert.deepEqual(
    f({ ...good, loss: 0.5 }),
    ["loss: measured 0.5000, not below seed loss 0.5000"],
  );
});

test("evaluateReferences: nothing passes silently (missing, null, NaN, unknown names, no reference for the profile)", () => {
  const f = (measured: Record<string, number | boolean | null | undefined>, profile: "ci" | "full" = "ci", group?: string) =>
    evaluateReferences(table, measured, { profile, group }).failures;
  const { accuracy: _a, ...noAccuracy } = good;
  assert.deepEqual(f(noAccuracy), ["accuracy: not measured (the check cell passes no value of this name)"]);
  assert.deepEqual(f({ ...good, accuracy: null }), ["accuracy: measured value is null"]);
  assert.deepEqual(f({ ...good, accuracy: Number.NaN }), ["accuracy: measured NaN, outside 0.45 … 0.85"]);
  assert.deepEqual(f({ ...fullGood, accuracy: Number.NaN }, "full"), ["accuracy: measured NaN, expected 0.92 ± 0.015"]);
  assert.deepEqual(f({ ...good, accurracy: 0.5 }), ["accurracy: measured, but (given table) has no check of this name"]);
  // A check with a reference for the full profile only fails on ci, measured or not.
  const fullOnly = validateReferenceTable({ checks: { x: { full: { value: 1, tolerance: 0 } } } });
  for (const measured of [{ x: 1 }, {}]) {
    assert.deepEqual(evaluateReferences(fullOnly, measured, { profile: "ci" }).failures, ["x: no reference for profile ci in (given table)"]);
  }
  assert.deepEqual(evaluateReferences(fullOnly, { x: 1 }, { profile: "full" }).failures, []);
  // The comparison's other value must be measured.
  const { "seed ROC-AUC": _s, ...noSeed } = good;
  assert.deepEqual(f(noSeed), [
    'trained ROC-AUC: the value it is compared with, "seed ROC-AUC", is (not measured)',
    "seed ROC-AUC: not measured (the check cell passes no value of this name)",
  ]);
  // Group checks: applied only with their group; measured without it, or an undeclared group, fail.
  assert.deepEqual(f(good, "ci", "fixtures"), ["rows kept: not measured (the check cell passes no value of this name)"]);
  assert.deepEqual(f({ ...good, "rows kept": 51 }), ['rows kept: measured, but its check belongs to group "fixtures", which this call does not apply']);
  assert.deepEqual(f(good, "ci", "real"), []);
  assert.deepEqual(f(good, "ci", "synthetic"), ['group "synthetic" is not declared in (given table) (declared: fixtures, real)']);
  assert.equal(evaluateReferences(table, good, { profile: "ci", group: "real" }).groupNote, "no references for the real inputs yet");
});

test("validateReferenceTable: unknown keys, bad shapes, undeclared groups and dangling comparisons are errors", () => {
  const bad = (checks: unknown, extra: Record<string, unknown> = {}) => () => validateReferenceTable({ checks, ...extra }, "t.json");
  assert.throws(bad({ a: { ci: { value: 1, tolerence: 0.1 } } }), /check "a", ci: "tolerance" is required/);
  assert.throws(bad({ a: { ci: { value: 1, tolerance: 0.1, tolerence: 0.1 } } }), /check "a", ci: unknown key "tolerence"/);
  assert.throws(bad({ a: { ci: { value: 1, tolerance: -1 } } }), /"tolerance" must be a number ≥ 0/);
  assert.throws(bad({ a: { ci: { min: 2, max: 1 } } }), /"min" 2 is above "max" 1/);
  assert.throws(bad({ a: { ci: {} } }), /needs "value"/);
  assert.throws(bad({ a: { all: { value: true }, ci: { value: true } } }), /give "all" or per-profile references/);
  assert.throws(bad({ a: { cl: { value: true } } }), /check "a": unknown key "cl"/);
  assert.throws(bad({ a: { group: "x", all: { value: true } } }), /group "x" is not declared under "groups"/);
  assert.throws(bad({ a: { all: { above: "b" } } }), /compares with "b", which is not a check of the table/);
  assert.throws(bad({}, { version: 2 }), /unknown top-level key "version"/);
  assert.throws(() => validateReferenceTable([], "t.json"), /must be a JSON object/);
  // All problems at once, naming the file.
  assert.throws(bad({ a: { ci: {} }, b: { full: { value: "x" } } }), (e: Error) => {
    assert.match(e.message, /^t\.json: bad reference table:\n {2}- check "a", ci: .*\n {2}- check "b", full: "value" must be a finite number or a boolean$/);
    return true;
  });
});

test("checkReferences: reads references/<notebook>.json from the working directory, throws one error listing every failure", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mirna-dl-checks-"));
  const cwd = process.cwd();
  t.after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });
  const refs = path.join(dir, "references");
  require("node:fs").mkdirSync(refs);
  writeFileSync(path.join(refs, "demo.json"), JSON.stringify(table));
  process.chdir(dir);
  const logged: string[] = [];
  t.mock.method(console, "log", (s: string) => logged.push(s));

  assert.equal(readReferenceTable("demo").file, path.join(refs, "demo.json"));
  checkReferences("demo", fullGood, { profile: "full" });
  assert.match(logged[0]!, /^demo: 6 checks against .*demo\.json \(profile full\): all passed\ncheck +measured +reference +tolerance +ok\n/);
  assert.match(logged[0]!, /^accuracy +0\.9300 +0\.92 +± 0\.015 +yes$/m);

  assert.throws(
    () => checkReferences("demo", { ...fullGood, accuracy: 0.8, "round trip exact": false }, { profile: "full" }),
    (e: unknown) => {
      assert.ok(e instanceof ReferenceCheckError);
      assert.match(e.message, /^demo: 2 of 6 checks failed against .*demo\.json \(profile full\):\n {2}- accuracy: measured 0\.8000, expected 0\.92 ± 0\.015\n {2}- round trip exact: measured false, expected true$/);
      return true;
    },
  );
  assert.match(logged[1]!, /^accuracy +0\.8000 +0\.92 +± 0\.015 +NO$/m);
  // The profile defaults to MIRNA_DL_PROFILE.
  const saved = process.env.MIRNA_DL_PROFILE;
  process.env.MIRNA_DL_PROFILE = "ci";
  try {
    checkReferences("demo", good, { quiet: true });
    assert.throws(() => checkReferences("demo", fullGood, { quiet: true }), /accuracy: measured 0\.9300, outside 0\.45 … 0\.85/);
  } finally {
    if (saved === undefined) delete process.env.MIRNA_DL_PROFILE;
    else process.env.MIRNA_DL_PROFILE = saved;
  }
  // A table of another notebook, or none at all, is an error.
  assert.throws(() => checkReferences("other", good, { file: path.join(refs, "demo.json"), quiet: true }), /is the table of notebook "demo", not of "other"/);
  assert.throws(() => checkReferences("nothing", good, { quiet: true }), /no reference table for nothing: looked for .*references\/nothing\.json and .*notebooks\/references\/nothing\.json/);
});

test("the committed reference tables are valid and every committed notebook has a check cell using its table", () => {
  const repo = path.resolve(__dirname, "..");
  const notebooks = readdirSync(path.join(repo, "notebooks")).filter((f) => f.endsWith(".ipynb"));
  assert.ok(notebooks.length > 0);
  for (const file of notebooks) {
    const name = file.replace(/\.ipynb$/, "");
    const nb = JSON.parse(readFileSync(path.join(repo, "notebooks", file), "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
    const sources = nb.cells.filter((c) => c.cell_type === "code").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
    assert.ok(
      sources.some((s) => s.includes(`checkReferences("${name}"`)),
      `${file} has no check cell (a code cell calling mdl.checkReferences("${name}", ...))`,
    );
    const { table: t } = readReferenceTable(name, { file: path.join(repo, "notebooks", "references", `${name}.json`) });
    for (const [check, refs] of Object.entries(t.checks)) {
      assert.ok(refs.all !== undefined || (refs.ci !== undefined && refs.full !== undefined), `${name}.json: "${check}" needs a reference for each profile`);
    }
  }
});

test("formatReferenceReport: aligned columns with the group's note", () => {
  const text = formatReferenceReport(evaluateReferences(table, { ...good, "rows kept": 51 }, { profile: "ci", group: "fixtures", notebook: "demo" }));
  assert.match(text, /^demo: 7 checks against \(given table\) \(profile ci, group fixtures\): all passed\nnote \(fixtures\): counts of the generated fixtures\n/);
  assert.match(text, /^rows kept +51 +51 +exact +yes$/m);
});
