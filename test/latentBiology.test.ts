/**
 * Latent factors ↔ biology (lib/src/cvae/latentBiology.ts): hairpin properties by hand,
 * correlations and ridge directions recover a planted relation, traversals of the toy CVAE, and
 * along the stem direction of a small trained generator the achieved stem grows monotonically.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { hairpinColumns } from "../lib/src/hairpin/image";
import {
  achievedProfiles, flankLengths, HAIRPIN_PROPERTIES, HairpinProperties, hairpinProperties, latentCorrelations, latentTraversal, meanLatent, propertyDirections, spreadAlong, traversalPng,
} from "../lib/src/cvae/latentBiology";
import { trainArDecoder } from "../lib/src/cvae/arDecoder";
import { encodeHairpinImage, HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { buildCvae, disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { tokensToColumns, TOKEN_COLUMNS } from "../lib/src/cvae/tokens";
import { mulberry32 } from "../lib/src/random";
import { decodePng } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

test("hairpinProperties: stem, loop, GC, length, bulges (one-sided gap runs inside the stem), asymmetry, MFE per nt, apical UGU; flanks", () => {
  // A bulged A on the 5' arm and a 2-nt bulge AA on the 3' arm.
  const sequence = "GGGAGGGG" + "AAAA" + "C" + "AA" + "CCCCCC";
  const structure = "(((.((((" + "...." + ")" + ".." + "))))))";
  const columns = hairpinColumns(sequence, structure);
  const p = hairpinProperties(columns, sequence, -12.5);
  assert.equal(p.stem, 7, "paired columns");
  assert.equal(p.loop, 4);
  assert.equal(p.bulges, 2);
  assert.equal(p.asymmetry, 1, "2 nt bulged on the 3' arm against 1 on the 5' arm");
  assert.equal(p.length, 21);
  assert.ok(Math.abs(p.gc - 14 / 21) < 1e-12);
  assert.ok(Math.abs(p.mfePerNt + 12.5 / 21) < 1e-12);
  assert.equal(p.apicalUgu, 0);
  assert.deepEqual(Object.keys(p).sort(), [...HAIRPIN_PROPERTIES].sort());
  // UGU in the loop (or reaching 2 nt into an arm) counts; elsewhere it does not.
  const loopUgu = "GGGGG" + "AUGUA" + "CCCCC";
  assert.equal(hairpinProperties(hairpinColumns(loopUgu, "(((((.....)))))"), loopUgu, 0).apicalUgu, 1);
  const armUgu = "UGUGGGG" + "AAAA" + "CCCCACA";
  assert.equal(hairpinProperties(hairpinColumns(armUgu, "(((((((....)))))))"), armUgu, 0).apicalUgu, 0);
  // Flanks: unpaired nucleotides beyond the outermost pair on each arm.
  const tails = "AAA" + "GGGGG" + "AAAA" + "CCCCC" + "U";
  assert.deepEqual(flankLengths(hairpinColumns(tails, "..." + "(((((....)))))" + ".")), { fivePrime: 3, threePrime: 1 });
  assert.deepEqual(flankLengths(columns), { fivePrime: 0, threePrime: 0 });
});

/** n latents of dimension 4; stem = 3·z0 + noise, gc = −z2, the rest noise. */
function planted(n: number, seed: number): { z: Float32Array; props: HairpinProperties[] } {
  const random = mulberry32(seed);
  const z = new Float32Array(n * 4);
  const props: HairpinProperties[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) z[i * 4 + k] = random() * 2 - 1;
    props.push({ stem: 3 * z[i * 4]! + 0.1 * random(), loop: random(), gc: -z[i * 4 + 2]!, length: random(), bulges: random(), asymmetry: random(), mfePerNt: random(), apicalUgu: random() < 0.5 ? 1 : 0 });
  }
  return { z, props };
}

