/**
 * Realism of generated hairpins (lib/src/cvae/realism.ts): the two-sample test is ≈ 0.5 on
 * two samples of one distribution and ≈ 1 on clearly different ones; logistic fits, distances
 * and properties by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../lib/src/errors";
import { mulberry32, randomSequence } from "../lib/src/random";
import {
  compareDistributions, FoldedHairpin, fitLogistic, jensenShannon, kmerNames, kmerSpectrum, ksStatistic, logisticScores, longestRun, realismComparison,
  realismFeatures, realismProperties, REALISM_FEATURE_NAMES, realVsGeneratedTest, twoSampleAuc,
} from "../lib/src/cvae/realism";
import { constructedHairpin } from "./vaeHelpers";

/** Constructed hairpins (vaeHelpers) with a made-up MFE of −0.4 kcal/mol/nt; `gcRich` swaps A/U pairs for G/C ones. */
function hairpins(n: number, seed: number, opts: { gcRich?: boolean; stem?: number } = {}): FoldedHairpin[] {
  return Array.from({ length: n }, (_, i) => {
    const h = constructedHairpin(seed * 10_000 + i, opts.stem ?? 18 + (i % 7));
    const sequence = opts.gcRich ? h.sequence.replace(/A/g, "G").replace(/U/g, "C") : h.sequence;
    return { sequence, structure: h.structure, mfe: -0.4 * sequence.length };
  });
}

test("realismProperties and realismFeatures by hand", () => {
  const h = { sequence: "GGGAAAAUCCCC", structure: "(((.....))).", mfe: -3.6 };
  const p = realismProperties(h);
  assert.deepEqual(p, { length: 12, gc: 7 / 12, mfePerNt: -0.3, loop: 5, stem: 3, longestRun: 4 });
  const f = realismFeatures(h);
  assert.equal(f.length, REALISM_FEATURE_NAMES.length);
  assert.equal(f.length, 4 + 16 + 64 + 9);
  assert.ok(Math.abs(f[0]! - 4 / 12) < 1e-12, "A frequency");
  assert.ok(Math.abs(f.subarray(4, 20).reduce((a, b) => a + b, 0) - 1) < 1e-12, "2-mer frequencies sum to 1");
  assert.equal(f[84], 12, "length");
  assert.equal(f[REALISM_FEATURE_NAMES.indexOf("hairpin loops")], 1);
  assert.equal(f[REALISM_FEATURE_NAMES.indexOf("unpaired nt inside the stem")], 0);
  // A 2-nt bulge inside the stem counts; an empty sequence has zero features, not NaN.
  const bulged = realismFeatures({ sequence: "GGAAGGAAAACCCC", structure: "((..((....))))", mfe: -2 });
  assert.equal(bulged[REALISM_FEATURE_NAMES.indexOf("unpaired nt inside the stem")], 2);
  assert.ok(realismFeatures({ sequence: "", structure: "", mfe: 0 }).every((v) => v === 0));
  assert.throws(() => realismProperties({ sequence: "ACGU", structure: "..", mfe: 0 }), InputError);
  assert.equal(longestRun("ACCCGUUUUA"), 4);
  assert.equal(longestRun(""), 0);
});

test("fitLogistic separates a planted direction and ignores constant features", () => {
  const random = mulberry32(3);
  const n = 400;
  const x = new Float64Array(n * 3);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    x[i * 3] = (y[i] ? 1 : -1) + 0.5 * (random() - 0.5); // informative
    x[i * 3 + 1] = random(); // noise
    x[i * 3 + 2] = 5; // constant
  }
  const m = fitLogistic(x, y, 3, { l2: 1 });
  assert.ok(m.weights[0]! > 3 * Math.abs(m.weights[1]!), `weights ${Array.from(m.weights)}`);
  assert.equal(m.weights[2], 0);
  const s = logisticScores(m, x);
  assert.ok(s[1]! > 0 && s[0]! < 0);
  assert.throws(() => fitLogistic(x, y, 2), InputError);
  assert.throws(() => fitLogistic(x.subarray(0, 6), [0, 2], 3), InputError);
});

