/**
 * Evaluation of generated hairpins (lib/src/cvae/evaluate.ts): the refold check with the
 * real RNAfold (an MFE drawing passes, a changed drawing fails), the sanity rules by hand and
 * quantiles (lib/src/cvae/sanity.ts), the classifier fraction, reconstruction metrics of the toy
 * CVAE, one-hot images.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { buildDeepMirClassifier } from "../lib/src/hairpin/classifier";
import {
  classifierCalls, columnAgreement, encodeImageMeans, encodeMeans, evaluateGeneratedHairpins, reconstructionMetrics, refoldCheck, rgbToOneHot, sequenceComposition,
} from "../lib/src/cvae/evaluate";
import { countHairpinLoops, hairpinSanity, sanityRulesFrom } from "../lib/src/cvae/sanity";
import { quantile } from "../lib/src/metrics";
import { foldSequences } from "../lib/src/hairpin/rnafold";
import { hairpinColumns, renderHairpinColumns } from "../lib/src/hairpin/image";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { buildCvae, disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { constructedSet } from "./vaeHelpers";

before(async () => {
  await initBackend({ quiet: true });
});

/** Perfect G–C / A–U hairpins: RNAfold folds them as drawn. */
const HAIRPINS = [
  "GGGCGCAUCGAUCGGCAUCGCGAAAGCGAUGCCGAUCGAUGCGCCC",
  "CUAGCUAGGCUAGCUAGCAUGCUGAAAAGCAUGCUAGCUAGCCUAGCUAG",
];

test("refoldCheck: RNAfold's own drawing passes exactly; a drawing RNAfold does not fold that way fails", async () => {
  const folds = await foldSequences(HAIRPINS);
  const drawn = folds.map((f) => hairpinColumns(f.sequence, f.structure));
  const ok = await refoldCheck(HAIRPINS, drawn);
  assert.deepEqual(ok.map((r) => r.exact), [true, true]);
  assert.deepEqual(ok.map((r) => r.columnAgreement), [1, 1]);
  assert.equal(ok[0]!.fold, folds[0]!.structure);
  // The same sequence drawn with its outermost 6 pairs opened: not RNAfold's structure.
  const open = folds[0]!.structure.replace(/^\({6}/, "......").replace(/\){6}$/, "......");
  const wrong = await refoldCheck([HAIRPINS[0]!], [hairpinColumns(HAIRPINS[0]!, open)]);
  assert.equal(wrong[0]!.exact, false);
  assert.ok(wrong[0]!.columnAgreement > 0.5 && wrong[0]!.columnAgreement < 1);
  // An empty sequence is not folded.
  const empty = await refoldCheck([""], [[]]);
  assert.deepEqual(empty[0], { fold: "", mfe: 0, exact: false, columnAgreement: 0 });
  await assert.rejects(refoldCheck(["ACGU"], []), InputError);
});

test("columnAgreement counts equal columns over the longer drawing", () => {
  const a = hairpinColumns("GGGGAAACCCC", "((((...))))");
  assert.equal(columnAgreement(a, a), 1);
  assert.equal(columnAgreement(a, a.slice(0, 4)), 4 / a.length);
  assert.equal(columnAgreement([], []), 1);
});

test("hairpinSanity: one loop, ≥ 18 bp, loop 3–20 nt, MFE per nt in range — rule by rule", () => {
  const rules = { minStemPairs: 18, loopRange: [3, 20] as [number, number], mfePerNtRange: [-0.9, -0.2] as [number, number] };
  const stem = "(".repeat(20) + ".".repeat(5) + ")".repeat(20);
  const ok = hairpinSanity(stem, -0.5 * stem.length, rules);
  assert.deepEqual([ok.hairpinLoops, ok.stemPairs, ok.loopSize, ok.pass], [1, 20, 5, true]);
  assert.equal(hairpinSanity(stem, -0.1 * stem.length, rules).mfeOk, false);
  const short = "(".repeat(17) + "....." + ")".repeat(17);
  assert.deepEqual([hairpinSanity(short, -20, rules).stemOk, hairpinSanity(short, -20, rules).pass], [false, false]);
  const two = "((((((((((...))))))))))((((((((((....))))))))))";
  assert.equal(countHairpinLoops(two), 2);
  assert.equal(hairpinSanity(two, -20, rules).oneLoop, false);
  const bigLoop = "(".repeat(20) + ".".repeat(21) + ")".repeat(20);
  assert.equal(hairpinSanity(bigLoop, -30, rules).loopOk, false);
  assert.equal(hairpinSanity(".".repeat(10), 0, rules).loopSize, 0);
});

