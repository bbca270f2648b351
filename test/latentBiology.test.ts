/**
 * Latent factors ↔ biology (lib/src/hairpin/latentBiology.ts): hairpin properties by hand,
 * correlations and ridge directions recover a planted relation, traversals of the toy CVAE.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { hairpinColumns } from "../lib/src/hairpin/image";
import {
  HAIRPIN_PROPERTIES, HairpinProperties, hairpinProperties, latentCorrelations, latentTraversal, meanLatent, propertyDirections, spreadAlong, traversalPng,
} from "../lib/src/hairpin/latentBiology";
import { buildCvae, disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/hairpin/vaeModel";
import { mulberry32 } from "../lib/src/random";
import { decodePng } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

test("hairpinProperties: stem, loop, bulges (one-sided gap runs inside the stem), GC, MFE", () => {
  // A bulged A on the 5' arm and a 2-nt bulge AA on the 3' arm.
  const sequence = "GGGAGGGG" + "AAAA" + "C" + "AA" + "CCCCCC";
  const structure = "(((.((((" + "...." + ")" + ".." + "))))))";
  const columns = hairpinColumns(sequence, structure);
  const p = hairpinProperties(columns, sequence, -12.5);
  assert.equal(p.stem, 7, "paired columns");
  assert.equal(p.loop, 4);
  assert.equal(p.bulges, 2);
  assert.ok(Math.abs(p.gc - 14 / 21) < 1e-12);
  assert.equal(p.mfe, -12.5);
});

/** n latents of dimension 4; stem = 3·z0 + noise, gc = −z2, the rest noise. */
function planted(n: number, seed: number): { z: Float32Array; props: HairpinProperties[] } {
  const random = mulberry32(seed);
  const z = new Float32Array(n * 4);
  const props: HairpinProperties[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) z[i * 4 + k] = random() * 2 - 1;
    props.push({ stem: 3 * z[i * 4]! + 0.1 * random(), loop: random(), bulges: random(), gc: -z[i * 4 + 2]!, mfe: random() });
  }
  return { z, props };
}

test("latentCorrelations and propertyDirections recover a planted relation", () => {
  const { z, props } = planted(500, 1);
  const r = latentCorrelations(z, 4, props);
  assert.equal(r.length, 4 * HAIRPIN_PROPERTIES.length);
  assert.ok(r[0 * 5 + 0]! > 0.99, `r(z0, stem) ${r[0]}`);
  assert.ok(r[2 * 5 + 3]! < -0.99, "r(z2, gc)");
  assert.ok(Math.abs(r[1 * 5 + 0]!) < 0.15);
  const test = planted(200, 2);
  const dirs = propertyDirections(z, 4, props, { test: { latents: test.z, properties: test.props } });
  const stem = dirs.find((d) => d.property === "stem")!;
  assert.ok(stem.direction[0]! > 0.99 && stem.r2 > 0.99 && stem.testR2! > 0.99);
  assert.ok(Math.abs(stem.slope - 3) < 0.1);
  assert.ok(dirs.find((d) => d.property === "mfe")!.testR2! < 0.1);
  assert.throws(() => latentCorrelations(z, 3, props), InputError);
  assert.ok(Math.abs(spreadAlong(z, 4, [1, 0, 0, 0]) - Math.sqrt(1 / 3)) < 0.05);
  const m = meanLatent(z, 4, (i) => i < 10);
  assert.equal(m.length, 4);
  assert.throws(() => meanLatent(z, 4, () => false), InputError);
});

test("latentTraversal: one decoded image per step, a PNG strip, no leaked tensors", () => {
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const before = tf.memory().numTensors;
  const t = latentTraversal(cvae, new Float32Array(6), [1, 0, 0, 0, 0, 0], [-2, 0, 2]);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(t.images.length, 3 * 7500);
  assert.equal(t.tokens.length, 300);
  assert.deepEqual(Array.from(t.latents.subarray(0, 6)), [-2, 0, 0, 0, 0, 0]);
  const png = decodePng(traversalPng(t, (offset) => `${offset}`, { scale: 1 }));
  assert.ok(png.width >= 100 && png.height > 3 * 25);
  assert.throws(() => latentTraversal(cvae, [0], [1], [0]), InputError);
  disposeCvae(cvae);
});
