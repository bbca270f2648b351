/**
 * Loads this project's native addon (native/, built by environment/setup.sh with
 * node-gyp against Debian's libdnnl-dev and libopenblas-dev) and describes its functions.
 *
 * The addon is optional: on machines without a compiler or without oneDNN the
 * build is skipped, `loadNativeAddon()` returns the reason, and the backend
 * falls back to wasm. It is looked up at lib/native/build/Release/mirna_native.node
 * (the same relative path from lib/src/ops/native and lib/dist/ops/native), or at the
 * file named by MIRNA_DL_NATIVE_ADDON.
 *
 * All array arguments are views on TensorFlow.js' own memory (no copies); the
 * functions check every length and throw an Error prefixed "mirna-dl native:" on
 * bad arguments.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Environment variable naming an addon file to load instead of the built one. */
export const NATIVE_ADDON_ENV_VAR = "MIRNA_DL_NATIVE_ADDON";

/** Where environment/setup.sh builds the addon. */
export const NATIVE_ADDON_PATH = path.resolve(__dirname, "..", "..", "..", "native", "build", "Release", "mirna_native.node");

/** Activation codes of `conv2d` (tfjs FusedConv2D `activation`). */
export const CONV_ACTIVATIONS = { linear: 0, relu: 1, leakyrelu: 2, relu6: 3, sigmoid: 4, elu: 5 } as const;

/** Binary operation codes of `binary`; codes ≥ 10 write a Uint8Array (tfjs bool). */
export const BINARY_OPS = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5, Minimum: 6,
  Greater: 10, GreaterEqual: 11, Less: 12, LessEqual: 13, Equal: 14,
} as const;

/** Unary operation codes of `unary`. */
export const UNARY_OPS = {
  LeakyRelu: 0, Relu: 1, Square: 2, Sqrt: 3, Rsqrt: 4, Neg: 5, Sigmoid: 6, Exp: 7, Log: 8, Abs: 9,
} as const;

/** Broadcast modes of a `binary` operand against an output viewed as shape=(outer, inner). */
export const BROADCAST = { full: 0, scalar: 1, row: 2, column: 3 } as const;

/**
 * The addon's functions. Convolution parameter block `p` (Int32Array):
 * [N, H, W, CI, KH, KW, CO, OH, OW, strideH, strideW, dilationH, dilationW, padTop,
 * padLeft, activation]; x and dx shape=(N, H, W, CI), filter and dw shape=(KH, KW, CI, CO), y and
 * dy shape=(N, OH, OW, CO); every array flat, row-major.
 */
