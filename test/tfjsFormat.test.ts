import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { loadTfjsModel, saveTfjsModel } from "../lib/src/io/tfjsModel";
import { tempDir } from "./helpers";

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
