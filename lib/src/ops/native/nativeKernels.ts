/**
 * Registers this project's native kernels (oneDNN convolutions, parallel
 * elementwise ops) in place of TensorFlow.js wasm kernels. Tensors stay on the
 * wasm heap; the addon reads and writes them there without copies, on
 * `threads` OpenMP threads, while the wasm backend keeps every other kernel.
 * Each native kernel falls back to the kernel registered before it for
 * arguments it does not handle (see nativeConv.ts, nativeDense.ts,
 * nativeElementwise.ts). Also registers the fused Adam kernel used by
 * NativeAdamOptimizer (nativeAdam.ts), the training-mode batch norm kernels
 * used by FusedBatchNormalization (nativeBatchNorm.ts) and the seeded dropout
 * kernel used by SeededDropout (nativeDropout.ts).
 */
import type { NativeAddon } from "./addon";
import {
  nativeConv2D,
  nativeConv2DBackpropFilter,
  nativeConv2DBackpropInput,
  nativeFusedConv2D,
  nativeMaxPool,
  nativeMaxPoolGrad,
} from "./nativeConv";
import { registerNativeAdam } from "./nativeAdam";
import { registerNativeBatchNorm } from "./nativeBatchNorm";
import { registerNativeDropout } from "./nativeDropout";
import { registerBroadcastingReduceGradients } from "./nativeGradients";
import { nativeBatchMatMul, nativeFusedBatchNorm, nativeFusedMatMul } from "./nativeDense";
import { nativeBinary, nativeReduce, nativeSelect, nativeUnary, sharedIdentity } from "./nativeElementwise";
import { replaceWithNative, restoreReplacedKernels, replacedKernelNames, type NativeKernelFactory } from "./nativeKernelUtil";

/** Kernel name → native implementation, in registration order. */
export const NATIVE_KERNELS: ReadonlyArray<readonly [string, NativeKernelFactory]> = [
  ["Conv2D", nativeConv2D],
  ["FusedConv2D", nativeFusedConv2D],
  ["Conv2DBackpropInput", nativeConv2DBackpropInput],
  ["Conv2DBackpropFilter", nativeConv2DBackpropFilter],
  ["MaxPool", nativeMaxPool],
  ["MaxPoolGrad", nativeMaxPoolGrad],
  ["BatchMatMul", nativeBatchMatMul],
  ["_FusedMatMul", nativeFusedMatMul],
  ["FusedBatchNorm", nativeFusedBatchNorm],
  ["Add", nativeBinary("Add")],
  ["Sub", nativeBinary("Sub")],
  ["Multiply", nativeBinary("Multiply")],
  ["RealDiv", nativeBinary("RealDiv")],
  ["SquaredDifference", nativeBinary("SquaredDifference")],
  ["Maximum", nativeBinary("Maximum")],
  ["Minimum", nativeBinary("Minimum")],
  ["Greater", nativeBinary("Greater")],
  ["GreaterEqual", nativeBinary("GreaterEqual")],
  ["Less", nativeBinary("Less")],
  ["LessEqual", nativeBinary("LessEqual")],
  ["Equal", nativeBinary("Equal")],
  ["LeakyRelu", nativeUnary("LeakyRelu")],
  ["Relu", nativeUnary("Relu")],
  ["Square", nativeUnary("Square")],
  ["Sqrt", nativeUnary("Sqrt")],
  ["Rsqrt", nativeUnary("Rsqrt")],
  ["Neg", nativeUnary("Neg")],
  ["Sum", nativeReduce(false)],
  ["Mean", nativeReduce(true)],
  ["Select", nativeSelect],
  ["Identity", sharedIdentity],
];

/**
 * Replaces the wasm kernels listed in NATIVE_KERNELS (idempotent) and sets the
 * addon's thread count when given. Call after the wasm backend's kernels and
 * this project's wasm training kernels are registered. Returns the names replaced.
 */
export function registerNativeKernels(addon: NativeAddon, threads?: number): string[] {
  if (threads !== undefined) addon.setThreads(threads);
  registerNativeAdam(addon);
  registerNativeBatchNorm(addon);
  registerNativeDropout(addon);
  registerBroadcastingReduceGradients();
  for (const [name, make] of NATIVE_KERNELS) replaceWithNative(name, addon, make);
  return replacedKernelNames();
}

/** Puts the wasm kernels back (for A/B measurements and tests). */
export function unregisterNativeKernels(): void {
  restoreReplacedKernels();
}
