import * as tf from "@tensorflow/tfjs";
import { checkSize, InputError, InputLocation, shorten } from "../errors";
import { MAX_LAYER_SIZE } from "../ops/nn";
import { ArDecoder, disposeArDecoder } from "./arDecoder";
import { DEFAULT_SEED } from "../random";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH } from "../hairpin/image";
import { PROFILE_SIZE } from "./data";
import { COLUMN_TOKENS, ONE_HOT_CHANNELS, TOKEN_COLUMNS } from "./tokens";

/**
 * The conditional VAE on hairpin images, after the TU/e project "Deep generative model for
 * simulation and interpretation of miRNA" (class- and structure-conditioned latent parts as in
 * Petković & Menkovski, Entropy 2024, 26:921), as TensorFlow.js layers:
 *
 *   encoder q(z | x): one-hot image shape=(b, 25, 100, 5) → a per-column convolution over the
 *     full height (kernel 25 × 1: reads each column's colours and bar lengths) → 1-D
 *     convolutions along the columns (two of them with stride 2, down to 25 blocks of 4
 *     columns) → mean and log-variance of z = [z_class | z_structure | z_residual]: the class
 *     and structure parts from a dense layer over all blocks; the residual part either from the
 *     same dense layer ("vector" layout) or per block by a 1 × 1 convolution ("columns"
 *     layout, the default: 8 dimensions per block);
 *   priors: p(z_class | y) learned per class, p(z_structure | profile) learned from the
 *     (normalised) profile [stem pairs, loop nt, GC] by a small MLP; p(z_residual) = N(0, I)
 *     for a residual vector, or, for the "columns" layout, an autoregressive prior over the
 *     blocks (from the loop outwards) conditioned on the class and structure parts;
 *   auxiliary heads: class logits from z_class, profile from z_structure (they make the two
 *     parts carry what their priors condition on);
 *   structured decoder p(x | z): per-column logits over the 31 column tokens (tokens.ts),
 *     shape=(b, 100, 31) — "vector": dense layers → shape=(100, C) → 1-D convolutions;
 *     "columns": the class and structure parts → dense → features of the 25 blocks, joined with
 *     the residual blocks → 1-D convolutions with two sub-pixel upsamplings to 100 columns. A
 *     token fixes both halves' colours and, with the pairing rules, their bar lengths, so every
 *     decoded sample renders to an exact image.
 *
 * All layers live in one functional model (the "container": inputs image, class, profile and
 * the three latent parts; outputs every part's result), which is what is saved, checkpointed
 * and compiled (for its optimizer); sub-models over the same layers run each part.
 */

/** Sizes of the CVAE. */
export interface CvaeConfig {
  /** Latent dimensions of the class, structure and residual parts. */
  latent: { class: number; structure: number; residual: number };
  /** Filters of the per-column (25 × 1) convolution of the encoder. */
  columnFilters: number;
  /** Filters of the encoder's 1-D convolutions (the 2nd and 3rd have stride 2). */
  encoderFilters: [number, number, number];
  /** Units of the encoder's and decoder's dense layer. */
  dense: number;
  /** Channels per column of the decoder's dense output (before its convolutions). */
  decoderColumnChannels: number;
  /** Filters of the decoder's 1-D convolutions. */
  decoderFilters: number[];
  /** Kernel width of every 1-D convolution. */
  kernelSize: number;
  /** Hidden units of the structure prior's MLP. */
  priorHidden: number;
  /**
   * How the residual part is laid out. "vector": one vector from the encoder's dense layer,
   * decoded through the decoder's dense layers (as the class and structure parts). "columns":
   * one latent vector per block of 4 image columns (latent.residual / 25 channels for each of
   * the 25 blocks), read by a 1 × 1 convolution from the encoder's downsampled columns and
   * upsampled back by the decoder's convolutions (sub-pixel: a convolution to twice the
   * channels, reshaped to twice the columns) — a local code for the nucleotides, while the
   * class and structure parts stay global; its prior is autoregressive over the blocks.
   * Default (when absent) "vector"; {@link DEFAULT_CVAE_CONFIG} uses "columns".
   */
  residualLayout?: "vector" | "columns";
  /** Seed of the weight initialisers (layer k uses seed + k). */
  seed: number;
}

