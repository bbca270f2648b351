/**
 * Replacing TensorFlow.js wasm kernels by native ones (lib/src/ops/native/*), with
 * the kernel that was registered before (tfjs-backend-wasm's own or this
 * project's wasm training kernel) kept as the fallback for arguments the native
 * version does not handle, and put back by `restoreReplacedKernels`.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { NativeAddon } from "./addon";

/** The tfjs backend whose kernels are replaced (tensors live on its heap). */
export const HOST_BACKEND = "wasm";

/** Previous kernel configs by name, while a native one is registered. */
const previous = new Map<string, KernelConfig>();

/** Signature of a native kernel factory: the addon and the fallback kernel function. */
export type NativeKernelFactory = (addon: NativeAddon, fallback: KernelFunc) => KernelFunc;

/**
 * Registers `make(addon, fallback)` as the wasm kernel `kernelName`. Idempotent.
 * Returns false when no kernel of that name is registered for wasm (nothing to
 * fall back on; the native kernel is then not registered either).
 */
export function replaceWithNative(kernelName: string, addon: NativeAddon, make: NativeKernelFactory): boolean {
  if (previous.has(kernelName)) return true;
  const before = getKernel(kernelName, HOST_BACKEND);
  if (before == null) return false;
  previous.set(kernelName, before);
  unregisterKernel(kernelName, HOST_BACKEND);
  registerKernel({
    kernelName,
    backendName: HOST_BACKEND,
    kernelFunc: make(addon, before.kernelFunc),
    setupFunc: before.setupFunc,
    disposeFunc: before.disposeFunc,
  });
  return true;
}

/** Names of the kernels currently replaced by native ones. */
export function replacedKernelNames(): string[] {
  return [...previous.keys()];
}

/** Puts back every kernel that was registered before replaceWithNative. */
export function restoreReplacedKernels(): void {
  for (const [name, config] of previous) {
    unregisterKernel(name, HOST_BACKEND);
    registerKernel(config);
  }
  previous.clear();
}

/** Narrows a kernel result to its single output. */
export function single(out: TensorInfo | TensorInfo[]): TensorInfo {
  if (Array.isArray(out)) throw new Error(`kernel returned ${out.length} outputs, expected 1`);
  return out;
}

/**
 * The inputs `names` of a call of this project's kernel `kernelName`, each checked to be there
 * (`const { x, scale } = kernelInputs(KERNEL, args.inputs, ["x", "scale"])`). The map itself
 * is returned, typed: nothing is copied. A missing input is a caller's error, named here rather
 * than as a crash inside the addon.
 */
export function kernelInputs<K extends string>(
  kernelName: string,
  inputs: NamedTensorInfoMap,
  names: readonly K[],
): Record<K, TensorInfo> {
  for (const name of names) {
    if (inputs[name] == null) throw new Error(`mirna-dl native: kernel ${kernelName} called without its input '${name}'`);
  }
  return inputs as Record<K, TensorInfo>;
}

/** Float32 view of a tensor on the wasm heap. Take views only after the last makeOutput of a kernel. */
export function f32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Uint8 view of a bool tensor on the wasm heap. */
export function u8(backend: BackendWasm, t: TensorInfo): Uint8Array {
  return backend.typedArrayFromHeap(t) as Uint8Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
