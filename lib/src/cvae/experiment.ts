import { displayPath } from "../data/paths";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { runLibraryTask, runPool } from "../io/workers";
import { formatDuration } from "../progress";
import { loadTfjsModel } from "../io/tfjsModel";
import { MeanSd, meanSd, quantile } from "../metrics";
import { mulberry32, shuffleInPlace } from "../random";
import { describeBackend } from "../ops/backend";
import { EpochRecord } from "../training/checkpoint";
import { AR_DECODER_EPOCHS, ArDecoderConfig, ArRefineRound, DrawingGrammar } from "./arDecoder";
import { CvaeForGeneration, DEFAULT_GENERATION, generateHairpins, GeneratedHairpins, GenerationDecoder, renderTokens } from "./generate";
import {
  classifierCalls, encodeMeans, evaluateGeneratedHairpins, GeneratedEvaluation, GeneratedSummary, ReconstructionMetrics, SequenceComposition, sequenceComposition,
} from "./evaluate";
import { generateVerifiedHairpins, VerificationCost, verificationCost } from "./verified";
import {
  AchievedProfile, CONDITIONED_PROPERTIES, flankLengths, HAIRPIN_PROPERTIES, HairpinProperties, hairpinProperties, HairpinProperty, latentCorrelations, latentTraversal, meanLatent,
  propertyDirections, spreadAlong,
} from "./latentBiology";
import { DecisionTreeOptions, describeDecisionTree, fitDecisionTree, predictDecisionTree, treeDepth, treeFeatures } from "./latentTree";
import { FoldedHairpin, realismComparison, RealismComparison, realVsGeneratedTest, TwoSampleResult } from "./realism";
import { foldSequences } from "../hairpin/rnafold";
import { buildVaeData, PROFILE_NAMES, ProfileName, VaeData, VaeDataOptions, VaeDataReport, VaeDataset } from "./data";
import { Cvae, disposeCvae, latentSize } from "./model";
import { hairpinSanity, SanityRules, sanityRulesFrom } from "./sanity";
import { CvaeModelInfo } from "./saved";
import { ArRefinementSettings, DEFAULT_AR_REFINEMENT, TrainCvaeOptions, trainCvaeSeed } from "./train";
import { chooseGenerationSettings, GenerationCandidate, GenerationChoice } from "./settings";
import { tokensToColumns, TOKEN_COLUMNS } from "./tokens";

/**
 * The conditional-VAE experiment: the data split once into train / validation / test
 * (data.ts), then per seed training through the shared loop (checkpointed under
 * `outDir/seed-S/checkpoint`, the model saved to `outDir/seed-S/model`), its autoregressive
 * column decoder (arDecoder.ts; `outDir/seed-S/ar-checkpoint`), and the evaluation, every
 * number on the test split (`heldOut`):
 *   - RAW samples first (one draw per sample, no filtering or retries): pre-miRNAs with
 *     profiles from all training pre-miRNAs (the headline) and from canonical ones (an option),
 *     negatives; each through the judge classifier, the refold → re-encode check, the sanity
 *     rules (their MFE-per-nt window from the VALIDATION pre-miRNAs), novelty against the
 *     training hairpins; realism against the test pre-miRNAs (realism.ts: a cross-fitted
 *     real-vs-generated discriminator with a bootstrap interval, distributions with their
 *     distances; real-against-real controls: two halves of the test pre-miRNAs, training
 *     against test pre-miRNAs); the classifier's calls on generated negatives beside real test
 *     negatives;
 *   - RNAfold-verified generation apart (draw until RNAfold agrees): its acceptance rate and
 *     draws per kept sample, and the kept samples beside the test pre-miRNAs that pass the
 *     same filter;
 *   - held-out reconstruction; conditioning (requested vs achieved stem, loop, GC);
 *   - latent ↔ biology on posterior means: correlations with conditioned and unconditioned
 *     properties, ridge R² per latent part (class, structure, residual, …) on test hairpins,
 *     traversals along the generator's property directions, drawn as the generator generates
 *     (the same seed at every step), with the achieved properties read back from the drawings,
 *     decision trees (depth, test accuracy, what their splits track);
 * and mean ± sd over the seeds. The generation settings are `opts.generation` (chosen on the
 * validation split by the caller) or, until such a choice is given, DEFAULT_GENERATION, labelled
 * as not chosen on validation. Results go to `outDir/results.json`.
 */

/** The generation settings the experiment samples with. */
export interface GenerationSettings {
  decoder: GenerationDecoder;
  /** Latent temperature (1 = the priors). */
  temperature: number;
  /** Token temperature. */
  tokenTemperature: number;
  /** The AR decoder's nucleus. */
  topP: number;
  /** The AR decoder's drawing grammar (arDecoder.ts; false: none, and always with the VAE's own decoder). */
  grammar: DrawingGrammar | false;
}

/**
 * Generation settings chosen on the VALIDATION split (the hook for a chooser of settings): the
 * settings, where and how they were chosen, and the comparison they were chosen from, shown by
 * the notebook as it is given.
 */
export interface ChosenGeneration {
  /** The chosen entries; the rest stay {@link DEFAULT_GENERATION}'s. */
  settings: Partial<Omit<GenerationSettings, "decoder">>;
  /** Where and how they were chosen, in words (e.g. "validation split, seeds 101–103; 6 settings compared by sanity"). */
  chosenOn: string;
  /** The validation comparison (one row per setting tried), or null. */
  comparison?: Record<string, string | number | boolean | null>[] | null;
}

/** Options of {@link runCvaeExperiment}. */
export interface CvaeExperimentOptions {
  seeds: readonly number[];
  epochs: number;
  outDir: string;
  /** The judge: a deepMir classifier folder (trained on modhsa_train). Null: no classifier calls. */
  classifierDir: string | null;
  /** Data selection (sets, validation and test splits, sizes). The validation split must not be switched off: the sanity window comes from it. */
  data?: VaeDataOptions;
  /** Training options besides epochs, seed and checkpoints (batch size, learning rate, β, warm-up, sizes). */
  training?: Omit<TrainCvaeOptions, "epochs" | "seed" | "checkpointDir" | "onEpoch" | "onStep">;
  /** Generated samples per class and seed. Default 1000. */
  samples?: number;
  /** The decoder that writes generated hairpins (default "autoregressive"; "columns" trains no AR decoder). */
  decoder?: GenerationDecoder;
  /** The AR decoder's training: epochs (default {@link AR_DECODER_EPOCHS}), sizes, batch size, learning rate. */
  arDecoder?: {
    epochs?: number; config?: ArDecoderConfig; batchSize?: number; learningRate?: number;
    /** Refold-consistent refinement rounds after training (arRefine.ts; default {@link DEFAULT_AR_REFINEMENT}; false: none). */
    refine?: ArRefinementSettings | false;
  };
  /**
   * Generation settings chosen on the validation split (see {@link ChosenGeneration}). Absent:
   * {@link DEFAULT_GENERATION}, reported as "defaults, not yet chosen on validation".
   */
  generation?: ChosenGeneration;
  /** Verified generation: decodings tried per sample (default {@link DEFAULT_GENERATION.candidates}). */
  candidates?: number;
  /** The real-vs-generated discriminator: cross-fitting folds (default 5) and bootstrap resamples (default 1000). */
  realism?: { folds?: number; bootstrap?: number };
  /** Requested values for the conditioning check, and samples per value (default 100). */
  conditioning?: { stem?: number[]; loop?: number[]; gc?: number[]; samples?: number };
  /** Traversal steps in sd of the training latents along each direction. Default −2, −1, 0, 1, 2. */
  traversalSteps?: number[];
  /** Further drawings of the generator per traversal step for the mean achieved values (the figure shows the panel drawing). Default 20. */
  traversalDraws?: number;
  /** The decision trees on the latent space. Default depth 3, leaves ≥ 20. */
  tree?: DecisionTreeOptions;
  /** Progress lines (default stderr). */
  progress?: (line: string) => void;
}

