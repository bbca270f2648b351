import { cholesky, choleskySolve } from "../cholesky";
import { InputError } from "../errors";
import { rankMetrics } from "../metrics";
import { mulberry32, shuffleInPlace } from "../random";
import { quantile } from "../metrics";
import { gcContent } from "../sequence";
import { countHairpinLoops } from "./sanity";
import { findTerminalLoop } from "../hairpin/image";

/**
 * Realism of generated hairpins, measured against real ones folded the same way (RNAfold's MFE
 * structure and energy of each sequence):
 *   - a two-sample test: a penalised logistic model on k-mer and structure features is trained
 *     to tell the two sets apart; its cross-fitted ROC-AUC (every hairpin scored by a model
 *     that did not see it) with a bootstrap interval. 0.5 = indistinguishable, 1 = always told apart;
 *   - distributions of length, GC, MFE per nt, terminal-loop size, stem pairs and the longest
 *     single-nucleotide run, binned on shared edges, with their Jensen–Shannon divergence and
 *     Kolmogorov–Smirnov statistic; and the 3-mer spectrum's Jensen–Shannon divergence.
 */

/** A sequence with RNAfold's MFE structure (dot-bracket, same length) and energy (kcal/mol). */
export interface FoldedHairpin {
  sequence: string;
  structure: string;
  mfe: number;
}

/** The properties compared between real and generated hairpins. */
export const REALISM_PROPERTIES = ["length", "gc", "mfePerNt", "loop", "stem", "longestRun"] as const;
export type RealismProperty = (typeof REALISM_PROPERTIES)[number];

/** Axis titles of the properties. */
export const REALISM_PROPERTY_LABELS: Readonly<Record<RealismProperty, string>> = {
  length: "length (nt)",
  gc: "GC content",
  mfePerNt: "MFE per nt (kcal/mol/nt)",
  loop: "terminal loop (nt)",
  stem: "stem (base pairs)",
  longestRun: "longest single-nucleotide run (nt)",
};

/** Integer-valued properties (binned by whole units). */
const INTEGER_PROPERTIES: ReadonlySet<RealismProperty> = new Set(["length", "loop", "stem", "longestRun"]);

/** Length of the longest run of one letter in `sequence` (0 for an empty one). */
export function longestRun(sequence: string): number {
  let longest = 0;
  for (let i = 0, run = 0; i < sequence.length; i++) {
    run = i > 0 && sequence[i] === sequence[i - 1] ? run + 1 : 1;
    if (run > longest) longest = run;
  }
  return longest;
}

function checkFolded(h: FoldedHairpin, what: string): void {
  if (h.structure.length !== h.sequence.length) throw new InputError(`${what}: sequence of ${h.sequence.length} nt but structure of ${h.structure.length}`);
  if (!Number.isFinite(h.mfe)) throw new InputError(`${what}: MFE ${h.mfe} is not a number`);
}

/** The {@link REALISM_PROPERTIES} of one folded hairpin: loop = unpaired nt of the terminal loop (0 without one), stem = base pairs. */
export function realismProperties(h: FoldedHairpin): Record<RealismProperty, number> {
  checkFolded(h, "realismProperties");
  const n = h.sequence.length;
  let pairs = 0;
  for (const ch of h.structure) if (ch === "(") pairs++;
  const loop = findTerminalLoop(h.structure);
  return {
    length: n,
    gc: gcContent(h.sequence),
    mfePerNt: n ? h.mfe / n : 0,
    loop: loop ? loop.close - loop.open - 1 : 0,
    stem: pairs,
    longestRun: longestRun(h.sequence),
  };
}

const ALPHABET = "ACGU";

/** The k-mers over ACGU in lexicographic order (AAA, AAC, …, UUU for k = 3). */
export function kmerNames(k: number): string[] {
  let out = [""];
  for (let i = 0; i < k; i++) out = out.flatMap((p) => [...ALPHABET].map((c) => p + c));
  return out;
}

/** Index of the k-mer starting at `at` (−1 when it holds a letter other than A, C, G, U). */
function kmerIndex(s: string, at: number, k: number): number {
  let index = 0;
  for (let j = 0; j < k; j++) {
    const c = ALPHABET.indexOf(s[at + j]!);
    if (c < 0) return -1;
    index = index * 4 + c;
  }
  return index;
}

