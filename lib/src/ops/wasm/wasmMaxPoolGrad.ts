/**
 * Faster `MaxPoolGrad` for the TensorFlow.js wasm backend.
 *
 * The wasm kernel took ≈21 ms for a 2×2 pool over shape=(32, 50, 20, 32) (6–12% of an
 * arch_00b training step). This version scatters each dy value onto the position
 * of its window's maximum in one pass over x, directly on the wasm heap
 * (≈8 ms). Same rule as tfjs' cpu
 * backend: the first strictly greatest value of the window in row-major window
 * order wins; a window with no value > -Infinity gets no gradient; overlapping
 * windows add up. float32 only; other dtypes use the original kernel.
 *
 * The original tfjs-backend-wasm 4.22 kernel is also wrong when every value of a
 * window is negative (it then credits the window's first element, not its
 * maximum: relative error ≈ 1 against the cpu backend); after batch norm such
 * windows are common, so stock wasm training got wrong conv gradients.
 */
import {
  backend_util,
  MaxPoolGrad,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { replaceWasmKernel, singleOutput } from "./wasmKernelUtil";

function makeMaxPoolGrad(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const dy = args.inputs.dy as TensorInfo | undefined;
    const input = args.inputs.input as TensorInfo | undefined;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const fallback = (): TensorInfo => singleOutput(MaxPoolGrad, original(args));
    if (dy == null || input == null || input.dtype !== "float32" || dy.dtype !== "float32") {
      return fallback();
    }
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
    const { strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth, padInfo } = info;
    if (
      dy.shape[0] !== batchSize ||
      dy.shape[1] !== outHeight ||
      dy.shape[2] !== outWidth ||
      dy.shape[3] !== channels
    ) {
      return fallback();
    }
    const dxInfo = backend.makeOutput(input.shape, "float32");
    // Views are taken after makeOutput: growing the wasm heap detaches older views.
    const x = backend.typedArrayFromHeap(input) as Float32Array;
    const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
    const dx = backend.typedArrayFromHeap(dxInfo) as Float32Array;
    dx.fill(0);
    const rowStride = inWidth * channels;
    const imageStride = inHeight * rowStride;
    for (let b = 0; b < batchSize; b++) {
      const imageBase = b * imageStride;
      for (let oh = 0; oh < outHeight; oh++) {
        const rowCorner = oh * strideHeight - padInfo.top;
        const rowStart = Math.max(0, rowCorner);
        const rowEnd = Math.min(inHeight, rowCorner + effectiveFilterHeight);
        for (let ow = 0; ow < outWidth; ow++) {
          const colCorner = ow * strideWidth - padInfo.left;
          const colStart = Math.max(0, colCorner);
          const colEnd = Math.min(inWidth, colCorner + effectiveFilterWidth);
          const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
          for (let c = 0; c < channels; c++) {
            let best = Number.NEGATIVE_INFINITY;
            let bestOffset = -1;
            for (let r = rowStart; r < rowEnd; r++) {
              for (let col = colStart; col < colEnd; col++) {
                const offset = imageBase + r * rowStride + col * channels + c;
                const v = x[offset]!;
                if (v > best) {
                  best = v;
                  bestOffset = offset;
                }
              }
            }
            if (bestOffset >= 0) dx[bestOffset]! += dyValues[dyBase + c]!;
          }
        }
      }
    }
    return dxInfo;
  };
}

/** Replaces the wasm MaxPoolGrad kernel (idempotent). False if wasm has none. */
export function registerWasmMaxPoolGrad(): boolean {
  return replaceWasmKernel(MaxPoolGrad, makeMaxPoolGrad);
}