/** What was asked for and what samples got, per requested value. */
export interface ConditioningRow {
  property: ProfileName;
  requested: number;
  n: number;
  /** The property of the generated drawings (stem pairs, loop columns, GC of the sequence). */
  achieved: MeanSd;
}

/** A decision tree on latent means, described. */
export interface LatentTreeResult {
  /** Which latent parts it may split on. */
  parts: string;
  lines: string[];
  /** Depth reached (≤ the allowed depth). */
  depth: number;
  /** Accuracy (leaf majority) on the training hairpins and on the test ones. */
  trainAccuracy: number;
  heldOutAccuracy: number;
  /** The dimensions it splits on, in order of first use, each with its two strongest property correlates (training hairpins). */
  splits: { dimension: string; correlates: { property: HairpinProperty; r: number }[] }[];
}

/** Ridge R² of one property from one latent part. */
export interface LatentPartFit {
  part: LatentPart;
  property: HairpinProperty;
  /** Whether the structure part is conditioned on the property (a sanity check, not a finding). */
  conditioned: boolean;
  /** R² on the training hairpins and on the test ones. */
  r2: number;
  testR2: number | null;
  /** The part's dimension with the largest |r| with the property (training hairpins), and that r. */
  strongest: { dimension: string; r: number };
}

/** Latent parts the analysis fits properties from. */
export const LATENT_PARTS = ["class", "structure", "residual", "class + structure", "all"] as const;
export type LatentPart = (typeof LATENT_PARTS)[number];

/** A traversal's numbers (the images are drawn again in the notebook, deterministically). */
export interface TraversalResult {
  /** The property whose direction (fitted on the class and structure parts) is traversed. */
  property: ProfileName;
  decoder: GenerationDecoder;
  /** Steps in sd of the training latents along the direction, and in latent units. */
  steps: number[];
  offsets: number[];
  /**
   * How each step was drawn: the generator at the generation's token temperature and nucleus,
   * every step's panel with the same seed `seed`, and `draws` further drawings per step for the
   * means (latentBiology.ts); the VAE's own decoder by its most likely tokens (one drawing).
   */
  seed: number;
  draws: number;
  /** What the first draw of each step shows (read back from the image; null: not decodable): the figure's panels. */
  achieved: (AchievedProfile | null)[];
  /** Per step, the mean of stem, loop and GC over the further drawings (decodable ones; null when none). */
  meanAchieved: ({ stem: number; loop: number; gc: number } | null)[];
}

/** Raw samples of one kind, evaluated. */
export interface RawSet {
  summary: GeneratedSummary;
  composition: SequenceComposition;
}

/** One example sample with its checks (tokens to draw it again). */
export interface GeneratedExample {
  tokens: number[];
  sequence: string;
  drawn: string;
  fold: string;
  refoldExact: boolean;
  sanityPass: boolean;
  probability: number | null;
  novelty: number | null;
}

/** One seed's results. */
export interface CvaeSeedResult {
  seed: number;
  modelDir: string;
  history: EpochRecord[];
  secondsPerEpoch: number;
  stepsPerSecond: number;
  /** Training time of all epochs (over resumed runs). */
  trainingMinutes: number;
  reconstruction: Omit<ReconstructionMetrics, "perImageColourAccuracy">;
  /** The decoder of the generated samples below. */
  decoder: GenerationDecoder;
  /** The AR decoder's training (null with the "columns" decoder). */
  arDecoder: {
    epochs: number; minutes: number; validationNll: number | null; history: EpochRecord[];
    /** The decoder's sizes and inputs (e.g. whether it reads the history of its drawing). */
    config: ArDecoderConfig;
    /** The refinement rounds after training (none: empty): drafts per class, their refold-exact share and how many were kept. */
    refinement: ArRefineRound[];
  } | null;
  /** RAW samples, one draw each: the headline (pre-miRNAs, profiles from all training pre-miRNAs), canonical profiles, negatives, and the VAE's own decoder for comparison (null with the columns decoder). */
  raw: { preMirna: RawSet; canonical: RawSet; negative: RawSet; columnsDecoder: RawSet | null };
  /** Seconds to draw the headline's raw samples and check them (what `hairpin generate` does by default). */
  rawSeconds: number;
  /** Realism of the raw samples against the test split: pre-miRNAs (and negatives) against real ones. */
  realism: { preMirna: { discriminator: TwoSampleResult; distributions: RealismComparison }; negative: { discriminator: TwoSampleResult } };
  /** Verified generation (up to `candidates` draws per sample until RNAfold agrees; profiles from all), apart from the raw samples. */
  verified: { summary: GeneratedSummary; cost: VerificationCost; seconds: number; againstFilteredReal: TwoSampleResult };
  conditioning: ConditioningRow[];
  latent: {
    /** Pearson r, shape=(D, properties) row-major over {@link HAIRPIN_PROPERTIES}, on the training hairpins. */
    correlations: number[];
    fits: LatentPartFit[];
    traversals: TraversalResult[];
    /** Mean posterior latent of the training pre-miRNAs, shape=(D,) (the start of traversals). */
    preMirnaMeanLatent: number[];
    /** The generator's directions (fitted on the class and structure parts; zeros on the residual), shape=(D,) each, with the training latents' sd along them. */
    directions: { property: ProfileName; direction: number[]; spread: number }[];
    trees: LatentTreeResult[];
  };
  /** The first raw pre-miRNAs and negatives, with their checks. */
  examples: { preMirna: GeneratedExample[]; negative: GeneratedExample[] };
}

/** results.json. */
export interface CvaeExperimentResults {
  experiment: string;
  seeds: number[];
  epochs: number;
  backend: string;
  date: string;
  classifierDir: string | null;
  data: {
    heldOutSet: string; train: number; trainPositives: number; validation: number; validationPositives: number; validationSource: string | null;
    heldOut: number; heldOutPositives: number; report: VaeDataReport[];
  };
  /** The generation settings, where they were chosen, and the validation comparison when given. */
  generation: { settings: GenerationSettings; chosen: boolean; chosenOn: string; comparison: Record<string, string | number | boolean | null>[] | null; candidates: number; samples: number };
  sanity: { rules: SanityRules; source: string };
  /** Test-split pre-miRNAs through the same checks (the reference for generated ones), and those that refold exactly (the reference for verified generation). */
  realPreMirna: { n: number; refoldExact: number; sanityPass: number; classifierPreMirna: number | null; composition: SequenceComposition; refoldFiltered: { n: number; sanityPass: number; classifierPreMirna: number | null } };
  /** Test-split negatives called pre-miRNA by the judge (beside the generated negatives). */
  realNegative: { n: number; classifierPreMirna: number | null };
  /** The training pre-miRNAs (what the generator learns from) through the sanity rules: all four, and the stem and MFE rules alone. */
  trainingPreMirna: { n: number; sanityPass: number; stemOk: number; mfeOk: number };
  /** Unpaired nucleotides beyond the outermost pair of the test pre-miRNAs' drawings (their flanks): medians and the share with ≥ 10 nt. */
  flanks: { fivePrimeMedian: number; threePrimeMedian: number; fivePrimeAtLeast10: number; threePrimeAtLeast10: number };
  /** Raw generated pre-miRNAs of all seeds pooled against the test pre-miRNAs (the distribution figure). */
  pooledRealism: RealismComparison;
  /**
   * Controls of the realism measures, real against real: the test pre-miRNAs split in two halves
   * (what "indistinguishable" looks like), and training pre-miRNAs (human and other species; as
   * many as `samples`, seeded) against the test ones (how far the generator's own data is).
   */
  realismControl: { testHalves: TwoSampleResult; trainingVsTest: TwoSampleResult; trainingVsTestDistributions: RealismComparison };
  perSeed: CvaeSeedResult[];
  summary: Record<CvaeSummaryField, MeanSd>;
}