/** Blocks of the "columns" residual layout: 100 columns downsampled twice by 2. */
export const RESIDUAL_BLOCKS = 25;

/**
 * The default (full-size) CVAE: 64-dimensional class and structure parts as in the design it
 * follows (module comment); the residual part laid out along the hairpin, 8 dimensions per block
 * of 4 columns (200), with its autoregressive prior. (That design's 64-dimensional residual
 * vector with an N(0, I) prior reconstructed held-out columns far worse: see the notebook.)
 * 1,963,316 parameters.
 */
export const DEFAULT_CVAE_CONFIG: Readonly<CvaeConfig> = Object.freeze({
  latent: { class: 64, structure: 64, residual: 200 },
  columnFilters: 64,
  encoderFilters: [96, 96, 128] as [number, number, number],
  dense: 256,
  decoderColumnChannels: 48,
  decoderFilters: [96, 96],
  kernelSize: 5,
  priorHidden: 64,
  residualLayout: "columns" as const,
  seed: DEFAULT_SEED,
});

/** A tiny CVAE for tests: the same graph with 2-dimensional latent parts and a few filters. */
export const TOY_CVAE_CONFIG: Readonly<CvaeConfig> = Object.freeze({
  latent: { class: 2, structure: 2, residual: 2 },
  columnFilters: 4,
  encoderFilters: [4, 4, 4] as [number, number, number],
  dense: 8,
  decoderColumnChannels: 4,
  decoderFilters: [6],
  kernelSize: 3,
  priorHidden: 4,
  seed: 7,
});

/** The CVAE's models; all share the container's layers. */
export interface Cvae {
  config: CvaeConfig;
  /** Every layer; inputs [image, class one-hot, profile, z_class, z_structure, z_residual]. Saved, checkpointed, compiled. */
  container: tf.LayersModel;
  /** shape=(b, 25, 100, 5) → [mean, log-variance], each shape=(b, D), D = sum of the latent parts. */
  encoder: tf.LayersModel;
  /** [z_class, z_structure, z_residual] → logits shape=(b, 100, 31). */
  decoder: tf.LayersModel;
  /** class one-hot shape=(b, 2) → [mean, log-variance] of z_class, each shape=(b, Dc). */
  classPrior: tf.LayersModel;
  /** normalised profile shape=(b, 3) → [mean, log-variance] of z_structure, each shape=(b, Ds). */
  structurePrior: tf.LayersModel;
  /** z_class → class logits shape=(b, 2). */
  classHead: tf.LayersModel;
  /** z_structure → normalised profile shape=(b, 3). */
  profileHead: tf.LayersModel;
  /**
   * "columns" layout: [z_class, z_structure, z_residual] → [mean, log-variance] of each
   * residual block given the blocks before it (autoregressive), each shape=(b, residual);
   * null for the "vector" layout, whose residual prior is N(0, I).
   */
  residualPrior: tf.LayersModel | null;
  /**
   * The autoregressive column decoder used for generation (arDecoder.ts), trained after the
   * CVAE on its global latents; absent until trained or loaded with the model folder.
   */
  arDecoder?: ArDecoder | null;
}

/** Total latent dimensions. */
export function latentSize(config: Pick<CvaeConfig, "latent">): number {
  return config.latent.class + config.latent.structure + config.latent.residual;
}

/**
 * Checks a CVAE config (as built, or as read from `cvae.json`): every size a whole number from
 * 1 to {@link MAX_LAYER_SIZE}, 3 encoder filters, 1–8 decoder filters, the "columns" residual
 * layout's multiple of 25. InputErrors name `where` and the field (`prefix` + its path), so an
 * absurd size (`dense: 2e9`) is a message, not a RangeError deep in tfjs.
 */
