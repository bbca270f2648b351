import { InputError } from "../errors";
import { MeanSd } from "../metrics";
import { formatEstimate } from "../hairpin/readings";

/**
 * Sentences of the generation readings (the cvae_generate notebook), built from the results with
 * explicit rules, so a number or a verdict in the prose is the code's, never typed by hand: the
 * real-vs-generated discriminator, the classifier as judge, distributions, verified generation,
 * traversals, latent fits and trees, the flanks. Each builder states its rule in its comment;
 * numbers are printed as the results hold them (rounded only). Estimates and target verdicts are
 * lib/src/hairpin/readings.ts's.
 */

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