/** Fields of the summary (mean ± sd over seeds). */
export const CVAE_SUMMARY_FIELDS = [
  "rawClassifierPreMirna", "rawRefoldExact", "rawColumnAgreement", "rawSanityPass", "rawNoveltyMedian", "rawLongRun",
  "discriminatorAuc", "kmerJsd", "negativeClassifierPreMirna", "negativeDiscriminatorAuc",
  "canonicalClassifierPreMirna", "canonicalRefoldExact", "canonicalSanityPass", "canonicalNoveltyMedian",
  "columnsClassifierPreMirna", "columnsRefoldExact", "columnsSanityPass", "columnsNoveltyMedian",
  "verifiedClassifierPreMirna", "verifiedRefoldExact", "verifiedSanityPass", "verifiedNoveltyMedian", "verifiedAcceptanceRate", "verifiedMeanDrawsPerKept",
  "verifiedKeptFraction", "verifiedDiscriminatorAuc",
  "reconstructionColourAccuracy", "reconstructionExactImages", "trainingMinutes", "arTrainingMinutes", "rawSeconds", "verifiedSeconds",
] as const;
export type CvaeSummaryField = (typeof CVAE_SUMMARY_FIELDS)[number];

/** Training epochs of the full-size model (about 20 min per seed on 2 cores with the native backend). */
export const CVAE_EPOCHS = 60;

/** Default traversal steps (sd of the training latents along the direction). */
export const TRAVERSAL_STEPS = [-2, -1, 0, 1, 2];

/** Seed of a traversal's first draw (the figure's panels); further draws take the next seeds. */
export const TRAVERSAL_SEED = 1;

/** Properties (for the latent analysis) of a token dataset, with RNAfold's folds of its sequences. */
async function datasetProperties(d: VaeDataset): Promise<{ properties: HairpinProperties[]; folds: FoldedHairpin[] }> {
  const folded = await foldSequences(d.sequences);
  const folds = folded.map((f, i) => ({ sequence: d.sequences[i]!, structure: f.structure, mfe: f.mfe }));
  return { properties: d.sequences.map((s, i) => hairpinProperties(rowColumns(d, i), s, folds[i]!.mfe)), folds };
}

function rowColumns(d: Pick<VaeDataset, "tokens">, i: number) {
  return tokensToColumns(d.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS));
}

/** The folded hairpins of an evaluation (RNAfold's fold of each generated sequence). */
function foldedOf(g: Pick<GeneratedHairpins, "sequences">, e: GeneratedEvaluation): FoldedHairpin[] {
  return g.sequences.map((sequence, i) => ({ sequence, structure: e.refold[i]!.fold, mfe: e.refold[i]!.mfe }));
}

function examplesOf(g: GeneratedHairpins, e: GeneratedEvaluation, count: number): GeneratedExample[] {
  return g.sequences.slice(0, count).map((sequence, i) => ({
    tokens: Array.from(g.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS)), sequence, drawn: g.structures[i]!, fold: e.refold[i]!.fold,
    refoldExact: e.refold[i]!.exact, sanityPass: e.sanity[i]!.pass,
    probability: e.classifierProbabilities ? e.classifierProbabilities[i]! : null, novelty: e.novelty ? e.novelty[i]!.distance : null,
  }));
}

/** The settings of `opts.generation` over {@link DEFAULT_GENERATION}, and how to describe where they come from. */
export function resolveGeneration(decoder: GenerationDecoder, chosen?: ChosenGeneration): { settings: GenerationSettings; chosen: boolean; chosenOn: string } {
  const d = DEFAULT_GENERATION[decoder];
  const grammar: DrawingGrammar | false = decoder === "autoregressive" ? DEFAULT_GENERATION.autoregressive.grammar : false;
  const settings = { decoder, temperature: d.temperature, tokenTemperature: d.tokenTemperature, topP: d.topP, grammar, ...(chosen?.settings ?? {}) };
  if (decoder === "columns") settings.grammar = false;
  if (!chosen) return { settings, chosen: false, chosenOn: "defaults, not yet chosen on validation" };
  if (!chosen.chosenOn.trim()) throw new InputError("chosen generation settings must say where they were chosen (chosenOn)");
  return { settings, chosen: true, chosenOn: chosen.chosenOn };
}

