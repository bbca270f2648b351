/**
 * The CVAE's layers (lib/src/cvae/model.ts), on the tiny toy configuration: shapes of
 * every part, the Gaussian KL against hand-computed values, the loss terms, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { buildCvae, cvaeLoss, cvaePriors, cvaeResidualPrior, decodeCvae, DEFAULT_CVAE_CONFIG, disposeCvae, encodeCvae, gaussianKl, latentSize, splitLatent, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";

before(async () => {
  await initBackend({ quiet: true });
});

test("toy CVAE: encoder shape=(b, D) ×2, decoder shape=(b, 100, 31), priors, heads; same seed same weights", () => {
  const before = tf.memory().numTensors;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const D = latentSize(TOY_CVAE_CONFIG);
  assert.equal(D, 6);
  tf.tidy(() => {
    const x = tf.zeros([3, 25, 100, 5]) as tf.Tensor4D;
    const { mean, logVar } = encodeCvae(cvae, x);
    assert.deepEqual(mean.shape, [3, D]);
    assert.deepEqual(logVar.shape, [3, D]);
    assert.deepEqual(decodeCvae(cvae, mean).shape, [3, 100, 31]);
    const p = cvaePriors(cvae, tf.oneHot([0, 1, 1], 2).toFloat() as tf.Tensor2D, tf.zeros([3, 3]) as tf.Tensor2D);
    assert.deepEqual(p.classMean.shape, [3, 2]);
    assert.deepEqual(p.structureLogVar.shape, [3, 2]);
    assert.deepEqual(splitLatent(cvae.config, mean).map((t) => t.shape), [[3, 2], [3, 2], [3, 2]]);
  });
  const again = buildCvae(TOY_CVAE_CONFIG);
  const flat = (c: typeof cvae) => c.container.getWeights().flatMap((w) => Array.from(w.dataSync()));
  assert.deepEqual(flat(again), flat(cvae));
  disposeCvae(again);
  disposeCvae(cvae);
  assert.equal(tf.memory().numTensors, before, "no leaked tensors");
});

test("the default CVAE: 64-dimensional class and structure parts, a residual of 25 blocks × 8, its autoregressive prior", () => {
  const cvae = buildCvae(DEFAULT_CVAE_CONFIG);
  assert.equal(latentSize(cvae.config), 64 + 64 + 200);
  assert.equal(cvae.config.residualLayout, "columns");
  assert.ok(cvae.residualPrior);
  assert.deepEqual(cvae.container.inputs.map((i) => i.shape), [[null, 25, 100, 5], [null, 2], [null, 3], [null, 64], [null, 64], [null, 200]]);
  assert.equal(cvae.container.countParams(), 1963316);
  disposeCvae(cvae);
  assert.throws(() => buildCvae({ ...TOY_CVAE_CONFIG, latent: { class: 0, structure: 2, residual: 2 } }), InputError);
});

test("gaussianKl matches the closed form by hand", () => {
  const kl = tf.tidy(() => gaussianKl(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, Math.log(4)]]), tf.tensor2d([[0, 0]]), tf.tensor2d([[0, 0]])).dataSync());
  // dim 1: 0.5 (0 − 0 + (1 + 1) / 1 − 1) = 0.5; dim 2: 0.5 (0 − ln 4 + 4 − 1) = 1.5 − ln 2
  assert.ok(Math.abs(kl[0]! - (0.5 + 1.5 - Math.log(2))) < 1e-5);
});

test("cvaeLoss: finite terms, reconstruction ≈ 100 · ln 31 for an untrained decoder, total = recon + β·KL + aux", () => {
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const before = tf.memory().numTensors;
  const values = tf.tidy(() => {
    const images = tf.zeros([2, 25, 100, 5]) as tf.Tensor4D;
    const tokens = tf.zeros([2, 100], "int32") as tf.Tensor2D;
    const terms = cvaeLoss(cvae, { images, tokens, classOneHot: tf.tensor2d([[0, 1], [1, 0]]), profile: tf.zeros([2, 3]) as tf.Tensor2D }, tf.zeros([2, 6]) as tf.Tensor2D, { beta: 0.5, classWeight: 2, profileWeight: 3 });
    return Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0]!]));
  });
  assert.equal(tf.memory().numTensors, before);
  for (const v of Object.values(values)) assert.ok(Number.isFinite(v));
  assert.ok(Math.abs(values.reconstruction! - 100 * Math.log(31)) < 60, `reconstruction ${values.reconstruction}`);
  const expected = values.reconstruction! + 0.5 * (values.klClass! + values.klStructure! + values.klResidual!) + 2 * values.auxClass! + 3 * values.auxProfile!;
  assert.ok(Math.abs(values.total! - expected) < 1e-3);
  disposeCvae(cvae);
});

test("the columns layout: residual per block of 4 columns, its autoregressive prior is causal", () => {
  const config = { ...TOY_CVAE_CONFIG, residualLayout: "columns" as const, latent: { class: 2, structure: 2, residual: 50 } };
  const cvae = buildCvae(config);
  assert.equal(latentSize(cvae.config), 54);
  assert.ok(cvae.residualPrior);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const { mean } = encodeCvae(cvae, tf.zeros([2, 25, 100, 5]) as tf.Tensor4D);
    assert.deepEqual(mean.shape, [2, 54]);
    assert.deepEqual(decodeCvae(cvae, mean).shape, [2, 100, 31]);
    const zc = tf.randomNormal([1, 2], 0, 1, "float32", 1) as tf.Tensor2D;
    const zs = tf.randomNormal([1, 2], 0, 1, "float32", 2) as tf.Tensor2D;
    const zr = tf.randomNormal([1, 50], 0, 1, "float32", 3) as tf.Tensor2D;
    const changed = zr.add(tf.oneHot([5 * 2 + 1], 50).toFloat().mul(4)) as tf.Tensor2D; // block 5
    const a = cvaeResidualPrior(cvae, zc, zs, zr), b = cvaeResidualPrior(cvae, zc, zs, changed);
    assert.deepEqual(a.mean.shape, [1, 50]);
    const diff = a.mean.sub(b.mean).abs().add(a.logVar.sub(b.logVar).abs()).reshape([25, 2]).max(1).dataSync();
    for (let block = 0; block <= 5; block++) assert.equal(diff[block], 0, `block ${block} does not see block 5`);
    assert.ok(Array.from(diff.slice(6)).some((v) => v > 0), "later blocks do");
  });
  assert.equal(tf.memory().numTensors, before);
  // The vector layout's residual prior is N(0, I).
  const plain = buildCvae(TOY_CVAE_CONFIG);
  assert.equal(plain.residualPrior, null);
  tf.tidy(() => {
    const p = cvaeResidualPrior(plain, tf.zeros([1, 2]) as tf.Tensor2D, tf.zeros([1, 2]) as tf.Tensor2D, tf.ones([1, 2]) as tf.Tensor2D);
    assert.deepEqual(Array.from(p.mean.dataSync()), [0, 0]);
    assert.deepEqual(Array.from(p.logVar.dataSync()), [0, 0]);
  });
  disposeCvae(plain);
  disposeCvae(cvae);
  assert.throws(() => buildCvae({ ...config, latent: { class: 2, structure: 2, residual: 30 } }), /multiple of 25/);
});
