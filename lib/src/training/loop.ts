import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { setDropoutStep } from "../ops/nn";
import {
  CheckpointContent,
  EarlyStoppingState,
  EpochRecord,
  readLatestCheckpoint,
  restoreBestWeights,
  restoreCheckpoint,
  writeBestWeights,
  writeCheckpoint,
} from "./checkpoint";

/** Longest time (ms) a training epoch holds the event loop before it lets signals and timers run. */
const YIELD_EVERY_MS = 100;

/**
 * The training loop every task shares (the hairpin classifier, the binding trainers, the VAE):
 * epochs (or iterations) of batches the task makes, one optimizer step per batch with dropout
 * masks keyed by the global step, validation, early stopping, a per-epoch history, and a
 * checkpoint after every epoch from which a run resumes to the same weights as an
 * uninterrupted one. The task decides what an epoch trains on ({@link TrainingTask.epoch}), so
 * a fixed table shuffled per epoch, an iterative schedule with fresh negatives and a stream
 * read in chunks all go through the same loop.
 */

/** One training batch. The loop disposes its tensors after the step. */
export interface TrainBatch {
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor | tf.Tensor[];
}

/** What one epoch trains on: its batches in order, each made when it is needed. */
export interface EpochData {
  batches: Iterable<TrainBatch | Promise<TrainBatch>> | AsyncIterable<TrainBatch>;
  /** Number of batches, when known (for progress). */
  steps?: number;
}

/** The task-specific parts of a training run. */
export interface TrainingTask {
  /** Names the task in checkpoints ("hairpin-classifier", "binding-standard", …). */
  name: string;
  /** The data of epoch `epoch` (1-based). Called once per epoch, after any resume. */
  epoch(epoch: number): EpochData | Promise<EpochData>;
  /**
   * Validation after epoch `epoch`, in inference mode: metrics to record (e.g. `valLoss`,
   * `valAccuracy`, `valAp`). Optional.
   */
  validate?(epoch: number): Record<string, number | null> | Promise<Record<string, number | null>>;
  /**
   * Called after training and validation of an epoch, before its checkpoint: the task updates
   * its state from the record (e.g. raises the negative ratio) and may return more fields to
   * record, or `stop: true` to end training after this epoch.
   */
  afterEpoch?(record: EpochRecord): { fields?: Record<string, number | null>; stop?: boolean } | void | Promise<{ fields?: Record<string, number | null>; stop?: boolean } | void>;
  /**
   * A custom optimizer step for models whose loss is not a Keras loss (e.g. the VAE's
   * reconstruction + β·KL): trains on `batch` (e.g. with `model.optimizer.minimize`, so the
   * checkpointed optimizer is the one stepping) and returns the step's metrics, which the loop
   * averages over the epoch weighted by batch size. `step` is the global step (0-based; a
   * resumed run continues the count), for schedules and seeded noise. Without it the loop calls
   * `model.trainOnBatch(x, y)` and records the compiled metrics. The loop disposes the batch.
   */
  trainStep?(batch: TrainBatch, step: number): Record<string, number> | Promise<Record<string, number>>;
  /** The task's state for checkpoints (JSON), and its restoration on resume. */
  saveState?(): unknown;
  restoreState?(state: unknown): void;
}

/** Early stopping on a recorded metric. */
export interface EarlyStoppingOptions {
  /** Record field to watch, e.g. "valLoss", "valAp". */
  monitor: string;
  /** "min" (losses) or "max" (accuracy, AP). */
  mode: "min" | "max";
  /** Epochs without improvement before stopping. */
  patience: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put the best epoch's weights back at the end (needs checkpointDir). Default true. */
  restoreBest?: boolean;
}

