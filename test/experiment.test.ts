import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { BindingConfig, CLASH_SELECTION_SETS, clashPath, paperExperimentDir, runBindingExperiment } from "../lib/src/binding/experiment";
import { strideSubset } from "../lib/src/binding/evaluation";
import { paperFixturePath } from "../lib/src/binding/paperTable";
import { PUBLISHED_MODELS, publishedModelPath, testSetPath } from "../lib/src/binding/paths";
import { seedMatchScores } from "../lib/src/binding/seedMatch";
import { readPairTable } from "../lib/src/binding/tables";
import { estimateStandardTraining, measuredRowsPerSecond } from "../lib/src/binding/trainingTime";
import { missingData, REPO_ROOT } from "../lib/src/data/paths";
import { rankMetrics } from "../lib/src/metrics";
import { tempDir } from "./helpers";

/** The paper's configurations, at tiny sizes (the fixture has 240 positives). */
const CONFIGS: BindingConfig[] = [
  { name: "standard_1k_ratio1", mode: "standard", positives: 20, ratio: 1, epochs: 1 },
  { name: "standard_1k_ratio10", mode: "standard", positives: 20, ratio: 10, epochs: 1 },
  { name: "standard_100k_ratio1", mode: "standard", positives: 120, ratio: 1, epochs: 1 },
  { name: "standard_100k_ratio10", mode: "standard", positives: 120, ratio: 10, epochs: 1 },
  { name: "iterative_faithful", mode: "iterative", variant: "faithful", iterations: 2, positivesPerIteration: 20, minibatches: 5 },
  { name: "iterative_improved", mode: "iterative", variant: "improved", iterations: 2, positivesPerIteration: 20, validationPositives: 20 },
];
/** A few rows of each chr1 test set: every 2,000th positive, every 40,000th negative. */
const SUBSET = { positiveStride: 2000, negativeStride: 40_000 };

test("paperExperimentDir: out/binding-paper (full), out/binding-paper-ci (ci)", () => {
  assert.equal(paperExperimentDir("full"), path.join(REPO_ROOT, "out", "binding-paper"));
  assert.equal(paperExperimentDir("ci"), path.join(REPO_ROOT, "out", "binding-paper-ci"));
});

