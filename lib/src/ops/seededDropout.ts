import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { nativeDropout, nativeDropoutUsable } from "./native/nativeDropout";

/**
 * Dropout whose masks are reproducible: the mask of a training call is drawn from the seed
 * string `"<seed>/<step>"`. `step` counts training calls and can be set from outside
 * ({@link setDropoutStep}) so a resumed run draws the same masks as an uninterrupted one.
 * (tfjs' own `dropout({seed})` draws the SAME mask on every call when given a seed.)
 * Inference calls pass the input through. On the native backend the mask and product are
 * one native kernel (lib/src/ops/native/nativeDropout.ts) giving the same values as tf.dropout.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = "SeededDropout";
  readonly rate: number;
  readonly seed: number;
  /** Index of the next training call; advanced by each training call. */
  step = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new InputError(`dropout rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (!kwargs.training || this.rate === 0) return tf.clone(x);
    const seed = `${this.seed}/${this.step}`;
    this.step++;
    return nativeDropoutUsable(x) ? nativeDropout(x, this.rate, seed) : tf.dropout(x, this.rate, undefined, seed);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/** Sets the training-call counter of every {@link SeededDropout} layer of `model`. */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const layer of model.layers) if (layer instanceof SeededDropout) layer.step = step;
}
