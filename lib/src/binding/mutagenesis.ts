import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { quantileSorted } from "../metrics";
import { InputSource, predictAsync, Predictor } from "../predict";
import { targetScore } from "../saliency";
import { bindingMatrixChannels, encodeBindingMatrix } from "./encoding";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";
import type { Pairs } from "./tables";

/**
 * Single-position mutagenesis of a pair (as the original's in-silico "baseline" analysis, which
 * mutated the miRNA of each pair; notebook/model_train_lock.ipynb of
 * github.com/ML-Bioinfo-CEITEC/mirna_binding): every base of the miRNA (positions 1–20) or of
 * the site (1–50) replaced by each of its three alternatives, the pair re-encoded (a base
 * changes a whole column or row of the binding matrix) and re-scored; the change in score per
 * position shows what the model relies on. (The original's other analysis, which re-plants the
 * mutated miRNA into its site, is insilico.ts replantedMutagenesis.)
 */

/** Which sequence of a pair is mutated. */
export type MutatedSequence = "mirna" | "site";

/** Options of {@link mutagenesis}. */
export interface MutagenesisOptions {
  /** Default "mirna". */
  sequence?: MutatedSequence;
  /**
   * Score compared: "probability" (the model's output, as the original) or "logit"
   * (log(p / (1 − p)), which still moves where a confident model's probability saturates at
   * 0 or 1). Default "probability".
   */
  scale?: "probability" | "logit";
  /** Pairs scored per forward pass. Default 256. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Output of {@link mutagenesis}. */
export interface MutagenesisResult {
  sequence: MutatedSequence;
  scale: "probability" | "logit";
  n: number;
  /** 20 (miRNA) or 50 (site). */
  positions: number;
  /** Mutants per position: 3 (every other base) here, 1 for insilico.ts replantedMutagenesis. */
  alternatives: number;
  /** Score of each unmutated pair: Float32Array, shape=(n,). */
  original: Float32Array;
  /**
   * score(mutant) − score(original): Float32Array, shape=(n, positions, alternatives),
   * row-major; alternatives in the order A, C, G, T without the original base. NaN where the
   * original base is N (nothing to mutate).
   */
  deltas: Float32Array;
}

const BASES = ["A", "C", "G", "T"] as const;

/** The three alternatives of a base (A, C, G, T order), or null for N. */
function alternatives(base: string): string[] | null {
  return (BASES as readonly string[]).includes(base) ? BASES.filter((b) => b !== base) : null;
}

/**
 * Scores every single-base mutant of `pairs` (`mirnas`, `sites`: shape=(n,) each; miRNAs or sites
 * mutated, see {@link MutagenesisOptions}) with a binding model (input shape=(batch, 50, 20,
 * channels), output shape=(batch, 1)) through the shared batched predict: n · (1 + 3 · positions)
 * pairs, encoded batch by batch. Returns original shape=(n,) and deltas shape=(n, positions, 3)
 * ({@link MutagenesisResult}). Leaves no tensors behind.
 */
export async function mutagenesis(model: tf.LayersModel, pairs: Pick<Pairs, "mirnas" | "sites">, opts: MutagenesisOptions = {}): Promise<MutagenesisResult> {
  const sequence = opts.sequence ?? "mirna";
  const scale = opts.scale ?? "probability";
  if (sequence !== "mirna" && sequence !== "site") throw new InputError(`sequence must be 'mirna' or 'site', got '${String(sequence)}'`);
  if (scale !== "probability" && scale !== "logit") throw new InputError(`scale must be 'probability' or 'logit', got '${String(scale)}'`);
  const n = pairs.mirnas.length;
  if (pairs.sites.length !== n) throw new InputError(`got ${n} miRNAs but ${pairs.sites.length} sites`);
  const positions = sequence === "mirna" ? MIRNA_LENGTH : SITE_LENGTH;
  const perPair = 1 + 3 * positions;
  const wobbleChannel = model.inputs[0]!.shape[3] === 2;
  const channels = bindingMatrixChannels({ wobbleChannel });
  const pairSize = SITE_LENGTH * MIRNA_LENGTH * channels;
  const batchSize = opts.batchSize ?? 256;

  // Row r: pair floor(r / perPair); within it 0 = the original, then position p, alternative a.
  const variant = (r: number): { mirna: string; site: string } => {
    const k = Math.floor(r / perPair);
    const v = r % perPair;
    const mirna = pairs.mirnas[k]!;
    const site = pairs.sites[k]!;
    if (v === 0) return { mirna, site };
    const p = Math.floor((v - 1) / 3);
    const a = (v - 1) % 3;
    const target = sequence === "mirna" ? mirna : site;
    const alt = alternatives(target[p]!);
    // N: scored unchanged, reported as NaN.
    const mutated = alt ? target.slice(0, p) + alt[a]! + target.slice(p + 1) : target;
    return sequence === "mirna" ? { mirna: mutated, site } : { mirna, site: mutated };
  };
  let buffer = new Float32Array(0);
  const source: InputSource = {
    n: n * perPair,
    make(start, end) {
      const mirnas: string[] = [];
      const sites: string[] = [];
      for (let r = start; r < end; r++) {
        const v = variant(r);
        mirnas.push(v.mirna);
        sites.push(v.site);
      }
      if ((end - start) * pairSize > buffer.length) buffer = new Float32Array((end - start) * pairSize);
      const view = buffer.subarray(0, (end - start) * pairSize);
      encodeBindingMatrix(mirnas, sites, { wobbleChannel, out: view });
      return tf.tensor4d(view, [end - start, SITE_LENGTH, MIRNA_LENGTH, channels]);
    },
  };
  const target = scale === "logit" ? targetScore(model) : null;
  let scores: Float32Array;
  try {
    const predictor: Predictor = target ? target.score : model;
    scores = (await predictAsync(predictor, source, { batchSize, onProgress: opts.onProgress })).values;
  } finally {
    target?.dispose();
  }
  const original = new Float32Array(n);
  const deltas = new Float32Array(n * positions * 3);
  for (let k = 0; k < n; k++) {
    const s0 = scores[k * perPair]!;
    original[k] = s0;
    const seq = sequence === "mirna" ? pairs.mirnas[k]! : pairs.sites[k]!;
    for (let p = 0; p < positions; p++) {
      const isN = alternatives(seq[p]!) === null;
      for (let a = 0; a < 3; a++) deltas[(k * positions + p) * 3 + a] = isN ? NaN : scores[k * perPair + 1 + p * 3 + a]! - s0;
    }
  }
  return { sequence, scale, n, positions, alternatives: 3, original, deltas };
}

/** Box-plot statistics of a set of values (Tukey whiskers: the furthest values within 1.5 IQR of the box). */
export interface BoxStats {
  n: number;
  mean: number;
  /** Mean of |values|. */
  meanAbs: number;
  lowerWhisker: number;
  q1: number;
  median: number;
  q3: number;
  upperWhisker: number;
}

/** {@link BoxStats} of the finite values of `values` (shape=(n,); NaN skipped; quartiles interpolated linearly, as NumPy's default). */
export function boxStats(values: ArrayLike<number>): BoxStats {
  const sorted = Float64Array.from(Array.from(values).filter((v) => Number.isFinite(v))).sort();
  const n = sorted.length;
  if (n === 0) throw new InputError("box statistics of no values");
  const quantile = (q: number) => quantileSorted(sorted, q);
  const q1 = quantile(0.25);
  const q3 = quantile(0.75);
  const iqr = q3 - q1;
  let sum = 0, sumAbs = 0;
  for (const v of sorted) {
    sum += v;
    sumAbs += Math.abs(v);
  }
  const lowerWhisker = sorted.find((v) => v >= q1 - 1.5 * iqr)!;
  let upperWhisker = sorted[n - 1]!;
  for (let i = n - 1; i >= 0; i--) {
    if (sorted[i]! <= q3 + 1.5 * iqr) {
      upperWhisker = sorted[i]!;
      break;
    }
  }
  return { n, mean: sum / n, meanAbs: sumAbs / n, lowerWhisker, q1, median: quantile(0.5), q3, upperWhisker };
}

/** One position of a mutagenesis summary. */
export interface MutagenesisSummaryRow extends BoxStats {
  /** 1-based position on the mutated sequence. */
  position: number;
}

/**
 * Box statistics per position of a {@link mutagenesis} result, over all pairs (or the pairs
 * `rows` picks) and all their alternatives.
 */
export function mutagenesisSummary(result: MutagenesisResult, rows?: readonly number[]): MutagenesisSummaryRow[] {
  const pairs = rows ?? Array.from({ length: result.n }, (_, k) => k);
  const out: MutagenesisSummaryRow[] = [];
  for (let p = 0; p < result.positions; p++) {
    const values: number[] = [];
    for (const k of pairs) {
      for (let a = 0; a < result.alternatives; a++) values.push(result.deltas[(k * result.positions + p) * result.alternatives + a]!);
    }
    out.push({ position: p + 1, ...boxStats(values) });
  }
  return out;
}

/**
 * Positions ordered by how much mutating them changes the score (mean |Δ|, largest first): the
 * first few are the ones the model relies on.
 */
export function drivingPositions(summary: readonly MutagenesisSummaryRow[]): number[] {
  return [...summary].sort((a, b) => b.meanAbs - a.meanAbs || a.position - b.position).map((r) => r.position);
}
