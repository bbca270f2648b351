import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { pearson } from "../metrics";
import { inputGradients, targetScore } from "../saliency";
import { imageCount, imageSource } from "./classifier";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH } from "./image";

/**
 * Saliency maps of the deepMir classifier (Cordero et al. 2019): which pixels of a hairpin
 * image the class output is most sensitive to. The published maps (`loadSaliencyMap`,
 * lib/src/hairpin/datasets.ts) are averages over the true positives and true negatives of a
 * test set, made with keras-vis `visualize_saliency`; {@link hairpinSaliencyMaps} +
 * {@link averageSaliencyMap} reproduce that recipe and {@link compareSaliencyMaps} measures
 * how close two maps are.
 */

/** Pixels of one saliency map: 25 × 100. */
export const SALIENCY_MAP_SIZE = HAIRPIN_IMAGE_HEIGHT * HAIRPIN_IMAGE_WIDTH;

/** Options of {@link hairpinSaliencyMaps}. */
export interface HairpinSaliencyOptions {
  /** Images per gradient computation. Default 64. */
  batchSize?: number;
}

/**
 * Per-image saliency maps as keras-vis `visualize_saliency` makes them: the gradient of the
 * score of class `classIndex` (0 = not a pre-miRNA, 1 = pre-miRNA) with respect to the input
 * image (floats in [0, 1], {@link imagesToTensor}), absolute value, max over the 3 colour
 * channels, then normalised per image to [0, 1] by (g − min) / (max − min); a map whose
 * gradient is the same at every pixel is all zeros. keras-vis adds ε = 1e-7 to the
 * denominator, so its maxima are 1 − O(1e-7) where ours are exactly 1.
 *
 * The score is the logit difference z_class − z_other for a softmax classifier
 * ({@link targetScore}), else the class probability. With two classes p₁ = sigmoid(z₁ − z₀), so
 * ∂p₁/∂x = p₀ p₁ ∂(z₁ − z₀)/∂x: a per-image factor, which the normalisation removes, so both
 * give the same map, except where the softmax saturates to exactly 0 or 1 in float32 and the
 * probability's gradient vanishes. The map is the same for either class.
 *
 * `images`: Uint8Array, shape=(n, 25, 100, 3), bytes; `indices`: which images (0-based, any order,
 * repeats allowed). The model (input shape=(batch, 25, 100, 3), output shape=(batch, 2)) runs in
 * inference mode (dropout off), `batchSize` images at a time. Returns Float32Array,
 * shape=(indices.length, 25, 100), row-major, floats in [0, 1]: map k for image indices[k].
 */
export function hairpinSaliencyMaps(
  model: tf.LayersModel,
  images: Uint8Array,
  indices: ArrayLike<number>,
  classIndex: 0 | 1,
  opts: HairpinSaliencyOptions = {},
): Float32Array {
  if (classIndex !== 0 && classIndex !== 1) throw new InputError(`classIndex must be 0 or 1, got ${String(classIndex)}`);
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  checkTwoClassModel(model);
  const n = imageCount(images);
  const count = indices.length;
  for (let k = 0; k < count; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new InputError(`image index ${i} (position ${k}) is out of range: there are ${n} images`);
  }

  const target = targetScore(model, classIndex);
  let gradients: Float32Array;
  try {
    gradients = inputGradients(target.score, imageSource(images, indices), { batchSize }).values; // shape=(count, 25, 100, 3)
  } finally {
    target.dispose();
  }
  const out = new Float32Array(count * SALIENCY_MAP_SIZE);
  const absMax = new Float32Array(SALIENCY_MAP_SIZE);
  for (let k = 0; k < count; k++) {
    const base = k * SALIENCY_MAP_SIZE * 3;
    for (let p = 0; p < SALIENCY_MAP_SIZE; p++) {
      absMax[p] = Math.max(Math.abs(gradients[base + 3 * p]!), Math.abs(gradients[base + 3 * p + 1]!), Math.abs(gradients[base + 3 * p + 2]!));
    }
    normaliseInto(absMax, out, k * SALIENCY_MAP_SIZE);
  }
  return out;
}

/** InputError unless `model` maps images, shape=(batch, 25, 100, 3), to shape=(batch, 2) (one output). */
function checkTwoClassModel(model: tf.LayersModel): void {
  if (model.outputs.length !== 1) throw new InputError(`the model must have one output of shape [batch, 2], it has ${model.outputs.length} outputs`);
  const out = model.outputs[0]!.shape;
  if (out.length !== 2 || out[1] !== 2) throw new InputError(`the model output must have shape [batch, 2], found [${out.map(String).join(", ")}]`);
  const input = model.inputs[0]!.shape;
  if (model.inputs.length !== 1 || input.length !== 4 || input[1] !== HAIRPIN_IMAGE_HEIGHT || input[2] !== HAIRPIN_IMAGE_WIDTH || input[3] !== 3) {
    throw new InputError(`the model input must have shape [batch, 25, 100, 3], found [${input.map(String).join(", ")}]`);
  }
}

