import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { curveSeries } from "../lib/src/binding/evaluation";
import { alignToolScores, benchmarkTable, modelNames, readToolScores, tableName } from "../lib/src/binding/benchmark";
import { readPairTable } from "../lib/src/binding/tables";
import { bootstrapAveragePrecision, bootstrapDifference, rankMetrics } from "../lib/src/metrics";
import { InputError } from "../lib/src/errors";
import { MIRNA, tempDir, writeFixture } from "./helpers";

const dir = tempDir();
const site = (k: number) => ("ACGT"[k % 4]! + "ACGT"[(k >> 2) % 4]! + "ACGT"[(k >> 4) % 4]!).repeat(17).slice(0, 50);

/** A miRBind-format table of `n` pairs (label 1 on even rows) with extra columns. */
function mirbindTable(name: string, n: number, extra: Record<string, (k: number) => string> = {}, order = (k: number) => k): string {
  const names = Object.keys(extra);
  const lines = [["miRNA", "gene", "label", ...names].join("\t")];
  for (let i = 0; i < n; i++) {
    const k = order(i);
    lines.push([MIRNA, site(k), String(k % 2 === 0 ? 1 : 0), ...names.map((c) => extra[c]!(k))].join("\t"));
  }
  return writeFixture(dir, name, lines.join("\n") + "\n");
}

test("readToolScores: numeric columns are tools; pair columns, miRBench annotations and text are not; a bad cell names row and column", async () => {
  const file = mirbindTable("tools.tsv", 6, { TargetScan: (k) => String(k / 10), start: (k) => String(1000 + k), name: () => "hsa-let-7a", CNN: (k) => String(1 - k / 10) });
  const t = readToolScores(await readPairTable(file));
  assert.deepEqual(t.tools, ["TargetScan", "CNN"]);
  assert.deepEqual(t.ignored, ["name"]);
  assert.deepEqual(Array.from(t.scores[1]!), [1, 0.9, 0.8, 0.7, 0.6, 0.5]);
  const bad = mirbindTable("bad_tools.tsv", 4, { CNN: (k) => (k === 2 ? "NA" : "0.5") });
  await assert.rejects(async () => readToolScores(await readPairTable(bad)), (e: Error) => e instanceof InputError && /bad_tools\.tsv, row 3 \(line 4\), column 'CNN'.*'NA' is not a number/.test(e.message));
  const none = mirbindTable("no_tools.tsv", 3, { name: () => "x" });
  await assert.rejects(async () => readToolScores(await readPairTable(none)), /no score columns/);
});

test("alignToolScores: rows matched by pair and label in any order; extra rows allowed; a missing pair names the input row", async () => {
  const input = await readPairTable(mirbindTable("input.tsv", 8), { requireLabels: true });
  // The scores table: the same pairs reversed, two extra pairs, each tool score = its pair's k.
  const scores = readToolScores(await readPairTable(mirbindTable("scores.tsv", 10, { tool: (k) => String(k) }, (i) => 9 - i)));
  const aligned = alignToolScores(input, scores);
  assert.equal(aligned.unused, 2);
  assert.deepEqual(Array.from(aligned.rows, (r) => scores.scores[0]![r]), [0, 1, 2, 3, 4, 5, 6, 7]);
  // A pair of the input missing from the scores table.
  const partial = readToolScores(await readPairTable(mirbindTable("partial.tsv", 5, { tool: (k) => String(k) })));
  assert.throws(() => alignToolScores(input, partial), (e: Error) => e instanceof InputError && /input\.tsv, row 6 \(line 7\): this pair .* has no row of scores in .*partial\.tsv/.test(e.message));
  // The same pair with the other label is named.
  const flipped = writeFixture(dir, "flipped.tsv", `miRNA\tgene\tlabel\ttool\n${MIRNA}\t${site(0)}\t0\t0.5\n`);
  const one = await readPairTable(writeFixture(dir, "one.tsv", `miRNA\tgene\tlabel\n${MIRNA}\t${site(0)}\t1\n`), { requireLabels: true });
  const flippedScores = readToolScores(await readPairTable(flipped));
  assert.throws(() => alignToolScores(one, flippedScores), /with label 1: it is there with label 0 \(row 1\)/);
});

test("benchmarkTable: AP and ROC-AUC per model, the best by AP, paired bootstrap intervals as metrics.ts computes them", () => {
  const labels = [1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0];
  const good = labels.map((y, i) => y * 0.6 + (i % 3) * 0.15);
  const poor = labels.map((_, i) => ((i * 7) % 12) / 12);
  const models = [{ name: "poor", scores: poor }, { name: "good", scores: good }];
  const t = benchmarkTable("toy", labels, models, { resamples: 200, seed: 3 });
  assert.equal(t.n, 12);
  assert.equal(t.positives, 5);
  assert.deepEqual(t.rows.map((r) => r.best), [false, true]);
  assert.equal(t.rows[1]!.averagePrecision, rankMetrics(labels, good).averagePrecision);
  assert.equal(t.rows[0]!.rocAuc, rankMetrics(labels, poor).rocAuc);
  const boot = bootstrapAveragePrecision(labels, { poor: [poor], good: [good] }, { resamples: 200, seed: 3 });
  const d = bootstrapDifference(boot, "poor", "good");
  assert.deepEqual([t.rows[0]!.difference, t.rows[0]!.lo, t.rows[0]!.hi], [d.difference, d.lo, d.hi]);
  assert.ok(t.rows[0]!.difference! < 0 && t.rows[0]!.lo! <= t.rows[0]!.difference! && t.rows[0]!.hi! >= t.rows[0]!.difference!);
  assert.equal(t.rows[1]!.difference, null);
  // The same seed gives the same intervals; none without resamples.
  assert.deepEqual(benchmarkTable("toy", labels, models, { resamples: 200, seed: 3 }), t);
  const plain = benchmarkTable("toy", labels, models, { resamples: 0 });
  assert.equal(plain.bootstrap, null);
  assert.equal(plain.rows[0]!.lo, null);
  assert.ok(Math.abs(plain.rows[0]!.difference! - d.difference) < 1e-12);
  assert.throws(() => benchmarkTable("toy", labels, [models[0]!, models[0]!]), /two models named 'poor'/);
  assert.throws(() => benchmarkTable("toy", labels, [{ name: "short", scores: [1, 0] }]), /'short' has 2 scores for 12 rows/);
  const curves = curveSeries(labels, models);
  assert.deepEqual(curves.pr.map((c) => [c.name, c.ap, c.prevalence]), [["poor", t.rows[0]!.averagePrecision, 5 / 12], ["good", t.rows[1]!.averagePrecision, 5 / 12]]);
  assert.equal(curves.roc[1]!.auc, t.rows[1]!.rocAuc);
});

test("modelNames: short and distinct; the seed baseline; a model given twice is refused", () => {
  assert.deepEqual(modelNames(["models/iterative.h5", "seed"]), ["iterative", "seed-match"]);
  assert.deepEqual(modelNames(["runs/a/seed-1/model", "runs/b/seed-1/model", "x.h5"]), ["a/seed-1/model", "b/seed-1/model", "x"]);
  assert.deepEqual(modelNames(["a/one.h5", "b/two.h5"]), ["one", "two"]);
  assert.throws(() => modelNames(["a.h5", "a.h5"]), /model 'a\.h5' given twice/);
  assert.equal(tableName("/d/test_set_1_10_CLASH2013_paper.tsv.gz"), "test_set_1_10_CLASH2013_paper");
  assert.equal(tableName("pairs.tsv"), "pairs");
});
