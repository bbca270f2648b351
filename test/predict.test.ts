import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { predictScores } from "../lib/src/binding/predict";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { initBackend } from "../lib/src/ops/backend";
import { MIRNA, SITE, SITE_8MER } from "./helpers";

before(() => initBackend({ quiet: true }));

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

test("predictScores feeds the model one batch per tensor through apply (no LayersModel.predict slicing a big chunk), and yields to the event loop", async () => {
  const model = buildArch00b({ seed: 6 });
  const n = 1000;
  const mirnas = Array.from({ length: n }, () => MIRNA);
  const sites = Array.from({ length: n }, (_, i) => (i % 3 ? SITE : SITE_8MER));
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(encodeBindingMatrix(mirnas, sites), [n, 50, 20, 1]), { batchSize: 1000 }) as tf.Tensor).dataSync());
  // What the scoring run asks of the model: LayersModel.predict over a chunk of 8,192 pairs
  // gathered every batch out of a 32 MB tensor (twice the page faults, a quarter more CPU time).
  const rows: number[] = [];
  let predictCalls = 0;
  const apply = model.apply.bind(model);
  const predictFn = model.predict.bind(model);
  model.apply = ((x: tf.Tensor | tf.Tensor[], kwargs?: object) => {
    rows.push((Array.isArray(x) ? x[0]! : x).shape[0]!);
    return apply(x as tf.Tensor, kwargs);
  }) as typeof model.apply;
  model.predict = ((x: tf.Tensor, args?: object) => {
    predictCalls++;
    return predictFn(x, args);
  }) as typeof model.predict;
  let timerRan = false;
  let progressAfterTimer = false;
  setTimeout(() => (timerRan = true), 0);
  const scores = await predictScores(model, mirnas, sites, { batchSize: 64, yieldEveryMs: 0, onProgress: (done, total) => (progressAfterTimer ||= timerRan && done < total) });
  assert.equal(predictCalls, 0, "LayersModel.predict is not used");
  assert.deepEqual(rows, [...Array.from({ length: 15 }, () => 64), 40], "one tensor per batch of 64");
  for (let i = 0; i < n; i++) assert.ok(Math.abs(scores[i]! - expected[i]!) < 1e-6, `pair ${i}`);
  assert.ok(progressAfterTimer, "a timer ran while scoring was under way (signal handlers can run)");
  model.dispose();
});

test("predictScores with scale 'logit': log(p / (1 − p)) read before the sigmoid, where probabilities saturate too", async () => {
  const model = buildArch00b({ seed: 7 });
  const mirnas = Array.from({ length: 9 }, () => MIRNA);
  const sites = Array.from({ length: 9 }, (_, i) => (i % 2 ? SITE : SITE_8MER));
  const before = tf.memory().numTensors;
  const p = await predictScores(model, mirnas, sites, { batchSize: 4 });
  const z = await predictScores(model, mirnas, sites, { batchSize: 4, scale: "logit" });
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(1 / (1 + Math.exp(-z[i]!)) - p[i]!) < 1e-5, `pair ${i}: sigmoid(${z[i]}) vs ${p[i]}`);
  await assert.rejects(predictScores(model, mirnas, sites, { scale: "odds" as never }), /scale must be/);
  model.dispose();
});
