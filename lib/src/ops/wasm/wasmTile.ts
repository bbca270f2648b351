/**
 * Faster `Tile` for the TensorFlow.js wasm backend, for the case where the output
 * is the whole input repeated end to end.
 *
 * tfjs' batch-norm gradient tiles the per-channel scale, shape=(1, 1, 1, C), to the
 * full activation shape=(B, H, W, C); the wasm Tile kernel computes an index per
 * element and took 73 ms for shape=(1, 1, 1, 32) → (32, 50, 20, 32) (≈18% of an arch_00b
 * training step). When every repeated axis comes before every axis of size > 1
 * (reps[i] = 1 for i ≥ p and shape[i] = 1 for i < p), the output's flat data is
 * the input's flat data repeated prod(reps) times, which is a memcpy doubling on
 * the wasm heap. All other cases (and strings) use the original kernel.
 */
import { Tile, type KernelFunc, type TensorInfo, type TileAttrs } from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { replaceWasmKernel, singleOutput } from "./wasmKernelUtil";

/** True when Tile(shape, reps) is shape's data repeated end to end. */
export function tileIsWholeRepeat(shape: readonly number[], reps: readonly number[]): boolean {
  if (shape.length !== reps.length) return false;
  let seenRealAxis = false; // an axis with shape > 1 has appeared
  for (let i = 0; i < shape.length; i++) {
    if (reps[i]! > 1 && seenRealAxis) return false;
    if (shape[i]! > 1) seenRealAxis = true;
  }
  return true;
}

function makeTile(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as TensorInfo | undefined;
    const { reps } = args.attrs as unknown as TileAttrs;
    const fallback = (): TensorInfo => singleOutput(Tile, original(args));
    if (x == null || x.dtype === "string" || !tileIsWholeRepeat(x.shape, reps)) return fallback();
    const outShape = x.shape.map((d, i) => d * reps[i]!); // same rank (tileIsWholeRepeat)
    const inSize = x.shape.reduce((a, b) => a * b, 1);
    const outSize = outShape.reduce((a, b) => a * b, 1);
    if (inSize === 0) return fallback();
    const out = backend.makeOutput(outShape, x.dtype);
    // Views are taken after makeOutput: growing the wasm heap detaches older views.
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    dst.set(src, 0);
    let filled = inSize;
    while (filled < outSize) {
      const chunk = Math.min(filled, outSize - filled);
      dst.copyWithin(filled, 0, chunk);
      filled += chunk;
    }
    return out;
  };
}

/** Replaces the wasm Tile kernel (idempotent). False if wasm has none. */
export function registerWasmTile(): boolean {
  return replaceWasmKernel(Tile, makeTile);
}