export function checkCvaeConfig(value: unknown, where: InputLocation = {}, prefix = ""): CvaeConfig {
  const fail = (message: string): never => {
    throw new InputError(message, where);
  };
  if (typeof value !== "object" || value === null) fail(`${prefix || "config"} must be an object`);
  const c = value as CvaeConfig;
  if (typeof c.latent !== "object" || c.latent === null) fail(`${prefix}latent must be an object with class, structure and residual sizes`);
  checkSize(c.latent.class, `${prefix}latent.class`, where, MAX_LAYER_SIZE);
  checkSize(c.latent.structure, `${prefix}latent.structure`, where, MAX_LAYER_SIZE);
  checkSize(c.latent.residual, `${prefix}latent.residual`, where, MAX_LAYER_SIZE);
  checkSize(c.columnFilters, `${prefix}columnFilters`, where, MAX_LAYER_SIZE);
  if (!Array.isArray(c.encoderFilters) || c.encoderFilters.length !== 3) fail(`${prefix}encoderFilters must be a list of 3 sizes, got ${shorten(JSON.stringify(c.encoderFilters) ?? "nothing", 40)}`);
  c.encoderFilters.forEach((f, i) => checkSize(f, `${prefix}encoderFilters[${i}]`, where, MAX_LAYER_SIZE));
  checkSize(c.dense, `${prefix}dense`, where, MAX_LAYER_SIZE);
  checkSize(c.decoderColumnChannels, `${prefix}decoderColumnChannels`, where, MAX_LAYER_SIZE);
  if (!Array.isArray(c.decoderFilters) || c.decoderFilters.length > 8) fail(`${prefix}decoderFilters must be a list of at most 8 sizes, got ${shorten(JSON.stringify(c.decoderFilters) ?? "nothing", 40)}`);
  c.decoderFilters.forEach((f, i) => checkSize(f, `${prefix}decoderFilters[${i}]`, where, MAX_LAYER_SIZE));
  checkSize(c.kernelSize, `${prefix}kernelSize`, where, HAIRPIN_IMAGE_WIDTH);
  checkSize(c.priorHidden, `${prefix}priorHidden`, where, MAX_LAYER_SIZE);
  if (c.residualLayout !== undefined && c.residualLayout !== "vector" && c.residualLayout !== "columns") fail(`${prefix}residualLayout must be "vector" or "columns", got ${shorten(JSON.stringify(c.residualLayout), 40)}`);
  if (!Number.isInteger(c.seed)) fail(`${prefix}seed must be a whole number, got ${shorten(JSON.stringify(c.seed) ?? "nothing", 40)}`);
  if (c.residualLayout === "columns" && c.latent.residual % RESIDUAL_BLOCKS !== 0) {
    fail(`with the "columns" residual layout ${prefix}latent.residual must be a multiple of ${RESIDUAL_BLOCKS}, got ${c.latent.residual}`);
  }
  return c;
}

/**
 * Builds the CVAE (uncompiled; the trainer compiles the container for its optimizer).
 * Glorot-uniform kernels seeded from `config.seed`, zero biases. Layer names are fixed (saved
 * weights are matched by name and order).
 */