test("the paper's setting on the 35-column fixture: trains every configuration on the table, scores ours, the published models and the baseline on the same chr1 rows, resumes, refuses another table (data)", async (t) => {
  const skip = missingData(testSetPath("scan"), testSetPath("mirnaNeg"), ...PUBLISHED_MODELS.map(publishedModelPath));
  if (skip) return t.skip(skip);
  const outDir = tempDir();
  const table = paperFixturePath();
  const lines: string[] = [];
  const opts = { outDir, configs: CONFIGS, seeds: [1], paperTable: table, testSubset: SUBSET, workers: 2, progress: (l: string) => void lines.push(l) };
  const results = await runBindingExperiment(opts);

  assert.equal(results.setting, "paper");
  assert.equal(results.paper.file, table);
  assert.equal(results.paper.rows, 240);
  assert.ok(!("chr1" in results.paper.chromosomes));
  assert.deepEqual(results.paper.testSubset, SUBSET);
  assert.ok(!fs.existsSync(path.join(outDir, "split")), "no chr1 split in the paper's setting");
  assert.match(lines[0]!, /^training table: .*train_set_positives\.tsv, 240 positives on \d+ chromosomes \(no chr1\), \d+ miRNA families$/);
  // Test sets: the chr1 sets, the subset's rows.
  const expected = [];
  for (const [name, key] of [["chr1 scan", "scan"], ["chr1 miRNA-neg", "mirnaNeg"]] as const) {
    const read = await readPairTable(testSetPath(key), { requireLabels: true });
    expected.push(strideSubset({ name, mirnas: read.mirnas, sites: read.sites, labels: read.labels! }, SUBSET));
  }
  assert.deepEqual(results.testSets, expected.map((s) => ({ name: s.name, n: s.labels.length, positives: s.labels.reduce((a, b) => a + b, 0) })));
  // Every configuration trained on the table.
  assert.deepEqual(results.trained.map((r) => r.config).sort(), CONFIGS.map((c) => c.name).sort());
  for (const r of results.trained) {
    const args = r.command;
    assert.equal(args[args.indexOf("--train") + 1], table, r.config);
    assert.ok(fs.existsSync(path.join(r.dir, "model", "model.json")));
  }
  // Scores: 6 ours + 5 published + the baseline, on both sets.
  assert.equal(results.scores.length, (CONFIGS.length + PUBLISHED_MODELS.length + 1) * 2);
  assert.deepEqual([...new Set(results.scores.filter((s) => s.config === "published").map((s) => s.model))].sort(), [...PUBLISHED_MODELS].sort());
  // The same rows for every model: the baseline recomputed here on the subset agrees.
  for (const set of expected) {
    const baseline = results.scores.find((s) => s.config === "baseline" && s.testSet === set.name)!;
    const m = rankMetrics(set.labels, seedMatchScores(set.mirnas, set.sites));
    assert.equal(baseline.n, set.labels.length);
    assert.ok(Math.abs(baseline.rocAuc - m.rocAuc) < 1e-12 && Math.abs(baseline.averagePrecision - m.averagePrecision) < 1e-12, set.name);
  }
  assert.equal(results.summary.length, CONFIGS.length * 2);
  const written = JSON.parse(fs.readFileSync(path.join(outDir, "results.json"), "utf8"));
  assert.equal(written.setting, "paper");
  assert.ok(!("split" in written));

  // The throughput of the finished standard runs, and nothing left to train.
  const measured = measuredRowsPerSecond(results.trained);
  assert.ok(measured && measured.runs === 4 && measured.rowsPerSecond > 0);
  assert.deepEqual(estimateStandardTraining(outDir, CONFIGS.filter((c) => c.mode === "standard"), [1], measured.rowsPerSecond, 2).runs, []);

  // A second run resumes: nothing trained again, the same numbers.
  const again = await runBindingExperiment(opts);
  assert.deepEqual(again.scores, results.scores);
  assert.deepEqual(again.trained.map((r) => r.seconds), results.trained.map((r) => r.seconds));

  // Another table in the same folder is refused; CLASH configurations do not belong here.
  const other = path.join(tempDir(), "other.tsv");
  const text = fs.readFileSync(table, "utf8").split("\n");
  text.splice(1, 1);
  fs.writeFileSync(other, text.join("\n"));
  await assert.rejects(runBindingExperiment({ ...opts, paperTable: other }), /holds models trained on another table/);
  await assert.rejects(runBindingExperiment({ ...opts, configs: [{ ...CONFIGS[5]!, name: "best", withClash: true }] }), /drop the withClash configurations \(best\)/);
});

