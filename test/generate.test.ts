/**
 * Sampling hairpins from a CVAE (lib/src/cvae/generate.ts) with the toy model: shapes,
 * same seed same samples, every sample an exact drawing that decodes to its sequence, the
 * drawn structure, requested profiles, errors, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { normalSampler } from "../lib/src/random";
import { initBackend } from "../lib/src/ops/backend";
import { buildArDecoder, disposeArDecoder } from "../lib/src/cvae/arDecoder";
import { arDecoderInput, columnsStructure, drawProfiles, generateHairpins, generationDecoder, renderTokens, sampleLatents } from "../lib/src/cvae/generate";
import { decodeHairpinImage, hairpinColumns, HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { isCanonicalProfile, vaeRowsFromImages } from "../lib/src/cvae/data";
import { buildCvae, disposeCvae, globalLatents, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { profileScaling } from "../lib/src/cvae/saved";
import { columnsToTokens } from "../lib/src/cvae/tokens";
import { constructedHairpin, constructedSet } from "./vaeHelpers";

before(async () => {
  await initBackend({ quiet: true });
});

const data = vaeRowsFromImages(constructedSet("toy", 20, 9)).rows;
const training = { labels: data.labels, profiles: data.profiles };

test("normalSampler: seeded, mean ≈ 0, sd ≈ 1", () => {
  const a = normalSampler(3), b = normalSampler(3);
  const xs = Array.from({ length: 20000 }, () => a());
  assert.deepEqual(Array.from({ length: 5 }, () => b()), xs.slice(0, 5));
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(sd - 1) < 0.03, `mean ${mean} sd ${sd}`);
});

test("drawProfiles: requested entries, the rest from training hairpins of the class; errors", () => {
  const p = drawProfiles(training, 1, 50, 4, { stem: 30 });
  assert.equal(p.length, 150);
  const positives = new Set([...data.labels.keys()].filter((i) => data.labels[i] === 1).map((i) => `${data.profiles[3 * i + 1]},${data.profiles[3 * i + 2]}`));
  for (let i = 0; i < 50; i++) {
    assert.equal(p[3 * i], 30);
    assert.ok(positives.has(`${p[3 * i + 1]},${p[3 * i + 2]}`));
  }
  assert.deepEqual(drawProfiles(training, 1, 50, 4, { stem: 30 }), p);
  assert.throws(() => drawProfiles(training, 1, 5, 1, { gc: 1.5 }), InputError);
  assert.throws(() => drawProfiles(training, 1, 5, 1, { size: 3 } as never), /unknown profile entry 'size'/);
  assert.throws(() => drawProfiles({ labels: new Uint8Array(2), profiles: new Float32Array(6) }, 1, 5, 1), /no canonical hairpin of class 1/);
  assert.throws(() => drawProfiles({ labels: new Uint8Array(2), profiles: new Float32Array(6) }, 1, 5, 1, {}, "all"), /no hairpin of class 1/);
  assert.throws(() => drawProfiles(training, 1, 5, 1, {}, "some" as never), /profile pool must be 'canonical' or 'all'/);
});

test("drawProfiles: pre-miRNAs take canonical profiles (≥ 18 pairs, loop 3–20) by default, 'all' takes every one", () => {
  // Two positives: one canonical (stem 20, loop 5), one short-stemmed (stem 12); one negative.
  const t = { labels: Uint8Array.from([1, 1, 0]), profiles: Float32Array.from([20, 5, 0.5, 12, 5, 0.4, 10, 30, 0.3]) };
  assert.ok(isCanonicalProfile(t.profiles, 0) && !isCanonicalProfile(t.profiles, 1) && !isCanonicalProfile(t.profiles, 2));
  const canonical = drawProfiles(t, 1, 40, 2);
  for (let i = 0; i < 40; i++) assert.equal(canonical[3 * i], 20);
  const all = drawProfiles(t, 1, 40, 2, {}, "all");
  assert.deepEqual(new Set(Array.from({ length: 40 }, (_, i) => all[3 * i])), new Set([20, 12]));
  // Negatives default to all of theirs (none is canonical here).
  assert.equal(drawProfiles(t, 0, 3, 2)[0], 10);
  assert.throws(() => drawProfiles(t, 0, 3, 2, {}, "canonical"), /no canonical hairpin of class 0/);
});

test("generateHairpins: shapes, seeded, exact drawings decoding to their sequences; no leaked tensors", () => {
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const model = { cvae, info: { profileScaling: profileScaling(data) }, training };
  const before = tf.memory().numTensors;
  const g = generateHairpins(model, { n: 12, label: 1, seed: 5 });
  assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  assert.equal(g.n, 12);
  assert.equal(g.tokens.length, 1200);
  assert.equal(g.images.length, 12 * HAIRPIN_IMAGE_SIZE);
  assert.equal(g.latents.length, 12 * 6);
  assert.equal(g.profiles.length, 36);
  for (let i = 0; i < 12; i++) {
    const image = { height: 25 as const, width: 100 as const, data: g.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE) };
    assert.equal(decodeHairpinImage(image).sequence, g.sequences[i]);
    assert.equal(g.structures[i]!.length, g.sequences[i]!.length);
  }
  const again = generateHairpins(model, { n: 12, label: 1, seed: 5 });
  assert.deepEqual(again.tokens, g.tokens);
  assert.deepEqual(again.latents, g.latents);
  assert.notDeepEqual(generateHairpins(model, { n: 12, label: 1, seed: 6 }).latents, g.latents);
  // Temperature 0: every latent is its prior mean, so samples differ only through their profiles.
  const cold = sampleLatents(model, 0, new Float32Array(6).fill(0.5), 1, 0);
  assert.deepEqual(cold.subarray(0, 6), cold.subarray(6, 12));
  assert.throws(() => generateHairpins(model, { n: 0, label: 1, seed: 1 }), InputError);
  assert.throws(() => generateHairpins(model, { n: 2, label: 2 as 1, seed: 1 }), InputError);
  disposeCvae(cvae);
});

test("columnsStructure: the drawn structure of an encoder drawing is the fold it was drawn from", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const h = constructedHairpin(seed);
    const columns = hairpinColumns(h.sequence, h.structure);
    assert.equal(columnsStructure(columns), h.structure);
    const r = renderTokens(columnsToTokens(columns)!);
    assert.equal(r.sequences[0], h.sequence);
    assert.equal(r.structures[0], h.structure);
  }
});

test("the columns layout samples its residual blocks from the autoregressive prior: seeded, temperature 0 = the prior means", () => {
  const config = { ...TOY_CVAE_CONFIG, residualLayout: "columns" as const, latent: { class: 2, structure: 2, residual: 50 } };
  const cvae = buildCvae(config);
  const model = { cvae, info: { profileScaling: profileScaling(data) }, training };
  const before = tf.memory().numTensors;
  const g = generateHairpins(model, { n: 4, label: 0, seed: 8 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(g.latents.length, 4 * 54);
  assert.deepEqual(generateHairpins(model, { n: 4, label: 0, seed: 8 }).latents, g.latents);
  const profiles = new Float32Array(6).fill(0.3);
  const cold = sampleLatents(model, 1, profiles, 3, 0);
  assert.deepEqual(cold.subarray(0, 54), cold.subarray(54, 108), "no noise at temperature 0");
  disposeCvae(cvae);
});

test("with an AR decoder: the default, z_residual unused (0), exact drawings, seeded; 'columns' still available; errors; disposeCvae frees both", () => {
  const before = tf.memory().numTensors;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const model = { cvae, info: { profileScaling: profileScaling(data) }, training };
  assert.equal(generationDecoder(model), "columns");
  assert.throws(() => generateHairpins(model, { n: 2, label: 1, seed: 1, decoder: "autoregressive" }), /no autoregressive decoder/);
  cvae.arDecoder = buildArDecoder(4, { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 2 });
  assert.equal(generationDecoder(model), "autoregressive");
  assert.throws(() => generationDecoder(model, "pixels" as never), /must be 'autoregressive' or 'columns'/);
  const g = generateHairpins(model, { n: 8, label: 1, seed: 3 });
  assert.equal(g.decoder, "autoregressive");
  for (let i = 0; i < 8; i++) {
    assert.deepEqual(Array.from(g.latents.subarray(i * 6 + 4, i * 6 + 6)), [0, 0], "z_residual not drawn");
    const image = { height: 25 as const, width: 100 as const, data: g.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE) };
    assert.equal(decodeHairpinImage(image).sequence, g.sequences[i]);
  }
  assert.deepEqual(generateHairpins(model, { n: 8, label: 1, seed: 3 }).tokens, g.tokens);
  assert.deepEqual(globalLatents(cvae.config, g.latents).length, 8 * 4);
  const columns = generateHairpins(model, { n: 8, label: 1, seed: 3, decoder: "columns", temperature: 1 });
  assert.equal(columns.decoder, "columns");
  assert.deepEqual(columns.latents.subarray(0, 4), g.latents.subarray(0, 4), "the same global latents at the same temperature");
  assert.throws(() => generateHairpins(model, { n: 2, label: 1, seed: 1, tokenTemperature: -1 }), /tokenTemperature must be ≥ 0/);
  disposeCvae(cvae);
  assert.equal(tf.memory().numTensors, before, "disposeCvae frees the CVAE and its AR decoder");
});

test("arDecoderInput: z_g alone for a decoder on z_g, z_g and the class for a class-conditioned one; errors", () => {
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const model = { cvae, info: { profileScaling: profileScaling(data) }, training };
  const latents = Float32Array.from({ length: 2 * 6 }, (_, i) => i);
  cvae.arDecoder = buildArDecoder(4, { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 2 });
  assert.deepEqual(arDecoderInput(model, latents, 1), globalLatents(cvae.config, latents));
  disposeArDecoder(cvae.arDecoder);
  cvae.arDecoder = buildArDecoder(5, { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 2 });
  assert.deepEqual(Array.from(arDecoderInput(model, latents, 1)), [0, 1, 2, 3, 1, 6, 7, 8, 9, 1]);
  assert.deepEqual(Array.from(arDecoderInput(model, latents, 0)), [0, 1, 2, 3, 0, 6, 7, 8, 9, 0]);
  // Generation runs with the class appended.
  const g1 = generateHairpins(model, { n: 6, label: 1, seed: 3, profilePool: "all" });
  assert.equal(g1.tokens.length, 600);
  disposeArDecoder(cvae.arDecoder);
  cvae.arDecoder = buildArDecoder(7, { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 2 });
  assert.throws(() => arDecoderInput(model, latents, 1), /takes 7 inputs; z_g has 4/);
  disposeCvae(cvae);
});