/** k-mer counts of one sequence, shape=(4^k,), in {@link kmerNames} order. */
function kmerCounts(sequence: string, k: number, into: Float64Array, offset = 0, weight = 1): number {
  let total = 0;
  for (let i = 0; i + k <= sequence.length; i++) {
    const index = kmerIndex(sequence, i, k);
    if (index < 0) continue;
    into[offset + index]! += weight;
    total++;
  }
  return total;
}

/** The pooled k-mer spectrum of a set of sequences: fraction of all their k-mers, shape=(4^k,). */
export function kmerSpectrum(sequences: readonly string[], k = 3): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k > 6) throw new InputError(`k must be an integer in 1–6, got ${k}`);
  const counts = new Float64Array(4 ** k);
  let total = 0;
  for (const s of sequences) total += kmerCounts(s, k, counts);
  if (total > 0) for (let i = 0; i < counts.length; i++) counts[i]! /= total;
  return counts;
}

/** Names of {@link realismFeatures}: 1-, 2- and 3-mer frequencies, then the structure features. */
export const REALISM_FEATURE_NAMES: readonly string[] = [
  ...[1, 2, 3].flatMap((k) => kmerNames(k).map((m) => `${m} frequency`)),
  "length (nt)", "GC content", "MFE per nt", "terminal loop (nt)", "base pairs", "longest single-nucleotide run (nt)",
  "paired fraction", "hairpin loops", "unpaired nt inside the stem",
];

/**
 * Features of one folded hairpin for the two-sample test, shape=({@link REALISM_FEATURE_NAMES}):
 * the frequencies of its 1-, 2- and 3-mers (each over its k-mers), its {@link realismProperties},
 * the paired fraction, the number of hairpin loops, and the unpaired nucleotides between the
 * outermost pair and the terminal loop (bulges and internal loops).
 */
export function realismFeatures(h: FoldedHairpin): Float64Array {
  const out = new Float64Array(REALISM_FEATURE_NAMES.length);
  let at = 0;
  for (const k of [1, 2, 3]) {
    const size = 4 ** k;
    const total = kmerCounts(h.sequence, k, out, at);
    if (total > 0) for (let i = at; i < at + size; i++) out[i]! /= total;
    at += size;
  }
  const p = realismProperties(h);
  for (const name of REALISM_PROPERTIES) out[at++] = p[name];
  const n = h.sequence.length;
  out[at++] = n ? (2 * p.stem) / n : 0;
  out[at++] = countHairpinLoops(h.structure);
  const first = h.structure.indexOf("("), last = h.structure.lastIndexOf(")");
  let inside = 0;
  for (let i = Math.max(0, first); first >= 0 && i <= last; i++) if (h.structure[i] === ".") inside++;
  out[at++] = Math.max(0, inside - p.loop);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Penalised logistic regression
// ---------------------------------------------------------------------------------------------

/** A logistic model on standardised features: score = bias + Σ weights · (x − mean) / scale. */
export interface LogisticModel {
  mean: Float64Array;
  scale: Float64Array;
  weights: Float64Array;
  bias: number;
}

/**
 * Fits an L2-penalised logistic regression (penalty `l2` on the weights of the standardised
 * features, not on the bias; default 1) by Newton's method, to rows `x` shape=(n, dims) and
 * labels `y` shape=(n,) of 0 / 1. Constant features get weight 0.
 */
export function fitLogistic(x: Float64Array, y: ArrayLike<number>, dims: number, opts: { l2?: number; iterations?: number } = {}): LogisticModel {
  const n = y.length;
  if (!Number.isInteger(dims) || dims < 1 || x.length !== n * dims) throw new InputError(`x must hold ${n} rows of ${dims} features, got ${x.length} values`);
  if (n === 0) throw new InputError("no rows to fit");
  for (let i = 0; i < n; i++) if (y[i] !== 0 && y[i] !== 1) throw new InputError(`label ${y[i]} at row ${i} is neither 0 nor 1`);
  const l2 = opts.l2 ?? 1;
  if (!(l2 > 0)) throw new InputError(`l2 must be > 0, got ${l2}`);
  const mean = new Float64Array(dims), scale = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) mean[k]! += x[i * dims + k]! / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) scale[k]! += (x[i * dims + k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < dims; k++) scale[k] = scale[k]! > 1e-24 ? Math.sqrt(scale[k]!) : 0;
  // Standardised rows with a leading 1 for the bias; constant features stay 0.
  const p = dims + 1;
  const z = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    z[i * p] = 1;
    for (let k = 0; k < dims; k++) z[i * p + 1 + k] = scale[k]! > 0 ? (x[i * dims + k]! - mean[k]!) / scale[k]! : 0;
  }
  const theta = new Float64Array(p);
  const iterations = opts.iterations ?? 50;
  for (let it = 0; it < iterations; it++) {
    const gradient = new Float64Array(p);
    const hessian = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < p; a++) s += theta[a]! * z[i * p + a]!;
      const q = 1 / (1 + Math.exp(-s));
      const w = Math.max(q * (1 - q), 1e-12);
      const r = y[i]! - q;
      for (let a = 0; a < p; a++) {
        const za = z[i * p + a]!;
        if (za === 0) continue;
        gradient[a]! += r * za;
        for (let b = 0; b <= a; b++) hessian[a * p + b]! += w * za * z[i * p + b]!;
      }
    }
    for (let a = 0; a < p; a++) {
      if (a > 0) {
        gradient[a]! -= l2 * theta[a]!;
        hessian[a * p + a]! += l2;
      } else hessian[0]! += 1e-9;
      for (let b = 0; b < a; b++) hessian[b * p + a] = hessian[a * p + b]!;
    }
    const step = choleskySolve(cholesky(hessian, p), p, gradient);
    let largest = 0;
    for (let a = 0; a < p; a++) {
      theta[a]! += step[a]!;
      largest = Math.max(largest, Math.abs(step[a]!));
    }
    if (largest < 1e-8) break;
  }
  return { mean, scale, weights: theta.slice(1), bias: theta[0]! };
}

