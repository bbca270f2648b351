/**
 * The paper's setting compared with the paper's own models: each of our configurations against
 * the published model of the same recipe, on the same chr1 rows, with a stated rule, so a
 * notebook's sentences come from the numbers (experiment.ts runs the experiment).
 */
import { formatMeanSd, MeanSd, meanSd } from "../metrics";
import type { ExperimentResultsCommon } from "./experiment";
import type { PublishedModelName } from "./paths";

/** The published model trained with the recipe of each of the paper's configurations. */
export const PUBLISHED_COUNTERPART: Readonly<Record<string, PublishedModelName>> = {
  standard_1k_ratio1: "standard_1k_ratio1",
  standard_1k_ratio10: "standard_1k_ratio10",
  standard_100k_ratio1: "standard_100k_ratio1",
  standard_100k_ratio10: "standard_100k_ratio10",
  iterative_faithful: "iterative",
  iterative_improved: "iterative",
};

/**
 * The verdict of one comparison. With two or more seeds: `higher` when every seed's value
 * exceeds the published model's, `lower` when every seed's is below it, `mixed` otherwise. With
 * one seed there is no spread to judge by: `one seed`.
 */
export type ComparisonVerdict = "higher" | "lower" | "mixed" | "one seed";

/** One of our configurations against its published counterpart on one test set. */
export interface PublishedComparison {
  testSet: string;
  config: string;
  published: PublishedModelName;
  seeds: number;
  averagePrecision: { ours: MeanSd; published: number; difference: MeanSd; verdict: ComparisonVerdict };
  rocAuc: { ours: MeanSd; published: number; difference: MeanSd; verdict: ComparisonVerdict };
}

function verdict(differences: readonly number[]): ComparisonVerdict {
  if (differences.length < 2) return "one seed";
  if (differences.every((d) => d > 0)) return "higher";
  if (differences.every((d) => d < 0)) return "lower";
  return "mixed";
}

/**
 * Every configuration of `results` that has a published counterpart (see
 * {@link PUBLISHED_COUNTERPART}), on every test set: our mean ± sd over seeds, the published
 * model's value on the same rows, the per-seed differences (ours − published) as mean ± sd, and
 * the verdict by the rule of {@link ComparisonVerdict}.
 */
export function compareWithPublished(results: ExperimentResultsCommon): PublishedComparison[] {
  const out: PublishedComparison[] = [];
  for (const set of results.testSets) {
    for (const config of [...new Set(results.scores.filter((s) => s.seed !== null).map((s) => s.config))]) {
      const published = PUBLISHED_COUNTERPART[config];
      if (published === undefined) continue;
      const theirs = results.scores.find((s) => s.config === "published" && s.model === published && s.testSet === set.name);
      if (theirs === undefined) continue;
      const ours = results.scores.filter((s) => s.config === config && s.seed !== null && s.testSet === set.name);
      const apDiffs = ours.map((s) => s.averagePrecision - theirs.averagePrecision);
      const rocDiffs = ours.map((s) => s.rocAuc - theirs.rocAuc);
      out.push({
        testSet: set.name, config, published, seeds: ours.length,
        averagePrecision: { ours: meanSd(ours.map((s) => s.averagePrecision)), published: theirs.averagePrecision, difference: meanSd(apDiffs), verdict: verdict(apDiffs) },
        rocAuc: { ours: meanSd(ours.map((s) => s.rocAuc)), published: theirs.rocAuc, difference: meanSd(rocDiffs), verdict: verdict(rocDiffs) },
      });
    }
  }
  return out;
}

/** How a verdict reads between our value and the published model's ("… the published X's 0.70"). */
const PHRASE: Record<ComparisonVerdict, [string, string]> = {
  higher: ["is higher than", ""],
  lower: ["is lower than", ""],
  mixed: ["lies on both sides of", ", the seeds disagree"],
  "one seed": ["against", ", one seed: no verdict"],
};

function signed(x: MeanSd): string {
  const text = formatMeanSd(x, 4);
  return x.mean >= 0 ? `+${text}` : text;
}

/**
 * One sentence per comparison, generated from the numbers: our AP and ROC-AUC (mean ± sd over
 * seeds), the published model's on the same rows, the differences and the verdicts, e.g.
 * "chr1 scan: standard_1k_ratio10 (3 seeds) AP 0.41 ± 0.01 is higher than the published
 * standard_1k_ratio10's 0.40 (difference +0.01 ± 0.01); ROC-AUC … ".
 */
export function comparisonSentences(rows: readonly PublishedComparison[]): string[] {
  return rows.map((r) => {
    const part = (metric: "AP" | "ROC-AUC", m: PublishedComparison["averagePrecision"]) => {
      const [before, after] = PHRASE[m.verdict];
      return `${metric} ${formatMeanSd(m.ours, 4)} ${before} the published ${r.published}'s ${m.published.toFixed(4)} (difference ${signed(m.difference)}${after})`;
    };
    return `${r.testSet}: ${r.config} (${r.seeds} seed${r.seeds === 1 ? "" : "s"}) ${part("AP", r.averagePrecision)}; ${part("ROC-AUC", r.rocAuc)}.`;
  });
}

/** The rule the verdicts follow, as printed under them. */
export const COMPARISON_RULE =
  "Rule: 'higher' or 'lower' only when every seed's value lies above (below) the published model's on the same rows; differences are mean ± sd over seeds (the published model is one fixed model).";
