import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { checkSize, InputError, InputLocation } from "../errors";
import { writeFileAtomic } from "../io/files";
import { loadWeightsInto, saveTfjsModel } from "../io/tfjsModel";
import { describeBackend } from "../ops/backend";
import { createOptimizer, MAX_LAYER_SIZE, OptimizerSpec } from "../ops/nn";
import { derivedSeed, mulberry32 } from "../random";
import { shuffledEpoch, splitTrainValidation } from "../training/batches";
import { EpochRecord } from "../training/checkpoint";
import { trainModel } from "../training/loop";
import { COLUMN_TOKENS, END_TOKEN, isPairedToken, TOKEN_COLUMNS } from "./tokens";

/**
 * An autoregressive column decoder for generation: p(tokens | z_g) = Π_x p(t_x | t_<x, z_g),
 * the columns from the terminal loop outwards, conditioned on the CVAE's global latent
 * z_g = [z_class | z_structure].
 *
 * Why: the CVAE's own decoder predicts every column independently given z; its residual part
 * (8 dimensions per block of 4 columns, ≈ 170 nats per hairpin) carries the local detail that
 * makes a drawing coherent (runs of pairs, where a bulge sits, which pair faces which), and no
 * prior we fitted to it — the CVAE's Gaussian autoregressive prior, or a mixture density fitted
 * afterwards — puts its samples where real hairpins' codes lie, so sampled drawings are
 * incoherent (the notebook measures this). The global parts are the opposite: their
 * posteriors stay within ≈ 1.5 nats of the learned conditional priors. So generation draws
 * z_g from the CVAE's priors p(z_c | class) p(z_s | profile) and lets this decoder write the
 * columns one by one, each given the columns before it — the local coherence is modelled
 * where it is observed, in the tokens.
 *
 * Model: z_g → dense → per-column features shape=(100, C) (a position-specific projection, so
 * the decoder knows where it is); joined with the one-hot tokens shifted by one column (column
 * x sees tokens < x) → `layers` causal convolutions (kernel k, zero padding on the loop side,
 * residual connections from the second on) → token logits shape=(100, 31). Trained by teacher
 * forcing (token cross-entropy) on z_g ~ q(z_g | x) of the training hairpins from the frozen
 * CVAE encoder, through the shared training loop (checkpoints, resume). Sampling runs the
 * convolutions on a window of the receptive field (1 + layers·(k − 1) columns) ending at the
 * column being drawn, which gives exactly the full model's output.
 */

/** Sizes of the autoregressive decoder. */
export interface ArDecoderConfig {
  /** Channels of the per-column projection of z_g. */
  columnChannels: number;
  /** Units of the dense layer before the projection. */
  hidden: number;
  /** Filters of every causal convolution. */
  filters: number;
  /** Number of causal convolutions and their kernel width. */
  layers: number;
  kernel: number;
  /**
   * Feed every column a summary of all the columns drawn before it ({@link tokenHistory}:
   * whether the loop is closed, pairs so far, loop size, arm asymmetry, nucleotides so far), so
   * the decoder knows the stem it has drawn beyond its receptive field. Default (absent) false:
   * decoders saved before this option read the tokens alone.
   */
  history?: boolean;
  /** Seed of the weight initialisers (layer k uses seed + k). */
  seed: number;
}

export const DEFAULT_AR_DECODER_CONFIG: Readonly<ArDecoderConfig> = Object.freeze({
  columnChannels: 32,
  hidden: 256,
  filters: 96,
  layers: 4,
  kernel: 5,
  // The history input: on the validation split (dev seed 101, 1,000 raw pre-miRNAs, same latents)
  // it raised refold-exact by 0.046 (paired bootstrap 95% CI 0.006–0.086) without the grammar.
  history: true,
  seed: 1,
});

/** Channels of {@link tokenHistory}. */
export const HISTORY_CHANNELS = 5;

/** The decoder's models (sharing the container's layers). */
export interface ArDecoder {
  config: ArDecoderConfig;
  /** Dimensions of z_g. */
  globalDims: number;
  /** Columns one output sees: 1 + layers · (kernel − 1). */
  receptiveField: number;
  /**
   * [z_g shape=(b, Dg), shifted one-hot tokens shape=(b, 100, 31)] (and, with `config.history`,
   * the history shape=(b, 100, 5)) → logits shape=(b, 100, 31). Saved, checkpointed.
   */
  container: tf.LayersModel;
  /** z_g → per-column features shape=(b, 100, C). */
  columnNet: tf.LayersModel;
  /** [features shape=(b, W, C), shifted one-hot tokens shape=(b, W, 31) (, history shape=(b, W, 5))] → logits shape=(b, W, 31), W = receptiveField. */
  windowNet: tf.LayersModel;
}

