import { InputError } from "../errors";
import { AveragePrecisionBootstrap, BootstrapDifference, bootstrapDifference, formatMeanSd, MeanSd, percentileInterval } from "../metrics";
import type { BindingConfig, BindingExperimentResults } from "./experiment";

/**
 * The "Reading the results" of the binding notebooks (preprocess, model_train_lock), generated
 * from the computed results: every sentence that states a number or a comparison is built here
 * by an explicit rule, so the text cannot drift from the outputs. Sentences are Markdown; the
 * notebooks show them with showMarkdown. Each rule is stated in its function's comment and,
 * where a reader needs it, in the text.
 */

// ---------------------------------------------------------------------------------------------
// Numbers and intervals
// ---------------------------------------------------------------------------------------------

/** "0.9265" (fixed digits). */
export function fmt(x: number, digits = 4): string {
  return x.toFixed(digits);
}

/** "+0.0059" / "−0.0109" (sign always, a true minus sign). */
export function signed(x: number, digits = 4): string {
  const s = Math.abs(x).toFixed(digits);
  return Number(s) === 0 ? `±${s}` : x > 0 ? `+${s}` : `−${s}`;
}

/** "97.0%" */
export function percent(share: number, digits = 1): string {
  return `${(100 * share).toFixed(digits)}%`;
}

/** "1,000" */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** "0.9265 ± 0.0025" (or the mean alone for one seed). */
export function meanSdText(x: MeanSd, digits = 4): string {
  return formatMeanSd(x, digits);
}

/** "+0.0059 [95% CI +0.0021, +0.0098]" (brackets: the text often puts it in parentheses). */
export function differenceText(d: Pick<BootstrapDifference, "difference" | "lo" | "hi">, digits = 4): string {
  return `${signed(d.difference, digits)} [95% CI ${signed(d.lo, digits)}, ${signed(d.hi, digits)}]`;
}

/**
 * How the interval of a difference a − b reads: "higher" when it lies above 0 (lo > 0), "lower"
 * when it lies below (hi < 0), "unresolved" when it contains 0.
 */
export function direction(d: Pick<BootstrapDifference, "lo" | "hi">): "higher" | "lower" | "unresolved" {
  return d.lo > 0 ? "higher" : d.hi < 0 ? "lower" : "unresolved";
}

/** Names shown for configurations (e.g. best → "iterative_improved + CLASH"); others as they are. */
export type Labels = Record<string, string>;

export function label(labels: Labels, name: string): string {
  return `\`${labels[name] ?? name}\``;
}

/** "a, b and c" */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// The 5× claim
// ---------------------------------------------------------------------------------------------

/** The verdict on the paper's claim for one iterative configuration and test set. */
export type Verdict = "supported" | "not supported" | "inconclusive";

/** The rule of {@link claimVerdict}, in words (the reading states it). */
export const CLAIM_RULE =
  "*supported* when the 95% CI of AP(iterative) − AP(standard, 5× positives) reaches 0 or lies above it **and** that of AP(iterative) − AP(standard, 1× positives) lies above 0; " +
  "*not supported* when the first interval lies below 0; *inconclusive* otherwise, and whenever the 1× → 5× gain itself is not resolved (its interval contains 0)";

/** What the verdict on the claim rests on: three paired bootstrap differences on one test set. */
export interface ClaimEvidence {
  /** AP(iterative) − AP(standard on 1× positives). */
  vsOneK: BootstrapDifference;
  /** AP(iterative) − AP(standard on 5× positives). */
  vsFiveK: BootstrapDifference;
  /** AP(standard 5×) − AP(standard 1×). */
  gain: BootstrapDifference;
}

/**
 * The verdict on "iterative training performs like standard training on 5× more positives" by
 * {@link CLAIM_RULE}, with the clause that says why.
 */
export function claimVerdict(e: ClaimEvidence, labels: Labels = {}): { verdict: Verdict; reason: string } {
  const five = label(labels, e.vsFiveK.b), one = label(labels, e.vsOneK.b);
  if (direction(e.gain) !== "higher") {
    return { verdict: "inconclusive", reason: `5× the positives is not resolved better than 1× (${five} − ${one} = ${differenceText(e.gain)}), so there is no gain to match` };
  }
  if (direction(e.vsFiveK) === "lower") {
    return { verdict: "not supported", reason: `its AP is below ${five}'s: ${differenceText(e.vsFiveK)}` };
  }
  if (direction(e.vsOneK) === "higher") {
    return { verdict: "supported", reason: `its AP is not below ${five}'s (${differenceText(e.vsFiveK)}) and above ${one}'s (${differenceText(e.vsOneK)})` };
  }
  return { verdict: "inconclusive", reason: `its AP is not resolved from ${five}'s (${differenceText(e.vsFiveK)}), but not above ${one}'s either (${differenceText(e.vsOneK)})` };
}

