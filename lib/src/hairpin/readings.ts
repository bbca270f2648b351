import { InputError } from "../errors";
import { MeanSd } from "../metrics";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH } from "./image";

/**
 * Sentences of the hairpin notebook's readings, built from the results with explicit rules, so
 * a number or a verdict in the prose is the code's, never typed by hand. Each builder states its
 * rule in its comment; numbers are printed as the results hold them (rounded only). Here: the
 * estimates and target verdicts every reading uses, the classifier against the paper, the
 * benchmark sets, pre-training, the saliency maps. The generated hairpins' sentences are in
 * lib/src/cvae/readings.ts.
 */

/** "0.368 ± 0.020" (or the mean alone for one seed). */
export function formatEstimate(x: MeanSd, digits = 3): string {
  if (!Number.isFinite(x.mean)) return "—";
  return x.sd === null ? x.mean.toFixed(digits) : `${x.mean.toFixed(digits)} ± ${x.sd.toFixed(digits)}`;
}

/** "seeds 1, 2, 3" / "seed 1". */
export function seedList(seeds: readonly number[]): string {
  return `${seeds.length === 1 ? "seed" : "seeds"} ${seeds.join(", ")}`;
}

/** A target: "≥ 0.70" (`at least`) or "≤ 0.75" (`at most`). */
export interface Target {
  direction: "at least" | "at most";
  value: number;
}

function targetText(t: Target, digits: number): string {
  return `${t.direction === "at least" ? "≥" : "≤"} ${t.value.toFixed(digits)}`;
}

function meets(v: number, t: Target): boolean {
  return t.direction === "at least" ? v >= t.value : v <= t.value;
}

/** A verdict on one target, and the sentence that says it. */
export interface TargetVerdict {
  met: boolean;
  /** Seeds whose own value meets the target. */
  seedsMet: number;
  sentence: string;
}

/**
 * The verdict on a target from per-seed values. Rule: "met" when the mean over seeds meets the
 * target; the sentence adds whether every seed does ("on every seed"), or how many do. A
 * missing value (no classifier, NaN) is "not measured", never met.
 */
