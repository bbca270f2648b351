import { InputError } from "../errors";
import { derivedSeed, mulberry32, shuffleInPlace } from "../random";
import type { EpochData, TrainBatch } from "./loop";

/**
 * Batches of row indices for the training loop: a seeded validation split and a seeded
 * shuffle per epoch, the last batch smaller.
 */

/**
 * The validation split: a seeded permutation of 0..n-1; its first round(n·f) rows are
 * validation, the rest training (both sorted ascending).
 */
export function splitTrainValidation(n: number, fraction: number, seed: number): { train: Uint32Array; validation: Uint32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new InputError(`validationFraction must be in [0, 1), got ${fraction}`);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, mulberry32(seed >>> 0));
  const nValidation = Math.round(n * fraction);
  return { validation: order.slice(0, nValidation).sort(), train: order.slice(nValidation).sort() };
}

/**
 * Epoch `epoch`'s order of `rows`: a Fisher–Yates shuffle with mulberry32(derivedSeed(seed,
 * epoch)), so any epoch's order is known from the seed alone. Returns a new array.
 */
export function epochOrder(rows: Uint32Array, seed: number, epoch: number): Uint32Array {
  const order = rows.slice();
  shuffleInPlace(order, mulberry32(derivedSeed(seed, epoch)));
  return order;
}

/** Consecutive slices of `order` of `batchSize` rows (views; the last one smaller). */
export function chunkRows(order: Uint32Array, batchSize: number): Uint32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const batches: Uint32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.subarray(start, Math.min(start + batchSize, order.length)));
  return batches;
}

/** An epoch over `batches` of row indices whose tensors `makeBatch` builds one batch at a time. */
export function indexBatches(batches: readonly Uint32Array[], makeBatch: (rows: Uint32Array) => TrainBatch | Promise<TrainBatch>): EpochData {
  return {
    steps: batches.length,
    batches: (function* () {
      for (const rows of batches) yield makeBatch(rows);
    })(),
  };
}

/** The usual epoch: `rows` shuffled for `epoch` (see {@link epochOrder}) in batches of `batchSize`. */
export function shuffledEpoch(
  rows: Uint32Array,
  batchSize: number,
  seed: number,
  epoch: number,
  makeBatch: (rows: Uint32Array) => TrainBatch | Promise<TrainBatch>,
): EpochData {
  return indexBatches(chunkRows(epochOrder(rows, seed, epoch), batchSize), makeBatch);
}
