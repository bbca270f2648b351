/**
 * The hairpin notebooks' generated sentences (lib/src/hairpin/readings.ts: estimates, targets,
 * the classifier, saliency; lib/src/cvae/readings.ts: generated hairpins): each rule on both
 * sides of its threshold, numbers as given, no hand-typed verdicts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../lib/src/errors";
import {
  benchmarkSentence, classifierVersusPublished, formatEstimate, pretrainingSentence, saliencyReading, saliencyShape, seedList, targetVerdict,
} from "../lib/src/hairpin/readings";
import {
  discriminatorSentence, distributionSentence, flankSentence, judgeSentence, ksCritical, latentSentences, traversalSentence, treeSentences, verifiedSentence,
} from "../lib/src/cvae/readings";

test("targetVerdict: met by the mean, with every seed or how many; not met says NOT; missing values are not measured", () => {
  const seeds = [1, 2, 3];
  const low = targetVerdict("raw refold-exact", [0.348, 0.368, 0.387], seeds, { direction: "at least", value: 0.7 });
  assert.equal(low.met, false);
  assert.equal(low.seedsMet, 0);
  assert.match(low.sentence, /^Raw refold-exact is 0\.368 ± 0\.020 \(seed 1: 0\.348, seed 2: 0\.368, seed 3: 0\.387\): it does NOT meet the target ≥ 0\.700\.$/);
  const mixed = targetVerdict("sanity", [0.949, 0.957, 0.971], seeds, { direction: "at least", value: 0.95 });
  assert.equal(mixed.met, true);
  assert.match(mixed.sentence, /meets the target ≥ 0\.950 on average, on 2 of 3 seeds\.$/);
  const all = targetVerdict("AUC", [0.6, 0.7, 0.65], seeds, { direction: "at most", value: 0.75 }, 2);
  assert.match(all.sentence, /meets the target ≤ 0\.75 on every seed/);
  const some = targetVerdict("sanity", [0.90, 0.96, 0.91], seeds, { direction: "at least", value: 0.95 });
  assert.match(some.sentence, /does NOT meet the target ≥ 0\.950 \(1 of 3 seeds do\)/);
  assert.equal(targetVerdict("classifier", [null, null, null], seeds, { direction: "at least", value: 0.9 }).sentence, "Classifier: not measured.");
  assert.match(targetVerdict("novelty", [28], [1], { direction: "at least", value: 5 }, 1).sentence, /^Novelty is 28\.0 \(seed 1\): it meets the target ≥ 5\.0\.$/);
  assert.throws(() => targetVerdict("x", [1], seeds, { direction: "at least", value: 0 }), InputError);
  assert.equal(formatEstimate({ mean: NaN, sd: null }), "—");
  assert.equal(seedList([1]), "seed 1");
});

test("classifierVersusPublished says plainly 'below' the pre-trained model and why, and where it stands against the one without", () => {
  const published = { withoutPretraining: 0.9199, withPretraining: 0.9517, pretrainingImages: "about 46,000 non-human miRBase hairpins and pseudo-hairpins" };
  const s = classifierVersusPublished({ mean: 0.9196, sd: 0.0069 }, [1, 2, 3], published);
  assert.match(s, /^Our classifier's modhsa_test accuracy, 0\.9196 ± 0\.0069 over seeds 1, 2, 3, is below deepMir's best 0\.9517 by 0\.0321: that model was pre-trained on about 46,000 .* not in the published data/);
  assert.match(s, /the difference, −0\.0003, is within one sd over seeds\.$/);
  const far = classifierVersusPublished({ mean: 0.89, sd: 0.005 }, [1, 2, 3], published);
  assert.match(far, /−0\.0299, is 6\.0 sd over seeds/);
  assert.match(classifierVersusPublished({ mean: 0.96, sd: null }, [1], published), /is above deepMir's best 0\.9517 by 0\.0083; against .* the difference is \+0\.0401\.$/);
});

/** A 25 × 100 map with a Gaussian blob at (row, column) of the given widths and height. */
function blob(row: number, column: number, rowWidth: number, columnWidth: number, height = 1): Float64Array {
  const m = new Float64Array(2500);
  for (let r = 0; r < 25; r++) for (let c = 0; c < 100; c++) m[r * 100 + c] = height * Math.exp(-(((r - row) / rowWidth) ** 2) - ((c - column) / columnWidth) ** 2);
  return m;
}