/** The share of the 1× → 5× gain an iterative model recovers, with its bootstrap interval; null when the gain is not resolved. */
export interface GainShare {
  estimate: number;
  lo: number;
  hi: number;
}

/**
 * (AP(iterative) − AP(1×)) / (AP(5×) − AP(1×)) on the rows and its central 95% interval over the
 * resamples; null when the gain's interval contains 0 (the ratio is then meaningless).
 */
export function gainShare(boot: AveragePrecisionBootstrap, iterative: string, oneK: string, fiveK: string): GainShare | null {
  if (direction(bootstrapDifference(boot, fiveK, oneK)) !== "higher") return null;
  const s = boot.samples;
  const shares = s[iterative]!.map((x, b) => (x - s[oneK]![b]!) / (s[fiveK]![b]! - s[oneK]![b]!));
  const [lo, hi] = percentileInterval(shares);
  const o = boot.observed;
  return { estimate: (o[iterative]! - o[oneK]!) / (o[fiveK]! - o[oneK]!), lo, hi };
}

/** The configurations the claim compares. */
export interface ClaimConfigs {
  /** The iterative configurations, e.g. ["iterative_faithful", "iterative_improved"]. */
  iterative: readonly string[];
  /** Standard training on the iterative loop's starting number of positives, e.g. "standard_1k_ratio10". */
  oneK: string;
  /** Standard training on 5× as many, e.g. "standard_5k_ratio10". */
  fiveK: string;
  /** Controls of one iterative configuration (`of`): standard training on its positives, and with its number of gradient steps. */
  controls?: { of: string; samePositives?: string; sameSteps?: string };
}

/** The claim on one test set for one iterative configuration: the differences, the share of the gain and the verdict. */
export interface ClaimRow extends ClaimEvidence {
  testSet: string;
  iterative: string;
  share: GainShare | null;
  verdict: Verdict;
  reason: string;
  /** AP(iterative) − AP(standard on the same positives), for the configuration the controls follow. */
  vsSamePositives?: BootstrapDifference;
  /** AP(iterative) − AP(standard with as many gradient steps). */
  vsSameSteps?: BootstrapDifference;
}

/** The claim's rows for every iterative configuration on every bootstrapped test set. */
export function claimRows(boots: readonly (AveragePrecisionBootstrap & { testSet: string })[], c: ClaimConfigs, labels: Labels = {}): ClaimRow[] {
  return boots.flatMap((boot) =>
    c.iterative.map((iterative): ClaimRow => {
      const evidence = { vsOneK: bootstrapDifference(boot, iterative, c.oneK), vsFiveK: bootstrapDifference(boot, iterative, c.fiveK), gain: bootstrapDifference(boot, c.fiveK, c.oneK) };
      const controls = c.controls?.of === iterative ? c.controls : undefined;
      return {
        testSet: boot.testSet, iterative, ...evidence, ...claimVerdict(evidence, labels),
        share: gainShare(boot, iterative, c.oneK, c.fiveK),
        ...(controls?.samePositives ? { vsSamePositives: bootstrapDifference(boot, iterative, controls.samePositives) } : {}),
        ...(controls?.sameSteps ? { vsSameSteps: bootstrapDifference(boot, iterative, controls.sameSteps) } : {}),
      };
    }),
  );
}

/** One row per difference of the claim (for its table and figure): comparison, test set, difference and interval. */
export function claimDifferences(rows: readonly ClaimRow[], labels: Labels = {}): { comparison: string; "test set": string; difference: number; lo: number; hi: number }[] {
  const name = (n: string) => labels[n] ?? n;
  const out: { comparison: string; "test set": string; difference: number; lo: number; hi: number }[] = [];
  const add = (d: BootstrapDifference, testSet: string) => {
    const comparison = `${name(d.a)} − ${name(d.b)}`;
    if (!out.some((r) => r.comparison === comparison && r["test set"] === testSet)) out.push({ comparison, "test set": testSet, difference: d.difference, lo: d.lo, hi: d.hi });
  };
  for (const r of rows) add(r.gain, r.testSet);
  for (const r of rows) {
    add(r.vsOneK, r.testSet);
    add(r.vsFiveK, r.testSet);
    if (r.vsSamePositives) add(r.vsSamePositives, r.testSet);
    if (r.vsSameSteps) add(r.vsSameSteps, r.testSet);
  }
  return out;
}

/**
 * The verdict bullet: per iterative configuration, the verdict on every test set by
 * {@link CLAIM_RULE} — one verdict when the test sets agree, "inconclusive" (with each set's)
 * when they do not — and the rule itself.
 */
