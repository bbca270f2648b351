import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import { arraySource, predict, subsetSource } from "../lib/src/predict";
import {
  completenessErrors, inputGradients, integratedGradients, integrationNodes, targetScore,
} from "../lib/src/saliency";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { loadKerasH5 } from "../lib/src/binding/kerasH5";
import { publishedModelPath } from "../lib/src/binding/paths";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { missingData } from "../lib/src/data/paths";
import { mulberry32, randomSequence } from "../lib/src/random";

before(async () => {
  await initBackend({ quiet: true });
});

/** `n` seeded random miRNA–site pairs as binding matrices, shape=(n, 50, 20, 1). */
function randomMatrices(n: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const mirnas = Array.from({ length: n }, () => randomSequence(random, 20));
  const sites = Array.from({ length: n }, () => randomSequence(random, 50));
  return encodeBindingMatrix(mirnas, sites);
}

/** score(x) = Σ w ⊙ x + b for rows of shape (2, 3): linear, so integrated gradients are exactly (x − x′) ⊙ w. */
function linearScore(w: Float32Array, b: number): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.tidy(() => tf.add(tf.sum(tf.mul(x, tf.tensor(w, [1, 2, 3])), [1, 2]), b));
}

test("integrationNodes: weights sum to 1; Gauss–Legendre with k points integrates degree 2k − 1 exactly on [0, 1]", () => {
  for (const rule of ["gauss-legendre", "trapezoid"] as const) {
    for (const steps of [1, 2, 5, 64, 256]) {
      const { alphas, weights } = integrationNodes(steps, rule);
      assert.equal(alphas.length, rule === "trapezoid" ? steps + 1 : steps);
      assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-12, `${rule} ${steps}: weights sum to 1`);
      assert.ok(alphas.every((a) => a >= 0 && a <= 1));
      for (let i = 1; i < alphas.length; i++) assert.ok(alphas[i]! > alphas[i - 1]!, "ascending");
    }
  }
  // ∫₀¹ x^d dx = 1 / (d + 1): exact up to degree 2k − 1, not beyond.
  for (const k of [1, 3, 8, 20]) {
    const { alphas, weights } = integrationNodes(k);
    const integral = (d: number) => alphas.reduce((s, a, i) => s + weights[i]! * a ** d, 0);
    for (let d = 0; d <= 2 * k - 1; d++) assert.ok(Math.abs(integral(d) - 1 / (d + 1)) < 1e-13, `k=${k}, degree ${d}`);
    if (k <= 3) assert.ok(Math.abs(integral(2 * k) - 1 / (2 * k + 1)) > 1e-6, `k=${k}: degree 2k is not exact`);
  }
  // The trapezoid rule is exact for lines only.
  const t = integrationNodes(4, "trapezoid");
  assert.deepEqual(Array.from(t.alphas), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(Array.from(t.weights), [0.125, 0.25, 0.25, 0.25, 0.125]);
  assert.throws(() => integrationNodes(0), InputError);
  assert.throws(() => integrationNodes(2.5), InputError);
  assert.throws(() => integrationNodes(4, "simpson" as never), InputError);
});

test("a linear score: IG = (x − x′) ⊙ w exactly, for every rule, step count and kind of baseline", () => {
  const w = Float32Array.from([1, -2, 0.5, 3, 0, -1]);
  const score = linearScore(w, 0.25);
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, -1, 0, 1, 0, 2, 0.5]); // 2 rows of (2, 3)
  const inputs = arraySource(x, [2, 3]);
  const check = (result: ReturnType<typeof integratedGradients>, x0: (row: number, j: number) => number) => {
    assert.deepEqual(result.shape, [2, 2, 3]);
    for (let r = 0; r < 2; r++) {
      let sum = 0;
      for (let j = 0; j < 6; j++) {
        const expected = (x[r * 6 + j]! - x0(r, j)) * w[j]!;
        assert.ok(Math.abs(result.values[r * 6 + j]! - expected) < 1e-5, `row ${r} value ${j}: ${result.values[r * 6 + j]} vs ${expected}`);
        sum += expected;
      }
      assert.ok(Math.abs(result.sums[r]! - sum) < 1e-4);
      assert.ok(Math.abs(result.inputScores[r]! - result.baselineScores[r]! - sum) < 1e-4);
    }
    assert.ok(completenessErrors(result).every((e) => e < 1e-5));
  };
  for (const rule of ["gauss-legendre", "trapezoid"] as const) {
    for (const steps of [1, 3, 16]) check(integratedGradients(score, inputs, { steps, rule }), () => 0);
  }
  check(integratedGradients(score, inputs, { baseline: 0.5 }), () => 0.5);
  const shared = Float32Array.from([0, 1, 0, 1, 0, 1]);
  check(integratedGradients(score, inputs, { baseline: arraySource(shared, [2, 3]) }), (_, j) => shared[j]!);
  const perRow = Float32Array.from([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
  check(integratedGradients(score, inputs, { baseline: arraySource(perRow, [2, 3]), batchSize: 5 }), (r, j) => perRow[r * 6 + j]!);
  assert.deepEqual(Array.from(integratedGradients(score, inputs, { steps: 16 }).steps), [16, 16]);
});

