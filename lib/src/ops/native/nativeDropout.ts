/**
 * Seeded dropout as one native kernel.
 *
 * tf.dropout(x, rate, undefined, seed) draws randomUniform(x.shape, 0, 1, 'float32',
 * seed) in JavaScript (seedrandom's Alea, one call per element: ≈3 ms for the six
 * dropout layers of an arch_00b step), then runs Add, Floor, RealDiv and Multiply.
 * MirnaDropout does all of it in the addon with a port of the same generator, so
 * the mask is bit-for-bit tfjs' for the same seed:
 *
 *   MirnaDropout  x shape=(…) float32 → y = x · mask (same shape), mask = floor(u + keep) / keep
 *                 (u the seeded uniforms, keep = 1 − rate); attrs rate, seed (string).
 *
 * Its gradient is dy · mask (as tf.dropout's through Multiply). Used by SeededDropout
 * (lib/src/ops/seededDropout.ts) when the native backend is active.
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
import { f32, HOST_BACKEND, kernelInputs } from "./nativeKernelUtil";

/** Kernel: inputs {x}, outputs [y, mask]. */
export const DROPOUT_KERNEL = "MirnaDropout";

interface DropoutAttrs {
  rate: number;
  seed: string;
}

function dropoutKernel(dropout: NonNullable<NativeAddon["dropout"]>): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = kernelInputs(DROPOUT_KERNEL, args.inputs, ["x"]);
    const { rate, seed } = args.attrs as unknown as DropoutAttrs;
    const y = backend.makeOutput(x.shape, "float32");
    const mask = backend.makeOutput(x.shape, "float32");
    dropout(f32(backend, x), f32(backend, y), f32(backend, mask), seed, rate);
    return [y, mask];
  };
}

const dropoutGrad: GradConfig = {
  kernelName: DROPOUT_KERNEL,
  outputsToSave: [false, true],
  gradFunc: (dys, saved) => {
    const [mask] = saved as [Tensor];
    const [dy] = dys as [Tensor, Tensor];
    return { x: () => tf.mul(dy, mask) };
  },
};

/** Registers MirnaDropout for the wasm backend and its gradient (idempotent). */
export function registerNativeDropout(addon: NativeAddon): void {
  const dropout = addon.dropout?.bind(addon);
  if (dropout == null) return; // an addon built before it: tf.dropout stays
  if (getKernel(DROPOUT_KERNEL, HOST_BACKEND) != null) unregisterKernel(DROPOUT_KERNEL, HOST_BACKEND);
  registerKernel({ kernelName: DROPOUT_KERNEL, backendName: HOST_BACKEND, kernelFunc: dropoutKernel(dropout) });
  tf.registerGradient(dropoutGrad);
}

/** Removes MirnaDropout (tests and A/B measurements: SeededDropout then uses tf.dropout). */
export function unregisterNativeDropout(): void {
  if (getKernel(DROPOUT_KERNEL, HOST_BACKEND) != null) unregisterKernel(DROPOUT_KERNEL, HOST_BACKEND);
}

/** True when nativeDropout can run on x: kernel registered, wasm active, x float32. */
export function nativeDropoutUsable(x: Tensor): boolean {
  return tf.getBackend() === HOST_BACKEND && getKernel(DROPOUT_KERNEL, HOST_BACKEND) != null && x.dtype === "float32";
}

/**
 * The same values as tf.dropout(x, rate, undefined, seed) (0 < rate < 1), differentiable
 * in x. Check nativeDropoutUsable first.
 */
export function nativeDropout(x: Tensor, rate: number, seed: string): Tensor {
  const [y] = tf.engine().runKernel(DROPOUT_KERNEL, { x } as unknown as NamedTensorMap, { rate, seed } as unknown as NamedAttrMap) as [Tensor, Tensor];
  return y;
}
