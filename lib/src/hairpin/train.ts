import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { loadTfjsModel, saveTfjsModel } from "../io/tfjsModel";
import { mulberry32 } from "../random";
import { setDropoutStep } from "../ops/seededDropout";
import { imageCount, imagesToTensor, predictHairpinImages } from "./classifier";
import { HAIRPIN_IMAGE_SIZE } from "./image";

/**
 * Training loop of the deepMir classifier: seeded shuffling, batches converted to float32 one
 * at a time, per-epoch history, a checkpoint after every epoch and resume from it that ends in
 * the same weights as an uninterrupted run.
 */

/** Training data: images [N, 25, 100, 3] bytes (0–255) and labels [N] (1 = pre-miRNA). */
export interface HairpinTrainingData {
  images: Uint8Array;
  labels: Uint8Array;
}

/** Metrics of one epoch. Loss = mean categorical cross-entropy; accuracy = fraction correct. */
export interface HairpinEpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Training loss and accuracy, averaged over the epoch's batches weighted by batch size (as Keras prints). */
  loss: number;
  accuracy: number;
  /** On the held-out validation part (inference mode, no dropout); null without one. */
  val_loss: number | null;
  val_accuracy: number | null;
  /** Wall-clock seconds of the epoch (training + validation, without the checkpoint). */
  seconds: number;
}

export interface TrainHairpinOptions {
  /** Epochs to reach in total (a resumed run continues up to this number). */
  epochs: number;
  /** Samples per step. Default 128 (the paper's). */
  batchSize?: number;
  /**
   * Fraction of the data held out for validation, chosen by a seeded permutation (0 = none;
   * default 0). The original used modhsa_test as Keras' validation data; we keep the test set
   * out of training decisions.
   */
  validationFraction?: number;
  /** Seed of the validation split and of every epoch's shuffle. */
  seed: number;
  /**
   * Folder for checkpoints. After every epoch the model weights, the Adam state and the loop
   * state (epoch, history, seeds) go to `epoch-NNNN/`, then `latest.json` names it (both
   * written atomically). When `latest.json` exists at the start, training resumes from it.
   */
  checkpointDir?: string;
  /** Called after every epoch (after its checkpoint). */
  onEpoch?: (record: HairpinEpochRecord) => void | Promise<void>;
}

/** Result of {@link trainDeepMirClassifier}. */
export interface TrainHairpinResult {
  /** Every epoch so far, including those of an earlier, resumed run. */
  history: HairpinEpochRecord[];
  /** The epoch the run resumed after (0 = started fresh). */
  resumedFromEpoch: number;
  /** Rows used for training and validation (indices into the data). */
  trainIndices: Uint32Array;
  validationIndices: Uint32Array;
}

/** What `latest.json` / `state.json` of a checkpoint hold. */
interface CheckpointState {
  format: "mirna-dl hairpin checkpoint 1";
  epoch: number;
  history: HairpinEpochRecord[];
  /** The options that must agree on resume. */
  seed: number;
  batchSize: number;
  validationFraction: number;
  samples: number;
  /** Dropout training-call counter after this epoch (= steps taken). */
  step: number;
  /** Adam's β₁ᵗ⁺¹ and β₂ᵗ⁺¹ accumulators, restored bit-exactly (setWeights recomputes them with pow). */
  adamAccBeta: [number, number] | null;
  /** Layout of `optimizer.bin`: Adam weights in getWeights() order. */
  optimizerWeights: { name: string; shape: number[]; dtype: "float32" | "int32" }[];
}

const LATEST = "latest.json";

/**
 * Seed of epoch `epoch`'s shuffle: a fixed mix of the run seed and the epoch (so the shuffle of
 * any epoch is known from the seed alone; a checkpoint therefore needs no generator state).
 */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
}

/** A Fisher–Yates shuffle of `values` in place with a mulberry32 stream. */
function shuffleInPlace(values: Uint32Array, random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}

/** The validation split: a seeded permutation of 0..n-1; its first round(n·f) rows are validation, the rest training (sorted). */
export function splitTrainValidation(n: number, fraction: number, seed: number): { train: Uint32Array; validation: Uint32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new InputError(`validationFraction must be in [0, 1), got ${fraction}`);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, mulberry32(seed >>> 0));
  const nValidation = Math.round(n * fraction);
  return { validation: order.slice(0, nValidation).sort(), train: order.slice(nValidation).sort() };
}

