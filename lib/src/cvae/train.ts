import * as tf from "@tensorflow/tfjs";
import * as path from "node:path";
import { InputError } from "../errors";
import { describeBackend } from "../ops/backend";
import { createOptimizer, OptimizerSpec } from "../ops/nn";
import { derivedSeed } from "../random";
import { shuffledEpoch, splitTrainValidation } from "../training/batches";
import { EpochRecord } from "../training/checkpoint";
import { trainModel } from "../training/loop";
import type { FoldOptions } from "../hairpin/rnafold";
import { ArDecoderInfo, ArRefineRound, disposeArDecoder, saveArDecoder, trainArDecoder, TrainArDecoderOptions } from "./arDecoder";
import { refineArDecoder } from "./arRefine";
import { PROFILE_NAMES, PROFILE_SIZE, VaeDataset } from "./data";
import { encodePosteriors, reconstructionMetrics, ReconstructionMetrics } from "./evaluate";
import { DEFAULT_GENERATION } from "./generate";
import { buildCvae, Cvae, CvaeBatch, CvaeConfig, cvaeLoss, CvaeLossTerms, CvaeLossWeights, DEFAULT_CVAE_CONFIG, disposeCvae, globalLatents, latentSize } from "./model";
import type { SanityRules } from "./sanity";
import { CVAE_FORMAT, CvaeModelInfo, CvaeTrainingSet, profileScaling, ProfileScaling, saveCvae, scaleProfiles } from "./saved";
import { tokensToOneHot, TOKEN_COLUMNS } from "./tokens";

/**
 * Training the conditional VAE through the shared loop (lib/src/training/): the task supplies
 * its own optimizer step (reconstruction + β·KL + auxiliary terms, model.ts) through
 * `TrainingTask.trainStep`; the container model is compiled only so that its optimizer is the
 * one the loop checkpoints. Batches are shuffled per epoch from the seed, the
 * reparameterisation noise of step t is drawn from derivedSeed(seed, t), β rises linearly
 * over the warm-up steps and the learning rate falls along a half cosine over the second half
 * of the epochs (both functions of the step) — so a resumed run ends in the same weights as an
 * uninterrupted one.
 * A trained model is saved as a folder ({@link saveCvae}, saved.ts). {@link trainCvaeSeed} is one
 * seed's whole training, as `hairpin train-vae` and the experiment (experiment.ts) run it: the
 * CVAE, its model folder, the AR decoder beside it, the held-out reconstruction.
 */

/** Options of {@link trainCvae}. */
export interface TrainCvaeOptions {
  /** Epochs to reach in total (a resumed run continues up to this number). */
  epochs: number;
  /** Images per step. Default 64. */
  batchSize?: number;
  /**
   * Adam learning rate. Default 8e-4 (the design the CVAE follows, model.ts: 5e-4 with batch 32;
   * we use batch 64 for speed on 2 cores).
   */
  learningRate?: number;
  /** β of each KL term after warm-up. Default 0.1 (as the design the CVAE follows, model.ts). */
  beta?: number;
  /**
   * Fraction of the epochs trained at the full learning rate; over the rest it falls along a
   * half cosine to 5% (per step; a schedule of `epochs`). Default 0.5; 1 = constant.
   */
  decayFrom?: number;
  /** Epochs over which β rises linearly from 0 (per step). Default 5. */
  warmupEpochs?: number;
  /** Weight of the auxiliary class cross-entropy. Default 1. */
  classWeight?: number;
  /** Weight of the auxiliary profile error. Default 1. */
  profileWeight?: number;
  /** Fraction of the training rows held out for validation curves (seeded; nothing is selected on it). Default 0.05. */
  validationFraction?: number;
  /** Seed of the weights, the validation split, every epoch's shuffle and every step's noise. */
  seed: number;
  /** Model sizes (default {@link DEFAULT_CVAE_CONFIG}); its seed is replaced by `seed`. */
  config?: Omit<CvaeConfig, "seed">;
  /** Checkpoint folder; training resumes from it. */
  checkpointDir?: string;
  /** Called after every epoch (after its checkpoint). */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Called after every step. */
  onStep?: (epoch: number, done: number, total: number | undefined) => void;
}

