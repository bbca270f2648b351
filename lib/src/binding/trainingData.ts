import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { rankMetrics, thresholdMetrics } from "../metrics";
import type { TrainBatch, TrainLoopOptions } from "../training/loop";
import { encodeBindingMatrix } from "./encoding";
import { seedFamily } from "./negatives";
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
  /**
   * A labelled set outside the training data that chooses the model (e.g. miRBind's evaluation
   * sets for CLASH): scored after every epoch or iteration (record fields selAp, selRocAuc,
   * selLoss), and the weights of the one with the highest AP are the model's at the end (needs
   * `checkpointDir`). Default: none.
   */
  selection?: TrainingPairs;
  /**
   * Negatives never pair a positive's site with a miRNA of its own miRNA's family: "seed" =
   * the same nucleotides 2–8 (seedFamily). Default "none": only its own miRNA is excluded.
   */
  negativeFamily?: NegativeFamily;
}

/** How the trainers group miRNAs into families when drawing negatives. */
export type NegativeFamily = "none" | "seed";

/** The family function of `negativeFamily` for mirnaNegatives (undefined for "none"). */
export function familyFunction(family: NegativeFamily | undefined): ((mirna: string) => string) | undefined {
  if (family === undefined || family === "none") return undefined;
  if (family === "seed") return seedFamily;
  throw new InputError(`negativeFamily must be 'none' or 'seed', got '${String(family)}'`);
}

/**
 * The model-selection metrics of {@link BindingTrainingOptions.selection}: validateBinding on
 * that set, its fields renamed val → sel.
 */
export async function selectionMetrics(model: tf.LayersModel, selection: TrainingPairs): Promise<Record<string, number | null>> {
  const v = await validateBinding(model, selection);
  return { selLoss: v.valLoss, selAp: v.valAp, selRocAuc: v.valRocAuc };
}

/** A short digest of a labelled set (checkpoint keys: resuming with another selection set is refused). */
export function pairsDigest(pairs: TrainingPairs): string {
  const hash = createHash("sha256");
  for (let i = 0; i < pairs.mirnas.length; i++) hash.update(`${pairs.mirnas[i]}\t${pairs.sites[i]}\t${pairs.labels[i]}\n`);
  return hash.digest("hex").slice(0, 16);
}

/**
 * Keeps the weights of the epoch with the highest selection AP: early stopping on selAp that
 * never stops (its patience is unbounded) unless `patience` is given.
 */
export function selectionStopping(patience?: number) {
  return { monitor: "selAp", mode: "max" as const, patience: patience ?? Number.MAX_SAFE_INTEGER, restoreBest: true };
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
