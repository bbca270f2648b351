/**
 * Native (oneDNN) convolution kernels for the wasm backend's tensors:
 * Conv2D, FusedConv2D (bias + linear/relu/relu6/leakyrelu/sigmoid/elu),
 * Conv2DBackpropInput, Conv2DBackpropFilter; MaxPool and MaxPoolGrad (plain C++).
 *
 * Supported: float32, NHWC, any strides / dilations / padding tfjs computes
 * (same, valid, explicit, number). Anything else (NCHW, prelu, a bias that is
 * not one value per output channel, other dtypes) goes to the kernel registered
 * before. Shapes: x shape=(N, H, W, CI), filter shape=(KH, KW, CI, CO), y and dy
 * shape=(N, OH, OW, CO).
 */
import {
  backend_util,
  type Conv2DAttrs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type FusedConv2DAttrs,
  type KernelFunc,
  type MaxPoolAttrs,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { CONV_ACTIVATIONS, type NativeAddon } from "./addon";
import { f32, single, sizeOf, type NativeKernelFactory } from "./nativeKernelUtil";

type Shape4 = [number, number, number, number];

/** The addon's conv parameter block from a tfjs Conv2DInfo. */
export function convParams(info: backend_util.Conv2DInfo, activation = 0): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.filterHeight, info.filterWidth, info.outChannels, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left, activation,
  ]);
}

function isNhwc(dataFormat: string | undefined): boolean {
  return dataFormat === undefined || dataFormat === "NHWC";
}

function allFloat32(...ts: (TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t != null && t.dtype === "float32");
}

/** Conv2D and FusedConv2D share one implementation. */
function makeConv(fused: boolean): NativeKernelFactory {
  return (addon: NativeAddon, fallback: KernelFunc): KernelFunc =>
    (args) => {
      const backend = args.backend as BackendWasm;
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const attrs = args.attrs as unknown as FusedConv2DAttrs & Conv2DAttrs;
      const activation = fused ? (attrs.activation ?? "linear") : "linear";
      const code = (CONV_ACTIVATIONS as Record<string, number>)[activation];
      if (
        !allFloat32(x, filter) || (bias != null && bias.dtype !== "float32") || preluActivationWeights != null ||
        code === undefined || !isNhwc(attrs.dataFormat) || x!.shape.length !== 4 || filter!.shape.length !== 4
      ) {
        return single(fallback(args));
      }
      const info = backend_util.computeConv2DInfo(
        x!.shape as Shape4, filter!.shape as Shape4, attrs.strides, attrs.dilations ?? 1, attrs.pad,
        attrs.dimRoundingMode, false, "channelsLast",
      );
      if (bias != null && sizeOf(bias.shape) !== info.outChannels) return single(fallback(args));
      const out = backend.makeOutput(info.outShape, "float32");
      addon.conv2d(
        f32(backend, x!), f32(backend, filter!), bias == null ? null : f32(backend, bias), f32(backend, out),
        convParams(info, code), attrs.leakyreluAlpha ?? 0.2,
      );
      return out;
    };
}

export const nativeConv2D: NativeKernelFactory = makeConv(false);
export const nativeFusedConv2D: NativeKernelFactory = makeConv(true);

/** dx, shape=(N, H, W, CI), from dy and filter. */
export const nativeConv2DBackpropInput: NativeKernelFactory = (addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  if (!allFloat32(dy, filter) || !isNhwc(attrs.dataFormat) || attrs.inputShape.length !== 4 || filter!.shape.length !== 4) {
    return single(fallback(args));
  }
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape as Shape4, filter!.shape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
    false, "channelsLast",
  );
  const out = backend.makeOutput(info.inShape, "float32");
  addon.conv2dBackpropInput(f32(backend, dy!), f32(backend, filter!), f32(backend, out), convParams(info));
  return out;
};

/** dW, shape=(KH, KW, CI, CO), from x and dy. */
export const nativeConv2DBackpropFilter: NativeKernelFactory = (addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (!allFloat32(x, dy) || !isNhwc(attrs.dataFormat) || x!.shape.length !== 4 || attrs.filterShape.length !== 4) {
    return single(fallback(args));
  }
  const info = backend_util.computeConv2DInfo(
    x!.shape as Shape4, attrs.filterShape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
    false, "channelsLast",
  );
  const out = backend.makeOutput(attrs.filterShape, "float32");
  addon.conv2dBackpropFilter(f32(backend, x!), f32(backend, dy!), f32(backend, out), convParams(info));
  return out;
};

/** The addon's pooling parameter block. */
function poolParams(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
  ]);
}

/** y, shape=(N, OH, OW, C): the maximum of each window (values must beat -Infinity, as tfjs' cpu backend). */
export const nativeMaxPool: NativeKernelFactory = (addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const x = args.inputs.x as TensorInfo | undefined;
  const attrs = args.attrs as unknown as MaxPoolAttrs;
  if (!allFloat32(x) || x!.shape.length !== 4) return single(fallback(args));
  const info = backend_util.computePool2DInfo(
    x!.shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const out = backend.makeOutput(info.outShape, "float32");
  addon.maxPool(f32(backend, x!), f32(backend, out), poolParams(info));
  return out;
};

/** dx, shape=(N, H, W, C): each dy value added at its window's first strict maximum (as tfjs' cpu backend). */
export const nativeMaxPoolGrad: NativeKernelFactory = (addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  if (!allFloat32(dy, input) || input!.shape.length !== 4) return single(fallback(args));
  const info = backend_util.computePool2DInfo(
    input!.shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  if (sizeOf(dy!.shape) !== info.batchSize * info.outHeight * info.outWidth * info.inChannels) {
    return single(fallback(args));
  }
  const out = backend.makeOutput(input!.shape, "float32");
  addon.maxPoolGrad(f32(backend, dy!), f32(backend, input!), f32(backend, out), poolParams(info));
  return out;
};
