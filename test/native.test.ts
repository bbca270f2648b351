/**
 * The native backend (lib/src/ops/native/, addon in lib/native/): every native kernel
 * agrees with tfjs' pure-JS cpu backend within 1e-4 (max |a−b| / max |a|) on
 * seeded random inputs, the gradients of a small conv model agree, a training
 * epoch of arch_00b leaks no tensors, and without the addon initBackend falls
 * back to wasm with a one-line notice.
 *
 * Without the built addon (no g++ / libdnnl-dev) the kernel tests skip with the
 * reason, unless MIRNA_DL_REQUIRE_NATIVE=1, where they fail. The fallback test
 * always runs.
 *
 * Run: node --import tsx --test test/native.test.ts   (≈1 min; the cpu
 * backend's Conv2DBackpropFilter, the reference, is very slow, so the two
 * larger arch_00b shapes use batch 8 for it, as test/backend.test.ts).
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { nativeSkipReason, needNative, relativeDifference, seededValues, wasmDataIds } from "./tfHelpers";
import { BACKEND_ENV_VAR, BackendUnavailableError, describeBackend, initBackend } from "../lib/src/ops/backend";
import { loadNativeAddon, NATIVE_ADDON_ENV_VAR } from "../lib/src/ops/native/addon";
import { binaryLayout, reduceLayout } from "../lib/src/ops/native/nativeElementwise";
import { replacedKernelNames } from "../lib/src/ops/native/nativeKernelUtil";
import { ARCH00B_TRAINING, buildArch00b } from "../lib/src/binding/arch00b";
import { compileModel } from "../lib/src/ops/nn";
import { createAdam, NativeAdamOptimizer } from "../lib/src/ops/native/nativeAdam";
import {
  BATCH_NORM_TRAINING_KERNEL,
  batchNormTraining,
  batchNormTrainingUsable,
  registerNativeBatchNorm,
  unregisterNativeBatchNorm,
} from "../lib/src/ops/native/nativeBatchNorm";
import { FusedBatchNormalization } from "../lib/src/ops/batchNormalization";
import { DROPOUT_KERNEL, nativeDropout, nativeDropoutUsable, registerNativeDropout, unregisterNativeDropout } from "../lib/src/ops/native/nativeDropout";
import { SeededDropout } from "../lib/src/ops/seededDropout";

const REPO = path.resolve(__dirname, "..");
const REL_TOLERANCE = 1e-4;
const skipReason = nativeSkipReason;




interface Input {
  shape: number[];
  values: Float32Array;
}

function input(shape: number[], seed: number): Input {
  return { shape, values: seededValues(shape, seed) };
}

/**
 * Runs `compute` on cpu, then on wasm with the native kernels registered, and
 * asserts that the results agree and that the native run leaves no tensor and
 * no wasm heap buffer behind.
 */
async function assertAgrees(inputs: Input[], compute: (...xs: tf.Tensor[]) => tf.Tensor, expectedShape?: number[]) {
  const results: Record<string, Float32Array> = {};
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = backend === "wasm" ? wasmDataIds() : 0;
    const out = tf.tidy(() => compute(...xs));
    if (expectedShape) assert.deepEqual(out.shape, expectedShape);
    results[backend] = Float32Array.from((await out.data()) as ArrayLike<number>);
    out.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore, `${backend}: tensors leaked`);
    if (backend === "wasm") assert.equal(wasmDataIds(), idsBefore, "wasm heap buffers leaked");
    xs.forEach((x) => x.dispose());
  }
  await tf.setBackend("wasm");
  const rel = relativeDifference(results.cpu!, results.wasm!); // both set by the loop
  assert.ok(rel < REL_TOLERANCE, `relative difference ${rel.toExponential(2)}`);
}

type Pad = "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
  dilations?: [number, number];
}

