import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { buildDeepMirClassifier, imagesToTensor, predictHairpinImages, DEEPMIR_TRAINING } from "../lib/src/hairpin/classifier";
import { SeededDropout } from "../lib/src/ops/seededDropout";
import { deepMirDatasetsFolder, loadDeepMirDataset } from "../lib/src/hairpin/datasets";
import { evaluateHairpinClassifier, hairpinSetMetrics } from "../lib/src/hairpin/evaluate";
import { HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { HairpinEpochRecord, trainDeepMirClassifier } from "../lib/src/hairpin/train";
import { splitTrainValidation } from "../lib/src/training/batches";
import { compileModel, KERAS_ADAM } from "../lib/src/ops/nn";
import { rankMetrics, thresholdMetrics } from "../lib/src/metrics";
import { loadTfjsModel, saveTfjsModel } from "../lib/src/io/tfjsModel";
import { mulberry32 } from "../lib/src/random";
import { tempDir } from "./helpers";

/** A small model for fast tests: 1 module of 4 filters, 8 dense units, Adam lr 0.01. */
const tiny = (seed: number) => {
  const model = buildDeepMirClassifier({ modules: 1, filters: [4], denseUnits: 8, seed });
  compileModel(model, { ...DEEPMIR_TRAINING, optimizer: { ...KERAS_ADAM, learningRate: 0.01 } });
  return model;
};

before(async () => {
  await initBackend({ quiet: true });
});

/**
 * `n` seeded synthetic images: white, with a coloured block whose colour says the class
 * (label 1 = red block, label 0 = blue block) at a random column, plus random noise pixels.
 */
function syntheticSet(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const random = mulberry32(seed);
  const images = new Uint8Array(n * HAIRPIN_IMAGE_SIZE).fill(255);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = random() < 0.5 ? 1 : 0;
    labels[i] = label;
    const x0 = Math.floor(random() * 90);
    for (let row = 8; row < 17; row++) {
      for (let x = x0; x < x0 + 10; x++) {
        const at = i * HAIRPIN_IMAGE_SIZE + (row * 100 + x) * 3;
        images[at] = label ? 255 : 0;
        images[at + 1] = 0;
        images[at + 2] = label ? 0 : 255;
      }
    }
    for (let k = 0; k < 50; k++) images[i * HAIRPIN_IMAGE_SIZE + Math.floor(random() * HAIRPIN_IMAGE_SIZE)] = 0;
  }
  return { images, labels };
}

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

const withoutSeconds = (h: HairpinEpochRecord[]) => h.map(({ seconds: _s, ...rest }) => rest);

test("the default classifier is the published 2-module VGG (valid first conv, 1,002,554 parameters)", () => {
  const model = buildDeepMirClassifier({ seed: 1 });
  assert.equal(model.countParams(), 1_002_554);
  assert.deepEqual(model.inputs[0]!.shape, [null, 25, 100, 3]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 2]);
  const shapes = Object.fromEntries(model.layers.map((l) => [l.name, l.outputShape]));
  assert.deepEqual(shapes.module1_conv1, [null, 23, 98, 48]);
  assert.deepEqual(shapes.module1_pool, [null, 11, 49, 48]);
  assert.deepEqual(shapes.module2_conv2, [null, 11, 49, 60]);
  assert.deepEqual(shapes.flatten, [null, 7200]);
  assert.equal(model.layers.filter((l) => l instanceof SeededDropout).length, 3);
  const three = buildDeepMirClassifier({ modules: 3, kernelSize: 5, denseUnits: 256, firstConvPadding: "same", seed: 1 });
  assert.deepEqual(three.layers.find((l) => l.name === "flatten")!.outputShape, [null, 3 * 12 * 72]);
  model.dispose();
  three.dispose();
});

test("builder: same seed, same weights; other seed, other weights; bad options are InputErrors", async () => {
  const [a, b, c] = [tiny(5), tiny(5), tiny(6)];
  assert.deepEqual(await weightsOf(a), await weightsOf(b));
  assert.notDeepEqual((await weightsOf(a))[0], (await weightsOf(c))[0]);
  [a, b, c].forEach((m) => m.dispose());
  assert.throws(() => buildDeepMirClassifier({ modules: 3, filters: [4, 5] }), InputError);
  assert.throws(() => buildDeepMirClassifier({ modules: 0 }), /modules must be a positive integer/);
  assert.throws(() => buildDeepMirClassifier({ denseUnits: 1.5 }), /denseUnits/);
});

