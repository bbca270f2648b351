/**
 * miRNA negatives: real positive sites re-paired with other miRNA family representatives. They
 * make step 8 of the ENCORI preprocessing (as in the original's preprocessing notebook) and the
 * training negatives of the standard and iterative trainers.
 *
 * The original (`negative_class_generator`) built the full cross product of the unique family
 * sequences of the positives × the positive rows, removed the pairs whose miRNA equals the row's
 * own, and drew n·ratio pairs at random (pandas `sample`, random_state 1789) from all of it. So
 * its positives got a varying number of negatives (not exactly 20 each), and 77 of the published
 * negatives are (miRNA, site) pairs that are also positives (a site occurring in several
 * positive rows with different miRNAs). Here every positive gets exactly `ratio` distinct
 * miRNAs from the same pool, never its own and never one that forms a positive pair with the
 * same site sequence; negatives k·ratio … k·ratio + ratio − 1 belong to positive k.
 */
import { DEFAULT_SEED, mulberry32, randomInteger } from "../random";

export interface MirnaNegativeOptions {
  /** Negatives per positive; default 20. */
  ratio?: number;
  /** PRNG seed (mulberry32); default 1789. */
  seed?: number;
  /**
   * The miRNAs to draw from. Default: the unique miRNAs of the positives, in order of first
   * appearance (the original's pool: `df.mirna_binding_sequence.unique()`).
   */
  pool?: readonly string[];
  /**
   * More positive pairs that no negative may equal, besides the positives given (e.g. every
   * positive of the training table when only a subset is being re-paired).
   */
  knownPositives?: { mirnas: readonly string[]; sites: readonly string[] };
  /**
   * The family of a miRNA ({@link seedFamily}: its seed, nt 2–8): a positive is never paired with
   * a miRNA of its own miRNA's family. Default: none (only its own miRNA is excluded).
   */
  family?: (mirna: string) => string;
}

/**
 * A miRNA's family by its seed, nucleotides 2–8 (as TargetScan groups miRNA families): the key
 * {@link MirnaNegativeOptions.family} takes for tables that carry no family names (miRBind's).
 */
export function seedFamily(mirna: string): string {
  return mirna.slice(1, 8);
}

export interface MirnaNegatives {
  mirnas: string[];
  sites: string[];
  /** For each negative, the index of its positive. */
  positiveIndex: Int32Array;
  /** Negatives per positive. */
  perPositive: number;
  /** Size of the pool drawn from. */
  poolSize: number;
}

/**
 * Pairs each positive (mirnas[k], sites[k]) with `ratio` different miRNAs drawn from the pool
 * with mulberry32(seed): for positive k in order, draws uniform pool indices, rejecting a miRNA
 * already chosen for k, the row's own (and, with `family`, any of its family), or any miRNA m with (m, sites[k]) among the positive pairs
 * or `knownPositives` (sites compared as sequences). Throws when a positive has fewer than
 * `ratio` allowed miRNAs.
 */
export function mirnaNegatives(mirnas: readonly string[], sites: readonly string[], options: MirnaNegativeOptions = {}): MirnaNegatives {
  if (mirnas.length !== sites.length) throw new Error(`mirnaNegatives: ${mirnas.length} miRNAs but ${sites.length} sites`);
  const ratio = options.ratio ?? 20;
  const random = mulberry32(options.seed ?? DEFAULT_SEED);
  const pool = options.pool ? [...new Set(options.pool)] : [...new Set(mirnas)];
  const poolIndex = new Map(pool.map((m, i) => [m, i]));

  // Positive miRNAs of every site sequence (as pool indices; miRNAs outside the pool cannot be drawn anyway).
  const positiveMirnas = new Map<string, number[]>();
  const known = options.knownPositives;
  if (known && known.mirnas.length !== known.sites.length) throw new Error(`mirnaNegatives: ${known.mirnas.length} known positive miRNAs but ${known.sites.length} sites`);
  for (const [pairMirnas, pairSites] of [[mirnas, sites], ...(known ? [[known.mirnas, known.sites] as const] : [])] as const) {
    for (let k = 0; k < pairSites.length; k++) {
      const m = poolIndex.get(pairMirnas[k]!);
      if (m === undefined) continue;
      const list = positiveMirnas.get(pairSites[k]!);
      if (list === undefined) positiveMirnas.set(pairSites[k]!, [m]);
      else if (!list.includes(m)) list.push(m);
    }
  }

  // Pool indices by family, when families count: a positive's whole family is excluded.
  const familyOf = options.family;
  let relatives: Map<string, number[]> | null = null;
  if (familyOf) {
    relatives = new Map();
    pool.forEach((m, i) => {
      const key = familyOf(m);
      const list = relatives!.get(key);
      if (list) list.push(i);
      else relatives!.set(key, [i]);
    });
  }

  const n = mirnas.length;
  const outMirnas = new Array<string>(n * ratio);
  const outSites = new Array<string>(n * ratio);
  const positiveIndex = new Int32Array(n * ratio);
  // excluded[m] === k + 1 marks pool miRNA m as not allowed (or already chosen) for positive k.
  const excluded = new Int32Array(pool.length);
  for (let k = 0; k < n; k++) {
    const mark = k + 1;
    let allowed = pool.length;
    for (const m of positiveMirnas.get(sites[k]!) ?? []) {
      if (excluded[m] !== mark) {
        excluded[m] = mark;
        allowed--;
      }
    }
    const own = poolIndex.get(mirnas[k]!);
    if (own !== undefined && excluded[own] !== mark) {
      excluded[own] = mark;
      allowed--;
    }
    for (const m of relatives?.get(familyOf!(mirnas[k]!)) ?? []) {
      if (excluded[m] !== mark) {
        excluded[m] = mark;
        allowed--;
      }
    }
    if (allowed < ratio) {
      throw new Error(
        `positive ${k}: only ${allowed} miRNAs of the pool of ${pool.length} may pair with its site, ${ratio} needed ` +
          `(lower the ratio, or draw from a larger pool, e.g. the pipeline's mirnaNegativePool: "all")`,
      );
    }
    for (let j = 0; j < ratio; j++) {
      let m: number;
      do m = randomInteger(random, 0, pool.length - 1);
      while (excluded[m] === mark);
      excluded[m] = mark;
      const at = k * ratio + j;
      outMirnas[at] = pool[m]!;
      outSites[at] = sites[k]!;
      positiveIndex[at] = k;
    }
  }
  return { mirnas: outMirnas, sites: outSites, positiveIndex, perPositive: ratio, poolSize: pool.length };
}
