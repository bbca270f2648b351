import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { rankMetrics, thresholdMetrics } from "../metrics";
import type { TrainBatch, TrainLoopOptions } from "../training/loop";
import { encodeBindingMatrix } from "./encoding";
import { predictScores } from "./predict";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";
import type { Pairs } from "./tables";

/**
 * What the binding trainers share: a training batch encoded on the fly from pairs, and the
 * validation metrics they record.
 */

/** Options the binding trainers share (defaults: the original's). */
export interface BindingTrainingOptions extends Pick<TrainLoopOptions, "checkpointDir" | "onEpoch" | "onStep"> {
  /** Default 10. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** The last part of the (shuffled) rows held out for validation, as Keras' validation_split. Default 0.05. */
  validationFraction?: number;
  /** Seed of every random choice of the trainer (data order, negatives) and of the dropout masks (with the model's). */
  seed?: number;
}

/** Labelled rows to train on: pairs and a label per pair (1 binds, 0 not); each field shape=(n,). */
export interface TrainingPairs {
  mirnas: readonly string[];
  sites: readonly string[];
  labels: ArrayLike<number>;
}

/**
 * The batch of `rows` (indices into `pairs`) of `pairs`: x tf.Tensor4D, shape=(rows.length, 50, 20, 1),
 * binding matrices encoded now; y tf.Tensor2D, shape=(rows.length, 1), labels as float32.
 */
export function pairBatch(pairs: TrainingPairs, rows: ArrayLike<number>): TrainBatch {
  const n = rows.length;
  const mirnas = new Array<string>(n);
  const sites = new Array<string>(n);
  const y = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const r = rows[k]!;
    mirnas[k] = pairs.mirnas[r]!;
    sites[k] = pairs.sites[r]!;
    y[k] = pairs.labels[r]!;
  }
  return { x: tf.tensor4d(encodeBindingMatrix(mirnas, sites), [n, SITE_LENGTH, MIRNA_LENGTH, 1]), y: tf.tensor2d(y, [n, 1]) };
}

/** Concatenates positives (label 1) and negatives (label 0) into one labelled set. */
export function labelledUnion(positives: Pick<Pairs, "mirnas" | "sites">, negatives: Pick<Pairs, "mirnas" | "sites">): TrainingPairs {
  return {
    mirnas: [...positives.mirnas, ...negatives.mirnas],
    sites: [...positives.sites, ...negatives.sites],
    labels: Uint8Array.from({ length: positives.mirnas.length + negatives.mirnas.length }, (_, i) => (i < positives.mirnas.length ? 1 : 0)),
  };
}

/** Validation metrics of a binding model on labelled pairs. */
export interface BindingValidation {
  /** Binary cross-entropy (probabilities clipped to [1e-7, 1 − 1e-7], as Keras). */
  valLoss: number;
  /** At threshold 0.5. */
  valAccuracy: number;
  valF1: number;
  /** Rank metrics; null when the set holds one class only. */
  valAp: number | null;
  valRocAuc: number | null;
}

/** Scores `pairs` with `model` (inference mode) and computes {@link BindingValidation}. */
export async function validateBinding(model: tf.LayersModel, pairs: TrainingPairs): Promise<BindingValidation> {
  if (pairs.mirnas.length === 0) throw new InputError("validation set is empty");
  const scores = await predictScores(model, pairs.mirnas, pairs.sites, { batchSize: 512 });
  let loss = 0;
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const positive = pairs.labels[i] === 1;
    if (positive) positives++;
    const p = Math.min(Math.max(positive ? scores[i]! : 1 - scores[i]!, 1e-7), 1 - 1e-7);
    loss -= Math.log(p);
  }
  const at = thresholdMetrics(pairs.labels, scores, 0.5);
  const both = positives > 0 && positives < scores.length;
  const rank = both ? rankMetrics(pairs.labels, scores) : null;
  return {
    valLoss: loss / scores.length,
    valAccuracy: at.accuracy,
    valF1: at.f1,
    valAp: rank ? rank.averagePrecision : null,
    valRocAuc: rank ? rank.rocAuc : null,
  };
}

/** The distinct miRNAs of `mirnas`, in order of first appearance (the pool negatives are drawn from). */
export function uniqueMirnas(mirnas: readonly string[]): string[] {
  return [...new Set(mirnas)];
}