/** Scores (log-odds of label 1) of rows `x` shape=(n, dims) under a {@link LogisticModel}. */
export function logisticScores(model: LogisticModel, x: Float64Array): Float64Array {
  const dims = model.weights.length;
  if (x.length % dims !== 0) throw new InputError(`${x.length} values are not rows of ${dims} features`);
  const n = x.length / dims;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = model.bias;
    for (let k = 0; k < dims; k++) if (model.scale[k]! > 0) s += (model.weights[k]! * (x[i * dims + k]! - model.mean[k]!)) / model.scale[k]!;
    out[i] = s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The two-sample test
// ---------------------------------------------------------------------------------------------

/** Options of {@link twoSampleAuc}. */
export interface TwoSampleOptions {
  /** Cross-fitting folds (stratified). Default 5. */
  folds?: number;
  /** Bootstrap resamples of the interval. Default 1000. */
  bootstrap?: number;
  /** Interval level. Default 0.95. */
  level?: number;
  /** L2 penalty of the logistic model. Default 1. */
  l2?: number;
  /** Seed of the fold assignment and the bootstrap. Default 1. */
  seed?: number;
  /** How many features of the all-rows fit to list, by |weight|. Default 8. */
  topFeatures?: number;
}

/** What {@link twoSampleAuc} found. */
export interface TwoSampleResult {
  /** Cross-fitted ROC-AUC of telling set B (label 1) from set A (label 0). */
  auc: number;
  /** Percentile bootstrap interval of the AUC at `level`. */
  ci: [number, number];
  level: number;
  /** Rows of A and of B. */
  n: [number, number];
  folds: number;
  bootstrap: number;
  /** How the AUC and its interval were computed, in words. */
  method: string;
  /**
   * The features that most separate the sets in a fit on all rows: weight per sd of the feature
   * (positive = more typical of B), largest |weight| first.
   */
  features: { name: string; weight: number; meanA: number; meanB: number }[];
}

/**
 * A classifier two-sample test: can a penalised logistic model tell rows of `b` (label 1) from
 * rows of `a` (label 0)? Each row is scored by the model fitted on the other `folds` − 1 folds
 * (stratified, seeded), the out-of-fold scores give the ROC-AUC, and the interval is a
 * percentile bootstrap over rows (resampled within each set) of that AUC; it covers row
 * sampling, not the refits. Rows are feature vectors of equal length (`names` one per feature).
 */
export function twoSampleAuc(a: readonly Float64Array[], b: readonly Float64Array[], names: readonly string[], opts: TwoSampleOptions = {}): TwoSampleResult {
  const folds = opts.folds ?? 5;
  const resamples = opts.bootstrap ?? 1000;
  const level = opts.level ?? 0.95;
  const seed = opts.seed ?? 1;
  const dims = names.length;
  if (!Number.isInteger(folds) || folds < 2) throw new InputError(`folds must be an integer ≥ 2, got ${folds}`);
  if (a.length < folds || b.length < folds) throw new InputError(`each set needs at least ${folds} rows (one per fold), got ${a.length} and ${b.length}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new InputError(`bootstrap must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new InputError(`level must be in (0, 1), got ${level}`);
  for (const [set, rows] of [["a", a], ["b", b]] as const) {
    rows.forEach((r, i) => {
      if (r.length !== dims) throw new InputError(`set ${set}, row ${i}: ${r.length} features, expected ${dims}`);
    });
  }
  const rows = [...a, ...b];
  const labels = Uint8Array.from(rows, (_, i) => (i < a.length ? 0 : 1));
  const n = rows.length;
  const x = new Float64Array(n * dims);
  rows.forEach((r, i) => x.set(r, i * dims));
  // Stratified folds: each set shuffled, then dealt round-robin.
  const random = mulberry32(seed);
  const fold = new Int32Array(n);
  for (const [start, count] of [[0, a.length], [a.length, b.length]] as const) {
    const order = Array.from({ length: count }, (_, k) => start + k);
    shuffleInPlace(order, random);
    order.forEach((i, k) => (fold[i] = k % folds));
  }
  const scores = new Float64Array(n);
  for (let f = 0; f < folds; f++) {
    const trainRows = [...fold.keys()].filter((i) => fold[i] !== f);
    const testRows = [...fold.keys()].filter((i) => fold[i] === f);
    const pick = (idx: number[]) => {
      const out = new Float64Array(idx.length * dims);
      idx.forEach((i, k) => out.set(x.subarray(i * dims, (i + 1) * dims), k * dims));
      return out;
    };
    const model = fitLogistic(pick(trainRows), trainRows.map((i) => labels[i]!), dims, { l2: opts.l2 });
    const s = logisticScores(model, pick(testRows));
    testRows.forEach((i, k) => (scores[i] = s[k]!));
  }
  const auc = rankMetrics(labels, scores).rocAuc;
  // Percentile bootstrap over rows, resampled within each set (the AUC needs both).
  const boot = new Float64Array(resamples);
  const bootRandom = mulberry32(seed + 7919);
  const bootLabels = labels.slice();
  const bootScores = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const [start, count] = i < a.length ? [0, a.length] : [a.length, b.length];
      bootScores[i] = scores[start + Math.floor(bootRandom() * count)]!;
    }
    boot[r] = rankMetrics(bootLabels, bootScores).rocAuc;
  }
  const tail = (1 - level) / 2;
  const ci: [number, number] = [quantile(Array.from(boot), tail), quantile(Array.from(boot), 1 - tail)];
  // What separates the sets: one fit on all rows, weights per sd of each feature.
  const all = fitLogistic(x, labels, dims, { l2: opts.l2 });
  const meanOf = (start: number, count: number, k: number) => {
    let s = 0;
    for (let i = start; i < start + count; i++) s += x[i * dims + k]!;
    return count ? s / count : NaN;
  };
  const features = names
    .map((name, k) => ({ name, weight: all.weights[k]!, meanA: meanOf(0, a.length, k), meanB: meanOf(a.length, b.length, k) }))
    .sort((p, q) => Math.abs(q.weight) - Math.abs(p.weight))
    .slice(0, opts.topFeatures ?? 8);
  return {
    auc, ci, level, n: [a.length, b.length], folds, bootstrap: resamples,
    method: `L2-penalised logistic regression (λ = ${opts.l2 ?? 1}) on ${dims} standardised features, ${folds}-fold cross-fitted (stratified): every hairpin scored by a model fitted without it; ${Math.round(level * 100)}% percentile bootstrap over hairpins (${resamples} resamples within each set)`,
    features,
  };
}