/**
 * Checks the decoder's sizes (as built, or as read from `ar-decoder.json`, naming it and the
 * field): whole numbers from 1 to {@link MAX_LAYER_SIZE} (the kernel at most 100 columns, the
 * layers at most 64).
 */
function checkArDecoderSizes(globalDims: unknown, config: unknown, where: InputLocation = { file: "autoregressive decoder" }, prefix = ""): void {
  if (typeof config !== "object" || config === null) throw new InputError(`${prefix || "config"} must be an object`, where);
  const c = config as Record<string, unknown>;
  checkSize(globalDims, "globalDims", where, MAX_LAYER_SIZE);
  for (const field of ["columnChannels", "hidden", "filters"]) checkSize(c[field], `${prefix}${field}`, where, MAX_LAYER_SIZE);
  checkSize(c.layers, `${prefix}layers`, where, 64);
  checkSize(c.kernel, `${prefix}kernel`, where, TOKEN_COLUMNS);
  if (!Number.isInteger(c.seed)) throw new InputError(`${prefix}seed must be a whole number, got ${String(c.seed)}`, where);
}

/** Builds the decoder for a global latent of `globalDims` dimensions (Glorot-uniform kernels seeded from `config.seed`). */
export function buildArDecoder(globalDims: number, config: ArDecoderConfig = DEFAULT_AR_DECODER_CONFIG): ArDecoder {
  checkArDecoderSizes(globalDims, config);
  let nextSeed = config.seed;
  const init = () => tf.initializers.glorotUniform({ seed: nextSeed++ });
  const C = config.columnChannels;
  const H = config.history ? HISTORY_CHANNELS : 0;
  const zg = tf.input({ shape: [globalDims], name: "z_global" });
  let g = tf.layers.dense({ name: "ar_hidden", units: config.hidden, activation: "relu", kernelInitializer: init() }).apply(zg) as tf.SymbolicTensor;
  g = tf.layers.dense({ name: "ar_columns_dense", units: TOKEN_COLUMNS * C, kernelInitializer: init() }).apply(g) as tf.SymbolicTensor;
  const columnFeatures = tf.layers.reshape({ name: "ar_columns", targetShape: [TOKEN_COLUMNS, C] }).apply(g) as tf.SymbolicTensor;

  const convs = Array.from({ length: config.layers }, (_, i) => tf.layers.conv2d({
    name: `ar_conv${i + 1}`, filters: config.filters, kernelSize: [config.kernel, 1], padding: "valid", activation: "relu", kernelInitializer: init(),
  }));
  const logitsLayer = tf.layers.conv2d({ name: "ar_logits", filters: COLUMN_TOKENS, kernelSize: 1, padding: "valid", kernelInitializer: init() });
  // The causal stack over `length` columns; weightless layers are made per application.
  const head = (inputs: tf.SymbolicTensor[], length: number, tag: string) => {
    let h = tf.layers.concatenate({ name: `ar_in_${tag}` }).apply(inputs) as tf.SymbolicTensor;
    h = tf.layers.reshape({ name: `ar_rows_${tag}`, targetShape: [length, 1, C + COLUMN_TOKENS + H] }).apply(h) as tf.SymbolicTensor;
    convs.forEach((conv, i) => {
      const padded = tf.layers.zeroPadding2d({ name: `ar_pad${i + 1}_${tag}`, padding: [[config.kernel - 1, 0], [0, 0]] }).apply(h) as tf.SymbolicTensor;
      const out = conv.apply(padded) as tf.SymbolicTensor;
      h = i === 0 ? out : (tf.layers.add({ name: `ar_residual${i + 1}_${tag}` }).apply([h, out]) as tf.SymbolicTensor);
    });
    return tf.layers.reshape({ name: `ar_logits_${tag}`, targetShape: [length, COLUMN_TOKENS] }).apply(logitsLayer.apply(h)) as tf.SymbolicTensor;
  };
  const shifted = tf.input({ shape: [TOKEN_COLUMNS, COLUMN_TOKENS], name: "shifted_tokens" });
  const history = H ? [tf.input({ shape: [TOKEN_COLUMNS, H], name: "token_history" })] : [];
  const logits = head([columnFeatures, shifted, ...history], TOKEN_COLUMNS, "full");
  const receptiveField = 1 + config.layers * (config.kernel - 1);
  if (receptiveField > TOKEN_COLUMNS) throw new InputError(`autoregressive decoder: ${config.layers} convolutions of width ${config.kernel} see ${receptiveField} columns, more than the ${TOKEN_COLUMNS} there are`);
  const windowFeatures = tf.input({ shape: [receptiveField, C], name: "window_features" });
  const windowShifted = tf.input({ shape: [receptiveField, COLUMN_TOKENS], name: "window_shifted_tokens" });
  const windowHistory = H ? [tf.input({ shape: [receptiveField, H], name: "window_token_history" })] : [];
  const windowLogits = head([windowFeatures, windowShifted, ...windowHistory], receptiveField, "window");
  return {
    config, globalDims, receptiveField,
    container: tf.model({ inputs: [zg, shifted, ...history], outputs: logits, name: "ar_decoder" }),
    columnNet: tf.model({ inputs: zg, outputs: columnFeatures, name: "ar_decoder_columns" }),
    windowNet: tf.model({ inputs: [windowFeatures, windowShifted, ...windowHistory], outputs: windowLogits, name: "ar_decoder_window" }),
  };
}