export function targetVerdict(what: string, perSeed: readonly (number | null)[], seeds: readonly number[], target: Target, digits = 3): TargetVerdict {
  if (perSeed.length !== seeds.length) throw new InputError(`${perSeed.length} values for ${seeds.length} seeds`);
  const values = perSeed.filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return { met: false, seedsMet: 0, sentence: `${capitalise(what)}: not measured.` };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : null;
  const met = meets(mean, target);
  const seedsMet = values.filter((v) => meets(v, target)).length;
  const per = values.length > 1 ? ` (${seeds.map((s, k) => `seed ${s}: ${perSeed[k] === null || !Number.isFinite(perSeed[k]!) ? "—" : perSeed[k]!.toFixed(digits)}`).join(", ")})` : ` (${seedList(seeds)})`;
  const verdict = met
    ? `meets the target ${targetText(target, digits)}${values.length > 1 ? (seedsMet === values.length ? " on every seed" : ` on average, on ${seedsMet} of ${values.length} seeds`) : ""}`
    : `does NOT meet the target ${targetText(target, digits)}${values.length > 1 && seedsMet > 0 ? ` (${seedsMet} of ${values.length} seeds do)` : ""}`;
  return { met, seedsMet, sentence: `${capitalise(what)} is ${formatEstimate({ mean, sd }, digits)}${per}: it ${verdict}.` };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * The classifier against the paper. Rule: "below" / "above" the pre-trained 0.9517 by the
 * difference of the means; against the model without pre-training, the difference is "within
 * one sd over seeds" when |difference| ≤ sd, else "k sd" away (one seed: the difference alone).
 */
export function classifierVersusPublished(ours: MeanSd, seeds: readonly number[], published: { withoutPretraining: number; withPretraining: number; pretrainingImages: string }): string {
  const d = ours.mean - published.withPretraining;
  const head = `Our classifier's modhsa_test accuracy, ${formatEstimate(ours, 4)} over ${seedList(seeds)}, is ${d < 0 ? "below" : d > 0 ? "above" : "equal to"} deepMir's best ${published.withPretraining.toFixed(4)}${d !== 0 ? ` by ${Math.abs(d).toFixed(4)}` : ""}`;
  const why = d < 0
    ? `: that model was pre-trained on ${published.pretrainingImages} whose images are not in the published data, and ours is trained on modhsa_train alone`
    : "";
  const e = ours.mean - published.withoutPretraining;
  const sd = ours.sd;
  const against = sd === null || sd === 0
    ? `against the paper's model without pre-training (${published.withoutPretraining.toFixed(4)}) the difference is ${signed(e, 4)}`
    : `against the paper's model without pre-training (${published.withoutPretraining.toFixed(4)}) the difference, ${signed(e, 4)}, is ${Math.abs(e) <= sd ? "within one sd over seeds" : `${(Math.abs(e) / sd).toFixed(1)} sd over seeds`}`;
  return `${head}${why}; ${against}.`;
}

function signed(v: number, digits: number): string {
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(digits)}`;
}

/** One set's accuracy over seeds (single-class sets: sensitivity or specificity). */
export interface SetAccuracy {
  set: string;
  accuracy: MeanSd;
}

/**
 * The benchmark sets. Rules: the positive sets listed (sensitivity) from the highest mean; of two
 * or more negative sets the lowest mean is "the hard case"; sets not listed in either are left out.
 */
export function benchmarkSentence(rows: readonly SetAccuracy[], sets: { positives: readonly string[]; negatives: readonly string[] }): string {
  const pick = (names: readonly string[]) => rows.filter((r) => names.includes(r.set) && Number.isFinite(r.accuracy.mean)).sort((a, b) => b.accuracy.mean - a.accuracy.mean);
  const pos = pick(sets.positives), neg = pick(sets.negatives);
  const list = (xs: SetAccuracy[]) => xs.map((r) => `${r.set} ${r.accuracy.mean.toFixed(3)}`).join(", ");
  const parts: string[] = [];
  if (pos.length) parts.push(`Sensitivity on the ${pos.length} non-human positive sets: ${list(pos)}`);
  if (neg.length) parts.push(`specificity on the negative set${neg.length > 1 ? "s" : ""}: ${list(neg)}${neg.length > 1 ? `, so ${neg[neg.length - 1]!.set} is the hard case` : ""}`);
  return parts.length ? `${capitalise(parts.join("; "))}.` : "No benchmark set was evaluated.";
}

/**
 * Pre-training against no pre-training on the same seed. Rule: the difference counts as a gain
 * (or loss) only when it exceeds the sd between seeds of the model without pre-training; else
 * "within the spread between seeds: no effect shown" (one seed cannot show more).
 */
export function pretrainingSentence(p: { pretrained: number; withoutSameSeed: number | null; seed: number; seedSd: number | null; images: number; pretrainEpochs: number; epochs: number }): string {
  const epochs = (n: number) => `${n} epoch${n === 1 ? "" : "s"}`;
  const head = `Pre-training on the ${p.images.toLocaleString("en-US")} non-human images we have (${epochs(p.pretrainEpochs)}, then ${epochs(p.epochs)} on modhsa_train; seed ${p.seed}) gives modhsa_test accuracy ${p.pretrained.toFixed(4)}`;
  if (p.withoutSameSeed === null) return `${head}.`;
  const d = p.pretrained - p.withoutSameSeed;
  const verdict = p.seedSd === null
    ? "one seed each, so no effect can be shown"
    : Math.abs(d) <= p.seedSd
      ? `within the spread between seeds (sd ${p.seedSd.toFixed(4)}): no effect shown`
      : `${d > 0 ? "a gain" : "a loss"} larger than the sd between seeds (${p.seedSd.toFixed(4)}), on one seed`;
  return `${head} against ${p.withoutSameSeed.toFixed(4)} without it on the same seed: ${signed(d, 4)}, ${verdict}.`;
}

// ---------------------------------------------------------------------------------------------
// Saliency maps
// ---------------------------------------------------------------------------------------------

/** Where a 25 × 100 saliency map concentrates. */
export interface SaliencyShape {
  /** Column (0 = loop) and row of the largest column / row mean. */
  peakColumn: number;
  peakRow: number;
  /** The contiguous columns / rows around the peak whose mean is at least half the peak's. */
  columnBand: [number, number];
  rowBand: [number, number];
  /** Mean and largest pixel value. */
  mean: number;
  max: number;
}

function band(profile: Float64Array, peak: number): [number, number] {
  const half = profile[peak]! / 2;
  let a = peak, b = peak;
  while (a > 0 && profile[a - 1]! >= half) a--;
  while (b < profile.length - 1 && profile[b + 1]! >= half) b++;
  return [a, b];
}

/** The {@link SaliencyShape} of a map shape=(25, 100), row-major. */
export function saliencyShape(map: ArrayLike<number>): SaliencyShape {
  const H = HAIRPIN_IMAGE_HEIGHT, W = HAIRPIN_IMAGE_WIDTH;
  if (map.length !== H * W) throw new InputError(`a saliency map has ${H} × ${W} values, got ${map.length}`);
  const rows = new Float64Array(H), cols = new Float64Array(W);
  let sum = 0, max = -Infinity;
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const v = map[r * W + c]!;
      rows[r]! += v / W;
      cols[c]! += v / H;
      sum += v;
      max = Math.max(max, v);
    }
  }
  const argmax = (a: Float64Array) => a.reduce((best, v, i) => (v > a[best]! ? i : best), 0);
  const peakColumn = argmax(cols), peakRow = argmax(rows);
  return { peakColumn, peakRow, columnBand: band(cols, peakColumn), rowBand: band(rows, peakRow), mean: sum / (H * W), max };
}

function shapeText(s: SaliencyShape): string {
  return `columns ${s.columnBand[0]}–${s.columnBand[1]} (largest at column ${s.peakColumn}) and rows ${s.rowBand[0]}–${s.rowBand[1]} (largest at row ${s.peakRow})`;
}

/**
 * What the average saliency maps show, ours beside the published ones, for true positives and
 * true negatives. Rules: a map's extent is its half-maximum band of column means and of row
 * means around their peaks (column 0 = the terminal loop); intensities are compared by the
 * mean pixel, "about as intense" when the ratio is within 0.8–1.25, else "k× as intense";
 * positives and negatives "differ in kind" (published maps) when their peak columns are ≥ 10
 * apart or the negatives' row band is ≥ 1.5× as wide as the positives'.
 */
export function saliencyReading(maps: { positives: { ours: ArrayLike<number>; published: ArrayLike<number>; pearson: number } | null; negatives: { ours: ArrayLike<number>; published: ArrayLike<number>; pearson: number } | null }): string[] {
  const out: string[] = [];
  const shapes: Partial<Record<"positives" | "negatives", { ours: SaliencyShape; published: SaliencyShape }>> = {};
  for (const kind of ["positives", "negatives"] as const) {
    const m = maps[kind];
    const label = kind === "positives" ? "True positives" : "True negatives";
    if (!m) {
      out.push(`${label}: no map (the model calls no image of the class correctly).`);
      continue;
    }
    const ours = saliencyShape(m.ours), published = saliencyShape(m.published);
    shapes[kind] = { ours, published };
    const ratio = ours.mean / published.mean;
    const intensity = ratio >= 0.8 && ratio <= 1.25
      ? "about as intense as the published one"
      : `${ratio > 1 ? ratio.toFixed(1) : (1 / ratio).toFixed(1)}× ${ratio > 1 ? "as intense as" : "less intense than"} the published one`;
    out.push(`${label}: the published map is concentrated in ${shapeText(published)}; ours in ${shapeText(ours)}. The pixels correlate at r = ${m.pearson.toFixed(2)}, but ours is ${intensity} (mean saliency ${ours.mean.toFixed(3)} against ${published.mean.toFixed(3)}; largest pixel ${ours.max.toFixed(2)} against ${published.max.toFixed(2)}): the correlation compares shapes, not intensities.`);
  }
  const p = shapes.positives?.published, n = shapes.negatives?.published;
  if (p && n) {
    const width = (b: [number, number]) => b[1] - b[0] + 1;
    const apart = Math.abs(n.peakColumn - p.peakColumn);
    const wider = width(n.rowBand) / width(p.rowBand);
    const differ = apart >= 10 || wider >= 1.5;
    out.push(differ
      ? `The published maps of positives and negatives differ in kind: the negatives' map peaks ${apart} columns ${n.peakColumn > p.peakColumn ? "farther from" : "nearer to"} the loop (column ${n.peakColumn} against ${p.peakColumn}) and spreads over ${width(n.rowBand)} rows against ${width(p.rowBand)} (${wider.toFixed(1)}×), i.e. over the bars above and below the nucleotide rows 12–13, not on the nucleotides.`
      : `The published maps of positives and negatives have the same kind of shape: peaks ${apart} columns apart, row bands ${width(n.rowBand)} and ${width(p.rowBand)} rows wide.`);
  }
  return out;
}