export function buildCvae(config: CvaeConfig = DEFAULT_CVAE_CONFIG): Cvae {
  checkCvaeConfig(config);
  let nextSeed = config.seed;
  const init = () => tf.initializers.glorotUniform({ seed: nextSeed++ });
  const dense = (name: string, units: number, activation?: "relu" | "tanh") =>
    tf.layers.dense({ name, units, activation: activation ?? "linear", kernelInitializer: init() });
  const conv1d = (name: string, filters: number, strides = 1, activation: "relu" | "linear" = "relu", kernelSize = config.kernelSize) =>
    tf.layers.conv1d({ name, filters, kernelSize, strides, padding: "same", activation, kernelInitializer: init() });
  const { class: dc, structure: ds, residual: dr } = config.latent;
  const D = dc + ds + dr;

  // Encoder.
  const image = tf.input({ shape: [HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH, ONE_HOT_CHANNELS], name: "image" });
  let h = tf.layers.conv2d({
    name: "enc_column", filters: config.columnFilters, kernelSize: [HAIRPIN_IMAGE_HEIGHT, 1], padding: "valid", activation: "relu", kernelInitializer: init(),
  }).apply(image) as tf.SymbolicTensor;
  h = tf.layers.reshape({ name: "enc_columns", targetShape: [HAIRPIN_IMAGE_WIDTH, config.columnFilters] }).apply(h) as tf.SymbolicTensor;
  h = conv1d("enc_conv1", config.encoderFilters[0]).apply(h) as tf.SymbolicTensor;
  h = conv1d("enc_conv2", config.encoderFilters[1], 2).apply(h) as tf.SymbolicTensor;
  h = conv1d("enc_conv3", config.encoderFilters[2], 2).apply(h) as tf.SymbolicTensor;
  const columnsLayout = config.residualLayout === "columns";
  const blocks = h;
  h = tf.layers.flatten({ name: "enc_flatten" }).apply(h) as tf.SymbolicTensor;
  h = dense("enc_dense", config.dense, "relu").apply(h) as tf.SymbolicTensor;
  let mean: tf.SymbolicTensor;
  let logVar: tf.SymbolicTensor;
  if (!columnsLayout) {
    mean = dense("enc_mean", D).apply(h) as tf.SymbolicTensor;
    logVar = dense("enc_logvar", D).apply(h) as tf.SymbolicTensor;
  } else {
    // Global parts from the dense layer, the residual part per block of 4 columns.
    const channels = dr / RESIDUAL_BLOCKS;
    const globalMean = dense("enc_mean", dc + ds).apply(h) as tf.SymbolicTensor;
    const globalLogVar = dense("enc_logvar", dc + ds).apply(h) as tf.SymbolicTensor;
    const blockMean = tf.layers.flatten({ name: "enc_residual_mean_flat" }).apply(conv1d("enc_residual_mean", channels, 1, "linear", 1).apply(blocks)) as tf.SymbolicTensor;
    const blockLogVar = tf.layers.flatten({ name: "enc_residual_logvar_flat" }).apply(conv1d("enc_residual_logvar", channels, 1, "linear", 1).apply(blocks)) as tf.SymbolicTensor;
    mean = tf.layers.concatenate({ name: "enc_mean_all" }).apply([globalMean, blockMean]) as tf.SymbolicTensor;
    logVar = tf.layers.concatenate({ name: "enc_logvar_all" }).apply([globalLogVar, blockLogVar]) as tf.SymbolicTensor;
  }

  // Priors.
  const classInput = tf.input({ shape: [2], name: "class" });
  const classMean = dense("prior_class_mean", dc).apply(classInput) as tf.SymbolicTensor;
  const classLogVar = dense("prior_class_logvar", dc).apply(classInput) as tf.SymbolicTensor;
  const profileInput = tf.input({ shape: [PROFILE_SIZE], name: "profile" });
  const ph = dense("prior_structure_hidden", config.priorHidden, "tanh").apply(profileInput) as tf.SymbolicTensor;
  const structureMean = dense("prior_structure_mean", ds).apply(ph) as tf.SymbolicTensor;
  const structureLogVar = dense("prior_structure_logvar", ds).apply(ph) as tf.SymbolicTensor;

  // Decoder.
  const zClass = tf.input({ shape: [dc], name: "z_class" });
  const zStructure = tf.input({ shape: [ds], name: "z_structure" });
  const zResidual = tf.input({ shape: [dr], name: "z_residual" });
  let g: tf.SymbolicTensor;
  if (!columnsLayout) {
    g = tf.layers.concatenate({ name: "dec_z" }).apply([zClass, zStructure, zResidual]) as tf.SymbolicTensor;
    g = dense("dec_dense", config.dense, "relu").apply(g) as tf.SymbolicTensor;
    g = dense("dec_columns_dense", TOKEN_COLUMNS * config.decoderColumnChannels, "relu").apply(g) as tf.SymbolicTensor;
    g = tf.layers.reshape({ name: "dec_columns", targetShape: [TOKEN_COLUMNS, config.decoderColumnChannels] }).apply(g) as tf.SymbolicTensor;
    config.decoderFilters.forEach((f, i) => {
      g = conv1d(`dec_conv${i + 1}`, f).apply(g) as tf.SymbolicTensor;
    });
  } else {
    // Global parts → per-block features; with the residual blocks → two sub-pixel upsamplings to 100 columns.
    const channels = dr / RESIDUAL_BLOCKS;
    g = tf.layers.concatenate({ name: "dec_z" }).apply([zClass, zStructure]) as tf.SymbolicTensor;
    g = dense("dec_dense", config.dense, "relu").apply(g) as tf.SymbolicTensor;
    g = dense("dec_columns_dense", RESIDUAL_BLOCKS * config.decoderColumnChannels, "relu").apply(g) as tf.SymbolicTensor;
    g = tf.layers.reshape({ name: "dec_blocks", targetShape: [RESIDUAL_BLOCKS, config.decoderColumnChannels] }).apply(g) as tf.SymbolicTensor;
    const local = tf.layers.reshape({ name: "dec_residual_blocks", targetShape: [RESIDUAL_BLOCKS, channels] }).apply(zResidual) as tf.SymbolicTensor;
    g = tf.layers.concatenate({ name: "dec_blocks_all" }).apply([g, local]) as tf.SymbolicTensor;
    const [f1, f2] = [config.decoderFilters[0]!, config.decoderFilters[config.decoderFilters.length - 1]!];
    g = conv1d("dec_conv1", f1).apply(g) as tf.SymbolicTensor;
    g = conv1d("dec_up1", 2 * f1).apply(g) as tf.SymbolicTensor;
    g = tf.layers.reshape({ name: "dec_up1_columns", targetShape: [2 * RESIDUAL_BLOCKS, f1] }).apply(g) as tf.SymbolicTensor;
    g = conv1d("dec_conv2", f2).apply(g) as tf.SymbolicTensor;
    g = conv1d("dec_up2", 2 * f2).apply(g) as tf.SymbolicTensor;
    g = tf.layers.reshape({ name: "dec_up2_columns", targetShape: [TOKEN_COLUMNS, f2] }).apply(g) as tf.SymbolicTensor;
    g = conv1d("dec_conv3", f2).apply(g) as tf.SymbolicTensor;
  }
  const logits = conv1d("dec_logits", COLUMN_TOKENS, 1, "linear", 1).apply(g) as tf.SymbolicTensor;

  // Auxiliary heads.
  const classLogits = dense("aux_class", 2).apply(zClass) as tf.SymbolicTensor;
  const profileOut = dense("aux_profile", PROFILE_SIZE).apply(zStructure) as tf.SymbolicTensor;

  // The residual prior of the "columns" layout: autoregressive over the 25 blocks (from the loop
  // outwards), p(z_r[b] | z_r[< b], z_class, z_structure) = N(mean_b, exp(logVar_b)), by causal
  // convolutions (left zero-padding, kernel 5 × 1, three layers) over the blocks shifted by one,
  // next to block-wise features of the global parts.
  let residualPrior: tf.LayersModel | null = null;
  const extraOutputs: tf.SymbolicTensor[] = [];
  if (columnsLayout) {
    const channels = dr / RESIDUAL_BLOCKS;
    const hidden = config.priorHidden;
    const blocksIn = tf.layers.reshape({ name: "prior_residual_blocks", targetShape: [RESIDUAL_BLOCKS, 1, channels] }).apply(zResidual) as tf.SymbolicTensor;
    const padded = tf.layers.zeroPadding2d({ name: "prior_residual_shift_pad", padding: [[1, 0], [0, 0]] }).apply(blocksIn) as tf.SymbolicTensor;
    const shifted = tf.layers.cropping2D({ name: "prior_residual_shift_crop", cropping: [[0, 1], [0, 0]] }).apply(padded) as tf.SymbolicTensor;
    let q = tf.layers.concatenate({ name: "prior_residual_z" }).apply([zClass, zStructure]) as tf.SymbolicTensor;
    q = dense("prior_residual_global", RESIDUAL_BLOCKS * hidden, "relu").apply(q) as tf.SymbolicTensor;
    q = tf.layers.reshape({ name: "prior_residual_global_blocks", targetShape: [RESIDUAL_BLOCKS, 1, hidden] }).apply(q) as tf.SymbolicTensor;
    q = tf.layers.concatenate({ name: "prior_residual_in" }).apply([shifted, q]) as tf.SymbolicTensor;
    // (tfjs has no gradient for dilated convolutions: wide kernels instead; 3 layers see 13 blocks back.)
    for (let i = 0; i < 3; i++) {
      const pad = tf.layers.zeroPadding2d({ name: `prior_residual_pad${i + 1}`, padding: [[4, 0], [0, 0]] }).apply(q) as tf.SymbolicTensor;
      q = tf.layers.conv2d({
        name: `prior_residual_conv${i + 1}`, filters: hidden, kernelSize: [5, 1], padding: "valid", activation: "relu", kernelInitializer: init(),
      }).apply(pad) as tf.SymbolicTensor;
    }
    const head = (name: string) => tf.layers.flatten({ name: `${name}_flat` }).apply(
      tf.layers.conv2d({ name, filters: channels, kernelSize: 1, padding: "valid", kernelInitializer: init() }).apply(q),
    ) as tf.SymbolicTensor;
    const residualMean = head("prior_residual_mean");
    const residualLogVar = head("prior_residual_logvar");
    residualPrior = tf.model({ name: "cvae_residual_prior", inputs: [zClass, zStructure, zResidual], outputs: [residualMean, residualLogVar] });
    extraOutputs.push(residualMean, residualLogVar);
  }

  const container = tf.model({
    name: "hairpin_cvae",
    inputs: [image, classInput, profileInput, zClass, zStructure, zResidual],
    outputs: [mean, logVar, classMean, classLogVar, structureMean, structureLogVar, logits, classLogits, profileOut, ...extraOutputs],
  });
  return {
    config: { ...config, latent: { ...config.latent }, encoderFilters: [...config.encoderFilters], decoderFilters: [...config.decoderFilters], residualLayout: config.residualLayout ?? "vector" },
    container,
    encoder: tf.model({ name: "cvae_encoder", inputs: image, outputs: [mean, logVar] }),
    decoder: tf.model({ name: "cvae_decoder", inputs: [zClass, zStructure, zResidual], outputs: logits }),
    classPrior: tf.model({ name: "cvae_class_prior", inputs: classInput, outputs: [classMean, classLogVar] }),
    structurePrior: tf.model({ name: "cvae_structure_prior", inputs: profileInput, outputs: [structureMean, structureLogVar] }),
    classHead: tf.model({ name: "cvae_class_head", inputs: zClass, outputs: classLogits }),
    profileHead: tf.model({ name: "cvae_profile_head", inputs: zStructure, outputs: profileOut }),
    residualPrior,
  };
}

