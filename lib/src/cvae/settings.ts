import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { DEFAULT_DRAWING_GRAMMAR, DrawingGrammar } from "./arDecoder";
import { classifierCalls, evaluateGeneratedHairpins } from "./evaluate";
import { quantile } from "../metrics";
import { SanityRules, sanityRulesFrom } from "./sanity";
import { CvaeForGeneration, DEFAULT_GENERATION, generateHairpins, ProfilePool, renderTokens } from "./generate";
import { ksStatistic, longestRun } from "./realism";
import { FoldOptions, foldSequences } from "../hairpin/rnafold";
import { VaeDataset } from "./data";
import { TOKEN_COLUMNS } from "./tokens";

/**
 * Choosing the AR decoder's generation settings on the VALIDATION split (never the test split):
 * every candidate generates raw samples (one draw each, no filtering, no retries) of both
 * classes with the same seed; each is measured as the headline measures it (refold-exact,
 * sanity with the MFE-per-nt window of the validation pre-miRNAs, the judge classifier's calls,
 * novelty) and for realism against the validation hairpins of its class (Kolmogorov–Smirnov
 * distance of the length and MFE-per-nt distributions, single-nucleotide runs ≥ 8); then one
 * candidate is chosen by an explicit rule ({@link GENERATION_SELECTION_RULE}).
 */

/** One set of generation settings to compare. */
export interface GenerationCandidate {
  name: string;
  temperature: number;
  tokenTemperature: number;
  topP: number;
  grammar: DrawingGrammar | false;
  /** Profile pool of the pre-miRNAs (negatives always draw from all of theirs). */
  profilePool: ProfilePool;
}

/**
 * The candidates compared by default: the generator's defaults, and one change at a time around
 * them (token sampling, the grammar's mismatch rule, no grammar, the latent temperature).
 */
export const DEFAULT_GENERATION_CANDIDATES: readonly GenerationCandidate[] = (() => {
  const d = DEFAULT_GENERATION.autoregressive;
  const base: GenerationCandidate = { name: "default", temperature: d.temperature, tokenTemperature: d.tokenTemperature, topP: d.topP, grammar: d.grammar, profilePool: "all" };
  const grammar = (g: DrawingGrammar | false) => (g === false ? false : { ...g });
  return Object.freeze([
    base,
    { ...base, name: "no grammar", grammar: false },
    { ...base, name: "grammar, Watson–Crick mismatches only", grammar: { ...DEFAULT_DRAWING_GRAMMAR, mismatch: "wc" } },
    { ...base, name: "top-p 1", topP: 1, grammar: grammar(base.grammar) },
    { ...base, name: "token temperature 0.8", tokenTemperature: 0.8, grammar: grammar(base.grammar) },
    { ...base, name: "latent temperature 0.7", temperature: 0.7, grammar: grammar(base.grammar) },
  ] as GenerationCandidate[]);
})();

/** Targets of the headline measures and of the generated-negative call rate. */
export interface GenerationTargets {
  refoldExact: number;
  sanity: number;
  classifier: number;
  noveltyMedian: number;
  /** Largest acceptable fraction of generated negatives the judge calls pre-miRNA. */
  negativeCallRate: number;
}

export const GENERATION_TARGETS: Readonly<GenerationTargets> = Object.freeze({ refoldExact: 0.7, sanity: 0.95, classifier: 0.9, noveltyMedian: 5, negativeCallRate: 0.15 });

/**
 * The rule: the candidate meeting the most targets (point estimates on validation); among those,
 * the most realistic one (smallest sum of the pre-miRNAs' and negatives' KS distances of length and
 * MFE per nt to the validation hairpins of their class); remaining ties by list order.
 */
export const GENERATION_SELECTION_RULE = "most targets met, then smallest summed KS distance (length, MFE/nt; both classes) to the validation hairpins, then list order";

