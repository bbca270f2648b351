import * as tf from "@tensorflow/tfjs";
import { InputError } from "./errors";
import { subsetSource } from "./predict";
import type { InputSource, Prediction } from "./predict";

/**
 * Gradient attributions for any model and input kind: a score per sample (a class logit, a
 * binding logit, …) and the gradient of that score with respect to the input, batch by batch.
 * The hairpin saliency maps (hairpin/saliency.ts) and the binding attributions are made with
 * these.
 */

/** A differentiable score per sample: input batch shape=(batch, …) → shape=(batch,). */
export type ScoreFunction = (x: tf.Tensor) => tf.Tensor;

/** A score function and the tensors it holds (free them with `dispose`). */
export interface TargetScore {
  score: ScoreFunction;
  dispose: () => void;
}

/**
 * The quantity whose gradient explains output `outputIndex` of `model` (single input and
 * output, inference mode):
 *   - last layer a 2-unit softmax Dense: the logit difference z_index − z_other;
 *   - last layer a 1-unit sigmoid Dense: the logit z (index must be 0);
 *   - otherwise the output column `outputIndex` itself.
 * Logits, because trained classifiers drive many probabilities to exactly 0 or 1 in float32,
 * where the probability's gradient vanishes and an input would get an empty attribution
 * (keras-vis, too, recommends swapping the final softmax for a linear activation). The logits
 * are computed from the penultimate layer's output and the last layer's weights. The score maps
 * an input batch, shape=(batch, …model input shape), to shape=(batch,).
 */
