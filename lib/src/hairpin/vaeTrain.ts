import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { readMaybeGzip, writeFileAtomic } from "../io/files";
import { loadWeightsInto, saveTfjsModel } from "../io/tfjsModel";
import { describeBackend } from "../ops/backend";
import { createOptimizer, OptimizerSpec } from "../ops/nn";
import { derivedSeed } from "../random";
import { shuffledEpoch, splitTrainValidation } from "../training/batches";
import { EpochRecord } from "../training/checkpoint";
import { trainModel } from "../training/loop";
import { ArDecoderInfo, ArRefineRound, disposeArDecoder, hasArDecoder, loadArDecoder, trainArDecoder, TrainArDecoderOptions } from "./arDecoder";
import { refineArDecoder } from "./arRefine";
import { DEFAULT_GENERATION } from "./generate";
import type { FoldOptions } from "./rnafold";
import { encodePosteriors, type SanityRules } from "./generateEval";
import { PROFILE_NAMES, PROFILE_SIZE, VaeDataset } from "./vaeData";
import { buildCvae, checkCvaeConfig, Cvae, CvaeBatch, CvaeConfig, cvaeLoss, CvaeLossTerms, CvaeLossWeights, DEFAULT_CVAE_CONFIG, disposeCvae, globalLatents, latentSize } from "./vaeModel";
import { tokensToOneHot, TOKEN_COLUMNS } from "./vaeTokens";

/**
 * Training the conditional VAE through the shared loop (lib/src/training/): the task supplies
 * its own optimizer step (reconstruction + β·KL + auxiliary terms, vaeModel.ts) through
 * `TrainingTask.trainStep`; the container model is compiled only so that its optimizer is the
 * one the loop checkpoints. Batches are shuffled per epoch from the seed, the
 * reparameterisation noise of step t is drawn from derivedSeed(seed, t), β rises linearly
 * over the warm-up steps and the learning rate falls along a half cosine over the second half
 * of the epochs (both functions of the step) — so a resumed run ends in the same weights as an
 * uninterrupted one.
 * A trained model is saved as a folder ({@link saveCvae}): the weights, `cvae.json` (sizes,
 * profile normalisation, training options and history) and `training.tsv.gz` (the training
 * hairpins: for novelty and for drawing profiles).
 */

