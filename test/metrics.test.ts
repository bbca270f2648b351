import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapAveragePrecision, bootstrapDifference, percentileInterval, prCurve, rankMetrics, rankScores, rocCurve, thresholdMetrics, weightedAveragePrecision } from "../lib/src/metrics";
import { mulberry32 } from "../lib/src/random";

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test("ROC-AUC and AP on scikit-learn's documented example", () => {
  // sklearn: roc_auc_score([0,0,1,1],[.1,.4,.35,.8]) = 0.75; average_precision_score = 0.8333…
  const m = rankMetrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  close(m.rocAuc, 0.75);
  close(m.averagePrecision, 5 / 6);
  assert.deepEqual([m.n, m.positives, m.negatives], [4, 2, 2]);
});

test("ties: AUC counts tied pairs half, AP steps over distinct thresholds", () => {
  // Worked by hand: Mann–Whitney (1.5 + 1 + 0.5) / 6 = 0.5; AP = 1/3·1/2 + 1/3·2/3 + 1/3·3/5 = 53/90.
  const m = rankMetrics([1, 0, 1, 0, 1], [0.9, 0.9, 0.5, 0.3, 0.3]);
  close(m.rocAuc, 0.5);
  close(m.averagePrecision, 53 / 90);
  close(rankMetrics([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]).rocAuc, 0.5);
});

test("perfect and inverted rankings", () => {
  close(rankMetrics([0, 0, 1, 1], [1, 2, 3, 4]).rocAuc, 1);
  close(rankMetrics([0, 0, 1, 1], [4, 3, 2, 1]).rocAuc, 0);
  close(rankMetrics([0, 0, 1, 1], [1, 2, 3, 4]).averagePrecision, 1);
});

test("curves start at the origin and end at (1, 1)", () => {
  const roc = rocCurve([1, 0, 1, 0, 1], [0.9, 0.9, 0.5, 0.3, 0.3]);
  assert.deepEqual(Array.from(roc.fpr), [0, 0.5, 0.5, 1]);
  assert.deepEqual(Array.from(roc.tpr), [0, 1 / 3, 2 / 3, 1]);
  const pr = prCurve([1, 0, 1, 0, 1], [0.9, 0.9, 0.5, 0.3, 0.3]);
  assert.deepEqual(Array.from(pr.recall), [1 / 3, 2 / 3, 1]);
  assert.deepEqual(Array.from(pr.precision), [1 / 2, 2 / 3, 3 / 5]);
});

test("threshold metrics call score ≥ threshold positive", () => {
  const t = thresholdMetrics([1, 1, 0, 0, 1], [0.9, 0.5, 0.5, 0.1, 0.2], 0.5);
  assert.deepEqual([t.tp, t.fp, t.tn, t.fn], [2, 1, 1, 1]);
  close(t.precision, 2 / 3);
  close(t.recall, 2 / 3);
  close(t.f1, 2 / 3);
  close(t.accuracy, 3 / 5);
  close(t.specificity, 1 / 2);
  assert.equal(thresholdMetrics([0, 1], [0.1, 0.2], 0.9).f1, 0);
});

test("bad input: mismatched lengths, one class only, NaN, bad labels", () => {
  assert.throws(() => rankMetrics([0, 1], [0.5]), /2 labels but 1 scores/);
  assert.throws(() => rankMetrics([1, 1], [0.5, 0.2]), /need positives and negatives.*2 positives and 0 negatives/);
  assert.throws(() => rankMetrics([0, 1], [NaN, 0.2]), /score 0 is NaN/);
  assert.throws(() => rankMetrics([0, 2], [0.1, 0.2]), /label 1 is 2/);
  assert.throws(() => rankMetrics([], []), /no samples/);
});

/** `n` labelled rows (a share `prevalence` positive) and a score per row that separates them by `signal`. */
function scoredRows(n: number, prevalence: number, signal: number, seed: number) {
  const random = mulberry32(seed);
  const labels = Uint8Array.from({ length: n }, () => (random() < prevalence ? 1 : 0));
  const scores = Float64Array.from(labels, (y) => Math.round((random() + signal * y) * 50) / 50); // rounded: ties
  return { labels, scores };
}