/** Frees the CVAE's weights and its optimizer (when the container was compiled), and its AR decoder's. */
export function disposeCvae(cvae: Cvae): void {
  cvae.container.optimizer?.dispose();
  cvae.container.dispose();
  if (cvae.arDecoder) {
    disposeArDecoder(cvae.arDecoder);
    cvae.arDecoder = null;
  }
}

/** Log-variances are kept in this range (numerical safety of exp). */
const LOGVAR_MIN = -12;
const LOGVAR_MAX = 8;

/** The global parts [z_class | z_structure] of latents shape=(n, D): shape=(n, Dc + Ds). */
export function globalLatents(config: Pick<CvaeConfig, "latent">, latents: Float32Array): Float32Array {
  const D = latentSize(config);
  const Dg = config.latent.class + config.latent.structure;
  const n = latents.length / D;
  const out = new Float32Array(n * Dg);
  for (let i = 0; i < n; i++) out.set(latents.subarray(i * D, i * D + Dg), i * Dg);
  return out;
}

/** Splits shape=(b, D) into the class, structure and residual parts. */
export function splitLatent(config: Pick<CvaeConfig, "latent">, z: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const { class: dc, structure: ds, residual: dr } = config.latent;
  return tf.split(z, [dc, ds, dr], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
}

/** Mean and clipped log-variance of q(z | x) for one-hot images shape=(b, 25, 100, 5); each shape=(b, D). */
export function encodeCvae(cvae: Cvae, images: tf.Tensor4D, training = false): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
  const [mean, logVar] = cvae.encoder.apply(images, { training }) as tf.Tensor2D[];
  return { mean: mean!, logVar: tf.clipByValue(logVar!, LOGVAR_MIN, LOGVAR_MAX) };
}

