import { displayPath } from "../data/paths";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { loadTfjsModel } from "../io/tfjsModel";
import { MeanSd, meanSd } from "../metrics";
import { describeBackend } from "../ops/backend";
import { EpochRecord } from "../training/checkpoint";
import { AR_DECODER_EPOCHS, ArDecoderConfig, saveArDecoder } from "./arDecoder";
import { DEFAULT_GENERATION, generateHairpins, GeneratedHairpins, GenerationDecoder, renderTokens } from "./generate";
import {
  classifierCalls, encodeMeans, evaluateGeneratedHairpins, GeneratedSummary, hairpinSanity, ReconstructionMetrics, reconstructionMetrics, SanityRules, sanityRulesFrom,
  SequenceComposition, sequenceComposition,
} from "./generateEval";
import { HAIRPIN_PROPERTIES, HairpinProperties, hairpinProperties, latentCorrelations, meanLatent, propertyDirections, spreadAlong } from "./latentBiology";
import { DecisionTreeOptions, describeDecisionTree, fitDecisionTree, predictDecisionTree, treeFeatures } from "./latentTree";
import { generateVerifiedHairpins } from "./generateVerified";
import { foldSequences } from "./rnafold";
import { buildVaeData, PROFILE_NAMES, ProfileName, VaeData, VaeDataOptions, VaeDataReport, VaeDataset } from "./vaeData";
import { disposeCvae, latentSize } from "./vaeModel";
import { saveCvae, trainCvae, trainCvaeArDecoder, TrainCvaeOptions } from "./vaeTrain";
import { tokensToColumns, TOKEN_COLUMNS } from "./vaeTokens";

/**
 * The conditional-VAE experiment (issue 12): the data split once (vaeData.ts), then per seed
 * training through the shared loop (checkpointed under `outDir/seed-S/checkpoint`, the model
 * saved to `outDir/seed-S/model`), then its autoregressive column decoder (arDecoder.ts;
 * checkpointed under `outDir/seed-S/ar-checkpoint`, saved into the model folder), and the
 * evaluation:
 *   - reconstruction of the held-out images;
 *   - generated pre-miRNAs (and, as a control, generated negatives): the judge classifier's
 *     calls, the refold → re-encode check, the hairpin sanity rules (MFE-per-nt range from the
 *     held-out real pre-miRNAs), novelty against the training hairpins;
 *   - conditioning: samples asked for a stem length, loop size or GC content, and what they got;
 *   - latent ↔ biology: correlations of every latent dimension with stem length, loop size,
 *     bulges, GC and MFE (training hairpins, posterior means), ridge directions for each
 *     property (R² on held-out hairpins), and decision trees on the latent means (pre-miRNA or
 *     not), fitted on training hairpins and scored on held-out ones;
 * and mean ± sd over the seeds. Results go to `outDir/results.json`.
 */