/** {@link twoSampleAuc} of generated hairpins (label 1) against real ones (label 0) on {@link realismFeatures}. */
export function realVsGeneratedTest(real: readonly FoldedHairpin[], generated: readonly FoldedHairpin[], opts: TwoSampleOptions = {}): TwoSampleResult {
  return twoSampleAuc(real.map(realismFeatures), generated.map(realismFeatures), REALISM_FEATURE_NAMES, opts);
}

// ---------------------------------------------------------------------------------------------
// Distributions and their distances
// ---------------------------------------------------------------------------------------------

/** Jensen–Shannon divergence (bits, 0–1) of two non-negative histograms on the same bins, each normalised to sum 1. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new InputError(`histograms of ${p.length} and ${q.length} bins`);
  let sp = 0, sq = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! >= 0 && q[i]! >= 0)) throw new InputError(`bin ${i} has a negative or missing count`);
    sp += p[i]!;
    sq += q[i]!;
  }
  if (sp === 0 || sq === 0) throw new InputError("an empty histogram has no divergence");
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp, b = q[i]! / sq, m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.min(1, Math.max(0, d));
}

/** Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs (0–1). */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) throw new InputError("the KS statistic needs values in both samples");
  const x = [...a].sort((p, q) => p - q), y = [...b].sort((p, q) => p - q);
  let i = 0, j = 0, d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** One property of two samples on shared bins. */
