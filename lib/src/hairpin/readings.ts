import { InputError } from "../errors";
import { MeanSd } from "../metrics";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH } from "./image";

/**
 * Sentences of the hairpin notebook's readings, built from the results with explicit rules, so
 * a number or a verdict in the prose is the code's, never typed by hand. Each builder states its
 * rule in its comment; numbers are printed as the results hold them (rounded only).
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

// ---------------------------------------------------------------------------------------------
// Generation: realism, the judge, verification, latents
// ---------------------------------------------------------------------------------------------

/** One seed's discriminator result. */
export interface DiscriminatorSeed {
  seed: number;
  auc: number;
  ci: [number, number];
  level: number;
}

/**
 * The real-vs-generated two-sample test. Rules: the target is met when the mean AUC over seeds is
 * ≤ `target`; "indistinguishable" when every seed's interval holds 0.5, else "distinguishable";
 * the features named are the all-rows fit's largest weights (first seed), each said "higher" or
 * "lower" in generated hairpins by its means (a weight's sign in a joint fit need not be the
 * marginal difference).
 */
export function discriminatorSentence(
  perSeed: readonly DiscriminatorSeed[], target: number,
  opts: { features?: readonly { name: string; weight: number; meanA: number; meanB: number }[]; controls?: { halves: number; training: number }; what?: string; against?: string } = {},
): string {
  if (perSeed.length === 0) throw new InputError("no discriminator results");
  const what = opts.what ?? "raw generated pre-miRNAs", against = opts.against ?? "the test pre-miRNAs";
  const aucs = perSeed.map((s) => s.auc);
  const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
  const sd = aucs.length > 1 ? Math.sqrt(aucs.reduce((a, b) => a + (b - mean) ** 2, 0) / (aucs.length - 1)) : null;
  const indistinguishable = perSeed.every((s) => s.ci[0] <= 0.5 && s.ci[1] >= 0.5);
  const intervals = perSeed.map((s) => `seed ${s.seed}: ${s.auc.toFixed(3)}, ${Math.round(s.level * 100)}% CI ${s.ci[0].toFixed(3)}–${s.ci[1].toFixed(3)}`).join("; ");
  const verdict = mean <= target ? `meets the target ≤ ${target.toFixed(2)}` : `does NOT meet the target ≤ ${target.toFixed(2)}`;
  const controls = opts.controls
    ? ` For scale, the same test gives ${opts.controls.halves.toFixed(3)} between two halves of the test pre-miRNAs and ${opts.controls.training.toFixed(3)} between the training pre-miRNAs (the generator's data, other species included) and the test ones.`
    : "";
  const features = opts.features?.length
    ? ` What tells them apart most (weights per sd of the feature, seed ${perSeed[0]!.seed}): ${opts.features.slice(0, 4).map((f) => `${f.name} (${f.meanB > f.meanA ? "higher" : f.meanB < f.meanA ? "lower" : "the same on average"} in generated: ${fmtFeature(f.meanB)} against ${fmtFeature(f.meanA)})`).join(", ")}.`
    : "";
  return `A logistic discriminator on k-mer and structure features tells ${what} from ${against} with cross-fitted ROC-AUC ${formatEstimate({ mean, sd })} (${intervals}); 0.5 would be indistinguishable. It ${verdict}: the two sets are ${indistinguishable ? "indistinguishable to it on every seed" : "distinguishable"}.${controls}${features}`;
}

function fmtFeature(v: number): string {
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
}

/**
 * The classifier as judge. Rules: the target (≤ `target` of generated negatives called
 * pre-miRNA) is met by the mean over seeds; when it is not, the sentence says how many times the
 * real negatives' rate that is and what it means for the judge.
 */
/** Difference in pre-miRNA call rates by which {@link judgeSentence} says a judge separates two classes. */
export const JUDGE_SEPARATION = 0.5;