const CONV_CASES: ConvCase[] = [
  { name: "arch_00b conv_1, batch 32", x: [32, 50, 20, 1], filter: [3, 3, 1, 32], strides: [1, 1], pad: "same" },
  { name: "arch_00b conv_2, batch 32", x: [32, 25, 10, 32], filter: [3, 3, 32, 64], strides: [1, 1], pad: "same" },
  { name: "arch_00b conv_3, batch 32", x: [32, 12, 5, 64], filter: [3, 3, 64, 128], strides: [1, 1], pad: "same" },
  { name: "stride 2, same", x: [4, 11, 8, 3], filter: [3, 3, 3, 5], strides: [2, 2], pad: "same" },
  { name: "valid, strides 2×3, 4×2 filter", x: [2, 10, 9, 2], filter: [4, 2, 2, 3], strides: [2, 3], pad: "valid" },
  { name: "valid, non-square, 16 channels", x: [3, 13, 7, 16], filter: [3, 5, 16, 24], strides: [1, 1], pad: "valid" },
  {
    name: "explicit padding, stride 2",
    x: [3, 9, 7, 2],
    filter: [3, 3, 2, 4],
    strides: [2, 2],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
  },
];

/**
 * Filter-gradient cases: arch_00b's layers at batch 2, since the cpu reference's filter gradient
 * is slow (conv_2 at batch 8 took 80 s); two samples still check the sum over the batch.
 */
const FILTER_CASES: ConvCase[] = CONV_CASES.map((c) =>
  c.name.startsWith("arch_00b")
    ? { ...c, name: c.name.replace("batch 32", "batch 2"), x: [2, c.x[1], c.x[2], c.x[3]] }
    : c,
);

function convOutShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad).outShape;
}

before(async () => {
  if (skipReason != null) return;
  await initBackend({ preferred: "native", quiet: true, threads: 2 });
});