/** Options of {@link runCvaeExperiment}. */
export interface CvaeExperimentOptions {
  seeds: readonly number[];
  epochs: number;
  outDir: string;
  /** The judge: a deepMir classifier folder (trained on modhsa_train). Null: no classifier calls. */
  classifierDir: string | null;
  /** Data selection (sets, held-out set, sizes). */
  data?: VaeDataOptions;
  /** Training options besides epochs, seed and checkpoints (batch size, learning rate, β, warm-up, sizes). */
  training?: Omit<TrainCvaeOptions, "epochs" | "seed" | "checkpointDir" | "onEpoch" | "onStep">;
  /** Generated samples per class and seed. Default 1000. */
  samples?: number;
  /** The decoder that writes generated hairpins (default "autoregressive"; "columns" trains no AR decoder). */
  decoder?: GenerationDecoder;
  /** The AR decoder's training: epochs (default {@link AR_DECODER_EPOCHS}), sizes, batch size, learning rate. */
  arDecoder?: { epochs?: number; config?: ArDecoderConfig; batchSize?: number; learningRate?: number };
  /** Latent temperature of generation (1 = the priors). Default {@link DEFAULT_GENERATION} of the decoder. */
  temperature?: number;
  /** Token temperature of generation. Default {@link DEFAULT_GENERATION} of the decoder. */
  tokenTemperature?: number;
  /** The AR decoder's nucleus (default {@link DEFAULT_GENERATION}). */
  topP?: number;
  /** Decodings tried per sample by RNAfold-verified decoding (1 = the first only). Default {@link DEFAULT_GENERATION.candidates}. */
  candidates?: number;
  /** Requested values for the conditioning check, and samples per value (default 100). */
  conditioning?: { stem?: number[]; loop?: number[]; gc?: number[]; samples?: number };
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
  /** Accuracy (leaf majority) on the training hairpins and on the held-out ones. */
  trainAccuracy: number;
  heldOutAccuracy: number;
  /** The dimensions it splits on, named. */
  features: string[];
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
  arDecoder: { epochs: number; minutes: number; validationNll: number | null; history: EpochRecord[] } | null;
  /**
   * Generated pre-miRNAs (label 1) and negatives (label 0) with RNAfold-verified decoding, and
   * the same pre-miRNAs' first decodings alone (most likely, or the first AR draw: the model
   * without the search). With the AR decoder, `columnsDecoder` holds the same checks for the
   * CVAE's own decoder (verified and most likely, at its default temperature) for comparison.
   * The pre-miRNAs' profiles come from canonical training pre-miRNAs (the default);
   * `preMirnaAllProfiles` is the same generation with profiles from all of them.
   */
  generated: {
    preMirna: GeneratedSummary; preMirnaMostLikely: GeneratedSummary; preMirnaAllProfiles: GeneratedSummary; negative: GeneratedSummary;
    columnsDecoder: { preMirna: GeneratedSummary; preMirnaMostLikely: GeneratedSummary } | null;
  };
  /** Nucleotide composition of the generated pre-miRNAs (verified), and of the columns decoder's when compared. */
  composition: { generated: SequenceComposition; columnsDecoder: SequenceComposition | null };
  /** Which candidate the verified decoding kept: counts by rank (−1 = none passed). */
  verifiedRanks: Record<string, number>;
  /** Seconds to generate `samples` pre-miRNAs with verified decoding plus their evaluation (what `hairpin generate` does). */
  generationSeconds: number;
  conditioning: ConditioningRow[];
  /** Pearson r, shape=(D, 5) row-major over {@link HAIRPIN_PROPERTIES}, on the training hairpins. */
  correlations: number[];
  /**
   * Per property: its ridge direction in latent space (unit vector, shape=(D,)), R² on training
   * and held-out hairpins, and the spread (sd) of the training latents along it.
   */
  directions: { property: string; r2: number; testR2: number | null; direction: number[]; spread: number }[];
  /** Mean posterior latent of the training pre-miRNAs, shape=(D,) (the start of traversals). */
  preMirnaMeanLatent: number[];
  trees: LatentTreeResult[];
  /** Property rows of generated pre-miRNAs (from RNAfold's folds): length, gc, mfe, loop. */
  generatedProperties: { length: number[]; gc: number[]; mfe: number[]; loop: number[] };
  /** The first generated pre-miRNAs (sequence, drawn structure, fold, exact, P). */
  examples: { sequence: string; drawn: string; fold: string; exact: boolean; probability: number | null; novelty: number | null }[];
}

/** results.json. */
export interface CvaeExperimentResults {
  experiment: string;
  seeds: number[];
  epochs: number;
  backend: string;
  date: string;
  classifierDir: string | null;
  data: { heldOutSet: string; train: number; trainPositives: number; heldOut: number; heldOutPositives: number; report: VaeDataReport[] };
  sanity: { rules: SanityRules; source: string };
  /** Real held-out pre-miRNAs through the same checks (the reference for generated ones). */
  realPreMirna: { n: number; refoldExact: number; sanityPass: number; classifierPreMirna: number | null; properties: { length: number[]; gc: number[]; mfe: number[]; loop: number[] } };
  /**
   * The training pre-miRNAs (what the generator learns from; human and other species) through
   * the sanity rules: the fraction passing all four, and the stem and MFE-per-nt rules alone.
   */
  trainingPreMirna: { n: number; sanityPass: number; stemOk: number; mfeOk: number };
  perSeed: CvaeSeedResult[];
  summary: Record<string, MeanSd>;
}

