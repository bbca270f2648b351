/**
 * Helpers shared by the wasm kernels of this folder: run another registered wasm
 * kernel on TensorInfos, and replace a kernel while keeping the original as a
 * fallback.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export const WASM_BACKEND = "wasm";

/**
 * Runs the kernel `kernelName` registered for the wasm backend and returns its
 * single output. The caller owns the result and must release it with
 * `backend.disposeData(result.dataId)` unless it returns it from its own kernel.
 */
export function runWasmKernel(
  kernelName: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const config = getKernel(kernelName, WASM_BACKEND);
  if (config == null) {
    throw new Error(
      `the wasm kernel '${kernelName}' is not registered (is @tensorflow/tfjs-backend-wasm 4.x imported?)`,
    );
  }
  return singleOutput(kernelName, config.kernelFunc({ inputs, attrs, backend }));
}

/** Narrows a kernel result to one TensorInfo. */
export function singleOutput(kernelName: string, out: TensorInfo | TensorInfo[]): TensorInfo {
  if (Array.isArray(out)) {
    throw new Error(`wasm kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
  }
  return out;
}

/** The kernel function tfjs-backend-wasm registered before we replaced it, by kernel name. */
const originals = new Map<string, KernelConfig>();

/**
 * Replaces the wasm kernel `kernelName` by `kernelFunc`, which receives the
 * original kernel function to fall back on for arguments it does not handle.
 * The original's setupFunc is kept: the engine calls it on every setBackend, and
 * the original kernel function needs it. Idempotent: a second call is a no-op.
 * Returns false when there was no original to replace (nothing registered).
 */
export function replaceWasmKernel(
  kernelName: string,
  makeKernelFunc: (original: KernelFunc) => KernelFunc,
): boolean {
  if (originals.has(kernelName)) return true;
  const original = getKernel(kernelName, WASM_BACKEND);
  if (original == null) return false;
  originals.set(kernelName, original);
  unregisterKernel(kernelName, WASM_BACKEND); // avoids tfjs' "already registered" warning
  registerKernel({
    kernelName,
    backendName: WASM_BACKEND,
    kernelFunc: makeKernelFunc(original.kernelFunc),
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  });
  return true;
}

/** Puts back the kernel tfjs-backend-wasm registered (for A/B measurements and tests). */
export function restoreWasmKernel(kernelName: string): void {
  const original = originals.get(kernelName);
  if (original == null) return;
  unregisterKernel(kernelName, WASM_BACKEND);
  registerKernel(original);
  originals.delete(kernelName);
}
