import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import {
  BINDING_MATRIX_SIZE, baselineValue, bindingAttributions, bindingMatrixSource, matrixOf, noSeedGroup, NO_SEED_GROUPS,
  pairingFeatures, peakPosition, pickExamples, positionProfiles, regionShares, SEED_CLASS_ORDER, seedMatchClasses,
  summariseProfiles, threePrimeContrast,
} from "../lib/src/binding/attribution";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { reverseComplement } from "../lib/src/binding/sequences";
import { MIRNA, SITE, SITE_8MER } from "./helpers";
import { mulberry32 } from "../lib/src/random";

before(async () => {
  await initBackend({ quiet: true });
});

/**
 * flatten → dense(1, sigmoid) whose logit is w · (pairs in miRNA column `column`) + bias: a
 * binding model that looks at one miRNA position only.
 */
function oneColumnModel(column: number, w = 2, bias = -1, channels = 1): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [50, 20, channels] }), tf.layers.dense({ units: 1, activation: "sigmoid" })] });
  const kernel = new Float32Array(1000 * channels);
  for (let i = 0; i < 50; i++) for (let c = 0; c < channels; c++) kernel[(i * 20 + column) * channels + c] = w;
  model.setWeights([tf.tensor2d(kernel, [1000 * channels, 1]), tf.tensor1d([bias])]);
  return model;
}

const PAIRS = { mirnas: [MIRNA, MIRNA, MIRNA], sites: [SITE_8MER, SITE, "A".repeat(50)] };

test("bindingMatrixSource: rows encoded on demand, shape=(rows, 50, 20, channels)", () => {
  const source = bindingMatrixSource(PAIRS.mirnas, PAIRS.sites);
  assert.equal(source.n, 3);
  const x = source.make(1, 3);
  assert.deepEqual(x.shape, [2, 50, 20, 1]);
  assert.deepEqual(Array.from(x.dataSync()), Array.from(encodeBindingMatrix(PAIRS.mirnas.slice(1), PAIRS.sites.slice(1))));
  x.dispose();
  const two = bindingMatrixSource(PAIRS.mirnas, PAIRS.sites, { wobbleChannel: true }).make(0, 1);
  assert.deepEqual(two.shape, [1, 50, 20, 2]);
  two.dispose();
  assert.throws(() => bindingMatrixSource([MIRNA], []), InputError);
});

test("a model that reads miRNA position 7 only: IG from zero = w on its paired cells and nothing else; saliency = w on its whole column", () => {
  const column = 6;
  const model = oneColumnModel(column, 2, -1);
  const x = encodeBindingMatrix(PAIRS.mirnas, PAIRS.sites);
  const ig = bindingAttributions(model, PAIRS, { steps: 4 });
  assert.equal(ig.method, "integrated-gradients");
  assert.equal(ig.baseline, 0);
  assert.equal(ig.values.length, 3 * BINDING_MATRIX_SIZE);
  for (let k = 0; k < 3; k++) {
    let pairs = 0;
    for (let c = 0; c < BINDING_MATRIX_SIZE; c++) {
      const expected = c % 20 === column ? 2 * x[k * 1000 + c]! : 0;
      if (c % 20 === column) pairs += x[k * 1000 + c]!;
      assert.ok(Math.abs(ig.values[k * 1000 + c]! - expected) < 1e-5);
    }
    assert.ok(Math.abs(ig.logits[k]! - (2 * pairs - 1)) < 1e-5, "logit");
    assert.ok(Math.abs(ig.baselineLogits![k]! + 1) < 1e-5, "baseline logit");
    assert.ok(ig.completeness![k]! < 1e-5);
    assert.equal(ig.steps![k], 4);
  }
  const profile = positionProfiles(ig.values, "mirna");
  assert.equal(profile.length, 3 * 20);
  for (let k = 0; k < 3; k++) {
    for (let j = 0; j < 20; j++) {
      let pairs = 0;
      for (let i = 0; i < 50; i++) pairs += x[k * 1000 + i * 20 + j]!;
      assert.ok(Math.abs(profile[k * 20 + j]! - (j === column ? 2 * pairs : 0)) < 1e-4);
    }
  }
  const saliency = bindingAttributions(model, PAIRS, { method: "saliency" });
  assert.equal(saliency.baseline, null);
  assert.equal(saliency.completeness, null);
  for (let c = 0; c < 3 * BINDING_MATRIX_SIZE; c++) assert.ok(Math.abs(saliency.values[c]! - (c % 20 === column ? 2 : 0)) < 1e-6);
  // The "uniform" baseline: 0.25 everywhere, logit(x′) = 2 · 50 · 0.25 − 1.
  const uniform = bindingAttributions(model, PAIRS, { baseline: "uniform", steps: 2 });
  assert.equal(uniform.baseline, 0.25);
  assert.ok(Math.abs(uniform.baselineLogits![0]! - 24) < 1e-4);
  assert.ok(Math.abs(uniform.values[column]! - 2 * (x[column]! - 0.25)) < 1e-5);
  model.dispose();
});