test("latentCorrelations and propertyDirections recover a planted relation", () => {
  const { z, props } = planted(500, 1);
  const r = latentCorrelations(z, 4, props);
  const P = HAIRPIN_PROPERTIES.length;
  const at = (k: number, p: (typeof HAIRPIN_PROPERTIES)[number]) => r[k * P + HAIRPIN_PROPERTIES.indexOf(p)]!;
  assert.equal(r.length, 4 * P);
  assert.ok(at(0, "stem") > 0.99, `r(z0, stem) ${at(0, "stem")}`);
  assert.ok(at(2, "gc") < -0.99, "r(z2, gc)");
  assert.ok(Math.abs(at(1, "stem")) < 0.15);
  const test = planted(200, 2);
  const dirs = propertyDirections(z, 4, props, { test: { latents: test.z, properties: test.props } });
  const stem = dirs.find((d) => d.property === "stem")!;
  assert.ok(stem.direction[0]! > 0.99 && stem.r2 > 0.99 && stem.testR2! > 0.99);
  assert.ok(Math.abs(stem.slope - 3) < 0.1);
  assert.ok(dirs.find((d) => d.property === "mfePerNt")!.testR2! < 0.1);
  assert.throws(() => latentCorrelations(z, 3, props), InputError);
  assert.ok(Math.abs(spreadAlong(z, 4, [1, 0, 0, 0]) - Math.sqrt(1 / 3)) < 0.05);
  const m = meanLatent(z, 4, (i) => i < 10);
  assert.equal(m.length, 4);
  assert.throws(() => meanLatent(z, 4, () => false), InputError);
});

test("latentTraversal: one decoded image per step, achieved properties read from the images, a PNG strip, no leaked tensors", () => {
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const model = { cvae, info: { profileScaling: { mean: [0, 0, 0], sd: [1, 1, 1] } }, training: { labels: new Uint8Array(0), profiles: new Float32Array(0) } };
  const before = tf.memory().numTensors;
  const t = latentTraversal(model, new Float32Array(6), [1, 0, 0, 0, 0, 0], [-2, 0, 2]);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(t.decoder, "columns", "a model without an AR decoder decodes with its own");
  assert.equal(t.images.length, 3 * 7500);
  assert.equal(t.tokens.length, 300);
  assert.deepEqual(Array.from(t.latents.subarray(0, 6)), [-2, 0, 0, 0, 0, 0]);
  assert.equal(t.achieved.length, 3);
  t.achieved.forEach((a, s) => {
    const columns = tokensToColumns(t.tokens.subarray(s * TOKEN_COLUMNS, (s + 1) * TOKEN_COLUMNS));
    assert.equal(a!.stem, columns.filter((c) => c.paired).length, "stem read back from the image = the drawn one");
  });
  const png = decodePng(traversalPng(t, (s) => `step ${s}\nsecond line`, { scale: 1 }));
  assert.ok(png.width >= 100 && png.height > 3 * 25);
  assert.throws(() => latentTraversal(model, [0], [1], [0]), InputError);
  assert.throws(() => latentTraversal(model, new Float32Array(6), new Float32Array(6), []), InputError);
  assert.throws(() => latentTraversal(model, new Float32Array(6), new Float32Array(6), [0], { decoder: "autoregressive" }), InputError);
  disposeCvae(cvae);
});

test("achievedProfiles: properties of exact drawings; null for an image that is not one", () => {
  const h = encodeHairpinImage("GGGGGAAAACCCCC", "(((((....)))))");
  const images = new Uint8Array(2 * HAIRPIN_IMAGE_SIZE);
  images.set(h.data, 0);
  images.set(h.data, HAIRPIN_IMAGE_SIZE);
  images[HAIRPIN_IMAGE_SIZE + 5] = 77; // a pixel of no hairpin colour
  const [ok, bad] = achievedProfiles(images);
  assert.deepEqual(ok, { stem: 5, loop: 4, gc: 10 / 14, length: 14 });
  assert.equal(bad, null);
  assert.throws(() => achievedProfiles(new Uint8Array(5)), InputError);
});

/**
 * Hairpins of `stem` pairs (a fixed G/C/A/U pattern) around a GAAA loop, as column tokens via
 * their images, for stem lengths 4, 6, …, 20.
 */
function stemLadder(copies: number): { tokens: Uint8Array; stems: number[] } {
  const stems: number[] = [];
  const images: Uint8Array[] = [];
  for (let c = 0; c < copies; c++) {
    for (let stem = 4; stem <= 20; stem += 2) {
      const five = Array.from({ length: stem }, (_, j) => "GCAU"[(j * 3 + c) % 4]!).join("");
      const three = [...five].reverse().map((b) => ({ G: "C", C: "G", A: "U", U: "A" })[b]!).join("");
      images.push(encodeHairpinImage(five + "GAAA" + three, "(".repeat(stem) + "...." + ")".repeat(stem)).data);
      stems.push(stem);
    }
  }
  const all = new Uint8Array(images.length * HAIRPIN_IMAGE_SIZE);
  images.forEach((im, i) => all.set(im, i * HAIRPIN_IMAGE_SIZE));
  const rows = vaeRowsFromImages({ prefix: "ladder", n: images.length, images: all, labels: new Uint8Array(images.length).fill(1), names: stems.map((s, i) => `h${i}_${s}`) }).rows;
  assert.equal(rows.n, images.length);
  return { tokens: rows.tokens, stems };
}