describe("native backend start-up", () => {
  test("initBackend('native') runs the native kernels on the wasm backend", (t) => {
    if (!needNative(t)) return;
    assert.equal(tf.getBackend(), "wasm");
    assert.match(describeBackend(), /^native \(oneDNN \d+\.\d+\.\d+, 2 threads, \d+ native kernels on wasm/);
    for (const name of ["Conv2D", "FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPool", "MaxPoolGrad", "BatchMatMul", "FusedBatchNorm"]) {
      assert.ok(replacedKernelNames().includes(name), `${name} is native`);
    }
  });

  test("without the addon, auto falls back to wasm with a one-line notice, and 'native' is refused", () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mirna-dl-native-")), "probe.ts");
    try {
      fs.writeFileSync(
        script,
        `import { initBackend } from ${JSON.stringify(path.join(REPO, "lib", "src", "ops", "backend"))};\n` +
          "(async () => {\n" +
          "  const forced = await initBackend({ preferred: 'native', quiet: true }).then(() => 'started', (e) => `${e.name}: ${e.message}`);\n" +
          "  const auto = await initBackend({});\n" +
          "  console.log(JSON.stringify({ forced, auto }));\n" +
          "})();\n",
      );
      const env: NodeJS.ProcessEnv = { ...process.env, [NATIVE_ADDON_ENV_VAR]: path.join(path.dirname(script), "absent.node") };
      delete env[BACKEND_ENV_VAR];
      const run = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: REPO, env, encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { forced?: string; auto?: string };
      assert.ok(out.forced !== undefined, `no 'forced' in the script's output: ${run.stdout}`);
      assert.match(out.forced, /^BackendUnavailableError: TensorFlow\.js backend 'native' is unavailable: native addon not built/);
      assert.equal(out.auto, "wasm");
      assert.match(run.stderr, /mirna-dl: TensorFlow\.js backend wasm \(/);
      const notices = run.stderr.split("\n").filter((l) => l.includes("skipped backend native"));
      assert.equal(notices.length, 1, run.stderr);
      assert.match(notices[0]!, /^mirna-dl: skipped backend native: native addon not built \(.*absent\.node missing/);
    } finally {
      fs.rmSync(path.dirname(script), { recursive: true, force: true });
    }
    void BackendUnavailableError;
  });
});

describe("broadcast layouts", () => {
  test("binaryLayout", () => {
    assert.deepEqual([...binaryLayout([2, 3, 4], [2, 3, 4], [2, 3, 4])!], [1, 24, 0, 0]);
    assert.deepEqual([...binaryLayout([2, 3, 4], [4], [2, 3, 4])!], [6, 4, 0, 2]);
    assert.deepEqual([...binaryLayout([1, 1, 4], [2, 3, 4], [2, 3, 4])!], [6, 4, 2, 0]);
    assert.deepEqual([...binaryLayout([2, 3, 4], [], [2, 3, 4])!], [1, 24, 0, 1]);
    assert.deepEqual([...binaryLayout([2, 3, 4], [2, 1, 1], [2, 3, 4])!], [2, 12, 0, 3]);
    assert.deepEqual([...binaryLayout([2, 1, 1], [3, 4], [2, 3, 4])!], [2, 12, 3, 2]);
    assert.equal(binaryLayout([2, 3, 4], [3, 1], [2, 3, 4]), null, "a middle-axis vector is not supported");
    assert.deepEqual([...binaryLayout([2, 1, 1], [1, 1, 3], [2, 1, 3])!], [2, 3, 3, 2], "outer product");
    assert.equal(binaryLayout([2, 3, 1], [1, 3, 4], [2, 3, 4]), null, "column and row that overlap");
  });
  test("reduceLayout", () => {
    assert.deepEqual([...reduceLayout([2, 3, 4, 5], [0, 1, 2])!], [1, 24, 5]);
    assert.deepEqual([...reduceLayout([2, 3, 4, 5], [3])!], [24, 5, 1]);
    assert.deepEqual([...reduceLayout([2, 3, 4, 5], [2, 1])!], [2, 12, 5]);
    assert.equal(reduceLayout([2, 3, 4, 5], [0, 2]), null);
  });
});

describe("native convolutions agree with the cpu backend", () => {
  for (const c of CONV_CASES) {
    test(`Conv2D ${c.name}: x [${c.x}] filter [${c.filter}]`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees(
        [input(c.x, 11), input(c.filter, 12)],
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad as "same"),
        convOutShape(c),
      );
    });
  }
  for (const [activation, bias] of [["leakyrelu", true], ["relu", true], ["linear", false], ["elu", true]] as const) {
    test(`FusedConv2D ${activation}${bias ? " + bias" : ""}, arch_00b conv_2 and stride 2`, async (t) => {
      if (!needNative(t)) return;
      for (const c of [CONV_CASES[1]!, CONV_CASES[3]!]) {
        const inputs = [input(c.x, 21), input(c.filter, 22), input([c.filter[3]], 23)];
        await assertAgrees(inputs, (x, w, b) =>
          tf.fused.conv2d({
            x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.strides, pad: c.pad as "same",
            bias: bias ? b : undefined, activation, leakyreluAlpha: 0.3,
          }),
        );
      }
    });
  }
  for (const c of CONV_CASES) {
    test(`Conv2DBackpropInput ${c.name}`, async (t) => {
      if (!needNative(t)) return;
      const dyShape = convOutShape(c);
      await assertAgrees(
        [input(dyShape, 31), input(c.filter, 32)],
        (dy, w) =>
          tf.engine().runKernel(
            "Conv2DBackpropInput",
            { dy, filter: w },
            { inputShape: c.x, strides: c.strides, pad: c.pad, dataFormat: "NHWC" } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        c.x,
      );
    });
  }
  for (const c of FILTER_CASES) {
    test(`Conv2DBackpropFilter ${c.name}`, async (t) => {
      if (!needNative(t)) return;
      const dyShape = convOutShape(c);
      await assertAgrees(
        [input(c.x, 41), input(dyShape, 42)],
        (x, dy) =>
          tf.engine().runKernel(
            "Conv2DBackpropFilter",
            { x, dy },
            { filterShape: c.filter, strides: c.strides, pad: c.pad, dataFormat: "NHWC" } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        c.filter,
      );
    });
  }
  for (const [name, shape, size, stride, pad] of [
    ["arch_00b Max_1, batch 4", [4, 50, 20, 32], 2, 2, "valid"],
    ["3×3 stride 2 same, non-square", [3, 9, 7, 4], 3, 2, "same"],
    ["2×2 stride 1 valid", [2, 6, 5, 3], 2, 1, "valid"],
  ] as const) {
    test(`MaxPool ${name}`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees([input([...shape], 52)], (x) => tf.maxPool(x as tf.Tensor4D, size, stride, pad));
    });
    test(`MaxPoolGrad ${name}`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees([input([...shape], 51)], (x) =>
        tf.grad((xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, size, stride, pad).square().sum())(x),
      );
    });
  }
});

