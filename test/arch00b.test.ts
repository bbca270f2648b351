import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildArch00b } from "../lib/src/models/arch00b";

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