/** Runs (or resumes) the experiment; see the module comment. Needs RNAfold, the deepMir data and an initialised backend. */
export async function runCvaeExperiment(opts: CvaeExperimentOptions): Promise<CvaeExperimentResults> {
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (opts.seeds.length === 0 || opts.seeds.some((s) => !Number.isInteger(s))) throw new InputError(`seeds must be integers, got ${JSON.stringify(opts.seeds)}`);
  if (opts.data?.validation === false) throw new InputError("the experiment needs the validation split (the sanity rules' MFE window and any chosen setting come from it)");
  const samples = opts.samples ?? 1000;
  const decoder: GenerationDecoder = opts.decoder ?? "autoregressive";
  const generationChoice = resolveGeneration(decoder, opts.generation);
  const generation = generationChoice.settings;
  const candidates = opts.candidates ?? DEFAULT_GENERATION.candidates;
  const realismOptions = { folds: opts.realism?.folds, bootstrap: opts.realism?.bootstrap };
  const data: VaeData = buildVaeData(opts.data);
  const positives = (d: VaeDataset) => [...d.labels.keys()].filter((i) => d.labels[i] === 1);
  const negatives = (d: VaeDataset) => [...d.labels.keys()].filter((i) => d.labels[i] === 0);
  const trainPositives = positives(data.train).length;
  const validationRows = positives(data.validation);
  const testPositiveRows = positives(data.heldOut);
  const testNegativeRows = negatives(data.heldOut);
  progress(`VAE data: ${data.train.n} training hairpins (${trainPositives} pre-miRNA), ${data.validation.n} validation (${validationRows.length} pre-miRNA), ${data.heldOut.n} test from ${data.heldOutSet} (${testPositiveRows.length} pre-miRNA)`);
  progress(`generation settings: ${describeSettings(generation)} (${generationChoice.chosenOn})`);

  // The sanity rules, their MFE-per-nt window from the VALIDATION pre-miRNAs.
  const { rules, source: sanitySource } = await validationSanity(data);
  progress(`sanity rules: stem ≥ ${rules.minStemPairs} bp, loop ${rules.loopRange.join("–")} nt, MFE/nt ${rules.mfePerNtRange.map((v) => v.toFixed(3)).join(" to ")} kcal/mol/nt (${sanitySource})`);

  // The test split through the same checks; its folds serve the realism comparisons.
  const classifier = opts.classifierDir ? await loadTfjsModel(opts.classifierDir) : null;
  const testFolded = await datasetProperties(data.heldOut);
  const realPre = testPositiveRows.map((i) => testFolded.folds[i]!);
  const realNeg = testNegativeRows.map((i) => testFolded.folds[i]!);
  const rowsImages = (rows: number[]) => {
    const tokens = new Uint8Array(rows.length * TOKEN_COLUMNS);
    rows.forEach((i, k) => tokens.set(data.heldOut.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS));
    return renderTokens(tokens).images;
  };
  const realPreImages = rowsImages(testPositiveRows);
  const realEval = await evaluateGeneratedHairpins({ sequences: realPre.map((h) => h.sequence), columns: testPositiveRows.map((i) => rowColumns(data.heldOut, i)), images: realPreImages }, { rules, classifier });
  const filteredRows = [...realEval.refold.keys()].filter((k) => realEval.refold[k]!.exact);
  const share = (rows: number[], f: (k: number) => boolean) => (rows.length ? rows.filter(f).length / rows.length : NaN);
  const realPreMirna: CvaeExperimentResults["realPreMirna"] = {
    n: realPre.length, refoldExact: realEval.summary.refoldExact, sanityPass: realEval.summary.sanityPass, classifierPreMirna: realEval.summary.classifierPreMirna,
    composition: sequenceComposition(realPre.map((h) => h.sequence)),
    refoldFiltered: {
      n: filteredRows.length, sanityPass: share(filteredRows, (k) => realEval.sanity[k]!.pass),
      classifierPreMirna: realEval.classifierProbabilities ? share(filteredRows, (k) => realEval.classifierProbabilities![k]! >= 0.5) : null,
    },
  };
  const realNegative = { n: realNeg.length, classifierPreMirna: classifier && realNeg.length ? classifierCalls(classifier, rowsImages(testNegativeRows)).fraction : null };
  progress(`test pre-miRNAs (${realPreMirna.n}): refold exact ${fmt(realPreMirna.refoldExact)}, sanity ${fmt(realPreMirna.sanityPass)}, classifier ${fmt(realPreMirna.classifierPreMirna)}; test negatives called pre-miRNA ${fmt(realNegative.classifierPreMirna)}`);
  const flankRows = testPositiveRows.map((i) => flankLengths(rowColumns(data.heldOut, i)));
  const flanks = {
    fivePrimeMedian: flankRows.length ? quantile(flankRows.map((f) => f.fivePrime), 0.5) : NaN,
    threePrimeMedian: flankRows.length ? quantile(flankRows.map((f) => f.threePrime), 0.5) : NaN,
    fivePrimeAtLeast10: share(flankRows.map((_, k) => k), (k) => flankRows[k]!.fivePrime >= 10),
    threePrimeAtLeast10: share(flankRows.map((_, k) => k), (k) => flankRows[k]!.threePrime >= 10),
  };

  // Properties of the training hairpins (latent analysis) and their sanity.
  const trainFolded = await datasetProperties(data.train);
  const trainSanity = positives(data.train).map((i) => hairpinSanity(trainFolded.folds[i]!.structure, trainFolded.folds[i]!.mfe, rules));
  const trainShare = (f: (x: (typeof trainSanity)[number]) => boolean) => (trainSanity.length ? trainSanity.filter(f).length / trainSanity.length : NaN);
  const trainingPreMirna = { n: trainSanity.length, sanityPass: trainShare((x) => x.pass), stemOk: trainShare((x) => x.stemOk), mfeOk: trainShare((x) => x.mfeOk) };
  progress(`training pre-miRNAs (${trainingPreMirna.n}) through the same sanity rules: ${trainingPreMirna.sanityPass.toFixed(3)}`);

  const perSeed: CvaeSeedResult[] = [];
  const pooledGenerated: FoldedHairpin[] = [];
  try {
    for (const seed of opts.seeds) {
      const seedDir = path.join(opts.outDir, `seed-${seed}`);
      const { cvae, info, model, modelDir, arDecoder, reconstruction: measured } = await trainSeedModel(seed, seedDir, data, opts, { rules, source: sanitySource }, progress, data.heldOut);
      try {
        const { perImageColourAccuracy: _perImage, ...reconstruction } = measured!;
        progress(`seed ${seed}: test reconstruction colour accuracy ${reconstruction.colourAccuracy.toFixed(4)}, exact images ${reconstruction.exactImages.toFixed(3)}`);

        // RAW samples: one draw each, no filtering, no retries.
        const checks = { rules, classifier, trainingSequences: data.train.sequences };
        const rawSet = (g: GeneratedHairpins, e: GeneratedEvaluation): RawSet => ({ summary: e.summary, composition: sequenceComposition(g.sequences.filter((s) => s.length > 0)) });
        let t = performance.now();
        const pre = generateHairpins(model, { n: samples, label: 1, seed, ...generation, profilePool: "all" });
        const preEval = await evaluateGeneratedHairpins(pre, checks);
        const rawSeconds = (performance.now() - t) / 1000;
        const canonical = generateHairpins(model, { n: samples, label: 1, seed, ...generation, profilePool: "canonical" });
        const canonicalEval = await evaluateGeneratedHairpins(canonical, checks);
        const neg = generateHairpins(model, { n: samples, label: 0, seed: seed + 5000, ...generation, profilePool: "all" });
        const negEval = await evaluateGeneratedHairpins(neg, { rules, classifier });
        let columnsDecoder: RawSet | null = null;
        if (decoder === "autoregressive") {
          const columns = { decoder: "columns" as const, temperature: DEFAULT_GENERATION.columns.temperature, tokenTemperature: DEFAULT_GENERATION.columns.tokenTemperature, grammar: false as const };
          const c = generateHairpins(model, { n: samples, label: 1, seed, ...columns, profilePool: "all" });
          columnsDecoder = rawSet(c, await evaluateGeneratedHairpins(c, checks));
        }
        const s = preEval.summary;
        progress(`seed ${seed}: RAW generated pre-miRNAs (${decoder} decoder, one draw each) — classifier ${fmt(s.classifierPreMirna)}, refold exact ${fmt(s.refoldExact)}, sanity ${fmt(s.sanityPass)}, novelty median ${s.noveltyMedian}; canonical profiles: sanity ${fmt(canonicalEval.summary.sanityPass)}; generated negatives called pre-miRNA ${fmt(negEval.summary.classifierPreMirna)}; ${rawSeconds.toFixed(1)} s for ${samples} with the checks`);

        // Realism against the test split.
        const preFolded = foldedOf(pre, preEval);
        pooledGenerated.push(...preFolded);
        const realism: CvaeSeedResult["realism"] = {
          preMirna: { discriminator: realVsGeneratedTest(realPre, preFolded, { ...realismOptions, seed }), distributions: realismComparison(realPre, preFolded) },
          negative: { discriminator: realVsGeneratedTest(realNeg, foldedOf(neg, negEval), { ...realismOptions, seed }) },
        };
        const d = realism.preMirna.discriminator;
        progress(`seed ${seed}: real-vs-generated discriminator ROC-AUC ${d.auc.toFixed(3)} (${Math.round(d.level * 100)}% CI ${d.ci.map((v) => v.toFixed(3)).join("–")}); 3-mer JSD ${realism.preMirna.distributions.kmers.jsd.toFixed(4)}`);

        // Verified generation, apart: the same first draws, then fresh draws until RNAfold agrees.
        t = performance.now();
        const verified = await generateVerifiedHairpins(model, { n: samples, label: 1, seed, ...generation, profilePool: "all", candidates });
        const verifiedEval = await evaluateGeneratedHairpins(verified, checks);
        const cost = verificationCost(verified, candidates);
        const verifiedResult = {
          summary: verifiedEval.summary, cost, seconds: (performance.now() - t) / 1000,
          againstFilteredReal: realVsGeneratedTest(filteredRows.map((k) => realPre[k]!), foldedOf(verified, verifiedEval), { ...realismOptions, seed }),
        };
        progress(`seed ${seed}: verified generation (≤ ${candidates} draws) — ${cost.kept} of ${cost.samples} kept, acceptance ${fmt(cost.acceptanceRate)} per draw, ${cost.meanDrawsPerKept === null ? "—" : cost.meanDrawsPerKept.toFixed(2)} draws per kept sample`);

        const conditioning = conditioningCheck(model, seed, generation, opts.conditioning);
        const latent = latentAnalysis(model, data, trainFolded.properties, testFolded.properties, opts.tree ?? {}, opts.traversalSteps ?? TRAVERSAL_STEPS, opts.traversalDraws ?? 20, generation);
        for (const tr of latent.traversals) {
          progress(`seed ${seed}: traversal along the ${tr.property} direction (${tr.decoder} decoder): achieved ${tr.property} ${tr.meanAchieved.map((a) => (a ? fmtProfile(a, tr.property) : "—")).join(" → ")}${tr.draws > 1 ? ` (mean of ${tr.draws} draws)` : ""}`);
        }

        const totalSeconds = info.history.reduce((a, h) => a + h.seconds, 0);
        perSeed.push({
          seed, modelDir, history: info.history,
          secondsPerEpoch: info.training.secondsPerEpoch, stepsPerSecond: info.training.stepsPerSecond, trainingMinutes: totalSeconds / 60,
          reconstruction, decoder, arDecoder,
          raw: { preMirna: rawSet(pre, preEval), canonical: rawSet(canonical, canonicalEval), negative: rawSet(neg, negEval), columnsDecoder },
          rawSeconds, realism, verified: verifiedResult, conditioning, latent,
          examples: { preMirna: examplesOf(pre, preEval, 12), negative: examplesOf(neg, negEval, 8) },
        });
      } finally {
        disposeCvae(cvae);
      }
    }
  } finally {
    classifier?.dispose();
  }

  const pick = (f: (s: CvaeSeedResult) => number | null): MeanSd => {
    const values = perSeed.map(f).filter((v): v is number => v !== null && Number.isFinite(v));
    return values.length ? meanSd(values) : { mean: NaN, sd: null };
  };
  const pickers: Record<CvaeSummaryField, (s: CvaeSeedResult) => number | null> = {
    rawClassifierPreMirna: (s) => s.raw.preMirna.summary.classifierPreMirna,
    rawRefoldExact: (s) => s.raw.preMirna.summary.refoldExact,
    rawColumnAgreement: (s) => s.raw.preMirna.summary.columnAgreement,
    rawSanityPass: (s) => s.raw.preMirna.summary.sanityPass,
    rawNoveltyMedian: (s) => s.raw.preMirna.summary.noveltyMedian,
    rawLongRun: (s) => s.raw.preMirna.composition.withLongRun,
    discriminatorAuc: (s) => s.realism.preMirna.discriminator.auc,
    kmerJsd: (s) => s.realism.preMirna.distributions.kmers.jsd,
    negativeClassifierPreMirna: (s) => s.raw.negative.summary.classifierPreMirna,
    negativeDiscriminatorAuc: (s) => s.realism.negative.discriminator.auc,
    canonicalClassifierPreMirna: (s) => s.raw.canonical.summary.classifierPreMirna,
    canonicalRefoldExact: (s) => s.raw.canonical.summary.refoldExact,
    canonicalSanityPass: (s) => s.raw.canonical.summary.sanityPass,
    canonicalNoveltyMedian: (s) => s.raw.canonical.summary.noveltyMedian,
    columnsClassifierPreMirna: (s) => s.raw.columnsDecoder?.summary.classifierPreMirna ?? null,
    columnsRefoldExact: (s) => s.raw.columnsDecoder?.summary.refoldExact ?? null,
    columnsSanityPass: (s) => s.raw.columnsDecoder?.summary.sanityPass ?? null,
    columnsNoveltyMedian: (s) => s.raw.columnsDecoder?.summary.noveltyMedian ?? null,
    verifiedClassifierPreMirna: (s) => s.verified.summary.classifierPreMirna,
    verifiedRefoldExact: (s) => s.verified.summary.refoldExact,
    verifiedSanityPass: (s) => s.verified.summary.sanityPass,
    verifiedNoveltyMedian: (s) => s.verified.summary.noveltyMedian,
    verifiedAcceptanceRate: (s) => s.verified.cost.acceptanceRate,
    verifiedMeanDrawsPerKept: (s) => s.verified.cost.meanDrawsPerKept,
    verifiedKeptFraction: (s) => s.verified.cost.keptFraction,
    verifiedDiscriminatorAuc: (s) => s.verified.againstFilteredReal.auc,
    reconstructionColourAccuracy: (s) => s.reconstruction.colourAccuracy,
    reconstructionExactImages: (s) => s.reconstruction.exactImages,
    trainingMinutes: (s) => s.trainingMinutes,
    arTrainingMinutes: (s) => s.arDecoder?.minutes ?? null,
    rawSeconds: (s) => s.rawSeconds,
    verifiedSeconds: (s) => s.verified.seconds,
  };
  const summary = Object.fromEntries(CVAE_SUMMARY_FIELDS.map((f) => [f, pick(pickers[f])])) as Record<CvaeSummaryField, MeanSd>;
  const results: CvaeExperimentResults = {
    experiment: `conditional VAE on hairpin images (class, structure and residual latent parts; structured column-token decoder); generation with the ${decoder} decoder; every number on the test split`,
    seeds: [...opts.seeds], epochs: opts.epochs, backend: describeBackend(), date: new Date().toISOString(), classifierDir: opts.classifierDir,
    data: {
      heldOutSet: data.heldOutSet, train: data.train.n, trainPositives, validation: data.validation.n, validationPositives: validationRows.length, validationSource: data.validationSplit ? validationSplitText(data) : null,
      heldOut: data.heldOut.n, heldOutPositives: testPositiveRows.length, report: data.report,
    },
    generation: { ...generationChoice, comparison: opts.generation?.comparison ?? null, candidates, samples },
    sanity: { rules, source: sanitySource },
    realPreMirna, realNegative, trainingPreMirna, flanks,
    pooledRealism: realismComparison(realPre, pooledGenerated),
    realismControl: realismControl(realPre, positives(data.train).map((i) => trainFolded.folds[i]!), samples, realismOptions),
    perSeed, summary,
  };
  fs.mkdirSync(opts.outDir, { recursive: true });
  writeFileAtomic(path.join(opts.outDir, "results.json"), JSON.stringify(results, null, 1));
  return results;
}

