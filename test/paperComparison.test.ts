import { test } from "node:test";
import assert from "node:assert/strict";
import type { BindingScore, ExperimentResultsCommon } from "../lib/src/binding/experiment";
import { COMPARISON_RULE, compareWithPublished, comparisonSentences } from "../lib/src/binding/paperComparison";

const score = (model: string, config: string, seed: number | null, testSet: string, averagePrecision: number, rocAuc: number): BindingScore =>
  ({ model, config, seed, testSet, n: 100, positives: 10, averagePrecision, rocAuc });

function results(scores: BindingScore[]): ExperimentResultsCommon {
  return { testSets: [{ name: "chr1 scan", n: 100, positives: 10 }], trained: [], scores, summary: [], seconds: 0, date: "" };
}

test("compareWithPublished: each configuration against its published counterpart on the same rows, verdict only when every seed agrees", () => {
  const rows = compareWithPublished(results([
    score("standard_1k_ratio10", "published", null, "chr1 scan", 0.40, 0.94),
    score("iterative", "published", null, "chr1 scan", 0.70, 0.98),
    score("seed-match", "baseline", null, "chr1 scan", 0.45, 0.97),
    ...[0.42, 0.43, 0.41].map((ap, i) => score(`standard_1k_ratio10 (seed ${i + 1})`, "standard_1k_ratio10", i + 1, "chr1 scan", ap, 0.95 - i * 0.01)),
    ...[0.69, 0.72].map((ap, i) => score(`iterative_faithful (seed ${i + 1})`, "iterative_faithful", i + 1, "chr1 scan", ap, 0.97)),
    score("iterative_improved (seed 1)", "iterative_improved", 1, "chr1 scan", 0.75, 0.99),
    score("other (seed 1)", "other", 1, "chr1 scan", 0.5, 0.9), // no published counterpart: left out
  ]));
  assert.deepEqual(rows.map((r) => [r.config, r.published, r.seeds, r.averagePrecision.verdict, r.rocAuc.verdict]), [
    ["standard_1k_ratio10", "standard_1k_ratio10", 3, "higher", "mixed"],
    ["iterative_faithful", "iterative", 2, "mixed", "lower"],
    ["iterative_improved", "iterative", 1, "one seed", "one seed"],
  ]);
  const first = rows[0]!;
  assert.ok(Math.abs(first.averagePrecision.difference.mean - 0.02) < 1e-12);
  assert.ok(Math.abs(first.averagePrecision.difference.sd! - 0.01) < 1e-12);
  assert.equal(first.averagePrecision.published, 0.40);
  const sentences = comparisonSentences(rows);
  assert.equal(sentences[0], "chr1 scan: standard_1k_ratio10 (3 seeds) AP 0.4200 ± 0.0100 is higher than the published standard_1k_ratio10's 0.4000 (difference +0.0200 ± 0.0100); " +
    "ROC-AUC 0.9400 ± 0.0100 lies on both sides of the published standard_1k_ratio10's 0.9400 (difference +0.0000 ± 0.0100, the seeds disagree).");
  assert.match(sentences[2]!, /^chr1 scan: iterative_improved \(1 seed\) AP 0\.7500 against the published iterative's 0\.7000 \(difference \+0\.0500, one seed: no verdict\)/);
  assert.match(COMPARISON_RULE, /every seed/);
});