describe("native elementwise kernels agree with the cpu backend", () => {
  // Every operand layout below against a [N, H, W, C] tensor with N = C = 32 (the size does not
  // matter: no native elementwise kernel changes path below 4M elements, kParallelMin).
  const big = [32, 3, 2, 32];
  const operands: [string, number[]][] = [
    ["same shape", big],
    ["channel vector", [32]],
    ["scalar", []],
    ["per-sample column", [32, 1, 1, 1]],
    ["[1,1,1,C] row", [1, 1, 1, 32]],
  ];
  const binaries: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ["Add", tf.add], ["Sub", tf.sub], ["Multiply", tf.mul], ["RealDiv", tf.div],
    ["SquaredDifference", tf.squaredDifference], ["Maximum", tf.maximum], ["Minimum", tf.minimum],
    ["Greater", tf.greater], ["GreaterEqual", tf.greaterEqual], ["Less", tf.less], ["LessEqual", tf.lessEqual],
  ];
  for (const [name, f] of binaries) {
    test(`${name}: a [32,3,2,32] tensor with each operand layout, both orders`, async (t) => {
      if (!needNative(t)) return;
      for (const [, shape] of operands) {
        await assertAgrees([input(big, 61), input(shape, 62)], (a, b) => f(a, b).cast("float32"), big);
        await assertAgrees([input(shape, 63), input(big, 64)], (a, b) => f(a, b).cast("float32"), big);
      }
    });
  }
  test("Equal (on rounded values, so that some are equal)", async (t) => {
    if (!needNative(t)) return;
    await assertAgrees([input(big, 65), input([32], 66)], (a, b) => tf.equal(a.round(), b.round()).cast("float32"));
  });
  const unaries: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ["LeakyRelu", (x) => tf.leakyRelu(x, 0.3)], ["Relu", tf.relu], ["Square", tf.square],
    ["Sqrt", (x) => tf.sqrt(x.abs())], ["Rsqrt", (x) => tf.rsqrt(x.abs().add(0.1))], ["Neg", tf.neg],
  ];
  for (const [name, f] of unaries) {
    test(`${name}`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees([input(big, 71)], f, big);
    });
  }
  for (const [axes, keepDims] of [[[0, 1, 2], true], [[0, 1, 2], false], [[3], false], [[1, 2], true], [[0, 2], false], [[0], false]] as const) {
    test(`Sum and Mean over axes [${axes}]${keepDims ? ", keepDims" : ""}`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees([input(big, 81)], (x) => tf.sum(x, [...axes], keepDims));
      await assertAgrees([input(big, 82)], (x) => tf.mean(x, [...axes], keepDims));
    });
  }
  test("Identity shares the buffer and outlives its input", async (t) => {
    if (!needNative(t)) return;
    await assertAgrees([input(big, 93)], (x) => tf.clone(x));
    const ids = wasmDataIds();
    const x = tf.tensor(seededValues(big, 94), big);
    const copy = tf.clone(x);
    assert.equal(wasmDataIds(), ids + 1, "one buffer for both");
    const expected = x.dataSync().slice();
    x.dispose();
    assert.deepEqual(copy.dataSync(), expected);
    copy.dispose();
    assert.equal(wasmDataIds(), ids, "buffer freed with the last tensor");
  });
  test("Select (leaky ReLU gradient pattern)", async (t) => {
    if (!needNative(t)) return;
    await assertAgrees([input(big, 91), input(big, 92)], (x, dy) => tf.where(tf.greater(x, 0), dy, dy.mul(0.3)));
  });
});

describe("native matrix products and batch norm agree with the cpu backend", () => {
  const products: [string, number[], number[], boolean, boolean][] = [
    ["arch_00b dense, batch 32", [32, 1536], [1536, 128], false, false],
    ["dense weight gradient (aᵀ b)", [32, 1536], [32, 128], true, false],
    ["dense input gradient (a bᵀ)", [32, 128], [1536, 128], false, true],
    ["both transposed", [7, 5], [4, 7], true, true],
    ["batched", [3, 5, 7], [3, 7, 4], false, false],
    ["one shared matrix", [1, 5, 7], [3, 7, 4], false, false],
  ];
  for (const [name, sa, sb, ta, tb] of products) {
    test(`BatchMatMul ${name}`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees([input(sa, 111), input(sb, 112)], (a, b) => tf.matMul(a, b, ta, tb));
    });
  }
  for (const activation of ["linear", "relu", "leakyrelu", "sigmoid"] as const) {
    test(`_FusedMatMul + bias + ${activation}`, async (t) => {
      if (!needNative(t)) return;
      await assertAgrees([input([32, 96], 121), input([96, 64], 122), input([64], 123)], (a, b, bias) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation, leakyreluAlpha: 0.3 }),
      );
    });
  }
  test("FusedBatchNorm with and without offset and scale", async (t) => {
    if (!needNative(t)) return;
    const shape = [32, 25, 10, 32];
    const vectors = [input([32], 132), input([32], 133), input([32], 134), input([32], 135)];
    await assertAgrees([input(shape, 131), ...vectors], (x, mean, variance, offset, scale) =>
      tf.batchNorm(x as tf.Tensor4D, mean, variance.abs(), offset, scale, 1e-3),
    );
    await assertAgrees([input(shape, 136), ...vectors.slice(0, 2)], (x, mean, variance) =>
      tf.batchNorm(x as tf.Tensor4D, mean, variance.abs(), undefined, undefined, 1e-3),
    );
  });
});