/**
 * Trains (or resumes) one seed's VAE (`seedDir/checkpoint`) and, with the autoregressive decoder,
 * its AR decoder (`seedDir/ar-checkpoint`) and refinement rounds (`seedDir/ar-checkpoint-refine`),
 * and saves the model to `seedDir/model` with `sanity` ({@link trainCvaeSeed}); the
 * reconstruction of `heldOut` when given. The caller disposes `cvae`.
 */
async function trainSeedModel(
  seed: number, seedDir: string, data: VaeData, opts: CvaeExperimentOptions, sanity: { rules: SanityRules; source: string }, progress: (line: string) => void,
  heldOut: VaeDataset | null = null,
): Promise<{
  cvae: Cvae; info: CvaeModelInfo; model: CvaeForGeneration & { training: { sequences: string[] } }; modelDir: string; arDecoder: CvaeSeedResult["arDecoder"];
  reconstruction: ReconstructionMetrics | null;
}> {
  const decoder: GenerationDecoder = opts.decoder ?? "autoregressive";
  const arEpochs = opts.arDecoder?.epochs ?? AR_DECODER_EPOCHS;
  const modelDir = path.join(seedDir, "model");
  const trained = await trainCvaeSeed(data.train, {
    seed, checkpointRoot: seedDir, modelDir, sanity, heldOut,
    training: {
      ...opts.training, epochs: opts.epochs,
      onEpoch: (r) => progress(`seed ${seed} epoch ${r.epoch}/${opts.epochs}: loss ${num(r.total)} recon ${num(r.reconstruction)} KL ${num((r.klClass ?? 0) + (r.klStructure ?? 0) + (r.klResidual ?? 0))} β ${num(r.beta, 3)} token acc ${num(r.tokenAccuracy, 4)} | val recon ${num(r.valReconstruction)} | ${r.seconds.toFixed(1)} s`),
    },
    arDecoder: decoder === "autoregressive"
      ? { epochs: arEpochs, config: opts.arDecoder?.config, batchSize: opts.arDecoder?.batchSize, learningRate: opts.arDecoder?.learningRate, refine: opts.arDecoder?.refine ?? DEFAULT_AR_REFINEMENT }
      : null,
    onTrained: (part, resumedFromEpoch) => {
      if (part === "cvae" && resumedFromEpoch >= opts.epochs && opts.epochs > 0) progress(`seed ${seed}: all ${opts.epochs} epochs found in ${displayPath(path.join(seedDir, "checkpoint"))}`);
      if (part === "arDecoder" && resumedFromEpoch >= arEpochs && arEpochs > 0) progress(`seed ${seed}: all ${arEpochs} AR decoder epochs found in ${displayPath(path.join(seedDir, "ar-checkpoint"))}`);
    },
    onArEpoch: (r) => progress(typeof r.refineRound === "number"
      ? `seed ${seed} AR refinement round ${r.refineRound} epoch ${r.epoch}: token NLL ${num(r.nll)} | val ${num(r.valNll)} | ${r.seconds.toFixed(1)} s`
      : `seed ${seed} AR decoder epoch ${r.epoch}/${arEpochs}: token NLL ${num(r.nll)} | val ${num(r.valNll)} nats per hairpin | ${r.seconds.toFixed(1)} s`),
    onRefineRound: (r) => progress(`seed ${seed} AR refinement round ${r.round}: drafts refolding exactly ${r.refoldExact.join(" / ")} of ${r.drafts.join(" / ")} (negatives / pre-miRNAs), kept ${r.accepted.join(" / ")}; ${r.seconds.toFixed(0)} s`),
  });
  const { cvae, info, training } = trained;
  let arDecoder: CvaeSeedResult["arDecoder"] = null;
  if (trained.arDecoder) {
    const ar = trained.arDecoder;
    const refinement = ar.info.refinement ?? [];
    const baseSeconds = ar.info.history.filter((h) => typeof h.refineRound !== "number").reduce((a, h) => a + h.seconds, 0);
    arDecoder = {
      epochs: arEpochs, minutes: (baseSeconds + refinement.reduce((a, r) => a + r.seconds, 0)) / 60, validationNll: ar.info.validationNll,
      history: ar.info.history, refinement, config: cvae.arDecoder!.config,
    };
  }
  return { cvae, info, model: { cvae, info, training }, modelDir, arDecoder, reconstruction: trained.reconstruction };
}

