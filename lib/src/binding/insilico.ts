import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { REPO_ROOT, Profile, profile } from "../data/paths";
import { InputError } from "../errors";
import { rankMetrics } from "../metrics";
import { disposeModel } from "../ops/nn";
import { DEFAULT_SEED, derivedSeed, mulberry32, randomInteger, randomSequence, shuffleInPlace } from "../random";
import { buildArch00b } from "./arch00b";
import type { MutagenesisResult } from "./mutagenesis";
import { mirnaNegatives } from "./negatives";
import { predictScores } from "./predict";
import { MIRNA_LENGTH, SITE_LENGTH, reverseComplement } from "./sequences";
import type { LabelledPairs, Pairs } from "./tables";
import { StandardTrainingOptions, StandardTrainingResult, trainStandard } from "./trainStandard";

/**
 * The in-silico experiment of the original work (notebook/model_train_lock.ipynb of
 * github.com/ML-Bioinfo-CEITEC/mirna_binding, section "In-Silico Modelling"): can arch_00b
 * learn a pairing rule it is shown, and only that rule? Sites are random uniform 50-mers into
 * which the reverse complement of a miRNA is planted at an offset of 0–30 after every miRNA
 * position from 7 to 20 has been mutated, so that only positions 1–6 pair; negatives are
 * sites paired with other miRNAs. A model trained on this (with the standard trainer) is tested
 * on held-out sites and on a miRNA it never saw; mutagenesis then shows whether positions 1–6
 * drive its score.
 *
 * Two designs:
 * - {@link originalInsilicoDataset} / {@link runOriginalInsilicoExperiment}: the original's, as it
 *   ran: real miRNA family representatives (50 drawn from 80% of the families; the unseen one
 *   from the other 20%), 1,000 sites each, one negative per site drawn from every family, 10% of
 *   the sites held out, up to 50 epochs with early stopping (patience 5, best weights kept),
 *   15% of the training rows for validation; scored by the change in probability when one
 *   miRNA position is mutated and the site re-planted ({@link replantedMutagenesis}).
 * - {@link insilicoDataset} / {@link runInsilicoExperiment}: a smaller variant (random 20-mers
 *   with distinct positions 1–6, 200 sites each, 3 negatives per site drawn from the training
 *   miRNAs, a few epochs), scored by single-base mutagenesis of the pair (mutagenesis.ts).
 */

/**
 * Where the in-silico runs keep their checkpoints (a re-run resumes): `<repo>/out/insilico/<name>`
 * for the full profile, `<repo>/out/insilico-ci/<name>` for the ci profile.
 */
export function insilicoCheckpointDir(name: string, p: Profile = profile()): string {
  return path.join(REPO_ROOT, "out", p === "full" ? "insilico" : "insilico-ci", name);
}

/** Options of {@link insilicoDataset}. */
export interface InsilicoOptions {
  /** miRNAs, the last of them held out entirely ("unseen"). Default 50. */
  mirnas?: number;
  /** Planted sites per miRNA. Default 200. */
  sitesPerMirna?: number;
  /** miRNA positions 1…k pair with the planted site; k+1…20 are mutated. Default 6. */
  pairedPositions?: number;
  /** Largest offset (0-based site position) of the planted 20-nt reverse complement. Default 30. */
  maxOffset?: number;
  /** Fraction of each training miRNA's sites held out for testing. Default 0.2. */
  heldOutFraction?: number;
  /** Negatives per positive in the two test sets. Default 10. */
  testRatio?: number;
  /** Seed of every random choice. Default 1789. */
  seed?: number;
}