test("saliencyShape and saliencyReading: bands, intensity ratios, and 'differ in kind' by its rule", () => {
  const s = saliencyShape(blob(12, 28, 2, 12));
  assert.equal(s.peakRow, 12);
  assert.equal(s.peakColumn, 28);
  assert.ok(s.columnBand[0] >= 15 && s.columnBand[0] <= 20 && s.columnBand[1] >= 36 && s.columnBand[1] <= 41, `band ${s.columnBand}`);
  assert.throws(() => saliencyShape([1, 2]), InputError);
  const lines = saliencyReading({
    positives: { ours: blob(12, 28, 2, 12, 0.5), published: blob(12, 28, 2, 12), pearson: 0.92 },
    negatives: { ours: blob(12, 45, 6, 15), published: blob(12, 46, 6, 15), pearson: 0.75 },
  });
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^True positives: the published map is concentrated in columns \d+–\d+ \(largest at column 28\) and rows \d+–\d+ \(largest at row 12\)/);
  assert.match(lines[0]!, /r = 0\.92, but ours is 2\.0× less intense than the published one/);
  assert.match(lines[1]!, /ours is about as intense as the published one/);
  assert.match(lines[2]!, /differ in kind: the negatives' map peaks 18 columns farther from the loop \(column 46 against 28\)/);
  const same = saliencyReading({ positives: { ours: blob(12, 28, 2, 12), published: blob(12, 28, 2, 12), pearson: 1 }, negatives: { ours: blob(12, 30, 2, 12), published: blob(12, 30, 2, 12), pearson: 1 } });
  assert.match(same[2]!, /have the same kind of shape/);
  assert.match(saliencyReading({ positives: null, negatives: null })[0]!, /no map/);
});