export function claimBullet(rows: readonly ClaimRow[], labels: Labels = {}): string {
  const sentences = [...new Set(rows.map((r) => r.iterative))].map((it) => {
    const mine = rows.filter((r) => r.iterative === it);
    const verdicts = new Set(mine.map((r) => r.verdict));
    const overall: Verdict = verdicts.size === 1 ? mine[0]!.verdict : "inconclusive";
    const perSet = mine.map((r) => `on the ${r.testSet} rows ${r.verdict === overall ? "" : `*${r.verdict}*: `}${r.reason}`);
    return `**${overall[0]!.toUpperCase()}${overall.slice(1)}** for ${label(labels, it)}${verdicts.size > 1 ? " (the test sets disagree)" : ""}: ${perSet.join("; ")}.`;
  });
  return `* **The 5× claim** (an iterative model performs like standard training on 5× as many positives). ${sentences.join(" ")} Rule: ${CLAIM_RULE}.`;
}

/** What a control difference AP(iterative) − AP(control) means, by its interval (see {@link direction}). */
function controlPhrase(d: BootstrapDifference, kind: "positives" | "steps"): string {
  const control = kind === "positives" ? "standard training on the same positives" : "standard training with as many gradient steps";
  switch (direction(d)) {
    case "higher":
      return `the iterative schedule does better than ${control}`;
    case "lower":
      return `${control} does better${kind === "positives" ? ": the positives, not the schedule, account for the iterative model's result" : ""}`;
    default:
      return `no difference resolved: ${control} does as well`;
  }
}

/**
 * The controls bullet, for the configuration the controls follow, on every test set: standard
 * training on the same positives, and with the same number of gradient steps, each as
 * AP(iterative) − AP(control) with its interval, read by {@link direction}.
 */
export function controlsBullet(rows: readonly ClaimRow[], summary: BindingExperimentResults["summary"], labels: Labels = {}): string | null {
  const withControls = rows.filter((r) => r.vsSamePositives || r.vsSameSteps);
  if (withControls.length === 0) return null;
  const it = withControls[0]!.iterative;
  const row = (config: string) => summary.find((s) => s.config === config);
  const sentences: string[] = [];
  const positives = withControls.find((r) => r.vsSamePositives)?.vsSamePositives;
  if (positives) {
    const used = row(it)?.positivesUsed;
    const each = withControls.filter((r) => r.vsSamePositives).map((r) => `${r.testSet} ${differenceText(r.vsSamePositives!)}, ${controlPhrase(r.vsSamePositives!, "positives")}`);
    sentences.push(`Standard training on the same ${used ? `${count(used.mean)} ` : ""}positives (${label(labels, positives.b)}): ${each.join("; ")}.`);
  }
  const steps = withControls.find((r) => r.vsSameSteps)?.vsSameSteps;
  if (steps) {
    const a = row(it)?.steps, b = row(steps.b)?.steps;
    const each = withControls.filter((r) => r.vsSameSteps).map((r) => `${r.testSet} ${differenceText(r.vsSameSteps!)}, ${controlPhrase(r.vsSameSteps!, "steps")}`);
    sentences.push(`Standard training with as many gradient steps (${label(labels, steps.b)}${a && b ? `: ${count(b.mean)} steps against ${count(a.mean)}` : ""}): ${each.join("; ")}.`);
  }
  return `* **Controls** for ${label(labels, it)}, as AP(${labels[it] ?? it}) − AP(control). ${sentences.join(" ")}`;
}

/** A gain below this (AP) counts as "small". */
export const SMALL_GAIN = 0.02;
/** A model at or above this AP is "near the ceiling". */
export const CEILING_AP = 0.9;
/** A share whose interval is wider than this is "fragile". */
export const FRAGILE_SHARE_WIDTH = 0.5;

/**
 * The regime bullet: how large the 1× → 5× gain is (rules: "small" below {@link SMALL_GAIN} AP,
 * "near the ceiling" when the 5× model's AP is at least {@link CEILING_AP}) and the share of it
 * each iterative model recovers with its interval ("fragile" when the interval is wider than
 * {@link FRAGILE_SHARE_WIDTH}, i.e. half the gain).
 */
