import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { predictScores } from "../lib/src/binding/predict";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { MIRNA, SITE, SITE_8MER } from "./helpers";

test("predictScores: chunking does not change scores, equals a direct predict, leaks nothing", async () => {
  const model = buildArch00b({ seed: 5 });
  const mirnas = Array.from({ length: 37 }, () => MIRNA);
  const sites = Array.from({ length: 37 }, (_, i) => (i % 2 ? SITE : SITE_8MER));
  const before = tf.memory().numTensors;
  const progress: number[] = [];
  const small = await predictScores(model, mirnas, sites, { batchSize: 4, chunkSize: 8, onProgress: (d) => progress.push(d) });
  const large = await predictScores(model, mirnas, sites, { batchSize: 64 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(small.length, 37);
  for (let i = 0; i < 37; i++) assert.ok(Math.abs(small[i]! - large[i]!) < 1e-6);
  assert.deepEqual(progress, [8, 16, 24, 32, 37]);
  const direct = tf.tidy(() => (model.predict(tf.tensor4d(encodeBindingMatrix(mirnas, sites), [37, 50, 20, 1])) as tf.Tensor).dataSync());
  for (let i = 0; i < 37; i++) assert.ok(Math.abs(direct[i]! - large[i]!) < 1e-6);
  model.dispose();
});