/** Writes (g − min) / (max − min) of `g` into `out` at `offset`; zeros when max = min. */
function normaliseInto(g: Float32Array, out: Float32Array, offset: number): void {
  let min = Infinity, max = -Infinity;
  for (let j = 0; j < g.length; j++) {
    const v = g[j]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  if (!(range > 0)) return; // constant map (out is already zero)
  // Float64 arithmetic, rounded once to float32: the maximum becomes exactly 1, the minimum 0.
  for (let j = 0; j < g.length; j++) out[offset + j] = (g[j]! - min) / range;
}

/**
 * Mean of `n` maps (`maps`: shape=(n, 25, 100), row-major, as {@link hairpinSaliencyMaps} returns),
 * summed in float64. Returns Float64Array, shape=(25, 100), row-major, like the published maps.
 */
export function averageSaliencyMap(maps: ArrayLike<number>, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new InputError(`cannot average ${n} saliency maps: need at least one`);
  if (maps.length !== n * SALIENCY_MAP_SIZE) {
    throw new InputError(`${n} saliency maps need ${n} × 25 × 100 = ${n * SALIENCY_MAP_SIZE} values, got ${maps.length}`);
  }
  const mean = new Float64Array(SALIENCY_MAP_SIZE);
  for (let k = 0; k < n; k++) {
    const base = k * SALIENCY_MAP_SIZE;
    for (let j = 0; j < SALIENCY_MAP_SIZE; j++) mean[j]! += maps[base + j]!;
  }
  for (let j = 0; j < SALIENCY_MAP_SIZE; j++) mean[j]! /= n;
  return mean;
}

/**
 * Indices (ascending) of the correctly classified samples of one class: true positives
 * (`positive`: label 1 and probability ≥ threshold) or true negatives (label 0 and
 * probability < threshold). "≥" as `thresholdMetrics` / `hairpinSetMetrics`, so the counts
 * equal their tp / tn. `labels`: shape=(n,), 0 or 1; `probabilities`: shape=(n,), P(pre-miRNA).
 */
export function trueClassIndices(labels: ArrayLike<number>, probabilities: ArrayLike<number>, positive: boolean, threshold = 0.5): number[] {
  if (labels.length !== probabilities.length) throw new InputError(`${labels.length} labels but ${probabilities.length} probabilities`);
  if (Number.isNaN(threshold)) throw new InputError("threshold is NaN");
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new InputError(`label ${i} is ${y}, expected 0 or 1`);
    const p = probabilities[i]!;
    if (Number.isNaN(p)) throw new InputError(`probability ${i} is NaN`);
    if (positive ? y === 1 && p >= threshold : y === 0 && p < threshold) out.push(i);
  }
  return out;
}

/** Agreement of two 25 × 100 saliency maps (see {@link compareSaliencyMaps}); NaN where a side is constant. */
export interface SaliencyComparison {
  /** Pearson correlation of the 2,500 pixel values. */
  pearson: number;
  /** Pearson correlation of the 25 row means (the vertical profile: bar heights). */
  rowProfilePearson: number;
  /** Pearson correlation of the 100 column means (the horizontal profile: distance from the loop). */
  columnProfilePearson: number;
}

/**
 * Compares two saliency maps (each shape=(25, 100), row-major, e.g. ours from
 * {@link averageSaliencyMap} and a published one). Pearson correlation ignores scale and
 * offset, so maps normalised differently (keras-vis' ε, averaging) still compare as equal.
 * A correlation with a constant side is NaN (undefined), not 0.
 */
export function compareSaliencyMaps(ours: ArrayLike<number>, theirs: ArrayLike<number>): SaliencyComparison {
  for (const [name, map] of [["ours", ours], ["theirs", theirs]] as const) {
    if (map.length !== SALIENCY_MAP_SIZE) throw new InputError(`saliency map '${name}' must have 25 × 100 = ${SALIENCY_MAP_SIZE} values, got ${map.length}`);
  }
  return {
    pearson: pearson(ours, theirs),
    rowProfilePearson: pearson(rowMeans(ours), rowMeans(theirs)),
    columnProfilePearson: pearson(columnMeans(ours), columnMeans(theirs)),
  };
}

/** Means of the 25 rows of a map, shape=(25, 100): shape=(25,). */
function rowMeans(map: ArrayLike<number>): Float64Array {
  const out = new Float64Array(HAIRPIN_IMAGE_HEIGHT);
  for (let r = 0; r < HAIRPIN_IMAGE_HEIGHT; r++) {
    let s = 0;
    for (let c = 0; c < HAIRPIN_IMAGE_WIDTH; c++) s += map[r * HAIRPIN_IMAGE_WIDTH + c]!;
    out[r] = s / HAIRPIN_IMAGE_WIDTH;
  }
  return out;
}

/** Means of the 100 columns of a map, shape=(25, 100): shape=(100,). */
function columnMeans(map: ArrayLike<number>): Float64Array {
  const out = new Float64Array(HAIRPIN_IMAGE_WIDTH);
  for (let r = 0; r < HAIRPIN_IMAGE_HEIGHT; r++) {
    for (let c = 0; c < HAIRPIN_IMAGE_WIDTH; c++) out[c]! += map[r * HAIRPIN_IMAGE_WIDTH + c]!;
  }
  for (let c = 0; c < HAIRPIN_IMAGE_WIDTH; c++) out[c]! /= HAIRPIN_IMAGE_HEIGHT;
  return out;
}