describe("native training-mode batch norm", () => {
  const EPSILON = 1e-3;
  const SHAPES = [[32, 50, 20, 32], [32, 25, 10, 64], [32, 12, 5, 128], [32, 128], [32, 64], [5, 3]];

  /** x (shifted and scaled, so the moments are not 0/1), gamma, beta and dy of a case. */
  function caseInputs(shape: number[], seed: number): Input[] {
    const c = shape[shape.length - 1]!;
    const x = input(shape, seed);
    x.values = x.values.map((v, i) => 2.5 * v + 3 + (i % c) * 0.1);
    return [x, input([c], seed + 1), input([c], seed + 2), input(shape, seed + 3)];
  }

  /**
   * Runs `reference` on cpu and `fused` on wasm (native) on the same inputs; returns
   * both lists of results and checks that the native run leaked no tensor or buffer.
   */
  async function bothBackends(
    inputs: Input[],
    reference: (...xs: tf.Tensor[]) => tf.Tensor[],
    fused: (...xs: tf.Tensor[]) => tf.Tensor[],
  ): Promise<{ cpu: Float32Array[]; native: Float32Array[] }> {
    const out: Record<string, Float32Array[]> = {};
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
      const tensorsBefore = tf.memory().numTensors;
      const idsBefore = backend === "wasm" ? wasmDataIds() : 0;
      const results = tf.tidy(() => (backend === "cpu" ? reference : fused)(...xs));
      out[backend] = results.map((r) => Float32Array.from(r.dataSync()));
      tf.dispose(results);
      assert.equal(tf.memory().numTensors, tensorsBefore, `${backend}: tensors leaked`);
      if (backend === "wasm") assert.equal(wasmDataIds(), idsBefore, "wasm heap buffers leaked");
      xs.forEach((x) => x.dispose());
    }
    await tf.setBackend("wasm");
    return { cpu: out.cpu!, native: out.wasm! }; // both set by the loop
  }

  function assertClose(cpu: Float32Array[], native: Float32Array[], names: string[]): void {
    names.forEach((name, i) => {
      const rel = relativeDifference(cpu[i]!, native[i]!);
      assert.ok(rel < REL_TOLERANCE, `${name}: relative difference ${rel.toExponential(2)}`);
    });
  }

  /** tfjs-layers' training-mode computation (regularNormalizeBatchInTraining). */
  function referenceForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor[] {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return [tf.batchNorm(x, mean, variance, beta, gamma, EPSILON), mean, variance];
  }

  for (const shape of SHAPES) {
    test(`forward y, batch mean and variance [${shape}]`, async (t) => {
      if (!needNative(t)) return;
      const { cpu, native } = await bothBackends(
        caseInputs(shape, 170).slice(0, 3),
        referenceForward,
        (x, gamma, beta) => {
          assert.ok(batchNormTrainingUsable(x));
          const { y, mean, variance } = batchNormTraining(x, gamma, beta, EPSILON);
          assert.deepEqual(y.shape, x.shape);
          return [y, mean, variance];
        },
      );
      assertClose(cpu, native, ["y", "mean", "variance"]);
    });

    test(`gradients dx, dgamma, dbeta [${shape}]`, async (t) => {
      if (!needNative(t)) return;
      const grads = (forward: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
        (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, dy: tf.Tensor) =>
          tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => forward(a, g, b).mul(dy).sum())([x, gamma, beta]);
      const { cpu, native } = await bothBackends(
        caseInputs(shape, 180),
        grads((x, g, b) => referenceForward(x, g, b)[0]!),
        grads((x, g, b) => batchNormTraining(x, g, b, EPSILON).y),
      );
      assertClose(cpu, native, ["dx", "dgamma", "dbeta"]);
    });
  }

  test("arch_00b: layers are FusedBatchNormalization, class name BatchNormalization, also when deserialised", async (t) => {
    if (!needNative(t)) return;
    const model = buildArch00b({ seed: 5 });
    const bn = model.layers.filter((l) => l.name.startsWith("batch_normalization"));
    assert.equal(bn.length, 6);
    for (const l of bn) {
      assert.ok(l instanceof FusedBatchNormalization);
      assert.equal(l.getClassName(), "BatchNormalization");
    }
    const copy = await tf.models.modelFromJSON({ modelTopology: model.toJSON(undefined, false) as tf.io.ModelJSON["modelTopology"] });
    assert.ok(copy.getLayer("batch_normalization_3") instanceof FusedBatchNormalization);
    copy.dispose();
    model.dispose();
  });

  test("arch_00b training steps: the fused path gives tfjs' losses and moving statistics, leaks nothing", async (t) => {
    if (!needNative(t)) return;
    const load = loadNativeAddon();
    assert.ok(load.ok);
    const x = tf.tidy(() => tf.randomUniform([32, 50, 20, 1], 0, 1, "float32", 21).greater(0.8).cast("float32"));
    const y = tf.tidy(() => tf.randomUniform([32, 1], 0, 1, "float32", 22).greater(0.5).cast("float32"));
    const run = async (fused: boolean) => {
      if (fused) registerNativeBatchNorm(load.addon);
      else unregisterNativeBatchNorm();
      const model = buildArch00b({ seed: 11 });
      compileModel(model, ARCH00B_TRAINING);
      const losses: number[] = [];
      const info = await tf.profile(async () => {
        losses.push(Number(await model.trainOnBatch(x, y).then((r) => (Array.isArray(r) ? r[0] : r))));
      });
      assert.equal(info.kernelNames.includes(BATCH_NORM_TRAINING_KERNEL), fused, `fused kernel used: ${fused}`);
      const tensors = tf.memory().numTensors;
      const ids = wasmDataIds();
      for (let step = 1; step < 4; step++) {
        const r = await model.trainOnBatch(x, y);
        losses.push(Number(Array.isArray(r) ? r[0] : r));
        assert.equal(tf.memory().numTensors, tensors, `step ${step}: tensors leaked`);
        assert.equal(wasmDataIds(), ids, `step ${step}: wasm heap buffers leaked`);
      }
      const moving = model.layers
        .filter((l) => l.name.startsWith("batch_normalization"))
        .flatMap((l) => l.getWeights().slice(2).map((w) => Float32Array.from(w.dataSync())));
      const probs = tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync()));
      model.dispose();
      return { losses, moving, probs };
    };
    try {
      const plain = await run(false);
      const fused = await run(true);
      plain.losses.forEach((l, i) => {
        assert.ok(Math.abs(l - fused.losses[i]!) <= 1e-4 * Math.abs(l), `step ${i}: loss ${fused.losses[i]} vs tfjs ${l}`);
      });
      plain.moving.forEach((m, i) => {
        const rel = relativeDifference(m, fused.moving[i]!);
        assert.ok(rel < REL_TOLERANCE, `moving statistic ${i}: relative difference ${rel.toExponential(2)}`);
      });
      const rel = relativeDifference(plain.probs, fused.probs);
      assert.ok(rel < REL_TOLERANCE, `predictions after training: relative difference ${rel.toExponential(2)}`);
    } finally {
      registerNativeBatchNorm(load.addon);
      tf.dispose([x, y]);
    }
  });
});

