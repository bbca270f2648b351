import { InputError } from "../errors";
import { BootstrapOptions, bootstrapMeanCi, MeanCi } from "../metrics";
import { DEFAULT_SEED, mulberry32, randomInteger, randomSequence } from "../random";
import { seedMatchClass } from "./seedMatch";
import { MIRNA_LENGTH, SITE_LENGTH, reverseComplement } from "./sequences";

/**
 * How a binding model ranks the canonical seed-site types, in a fixed context. The canonical
 * ranking of site efficacy is 8mer > 7mer-m8 > 7mer-A1 > 6mer (Bartel, Cell 2009;
 * the seed-match baseline scores them 4 > 3 > 2 > 1). A context is one miRNA and one random
 * 50-mer without a seed match for it; its five variants differ only in the 8 nt at a fixed
 * offset, written 5'→3' as [opposite miRNA 8][pairs miRNA 7…2][opposite miRNA 1]:
 *
 *   8mer     c(m8) rc(m2–m7) A        7mer-A1  Y rc(m2–m7) A
 *   7mer-m8  c(m8) rc(m2–m7) X        6mer     Y rc(m2–m7) X
 *   no site  the 50-mer unchanged
 *
 * Y is a base that does not pair miRNA position 8, X one that is neither A nor pairs miRNA
 * position 1 (both drawn once per context). The A of the A1 types is a site base, not a pair:
 * the binding matrix (1 = Watson–Crick pair) records it only when miRNA position 1 is U, where
 * A pairs it; for any other first base the two A1 types look like their X twins plus nothing.
 * Scores of the variants of one context are compared pairwise, so the context cancels.
 */

/** The planted variants of a context, in the canonical order, then the control. */
export const PLANTED_SITE_TYPES = ["8mer", "7mer-m8", "7mer-A1", "6mer", "no site"] as const;
export type PlantedSiteType = (typeof PLANTED_SITE_TYPES)[number];
/** The canonical ranking of the four site types, best first. */
export const CANONICAL_SITE_RANKING = ["8mer", "7mer-m8", "7mer-A1", "6mer"] as const;

/** Options of {@link plantSiteTypes}. */
export interface PlantSiteTypesOptions {
  /** Contexts (each gives the five variants). Default 500. */
  contexts?: number;
  /** 0-based site position of the 8-nt block. Default 21 (site positions 22–29, the middle). */
  offset?: number;
  /** Seed of the contexts' miRNAs, backgrounds and X / Y bases. Default 1789. */
  seed?: number;
}

/** Planted site types (see {@link plantSiteTypes}). */
export interface PlantedSiteTypes {
  contexts: number;
  offset: number;
  /** The miRNA of each context, shape=(contexts,). */
  contextMirnas: string[];
  /** Pairs, context-major: row c·5 + t is context c with type PLANTED_SITE_TYPES[t]; shape=(contexts·5,) each. */
  mirnas: string[];
  sites: string[];
  types: PlantedSiteType[];
}

const PAIRS_WITH: Record<string, string> = { A: "T", C: "G", G: "C", T: "A" };

/**
 * Plants the five variants (see the module comment) into `contexts` seeded contexts; each
 * context's miRNA is drawn uniformly from `mirnas` (20-nt A/C/G/T). A background is redrawn
 * until every variant has exactly its canonical seed-match class (seedMatchClass; "no site" =
 * none), so no other seed match anywhere in the 50-mer blurs the comparison.
 */