/** Mean categorical cross-entropy (probabilities clipped to [1e-7, 1 − 1e-7], as Keras) and accuracy at 0.5. */
function lossAndAccuracy(probabilities: Float32Array, labels: Uint8Array, indices: Uint32Array): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let k = 0; k < indices.length; k++) {
    const p = probabilities[k]!;
    const positive = labels[indices[k]!] === 1;
    const pTrue = Math.min(Math.max(positive ? p : 1 - p, 1e-7), 1 - 1e-7);
    loss -= Math.log(pTrue);
    if ((p > 0.5) === positive) correct++;
  }
  return { loss: loss / indices.length, accuracy: correct / indices.length };
}

/** Adam's private β-power accumulators (tfjs AdamOptimizer fields); null for other optimizers. */
function adamAccumulators(optimizer: tf.Optimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } | null {
  const fields = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  return optimizer instanceof tf.AdamOptimizer && fields.accBeta1 && fields.accBeta2
    ? { accBeta1: fields.accBeta1, accBeta2: fields.accBeta2 }
    : null;
}

/** Writes the checkpoint of `epoch` into `dir/epoch-NNNN/`, then points `latest.json` at it and removes older ones. */
async function writeCheckpoint(dir: string, model: tf.LayersModel, state: Omit<CheckpointState, "optimizerWeights" | "adamAccBeta">): Promise<void> {
  const name = `epoch-${String(state.epoch).padStart(4, "0")}`;
  const target = path.join(dir, name);
  const temp = path.join(dir, `.${name}.${process.pid}.tmp`);
  fs.rmSync(temp, { recursive: true, force: true });
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
  const full: CheckpointState = { ...state, adamAccBeta, optimizerWeights: layout };
  writeFileAtomic(path.join(temp, "state.json"), JSON.stringify(full, null, 1));
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(temp, target);
  writeFileAtomic(path.join(dir, LATEST), JSON.stringify({ checkpoint: name, epoch: state.epoch }));
  for (const entry of fs.readdirSync(dir)) {
    const stale = (/^epoch-\d+$/.test(entry) && entry !== name) || /^\.epoch-\d+\.\d+\.tmp$/.test(entry);
    if (stale) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** Reads the checkpoint `latest.json` names, or null when there is none. */
function readLatestState(dir: string): { folder: string; state: CheckpointState } | null {
  const latest = path.join(dir, LATEST);
  if (!fs.existsSync(latest)) return null;
  let folder: string;
  let state: CheckpointState;
  try {
    folder = path.join(dir, (JSON.parse(fs.readFileSync(latest, "utf8")) as { checkpoint: string }).checkpoint);
    state = JSON.parse(fs.readFileSync(path.join(folder, "state.json"), "utf8")) as CheckpointState;
  } catch (e) {
    throw new InputError(`cannot read the checkpoint: ${(e as Error).message}`, { file: latest });
  }
  if (state.format !== "mirna-dl hairpin checkpoint 1") throw new InputError(`not a hairpin training checkpoint (format '${state.format}')`, { file: folder });
  return { folder, state };
}

/** Loads weights and Adam state of a checkpoint into `model`. */
async function restoreCheckpoint(model: tf.LayersModel, folder: string, state: CheckpointState): Promise<void> {
  const saved = await loadTfjsModel(path.join(folder, "model"));
  const savedWeights = saved.getWeights();
  const own = model.getWeights();
  if (savedWeights.length !== own.length || savedWeights.some((w, i) => w.shape.join() !== own[i]!.shape.join())) {
    saved.dispose();
    throw new InputError("the checkpoint's model has other layers or shapes than the model being trained", { file: folder });
  }
  model.setWeights(savedWeights);
  saved.dispose();
  const bytes = fs.readFileSync(path.join(folder, "optimizer.bin"));
  let offset = 0;
  const named: { name: string; tensor: tf.Tensor }[] = state.optimizerWeights.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const slice = bytes.subarray(offset, offset + size * 4);
    offset += size * 4;
    const copy = new Uint8Array(slice).buffer;
    const values = spec.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy);
    return { name: spec.name, tensor: tf.tensor(values, spec.shape, spec.dtype) };
  });
  if (offset !== bytes.length) throw new InputError(`optimizer.bin has ${bytes.length} bytes, state.json describes ${offset}`, { file: folder });
  await model.optimizer.setWeights(named);
  tf.dispose(named.map((w) => w.tensor));
  const acc = adamAccumulators(model.optimizer);
  if (acc && state.adamAccBeta) {
    acc.accBeta1.assign(tf.scalar(state.adamAccBeta[0]));
    acc.accBeta2.assign(tf.scalar(state.adamAccBeta[1]));
  }
}

/**
 * Trains `model` (from {@link buildDeepMirClassifier}) on `train` for `opts.epochs` epochs:
 * a seeded validation split, then per epoch a seeded shuffle of the training rows, batches of
 * `batchSize` (the last one smaller) converted to float32 [0, 1] one batch at a time,
 * `trainOnBatch` with one-hot labels, dropout masks keyed by the global step. History records
 * loss, accuracy, val_loss, val_accuracy per epoch. With `checkpointDir`, writes a checkpoint
 * after every epoch and resumes from an existing one (same final weights as an uninterrupted
 * run with the same seed and options; a checkpoint made with other options is an InputError).
 */