export function judgeSentence(generatedNegatives: MeanSd, realNegatives: number | null, generatedPositives: MeanSd, realPositives: number | null, target: number): string {
  if (!Number.isFinite(generatedNegatives.mean) || realNegatives === null) return "The classifier as judge: not measured (no classifier).";
  const met = generatedNegatives.mean <= target;
  const base = `The classifier calls ${formatEstimate(generatedNegatives)} of the raw generated NEGATIVES pre-miRNA, against ${realNegatives.toFixed(3)} of the test negatives (target ≤ ${target.toFixed(2)}: ${met ? "met" : "NOT met"}); generated pre-miRNAs ${formatEstimate(generatedPositives)} against ${realPositives === null ? "—" : realPositives.toFixed(3)} of the test pre-miRNAs.`;
  // Rule: a judge separates two classes when it calls pre-miRNA at least 0.5 more often in one than in the other.
  const realGap = realPositives === null ? null : realPositives - realNegatives;
  if (realGap !== null && realGap < JUDGE_SEPARATION) return `${base} It does not separate the real test classes (${realGap.toFixed(3)} apart; a judge needs ≥ ${JUDGE_SEPARATION}), so its calls on generated hairpins are no evidence either way.`;
  if (met) {
    const generatedGap = generatedPositives.mean - generatedNegatives.mean;
    return generatedGap >= JUDGE_SEPARATION
      ? `${base} It separates the generator's two classes (${generatedGap.toFixed(3)} apart; real: ${realGap === null ? "—" : realGap.toFixed(3)}), so its calls on generated pre-miRNAs carry information.`
      : `${base} It calls few generated negatives pre-miRNA but few generated pre-miRNAs too (${generatedGap.toFixed(3)} apart; a judge needs ≥ ${JUDGE_SEPARATION}): the generated pre-miRNAs do not look like pre-miRNAs to it.`;
  }
  const times = realNegatives > 0 ? ` (${(generatedNegatives.mean / realNegatives).toFixed(1)}× the real rate)` : "";
  return `${base} The generator conditioned on "negative" draws hairpins the classifier takes for pre-miRNAs${times}: it reproduces the hairpin shape the classifier keys on, not what makes the real negatives negative. So a high call rate on generated pre-miRNAs shows that they are hairpin-shaped, not that they are pre-miRNAs: as a judge of generated hairpins the classifier is easily fooled, and its pre-miRNA rate is an upper bound at best.`;
}

/** KS critical value at the 5% level for samples of n and m (asymptotic: 1.358 √((n + m) / (n m))). */
export function ksCritical(n: number, m: number): number {
  return 1.358 * Math.sqrt((n + m) / (n * m));
}

/**
 * Distributions of generated against real hairpins. Rule: a property "differs" when its KS
 * statistic exceeds the 5% critical value for the two sample sizes, else "no difference
 * detected"; the JSD is the distance reported; properties are listed from the largest JSD.
 */
export function distributionSentence(c: { n: { real: number; generated: number }; properties: { property: string; jsd: number; ks: number; median: { real: number; generated: number } }[]; kmers: { jsd: number } }, labels: Record<string, string>): string {
  const critical = ksCritical(c.n.real, c.n.generated);
  const sorted = [...c.properties].sort((a, b) => b.jsd - a.jsd);
  const differ = sorted.filter((p) => p.ks > critical);
  const same = sorted.filter((p) => p.ks <= critical);
  const med = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3));
  const list = differ.map((p) => `${labels[p.property] ?? p.property} (JSD ${p.jsd.toFixed(3)}, KS ${p.ks.toFixed(3)}; median ${med(p.median.generated)} generated against ${med(p.median.real)} real)`).join("; ");
  return `Against the ${c.n.real} test pre-miRNAs, the ${c.n.generated} raw generated ones differ in ${differ.length} of ${c.properties.length} properties (KS above its 5% critical value ${critical.toFixed(3)})${differ.length ? `: ${list}` : ""}${same.length ? `; no difference detected in ${same.map((p) => labels[p.property] ?? p.property).join(", ")}` : ""}. The 3-mer spectra are ${c.kmers.jsd.toFixed(4)} bits apart (Jensen–Shannon).`;
}

/**
 * Verified generation, apart from the raw samples. Rule: numbers as measured; the comparison is
 * against the real set put through the same filter (test pre-miRNAs that refold exactly).
 */
