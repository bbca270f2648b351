import type * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { compileModel } from "../ops/nn";
import { DEFAULT_SEED, derivedSeed, mulberry32, shuffleInPlace } from "../random";
import { chunkRows, indexBatches } from "../training/batches";
import type { EpochRecord } from "../training/checkpoint";
import { EpochData, trainModel } from "../training/loop";
import { ARCH00B_TRAINING } from "./arch00b";
import { mirnaNegatives } from "./negatives";
import type { Pairs } from "./tables";
import type { BindingTrainingOptions } from "./trainingData";
import {
  familyFunction, labelledUnion, NegativeFamily, pairBatch, pairsDigest, selectionMetrics, selectionStopping, TrainingPairs, uniqueMirnas, validateBinding,
} from "./trainingData";

/**
 * Iterative ("lock") training (the paper's contribution; notebook `model_train_lock` of
 * github.com/ML-Bioinfo-CEITEC/mirna_binding): a model sees a few positives at a time with
 * re-paired negatives, and whenever it validates well the negative ratio goes up by one and
 * fresh positives replace the current ones.
 *
 * `faithful` is the original loop, quirks included: 1,000 positives; ratio 1 at the start;
 * each iteration regenerates the negatives at the current ratio from one fixed seed (so they
 * repeat while the ratio and positives do not change), splits positives and negatives into
 * 500 minibatches, takes one Adam step on each of the first 499 and validates on the last
 * (2 positives: its F1 is 0, 0.67, 0.8 or 1); when an iteration's validation F1 exceeds 0.7 the
 * next one raises the ratio by 1 and takes 1,000 positives never used before; 28 iterations.
 * (The original's iteration 0 also depended on state left from earlier cells; here it starts
 * clean.)
 *
 * `improved` (the default) keeps the ratio and positive schedule but: fresh negatives every
 * iteration; batches of 32 over the iteration's data; validation on a fixed slice of the
 * training positives held out from training (1,000 by default) with negatives at the current
 * ratio drawn once per ratio, on F1 at 0.5 or average precision; a cap on the ratio; and a
 * stopping rule (at the cap, no improvement for `patience` iterations; or no fresh positives
 * left).
 */

export type IterativeVariant = "faithful" | "improved";

/** Options of {@link trainIterative}. */
export interface IterativeTrainingOptions {
  /** Default "improved". */
  variant?: IterativeVariant;
  /** Iterations (at most; improved may stop earlier). Default 28. */
  iterations?: number;
  /** Positives per iteration. Default 1,000. */
  positivesPerIteration?: number;
  /** Ratio of the first iteration. Default 1. */
  startRatio?: number;
  /** Raise the ratio when the validation metric exceeds this. Default 0.7. */
  metricThreshold?: number;
  /** faithful: minibatches per iteration (the last is validation). Default 500. */
  minibatches?: number;
  /** improved: batch size. Default 32. */
  batchSize?: number;
  /** improved: training positives held out for validation. Default 1,000. */
  validationPositives?: number;
  /** improved: the validation metric, "f1" (at 0.5) or "ap". Default "f1". */
  metric?: "f1" | "ap";
  /** improved: the largest ratio. Default 20. */
  maxRatio?: number;
  /** improved: at the cap, stop after this many iterations without a better metric. Default 3. */
  patience?: number;
  seed?: number;
  /** See {@link BindingTrainingOptions.negativeFamily}. Default "none". */
  negativeFamily?: NegativeFamily;
  /**
   * A labelled set outside the training data that chooses the iteration whose weights the model
   * keeps (the highest selAp; see {@link BindingTrainingOptions.selection}). The schedule is
   * unchanged. Needs `checkpointDir`.
   */
  selection?: TrainingPairs;
  checkpointDir?: string;
  onIteration?: (record: EpochRecord) => void | Promise<void>;
  onStep?: (iteration: number, done: number, total: number | undefined) => void;
}

