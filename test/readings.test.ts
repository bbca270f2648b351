/**
 * The generated readings of the binding notebooks (lib/src/binding/readings.ts), on synthetic
 * result objects: every rule, including verdicts that flip when the numbers move.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BindingConfig, BindingExperimentResults, BindingScore, BindingSummaryRow, TrainedModel } from "../lib/src/binding/experiment";
import {
  baselineBullet, claimBullet, claimDifferences, claimRows, claimVerdict, clashBullet, controlsBullet, deviationsBullet, differenceText, direction,
  gainShare, preprocessReading, publishedBullet, publishedModelsReading, regimeBullet, ScoredRow, SetStatistics, signed,
} from "../lib/src/binding/readings";
import type { AveragePrecisionBootstrap, BootstrapDifference } from "../lib/src/metrics";
import { mulberry32 } from "../lib/src/random";

/** A bootstrap whose resamples scatter each model uniformly within ±spread of its observed AP (independently). */
function syntheticBoot(testSet: string, observed: Record<string, number>, spread = 0.002, seed = 1): AveragePrecisionBootstrap & { testSet: string } {
  const random = mulberry32(seed);
  const samples: Record<string, Float64Array> = {};
  for (const [m, ap] of Object.entries(observed)) samples[m] = Float64Array.from({ length: 1000 }, () => ap + spread * (2 * random() - 1));
  return { testSet, resamples: 1000, seed, resampleScoreSets: true, n: 1000, positives: 200, observed, samples };
}

const diff = (a: string, b: string, difference: number, lo: number, hi: number): BootstrapDifference => ({ a, b, difference, lo, hi });
const meanSd = (mean: number, sd: number | null = 0.001) => ({ mean, sd });
const labels = { best: "iterative_improved + CLASH", standard_itpos_ratio10: "standard, iterative_improved's positives" };

test("numbers: signs with a true minus, differences with their interval, direction of an interval", () => {
  assert.equal(signed(0.00594), "+0.0059");
  assert.equal(signed(-0.0109), "−0.0109");
  assert.equal(signed(-0.00001), "±0.0000");
  assert.equal(differenceText(diff("a", "b", -0.0109, -0.015, -0.007)), "−0.0109 [95% CI −0.0150, −0.0070]");
  assert.equal(direction({ lo: 0.001, hi: 0.01 }), "higher");
  assert.equal(direction({ lo: -0.01, hi: -0.001 }), "lower");
  assert.equal(direction({ lo: -0.01, hi: 0 }), "unresolved");
});

