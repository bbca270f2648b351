import { createHash } from "node:crypto";
import type * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { compileModel } from "../ops/nn";
import { DEFAULT_SEED, derivedSeed, mulberry32, shuffleInPlace } from "../random";
import { shuffledEpoch } from "../training/batches";
import type { EpochRecord } from "../training/checkpoint";
import { EarlyStoppingOptions, trainModel } from "../training/loop";
import { ARCH00B_TRAINING } from "./arch00b";
import { mirnaNegatives } from "./negatives";
import type { Pairs } from "./tables";
import {
  BindingTrainingOptions, familyFunction, labelledUnion, pairBatch, pairsDigest, selectionMetrics, selectionStopping, uniqueMirnas, validateBinding,
} from "./trainingData";

/**
 * Standard training of a binding model (the original repository's standard recipe): P positives and ratio·P
 * re-paired negatives, shuffled once, the last part held out for validation (as Keras'
 * validation_split), then epochs of seeded shuffles in batches, each encoded on the fly.
 * The original: 1,000 positives, ratio 10, 10 epochs, batch 32, the last 5% as validation.
 */

/** Options of {@link trainStandard}. */
export interface StandardTrainingOptions extends BindingTrainingOptions {
  /** Positives to train on, drawn from the given ones by a seeded permutation. Default: all. */
  positives?: number;
  /**
   * Train on exactly these positives instead (indices into the given ones, distinct; e.g. the
   * rows an iterative run used, {@link iterativePositiveRows}); `positives` must then be unset
   * or their number. Negatives are still drawn against all the given positives.
   */
  positiveRows?: readonly number[];
  /** Negatives per positive (re-paired with other miRNAs of the pool). Default 10. */
  ratio?: number;
  /**
   * Train on these negatives as they are (e.g. the label-0 rows of miRBind's 1:1 table) instead
   * of re-pairing: `ratio` is then not used.
   */
  negatives?: Pick<Pairs, "mirnas" | "sites">;
  /**
   * The miRNAs negatives are drawn from. Default: the distinct miRNAs of the training positives.
   * The original's in-silico experiment drew them from every family representative instead.
   */
  negativePool?: readonly string[];
  /** Seed of the choice of positives, the negatives, the shuffles and the dropout masks (with the model's). */
  seed?: number;
  /** Stop when `valLoss` (or `monitor`) has not improved for `patience` epochs; the best weights are kept. */
  earlyStopping?: Partial<EarlyStoppingOptions> & { patience: number };
}

/** Result of {@link trainStandard}. */
export interface StandardTrainingResult {
  history: EpochRecord[];
  resumedFromEpoch: number;
  positivesUsed: number;
  negativesUsed: number;
  trainRows: number;
  validationRows: number;
  /** The epoch whose weights the model holds (early stopping), or the last. */
  bestEpoch: number | null;
}

/**
 * Trains `model` (arch_00b from buildArch00b; compiled with {@link ARCH00B_TRAINING} when it is
 * not compiled yet) the standard way on `train.mirnas`/`train.sites` as positives. Negatives
 * pair each chosen positive's site with `ratio` other miRNAs of the training positives, never
 * its own and never a pair that is a positive anywhere in `train`. History per epoch: loss,
 * accuracy, valLoss, valAccuracy, valF1, valAp, valRocAuc, seconds.
 */
