/**
 * RNAfold-verified decoding (lib/src/cvae/verified.ts), with the real RNAfold: when
 * the most likely drawing is not RNAfold's structure but a nearby decoding is, the search keeps
 * that one; when none passes, the most likely drawing is kept (rank −1); seeded; the toy CVAE
 * end to end, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { buildArDecoder } from "../lib/src/cvae/arDecoder";
import { generateHairpins } from "../lib/src/cvae/generate";
import { refoldCheck } from "../lib/src/cvae/evaluate";
import { generateVerifiedHairpins, verificationCost, verifyDecodings } from "../lib/src/cvae/verified";
import { hairpinColumns } from "../lib/src/hairpin/image";
import { foldSequences } from "../lib/src/hairpin/rnafold";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { buildCvae, disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { profileScaling } from "../lib/src/cvae/saved";
import { columnsToTokens, END_TOKEN, tokenShape } from "../lib/src/cvae/tokens";
import { constructedSet } from "./vaeHelpers";

before(async () => {
  await initBackend({ quiet: true });
});

const HAIRPIN = "GGGCGCAUCGAUCGGCAUCGCGAAAGCGAUGCCGAUCGAUGCGCCC";

/** Probabilities putting `p` on `tokens` per column, except that column `extra` prefers an unpaired G over C (which RNAfold would pair) to the end. */
function table(tokens: Uint8Array, extra: number | null, p = 0.8): Float32Array {
  const out = new Float32Array(100 * 31).fill((1 - p) / 30);
  for (let x = 0; x < 100; x++) out[x * 31 + tokens[x]!] = p;
  if (extra !== null) {
    out[extra * 31 + END_TOKEN] = 0.3;
    out[extra * 31 + 7 + 4 * 2 + 1] = 0.5; // G over C drawn unpaired: RNAfold closes them as one more pair
  }
  return out;
}

test("verifyDecodings keeps the first decoding RNAfold confirms, else the most likely one", async () => {
  const [f] = await foldSequences([HAIRPIN]);
  const truth = columnsToTokens(hairpinColumns(f!.sequence, f!.structure))!;
  const { length } = tokenShape(truth);
  // Sample 0: the most likely drawing is RNAfold's own; sample 1: it has one extra outer column.
  const probabilities = new Float32Array(2 * 3100);
  probabilities.set(table(truth, null), 0);
  probabilities.set(table(truth, length), 3100);
  const r = await verifyDecodings(probabilities, { candidates: 6, seed: 1 });
  assert.deepEqual(Array.from(r.firstExact), [1, 0]);
  assert.equal(r.rank[0], 0);
  assert.ok(r.rank[1]! > 0, `rank ${r.rank[1]}`);
  assert.deepEqual(r.tokens.subarray(100, 200), truth, "the decoding without the extra column");
  const none = await verifyDecodings(probabilities.subarray(3100), { candidates: 1, seed: 1 });
  assert.equal(none.rank[0], -1);
  assert.equal(tokenShape(none.tokens).length, length + 1, "the most likely drawing kept");
  assert.equal(none.folds, 1);
  await assert.rejects(verifyDecodings(new Float32Array(10), { candidates: 2, seed: 1 }), InputError);
  await assert.rejects(verifyDecodings(probabilities, { candidates: 0, seed: 1 }), InputError);
});

test("generateVerifiedHairpins: the toy CVAE's samples, ranks consistent with the refold check, seeded, no leaked tensors", async () => {
  const data = vaeRowsFromImages(constructedSet("toy", 12, 3)).rows;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const model = { cvae, info: { profileScaling: profileScaling(data) }, training: { labels: data.labels, profiles: data.profiles } };
  const before = tf.memory().numTensors;
  const g = await generateVerifiedHairpins(model, { n: 6, label: 1, seed: 2, candidates: 3 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(g.tokens.length, 600);
  const plain = generateHairpins(model, { n: 6, label: 1, seed: 2 });
  assert.deepEqual(g.latents, plain.latents, "same latents as the plain generator");
  const checked = await refoldCheck(g.sequences, g.columns);
  for (let i = 0; i < 6; i++) {
    assert.equal(checked[i]!.exact, g.rank[i]! >= 0, `sample ${i}`);
    if (g.rank[i]! <= 0) assert.deepEqual(g.tokens.subarray(i * 100, (i + 1) * 100), plain.tokens.subarray(i * 100, (i + 1) * 100));
  }
  const again = await generateVerifiedHairpins(model, { n: 6, label: 1, seed: 2, candidates: 3 });
  assert.deepEqual(again.tokens, g.tokens);
  disposeCvae(cvae);
});

test("generateVerifiedHairpins with the AR decoder: first draws as generateHairpins, later rounds fresh draws, ranks consistent with the refold check, seeded", async () => {
  const data = vaeRowsFromImages(constructedSet("toy", 12, 3)).rows;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  cvae.arDecoder = buildArDecoder(4, { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 9 });
  const model = { cvae, info: { profileScaling: profileScaling(data) }, training: { labels: data.labels, profiles: data.profiles } };
  const before = tf.memory().numTensors;
  const g = await generateVerifiedHairpins(model, { n: 6, label: 1, seed: 2, candidates: 3 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(g.decoder, "autoregressive");
  const plain = generateHairpins(model, { n: 6, label: 1, seed: 2 });
  assert.deepEqual(g.latents, plain.latents);
  const checked = await refoldCheck(g.sequences, g.columns);
  for (let i = 0; i < 6; i++) {
    assert.equal(checked[i]!.exact, g.rank[i]! >= 0, `sample ${i}`);
    assert.equal(g.firstExact[i] === 1, g.rank[i] === 0);
    if (g.rank[i]! <= 0) assert.deepEqual(g.tokens.subarray(i * 100, (i + 1) * 100), plain.tokens.subarray(i * 100, (i + 1) * 100), "the first draw kept");
  }
  assert.ok(g.folds >= 6 && g.folds <= 18);
  assert.deepEqual((await generateVerifiedHairpins(model, { n: 6, label: 1, seed: 2, candidates: 3 })).tokens, g.tokens);
  // The cost: every sample's draws until one passed (rank + 1) or all 3 were tried.
  const cost = verificationCost(g, 3);
  const kept = Array.from(g.rank).filter((r) => r >= 0).length;
  assert.equal(cost.draws, Array.from(g.rank).reduce((a, r) => a + (r >= 0 ? r + 1 : 3), 0));
  assert.equal(cost.draws, g.folds);
  assert.deepEqual({ samples: cost.samples, kept: cost.kept, keptFraction: cost.keptFraction }, { samples: 6, kept, keptFraction: kept / 6 });
  assert.equal(cost.acceptanceRate, kept / g.folds);
  assert.equal(cost.meanDrawsPerKept, kept ? g.folds / kept : null);
  disposeCvae(cvae);
});

test("verificationCost by hand", () => {
  const cost = verificationCost({ rank: Int16Array.from([0, 2, -1, 1]), folds: 1 + 3 + 4 + 2 }, 4);
  assert.deepEqual(cost, { samples: 4, candidates: 4, kept: 3, keptFraction: 0.75, draws: 10, acceptanceRate: 0.3, meanDrawsPerKept: 10 / 3 });
  assert.equal(verificationCost({ rank: Int16Array.from([-1]), folds: 4 }, 4).meanDrawsPerKept, null);
});
