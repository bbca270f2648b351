import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { BootstrapOptions, bootstrapMeanDifferenceCi, MeanCi } from "../metrics";
import { InputSource, predict } from "../predict";
import { completenessErrors, inputGradients, integratedGradients, targetScore } from "../saliency";
import { bindingMatrixChannels, encodeBindingMatrix } from "./encoding";
import { SEED_MATCH_CLASSES, SeedMatchClass, seedMatchClass } from "./seedMatch";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";
import type { Pairs } from "./tables";

/**
 * What a binding model looks at (beyond the original's heat maps and mutagenesis): gradient
 * attributions on the 50 × 20 binding matrix (row i = site nucleotide i, column j = miRNA
 * nucleotide j, 1 = Watson–Crick pair), made with the model-agnostic saliency of
 * lib/src/saliency.ts (the same code as the hairpin saliency maps); their sums per miRNA
 * position (over site rows) and per site position (over miRNA columns); their aggregation per
 * seed-match class; and the pairing features that tell what drives a positive without a seed
 * match (a partial or offset seed, 3' supplementary pairing at miRNA positions 13–16, …).
 *
 * The score explained is the model's logit ({@link targetScore}): for arch_00b the input of its
 * final sigmoid, log(p / (1 − p)).
 */

/** Values of one binding matrix (one channel): 50 × 20. */
export const BINDING_MATRIX_SIZE = SITE_LENGTH * MIRNA_LENGTH;

/**
 * The binding matrices of `mirnas[k]`, `sites[k]` (shape=(n,) each) made on demand: make(start,
 * end) gives a tf.Tensor4D, shape=(end − start, 50, 20, channels) (channels 2 with
 * `wobbleChannel`, else 1), encoded into one reused buffer. For predict, saliency and integrated
 * gradients.
 */
export function bindingMatrixSource(mirnas: readonly string[], sites: readonly string[], opts: { wobbleChannel?: boolean } = {}): InputSource {
  if (mirnas.length !== sites.length) throw new InputError(`got ${mirnas.length} miRNAs but ${sites.length} sites: they must pair one to one`);
  const channels = bindingMatrixChannels(opts);
  const pairSize = BINDING_MATRIX_SIZE * channels;
  let buffer = new Float32Array(0);
  return {
    n: mirnas.length,
    make(start, end) {
      if ((end - start) * pairSize > buffer.length) buffer = new Float32Array((end - start) * pairSize);
      const view = buffer.subarray(0, (end - start) * pairSize);
      encodeBindingMatrix(mirnas.slice(start, end), sites.slice(start, end), { wobbleChannel: opts.wobbleChannel, out: view });
      return tf.tensor4d(view, [end - start, SITE_LENGTH, MIRNA_LENGTH, channels]);
    },
  };
}

/** How a pair's matrix is attributed. */
export type AttributionMethod = "saliency" | "integrated-gradients";

/**
 * The reference matrix of integrated gradients: "zero" = the all-zero matrix (no pair forms:
 * attributions say what each Watson–Crick pair adds over nothing pairing; cells that do not
 * pair get exactly 0); "uniform" = 0.25 everywhere (the chance of a Watson–Crick pair between
 * two random nucleotides); or any constant.
 */
export type AttributionBaseline = "zero" | "uniform" | number;

/** The constant value of a baseline. */
export function baselineValue(baseline: AttributionBaseline): number {
  if (baseline === "zero") return 0;
  if (baseline === "uniform") return 0.25;
  if (typeof baseline !== "number" || !Number.isFinite(baseline)) throw new InputError(`baseline must be 'zero', 'uniform' or a number, got '${String(baseline)}'`);
  return baseline;
}