/** Fields of the summary (mean ± sd over seeds). */
export const CVAE_SUMMARY_FIELDS = [
  "classifierPreMirna", "refoldExact", "columnAgreement", "sanityPass", "noveltyMedian", "reconstructionColourAccuracy",
  "reconstructionExactImages", "negativeClassifierPreMirna", "trainingMinutes", "arTrainingMinutes", "generationSeconds",
  "mostLikelyClassifierPreMirna", "mostLikelyRefoldExact", "mostLikelySanityPass", "mostLikelyNoveltyMedian",
  "columnsClassifierPreMirna", "columnsRefoldExact", "columnsSanityPass", "columnsNoveltyMedian", "columnsMostLikelyRefoldExact",
] as const;

/** Training epochs of the full-size model (about 20 min per seed on 2 cores with the native backend). */
export const CVAE_EPOCHS = 60;

/** The drawing and fold properties used in distribution figures. */
function foldProperties(sequences: readonly string[], folds: readonly { structure: string; mfe: number }[]) {
  const loop = folds.map((f) => hairpinSanity(f.structure, f.mfe, { minStemPairs: 0, loopRange: [0, 0], mfePerNtRange: [0, 0] }).loopSize);
  return {
    length: sequences.map((s) => s.length),
    gc: sequences.map((s) => [...s].filter((c) => c === "G" || c === "C").length / Math.max(1, s.length)),
    mfe: folds.map((f) => f.mfe),
    loop,
  };
}

/** Properties (stem, loop, bulges, GC, MFE) of a token dataset with RNAfold MFEs, and the folds. */
async function datasetProperties(d: VaeDataset): Promise<{ properties: HairpinProperties[]; folds: { structure: string; mfe: number }[] }> {
  const folds = await foldSequences(d.sequences);
  return { properties: d.sequences.map((s, i) => hairpinProperties(tokensToColumns(d.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS)), s, folds[i]!.mfe)), folds };
}

