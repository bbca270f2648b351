import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { missingData } from "../lib/src/data/paths";
import { deepMirDatasetsFolder, DeepMirDataset } from "../lib/src/hairpin/datasets";
import { runHairpinClassifierExperiment, spreadRows, summariseSeeds } from "../lib/src/hairpin/experiment";
import { formatMeanSd, meanSd } from "../lib/src/metrics";
import { HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { hairpinSetMetrics } from "../lib/src/hairpin/evaluate";
import { tempDir } from "./helpers";

test("meanSd: sample standard deviation, none for one value; formatMeanSd", () => {
  assert.deepEqual(meanSd([2]), { mean: 2, sd: null });
  const { mean, sd } = meanSd([1, 2, 3, 4]);
  assert.equal(mean, 2.5);
  assert.ok(Math.abs(sd! - Math.sqrt(5 / 3)) < 1e-12);
  assert.equal(formatMeanSd({ mean: 0.92346, sd: 0.0041 }), "0.9235 ± 0.0041");
  assert.equal(formatMeanSd({ mean: 0.5, sd: null }, 2), "0.50");
  assert.equal(formatMeanSd(null), "—");
  assert.throws(() => meanSd([]), /mean of no values/);
});

test("summariseSeeds: per set and metric over seeds; null where a metric does not apply", () => {
  const seedA = [hairpinSetMetrics([1, 1, 0, 0], [0.9, 0.2, 0.1, 0.3], 0.5, "mixed"), hairpinSetMetrics([1, 1], [0.9, 0.8], 0.5, "positives")];
  const seedB = [hairpinSetMetrics([1, 1, 0, 0], [0.9, 0.8, 0.1, 0.3], 0.5, "mixed"), hairpinSetMetrics([1, 1], [0.9, 0.2], 0.5, "positives")];
  const summary = summariseSeeds([{ metrics: seedA }, { metrics: seedB }]);
  assert.equal(summary.length, 2);
  assert.equal(summary[0]!.name, "mixed");
  assert.equal(summary[0]!.accuracy!.mean, (0.75 + 1) / 2);
  assert.equal(summary[1]!.rocAuc, null, "no ROC-AUC on a single-class set");
  assert.equal(summary[1]!.sensitivity!.mean, 0.75);
  assert.deepEqual(summariseSeeds([]), []);
});

test("spreadRows keeps both classes of a class-sorted set, rows at even spacing", () => {
  const n = 10;
  const images = new Uint8Array(n * HAIRPIN_IMAGE_SIZE);
  for (let i = 0; i < n; i++) images[i * HAIRPIN_IMAGE_SIZE] = i;
  const d: DeepMirDataset = { prefix: "toy", n, images, labels: Uint8Array.from({ length: n }, (_, i) => (i < 5 ? 1 : 0)), names: Array.from({ length: n }, (_, i) => `r${i}`) };
  const s = spreadRows(d, 4);
  assert.deepEqual(s.names, ["r0", "r2", "r5", "r7"]);
  assert.deepEqual([...s.labels], [1, 1, 0, 0]);
  assert.equal(s.images[2 * HAIRPIN_IMAGE_SIZE], 5);
  assert.throws(() => spreadRows(d, 0), /maxTrain must be a positive integer/);
});

test("the experiment on real data: trains, evaluates, writes results.json, and a repeated run resumes to the same numbers", async (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  await initBackend({ quiet: true });
  const outDir = tempDir();
  const lines: string[] = [];
  const options = {
    seeds: [5], epochs: 1, outDir, maxTrain: 64, batchSize: 32, evaluateOn: ["hsaplus", "shuffled"],
    progress: (line: string) => void lines.push(line),
  };
  const before = tf.memory().numTensors;
  const first = await runHairpinClassifierExperiment(options);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  assert.deepEqual(first.summary.map((s) => s.name), ["modhsa_test", "hsaplus", "shuffled"]);
  assert.equal(first.trainSamples, 64);
  assert.equal(first.perSeed[0]!.history.length, 1);
  assert.ok(Number.isFinite(first.perSeed[0]!.history[0]!.testAccuracy));
  assert.equal(first.summary[0]!.accuracy!.sd, null, "one seed, no sd");
  assert.ok(fs.existsSync(path.join(outDir, "seed-5", "model", "model.json")));
  const saved = JSON.parse(fs.readFileSync(path.join(outDir, "results.json"), "utf8")) as { summary: unknown };
  assert.deepEqual(saved.summary, JSON.parse(JSON.stringify(first.summary)));
  assert.ok(lines.some((l) => l.startsWith("seed 5 epoch 1/1")));

  lines.length = 0;
  const again = await runHairpinClassifierExperiment(options);
  assert.ok(lines.some((l) => l.includes("all 1 epochs found")), lines.join("\n"));
  assert.deepEqual(again.perSeed[0]!.metrics, first.perSeed[0]!.metrics);
  await assert.rejects(runHairpinClassifierExperiment({ ...options, seeds: [] }), /seeds must be integers/);
  await assert.rejects(runHairpinClassifierExperiment({ ...options, trainSet: "nosuchset" }), /nosuchset/);
});