test("the CLASH setting: trains on a CLASH table (given or family-safe re-paired negatives), chooses each model on the selection sets, scores on the CLASH test sets (data)", async (t) => {
  const skip = missingData(clashPath("train"), clashPath("test_1_1"), clashPath("test_1_10"), ...CLASH_SELECTION_SETS.map((n) => clashPath(n)), ...PUBLISHED_MODELS.map(publishedModelPath));
  if (skip) return t.skip(skip);
  const dir = tempDir();
  const configs: BindingConfig[] = [
    { name: "standard_given", mode: "standard", negatives: "given", epochs: 2, select: true },
    { name: "standard_ratio3_family", mode: "standard", ratio: 3, epochs: 1, negativeFamily: "seed", select: true },
    { name: "iterative_improved", mode: "iterative", variant: "improved", iterations: 2, positivesPerIteration: 20, validationPositives: 20, negativeFamily: "seed", select: true },
  ];
  const outDir = path.join(dir, "exp");
  const lines: string[] = [];
  const subset = { positiveStride: 50, negativeStride: 200 };
  // Every 200th training row and every 100th row of one evaluation set: written into outDir.
  const clash = { select: [clashPath("evaluation_1_10")], trainSubset: { positiveStride: 200, negativeStride: 200 }, selectSubset: { positiveStride: 100, negativeStride: 100 } };
  const opts = { outDir, configs, seeds: [1], clash, clashSubset: subset, workers: 2, bootstrap: { resamples: 50, seed: 1 }, progress: (l: string) => void lines.push(l) };
  const train = path.join(outDir, "clash-train.tsv.gz");
  const select = path.join(outDir, "clash-select-1.tsv.gz");
  const results = await runBindingExperiment(opts);
  assert.equal(results.setting, "clash");
  assert.equal(results.clash.train.file, train);
  assert.ok(results.clash.train.positives > 0 && results.clash.train.negatives > 0);
  assert.deepEqual(results.clash.select.map((s) => s.file), [select]);
  assert.match(lines[0]!, /^training table: .*clash-train\.tsv\.gz, 77 positives and 77 negatives; model selection on .*clash-select-1\.tsv\.gz \(110\)/);
  assert.deepEqual(results.testSets.map((s) => s.name), ["CLASH 1:1", "CLASH 1:10"]);
  for (const r of results.trained) {
    const args = r.command;
    assert.equal(args[args.indexOf("--train") + 1], train, r.config);
    assert.equal(args[args.indexOf("--select") + 1], select, r.config);
    assert.ok(r.log.history.every((h) => typeof h.selAp === "number"), `${r.config}: selection AP every epoch`);
  }
  const given = results.trained.find((r) => r.config === "standard_given")!;
  assert.equal(given.log.negativesUsed, results.clash.train.negatives, "the table's own negatives");
  assert.equal(given.command[given.command.indexOf("--negatives") + 1], "given");
  assert.equal(results.trained.find((r) => r.config === "standard_ratio3_family")!.command.includes("--negative-family"), true);
  assert.ok(!fs.existsSync(path.join(outDir, "split")), "no chr1 split");
  // Ours, the published models and the baseline on both test sets; the bootstrap on both.
  assert.equal(results.scores.length, (configs.length + PUBLISHED_MODELS.length + 1) * 2);
  assert.deepEqual(results.bootstrap!.map((b) => b.testSet), ["CLASH 1:1", "CLASH 1:10"]);
  // Comparators: runs trained elsewhere, scored on the same rows beside ours (nothing is retrained).
  const withComparator = await runBindingExperiment({ ...opts, comparators: [{ name: "elsewhere", dirs: [given.dir] }], curves: ["CLASH 1:10"] });
  assert.deepEqual(withComparator.curves!.map((c) => c.testSet), ["CLASH 1:10"]);
  assert.deepEqual(withComparator.curves![0]!.pr.map((c) => c.name), [...configs.map((c) => `${c.name} (seed 1)`), "elsewhere (seed-1)", ...PUBLISHED_MODELS.map((p) => `published ${p}`), "seed-match"]);
  assert.equal(withComparator.curves![0]!.roc[0]!.auc, withComparator.scores.find((x) => x.config === configs[0]!.name && x.testSet === "CLASH 1:10")!.rocAuc);
  await assert.rejects(runBindingExperiment({ ...opts, curves: ["nope"] }), /curves: no test set 'nope' \(test sets: CLASH 1:1, CLASH 1:10\)/);
  assert.deepEqual(withComparator.trained.map((r) => r.seconds), results.trained.map((r) => r.seconds));
  const mine = withComparator.scores.filter((x) => x.config === "standard_given");
  const theirs = withComparator.scores.filter((x) => x.config === "elsewhere");
  assert.deepEqual(theirs.map((x) => x.averagePrecision), mine.map((x) => x.averagePrecision), "the same model on the same rows");
  assert.equal(withComparator.summary.filter((x) => x.config === "elsewhere").length, 2);
  assert.ok("elsewhere" in withComparator.bootstrap![1]!.samples);
  await assert.rejects(runBindingExperiment({ ...opts, comparators: [{ name: "nowhere", dirs: [dir] }] }), /comparator 'nowhere': not a finished training run/);
  await assert.rejects(runBindingExperiment({ ...opts, configs: [{ ...configs[0]!, name: "x", withClash: true }] }), /the CLASH setting trains on the CLASH table already; drop withClash \(x\)/);
  await assert.rejects(runBindingExperiment({ outDir: path.join(dir, "chr1"), configs: [configs[0]!], seeds: [1] }), /select chooses models on the CLASH setting's evaluation sets; only the CLASH setting has them \(standard_given\)/);
});
