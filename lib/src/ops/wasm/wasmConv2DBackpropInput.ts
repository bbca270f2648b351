/**
 * Faster `Conv2DBackpropInput` (the input gradient of a 2-D convolution) for the
 * TensorFlow.js wasm backend.
 *
 * tfjs-backend-wasm 4.22 has this kernel, but as a plain C++ loop: on the arch_00b
 * shapes (batch 32) it took 190 ms and 115 ms per call for conv 2 and 3, ≈13× the
 * forward convolution, and was the largest cost of a training step. For stride 1
 * the input gradient is an ordinary convolution, which the backend runs through
 * XNNPACK:
 *
 *   dx[b, ih, iw, ci] = Σ_{kh', kw', co} dyPad[b, ih + kh', iw + kw', co] · W'[kh', kw', co, ci]
 *   W'  = Transpose(Reverse(W, [0, 1]), [0, 1, 3, 2])     shape=(KH, KW, co, ci)
 *   dx  = Conv2D(dy, W', stride 1, explicit padding
 *                top' = KH-1-top, bottom' = KH-1-bottom, left' = KW-1-left, right' = KW-1-right)
 *
 * Strides other than 1, NCHW, or padding larger than the filter fall back to the
 * original kernel, so behaviour never regresses.
 */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { replaceWasmKernel, runWasmKernel, singleOutput } from "./wasmKernelUtil";

/**
 * Kernel function: inputs {dy: shape=(B, OH, OW, co), filter: shape=(KH, KW, ci, co)}, attrs as
 * tfjs' Conv2DBackpropInputAttrs (inputShape (B, H, W, ci)); returns dx, shape=(B, H, W, ci).
 * Intermediates are released with backend.disposeData.
 */
function makeConv2DBackpropInput(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const inputs = args.inputs as NamedTensorInfoMap;
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const { dy, filter } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
    const fallback = (): TensorInfo => singleOutput(Conv2DBackpropInput, original(args));
    if (dy == null || filter == null || dataFormat === "NCHW" || dy.shape.length !== 4) return fallback();
    if (dy.dtype !== "float32" || filter.dtype !== "float32") return fallback();
    const convInfo = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      "channelsLast",
    );
    const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = convInfo;
    const padTop = filterHeight - 1 - padInfo.top;
    const padBottom = filterHeight - 1 - padInfo.bottom;
    const padLeft = filterWidth - 1 - padInfo.left;
    const padRight = filterWidth - 1 - padInfo.right;
    if (
      strideHeight !== 1 ||
      strideWidth !== 1 ||
      Math.min(padTop, padBottom, padLeft, padRight) < 0 ||
      dy.shape[1]! + padTop + padBottom - filterHeight + 1 !== inputShape[1] ||
      dy.shape[2]! + padLeft + padRight - filterWidth + 1 !== inputShape[2]
    ) {
      return fallback();
    }
    const temporaries: TensorInfo[] = [];
    try {
      const reversed = runWasmKernel(
        "Reverse",
        backend,
        { x: filter },
        { dims: [0, 1] },
      );
      temporaries.push(reversed);
      const swapped = runWasmKernel(
        "Transpose",
        backend,
        { x: reversed },
        { perm: [0, 1, 3, 2] },
      );
      temporaries.push(swapped);
      const explicitPad: backend_util.ExplicitPadding = [
        [0, 0],
        [padTop, padBottom],
        [padLeft, padRight],
        [0, 0],
      ];
      const dx = runWasmKernel(
        "Conv2D",
        backend,
        { x: dy, filter: swapped },
        { strides: [1, 1], dilations: [1, 1], pad: explicitPad, dataFormat: "NHWC" } as unknown as NamedAttrMap,
      );
      if (dx.shape.some((d, i) => d !== inputShape[i])) {
        temporaries.push(dx);
        throw new Error(
          `wasm Conv2DBackpropInput: internal convolution gave [${dx.shape}], expected [${inputShape}]`,
        );
      }
      return dx;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

/** Replaces the wasm Conv2DBackpropInput kernel (idempotent). False if wasm has none. */
export function registerWasmConv2DBackpropInput(): boolean {
  return replaceWasmKernel(Conv2DBackpropInput, makeConv2DBackpropInput);
}
