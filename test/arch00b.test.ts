import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ARCH00B_TRAINING, buildArch00b } from "../lib/src/binding/arch00b";
import { initBackend } from "../lib/src/ops/backend";
import { compileModel } from "../lib/src/ops/nn";
import { SeededDropout } from "../lib/src/ops/seededDropout";

// The backend users run (native when built, else wasm): on tfjs' pure-JS cpu backend the
// training steps below took minutes.
before(() => initBackend({ quiet: true }));

test("arch_00b: 301,569 parameters, [n,50,20,1] → [n,1], Keras layer names", () => {
  const model = buildArch00b();
  assert.equal(model.countParams(), 301569);
  assert.deepEqual(model.inputs[0]!.shape, [null, 50, 20, 1]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 1]);
  const names = model.layers.map((l) => l.name);
  for (const n of ["conv_1", "Max_3", "2d_matrix", "batch_normalization_5", "dropout_5", "main_output"]) assert.ok(names.includes(n), n);
  const flat = model.getLayer("2d_matrix").outputShape as number[];
  assert.deepEqual(flat, [null, 1536]);
  model.dispose();
});

test("two channels for the wobble encoding", () => {
  const model = buildArch00b({ channels: 2 });
  assert.deepEqual(model.inputs[0]!.shape, [null, 50, 20, 2]);
  assert.equal(model.countParams(), 301569 + 9 * 32);
  model.dispose();
});

test("same seed, same weights; another seed, other weights", () => {
  const a = buildArch00b({ seed: 7 });
  const b = buildArch00b({ seed: 7 });
  const c = buildArch00b({ seed: 8 });
  const kernel = (m: tf.LayersModel) => m.getLayer("conv_1").getWeights()[0]!.dataSync();
  assert.deepEqual(kernel(a), kernel(b));
  assert.notDeepEqual(kernel(a), kernel(c));
  [a, b, c].forEach((m) => m.dispose());
});

test("predict leaves no tensors behind and outputs probabilities", () => {
  const model = buildArch00b();
  const before = tf.memory().numTensors;
  const scores = tf.tidy(() => (model.predict(tf.randomUniform([3, 50, 20, 1], 0, 1, "float32", 1)) as tf.Tensor).dataSync());
  assert.equal(tf.memory().numTensors, before);
  assert.equal(scores.length, 3);
  for (const s of scores) assert.ok(s > 0 && s < 1);
  model.dispose();
});

test("dropout draws a fresh mask every training step, reproducibly (SeededDropout, not tfjs' fixed-mask dropout)", async () => {
  // A batch of 8: enough for the six dropout layers to drop different cells at each step.
  const x = tf.tidy(() => tf.randomUniform([8, 50, 20, 1], 0, 1, "float32", 5).round());
  const y = tf.tidy(() => tf.randomUniform([8, 1], 0, 1, "float32", 6).round());
  /** Weights after two training steps on the same batch. */
  async function twoSteps(): Promise<Float32Array> {
    const model = buildArch00b({ seed: 3 });
    compileModel(model, ARCH00B_TRAINING);
    assert.equal(model.layers.filter((l) => l instanceof SeededDropout).length, 6);
    await model.trainOnBatch(x, y);
    await model.trainOnBatch(x, y);
    const flat = tf.tidy(() => tf.concat(model.getWeights().map((w) => w.flatten())));
    const values = flat.dataSync() as Float32Array;
    flat.dispose();
    model.dispose();
    return values;
  }
  assert.deepEqual(await twoSteps(), await twoSteps(), "same seed, same training, same weights");
  // The first dropout layer's masks at steps 0 and 1 differ.
  const layer = new SeededDropout({ rate: 0.25, seed: 3 });
  const ones = tf.ones([1, 25, 10, 32]);
  const [a, b] = [0, 1].map(() => tf.tidy(() => (layer.apply(ones, { training: true }) as tf.Tensor).dataSync()));
  assert.notDeepEqual(a, b);
  x.dispose(); y.dispose(); ones.dispose();
});