/** Runs (or resumes) the experiment; see the module comment. Needs RNAfold, the deepMir data and an initialised backend. */
export async function runCvaeExperiment(opts: CvaeExperimentOptions): Promise<CvaeExperimentResults> {
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (opts.seeds.length === 0 || opts.seeds.some((s) => !Number.isInteger(s))) throw new InputError(`seeds must be integers, got ${JSON.stringify(opts.seeds)}`);
  const samples = opts.samples ?? 1000;
  const decoder: GenerationDecoder = opts.decoder ?? "autoregressive";
  const temperature = opts.temperature ?? DEFAULT_GENERATION[decoder].temperature;
  const tokenTemperature = opts.tokenTemperature ?? DEFAULT_GENERATION[decoder].tokenTemperature;
  const topP = opts.topP ?? DEFAULT_GENERATION[decoder].topP;
  const arEpochs = opts.arDecoder?.epochs ?? AR_DECODER_EPOCHS;
  const data: VaeData = buildVaeData(opts.data);
  const trainPositives = data.train.labels.reduce((a, b) => a + b, 0);
  const heldPositives = data.heldOut.labels.reduce((a, b) => a + b, 0);
  progress(`VAE data: ${data.train.n} training hairpins (${trainPositives} pre-miRNA), ${data.heldOut.n} held out from ${data.heldOutSet} (${heldPositives} pre-miRNA)`);

  // The sanity rules, with the MFE-per-nt range of the held-out real pre-miRNAs; the same checks on them.
  const heldRows = [...data.heldOut.labels.keys()].filter((i) => data.heldOut.labels[i] === 1);
  const realSequences = heldRows.map((i) => data.heldOut.sequences[i]!);
  const { rules } = await sanityRulesFrom(realSequences);
  const sanitySource = `MFE/nt range = 1st–99th percentile of the ${realSequences.length} held-out ${data.heldOutSet} pre-miRNAs folded with RNAfold`;
  const classifier = opts.classifierDir ? await loadTfjsModel(opts.classifierDir) : null;
  const realColumns = heldRows.map((i) => tokensToColumns(data.heldOut.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS)));
  const realImages = new Uint8Array(0);
  const realEval = await evaluateGeneratedHairpins({ sequences: realSequences, columns: realColumns, images: realImages }, { rules });
  let realClassifier: number | null = null;
  if (classifier) {
    const tokens = new Uint8Array(heldRows.length * TOKEN_COLUMNS);
    heldRows.forEach((i, k) => tokens.set(data.heldOut.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS));
    realClassifier = classifierCalls(classifier, renderTokens(tokens).images).fraction;
  }
  const realFolds = realEval.refold.map((r) => ({ structure: r.fold, mfe: r.mfe }));
  progress(`sanity rules: stem ≥ ${rules.minStemPairs} bp, loop ${rules.loopRange.join("–")} nt, MFE/nt ${rules.mfePerNtRange.map((v) => v.toFixed(3)).join(" to ")} kcal/mol/nt; held-out real pre-miRNAs: refold exact ${realEval.summary.refoldExact.toFixed(3)}, sanity ${realEval.summary.sanityPass.toFixed(3)}`);

  // Properties of the training and held-out hairpins (for the latent analysis).
  const trainFolded = await datasetProperties(data.train);
  const trainProperties = trainFolded.properties;
  const heldProperties = (await datasetProperties(data.heldOut)).properties;
  const trainSanity = [...data.train.labels.keys()].filter((i) => data.train.labels[i] === 1).map((i) => hairpinSanity(trainFolded.folds[i]!.structure, trainFolded.folds[i]!.mfe, rules));
  const share = (f: (x: (typeof trainSanity)[number]) => boolean) => (trainSanity.length ? trainSanity.filter(f).length / trainSanity.length : NaN);
  const trainingPreMirna = { n: trainSanity.length, sanityPass: share((x) => x.pass), stemOk: share((x) => x.stemOk), mfeOk: share((x) => x.mfeOk) };
  progress(`training pre-miRNAs (${trainingPreMirna.n}) through the same sanity rules: ${trainingPreMirna.sanityPass.toFixed(3)}`);

  const perSeed: CvaeSeedResult[] = [];
  try {
    for (const seed of opts.seeds) {
      const seedDir = path.join(opts.outDir, `seed-${seed}`);
      const trained = await trainCvae(data.train, {
        ...opts.training, epochs: opts.epochs, seed, checkpointDir: path.join(seedDir, "checkpoint"),
        onEpoch: (r) => progress(`seed ${seed} epoch ${r.epoch}/${opts.epochs}: loss ${num(r.total)} recon ${num(r.reconstruction)} KL ${num((r.klClass ?? 0) + (r.klStructure ?? 0) + (r.klResidual ?? 0))} β ${num(r.beta, 3)} token acc ${num(r.tokenAccuracy, 4)} | val recon ${num(r.valReconstruction)} | ${r.seconds.toFixed(1)} s`),
      });
      const { cvae, info } = trained;
      try {
        if (trained.resumedFromEpoch >= opts.epochs && opts.epochs > 0) progress(`seed ${seed}: all ${opts.epochs} epochs found in ${displayPath(path.join(seedDir, "checkpoint"))}`);
        info.sanity = { rules, source: sanitySource };
        const modelDir = path.join(seedDir, "model");
        const training = { sequences: data.train.sequences, labels: data.train.labels, profiles: data.train.profiles };
        await saveCvae(modelDir, cvae, info, training);
        const model = { cvae, info, training };

        let arDecoder: CvaeSeedResult["arDecoder"] = null;
        if (decoder === "autoregressive") {
          const ar = await trainCvaeArDecoder(cvae, info, data.train, {
            seed, epochs: arEpochs, config: opts.arDecoder?.config, batchSize: opts.arDecoder?.batchSize, learningRate: opts.arDecoder?.learningRate,
            checkpointDir: path.join(seedDir, "ar-checkpoint"),
            onEpoch: (r) => progress(`seed ${seed} AR decoder epoch ${r.epoch}/${arEpochs}: token NLL ${num(r.nll)} | val ${num(r.valNll)} nats per hairpin | ${r.seconds.toFixed(1)} s`),
          });
          if (ar.resumedFromEpoch >= arEpochs && arEpochs > 0) progress(`seed ${seed}: all ${arEpochs} AR decoder epochs found in ${displayPath(path.join(seedDir, "ar-checkpoint"))}`);
          await saveArDecoder(modelDir, cvae.arDecoder!, ar.info);
          arDecoder = { epochs: arEpochs, minutes: ar.info.history.reduce((a, h) => a + h.seconds, 0) / 60, validationNll: ar.info.validationNll, history: ar.info.history };
        }

        const { perImageColourAccuracy: _perImage, ...reconstruction } = reconstructionMetrics(cvae, data.heldOut);
        progress(`seed ${seed}: held-out reconstruction colour accuracy ${reconstruction.colourAccuracy.toFixed(4)}, exact images ${reconstruction.exactImages.toFixed(3)}`);

        const candidates = opts.candidates ?? DEFAULT_GENERATION.candidates;
        const generation = { decoder, temperature, tokenTemperature, topP };
        let t = performance.now();
        const pre = await generateVerifiedHairpins(model, { n: samples, label: 1, seed, ...generation, candidates });
        const preEval = await evaluateGeneratedHairpins(pre, { rules, classifier, trainingSequences: data.train.sequences });
        const generationSeconds = (performance.now() - t) / 1000;
        const mostLikely = generateHairpins(model, { n: samples, label: 1, seed, ...generation });
        const mostLikelyEval = await evaluateGeneratedHairpins(mostLikely, { rules, classifier, trainingSequences: data.train.sequences });
        const allProfiles = await generateVerifiedHairpins(model, { n: samples, label: 1, seed, ...generation, candidates, profilePool: "all" });
        const allProfilesEval = await evaluateGeneratedHairpins(allProfiles, { rules, classifier, trainingSequences: data.train.sequences });
        progress(`seed ${seed}: with profiles from all training pre-miRNAs, not only canonical ones — classifier ${fmt(allProfilesEval.summary.classifierPreMirna)}, refold exact ${fmt(allProfilesEval.summary.refoldExact)}, sanity ${fmt(allProfilesEval.summary.sanityPass)}`);
        const neg = await generateVerifiedHairpins(model, { n: samples, label: 0, seed: seed + 5000, ...generation, candidates });
        const negEval = await evaluateGeneratedHairpins(neg, { rules, classifier, trainingSequences: data.train.sequences });
        const verifiedRanks: Record<string, number> = {};
        pre.rank.forEach((r) => (verifiedRanks[r] = (verifiedRanks[r] ?? 0) + 1));
        const novelty = preEval.novelty!.map((d) => d.distance);
        progress(`seed ${seed}: generated pre-miRNAs (${decoder} decoder) — classifier ${fmt(preEval.summary.classifierPreMirna)}, refold exact ${fmt(preEval.summary.refoldExact)} (first decoding alone ${fmt(mostLikelyEval.summary.refoldExact)}), sanity ${fmt(preEval.summary.sanityPass)}, novelty median ${preEval.summary.noveltyMedian}; ${generationSeconds.toFixed(1)} s for ${samples} with verified decoding and the checks`);
        let columnsDecoder: CvaeSeedResult["generated"]["columnsDecoder"] = null;
        let columnsComposition: SequenceComposition | null = null;
        if (decoder === "autoregressive") {
          // The CVAE's own decoder on the same seed, for comparison.
          const columns = { decoder: "columns" as const, temperature: DEFAULT_GENERATION.columns.temperature };
          const c = await generateVerifiedHairpins(model, { n: samples, label: 1, seed, ...columns, candidates });
          const cEval = await evaluateGeneratedHairpins(c, { rules, classifier, trainingSequences: data.train.sequences });
          const cFirst = await evaluateGeneratedHairpins(generateHairpins(model, { n: samples, label: 1, seed, ...columns }), { rules, classifier, trainingSequences: data.train.sequences });
          columnsDecoder = { preMirna: cEval.summary, preMirnaMostLikely: cFirst.summary };
          columnsComposition = sequenceComposition(c.sequences);
          progress(`seed ${seed}: the CVAE's own decoder for comparison — classifier ${fmt(cEval.summary.classifierPreMirna)}, refold exact ${fmt(cEval.summary.refoldExact)}, sanity ${fmt(cEval.summary.sanityPass)}, novelty median ${cEval.summary.noveltyMedian}`);
        }

        const conditioning = conditioningCheck(model, seed, generation, opts.conditioning);
        const latent = latentAnalysis(cvae, data, trainProperties, heldProperties, opts.tree ?? {});

        const totalSeconds = info.history.reduce((a, h) => a + h.seconds, 0);
        perSeed.push({
          seed, modelDir, history: info.history,
          secondsPerEpoch: info.training.secondsPerEpoch, stepsPerSecond: info.training.stepsPerSecond, trainingMinutes: totalSeconds / 60,
          reconstruction, decoder, arDecoder,
          generated: { preMirna: preEval.summary, preMirnaMostLikely: mostLikelyEval.summary, preMirnaAllProfiles: allProfilesEval.summary, negative: negEval.summary, columnsDecoder },
          composition: { generated: sequenceComposition(pre.sequences), columnsDecoder: columnsComposition },
          verifiedRanks, generationSeconds,
          conditioning, ...latent,
          generatedProperties: foldProperties(pre.sequences, preEval.refold.map((r) => ({ structure: r.fold, mfe: r.mfe }))),
          examples: pre.sequences.slice(0, 12).map((s, i) => ({
            sequence: s, drawn: pre.structures[i]!, fold: preEval.refold[i]!.fold, exact: preEval.refold[i]!.exact,
            probability: preEval.classifierProbabilities ? preEval.classifierProbabilities[i]! : null, novelty: novelty[i]!,
          })),
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
  const summary: Record<string, MeanSd> = {
    classifierPreMirna: pick((s) => s.generated.preMirna.classifierPreMirna),
    refoldExact: pick((s) => s.generated.preMirna.refoldExact),
    columnAgreement: pick((s) => s.generated.preMirna.columnAgreement),
    sanityPass: pick((s) => s.generated.preMirna.sanityPass),
    noveltyMedian: pick((s) => s.generated.preMirna.noveltyMedian),
    reconstructionColourAccuracy: pick((s) => s.reconstruction.colourAccuracy),
    reconstructionExactImages: pick((s) => s.reconstruction.exactImages),
    negativeClassifierPreMirna: pick((s) => s.generated.negative.classifierPreMirna),
    trainingMinutes: pick((s) => s.trainingMinutes),
    arTrainingMinutes: pick((s) => s.arDecoder?.minutes ?? null),
    generationSeconds: pick((s) => s.generationSeconds),
    mostLikelyClassifierPreMirna: pick((s) => s.generated.preMirnaMostLikely.classifierPreMirna),
    mostLikelyRefoldExact: pick((s) => s.generated.preMirnaMostLikely.refoldExact),
    mostLikelySanityPass: pick((s) => s.generated.preMirnaMostLikely.sanityPass),
    mostLikelyNoveltyMedian: pick((s) => s.generated.preMirnaMostLikely.noveltyMedian),
    allProfilesClassifierPreMirna: pick((s) => s.generated.preMirnaAllProfiles.classifierPreMirna),
    allProfilesRefoldExact: pick((s) => s.generated.preMirnaAllProfiles.refoldExact),
    allProfilesSanityPass: pick((s) => s.generated.preMirnaAllProfiles.sanityPass),
    columnsClassifierPreMirna: pick((s) => s.generated.columnsDecoder?.preMirna.classifierPreMirna ?? null),
    columnsRefoldExact: pick((s) => s.generated.columnsDecoder?.preMirna.refoldExact ?? null),
    columnsSanityPass: pick((s) => s.generated.columnsDecoder?.preMirna.sanityPass ?? null),
    columnsNoveltyMedian: pick((s) => s.generated.columnsDecoder?.preMirna.noveltyMedian ?? null),
    columnsMostLikelyRefoldExact: pick((s) => s.generated.columnsDecoder?.preMirnaMostLikely.refoldExact ?? null),
  };
  const results: CvaeExperimentResults = {
    experiment: `conditional VAE on hairpin images (class, structure and residual latent parts; structured column-token decoder); generation with the ${decoder} decoder`,
    seeds: [...opts.seeds], epochs: opts.epochs, backend: describeBackend(), date: new Date().toISOString(), classifierDir: opts.classifierDir,
    data: { heldOutSet: data.heldOutSet, train: data.train.n, trainPositives, heldOut: data.heldOut.n, heldOutPositives: heldPositives, report: data.report },
    sanity: { rules, source: sanitySource },
    realPreMirna: {
      n: realSequences.length, refoldExact: realEval.summary.refoldExact, sanityPass: realEval.summary.sanityPass, classifierPreMirna: realClassifier,
      properties: foldProperties(realSequences, realFolds),
    },
    trainingPreMirna,
    perSeed, summary,
  };
  fs.mkdirSync(opts.outDir, { recursive: true });
  writeFileAtomic(path.join(opts.outDir, "results.json"), JSON.stringify(results, null, 1));
  return results;
}

function num(v: number | null | undefined, digits = 2): string {
  return typeof v === "number" ? v.toFixed(digits) : "—";
}
function fmt(v: number | null): string {
  return v === null ? "—" : v.toFixed(3);
}

/** Default requested values of the conditioning check. */
export const DEFAULT_CONDITIONING = { stem: [20, 25, 30, 35], loop: [4, 8, 12, 16], gc: [0.35, 0.45, 0.55, 0.65] };

/** Samples asked for each requested value, and the property of what they drew. */
function conditioningCheck(
  model: Parameters<typeof generateHairpins>[0], seed: number, generation: { decoder: GenerationDecoder; temperature: number; tokenTemperature: number; topP: number }, opts: CvaeExperimentOptions["conditioning"] = {},
): ConditioningRow[] {
  const n = opts.samples ?? 100;
  const rows: ConditioningRow[] = [];
  for (const property of PROFILE_NAMES) {
    const values = opts[property] ?? DEFAULT_CONDITIONING[property];
    values.forEach((requested, k) => {
      const g: GeneratedHairpins = generateHairpins(model, { n, label: 1, seed: seed * 1000 + 17 * (k + 1) + PROFILE_NAMES.indexOf(property), ...generation, profile: { [property]: requested } });
      const achieved = g.columns.map((c, i) => {
        const p = hairpinProperties(c, g.sequences[i]!, 0);
        return property === "stem" ? p.stem : property === "loop" ? p.loop : p.gc;
      });
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

/** Correlations, property directions and decision trees on the posterior means. */
function latentAnalysis(
  cvae: Parameters<typeof encodeMeans>[0], data: VaeData, trainProperties: HairpinProperties[], heldProperties: HairpinProperties[], treeOptions: DecisionTreeOptions,
): Pick<CvaeSeedResult, "correlations" | "directions" | "trees" | "preMirnaMeanLatent"> {
  const D = latentSize(cvae.config);
  const trainZ = encodeMeans(cvae, data.train.tokens, data.train.n);
  const heldZ = encodeMeans(cvae, data.heldOut.tokens, data.heldOut.n);
  const correlations = latentCorrelations(trainZ, D, trainProperties);
  const directions = propertyDirections(trainZ, D, trainProperties, { test: { latents: heldZ, properties: heldProperties } })
    .map((d) => ({ property: d.property, r2: d.r2, testR2: d.testR2, direction: Array.from(d.direction), spread: spreadAlong(trainZ, D, d.direction) }));
  const preMirnaMeanLatent = Array.from(meanLatent(trainZ, D, (i) => data.train.labels[i] === 1));
  const names = latentNames(cvae.config);
  // Each dimension named with its strongest property correlate.
  const annotated = names.map((name, k) => {
    let best = 0;
    HAIRPIN_PROPERTIES.forEach((_, j) => {
      if (Math.abs(correlations[k * 5 + j]!) > Math.abs(correlations[k * 5 + best]!)) best = j;
    });
    const r = correlations[k * 5 + best]!;
    return Number.isFinite(r) ? `${name} (r = ${r.toFixed(2)} with ${HAIRPIN_PROPERTIES[best]})` : name;
  });
  const { class: dc } = cvae.config.latent;
  const trees: LatentTreeResult[] = [];
  for (const [parts, from] of [["all latent parts", 0], ["structure and residual parts (no class part)", dc]] as const) {
    const dims = D - from;
    const slice = (z: Float32Array, n: number) => {
      const out = new Float32Array(n * dims);
      for (let i = 0; i < n; i++) out.set(z.subarray(i * D + from, (i + 1) * D), i * dims);
      return out;
    };
    const xTrain = slice(trainZ, data.train.n);
    const xHeld = slice(heldZ, data.heldOut.n);
    const tree = fitDecisionTree(xTrain, data.train.labels, dims, treeOptions);
    const accuracy = (x: Float32Array, labels: Uint8Array) => {
      const p = predictDecisionTree(tree, x);
      let ok = 0;
      p.forEach((v, i) => {
        if ((v >= 0.5 ? 1 : 0) === labels[i]) ok++;
      });
      return labels.length ? ok / labels.length : NaN;
    };
    const featureNames = annotated.slice(from);
    trees.push({
      parts, lines: describeDecisionTree(tree, featureNames),
      trainAccuracy: accuracy(xTrain, data.train.labels), heldOutAccuracy: accuracy(xHeld, data.heldOut.labels),
      features: treeFeatures(tree).map((f) => featureNames[f]!),
    });
  }
  return { correlations: Array.from(correlations), directions, trees, preMirnaMeanLatent };
}
