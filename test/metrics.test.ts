import { test } from "node:test";
import assert from "node:assert/strict";
import { prCurve, rankMetrics, rocCurve, thresholdMetrics } from "../lib/src/metrics";

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
