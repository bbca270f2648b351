import { InputError } from "./errors";
import { mulberry32 } from "./random";

/** Rank metrics of a scored, labelled set. */
export interface RankMetrics {
  n: number;
  positives: number;
  negatives: number;
  /** Area under the ROC curve; tied scores count half (Mann–Whitney). */
  rocAuc: number;
  /** Average precision, step-wise as scikit-learn computes it: Σ (R_k − R_{k−1}) · P_k over distinct thresholds. */
  averagePrecision: number;
}

/** Cumulative counts at each distinct score, scores descending. */
interface ThresholdCounts {
  thresholds: Float64Array;
  /** True positives with score ≥ thresholds[k]. */
  tps: Float64Array;
  /** False positives with score ≥ thresholds[k]. */
  fps: Float64Array;
  positives: number;
  negatives: number;
}

function checkInputs(labels: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) {
    throw new InputError(`got ${labels.length} labels but ${scores.length} scores`);
  }
  if (labels.length === 0) throw new InputError("no samples to evaluate");
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new InputError(`score ${i} is NaN`);
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new InputError(`label ${i} is ${y}, expected 0 or 1`);
  }
}

function thresholdCounts(labels: ArrayLike<number>, scores: ArrayLike<number>): ThresholdCounts {
  checkInputs(labels, scores);
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[b]! - scores[a]!);
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    // Close a threshold group at the last sample of each distinct score.
    if (k === n - 1 || scores[order[k + 1]!] !== scores[i]) {
      thresholds.push(scores[i]!);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return {
    thresholds: Float64Array.from(thresholds),
    tps: Float64Array.from(tps),
    fps: Float64Array.from(fps),
    positives: tp,
    negatives: fp,
  };
}

/**
 * ROC-AUC and average precision of `scores` (any real numbers, higher = more likely positive)
 * against `labels` (1 = positive, 0 = negative); both shape=(n,). Needs at least one of each class.
 */
export function rankMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>): RankMetrics {
  const c = thresholdCounts(labels, scores);
  if (c.positives === 0 || c.negatives === 0) {
    throw new InputError(`need positives and negatives to rank, got ${c.positives} positives and ${c.negatives} negatives`);
  }
  // Trapezoids between distinct thresholds = Mann–Whitney U with ties counted half.
  let area = 0;
  let ap = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    const tp = c.tps[k]!;
    const fp = c.fps[k]!;
    area += (fp - prevFp) * (tp + prevTp) / 2;
    ap += ((tp - prevTp) / c.positives) * (tp / (tp + fp));
    prevTp = tp;
    prevFp = fp;
  }
  return {
    n: labels.length,
    positives: c.positives,
    negatives: c.negatives,
    rocAuc: area / (c.positives * c.negatives),
    averagePrecision: ap,
  };
}

// ---------------------------------------------------------------------------------------------
// Bootstrap of average precision over rows
// ---------------------------------------------------------------------------------------------

/** A scored, labelled set sorted once, for average precision under many row weightings. */
export interface RankedScores {
  /** Row indices by descending score, shape=(n,). */
  order: Uint32Array;
  /** Label (1 / 0) of order[k], shape=(n,). */
  sortedLabels: Uint8Array;
  /** 1 where order[k] is the last row of its score (a threshold closes), shape=(n,). */
  groupEnd: Uint8Array;
}

/** Sorts `scores` (shape=(n,)) for {@link weightedAveragePrecision}; `labels` 1 / 0, shape=(n,). */
export function rankScores(labels: ArrayLike<number>, scores: ArrayLike<number>): RankedScores {
  checkInputs(labels, scores);
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[b]! - scores[a]!);
  const groupEnd = new Uint8Array(n);
  for (let k = 0; k < n; k++) groupEnd[k] = k === n - 1 || scores[order[k + 1]!] !== scores[order[k]!] ? 1 : 0;
  return { order, sortedLabels: Uint8Array.from(order, (i) => labels[i]!), groupEnd };
}

/**
 * Average precision (step-wise, as {@link rankMetrics}) of a ranked set in which row i counts
 * `weights[i]` times (shape=(n,); e.g. how often a bootstrap resample drew it): with integer
 * weights, exactly the AP of the set with each row repeated that often. NaN without positive
 * weight. `positiveWeight`, the sum of the positives' weights, may be given when known.
 */
