import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { compileModel, CompileSpec } from "../ops/nn";
import { shuffledEpoch, splitTrainValidation } from "../training/batches";
import { trainModel } from "../training/loop";
import { DEEPMIR_TRAINING, imageCount, imagesToTensor, predictHairpinImages } from "./classifier";
import { HAIRPIN_IMAGE_SIZE } from "./image";

/**
 * Training the deepMir classifier through the shared loop (lib/src/training/): seeded
 * shuffling, batches converted to float32 one at a time, per-epoch history, a checkpoint after
 * every epoch and resume from it that ends in the same weights as an uninterrupted run.
 */

/** Training data: images Uint8Array, shape=(n, 25, 100, 3), bytes 0–255; labels shape=(n,) (1 = pre-miRNA). */
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
  valLoss: number | null;
  valAccuracy: number | null;
  /** Wall-clock seconds of the epoch (training + validation, without the checkpoint). */
  seconds: number;
  /** Optimizer steps in the epoch. */
  steps: number;
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
   * Folder for checkpoints (lib/src/training/checkpoint.ts). When it holds one, training
   * resumes from it.
   */
  checkpointDir?: string;
  /** How to compile the model when it is not compiled yet. Default {@link DEEPMIR_TRAINING}. */
  compile?: CompileSpec;
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


/**
 * Trains `model` (from {@link buildDeepMirClassifier}) on `train` for `opts.epochs` epochs:
 * a seeded validation split, then per epoch a seeded shuffle of the training rows, batches of
 * `batchSize` (the last one smaller) converted to float32 [0, 1] one batch at a time,
 * `trainOnBatch` with one-hot labels, dropout masks keyed by the global step. History records
 * loss, accuracy, valLoss, valAccuracy per epoch. With `checkpointDir`, writes a checkpoint
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
  if (!model.optimizer) compileModel(model, opts.compile ?? DEEPMIR_TRAINING);

  const labelsOneHot = (indices: Uint32Array): tf.Tensor2D => {
    const y = new Float32Array(indices.length * 2);
    for (let k = 0; k < indices.length; k++) y[2 * k + train.labels[indices[k]!]!] = 1;
    return tf.tensor2d(y, [indices.length, 2]);
  };
  const validationImages = validationIndices.length ? gatherImages(train.images, validationIndices) : null;
  const result = await trainModel(model, {
    name: "hairpin-classifier",
    epoch: (epoch) => shuffledEpoch(trainIndices, batchSize, opts.seed, epoch, (rows) => ({ x: imagesToTensor(train.images, rows), y: labelsOneHot(rows) })),
    validate: () => {
      if (!validationImages) return { valLoss: null, valAccuracy: null };
      const v = lossAndAccuracy(predictHairpinImages(model, validationImages, Math.max(batchSize, 256)), train.labels, validationIndices);
      return { valLoss: v.loss, valAccuracy: v.accuracy };
    },
  }, {
    epochs: opts.epochs,
    checkpointDir: opts.checkpointDir,
    key: { seed: opts.seed, batchSize, validationFraction, samples: n },
    onEpoch: opts.onEpoch ? (record) => opts.onEpoch!(record as unknown as HairpinEpochRecord) : undefined,
  });
  return { history: result.history as unknown as HairpinEpochRecord[], resumedFromEpoch: result.resumedFromEpoch, trainIndices, validationIndices };
}

/** Copies images `indices` into a new contiguous byte array. */
function gatherImages(images: Uint8Array, indices: Uint32Array): Uint8Array {
  const size = HAIRPIN_IMAGE_SIZE;
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) out.set(images.subarray(indices[k]! * size, (indices[k]! + 1) * size), k * size);
  return out;
}