test("imagesToTensor scales bytes to [0, 1] as float32(byte / 255) in the order asked", () => {
  const images = new Uint8Array(2 * HAIRPIN_IMAGE_SIZE);
  images[0] = 255;
  images[1] = 51;
  images[HAIRPIN_IMAGE_SIZE] = 7;
  const x = imagesToTensor(images, [1, 0]);
  assert.deepEqual(x.shape, [2, 25, 100, 3]);
  const data = x.dataSync();
  assert.equal(data[0], Math.fround(7 / 255));
  assert.equal(data[HAIRPIN_IMAGE_SIZE], 1);
  assert.equal(data[HAIRPIN_IMAGE_SIZE + 1], Math.fround(51 / 255));
  x.dispose();
});

test("SeededDropout: a new mask per training step, the same mask for the same step, identity at inference", () => {
  const layer = new SeededDropout({ rate: 0.5, seed: 3 });
  const x = tf.ones([1, 400]);
  const mask = (training: boolean) => Array.from((layer.apply(x, { training }) as tf.Tensor).dataSync());
  layer.step = 10;
  const m10 = mask(true);
  assert.equal(layer.step, 11);
  const m11 = mask(true);
  layer.step = 10;
  assert.deepEqual(mask(true), m10);
  assert.notDeepEqual(m10, m11);
  const dropped = m10.filter((v) => v === 0).length;
  assert.ok(dropped > 150 && dropped < 250, `about half dropped, got ${dropped}`);
  assert.ok(m10.every((v) => v === 0 || v === 2));
  assert.deepEqual(mask(false), new Array(400).fill(1));
  x.dispose();
});

test("a saved classifier (with its custom dropout layers) loads and predicts the same", async () => {
  const dir = path.join(tempDir(), "model");
  const model = tiny(2);
  await saveTfjsModel(model, dir);
  const loaded = await loadTfjsModel(dir);
  const { images } = syntheticSet(5, 1);
  assert.deepEqual(predictHairpinImages(loaded, images), predictHairpinImages(model, images));
  model.dispose();
  loaded.dispose();
});

test("training learns an easy synthetic task, deterministically, without leaking tensors (checkpoints included)", async () => {
  const data = syntheticSet(192, 11);
  const counts: number[] = [];
  const run = async () => {
    const model = tiny(7);
    const result = await trainDeepMirClassifier(model, data, {
      epochs: 5, batchSize: 32, validationFraction: 0.25, seed: 42, checkpointDir: tempDir(),
      onEpoch: () => void counts.push(tf.memory().numTensors),
    });
    return { model, result };
  };
  const first = await run();
  const { history } = first.result;
  assert.equal(history.length, 5);
  assert.deepEqual(history.map((h) => h.epoch), [1, 2, 3, 4, 5]);
  assert.equal(first.result.validationIndices.length, 48);
  assert.ok(history[4]!.loss < history[0]!.loss, `loss falls: ${history.map((h) => h.loss.toFixed(3))}`);
  assert.ok(history[4]!.valAccuracy! >= 0.9, `validation accuracy ${history.map((h) => h.valAccuracy)}`);
  for (const h of history) for (const k of ["loss", "accuracy", "valLoss", "valAccuracy"] as const) assert.ok(Number.isFinite(h[k]), k);
  assert.deepEqual(counts.slice(1, 5), new Array(4).fill(counts[0]), `tensor counts per epoch: ${counts}`);
  const second = await run();
  assert.deepEqual(await weightsOf(second.model), await weightsOf(first.model));
  assert.deepEqual(withoutSeconds(second.result.history), withoutSeconds(history));
  first.model.dispose();
  second.model.dispose();
});

test("resume from a checkpoint ends in the same weights and history as an uninterrupted run", async () => {
  const data = syntheticSet(80, 5);
  const opts = { batchSize: 16, validationFraction: 0.2, seed: 9 };
  const straightDir = tempDir();
  const straight = tiny(3);
  const full = await trainDeepMirClassifier(straight, data, { ...opts, epochs: 3, checkpointDir: straightDir });
  assert.deepEqual(fs.readdirSync(straightDir).sort(), ["epoch-0003", "latest.json"]);
  assert.deepEqual(fs.readdirSync(path.join(straightDir, "epoch-0003")).sort(), ["model", "optimizer.bin", "state.json"]);

  const dir = tempDir();
  const interrupted = tiny(3);
  await trainDeepMirClassifier(interrupted, data, { ...opts, epochs: 2, checkpointDir: dir });
  interrupted.dispose();
  const resumed = tiny(3); // a fresh process would build the model from scratch too
  const rest = await trainDeepMirClassifier(resumed, data, { ...opts, epochs: 3, checkpointDir: dir });
  assert.equal(rest.resumedFromEpoch, 2);
  assert.deepEqual(withoutSeconds(rest.history), withoutSeconds(full.history));
  assert.deepEqual(await weightsOf(resumed), await weightsOf(straight));

  // Nothing left to do: a run asked for 3 epochs again only restores.
  const again = tiny(3);
  const done = await trainDeepMirClassifier(again, data, { ...opts, epochs: 3, checkpointDir: dir });
  assert.equal(done.resumedFromEpoch, 3);
  assert.deepEqual(await weightsOf(again), await weightsOf(straight));

  const other = tiny(3);
  await assert.rejects(trainDeepMirClassifier(other, data, { ...opts, seed: 10, epochs: 3, checkpointDir: dir }), /other seed \(seed 9\)/);
  [straight, resumed, again, other].forEach((m) => m.dispose());
});

