import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { checkFiniteWeights, loadTfjsModel, saveTfjsModel } from "../lib/src/io/tfjsModel";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { tempDir } from "./helpers";

// The backend says which one runs and silences tfjs' cpu banner, as in every other tfjs test.
before(() => initBackend({ quiet: true }));

test("save and load in the tfjs format give the same predictions", async () => {
  const dir = path.join(tempDir(), "model");
  const model = buildArch00b({ seed: 11 });
  await saveTfjsModel(model, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["model.json", "weights.bin"]);
  const loaded = await loadTfjsModel(dir);
  const x = tf.randomUniform([5, 50, 20, 1], 0, 1, "float32", 3);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const b = (loaded.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual(b, a);
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

test("bad input: no model.json, missing weights file", async () => {
  const dir = tempDir();
  await assert.rejects(loadTfjsModel(dir), /no model\.json found/);
  const saved = path.join(dir, "m");
  const model = buildArch00b();
  await saveTfjsModel(model, saved);
  model.dispose();
  fs.rmSync(path.join(saved, "weights.bin"));
  await assert.rejects(loadTfjsModel(saved), /weights file '\.\/weights\.bin' is missing/);
});

test("broken model folders are InputErrors naming the file: truncated or oversized weights.bin, not JSON, a binary model.json", async () => {
  const dir = path.join(tempDir(), "model");
  const model = buildArch00b({ seed: 12 });
  await saveTfjsModel(model, dir);
  model.dispose();
  const weights = path.join(dir, "weights.bin");
  const whole = fs.readFileSync(weights);
  const expectInputError = async (pattern: RegExp) =>
    assert.rejects(loadTfjsModel(dir), (e: unknown) => e instanceof InputError && pattern.test(e.message));
  fs.writeFileSync(weights, whole.subarray(0, 1000));
  await expectInputError(/model\.json: \.\/weights\.bin holds 1,000 bytes, model\.json describes 1,206,276 \(truncated weights\?\)/);
  fs.writeFileSync(weights, Buffer.concat([whole, Buffer.alloc(8)]));
  await expectInputError(/holds 1,206,284 bytes, model\.json describes 1,206,276 \(another model's weights\?\)/);
  fs.writeFileSync(weights, whole);
  const json = fs.readFileSync(path.join(dir, "model.json"));
  fs.writeFileSync(path.join(dir, "model.json"), "{ not json");
  await expectInputError(/model\.json: not a valid model\.json/);
  fs.writeFileSync(path.join(dir, "model.json"), Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
  await expectInputError(/model\.json: is an HDF5 file \(a Keras \.h5 model\?\), expected a TensorFlow\.js model\.json/);
  fs.writeFileSync(path.join(dir, "model.json"), json);
  (await loadTfjsModel(dir)).dispose();
});

/** The layers of a saved model.json (functional models keep them under config.layers). */
function topologyLayers(json: { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } }) {
  return json.modelTopology.config.layers;
}

test("a model.json tfjs cannot build (an unknown layer, units: -5) is an InputError naming the file, not a stack", async () => {
  const dir = path.join(tempDir(), "model");
  const model = buildArch00b({ seed: 13 });
  await saveTfjsModel(model, dir);
  model.dispose();
  const file = path.join(dir, "model.json");
  const original = fs.readFileSync(file, "utf8");
  const edits: [(layers: ReturnType<typeof topologyLayers>) => void, RegExp][] = [
    [(layers) => void (layers[1]!.class_name = "FancyLayer"), /model\.json: cannot build the model it describes: Unknown layer: FancyLayer\. This may be due/],
    [(layers) => void (layers.find((l) => l.class_name === "Dense")!.config.units = -5), /model\.json: cannot build the model it describes: Expected units to be a positive integer, but got -5\.$/],
  ];
  for (const [edit, pattern] of edits) {
    const json = JSON.parse(original);
    edit(topologyLayers(json));
    fs.writeFileSync(file, JSON.stringify(json));
    await assert.rejects(loadTfjsModel(dir), (e: unknown) => e instanceof InputError && pattern.test(e.message) && !e.message.includes("\n"));
  }
});

test("checkFiniteWeights: a model whose weights hold NaN is refused naming the file and the weight", async () => {
  const model = buildArch00b({ seed: 14 });
  assert.doesNotThrow(() => checkFiniteWeights(model, "model"));
  const weights = model.getWeights();
  const broken = weights.map((w, i) => (i === 3 ? tf.fill(w.shape, NaN) : w.clone()));
  model.setWeights(broken);
  tf.dispose(broken);
  assert.throws(() => checkFiniteWeights(model, "some/model"), (e: unknown) => e instanceof InputError && /^some\/model: the model's weights hold NaN \([\d,]+ of [\d,]+ values of '[^']+'\): a diverged or damaged model, it cannot score$/.test(e.message));
  model.dispose();
});