/** Raw-sample measures of one class under one candidate. */
export interface ClassMeasures {
  n: number;
  refoldExact: number;
  /** 95% Wilson interval of refoldExact. */
  refoldExactCi: [number, number];
  sanity: number;
  sanityCi: [number, number];
  /** Fraction the judge calls pre-miRNA (null without a judge). */
  classifierPreMirna: number | null;
  classifierCi: [number, number] | null;
  noveltyMedian: number;
  lengthMedian: number;
  mfePerNtMedian: number;
  /** Fraction with a single-nucleotide run ≥ 8. */
  longRuns: number;
  /** Kolmogorov–Smirnov distances to the validation hairpins of the class. */
  ksLength: number;
  ksMfePerNt: number;
}

/** One row of the comparison. */
export interface CandidateResult {
  candidate: GenerationCandidate;
  preMirna: ClassMeasures;
  negative: ClassMeasures;
  /** Which targets hold (point estimates). */
  meets: Record<keyof GenerationTargets, boolean>;
  targetsMet: number;
  /** Summed KS distances (the rule's tie-break; smaller = more realistic). */
  realismDistance: number;
}

/** What {@link chooseGenerationSettings} returns. */
export interface GenerationChoice {
  table: CandidateResult[];
  chosen: GenerationCandidate;
  rule: string;
  targets: GenerationTargets;
  /** The sanity rules used: the MFE-per-nt window of the validation pre-miRNAs (1st–99th percentile). */
  sanityRules: SanityRules;
  /** Real validation references: medians and the judge's call rate per class. */
  reference: { preMirna: RealReference; negative: RealReference };
  samples: number;
  seed: number;
}

/** Summary of the real validation hairpins of one class. */
export interface RealReference {
  n: number;
  lengthMedian: number;
  mfePerNtMedian: number;
  longRuns: number;
  classifierPreMirna: number | null;
}

/** 95% Wilson score interval of k successes in n. */
export function wilsonInterval(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN];
  const z = 1.959964, p = k / n, d = 1 + (z * z) / n, c = p + (z * z) / (2 * n);
  const h = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, (c - h) / d), Math.min(1, (c + h) / d)];
}

/**
 * Compares `candidates` (default {@link DEFAULT_GENERATION_CANDIDATES}) on the validation split:
 * `samples` raw samples per class each (default 500), drawn with `seed` (use a development seed,
 * not a reported one), and chooses one by {@link GENERATION_SELECTION_RULE}. `classifier` is the
 * judge (optional). RNAfold folds every sample and the validation hairpins.
 */
