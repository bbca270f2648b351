import * as tf from "@tensorflow/tfjs";
import { InputError } from "./errors";

/**
 * Batched inference for any model and any input kind: the caller says how to make the input
 * tensor of rows [start, end) (encoding pairs, scaling image bytes, …); this runs the model
 * chunk by chunk and collects the outputs. Every analysis (binding scores, the hairpin
 * classifier, saliency, the VAE) goes through it.
 */

/**
 * Inputs made on demand: `n` rows; `make(start, end)` builds rows [start, end) as one tensor,
 * shape=(end − start, …row shape).
 */
export interface InputSource {
  n: number;
  make(start: number, end: number): tf.Tensor;
}

/** A model, or any function from an input batch, shape=(batch, …), to an output batch, shape=(batch, …). */
export type Predictor = tf.LayersModel | ((x: tf.Tensor) => tf.Tensor);

export interface PredictOptions {
  /** Rows per forward pass. Default 256. */
  batchSize?: number;
  /** Rows made (encoded) at once; a multiple of forward passes. Default = batchSize. */
  chunkSize?: number;
  /** Takes what to keep from a chunk's output, shape=(rows, …) (e.g. one column). Default: all of it. */
  select?: (output: tf.Tensor) => tf.Tensor;
  /** Called after each chunk with rows done and total. */
  onProgress?: (done: number, total: number) => void;
}

/** Output of {@link predict}: `values` Float32Array, shape=(n, …), row-major; `shape` that shape. */
export interface Prediction {
  values: Float32Array;
  shape: number[];
}

/**
 * Runs `predictor` in inference mode over every row of `inputs`, `chunkSize` rows made at a
 * time and `batchSize` per forward pass (a LayersModel is applied in inference mode,
 * `apply(x, {training: false})`, one batch at a time; a function is called per batch). Returns the
 * (selected) outputs of all rows in order: values Float32Array, shape=(n, …output row shape),
 * row-major. Synchronous (the backends here compute on the CPU). Leaves no tensors behind.
 */
export function predict(predictor: Predictor, inputs: InputSource, opts: PredictOptions = {}): Prediction {
  const run = startPrediction(predictor, inputs, opts);
  while (run.next()) {
    // synchronous: every chunk in turn
  }
  return run.result();
}

/**
 * {@link predict} that gives the event loop a turn after every chunk (at most every
 * `yieldEveryMs`, default 50 ms), so that signal handlers (Ctrl+C) and stream writes run during
 * a long scoring run. Same result as predict().
 */
export async function predictAsync(predictor: Predictor, inputs: InputSource, opts: PredictOptions & { yieldEveryMs?: number } = {}): Promise<Prediction> {
  const run = startPrediction(predictor, inputs, opts);
  const every = opts.yieldEveryMs ?? 50;
  let last = performance.now();
  while (run.next()) {
    if (performance.now() - last >= every) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
  }
  return run.result();
}

/** The chunk loop of predict(): next() runs one chunk (false when all are done), result() collects. */
function startPrediction(predictor: Predictor, inputs: InputSource, opts: PredictOptions): { next(): boolean; result(): Prediction } {
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const chunkSize = Math.max(batchSize, opts.chunkSize ?? batchSize);
  const n = inputs.n;
  let values: Float32Array | null = null;
  let rowShape: number[] = [];
  let start = 0;
  return {
    next() {
      if (start >= n) return false;
      const end = Math.min(n, start + chunkSize);
      const output = tf.tidy(() => {
        const x = inputs.make(start, end);
        // A model is applied in inference mode batch by batch: LayersModel.predict would gather
        // every batch out of the input and cost about a quarter more CPU time (BENCHMARKS.md).
        const forward = predictor instanceof tf.LayersModel
          ? (batch: tf.Tensor) => predictor.apply(batch, { training: false }) as tf.Tensor
          : predictor;
        const rows = end - start;
        const parts: tf.Tensor[] = [];
        for (let b = 0; b < rows; b += batchSize) parts.push(forward(rows <= batchSize ? x : x.slice(b, Math.min(batchSize, rows - b))));
        const y = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
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
      start = end;
      return start < n;
    },
    result: () => ({ values: values ?? new Float32Array(0), shape: [n, ...rowShape] }),
  };
}

/**
 * An {@link InputSource} over values already in memory: `values` Float32Array, shape=(n, …rowShape),
 * row-major (e.g. encoded binding matrices, rowShape `[50, 20, 1]`). Rows are copied into each
 * tensor made, shape=(end − start, …rowShape).
 */
export function arraySource(values: Float32Array, rowShape: readonly number[]): InputSource {
  const size = rowShape.reduce((a, b) => a * b, 1);
  if (!(size > 0) || values.length % size !== 0) {
    throw new InputError(`${values.length} values do not make whole rows of shape [${rowShape.join(", ")}] (${size} values each)`);
  }
  return {
    n: values.length / size,
    make: (start, end) => tf.tensor(values.subarray(start * size, end * size), [end - start, ...rowShape]),
  };
}

/**
 * The rows `rows` (0-based indices into `source`, any order, repeats allowed) of another
 * source, as a source of rows.length rows: row k of the result is row rows[k] of `source`
 * (tensors shape=(end − start, …row shape of `source`)). Consecutive indices are made in one call.
 */
export function subsetSource(source: InputSource, rows: ArrayLike<number>): InputSource {
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    if (!Number.isInteger(r) || r < 0 || r >= source.n) throw new InputError(`row ${r} (position ${k}) is out of range: the source has ${source.n} rows`);
  }
  return {
    n: rows.length,
    make(start, end) {
      return tf.tidy(() => {
        const parts: tf.Tensor[] = [];
        for (let k = start; k < end;) {
          let run = 1;
          while (k + run < end && rows[k + run] === rows[k]! + run) run++;
          parts.push(source.make(rows[k]!, rows[k]! + run));
          k += run;
        }
        return parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      });
    },
  };
}
