import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import { buildDeepMirClassifier } from "../lib/src/hairpin/classifier";
import { HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import {
  averageSaliencyMap, compareSaliencyMaps, hairpinSaliencyMaps, SALIENCY_MAP_SIZE, trueClassIndices,
} from "../lib/src/hairpin/saliency";
import { thresholdMetrics } from "../lib/src/metrics";
import { mulberry32 } from "../lib/src/random";

/** A small deepMir model for fast tests: 1 module of 4 filters, 8 dense units. */
const tiny = (seed: number) => buildDeepMirClassifier({ modules: 1, filters: [4], denseUnits: 8, seed });

before(async () => {
  await initBackend({ quiet: true });
});

/** `n` seeded images of random bytes. */
function randomImages(n: number, seed: number): Uint8Array {
  const random = mulberry32(seed);
  return Uint8Array.from({ length: n * HAIRPIN_IMAGE_SIZE }, () => Math.floor(random() * 256));
}

/**
 * flatten → dense(2, softmax) whose logits differ only through input (row, col, channel):
 * z₁ − z₀ = 2w · x[row, col, channel] + bias difference, so only that pixel has a gradient.
 */
function onePixelModel(row: number, col: number, channel: number, w = 3): tf.LayersModel {
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [25, 100, 3] }), tf.layers.dense({ units: 2, activation: "softmax" })],
  });
  const kernel = new Float32Array(HAIRPIN_IMAGE_SIZE * 2);
  const f = (row * 100 + col) * 3 + channel;
  kernel[f * 2] = -w;
  kernel[f * 2 + 1] = w;
  model.setWeights([tf.tensor2d(kernel, [HAIRPIN_IMAGE_SIZE, 2]), tf.tensor1d([0.1, -0.2])]);
  return model;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test("maps of a deepMir model: [n, 25, 100] in [0, 1], max exactly 1, min 0; batching, seeds and the class do not change them", () => {
  const images = randomImages(5, 3);
  const indices = [4, 0, 2];
  const model = tiny(11);
  const maps = hairpinSaliencyMaps(model, images, indices, 1);
  assert.ok(maps instanceof Float32Array);
  assert.equal(maps.length, indices.length * SALIENCY_MAP_SIZE);
  for (let k = 0; k < indices.length; k++) {
    const map = maps.subarray(k * SALIENCY_MAP_SIZE, (k + 1) * SALIENCY_MAP_SIZE);
    assert.ok(map.every((v) => v >= 0 && v <= 1));
    assert.equal(Math.max(...map), 1);
    assert.equal(Math.min(...map), 0);
  }
  // Map k belongs to image indices[k], whatever the batch it was computed in.
  const single = hairpinSaliencyMaps(model, images, [0], 1);
  assert.ok(maxAbsDiff(single, maps.subarray(SALIENCY_MAP_SIZE, 2 * SALIENCY_MAP_SIZE)) < 1e-5);
  const inPairs = hairpinSaliencyMaps(model, images, indices, 1, { batchSize: 2 });
  assert.ok(maxAbsDiff(inPairs, maps) < 1e-5);
  // Same seed, same model, same maps (twice, bit for bit); another seed, other maps.
  const again = tiny(11);
  assert.deepEqual(hairpinSaliencyMaps(again, images, indices, 1), maps);
  assert.deepEqual(hairpinSaliencyMaps(again, images, indices, 1), maps);
  const other = tiny(12);
  assert.ok(maxAbsDiff(hairpinSaliencyMaps(other, images, indices, 1), maps) > 0.01);
  // Two classes: ∂p₀/∂x = −∂p₁/∂x, so after |·| and normalisation both classes give one map.
  assert.ok(maxAbsDiff(hairpinSaliencyMaps(model, images, indices, 0), maps) < 1e-4);
  [model, again, other].forEach((m) => m.dispose());
});