export function weightedAveragePrecision(ranked: RankedScores, weights: ArrayLike<number>, positiveWeight?: number): number {
  const { order, sortedLabels, groupEnd } = ranked;
  const n = order.length;
  let positives = positiveWeight ?? 0;
  if (positiveWeight === undefined) for (let k = 0; k < n; k++) if (sortedLabels[k] === 1) positives += weights[order[k]!]!;
  if (!(positives > 0)) return NaN;
  let tp = 0, fp = 0, prevTp = 0, sum = 0;
  for (let k = 0; k < n; k++) {
    // Branch-free accumulation: this loop runs n times per model and resample.
    const w = weights[order[k]!]!;
    const positive = w * sortedLabels[k]!;
    tp += positive;
    fp += w - positive;
    if (groupEnd[k] === 1 && tp > prevTp) {
      sum += (tp - prevTp) * (tp / (tp + fp));
      prevTp = tp;
    }
  }
  return sum / positives;
}

/** Options of the bootstraps ({@link bootstrapAveragePrecision}, {@link bootstrapMeanCi}, {@link bootstrapMeanDifferenceCi}). */
export interface BootstrapOptions {
  /** Resamples (default 1,000). */
  resamples?: number;
  /** Seed of the resampling (mulberry32; default 1). */
  seed?: number;
  /**
   * Coverage of the intervals of the means (default 0.95). The AP bootstrap returns its
   * resamples; {@link bootstrapDifference} takes the level of its interval.
   */
  level?: number;
  /**
   * Of {@link bootstrapAveragePrecision} only:
   * also resample each model's score sets (e.g. its training seeds) with replacement in every
   * resample, so that the interval covers the variation over seeds as well as over rows
   * (default false: every resample averages all of them).
   */
  resampleScoreSets?: boolean;
}

/** What {@link bootstrapAveragePrecision} returns. */
export interface AveragePrecisionBootstrap {
  resamples: number;
  seed: number;
  resampleScoreSets: boolean;
  /** Rows, positives. */
  n: number;
  positives: number;
  /** Per model: its AP on the rows (the mean over its score sets, e.g. seeds). */
  observed: Record<string, number>;
  /** Per model: the same on each resample, shape=(resamples,). */
  samples: Record<string, Float64Array>;
}

/**
 * A paired, stratified bootstrap of average precision over rows: each resample draws the
 * positives with replacement among the positives and the negatives among the negatives (so the
 * share of positives stays that of the set), and every model is scored on the same resample —
 * differences between models are paired by row. A model may have several score sets (e.g. one
 * per training seed, each shape=(n,)): its value is the mean AP over them, on the rows and on each
 * resample; with `resampleScoreSets` each resample averages a draw of them with replacement
 * instead, so the interval covers the variation over seeds too. `labels` 1 / 0, shape=(n,).
 */
export function bootstrapAveragePrecision(
  labels: ArrayLike<number>,
  models: Record<string, readonly ArrayLike<number>[]>,
  opts: BootstrapOptions = {},
): AveragePrecisionBootstrap {
  const resamples = opts.resamples ?? 1000;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(resamples) || resamples < 1) throw new InputError(`resamples must be a positive integer, got ${resamples}`);
  const n = labels.length;
  const positiveRows: number[] = [];
  const negativeRows: number[] = [];
  for (let i = 0; i < n; i++) (labels[i] === 1 ? positiveRows : negativeRows).push(i);
  if (positiveRows.length === 0 || negativeRows.length === 0) {
    throw new InputError(`need positives and negatives to bootstrap, got ${positiveRows.length} positives and ${negativeRows.length} negatives`);
  }
  const ranked: Record<string, RankedScores[]> = {};
  for (const [name, sets] of Object.entries(models)) {
    if (sets.length === 0) throw new InputError(`model '${name}' has no scores`);
    ranked[name] = sets.map((scores, k) => {
      if (scores.length !== n) throw new InputError(`model '${name}' score set ${k}: ${scores.length} scores for ${n} rows`);
      return rankScores(labels, scores);
    });
  }
  // Stratified resamples keep the positives' total weight: the number of positives.
  const meanAp = (sets: RankedScores[], weights: ArrayLike<number>) => sets.reduce((a, r) => a + weightedAveragePrecision(r, weights, positiveRows.length), 0) / sets.length;
  const ones = new Float64Array(n).fill(1);
  const observed: Record<string, number> = {};
  const samples: Record<string, Float64Array> = {};
  for (const name of Object.keys(ranked)) {
    observed[name] = meanAp(ranked[name]!, ones);
    samples[name] = new Float64Array(resamples);
  }
  const random = mulberry32(seed);
  const weights = new Int32Array(n);
  const resampleSets = opts.resampleScoreSets ?? false;
  for (let b = 0; b < resamples; b++) {
    weights.fill(0);
    for (const rows of [positiveRows, negativeRows]) {
      for (let k = 0; k < rows.length; k++) weights[rows[Math.floor(random() * rows.length)]!]! += 1;
    }
    for (const name of Object.keys(ranked)) {
      const sets = ranked[name]!;
      if (!resampleSets || sets.length === 1) {
        samples[name]![b] = meanAp(sets, weights);
        continue;
      }
      const aps = sets.map((r) => weightedAveragePrecision(r, weights, positiveRows.length));
      let sum = 0;
      for (let k = 0; k < sets.length; k++) sum += aps[Math.floor(random() * sets.length)]!;
      samples[name]![b] = sum / sets.length;
    }
  }
  return { resamples, seed, resampleScoreSets: resampleSets, n, positives: positiveRows.length, observed, samples };
}

