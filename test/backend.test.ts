/**
 * TensorFlow.js backend selection (lib/src/ops/backend.ts) and the wasm training
 * kernels (lib/src/ops/wasm/): every kernel we add or replace for wasm must agree
 * with tfjs' cpu backend, a small conv model's gradients must agree between the
 * two backends, and a training epoch on wasm must leak neither tensors nor wasm
 * heap buffers.
 *
 * Run: node --import tsx --test test/backend.test.ts   (≈1 min: tfjs' cpu
 * Conv2DBackpropFilter, the reference, is very slow, so the two larger arch_00b
 * shapes use batch 8 instead of 32 for it; channel and spatial sizes are as in
 * arch_00b).
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { relativeDifference, seededValues, wasmDataIds } from "./tfHelpers";
import {
  BACKEND_ENV_VAR,
  BackendUnavailableError,
  describeBackend,
  initBackend,
} from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import { tileIsWholeRepeat } from "../lib/src/ops/wasm/wasmTile";
import { NATIVE_ADDON_ENV_VAR } from "../lib/src/ops/native/addon";

const REPO = path.resolve(__dirname, "..");
/** Max |a−b| over max |a|, the agreement measure of every comparison here. */
const REL_TOLERANCE = 1e-4;




/**
 * Runs `compute` on freshly made tensors on cpu, then on wasm, and returns both
 * results. On wasm it also checks that the call leaves no tensor and no wasm
 * buffer behind once its result is disposed.
 */
async function onBothBackends(
  inputs: { shape: number[]; values: Float32Array }[],
  compute: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<{ cpu: Float32Array; wasm: Float32Array; shape: number[] }> {
  const results: Record<string, Float32Array> = {};
  let shape: number[] = [];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = backend === "wasm" ? wasmDataIds() : 0;
    const out = compute(...xs);
    shape = out.shape;
    results[backend] = (await out.data()) as Float32Array;
    out.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore, `${backend}: tensors leaked`);
    if (backend === "wasm") assert.equal(wasmDataIds(), idsBefore, "wasm heap buffers leaked");
    xs.forEach((x) => x.dispose());
  }
  await tf.setBackend("wasm");
  return { cpu: results.cpu!, wasm: results.wasm!, shape }; // both set by the loop
}

type Pad = "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];

interface FilterCase {
  name: string;
  x: number[];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
}

/** Output height/width of a conv, to shape dy. */
function convOutShape(c: FilterCase): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number],
    c.filter,
    c.strides,
    1,
    c.pad,
  );
  return info.outShape;
}

const FILTER_CASES: FilterCase[] = [
  { name: "arch_00b conv_1, batch 32", x: [32, 50, 20, 1], filter: [3, 3, 1, 32], strides: [1, 1], pad: "same" },
  { name: "arch_00b conv_2, batch 8", x: [8, 25, 10, 32], filter: [3, 3, 32, 64], strides: [1, 1], pad: "same" },
  { name: "arch_00b conv_3, batch 8", x: [8, 12, 5, 64], filter: [3, 3, 64, 128], strides: [1, 1], pad: "same" },
  { name: "stride 2, same", x: [4, 11, 8, 3], filter: [3, 3, 3, 5], strides: [2, 2], pad: "same" },
  { name: "valid, stride 1", x: [4, 11, 8, 3], filter: [3, 3, 3, 5], strides: [1, 1], pad: "valid" },
  { name: "valid, strides 2×3, 4×2 filter", x: [2, 10, 9, 2], filter: [4, 2, 2, 3], strides: [2, 3], pad: "valid" },
  {
    name: "explicit padding, stride 2",
    x: [3, 9, 7, 2],
    filter: [3, 3, 2, 4],
    strides: [2, 2],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
  },
];

before(async () => {
  await initBackend({ preferred: "wasm", quiet: true });
});

