import * as tf from "@tensorflow/tfjs";
import { batchNormTraining, batchNormTrainingUsable } from "./native/nativeBatchNorm";

/** tfjs-layers' BatchNormalization (its class is not exported; typed through its factory). */
type TfjsBatchNormalization = ReturnType<typeof tf.layers.batchNormalization>;
type BatchNormalizationArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;

/** The fields of tfjs' BatchNormalization the fused training path reads (private in its typings). */
interface BatchNormalizationState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

// Taken from an instance: a named layer, so tfjs' automatic layer names are not advanced.
const TfjsBatchNormalizationClass = Object.getPrototypeOf(tf.layers.batchNormalization({ name: "mirna_dl_probe" }))
  .constructor as Pick<typeof tf.layers.Layer, "fromConfig"> & {
  new (args?: BatchNormalizationArgs): TfjsBatchNormalization;
  className: string;
};

/**
 * tfjs' BatchNormalization whose training-mode call is one native kernel for the batch
 * moments and the normalisation, and one for the gradient (lib/src/ops/native/nativeBatchNorm.ts),
 * instead of ≈60 small kernels. Used when those kernels can run: the native backend is
 * active, the layer normalises the last axis with center and scale, the input is float32.
 * Otherwise, and in inference, it is exactly tfjs' layer (`super.call`).
 *
 * Same weights (gamma, beta, moving_mean, moving_variance), config and class name
 * ("BatchNormalization"), so Keras .h5 weights load by name and saved models load in plain
 * tfjs. The moving averages are updated with the same ops as tfjs/Keras:
 * moving −= (moving − batch)·(1 − momentum), with the biased batch variance.
 *
 * Registered for deserialisation under "BatchNormalization" (replacing tfjs' own class,
 * which it behaves as whenever the native path is off), so loaded models use it too.
 */
export class FusedBatchNormalization extends TfjsBatchNormalizationClass {
  static override className = "BatchNormalization";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as BatchNormalizationState;
    const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    if (
      !kwargs.training || input == null || !self.center || !self.scale ||
      (self.axis >= 0 ? self.axis : self.axis + input.rank) !== input.rank - 1 || !batchNormTrainingUsable(input)
    ) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(input, self.gamma.read(), self.beta.read(), self.epsilon);
      // As tfjs-layers' doMovingAverage (same ops, same float32 rounding).
      const decay = 1 - self.momentum;
      for (const [variable, value] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const original = variable.read();
          variable.write(tf.sub(original, tf.mul(tf.sub(original, value), decay)));
        });
      }
      return y;
    });
  }
}
tf.serialization.registerClass(FusedBatchNormalization);

/** A batch normalisation layer: {@link FusedBatchNormalization} (tfjs' layer off the native backend). */
export function batchNormalization(args: BatchNormalizationArgs): tf.layers.Layer {
  return new FusedBatchNormalization(args);
}
