/**
 * Native elementwise and reduction kernels for the wasm backend's tensors, for
 * the shapes a CNN training step is made of (batch norm, leaky ReLU and its
 * gradient, Adam): float32 operands of the same shape, or one of them a scalar,
 * a trailing-dims vector (e.g. shape=(C,) against shape=(N, H, W, C)) or a leading-dims one;
 * Sum / Mean over one contiguous block of axes; Select on same-shape operands.
 * Everything else (other dtypes, other broadcasts, tiny tensors) goes to the
 * kernel registered before.
 */
import {
  backend_util,
  util,
  type KernelFunc,
  type LeakyReluAttrs,
  type SumAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { BINARY_OPS, BROADCAST, UNARY_OPS } from "./addon";
import { f32, single, sizeOf, u8, type NativeKernelFactory } from "./nativeKernelUtil";

/** Below this many output elements the wasm kernel is used (a native call costs a few µs). */
export const NATIVE_MIN_ELEMENTS = 4096;

/** How one operand maps onto the output viewed as shape=(outer, inner). */
interface OperandLayout {
  mode: number;
  /** For row: inner size; for column: outer size (= operand size). */
  size: number;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function classify(shape: readonly number[], outShape: readonly number[]): OperandLayout | null {
  const size = sizeOf(shape);
  const outSize = sizeOf(outShape);
  if (size === outSize) return { mode: BROADCAST.full, size };
  if (size === 1) return { mode: BROADCAST.scalar, size };
  // Align right to the output rank.
  const padded = [...new Array<number>(outShape.length - shape.length).fill(1), ...shape];
  let first = 0;
  while (first < padded.length && padded[first] === 1) first++;
  if (sameDims(padded.slice(first), outShape.slice(first))) return { mode: BROADCAST.row, size };
  let last = padded.length;
  while (last > 0 && padded[last - 1] === 1) last--;
  if (sameDims(padded.slice(0, last), outShape.slice(0, last))) return { mode: BROADCAST.column, size };
  return null;
}

/**
 * The addon's [outer, inner, modeA, modeB] block for a broadcast of shapes a and b
 * into outShape, or null when it is not one of the supported layouts.
 */
export function binaryLayout(a: readonly number[], b: readonly number[], outShape: readonly number[]): Int32Array | null {
  const la = classify(a, outShape);
  const lb = classify(b, outShape);
  if (la == null || lb == null) return null;
  const outSize = sizeOf(outShape);
  let inner = outSize;
  for (const l of [la, lb]) {
    const want = l.mode === BROADCAST.row ? l.size : l.mode === BROADCAST.column ? outSize / l.size : null;
    if (want == null) continue;
    if (inner !== outSize && want !== inner) return null; // a row and a column that disagree
    inner = want;
  }
  return Int32Array.from([outSize / inner, inner, la.mode, lb.mode]);
}

/** A binary kernel (BINARY_OPS name). Comparisons return bool. */
export function nativeBinary(name: keyof typeof BINARY_OPS): NativeKernelFactory {
  const op = BINARY_OPS[name];
  const outDtype = op >= 10 ? "bool" : "float32";
  return (addon, fallback: KernelFunc) => (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as Record<string, TensorInfo | undefined>;
    if (a == null || b == null || a.dtype !== "float32" || b.dtype !== "float32") return single(fallback(args));
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (sizeOf(outShape) < NATIVE_MIN_ELEMENTS) return single(fallback(args));
    const layout = binaryLayout(a.shape, b.shape, outShape);
    if (layout == null) return single(fallback(args));
    const out = backend.makeOutput(outShape, outDtype);
    addon.binary(op, f32(backend, a), f32(backend, b), outDtype === "bool" ? u8(backend, out) : f32(backend, out), layout);
    return out;
  };
}

/** A unary kernel (UNARY_OPS name); LeakyRelu reads attrs.alpha. */
export function nativeUnary(name: keyof typeof UNARY_OPS): NativeKernelFactory {
  const op = UNARY_OPS[name];
  return (addon, fallback: KernelFunc) => (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as TensorInfo | undefined;
    if (x == null || x.dtype !== "float32" || sizeOf(x.shape) < NATIVE_MIN_ELEMENTS) return single(fallback(args));
    const alpha = name === "LeakyRelu" ? (args.attrs as unknown as LeakyReluAttrs).alpha : 0;
    const out = backend.makeOutput(x.shape, "float32");
    addon.unary(op, f32(backend, x), f32(backend, out), alpha);
    return out;
  };
}

/**
 * The addon's [outer, mid, inner] view of reducing `axes` of `shape`, or null
 * when the axes are not one contiguous block.
 */
export function reduceLayout(shape: readonly number[], axes: readonly number[]): Int32Array | null {
  const sorted = [...axes].sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]! + 1) return null;
  const first = sorted[0]!;
  const end = sorted[sorted.length - 1]! + 1;
  return Int32Array.from([sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, end)), sizeOf(shape.slice(end))]);
}

/** Sum (op 0) or Mean (op 1) over attrs.axis, float32 in and out. */
export function nativeReduce(mean: boolean): NativeKernelFactory {
  return (addon, fallback: KernelFunc) => (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as TensorInfo | undefined;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    if (x == null || x.dtype !== "float32" || sizeOf(x.shape) < NATIVE_MIN_ELEMENTS) return single(fallback(args));
    const axes = util.parseAxisParam(axis, x.shape);
    const layout = reduceLayout(x.shape, axes);
    if (layout == null) return single(fallback(args));
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const out = backend.makeOutput(outShape, "float32");
    addon.reduceRows(mean ? 1 : 0, f32(backend, x), f32(backend, out), layout);
    return out;
  };
}

/** Select(condition bool, t, e) for float32 operands of one shape. */
export const nativeSelect: NativeKernelFactory = (addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const { condition, t, e } = args.inputs as Record<string, TensorInfo | undefined>;
  if (
    condition == null || t == null || e == null || condition.dtype !== "bool" || t.dtype !== "float32" ||
    e.dtype !== "float32" || !sameDims(condition.shape, t.shape) || !sameDims(t.shape, e.shape) ||
    sizeOf(t.shape) < NATIVE_MIN_ELEMENTS
  ) {
    return single(fallback(args));
  }
  const out = backend.makeOutput(t.shape, "float32");
  addon.select(u8(backend, condition), f32(backend, t), f32(backend, e), f32(backend, out));
  return out;
};

/**
 * Identity without a copy: the result shares the input's wasm buffer (reference
 * counted, as the wasm backend's own Reshape and the cpu backend's Identity do;
 * tfjs tensors are immutable). tfjs clones every tensor a kernel saves for its
 * gradient through this kernel, so the stock wasm Identity copied each saved
 * activation of a training step (≈280 calls per arch_00b step). No addon call.
 */
export const sharedIdentity: NativeKernelFactory = (_addon, fallback) => (args) => {
  const backend = args.backend as BackendWasm;
  const x = args.inputs.x as TensorInfo | undefined;
  if (x == null || x.dtype === "string") return single(fallback(args));
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