test("weighted AP: integer weights give the AP of the set with rows repeated", () => {
  const { labels, scores } = scoredRows(200, 0.3, 0.6, 3);
  const ranked = rankScores(labels, scores);
  assert.ok(Math.abs(weightedAveragePrecision(ranked, new Float64Array(200).fill(1)) - rankMetrics(labels, scores).averagePrecision) < 1e-12);
  const random = mulberry32(9);
  const weights = Float64Array.from({ length: 200 }, () => Math.floor(random() * 3));
  const rows = Array.from(weights).flatMap((w, i) => Array<number>(w).fill(i));
  const expanded = rankMetrics(rows.map((i) => labels[i]!), rows.map((i) => scores[i]!)).averagePrecision;
  assert.ok(Math.abs(weightedAveragePrecision(ranked, weights) - expanded) < 1e-12, `${weightedAveragePrecision(ranked, weights)} vs ${expanded}`);
  assert.ok(Number.isNaN(weightedAveragePrecision(ranked, new Float64Array(200))), "no weight: NaN");
});

test("paired bootstrap of AP: seeded, stratified, paired; the interval of a real difference excludes 0", () => {
  const { labels, scores: good } = scoredRows(600, 0.2, 0.8, 5);
  const random = mulberry32(11);
  const weak = Float64Array.from(labels, (y) => random() + 0.3 * y);
  const models = { good: [good], weak: [weak], goodTwice: [good, good] };
  const boot = bootstrapAveragePrecision(labels, models, { resamples: 300, seed: 4 });
  assert.equal(boot.samples.good!.length, 300);
  assert.equal(boot.positives, labels.reduce((a, b) => a + b, 0));
  assert.equal(boot.observed.good, rankMetrics(labels, good).averagePrecision);
  assert.deepEqual(bootstrapAveragePrecision(labels, models, { resamples: 300, seed: 4 }).samples.weak, boot.samples.weak, "same seed, same resamples");
  assert.notDeepEqual(bootstrapAveragePrecision(labels, models, { resamples: 300, seed: 5 }).samples.weak, boot.samples.weak);
  const d = bootstrapDifference(boot, "good", "weak");
  assert.ok(d.difference > 0.2 && d.lo > 0 && d.lo < d.difference && d.difference < d.hi, JSON.stringify(d));
  // A model against itself (two seeds with the same scores): every resample's difference is 0.
  assert.deepEqual([bootstrapDifference(boot, "good", "goodTwice").lo, bootstrapDifference(boot, "good", "goodTwice").hi], [0, 0]);
  // Resampling the score sets too: a model whose two sets differ gets a wider interval.
  const twoSets = { good: [good], mixed: [good, weak] };
  const rowsOnly = bootstrapDifference(bootstrapAveragePrecision(labels, twoSets, { resamples: 300, seed: 4 }), "good", "mixed");
  const withSets = bootstrapDifference(bootstrapAveragePrecision(labels, twoSets, { resamples: 300, seed: 4, resampleScoreSets: true }), "good", "mixed");
  assert.equal(withSets.difference, rowsOnly.difference, "the observed difference averages every set");
  assert.ok(withSets.hi - withSets.lo > 2 * (rowsOnly.hi - rowsOnly.lo), `${JSON.stringify(withSets)} vs ${JSON.stringify(rowsOnly)}`);
  assert.ok(withSets.lo < 1e-12, "a resample may draw the good set twice: difference 0");
  assert.throws(() => bootstrapDifference(boot, "good", "nope"), /no model 'nope' in the bootstrap \(models: good, weak, goodTwice\)/);
  assert.throws(() => bootstrapAveragePrecision(labels, { short: [good.slice(1)] }), /model 'short' score set 0: 599 scores for 600 rows/);
  assert.throws(() => bootstrapAveragePrecision(new Uint8Array(5), { x: [new Float64Array(5)] }), /need positives and negatives/);
});

test("percentile interval: linear interpolation between order statistics (numpy's default)", () => {
  const values = Array.from({ length: 101 }, (_, i) => 100 - i);
  const [lo, hi] = percentileInterval(values);
  assert.ok(Math.abs(lo - 2.5) < 1e-12 && Math.abs(hi - 97.5) < 1e-12, `${lo} ${hi}`);
  assert.deepEqual(percentileInterval([3, 1, 2], 0.5), [1.5, 2.5]);
  assert.throws(() => percentileInterval([]), /no values/);
});