export interface DistributionComparison {
  /** Jensen–Shannon divergence of the binned fractions (bits, 0–1). */
  jsd: number;
  /** Kolmogorov–Smirnov statistic (unbinned). */
  ks: number;
  median: { real: number; generated: number };
  /** Shared bins [from, to) (the last one closed) with the fraction of each sample. */
  bins: { from: number; to: number; real: number; generated: number }[];
}

/**
 * Bins two samples on shared edges over their pooled range — `integer`: whole units, widened
 * so there are at most `maxBins`; else `maxBins` equal bins (default 30) — and compares them.
 */
export function compareDistributions(real: readonly number[], generated: readonly number[], opts: { integer?: boolean; maxBins?: number } = {}): DistributionComparison {
  if (real.length === 0 || generated.length === 0) throw new InputError("a distribution comparison needs values in both samples");
  for (const v of [...real, ...generated]) if (!Number.isFinite(v)) throw new InputError(`value ${v} is not a finite number`);
  const maxBins = opts.maxBins ?? 30;
  let lo = Infinity, hi = -Infinity;
  for (const v of [...real, ...generated]) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  let width: number, count: number;
  if (opts.integer) {
    lo = Math.floor(lo);
    width = Math.max(1, Math.ceil((Math.floor(hi) - lo + 1) / maxBins));
    count = Math.floor((Math.floor(hi) - lo) / width) + 1;
  } else {
    count = hi > lo ? maxBins : 1;
    width = hi > lo ? (hi - lo) / maxBins : 1;
  }
  const histogram = (values: readonly number[]) => {
    const h = new Float64Array(count);
    for (const v of values) h[Math.min(count - 1, Math.floor((v - lo) / width))]! += 1 / values.length;
    return h;
  };
  const r = histogram(real), g = histogram(generated);
  return {
    jsd: jensenShannon(r, g),
    ks: ksStatistic(real, generated),
    median: { real: quantile(real, 0.5), generated: quantile(generated, 0.5) },
    bins: Array.from({ length: count }, (_, k) => ({ from: round6(lo + k * width), to: round6(lo + (k + 1) * width), real: round6(r[k]!), generated: round6(g[k]!) })),
  };
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Real against generated hairpins, property by property and by 3-mer spectrum. */
export interface RealismComparison {
  n: { real: number; generated: number };
  properties: ({ property: RealismProperty } & DistributionComparison)[];
  /** The pooled 3-mer spectra ({@link kmerNames} order) and their Jensen–Shannon divergence. */
  kmers: { k: number; names: string[]; real: number[]; generated: number[]; jsd: number };
}

/** Compares the {@link REALISM_PROPERTIES} and the 3-mer spectra of real and generated folded hairpins. */
export function realismComparison(real: readonly FoldedHairpin[], generated: readonly FoldedHairpin[], opts: { maxBins?: number } = {}): RealismComparison {
  const pr = real.map(realismProperties), pg = generated.map(realismProperties);
  const k = 3;
  const sr = kmerSpectrum(real.map((h) => h.sequence), k), sg = kmerSpectrum(generated.map((h) => h.sequence), k);
  return {
    n: { real: real.length, generated: generated.length },
    properties: REALISM_PROPERTIES.map((property) => ({
      property,
      ...compareDistributions(pr.map((p) => p[property]), pg.map((p) => p[property]), { integer: INTEGER_PROPERTIES.has(property), maxBins: opts.maxBins }),
    })),
    kmers: { k, names: kmerNames(k), real: Array.from(sr, round6), generated: Array.from(sg, round6), jsd: jensenShannon(sr, sg) },
  };
}
