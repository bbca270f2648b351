import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { rankMetrics, thresholdMetrics } from "../metrics";
import { imageCount, predictHairpinImages } from "./classifier";

/** Metrics of the classifier on one labelled image set (a sample is called positive when P(pre-miRNA) ≥ threshold). */
export interface HairpinSetMetrics {
  /** Dataset name when given (e.g. `modhsa_test`). */
  name: string | null;
  n: number;
  positives: number;
  negatives: number;
  threshold: number;
  /** Fraction called correctly. On a positive-only set this equals the sensitivity, on a negative-only set the specificity. */
  accuracy: number;
  /** tp / (tp + fn); null without positives. */
  sensitivity: number | null;
  /** tn / (tn + fp); null without negatives. */
  specificity: number | null;
  /** F1 of the positive class; null unless both classes occur (it says nothing on a single-class set). */
  f1: number | null;
  /** Area under the ROC curve (ties averaged); null unless both classes occur. */
  rocAuc: number | null;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** A labelled image set: images Uint8Array, shape=(n, 25, 100, 3); labels shape=(n,) (1 = pre-miRNA). */
export interface HairpinLabelledImages {
  images: Uint8Array;
  labels: Uint8Array;
  /** e.g. the deepMir prefix (`DeepMirDataset` has it). */
  prefix?: string;
}

/** Metrics of already computed probabilities (see {@link evaluateHairpinClassifier}); `labels`, `probabilities`: shape=(n,) each. */
export function hairpinSetMetrics(labels: ArrayLike<number>, probabilities: ArrayLike<number>, threshold = 0.5, name: string | null = null): HairpinSetMetrics {
  if (labels.length !== probabilities.length) throw new InputError(`${labels.length} labels but ${probabilities.length} scores`);
  if (labels.length === 0) throw new InputError("cannot evaluate an empty set");
  const at = thresholdMetrics(labels, probabilities, threshold);
  const positives = at.tp + at.fn;
  const negatives = at.tn + at.fp;
  const both = positives > 0 && negatives > 0;
  return {
    name,
    n: labels.length,
    positives,
    negatives,
    threshold,
    accuracy: at.accuracy,
    sensitivity: positives > 0 ? at.recall : null,
    specificity: negatives > 0 ? at.specificity : null,
    f1: both ? at.f1 : null,
    rocAuc: both ? rankMetrics(labels, probabilities).rocAuc : null,
    tp: at.tp, fp: at.fp, tn: at.tn, fn: at.fn,
  };
}

/**
 * Scores every image of `dataset` (images shape=(n, 25, 100, 3)) with `model` (P(pre-miRNA),
 * batches of `batchSize`) and returns accuracy, sensitivity, specificity, F1 and ROC-AUC
 * (lib/src/metrics.ts) with the probabilities, shape=(n,). Single-class sets (most deepMir
 * benchmark sets) get accuracy = sensitivity (positive-only) or specificity (negative-only), and
 * F1 and ROC-AUC null.
 */
export function evaluateHairpinClassifier(
  model: tf.LayersModel,
  dataset: HairpinLabelledImages,
  opts: { threshold?: number; batchSize?: number } = {},
): { metrics: HairpinSetMetrics; probabilities: Float32Array } {
  const n = imageCount(dataset.images);
  if (dataset.labels.length !== n) throw new InputError(`${n} images but ${dataset.labels.length} labels`);
  const probabilities = predictHairpinImages(model, dataset.images, opts.batchSize ?? 256);
  return { metrics: hairpinSetMetrics(dataset.labels, probabilities, opts.threshold ?? 0.5, dataset.prefix ?? null), probabilities };
}