/** Options of {@link trainModel}. */
export interface TrainLoopOptions {
  /** Epochs (iterations) to reach in total: a resumed run continues up to this number. */
  epochs: number;
  /** Folder for checkpoints (see checkpoint.ts). When it holds one, training resumes from it. */
  checkpointDir?: string;
  /** Options that must agree with a checkpoint's to resume from it (seed, batch size, data size, …). */
  key?: Record<string, unknown>;
  earlyStopping?: EarlyStoppingOptions;
  /** Called after every epoch, after its checkpoint. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Called after every step with the epoch, steps done in it and its total (when known). */
  onStep?: (epoch: number, done: number, total: number | undefined) => void;
}

/** Result of {@link trainModel}. */
export interface TrainLoopResult {
  /** Every epoch so far, including those of an earlier, resumed run. */
  history: EpochRecord[];
  /** The epoch the run resumed after (0 = started fresh). */
  resumedFromEpoch: number;
  /** Optimizer steps taken in total. */
  steps: number;
  /** The epoch early stopping (or the task) ended training after, or null. */
  stoppedAfterEpoch: number | null;
  /** With early stopping: the epoch whose weights the model holds at the end. */
  bestEpoch: number | null;
}

/** Keras' metric names as recorded ("acc" is tfjs' name for accuracy). */
function metricName(name: string): string {
  return name === "acc" ? "accuracy" : name;
}

/**
 * Trains a compiled `model` with `task` for `opts.epochs` epochs (see the module comment).
 * History records per epoch: epoch, steps, the model's training metrics (or those of the
 * task's own {@link TrainingTask.trainStep}) averaged over the
 * epoch's batches weighted by batch size (as Keras prints them: loss, accuracy, …), what
 * `validate` and `afterEpoch` return, and seconds. With `checkpointDir`, a checkpoint after
 * every epoch and resume from an existing one; a checkpoint of another task or with another
 * `key` is an InputError.
 */