export function verifiedSentence(v: { acceptanceRate: MeanSd; meanDrawsPerKept: MeanSd; keptFraction: MeanSd; refoldExact: MeanSd; sanityPass: MeanSd; classifierPreMirna: MeanSd; discriminatorAuc: MeanSd }, candidates: number, filteredReal: { n: number; sanityPass: number; classifierPreMirna: number | null }, raw: { refoldExact: MeanSd; sanityPass: MeanSd }): string {
  return `Verified generation (a filter, not the model): drawing up to ${candidates} decodings per sample and keeping the first RNAfold folds into its drawing keeps a passing decoding for ${formatEstimate(v.keptFraction)} of samples, at an acceptance of ${formatEstimate(v.acceptanceRate)} per draw and ${formatEstimate(v.meanDrawsPerKept, 2)} draws per kept sample. Its samples refold exactly at ${formatEstimate(v.refoldExact)} (raw: ${formatEstimate(raw.refoldExact)}) and pass the sanity rules at ${formatEstimate(v.sanityPass)} (raw: ${formatEstimate(raw.sanityPass)}); the classifier calls ${formatEstimate(v.classifierPreMirna)} of them pre-miRNA. The real set through the same filter (the ${filteredReal.n} test pre-miRNAs that refold exactly): sanity ${filteredReal.sanityPass.toFixed(3)}, classifier ${filteredReal.classifierPreMirna === null ? "—" : filteredReal.classifierPreMirna.toFixed(3)}; a discriminator tells the two apart with ROC-AUC ${formatEstimate(v.discriminatorAuc)}.`;
}

/** A traversal's achieved values along its steps. */
export interface TraversalAchieved {
  property: string;
  decoder: string;
  steps: number[];
  /** Achieved value of the traversed property per step (null: not decodable). */
  values: (number | null)[];
  /** Draws the values are means of (default 1: one drawing per step). */
  draws?: number;
}

/**
 * Traversals. Rule: "moves monotonically" when the achieved values never decrease (or never
 * increase) and first ≠ last; "does not move" when all are equal; else "moves, not monotonically".
 */
export function traversalSentence(t: TraversalAchieved, label: string, digits = 0): string {
  const v = t.values;
  const shown = v.map((x) => (x === null ? "—" : x.toFixed(digits))).join(" → ");
  const known = v.filter((x): x is number => x !== null);
  const up = known.every((x, i) => i === 0 || x >= known[i - 1]!), down = known.every((x, i) => i === 0 || x <= known[i - 1]!);
  const flat = known.length > 0 && known.every((x) => x === known[0]);
  const verdict = flat ? "does not move" : (up || down) && known.length === v.length ? `moves monotonically (${up ? "up" : "down"})` : "moves, not monotonically";
  const decoder = t.decoder === "autoregressive" ? "the generator (autoregressive decoder)" : "the VAE's own decoder";
  const draws = (t.draws ?? 1) > 1 ? ` (mean of ${t.draws} draws per step)` : "";
  return `Along the ${label} direction (${signedStep(t.steps[0]!)} to ${signedStep(t.steps[t.steps.length - 1]!)} sd), ${decoder} draws ${label} ${shown}${draws}: it ${verdict}.`;
}

/** A step in sd with its sign: "−2", "0", "+1". */
export function signedStep(k: number): string {
  return k > 0 ? `+${k}` : k < 0 ? `−${-k}` : "0";
}

/** One fit of a property from a latent part (as the experiment reports it). */
export interface PartFit {
  part: string;
  property: string;
  conditioned: boolean;
  testR2: number | null;
}

function r2Words(r2: number): string {
  return r2 >= 0.5 ? "well" : r2 >= 0.2 ? "partly" : "hardly";
}

/**
 * Latent ↔ biology. Rules: conditioned properties are reported as a check ("the conditioning
 * works" when each has test R² ≥ 0.5 from the structure part); for every other property its best
 * part and the residual part's R² (test hairpins, mean over seeds), described as predicted
 * "well" (R² ≥ 0.5), "partly" (0.2–0.5) or "hardly" (< 0.2).
 */