export function regimeBullet(rows: readonly ClaimRow[], summary: BindingExperimentResults["summary"], labels: Labels = {}): string {
  const sets = [...new Set(rows.map((r) => r.testSet))];
  const first = rows[0]!;
  const five = first.gain.a;
  const perSet = sets.map((set) => {
    const r = rows.find((x) => x.testSet === set)!;
    const ap = summary.find((s) => s.config === five && s.testSet === set)?.averagePrecision.mean;
    return { set, gain: r.gain, ap };
  });
  const small = perSet.every((p) => p.gain.difference < SMALL_GAIN);
  const ceiling = perSet.every((p) => p.ap !== undefined && p.ap >= CEILING_AP);
  const qualifier = [small ? `small (under ${SMALL_GAIN} AP)` : "", ceiling ? `near the ceiling (the 5× model at AP ≥ ${CEILING_AP})` : ""].filter(Boolean).join(" and ");
  const gains = perSet.map((p) => `${differenceText(p.gain)} on the ${p.set} rows${p.ap !== undefined ? ` (${label(labels, five)} at AP ${fmt(p.ap)})` : ""}`);
  const shares = rows.map((r) => r.share
    ? `${label(labels, r.iterative)} ${r.share.estimate.toFixed(2)} [95% CI ${r.share.lo.toFixed(2)}, ${r.share.hi.toFixed(2)}] on the ${r.testSet} rows`
    : `${label(labels, r.iterative)}: undefined on the ${r.testSet} rows (the gain is not resolved)`);
  const fragile = rows.some((r) => !r.share || r.share.hi - r.share.lo > FRAGILE_SHARE_WIDTH);
  return `* **Regime.** The gain from 5× the positives, ${label(labels, five)} − ${label(labels, first.gain.b)}, is ${qualifier ? `${qualifier}: ` : ""}${gains.join("; ")}. ` +
    `The share of that gain an iterative model recovers divides one difference by another: ${shares.join("; ")}.` +
    (fragile ? ` With intervals this wide (more than ${FRAGILE_SHARE_WIDTH} of the gain, or undefined) the share is fragile: the differences and their intervals above are the evidence, not the share.` : "");
}

// ---------------------------------------------------------------------------------------------
// Our models against the baseline, the published models and on CLASH
// ---------------------------------------------------------------------------------------------

/**
 * The baseline bullet: on the bootstrapped test set (held-out scan), whether every configuration
 * in `expected` (those trained at ratio 10 or iteratively) beats the seed-match baseline — rule: the lower
 * bound of AP(config) − AP(baseline)'s interval above 0 — and how the others fare.
 */
export function baselineBullet(boot: AveragePrecisionBootstrap & { testSet: string }, configs: readonly string[], expected: readonly string[], baseline: string, labels: Labels = {}): string {
  const diffs = configs.map((c) => bootstrapDifference(boot, c, baseline));
  const inExpected = diffs.filter((d) => expected.includes(d.a));
  const beat = inExpected.filter((d) => direction(d) === "higher");
  const lowest = inExpected.reduce((a, d) => (d.lo < a.lo ? d : a), inExpected[0]!);
  const range = inExpected.length ? `${signed(Math.min(...inExpected.map((d) => d.difference)))} to ${signed(Math.max(...inExpected.map((d) => d.difference)))}` : "";
  const where = (d: BootstrapDifference) => (direction(d) === "higher" ? "above" : direction(d) === "lower" ? "below" : "not resolved from");
  const group = (ds: BootstrapDifference[], place: string) => {
    const mine = ds.filter((d) => where(d) === place);
    return mine.length ? `${place} it: ${listText(mine.map((d) => `${label(labels, d.a)} ${differenceText(d)}`))}` : "";
  };
  const head = beat.length === inExpected.length
    ? `every configuration trained at ratio 10 or iteratively beats it (${range}; the lowest interval bound, ${label(labels, lowest.a)}'s, is ${signed(lowest.lo)})`
    : `${beat.length} of ${inExpected.length} configurations trained at ratio 10 or iteratively beat it (${range}); ${[group(inExpected, "not resolved from"), group(inExpected, "below")].filter(Boolean).join("; ")}`;
  const others = diffs.filter((d) => !expected.includes(d.a)).map((d) => `${label(labels, d.a)} is ${where(d)} it (${differenceText(d)})`);
  return `* **Against the seed-match baseline** (${boot.testSet} AP ${fmt(boot.observed[baseline]!)}): ${head}${others.length ? `; ${listText(others)}` : ""}.`;
}

/**
 * The published-models bullet: on `testSet`, how many configurations in `configs` exceed the best
 * published model, by AP (rule: interval of the difference above 0) and by ROC-AUC (rule: seed
 * mean above; no interval), each stated separately.
 */