export async function chooseGenerationSettings(opts: {
  model: CvaeForGeneration & { training: { sequences: readonly string[] } };
  validation: Pick<VaeDataset, "n" | "labels" | "sequences" | "tokens">;
  seed: number;
  candidates?: readonly GenerationCandidate[];
  samples?: number;
  classifier?: tf.LayersModel | null;
  targets?: GenerationTargets;
  fold?: FoldOptions;
  onCandidate?: (result: CandidateResult) => void;
}): Promise<GenerationChoice> {
  const candidates = opts.candidates ?? DEFAULT_GENERATION_CANDIDATES;
  const samples = opts.samples ?? 500;
  const targets = opts.targets ?? GENERATION_TARGETS;
  if (candidates.length === 0) throw new InputError("no generation candidates to compare");
  if (!Number.isInteger(samples) || samples < 1) throw new InputError(`samples must be a positive integer, got ${samples}`);
  const rowsOf = (label: number) => [...opts.validation.labels.keys()].filter((i) => opts.validation.labels[i] === label);
  const realPositives = rowsOf(1).map((i) => opts.validation.sequences[i]!);
  const realNegatives = rowsOf(0).map((i) => opts.validation.sequences[i]!);
  if (realPositives.length < 2 || realNegatives.length < 2) throw new InputError(`the validation split needs pre-miRNAs and negatives (has ${realPositives.length} and ${realNegatives.length})`);
  const { rules, mfePerNt: realPositiveMfe } = await sanityRulesFrom(realPositives, { fold: opts.fold });
  const realNegativeMfe = (await foldSequences(realNegatives, opts.fold)).map((f) => f.mfe / f.sequence.length);
  const realCalls = (rows: number[]): number | null => {
    if (!opts.classifier) return null;
    const tokens = new Uint8Array(rows.length * TOKEN_COLUMNS);
    rows.forEach((i, k) => tokens.set(opts.validation.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS));
    return classifierCalls(opts.classifier, renderTokens(tokens).images).fraction;
  };
  const reference = (seqs: string[], mfe: number[], calls: number | null): RealReference => ({
    n: seqs.length, lengthMedian: quantile(seqs.map((s) => s.length), 0.5), mfePerNtMedian: quantile(mfe, 0.5), longRuns: seqs.filter((s) => longestRun(s) >= 8).length / seqs.length, classifierPreMirna: calls,
  });
  const real = {
    preMirna: reference(realPositives, realPositiveMfe, realCalls(rowsOf(1))),
    negative: reference(realNegatives, realNegativeMfe, realCalls(rowsOf(0))),
  };
  const measure = async (c: GenerationCandidate, label: 0 | 1): Promise<ClassMeasures> => {
    const g = generateHairpins(opts.model, {
      n: samples, label, seed: opts.seed, decoder: "autoregressive", temperature: c.temperature, tokenTemperature: c.tokenTemperature, topP: c.topP, grammar: c.grammar,
      profilePool: label === 1 ? c.profilePool : "all",
    });
    const e = await evaluateGeneratedHairpins(g, { rules, classifier: opts.classifier ?? null, trainingSequences: opts.model.training.sequences, fold: opts.fold });
    const count = (f: (i: number) => boolean) => [...Array(g.n).keys()].filter(f).length;
    const lengths = g.sequences.map((s) => s.length);
    const mfe = e.refold.map((r, i) => (lengths[i]! > 0 ? r.mfe / lengths[i]! : 0));
    const calls = e.classifierProbabilities ? count((i) => e.classifierProbabilities![i]! >= 0.5) : null;
    const realSeqs = label === 1 ? realPositives : realNegatives;
    return {
      n: g.n,
      refoldExact: e.summary.refoldExact, refoldExactCi: wilsonInterval(count((i) => e.refold[i]!.exact), g.n),
      sanity: e.summary.sanityPass, sanityCi: wilsonInterval(count((i) => e.sanity[i]!.pass), g.n),
      classifierPreMirna: e.summary.classifierPreMirna, classifierCi: calls === null ? null : wilsonInterval(calls, g.n),
      noveltyMedian: e.summary.noveltyMedian!,
      lengthMedian: quantile(lengths, 0.5), mfePerNtMedian: quantile(mfe, 0.5), longRuns: count((i) => longestRun(g.sequences[i]!) >= 8) / g.n,
      ksLength: ksStatistic(lengths, realSeqs.map((s) => s.length)), ksMfePerNt: ksStatistic(mfe, label === 1 ? realPositiveMfe : realNegativeMfe),
    };
  };
  const table: CandidateResult[] = [];
  for (const candidate of candidates) {
    const preMirna = await measure(candidate, 1);
    const negative = await measure(candidate, 0);
    const meets = {
      refoldExact: preMirna.refoldExact >= targets.refoldExact,
      sanity: preMirna.sanity >= targets.sanity,
      classifier: preMirna.classifierPreMirna === null || preMirna.classifierPreMirna >= targets.classifier,
      noveltyMedian: preMirna.noveltyMedian >= targets.noveltyMedian,
      negativeCallRate: negative.classifierPreMirna === null || negative.classifierPreMirna <= targets.negativeCallRate,
    };
    const result: CandidateResult = {
      candidate, preMirna, negative, meets, targetsMet: Object.values(meets).filter(Boolean).length,
      realismDistance: preMirna.ksLength + preMirna.ksMfePerNt + negative.ksLength + negative.ksMfePerNt,
    };
    table.push(result);
    opts.onCandidate?.(result);
  }
  let best = table[0]!;
  for (const r of table.slice(1)) {
    if (r.targetsMet > best.targetsMet || (r.targetsMet === best.targetsMet && r.realismDistance < best.realismDistance)) best = r;
  }
  return { table, chosen: best.candidate, rule: GENERATION_SELECTION_RULE, targets, sanityRules: rules, reference: real, samples, seed: opts.seed };
}