/** Token logits shape=(b, 100, 31) of latents shape=(b, D). */
export function decodeCvae(cvae: Cvae, z: tf.Tensor2D, training = false): tf.Tensor3D {
  return cvae.decoder.apply(splitLatent(cvae.config, z), { training }) as tf.Tensor3D;
}

/** The conditional priors of a batch: class one-hot shape=(b, 2), normalised profile shape=(b, 3). */
export function cvaePriors(cvae: Cvae, classOneHot: tf.Tensor2D, profile: tf.Tensor2D): {
  classMean: tf.Tensor2D; classLogVar: tf.Tensor2D; structureMean: tf.Tensor2D; structureLogVar: tf.Tensor2D;
} {
  const [classMean, classLogVar] = cvae.classPrior.apply(classOneHot) as tf.Tensor2D[];
  const [structureMean, structureLogVar] = cvae.structurePrior.apply(profile) as tf.Tensor2D[];
  return {
    classMean: classMean!, classLogVar: tf.clipByValue(classLogVar!, LOGVAR_MIN, LOGVAR_MAX),
    structureMean: structureMean!, structureLogVar: tf.clipByValue(structureLogVar!, LOGVAR_MIN, LOGVAR_MAX),
  };
}

/**
 * The residual prior for latents whose class, structure and residual parts are `zc`, `zs`,
 * `zr`: N(0, I) for the "vector" layout; for "columns", the autoregressive prior's mean and
 * clipped log-variance of each block given the blocks of `zr` before it. Each shape=(b, Dr).
 */
