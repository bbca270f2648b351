import type * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { rankMetrics, thresholdMetrics } from "../metrics";
import { compileModel } from "../ops/nn";
import { DEFAULT_SEED, derivedSeed, mulberry32 } from "../random";
import type { EpochRecord } from "../training/checkpoint";
import { TrainBatch, trainModel } from "../training/loop";
import { ARCH00B_TRAINING } from "./arch00b";
import { predictScores } from "./predict";
import { readPairChunks, ReadPairTableOptions } from "./tables";
import { BindingTrainingOptions, pairBatch } from "./trainingData";

/**
 * Standard training streamed from a labelled table of any size: the table is read in chunks
 * (readPairChunks: nodejs-polars parses each chunk), rows pass through a seeded shuffle buffer
 * and every batch is encoded when it is needed, so memory holds one chunk and the buffer,
 * whatever the table's length. The last `validationFraction` of the rows (as Keras'
 * validation_split) is scored after every epoch, streamed as well.
 */

/** Options of {@link trainStandardStream}. */
export interface StreamTrainingOptions extends BindingTrainingOptions, Pick<ReadPairTableOptions, "fitMirna"> {
  /** The last part of the table (in file order) held out for validation. Default 0.05. */
  validationFraction?: number;
  /** Rows held in the shuffle buffer (a batch takes random rows from it). Default 32,768. */
  shuffleBuffer?: number;
  /** Rows per chunk read. Default 65,536. */
  chunkRows?: number;
  /** At most this many steps per epoch (quick runs, benchmarks); default: the whole table. */
  maxSteps?: number;
}

/** Result of {@link trainStandardStream}. */
export interface StreamTrainingResult {
  history: EpochRecord[];
  resumedFromEpoch: number;
  rows: number;
  trainRows: number;
  validationRows: number;
}

/** Rows and positives of a labelled pair table, in one streamed pass (validating every row). */
export async function countPairRows(file: string, opts: Pick<ReadPairTableOptions, "fitMirna"> & { chunkRows?: number } = {}): Promise<{ rows: number; positives: number }> {
  let rows = 0;
  let positives = 0;
  for await (const chunk of readPairChunks(file, { requireLabels: true, fitMirna: opts.fitMirna, rows: opts.chunkRows })) {
    rows += chunk.mirnas.length;
    for (const l of chunk.labels!) positives += l;
  }
  return { rows, positives };
}

/**
 * Trains `model` (arch_00b; compiled with {@link ARCH00B_TRAINING} when not compiled yet) on the
 * labelled pairs of `file` (lock or miRBind format), streamed (see the module comment). History
 * per epoch: loss, accuracy, valLoss, valAccuracy, valF1, valAp, valRocAuc, seconds.
 */