describe("native seeded dropout", () => {
  const CASES: [number[], number, string][] = [
    [[32, 25, 10, 32], 0.25, "1793/0"],
    [[32, 128], 0.25, "1797/41"],
    [[7, 3], 0.5, "seed"],
    [[1000], 0.9, "ünïcode ✓/3"],
  ];
  for (const [shape, rate, seed] of CASES) {
    test(`MirnaDropout equals tf.dropout bit for bit, and its gradient [${shape}] rate ${rate} seed '${seed}'`, async (t) => {
      if (!needNative(t)) return;
      const xValues = seededValues(shape, 190);
      const dyValues = seededValues(shape, 191);
      const results: Record<string, Float32Array[]> = {};
      for (const backend of ["cpu", "wasm"]) {
        await tf.setBackend(backend);
        const [x, dy] = [tf.tensor(xValues, shape), tf.tensor(dyValues, shape)];
        const tensorsBefore = tf.memory().numTensors;
        const f = (v: tf.Tensor) => (backend === "cpu" ? tf.dropout(v, rate, undefined, seed) : nativeDropout(v, rate, seed));
        if (backend === "wasm") assert.ok(nativeDropoutUsable(x));
        const outs = tf.tidy(() => [f(x), tf.grad((v: tf.Tensor) => f(v).mul(dy).sum())(x)]);
        results[backend] = outs.map((o) => Float32Array.from(o.dataSync()));
        tf.dispose(outs);
        assert.equal(tf.memory().numTensors, tensorsBefore, `${backend}: tensors leaked`);
        tf.dispose([x, dy]);
      }
      await tf.setBackend("wasm");
      const cpu = results.cpu!, wasm = results.wasm!; // both set by the loop
      assert.deepEqual(wasm[0], cpu[0], "y");
      assert.deepEqual(wasm[1], cpu[1], "dx");
    });
  }

  test("SeededDropout uses it in training, with tf.dropout's masks (same seed and step, same output)", async (t) => {
    if (!needNative(t)) return;
    const load = loadNativeAddon();
    assert.ok(load.ok);
    const x = tf.tensor(seededValues([32, 64], 192), [32, 64]);
    const outputs: Float32Array[] = [];
    try {
      for (const native of [true, false]) {
        if (native) registerNativeDropout(load.addon);
        else unregisterNativeDropout();
        const layer = new SeededDropout({ rate: 0.25, seed: 17 });
        layer.step = 5;
        const info = await tf.profile(() => {
          const y = layer.apply(x, { training: true }) as tf.Tensor;
          outputs.push(Float32Array.from(y.dataSync()));
          y.dispose();
        });
        assert.equal(info.kernelNames.includes(DROPOUT_KERNEL), native);
        assert.equal(layer.step, 6);
      }
    } finally {
      registerNativeDropout(load.addon);
      x.dispose();
    }
    assert.deepEqual(outputs[0], outputs[1]);
  });
});

