import { InputError } from "../errors";

/**
 * Novelty of generated hairpins: the edit distance (Levenshtein: substitutions, insertions,
 * deletions, each 1) from each generated sequence to its nearest training sequence. Distances
 * are computed with Myers' bit-parallel algorithm in Hyyrö's block form (32-bit words, global
 * alignment), about 30 × faster than the textbook table; pairs whose length difference alone
 * reaches the best distance so far are skipped (it bounds the distance from below).
 */

const CODE: Record<string, number> = { A: 0, C: 1, G: 2, U: 3, T: 3 };

/** Per-letter match masks of a pattern, one Uint32Array of ⌈m / 32⌉ words per letter A, C, G, U. */
interface Pattern {
  m: number;
  blocks: number;
  peq: Uint32Array[];
  /** Bit of the last pattern row in the last block. */
  lastBit: number;
}

function compilePattern(pattern: string): Pattern {
  const m = pattern.length;
  const blocks = Math.max(1, Math.ceil(m / 32));
  const peq = [0, 1, 2, 3].map(() => new Uint32Array(blocks));
  for (let i = 0; i < m; i++) {
    const c = CODE[pattern[i]!];
    if (c === undefined) throw new InputError(`sequence has '${pattern[i]}' at position ${i + 1} (expected A, C, G, U)`);
    peq[c]![i >>> 5]! |= (1 << (i & 31)) >>> 0;
  }
  return { m, blocks, peq, lastBit: m === 0 ? 0 : (1 << ((m - 1) & 31)) >>> 0 };
}

/** Edit distance between a compiled pattern and `text` (global). */
function distance(p: Pattern, text: string, pv: Uint32Array, mv: Uint32Array): number {
  if (p.m === 0) return text.length;
  pv.fill(0xffffffff);
  mv.fill(0);
  let score = p.m;
  const last = p.blocks - 1;
  for (let j = 0; j < text.length; j++) {
    const c = CODE[text[j]!];
    if (c === undefined) throw new InputError(`sequence has '${text[j]}' at position ${j + 1} (expected A, C, G, U)`);
    const eqs = p.peq[c]!;
    let hin = 1; // D[0][j] − D[0][j − 1] = +1: global alignment
    for (let b = 0; b <= last; b++) {
      const Pv = pv[b]!;
      const Mv = mv[b]!;
      let Eq = eqs[b]!;
      const hinNeg = hin < 0 ? 1 : 0;
      const Xv = (Eq | Mv) >>> 0;
      Eq = (Eq | hinNeg) >>> 0;
      const Xh = (((((((Eq & Pv) >>> 0) + Pv) >>> 0) ^ Pv) >>> 0) | Eq) >>> 0;
      let Ph = (Mv | ~(Xh | Pv)) >>> 0;
      let Mh = (Pv & Xh) >>> 0;
      const high = b === last ? p.lastBit : 0x80000000;
      const hout = (Ph & high ? 1 : 0) - (Mh & high ? 1 : 0);
      Ph = ((Ph << 1) | (hin > 0 ? 1 : 0)) >>> 0;
      Mh = ((Mh << 1) | hinNeg) >>> 0;
      pv[b] = (Mh | ~(Xv | Ph)) >>> 0;
      mv[b] = (Ph & Xv) >>> 0;
      hin = hout;
    }
    score += hin;
  }
  return score;
}

/** Edit distance between two RNA sequences (A, C, G, U; T read as U). */
export function editDistance(a: string, b: string): number {
  const p = compilePattern(a);
  return distance(p, b, new Uint32Array(p.blocks), new Uint32Array(p.blocks));
}

/** Nearest reference of one query: its distance and index (on ties, the first one met in order of length difference). */
export interface NearestSequence {
  distance: number;
  index: number;
}

/**
 * For each query, its edit distance to the nearest of `references` and that reference's index.
 * Exact (every reference whose length difference is below the best distance so far is
 * compared). Throws an InputError for a letter other than A, C, G, U (T).
 */
export function nearestEditDistances(queries: readonly string[], references: readonly string[]): NearestSequence[] {
  if (references.length === 0) throw new InputError("no reference sequences to compare with");
  // References sorted by length, so the ones closest in length are tried first.
  const order = [...references.keys()].sort((x, y) => references[x]!.length - references[y]!.length || x - y);
  const lengths = order.map((i) => references[i]!.length);
  return queries.map((q) => {
    const p = compilePattern(q);
    const pv = new Uint32Array(p.blocks);
    const mv = new Uint32Array(p.blocks);
    // Start at the reference closest in length and widen outwards.
    let lo = lowerBound(lengths, q.length) - 1;
    let hi = lo + 1;
    let best = Infinity;
    let bestIndex = -1;
    for (;;) {
      const dl = lo >= 0 ? q.length - lengths[lo]! : Infinity;
      const dh = hi < order.length ? lengths[hi]! - q.length : Infinity;
      const gap = Math.min(dl, dh);
      // Every reference left differs in length by at least `gap`, a lower bound of its distance.
      if (gap === Infinity || gap >= best) break;
      const index = order[dl <= dh ? lo-- : hi++]!;
      const d = distance(p, references[index]!, pv, mv);
      if (d < best) {
        best = d;
        bestIndex = index;
      }
    }
    return { distance: best, index: bestIndex };
  });
}

/** First position in sorted `values` holding a value ≥ `x`. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