test("discriminatorSentence: target by the mean AUC; indistinguishable only when every interval holds 0.5", () => {
  const high = discriminatorSentence([{ seed: 1, auc: 0.86, ci: [0.83, 0.89], level: 0.95 }, { seed: 2, auc: 0.88, ci: [0.85, 0.91], level: 0.95 }], 0.75,
    { features: [{ name: "length (nt)", weight: -1.2, meanA: 80.2, meanB: 69.1 }, { name: "hairpin loops", weight: 1.1, meanA: 1.015, meanB: 1 }], controls: { halves: 0.531, training: 0.663 } });
  assert.match(high, /For scale, the same test gives 0\.531 between two halves of the test pre-miRNAs and 0\.663 between the training pre-miRNAs/);
  assert.match(high, /ROC-AUC 0\.870 ± 0\.014 \(seed 1: 0\.860, 95% CI 0\.830–0\.890; seed 2: 0\.880/);
  assert.match(high, /does NOT meet the target ≤ 0\.75: the two sets are distinguishable\. For scale.* What tells them apart most .*length \(nt\) \(lower in generated: 69\.1 against 80\.2\)/);
  assert.match(high, /hairpin loops \(lower in generated: 1\.000 against 1\.015\)/, "higher / lower by the means, not by the weight's sign");
  const low = discriminatorSentence([{ seed: 1, auc: 0.53, ci: [0.48, 0.58], level: 0.95 }], 0.75);
  assert.match(low, /meets the target ≤ 0\.75: the two sets are indistinguishable to it on every seed\.$/);
  assert.throws(() => discriminatorSentence([], 0.75), InputError);
});

test("judgeSentence: met or not by the mean; not met says what it means for the judge", () => {
  const bad = judgeSentence({ mean: 0.48, sd: 0.04 }, 0.09, { mean: 0.95, sd: 0.01 }, 0.954, 0.15);
  assert.match(bad, /calls 0\.480 ± 0\.040 of the raw generated NEGATIVES pre-miRNA, against 0\.090 of the test negatives \(target ≤ 0\.15: NOT met\)/);
  assert.match(bad, /5\.3× the real rate/);
  assert.match(bad, /easily fooled/);
  const good = judgeSentence({ mean: 0.1, sd: 0.01 }, 0.09, { mean: 0.95, sd: 0.01 }, 0.954, 0.15);
  assert.match(good, /\(target ≤ 0\.15: met\)/);
  assert.doesNotMatch(good, /fooled/);
  assert.match(good, /separates the generator's two classes \(0\.850 apart; real: 0\.864\)/);
  // A judge that does not separate the real classes (a 2-epoch classifier calling everything negative) vouches for nothing.
  const blind = judgeSentence({ mean: 0, sd: null }, 0, { mean: 0, sd: null }, 0, 0.15);
  assert.match(blind, /does not separate the real test classes \(0\.000 apart/);
  assert.doesNotMatch(blind, /carry information/);
  const shy = judgeSentence({ mean: 0.05, sd: null }, 0.09, { mean: 0.3, sd: null }, 0.954, 0.15);
  assert.match(shy, /few generated pre-miRNAs too \(0\.250 apart/);
  assert.match(judgeSentence({ mean: NaN, sd: null }, null, { mean: NaN, sd: null }, null, 0.15), /not measured/);
});

test("distributionSentence: 'differs' by the KS critical value; properties by JSD", () => {
  assert.ok(Math.abs(ksCritical(522, 3000) - 0.0641) < 0.001);
  const s = distributionSentence({
    n: { real: 522, generated: 3000 },
    properties: [
      { property: "gc", jsd: 0.01, ks: 0.03, median: { real: 0.5, generated: 0.48 } },
      { property: "length", jsd: 0.12, ks: 0.25, median: { real: 80, generated: 69 } },
      { property: "stem", jsd: 0.08, ks: 0.12, median: { real: 29.5, generated: 28 } },
    ],
    kmers: { jsd: 0.0123 },
  }, { length: "length (nt)", gc: "GC content" });
  assert.match(s, /stem \(JSD 0\.080, KS 0\.120; median 28 generated against 29\.5 real\)/);
  assert.match(s, /differ in 2 of 3 properties \(KS above its 5% critical value 0\.064\): length \(nt\) \(JSD 0\.120, KS 0\.250; median 69 generated against 80 real\); stem .*; no difference detected in GC content\. The 3-mer spectra are 0\.0123 bits apart/);
});

test("verifiedSentence, traversalSentence, latentSentences, treeSentences, flankSentence", () => {
  const m = (mean: number) => ({ mean, sd: 0.01 });
  const v = verifiedSentence({ acceptanceRate: m(0.2), meanDrawsPerKept: m(5), keptFraction: m(0.99), refoldExact: m(0.99), sanityPass: m(0.95), classifierPreMirna: m(0.96), discriminatorAuc: m(0.8) }, 24,
    { n: 468, sanityPass: 0.97, classifierPreMirna: 0.96 }, { refoldExact: m(0.37), sanityPass: m(0.93) });
  assert.match(v, /up to 24 decodings .* 0\.990 ± 0\.010 of samples, at an acceptance of 0\.200 ± 0\.010 per draw and 5\.00 ± 0\.01 draws per kept sample/);
  assert.match(v, /the 468 test pre-miRNAs that refold exactly\): sanity 0\.970/);
  assert.match(traversalSentence({ property: "stem", decoder: "autoregressive", steps: [-2, -1, 0, 1, 2], values: [20, 22, 25, 25, 30] }, "stem"), /\(−2 to \+2 sd\), the generator .* draws stem 20 → 22 → 25 → 25 → 30: it moves monotonically \(up\)\.$/);
  assert.match(traversalSentence({ property: "stem", decoder: "columns", steps: [-2, 2], values: [35, 35] }, "stem"), /the VAE's own decoder draws stem 35 → 35: it does not move\.$/);
  assert.match(traversalSentence({ property: "stem", decoder: "autoregressive", steps: [-2, 2], values: [21.7, 34], draws: 10 }, "stem", 1), /draws stem 21\.7 → 34\.0 \(mean of 10 draws per step\): it moves monotonically \(up\)\.$/);
  assert.match(traversalSentence({ property: "gc", decoder: "autoregressive", steps: [-2, 0, 2], values: [0.4, 0.5, 0.45] }, "GC", 2), /0\.40 → 0\.50 → 0\.45: it moves, not monotonically/);
  const fits = [
    { part: "structure", property: "stem", conditioned: true, testR2: 0.99 },
    { part: "all", property: "stem", conditioned: true, testR2: 0.99 },
    { part: "all", property: "mfePerNt", conditioned: false, testR2: 0.62 },
    { part: "residual", property: "mfePerNt", conditioned: false, testR2: 0.3 },
    { part: "all", property: "apicalUgu", conditioned: false, testR2: 0.05 },
    { part: "residual", property: "apicalUgu", conditioned: false, testR2: 0.01 },
  ];
  const latent = latentSentences(fits, { stem: "stem", mfePerNt: "MFE per nt", apicalUgu: "apical UGU" });
  assert.match(latent[0]!, /A check, not a finding: .* stem .* R² 0\.990: the conditioning works\./);
  assert.match(latent[1]!, /MFE per nt well \(R² 0\.620 from all parts; residual part alone 0\.300\); apical UGU hardly \(R² 0\.050/);
  const trees = treeSentences([{ seed: 1, parts: "all latent parts", depth: 3, heldOutAccuracy: 0.842, splits: [{ dimension: "z_class[27]", correlates: [{ property: "bulges", r: 0.45 }] }, { dimension: "z_class[12]", correlates: [{ property: "bulges", r: 0.1 }] }] }], { bulges: "bulges" });
  assert.match(trees[0]!, /test accuracy 0\.842 \(seed 1, depth 3\)\. Its first splits \(seed 1\): z_class\[27\] tracks bulges \(r = 0\.45\); z_class\[12\] has no clear biological reading/);
  assert.match(flankSentence({ fivePrimeMedian: 1, threePrimeMedian: 1, fivePrimeAtLeast10: 0.02, threePrimeAtLeast10: 0.033 }), /which these hairpins do not carry: they are not measured here\.$/);
  assert.match(flankSentence({ fivePrimeMedian: 12, threePrimeMedian: 14, fivePrimeAtLeast10: 0.7, threePrimeAtLeast10: 0.8 }), /could be looked for/);
});

test("benchmarkSentence and pretrainingSentence", () => {
  const rows = [
    { set: "mmu", accuracy: { mean: 0.91, sd: 0.01 } }, { set: "ggaplus", accuracy: { mean: 0.996, sd: 0.001 } },
    { set: "chen", accuracy: { mean: 0.61, sd: 0.02 } }, { set: "shuffled", accuracy: { mean: 0.99, sd: 0.01 } }, { set: "hsa", accuracy: { mean: 0.97, sd: 0.01 } },
  ];
  assert.equal(benchmarkSentence(rows, { positives: ["mmu", "ggaplus", "dreplus"], negatives: ["chen", "shuffled"] }),
    "Sensitivity on the 2 non-human positive sets: ggaplus 0.996, mmu 0.910; specificity on the negative sets: shuffled 0.990, chen 0.610, so chen is the hard case.");
  const p = { pretrained: 0.9262, withoutSameSeed: 0.9226, seed: 1, seedSd: 0.0069, images: 3644, pretrainEpochs: 20, epochs: 100 };
  assert.match(pretrainingSentence(p), /3,644 non-human images .* 0\.9262 against 0\.9226 without it on the same seed: \+0\.0036, within the spread between seeds \(sd 0\.0069\): no effect shown\.$/);
  assert.match(pretrainingSentence({ ...p, pretrained: 0.95 }), /\+0\.0274, a gain larger than the sd between seeds/);
  assert.match(pretrainingSentence({ ...p, seedSd: null }), /no effect can be shown/);
  assert.match(pretrainingSentence({ ...p, pretrainEpochs: 1, epochs: 1 }), /\(1 epoch, then 1 epoch on modhsa_train/);
  assert.equal(benchmarkSentence(rows, { positives: [], negatives: ["chen"] }), "Specificity on the negative set: chen 0.610.");
});