export async function trainModel(model: tf.LayersModel, task: TrainingTask, opts: TrainLoopOptions): Promise<TrainLoopResult> {
  if (!model.optimizer) throw new InputError("the model must be compiled before training (ops/nn.ts compileModel)");
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new InputError(`epochs must be a non-negative integer, got ${opts.epochs}`);
  const key = opts.key ?? {};
  const early = opts.earlyStopping;
  if (early && !(Number.isInteger(early.patience) && early.patience >= 0)) throw new InputError(`patience must be a non-negative integer, got ${early.patience}`);
  const restoreBest = early ? early.restoreBest ?? true : false;
  if (restoreBest && !opts.checkpointDir) throw new InputError("early stopping that restores the best weights needs a checkpoint folder");

  let history: EpochRecord[] = [];
  let step = 0;
  let resumedFromEpoch = 0;
  let stopping: EarlyStoppingState | null = early ? { best: null, bestEpoch: 0, wait: 0, stopped: false } : null;
  let resumedStop: number | null = null;
  if (opts.checkpointDir) {
    fs.mkdirSync(opts.checkpointDir, { recursive: true });
    const found = readLatestCheckpoint(opts.checkpointDir);
    if (found) {
      const { state, folder } = found;
      if (state.task !== task.name) throw new InputError(`the checkpoint is of task '${state.task}', not '${task.name}'; use another checkpoint folder`, { file: folder });
      const mismatch = Object.keys(key).filter((k) => JSON.stringify(state.key[k]) !== JSON.stringify(key[k]));
      if (mismatch.length) {
        throw new InputError(
          `the checkpoint was made with other ${mismatch.join(", ")} (${mismatch.map((k) => `${k} ${JSON.stringify(state.key[k])}`).join(", ")}); use another checkpoint folder`,
          { file: folder },
        );
      }
      await restoreCheckpoint(model, folder, state);
      history = state.history;
      step = state.step;
      resumedFromEpoch = state.epoch;
      if (state.taskState !== null && state.taskState !== undefined) task.restoreState?.(state.taskState);
      if (early) stopping = state.earlyStopping ?? stopping;
      resumedStop = state.stoppedAfterEpoch ?? null;
    }
  }

  let stoppedAfterEpoch: number | null = resumedStop ?? (stopping?.stopped ? resumedFromEpoch : null);
  let yielded = performance.now();
  for (let epoch = resumedFromEpoch + 1; epoch <= opts.epochs && stoppedAfterEpoch === null; epoch++) {
    const started = performance.now();
    const data = await task.epoch(epoch);
    const sums = new Map<string, number>();
    let samples = 0;
    let steps = 0;
    for await (const made of data.batches) {
      const batch = await made;
      setDropoutStep(model, step);
      const size = (Array.isArray(batch.x) ? batch.x[0]! : batch.x).shape[0]!;
      if (task.trainStep) {
        let metrics: Record<string, number>;
        try {
          metrics = await task.trainStep(batch, step);
        } finally {
          tf.dispose([batch.x, batch.y].flat());
        }
        for (const [name, value] of Object.entries(metrics)) sums.set(name, (sums.get(name) ?? 0) + value * size);
      } else {
        let values: number | number[];
        try {
          values = await model.trainOnBatch(batch.x, batch.y);
        } finally {
          tf.dispose([batch.x, batch.y].flat());
        }
        const list = Array.isArray(values) ? values : [values];
        model.metricsNames.forEach((name, i) => sums.set(metricName(name), (sums.get(metricName(name)) ?? 0) + list[i]! * size));
      }
      samples += size;
      step++;
      steps++;
      opts.onStep?.(epoch, steps, data.steps);
      // A step's promises settle as microtasks, which never let the event loop reach signals or
      // timers: without this, Ctrl+C, SIGTERM and the parent watch waited for the end of the epoch.
      if (performance.now() - yielded > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
    }
    const record: EpochRecord = { epoch, seconds: 0, steps };
    for (const [name, sum] of sums) record[name] = samples > 0 ? sum / samples : null;
    if (task.validate) Object.assign(record, await task.validate(epoch));
    record.seconds = (performance.now() - started) / 1000;
    const after = await task.afterEpoch?.(record);
    if (after?.fields) Object.assign(record, after.fields);
    if (after?.stop) stoppedAfterEpoch = epoch;
    if (early && stopping) {
      const value = record[early.monitor];
      if (typeof value !== "number" || Number.isNaN(value)) {
        throw new InputError(`early stopping watches '${early.monitor}', which epoch ${epoch} did not record (recorded: ${Object.keys(record).join(", ")})`);
      }
      const minDelta = early.minDelta ?? 0;
      const improved = stopping.best === null || (early.mode === "min" ? value < stopping.best - minDelta : value > stopping.best + minDelta);
      if (improved) {
        stopping = { ...stopping, best: value, bestEpoch: epoch, wait: 0 };
        if (restoreBest) await writeBestWeights(opts.checkpointDir!, model);
      } else {
        // As Keras: stop once `patience` epochs in a row brought no improvement.
        stopping = { ...stopping, wait: stopping.wait + 1 };
        if (stopping.wait >= early.patience) stopping.stopped = true;
      }
      if (stopping.stopped) stoppedAfterEpoch = epoch;
    }
    history = [...history, record];
    if (opts.checkpointDir) {
      const content: CheckpointContent = { task: task.name, epoch, step, history, key, taskState: task.saveState?.() ?? null, earlyStopping: stopping, stoppedAfterEpoch };
      await writeCheckpoint(opts.checkpointDir, model, content);
    }
    await opts.onEpoch?.(record);
  }
  setDropoutStep(model, step);
  let bestEpoch: number | null = null;
  if (early && stopping && stopping.bestEpoch > 0) {
    bestEpoch = stopping.bestEpoch;
    const last = history[history.length - 1];
    if (restoreBest && last && last.epoch !== bestEpoch) await restoreBestWeights(opts.checkpointDir!, model);
  }
  return { history, resumedFromEpoch, steps: step, stoppedAfterEpoch, bestEpoch };
}