export async function trainDeepMirClassifier(
  model: tf.LayersModel,
  train: HairpinTrainingData,
  opts: TrainHairpinOptions,
): Promise<TrainHairpinResult> {
  const n = imageCount(train.images);
  if (train.labels.length !== n) throw new InputError(`${n} images but ${train.labels.length} labels`);
  for (let i = 0; i < n; i++) {
    if (train.labels[i] !== 0 && train.labels[i] !== 1) throw new InputError(`label ${train.labels[i]} at row ${i} is neither 0 nor 1`);
  }
  const batchSize = opts.batchSize ?? 128;
  const validationFraction = opts.validationFraction ?? 0;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new InputError(`epochs must be a non-negative integer, got ${opts.epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const { train: trainIndices, validation: validationIndices } = splitTrainValidation(n, validationFraction, opts.seed);
  if (trainIndices.length === 0) throw new InputError("no training rows left after the validation split");
  const stepsPerEpoch = Math.ceil(trainIndices.length / batchSize);

  let history: HairpinEpochRecord[] = [];
  let resumedFromEpoch = 0;
  if (opts.checkpointDir) {
    fs.mkdirSync(opts.checkpointDir, { recursive: true });
    const found = readLatestState(opts.checkpointDir);
    if (found) {
      const { state, folder } = found;
      const mismatch = (["seed", "batchSize", "validationFraction", "samples"] as const).filter(
        (k) => state[k] !== { seed: opts.seed, batchSize, validationFraction, samples: n }[k],
      );
      if (mismatch.length) {
        throw new InputError(
          `the checkpoint was made with other ${mismatch.join(", ")} (${mismatch.map((k) => `${k} ${state[k]}`).join(", ")}); use another checkpoint folder`,
          { file: folder },
        );
      }
      await restoreCheckpoint(model, folder, state);
      history = state.history;
      resumedFromEpoch = state.epoch;
    }
  }

  const labelsOneHot = (indices: Uint32Array): tf.Tensor2D => {
    const y = new Float32Array(indices.length * 2);
    for (let k = 0; k < indices.length; k++) y[2 * k + train.labels[indices[k]!]!] = 1;
    return tf.tensor2d(y, [indices.length, 2]);
  };
  const validationImages = validationIndices.length
    ? gatherImages(train.images, validationIndices)
    : null;

  for (let epoch = resumedFromEpoch + 1; epoch <= opts.epochs; epoch++) {
    const started = performance.now();
    const order = trainIndices.slice();
    shuffleInPlace(order, mulberry32(epochSeed(opts.seed, epoch)));
    let lossSum = 0;
    let correctSum = 0;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const batch = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, order.length));
      setDropoutStep(model, (epoch - 1) * stepsPerEpoch + b);
      const x = imagesToTensor(train.images, batch);
      const y = labelsOneHot(batch);
      const result = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      lossSum += result[0]! * batch.length;
      correctSum += result[1]! * batch.length;
    }
    let valLoss: number | null = null;
    let valAccuracy: number | null = null;
    if (validationImages) {
      const probabilities = predictHairpinImages(model, validationImages, Math.max(batchSize, 256));
      const v = lossAndAccuracy(probabilities, train.labels, validationIndices);
      valLoss = v.loss;
      valAccuracy = v.accuracy;
    }
    const record: HairpinEpochRecord = {
      epoch,
      loss: lossSum / order.length,
      accuracy: correctSum / order.length,
      val_loss: valLoss,
      val_accuracy: valAccuracy,
      seconds: (performance.now() - started) / 1000,
    };
    history = [...history, record];
    if (opts.checkpointDir) {
      await writeCheckpoint(opts.checkpointDir, model, {
        format: "mirna-dl hairpin checkpoint 1",
        epoch, history, seed: opts.seed, batchSize, validationFraction, samples: n,
        step: epoch * stepsPerEpoch,
      });
    }
    await opts.onEpoch?.(record);
  }
  setDropoutStep(model, opts.epochs * stepsPerEpoch);
  return { history, resumedFromEpoch, trainIndices, validationIndices };
}

/** Copies images `indices` into a new contiguous byte array. */
function gatherImages(images: Uint8Array, indices: Uint32Array): Uint8Array {
  const size = HAIRPIN_IMAGE_SIZE;
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) out.set(images.subarray(indices[k]! * size, (indices[k]! + 1) * size), k * size);
  return out;
}