test("quantile interpolates as NumPy; sanityRulesFrom takes the 1st–99th percentile of real MFE/nt", async () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([5], 0.99), 5);
  assert.ok(Math.abs(quantile([0, 10], 0.01) - 0.1) < 1e-12);
  assert.throws(() => quantile([], 0.5), InputError);
  const { rules, mfePerNt } = await sanityRulesFrom(HAIRPINS);
  assert.equal(mfePerNt.length, 2);
  assert.ok(rules.mfePerNtRange[0] < rules.mfePerNtRange[1] && rules.mfePerNtRange[1] < 0);
});

test("evaluateGeneratedHairpins: summary fractions, classifier calls, novelty against training sequences", async () => {
  const folds = await foldSequences(HAIRPINS);
  const columns = folds.map((f) => hairpinColumns(f.sequence, f.structure));
  const images = new Uint8Array(2 * 7500);
  columns.forEach((c, i) => images.set(renderHairpinColumns(c).data, i * 7500));
  const classifier = buildDeepMirClassifier({ modules: 1, filters: [2], denseUnits: 2, seed: 3 });
  const rules = { minStemPairs: 18, loopRange: [3, 20] as [number, number], mfePerNtRange: [-2, 0] as [number, number] };
  const e = await evaluateGeneratedHairpins({ sequences: HAIRPINS, columns, images }, { rules, classifier, trainingSequences: [HAIRPINS[0]!, "ACGU"] });
  assert.equal(e.summary.refoldExact, 1);
  assert.equal(e.summary.sanityPass, 1);
  assert.equal(e.summary.copies, 0.5);
  assert.equal(e.novelty![0]!.distance, 0);
  assert.equal(e.classifierProbabilities!.length, 2);
  const calls = classifierCalls(classifier, images);
  assert.equal(e.summary.classifierPreMirna, calls.fraction);
  assert.equal(e.summary.distinct, 1);
  classifier.dispose();
});

test("reconstructionMetrics and posterior means on the toy CVAE: fractions in [0, 1], shapes, no leaked tensors", () => {
  const data = vaeRowsFromImages(constructedSet("toy", 6, 2)).rows;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const before = tf.memory().numTensors;
  const m = reconstructionMetrics(cvae, data);
  for (const v of [m.colourAccuracy, m.barAccuracy, m.columnAccuracy, m.exactImages, m.sameLength]) assert.ok(v >= 0 && v <= 1);
  assert.equal(m.perImageColourAccuracy.length, 6);
  const z = encodeMeans(cvae, data.tokens, data.n);
  assert.equal(z.length, 6 * 6);
  assert.deepEqual(encodeImageMeans(cvae, constructedSet("toy", 6, 2).images), z, "RGB images and tokens give the same input");
  assert.equal(tf.memory().numTensors, before);
  disposeCvae(cvae);
});

test("rgbToOneHot: white is all zero; an unknown colour is named", () => {
  const image = renderHairpinColumns(hairpinColumns("GGGGAAACCCC", "((((...))))")).data;
  const oneHot = rgbToOneHot(image);
  assert.equal(oneHot.length, 2500 * 5);
  assert.deepEqual(Array.from(oneHot.subarray(12 * 100 * 5, 12 * 100 * 5 + 5)), [1, 0, 0, 0, 0], "row 12, column 0: the loop's last A");
  assert.deepEqual(Array.from(oneHot.subarray(0, 5)), [0, 0, 0, 0, 0]);
  const bad = image.slice();
  bad[(3 * 100 + 7) * 3] = 17;
  assert.throws(() => rgbToOneHot(bad), (e: unknown) => e instanceof InputError && /image 0, pixel \(row 3, column 7\)/.test(e.message));
  assert.throws(() => rgbToOneHot(new Uint8Array(5)), InputError);
});

test("sequenceComposition: mean base fractions, longest runs, share with a long run; bad letters named", () => {
  const c = sequenceComposition(["GGGGGGGGAU", "ACGU"], 8);
  assert.equal(c.n, 2);
  assert.ok(Math.abs(c.g - (0.8 + 0.25) / 2) < 1e-12);
  assert.ok(Math.abs(c.a - (0.1 + 0.25) / 2) < 1e-12);
  assert.ok(Math.abs(c.a + c.c + c.g + c.u - 1) < 1e-12);
  assert.equal(c.longestRun, (8 + 1) / 2);
  assert.equal(c.withLongRun, 0.5);
  assert.equal(sequenceComposition(["acgt"]).u, 0.25, "lower case, T read as U");
  assert.throws(() => sequenceComposition(["ACNU"]), /'N' at position 3/);
});