export function latentSentences(fits: readonly PartFit[], labels: Record<string, string>): string[] {
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const r2 = (part: string, property: string) => mean(fits.filter((f) => f.part === part && f.property === property).map((f) => f.testR2));
  const properties = [...new Set(fits.map((f) => f.property))];
  const conditioned = properties.filter((p) => fits.some((f) => f.property === p && f.conditioned));
  const others = properties.filter((p) => !conditioned.includes(p));
  const out: string[] = [];
  if (conditioned.length) {
    const works = conditioned.every((p) => r2("structure", p) >= 0.5);
    out.push(`A check, not a finding: the structure part is conditioned on ${conditioned.map((p) => labels[p] ?? p).join(", ")} and trained to predict them, and predicts them on test hairpins at R² ${conditioned.map((p) => r2("structure", p).toFixed(3)).join(", ")}${works ? ": the conditioning works." : ": the conditioning is weak for some of them."}`);
  }
  if (others.length) {
    const parts = [...new Set(fits.map((f) => f.part))];
    const rows = others.map((p) => {
      const best = parts.map((part) => ({ part, v: r2(part, p) })).filter((x) => Number.isFinite(x.v)).sort((a, b) => b.v - a.v)[0];
      const residual = r2("residual", p);
      return `${labels[p] ?? p} ${best ? `${r2Words(best.v)} (R² ${best.v.toFixed(3)} from ${best.part === "all" ? "all parts" : `the ${best.part} part`}` : "(not fitted"}${Number.isFinite(residual) ? `; residual part alone ${residual.toFixed(3)})` : ")"}`;
    });
    out.push(`Not conditioned on, so what the latent space learned by itself (ridge R² on test hairpins): ${rows.join("; ")}.`);
  }
  return out;
}

/** A tree as the experiment reports it. */
export interface TreeSummary {
  seed: number;
  parts: string;
  depth: number;
  heldOutAccuracy: number;
  splits: { dimension: string; correlates: { property: string; r: number }[] }[];
}

/**
 * The decision trees. Rules: test accuracy and depth as measured; each split dimension is read
 * through its strongest correlate (|r| ≥ 0.3: "tracks", else "has no clear biological reading").
 */
export function treeSentences(trees: readonly TreeSummary[], labels: Record<string, string>): string[] {
  const parts = [...new Set(trees.map((t) => t.parts))];
  return parts.map((part) => {
    const mine = trees.filter((t) => t.parts === part);
    const accuracies = mine.map((t) => `${t.heldOutAccuracy.toFixed(3)} (seed ${t.seed}, depth ${t.depth})`).join(", ");
    const first = mine[0]!;
    const reading = first.splits.slice(0, 3).map((s) => {
      const c = s.correlates[0];
      return c && Math.abs(c.r) >= 0.3 ? `${s.dimension} tracks ${labels[c.property] ?? c.property} (r = ${c.r.toFixed(2)})` : `${s.dimension} has no clear biological reading (strongest |r| ${c ? Math.abs(c.r).toFixed(2) : "—"})`;
    });
    return `A tree on ${part} tells pre-miRNAs from negatives at test accuracy ${accuracies}. Its first splits (seed ${first.seed}): ${reading.join("; ")}.`;
  });
}

/**
 * The motifs of the primary transcript. Rule: when fewer than half of the test pre-miRNAs carry
 * ≥ 10 unpaired nucleotides beyond their outermost pair on the 3′ side, the hairpins "do not
 * carry" the flanks that hold CNNC (and basal UG), which are then not measured.
 */
export function flankSentence(f: { fivePrimeMedian: number; threePrimeMedian: number; fivePrimeAtLeast10: number; threePrimeAtLeast10: number }): string {
  const carry = f.threePrimeAtLeast10 >= 0.5;
  return `The test pre-miRNAs carry a median of ${f.fivePrimeMedian} nt beyond their outermost pair on the 5′ side and ${f.threePrimeMedian} nt on the 3′ side (${(100 * f.fivePrimeAtLeast10).toFixed(1)}% and ${(100 * f.threePrimeAtLeast10).toFixed(1)}% carry ≥ 10 nt). ${carry
    ? "Most carry flanks, so the basal UG and CNNC motifs could be looked for in them."
    : "The basal UG (about 14 nt upstream of the 5′ Drosha cut) and CNNC (about 17 nt downstream of the 3′ cut) lie in the flanks of the primary transcript, which these hairpins do not carry: they are not measured here."}`;
}