/** The schedule's state between iterations (saved in checkpoints). */
interface ScheduleState {
  /** Ratio of the next iteration. */
  ratio: number;
  /** Start of the next iteration's positives in the permutation. */
  offset: number;
  /** Best validation metric at the current cap, and iterations since (improved). */
  best: number | null;
  sinceBest: number;
  /** (ratio, offset, negative seed) of every iteration done, to rebuild the distinct-negative count. */
  done: [number, number, number][];
  /** Why training ended, once it has. */
  stoppedBy: string | null;
}

/** Result of {@link trainIterative}. */
export interface IterativeTrainingResult {
  /** One record per iteration: ratio, positivesUsed, distinctNegatives, loss (train), valLoss, valF1, valAp, … */
  history: EpochRecord[];
  resumedFromEpoch: number;
  /** Why training ended: "iterations", "stopping rule" or "positives exhausted". */
  stoppedBy: string;
  /** With a selection set: the iteration whose weights the model holds (else null: the last). */
  bestIteration: number | null;
  /** Positives the model's weights were trained on (up to the best iteration with a selection set). */
  positivesUsed: number;
  /**
   * The training positives the run trained on, as indices into the positives it was given, in
   * the order it took them: {@link iterativePositiveRows} of its seed and `positivesUsed`.
   */
  positiveRows: number[];
  distinctNegatives: number;
}

/**
 * The order in which {@link trainIterative} takes `n` training positives with `seed`: a seeded
 * permutation of 0 … n−1. Iteration by iteration it trains on consecutive slices of it (from
 * the start); the improved variant validates on its last `validationPositives`.
 */
export function iterativePositiveOrder(n: number, seed: number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, mulberry32(seed));
  return order;
}

/**
 * The training positives (indices into the `n` given, in the order taken) of an iterative run
 * with `seed` that used `positivesUsed` of them (its `positivesUsed`): what standard training on
 * "the same positives" trains on.
 */
export function iterativePositiveRows(n: number, seed: number, positivesUsed: number): number[] {
  if (!Number.isInteger(positivesUsed) || positivesUsed < 0 || positivesUsed > n) {
    throw new InputError(`positivesUsed must be an integer in 0…${n}, got ${positivesUsed}`);
  }
  return Array.from(iterativePositiveOrder(n, seed).subarray(0, positivesUsed));
}

/**
 * Trains `model` (arch_00b; compiled with {@link ARCH00B_TRAINING} when not compiled yet) the
 * iterative way on the positives of `train` (see the module comment). Positives are taken in a
 * seeded permutation order; negatives never use a site's own miRNA or form a pair that is a
 * positive anywhere in `train`. A checkpoint after every iteration; resume continues from the
 * last complete one with the same schedule.
 */