describe("native training", () => {
  test("gradients of a small conv model agree with the cpu backend", async (t) => {
    if (!needNative(t)) return;
    const shapes = { x: [16, 12, 10, 2], w1: [3, 3, 2, 8], b1: [8], w2: [3, 3, 8, 16], dense: [3 * 3 * 16, 1] };
    const inputs = [input(shapes.x, 101), input(shapes.w1, 102), input(shapes.b1, 103), input(shapes.w2, 104), input(shapes.dense, 105)];
    const loss = (x: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, dense: tf.Tensor) => {
      let h: tf.Tensor = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w1 as tf.Tensor4D, strides: 1, pad: "same", bias: b1, activation: "leakyrelu", leakyreluAlpha: 0.3 });
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm(h, mean, variance, tf.fill([8], 0.1), tf.fill([8], 1.5), 1e-3);
      h = tf.maxPool(h as tf.Tensor4D, 2, 2, "valid");
      h = tf.leakyRelu(tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, "same"), 0.3);
      const logits = tf.matMul(h.reshape([16, -1]), dense);
      return tf.sigmoid(logits).mean();
    };
    // One test per parameter: d loss / d parameter on both backends.
    for (let p = 1; p < inputs.length; p++) {
      await assertAgrees(inputs, (...xs) =>
        tf.grad((v: tf.Tensor) => {
          const args = [...xs] as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]; // the five inputs
          args[p] = v;
          return loss(...args);
        })(xs[p]!),
      );
    }
  });

  test("Sum and Mean gradients (replaced by broadcasting versions) equal dy broadcast (÷ n) on both backends", async (t) => {
    if (!needNative(t)) return;
    const shape = [4, 5, 6, 3];
    for (const [axes, keepDims] of [[[0, 1, 2], false], [[3], true], [[1, 2], false]] as const) {
      const kept = shape.map((d, i) => ((axes as readonly number[]).includes(i) ? 1 : d));
      const dyShape = keepDims ? kept : shape.filter((_, i) => !(axes as readonly number[]).includes(i));
      const n = shape.reduce((a, d, i) => ((axes as readonly number[]).includes(i) ? a * d : a), 1);
      for (const backend of ["cpu", "wasm"]) {
        await tf.setBackend(backend);
        tf.tidy(() => {
          const x = tf.tensor(seededValues(shape, 160), shape);
          const dy = tf.tensor(seededValues(dyShape, 161), dyShape);
          const expected = tf.broadcastTo(dy.reshape(kept), shape);
          const gSum = tf.grad((v: tf.Tensor) => tf.sum(v, [...axes], keepDims).mul(dy).sum())(x);
          const gMean = tf.grad((v: tf.Tensor) => tf.mean(v, [...axes], keepDims).mul(dy).sum())(x);
          assert.ok(relativeDifference(expected.dataSync(), gSum.dataSync()) < 1e-6, `${backend} Sum [${axes}]`);
          assert.ok(relativeDifference(expected.div(n).dataSync(), gMean.dataSync()) < 1e-6, `${backend} Mean [${axes}]`);
        });
      }
    }
    await tf.setBackend("wasm");
  });

  test("NativeAdamOptimizer matches tfjs' Adam on the cpu backend over 5 steps", async (t) => {
    if (!needNative(t)) return;
    const shapes = [[3, 3, 32, 64], [64], [1536, 128], [1]];
    const initial = shapes.map((s, i) => seededValues(s, 140 + i));
    const gradients = [0, 1, 2, 3, 4].map((step) => shapes.map((s, i) => seededValues(s, 150 + 10 * step + i)));
    const run = async (backend: string, makeOptimizer: () => tf.Optimizer): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const variables = shapes.map((s, i) => tf.variable(tf.tensor(initial[i]!, s), true, `adam_test_${backend}_${i}`));
      const optimizer = makeOptimizer();
      let afterFirstStep = 0;
      for (const [step, grads] of gradients.entries()) {
        const named = variables.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i]!, shapes[i]) }));
        optimizer.applyGradients(named);
        named.forEach((n) => n.tensor.dispose());
        if (step === 0) afterFirstStep = tf.memory().numTensors;
      }
      assert.equal(tf.memory().numTensors, afterFirstStep, `${backend}: tensors leaked by applyGradients`);
      const values = variables.map((v) => v.dataSync().slice() as Float32Array);
      variables.forEach((v) => v.dispose());
      optimizer.dispose();
      return values;
    };
    const reference = await run("cpu", () => tf.train.adam(1e-3, 0.9, 0.999, 1e-7));
    const native = await run("wasm", () => {
      const o = createAdam(1e-3, 0.9, 0.999, 1e-7);
      assert.ok(o instanceof NativeAdamOptimizer, "createAdam gives the native optimizer");
      return o;
    });
    await tf.setBackend("wasm");
    reference.forEach((r, i) => {
      const rel = relativeDifference(r, native[i]!);
      assert.ok(rel < REL_TOLERANCE, `variable ${i}: relative difference ${rel.toExponential(2)}`);
    });
  });

  test("an arch_00b training epoch leaks no tensors and no wasm buffers", async (t) => {
    if (!needNative(t)) return;
    const model = buildArch00b({ seed: 7 });
    compileModel(model, ARCH00B_TRAINING);
    const x = tf.tidy(() => tf.randomUniform([64, 50, 20, 1], 0, 1, "float32", 8).greater(0.8).cast("float32"));
    const y = tf.tidy(() => tf.randomUniform([64, 1], 0, 1, "float32", 9).greater(0.5).cast("float32"));
    await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 }); // warm-up: optimizer state
    const tensors = tf.memory().numTensors;
    const ids = wasmDataIds();
    const history = await model.fit(x, y, { epochs: 2, batchSize: 32, shuffle: false, verbose: 0 });
    assert.equal(tf.memory().numTensors, tensors, "tensors leaked");
    assert.equal(wasmDataIds(), ids, "wasm heap buffers leaked");
    const losses = history.history.loss;
    assert.ok(losses !== undefined && losses.every((l) => Number.isFinite(l as number)), "finite losses");
    model.dispose();
    tf.dispose([x, y]);
  });
});