export function targetScore(model: tf.LayersModel, outputIndex = 0): TargetScore {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new InputError(`attributions need a model with one input and one output; it has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const units = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1];
  if (!Number.isInteger(outputIndex) || outputIndex < 0 || (typeof units === "number" && outputIndex >= units)) {
    throw new InputError(`output index ${outputIndex} is out of range for an output of ${units} units`);
  }
  const last = model.layers[model.layers.length - 1]!;
  const config = last.getConfig();
  const weights = last.getWeights();
  const isDense = last.getClassName() === "Dense" && weights.length === 2 && model.layers.length >= 2;
  if (isDense && ((config.activation === "softmax" && units === 2) || (config.activation === "sigmoid" && units === 1))) {
    const features = tf.model({ inputs: model.inputs, outputs: model.layers[model.layers.length - 2]!.output as tf.SymbolicTensor });
    const [kernel, bias] = weights as [tf.Tensor2D, tf.Tensor1D];
    // z·sign: the logit difference for softmax, the logit itself for sigmoid.
    const sign = units === 2 ? tf.tensor1d(outputIndex === 1 ? [-1, 1] : [1, -1]) : tf.tensor1d([1]);
    const direction = tf.tidy(() => tf.matMul(kernel, sign.reshape([units, 1]))); // [features, 1]
    const offset = tf.tidy(() => tf.dot(bias, sign));
    sign.dispose();
    return {
      score: (x) => {
        const h = features.apply(x, { training: false }) as tf.Tensor;
        return tf.add(tf.matMul(h.reshape([h.shape[0]!, -1]), direction).reshape([-1]), offset);
      },
      dispose: () => tf.dispose([direction, offset]),
    };
  }
  return {
    score: (x) => (model.apply(x, { training: false }) as tf.Tensor).reshape([x.shape[0]!, -1]).slice([0, outputIndex], [-1, 1]).reshape([-1]),
    dispose: () => {},
  };
}

/**
 * Saliency: ∂score/∂input for every row of `inputs`, `batchSize` rows at a time. In inference
 * mode every score depends only on its own row, so the gradient of the batch's summed score is
 * each row's own gradient. Returns values Float32Array, shape=(n, …input row shape), row-major.
 */
export function inputGradients(score: ScoreFunction, inputs: InputSource, opts: { batchSize?: number } = {}): Prediction {
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const gradient = tf.grad((x: tf.Tensor) => score(x).sum());
  let values: Float32Array | null = null;
  let rowShape: number[] = [];
  for (let start = 0; start < inputs.n; start += batchSize) {
    const end = Math.min(inputs.n, start + batchSize);
    const g = tf.tidy(() => gradient(inputs.make(start, end)));
    const data = g.dataSync() as Float32Array;
    if (values === null) {
      rowShape = g.shape.slice(1);
      values = new Float32Array(inputs.n * (data.length / (end - start)));
    }
    values.set(data, start * (data.length / (end - start)));
    g.dispose();
  }
  return { values: values ?? new Float32Array(0), shape: [inputs.n, ...rowShape] };
}

// ---------------------------------------------------------------------------------------------
// Integrated gradients
// ---------------------------------------------------------------------------------------------

/** How the path integral of {@link integratedGradients} is approximated. */
export type IntegrationRule = "gauss-legendre" | "trapezoid";

/** Nodes α ∈ [0, 1] on the path and their weights (summing to 1). */
export interface IntegrationNodes {
  alphas: Float64Array;
  weights: Float64Array;
}

/**
 * Quadrature nodes on [0, 1] for `steps` points of the path integral:
 *   - "gauss-legendre": the `steps` Gauss–Legendre nodes and weights, exact for polynomials of
 *     degree 2·steps − 1 (nodes from Newton's method on the Legendre polynomial, to 1e-15);
 *   - "trapezoid": the `steps` + 1 points k / steps, k = 0 … steps, weights 1/steps (halved at
 *     both ends).
 * For the piecewise-linear networks here (leaky ReLU, max pooling) the gradient along the path
 * is piecewise constant, and both rules converge like 1 / steps.
 */
export function integrationNodes(steps: number, rule: IntegrationRule = "gauss-legendre"): IntegrationNodes {
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`steps must be a positive integer, got ${steps}`);
  if (rule === "trapezoid") {
    const alphas = Float64Array.from({ length: steps + 1 }, (_, k) => k / steps);
    const weights = Float64Array.from({ length: steps + 1 }, (_, k) => (k === 0 || k === steps ? 0.5 : 1) / steps);
    return { alphas, weights };
  }
  if (rule !== "gauss-legendre") throw new InputError(`unknown integration rule '${String(rule)}' (use gauss-legendre or trapezoid)`);
  const n = steps;
  const alphas = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Root i of P_n on [−1, 1] (descending), from the classic initial guess.
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 1;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1;
      const pPrev = n === 1 ? 1 : p0;
      derivative = (n * (x * pn - pPrev)) / (x * x - 1);
      const dx = pn / derivative;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    // Mapped to [0, 1]: α = (1 − x) / 2 (ascending), weight 2 / ((1 − x²) P'(x)²) halved.
    alphas[i] = (1 - x) / 2;
    weights[i] = 1 / ((1 - x * x) * derivative * derivative);
  }
  return { alphas, weights };
}

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions {
  /**
   * The reference input x′ the attributions are relative to: a number (every input value equal
   * to it; default 0, e.g. the all-zero binding matrix = "no pairing at all"), or an
   * InputSource of one row, shape=(1, …input row shape) (the same baseline for every input), or of
   * as many rows as the inputs, shape=(n, …input row shape) (a baseline per row).
   */
  baseline?: number | InputSource;
  /** Points on the path (see {@link integrationNodes}). Default 64. */
  steps?: number;
  /** Default "gauss-legendre". */
  rule?: IntegrationRule;
  /**
   * Refine until complete: rows whose completeness error ({@link completenessErrors}) exceeds
   * this are computed again with twice the steps, up to `maxSteps`. Default: no refinement.
   */
  tolerance?: number;
  /** Most steps a refined row gets. Default 512. */
  maxSteps?: number;
  /** Path points per gradient pass (rows × nodes are packed into one batch). Default 256. */
  batchSize?: number;
  /** Called after each chunk of rows with rows done and total (of the first pass, then of each refinement). */
  onProgress?: (done: number, total: number) => void;
}

/** Output of {@link integratedGradients}. */
export interface IntegratedGradientsResult extends Prediction {
  /** score(x) per row, shape=(n,). */
  inputScores: Float32Array;
  /** score(x′) per row, shape=(n,). */
  baselineScores: Float32Array;
  /** Sum of each row's attributions (float64), shape=(n,): ≈ inputScores − baselineScores (completeness). */
  sums: Float64Array;
  /** Path points each row's attributions were computed with, shape=(n,). */
  steps: Uint16Array;
}

/**
 * Integrated gradients (Sundararajan et al. 2017) of `score` for every row of `inputs`:
 *   IG(x)ᵢ = (xᵢ − x′ᵢ) · ∫₀¹ ∂score/∂xᵢ (x′ + α (x − x′)) dα,
 * the integral approximated by the quadrature of {@link integrationNodes}. Attributions satisfy
 * completeness — they sum to score(x) − score(x′) — up to the quadrature error, which
 * {@link completenessErrors} measures; with `tolerance`, rows above it are recomputed with
 * twice the steps until they meet it or reach `maxSteps`. Any model and input kind: `score`
 * maps a batch to one value per row (e.g. {@link targetScore}), `inputs` makes the rows (as for
 * predict). In inference mode each row's score depends only on that row, so the gradient of a
 * batch's summed score is each path point's own gradient.
 * Returns attributions (values Float32Array, shape=(n, …input row shape), row-major), the two
 * scores, the sums and the steps per row (each shape=(n,)). Leaves no tensors behind.
 */
export function integratedGradients(score: ScoreFunction, inputs: InputSource, opts: IntegratedGradientsOptions = {}): IntegratedGradientsResult {
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const rule = opts.rule ?? "gauss-legendre";
  let steps = opts.steps ?? 64;
  integrationNodes(steps, rule); // validates steps and rule
  const maxSteps = opts.maxSteps ?? 512;
  const tolerance = opts.tolerance;
  if (tolerance !== undefined && !(tolerance > 0)) throw new InputError(`tolerance must be a positive number, got ${tolerance}`);
  if (tolerance !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= steps && maxSteps < 65536)) {
    throw new InputError(`maxSteps must be an integer from steps (${steps}) to 65535, got ${maxSteps}`);
  }
  const baseline = opts.baseline ?? 0;
  if (typeof baseline === "number" && !Number.isFinite(baseline)) throw new InputError(`baseline must be a finite number, got ${baseline}`);
  if (typeof baseline !== "number" && baseline.n !== 1 && baseline.n !== inputs.n) {
    throw new InputError(`the baseline has ${baseline.n} rows: give one row (shared) or one per input row (${inputs.n})`);
  }
  const gradient = tf.grad((x: tf.Tensor) => score(x).sum());
  const n = inputs.n;
  const first = integratedGradientsPass(score, gradient, inputs, baseline, integrationNodes(steps, rule), batchSize, opts.onProgress);
  const result: IntegratedGradientsResult = { ...first, steps: new Uint16Array(n).fill(steps) };
  if (tolerance === undefined || n === 0) return result;
  const size = result.values.length / n;
  for (let errors = completenessErrors(result); steps * 2 <= maxSteps;) {
    const rows = Int32Array.from(errors.keys()).filter((i) => errors[i]! > tolerance);
    if (rows.length === 0) break;
    steps *= 2;
    const again = integratedGradientsPass(
      score, gradient, subsetSource(inputs, rows),
      typeof baseline === "number" || baseline.n === 1 ? baseline : subsetSource(baseline, rows),
      integrationNodes(steps, rule), batchSize, opts.onProgress,
    );
    rows.forEach((row, k) => {
      result.values.set(again.values.subarray(k * size, (k + 1) * size), row * size);
      result.sums[row] = again.sums[k]!;
      result.steps[row] = steps;
    });
    errors = completenessErrors(result);
  }
  return result;
}

/** One pass of {@link integratedGradients} over every row of `inputs` with the given nodes. */
function integratedGradientsPass(
  score: ScoreFunction,
  gradient: (x: tf.Tensor) => tf.Tensor,
  inputs: InputSource,
  baseline: number | InputSource,
  { alphas, weights }: IntegrationNodes,
  batchSize: number,
  onProgress: ((done: number, total: number) => void) | undefined,
): Omit<IntegratedGradientsResult, "steps"> {
  const nodes = alphas.length;
  const n = inputs.n;
  const rowsPerPass = Math.max(1, Math.floor(batchSize / nodes));
  const nodesPerPass = Math.min(nodes, batchSize);
  const inputScores = new Float32Array(n);
  const baselineScores = new Float32Array(n);
  const sums = new Float64Array(n);
  let values: Float32Array | null = null;
  let rowShape: number[] = [];
  for (let start = 0; start < n; start += rowsPerPass) {
    const end = Math.min(n, start + rowsPerPass);
    const rows = end - start;
    const [attribution, sx, sx0] = tf.tidy(() => {
      const x = inputs.make(start, end);
      if (x.shape[0] !== rows) throw new InputError(`inputs.make(${start}, ${end}) gave ${x.shape[0]} rows, expected ${rows}`);
      let x0: tf.Tensor;
      if (typeof baseline === "number") x0 = tf.fill(x.shape, baseline);
      else {
        const made = baseline.n === 1 ? baseline.make(0, 1) : baseline.make(start, end);
        if (!tf.util.arraysEqual(made.shape.slice(1), x.shape.slice(1))) {
          throw new InputError(`the baseline rows have shape [${made.shape.slice(1).join(", ")}], the inputs [${x.shape.slice(1).join(", ")}]`);
        }
        x0 = baseline.n === 1 ? tf.broadcastTo(made, x.shape) : made;
      }
      const diff = tf.sub(x, x0);
      const inner = x.shape.slice(1);
      const ones = inner.map(() => 1);
      let total: tf.Tensor = tf.zerosLike(x);
      for (let firstNode = 0; firstNode < nodes; firstNode += nodesPerPass) {
        const count = Math.min(nodesPerPass, nodes - firstNode);
        const alpha = tf.tensor(Float32Array.from(alphas.subarray(firstNode, firstNode + count)), [1, count, ...ones]);
        const weight = tf.tensor(Float32Array.from(weights.subarray(firstNode, firstNode + count)), [1, count, ...ones]);
        // Path points x′ + α (x − x′): shape=(rows·count, …).
        const path = tf.add(x0.expandDims(1), tf.mul(alpha, diff.expandDims(1))).reshape([rows * count, ...inner]);
        const g = gradient(path).reshape([rows, count, ...inner]);
        total = tf.add(total, tf.sum(tf.mul(g, weight), 1));
      }
      return [tf.mul(diff, total), score(x), score(x0)];
    });
    const data = attribution.dataSync() as Float32Array;
    const size = data.length / rows;
    if (values === null) {
      rowShape = attribution.shape.slice(1);
      values = new Float32Array(n * size);
    }
    values.set(data, start * size);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = r * size; j < (r + 1) * size; j++) s += data[j]!;
      sums[start + r] = s;
    }
    inputScores.set(sx.dataSync() as Float32Array, start);
    baselineScores.set(sx0.dataSync() as Float32Array, start);
    tf.dispose([attribution, sx, sx0]);
    onProgress?.(end, n);
  }
  return { values: values ?? new Float32Array(0), shape: [n, ...rowShape], inputScores, baselineScores, sums };
}

/**
 * Completeness error of each row of an {@link integratedGradients} result:
 * |Σ attributions − (score(x) − score(x′))| / max(|score(x) − score(x′)|, `floor`). `floor`
 * (default 1e-3) keeps rows whose input scores like the baseline from dividing by ~0.
 * Returns Float64Array, shape=(n,).
 */
export function completenessErrors(result: Pick<IntegratedGradientsResult, "sums" | "inputScores" | "baselineScores">, floor = 1e-3): Float64Array {
  const n = result.sums.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const delta = result.inputScores[i]! - result.baselineScores[i]!;
    out[i] = Math.abs(result.sums[i]! - delta) / Math.max(Math.abs(delta), floor);
  }
  return out;
}