/** Where the validation split comes from, in words ("10% of modhsa_train (seed 1)"). */
function validationSplitText(data: VaeData): string {
  return data.validationSplit ? `${Math.round(data.validationSplit.fraction * 100)}% of ${data.validationSplit.set} (seed ${data.validationSplit.seed})` : "the validation sets";
}

/**
 * The sanity rules every model of the experiment is saved with: their MFE-per-nt window from the
 * VALIDATION pre-miRNAs folded with RNAfold (at least 10 of them), and where it comes from.
 */
export async function validationSanity(data: VaeData): Promise<{ rules: SanityRules; source: string }> {
  const sequences = [...data.validation.labels.keys()].filter((i) => data.validation.labels[i] === 1).map((i) => data.validation.sequences[i]!);
  if (sequences.length < 10) throw new InputError(`the validation split holds ${sequences.length} pre-miRNAs; the sanity rules' MFE window needs at least 10`);
  const { rules } = await sanityRulesFrom(sequences);
  return { rules, source: `MFE/nt window = 1st–99th percentile of the ${sequences.length} validation pre-miRNAs (${validationSplitText(data)}) folded with RNAfold` };
}

/** The JSON a worker gets to train one model of the experiment ({@link trainCvaeModelTask}). */
export interface CvaeModelTask {
  /** The experiment's options (plain JSON: no progress callback). */
  options: Omit<CvaeExperimentOptions, "progress">;
  seed: number;
  /** `outDir/seed-S` or `outDir/dev-seed-S`. */
  seedDir: string;
}

/**
 * A worker's task (lib/src/workers.ts, "cvae-model"): trains (or resumes) one model of the
 * experiment into `seedDir` exactly as the experiment would (same data, sizes, sanity rules,
 * AR decoder and refinement rounds), printing its progress. The experiment then finds it complete.
 */
export async function trainCvaeModelTask(task: CvaeModelTask): Promise<void> {
  const progress = (line: string) => console.log(line);
  const data = buildVaeData(task.options.data);
  const sanity = await validationSanity(data);
  const { cvae } = await trainSeedModel(task.seed, task.seedDir, data, task.options, sanity, progress);
  disposeCvae(cvae);
}

/**
 * Trains the experiment's models in worker processes before it runs (lib/src/io/workers.ts): the
 * development seed's (`outDir/dev-seed-S`, when given) and every reported seed's
 * (`outDir/seed-S`), `workers` at a time (default 2, one thread each), each exactly as the
 * experiment trains it and logged to `<seedDir>/worker.log`. {@link chooseGenerationOnValidation}
 * and {@link runCvaeExperiment} then resume the finished checkpoints in-process, so on two cores
 * the four models of the notebook train in about the time of two and a half.
 */