/** Options of {@link bindingAttributions}. */
export interface BindingAttributionOptions {
  /** Default "integrated-gradients". */
  method?: AttributionMethod;
  /** Integrated gradients: the reference matrix. Default "zero". */
  baseline?: AttributionBaseline;
  /** Integrated gradients: Gauss–Legendre points on the path. Default 64. */
  steps?: number;
  /**
   * Integrated gradients: recompute pairs whose attributions miss completeness by more than this
   * (relative) with twice the steps, up to `maxSteps`. Default 0.01; 0 turns refinement off.
   */
  tolerance?: number;
  /** Default 256. */
  maxSteps?: number;
  /** Matrices per gradient pass. Default 256 (path points for integrated gradients, pairs for saliency: 64). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Attributions of n pairs (see {@link bindingAttributions}). */
export interface BindingAttributions {
  method: AttributionMethod;
  /** Integrated gradients: the baseline's constant value; saliency: null. */
  baseline: number | null;
  n: number;
  /**
   * Float32Array, shape=(n, 50, 20), row-major: integrated gradients (signed; sum = logit −
   * baseline logit), or the saliency ∂logit/∂cell (signed). A two-channel model's channels are
   * summed.
   */
  values: Float32Array;
  /** Logit of each pair, shape=(n,). */
  logits: Float32Array;
  /** Integrated gradients: logit of the baseline matrix per pair, shape=(n,); saliency: null. */
  baselineLogits: Float32Array | null;
  /** Integrated gradients: relative completeness error per pair (see completenessErrors), shape=(n,). */
  completeness: Float64Array | null;
  /** Integrated gradients: path points used per pair, shape=(n,). */
  steps: Uint16Array | null;
}

/**
 * Attributions of the binding matrices of `pairs` (`mirnas`, `sites`: shape=(n,) each) for a
 * binding model (input shape=(batch, 50, 20, channels), output shape=(batch, 1), sigmoid):
 * saliency (the gradient of the logit) or integrated gradients from the `baseline` matrix,
 * through lib/src/saliency.ts. Returns values shape=(n, 50, 20) and per-pair arrays shape=(n,)
 * ({@link BindingAttributions}). Leaves no tensors behind.
 */
export function bindingAttributions(model: tf.LayersModel, pairs: Pick<Pairs, "mirnas" | "sites">, opts: BindingAttributionOptions = {}): BindingAttributions {
  const method = opts.method ?? "integrated-gradients";
  if (method !== "saliency" && method !== "integrated-gradients") throw new InputError(`unknown attribution method '${String(method)}' (use saliency or integrated-gradients)`);
  const channels = model.inputs[0]!.shape[3];
  if (model.inputs[0]!.shape.length !== 4 || model.inputs[0]!.shape[1] !== SITE_LENGTH || model.inputs[0]!.shape[2] !== MIRNA_LENGTH || (channels !== 1 && channels !== 2)) {
    throw new InputError(`not a binding model: its input is (${model.inputs[0]!.shape.map((d) => d ?? "batch").join(", ")}), expected (batch, 50, 20, 1 or 2)`);
  }
  const source = bindingMatrixSource(pairs.mirnas, pairs.sites, { wobbleChannel: channels === 2 });
  const n = source.n;
  const target = targetScore(model);
  try {
    if (method === "saliency") {
      const gradients = inputGradients(target.score, source, { batchSize: opts.batchSize ?? 64 }).values;
      const logits = predict(target.score, source, { batchSize: 256 }).values;
      opts.onProgress?.(n, n);
      return { method, baseline: null, n, values: sumChannels(gradients, n, channels), logits, baselineLogits: null, completeness: null, steps: null };
    }
    const baseline = baselineValue(opts.baseline ?? "zero");
    const tolerance = opts.tolerance ?? 0.01;
    const result = integratedGradients(target.score, source, {
      baseline, steps: opts.steps ?? 64, rule: "gauss-legendre",
      tolerance: tolerance > 0 ? tolerance : undefined, maxSteps: opts.maxSteps ?? 256,
      batchSize: opts.batchSize ?? 256, onProgress: opts.onProgress,
    });
    const completeness = completenessErrors(result);
    return {
      method, baseline, n, values: sumChannels(result.values, n, channels),
      logits: result.inputScores, baselineLogits: result.baselineScores, completeness, steps: result.steps,
    };
  } finally {
    target.dispose();
  }
}

/** shape=(n, 50, 20, channels) → shape=(n, 50, 20), channels summed. */
function sumChannels(values: Float32Array, n: number, channels: number): Float32Array {
  if (channels === 1) return values;
  const out = new Float32Array(n * BINDING_MATRIX_SIZE);
  for (let c = 0; c < out.length; c++) {
    let s = 0;
    for (let k = 0; k < channels; k++) s += values[c * channels + k]!;
    out[c] = s;
  }
  return out;
}

/** Which axis of the binding matrix a profile runs along. */
export type ProfileAxis = "mirna" | "site";

/**
 * Per-position profiles of attribution matrices (`values`: shape=(n, 50, 20), row-major).
 * Returns Float32Array, row-major:
 *   - axis "mirna": position j = Σ over the 50 site rows of column j, shape=(n, 20);
 *   - axis "site": position i = Σ over the 20 miRNA columns of row i, shape=(n, 50).
 * `absolute` sums |values| (saliency: how sensitive the score is to the position), else the
 * signed values (integrated gradients: what the position adds to the logit).
 */
export function positionProfiles(values: Float32Array, axis: ProfileAxis, opts: { absolute?: boolean } = {}): Float32Array {
  if (values.length % BINDING_MATRIX_SIZE !== 0) throw new InputError(`${values.length} values are not whole 50 × 20 matrices`);
  const n = values.length / BINDING_MATRIX_SIZE;
  const positions = axis === "mirna" ? MIRNA_LENGTH : SITE_LENGTH;
  const out = new Float32Array(n * positions);
  for (let k = 0; k < n; k++) {
    const base = k * BINDING_MATRIX_SIZE;
    for (let i = 0; i < SITE_LENGTH; i++) {
      for (let j = 0; j < MIRNA_LENGTH; j++) {
        const v = values[base + i * MIRNA_LENGTH + j]!;
        out[k * positions + (axis === "mirna" ? j : i)]! += opts.absolute ? Math.abs(v) : v;
      }
    }
  }
  return out;
}

/** The seed-match class of every pair (see seedMatch.ts): shape=(n,). */
export function seedMatchClasses(pairs: Pick<Pairs, "mirnas" | "sites">): SeedMatchClass[] {
  return pairs.mirnas.map((m, k) => seedMatchClass(m, pairs.sites[k]!));
}

/** One row of a per-position summary: a group's mean profile value at one position. */
export interface PositionSummaryRow {
  group: string;
  /** 1-based position on the profile's axis. */
  position: number;
  /** Pairs in the group. */
  n: number;
  mean: number;
  sd: number;
  /** Mean of each pair's share of its total |attribution| at this position. */
  share: number;
}

/**
 * Mean ± sd of each position of `profiles` (shape=(n, positions), row-major) per group
 * (`groups`: shape=(n,); `groups[k]` names the group of pair k, e.g. its seed-match class or
 * "positive"), groups in the order of `order` (default: first appearance; groups of `order`
 * without pairs are left out). Means in
 * float64.
 */
export function summariseProfiles(profiles: Float32Array, positions: number, groups: readonly string[], order?: readonly string[]): PositionSummaryRow[] {
  const n = groups.length;
  if (profiles.length !== n * positions) throw new InputError(`${profiles.length} profile values for ${n} pairs × ${positions} positions`);
  const names = order ? order.filter((g) => groups.includes(g)) : [...new Set(groups)];
  const rows: PositionSummaryRow[] = [];
  for (const group of names) {
    const members: number[] = [];
    for (let k = 0; k < n; k++) if (groups[k] === group) members.push(k);
    const sum = new Float64Array(positions);
    const squares = new Float64Array(positions);
    const shares = new Float64Array(positions);
    for (const k of members) {
      let total = 0;
      for (let p = 0; p < positions; p++) total += Math.abs(profiles[k * positions + p]!);
      for (let p = 0; p < positions; p++) {
        const v = profiles[k * positions + p]!;
        sum[p]! += v;
        squares[p]! += v * v;
        if (total > 0) shares[p]! += Math.abs(v) / total;
      }
    }
    const m = members.length;
    for (let p = 0; p < positions; p++) {
      const mean = sum[p]! / m;
      const variance = m > 1 ? Math.max(0, (squares[p]! - m * mean * mean) / (m - 1)) : 0;
      rows.push({ group, position: p + 1, n: m, mean, sd: Math.sqrt(variance), share: shares[p]! / m });
    }
  }
  return rows;
}

/** Seed-match classes as groups, best first (for {@link summariseProfiles}'s `order`). */
export const SEED_CLASS_ORDER: readonly string[] = SEED_MATCH_CLASSES;

/** The position (1-based) with the largest mean of one group of a summary. */
export function peakPosition(rows: readonly PositionSummaryRow[], group: string): number {
  const own = rows.filter((r) => r.group === group);
  if (own.length === 0) throw new InputError(`no rows of group '${group}'`);
  return own.reduce((best, r) => (r.mean > best.mean ? r : best)).position;
}

/** Regions of the miRNA (1-based, inclusive), as the target-recognition literature names them. */
export const MIRNA_REGIONS: readonly { name: string; from: number; to: number }[] = [
  { name: "1", from: 1, to: 1 },
  { name: "seed 2–8", from: 2, to: 8 },
  { name: "central 9–12", from: 9, to: 12 },
  { name: "3' supplementary 13–16", from: 13, to: 16 },
  { name: "3' end 17–20", from: 17, to: 20 },
];

/**
 * Each pair's share of its total |attribution| in each miRNA region ({@link MIRNA_REGIONS}),
 * from per-miRNA-position profiles (shape=(n, 20), row-major). Returns Float32Array,
 * shape=(n, regions), row-major, regions = MIRNA_REGIONS.length; a pair with no attribution at
 * all gets zeros.
 */
export function regionShares(mirnaProfiles: Float32Array): Float32Array {
  if (mirnaProfiles.length % MIRNA_LENGTH !== 0) throw new InputError(`${mirnaProfiles.length} values are not whole 20-position profiles`);
  const n = mirnaProfiles.length / MIRNA_LENGTH;
  const regions = MIRNA_REGIONS.length;
  const out = new Float32Array(n * regions);
  for (let k = 0; k < n; k++) {
    let total = 0;
    for (let j = 0; j < MIRNA_LENGTH; j++) total += Math.abs(mirnaProfiles[k * MIRNA_LENGTH + j]!);
    if (!(total > 0)) continue;
    MIRNA_REGIONS.forEach((region, r) => {
      let s = 0;
      for (let j = region.from - 1; j < region.to; j++) s += Math.abs(mirnaProfiles[k * MIRNA_LENGTH + j]!);
      out[k * regions + r] = s / total;
    });
  }
  return out;
}

/**
 * Contiguous Watson–Crick pairing of one miRNA–site pair: the longest run of consecutive miRNA
 * positions that pair on one anti-diagonal of the binding matrix (miRNA j with site i, j + 1
 * with i − 1, …: an uninterrupted duplex), overall and within miRNA regions.
 */
export interface PairingFeatures {
  /** Longest run anywhere (nt) and its first miRNA position (1-based; 0 when there is none). */
  longestRun: number;
  longestRunStart: number;
  /** Longest run within miRNA positions 2–8 (the seed; a 6mer is 6 at 2–7). */
  seedRun: number;
  seedRunStart: number;
  /** Longest run within miRNA positions 13–16 (3' supplementary pairing; at most 4). */
  supplementaryRun: number;
}

/** {@link PairingFeatures} of a miRNA (20 nt) and a site (50 nt), both normalised DNA. */
export function pairingFeatures(mirna: string, site: string): PairingFeatures {
  if (mirna.length !== MIRNA_LENGTH || site.length !== SITE_LENGTH) throw new InputError(`pairingFeatures needs a 20-nt miRNA and a 50-nt site, got ${mirna.length} and ${site.length}`);
  const partner: Record<string, string> = { A: "T", T: "A", C: "G", G: "C" };
  const out: PairingFeatures = { longestRun: 0, longestRunStart: 0, seedRun: 0, seedRunStart: 0, supplementaryRun: 0 };
  // Anti-diagonal d: miRNA position j (0-based) pairs site position d − j.
  for (let d = 0; d <= SITE_LENGTH + MIRNA_LENGTH - 2; d++) {
    let run = 0, seed = 0, supplementary = 0;
    for (let j = 0; j < MIRNA_LENGTH; j++) {
      const i = d - j;
      const pairs = i >= 0 && i < SITE_LENGTH && partner[mirna[j]!] !== undefined && partner[mirna[j]!] === site[i];
      run = pairs ? run + 1 : 0;
      seed = pairs && j >= 1 && j <= 7 ? seed + 1 : 0;
      supplementary = pairs && j >= 12 && j <= 15 ? supplementary + 1 : 0;
      if (run > out.longestRun) {
        out.longestRun = run;
        out.longestRunStart = j - run + 2;
      }
      if (seed > out.seedRun) {
        out.seedRun = seed;
        out.seedRunStart = j - seed + 2;
      }
      if (supplementary > out.supplementaryRun) out.supplementaryRun = supplementary;
    }
  }
  return out;
}

/**
 * Groups of pairs without a canonical seed match (see {@link noSeedGroup}): "partial seed" = an
 * offset or partial seed, ≥ 5 consecutive pairs within miRNA 2–8; "3' pairing" = miRNA 13–16
 * all paired on one diagonal; "other".
 */
export const NO_SEED_GROUPS = ["partial seed", "3' pairing", "other"] as const;
export type NoSeedGroup = (typeof NO_SEED_GROUPS)[number];

/**
 * What a pair without a canonical seed match (class "none") still pairs: "partial seed" when
 * ≥ 5 consecutive miRNA positions within 2–8 pair on one diagonal (an offset 6mer at 3–8, or
 * 2–6, …); else "3' pairing" when positions 13–16 all pair on one diagonal; else "other".
 */
export function noSeedGroup(features: PairingFeatures): NoSeedGroup {
  if (features.seedRun >= 5) return NO_SEED_GROUPS[0];
  if (features.supplementaryRun >= 4) return NO_SEED_GROUPS[1];
  return NO_SEED_GROUPS[2];
}

/** Scores and attribution shares of one group of pairs, one value per pair. */
export interface GroupValues {
  /** The model's logit per pair. */
  logits: ArrayLike<number>;
  /** Each pair's share of its |attribution| at miRNA positions 13–16 (regionShares). */
  shares: ArrayLike<number>;
}

/** Outcome of {@link threePrimeContrast}. */
export interface ThreePrimeContrast {
  /** Pairs with 3' pairing, and without (the comparison group). */
  paired: number;
  unpaired: number;
  /** mean logit(3' pairing) − mean logit(other), with its bootstrap interval; null when too few. */
  logitDifference: MeanCi | null;
  /** The same for the share of |attribution| at 13–16. */
  shareDifference: MeanCi | null;
  /** The smallest group size the rule decides on. */
  minPairs: number;
  verdict: "too few to tell" | "3' pairing raises the score" | "no 3' effect detected";
}

/**
 * Does 3' supplementary pairing (miRNA 13–16) raise a model's score where there is no seed
 * match? Compares pairs with it (`paired`, e.g. no-seed positives in the "3' pairing" group)
 * with pairs of the same label without it (`unpaired`, e.g. the "other" group): the difference
 * of the mean logits and of the mean shares of |attribution| at 13–16, with percentile
 * bootstrap intervals (each group resampled on its own; metrics.ts). Rule: "too few to tell"
 * when either group has fewer than `minPairs` pairs (default 30); "3' pairing raises the score"
 * when both intervals lie above 0; else "no 3' effect detected".
 */
export function threePrimeContrast(paired: GroupValues, unpaired: GroupValues, opts: BootstrapOptions & { minPairs?: number } = {}): ThreePrimeContrast {
  const minPairs = opts.minPairs ?? 30;
  for (const [name, g] of [["paired", paired], ["unpaired", unpaired]] as const) {
    if (g.logits.length !== g.shares.length) throw new InputError(`${name}: ${g.logits.length} logits but ${g.shares.length} shares`);
  }
  const base = { paired: paired.logits.length, unpaired: unpaired.logits.length, minPairs };
  if (base.paired < minPairs || base.unpaired < minPairs) return { ...base, logitDifference: null, shareDifference: null, verdict: "too few to tell" };
  const logitDifference = bootstrapMeanDifferenceCi(paired.logits, unpaired.logits, opts);
  const shareDifference = bootstrapMeanDifferenceCi(paired.shares, unpaired.shares, opts);
  const verdict = logitDifference.lo > 0 && shareDifference.lo > 0 ? "3' pairing raises the score" : "no 3' effect detected";
  return { ...base, logitDifference, shareDifference, verdict };
}

/** One example pair for a matrix view (see {@link pickExamples}). */
export interface ExamplePair {
  /** Index into the pairs. */
  index: number;
  kind: "true positive" | "false positive" | "miss";
  seedClass: SeedMatchClass;
  probability: number;
}

/**
 * Example pairs for matrix views, deterministic (no randomness: by score): true positives
 * (label 1, p ≥ threshold) — the highest-scoring one of each seed-match class, best class first,
 * at most `perKind`; false positives (label 0, p ≥ threshold) — the `perKind` highest-scoring;
 * misses (label 1, p < threshold) — the `perKind` lowest-scoring. `labels`, `probabilities` and
 * `classes`: shape=(n,) each.
 */
export function pickExamples(labels: ArrayLike<number>, probabilities: ArrayLike<number>, classes: readonly SeedMatchClass[], opts: { perKind?: number; threshold?: number } = {}): ExamplePair[] {
  const perKind = opts.perKind ?? 3;
  const threshold = opts.threshold ?? 0.5;
  if (labels.length !== probabilities.length || labels.length !== classes.length) throw new InputError(`${labels.length} labels, ${probabilities.length} probabilities and ${classes.length} classes: they must match`);
  const all = Array.from({ length: labels.length }, (_, i) => i);
  const byScore = (a: number, b: number) => probabilities[b]! - probabilities[a]! || a - b;
  const example = (index: number, kind: ExamplePair["kind"]): ExamplePair => ({ index, kind, seedClass: classes[index]!, probability: probabilities[index]! });
  const tp: ExamplePair[] = [];
  for (const c of SEED_MATCH_CLASSES) {
    if (tp.length >= perKind) break;
    const best = all.filter((i) => labels[i] === 1 && probabilities[i]! >= threshold && classes[i] === c).sort(byScore)[0];
    if (best !== undefined) tp.push(example(best, "true positive"));
  }
  const fp = all.filter((i) => labels[i] === 0 && probabilities[i]! >= threshold).sort(byScore).slice(0, perKind).map((i) => example(i, "false positive"));
  const miss = all.filter((i) => labels[i] === 1 && probabilities[i]! < threshold).sort((a, b) => probabilities[a]! - probabilities[b]! || a - b).slice(0, perKind).map((i) => example(i, "miss"));
  return [...tp, ...fp, ...miss];
}

/** The matrix of pair `k` of `values` (shape=(n, 50, 20)): a view, shape=(50, 20), row-major. */
export function matrixOf(values: Float32Array, k: number): Float32Array {
  return values.subarray(k * BINDING_MATRIX_SIZE, (k + 1) * BINDING_MATRIX_SIZE);
}