test("training rejects bad data and options", async () => {
  const model = tiny(1);
  const data = syntheticSet(4, 1);
  await assert.rejects(trainDeepMirClassifier(model, { images: data.images, labels: data.labels.slice(0, 3) }, { epochs: 1, seed: 1 }), /4 images but 3 labels/);
  await assert.rejects(trainDeepMirClassifier(model, { images: data.images, labels: Uint8Array.from([0, 1, 2, 0]) }, { epochs: 1, seed: 1 }), /label 2 at row 2/);
  await assert.rejects(trainDeepMirClassifier(model, { images: data.images.slice(1), labels: data.labels }, { epochs: 1, seed: 1 }), /not a multiple/);
  await assert.rejects(trainDeepMirClassifier(model, data, { epochs: 1, seed: 1, validationFraction: 1 }), /validationFraction/);
  model.dispose();
});

test("the validation split is a seeded permutation: disjoint, complete, reproducible", () => {
  const a = splitTrainValidation(100, 0.1, 4);
  assert.equal(a.validation.length, 10);
  assert.deepEqual([...a.train, ...a.validation].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(splitTrainValidation(100, 0.1, 4), a);
  assert.notDeepEqual(splitTrainValidation(100, 0.1, 5).validation, a.validation);
});

test("set metrics: both classes as lib/src/metrics; single-class sets report accuracy = sensitivity or specificity", () => {
  const labels = [1, 1, 1, 0, 0, 0, 0];
  const scores = [0.9, 0.4, 0.7, 0.2, 0.6, 0.1, 0.5];
  const m = hairpinSetMetrics(labels, scores, 0.5, "mixed");
  const at = thresholdMetrics(labels, scores, 0.5);
  assert.equal(m.name, "mixed");
  assert.equal(m.accuracy, at.accuracy);
  assert.equal(m.sensitivity, 2 / 3);
  assert.equal(m.specificity, 2 / 4);
  assert.equal(m.f1, at.f1);
  assert.equal(m.rocAuc, rankMetrics(labels, scores).rocAuc);
  const positives = hairpinSetMetrics([1, 1, 1, 1], [0.9, 0.2, 0.6, 0.5]);
  assert.equal(positives.accuracy, 0.75);
  assert.equal(positives.sensitivity, 0.75);
  assert.equal(positives.specificity, null);
  assert.equal(positives.rocAuc, null);
  assert.equal(positives.f1, null);
  const negatives = hairpinSetMetrics([0, 0, 0, 0], [0.9, 0.2, 0.6, 0.1]);
  assert.equal(negatives.accuracy, 0.5);
  assert.equal(negatives.specificity, 0.5);
  assert.equal(negatives.sensitivity, null);
  assert.throws(() => hairpinSetMetrics([1], [0.5, 0.2]), /1 labels but 2 scores/);
});

test("evaluateHairpinClassifier on a deepMir benchmark set (positive-only) and on modhsa_test", { timeout: 300_000 }, async (t) => {
  const skip = missingData(path.join(deepMirDatasetsFolder(), "modhsa_test_images.npz"), path.join(deepMirDatasetsFolder(), "benchmark", "hsaplus_images.npz"));
  if (skip) return t.skip(skip);
  const model = tiny(4);
  const hsaplus = loadDeepMirDataset("hsaplus");
  const { metrics, probabilities } = evaluateHairpinClassifier(model, hsaplus);
  assert.equal(metrics.name, "hsaplus");
  assert.equal(metrics.n, 523);
  assert.equal(metrics.positives, 523);
  assert.equal(metrics.accuracy, metrics.sensitivity);
  assert.equal(metrics.rocAuc, null);
  assert.equal(probabilities.length, 523);
  const test_ = loadDeepMirDataset("modhsa_test");
  const mixed = evaluateHairpinClassifier(model, test_).metrics;
  assert.equal(mixed.positives, 549);
  assert.equal(mixed.negatives, 549);
  assert.ok(mixed.rocAuc !== null && mixed.rocAuc >= 0 && mixed.rocAuc <= 1);
  model.dispose();
});