/** Options of {@link trainCvae}. */
export interface TrainCvaeOptions {
  /** Epochs to reach in total (a resumed run continues up to this number). */
  epochs: number;
  /** Images per step. Default 64. */
  batchSize?: number;
  /**
   * Adam learning rate. Default 8e-4 (the design the CVAE follows, vaeModel.ts: 5e-4 with batch 32;
   * we use batch 64 for speed on 2 cores).
   */
  learningRate?: number;
  /** β of each KL term after warm-up. Default 0.1 (as the design the CVAE follows, vaeModel.ts). */
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

/** Normalisation of the profile: (value − mean) / sd per entry. */
export interface ProfileScaling {
  mean: number[];
  sd: number[];
}

/** What `cvae.json` holds. */
export interface CvaeModelInfo {
  format: typeof CVAE_FORMAT;
  config: CvaeConfig;
  profileNames: string[];
  profileScaling: ProfileScaling;
  training: {
    seed: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    decayFrom: number;
    beta: number;
    warmupEpochs: number;
    classWeight: number;
    profileWeight: number;
    validationFraction: number;
    samples: number;
    positives: number;
    steps: number;
    backend: string;
    /** Seconds of training in this process (a resumed run counts only its own epochs). */
    seconds: number;
    /** Mean seconds per epoch over the history (all runs). */
    secondsPerEpoch: number;
    /** Optimizer steps per second, from the history. */
    stepsPerSecond: number;
  };
  history: EpochRecord[];
  /**
   * The hairpin sanity rules generated samples are checked against, with the MFE-per-nt range
   * from real held-out pre-miRNAs (set by whoever trains and evaluates: the experiment or
   * `hairpin train-vae`); null when not set.
   */
  sanity: { rules: SanityRules; source: string } | null;
}

export const CVAE_FORMAT = "mirna-dl hairpin cvae 1";

/** The profile scaling of a dataset: per entry its mean and sd (sd 1 when constant). */
export function profileScaling(d: Pick<VaeDataset, "n" | "profiles">): ProfileScaling {
  const mean = new Array<number>(PROFILE_SIZE).fill(0);
  const sd = new Array<number>(PROFILE_SIZE).fill(0);
  for (let i = 0; i < d.n; i++) for (let k = 0; k < PROFILE_SIZE; k++) mean[k] = mean[k]! + d.profiles[i * PROFILE_SIZE + k]! / d.n;
  for (let i = 0; i < d.n; i++) for (let k = 0; k < PROFILE_SIZE; k++) sd[k] = sd[k]! + (d.profiles[i * PROFILE_SIZE + k]! - mean[k]!) ** 2 / d.n;
  return { mean, sd: sd.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/** Profiles shape=(n, 3) scaled: (value − mean) / sd. */
export function scaleProfiles(profiles: ArrayLike<number>, scaling: ProfileScaling): Float32Array {
  const out = new Float32Array(profiles.length);
  for (let i = 0; i < profiles.length; i++) out[i] = (profiles[i]! - scaling.mean[i % PROFILE_SIZE]!) / scaling.sd[i % PROFILE_SIZE]!;
  return out;
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

// ---------------------------------------------------------------------------------------------
// model folders

/** The training hairpins saved with a model (novelty, profile draws). */
export interface CvaeTrainingSet {
  sequences: string[];
  labels: Uint8Array;
  /** shape=(n, 3) raw profiles. */
  profiles: Float32Array;
}

/**
 * Saves a trained CVAE into `dir`: `model/` (all weights, tfjs layers format), `cvae.json`
 * ({@link CvaeModelInfo}) and `training.tsv.gz` (sequence, label, stem, loop, gc of every
 * training hairpin). Files are written atomically.
 */
export async function saveCvae(dir: string, cvae: Cvae, info: CvaeModelInfo, training: CvaeTrainingSet): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await saveTfjsModel(cvae.container, path.join(dir, "model"));
  writeFileAtomic(path.join(dir, "cvae.json"), JSON.stringify(info, null, 1));
  const lines = ["sequence\tlabel\tstem\tloop\tgc"];
  for (let i = 0; i < training.sequences.length; i++) {
    const p = training.profiles;
    lines.push(`${training.sequences[i]}\t${training.labels[i]}\t${p[i * 3]}\t${p[i * 3 + 1]}\t${p[i * 3 + 2]!.toFixed(6)}`);
  }
  writeFileAtomic(path.join(dir, "training.tsv.gz"), lines.join("\n") + "\n"); // gzipped by its name
}

/** A CVAE read back by {@link loadCvae}. */
export interface LoadedCvae {
  /** With `cvae.arDecoder` set when the folder holds one. */
  cvae: Cvae;
  info: CvaeModelInfo;
  training: CvaeTrainingSet;
  /** The AR decoder's record, or null when the folder has none. */
  arDecoderInfo: ArDecoderInfo | null;
}

/**
 * Reads a model folder written by {@link saveCvae}. Errors name the file: a missing or
 * unreadable `cvae.json`, another format, weights that do not fit the sizes it declares, a
 * malformed `training.tsv.gz` row.
 */
export async function loadCvae(dir: string): Promise<LoadedCvae> {
  const infoFile = path.join(dir, "cvae.json");
  if (!fs.existsSync(dir)) throw new InputError("model folder not found", { file: dir });
  if (!fs.existsSync(infoFile)) throw new InputError("not a CVAE model folder: no cvae.json (train one with 'mirna-dl hairpin train-vae')", { file: dir });
  let info: CvaeModelInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile, "utf8")) as CvaeModelInfo;
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: infoFile });
  }
  if (typeof info !== "object" || info === null) throw new InputError("not a CVAE description (expected a JSON object)", { file: infoFile });
  if (info.format !== CVAE_FORMAT) throw new InputError(`format '${String(info.format)}' is not '${CVAE_FORMAT}'`, { file: infoFile });
  checkCvaeConfig(info.config, { file: infoFile }, "config."); // before any layer is built from it
  const training = readTrainingSet(path.join(dir, "training.tsv.gz"));
  const cvae = buildCvae(info.config);
  try {
    await loadWeightsInto(path.join(dir, "model"), cvae.container, "the saved weights do not fit the sizes in cvae.json");
  } catch (e) {
    disposeCvae(cvae);
    throw e;
  }
  let arDecoderInfo: ArDecoderInfo | null = null;
  if (hasArDecoder(dir)) {
    try {
      const loaded = await loadArDecoder(dir);
      cvae.arDecoder = loaded.decoder;
      arDecoderInfo = loaded.info;
    } catch (e) {
      disposeCvae(cvae);
      throw e;
    }
  }
  return { cvae, info, training, arDecoderInfo };
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

function readTrainingSet(file: string): CvaeTrainingSet {
  if (!fs.existsSync(file)) throw new InputError("file not found", { file });
  const lines = readMaybeGzip(file).toString("utf8").split("\n").filter((l) => l.length > 0);
  if (lines[0] !== "sequence\tlabel\tstem\tloop\tgc") throw new InputError(`unexpected header '${lines[0]}'`, { file, row: 0 });
  const n = lines.length - 1;
  const sequences: string[] = [];
  const labels = new Uint8Array(n);
  const profiles = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) {
    const f = lines[r + 1]!.split("\t");
    const values = f.slice(1).map(Number);
    if (f.length !== 5 || !/^[ACGU]+$/.test(f[0]!) || values.some((v) => !Number.isFinite(v)) || (values[0] !== 0 && values[0] !== 1)) {
      throw new InputError("expected sequence (A, C, G, U), label 0/1 and three numbers", { file, row: r + 1 });
    }
    sequences.push(f[0]!);
    labels[r] = values[0]!;
    profiles.set(values.slice(1), r * 3);
  }
  return { sequences, labels, profiles };
}