test("a two-channel model: the channels' attributions are summed into one 50 × 20 matrix", () => {
  const model = oneColumnModel(3, 1, 0, 2);
  const ig = bindingAttributions(model, PAIRS, { steps: 2 });
  const x = encodeBindingMatrix(PAIRS.mirnas, PAIRS.sites, { wobbleChannel: true });
  assert.equal(ig.values.length, 3 * BINDING_MATRIX_SIZE);
  for (let k = 0; k < 3; k++) {
    for (let c = 0; c < BINDING_MATRIX_SIZE; c++) {
      const expected = c % 20 === 3 ? x[(k * 1000 + c) * 2]! + x[(k * 1000 + c) * 2 + 1]! : 0;
      assert.ok(Math.abs(matrixOf(ig.values, k)[c]! - expected) < 1e-5);
    }
  }
  model.dispose();
});

test("bindingAttributions on arch_00b: shapes, refinement within tolerance, bad input refused, no tensors leak", () => {
  const model = buildArch00b({ seed: 9 });
  const ig = bindingAttributions(model, PAIRS, { steps: 8, tolerance: 0.01, maxSteps: 64 });
  assert.equal(ig.values.length, 3000);
  assert.equal(ig.logits.length, 3);
  assert.ok(ig.completeness!.every((e, k) => e <= 0.01 || ig.steps![k] === 64));
  assert.throws(() => bindingAttributions(model, PAIRS, { method: "gradcam" as never }), InputError);
  assert.throws(() => bindingAttributions(model, PAIRS, { baseline: "random" as never }), InputError);
  assert.throws(() => bindingAttributions(model, { mirnas: [MIRNA], sites: ["ACGT"] }), InputError);
  const hairpin = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [25, 100, 3] }), tf.layers.dense({ units: 1, activation: "sigmoid" })] });
  assert.throws(() => bindingAttributions(hairpin, PAIRS), /not a binding model/);
  bindingAttributions(model, PAIRS, { method: "saliency" }); // warm-up
  const before = tf.memory().numTensors;
  bindingAttributions(model, PAIRS, { steps: 4 });
  bindingAttributions(model, PAIRS, { method: "saliency" });
  assert.equal(tf.memory().numTensors, before);
  [model, hairpin].forEach((m) => m.dispose());
});

test("positionProfiles: sums over site rows (miRNA axis) or miRNA columns (site axis), signed or absolute", () => {
  const values = new Float32Array(2 * 1000);
  values[0 * 20 + 1] = 1; // pair 0: site 1, miRNA 2
  values[5 * 20 + 1] = -3; // pair 0: site 6, miRNA 2
  values[1000 + 49 * 20 + 19] = 2; // pair 1: site 50, miRNA 20
  const mirna = positionProfiles(values, "mirna");
  assert.deepEqual([mirna.length, mirna[1], mirna[20 + 19]], [40, -2, 2]);
  assert.equal(positionProfiles(values, "mirna", { absolute: true })[1], 4);
  const site = positionProfiles(values, "site");
  assert.deepEqual([site.length, site[0], site[5], site[50 + 49]], [100, 1, -3, 2]);
  assert.throws(() => positionProfiles(new Float32Array(999), "site"), InputError);
});

test("summariseProfiles, peakPosition, regionShares: means, sds and shares as computed by hand", () => {
  // Two pairs in group a, one in b; profiles over 3 positions.
  const profiles = Float32Array.from([1, 2, -1, 3, 0, 1, 0, 5, 0]);
  const rows = summariseProfiles(profiles, 3, ["a", "a", "b"], ["b", "a", "c"]);
  assert.deepEqual(rows.map((r) => `${r.group}${r.position}`), ["b1", "b2", "b3", "a1", "a2", "a3"]);
  const a1 = rows.find((r) => r.group === "a" && r.position === 1)!;
  assert.equal(a1.n, 2);
  assert.equal(a1.mean, 2);
  assert.ok(Math.abs(a1.sd - Math.SQRT2) < 1e-12);
  // Shares: pair 0 = |1|/4, pair 1 = 3/4 → mean 0.5.
  assert.ok(Math.abs(a1.share - 0.5) < 1e-12);
  assert.equal(rows.find((r) => r.group === "b" && r.position === 2)!.share, 1);
  assert.equal(peakPosition(rows, "a"), 1);
  assert.equal(peakPosition(rows, "b"), 2);
  assert.throws(() => peakPosition(rows, "c"), InputError);
  assert.throws(() => summariseProfiles(profiles, 4, ["a", "a", "b"]), InputError);

  const profile = new Float32Array(2 * 20);
  profile[0] = 1; // position 1
  profile[1] = 2; // seed
  profile[7] = -1; // seed (8)
  profile[13] = 4; // 3' supplementary (14)
  const shares = regionShares(profile);
  assert.equal(shares.length, 2 * 5);
  assert.deepEqual(Array.from(shares.subarray(0, 5)), [1 / 8, 3 / 8, 0, 4 / 8, 0]);
  assert.deepEqual(Array.from(shares.subarray(5)), [0, 0, 0, 0, 0]);
});

