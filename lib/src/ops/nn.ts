import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { FusedBatchNormalization } from "./batchNormalization";
import { createAdam } from "./native/nativeAdam";
import { SeededDropout } from "./seededDropout";

/**
 * The seam between models / trainers and the kernels: the building blocks whose fast versions
 * are native (lib/src/ops/native/) come from here, and this module picks the native kernels
 * when the native backend runs and tfjs' own otherwise. Model builders take layers from here
 * and return uncompiled models; trainers compile them with {@link compileModel}, so an
 * architecture is tied to neither an optimizer nor a backend.
 */

/** Dropout with reproducible masks per training step (one native kernel on the native backend). */
export function dropout(args: { rate: number; seed: number; name?: string }): tf.layers.Layer {
  return new SeededDropout(args);
}

/** Batch normalisation (fused native training kernels on the native backend; tfjs' layer otherwise). */
export function batchNormalization(args: NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>): tf.layers.Layer {
  return new FusedBatchNormalization(args);
}

/** An optimizer as data (for configs, results files and checkpoints). */
export interface OptimizerSpec {
  name: "adam";
  learningRate: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras'). */
  epsilon?: number;
}

/** Adam(1e-3, 0.9, 0.999, ε 1e-7): Keras' defaults, used by the CEITEC and deepMir models. */
/** Largest size a saved model config may give a layer (checked on reading): far above any model trained here, far below what exhausts memory. */
export const MAX_LAYER_SIZE = 4096;

export const KERAS_ADAM: Readonly<OptimizerSpec> = Object.freeze({ name: "adam", learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });

/** The optimizer a spec describes: Adam with one native kernel per variable when the native backend runs. */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (spec.name !== "adam") throw new InputError(`unknown optimizer '${String(spec.name)}' (known: adam)`);
  if (!(spec.learningRate > 0)) throw new InputError(`learning rate must be positive, got ${spec.learningRate}`);
  return createAdam(spec.learningRate, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-7);
}

/** How a trainer compiles a model. */
export interface CompileSpec {
  optimizer: OptimizerSpec;
  loss: "binaryCrossentropy" | "categoricalCrossentropy";
  /** Keras metric names; default ["accuracy"]. */
  metrics?: string[];
}

/**
 * Compiles `model` for training with a fresh optimizer from `spec`. An optimizer the model
 * already had is disposed first (its slots would otherwise leak).
 */
export function compileModel(model: tf.LayersModel, spec: CompileSpec): void {
  if (model.optimizer) model.optimizer.dispose();
  model.compile({ optimizer: createOptimizer(spec.optimizer), loss: spec.loss, metrics: spec.metrics ?? ["accuracy"] });
}

/**
 * Frees a model and its optimizer's slots (`model.dispose()` leaves an optimizer that was
 * passed to compile(), e.g. Adam's moments).
 */
export function disposeModel(model: tf.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}

export { setDropoutStep } from "./seededDropout";
