/**
 * `BatchMatMul` with transposed operands for the TensorFlow.js wasm backend.
 *
 * The wasm BatchMatMul only uses XNNPACK when neither operand is transposed and
 * the batch is 1; with transposeA or transposeB it runs a naive scalar loop.
 * The gradients of every Dense layer are such products (dW = xᵀ·dy, dx = dy·Wᵀ).
 * For batch-1 products this wrapper materialises the transposed operand with the
 * wasm Transpose kernel (a copy of the operand) and calls the original kernel
 * untransposed, i.e. on its XNNPACK path. Batched products (outer dims > 1) and
 * non-float32 inputs go to the original kernel unchanged.
 */
import {
  BatchMatMul,
  util,
  type BatchMatMulAttrs,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { replaceWasmKernel, runWasmKernel, singleOutput } from "./wasmKernelUtil";

/** Permutation swapping the last two axes of a rank-`rank` tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function makeBatchMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const a = args.inputs.a as TensorInfo | undefined;
    const b = args.inputs.b as TensorInfo | undefined;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const fallback = (): TensorInfo => singleOutput(BatchMatMul, original(args));
    if (a == null || b == null || (!transposeA && !transposeB)) return fallback();
    if (a.dtype !== "float32" || b.dtype !== "float32") return fallback();
    if (a.shape.length < 2 || b.shape.length < 2) return fallback();
    if (util.sizeFromShape(a.shape.slice(0, -2)) !== 1) return fallback();
    if (util.sizeFromShape(b.shape.slice(0, -2)) !== 1) return fallback();
    const temporaries: TensorInfo[] = [];
    try {
      let aPlain = a;
      if (transposeA) {
        aPlain = runWasmKernel("Transpose", backend, { x: a }, { perm: swapLastTwo(a.shape.length) });
        temporaries.push(aPlain);
      }
      let bPlain = b;
      if (transposeB) {
        bPlain = runWasmKernel("Transpose", backend, { x: b }, { perm: swapLastTwo(b.shape.length) });
        temporaries.push(bPlain);
      }
      return singleOutput(
        BatchMatMul,
        original({
          inputs: { a: aPlain, b: bPlain },
          backend,
          attrs: { transposeA: false, transposeB: false },
        }),
      );
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

/** Replaces the wasm BatchMatMul kernel (idempotent). False if wasm has none. */
export function registerWasmBatchMatMul(): boolean {
  return replaceWasmKernel(BatchMatMul, makeBatchMatMul);
}