export interface NativeAddon {
  /** e.g. "oneDNN 2.6.3". */
  version(): string;
  /** OpenMP threads used by every kernel. */
  setThreads(threads: number): void;
  getThreads(): number;
  /** y = activation(conv(x, filter) + bias); alpha is the leakyrelu slope. */
  conv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, p: Int32Array, alpha: number): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, p: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, p: Int32Array): void;
  /** oneDNN implementation for kind 1 forward, 2 backward data, 3 backward filter. */
  convImplInfo(kind: 1 | 2 | 3, p: Int32Array, hasBias?: boolean, alpha?: number): string;
  /**
   * One Adam step of one variable into newValue/newM/newV; c = [β1, 1−β1, β2, 1−β2,
   * 1−β1ᵗ, 1−β2ᵗ, ε, −lr] (see lib/src/ops/native/nativeAdam.ts).
   */
  adam(
    value: Float32Array, m: Float32Array, v: Float32Array, gradient: Float32Array,
    newValue: Float32Array, newM: Float32Array, newV: Float32Array, c: Float32Array,
  ): void;
  /** y, shape=(N, OH, OW, C) = window maxima of x, shape=(N, H, W, C); p as maxPoolGrad. */
  maxPool(x: Float32Array, y: Float32Array, p: Int32Array): void;
  /** p = [N, H, W, C, OH, OW, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft]. */
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, p: Int32Array): void;
  /** p = [outer, inner, modeA, modeB] (BROADCAST); op from BINARY_OPS. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array | Uint8Array, p: Int32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** x viewed as shape=(outer, mid, inner) → out shape=(outer, inner): op 0 sum, 1 mean over mid. */
  reduceRows(op: 0 | 1, x: Float32Array, out: Float32Array, p: Int32Array): void;
  select(condition: Uint8Array, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /**
   * Row-major products with optional bias + activation (CONV_ACTIVATIONS);
   * p = [batch, M, N, K, transposeA, transposeB, aHasBatch, bHasBatch, activation].
   */
  matMul(a: Float32Array, b: Float32Array, bias: Float32Array | null, out: Float32Array, p: Int32Array, alpha: number): void;
  /**
   * Binding matrices (lib/src/binding/encoding.ts) of n pairs into out, shape=(n, 50, 20, channels);
   * mirnas/sites are the n 20-nt / 50-nt strings joined. Returns −1, or the first pair with a bad letter.
   * Optional: addons built before it lack it.
   */
  encodeBindingMatrix?(mirnas: string, sites: string, n: number, channels: 1 | 2, out: Float32Array): number;
  /** out = offset + (x − mean)·scale/√(variance + ε), vectors of `channels` values (last axis). */
  batchNorm(
    x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null,
    scale: Float32Array | null, out: Float32Array, channels: number, epsilon: number,
  ): void;
  /**
   * Training-mode batch norm of x, shape=(rows, channels): the batch mean and biased variance
   * (÷ rows) into mean and variance, shape=(channels,), and y = offset + (x − mean)·scale/√(variance + ε).
   */
  batchNormTrain(
    x: Float32Array, scale: Float32Array | null, offset: Float32Array | null, y: Float32Array,
    mean: Float32Array, variance: Float32Array, channels: number, epsilon: number,
  ): void;
  /**
   * Gradient of batchNormTrain's y (mean/variance being x's batch moments): dx, shape=(rows,
   * channels); dscale = Σ dy·x̂ and doffset = Σ dy, shape=(channels,).
   */
  batchNormTrainGrad(
    dy: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array, scale: Float32Array | null,
    dx: Float32Array, dscale: Float32Array, doffset: Float32Array, channels: number, epsilon: number,
  ): void;
  /**
   * tf.dropout's float32 ops with seedrandom's Alea(seed) uniforms (tfjs' randomUniform):
   * mask = floor(u + keep)/keep, keep = 1 − rate; y = x·mask. Optional: addons built before it lack it.
   */
  dropout?(x: Float32Array, y: Float32Array, mask: Float32Array, seed: string, rate: number): void;
}

export type NativeAddonLoad =
  | { ok: true; addon: NativeAddon; file: string }
  | { ok: false; reason: string; file: string };

let loaded: NativeAddonLoad | null = null;

/**
 * Loads the addon once per process. Never throws: a missing or unloadable file
 * gives `{ok: false, reason}` with a one-line reason.
 */
export function loadNativeAddon(): NativeAddonLoad {
  if (loaded != null) return loaded;
  const file = process.env[NATIVE_ADDON_ENV_VAR] || NATIVE_ADDON_PATH;
  if (!fs.existsSync(file)) {
    loaded = {
      ok: false,
      file,
      reason: `native addon not built (${file} missing; environment/setup.sh builds it when g++, make, libdnnl-dev and libopenblas-dev are installed)`,
    };
    return loaded;
  }
  // libgomp reads this when it is loaded (with the addon). Its default, active
  // waiting, keeps idle OpenMP threads spinning between kernels; with the JS and
  // wasm work in between, and on a machine shared with other processes, that
  // cost 6x in a training step (measured 40 vs 266 samples/s, arch_00b, 2 cores).
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = "passive";
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as NativeAddon;
    addon.version(); // fails early if oneDNN cannot be called
    loaded = { ok: true, addon, file };
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    loaded = { ok: false, file, reason: `native addon ${file} failed to load: ${message}` };
  }
  return loaded;
}
