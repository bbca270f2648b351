import type * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { rankMetrics } from "../metrics";
import { disposeModel } from "../ops/nn";
import { DEFAULT_SEED, derivedSeed, mulberry32, randomInteger, randomSequence, shuffleInPlace } from "../random";
import { buildArch00b } from "./arch00b";
import { mirnaNegatives } from "./negatives";
import { predictScores } from "./predict";
import { MIRNA_LENGTH, SITE_LENGTH, reverseComplement } from "./sequences";
import type { LabelledPairs } from "./tables";
import { StandardTrainingOptions, StandardTrainingResult, trainStandard } from "./trainStandard";

/**
 * The in-silico experiment of the original work (spec binding.md §5): can arch_00b learn a
 * pairing rule it is shown, and only that rule? Random miRNAs; random uniform 50-nt sites into
 * which the reverse complement of the miRNA is planted at an offset of 0–30 after every miRNA
 * position from 7 to 20 has been mutated, so that only positions 1–6 pair; negatives are the
 * same sites paired with other miRNAs. A model trained on this (with the standard trainer) is
 * tested on held-out sites and on a miRNA it never saw; mutagenesis (mutagenesis.ts) then shows
 * whether positions 1–6 drive its score.
 */

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

  let chance = 0, negatives = 0;
  for (const set of [heldOut, unseen]) {
    for (let r = 0; r < set.labels.length; r++) {
      if (set.labels[r] === 1) continue;
      negatives++;
      if (pairsPrefix(set.mirnas[r]!, set.sites[r]!, k)) chance++;
    }
  }
  return {
    mirnas, unseenMirna,
    train: { name: "in-silico training positives", mirnas: train.mirnas, sites: train.sites, labels: new Uint8Array(train.mirnas.length).fill(1) },
    heldOut, unseen, offsets, chanceMatchRate: negatives > 0 ? chance / negatives : 0,
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
 * negatives = the training sites re-paired with other training miRNAs, as the original) and
 * scores the held-out sites and the unseen miRNA (ROC-AUC, average precision).
 */
export async function runInsilicoExperiment(opts: InsilicoExperimentOptions = {}): Promise<InsilicoExperiment> {
  const dataset = insilicoDataset(opts.data);
  const seed = opts.data?.seed ?? DEFAULT_SEED;
  const model = buildArch00b({ seed: opts.modelSeed ?? seed });
  try {
    const training = await trainStandard(model, dataset.train, { ratio: 5, epochs: 3, batchSize: 32, seed, ...opts.training });
    const metrics: InsilicoMetrics[] = [];
    const scores: Float32Array[] = [];
    for (const set of [dataset.heldOut, dataset.unseen]) {
      const s = await predictScores(model, set.mirnas, set.sites, { batchSize: 512 });
      const m = rankMetrics(set.labels, s);
      scores.push(s);
      metrics.push({ testSet: set.name, n: m.n, positives: m.positives, rocAuc: m.rocAuc, averagePrecision: m.averagePrecision });
    }
    return { model, dataset, training, metrics, scores: { heldOut: scores[0]!, unseen: scores[1]! } };
  } catch (e) {
    disposeModel(model);
    throw e;
  }
}
