/**
 * Training the CVAE through the shared loop's custom train step (lib/src/cvae/train.ts):
 * the loss falls, a run interrupted after one epoch and resumed from its checkpoint ends in
 * the weights and optimizer state of an uninterrupted one, β warm-up, the model folder round
 * trip (lib/src/cvae/saved.ts), errors, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { decodeCvae, disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { loadCvae, profileScaling, saveCvae, scaleProfiles } from "../lib/src/cvae/saved";
import { betaAt, cvaeBatch, learningRateAt, trainCvae, trainCvaeArDecoder } from "../lib/src/cvae/train";
import { tempDir } from "./helpers";
import { constructedSet } from "./vaeHelpers";

before(async () => {
  await initBackend({ quiet: true });
});

const data = vaeRowsFromImages(constructedSet("toy", 24, 5)).rows;
const config = { ...TOY_CVAE_CONFIG, latent: { class: 2, structure: 2, residual: 2 } };
const options = { batchSize: 8, learningRate: 0.01, warmupEpochs: 1, validationFraction: 0.25, config };

function flat(model: tf.LayersModel): Float32Array {
  return Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync())));
}

test("betaAt rises linearly over the warm-up steps; learningRateAt: constant, then a half cosine to 5%; profile scaling", () => {
  assert.equal(learningRateAt(0, 1e-3, 100, 0.5), 1e-3);
  assert.equal(learningRateAt(49, 1e-3, 100, 0.5), 1e-3);
  assert.ok(Math.abs(learningRateAt(75, 1e-3, 100, 0.5) - 1e-3 * (0.05 + 0.95 * 0.5)) < 1e-12);
  assert.ok(Math.abs(learningRateAt(100, 1e-3, 100, 0.5) - 5e-5) < 1e-12);
  assert.equal(learningRateAt(90, 1e-3, 100, 1), 1e-3);
  assert.equal(betaAt(0, 0.1, 10), 0);
  assert.ok(Math.abs(betaAt(5, 0.1, 10) - 0.05) < 1e-12);
  assert.equal(betaAt(50, 0.1, 10), 0.1);
  assert.equal(betaAt(3, 0.1, 0), 0.1);
  const s = profileScaling({ n: 2, profiles: Float32Array.from([10, 4, 0.5, 20, 4, 0.7]) });
  assert.deepEqual(s.mean.map((v) => Number(v.toFixed(6))), [15, 4, 0.6]);
  assert.equal(s.sd[1], 1, "a constant entry gets sd 1");
  assert.deepEqual(Array.from(scaleProfiles([20, 4, 0.7], s)).map((v) => Number(v.toFixed(4))), [1, 0, 1]);
});

test("cvaeBatch: shapes of one batch", () => {
  const b = cvaeBatch(data, [0, 3, 5], profileScaling(data));
  assert.deepEqual(b.images.shape, [3, 25, 100, 5]);
  assert.deepEqual(b.tokens.shape, [3, 100]);
  assert.equal(b.tokens.dtype, "int32");
  assert.deepEqual(b.classOneHot.shape, [3, 2]);
  assert.deepEqual(b.profile.shape, [3, 3]);
  tf.dispose(Object.values(b));
});

test("the loss falls; an interrupted run resumes to the uninterrupted weights; no leaked tensors", async () => {
  const dir = tempDir();
  const before = tf.memory().numTensors;
  const straight = await trainCvae(data, { ...options, epochs: 3, seed: 4, checkpointDir: path.join(dir, "a") });
  const h = straight.info.history;
  assert.equal(h.length, 3);
  assert.ok(h[2]!.reconstruction! < h[0]!.reconstruction!, `reconstruction ${h.map((r) => r.reconstruction).join(" → ")}`);
  for (const key of ["total", "klClass", "klStructure", "klResidual", "auxClass", "auxProfile", "tokenAccuracy", "valReconstruction", "beta", "learningRate"]) {
    assert.ok(typeof h[0]![key] === "number", `history records ${key}`);
  }
  assert.equal(h[2]!.beta, 0.1, "β reached after the warm-up epoch");
  assert.ok(h[2]!.learningRate! < h[0]!.learningRate!, "the learning rate decays over the second half");
  // The same run killed after epoch 1 (after its checkpoint), then resumed.
  await assert.rejects(trainCvae(data, {
    ...options, epochs: 3, seed: 4, checkpointDir: path.join(dir, "b"),
    onEpoch: (r) => {
      if (r.epoch === 1) throw new Error("killed");
    },
  }), /killed/);
  const resumed = await trainCvae(data, { ...options, epochs: 3, seed: 4, checkpointDir: path.join(dir, "b") });
  assert.equal(resumed.resumedFromEpoch, 1);
  assert.deepEqual(flat(resumed.cvae.container), flat(straight.cvae.container));
  const optimizerState = async (m: tf.LayersModel) => {
    const weights = await m.optimizer.getWeights();
    const values = weights.map((w) => Array.from(w.tensor.dataSync()));
    for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose(); // the iteration count is a fresh scalar
    return values;
  };
  assert.deepEqual(await optimizerState(resumed.cvae.container), await optimizerState(straight.cvae.container));
  // A checkpoint made with other options is refused.
  await assert.rejects(trainCvae(data, { ...options, beta: 0.2, epochs: 4, seed: 4, checkpointDir: path.join(dir, "b") }), InputError);
  disposeCvae(straight.cvae);
  disposeCvae(resumed.cvae);
  assert.equal(tf.memory().numTensors, before, "no leaked tensors");
});

test("saveCvae / loadCvae: the same decoder outputs, the training hairpins, errors naming the file", async () => {
  const dir = tempDir();
  const { cvae, info } = await trainCvae(data, { ...options, epochs: 1, seed: 2 });
  await saveCvae(path.join(dir, "m"), cvae, info, { sequences: data.sequences, labels: data.labels, profiles: data.profiles });
  const loaded = await loadCvae(path.join(dir, "m"));
  const z = tf.randomNormal([2, 6], 0, 1, "float32", 3) as tf.Tensor2D;
  const a = tf.tidy(() => decodeCvae(cvae, z).dataSync());
  const b = tf.tidy(() => decodeCvae(loaded.cvae, z).dataSync());
  assert.deepEqual(b, a);
  assert.deepEqual(loaded.training.sequences, data.sequences);
  assert.deepEqual(loaded.training.labels, data.labels);
  assert.equal(loaded.info.config.latent.class, 2);
  z.dispose();
  disposeCvae(cvae);
  disposeCvae(loaded.cvae);
  await assert.rejects(loadCvae(path.join(dir, "missing")), (e: unknown) => e instanceof InputError && /model folder not found/.test(e.message));
  fs.mkdirSync(path.join(dir, "empty"));
  await assert.rejects(loadCvae(path.join(dir, "empty")), (e: unknown) => e instanceof InputError && /no cvae\.json/.test(e.message));
  const json = JSON.parse(fs.readFileSync(path.join(dir, "m", "cvae.json"), "utf8"));
  fs.writeFileSync(path.join(dir, "m", "cvae.json"), JSON.stringify({ ...json, format: "other" }));
  await assert.rejects(loadCvae(path.join(dir, "m")), (e: unknown) => e instanceof InputError && /cvae\.json: format 'other'/.test(e.message));
  // Absurd sizes: a message naming the file and the field, before any layer is built.
  for (const [config, field] of [
    [{ ...json.config, dense: 2e9 }, /cvae\.json: config\.dense must be a whole number from 1 to 4,096, got 2000000000$/],
    [{ ...json.config, latent: { ...json.config.latent, residual: -5 } }, /cvae\.json: config\.latent\.residual must be a whole number from 1 to 4,096, got -5$/],
    [{ ...json.config, encoderFilters: [4, "many", 4] }, /cvae\.json: config\.encoderFilters\[1\] must be a whole number from 1 to 4,096, got "many"$/],
    [{ ...json.config, latent: null }, /cvae\.json: config\.latent must be an object/],
  ] as const) {
    fs.writeFileSync(path.join(dir, "m", "cvae.json"), JSON.stringify({ ...json, config }));
    await assert.rejects(loadCvae(path.join(dir, "m")), (e: unknown) => e instanceof InputError && field.test(e.message), field.source);
  }
  await assert.rejects(trainCvae(data, { ...options, epochs: -1, seed: 1 }), InputError);
});

test("trainCvaeArDecoder: the AR decoder, then refold-consistent rounds (recorded, history continued); refine: false skips them; errors", async () => {
  const dir = tempDir();
  const { cvae, info } = await trainCvae(data, { ...options, epochs: 1, seed: 6 });
  const arConfig = { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 1, history: true };
  const plain = await trainCvaeArDecoder(cvae, info, data, { seed: 2, epochs: 2, config: arConfig, refine: false });
  assert.equal(plain.info.refinement, undefined);
  assert.equal(plain.info.history.length, 2);
  const refine = { rounds: 1, samplesPerClass: 12, epochs: 1, realFraction: 1 };
  const refined = await trainCvaeArDecoder(cvae, info, data, { seed: 2, epochs: 2, config: arConfig, refine, checkpointDir: path.join(dir, "ar"), fold: { jobs: 1 } });
  assert.equal(refined.info.refinement!.length, 1);
  assert.deepEqual(refined.info.refinement![0]!.drafts, [12, 12]);
  assert.equal(refined.info.history.length, 3, "2 training epochs, then 1 of the round");
  assert.equal(refined.info.history[2]!.refineRound, 1);
  assert.ok(fs.existsSync(path.join(dir, "ar-refine", "round-1", "drafts.json")), "the round is checkpointed next to the decoder's checkpoints");
  await assert.rejects(trainCvaeArDecoder(cvae, info, { n: data.n, tokens: data.tokens, labels: data.labels }, { seed: 2, epochs: 1, config: arConfig, refine }), /pass them with the data/);
  disposeCvae(cvae);
});