test("along the stem direction of a small trained generator, the achieved stem length grows monotonically over −2…+2 sd", async () => {
  // A toy CVAE whose autoregressive decoder is trained on latents that carry the stem length in
  // z_structure[0] (z = (stem − 12) / 4, the other global dimensions noise); the stem direction
  // is then found by ridge regression, as the experiment does, and traversed.
  const { tokens, stems } = stemLadder(8);
  const n = stems.length;
  const random = mulberry32(11);
  const Dg = 4, D = 6;
  const mean = new Float32Array(n * Dg), logVar = new Float32Array(n * Dg).fill(Math.log(0.01));
  const latents = new Float32Array(n * D);
  stems.forEach((stem, i) => {
    const z = [0.3 * (random() - 0.5), 0.3 * (random() - 0.5), (stem - 12) / 4, 0.3 * (random() - 0.5)];
    mean.set(z, i * Dg);
    latents.set(z, i * D);
  });
  const trained = await trainArDecoder(tokens, { mean, logVar }, {
    seed: 2, epochs: 60, batchSize: 16, learningRate: 0.02, validationFraction: 0.1,
    config: { columnChannels: 4, hidden: 16, filters: 16, layers: 2, kernel: 5, seed: 3 },
  });
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  cvae.arDecoder = trained.decoder;
  const model = { cvae, info: { profileScaling: { mean: [0, 0, 0], sd: [1, 1, 1] } }, training: { labels: new Uint8Array(0), profiles: new Float32Array(0) } };
  try {
    const properties = stems.map((_, i) => hairpinProperties(tokensToColumns(tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS)), "", 0));
    const stem = propertyDirections(latents, D, properties).find((d) => d.property === "stem")!;
    const spread = spreadAlong(latents, D, stem.direction);
    const before = tf.memory().numTensors;
    const t = latentTraversal(model, meanLatent(latents, D), stem.direction, [-2, -1, 0, 1, 2].map((k) => k * spread));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(t.decoder, "autoregressive");
    const achieved = t.achieved.map((a) => a!.stem);
    for (let s = 1; s < achieved.length; s++) assert.ok(achieved[s]! >= achieved[s - 1]!, `achieved stems ${achieved} along −2…+2 sd`);
    assert.ok(achieved[4]! - achieved[0]! >= 8, `the stem changes over the range: ${achieved}`);
    // The same steps again: deterministic; greedy decoding has no further drawings.
    assert.deepEqual(latentTraversal(model, meanLatent(latents, D), stem.direction, [-2, -1, 0, 1, 2].map((k) => k * spread)).tokens, t.tokens);
    assert.equal(t.draws, 1);
    assert.deepEqual(t.meanAchieved.map((a) => a!.stem), achieved);
    // Sampled as a generator samples: the panels share a seed, the means come from 8 more drawings per step.
    const sampled = latentTraversal(model, meanLatent(latents, D), stem.direction, [-2, 0, 2].map((k) => k * spread), { tokenTemperature: 1, seed: 3, draws: 8 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(sampled.draws, 8);
    assert.equal(sampled.meanAchieved.length, 3);
    assert.ok(sampled.meanAchieved[2]!.stem - sampled.meanAchieved[0]!.stem >= 4, `mean stems ${sampled.meanAchieved.map((a) => a!.stem)}`);
    assert.deepEqual(latentTraversal(model, meanLatent(latents, D), stem.direction, [-2, 0, 2].map((k) => k * spread), { tokenTemperature: 1, seed: 3, draws: 8 }).meanAchieved, sampled.meanAchieved, "seeded");
    assert.throws(() => latentTraversal(model, meanLatent(latents, D), stem.direction, [0], { tokenTemperature: 1, draws: 0 }), InputError);
  } finally {
    disposeCvae(cvae);
  }
});
