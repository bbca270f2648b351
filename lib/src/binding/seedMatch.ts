import { reverseComplement } from "./sequences";

/** Seed-match classes, best first, with the score the baseline gives each. */
export const SEED_MATCH_CLASSES = ["8mer", "7mer-m8", "7mer-A1", "6mer", "none"] as const;
export type SeedMatchClass = (typeof SEED_MATCH_CLASSES)[number];

/** Score of each class: 8mer 4, 7mer-m8 3, 7mer-A1 2, 6mer 1, none 0. */
export const SEED_MATCH_SCORE: Record<SeedMatchClass, number> = { "8mer": 4, "7mer-m8": 3, "7mer-A1": 2, "6mer": 1, none: 0 };

interface SeedPatterns {
  eightMer: string;
  sevenMerM8: string;
  sevenMerA1: string;
  sixMer: string;
}

function seedPatterns(mirna: string): SeedPatterns | null {
  const seed2to8 = mirna.slice(1, 8);
  if (seed2to8.length < 7 || seed2to8.includes("N")) return null;
  const rc2to8 = reverseComplement(seed2to8);
  const rc2to7 = rc2to8.slice(1); // reverse complement of miRNA nt 2–7
  return { eightMer: rc2to8 + "A", sevenMerM8: rc2to8, sevenMerA1: rc2to7 + "A", sixMer: rc2to7 };
}

/**
 * Canonical seed-match class of a site for a miRNA (both normalised DNA strings, 5'→3'):
 * 8mer = the site contains rc(miRNA 2–8) followed by A; 7mer-m8 = contains rc(2–8);
 * 7mer-A1 = contains rc(2–7) followed by A; 6mer = contains rc(2–7); else none. Positions are
 * 1-based on the miRNA; the match may lie anywhere in the site. A seed with N never matches.
 */
export function seedMatchClass(mirna: string, site: string): SeedMatchClass {
  const p = seedPatterns(mirna);
  return p ? classify(p, site) : "none";
}

function classify(p: SeedPatterns, site: string): SeedMatchClass {
  if (!site.includes(p.sixMer)) return "none";
  if (site.includes(p.eightMer)) return "8mer";
  if (site.includes(p.sevenMerM8)) return "7mer-m8";
  if (site.includes(p.sevenMerA1)) return "7mer-A1";
  return "6mer";
}

/**
 * The seed-match baseline: a score per pair (4 = 8mer … 0 = none), the heuristic every model
 * must be reported next to. `mirnas`, `sites`: shape=(n,) each. Returns Float32Array, shape=(n,),
 * values in {0, 1, 2, 3, 4}.
 */
export function seedMatchScores(mirnas: readonly string[], sites: readonly string[]): Float32Array {
  const scores = new Float32Array(mirnas.length);
  const cache = new Map<string, SeedPatterns | null>();
  for (let k = 0; k < mirnas.length; k++) {
    const mirna = mirnas[k]!;
    let p = cache.get(mirna);
    if (p === undefined) {
      p = seedPatterns(mirna);
      cache.set(mirna, p);
    }
    scores[k] = p ? SEED_MATCH_SCORE[classify(p, sites[k]!)] : 0;
  }
  return scores;
}