test("hairpinSaliencyMaps leaks no tensors", () => {
  const model = tiny(5);
  const images = randomImages(3, 9);
  hairpinSaliencyMaps(model, images, [0, 1, 2], 1, { batchSize: 2 }); // warm-up
  const before = tf.memory().numTensors;
  hairpinSaliencyMaps(model, images, [0, 1, 2], 1, { batchSize: 2 });
  hairpinSaliencyMaps(model, images, [], 0);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("a model that reads one pixel has the map 1 at that pixel and 0 elsewhere", () => {
  const [row, col] = [7, 42];
  const model = onePixelModel(row, col, 1);
  const images = randomImages(2, 4);
  const maps = hairpinSaliencyMaps(model, images, [1, 0, 1], 1);
  const expected = new Float32Array(SALIENCY_MAP_SIZE);
  expected[row * 100 + col] = 1;
  for (let k = 0; k < 3; k++) assert.deepEqual(maps.subarray(k * SALIENCY_MAP_SIZE, (k + 1) * SALIENCY_MAP_SIZE), expected);
  assert.deepEqual(hairpinSaliencyMaps(model, images, [0], 0), expected);
  assert.deepEqual(averageSaliencyMap(maps, 3), Float64Array.from(expected));
  model.dispose();
});

test("a saturated softmax (p = 1 exactly in float32) still gives its map: the logit difference is differentiated", () => {
  const [row, col] = [3, 9];
  const model = onePixelModel(row, col, 0, 500); // logit difference up to ±1000: p is exactly 0 or 1
  const images = randomImages(3, 8);
  const p = tf.tidy(() => (model.predict(tf.tensor4d(Float32Array.from(images, (v) => v / 255), [3, 25, 100, 3])) as tf.Tensor).dataSync());
  assert.ok([...p].every((v) => v === 0 || v === 1), "the toy model saturates");
  const maps = hairpinSaliencyMaps(model, images, [0, 1, 2], 1);
  const expected = new Float32Array(SALIENCY_MAP_SIZE);
  expected[row * 100 + col] = 1;
  for (let k = 0; k < 3; k++) assert.deepEqual(maps.subarray(k * SALIENCY_MAP_SIZE, (k + 1) * SALIENCY_MAP_SIZE), expected);
  model.dispose();
});

test("a constant gradient gives an all-zero map", () => {
  // All-zero kernel: the output does not depend on the input, the gradient is 0 everywhere.
  const model = onePixelModel(0, 0, 0, 0);
  const maps = hairpinSaliencyMaps(model, randomImages(1, 1), [0], 1);
  assert.deepEqual(maps, new Float32Array(SALIENCY_MAP_SIZE));
  model.dispose();
});

test("averageSaliencyMap is the pixelwise float64 mean", () => {
  const maps = new Float32Array(2 * SALIENCY_MAP_SIZE);
  maps[0] = 1;
  maps[SALIENCY_MAP_SIZE] = 0.5;
  maps[SALIENCY_MAP_SIZE + 2499] = 0.25;
  const mean = averageSaliencyMap(maps, 2);
  assert.ok(mean instanceof Float64Array);
  assert.equal(mean.length, 2500);
  assert.equal(mean[0], 0.75);
  assert.equal(mean[2499], 0.125);
  assert.equal(mean.reduce((a, b) => a + b, 0), 0.875);
});

test("trueClassIndices: true positives p ≥ threshold, true negatives p < threshold (as thresholdMetrics)", () => {
  const labels = [1, 1, 0, 0, 1, 0, 1];
  const probs = [0.9, 0.5, 0.5, 0.1, 0.2, 0.49, 0.7];
  assert.deepEqual(trueClassIndices(labels, probs, true), [0, 1, 6]);
  assert.deepEqual(trueClassIndices(labels, probs, false), [3, 5]);
  assert.deepEqual(trueClassIndices(labels, probs, true, 0.8), [0]);
  assert.deepEqual(trueClassIndices(labels, probs, false, 0.8), [2, 3, 5]);
  const at = thresholdMetrics(labels, probs);
  assert.equal(trueClassIndices(labels, probs, true).length, at.tp);
  assert.equal(trueClassIndices(labels, probs, false).length, at.tn);
  assert.deepEqual(trueClassIndices([], [], true), []);
});

test("compareSaliencyMaps: identical 1, negated −1, and hand-checked row / column profiles", () => {
  const random = mulberry32(8);
  const map = Float64Array.from({ length: 2500 }, () => random());
  assert.deepEqual(compareSaliencyMaps(map, map), { pearson: 1, rowProfilePearson: 1, columnProfilePearson: 1 });
  const negated = compareSaliencyMaps(map, map.map((v) => -v));
  assert.ok(Math.abs(negated.pearson + 1) < 1e-12);
  assert.ok(Math.abs(negated.rowProfilePearson + 1) < 1e-12);
  assert.ok(Math.abs(negated.columnProfilePearson + 1) < 1e-12);
  // ours = r + c, theirs = r − c: row means r ± 49.5 (correlation 1), column means 12 ± c
  // (−1); over pixels var(r) = (25² − 1)/12 = 52, var(c) = (100² − 1)/12 = 833.25, so
  // pearson = (52 − 833.25) / (52 + 833.25).
  const ours = new Float64Array(2500), theirs = new Float64Array(2500);
  for (let r = 0; r < 25; r++) {
    for (let c = 0; c < 100; c++) {
      ours[r * 100 + c] = r + c;
      theirs[r * 100 + c] = r - c;
    }
  }
  const cmp = compareSaliencyMaps(ours, theirs);
  assert.ok(Math.abs(cmp.pearson - (52 - 833.25) / (52 + 833.25)) < 1e-12, `pearson ${cmp.pearson}`);
  assert.ok(Math.abs(cmp.rowProfilePearson - 1) < 1e-12);
  assert.ok(Math.abs(cmp.columnProfilePearson + 1) < 1e-12);
  // Scale and offset do not matter (keras-vis' ε, averaging).
  assert.ok(Math.abs(compareSaliencyMaps(map, map.map((v) => 0.5 * v + 2)).pearson - 1) < 1e-12);
});

test("bad arguments are InputErrors with clear messages", () => {
  const images = randomImages(2, 2);
  const model = onePixelModel(0, 0, 0);
  const isInput = (pattern: RegExp) => (e: unknown) => e instanceof InputError && pattern.test(e.message);
  assert.throws(() => hairpinSaliencyMaps(model, images, [0], 2 as 0 | 1), isInput(/classIndex must be 0 or 1, got 2/));
  assert.throws(() => hairpinSaliencyMaps(model, images, [0, 2], 1), isInput(/image index 2 \(position 1\) is out of range: there are 2 images/));
  assert.throws(() => hairpinSaliencyMaps(model, images, [-1], 1), isInput(/image index -1 .* out of range/));
  assert.throws(() => hairpinSaliencyMaps(model, images, [0.5], 1), isInput(/image index 0.5 .* out of range/));
  assert.throws(() => hairpinSaliencyMaps(model, images, [0], 1, { batchSize: 0 }), isInput(/batchSize must be a positive integer/));
  assert.throws(() => hairpinSaliencyMaps(model, images.subarray(1), [0], 1), isInput(/not a multiple of 25 × 100 × 3/));
  const threeClasses = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [25, 100, 3] }), tf.layers.dense({ units: 3, activation: "softmax" })] });
  assert.throws(() => hairpinSaliencyMaps(threeClasses, images, [0], 1), isInput(/model output must have shape \[batch, 2\], found \[null, 3\]/));
  const wrongInput = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [10, 10, 3] }), tf.layers.dense({ units: 2, activation: "softmax" })] });
  assert.throws(() => hairpinSaliencyMaps(wrongInput, images, [0], 1), isInput(/model input must have shape \[batch, 25, 100, 3\], found \[null, 10, 10, 3\]/));
  [model, threeClasses, wrongInput].forEach((m) => m.dispose());

  assert.throws(() => averageSaliencyMap(new Float32Array(0), 0), isInput(/cannot average 0 saliency maps: need at least one/));
  assert.throws(() => averageSaliencyMap(new Float32Array(2500), 2), isInput(/2 saliency maps need 2 × 25 × 100 = 5000 values, got 2500/));
  assert.throws(() => trueClassIndices([1, 0], [0.5], true), isInput(/2 labels but 1 probabilities/));
  assert.throws(() => trueClassIndices([1, 2], [0.5, 0.5], true), isInput(/label 1 is 2, expected 0 or 1/));
  assert.throws(() => trueClassIndices([1], [NaN], false), isInput(/probability 0 is NaN/));
  assert.throws(() => compareSaliencyMaps(new Float64Array(2500), new Float64Array(2499)), isInput(/saliency map 'theirs' must have 25 × 100 = 2500 values, got 2499/));
});