export function cvaeResidualPrior(cvae: Cvae, zc: tf.Tensor2D, zs: tf.Tensor2D, zr: tf.Tensor2D): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
  if (!cvae.residualPrior) return { mean: tf.zerosLike(zr), logVar: tf.zerosLike(zr) };
  const [mean, logVar] = cvae.residualPrior.apply([zc, zs, zr]) as tf.Tensor2D[];
  return { mean: mean!, logVar: tf.clipByValue(logVar!, LOGVAR_MIN, LOGVAR_MAX) };
}

/** KL(N(mq, exp lq) ‖ N(mp, exp lp)) summed over dimensions: shape=(b,). */
export function gaussianKl(mq: tf.Tensor2D, lq: tf.Tensor2D, mp: tf.Tensor2D, lp: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const terms = lp.sub(lq).add(lq.exp().add(mq.sub(mp).square()).div(lp.exp())).sub(1);
    return terms.sum(1).mul(0.5) as tf.Tensor1D;
  });
}

/** One training batch of the CVAE. */
export interface CvaeBatch {
  /** shape=(b, 25, 100, 5) one-hot images. */
  images: tf.Tensor4D;
  /** shape=(b, 100) int32 target tokens. */
  tokens: tf.Tensor2D;
  /** shape=(b, 2) class one-hot (column 1 = pre-miRNA). */
  classOneHot: tf.Tensor2D;
  /** shape=(b, 3) normalised profiles. */
  profile: tf.Tensor2D;
}

