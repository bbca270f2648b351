import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapMeanCi, bootstrapMeanDifferenceCi, formatMeanCi, prCurve, rankMetrics, rocCurve, thresholdMetrics } from "../lib/src/metrics";
import { InputError } from "../lib/src/errors";
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

test("bootstrapMeanCi: the mean inside a seeded percentile interval that narrows with n and covers the true mean", () => {
  const random = mulberry32(4);
  const draw = (n: number) => Float64Array.from({ length: n }, () => random() * 2); // uniform on [0, 2]: mean 1, sd 0.577
  const small = bootstrapMeanCi(draw(40), { seed: 1 });
  const large = bootstrapMeanCi(draw(4000), { seed: 1 });
  for (const ci of [small, large]) {
    assert.ok(ci.lo < ci.mean && ci.mean < ci.hi, formatMeanCi(ci));
    assert.ok(ci.lo < 1 && 1 < ci.hi, `covers the true mean: ${formatMeanCi(ci)}`);
  }
  assert.equal(large.n, 4000);
  // Width ≈ 2 · 1.96 · 0.577 / sqrt(n): about 0.36 at n = 40, 0.036 at n = 4,000.
  assert.ok(Math.abs(small.hi - small.lo - 0.36) < 0.1 && Math.abs(large.hi - large.lo - 0.036) < 0.01, `${formatMeanCi(small)} / ${formatMeanCi(large)}`);
  const values = draw(50);
  assert.deepEqual(bootstrapMeanCi(values, { seed: 3 }), bootstrapMeanCi(values, { seed: 3 }));
  assert.notDeepEqual(bootstrapMeanCi(values, { seed: 3 }), bootstrapMeanCi(values, { seed: 4 }));
  const constant = bootstrapMeanCi([2, 2, 2]);
  assert.deepEqual([constant.mean, constant.lo, constant.hi, constant.level], [2, 2, 2, 0.95]);
  assert.throws(() => bootstrapMeanCi([]), InputError);
  assert.throws(() => bootstrapMeanCi([1, NaN]), /value 1 is not finite/);
  assert.throws(() => bootstrapMeanCi([1], { level: 1 }), InputError);
  assert.equal(formatMeanCi({ mean: 0.1234, lo: 0.1, hi: 0.15, n: 3, level: 0.95 }), "0.123 [0.100, 0.150]");
});

test("bootstrapMeanDifferenceCi: groups resampled on their own; an interval away from 0 only for a real difference", () => {
  const random = mulberry32(5);
  const a = Float64Array.from({ length: 200 }, () => random());
  const b = Float64Array.from({ length: 60 }, () => random());
  const same = bootstrapMeanDifferenceCi(a, b, { seed: 2 });
  assert.ok(same.lo < 0 && same.hi > 0, `no difference: ${formatMeanCi(same)}`);
  assert.equal(same.n, 60);
  const shifted = bootstrapMeanDifferenceCi(a.map((v) => v + 0.3), b, { seed: 2 });
  assert.ok(shifted.lo > 0 && Math.abs(shifted.mean - same.mean - 0.3) < 1e-9, formatMeanCi(shifted));
  assert.throws(() => bootstrapMeanDifferenceCi([], b), /needs values in both groups/);
  assert.throws(() => bootstrapMeanDifferenceCi([1, Infinity], b), /group a value 1/);
});