/** Frees the decoder's weights and optimizer (the convolutions are applied in two graphs, so both models release them). */
export function disposeArDecoder(d: ArDecoder): void {
  d.container.optimizer?.dispose();
  d.container.dispose();
  d.windowNet.dispose();
}

/** One-hot tokens shape=(b, 100, 31) shifted one column outwards (column x holds token x − 1; column 0 zeros). */
export function shiftedOneHot(tokens: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const b = tokens.shape[0];
    const oneHot = tf.oneHot(tokens.toInt(), COLUMN_TOKENS).toFloat() as tf.Tensor3D;
    return tf.concat([tf.zeros([b, 1, COLUMN_TOKENS]), oneHot.slice([0, 0, 0], [b, TOKEN_COLUMNS - 1, COLUMN_TOKENS])], 1) as tf.Tensor3D;
  });
}

/**
 * What the columns before each column drew, from the shifted one-hot tokens shape=(b, 100, 31)
 * ({@link shiftedOneHot}): per column x, over the tokens < x, shape=(b, 100, 5):
 *   0 the loop is closed (a pair was drawn), 0/1;
 *   1 stem pairs drawn / 16;
 *   2 loop columns (before the first pair) / 16;
 *   3 upper minus lower nucleotides (arm asymmetry; the loop adds the same to both) / 8;
 *   4 nucleotides of the sequence so far (both arms, each loop nucleotide once) / 64.
 * Powers of two as scales, so the values are exact in float32 (the sampler's windows and
 * training see the same numbers).
 */
export function tokenHistory(shifted: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const group = (from: number, to: number) => shifted.slice([0, 0, from], [-1, -1, to - from]).sum(2); // shape=(b, 100)
    const pairs = group(1, 7);
    const upperNt = group(1, 27);
    const lowerNt = tf.add(group(1, 23), group(27, 31));
    const drawn = group(1, 31); // 1 where column x − 1 holds a token other than end
    const pairsSoFar = pairs.cumsum(1);
    const closed = pairsSoFar.minimum(1);
    const loop = drawn.mul(tf.scalar(1).sub(closed)).cumsum(1);
    const upperSoFar = upperNt.cumsum(1), lowerSoFar = lowerNt.cumsum(1);
    const ntSoFar = upperSoFar.add(lowerSoFar).sub(loop);
    return tf.stack([closed, pairsSoFar.mul(1 / 16), loop.mul(1 / 16), upperSoFar.sub(lowerSoFar).mul(1 / 8), ntSoFar.mul(1 / 64)], 2) as tf.Tensor3D;
  });
}

/** The decoder's logits shape=(b, 100, 31) for z_g shape=(b, Dg) and tokens shape=(b, 100) (teacher forcing). */
export function arDecoderLogits(d: ArDecoder, zg: tf.Tensor2D, tokens: tf.Tensor2D, training = false): tf.Tensor3D {
  return tf.tidy(() => {
    const shifted = shiftedOneHot(tokens);
    return d.container.apply([zg, shifted, ...(d.config.history ? [tokenHistory(shifted)] : [])], { training }) as tf.Tensor3D;
  });
}

/** Token cross-entropy (nats per hairpin, summed over the 100 columns, mean over the batch) of tokens shape=(b, 100) given z_g shape=(b, Dg). */
export function arDecoderNll(d: ArDecoder, zg: tf.Tensor2D, tokens: tf.Tensor2D, training = false): tf.Scalar {
  return tf.tidy(() => {
    const logits = arDecoderLogits(d, zg, tokens, training);
    const target = tf.oneHot(tokens.toInt(), COLUMN_TOKENS);
    return tf.logSoftmax(logits).mul(target).sum([1, 2]).neg().mean() as tf.Scalar;
  });
}

/** Training epochs of the full-size decoder (about 12 s an epoch on 2 cores with the native backend). */
export const AR_DECODER_EPOCHS = 30;

