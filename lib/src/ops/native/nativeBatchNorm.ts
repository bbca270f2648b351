/**
 * Batch normalisation in training mode as two native kernels.
 *
 * tfjs-layers' BatchNormalization computes the batch moments with tf.moments
 * (Mean, Sub, Square, Mean), normalises with FusedBatchNorm, and its gradient is
 * tfjs-core's differentiation of all of these (Sum, Tile, Multiply, Sub, RealDiv,
 * Cast, …): about 60 small kernels per layer and step, a large part of an
 * arch_00b step's ≈1,200. Here the forward pass is one kernel and its gradient
 * another:
 *
 *   MirnaBatchNormTraining      x shape=(…, C), scale and offset shape=(C,) →
 *                               y shape=(…, C), mean and variance shape=(C,) (biased,
 *                               ÷ rows, as Keras/tfjs in training); attr varianceEpsilon.
 *                               y = (x − mean) · scale / √(variance + ε) + offset.
 *   MirnaBatchNormTrainingGrad  dy, x, mean, variance, scale → dx, dscale, doffset.
 *
 * The first has a registered gradient (the second), so it can be used inside
 * tf.grads / optimizer.minimize like any op; the gradient flows from y only: gradients
 * arriving at the mean and variance outputs are ignored (they feed only the moving
 * averages, which are not differentiated; do not use them in a loss).
 * Used by FusedBatchNormalization (lib/src/ops/batchNormalization.ts).
 */
import * as tf from "@tensorflow/tfjs";
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type GradConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorMap,
  type Tensor,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { NativeAddon } from "./addon";
import { f32, HOST_BACKEND, kernelInputs, sizeOf } from "./nativeKernelUtil";

/** Forward kernel: inputs {x, scale, offset}, outputs [y, mean, variance]. */
export const BATCH_NORM_TRAINING_KERNEL = "MirnaBatchNormTraining";
/** Gradient kernel: inputs {dy, x, mean, variance, scale}, outputs [dx, dscale, doffset]. */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = "MirnaBatchNormTrainingGrad";

interface BatchNormTrainingAttrs {
  varianceEpsilon: number;
}

function channelsOf(x: TensorInfo): number {
  if (x.shape.length < 2 || x.dtype !== "float32" || sizeOf(x.shape) === 0) {
    throw new Error(`mirna-dl native: batch norm training needs a non-empty float32 x of rank ≥ 2, got ${x.dtype} [${x.shape}]`);
  }
  return x.shape[x.shape.length - 1]!;
}

function forwardKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, scale, offset } = kernelInputs(BATCH_NORM_TRAINING_KERNEL, args.inputs, ["x", "scale", "offset"]);
    const { varianceEpsilon } = args.attrs as unknown as BatchNormTrainingAttrs;
    const c = channelsOf(x);
    const y = backend.makeOutput(x.shape, "float32");
    const mean = backend.makeOutput([c], "float32");
    const variance = backend.makeOutput([c], "float32");
    addon.batchNormTrain(
      f32(backend, x), f32(backend, scale), f32(backend, offset),
      f32(backend, y), f32(backend, mean), f32(backend, variance), c, varianceEpsilon,
    );
    return [y, mean, variance];
  };
}

function gradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, x, mean, variance, scale } = kernelInputs(
      BATCH_NORM_TRAINING_GRAD_KERNEL, args.inputs, ["dy", "x", "mean", "variance", "scale"],
    );
    const { varianceEpsilon } = args.attrs as unknown as BatchNormTrainingAttrs;
    const c = channelsOf(x);
    const dx = backend.makeOutput(x.shape, "float32");
    const dscale = backend.makeOutput([c], "float32");
    const doffset = backend.makeOutput([c], "float32");
    addon.batchNormTrainGrad(
      f32(backend, dy), f32(backend, x), f32(backend, mean), f32(backend, variance), f32(backend, scale),
      f32(backend, dx), f32(backend, dscale), f32(backend, doffset), c, varianceEpsilon,
    );
    return [dx, dscale, doffset];
  };
}

const batchNormTrainingGrad: GradConfig = {
  kernelName: BATCH_NORM_TRAINING_KERNEL,
  inputsToSave: ["x", "scale"],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    // dys[1], dys[2] (mean, variance) are zeros from tfjs' tape when, as in the layer, those
    // outputs only feed the moving averages; they are not propagated (see the module comment).
    const [dy] = dys as [Tensor, Tensor, Tensor];
    // inputsToSave then the outputs marked in outputsToSave, in that order.
    const [x, scale, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
    // One kernel for all three gradients; the engine asks for them one by one.
    const [dx, dscale, doffset] = tf.engine().runKernel(
      BATCH_NORM_TRAINING_GRAD_KERNEL,
      { dy, x, mean, variance, scale } as unknown as NamedTensorMap,
      attrs,
    ) as [Tensor, Tensor, Tensor];
    return { x: () => dx, scale: () => dscale, offset: () => doffset };
  },
};

/** Registers both kernels for the wasm backend and the forward kernel's gradient (idempotent). */
export function registerNativeBatchNorm(addon: NativeAddon): void {
  // An addon built before these kernels (MIRNA_DL_NATIVE_ADDON): the layers keep tfjs' path.
  if (typeof addon.batchNormTrain !== "function" || typeof addon.batchNormTrainGrad !== "function") return;
  for (const [name, kernelFunc] of [
    [BATCH_NORM_TRAINING_KERNEL, forwardKernel(addon)],
    [BATCH_NORM_TRAINING_GRAD_KERNEL, gradKernel(addon)],
  ] as const) {
    if (getKernel(name, HOST_BACKEND) != null) unregisterKernel(name, HOST_BACKEND);
    registerKernel({ kernelName: name, backendName: HOST_BACKEND, kernelFunc });
  }
  tf.registerGradient(batchNormTrainingGrad);
}

/** Removes both kernels (tests and A/B measurements: the layers then take tfjs' path). */
export function unregisterNativeBatchNorm(): void {
  for (const name of [BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_TRAINING_GRAD_KERNEL]) {
    if (getKernel(name, HOST_BACKEND) != null) unregisterKernel(name, HOST_BACKEND);
  }
}

/**
 * True when batchNormTraining can run on `x`: the kernels are registered, the
 * active backend is wasm (their host) and x is float32 of rank ≥ 2, non-empty.
 */
export function batchNormTrainingUsable(x: Tensor): boolean {
  return (
    tf.getBackend() === HOST_BACKEND && getKernel(BATCH_NORM_TRAINING_KERNEL, HOST_BACKEND) != null &&
    x.dtype === "float32" && x.rank >= 2 && x.size > 0
  );
}

/**
 * Training-mode batch normalisation over every axis but the last of x, shape=(…, C) (scale and
 * offset shape=(C,)): y, shape=(…, C), and the batch mean and (biased) variance, shape=(C,). Differentiable in x, scale and offset
 * through y. Check batchNormTrainingUsable first.
 */
export function batchNormTraining(
  x: Tensor, scale: Tensor, offset: Tensor, varianceEpsilon: number,
): { y: Tensor; mean: Tensor; variance: Tensor } {
  const [y, mean, variance] = tf.engine().runKernel(
    BATCH_NORM_TRAINING_KERNEL,
    { x, scale, offset } as unknown as NamedTensorMap,
    { varianceEpsilon } as unknown as NamedAttrMap,
  ) as [Tensor, Tensor, Tensor];
  return { y, mean, variance };
}