/**
 * The central `level` interval of `values` (default 0.95: the 2.5th and 97.5th percentiles),
 * percentiles interpolated linearly between order statistics (numpy's default).
 */
export function percentileInterval(values: ArrayLike<number>, level = 0.95): [number, number] {
  if (values.length === 0) throw new InputError("percentile interval of no values");
  if (!(level > 0 && level < 1)) throw new InputError(`level must be in (0, 1), got ${level}`);
  const sorted = Float64Array.from(values).sort();
  return [quantileSorted(sorted, (1 - level) / 2), quantileSorted(sorted, (1 + level) / 2)];
}

/**
 * The `q`-quantile (0–1) of values sorted ascending, interpolated linearly between order
 * statistics (NumPy's default): the library's one quantile.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new InputError("no values to take a quantile of");
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The `q`-quantile (0–1) of `values` (any order; {@link quantileSorted}). */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

/** A difference of AP between two models of one bootstrap, with its percentile interval. */
export interface BootstrapDifference {
  a: string;
  b: string;
  /** AP(a) − AP(b) on the rows. */
  difference: number;
  /** The central 95% interval of AP(a) − AP(b) over the resamples. */
  lo: number;
  hi: number;
}

/** AP(a) − AP(b) of a {@link bootstrapAveragePrecision} with its paired percentile interval. */
export function bootstrapDifference(boot: AveragePrecisionBootstrap, a: string, b: string, level = 0.95): BootstrapDifference {
  for (const m of [a, b]) if (!(m in boot.samples)) throw new InputError(`no model '${m}' in the bootstrap (models: ${Object.keys(boot.samples).join(", ")})`);
  const sa = boot.samples[a]!, sb = boot.samples[b]!;
  const [lo, hi] = percentileInterval(sa.map((x, i) => x - sb[i]!), level);
  return { a, b, difference: boot.observed[a]! - boot.observed[b]!, lo, hi };
}

/** Points of the ROC curve, one per distinct threshold, starting at (0, 0): each field shape=(distinct scores + 1,). */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  /** Score threshold of each point (Infinity for the origin). */
  thresholds: Float64Array;
}

/** The ROC curve of `scores` against `labels` (1 / 0), both shape=(n,). */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  const c = thresholdCounts(labels, scores);
  const m = c.thresholds.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  thresholds[0] = Infinity;
  for (let k = 0; k < c.thresholds.length; k++) {
    fpr[k + 1] = c.negatives ? c.fps[k]! / c.negatives : 0;
    tpr[k + 1] = c.positives ? c.tps[k]! / c.positives : 0;
    thresholds[k + 1] = c.thresholds[k]!;
  }
  return { fpr, tpr, thresholds };
}

/** Points of the precision–recall curve, one per distinct threshold, recall increasing: each field shape=(distinct scores,). */
export interface PrCurve {
  recall: Float64Array;
  precision: Float64Array;
  thresholds: Float64Array;
}

/** The precision–recall curve of `scores` against `labels` (1 / 0), both shape=(n,). */
export function prCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): PrCurve {
  const c = thresholdCounts(labels, scores);
  const m = c.thresholds.length;
  const recall = new Float64Array(m);
  const precision = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    recall[k] = c.positives ? c.tps[k]! / c.positives : 0;
    precision[k] = c.tps[k]! / (c.tps[k]! + c.fps[k]!);
  }
  return { recall, precision, thresholds: c.thresholds.slice() };
}

/** Confusion-matrix metrics at one threshold; a sample is called positive when score ≥ threshold. */
export interface ThresholdMetrics {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  accuracy: number;
  /** tp / (tp + fp); 0 when nothing is called positive. */
  precision: number;
  /** Sensitivity: tp / (tp + fn). */
  recall: number;
  /** tn / (tn + fp). */
  specificity: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  f1: number;
}