export function publishedBullet(results: Pick<BindingExperimentResults, "summary" | "scores">, boot: AveragePrecisionBootstrap & { testSet: string }, configs: readonly string[], labels: Labels = {}): string {
  const set = boot.testSet;
  const published = results.scores.filter((s) => s.config === "published" && s.testSet === set);
  if (published.length === 0) throw new InputError(`no published models scored on ${set}`);
  const bestAp = published.reduce((a, s) => (s.averagePrecision > a.averagePrecision ? s : a));
  const bestRoc = published.reduce((a, s) => (s.rocAuc > a.rocAuc ? s : a));
  const ours = configs.map((c) => results.summary.find((s) => s.config === c && s.testSet === set)!);
  const apDiffs = configs.map((c) => bootstrapDifference(boot, c, `published ${bestAp.model}`));
  const apAbove = apDiffs.filter((d) => direction(d) === "higher");
  const rocAbove = ours.filter((s) => s.rocAuc.mean > bestRoc.rocAuc);
  const rocRange = `${fmt(Math.min(...ours.map((s) => s.rocAuc.mean)))}–${fmt(Math.max(...ours.map((s) => s.rocAuc.mean)))}`;
  const apText = `In AP, ${apAbove.length} of ${configs.length} of our configurations trained at ratio 10 or iteratively are above the best published model, \`${bestAp.model}\` (${fmt(bestAp.averagePrecision)})` +
    (apAbove.length ? `: ${listText(apAbove.map((d) => `${label(labels, d.a)} ${differenceText(d)}`))}` : "");
  const rocText = `in ROC-AUC, ${rocAbove.length} of ${configs.length} are (seed means ${rocRange} against \`${bestRoc.model}\`'s ${fmt(bestRoc.rocAuc)}; no interval)`;
  const caveat = apAbove.length || rocAbove.length
    ? " Ours are trained and tested on chr1 (site-disjoint), the published ones on other chromosomes: an advantage here is a same-chromosome advantage, not evidence of a better method."
    : "";
  return `* **Against the published models on the same ${set} rows.** ${apText}; ${rocText}.${caveat}`;
}

/**
 * The CLASH bullet: the range of AP of the chr1-only models (ours as seed means, and the published
 * ones) on each CLASH test set, the baseline's, the CLASH-trained configuration's against
 * miRBind's published AP, and how that configuration does on `heldOut` against the other
 * configurations (rule: the interval of its difference to each).
 */
export function clashBullet(
  results: Pick<BindingExperimentResults, "summary" | "scores">,
  opts: { withClash: string; chr1Only: readonly string[]; clashSets: readonly string[]; mirbindAp: Record<string, number>; heldOut: AveragePrecisionBootstrap & { testSet: string } },
  labels: Labels = {},
): string {
  const ranges = opts.clashSets.map((set) => {
    const values = [
      ...opts.chr1Only.map((c) => results.summary.find((s) => s.config === c && s.testSet === set)!.averagePrecision.mean),
      ...results.scores.filter((s) => s.config === "published" && s.testSet === set).map((s) => s.averagePrecision),
    ];
    const base = results.scores.find((s) => s.config === "baseline" && s.testSet === set)!;
    return { set, lo: Math.min(...values), hi: Math.max(...values), base: base.averagePrecision };
  });
  const clash = opts.clashSets.map((set) => ({ set, ap: results.summary.find((s) => s.config === opts.withClash && s.testSet === set)!.averagePrecision, mirbind: opts.mirbindAp[set] }));
  const reached = listText(clash.map((c) => `${meanSdText(c.ap)} on ${c.set}`));
  const compared = clash.filter((c) => c.mirbind !== undefined);
  const allBelow = compared.length > 0 && compared.every((c) => c.ap.mean < c.mirbind!);
  const vsMirbind = compared.length === 0 ? "" : allBelow
    ? `, below miRBind's published ${listText(compared.map((c) => String(c.mirbind)))} (a larger network trained on all of CLASH)`
    : `; miRBind's published AP (a larger network trained on all of CLASH): ${listText(compared.map((c) => `${c.mirbind} on ${c.set} (ours ${c.ap.mean < c.mirbind! ? "below" : "not below"})`))}`;
  const others = opts.chr1Only.map((c) => bootstrapDifference(opts.heldOut, opts.withClash, c));
  const lower = others.filter((d) => direction(d) === "lower");
  const heldOutAp = results.summary.find((s) => s.config === opts.withClash && s.testSet === opts.heldOut.testSet)!.averagePrecision;
  const heldOutText = lower.length === others.length
    ? `below every chr1-only configuration trained at ratio 10 or iteratively (differences ${signed(Math.min(...lower.map((d) => d.difference)))} to ${signed(Math.max(...lower.map((d) => d.difference)))}, every interval below 0)`
    : `below ${lower.length} of ${others.length} chr1-only configurations trained at ratio 10 or iteratively${lower.length ? ` (${listText(lower.map((d) => label(labels, d.b)))})` : ""}`;
  return `* **CLASH.** On miRBind's CLASH test sets the chr1-only models, ours (seed means) and the published ones, reach AP ${listText(ranges.map((r) => `${fmt(r.lo)}–${fmt(r.hi)} (${r.set})`))}; the seed-match baseline ${listText(ranges.map((r) => `${fmt(r.base)} (${r.set})`))}. ` +
    `${label(labels, opts.withClash)}, which adds the CLASH training positives, reaches AP ${reached}${vsMirbind}. ` +
    `On the ${opts.heldOut.testSet} rows its AP, ${meanSdText(heldOutAp)}, is ${heldOutText}.`;
}