test("claim verdict: each branch of the rule, and the verdict flips when the iterative model moves up to the 5k model", () => {
  const gain = diff("5k", "1k", 0.017, 0.012, 0.022);
  const vsOneK = diff("it", "1k", 0.006, 0.002, 0.01);
  const below = claimVerdict({ gain, vsOneK, vsFiveK: diff("it", "5k", -0.011, -0.015, -0.007) });
  assert.equal(below.verdict, "not supported");
  assert.equal(below.reason, "its AP is below `5k`'s: −0.0110 [95% CI −0.0150, −0.0070]");
  const level = claimVerdict({ gain, vsOneK: diff("it", "1k", 0.016, 0.011, 0.021), vsFiveK: diff("it", "5k", -0.001, -0.004, 0.003) });
  assert.equal(level.verdict, "supported");
  assert.match(level.reason, /^its AP is not below `5k`'s \(−0\.0010 \[95% CI −0\.0040, \+0\.0030\]\) and above `1k`'s \(\+0\.0160/);
  const noisy = claimVerdict({ gain, vsOneK: diff("it", "1k", 0.003, -0.02, 0.025), vsFiveK: diff("it", "5k", -0.014, -0.037, 0.008) });
  assert.equal(noisy.verdict, "inconclusive");
  assert.match(noisy.reason, /not resolved from `5k`'s .* but not above `1k`'s either/);
  const noGain = claimVerdict({ gain: diff("5k", "1k", 0.002, -0.001, 0.005), vsOneK, vsFiveK: diff("it", "5k", -0.011, -0.015, -0.007) }, { "5k": "five" });
  assert.equal(noGain.verdict, "inconclusive", "no resolved gain: nothing to match, whatever the iterative model does");
  assert.match(noGain.reason, /^5× the positives is not resolved better than 1× \(`five` − `1k` = \+0\.0020/);
});

test("claim rows and bullet from a bootstrap: not supported, then supported when the iterative AP moves to the 5k model's", () => {
  const sets = (itScan: number, itNeg: number) => [
    syntheticBoot("held-out scan", { oneK: 0.9206, fiveK: 0.9374, iterative_improved: itScan, faithful: 0.9233, itpos: 0.9301, itsteps: 0.9210 }),
    syntheticBoot("held-out miRNA-neg", { oneK: 0.9512, fiveK: 0.9614, iterative_improved: itNeg, faithful: 0.9525, itpos: 0.9560, itsteps: 0.9515 }, 0.002, 2),
  ];
  const configs = { iterative: ["faithful", "iterative_improved"], oneK: "oneK", fiveK: "fiveK", controls: { of: "iterative_improved", samePositives: "itpos", sameSteps: "itsteps" } };
  const rows = claimRows(sets(0.9265, 0.9555), configs);
  assert.equal(rows.length, 4);
  const improvedScan = rows.find((r) => r.iterative === "iterative_improved" && r.testSet === "held-out scan")!;
  assert.equal(improvedScan.verdict, "not supported");
  assert.ok(Math.abs(improvedScan.vsFiveK.difference - (0.9265 - 0.9374)) < 1e-12);
  assert.ok(improvedScan.share && Math.abs(improvedScan.share.estimate - (0.9265 - 0.9206) / (0.9374 - 0.9206)) < 1e-12);
  assert.ok(improvedScan.vsSamePositives && improvedScan.vsSameSteps, "controls of the configuration they follow");
  assert.equal(rows.find((r) => r.iterative === "faithful")!.vsSamePositives, undefined);
  const bullet = claimBullet(rows);
  assert.match(bullet, /^\* \*\*The 5× claim\*\*/);
  assert.match(bullet, /\*\*Not supported\*\* for `iterative_improved`: on the held-out scan rows its AP is below `fiveK`'s: −0\.0109 \[95% CI/);
  assert.match(bullet, /Rule: \*supported\* when the 95% CI/);

  const flipped = claimRows(sets(0.9372, 0.9612), configs);
  assert.match(claimBullet(flipped), /\*\*Supported\*\* for `iterative_improved`: on the held-out scan rows its AP is not below `fiveK`'s/);
  // The test sets disagree: scan supported, miRNA-neg not: inconclusive overall, each set's verdict shown.
  const mixed = claimBullet(claimRows(sets(0.9372, 0.9555), configs));
  assert.match(mixed, /\*\*Inconclusive\*\* for `iterative_improved` \(the test sets disagree\): on the held-out scan rows \*supported\*: .*; on the held-out miRNA-neg rows \*not supported\*: /);

  const table = claimDifferences(rows, { fiveK: "standard 5k" });
  assert.deepEqual(table.slice(0, 2).map((r) => r.comparison), ["standard 5k − oneK", "standard 5k − oneK"], "the gain first, once per test set");
  assert.equal(new Set(table.map((r) => `${r.comparison}|${r["test set"]}`)).size, table.length, "no duplicates");
  assert.ok(table.some((r) => r.comparison === "iterative_improved − itpos"));
});

test("gain share: null when the 1k→5k gain is not resolved; the regime bullet says so", () => {
  const boot = syntheticBoot("held-out scan", { oneK: 0.92, fiveK: 0.9205, it: 0.921 }, 0.003);
  assert.equal(gainShare(boot, "it", "oneK", "fiveK"), null);
  const rows = claimRows([boot], { iterative: ["it"], oneK: "oneK", fiveK: "fiveK" });
  assert.equal(rows[0]!.verdict, "inconclusive");
  const summary = [{ config: "fiveK", testSet: "held-out scan", seeds: 3, rocAuc: meanSd(0.98), averagePrecision: meanSd(0.9205), positivesUsed: meanSd(5000, 0), steps: meanSd(16330, 0) }];
  const text = regimeBullet(rows, summary);
  assert.match(text, /The gain from 5× the positives, `fiveK` − `oneK`, is small \(under 0\.02 AP\) and near the ceiling \(the 5× model at AP ≥ 0\.9\): \+0\.0005 \[95% CI .*\] on the held-out scan rows \(`fiveK` at AP 0\.9205\)/);
  assert.match(text, /`it`: undefined on the held-out scan rows \(the gain is not resolved\)\. With intervals this wide .* the share is fragile/);
  const resolved = claimRows([syntheticBoot("held-out scan", { oneK: 0.92, fiveK: 0.937, it: 0.926 }, 0.002)], { iterative: ["it"], oneK: "oneK", fiveK: "fiveK" });
  assert.match(regimeBullet(resolved, summary), /`it` 0\.35 \[95% CI 0\.\d\d, 0\.\d\d\] on the held-out scan rows/);
  const large = claimRows([syntheticBoot("held-out scan", { oneK: 0.6, fiveK: 0.7, it: 0.65 }, 0.002)], { iterative: ["it"], oneK: "oneK", fiveK: "fiveK" });
  const largeText = regimeBullet(large, [{ ...summary[0]!, averagePrecision: meanSd(0.7) }]);
  assert.match(largeText, /, is \+0\.1000 \[95% CI/, "a large gain far from the ceiling is not called small");
  assert.doesNotMatch(largeText, /small|ceiling|fragile/);
});

test("controls bullet: the phrase follows the interval of each control difference", () => {
  const base = { testSet: "held-out scan", iterative: "iterative_improved", share: null, verdict: "not supported" as const, reason: "", vsOneK: diff("iterative_improved", "oneK", 0.006, 0.002, 0.01), vsFiveK: diff("iterative_improved", "fiveK", -0.01, -0.014, -0.006), gain: diff("fiveK", "oneK", 0.016, 0.012, 0.02) };
  const summary: BindingSummaryRow[] = [
    { config: "iterative_improved", testSet: "held-out scan", seeds: 3, rocAuc: meanSd(0.98), averagePrecision: meanSd(0.9265), positivesUsed: meanSd(16000, 0), steps: meanSd(5323, 0) },
    { config: "standard_itpos_ratio10", testSet: "held-out scan", seeds: 3, rocAuc: meanSd(0.98), averagePrecision: meanSd(0.93), positivesUsed: meanSd(16000, 0), steps: meanSd(52250, 0) },
    { config: "itsteps", testSet: "held-out scan", seeds: 3, rocAuc: meanSd(0.98), averagePrecision: meanSd(0.92), positivesUsed: meanSd(1000, 0), steps: meanSd(5232, 0) },
  ];
  const text = controlsBullet([{ ...base, vsSamePositives: diff("iterative_improved", "standard_itpos_ratio10", -0.004, -0.007, -0.001), vsSameSteps: diff("iterative_improved", "itsteps", 0.005, 0.001, 0.009) }], summary, labels)!;
  assert.match(text, /Standard training on the same 16,000 positives \(`standard, iterative_improved's positives`\): held-out scan −0\.0040 \[95% CI −0\.0070, −0\.0010\], standard training on the same positives does better: the positives, not the schedule, account for the iterative model's result\./);
  assert.match(text, /Standard training with as many gradient steps \(`itsteps`: 5,232 steps against 5,323\): held-out scan \+0\.0050 .*, the iterative schedule does better than standard training with as many gradient steps\./);
  const unresolved = controlsBullet([{ ...base, vsSamePositives: diff("iterative_improved", "standard_itpos_ratio10", 0.001, -0.002, 0.004) }], summary, labels)!;
  assert.match(unresolved, /no difference resolved: standard training on the same positives does as well/);
  assert.equal(controlsBullet([base], summary), null);
});

/** A results object with the fields the readings use. */
function syntheticResults(): Pick<BindingExperimentResults, "summary" | "scores" | "trained"> {
  const sets = ["held-out scan", "CLASH 1:1", "CLASH 1:10"];
  const ours: Record<string, number[]> = { // AP, ROC-AUC per set
    standard_1k_ratio1: [0.8048, 0.9579, 0.676, 0.6576, 0.2155, 0.66],
    standard_1k_ratio10: [0.9206, 0.9823, 0.6478, 0.61, 0.209, 0.62],
    iterative_improved: [0.9265, 0.9839, 0.6923, 0.66, 0.2462, 0.67],
    best: [0.9066, 0.9788, 0.8898, 0.89, 0.5527, 0.895],
  };
  const summary: BindingSummaryRow[] = Object.entries(ours).flatMap(([config, v]) => sets.map((testSet, k) => ({
    config, testSet, seeds: 3, averagePrecision: meanSd(v[2 * k]!, 0.005), rocAuc: meanSd(v[2 * k + 1]!), positivesUsed: meanSd(config === "iterative_improved" ? 16000 : 1000, 0), steps: meanSd(3270, 0),
  })));
  const score = (model: string, config: string, testSet: string, averagePrecision: number, rocAuc: number): BindingScore => ({ model, config, seed: null, testSet, n: 100, positives: 20, averagePrecision, rocAuc });
  const scores = [
    score("standard_100k_ratio10", "published", "held-out scan", 0.9091, 0.9844), score("iterative", "published", "held-out scan", 0.8971, 0.9822),
    score("seed-match", "baseline", "held-out scan", 0.8787, 0.9737),
    score("standard_100k_ratio10", "published", "CLASH 1:1", 0.6936, 0.68), score("iterative", "published", "CLASH 1:1", 0.7025, 0.68), score("seed-match", "baseline", "CLASH 1:1", 0.563, 0.56),
    score("standard_100k_ratio10", "published", "CLASH 1:10", 0.2298, 0.68), score("iterative", "published", "CLASH 1:10", 0.2468, 0.68), score("seed-match", "baseline", "CLASH 1:10", 0.1748, 0.56),
  ];
  const run = (config: string, seed: number, ratios: number[]): TrainedModel => ({
    config, seed, dir: "", command: [], seconds: 60, steps: 100,
    log: { history: ratios.map((ratio, i) => ({ epoch: i + 1, seconds: 1, ratio })), seconds: 60, backend: "test" },
  });
  return { summary, scores, trained: [run("iterative_faithful", 1, [1, 2, 8]), run("iterative_faithful", 2, [1, 5, 14]), run("iterative_faithful", 3, [1, 9, 15])] };
}

test("baseline and published bullets: the rule of each comparison, AP and ROC-AUC stated separately", () => {
  const results = syntheticResults();
  const boot = syntheticBoot("held-out scan", {
    standard_1k_ratio1: 0.8048, standard_1k_ratio10: 0.9206, iterative_improved: 0.9265, best: 0.9066,
    "seed-match baseline": 0.8787, "published standard_100k_ratio10": 0.9091, "published iterative": 0.8971,
  });
  const expected = ["standard_1k_ratio10", "iterative_improved", "best"];
  const text = baselineBullet(boot, ["standard_1k_ratio1", ...expected], expected, "seed-match baseline", labels);
  assert.match(text, /^\* \*\*Against the seed-match baseline\*\* \(held-out scan AP 0\.8787\): every configuration trained at ratio 10 or iteratively beats it \(\+0\.0279 to \+0\.0478; the lowest interval bound, `iterative_improved \+ CLASH`'s, is \+0\.02\d\d\); `standard_1k_ratio1` is below it \(−0\.0739/);
  const weak = syntheticBoot("held-out scan", { ...boot.observed, best: 0.879 });
  assert.match(baselineBullet(weak, expected, expected, "seed-match baseline"), /2 of 3 configurations trained at ratio 10 or iteratively beat it \(\+0\.0003 to \+0\.0478\); not resolved from it: `best` \+0\.0003 \[95% CI/);
  const under = syntheticBoot("held-out scan", { ...boot.observed, best: 0.85 });
  assert.match(baselineBullet(under, expected, expected, "seed-match baseline"), /; below it: `best` −0\.0287/);

  // The mixed case: ours above the published 100k models in AP, below in ROC-AUC.
  const published = publishedBullet(results, boot, ["standard_1k_ratio10", "iterative_improved"], labels);
  assert.match(published, /In AP, 2 of 2 of our configurations trained at ratio 10 or iteratively are above the best published model, `standard_100k_ratio10` \(0\.9091\): `standard_1k_ratio10` \+0\.0115 .* and `iterative_improved` \+0\.0174/);
  assert.match(published, /in ROC-AUC, 0 of 2 are \(seed means 0\.9823–0\.9839 against `standard_100k_ratio10`'s 0\.9844; no interval\)/);
  assert.match(published, /same-chromosome advantage/);
});

test("CLASH and deviations bullets", () => {
  const results = syntheticResults();
  const heldOut = syntheticBoot("held-out scan", { standard_1k_ratio10: 0.9206, iterative_improved: 0.9265, best: 0.9066 }, 0.001);
  const text = clashBullet(results, { withClash: "best", chr1Only: ["standard_1k_ratio10", "iterative_improved"], clashSets: ["CLASH 1:1", "CLASH 1:10"], mirbindAp: { "CLASH 1:1": 0.969, "CLASH 1:10": 0.841 }, heldOut }, labels);
  assert.match(text, /reach AP 0\.6478–0\.7025 \(CLASH 1:1\) and 0\.2090–0\.2468 \(CLASH 1:10\); the seed-match baseline 0\.5630 \(CLASH 1:1\) and 0\.1748 \(CLASH 1:10\)/);
  assert.match(text, /`iterative_improved \+ CLASH`, which adds the CLASH training positives, reaches AP 0\.8898 ± 0\.0050 on CLASH 1:1 and 0\.5527 ± 0\.0050 on CLASH 1:10, below miRBind's published 0\.969 and 0\.841/);
  assert.match(text, /its AP, 0\.9066 ± 0\.0050, is below every chr1-only configuration trained at ratio 10 or iteratively \(differences −0\.0199 to −0\.0140, every interval below 0\)/);
  const configs: BindingConfig[] = [{ name: "iterative_faithful", mode: "iterative", variant: "faithful", positivesPerIteration: 1000, minibatches: 500 }];
  const dev = deviationsBullet(results, configs, { setting: "training and test rows both come from chr1 (site-disjoint)", faithful: "iterative_faithful" });
  assert.match(dev, /our models train on 1,000–16,000 positives/);
  assert.match(dev, /validates on the last of its 500 minibatches, about 2 positives \(1,000 \/ 500\), a coarse signal for raising the ratio; the ratio it reached by its last iteration: 8 \(seed 1\), 14 \(seed 2\) and 15 \(seed 3\)\.$/);
});

test("published models reading: ranking against the reference, the baseline's margins, the easier set, parity", () => {
  const row = (model: string, testSet: string, rocAuc: number, averagePrecision: number): ScoredRow => ({ model, testSet, rocAuc, averagePrecision });
  const rows = [
    row("iterative", "scan", 0.9808, 0.9463), row("iterative", "miRNA-neg", 0.989, 0.9736),
    row("standard_100k_ratio10", "scan", 0.9843, 0.9548), row("standard_100k_ratio10", "miRNA-neg", 0.9905, 0.9746),
    row("standard_100k_ratio1", "scan", 0.9763, 0.9253), row("standard_100k_ratio1", "miRNA-neg", 0.9883, 0.9681),
    row("standard_1k_ratio10", "scan", 0.9419, 0.8497), row("standard_1k_ratio10", "miRNA-neg", 0.9681, 0.9248),
    row("seed-match", "scan", 0.973, 0.9332), row("seed-match", "miRNA-neg", 0.9795, 0.957),
  ];
  const referenceOrder = ["standard_100k_ratio10", "iterative", "standard_100k_ratio1", "standard_1k_ratio10"];
  const parity = { source: "An independent implementation", sameRows: true, tolerance: 0.0005, values: [{ model: "iterative", testSet: "scan", metric: "rocAuc" as const, value: 0.98077 }] };
  const text = publishedModelsReading(rows, { referenceOrder, baseline: "seed-match", parity });
  assert.match(text, /By ROC-AUC the published models rank `standard_100k_ratio10` > `iterative` > `standard_100k_ratio1` > `standard_1k_ratio10` on both test sets, the order of the reference column; `standard_1k_ratio10` falls below the seed-match baseline on both set/);
  assert.match(text, /scan: `standard_100k_ratio10` \+0\.0113 ROC-AUC, \+0\.0216 AP; `iterative` \+0\.0078 ROC-AUC, \+0\.0131 AP/);
  assert.match(text, /Above the baseline in ROC-AUC but not in AP: `standard_100k_ratio1` on scan \(AP 0\.9253 against 0\.9332\)/);
  assert.match(text, /Every scorer \(5 of 5\) reaches a higher ROC-AUC on the miRNA-neg set than on the scan set/);
  assert.match(text, /Ours agree to ±0\.0005: the largest difference is 0\.00003/);
  const swapped = rows.map((r) => (r.model === "iterative" && r.testSet === "scan" ? { ...r, rocAuc: 0.99 } : r));
  assert.match(publishedModelsReading(swapped, { referenceOrder, baseline: "seed-match", parity }), /the ranking differs from the reference order .* on scan: scan iterative > standard_100k_ratio10/);
  assert.match(publishedModelsReading(swapped, { referenceOrder, baseline: "seed-match", parity }), /Ours do not agree to ±0\.0005: the largest difference is 0\.00923/);
  assert.match(publishedModelsReading(rows, { referenceOrder, baseline: "seed-match", parity: { ...parity, sameRows: false } }), /scored the full profile's rows; this run scored others, so it is not compared here/);
});

test("preprocess reading: seed-match shares counted from the classes, the fixtures said to be fixtures, composition rules", () => {
  const stats = (name: string, kind: "scan" | "miRNA-neg", positives: number, negatives: number, posNone: number, negNone: number, gap = 0.005): SetStatistics => ({
    name, kind, positives, negatives,
    classes: [
      { label: "positive", class: "6mer", count: positives - posNone, share: (positives - posNone) / positives }, { label: "positive", class: "none", count: posNone, share: posNone / positives },
      { label: "negative", class: "6mer", count: negatives - negNone, share: (negatives - negNone) / negatives }, { label: "negative", class: "none", count: negNone, share: negNone / negatives },
    ],
    composition: [["A", 0.3, 0.3 + gap], ["C", 0.2, 0.2 - gap], ["G", 0.2, 0.2], ["T", 0.3, 0.3]].flatMap(([n, p, q]) => [
      { label: "positive" as const, nucleotide: n as string, share: p as number }, { label: "negative" as const, nucleotide: n as string, share: q as number },
    ]),
  });
  const published = [stats("published scan set", "scan", 21385, 427700, 642, 417008), stats("published miRNA-neg set", "miRNA-neg", 21385, 427700, 642, 421712)];
  const ours = [stats("our scan set", "scan", 18, 360, 2, 350), stats("our miRNA-neg set", "miRNA-neg", 18, 360, 2, 355)];
  const text = preprocessReading(ours, published, "fixtures");
  assert.match(text, /in the published scan set: 20,743 of 21,385 positives \(97\.0%\), 2\.5% of 427,700 negatives; published miRNA-neg set: /);
  assert.match(text, /The scan negatives \(flanking windows of the same transcripts\) carry more seed matches than the miRNA negatives \(2\.5% against 1\.4%\)/);
  assert.match(text, /our scan set: 16 of 18 positives \(88\.9%\)/);
  assert.match(text, /These are the generated fixtures/);
  assert.doesNotMatch(text, /real ENCORI/);
  assert.match(preprocessReading(ours, published, "real"), /from the pipeline on the real ENCORI inputs/);
  assert.match(text, /A\+U makes up 60\.0% of the positives' and 60\.5% of the negatives' nucleotides in the published scan set; .*: the sites are A\/U-rich.*0\.5 percentage points in the published scan set \(A\).*: under 2 percentage points, so positives and negatives differ little/);
  const wide = preprocessReading(ours, [stats("published scan set", "scan", 100, 1000, 3, 975, 0.05)], "fixtures");
  assert.doesNotMatch(wide, /differ little/);
  assert.match(preprocessReading(ours, [], "fixtures"), /The published sets\*\* are not in the data folder/);
});