/** {@link ThresholdMetrics} of `scores` against `labels` (1 / 0), both shape=(n,), at `threshold`. */
export function thresholdMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): ThresholdMetrics {
  checkInputs(labels, scores);
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const called = scores[i]! >= threshold;
    if (labels[i] === 1) called ? tp++ : fn++;
    else called ? fp++ : tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    threshold,
    tp, fp, tn, fn,
    accuracy: (tp + tn) / scores.length,
    precision,
    recall,
    specificity: tn + fp ? tn / (tn + fp) : 0,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

/** Mean and sample standard deviation (null for one value). */
export interface MeanSd {
  mean: number;
  sd: number | null;
}

/** Mean and sample standard deviation of `xs` (sd null for one value); an InputError for none. */
export function meanSd(xs: readonly number[]): MeanSd {
  if (xs.length === 0) throw new InputError("mean of no values");
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : null;
  return { mean, sd };
}

/** A mean with a bootstrap confidence interval. */
export interface MeanCi {
  mean: number;
  /** Percentile interval bounds at `level`. */
  lo: number;
  hi: number;
  /** Values the mean is over (for a difference of two groups: the smaller group). */
  n: number;
  level: number;
}

function bootstrapSettings(opts: BootstrapOptions): { resamples: number; random: () => number; level: number } {
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new InputError(`resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new InputError(`level must be in (0, 1), got ${level}`);
  return { resamples, random: mulberry32(opts.seed ?? 1), level };
}

function meanOf(xs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i]!;
  return sum / xs.length;
}

/**
 * Mean of `values` (shape=(n,), finite) with a percentile bootstrap interval: `resamples`
 * resamples of n values drawn with replacement (seeded). For a paired comparison pass the
 * per-row differences. An InputError for no values or a non-finite one.
 */
export function bootstrapMeanCi(values: ArrayLike<number>, opts: BootstrapOptions = {}): MeanCi {
  const n = values.length;
  if (n === 0) throw new InputError("bootstrap interval of no values");
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) throw new InputError(`value ${i} is not finite (${values[i]})`);
  const { resamples, random, level } = bootstrapSettings(opts);
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    stats[b] = sum / n;
  }
  const [lo, hi] = percentileInterval(stats, level);
  return { mean: meanOf(values), lo, hi, n, level };
}

/**
 * mean(a) − mean(b) of two independent groups (shape=(na,) and (nb,), finite) with a
 * percentile bootstrap interval, each group resampled with replacement on its own. `n` is the
 * smaller group's size.
 */
export function bootstrapMeanDifferenceCi(a: ArrayLike<number>, b: ArrayLike<number>, opts: BootstrapOptions = {}): MeanCi {
  if (a.length === 0 || b.length === 0) throw new InputError(`a difference of means needs values in both groups (got ${a.length} and ${b.length})`);
  for (const [name, xs] of [["a", a], ["b", b]] as const) {
    for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) throw new InputError(`group ${name} value ${i} is not finite (${xs[i]})`);
  }
  const { resamples, random, level } = bootstrapSettings(opts);
  const stats = new Float64Array(resamples);
  const resampledMean = (xs: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[Math.floor(random() * xs.length)]!;
    return sum / xs.length;
  };
  for (let r = 0; r < resamples; r++) stats[r] = resampledMean(a) - resampledMean(b);
  const [lo, hi] = percentileInterval(stats, level);
  return { mean: meanOf(a) - meanOf(b), lo, hi, n: Math.min(a.length, b.length), level };
}

/** "0.123 [0.101, 0.145]" */
export function formatMeanCi(x: MeanCi, digits = 3): string {
  return `${x.mean.toFixed(digits)} [${x.lo.toFixed(digits)}, ${x.hi.toFixed(digits)}]`;
}

/** "0.9290 ± 0.0040" (or just the mean for one seed, "—" for null). */
export function formatMeanSd(x: MeanSd | null, digits = 4): string {
  if (!x) return "—";
  return x.sd === null ? x.mean.toFixed(digits) : `${x.mean.toFixed(digits)} ± ${x.sd.toFixed(digits)}`;
}

/**
 * Pearson correlation of two equally long series, in float64 with centred sums (two passes,
 * no cancellation). NaN when either series is constant.
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma, db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return NaN;
  // Clamp: rounding can push |r| a hair past 1 for (anti)proportional series.
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