export async function trainStandardStream(model: tf.LayersModel, file: string, opts: StreamTrainingOptions = {}): Promise<StreamTrainingResult> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const epochs = opts.epochs ?? 10;
  const batchSize = opts.batchSize ?? 32;
  const validationFraction = opts.validationFraction ?? 0.05;
  const bufferSize = opts.shuffleBuffer ?? 32_768;
  const chunkRows = opts.chunkRows ?? 65_536;
  if (!(validationFraction >= 0 && validationFraction < 1)) throw new InputError(`validationFraction must be in [0, 1), got ${validationFraction}`);
  if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new InputError(`shuffleBuffer must be a positive integer, got ${bufferSize}`);
  const { rows, positives } = await countPairRows(file, { fitMirna: opts.fitMirna, chunkRows });
  if (positives === 0 || positives === rows) throw new InputError(`training needs both classes; the table has ${positives} positives among ${rows} rows`, { file });
  const cutoff = rows - Math.round(rows * validationFraction);
  const read = () => readPairChunks(file, { requireLabels: true, fitMirna: opts.fitMirna, rows: chunkRows });

  /** Batches of the training rows (before `cutoff`) through the shuffle buffer of this epoch. */
  async function* trainBatches(epoch: number): AsyncGenerator<TrainBatch> {
    for await (const batch of allTrainBatches(epoch)) {
      yield batch;
      if (--stepsLeft <= 0) return;
    }
  }
  let stepsLeft = Infinity;

  async function* allTrainBatches(epoch: number): AsyncGenerator<TrainBatch> {
    const random = mulberry32(derivedSeed(seed, epoch));
    const buffer = { mirnas: [] as string[], sites: [] as string[], labels: [] as number[] };
    const batch = { mirnas: new Array<string>(), sites: new Array<string>(), labels: new Array<number>() };
    const rowsOf = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);
    /** Moves a random buffered row into the batch (swap-remove). */
    const take = () => {
      const j = Math.floor(random() * buffer.mirnas.length);
      const last = buffer.mirnas.length - 1;
      batch.mirnas.push(buffer.mirnas[j]!);
      batch.sites.push(buffer.sites[j]!);
      batch.labels.push(buffer.labels[j]!);
      buffer.mirnas[j] = buffer.mirnas[last]!;
      buffer.sites[j] = buffer.sites[last]!;
      buffer.labels[j] = buffer.labels[last]!;
      buffer.mirnas.pop();
      buffer.sites.pop();
      buffer.labels.pop();
    };
    const flush = (): TrainBatch => {
      const made = pairBatch(batch, rowsOf(batch.mirnas.length));
      batch.mirnas = [];
      batch.sites = [];
      batch.labels = [];
      return made;
    };
    let seen = 0;
    for await (const chunk of read()) {
      for (let i = 0; i < chunk.mirnas.length && seen < cutoff; i++, seen++) {
        buffer.mirnas.push(chunk.mirnas[i]!);
        buffer.sites.push(chunk.sites[i]!);
        buffer.labels.push(chunk.labels![i]!);
        if (buffer.mirnas.length >= bufferSize) {
          take();
          if (batch.mirnas.length === batchSize) yield flush();
        }
      }
      if (seen >= cutoff) break;
    }
    while (buffer.mirnas.length > 0) {
      take();
      if (batch.mirnas.length === batchSize) yield flush();
    }
    if (batch.mirnas.length > 0) yield flush();
  }

  /** Scores the validation rows (from `cutoff` on), streamed. */
  async function validate(): Promise<Record<string, number | null>> {
    if (cutoff === rows) return {};
    const labels: number[] = [];
    const scores: number[] = [];
    let seen = 0;
    for await (const chunk of read()) {
      const from = Math.max(0, cutoff - seen);
      seen += chunk.mirnas.length;
      if (from >= chunk.mirnas.length) continue;
      const s = await predictScores(model, chunk.mirnas.slice(from), chunk.sites.slice(from), { batchSize: 512 });
      for (let i = 0; i < s.length; i++) {
        scores.push(s[i]!);
        labels.push(chunk.labels![from + i]!);
      }
    }
    let loss = 0;
    for (let i = 0; i < scores.length; i++) loss -= Math.log(Math.min(Math.max(labels[i] === 1 ? scores[i]! : 1 - scores[i]!, 1e-7), 1 - 1e-7));
    const at = thresholdMetrics(labels, scores, 0.5);
    const both = labels.includes(1) && labels.includes(0);
    const rank = both ? rankMetrics(labels, scores) : null;
    return { valLoss: loss / scores.length, valAccuracy: at.accuracy, valF1: at.f1, valAp: rank?.averagePrecision ?? null, valRocAuc: rank?.rocAuc ?? null };
  }

  if (!model.optimizer) compileModel(model, ARCH00B_TRAINING);
  const result = await trainModel(model, {
    name: "binding-standard-stream",
    epoch: (epoch) => {
      stepsLeft = opts.maxSteps ?? Infinity;
      return { batches: trainBatches(epoch), steps: Math.min(Math.ceil(cutoff / batchSize), opts.maxSteps ?? Infinity) };
    },
    validate,
  }, {
    epochs,
    checkpointDir: opts.checkpointDir,
    key: { seed, batchSize, validationFraction, bufferSize, chunkRows, rows, maxSteps: opts.maxSteps ?? null },
    onEpoch: opts.onEpoch,
    onStep: opts.onStep,
  });
  return { history: result.history, resumedFromEpoch: result.resumedFromEpoch, rows, trainRows: cutoff, validationRows: rows - cutoff };
}