/** The tensors of rows `rows` of `d`: one-hot images, tokens, class one-hot, scaled profiles. */
export function cvaeBatch(d: VaeDataset, rows: ArrayLike<number>, scaling: ProfileScaling): CvaeBatch {
  const n = rows.length;
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  const profiles = new Float32Array(n * PROFILE_SIZE);
  const classes = new Float32Array(n * 2);
  for (let k = 0; k < n; k++) {
    const i = rows[k]!;
    tokens.set(d.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS);
    profiles.set(d.profiles.subarray(i * PROFILE_SIZE, (i + 1) * PROFILE_SIZE), k * PROFILE_SIZE);
    classes[2 * k + d.labels[i]!] = 1;
  }
  return {
    images: tf.tensor4d(tokensToOneHot(tokens, n), [n, 25, 100, 5]),
    tokens: tf.tensor2d(Int32Array.from(tokens), [n, TOKEN_COLUMNS], "int32"),
    classOneHot: tf.tensor2d(classes, [n, 2]),
    profile: tf.tensor2d(scaleProfiles(profiles, scaling), [n, PROFILE_SIZE]),
  };
}

/** β at global step `step`: linear from 0 to `beta` over `warmupSteps` steps, then constant. */
export function betaAt(step: number, beta: number, warmupSteps: number): number {
  return warmupSteps <= 0 ? beta : beta * Math.min(1, step / warmupSteps);
}

/**
 * Learning rate at global step `step` of `totalSteps`: `base` up to `decayFrom` · totalSteps,
 * then a half cosine down to 5% of `base` at the last step.
 */