export async function trainCvaeModelsInWorkers(opts: CvaeExperimentOptions, run: { devSeed?: number; workers?: number } = {}): Promise<void> {
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const { progress: _progress, ...options } = opts;
  const jobs: CvaeModelTask[] = [
    ...(run.devSeed !== undefined ? [{ options, seed: run.devSeed, seedDir: path.join(opts.outDir, `dev-seed-${run.devSeed}`) }] : []),
    ...opts.seeds.map((seed) => ({ options, seed, seedDir: path.join(opts.outDir, `seed-${seed}`) })),
  ];
  const started = performance.now();
  await runPool(jobs, run.workers ?? 2, async (job) => {
    const t0 = performance.now();
    await runLibraryTask("cvae-model", job, path.join(job.seedDir, "worker.log"));
    progress(`trained ${path.basename(job.seedDir)} in a worker in ${formatDuration((performance.now() - t0) / 1000)} (${formatDuration((performance.now() - started) / 1000)} so far; log ${displayPath(path.join(job.seedDir, "worker.log"))})`);
  });
}

/** A development seed's settings choice on the validation split (see {@link chooseGenerationOnValidation}). */
export interface ValidationChoice extends ChosenGeneration {
  /** The chooser's full result (the table, the rule, the validation references). */
  choice: GenerationChoice;
  /** The development seed (its model under `outDir/dev-seed-S`). */
  seed: number;
}

/**
 * Chooses the generation settings on the VALIDATION split with a development seed's model, never
 * a reported seed or the test split: trains (or resumes) the model of `devSeed` as the experiment
 * trains its seeds (same data, sizes and epochs; under `outDir/dev-seed-S`), then compares
 * `candidates` (default: settings.ts) by {@link chooseGenerationSettings} on `samples`
 * raw samples per class (default 500) of the validation split, judged by `opts.classifierDir`.
 * Returns the choice in the form {@link runCvaeExperiment} takes (`generation`), with where it was
 * chosen and the comparison rows.
 */
export async function chooseGenerationOnValidation(
  opts: CvaeExperimentOptions, devSeed: number, choose: { samples?: number; candidates?: readonly GenerationCandidate[] } = {},
): Promise<ValidationChoice> {
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (!Number.isInteger(devSeed)) throw new InputError(`the development seed must be an integer, got ${devSeed}`);
  if (opts.seeds.includes(devSeed)) throw new InputError(`the development seed ${devSeed} is one of the reported seeds (${opts.seeds.join(", ")}): settings are chosen on another seed`);
  if ((opts.decoder ?? "autoregressive") !== "autoregressive") throw new InputError("choosing generation settings needs the autoregressive decoder");
  if (opts.data?.validation === false) throw new InputError("choosing generation settings needs the validation split");
  const data: VaeData = buildVaeData(opts.data);
  const sanity = await validationSanity(data);
  const validationSource = validationSplitText(data);
  const { cvae, model } = await trainSeedModel(devSeed, path.join(opts.outDir, `dev-seed-${devSeed}`), data, opts, sanity, progress);
  const classifier = opts.classifierDir ? await loadTfjsModel(opts.classifierDir) : null;
  try {
    const choice = await chooseGenerationSettings({
      model, validation: data.validation, seed: devSeed, samples: choose.samples, candidates: choose.candidates, classifier,
      onCandidate: (r) => progress(`validation, development seed ${devSeed}: ${r.candidate.name} — raw refold exact ${fmt(r.preMirna.refoldExact)}, sanity ${fmt(r.preMirna.sanity)}, classifier ${fmt(r.preMirna.classifierPreMirna)}, negatives called ${fmt(r.negative.classifierPreMirna)}; targets met ${r.targetsMet}`),
    });
    const c = choice.chosen;
    const ci = (x: [number, number] | null) => (x ? `${x[0].toFixed(3)}–${x[1].toFixed(3)}` : "—");
    const comparison = choice.table.map((r) => ({
      setting: r.candidate.name, "latent τ": r.candidate.temperature, "token temperature": r.candidate.tokenTemperature, "top-p": r.candidate.topP, grammar: describeGrammar(r.candidate.grammar),
      "refold exact": r.preMirna.refoldExact, "95% CI": ci(r.preMirna.refoldExactCi), sanity: r.preMirna.sanity, "sanity 95% CI": ci(r.preMirna.sanityCi),
      "classifier: pre-miRNA": r.preMirna.classifierPreMirna, "novelty (median)": r.preMirna.noveltyMedian, "negatives called pre-miRNA": r.negative.classifierPreMirna,
      "KS sum (length, MFE/nt)": r.realismDistance, "targets met": r.targetsMet, chosen: r.candidate === c,
    }));
    return {
      settings: { temperature: c.temperature, tokenTemperature: c.tokenTemperature, topP: c.topP, grammar: c.grammar },
      chosenOn: `validation split (${validationSource}), the model of development seed ${devSeed} (not a reported seed): ${choice.table.length} settings compared on ${choice.samples} raw samples per class by the rule "${choice.rule}"`,
      comparison, choice, seed: devSeed,
    };
  } finally {
    classifier?.dispose();
    disposeCvae(cvae);
  }
}

/** A drawing grammar in words. */
export function describeGrammar(g: DrawingGrammar | false): string {
  return g === false ? "no grammar" : `grammar (loop ≥ ${g.minLoop} nt, mismatches ${g.mismatch === "none" ? "unrestricted" : `not ${g.mismatch === "wc" ? "Watson–Crick" : "Watson–Crick or GU"}-complementary next to a pair`}${g.bulgeRegister === false ? "" : ", bulges in RNAfold's register"})`;
}

/** Real against real: the test set's two halves, and training pre-miRNAs against the test ones (seeded). */
function realismControl(test: FoldedHairpin[], training: FoldedHairpin[], samples: number, options: { folds?: number; bootstrap?: number }): CvaeExperimentResults["realismControl"] {
  const random = mulberry32(1789);
  const order = [...test.keys()];
  shuffleInPlace(order, random);
  const half = Math.floor(order.length / 2);
  const trainingOrder = [...training.keys()];
  shuffleInPlace(trainingOrder, random);
  const trainingSample = trainingOrder.slice(0, samples).map((i) => training[i]!);
  return {
    testHalves: realVsGeneratedTest(order.slice(0, half).map((i) => test[i]!), order.slice(half).map((i) => test[i]!), { ...options, seed: 1 }),
    trainingVsTest: realVsGeneratedTest(test, trainingSample, { ...options, seed: 1 }),
    trainingVsTestDistributions: realismComparison(test, trainingSample),
  };
}

function describeSettings(g: GenerationSettings): string {
  return g.decoder === "autoregressive"
    ? `autoregressive decoder, latent temperature ${g.temperature}, token temperature ${g.tokenTemperature}, nucleus ${g.topP}, ${describeGrammar(g.grammar)}`
    : `the VAE's own decoder, latent temperature ${g.temperature}, token temperature ${g.tokenTemperature}`;
}

function num(v: number | null | undefined, digits = 2): string {
  return typeof v === "number" ? v.toFixed(digits) : "—";
}
function fmt(v: number | null): string {
  return v === null || Number.isNaN(v) ? "—" : v.toFixed(3);
}
function fmtProfile(a: { stem: number; loop: number; gc: number }, p: ProfileName): string {
  return p === "gc" ? a.gc.toFixed(2) : a[p].toFixed(1);
}

/** Default requested values of the conditioning check. */
export const DEFAULT_CONDITIONING = { stem: [20, 25, 30, 35], loop: [4, 8, 12, 16], gc: [0.35, 0.45, 0.55, 0.65] };