/** The in-silico data (see {@link insilicoDataset}). */
export interface InsilicoDataset {
  /** Every miRNA, the unseen one last. */
  mirnas: string[];
  unseenMirna: string;
  /** Training positives (label 1): the sites of the training miRNAs not held out. */
  train: LabelledPairs;
  /** Held-out sites of the training miRNAs (positives first), then each paired with `testRatio` other training miRNAs. */
  heldOut: LabelledPairs;
  /**
   * The unseen miRNA's sites (positives first); negatives: each of its sites with ⌈r/2⌉ training
   * miRNAs, and the unseen miRNA with ⌊r/2⌋ held-out sites of other miRNAs per positive.
   */
  unseen: LabelledPairs;
  /** Offset (0-based) of the planted stretch in each site, by miRNA then site: shape=(mirnas, sitesPerMirna). */
  offsets: Int32Array;
  /** Fraction of test negatives that pair with their miRNA at positions 1…k anyway (a chance site). */
  chanceMatchRate: number;
}

/**
 * A planted site: a random 50-mer holding, at `offset`, the reverse complement of `mirna` after
 * positions pairedPositions+1…20 were each changed to another base (drawn from `random`). Site
 * position offset + 20 − j (1-based) then pairs miRNA position j for j ≤ pairedPositions, and no
 * position of the planted stretch pairs miRNA positions beyond it.
 */
export function plantedSite(mirna: string, offset: number, random: () => number, pairedPositions = 6): string {
  if (mirna.length !== MIRNA_LENGTH) throw new InputError(`plantedSite needs a 20-nt miRNA, got ${mirna.length} nt`);
  if (!Number.isInteger(offset) || offset < 0 || offset > SITE_LENGTH - MIRNA_LENGTH) throw new InputError(`offset must be an integer in 0–${SITE_LENGTH - MIRNA_LENGTH}, got ${offset}`);
  const mutated = [...mirna].map((base, j) => {
    if (j < pairedPositions) return base;
    const others = "ACGT".replace(base, "");
    return others[Math.floor(random() * others.length)]!;
  }).join("");
  const background = randomSequence(random, SITE_LENGTH);
  return background.slice(0, offset) + reverseComplement(mutated) + background.slice(offset + MIRNA_LENGTH);
}

/** Does `site` hold the reverse complement of miRNA positions 1…k anywhere (a site for the rule)? */
function pairsPrefix(mirna: string, site: string, k: number): boolean {
  return site.includes(reverseComplement(mirna.slice(0, k)));
}

/**
 * The seeded in-silico data set: `mirnas` random 20-mers with distinct positions 1…k (so no two
 * share the rule's site), `sitesPerMirna` planted sites each (offset uniform in 0…maxOffset);
 * the last miRNA is unseen; of the others, `heldOutFraction` of each one's sites are held out.
 */
