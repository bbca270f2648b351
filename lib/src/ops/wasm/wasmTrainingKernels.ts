/**
 * Kernels this project adds to or replaces in the TensorFlow.js wasm backend so
 * that training a CNN works there and is not dominated by slow kernels.
 *
 * Added (missing in tfjs-backend-wasm 4.22, training fails without it):
 *   - Conv2DBackpropFilter            (./wasmConv2DBackpropFilter)
 * Replaced (present but slow; each falls back to the original for cases it does
 * not handle):
 *   - Conv2DBackpropInput, stride 1   (./wasmConv2DBackpropInput)
 *   - Tile, whole-input repeats       (./wasmTile)
 *   - MaxPoolGrad, float32            (./wasmMaxPoolGrad; also fixes a wrong result of
 *     the original for windows whose values are all negative)
 *   - BatchMatMul with transposeA/B   (./wasmBatchMatMul)
 *
 * Every other kernel an arch_00b training step needs (Conv2D/FusedConv2D,
 * LeakyRelu, Select/Greater for its gradient, FusedBatchNorm, Sub, Square,
 * Rsqrt, MaxPool, RandomUniform is done in JS by tfjs-core for dropout, Multiply,
 * BatchMatMul, Sigmoid, Log, the Adam ops) is present in tfjs-backend-wasm 4.22.
 */
import { registerWasmBatchMatMul } from "./wasmBatchMatMul";
import { registerWasmConv2DBackpropFilter } from "./wasmConv2DBackpropFilter";
import { registerWasmConv2DBackpropInput } from "./wasmConv2DBackpropInput";
import { registerWasmMaxPoolGrad } from "./wasmMaxPoolGrad";
import { registerWasmTile } from "./wasmTile";
import { restoreWasmKernel } from "./wasmKernelUtil";

/** Kernel names replaced (not added) by registerWasmTrainingKernels. */
export const REPLACED_WASM_KERNELS = [
  "Conv2DBackpropInput",
  "Tile",
  "MaxPoolGrad",
  "BatchMatMul",
] as const;

/**
 * Registers all of the above for the wasm backend. Idempotent; call it after
 * @tensorflow/tfjs-backend-wasm has been imported (its kernels must be in the
 * registry to be replaced). Works before or after tf.setBackend('wasm').
 */
export function registerWasmTrainingKernels(): void {
  registerWasmConv2DBackpropFilter();
  registerWasmConv2DBackpropInput();
  registerWasmTile();
  registerWasmMaxPoolGrad();
  registerWasmBatchMatMul();
}

/**
 * Puts tfjs-backend-wasm's own kernels back for the replaced ones (the added
 * Conv2DBackpropFilter stays: there is nothing to go back to). For A/B
 * measurements and tests.
 */
export function restoreOriginalWasmKernels(): void {
  for (const name of REPLACED_WASM_KERNELS) restoreWasmKernel(name);
}
