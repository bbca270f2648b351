import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError, shorten } from "../errors";
import { parseTempName, withAtomicFolder, writeFileAtomic } from "../io/files";
import { loadWeightsInto, saveTfjsModel } from "../io/tfjsModel";

/**
 * Training checkpoints, one versioned format for every task. A checkpoint folder holds
 * `epoch-NNNN/` (the last complete epoch or iteration) and `latest.json` naming it:
 *
 *   epoch-NNNN/model/          weights (tfjs layers format)
 *   epoch-NNNN/optimizer.bin   the optimizer's slots (Adam's m and v, iteration count), raw
 *   epoch-NNNN/state.json      {@link CheckpointState}: format, task, counters, history, the
 *                              options that must agree on resume, the task's own state
 *   best/model/                with early stopping that restores the best weights: those
 *
 * Every file and folder is written atomically, and `latest.json` last, so a run killed at any
 * moment resumes from the last complete epoch.
 */

/** The current format. */
export const CHECKPOINT_FORMAT = "mirna-dl checkpoint 2";
/** The hairpin classifier's format before the training loop was shared (read, converted). */
const HAIRPIN_FORMAT_1 = "mirna-dl hairpin checkpoint 1";

const LATEST = "latest.json";

/** One row of a training history: epoch, seconds, training and validation metrics, task fields. */
export type EpochRecord = {
  /** 1-based epoch (or iteration). */
  epoch: number;
  /** Wall-clock seconds of the epoch (training + validation, without the checkpoint). */
  seconds: number;
} & Record<string, number | null>;

/** Early-stopping bookkeeping, carried across a resume. */
export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number;
  /** Epochs since the best one. */
  wait: number;
  stopped: boolean;
}

/** What `state.json` holds. */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  /** What was trained, e.g. "hairpin-classifier", "binding-iterative". */
  task: string;
  /** Epochs (iterations) completed. */
  epoch: number;
  /** Optimizer steps taken (= training calls of the dropout layers). */
  step: number;
  history: EpochRecord[];
  /** Options that must be the same to resume (seed, batch size, data size, …). */
  key: Record<string, unknown>;
  /** The task's own state (e.g. the iterative trainer's ratio and positives used); JSON. */
  taskState: unknown;
  earlyStopping: EarlyStoppingState | null;
  /** The epoch after which early stopping or the task ended training (a resume trains no more), or null. */
  stoppedAfterEpoch: number | null;
  /** Adam's β₁ᵗ and β₂ᵗ accumulators, restored bit-exactly (setWeights recomputes them with pow). */
  adamAccBeta: [number, number] | null;
  /** Layout of `optimizer.bin`: optimizer weights in getWeights() order. */
  optimizerWeights: { name: string; shape: number[]; dtype: "float32" | "int32" }[];
}

/** The fields of a checkpoint the training loop provides; the optimizer parts are read off the model. */
export type CheckpointContent = Omit<CheckpointState, "format" | "adamAccBeta" | "optimizerWeights">;

/** Adam's private β-power accumulators (tfjs AdamOptimizer fields); null for other optimizers. */
function adamAccumulators(optimizer: tf.Optimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } | null {
  const fields = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  return optimizer instanceof tf.AdamOptimizer && fields.accBeta1 && fields.accBeta2
    ? { accBeta1: fields.accBeta1, accBeta2: fields.accBeta2 }
    : null;
}