/** Samples asked for each requested value (the other profile entries from all training pre-miRNAs), and the property of what they drew. */
function conditioningCheck(model: CvaeForGeneration, seed: number, generation: GenerationSettings, opts: CvaeExperimentOptions["conditioning"] = {}): ConditioningRow[] {
  const n = opts.samples ?? 100;
  const rows: ConditioningRow[] = [];
  for (const property of PROFILE_NAMES) {
    const values = opts[property] ?? DEFAULT_CONDITIONING[property];
    values.forEach((requested, k) => {
      const g = generateHairpins(model, { n, label: 1, seed: seed * 1000 + 17 * (k + 1) + PROFILE_NAMES.indexOf(property), ...generation, profilePool: "all", profile: { [property]: requested } });
      const achieved = g.columns.map((c, i) => hairpinProperties(c, g.sequences[i]!, 0)[property]);
      rows.push({ property, requested, n, achieved: meanSd(achieved) });
    });
  }
  return rows;
}

/** Names of latent dimensions: z_class[k], z_structure[k], z_residual[k]. */
export function latentNames(config: { latent: { class: number; structure: number; residual: number } }): string[] {
  const { class: dc, structure: ds, residual: dr } = config.latent;
  return [
    ...Array.from({ length: dc }, (_, k) => `z_class[${k}]`),
    ...Array.from({ length: ds }, (_, k) => `z_structure[${k}]`),
    ...Array.from({ length: dr }, (_, k) => `z_residual[${k}]`),
  ];
}

/** The dimensions [from, to) of a latent part. */
export function latentPartRange(config: { latent: { class: number; structure: number; residual: number } }, part: LatentPart): [number, number] {
  const { class: dc, structure: ds, residual: dr } = config.latent;
  switch (part) {
    case "class": return [0, dc];
    case "structure": return [dc, dc + ds];
    case "residual": return [dc + ds, dc + ds + dr];
    case "class + structure": return [0, dc + ds];
    case "all": return [0, dc + ds + dr];
  }
}

/** Columns [from, to) of rows of width `dims`. */
function sliceDims(z: Float32Array, dims: number, from: number, to: number): Float32Array {
  const n = z.length / dims, w = to - from;
  const out = new Float32Array(n * w);
  for (let i = 0; i < n; i++) out.set(z.subarray(i * dims + from, i * dims + to), i * w);
  return out;
}

/**
 * Correlations, ridge fits per latent part, the generator's directions and traversals, and
 * decision trees, on posterior means of the training hairpins (fits) and the test ones (R²,
 * tree accuracy).
 */
function latentAnalysis(
  model: CvaeForGeneration, data: VaeData, trainProperties: HairpinProperties[], testProperties: HairpinProperties[], treeOptions: DecisionTreeOptions,
  steps: number[], traversalDraws: number, generation: GenerationSettings,
): CvaeSeedResult["latent"] {
  const cvae: Cvae = model.cvae;
  const D = latentSize(cvae.config);
  const P = HAIRPIN_PROPERTIES.length;
  const trainZ = encodeMeans(cvae, data.train.tokens, data.train.n);
  const testZ = encodeMeans(cvae, data.heldOut.tokens, data.heldOut.n);
  const correlations = latentCorrelations(trainZ, D, trainProperties);
  const names = latentNames(cvae.config);
  const fits: LatentPartFit[] = [];
  for (const part of LATENT_PARTS) {
    const [from, to] = latentPartRange(cvae.config, part);
    const directions = propertyDirections(sliceDims(trainZ, D, from, to), to - from, trainProperties, { test: { latents: sliceDims(testZ, D, from, to), properties: testProperties } });
    for (const d of directions) {
      const j = HAIRPIN_PROPERTIES.indexOf(d.property);
      let best = from;
      for (let k = from; k < to; k++) if (Math.abs(correlations[k * P + j]!) > Math.abs(correlations[best * P + j]! || 0)) best = k;
      fits.push({ part, property: d.property, conditioned: CONDITIONED_PROPERTIES.includes(d.property), r2: d.r2, testR2: d.testR2, strongest: { dimension: names[best]!, r: correlations[best * P + j]! } });
    }
  }
  // The generator's directions: fitted on the class and structure parts (what the AR decoder reads), zeros on the residual.
  const [, Dg] = latentPartRange(cvae.config, "class + structure");
  const trainG = sliceDims(trainZ, D, 0, Dg);
  const global = propertyDirections(trainG, Dg, trainProperties);
  const preMirnaMeanLatent = Array.from(meanLatent(trainZ, D, (i) => data.train.labels[i] === 1));
  const directions = PROFILE_NAMES.map((property) => {
    const d = global.find((x) => x.property === property)!;
    const direction = new Array<number>(D).fill(0);
    d.direction.forEach((v, k) => (direction[k] = v));
    return { property, direction, spread: spreadAlong(trainG, Dg, d.direction) };
  });
  const traversals: TraversalResult[] = [];
  const decoders: GenerationDecoder[] = cvae.arDecoder ? ["autoregressive", "columns"] : ["columns"];
  for (const { property, direction, spread } of directions) {
    const offsets = steps.map((k) => k * spread);
    for (const decoder of decoders) {
      // The generator as it generates (its token temperature and nucleus): each panel with the same
      // seed at every step; the means over further drawings of each step, in one batch.
      const t = latentTraversal(model, preMirnaMeanLatent, direction, offsets, {
        decoder, label: 1, seed: TRAVERSAL_SEED, tokenTemperature: generation.tokenTemperature, topP: generation.topP, grammar: generation.grammar, draws: traversalDraws,
      });
      traversals.push({ property, decoder, steps: [...steps], offsets, seed: TRAVERSAL_SEED, draws: t.draws, achieved: t.achieved, meanAchieved: t.meanAchieved });
    }
  }
  // Trees on the latent means, pre-miRNA or not; each split dimension with its strongest correlates.
  const correlates = (k: number) => HAIRPIN_PROPERTIES.map((property, j) => ({ property, r: correlations[k * P + j]! }))
    .filter((c) => Number.isFinite(c.r)).sort((a, b) => Math.abs(b.r) - Math.abs(a.r)).slice(0, 2);
  const [, dc] = latentPartRange(cvae.config, "class");
  const trees: LatentTreeResult[] = [];
  for (const [parts, from] of [["all latent parts", 0], ["structure and residual parts (no class part)", dc]] as const) {
    const dims = D - from;
    const xTrain = sliceDims(trainZ, D, from, D);
    const xTest = sliceDims(testZ, D, from, D);
    const tree = fitDecisionTree(xTrain, data.train.labels, dims, treeOptions);
    const accuracy = (x: Float32Array, labels: Uint8Array) => {
      const p = predictDecisionTree(tree, x);
      let ok = 0;
      p.forEach((v, i) => {
        if ((v >= 0.5 ? 1 : 0) === labels[i]) ok++;
      });
      return labels.length ? ok / labels.length : NaN;
    };
    const featureNames = names.slice(from);
    trees.push({
      parts, lines: describeDecisionTree(tree, featureNames), depth: treeDepth(tree),
      trainAccuracy: accuracy(xTrain, data.train.labels), heldOutAccuracy: accuracy(xTest, data.heldOut.labels),
      splits: treeFeatures(tree).map((f) => ({ dimension: featureNames[f]!, correlates: correlates(from + f) })),
    });
  }
  return { correlations: Array.from(correlations), fits, traversals, preMirnaMeanLatent, directions, trees };
}