/**
 * The deviations bullet: what in this setting differs from the paper's, with the numbers of this
 * run — the positives our models used, the faithful loop's validation minibatch, and where each
 * of its seeds ended.
 */
export function deviationsBullet(
  results: Pick<BindingExperimentResults, "summary" | "trained">,
  configs: readonly BindingConfig[],
  opts: { setting: string; faithful?: string },
  labels: Labels = {},
): string {
  const used = results.summary.filter((s) => s.positivesUsed !== null).map((s) => s.positivesUsed!.mean);
  const parts = [opts.setting, `our models train on ${count(Math.min(...used))}–${count(Math.max(...used))} positives (seed means of "positives used"), the published ones on up to 100k (their names)`];
  const faithful = configs.find((c) => c.name === opts.faithful);
  if (faithful) {
    const per = faithful.positivesPerIteration ?? 1000, mini = faithful.minibatches ?? 500;
    const runs = results.trained.filter((t) => t.config === faithful.name);
    const ends = runs.map((t) => `${t.log.history[t.log.history.length - 1]?.ratio ?? "—"} (seed ${t.seed})`);
    parts.push(`${label(labels, faithful.name)} validates on the last of its ${count(mini)} minibatches, about ${count(per / mini)} positive${per / mini === 1 ? "" : "s"} (${count(per)} / ${count(mini)}), a coarse signal for raising the ratio; the ratio it reached by its last iteration: ${listText(ends)}`);
  }
  return `* **Deviations that matter for this reading**: ${parts.join("; ")}.`;
}

// ---------------------------------------------------------------------------------------------
// Part 1: the published models and the baseline
// ---------------------------------------------------------------------------------------------

/** One scorer's metrics on one test set. */
export interface ScoredRow {
  model: string;
  testSet: string;
  rocAuc: number;
  averagePrecision: number;
}

/** Numbers of an independent implementation on the same rows, for a parity check. */
export interface ParityReference {
  /** What it is, e.g. "an independent PyTorch implementation loading the same .h5 weights". */
  source: string;
  /** Whether this run scored the rows the reference did (e.g. only the full profile's subset). */
  sameRows: boolean;
  /** Largest |ours − theirs| that counts as agreement. */
  tolerance: number;
  values: { model: string; testSet: string; metric: "rocAuc" | "averagePrecision"; value: number }[];
}

/**
 * The reading of part 1 (published models and the seed baseline on the chr1 test sets): the
 * ranking by ROC-AUC against `referenceOrder` on each test set and which models fall below the
 * baseline; the baseline's level and the two best networks' margins over it in ROC-AUC and AP;
 * on how many scorers the miRNA-neg set is the easier one (higher ROC-AUC); the parity check.
 */