/** Options of {@link trainArDecoder}. */
export interface TrainArDecoderOptions {
  seed: number;
  /** Default {@link AR_DECODER_EPOCHS}. */
  epochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Adam's learning rate; default 1e-3. */
  learningRate?: number;
  /** Rows kept for the validation NLL; default 0.05. */
  validationFraction?: number;
  config?: ArDecoderConfig;
  checkpointDir?: string;
  /** What the latents came from (e.g. the CVAE's seed and steps): part of the checkpoint key, so a checkpoint of another CVAE is refused. */
  source?: Record<string, unknown>;
  /**
   * Known conditions of each row, shape=(n, Dc) (e.g. the class, 1 = pre-miRNA), appended to
   * z_g without noise: the decoder's input is [z_g | conditions]. Default none.
   */
  conditions?: Float32Array;
  /**
   * Start from this decoder's weights (same sizes) instead of fresh ones: fine-tuning. Put what
   * identifies it into `source`, so a checkpoint of another start is refused.
   */
  init?: ArDecoder;
  onEpoch?: (record: EpochRecord) => void;
}

/** What {@link trainArDecoder} records (saved as `ar-decoder.json`). */
export interface ArDecoderInfo {
  config: ArDecoderConfig;
  /** Width of the decoder's input: z_g's dimensions plus {@link ArDecoderInfo.conditionDims}. */
  globalDims: number;
  /** Conditions appended to z_g (0 for decoders saved before there were any). */
  conditionDims?: number;
  training: { seed: number; epochs: number; batchSize: number; learningRate: number; validationFraction: number; samples: number; backend: string; seconds: number; source: Record<string, unknown> | null };
  /** Validation token NLL (nats per hairpin, z_g at the posterior means) after the last epoch. */
  validationNll: number | null;
  history: EpochRecord[];
  /** Rounds of refold-consistent fine-tuning this decoder went through (arRefine.ts); absent: none. */
  refinement?: ArRefineRound[];
}

/** One round of refold-consistent fine-tuning (arRefine.ts). */
export interface ArRefineRound {
  round: number;
  /** Drafts drawn and accepted per class (index = label). */
  drafts: [number, number];
  accepted: [number, number];
  /** Drafts that refolded exactly (before the realism guard), per class. */
  refoldExact: [number, number];
  /** Validation token NLL of the fine-tuned decoder on real hairpins (nats per hairpin). */
  validationNll: number | null;
  seconds: number;
}

/**
 * Trains the decoder on token rows shape=(n, 100) and the posteriors of their global latents
 * (means and log-variances shape=(n, Dg)): each step draws z_g ~ N(mean, exp(logVar)) for its
 * batch (noise seeded by derivedSeed(seed, step)), appends the row's known `conditions`, and
 * minimises the token cross-entropy.
 */
