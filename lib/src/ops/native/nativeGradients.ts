/**
 * Gradients of Sum and Mean without a full-size ones tensor.
 *
 * tfjs-core's gradients of Sum and Mean compute `dy (reshaped) * ones(x.shape)`:
 * the ones are made in JavaScript and uploaded to the backend on every call. For
 * batch norm's moments over activations of shape=(32, 50, 20, 32) that is a 1M-element JS
 * array per call; a CPU profile of arch_00b training on the native backend put
 * `makeOnesTypedArray` at 6.5% of the time. These versions broadcast dy instead
 * (tf.broadcastTo; the same values: x·1 = x exactly, and Mean then divides by the
 * same reduce size). Registered (globally, as tfjs gradients are) when the native
 * backend starts.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, NamedAttrMap, Tensor } from "@tensorflow/tfjs";

function broadcastDy(dy: Tensor, x: Tensor, attrs: NamedAttrMap): { broadcast: Tensor; reduceSize: number } {
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const expandedShape = x.shape.slice();
  let reduceSize = 1;
  for (const axis of axes) {
    expandedShape[axis] = 1;
    reduceSize *= x.shape[axis]!; // parseAxisParam checked the axes against x's rank
  }
  const broadcast = tf.broadcastTo(tf.reshape(dy, expandedShape), x.shape);
  // As the original dy·ones(float32): a float32 result for any dy dtype.
  return { broadcast: broadcast.dtype === "float32" ? broadcast : broadcast.cast("float32"), reduceSize };
}

const sumGrad: GradConfig = {
  kernelName: "Sum",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [Tensor];
    return { x: () => broadcastDy(dy as Tensor, x, attrs).broadcast };
  },
};

const meanGrad: GradConfig = {
  kernelName: "Mean",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [Tensor];
    return {
      x: () => {
        const { broadcast, reduceSize } = broadcastDy(dy as Tensor, x, attrs);
        return tf.div(broadcast, reduceSize);
      },
    };
  },
};

/** Replaces tfjs-core's Sum and Mean gradients by the broadcasting ones above (idempotent). */
export function registerBroadcastingReduceGradients(): void {
  tf.registerGradient(sumGrad);
  tf.registerGradient(meanGrad);
}