export function publishedModelsReading(rows: readonly ScoredRow[], opts: { referenceOrder: readonly string[]; baseline: string; parity?: ParityReference }): string {
  const sets = [...new Set(rows.map((r) => r.testSet))];
  const get = (model: string, set: string) => {
    const r = rows.find((x) => x.model === model && x.testSet === set);
    if (!r) throw new InputError(`no row for ${model} on ${set}`);
    return r;
  };
  const networks = [...new Set(rows.map((r) => r.model))].filter((m) => m !== opts.baseline);
  const order = (set: string) => [...networks].sort((a, b) => get(b, set).rocAuc - get(a, set).rocAuc);
  const matching = sets.filter((s) => order(s).join() === opts.referenceOrder.join());
  const ranking = matching.length === sets.length
    ? `By ROC-AUC the published models rank ${order(sets[0]!).map((m) => `\`${m}\``).join(" > ")} on ${sets.length === 2 ? "both test sets" : "every test set"}, the order of the reference column`
    : `By ROC-AUC the ranking differs from the reference order (${opts.referenceOrder.join(" > ")}) on ${listText(sets.filter((s) => !matching.includes(s)))}: ${sets.map((s) => `${s} ${order(s).join(" > ")}`).join("; ")}`;
  const below = sets.map((s) => ({ s, models: networks.filter((m) => get(m, s).rocAuc < get(opts.baseline, s).rocAuc) }));
  const sameBelow = below.every((b) => b.models.join() === below[0]!.models.join());
  const belowText = sameBelow
    ? `${below[0]!.models.length ? listText(below[0]!.models.map((m) => `\`${m}\``)) : "none"} fall${below[0]!.models.length === 1 ? "s" : ""} below the seed-match baseline on ${sets.length === 2 ? "both sets" : "every set"}`
    : below.map((b) => `below the baseline on ${b.s}: ${b.models.length ? listText(b.models.map((m) => `\`${m}\``)) : "none"}`).join("; ");
  const bullets = [`* **Ranking.** ${ranking}; ${belowText} (baseline ROC-AUC ${listText(sets.map((s) => `${fmt(get(opts.baseline, s).rocAuc)} on ${s}`))}).`];

  const top = order(sets[0]!).slice(0, 2);
  const margins = sets.map((s) => `${s}: ${top.map((m) => `\`${m}\` ${signed(get(m, s).rocAuc - get(opts.baseline, s).rocAuc)} ROC-AUC, ${signed(get(m, s).averagePrecision - get(opts.baseline, s).averagePrecision)} AP`).join("; ")}`);
  const apBelow = sets.flatMap((s) => networks.filter((m) => !below.find((b) => b.s === s)!.models.includes(m) && get(m, s).averagePrecision < get(opts.baseline, s).averagePrecision).map((m) => `\`${m}\` on ${s} (AP ${fmt(get(m, s).averagePrecision)} against ${fmt(get(opts.baseline, s).averagePrecision)})`));
  bullets.push(`* **The seed-match baseline** is strong because nearly all CLIP positives carry a seed match and few negatives do. The two best networks by ROC-AUC beat it by — ${margins.join("; ")}.` +
    (apBelow.length ? ` Above the baseline in ROC-AUC but not in AP: ${listText(apBelow)}.` : ""));

  if (sets.length === 2) {
    const [a, b] = sets as [string, string];
    const easierB = [...networks, opts.baseline].filter((m) => get(m, b).rocAuc > get(m, a).rocAuc);
    const total = networks.length + 1;
    bullets.push(`* **Which set is easier.** ${easierB.length === total ? `Every scorer (${total} of ${total}) reaches` : `${easierB.length} of ${total} scorers reach`} a higher ROC-AUC on the ${b} set than on the ${a} set` +
      (easierB.length === total ? `: a random other miRNA rarely has a seed match in the site, while the flanking windows of a targeted transcript sometimes do.` : ` (not: ${[...networks, opts.baseline].filter((m) => !easierB.includes(m)).map((m) => `\`${m}\``).join(", ")}).`));
  }

  const p = opts.parity;
  if (p) {
    if (!p.sameRows) bullets.push(`* **Parity.** ${p.source} scored the full profile's rows; this run scored others, so it is not compared here.`);
    else {
      const gaps = p.values.map((v) => ({ ...v, gap: Math.abs(get(v.model, v.testSet)[v.metric] - v.value) }));
      const worst = gaps.reduce((a, g) => (g.gap > a.gap ? g : a));
      const ok = worst.gap <= p.tolerance;
      bullets.push(`* **Parity.** ${p.source} gives ${listText(p.values.map((v) => `\`${v.model}\` ${v.testSet} ${v.metric === "rocAuc" ? "ROC-AUC" : "AP"} ${v.value}`))}. ` +
        `Ours ${ok ? "agree" : "do not agree"} to ±${p.tolerance}: the largest difference is ${worst.gap.toFixed(5)} (\`${worst.model}\` ${worst.testSet} ${worst.metric === "rocAuc" ? "ROC-AUC" : "AP"}). The reference column comes from another random 10% of negatives, so it differs slightly.`);
    }
  }
  return bullets.join("\n");
}

// ---------------------------------------------------------------------------------------------
// preprocess: seed matches and composition of the test sets
// ---------------------------------------------------------------------------------------------

/** The statistics of one labelled set that the preprocess reading uses. */
export interface SetStatistics {
  name: string;
  /** "scan" or "miRNA-neg": which kind of negatives. */
  kind: "scan" | "miRNA-neg";
  /** Positives and negatives. */
  positives: number;
  negatives: number;
  /** seedMatchClassShares: share of each class per label. */
  classes: readonly { label: "positive" | "negative"; class: string; count: number; share: number }[];
  /** nucleotideShares: share of each nucleotide per label. */
  composition: readonly { label: "positive" | "negative"; nucleotide: string; share: number }[];
}