export async function trainArDecoder(
  tokens: Uint8Array,
  posteriors: { mean: Float32Array; logVar: Float32Array },
  opts: TrainArDecoderOptions,
): Promise<{ decoder: ArDecoder; info: ArDecoderInfo; resumedFromEpoch: number }> {
  const epochs = opts.epochs ?? AR_DECODER_EPOCHS;
  const batchSize = opts.batchSize ?? 64;
  const learningRate = opts.learningRate ?? 1e-3;
  const validationFraction = opts.validationFraction ?? 0.05;
  const n = tokens.length / TOKEN_COLUMNS;
  if (!Number.isInteger(n) || n < 2) throw new InputError(`the autoregressive decoder needs at least 2 hairpins, got ${tokens.length / TOKEN_COLUMNS}`);
  const Dg = posteriors.mean.length / n;
  if (!Number.isInteger(Dg) || Dg < 1 || posteriors.logVar.length !== posteriors.mean.length) throw new InputError(`posteriors of ${posteriors.mean.length} values do not fit ${n} hairpins`);
  if (!Number.isInteger(epochs) || epochs < 0) throw new InputError(`epochs must be a non-negative integer, got ${epochs}`);
  const conditions = opts.conditions ?? new Float32Array(0);
  const Dc = conditions.length / n;
  if (!Number.isInteger(Dc)) throw new InputError(`${conditions.length} condition values do not fit ${n} hairpins`);
  const config = { ...(opts.config ?? DEFAULT_AR_DECODER_CONFIG), seed: opts.seed };
  const decoder = buildArDecoder(Dg + Dc, config);
  if (opts.init) {
    const from = opts.init.container.getWeights();
    const to = decoder.container.getWeights();
    if (opts.init.globalDims !== Dg + Dc || from.length !== to.length || from.some((w, k) => w.shape.join() !== to[k]!.shape.join())) {
      disposeArDecoder(decoder);
      throw new InputError("autoregressive decoder: the decoder to start from has other sizes than the one to train");
    }
    decoder.container.setWeights(from);
  }
  const optimizerSpec: OptimizerSpec = { name: "adam", learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  decoder.container.compile({ optimizer: createOptimizer(optimizerSpec), loss: "meanSquaredError" });
  const variables = decoder.container.trainableWeights.map((w) => w.read() as tf.Variable);
  const { train, validation } = splitTrainValidation(n, validationFraction, opts.seed);
  const gather = (rows: ArrayLike<number>, source: Float32Array, width: number) => {
    const out = new Float32Array(rows.length * width);
    for (let k = 0; k < rows.length; k++) out.set(source.subarray(rows[k]! * width, (rows[k]! + 1) * width), k * width);
    return tf.tensor2d(out, [rows.length, width]);
  };
  const tokenRows = (rows: ArrayLike<number>) => {
    const out = new Int32Array(rows.length * TOKEN_COLUMNS);
    for (let k = 0; k < rows.length; k++) out.set(tokens.subarray(rows[k]! * TOKEN_COLUMNS, (rows[k]! + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS);
    return tf.tensor2d(out, [rows.length, TOKEN_COLUMNS], "int32");
  };
  const withConditions = (zg: tf.Tensor2D, rows: ArrayLike<number>): tf.Tensor2D => (Dc === 0 ? zg : tf.concat([zg, gather(rows, conditions, Dc)], 1));
  const validate = (): Record<string, number | null> => {
    if (validation.length === 0) return {};
    let sum = 0;
    for (let s = 0; s < validation.length; s += 256) {
      const rows = validation.subarray(s, Math.min(s + 256, validation.length));
      sum += tf.tidy(() => arDecoderNll(decoder, withConditions(gather(rows, posteriors.mean, Dg), rows), tokenRows(rows)).dataSync()[0]!) * rows.length;
    }
    return { valNll: sum / validation.length };
  };
  const started = performance.now();
  let result;
  try {
    result = await trainModel(decoder.container, {
      name: "ar-decoder",
      epoch: (epoch) => shuffledEpoch(train, batchSize, opts.seed, epoch, (rows) => ({
        x: tokenRows(rows), y: [gather(rows, posteriors.mean, Dg), gather(rows, posteriors.logVar, Dg), ...(Dc ? [gather(rows, conditions, Dc)] : [])],
      })),
      trainStep: (batch, step) => {
        const [mean, logVar, known] = batch.y as tf.Tensor2D[];
        const noise = tf.randomNormal(mean!.shape, 0, 1, "float32", derivedSeed(opts.seed, step)) as tf.Tensor2D;
        try {
          const cost = decoder.container.optimizer.minimize(() => {
            const zg = tf.tidy(() => {
              const z = mean!.add(logVar!.mul(0.5).exp().mul(noise));
              return known ? tf.concat([z, known], 1) : z;
            }) as tf.Tensor2D;
            return arDecoderNll(decoder, zg, batch.x as tf.Tensor2D, true);
          }, true, variables);
          const nll = cost!.dataSync()[0]!;
          cost!.dispose();
          return { nll };
        } finally {
          noise.dispose();
        }
      },
      validate,
    }, {
      epochs,
      checkpointDir: opts.checkpointDir,
      key: { seed: opts.seed, batchSize, learningRate, validationFraction, samples: n, globalDims: Dg, ...(Dc ? { conditionDims: Dc } : {}), config: { ...config, seed: undefined }, source: opts.source ?? null },
      onEpoch: opts.onEpoch,
    });
  } catch (e) {
    disposeArDecoder(decoder);
    throw e;
  }
  const last = result.history[result.history.length - 1];
  return {
    decoder,
    resumedFromEpoch: result.resumedFromEpoch,
    info: {
      config, globalDims: Dg + Dc, conditionDims: Dc,
      training: { seed: opts.seed, epochs, batchSize, learningRate, validationFraction, samples: n, backend: describeBackend(), seconds: (performance.now() - started) / 1000, source: opts.source ?? null },
      validationNll: typeof last?.valNll === "number" ? last.valNll : null,
      history: result.history,
    },
  };
}

/**
 * Makes a sampled token row an exact encoder drawing: in an encoder drawing the terminal loop's
 * nucleotides appear on both halves, mirrored (column x's lower nucleotide is column
 * L − 1 − x's upper one, L = loop columns before the first pair); the upper halves are kept and
 * the lower halves set to match. Modifies and returns `tokens` (one row of 100).
 */
export function mirrorLoop(tokens: Uint8Array): Uint8Array {
  let loop = 0;
  while (loop < TOKEN_COLUMNS && tokens[loop] !== END_TOKEN && !isPairedToken(tokens[loop]!)) loop++;
  if (loop === TOKEN_COLUMNS || tokens[loop] === END_TOKEN) return tokens; // no pair: not a hairpin; left as drawn
  const upper = (t: number) => (t >= 7 && t <= 22 ? Math.floor((t - 7) / 4) : t >= 23 && t <= 26 ? t - 23 : 0);
  const uppers = Array.from({ length: loop }, (_, x) => upper(tokens[x]!));
  for (let x = 0; x < loop; x++) tokens[x] = 7 + 4 * uppers[x]! + uppers[loop - 1 - x]!;
  return tokens;
}

/**
 * Nucleus of a draw: keeps the largest `weights[from…]` until they sum to ≥ `mass` (ties by
 * index), zeroes the rest, and returns the kept sum.
 */
export function keepNucleus(weights: Float64Array, from: number, mass: number): number {
  const order = Array.from({ length: weights.length - from }, (_, j) => j + from).sort((a, b) => weights[b]! - weights[a]! || a - b);
  let kept = 0;
  let j = 0;
  for (; j < order.length && (j === 0 || kept < mass); j++) kept += weights[order[j]!]!;
  for (; j < order.length; j++) weights[order[j]!] = 0;
  return kept;
}

/**
 * Structure grammar of a drawing, applied while sampling: tokens a drawing of an RNAfold
 * structure cannot show are masked before the draw (still one draw per column, renormalised over
 * the tokens left). Always, when a grammar is used:
 *   - the terminal loop (columns before the first pair) holds two unpaired nucleotides per
 *     column, no column facing a gap and no end; its lower halves are mirrored from the upper
 *     ones as soon as the closing pair is drawn (so later columns see the loop as training did);
 *   - the loop has at least `minLoop` columns (RNAfold's smallest hairpin loop is 3 nt);
 *   - an unpaired run after a pair is aligned as the encoder aligns folds: columns facing a gap
 *     first, all on one side, then two-nucleotide columns, then the next pair or the end.
 * With `mismatch` "wc" (or "wc+gu"), a two-nucleotide column next to a pair may not be a
 * Watson–Crick (or G–U) pair — RNAfold would pair it and extend the stem: after a pair such
 * columns are masked, after such a column a pair is masked, and the loop may not close on a
 * complementary mismatch when the loop would keep ≥ `minLoop` without it. In the training
 * pre-miRNAs these columns next to a pair are (almost) never complementary.
 */
export interface DrawingGrammar {
  minLoop: number;
  mismatch: "none" | "wc" | "wc+gu";
  /**
   * RNAfold's place for a one-nucleotide bulge that could slide: a bulge nucleotide that is the
   * same as the same-arm nucleotide of the pair on its loop side has an equal-energy twin one
   * column towards the loop, and RNAfold draws that one (never this: none of the training
   * drawings has it) — so then the pair that would close such a bulge is masked. Absent = true.
   */
  bulgeRegister?: boolean;
}

/** The grammar generation uses by default. */
export const DEFAULT_DRAWING_GRAMMAR: Readonly<DrawingGrammar> = Object.freeze({ minLoop: 3, mismatch: "wc+gu" as const, bulgeRegister: true });

// Nucleotide indices A, C, G, U = 0–3: upper and lower of two-nucleotide tokens 7 + 4·u + l.
const complementary = (u: number, l: number, gu: boolean) =>
  (u === 0 && l === 3) || (u === 3 && l === 0) || (u === 1 && l === 2) || (u === 2 && l === 1) || (gu && ((u === 2 && l === 3) || (u === 3 && l === 2)));
const isTwoNt = (t: number) => t >= 7 && t <= 22;
/** Upper nucleotide (0–3) of a token with one (1–26), else −1. */
const upperOf = (t: number) => (t >= 1 && t <= 6 ? [0, 3, 2, 1, 2, 3][t - 1]! : t >= 7 && t <= 22 ? (t - 7) >> 2 : t >= 23 && t <= 26 ? t - 23 : -1);
/** Lower nucleotide (0–3) of a token with one (1–22, 27–30), else −1. */
const lowerOf = (t: number) => (t >= 1 && t <= 6 ? [3, 0, 1, 2, 3, 2][t - 1]! : t >= 7 && t <= 22 ? (t - 7) & 3 : t >= 27 && t <= 30 ? t - 27 : -1);

/** Per-sample state of the grammar while a row is drawn column by column. */
class GrammarState {
  closed = false;
  previous = -1;
  runHasTwo = false;
  /** 0 none, 1 upper-only columns (23–26), 2 lower-only columns (27–30) in the current run. */
  runSide = 0;
  /** The pair before the current unpaired run (its token), −1 before the loop closes. */
  runOpenedBy = -1;
  /** Columns in the current unpaired run. */
  runLength = 0;
  constructor(private readonly grammar: DrawingGrammar) {}

  /** Whether `token` may be drawn at column x of `row` (the row's columns < x are drawn). */
  allows(token: number, x: number, row: Uint8Array): boolean {
    const g = this.grammar;
    const check = g.mismatch !== "none";
    const gu = g.mismatch === "wc+gu";
    const pair = isPairedToken(token);
    if (!this.closed) {
      if (isTwoNt(token)) return true;
      if (!pair || x < g.minLoop) return false;
      // Closing the loop on a complementary mismatch (column x − 1 mirrored: upper(x − 1) over upper(0)).
      return !(check && x - 2 >= g.minLoop && complementary(upperOf(row[x - 1]!), upperOf(row[0]!), gu));
    }
    const prev = this.previous;
    if (pair) {
      if (check && isTwoNt(prev) && complementary((prev - 7) >> 2, (prev - 7) & 3, gu)) return false;
      // A bulge closed here would have an equal-energy twin nearer the loop (see bulgeRegister).
      if (g.bulgeRegister !== false && this.runLength === 1 && this.runSide !== 0 && this.runOpenedBy >= 0) {
        const same = this.runSide === 1 ? upperOf(prev) === upperOf(this.runOpenedBy) : lowerOf(prev) === lowerOf(this.runOpenedBy);
        if (same) return false;
      }
      return true;
    }
    if (token === END_TOKEN) return true;
    if (isTwoNt(token)) return !(check && isPairedToken(prev) && complementary((token - 7) >> 2, (token - 7) & 3, gu));
    if (this.runHasTwo) return false;
    const side = token <= 26 ? 1 : 2;
    return this.runSide === 0 || this.runSide === side;
  }

  /** Records the token drawn at column x (mirroring the loop when it closes). */
  drew(token: number, x: number, row: Uint8Array): void {
    if (isPairedToken(token)) {
      if (!this.closed) mirrorLoop(row.subarray(0, x + 1));
      this.closed = true;
      this.runHasTwo = false;
      this.runSide = 0;
      this.runOpenedBy = token;
      this.runLength = 0;
    } else if (this.closed && isTwoNt(token)) {
      this.runHasTwo = true;
      this.runLength++;
    } else if (this.closed && token !== END_TOKEN) {
      this.runSide = token <= 26 ? 1 : 2;
      this.runLength++;
    }
    this.previous = token;
  }
}

/**
 * Whether a drawn token row shape=(100,) obeys `grammar` (column by column as the sampler checks
 * it; a row whose loop is not yet mirrored is checked as drawn, then mirrored). E.g. to check
 * that the grammar admits the training drawings.
 */
export function obeysGrammar(tokens: ArrayLike<number>, grammar: DrawingGrammar = DEFAULT_DRAWING_GRAMMAR): boolean {
  const row = Uint8Array.from(tokens);
  const state = new GrammarState(grammar);
  for (let x = 0; x < TOKEN_COLUMNS; x++) {
    const t = row[x]!;
    if (x === 0 && t === END_TOKEN) return false;
    if (!state.allows(t, x, row)) return false;
    if (t === END_TOKEN) return true;
    state.drew(t, x, row);
  }
  return true;
}

/**
 * Samples token rows for global latents shape=(n, Dg): column by column from the loop outwards,
 * each token drawn from softmax(logits / tokenTemperature) given z_g and the columns before it
 * (tokenTemperature 0 = the most likely token; column 0 is never end), with `topP` < 1 from the
 * nucleus only (the most likely tokens that together hold topP of the probability); with a
 * `grammar` ({@link DrawingGrammar}) only among the tokens it allows; after the first end every
 * column is end; the loop is then mirrored ({@link mirrorLoop}; `mirror: false` keeps the raw
 * draws). `grammar` default {@link DEFAULT_DRAWING_GRAMMAR}; false = none. Seeded. Returns
 * shape=(n, 100).
 */
export function sampleArDecoder(
  d: ArDecoder, zg: Float32Array,
  opts: { seed: number; tokenTemperature?: number; topP?: number; batchSize?: number; mirror?: boolean; grammar?: DrawingGrammar | false },
): Uint8Array {
  const Dg = d.globalDims;
  const n = zg.length / Dg;
  if (!Number.isInteger(n)) throw new InputError(`${zg.length} latent values are not rows of ${Dg}`);
  const temperature = opts.tokenTemperature ?? 1;
  if (!(temperature >= 0)) throw new InputError(`tokenTemperature must be ≥ 0, got ${temperature}`);
  const topP = opts.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new InputError(`topP must be in (0, 1], got ${topP}`);
  const grammar = opts.grammar === undefined ? DEFAULT_DRAWING_GRAMMAR : opts.grammar || null;
  if (grammar && !(Number.isInteger(grammar.minLoop) && grammar.minLoop >= 0 && ["none", "wc", "wc+gu"].includes(grammar.mismatch))) {
    throw new InputError(`grammar: minLoop must be a non-negative integer and mismatch one of none, wc, wc+gu, got ${JSON.stringify(grammar)}`);
  }
  const weights = new Float64Array(COLUMN_TOKENS);
  const allowed = new Uint8Array(COLUMN_TOKENS);
  const W = d.receptiveField;
  const C = d.config.columnChannels;
  const V = COLUMN_TOKENS;
  const random = mulberry32(opts.seed);
  const out = new Uint8Array(n * TOKEN_COLUMNS);
  const batchSize = opts.batchSize ?? 512;
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const features = tf.tidy(() => d.columnNet.apply(tf.tensor2d(zg.subarray(start * Dg, (start + b) * Dg), [b, Dg])) as tf.Tensor3D);
    const tokens = new Uint8Array(b * TOKEN_COLUMNS);
    const ended = new Uint8Array(b);
    const states = grammar ? Array.from({ length: b }, () => new GrammarState(grammar)) : null;
    try {
      for (let x = 0; x < TOKEN_COLUMNS; x++) {
        if (ended.every((e) => e === 1)) break;
        // The window of W columns that holds column x and the W − 1 before it, starting at column 0
        // until there are that many: its left edge then is the full model's zero padding, and the
        // columns after x (not drawn yet) do not reach column x's output (causal).
        const from0 = Math.max(0, x - W + 1);
        const logits = tf.tidy(() => {
          const full = shiftedOneHot(tf.tensor2d(Int32Array.from(tokens), [b, TOKEN_COLUMNS], "int32"));
          const shifted = full.slice([0, from0, 0], [b, W, V]);
          const history = d.config.history ? [tokenHistory(full).slice([0, from0, 0], [b, W, HISTORY_CHANNELS])] : [];
          const all = d.windowNet.apply([features.slice([0, from0, 0], [b, W, C]), shifted, ...history]) as tf.Tensor3D;
          return all.slice([0, x - from0, 0], [b, 1, V]).reshape([b, V]).dataSync() as Float32Array;
        });
        for (let i = 0; i < b; i++) {
          if (ended[i]) continue; // stays end (0)
          const row = tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS);
          // Column 0 cannot end the hairpin (as the columns decoder keeps ≥ 1 column).
          const from = x === 0 ? 1 : 0;
          allowed.fill(0);
          let any = false;
          for (let k = from; k < V; k++) any = (allowed[k] = !states || states[i]!.allows(k, x, row) ? 1 : 0) === 1 || any;
          if (!any) for (let k = from; k < V; k++) allowed[k] = 1; // nothing left (e.g. a loop of 100 columns): the grammar gives way
          let t: number;
          if (temperature === 0) {
            t = -1;
            for (let k = from; k < V; k++) if (allowed[k] && (t < 0 || logits[i * V + k]! > logits[i * V + t]!)) t = k;
          } else {
            let max = -Infinity;
            for (let k = from; k < V; k++) if (allowed[k]) max = Math.max(max, logits[i * V + k]!);
            weights.fill(0);
            let total = 0;
            for (let k = from; k < V; k++) if (allowed[k]) total += weights[k] = Math.exp((logits[i * V + k]! - max) / temperature);
            if (topP < 1) total = keepNucleus(weights, from, total * topP);
            let u = random() * total;
            t = -1;
            for (let k = from; k < V; k++) {
              if (weights[k] === 0) continue;
              t = k; // the last kept token if rounding leaves u ≥ 0
              u -= weights[k]!;
              if (u < 0) break;
            }
          }
          if (t === END_TOKEN) ended[i] = 1;
          else row[x] = t;
          states?.[i]!.drew(t, x, row);
        }
      }
    } finally {
      features.dispose();
    }
    for (let i = 0; i < b; i++) {
      const row = tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS);
      out.set(opts.mirror === false ? row : mirrorLoop(row), (start + i) * TOKEN_COLUMNS);
    }
  }
  return out;
}