export async function trainStandard(model: tf.LayersModel, train: Pick<Pairs, "mirnas" | "sites">, opts: StandardTrainingOptions = {}): Promise<StandardTrainingResult> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const ratio = opts.ratio ?? 10;
  const epochs = opts.epochs ?? 10;
  const batchSize = opts.batchSize ?? 32;
  const validationFraction = opts.validationFraction ?? 0.05;
  const available = train.mirnas.length;
  const given = opts.positiveRows;
  if (given) checkPositiveRows(given, available);
  const positives = opts.positives ?? given?.length ?? available;
  if (!Number.isInteger(positives) || positives < 1) throw new InputError(`positives must be a positive integer, got ${positives}`);
  if (positives > available) throw new InputError(`${positives} positives asked for, the training set has ${available}`);
  if (given && positives !== given.length) throw new InputError(`positives (${positives}) must equal the number of positive rows given (${given.length})`);
  if (!Number.isInteger(ratio) || ratio < 0) throw new InputError(`ratio must be a non-negative integer, got ${ratio}`);
  if (!(validationFraction >= 0 && validationFraction < 1)) throw new InputError(`validationFraction must be in [0, 1), got ${validationFraction}`);

  let chosen: number[];
  if (given) chosen = [...given];
  else {
    const order = Uint32Array.from({ length: available }, (_, i) => i);
    shuffleInPlace(order, mulberry32(seed));
    chosen = Array.from(order.subarray(0, positives));
  }
  const positivePairs = { mirnas: chosen.map((i) => train.mirnas[i]!), sites: chosen.map((i) => train.sites[i]!) };
  const family = familyFunction(opts.negativeFamily);
  const negatives = opts.negatives
    ? opts.negatives
    : ratio > 0
      ? mirnaNegatives(positivePairs.mirnas, positivePairs.sites, {
        ratio, seed: derivedSeed(seed, 0), pool: opts.negativePool ?? uniqueMirnas(train.mirnas), knownPositives: train, family,
      })
      : { mirnas: [], sites: [] };
  const data = labelledUnion(positivePairs, negatives);
  // Shuffled once, then the last part is validation (as model.fit(validation_split) on shuffled data).
  const rows = Uint32Array.from({ length: data.labels.length }, (_, i) => i);
  shuffleInPlace(rows, mulberry32(derivedSeed(seed, -1)));
  const nValidation = Math.round(rows.length * validationFraction);
  const trainRows = rows.slice(0, rows.length - nValidation);
  const validationRows = Array.from(rows.subarray(rows.length - nValidation));
  const validation = {
    mirnas: validationRows.map((r) => data.mirnas[r]!),
    sites: validationRows.map((r) => data.sites[r]!),
    labels: Uint8Array.from(validationRows, (r) => data.labels[r]!),
  };
  if (!model.optimizer) compileModel(model, ARCH00B_TRAINING);

  const early = opts.earlyStopping;
  const selection = opts.selection;
  if (early && nValidation === 0 && !selection) throw new InputError("early stopping needs a validation part (validationFraction > 0) or a selection set");
  if (selection && !opts.checkpointDir) throw new InputError("a selection set keeps the best epoch's weights: it needs a checkpoint folder");
  const result = await trainModel(model, {
    name: "binding-standard",
    epoch: (epoch) => shuffledEpoch(trainRows, batchSize, seed, epoch, (batchRows) => pairBatch(data, batchRows)),
    validate: async () => ({
      ...(nValidation > 0 ? await validateBinding(model, validation) : {}),
      ...(selection ? await selectionMetrics(model, selection) : {}),
    }),
  }, {
    epochs,
    checkpointDir: opts.checkpointDir,
    // Runs without positiveRows or negativePool keep the key they always had (their checkpoints resume).
    key: {
      seed, positives, ratio, batchSize, validationFraction, trainingPositives: available,
      ...(given ? { positiveRows: rowsDigest(given) } : {}),
      ...(opts.negativePool ? { negativePool: new Set(opts.negativePool).size } : {}),
      ...(opts.negatives ? { givenNegatives: pairsDigest({ ...opts.negatives, labels: new Uint8Array(opts.negatives.mirnas.length) }) } : {}),
      ...(family ? { negativeFamily: opts.negativeFamily } : {}),
      ...(selection ? { selection: pairsDigest(selection) } : {}),
    },
    // With a selection set the model is chosen on it (the highest selAp), stopping after
    // `patience` epochs without a better one when early stopping is asked for.
    earlyStopping: selection ? selectionStopping(early?.patience) : early ? { monitor: early.monitor ?? "valLoss", mode: early.mode ?? "min", patience: early.patience, minDelta: early.minDelta, restoreBest: early.restoreBest ?? opts.checkpointDir !== undefined } : undefined,
    onEpoch: opts.onEpoch,
    onStep: opts.onStep,
  });
  return {
    history: result.history,
    resumedFromEpoch: result.resumedFromEpoch,
    positivesUsed: positives,
    negativesUsed: negatives.mirnas.length,
    trainRows: trainRows.length,
    validationRows: nValidation,
    bestEpoch: result.bestEpoch,
  };
}

/**
 * Optimizer steps per epoch of {@link trainStandard} with these options: ⌈training rows / batch
 * size⌉, where the training rows are the P·(1 + ratio) pairs minus the validation part.
 */
export function standardStepsPerEpoch(positives: number, ratio: number, batchSize = 32, validationFraction = 0.05): number {
  const rows = positives * (1 + ratio);
  return Math.ceil((rows - Math.round(rows * validationFraction)) / batchSize);
}

/** Positive rows must be distinct integers in 0 … available−1. */
function checkPositiveRows(rows: readonly number[], available: number): void {
  if (rows.length === 0) throw new InputError("positiveRows is empty");
  const seen = new Set<number>();
  rows.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= available) throw new InputError(`positive row ${i} is ${r}: must be an integer in 0…${available - 1} (the training set has ${available} positives)`);
    if (seen.has(r)) throw new InputError(`positive row ${i} repeats row ${r}`);
    seen.add(r);
  });
}

/** A short fingerprint of the rows for the checkpoint key: "count:sha1-prefix". */
function rowsDigest(rows: readonly number[]): string {
  return `${rows.length}:${createHash("sha1").update(rows.join(",")).digest("hex").slice(0, 12)}`;
}