test("integratedGradients: bad options are InputErrors; an empty input gives an empty result", () => {
  const score = linearScore(new Float32Array(6).fill(1), 0);
  const inputs = arraySource(new Float32Array(12), [2, 3]);
  assert.throws(() => integratedGradients(score, inputs, { steps: 0 }), InputError);
  assert.throws(() => integratedGradients(score, inputs, { batchSize: 0 }), InputError);
  assert.throws(() => integratedGradients(score, inputs, { baseline: NaN }), InputError);
  assert.throws(() => integratedGradients(score, inputs, { baseline: arraySource(new Float32Array(18), [2, 3]) }), /baseline has 3 rows/);
  assert.throws(() => integratedGradients(score, inputs, { baseline: arraySource(new Float32Array(4), [4]) }), /baseline rows have shape/);
  assert.throws(() => integratedGradients(score, inputs, { tolerance: -1 }), InputError);
  assert.throws(() => integratedGradients(score, inputs, { steps: 64, tolerance: 0.01, maxSteps: 32 }), /maxSteps/);
  const empty = integratedGradients(score, arraySource(new Float32Array(0), [2, 3]));
  assert.equal(empty.values.length, 0);
  assert.equal(empty.sums.length, 0);
});

test("arraySource and subsetSource make the rows asked for", () => {
  const values = Float32Array.from({ length: 12 }, (_, i) => i);
  const source = arraySource(values, [2, 2]);
  assert.equal(source.n, 3);
  const subset = subsetSource(source, [2, 0, 1, 2]);
  assert.equal(subset.n, 4);
  const rows = tf.tidy(() => Array.from(subset.make(0, 4).dataSync()));
  assert.deepEqual(rows, [8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.throws(() => arraySource(values, [5]), InputError);
  assert.throws(() => subsetSource(source, [3]), /out of range/);
});

test("integrated gradients of arch_00b: shape=(n, 50, 20, 1), batching does not change them, unpaired cells get 0, no tensors leak", () => {
  const model = buildArch00b({ seed: 4 });
  const target = targetScore(model);
  const inputs = arraySource(randomMatrices(5, 2), [50, 20, 1]);
  const a = integratedGradients(target.score, inputs, { steps: 8, batchSize: 256 });
  assert.deepEqual(a.shape, [5, 50, 20, 1]);
  assert.equal(a.values.length, 5 * 1000);
  // 3 path points per pass (nodes split across passes) and one row per pass.
  const b = integratedGradients(target.score, inputs, { steps: 8, batchSize: 3 });
  for (let i = 0; i < a.values.length; i++) assert.ok(Math.abs(a.values[i]! - b.values[i]!) < 1e-5);
  // A cell that does not pair (x = x′ = 0) has attribution exactly 0.
  const x = randomMatrices(5, 2);
  for (let i = 0; i < x.length; i++) if (x[i] === 0) assert.ok(a.values[i] === 0, `cell ${i}: ${a.values[i]}`);
  // Scores as predict computes them.
  const logits = predict(target.score, inputs).values;
  for (let r = 0; r < 5; r++) assert.ok(Math.abs(logits[r]! - a.inputScores[r]!) < 1e-5);
  // Warm, then count tensors.
  integratedGradients(target.score, inputs, { steps: 4, tolerance: 1e-9, maxSteps: 8 });
  const before = tf.memory().numTensors;
  integratedGradients(target.score, inputs, { steps: 4, batchSize: 7 });
  integratedGradients(target.score, inputs, { steps: 4, tolerance: 1e-9, maxSteps: 8 });
  inputGradients(target.score, inputs);
  assert.equal(tf.memory().numTensors, before);
  target.dispose();
  model.dispose();
});

test("tolerance: rows that miss completeness are recomputed with doubled steps, the others keep theirs", () => {
  // A score with a kink: relu(Σx − 1.3) · 5 + Σx. Along the path from 0 its gradient jumps at
  // one α, which a few Gauss–Legendre points integrate badly.
  const score = (x: tf.Tensor) => tf.tidy(() => {
    const s = tf.sum(x, [1]);
    return tf.add(tf.mul(tf.relu(tf.sub(s, 1.3)), 5), s);
  });
  const inputs = arraySource(Float32Array.from([1, 1, 0.2, 0.2, 0.5, 0.4]), [2]); // Σ = 2 (kink inside), 0.4, 0.9 (no kink)
  const coarse = integratedGradients(score, inputs, { steps: 2 });
  const errors = completenessErrors(coarse);
  assert.ok(errors[0]! > 0.01, `the kinked row misses completeness with 2 steps (${errors[0]})`);
  assert.ok(errors[1]! < 1e-6 && errors[2]! < 1e-6);
  const refined = integratedGradients(score, inputs, { steps: 2, tolerance: 0.01, maxSteps: 4096 });
  assert.ok(completenessErrors(refined).every((e) => e <= 0.01));
  assert.ok(refined.steps[0]! > 2);
  assert.deepEqual([refined.steps[1], refined.steps[2]], [2, 2]);
  assert.deepEqual(Array.from(refined.values.subarray(2)), Array.from(coarse.values.subarray(2)));
  // maxSteps caps the refinement.
  const capped = integratedGradients(score, inputs, { steps: 2, tolerance: 1e-12, maxSteps: 8 });
  assert.equal(capped.steps[0], 8);
});

/**
 * The acceptance test of completeness: on 100 random pairs, the attributions of the published
 * iterative model (a trained arch_00b) from the all-zero matrix sum to logit(x) − logit(0)
 * within 1%, both logits computed independently by predict() from the model's probabilities.
 * With too few steps the same check fails (the negative control below): the test can fail.
 */
test("completeness: 40 random pairs, published iterative model, IG from the zero matrix sums to logit(x) − logit(0) within 1%", async (t) => {
  const skip = missingData(publishedModelPath("iterative"));
  if (skip) return t.skip(skip);
  const model = await loadKerasH5(publishedModelPath("iterative"));
  const target = targetScore(model);
  try {
    // 40 pairs × 256 steps of gradients: the cost of the test (100 pairs took a minute under load).
    const x = randomMatrices(40, 7);
    const inputs = arraySource(x, [50, 20, 1]);
    const logit = (p: number) => Math.log(p / (1 - p));
    const pInput = predict(model, inputs).values;
    const pZero = predict(model, arraySource(new Float32Array(1000), [50, 20, 1])).values[0]!;
    const deltas = Array.from(pInput, (p) => logit(p) - logit(pZero));
    assert.ok(deltas.every((d) => Math.abs(d) > 0.1), "the pairs score away from the baseline (a relative error means something)");

    const result = integratedGradients(target.score, inputs, { steps: 256 });
    const relative = deltas.map((d, i) => Math.abs(result.sums[i]! - d) / Math.abs(d));
    const worst = Math.max(...relative);
    assert.ok(worst <= 0.01, `largest completeness error ${(100 * worst).toFixed(3)}% > 1%`);

    // Negative control: 8 Gauss–Legendre points (or the 9-point trapezoid rule) are too few.
    for (const rule of ["gauss-legendre", "trapezoid"] as const) {
      const coarse = integratedGradients(target.score, inputs, { steps: 8, rule });
      const failing = deltas.filter((d, i) => Math.abs(coarse.sums[i]! - d) / Math.abs(d) > 0.01).length;
      assert.ok(failing >= 20, `${rule}, 8 steps: only ${failing} of 40 pairs miss completeness by > 1%`);
    }
  } finally {
    target.dispose();
    model.dispose();
  }
});