/** Saves the decoder into `dir` (`ar-decoder/` weights and `ar-decoder.json`), atomically per file. */
export async function saveArDecoder(dir: string, decoder: ArDecoder, info: ArDecoderInfo): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await saveTfjsModel(decoder.container, path.join(dir, "ar-decoder"));
  writeFileAtomic(path.join(dir, "ar-decoder.json"), JSON.stringify(info, null, 1));
}

/** True when `dir` holds a saved autoregressive decoder. */
export function hasArDecoder(dir: string): boolean {
  return fs.existsSync(path.join(dir, "ar-decoder.json"));
}

/** Reads a decoder saved by {@link saveArDecoder}; errors name the file. */
export async function loadArDecoder(dir: string): Promise<{ decoder: ArDecoder; info: ArDecoderInfo }> {
  const file = path.join(dir, "ar-decoder.json");
  if (!fs.existsSync(file)) throw new InputError("no autoregressive decoder here (ar-decoder.json missing)", { file: dir });
  let info: ArDecoderInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, "utf8")) as ArDecoderInfo;
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file });
  }
  if (typeof info !== "object" || info === null) throw new InputError("not a decoder description (expected a JSON object)", { file });
  checkArDecoderSizes(info.globalDims, info.config, { file }, "config."); // before any layer is built from them
  const decoder = buildArDecoder(info.globalDims, info.config);
  try {
    await loadWeightsInto(path.join(dir, "ar-decoder"), decoder.container, "the saved weights do not fit the sizes in ar-decoder.json");
  } catch (e) {
    disposeArDecoder(decoder);
    throw e;
  }
  return { decoder, info };
}