export function insilicoDataset(opts: InsilicoOptions = {}): InsilicoDataset {
  const count = opts.mirnas ?? 50;
  const perMirna = opts.sitesPerMirna ?? 200;
  const k = opts.pairedPositions ?? 6;
  const maxOffset = opts.maxOffset ?? 30;
  const heldOutFraction = opts.heldOutFraction ?? 0.2;
  const ratio = opts.testRatio ?? 10;
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(count) || count < 3) throw new InputError(`mirnas must be an integer ≥ 3, got ${count}`);
  if (!Number.isInteger(perMirna) || perMirna < 2) throw new InputError(`sitesPerMirna must be an integer ≥ 2, got ${perMirna}`);
  if (!Number.isInteger(k) || k < 1 || k > MIRNA_LENGTH) throw new InputError(`pairedPositions must be an integer in 1–20, got ${k}`);
  if (!Number.isInteger(maxOffset) || maxOffset < 0 || maxOffset > SITE_LENGTH - MIRNA_LENGTH) throw new InputError(`maxOffset must be an integer in 0–30, got ${maxOffset}`);
  if (!(heldOutFraction > 0 && heldOutFraction < 1)) throw new InputError(`heldOutFraction must be in (0, 1), got ${heldOutFraction}`);
  if (!Number.isInteger(ratio) || ratio < 2 || ratio > count - 2) throw new InputError(`testRatio must be an integer in 2–${count - 2}, got ${ratio}`);
  if (count > 4 ** Math.min(k, 10)) throw new InputError(`${count} miRNAs cannot have distinct positions 1–${k}`);

  const random = mulberry32(seed);
  const mirnas: string[] = [];
  const prefixes = new Set<string>();
  while (mirnas.length < count) {
    const m = randomSequence(random, MIRNA_LENGTH);
    if (prefixes.has(m.slice(0, k))) continue;
    prefixes.add(m.slice(0, k));
    mirnas.push(m);
  }
  const offsets = new Int32Array(count * perMirna);
  const sites: string[][] = mirnas.map((m, i) => Array.from({ length: perMirna }, (_, s) => {
    const offset = randomInteger(random, 0, maxOffset);
    offsets[i * perMirna + s] = offset;
    return plantedSite(m, offset, random, k);
  }));

  const trainMirnas = mirnas.slice(0, count - 1);
  const unseenMirna = mirnas[count - 1]!;
  const nHeldOut = Math.max(1, Math.round(perMirna * heldOutFraction));
  const train = { mirnas: [] as string[], sites: [] as string[] };
  const held = { mirnas: [] as string[], sites: [] as string[] };
  const order = Int32Array.from({ length: perMirna }, (_, s) => s);
  trainMirnas.forEach((m, i) => {
    shuffleInPlace(order, mulberry32(derivedSeed(seed, i)));
    order.forEach((s, r) => {
      const into = r < nHeldOut ? held : train;
      into.mirnas.push(m);
      into.sites.push(sites[i]![s]!);
    });
  });
  const allPositives = { mirnas: [...train.mirnas, ...held.mirnas, ...sites[count - 1]!.map(() => unseenMirna)], sites: [...train.sites, ...held.sites, ...sites[count - 1]!] };

  const heldNegatives = mirnaNegatives(held.mirnas, held.sites, { ratio, seed: derivedSeed(seed, count), pool: trainMirnas, knownPositives: allPositives });
  const heldOut = labelled("in-silico held-out", held, heldNegatives);

  const unseenSites = sites[count - 1]!;
  const withOthers = mirnaNegatives(unseenSites.map(() => unseenMirna), unseenSites, { ratio: Math.ceil(ratio / 2), seed: derivedSeed(seed, count + 1), pool: trainMirnas, knownPositives: allPositives });
  const otherSites = { mirnas: [] as string[], sites: [] as string[] };
  const pick = mulberry32(derivedSeed(seed, count + 2));
  for (let p = 0; p < unseenSites.length; p++) {
    for (let j = 0; j < Math.floor(ratio / 2); j++) {
      otherSites.mirnas.push(unseenMirna);
      otherSites.sites.push(held.sites[randomInteger(pick, 0, held.sites.length - 1)]!);
    }
  }
  const unseen = labelled("in-silico unseen miRNA", { mirnas: unseenSites.map(() => unseenMirna), sites: unseenSites }, {
    mirnas: [...withOthers.mirnas, ...otherSites.mirnas], sites: [...withOthers.sites, ...otherSites.sites],
  });

  return {
    mirnas, unseenMirna,
    train: { name: "in-silico training positives", mirnas: train.mirnas, sites: train.sites, labels: new Uint8Array(train.mirnas.length).fill(1) },
    heldOut, unseen, offsets, chanceMatchRate: chanceMatchRate([heldOut, unseen], k),
  };
}

/** Positives then negatives as one labelled set. */
function labelled(name: string, positives: { mirnas: string[]; sites: string[] }, negatives: { mirnas: string[]; sites: string[] }): LabelledPairs {
  return {
    name,
    mirnas: [...positives.mirnas, ...negatives.mirnas],
    sites: [...positives.sites, ...negatives.sites],
    labels: Uint8Array.from({ length: positives.mirnas.length + negatives.mirnas.length }, (_, i) => (i < positives.mirnas.length ? 1 : 0)),
  };
}

/** Options of {@link runInsilicoExperiment}. */
export interface InsilicoExperimentOptions {
  data?: InsilicoOptions;
  /** The standard trainer's options (ratio, epochs, batch size, seed, …). Default: ratio 5, 3 epochs, batch 32. */
  training?: StandardTrainingOptions;
  /** Seed of the model's initial weights. Default: the data seed. */
  modelSeed?: number;
}