export function learningRateAt(step: number, base: number, totalSteps: number, decayFrom: number): number {
  const start = Math.floor(decayFrom * totalSteps);
  if (decayFrom >= 1 || step < start || totalSteps <= start) return base;
  const t = Math.min(1, (step - start) / (totalSteps - start));
  return base * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** Result of {@link trainCvae}. */
export interface TrainCvaeResult {
  cvae: Cvae;
  info: CvaeModelInfo;
  resumedFromEpoch: number;
  trainRows: Uint32Array;
  validationRows: Uint32Array;
}

const LOSS_KEYS: (keyof CvaeLossTerms)[] = ["total", "reconstruction", "klClass", "klStructure", "klResidual", "auxClass", "auxProfile", "tokenAccuracy"];

/**
 * Builds and trains a CVAE on `data` (see the module comment). History per epoch: the loss
 * terms averaged over the epoch (`total`, `reconstruction`, `klClass`, `klStructure`,
 * `klResidual`, `auxClass`, `auxProfile`, `tokenAccuracy`), `beta` at the epoch's end, and the
 * same terms on the validation rows with the posterior mean (`val…`).
 */
export async function trainCvae(data: VaeDataset, opts: TrainCvaeOptions): Promise<TrainCvaeResult> {
  const batchSize = opts.batchSize ?? 64;
  const learningRate = opts.learningRate ?? 8e-4;
  const beta = opts.beta ?? 0.1;
  const warmupEpochs = opts.warmupEpochs ?? 5;
  const decayFrom = opts.decayFrom ?? 0.5;
  const classWeight = opts.classWeight ?? 1;
  const profileWeight = opts.profileWeight ?? 1;
  const validationFraction = opts.validationFraction ?? 0.05;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new InputError(`epochs must be a non-negative integer, got ${opts.epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!(beta >= 0) || !(warmupEpochs >= 0)) throw new InputError(`beta and warmupEpochs must be non-negative, got ${beta}, ${warmupEpochs}`);
  if (!(decayFrom >= 0 && decayFrom <= 1)) throw new InputError(`decayFrom must be in 0–1, got ${decayFrom}`);
  if (data.n < 2) throw new InputError(`the VAE needs training images, got ${data.n}`);
  const { train: trainRows, validation: validationRows } = splitTrainValidation(data.n, validationFraction, opts.seed);
  const scaling = profileScaling(data);
  const config: CvaeConfig = { ...(opts.config ?? DEFAULT_CVAE_CONFIG), seed: opts.seed };
  const cvae = buildCvae(config);
  const optimizerSpec: OptimizerSpec = { name: "adam", learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  // Compiled only so that the container carries the optimizer the loop checkpoints; the loss here is never used.
  cvae.container.compile({ optimizer: createOptimizer(optimizerSpec), loss: "meanSquaredError" });
  const stepsPerEpoch = Math.ceil(trainRows.length / batchSize);
  const warmupSteps = Math.round(warmupEpochs * stepsPerEpoch);
  const variables = cvae.container.trainableWeights.map((w) => w.read() as tf.Variable);
  const D = latentSize(config);
  let lastBeta = 0;
  const started = performance.now();

  const validate = (): Record<string, number | null> => {
    if (validationRows.length === 0) return {};
    const sums = new Map<string, number>();
    for (let start = 0; start < validationRows.length; start += 256) {
      const rows = validationRows.subarray(start, Math.min(start + 256, validationRows.length));
      const batch = cvaeBatch(data, rows, scaling);
      const values = tf.tidy(() => {
        const terms = cvaeLoss(cvae, batch, tf.zeros([rows.length, D]) as tf.Tensor2D, { beta: lastBeta, classWeight, profileWeight }, false);
        return LOSS_KEYS.map((k) => terms[k].dataSync()[0]!);
      });
      tf.dispose(Object.values(batch));
      LOSS_KEYS.forEach((k, i) => sums.set(k, (sums.get(k) ?? 0) + values[i]! * rows.length));
    }
    return Object.fromEntries(LOSS_KEYS.map((k) => [`val${k[0]!.toUpperCase()}${k.slice(1)}`, sums.get(k)! / validationRows.length]));
  };

  let result;
  try {
    result = await trainModel(cvae.container, {
      name: "hairpin-cvae",
      epoch: (epoch) => shuffledEpoch(trainRows, batchSize, opts.seed, epoch, (rows) => {
        const b = cvaeBatch(data, rows, scaling);
        return { x: b.images, y: [b.tokens, b.classOneHot, b.profile] };
      }),
      trainStep: (batch, step) => {
        const [tokens, classOneHot, profile] = batch.y as tf.Tensor[];
        const images = batch.x as tf.Tensor4D;
        const weights: CvaeLossWeights = { beta: betaAt(step, beta, warmupSteps), classWeight, profileWeight };
        // tfjs' Adam reads its learning rate at every step (the native one too).
        (cvae.container.optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(step, learningRate, opts.epochs * stepsPerEpoch, decayFrom);
        lastBeta = betaAt(step + 1, beta, warmupSteps);
        const kept: tf.Scalar[] = [];
        const noise = tf.randomNormal([images.shape[0], D], 0, 1, "float32", derivedSeed(opts.seed, step)) as tf.Tensor2D;
        try {
          const cost = cvae.container.optimizer.minimize(() => {
            const terms = cvaeLoss(cvae, { images, tokens: tokens as tf.Tensor2D, classOneHot: classOneHot as tf.Tensor2D, profile: profile as tf.Tensor2D }, noise, weights, true);
            // Clones: the gradient tape frees the tensors its ops saved, which may be these scalars.
            for (const k of LOSS_KEYS) kept.push(tf.keep(terms[k].clone()));
            return terms.total;
          }, false, variables);
          cost?.dispose();
          const values = kept.map((t) => t.dataSync()[0]!);
          return Object.fromEntries(LOSS_KEYS.map((k, i) => [k, values[i]!]));
        } finally {
          tf.dispose(kept);
          noise.dispose();
        }
      },
      validate: () => ({ ...validate(), beta: lastBeta, learningRate: (cvae.container.optimizer as unknown as { learningRate: number }).learningRate }),
    }, {
      epochs: opts.epochs,
      checkpointDir: opts.checkpointDir,
      key: { seed: opts.seed, batchSize, learningRate, beta, warmupEpochs, decayFrom, classWeight, profileWeight, validationFraction, samples: data.n, config: { ...config, seed: undefined } },
      onEpoch: opts.onEpoch,
      onStep: opts.onStep,
    });
  } catch (e) {
    disposeCvae(cvae);
    throw e;
  }
  const history = result.history;
  const totalSeconds = history.reduce((a, h) => a + h.seconds, 0);
  const totalSteps = history.reduce((a, h) => a + (h.steps as number), 0);
  const info: CvaeModelInfo = {
    format: CVAE_FORMAT,
    config,
    profileNames: [...PROFILE_NAMES],
    profileScaling: scaling,
    training: {
      seed: opts.seed, epochs: opts.epochs, batchSize, learningRate, decayFrom, beta, warmupEpochs, classWeight, profileWeight, validationFraction,
      samples: data.n, positives: data.labels.reduce((a, b) => a + b, 0), steps: result.steps, backend: describeBackend(),
      seconds: (performance.now() - started) / 1000,
      secondsPerEpoch: history.length ? totalSeconds / history.length : NaN,
      stepsPerSecond: totalSeconds > 0 ? totalSteps / totalSeconds : NaN,
    },
    history,
    sanity: null,
  };
  return { cvae, info, resumedFromEpoch: result.resumedFromEpoch, trainRows, validationRows };
}

/** Refold-consistent fine-tuning after the AR decoder's training (arRefine.ts). */
export interface ArRefinementSettings {
  /** Rounds of draft → fold → fine-tune (0 = none). */
  rounds: number;
  /** Drafts per class and round. */
  samplesPerClass: number;
  /** Fine-tuning epochs per round. */
  epochs: number;
  /** Share of the (exactly refolding) real training hairpins per round. */
  realFraction: number;
}

/** What {@link trainCvaeArDecoder} does after the teacher-forced training by default. */
export const DEFAULT_AR_REFINEMENT: Readonly<ArRefinementSettings> = Object.freeze({ rounds: 2, samplesPerClass: 2000, epochs: 2, realFraction: 0.5 });

/**
 * Trains the autoregressive column decoder (arDecoder.ts) of a trained CVAE on the same
 * training hairpins: their global latents' posteriors from the CVAE's encoder, the checkpoint
 * keyed to this CVAE (its seed, steps and final loss), and their class as a known condition
 * (the class part of z_g carries the class only weakly, its posterior staying close to the
 * prior, so a decoder on z_g alone mixes the classes' shapes). Then, unless `refine` is false or
 * has 0 rounds, refold-consistent fine-tuning ({@link DEFAULT_AR_REFINEMENT}; arRefine.ts): its
 * drafts are drawn as generation draws them ({@link DEFAULT_GENERATION}, profiles of all training
 * hairpins), so `data` must then carry the profiles; its checkpoints go to
 * `<checkpointDir>-refine`. Sets `cvae.arDecoder` and returns the decoder's record (history: the
 * training's epochs, then each round's; `refinement`: the rounds) and the epoch it resumed from.
 */
export async function trainCvaeArDecoder(
  cvae: Cvae, info: Pick<CvaeModelInfo, "training" | "history" | "profileScaling">,
  data: Pick<VaeDataset, "n" | "tokens" | "labels"> & Partial<Pick<VaeDataset, "profiles" | "sequences">>,
  opts: Omit<TrainArDecoderOptions, "source" | "conditions"> & { refine?: ArRefinementSettings | false; fold?: FoldOptions; onRefineRound?: (round: ArRefineRound) => void },
): Promise<{ info: ArDecoderInfo; resumedFromEpoch: number }> {
  const posteriors = encodePosteriors(cvae, data.tokens, data.n);
  const mean = globalLatents(cvae.config, posteriors.mean), logVar = globalLatents(cvae.config, posteriors.logVar);
  const last = info.history[info.history.length - 1];
  const source = { cvaeSeed: info.training.seed, cvaeSteps: info.training.steps, cvaeFinalLoss: typeof last?.total === "number" ? Number(last.total.toFixed(6)) : null };
  const { refine: refineOption, fold, onRefineRound, ...arOptions } = opts;
  const refine = refineOption === undefined ? DEFAULT_AR_REFINEMENT : refineOption;
  if (refine && refine.rounds > 0 && !data.profiles) throw new InputError("refining the AR decoder draws profiles of the training hairpins: pass them with the data (or refine: false)");
  const trained = await trainArDecoder(data.tokens, { mean, logVar }, { ...arOptions, source, conditions: Float32Array.from(data.labels) });
  if (cvae.arDecoder) disposeArDecoder(cvae.arDecoder);
  cvae.arDecoder = trained.decoder;
  if (!refine || refine.rounds === 0) return { info: trained.info, resumedFromEpoch: trained.resumedFromEpoch };
  const g = DEFAULT_GENERATION.autoregressive;
  const model = { cvae, info, training: { labels: data.labels, profiles: data.profiles!, sequences: data.sequences ?? [] } };
  const refined = await refineArDecoder(model, trained.info, data, {
    seed: opts.seed, rounds: refine.rounds, samplesPerClass: refine.samplesPerClass, epochs: refine.epochs, realFraction: refine.realFraction,
    batchSize: opts.batchSize, sampling: { temperature: g.temperature, tokenTemperature: g.tokenTemperature, topP: g.topP, grammar: g.grammar, profilePool: "all" },
    checkpointDir: opts.checkpointDir ? `${opts.checkpointDir}-refine` : undefined, fold,
    onRound: onRefineRound, // Refinement epochs carry their round (refineRound), so a progress line can tell them from the training's.
    onEpoch: opts.onEpoch ? (round, r) => opts.onEpoch!({ ...(r as EpochRecord), refineRound: round }) : undefined,
  });
  return { info: refined.info, resumedFromEpoch: trained.resumedFromEpoch };
}

/** Options of {@link trainCvaeSeed}. */
export interface TrainCvaeSeedOptions {
  /** Seed of the CVAE and of its AR decoder. */
  seed: number;
  /** The CVAE's training besides its seed and checkpoints: epochs, sizes, batch size, learning rate, β, progress. */
  training: Omit<TrainCvaeOptions, "seed" | "checkpointDir">;
  /** Folder of the checkpoints: `checkpoint/`, `ar-checkpoint/` and `ar-checkpoint-refine/` in it. */
  checkpointRoot: string;
  /** The model folder ({@link saveCvae}; the AR decoder is saved beside, arDecoder.ts). */
  modelDir: string;
  /** The sanity rules stored with the model (`cvae.json`), and where their MFE window comes from. */
  sanity: { rules: SanityRules; source: string };
  /**
   * The AR decoder's training (see {@link trainCvaeArDecoder}; `refine` default
   * {@link DEFAULT_AR_REFINEMENT}), or null: none.
   */
  arDecoder: (Pick<TrainArDecoderOptions, "epochs" | "config" | "batchSize" | "learningRate"> & { refine?: ArRefinementSettings | false }) | null;
  /** Hairpins to measure the reconstruction on (evaluate.ts), or null: not measured. */
  heldOut: Pick<VaeDataset, "n" | "tokens"> | null;
  /** Called once a part is trained (before it is saved), with the epoch it resumed from. */
  onTrained?: (part: "cvae" | "arDecoder", resumedFromEpoch: number) => void;
  /** Every AR decoder epoch, training and refinement (these carry `refineRound`). */
  onArEpoch?: (record: EpochRecord) => void;
  onRefineRound?: (round: ArRefineRound) => void;
}

/** Result of {@link trainCvaeSeed}. The caller disposes `cvae`. */
export interface TrainedCvaeSeed {
  /** With `cvae.arDecoder` set when one was trained. */
  cvae: Cvae;
  /** As saved (`sanity` set). */
  info: CvaeModelInfo;
  /** The training hairpins saved with the model. */
  training: CvaeTrainingSet;
  resumedFromEpoch: number;
  /** The AR decoder's record and the epoch it resumed from (null: none trained). */
  arDecoder: { info: ArDecoderInfo; resumedFromEpoch: number } | null;
  /** On `heldOut` (null when not given). */
  reconstruction: ReconstructionMetrics | null;
}

/**
 * One seed's model, trained (or resumed) and saved: {@link trainCvae} on `train` (checkpoints in
 * `checkpointRoot/checkpoint`), `sanity` set in its record, the model folder written
 * ({@link saveCvae} into `modelDir`), then unless `arDecoder` is null its AR decoder
 * ({@link trainCvaeArDecoder}; checkpoints in `checkpointRoot/ar-checkpoint`, refinement in
 * `ar-checkpoint-refine`) saved beside it, and the reconstruction of `heldOut`. Both
 * `hairpin train-vae` (lib/src/cli/vae.ts) and the experiment (experiment.ts) train through it.
 * Disposes the model if a step fails.
 */
export async function trainCvaeSeed(train: VaeDataset, opts: TrainCvaeSeedOptions): Promise<TrainedCvaeSeed> {
  const trained = await trainCvae(train, { ...opts.training, seed: opts.seed, checkpointDir: path.join(opts.checkpointRoot, "checkpoint") });
  const { cvae, info } = trained;
  try {
    opts.onTrained?.("cvae", trained.resumedFromEpoch);
    info.sanity = opts.sanity;
    const training: CvaeTrainingSet = { sequences: train.sequences, labels: train.labels, profiles: train.profiles };
    await saveCvae(opts.modelDir, cvae, info, training);
    let arDecoder: TrainedCvaeSeed["arDecoder"] = null;
    if (opts.arDecoder) {
      const a = opts.arDecoder;
      arDecoder = await trainCvaeArDecoder(cvae, info, train, {
        seed: opts.seed, epochs: a.epochs, config: a.config, batchSize: a.batchSize, learningRate: a.learningRate,
        checkpointDir: path.join(opts.checkpointRoot, "ar-checkpoint"), refine: a.refine,
        onEpoch: opts.onArEpoch, onRefineRound: opts.onRefineRound,
      });
      opts.onTrained?.("arDecoder", arDecoder.resumedFromEpoch);
      await saveArDecoder(opts.modelDir, cvae.arDecoder!, arDecoder.info);
    }
    const reconstruction = opts.heldOut ? reconstructionMetrics(cvae, opts.heldOut) : null;
    return { cvae, info, training, resumedFromEpoch: trained.resumedFromEpoch, arDecoder, reconstruction };
  } catch (e) {
    disposeCvae(cvae);
    throw e;
  }
}
