import * as tf from "@tensorflow/tfjs";
import { InputError } from "./errors";
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
 * are computed from the penultimate layer's output and the last layer's weights.
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
 * each row's own gradient. Returns values row-major, shape=(n, …input shape).
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