export async function trainIterative(model: tf.LayersModel, train: Pick<Pairs, "mirnas" | "sites">, opts: IterativeTrainingOptions = {}): Promise<IterativeTrainingResult> {
  const variant = opts.variant ?? "improved";
  if (variant !== "faithful" && variant !== "improved") throw new InputError(`variant must be 'faithful' or 'improved', got '${String(variant)}'`);
  const faithful = variant === "faithful";
  const seed = opts.seed ?? DEFAULT_SEED;
  const iterations = opts.iterations ?? 28;
  const perIteration = opts.positivesPerIteration ?? 1000;
  const startRatio = opts.startRatio ?? 1;
  const threshold = opts.metricThreshold ?? 0.7;
  const minibatches = opts.minibatches ?? 500;
  const batchSize = opts.batchSize ?? 32;
  const metric = opts.metric ?? "f1";
  const maxRatio = faithful ? Infinity : opts.maxRatio ?? 20;
  const patience = opts.patience ?? 3;
  const nValidation = faithful ? 0 : opts.validationPositives ?? 1000;
  for (const [name, value, min] of [["iterations", iterations, 1], ["positivesPerIteration", perIteration, 1], ["startRatio", startRatio, 1], ["minibatches", minibatches, 2], ["batchSize", batchSize, 1], ["validationPositives", nValidation, 0], ["patience", patience, 1]] as const) {
    if (!Number.isInteger(value) || value < min) throw new InputError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
  if (faithful && minibatches > perIteration) {
    throw new InputError(`minibatches (${minibatches}) must not exceed the positives per iteration (${perIteration}): every minibatch needs a positive`);
  }
  if (metric !== "f1" && metric !== "ap") throw new InputError(`metric must be 'f1' or 'ap', got '${String(metric)}'`);
  const n = train.mirnas.length;
  if (n < perIteration + nValidation) throw new InputError(`${n} training positives; ${perIteration} per iteration${nValidation ? ` and ${nValidation} for validation` : ""} need more`);

  // Positives in a seeded order; improved holds out the last `nValidation` for validation.
  const order = iterativePositiveOrder(n, seed);
  const trainable = n - nValidation;
  const pool = uniqueMirnas(train.mirnas);
  const positivesAt = (offset: number) => {
    const rows = Array.from(order.subarray(offset, offset + perIteration));
    return { mirnas: rows.map((r) => train.mirnas[r]!), sites: rows.map((r) => train.sites[r]!) };
  };
  const negativeSeed = (iteration: number) => (faithful ? seed : derivedSeed(seed, iteration));
  const family = familyFunction(opts.negativeFamily);
  const negativesFor = (positives: ReturnType<typeof positivesAt>, ratio: number, negSeed: number) =>
    mirnaNegatives(positives.mirnas, positives.sites, { ratio, seed: negSeed, pool, knownPositives: train, family });
  const selection = opts.selection;
  if (selection && !opts.checkpointDir) throw new InputError("a selection set keeps the best iteration's weights: it needs a checkpoint folder");

  const validationRows = Array.from(order.subarray(trainable));
  const validationPositives = { mirnas: validationRows.map((r) => train.mirnas[r]!), sites: validationRows.map((r) => train.sites[r]!) };
  const validationByRatio = new Map<number, TrainingPairs>();
  const validationSet = (ratio: number): TrainingPairs => {
    let set = validationByRatio.get(ratio);
    if (!set) {
      // One fixed draw per ratio, so the metric is comparable between iterations at one ratio.
      set = labelledUnion(validationPositives, mirnaNegatives(validationPositives.mirnas, validationPositives.sites, {
        ratio, seed: derivedSeed(seed, 1_000_000 + ratio), pool, knownPositives: train, family,
      }));
      validationByRatio.set(ratio, set);
    }
    return set;
  };

  let state: ScheduleState = { ratio: startRatio, offset: 0, best: null, sinceBest: 0, done: [], stoppedBy: null };
  const distinct = new Set<string>();
  const addDistinct = (negatives: { mirnas: string[]; sites: string[] }) => {
    for (let i = 0; i < negatives.mirnas.length; i++) distinct.add(`${negatives.mirnas[i]}\t${negatives.sites[i]}`);
  };
  // Set by `epoch`, read by `validate` and `afterEpoch` of the same iteration.
  let current: { ratio: number; offset: number; faithfulValidation: TrainingPairs | null } | null = null;

  if (!model.optimizer) compileModel(model, ARCH00B_TRAINING);
  const result = await trainModel(model, {
    name: `binding-iterative-${variant}`,
    epoch(iteration): EpochData {
      const { ratio, offset } = state;
      const positives = positivesAt(offset);
      const negatives = negativesFor(positives, ratio, negativeSeed(iteration));
      addDistinct(negatives);
      const data = labelledUnion(positives, negatives);
      if (faithful) {
        // np.array_split of the (shuffled) positives and negatives into `minibatches` parts
        // each; minibatch b = positive part b + negative part b; the last one validates.
        const shuffle = mulberry32(seed);
        const p = Uint32Array.from({ length: positives.mirnas.length }, (_, i) => i);
        const q = Uint32Array.from({ length: negatives.mirnas.length }, (_, i) => positives.mirnas.length + i);
        shuffleInPlace(p, shuffle);
        shuffleInPlace(q, shuffle);
        const parts = Array.from({ length: minibatches }, (_, b) => Uint32Array.from([...arraySplit(p, minibatches, b), ...arraySplit(q, minibatches, b)]));
        const last = parts[minibatches - 1]!;
        current = {
          ratio, offset,
          faithfulValidation: { mirnas: Array.from(last, (r) => data.mirnas[r]!), sites: Array.from(last, (r) => data.sites[r]!), labels: Uint8Array.from(last, (r) => data.labels[r]!) },
        };
        return indexBatches(parts.slice(0, minibatches - 1), (rows) => pairBatch(data, rows));
      }
      current = { ratio, offset, faithfulValidation: null };
      const rows = Uint32Array.from({ length: data.labels.length }, (_, i) => i);
      shuffleInPlace(rows, mulberry32(derivedSeed(seed, 2_000_000 + iteration)));
      return indexBatches(chunkRows(rows, batchSize), (batchRows) => pairBatch(data, batchRows));
    },
    async validate() {
      const set = current!.faithfulValidation ?? validationSet(current!.ratio);
      return { ...(await validateBinding(model, set)), ...(selection ? await selectionMetrics(model, selection) : {}) };
    },
    afterEpoch(record) {
      const { ratio, offset } = current!;
      const value = metric === "ap" && !faithful ? record.valAp : record.valF1;
      const passed = typeof value === "number" && value > threshold;
      let next: ScheduleState = { ...state, done: [...state.done, [ratio, offset, negativeSeed(record.epoch)]] };
      let stop = false;
      if (passed) {
        next = { ...next, ratio: Math.min(ratio + 1, maxRatio), offset: offset + perIteration };
        if (next.offset + perIteration > trainable) {
          stop = true;
          next = { ...next, stoppedBy: "positives exhausted" };
        }
      }
      if (!faithful && ratio >= maxRatio && typeof value === "number") {
        // At the cap: stop once the metric has not improved for `patience` iterations.
        if (next.best === null || value > next.best) next = { ...next, best: value, sinceBest: 0 };
        else next = { ...next, sinceBest: next.sinceBest + 1 };
        if (next.sinceBest >= patience && !stop) {
          stop = true;
          next = { ...next, stoppedBy: "stopping rule" };
        }
      }
      state = next;
      return {
        fields: { ratio, positivesUsed: offset + perIteration, distinctNegatives: distinct.size, metricPassed: passed ? 1 : 0 },
        stop,
      };
    },
    saveState: () => state,
    restoreState(saved) {
      state = saved as ScheduleState;
      // Rebuild the distinct negatives of the iterations done (they are a function of the schedule).
      for (const [ratio, offset, negSeed] of state.done) addDistinct(negativesFor(positivesAt(offset), ratio, negSeed));
    },
  }, {
    epochs: iterations,
    checkpointDir: opts.checkpointDir,
    key: {
      variant, seed, perIteration, startRatio, threshold, minibatches, batchSize, metric, maxRatio: faithful ? null : maxRatio, patience, nValidation, trainingPositives: n,
      ...(family ? { negativeFamily: opts.negativeFamily } : {}),
      ...(selection ? { selection: pairsDigest(selection) } : {}),
    },
    earlyStopping: selection ? selectionStopping() : undefined,
    onEpoch: opts.onIteration,
    onStep: opts.onStep,
  });
  // The model's weights: the last iteration's, or with a selection set the best one's.
  const kept = result.bestEpoch !== null ? result.history.find((r) => r.epoch === result.bestEpoch) : result.history[result.history.length - 1];
  const positivesUsed = kept ? (kept.positivesUsed as number) : 0;
  return {
    history: result.history,
    resumedFromEpoch: result.resumedFromEpoch,
    stoppedBy: state.stoppedBy ?? "iterations",
    bestIteration: result.bestEpoch,
    positivesUsed,
    positiveRows: Array.from(order.subarray(0, positivesUsed)),
    distinctNegatives: distinct.size,
  };
}

/** Part `b` of `parts` of `values` as numpy.array_split cuts them (the first len % parts parts one longer). */
function arraySplit(values: Uint32Array, parts: number, b: number): Uint32Array {
  const base = Math.floor(values.length / parts);
  const extra = values.length % parts;
  const start = b * base + Math.min(b, extra);
  return values.subarray(start, start + base + (b < extra ? 1 : 0));
}