describe("initBackend", () => {
  test("starts wasm once and describes it", async () => {
    assert.equal(await initBackend({ preferred: "wasm", quiet: true }), "wasm");
    assert.equal(await initBackend({ quiet: true }), "wasm", "a second call returns the same backend");
    assert.equal(tf.getBackend(), "wasm");
    assert.match(describeBackend(), /^wasm \((no )?SIMD, 1 thread; tfjs 4\.\d+\.\d+\)$/);
    await assert.rejects(initBackend({ preferred: "cpu", quiet: true }), /already in use.*cannot switch to 'cpu'/);
  });

  test("re-activates its backend when other code switched tfjs away", async () => {
    await tf.setBackend("cpu");
    assert.equal(await initBackend({ quiet: true }), "wasm");
    assert.equal(tf.getBackend(), "wasm");
  });

  test(`${BACKEND_ENV_VAR}=bogus is an error listing the valid names`, async () => {
    const saved = process.env[BACKEND_ENV_VAR];
    process.env[BACKEND_ENV_VAR] = "bogus";
    try {
      await assert.rejects(initBackend({ quiet: true }), (e: unknown) => {
        assert.ok(e instanceof InputError, "an InputError");
        assert.match(e.message, /MIRNA_DL_BACKEND: unknown TensorFlow\.js backend 'bogus'/);
        assert.match(e.message, /node-gpu, node, native, wasm, cpu/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env[BACKEND_ENV_VAR];
      else process.env[BACKEND_ENV_VAR] = saved;
    }
  });

  test("requesting node says tfjs-node is not installed", async (t) => {
    try {
      require.resolve("@tensorflow/tfjs-node");
      t.skip("@tensorflow/tfjs-node is installed on this machine");
      return;
    } catch {
      // expected here: not installed
    }
    await assert.rejects(initBackend({ preferred: "node", quiet: true }), (e: unknown) => {
      assert.ok(e instanceof BackendUnavailableError, "a BackendUnavailableError");
      assert.equal(e.backend, "node");
      assert.match(e.message, /@tensorflow\/tfjs-node is not installed \(its install downloads libtensorflow/);
      return true;
    });
  });

  test("a tfjs-node installed without its native binding is reported as such, and auto falls back to wasm", () => {
    // A real package folder whose entry point fails the way tfjs-node does when its
    // install script could not download libtensorflow (the binding file is missing).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mirna-dl-broken-tfjs-node-"));
    try {
      const pkg = path.join(dir, "node_modules", "@tensorflow", "tfjs-node");
      fs.mkdirSync(pkg, { recursive: true });
      // As in a real install, it shares the project's (deduped) @tensorflow/tfjs-core.
      fs.symlinkSync(
        path.dirname(require.resolve("@tensorflow/tfjs-core/package.json")),
        path.join(dir, "node_modules", "@tensorflow", "tfjs-core"),
        "dir",
      );
      fs.writeFileSync(
        path.join(pkg, "package.json"),
        JSON.stringify({ name: "@tensorflow/tfjs-node", version: "4.22.0", main: "index.js" }),
      );
      fs.writeFileSync(
        path.join(pkg, "index.js"),
        "require(require('path').join(__dirname, 'lib', 'napi-v8', 'tfjs_binding.node'));\n",
      );
      const script = path.join(dir, "probe.ts");
      fs.writeFileSync(
        script,
        `import { initBackend, describeBackend } from ${JSON.stringify(path.join(REPO, "lib", "src", "ops", "backend"))};\n` +
          "(async () => {\n" +
          "  const forced = await initBackend({ preferred: 'node', quiet: true }).then(() => 'started', (e) => e.message);\n" +
          "  const auto = await initBackend({ quiet: false });\n" +
          "  console.log(JSON.stringify({ forced, auto, describe: describeBackend() }));\n" +
          "})();\n",
      );
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(dir, "node_modules") };
      delete env[BACKEND_ENV_VAR];
      // Without the native addon, so that auto lands on wasm whether or not it is built here.
      env[NATIVE_ADDON_ENV_VAR] = path.join(dir, "no-native-addon.node");
      const run = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: REPO, env, encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { forced?: string; auto?: string };
      assert.ok(out.forced !== undefined, `no 'forced' in the script's output: ${run.stdout}`);
      assert.match(out.forced, /'node' is unavailable: @tensorflow\/tfjs-node is installed but failed to load/);
      assert.match(out.forced, /tfjs_binding\.node/);
      assert.equal(out.auto, "wasm");
      assert.match(run.stderr, /mirna-dl: TensorFlow\.js backend wasm \(/);
      assert.match(run.stderr, /mirna-dl: skipped backend node: @tensorflow\/tfjs-node is installed but failed to load/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("tfjs' 'install our node backend' banner never prints on the cpu backend, set by tfjs or by initBackend", () => {
    const banner = /install our node backend|looks like you are running TensorFlow\.js in Node/;
    const backendModule = JSON.stringify(path.join(REPO, "lib", "src", "ops", "backend"));
    const cases = {
      // Without initBackend: code that sets tfjs' cpu backend itself, with this library loaded.
      "tf.setBackend": `const tf = require("@tensorflow/tfjs"); require(${backendModule});\ntf.setBackend("cpu").then(() => { tf.tensor([1, 2]).dataSync(); console.log("ran " + tf.getBackend()); });`,
      // The cpu backend chosen through initBackend.
      "cpu forced": `const tf = require("@tensorflow/tfjs"); const { initBackend } = require(${backendModule});\ninitBackend({ preferred: "cpu" }).then(() => { tf.tensor([1, 2]).dataSync(); console.log("ran " + tf.getBackend()); });`,
    };
    for (const [name, code] of Object.entries(cases)) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env[BACKEND_ENV_VAR];
      const run = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: REPO, env, encoding: "utf8" });
      assert.equal(run.status, 0, `${name}: ${run.stderr}`);
      assert.match(run.stdout, /^ran cpu$/m, `${name}: the cpu backend ran: ${run.stdout}`);
      assert.doesNotMatch(run.stdout + run.stderr, banner, `${name}: tfjs printed its banner:\n${run.stdout}${run.stderr}`);
    }
  });
});

describe("wasm Conv2DBackpropFilter agrees with the cpu backend", () => {
  FILTER_CASES.forEach((c, i) => {
    test(`${c.name}: x [${c.x}] filter [${c.filter}]`, async () => {
      const dyShape = convOutShape(c);
      const x = { shape: c.x, values: seededValues(c.x, 100 + i) };
      const dy = { shape: dyShape, values: seededValues(dyShape, 200 + i) };
      const { cpu, wasm, shape } = await onBothBackends([x, dy], (xt, dyt) =>
        tf.engine().runKernel(
          "Conv2DBackpropFilter",
          { x: xt, dy: dyt },
          { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: c.filter } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      );
      assert.deepEqual(shape, c.filter);
      const rel = relativeDifference(cpu, wasm);
      assert.ok(rel < REL_TOLERANCE, `relative difference ${rel.toExponential(2)}`);
    });
  });

  test("NCHW is refused with a clear error", async () => {
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 5, 5]);
    assert.throws(
      () =>
        tf.engine().runKernel(
          "Conv2DBackpropFilter",
          { x, dy },
          { strides: 1, pad: "same", dataFormat: "NCHW", filterShape: [3, 3, 2, 3] } as unknown as tf.NamedAttrMap,
        ),
      /supports dataFormat 'NHWC' only, got 'NCHW'/,
    );
    tf.dispose([x, dy]);
  });
});

describe("replaced wasm kernels agree with the cpu backend", () => {
  const conv = (pad: "same" | "valid", stride: number) => (x: tf.Tensor, w: tf.Tensor) =>
    tf.grad((xx: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, stride, pad).square().sum())(x);
  const pool = (size: number, stride: number, pad: "same" | "valid") => (x: tf.Tensor) =>
    tf.grad((xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, size, stride, pad).square().sum())(x);
  const cases: { name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor; shift?: number }[] = [
    { name: "Conv2DBackpropInput, arch_00b conv_2 same", shapes: [[8, 25, 10, 32], [3, 3, 32, 64]], f: conv("same", 1) },
    { name: "Conv2DBackpropInput, valid", shapes: [[3, 11, 8, 3], [3, 2, 3, 5]], f: conv("valid", 1) },
    { name: "Conv2DBackpropInput, stride 2 (original kernel)", shapes: [[3, 11, 8, 3], [3, 3, 3, 5]], f: conv("same", 2) },
    { name: "Tile of [1,1,1,C] (whole repeats)", shapes: [[1, 1, 1, 32]], f: (x) => tf.tile(x, [4, 5, 3, 1]) },
    { name: "Tile, general (original kernel)", shapes: [[2, 1, 3]], f: (x) => tf.tile(x, [2, 4, 2]) },
    { name: "MaxPoolGrad 2×2, arch_00b block 1", shapes: [[4, 50, 20, 32]], f: pool(2, 2, "valid") },
    { name: "MaxPoolGrad 2×2, odd size", shapes: [[3, 25, 10, 5]], f: pool(2, 2, "valid") },
    { name: "MaxPoolGrad 3×3 stride 2 same (overlapping)", shapes: [[2, 9, 7, 3]], f: pool(3, 2, "same") },
    // tfjs-backend-wasm's own MaxPoolGrad gets this one wrong (relative error ≈ 1).
    { name: "MaxPoolGrad, all windows negative", shapes: [[2, 8, 6, 3]], f: pool(2, 2, "valid"), shift: -10 },
    { name: "BatchMatMul xᵀ·dy", shapes: [[32, 1536], [32, 128]], f: (a, b) => tf.matMul(a, b, true, false) },
    { name: "BatchMatMul dy·Wᵀ", shapes: [[32, 128], [1536, 128]], f: (a, b) => tf.matMul(a, b, false, true) },
    { name: "BatchMatMul both transposed, rank 3", shapes: [[1, 7, 5], [1, 3, 7]], f: (a, b) => tf.matMul(a, b, true, true) },
    { name: "BatchMatMul batched (original kernel)", shapes: [[2, 7, 5], [2, 7, 3]], f: (a, b) => tf.matMul(a, b, true, false) },
  ];
  cases.forEach((c, i) => {
    test(c.name, async () => {
      const inputs = c.shapes.map((shape, k) => {
        const values = seededValues(shape, 300 + 10 * i + k);
        if (c.shift !== undefined) for (let j = 0; j < values.length; j++) values[j] = -Math.abs(values[j]!) + c.shift;
        return { shape, values };
      });
      const { cpu, wasm } = await onBothBackends(inputs, c.f);
      const rel = relativeDifference(cpu, wasm);
      assert.ok(rel < REL_TOLERANCE, `relative difference ${rel.toExponential(2)}`);
    });
  });

  test("MaxPoolGrad with ties gives the gradient to the first maximum, as cpu does", async () => {
    const values = Float32Array.from({ length: 2 * 6 * 4 * 2 }, (_, j) => (j * 7) % 3); // many equal values
    const dy = { shape: [2, 3, 2, 2], values: seededValues([2, 3, 2, 2], 77) };
    const { cpu, wasm } = await onBothBackends([{ shape: [2, 6, 4, 2], values }, dy], (x, d) => {
      const y = tf.maxPool(x as tf.Tensor4D, 2, 2, "valid");
      const dx = tf.engine().runKernel(
        "MaxPoolGrad",
        { dy: d, input: x, output: y },
        { filterSize: [2, 2], strides: [2, 2], pad: "valid" } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor;
      y.dispose();
      return dx;
    });
    assert.deepEqual(Array.from(wasm), Array.from(cpu));
  });

  test("tileIsWholeRepeat", () => {
    assert.equal(tileIsWholeRepeat([1, 1, 1, 32], [32, 50, 20, 1]), true);
    assert.equal(tileIsWholeRepeat([4, 3], [2, 1]), true);
    assert.equal(tileIsWholeRepeat([4, 3], [1, 2]), false);
    assert.equal(tileIsWholeRepeat([2, 1, 3], [2, 4, 2]), false);
  });
});

/** A small seeded conv net with the layer types of arch_00b. */
function smallConvNet(seed: number, withDropout: boolean): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [12, 8, 1],
      filters: 6,
      kernelSize: 3,
      padding: "same",
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tf.layers.leakyReLU({ alpha: 0.3 }));
  model.add(tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3 }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  if (withDropout) model.add(tf.layers.dropout({ rate: 0.25, seed: seed + 1 }));
  model.add(
    tf.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      padding: "same",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
    }),
  );
  model.add(tf.layers.leakyReLU({ alpha: 0.3 }));
  model.add(tf.layers.flatten());
  model.add(
    tf.layers.dense({
      units: 1,
      activation: "sigmoid",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "binaryCrossentropy" });
  return model;
}

/** Seeded binary-matrix inputs and 0/1 labels. */
function seededDataset(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  return tf.tidy(() => ({
    x: tf.randomUniform([n, 12, 8, 1], 0, 1, "float32", seed).greater(0.7).cast("float32").dataSync() as Float32Array,
    y: tf.randomUniform([n, 1], 0, 1, "float32", seed + 1).greater(0.5).cast("float32").dataSync() as Float32Array,
  }));
}

describe("training on wasm", () => {
  test("gradients of a small conv model's loss agree with the cpu backend", async () => {
    const data = seededDataset(16, 11);
    const gradients: Record<string, Float32Array[]> = {};
    let weights: Float32Array[] | null = null;
    for (const backend of ["cpu", "wasm"]) {
      await tf.setBackend(backend);
      const model = smallConvNet(5, false);
      if (weights == null) weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      else model.setWeights(weights.map((w, k) => tf.tensor(w, model.getWeights()[k]!.shape)));
      const x = tf.tensor(data.x, [16, 12, 8, 1]);
      const y = tf.tensor(data.y, [16, 1]);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(
        () => tf.metrics.binaryCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar,
        variables,
      );
      gradients[backend] = variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();
    }
    await tf.setBackend("wasm");
    const cpu = gradients.cpu!, wasm = gradients.wasm!; // both set by the loop
    assert.equal(wasm.length, cpu.length);
    cpu.forEach((g, k) => {
      const rel = relativeDifference(g, wasm[k]!);
      assert.ok(rel < REL_TOLERANCE, `gradient ${k}: relative difference ${rel.toExponential(2)}`);
    });
  });

  test("an epoch of model.fit leaks no tensors and no wasm buffers", async () => {
    await tf.setBackend("wasm");
    const data = seededDataset(64, 21);
    const x = tf.tensor(data.x, [64, 12, 8, 1]);
    const y = tf.tensor(data.y, [64, 1]);
    const model = smallConvNet(7, true);
    // The first fit creates Adam's moment variables: measure the second.
    await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = wasmDataIds();
    const history = await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    assert.equal(tf.memory().numTensors, tensorsBefore, "tensors leaked by an epoch");
    assert.equal(wasmDataIds(), idsBefore, "wasm heap buffers leaked by an epoch");
    assert.ok(Number.isFinite(history.history.loss?.[0] as number), "finite loss");
    model.dispose();
    tf.dispose([x, y]);
  });
});
