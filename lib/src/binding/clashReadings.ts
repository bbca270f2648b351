import { AveragePrecisionBootstrap, bootstrapDifference, BootstrapDifference } from "../metrics";
import type { ClashExperimentResults } from "./experiment";
import { differenceText, direction, fmt, label, Labels, listText, meanSdText, signed } from "./readings";

/**
 * The reading of the clash notebook, generated from its results by explicit rules (as
 * readings.ts does for model_train_lock): does the iterative strategy help on CLASH at equal
 * positives, how far are we from miRBind's published AP, and what do models trained on ENCORI
 * chr1 reach there.
 */

type Bootstraps = readonly (AveragePrecisionBootstrap & { testSet: string })[];
type Summary = ClashExperimentResults["summary"];

/** The answer per test set: AP(iterative) − AP(standard on its positives) and how its interval reads. */
export interface ClashQuestionRow extends BootstrapDifference {
  testSet: string;
  answer: "helps" | "hurts" | "no difference resolved";
}

/** The rule of {@link clashQuestion}, in words. */
export const CLASH_QUESTION_RULE =
  "*helps* on a test set when the 95% CI of AP(iterative) − AP(standard training on the same positives) lies above 0, *hurts* when it lies below 0, *no difference resolved* when it contains 0; " +
  "the answer is *yes* when it helps on every CLASH test set, *no* when it hurts on one and helps on none, *not resolved* when no difference is resolved, *mixed* otherwise";

/** {@link CLASH_QUESTION_RULE} per test set, from each test set's paired bootstrap. */
export function clashQuestion(boots: Bootstraps, iterative: string, samePositives: string): ClashQuestionRow[] {
  return boots.map((b) => {
    const d = bootstrapDifference(b, iterative, samePositives);
    const dir = direction(d);
    return { testSet: b.testSet, ...d, answer: dir === "higher" ? "helps" : dir === "lower" ? "hurts" : "no difference resolved" };
  });
}

/** The question's bullet: the answer by {@link CLASH_QUESTION_RULE}, with every difference. */
export function clashQuestionBullet(rows: readonly ClashQuestionRow[], summary: Summary, labels: Labels = {}): string {
  const helps = rows.filter((r) => r.answer === "helps").length;
  const hurts = rows.filter((r) => r.answer === "hurts").length;
  const answer = helps === rows.length ? "**Yes**" : helps === 0 && hurts > 0 ? "**No**" : helps === 0 ? "**Not resolved**" : "**Mixed**";
  const it = rows[0]!.a, same = rows[0]!.b;
  const used = summary.find((s) => s.config === it)?.positivesUsed;
  const positives = used ? `the ${meanSdText(used, 0)} positives (seed mean ± sd) its run trained on` : "the positives its run trained on";
  const parts = rows.map((r) => `${r.testSet}: ${differenceText(r)}, ${r.answer}`);
  return `* **Does the iterative strategy help on CLASH at equal positives?** ${answer}. AP(${label(labels, it)}) − AP(${label(labels, same)}, standard training on ${positives}): ${listText(parts)}. Rule: ${CLASH_QUESTION_RULE}.`;
}

/**
 * Our best configuration per test set (highest seed-mean AP) against miRBind's published AP:
 * "reaches" when the mean is at least the published value, else "below" by the gap.
 */
export function clashBarBullet(summary: Summary, ours: readonly string[], mirbindAp: Record<string, number>, labels: Labels = {}): string {
  const parts = Object.entries(mirbindAp).map(([set, bar]) => {
    const rows = summary.filter((s) => s.testSet === set && ours.includes(s.config));
    const best = rows.reduce((a, r) => (r.averagePrecision.mean > a.averagePrecision.mean ? r : a));
    const gap = best.averagePrecision.mean - bar;
    return `${set}: ${label(labels, best.config)} ${meanSdText(best.averagePrecision)} against ${fmt(bar, 3)} (${gap >= 0 ? "reaches it" : `below by ${fmt(-gap, 3)}`})`;
  });
  return `* **miRBind's bar.** miRBind's published AP on these test sets (its ResNet, trained on this CLASH training set; recomputed from its per-row predictions, which are not row-aligned with the tables, so only the AP is quoted) against our best configuration per set (seed mean ± sd; a configuration reaches the bar when its mean is at least the published value): ${listText(parts)}.`;
}

/**
 * Our best configuration against the strongest other model (highest AP among `others`: the
 * published CEITEC models, the seed baseline and the chr1-trained comparators) per test set,
 * with the paired bootstrap interval of the difference.
 */
export function clashStrongestBullet(boots: Bootstraps, ours: readonly string[], others: readonly string[], labels: Labels = {}): string {
  const parts = boots.map((b) => {
    const best = ours.reduce((a, c) => (b.observed[c]! > b.observed[a]! ? c : a));
    const rival = others.filter((o) => o in b.observed).reduce((a, c) => (b.observed[c]! > b.observed[a]! ? c : a));
    const d = bootstrapDifference(b, best, rival);
    const dir = direction(d);
    return `${b.testSet}: ${label(labels, best)} − ${label(labels, rival)} = ${differenceText(d)} (${dir === "higher" ? "ours higher" : dir === "lower" ? "ours lower" : "not resolved"})`;
  });
  return `* **Against the strongest comparator** on the same rows (the best of ours against the best of the published CEITEC models, the seed-match baseline and the models trained on ENCORI chr1; paired bootstrap, ${boots[0]!.resamples.toLocaleString("en-US")} resamples of the rows${boots[0]!.resampleScoreSets ? " and of each configuration's seeds" : ""}): ${listText(parts)}.`;
}

/**
 * What models trained on ENCORI chr1 (the comparators) reach on CLASH, beside the CLASH-trained
 * ones: seed-mean AP per test set, and the gap from our best CLASH-trained configuration.
 */
export function clashTransferBullet(summary: Summary, comparators: readonly string[], ours: readonly string[], labels: Labels = {}): string | null {
  if (comparators.length === 0) return null;
  const sets = [...new Set(summary.map((s) => s.testSet))];
  const parts = sets.map((set) => {
    const theirs = summary.filter((s) => s.testSet === set && comparators.includes(s.config));
    const best = summary.filter((s) => s.testSet === set && ours.includes(s.config)).reduce((a, r) => (r.averagePrecision.mean > a.averagePrecision.mean ? r : a));
    const top = theirs.reduce((a, r) => (r.averagePrecision.mean > a.averagePrecision.mean ? r : a));
    return `${set}: ${listText(theirs.map((t) => `${label(labels, t.config)} ${meanSdText(t.averagePrecision)}`))}; the best of them ${signed(top.averagePrecision.mean - best.averagePrecision.mean)} from ${label(labels, best.config)}`;
  });
  return `* **Transfer from ENCORI.** Models trained on ENCORI AGO2 chr1 positives (model_train_lock) scored on the CLASH test sets (seed mean ± sd): ${listText(parts)}.`;
}