/** Metrics of the in-silico model on one test set. */
export interface InsilicoMetrics {
  testSet: string;
  n: number;
  positives: number;
  rocAuc: number;
  averagePrecision: number;
}

/** Output of {@link runInsilicoExperiment}: the trained model (the caller frees it and its optimizer with disposeModel, ops/nn.ts), its data and metrics. */
export interface InsilicoExperiment {
  model: tf.LayersModel;
  dataset: InsilicoDataset;
  training: StandardTrainingResult;
  metrics: InsilicoMetrics[];
  /** Scores of the test sets (probabilities, in their row order). */
  scores: { heldOut: Float32Array; unseen: Float32Array };
}

/**
 * Builds the in-silico data, trains arch_00b on it with the standard trainer (trainStandard:
 * negatives = the training sites re-paired with other training miRNAs) and scores the held-out
 * sites and the unseen miRNA (ROC-AUC, average precision).
 */
export async function runInsilicoExperiment(opts: InsilicoExperimentOptions = {}): Promise<InsilicoExperiment> {
  const dataset = insilicoDataset(opts.data);
  const seed = opts.data?.seed ?? DEFAULT_SEED;
  const run = await trainAndScore(dataset.train, [dataset.heldOut, dataset.unseen], { ratio: 5, epochs: 3, batchSize: 32, seed, ...opts.training }, opts.modelSeed ?? seed);
  return { model: run.model, dataset, training: run.training, metrics: run.metrics, scores: { heldOut: run.scores[0]!, unseen: run.scores[1]! } };
}

/**
 * Trains a new arch_00b (initial weights from `modelSeed`) on `positives` with the standard
 * trainer and scores each test set: metrics and probabilities in row order. Frees the model
 * when training or scoring fails.
 */