test("two-sample test: ≈ 0.5 on two samples of one distribution, ≈ 1 on clearly different ones; seeded", () => {
  const same = realVsGeneratedTest(hairpins(150, 1), hairpins(150, 2), { bootstrap: 200 });
  assert.ok(Math.abs(same.auc - 0.5) < 0.1, `same distribution: AUC ${same.auc}`);
  assert.ok(same.ci[0] < 0.5 + 0.02 && same.ci[1] > 0.5 - 0.02 && same.ci[0] < same.auc && same.auc < same.ci[1], `interval ${same.ci}`);
  assert.deepEqual(same.n, [150, 150]);
  assert.match(same.method, /5-fold cross-fitted/);
  const different = realVsGeneratedTest(hairpins(150, 1), hairpins(150, 2, { gcRich: true }), { bootstrap: 200 });
  assert.ok(different.auc > 0.98, `different distributions: AUC ${different.auc}`);
  assert.ok(different.ci[0] > 0.95);
  assert.ok(different.features.length === 8 && /frequency|GC/.test(different.features[0]!.name), `top feature ${different.features[0]!.name}`);
  // Same seed, same numbers.
  const again = realVsGeneratedTest(hairpins(150, 1), hairpins(150, 2), { bootstrap: 200 });
  assert.equal(again.auc, same.auc);
  assert.deepEqual(again.ci, same.ci);
  assert.throws(() => twoSampleAuc([new Float64Array(2)], [new Float64Array(2)], ["a", "b"]), InputError);
  assert.throws(() => twoSampleAuc(Array(5).fill(new Float64Array(2)), Array(5).fill(new Float64Array(3)), ["a", "b"]), InputError);
});

test("jensenShannon, ksStatistic and compareDistributions", () => {
  assert.equal(jensenShannon([1, 2, 3], [2, 4, 6]), 0);
  assert.equal(jensenShannon([1, 0], [0, 1]), 1);
  assert.throws(() => jensenShannon([0, 0], [1, 1]), InputError);
  assert.equal(ksStatistic([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(ksStatistic([1, 2], [3, 4]), 1);
  assert.ok(Math.abs(ksStatistic([1, 2, 3, 4], [3, 4, 5, 6]) - 0.5) < 1e-12);
  const c = compareDistributions([1, 2, 2, 3], [2, 3, 3, 4], { integer: true });
  assert.deepEqual(c.bins.map((b) => b.from), [1, 2, 3, 4]);
  assert.deepEqual(c.bins.map((b) => b.real), [0.25, 0.5, 0.25, 0]);
  assert.deepEqual(c.median, { real: 2, generated: 3 });
  assert.ok(c.jsd > 0 && c.jsd < 1);
  const wide = compareDistributions([0, 1000], [500], { integer: true, maxBins: 10 });
  assert.ok(wide.bins.length <= 10);
  const continuous = compareDistributions([0.1, 0.2], [0.3, 0.4], { maxBins: 4 });
  assert.equal(continuous.bins.length, 4);
  assert.equal(continuous.jsd, 1);
  assert.throws(() => compareDistributions([], [1]), InputError);
  assert.throws(() => compareDistributions([NaN], [1]), InputError);
});

test("kmerSpectrum and realismComparison", () => {
  assert.deepEqual(kmerNames(1), ["A", "C", "G", "U"]);
  assert.equal(kmerNames(3).length, 64);
  const s = kmerSpectrum(["AAAA", "CCN"], 2);
  assert.equal(s[0], 3 / 4, "AA");
  assert.equal(s[5], 1 / 4, "CC (CN skipped)");
  assert.throws(() => kmerSpectrum(["A"], 0), InputError);
  const random = mulberry32(5);
  const seqs = Array.from({ length: 50 }, () => randomSequence(random, 60, "ACGU"));
  const folded = seqs.map((sequence) => ({ sequence, structure: ".".repeat(60), mfe: 0 }));
  const same = realismComparison(folded, folded);
  assert.equal(same.kmers.jsd, 0);
  assert.ok(same.properties.every((p) => p.jsd === 0 && p.ks === 0));
  assert.deepEqual(same.properties.map((p) => p.property), ["length", "gc", "mfePerNt", "loop", "stem", "longestRun"]);
  const other = realismComparison(folded, hairpins(50, 3, { gcRich: true }));
  assert.ok(other.kmers.jsd > 0.3, `3-mer JSD ${other.kmers.jsd}`);
  assert.equal(other.n.generated, 50);
});