test("pairingFeatures and noSeedGroup: seed runs, 3' pairing, the groups of no-seed pairs", () => {
  // SITE_8MER holds rc(miRNA 2–8) + A: a 7-nt seed run starting at miRNA position 2.
  const eight = pairingFeatures(MIRNA, SITE_8MER);
  assert.equal(eight.seedRun, 7);
  assert.equal(eight.seedRunStart, 2);
  assert.ok(eight.longestRun >= 7);
  assert.equal(seedMatchClasses({ mirnas: [MIRNA], sites: [SITE_8MER] })[0], "8mer");
  // An offset 6mer (3–8) is class "none" but a partial seed.
  const offset = "A".repeat(20) + reverseComplement(MIRNA.slice(2, 8)) + "A".repeat(24);
  assert.equal(seedMatchClasses({ mirnas: [MIRNA], sites: [offset] })[0], "none");
  const fOffset = pairingFeatures(MIRNA, offset);
  assert.ok(fOffset.seedRun >= 6 && fOffset.seedRunStart <= 3);
  assert.equal(noSeedGroup(fOffset), NO_SEED_GROUPS[0]);
  // miRNA 13–16 pairs on one diagonal; the poly-A background pairs only the miRNA's T, never 5 in a row within 2–8.
  const threePrime = "A".repeat(20) + reverseComplement(MIRNA.slice(12, 16)) + "A".repeat(26);
  const f3 = pairingFeatures(MIRNA, threePrime);
  assert.equal(f3.supplementaryRun, 4);
  assert.ok(f3.seedRun < 5, `seed run ${f3.seedRun}`);
  assert.equal(noSeedGroup(f3), NO_SEED_GROUPS[1]);
  assert.equal(noSeedGroup({ longestRun: 3, longestRunStart: 4, seedRun: 3, seedRunStart: 4, supplementaryRun: 2 }), "other");
  // Nothing pairs with a poly-N site.
  assert.deepEqual(pairingFeatures(MIRNA, "N".repeat(50)), { longestRun: 0, longestRunStart: 0, seedRun: 0, seedRunStart: 0, supplementaryRun: 0 });
  assert.throws(() => pairingFeatures(MIRNA, "ACGT"), InputError);
});

test("pickExamples: best true positive per seed class, top false positives, lowest misses; deterministic", () => {
  const labels = [1, 1, 1, 0, 0, 1, 0, 1];
  const p = [0.9, 0.95, 0.7, 0.8, 0.3, 0.2, 0.99, 0.1];
  const classes = ["8mer", "8mer", "6mer", "none", "none", "7mer-m8", "6mer", "none"] as const;
  const ex = pickExamples(labels, p, [...classes], { perKind: 2 });
  assert.deepEqual(ex.map((e) => `${e.kind}:${e.index}`), ["true positive:1", "true positive:2", "false positive:6", "false positive:3", "miss:7", "miss:5"]);
  assert.equal(ex[0]!.seedClass, "8mer");
  assert.deepEqual(pickExamples(labels, p, [...classes], { perKind: 2 }), ex);
  assert.throws(() => pickExamples([1], [0.5, 0.2], ["none"]), InputError);
  assert.deepEqual(SEED_CLASS_ORDER, ["8mer", "7mer-m8", "7mer-A1", "6mer", "none"]);
  assert.equal(baselineValue(0.1), 0.1);
  assert.throws(() => baselineValue(NaN), InputError);
});

test("threePrimeContrast: too few to tell below the minimum, else the difference of means with intervals decides", () => {
  const random = mulberry32(6);
  const group = (n: number, logit: number, share: number) => ({
    logits: Float64Array.from({ length: n }, () => logit + random() - 0.5),
    shares: Float64Array.from({ length: n }, () => Math.max(0, share + (random() - 0.5) * 0.1)),
  });
  const few = threePrimeContrast(group(13, 1, 0.3), group(200, 0, 0.1));
  assert.deepEqual([few.paired, few.unpaired, few.minPairs, few.verdict, few.logitDifference], [13, 200, 30, "too few to tell", null]);
  const effect = threePrimeContrast(group(60, 1, 0.3), group(200, 0, 0.1), { seed: 2 });
  assert.equal(effect.verdict, "3' pairing raises the score");
  assert.ok(effect.logitDifference!.lo > 0.5 && effect.shareDifference!.lo > 0.1);
  const same = group(60, 0, 0.1);
  const none = threePrimeContrast(same, same, { seed: 2 });
  assert.equal(none.verdict, "no 3' effect detected");
  assert.ok(none.logitDifference!.lo < 0 && none.logitDifference!.hi > 0);
  assert.equal(threePrimeContrast(group(13, 1, 0.3), group(20, 0, 0.1), { minPairs: 10 }).verdict, "3' pairing raises the score");
  assert.throws(() => threePrimeContrast({ logits: [1], shares: [] }, group(3, 0, 0)), /1 logits but 0 shares/);
});