async function trainAndScore(
  positives: Pick<Pairs, "mirnas" | "sites">,
  testSets: readonly LabelledPairs[],
  training: StandardTrainingOptions,
  modelSeed: number,
): Promise<{ model: tf.LayersModel; training: StandardTrainingResult; metrics: InsilicoMetrics[]; scores: Float32Array[] }> {
  const model = buildArch00b({ seed: modelSeed });
  try {
    const result = await trainStandard(model, positives, training);
    const metrics: InsilicoMetrics[] = [];
    const scores: Float32Array[] = [];
    for (const set of testSets) {
      const s = await predictScores(model, set.mirnas, set.sites, { batchSize: 512 });
      const m = rankMetrics(set.labels, s);
      scores.push(s);
      metrics.push({ testSet: set.name, n: m.n, positives: m.positives, rocAuc: m.rocAuc, averagePrecision: m.averagePrecision });
    }
    return { model, training: result, metrics, scores };
  } catch (e) {
    disposeModel(model);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The original's design: real miRNA family representatives, 1,000 sites each, ratio 1
// ---------------------------------------------------------------------------------------------

/**
 * The family representatives a design can plant: the distinct 20-nt miRNAs of `mirnas` made
 * only of A, C, G and T (N-padded representatives cannot be planted), in order of first
 * appearance.
 */
export function plantableFamilies(mirnas: readonly string[]): string[] {
  return [...new Set(mirnas)].filter((m) => m.length === MIRNA_LENGTH && /^[ACGT]+$/.test(m));
}

/**
 * `mirna` with each position of `positions` (1-based) changed to another base drawn from
 * `random` (uniform over the three others), as the original's random_mutation with p = 1.
 */
export function mutatePositions(mirna: string, positions: readonly number[], random: () => number): string {
  const chars = [...mirna];
  for (const p of positions) {
    const base = chars[p - 1];
    if (base === undefined || !"ACGT".includes(base)) throw new InputError(`cannot mutate position ${p} of ${mirna}`);
    const others = "ACGT".replace(base, "");
    chars[p - 1] = others[Math.floor(random() * others.length)]!;
  }
  return chars.join("");
}

/**
 * `background` (a 50-mer) with the reverse complement of `mirna` (20 nt) written over positions
 * offset+1 … offset+20 (1-based): site position offset + 21 − j then faces miRNA position j.
 */
export function plantInto(background: string, mirna: string, offset: number): string {
  if (background.length !== SITE_LENGTH) throw new InputError(`the background must be ${SITE_LENGTH} nt, got ${background.length}`);
  if (mirna.length !== MIRNA_LENGTH) throw new InputError(`the planted miRNA must be ${MIRNA_LENGTH} nt, got ${mirna.length}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > SITE_LENGTH - MIRNA_LENGTH) throw new InputError(`offset must be an integer in 0–${SITE_LENGTH - MIRNA_LENGTH}, got ${offset}`);
  return background.slice(0, offset) + reverseComplement(mirna) + background.slice(offset + MIRNA_LENGTH);
}

/** Options of {@link originalInsilicoDataset}. */
export interface OriginalInsilicoOptions {
  /** miRNAs planted for training, drawn from the training families. Default 50. */
  mirnas?: number;
  /** Planted sites per miRNA. Default 1,000. */
  sitesPerMirna?: number;
  /** Share of the families whose miRNAs may be trained on; the rest give the unseen miRNA. Default 0.8. */
  trainFamilyFraction?: number;
  /** Share of each miRNA's sites held out (with one negative each) for testing. Default 0.1. */
  testFraction?: number;
  /** Planted sites of the unseen miRNA. Default 500. */
  unseenSites?: number;
  /** miRNA positions 1…k pair with the planted site; k+1…20 are mutated. Default 6. */
  pairedPositions?: number;
  /** Largest offset (0-based) of the planted 20-nt stretch. Default 30. */
  maxOffset?: number;
  /** Seed of every random choice. Default 1789. */
  seed?: number;
}

/** The original's in-silico data (see {@link originalInsilicoDataset}). */
export interface OriginalInsilicoDataset {
  /** Every family representative given: the pool of the training and test negatives. */
  families: string[];
  trainFamilies: string[];
  testFamilies: string[];
  /** The trained miRNAs (from `trainFamilies`). */
  mirnas: string[];
  /** Training positives (label 1): the sites of `mirnas` not held out. The trainer adds the negatives. */
  train: LabelledPairs;
  /** Held-out sites (positives first), each then paired with one other family (label 0). */
  test: LabelledPairs;
  /** The unseen miRNA (from `testFamilies`). */
  unseenMirna: string;
  /** Its planted sites (positives first), each then paired with one other test family (label 0). */
  unseen: LabelledPairs;
  /** The random 50-mer each unseen positive was planted into, shape=(unseenSites,). */
  unseenBackgrounds: string[];
  /** Fraction of the test negatives (both sets) whose miRNA pairs positions 1…k anyway (a chance site, or a family sharing positions 1…k). */
  chanceMatchRate: number;
}

/**
 * The seeded data of the original's in-silico experiment from `families` (20-nt family
 * representatives, see {@link plantableFamilies}): the families are split into training and
 * test families (`trainFamilyFraction`); `mirnas` training families are drawn; each gets
 * `sitesPerMirna` sites, a random uniform 50-mer into which the miRNA with positions k+1…20
 * mutated is planted at an offset uniform in 0…maxOffset; `testFraction` of each miRNA's sites
 * are held out and paired once more with one other family of all of them; one test family's
 * miRNA is planted into `unseenSites` sites, each paired once more with another test family.
 */
export function originalInsilicoDataset(families: readonly string[], opts: OriginalInsilicoOptions = {}): OriginalInsilicoDataset {
  const count = opts.mirnas ?? 50;
  const perMirna = opts.sitesPerMirna ?? 1000;
  const trainFraction = opts.trainFamilyFraction ?? 0.8;
  const testFraction = opts.testFraction ?? 0.1;
  const unseenCount = opts.unseenSites ?? 500;
  const k = opts.pairedPositions ?? 6;
  const maxOffset = opts.maxOffset ?? 30;
  const seed = opts.seed ?? DEFAULT_SEED;
  const all = [...new Set(families)];
  const bad = all.find((m) => m.length !== MIRNA_LENGTH || !/^[ACGT]+$/.test(m));
  if (bad !== undefined) throw new InputError(`family representative '${bad}' is not a 20-nt A/C/G/T sequence (see plantableFamilies)`);
  if (!(trainFraction > 0 && trainFraction < 1)) throw new InputError(`trainFamilyFraction must be in (0, 1), got ${trainFraction}`);
  const nTrainFamilies = Math.round(all.length * trainFraction);
  if (nTrainFamilies < count || all.length - nTrainFamilies < 2) {
    throw new InputError(`${all.length} families give ${nTrainFamilies} training and ${all.length - nTrainFamilies} test families: ${count} miRNAs need ${count} training families, the unseen one 2 test families`);
  }
  if (!Number.isInteger(count) || count < 2) throw new InputError(`mirnas must be an integer ≥ 2, got ${count}`);
  if (!Number.isInteger(perMirna) || perMirna < 2) throw new InputError(`sitesPerMirna must be an integer ≥ 2, got ${perMirna}`);
  if (!(testFraction > 0 && testFraction < 1)) throw new InputError(`testFraction must be in (0, 1), got ${testFraction}`);
  if (!Number.isInteger(unseenCount) || unseenCount < 1) throw new InputError(`unseenSites must be a positive integer, got ${unseenCount}`);
  if (!Number.isInteger(k) || k < 1 || k > MIRNA_LENGTH) throw new InputError(`pairedPositions must be an integer in 1–20, got ${k}`);
  if (!Number.isInteger(maxOffset) || maxOffset < 0 || maxOffset > SITE_LENGTH - MIRNA_LENGTH) throw new InputError(`maxOffset must be an integer in 0–30, got ${maxOffset}`);

  // Families split (the original: train_test_split of the unique representatives, 80/20), then the draws.
  const order = Int32Array.from({ length: all.length }, (_, i) => i);
  shuffleInPlace(order, mulberry32(derivedSeed(seed, 0)));
  const trainFamilies = Array.from(order.subarray(0, nTrainFamilies), (i) => all[i]!);
  const testFamilies = Array.from(order.subarray(nTrainFamilies), (i) => all[i]!);
  const pick = Int32Array.from({ length: trainFamilies.length }, (_, i) => i);
  shuffleInPlace(pick, mulberry32(derivedSeed(seed, 1)));
  const mirnas = Array.from(pick.subarray(0, count), (i) => trainFamilies[i]!);
  const unseenMirna = testFamilies[randomInteger(mulberry32(derivedSeed(seed, 2)), 0, testFamilies.length - 1)]!;

  const mutated = Array.from({ length: MIRNA_LENGTH - k }, (_, i) => k + 1 + i);
  const random = mulberry32(derivedSeed(seed, 3));
  /** A background, then the planted site (the original: seq_wt, then the mutated miRNA nested at randint(0, 30)). */
  const plant = (mirna: string) => {
    const background = randomSequence(random, SITE_LENGTH);
    const site = plantInto(background, mutatePositions(mirna, mutated, random), randomInteger(random, 0, maxOffset));
    return { background, site };
  };
  const nTest = Math.max(1, Math.round(perMirna * testFraction));
  const train = { mirnas: [] as string[], sites: [] as string[] };
  const held = { mirnas: [] as string[], sites: [] as string[] };
  mirnas.forEach((m, i) => {
    const sites = Array.from({ length: perMirna }, () => plant(m).site);
    const rows = Int32Array.from({ length: perMirna }, (_, s) => s);
    shuffleInPlace(rows, mulberry32(derivedSeed(seed, 100 + i)));
    rows.forEach((s, r) => {
      const into = r < nTest ? held : train;
      into.mirnas.push(m);
      into.sites.push(sites[s]!);
    });
  });
  const unseenPlanted = Array.from({ length: unseenCount }, () => plant(unseenMirna));
  const unseenPositives = { mirnas: unseenPlanted.map(() => unseenMirna), sites: unseenPlanted.map((p) => p.site) };
  const allPositives = { mirnas: [...train.mirnas, ...held.mirnas, ...unseenPositives.mirnas], sites: [...train.sites, ...held.sites, ...unseenPositives.sites] };
  const testNegatives = mirnaNegatives(held.mirnas, held.sites, { ratio: 1, seed: derivedSeed(seed, 4), pool: all, knownPositives: allPositives });
  const unseenNegatives = mirnaNegatives(unseenPositives.mirnas, unseenPositives.sites, { ratio: 1, seed: derivedSeed(seed, 5), pool: testFamilies, knownPositives: allPositives });
  const test = labelled("in-silico (original design) held-out sites", held, testNegatives);
  const unseen = labelled("in-silico (original design) unseen miRNA", unseenPositives, unseenNegatives);

  return {
    families: all, trainFamilies, testFamilies, mirnas,
    train: { name: "in-silico (original design) training positives", mirnas: train.mirnas, sites: train.sites, labels: new Uint8Array(train.mirnas.length).fill(1) },
    test, unseenMirna, unseen, unseenBackgrounds: unseenPlanted.map((p) => p.background),
    chanceMatchRate: chanceMatchRate([test, unseen], k),
  };
}

/** Options of {@link runOriginalInsilicoExperiment}. */
export interface OriginalInsilicoExperimentOptions {
  data?: OriginalInsilicoOptions;
  /**
   * The standard trainer's options. Default: the original's fit: ratio 1 (negatives drawn from
   * every family), up to 50 epochs, batch 32, the last 15% of the shuffled rows for validation,
   * early stopping on the validation loss with patience 5 (the best epoch's weights are put back
   * when a checkpoint folder is given).
   */
  training?: StandardTrainingOptions;
  /** Seed of the model's initial weights. Default: the data seed. */
  modelSeed?: number;
}

/** Output of {@link runOriginalInsilicoExperiment}; the caller frees the model with disposeModel (ops/nn.ts). */
export interface OriginalInsilicoExperiment {
  model: tf.LayersModel;
  dataset: OriginalInsilicoDataset;
  training: StandardTrainingResult;
  /** The held-out sites, then the unseen miRNA. */
  metrics: InsilicoMetrics[];
  /** Probabilities of the two test sets, in their row order. */
  scores: { test: Float32Array; unseen: Float32Array };
}

/**
 * The original's in-silico experiment on `families` (see {@link originalInsilicoDataset}):
 * arch_00b trained with the standard trainer on the training positives and one negative per
 * site drawn from every family, then scored on the held-out sites and on the unseen miRNA.
 * Give `training.checkpointDir` to checkpoint every epoch and resume.
 */
export async function runOriginalInsilicoExperiment(families: readonly string[], opts: OriginalInsilicoExperimentOptions = {}): Promise<OriginalInsilicoExperiment> {
  const dataset = originalInsilicoDataset(families, opts.data);
  const seed = opts.data?.seed ?? DEFAULT_SEED;
  const training: StandardTrainingOptions = {
    ratio: 1, epochs: 50, batchSize: 32, validationFraction: 0.15, earlyStopping: { patience: 5 }, seed,
    ...opts.training, negativePool: dataset.families,
  };
  const run = await trainAndScore(dataset.train, [dataset.test, dataset.unseen], training, opts.modelSeed ?? seed);
  return { model: run.model, dataset, training: run.training, metrics: run.metrics, scores: { test: run.scores[0]!, unseen: run.scores[1]! } };
}

/** Options of {@link replantedMutagenesis}. */
export interface ReplantedMutagenesisOptions {
  /** Score compared: "probability" (the original's) or "logit". Default "probability". */
  scale?: "probability" | "logit";
  /** Largest offset of a re-planted site. Default 30. */
  maxOffset?: number;
  /** Seed of the mutated bases and the offsets. Default 1789. */
  seed?: number;
  /** Pairs per forward pass. Default 512. */
  batchSize?: number;
}

/**
 * The original's in-silico mutagenesis ("loop mutations"): for each planted positive k
 * (`mirnas[k]`, its site `sites[k]` and the 50-mer `backgrounds[k]` it was planted into) and
 * each miRNA position j = 1…20, the miRNA with only position j changed (to a random other base)
 * is reverse-complemented and planted into the same 50-mer at a new random offset in
 * 0…maxOffset; the unchanged miRNA with that site is scored, and Δ = score(new site) −
 * score(original positive). The new site pairs every position but j (positions 7–20 included,
 * unlike the training sites), so Δ mixes what losing position j costs with what re-planting a
 * fully complementary stretch does. The control separates them: the unmutated miRNA re-planted
 * the same way (`control`, Δ of the re-planting alone). Returns a {@link MutagenesisResult} with
 * one alternative per position (deltas shape=(n, 20, 1)) and `control` shape=(n,).
 */
export async function replantedMutagenesis(
  model: tf.LayersModel,
  positives: { mirnas: readonly string[]; sites: readonly string[]; backgrounds: readonly string[] },
  opts: ReplantedMutagenesisOptions = {},
): Promise<MutagenesisResult & { control: Float32Array }> {
  const n = positives.mirnas.length;
  if (positives.sites.length !== n || positives.backgrounds.length !== n) {
    throw new InputError(`got ${n} miRNAs, ${positives.sites.length} sites and ${positives.backgrounds.length} backgrounds: they must match one to one`);
  }
  const scale = opts.scale ?? "probability";
  const maxOffset = opts.maxOffset ?? SITE_LENGTH - MIRNA_LENGTH;
  const random = mulberry32(opts.seed ?? DEFAULT_SEED);
  // Rows: per pair, the original positive, the unmutated re-planting (control), then positions 1…20.
  const perPair = 2 + MIRNA_LENGTH;
  const mirnas: string[] = [];
  const sites: string[] = [];
  for (let k = 0; k < n; k++) {
    const mirna = positives.mirnas[k]!;
    mirnas.push(mirna, mirna);
    sites.push(positives.sites[k]!, plantInto(positives.backgrounds[k]!, mirna, randomInteger(random, 0, maxOffset)));
    for (let j = 1; j <= MIRNA_LENGTH; j++) {
      mirnas.push(mirna);
      sites.push(plantInto(positives.backgrounds[k]!, mutatePositions(mirna, [j], random), randomInteger(random, 0, maxOffset)));
    }
  }
  const scores = await predictScores(model, mirnas, sites, { batchSize: opts.batchSize ?? 512, scale });
  const original = new Float32Array(n);
  const control = new Float32Array(n);
  const deltas = new Float32Array(n * MIRNA_LENGTH);
  for (let k = 0; k < n; k++) {
    const s0 = scores[k * perPair]!;
    original[k] = s0;
    control[k] = scores[k * perPair + 1]! - s0;
    for (let j = 0; j < MIRNA_LENGTH; j++) deltas[k * MIRNA_LENGTH + j] = scores[k * perPair + 2 + j]! - s0;
  }
  return { sequence: "mirna", scale, n, positions: MIRNA_LENGTH, alternatives: 1, original, deltas, control };
}

/**
 * The share of the negatives of `sets` whose miRNA pairs its site at positions 1…k by chance
 * (what caps a perfect rule-learner's ROC-AUC below 1).
 */
function chanceMatchRate(sets: readonly LabelledPairs[], k: number): number {
  let chance = 0, negatives = 0;
  for (const set of sets) {
    for (let r = 0; r < set.labels.length; r++) {
      if (set.labels[r] === 1) continue;
      negatives++;
      if (pairsPrefix(set.mirnas[r]!, set.sites[r]!, k)) chance++;
    }
  }
  return negatives > 0 ? chance / negatives : 0;
}