/** Share of a label's pairs with at least a 6mer seed match (every class but "none"). */
export function seedMatchShare(s: SetStatistics, which: "positive" | "negative"): { share: number; count: number } {
  const none = s.classes.find((c) => c.label === which && c.class === "none");
  const total = which === "positive" ? s.positives : s.negatives;
  const withMatch = total - (none?.count ?? 0);
  return { share: total ? withMatch / total : 0, count: withMatch };
}

/** Largest |share(positive) − share(negative)| over nucleotides, and the A+T share per label. */
function compositionGap(s: SetStatistics): { gap: number; nucleotide: string; at: { positive: number; negative: number } } {
  const share = (label: string, n: string) => s.composition.find((c) => c.label === label && c.nucleotide === n)?.share ?? 0;
  let gap = 0, nucleotide = "";
  for (const n of ["A", "C", "G", "T"]) {
    const d = Math.abs(share("positive", n) - share("negative", n));
    if (d > gap) [gap, nucleotide] = [d, n];
  }
  return { gap, nucleotide, at: { positive: share("positive", "A") + share("positive", "T"), negative: share("negative", "A") + share("negative", "T") } };
}

/** Composition differences below this (2 percentage points) count as "little". */
export const SMALL_COMPOSITION_GAP = 0.02;

/**
 * The reading of the preprocess notebook. Rules: seed-match shares (at least a 6mer) per label and
 * set; the scan negatives carry "more" seed matches than the miRNA negatives when their share is
 * higher by more than 0.1 percentage point ("about as many" otherwise); sites are "A/U-rich" when
 * A+U exceeds half of the nucleotides; positives and negatives "differ little" in composition when
 * no nucleotide's share differs by {@link SMALL_COMPOSITION_GAP} or more.
 */
export function preprocessReading(ours: readonly SetStatistics[], published: readonly SetStatistics[], inputs: "fixtures" | "real"): string {
  const bullets: string[] = [];
  const negativesCompared = (sets: readonly SetStatistics[]) => {
    const scan = sets.find((s) => s.kind === "scan"), neg = sets.find((s) => s.kind === "miRNA-neg");
    if (!scan || !neg) return "";
    const a = seedMatchShare(scan, "negative").share, b = seedMatchShare(neg, "negative").share;
    const relation = a - b > 0.001 ? "more seed matches than" : b - a > 0.001 ? "fewer seed matches than" : "about as many seed matches as";
    return ` The scan negatives (flanking windows of the same transcripts) carry ${relation} the miRNA negatives (${percent(a)} against ${percent(b)}).`;
  };
  const shares = (sets: readonly SetStatistics[]) => sets.map((s) => {
    const p = seedMatchShare(s, "positive"), n = seedMatchShare(s, "negative");
    return `${s.name}: ${count(p.count)} of ${count(s.positives)} positives (${percent(p.share)}), ${percent(n.share)} of ${count(s.negatives)} negatives`;
  }).join("; ");
  if (published.length) {
    bullets.push(`* **Seed matches in the published sets.** Pairs with at least a 6mer seed match in the ${shares(published)}.${negativesCompared(published)}`);
  } else {
    bullets.push("* **The published sets** are not in the data folder: nothing to compare with.");
  }
  const source = inputs === "fixtures"
    ? " These are the generated fixtures: they plant each site's own miRNA seed match (except at a few sites left unplanted on purpose), and the pipeline then replaces each miRNA by its family's representative, whose seed can differ in these made-up families — so the contrast describes how the fixtures were made, not ENCORI."
    : " These come from the pipeline on the real ENCORI inputs, built the same way as the published sets.";
  bullets.push(`* **Seed matches in our sets.** Pairs with at least a 6mer seed match in ${shares(ours)}.${negativesCompared(ours)}${source}`);
  const described = published.length ? published : ours;
  const comp = described.map((s) => ({ s, ...compositionGap(s) }));
  const auRich = comp.every((c) => c.at.positive > 0.5 && c.at.negative > 0.5);
  const little = comp.every((c) => c.gap < SMALL_COMPOSITION_GAP);
  bullets.push(`* **Composition** (${published.length ? "published sets" : "our sets"}). A+U makes up ${comp.map((c) => `${percent(c.at.positive)} of the positives' and ${percent(c.at.negative)} of the negatives' nucleotides in the ${c.s.name}`).join("; ")}` +
    `${auRich ? ": the sites are A/U-rich, as 3′UTRs are" : ""}. The largest difference in one nucleotide's share between positives and negatives is ${comp.map((c) => `${(100 * c.gap).toFixed(1)} percentage points in the ${c.s.name} (${c.nucleotide})`).join("; ")}` +
    `${little ? `: under ${100 * SMALL_COMPOSITION_GAP} percentage points, so positives and negatives differ little in overall composition and composition alone separates them poorly` : ""}.`);
  return bullets.join("\n");
}