/** The name of epoch `epoch`'s checkpoint folder. */
function folderName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, "0")}`;
}

/**
 * Writes the checkpoint of `content.epoch` (model weights, optimizer slots, state) into
 * `dir/epoch-NNNN/`, then points `latest.json` at it and removes older ones. The model must be
 * compiled (its optimizer is saved).
 */
export async function writeCheckpoint(dir: string, model: tf.LayersModel, content: CheckpointContent): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const name = folderName(content.epoch);
  await withAtomicFolder(path.join(dir, name), async (temp) => {
    await saveTfjsModel(model, path.join(temp, "model"));
    const weights = await model.optimizer.getWeights();
    const chunks: Buffer[] = [];
    const layout: CheckpointState["optimizerWeights"] = [];
    for (const w of weights) {
      const dtype = w.tensor.dtype === "int32" ? "int32" : "float32";
      const data = w.tensor.dataSync();
      const typed = dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data);
      chunks.push(Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength));
      layout.push({ name: w.name, shape: w.tensor.shape.slice(), dtype });
    }
    const acc = adamAccumulators(model.optimizer);
    const adamAccBeta: [number, number] | null = acc ? [acc.accBeta1.dataSync()[0]!, acc.accBeta2.dataSync()[0]!] : null;
    // getWeights returns the moment variables themselves plus a new scalar for the iteration count.
    for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
    writeFileAtomic(path.join(temp, "optimizer.bin"), Buffer.concat(chunks));
    const state: CheckpointState = { format: CHECKPOINT_FORMAT, ...content, adamAccBeta, optimizerWeights: layout };
    writeFileAtomic(path.join(temp, "state.json"), JSON.stringify(state, null, 1));
  });
  writeFileAtomic(path.join(dir, LATEST), JSON.stringify({ checkpoint: name, epoch: content.epoch }));
  for (const entry of fs.readdirSync(dir)) {
    // Older epochs, and temporary folders of epochs an interrupted run was writing.
    const temp = parseTempName(entry);
    const stale = (/^epoch-\d+$/.test(entry) && entry !== name) || (temp !== null && /^epoch-\d+$/.test(temp.base));
    if (stale) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** Saves the best weights so far (early stopping with restoreBest) into `dir/best/model/`. */
export async function writeBestWeights(dir: string, model: tf.LayersModel): Promise<void> {
  await withAtomicFolder(path.join(dir, "best"), (temp) => saveTfjsModel(model, path.join(temp, "model")));
}

/** Copies the weights saved by {@link writeBestWeights} into `model`. */
export async function restoreBestWeights(dir: string, model: tf.LayersModel): Promise<void> {
  await copyWeightsFrom(path.join(dir, "best", "model"), model);
}

/** Loads the weights of a saved model folder into `model` (same layers and shapes, else an InputError). */
function copyWeightsFrom(folder: string, model: tf.LayersModel): Promise<void> {
  return loadWeightsInto(folder, model, "the checkpoint's model has other layers or shapes than the model being trained");
}

/** What a damaged checkpoint's message ends with: what the user can do. */
function cannotResume(dir: string): string {
  return `--resume cannot continue from this checkpoint (remove ${dir} to train from the start)`;
}

/**
 * The checkpoint `dir/latest.json` names, or null when there is none. A checkpoint of the
 * hairpin classifier's first format is converted; any other format is an InputError naming it.
 * `latest.json` and `state.json` are validated field by field ({@link checkState}): a tampered or
 * damaged one is an InputError naming the file and the field, never a run that trains nothing.
 */
export function readLatestCheckpoint(dir: string): { folder: string; state: CheckpointState } | null {
  const latest = path.join(dir, LATEST);
  if (!fs.existsSync(latest)) return null;
  let name: unknown;
  try {
    name = (JSON.parse(fs.readFileSync(latest, "utf8")) as { checkpoint?: unknown } | null)?.checkpoint;
  } catch (e) {
    throw new InputError(`cannot read the checkpoint: ${(e as Error).message}; ${cannotResume(dir)}`, { file: latest });
  }
  // Only a folder of this checkpoint folder (never a path elsewhere).
  if (typeof name !== "string" || !/^epoch-\d{4,}$/.test(name)) {
    throw new InputError(`'checkpoint' must name an epoch folder (epoch-NNNN), got ${shorten(JSON.stringify(name) ?? "nothing", 40)}; ${cannotResume(dir)}`, { file: latest });
  }
  const folder = path.join(dir, name);
  const stateFile = path.join(folder, "state.json");
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(stateFile, "utf8")) as Record<string, unknown>;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `cannot be read: ${(e as Error).message}`;
    throw new InputError(`${why}; ${cannotResume(dir)}`, { file: stateFile });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InputError(`not a checkpoint state (expected a JSON object); ${cannotResume(dir)}`, { file: stateFile });
  if (raw.format === HAIRPIN_FORMAT_1) {
    if (!Array.isArray(raw.history)) throw new InputError(`'history' must be a list of epochs, got ${shorten(JSON.stringify(raw.history) ?? "nothing", 40)}; ${cannotResume(dir)}`, { file: stateFile });
    return { folder, state: checkState(fromHairpinFormat1(raw) as unknown as Record<string, unknown>, stateFile, dir) };
  }
  if (raw.format !== CHECKPOINT_FORMAT) {
    throw new InputError(`unknown checkpoint format '${String(raw.format)}' (this version reads '${CHECKPOINT_FORMAT}' and '${HAIRPIN_FORMAT_1}'); use another checkpoint folder`, { file: folder });
  }
  return { folder, state: checkState(raw, stateFile, dir) };
}

/**
 * Checks every field of a checkpoint state read from `file` (see {@link CheckpointState}): the
 * counters whole numbers, one history record per epoch (numbered 1, 2, …), the early-stopping
 * bookkeeping, Adam's accumulators and the optimizer layout. An InputError names the file and
 * the field, e.g. `'epoch' must be a whole number ≥ 0, got "eight"`.
 */
function checkState(raw: Record<string, unknown>, file: string, dir: string): CheckpointState {
  const fail = (field: string, expected: string, value: unknown): never => {
    throw new InputError(`'${field}' must be ${expected}, got ${shorten(JSON.stringify(value) ?? String(value), 40)}; ${cannotResume(dir)}`, { file });
  };
  const count = (value: unknown) => typeof value === "number" && Number.isInteger(value) && value >= 0;
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
  if (typeof raw.task !== "string" || raw.task === "") fail("task", "the name of what was trained", raw.task);
  if (!count(raw.epoch)) fail("epoch", "a whole number ≥ 0", raw.epoch);
  if (!count(raw.step)) fail("step", "a whole number ≥ 0", raw.step);
  const epoch = raw.epoch as number;
  if (!Array.isArray(raw.history)) fail("history", "a list of epochs", raw.history);
  const history = raw.history as unknown[];
  if (history.length !== epoch) fail("history", `a list of ${epoch} epochs (one per epoch done)`, `${history.length} records`);
  history.forEach((record, i) => {
    if (!isObject(record)) fail(`history[${i}]`, "an object", record);
    const r = record as Record<string, unknown>;
    if (r.epoch !== i + 1) fail(`history[${i}].epoch`, `${i + 1}`, r.epoch);
    for (const [key, value] of Object.entries(r)) if (value !== null && typeof value !== "number") fail(`history[${i}].${key}`, "a number or null", value);
  });
  if (!isObject(raw.key)) fail("key", "an object", raw.key);
  const early = raw.earlyStopping;
  if (early !== null && early !== undefined) {
    if (!isObject(early)) fail("earlyStopping", "an object or null", early);
    const e = early as Record<string, unknown>;
    if (e.best !== null && typeof e.best !== "number") fail("earlyStopping.best", "a number or null", e.best);
    if (!count(e.bestEpoch) || (e.bestEpoch as number) > epoch) fail("earlyStopping.bestEpoch", `a whole number from 0 to ${epoch}`, e.bestEpoch);
    if (!count(e.wait)) fail("earlyStopping.wait", "a whole number ≥ 0", e.wait);
    if (typeof e.stopped !== "boolean") fail("earlyStopping.stopped", "true or false", e.stopped);
  }
  const stopped = raw.stoppedAfterEpoch;
  if (stopped !== null && stopped !== undefined && (!count(stopped) || (stopped as number) < 1 || (stopped as number) > epoch)) fail("stoppedAfterEpoch", `null or a whole number from 1 to ${epoch}`, stopped);
  const acc = raw.adamAccBeta;
  if (acc !== null && acc !== undefined && !(Array.isArray(acc) && acc.length === 2 && acc.every((v) => typeof v === "number" && Number.isFinite(v)))) fail("adamAccBeta", "null or two numbers", acc);
  if (!Array.isArray(raw.optimizerWeights)) fail("optimizerWeights", "a list of the optimizer's weights", raw.optimizerWeights);
  (raw.optimizerWeights as unknown[]).forEach((w, i) => {
    const o = w as Record<string, unknown>;
    if (!isObject(w) || typeof o.name !== "string") fail(`optimizerWeights[${i}]`, "an object with a name", w);
    if (!Array.isArray(o.shape) || !o.shape.every(count)) fail(`optimizerWeights[${i}].shape`, "a list of whole numbers", o.shape);
    if (o.dtype !== "float32" && o.dtype !== "int32") fail(`optimizerWeights[${i}].dtype`, "float32 or int32", o.dtype);
  });
  return raw as unknown as CheckpointState;
}

/** A "mirna-dl hairpin checkpoint 1" state as the current format (history fields renamed to camelCase). */
function fromHairpinFormat1(raw: Record<string, unknown>): CheckpointState {
  const old = raw as {
    epoch: number; step: number; seed: number; batchSize: number; validationFraction: number; samples: number;
    history: { epoch: number; loss: number; accuracy: number; val_loss: number | null; val_accuracy: number | null; seconds: number }[];
    adamAccBeta: [number, number] | null; optimizerWeights: CheckpointState["optimizerWeights"];
  };
  return {
    format: CHECKPOINT_FORMAT,
    task: "hairpin-classifier",
    epoch: old.epoch,
    step: old.step,
    history: old.history.map((h) => ({ epoch: h.epoch, loss: h.loss, accuracy: h.accuracy, valLoss: h.val_loss, valAccuracy: h.val_accuracy, seconds: h.seconds })),
    key: { seed: old.seed, batchSize: old.batchSize, validationFraction: old.validationFraction, samples: old.samples },
    taskState: null,
    earlyStopping: null,
    stoppedAfterEpoch: null,
    adamAccBeta: old.adamAccBeta,
    optimizerWeights: old.optimizerWeights,
  };
}

/**
 * Loads the weights and optimizer state of a checkpoint into `model` (compiled with the same
 * optimizer). A damaged file (a truncated optimizer.bin or weights.bin, slots that do not fit the
 * optimizer) is an InputError naming it: the run cannot resume from this checkpoint.
 */
export async function restoreCheckpoint(model: tf.LayersModel, folder: string, state: CheckpointState): Promise<void> {
  const dir = path.dirname(folder);
  try {
    await copyWeightsFrom(path.join(folder, "model"), model);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${e.message}; ${cannotResume(dir)}`);
    throw e;
  }
  const file = path.join(folder, "optimizer.bin");
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new InputError(`${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `cannot be read: ${(e as Error).message}`}; ${cannotResume(dir)}`, { file });
  }
  // Sizes first: a truncated file must not reach the tensors (a shape error with a stack).
  const expected = state.optimizerWeights.reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expected) {
    throw new InputError(`holds ${bytes.length.toLocaleString("en-US")} bytes, state.json describes ${expected.toLocaleString("en-US")} (damaged or truncated); ${cannotResume(dir)}`, { file });
  }
  let offset = 0;
  const named: { name: string; tensor: tf.Tensor }[] = state.optimizerWeights.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const slice = bytes.subarray(offset, offset + size * 4);
    offset += size * 4;
    const copy = new Uint8Array(slice).buffer;
    const values = spec.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy);
    return { name: spec.name, tensor: tf.tensor(values, spec.shape, spec.dtype) };
  });
  try {
    await model.optimizer.setWeights(named);
  } catch (e) {
    throw new InputError(`the optimizer's slots in state.json do not fit the model being trained (${shorten((e as Error).message, 120)}); ${cannotResume(dir)}`, { file });
  } finally {
    tf.dispose(named.map((w) => w.tensor));
  }
  const acc = adamAccumulators(model.optimizer);
  if (acc && state.adamAccBeta) {
    // tidy: assign() shares the scalar's data, the scalar itself would stay registered (2 leaked tensors per resume).
    tf.tidy(() => {
      acc.accBeta1.assign(tf.scalar(state.adamAccBeta![0]));
      acc.accBeta2.assign(tf.scalar(state.adamAccBeta![1]));
    });
  }
}
