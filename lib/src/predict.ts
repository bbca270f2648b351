import * as tf from "@tensorflow/tfjs";
import { InputError } from "./errors";

/**
 * Batched inference for any model and any input kind: the caller says how to make the input
 * tensor of rows [start, end) (encoding pairs, scaling image bytes, …); this runs the model
 * chunk by chunk and collects the outputs. Every analysis (binding scores, the hairpin
 * classifier, saliency, the VAE) goes through it.
 */

/** Inputs made on demand: `n` rows, `make(start, end)` builds rows [start, end) as one tensor. */
export interface InputSource {
  n: number;
  make(start: number, end: number): tf.Tensor;
}

/** A model, or any function from an input batch to an output batch [batch, …]. */
export type Predictor = tf.LayersModel | ((x: tf.Tensor) => tf.Tensor);

export interface PredictOptions {
  /** Rows per forward pass. Default 256. */
  batchSize?: number;
  /** Rows made (encoded) at once; a multiple of forward passes. Default = batchSize. */
  chunkSize?: number;
  /** Takes what to keep from a chunk's output [rows, …] (e.g. one column). Default: all of it. */
  select?: (output: tf.Tensor) => tf.Tensor;
  /** Called after each chunk with rows done and total. */
  onProgress?: (done: number, total: number) => void;
}

/** Output of {@link predict}: values row-major, shape [n, …]. */
export interface Prediction {
  values: Float32Array;
  shape: number[];
}

/**
 * Runs `predictor` in inference mode over every row of `inputs`, `chunkSize` rows made at a
 * time and `batchSize` per forward pass (a LayersModel gets `predict(x, {batchSize})`; a
 * function is called per batch). Returns the (selected) outputs of all rows in order.
 * Synchronous (the backends here compute on the CPU). Leaves no tensors behind.
 */
export function predict(predictor: Predictor, inputs: InputSource, opts: PredictOptions = {}): Prediction {
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const chunkSize = Math.max(batchSize, opts.chunkSize ?? batchSize);
  const n = inputs.n;
  let values: Float32Array | null = null;
  let rowShape: number[] = [];
  for (let start = 0; start < n; start += chunkSize) {
    const end = Math.min(n, start + chunkSize);
    const output = tf.tidy(() => {
      const x = inputs.make(start, end);
      let y: tf.Tensor;
      if (predictor instanceof tf.LayersModel) {
        y = predictor.predict(x, { batchSize }) as tf.Tensor;
      } else {
        const parts: tf.Tensor[] = [];
        for (let b = 0; b < end - start; b += batchSize) parts.push(predictor(x.slice(b, Math.min(batchSize, end - start - b))));
        y = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      }
      return opts.select ? opts.select(y) : y;
    });
    const data = output.dataSync() as Float32Array;
    if (values === null) {
      rowShape = output.shape.slice(1);
      values = new Float32Array(n * rowShape.reduce((a, b) => a * b, 1));
    }
    values.set(data, start * (data.length / (end - start)));
    output.dispose();
    opts.onProgress?.(end, n);
  }
  return { values: values ?? new Float32Array(0), shape: [n, ...rowShape] };
}
