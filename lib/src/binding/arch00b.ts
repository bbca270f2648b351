import * as tf from "@tensorflow/tfjs";
import { batchNormalization, CompileSpec, dropout, KERAS_ADAM } from "../ops/nn";
import { DEFAULT_SEED } from "../random";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";

export interface Arch00bOptions {
  /** Seed for weight initialisers and dropout masks; layers get seed, seed+1, … Default 1789 (the paper's). */
  seed?: number;
  /** Input channels: 1 (Watson–Crick, as published) or 2 (with the G:U wobble channel). */
  channels?: number;
}

/** Leaky ReLU slope of arch_00b (Keras stores it as float32 0.30000001192092896). */
export const ARCH00B_LEAKY_ALPHA = 0.3;

/**
 * The CEITEC "arch_00b" binding classifier (github.com/ML-Bioinfo-CEITEC/mirna_binding; 301,569
 * parameters with one channel). Input x: shape=(batch, 50, 20, channels), binding matrices
 * of 0/1 (as encodeBindingMatrix writes them); output shape=(batch, 1), the probability that the
 * miRNA binds the site.
 *
 * Three conv blocks Conv2D(32/64/128, 3×3, same, linear) → LeakyReLU(0.3) → BatchNorm(ε 1e-3,
 * momentum 0.99) → MaxPool 2×2 → Dropout 0.25 (50×20 → 25×10 → 12×5 → 6×2), Flatten (1,536),
 * three dense blocks Dense(128/64/32) → LeakyReLU → BatchNorm → Dropout 0.25, Dense(1, sigmoid).
 * Dropout and batch norm come from ops/nn.ts (a fresh, reproducible dropout mask per training
 * step; fused native kernels on the native backend). Layer names follow the published Keras
 * model so its weights load by name. Returned uncompiled: trainers compile it, as the original
 * with {@link ARCH00B_TRAINING}.
 */
export function buildArch00b(opts: Arch00bOptions = {}): tf.LayersModel {
  const seed = opts.seed ?? DEFAULT_SEED;
  const channels = opts.channels ?? 1;
  let nextSeed = seed;
  const takeSeed = () => nextSeed++;

  const input = tf.input({ shape: [SITE_LENGTH, MIRNA_LENGTH, channels], name: "main_input" });
  let x: tf.SymbolicTensor = input;
  const convFilters = [32, 64, 128];
  convFilters.forEach((filters, i) => {
    const suffix = i === 0 ? "" : `_${i}`;
    x = tf.layers.conv2d({
      name: `conv_${i + 1}`, filters, kernelSize: 3, padding: "same", activation: "linear",
      kernelInitializer: tf.initializers.glorotUniform({ seed: takeSeed() }),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.leakyReLU({ name: `leaky_re_lu${suffix}`, alpha: ARCH00B_LEAKY_ALPHA }).apply(x) as tf.SymbolicTensor;
    x = batchNormalization({ name: `batch_normalization${suffix}`, axis: 3, momentum: 0.99, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ name: `Max_${i + 1}`, poolSize: 2, strides: 2, padding: "valid" }).apply(x) as tf.SymbolicTensor;
    x = dropout({ name: `dropout${suffix}`, rate: 0.25, seed: takeSeed() }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: "2d_matrix" }).apply(x) as tf.SymbolicTensor;
  const denseUnits = [128, 64, 32];
  denseUnits.forEach((units, i) => {
    const suffix = i === 0 ? "" : `_${i}`;
    const blockSuffix = `_${i + 3}`; // Keras numbered these after the three conv blocks
    x = tf.layers.dense({
      name: `dense${suffix}`, units,
      kernelInitializer: tf.initializers.glorotUniform({ seed: takeSeed() }),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.leakyReLU({ name: `leaky_re_lu${blockSuffix}`, alpha: ARCH00B_LEAKY_ALPHA }).apply(x) as tf.SymbolicTensor;
    x = batchNormalization({ name: `batch_normalization${blockSuffix}`, momentum: 0.99, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
    x = dropout({ name: `dropout${blockSuffix}`, rate: 0.25, seed: takeSeed() }).apply(x) as tf.SymbolicTensor;
  });
  const output = tf.layers.dense({
    name: "main_output", units: 1, activation: "sigmoid",
    kernelInitializer: tf.initializers.glorotUniform({ seed: takeSeed() }),
  }).apply(x) as tf.SymbolicTensor;

  return tf.model({ inputs: input, outputs: output, name: "arch_00b" });
}

/** How the original trained arch_00b: Adam(1e-3, β1 0.9, β2 0.999, ε 1e-7), binary cross-entropy, accuracy. */
export const ARCH00B_TRAINING: Readonly<CompileSpec> = Object.freeze({ optimizer: KERAS_ADAM, loss: "binaryCrossentropy", metrics: ["accuracy"] });