export function plantSiteTypes(mirnas: readonly string[], opts: PlantSiteTypesOptions = {}): PlantedSiteTypes {
  const contexts = opts.contexts ?? 500;
  const offset = opts.offset ?? 21;
  if (mirnas.length === 0) throw new InputError("plantSiteTypes needs at least one miRNA");
  const bad = mirnas.find((m) => m.length !== MIRNA_LENGTH || !/^[ACGT]+$/.test(m));
  if (bad !== undefined) throw new InputError(`miRNA '${bad}' is not a 20-nt A/C/G/T sequence`);
  if (!Number.isInteger(contexts) || contexts < 1) throw new InputError(`contexts must be a positive integer, got ${contexts}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > SITE_LENGTH - 8) throw new InputError(`offset must be an integer in 0–${SITE_LENGTH - 8}, got ${offset}`);
  const random = mulberry32(opts.seed ?? DEFAULT_SEED);
  const pick = (bases: string) => bases[Math.floor(random() * bases.length)]!;
  const out: PlantedSiteTypes = { contexts, offset, contextMirnas: [], mirnas: [], sites: [], types: [] };
  for (let c = 0; c < contexts; c++) {
    const mirna = mirnas[randomInteger(random, 0, mirnas.length - 1)]!;
    const core = reverseComplement(mirna.slice(1, 7));
    const c8 = PAIRS_WITH[mirna[7]!]!;
    const c1 = PAIRS_WITH[mirna[0]!]!;
    let variants: string[] | null = null;
    for (let attempt = 0; attempt < 1000 && variants === null; attempt++) {
      const background = randomSequence(random, SITE_LENGTH);
      const y = pick("ACGT".replace(c8, ""));
      const x = pick([..."CGT"].filter((b) => b !== c1).join(""));
      const blocks = [c8 + core + "A", c8 + core + x, y + core + "A", y + core + x];
      const candidate = [...blocks.map((b) => background.slice(0, offset) + b + background.slice(offset + 8)), background];
      const expected = ["8mer", "7mer-m8", "7mer-A1", "6mer", "none"];
      if (candidate.every((site, t) => seedMatchClass(mirna, site) === expected[t])) variants = candidate;
    }
    if (variants === null) throw new InputError(`no background without a seed match found for ${mirna} in 1,000 draws`);
    out.contextMirnas.push(mirna);
    variants.forEach((site, t) => {
      out.mirnas.push(mirna);
      out.sites.push(site);
      out.types.push(PLANTED_SITE_TYPES[t]!);
    });
  }
  return out;
}

/** One type's mean score over contexts. */
export interface SiteTypeScore {
  type: PlantedSiteType;
  score: MeanCi;
}

/** A step of the canonical ranking: score(higher) − score(lower), paired by context. */
export interface SiteTypeStep {
  higher: PlantedSiteType;
  lower: PlantedSiteType;
  difference: MeanCi;
}

/** Verdict of {@link siteTypeRanking} (the rule is in its doc comment). */
export type SiteRankingVerdict = "agrees" | "same order, not resolved" | "disagrees";

/** How a model ranks the planted types (see {@link siteTypeRanking}). */
export interface SiteTypeRanking {
  contexts: number;
  /** Every planted type (the four canonical ones and the control), mean score with its interval. */
  types: SiteTypeScore[];
  /** 8mer − 7mer-m8, 7mer-m8 − 7mer-A1, 7mer-A1 − 6mer, 6mer − no site. */
  steps: SiteTypeStep[];
  /** The four canonical types by mean score, highest first. */
  order: PlantedSiteType[];
  verdict: SiteRankingVerdict;
}

/**
 * The model's ranking of the planted types from its `scores` of `planted`'s pairs (shape=(contexts·5,),
 * e.g. logits), over all contexts or those `contexts` lists: the mean score of each type and the
 * paired difference of each canonical step, with percentile bootstrap intervals over contexts
 * (metrics.ts bootstrapMeanCi). Rule: "agrees" when the four types' means are in the canonical
 * order and every step's interval lies above 0; "same order, not resolved" when the means are in
 * that order but some step's interval reaches 0; "disagrees" when they are in another order.
 */
export function siteTypeRanking(planted: PlantedSiteTypes, scores: ArrayLike<number>, opts: BootstrapOptions & { contexts?: readonly number[] } = {}): SiteTypeRanking {
  const nTypes = PLANTED_SITE_TYPES.length;
  if (scores.length !== planted.contexts * nTypes) throw new InputError(`got ${scores.length} scores for ${planted.contexts * nTypes} planted pairs`);
  const chosen = opts.contexts ?? Array.from({ length: planted.contexts }, (_, c) => c);
  if (chosen.length === 0) throw new InputError("no contexts to rank the site types on");
  for (const c of chosen) if (!Number.isInteger(c) || c < 0 || c >= planted.contexts) throw new InputError(`context ${c} is out of range 0–${planted.contexts - 1}`);
  const of = (type: PlantedSiteType) => {
    const t = PLANTED_SITE_TYPES.indexOf(type);
    return Float64Array.from(chosen, (c) => scores[c * nTypes + t]!);
  };
  const types = PLANTED_SITE_TYPES.map((type) => ({ type, score: bootstrapMeanCi(of(type), opts) }));
  const chain: PlantedSiteType[] = [...CANONICAL_SITE_RANKING, "no site"];
  const steps = chain.slice(0, -1).map((higher, i) => {
    const lower = chain[i + 1]!;
    const a = of(higher), b = of(lower);
    return { higher, lower, difference: bootstrapMeanCi(a.map((v, k) => v - b[k]!), opts) };
  });
  const meanOf = (type: PlantedSiteType) => types.find((t) => t.type === type)!.score.mean;
  const order = [...CANONICAL_SITE_RANKING].sort((a, b) => meanOf(b) - meanOf(a) || CANONICAL_SITE_RANKING.indexOf(a) - CANONICAL_SITE_RANKING.indexOf(b));
  const sameOrder = order.every((t, i) => t === CANONICAL_SITE_RANKING[i]);
  const resolved = steps.slice(0, CANONICAL_SITE_RANKING.length - 1).every((s) => s.difference.lo > 0);
  const verdict: SiteRankingVerdict = !sameOrder ? "disagrees" : resolved ? "agrees" : "same order, not resolved";
  return { contexts: chosen.length, types, steps, order, verdict };
}
