/**
 * Native matrix products (BatchMatMul, _FusedMatMul with bias + activation) and
 * FusedBatchNorm for the wasm backend's tensors.
 *
 * BatchMatMul / _FusedMatMul: float32 a shape=(…batch, M, K) (or (…batch, K, M) with
 * transposeA) and b shape=(…batch, K, N) (or (…batch, N, K) with transposeB) whose
 * batch parts are equal or one of them a single matrix; bias of N values;
 * activations linear, relu, leakyrelu, relu6, sigmoid, elu. FusedBatchNorm:
 * float32 x shape=(…, C) with mean, variance, offset and scale shape=(C,) each.
 * Anything else goes to the kernel registered before.
 */
import {
  backend_util,
  type BatchMatMulAttrs,
  type FusedBatchNormAttrs,
  type KernelFunc,
  type TensorInfo,
  type _FusedMatMulAttrs,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { CONV_ACTIVATIONS, type NativeAddon } from "./addon";
import { f32, single, sizeOf, type NativeKernelFactory } from "./nativeKernelUtil";

function makeMatMul(fused: boolean): NativeKernelFactory {
  return (addon: NativeAddon, fallback: KernelFunc): KernelFunc =>
    (args) => {
      const backend = args.backend as BackendWasm;
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const attrs = args.attrs as unknown as _FusedMatMulAttrs & BatchMatMulAttrs;
      const activation = fused ? (attrs.activation ?? "linear") : "linear";
      const code = (CONV_ACTIVATIONS as Record<string, number>)[activation];
      if (
        a == null || b == null || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 ||
        b.shape.length < 2 || code === undefined || preluActivationWeights != null ||
        (bias != null && bias.dtype !== "float32")
      ) {
        return single(fallback(args));
      }
      const ra = a.shape.length;
      const rb = b.shape.length;
      // Ranks ≥ 2 (checked above).
      const m = attrs.transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
      const k = attrs.transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
      const kb = attrs.transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
      const n = attrs.transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
      const batchShapeA = a.shape.slice(0, -2);
      const batchShapeB = b.shape.slice(0, -2);
      const batchA = sizeOf(batchShapeA);
      const batchB = sizeOf(batchShapeB);
      if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return single(fallback(args));
      if (bias != null && sizeOf(bias.shape) !== n) return single(fallback(args));
      let batchShape: number[];
      try {
        batchShape = backend_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
      } catch {
        return single(fallback(args));
      }
      const batch = sizeOf(batchShape);
      if (batch !== Math.max(batchA, batchB)) return single(fallback(args));
      const out = backend.makeOutput([...batchShape, m, n], "float32");
      const p = Int32Array.from([
        batch, m, n, k, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0,
        batchA === batch && batch > 1 ? 1 : 0, batchB === batch && batch > 1 ? 1 : 0, code,
      ]);
      addon.matMul(
        f32(backend, a), f32(backend, b), bias == null ? null : f32(backend, bias), f32(backend, out), p,
        attrs.leakyreluAlpha ?? 0.2,
      );
      return out;
    };
}

export const nativeBatchMatMul: NativeKernelFactory = makeMatMul(false);
export const nativeFusedMatMul: NativeKernelFactory = makeMatMul(true);

/** FusedBatchNorm with per-channel (last axis) vectors. */
export const nativeFusedBatchNorm: NativeKernelFactory = (addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  if (x == null || mean == null || variance == null || x.dtype !== "float32" || x.shape.length < 1) {
    return single(fallback(args));
  }
  const channels = x.shape[x.shape.length - 1]!;
  const vectors = [mean, variance, offset, scale].filter((v): v is TensorInfo => v != null);
  if (vectors.some((v) => v.dtype !== "float32" || sizeOf(v.shape) !== channels) || sizeOf(x.shape) === 0) {
    return single(fallback(args));
  }
  const out = backend.makeOutput(x.shape, "float32");
  addon.batchNorm(
    f32(backend, x), f32(backend, mean), f32(backend, variance),
    offset == null ? null : f32(backend, offset), scale == null ? null : f32(backend, scale),
    f32(backend, out), channels, varianceEpsilon ?? 0.001,
  );
  return out;
};