/** Weights of the loss terms. */
export interface CvaeLossWeights {
  /** β of every KL term (after warm-up; see the trainer's schedule). */
  beta: number;
  /** Weight of the auxiliary class cross-entropy on z_class. */
  classWeight: number;
  /** Weight of the auxiliary profile squared error on z_structure. */
  profileWeight: number;
}

/** Loss terms of a batch, each a scalar mean over the batch (nats per image; the squared error in normalised units). */
export interface CvaeLossTerms {
  total: tf.Scalar;
  reconstruction: tf.Scalar;
  klClass: tf.Scalar;
  klStructure: tf.Scalar;
  klResidual: tf.Scalar;
  auxClass: tf.Scalar;
  auxProfile: tf.Scalar;
  /** Fraction of columns whose most likely token is the target (end columns included). */
  tokenAccuracy: tf.Scalar;
}

/**
 * The CVAE's loss on a batch: reconstruction = categorical cross-entropy of the 100 column
 * tokens summed over columns; β·(KL(q(z_c|x) ‖ p(z_c|y)) + KL(q(z_s|x) ‖ p(z_s|profile)) +
 * KL(q(z_r|x) ‖ p(z_r | …))); classWeight · cross-entropy of the class from z_c; profileWeight ·
 * squared error of the profile from z_s (summed over its 3 entries); the residual KL is against
 * {@link cvaeResidualPrior} at the drawn z (one-sample for the autoregressive prior). z is drawn by the
 * reparameterisation z = mean + exp(logVar / 2) · ε with ε = `noise` shape=(b, D). Means over
 * the batch. Call inside a tidy / optimizer.minimize.
 */
export function cvaeLoss(cvae: Cvae, batch: CvaeBatch, noise: tf.Tensor2D, weights: CvaeLossWeights, training = true): CvaeLossTerms {
  const { mean, logVar } = encodeCvae(cvae, batch.images, training);
  const z = mean.add(logVar.mul(0.5).exp().mul(noise)) as tf.Tensor2D;
  const logits = decodeCvae(cvae, z, training);
  const logProbabilities = tf.logSoftmax(logits);
  const target = tf.oneHot(batch.tokens.toInt(), COLUMN_TOKENS);
  const reconstruction = logProbabilities.mul(target).sum([1, 2]).neg().mean() as tf.Scalar;
  const tokenAccuracy = logits.argMax(-1).equal(batch.tokens.toInt()).toFloat().mean() as tf.Scalar;
  const priors = cvaePriors(cvae, batch.classOneHot, batch.profile);
  const [mc, ms, mr] = splitLatent(cvae.config, mean);
  const [lc, ls, lr] = splitLatent(cvae.config, logVar);
  const klClass = gaussianKl(mc, lc, priors.classMean, priors.classLogVar).mean() as tf.Scalar;
  const klStructure = gaussianKl(ms, ls, priors.structureMean, priors.structureLogVar).mean() as tf.Scalar;
  const [zc, zs, zr] = splitLatent(cvae.config, z);
  const residualPrior = cvaeResidualPrior(cvae, zc, zs, zr);
  const klResidual = gaussianKl(mr, lr, residualPrior.mean, residualPrior.logVar).mean() as tf.Scalar;
  const classLogits = cvae.classHead.apply(zc, { training }) as tf.Tensor2D;
  const auxClass = tf.logSoftmax(classLogits).mul(batch.classOneHot).sum(1).neg().mean() as tf.Scalar;
  const profileOut = cvae.profileHead.apply(zs, { training }) as tf.Tensor2D;
  const auxProfile = profileOut.sub(batch.profile).square().sum(1).mean() as tf.Scalar;
  const total = reconstruction
    .add(klClass.add(klStructure).add(klResidual).mul(weights.beta))
    .add(auxClass.mul(weights.classWeight))
    .add(auxProfile.mul(weights.profileWeight)) as tf.Scalar;
  return { total, reconstruction, klClass, klStructure, klResidual, auxClass, auxProfile, tokenAccuracy };
}
