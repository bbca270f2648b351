import * as path from "node:path";
import pl from "nodejs-polars";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { readTsv, writeTsv } from "../io/tsv";
import { DEFAULT_SEED, mulberry32, shuffleInPlace } from "../random";
import type { LabelledPairs, Pairs } from "./tables";

/**
 * The train / held-out split of the chr1 positives: the non-chr1 training
 * table of the original work is not public, so our trainers learn from part of the chr1
 * positives and are tested on the rest, with each held-out positive's own scan negatives and
 * the miRNA negatives of its site. This deviates from the paper, whose models trained on the
 * 179,148 non-chr1 positives and were tested on all of chr1.
 *
 * Site-disjoint: positives are grouped into clusters that must not be separated, then whole
 * clusters are drawn for the held-out part. Two positives are in one cluster when the 1,050-nt
 * scan region of one (its window and the 20 flanking windows, rebuilt from the scan set)
 * shares a {@link LINK_KMER}-nt stretch with the window of the other: the same site paired with
 * several miRNAs, overlapping or nearby sites, repeats. So no held-out positive window, and no
 * held-out scan negative, shares such a stretch with any training positive. Low-complexity
 * stretches ((CA)n, poly-A) do not link: they would chain unrelated genes into one cluster.
 */

/** Length of the shared stretch that links two positives into one cluster (fits 48 bits: exact in a float). */
export const LINK_KMER = 24;

/** Scan negatives per positive in the published scan set, and windows per scan region. */
const SCAN_NEGATIVES = 20;

/** The published chr1 test sets, as read (positives first, then the negatives). */
export interface Chr1TestSets {
  /** 21,385 positives, then 20 scan negatives per positive in positive order (negatives k·20 … k·20 + 19 of positive k). */
  scan: LabelledPairs;
  /** The same positives, then miRNA negatives (real positive sites paired with other miRNAs). */
  mirnaNeg: LabelledPairs;
}

/** Options of {@link splitChr1Positives}. */
export interface SplitOptions {
  /** Fraction of positives held out (whole clusters, so about this). Default 0.2. */
  testFraction?: number;
  seed?: number;
}

/** Result of {@link splitChr1Positives}. */
export interface Chr1Split {
  /** Training positives (label 1), in their scan-set order. */
  train: LabelledPairs;
  /** Held-out positives and their scan negatives (20 per positive, in positive order). */
  heldOutScan: LabelledPairs;
  /** Held-out positives and the miRNA negatives whose site is a held-out positive's site. */
  heldOutMirnaNeg: LabelledPairs;
  /** Scan-set row of every positive (0-based) and its cluster; which positives were held out. */
  positiveRows: { cluster: Int32Array; heldOut: Uint8Array };
  /** Sequences of the held-out scan regions' windows (for {@link siteLeakFilter}). */
  heldOutWindows: string[];
  summary: SplitSummary;
}

/** Counts of a split, for tables and results files. */
export interface SplitSummary {
  seed: number;
  testFraction: number;
  linkKmer: number;
  positives: number;
  clusters: number;
  largestCluster: number;
  trainPositives: number;
  heldOutPositives: number;
  heldOutScanNegatives: number;
  heldOutMirnaNegatives: number;
  /** miRNA-neg negatives dropped: their site is a training site. */
  mirnaNegativesOfTrainSites: number;
}

/** Number of positives in a published chr1 set (they come first). */
function countPositives(set: LabelledPairs): number {
  let n = 0;
  while (n < set.labels.length && set.labels[n] === 1) n++;
  for (let i = n; i < set.labels.length; i++) {
    if (set.labels[i] === 1) throw new InputError(`row ${i + 1} is a positive after the first negative; expected the published layout (positives first)`, { file: set.name });
  }
  return n;
}

const CODE: Record<string, number> = { A: 0, C: 1, G: 2, T: 3 };

/**
 * A k-mer counts as low-complexity (a microsatellite such as (CA)n or a poly-A run, which says
 * nothing about a shared locus) when it holds at most this many distinct trinucleotides; a
 * random 24-mer holds about 20 of its 22.
 */
export const LOW_COMPLEXITY_TRINUCLEOTIDES = 8;

/**
 * Calls `visit(key)` for every k-mer of `sequence` without N and not low-complexity (key: the
 * k-mer in base 4, exact below 2^53).
 */
function forEachKmer(sequence: string, k: number, visit: (key: number) => void): void {
  let key = 0;
  let valid = 0;
  const top = 4 ** (k - 1);
  // Trinucleotide counts of the current k-mer, and how many are non-zero.
  const tri = new Int32Array(64);
  const codes = new Int8Array(sequence.length);
  let distinct = 0;
  const add = (t: number, d: number) => {
    if (d > 0 && tri[t]!++ === 0) distinct++;
    if (d < 0 && --tri[t]! === 0) distinct--;
  };
  for (let i = 0; i < sequence.length; i++) {
    const c = CODE[sequence[i]!];
    if (c === undefined) {
      valid = 0;
      key = 0;
      tri.fill(0);
      distinct = 0;
      continue;
    }
    codes[i] = c;
    key = valid >= k ? (key - Math.floor(key / top) * top) * 4 + c : key * 4 + c;
    valid++;
    if (valid >= 3) add(codes[i - 2]! * 16 + codes[i - 1]! * 4 + c, 1);
    if (valid > k) add(codes[i - k - 2]! * 16 + codes[i - k - 1]! * 4 + codes[i - k]!, -1);
    if (valid >= k && distinct > LOW_COMPLEXITY_TRINUCLEOTIDES) visit(key);
  }
}

/** Disjoint sets over 0..n-1. */
function unionFind(n: number) {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  return {
    find,
    union: (a: number, b: number) => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    },
  };
}

/**
 * Splits the chr1 positives into training and held-out parts, site-disjoint (see the module
 * comment), deterministically from `seed`: clusters are shuffled with mulberry32(seed) and
 * taken for the held-out part until it holds `testFraction` of the positives.
 */
export function splitChr1Positives(sets: Chr1TestSets, opts: SplitOptions = {}): Chr1Split {
  const seed = opts.seed ?? DEFAULT_SEED;
  const testFraction = opts.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) throw new InputError(`testFraction must be in (0, 1), got ${testFraction}`);
  const { scan, mirnaNeg } = sets;
  const n = countPositives(scan);
  if (n === 0) throw new InputError("no positives", { file: scan.name });
  if (scan.labels.length !== n * (SCAN_NEGATIVES + 1)) {
    throw new InputError(`expected ${n} positives and ${n * SCAN_NEGATIVES} scan negatives (20 per positive), found ${scan.labels.length - n} negatives`, { file: scan.name });
  }
  if (countPositives(mirnaNeg) !== n) throw new InputError(`the miRNA-neg set has ${countPositives(mirnaNeg)} positives, the scan set ${n}`, { file: mirnaNeg.name });
  for (let k = 0; k < n; k++) {
    if (scan.mirnas[k] !== mirnaNeg.mirnas[k] || scan.sites[k] !== mirnaNeg.sites[k]) {
      throw new InputError(`positive ${k + 1} differs between the scan and miRNA-neg sets; expected the same positives in the same order`, { file: mirnaNeg.name });
    }
  }
  const regionWindows = (k: number): string[] => [
    ...Array.from({ length: SCAN_NEGATIVES / 2 }, (_, j) => scan.sites[n + k * SCAN_NEGATIVES + j]!),
    scan.sites[k]!,
    ...Array.from({ length: SCAN_NEGATIVES / 2 }, (_, j) => scan.sites[n + k * SCAN_NEGATIVES + SCAN_NEGATIVES / 2 + j]!),
  ];

  // Index the k-mers of every positive window, then link each positive to every positive whose
  // window shares a k-mer with its region (the region, rebuilt in genomic order, is scanned as
  // one sequence so stretches across window borders count).
  const windowsWithKmer = new Map<number, number[]>();
  for (let k = 0; k < n; k++) {
    forEachKmer(scan.sites[k]!, LINK_KMER, (key) => {
      const list = windowsWithKmer.get(key);
      if (list === undefined) windowsWithKmer.set(key, [k]);
      else if (list[list.length - 1] !== k) list.push(k);
    });
  }
  const sets_ = unionFind(n);
  for (let k = 0; k < n; k++) {
    forEachKmer(regionWindows(k).join(""), LINK_KMER, (key) => {
      for (const other of windowsWithKmer.get(key) ?? []) sets_.union(k, other);
    });
  }
  const cluster = Int32Array.from({ length: n }, (_, k) => sets_.find(k));
  const members = new Map<number, number[]>();
  for (let k = 0; k < n; k++) {
    const list = members.get(cluster[k]!);
    if (list === undefined) members.set(cluster[k]!, [k]);
    else list.push(k);
  }
  const order = [...members.keys()].sort((a, b) => a - b);
  shuffleInPlace(order, mulberry32(seed));
  const heldOut = new Uint8Array(n);
  const target = Math.round(n * testFraction);
  let taken = 0;
  for (const root of order) {
    if (taken >= target) break;
    for (const k of members.get(root)!) heldOut[k] = 1;
    taken += members.get(root)!.length;
  }

  const pick = (name: string, rows: number[], from: LabelledPairs): LabelledPairs => ({
    name,
    mirnas: rows.map((r) => from.mirnas[r]!),
    sites: rows.map((r) => from.sites[r]!),
    labels: Uint8Array.from(rows, (r) => from.labels[r]!),
  });
  const positives = Array.from({ length: n }, (_, k) => k);
  const trainRows = positives.filter((k) => !heldOut[k]);
  const heldRows = positives.filter((k) => heldOut[k]);
  const scanRows = [...heldRows, ...heldRows.flatMap((k) => Array.from({ length: SCAN_NEGATIVES }, (_, j) => n + k * SCAN_NEGATIVES + j))];
  const heldSites = new Set(heldRows.map((k) => scan.sites[k]!));
  const trainSites = new Set(trainRows.map((k) => scan.sites[k]!));
  const mirnaNegRows = [...heldRows];
  let ofTrainSites = 0;
  for (let i = n; i < mirnaNeg.labels.length; i++) {
    const site = mirnaNeg.sites[i]!;
    if (heldSites.has(site)) mirnaNegRows.push(i);
    else if (trainSites.has(site)) ofTrainSites++;
    else throw new InputError(`row ${i + 1}: a miRNA negative whose site is no positive's site; expected the published miRNA-neg set`, { file: mirnaNeg.name });
  }
  const sizes = [...members.values()].map((m) => m.length);
  const split: Chr1Split = {
    train: pick("chr1 train positives", trainRows, scan),
    heldOutScan: pick("held-out scan", scanRows, scan),
    heldOutMirnaNeg: pick("held-out miRNA-neg", mirnaNegRows, mirnaNeg),
    positiveRows: { cluster, heldOut },
    heldOutWindows: heldRows.flatMap(regionWindows),
    summary: {
      seed, testFraction, linkKmer: LINK_KMER,
      positives: n, clusters: members.size, largestCluster: Math.max(...sizes),
      trainPositives: trainRows.length, heldOutPositives: heldRows.length,
      heldOutScanNegatives: scanRows.length - heldRows.length, heldOutMirnaNegatives: mirnaNegRows.length - heldRows.length,
      mirnaNegativesOfTrainSites: ofTrainSites,
    },
  };
  return split;
}

/**
 * A test for other training data (e.g. the CLASH table): true when a site shares a
 * {@link LINK_KMER}-nt stretch with a held-out scan region, i.e. using it for training would
 * leak held-out sequence.
 */
export function siteLeakFilter(heldOutWindows: readonly string[]): (site: string) => boolean {
  const kmers = new Set<number>();
  for (const w of heldOutWindows) forEachKmer(w, LINK_KMER, (key) => kmers.add(key));
  return (site) => {
    let leak = false;
    forEachKmer(site, LINK_KMER, (key) => {
      if (kmers.has(key)) leak = true;
    });
    return leak;
  };
}

/** Keeps the pairs whose site does not leak held-out sequence; returns them and how many were dropped. */
export function withoutLeaks<T extends Pairs>(pairs: T, leaks: (site: string) => boolean): { pairs: T; dropped: number } {
  const keep = pairs.sites.map((s) => !leaks(s));
  const rows = keep.flatMap((k, i) => (k ? [i] : []));
  return {
    pairs: {
      ...pairs,
      mirnas: rows.map((i) => pairs.mirnas[i]!),
      sites: rows.map((i) => pairs.sites[i]!),
      labels: pairs.labels ? Uint8Array.from(rows, (i) => pairs.labels![i]!) : null,
    },
    dropped: pairs.sites.length - rows.length,
  };
}

/** The lock-format frame of labelled pairs. */
function lockFrame(pairs: LabelledPairs): pl.DataFrame {
  return pl.DataFrame({
    mirna_binding_sequence: pairs.mirnas,
    binding_sequence: pairs.sites,
    label: Array.from(pairs.labels, (l) => (l === 1 ? "positive" : "negative")),
  });
}

/** File names {@link writeSplit} writes. */
export const SPLIT_FILES = {
  train: "train_positives.tsv.gz",
  heldOutScan: "heldout_scan_test_set.tsv.gz",
  heldOutMirnaNeg: "heldout_mirna_neg_test_set.tsv.gz",
  clusters: "positives_split.tsv.gz",
  heldOutWindows: "heldout_windows.tsv.gz",
  summary: "split.json",
} as const;

/**
 * Writes a split as lock-format tables (each atomically) into `outDir`: the training positives,
 * the two held-out test sets, one row per positive (scan-set row, cluster, part), the windows of
 * the held-out scan regions (for the leak guard of other training data, {@link readLeakGuard})
 * and a summary. Returns the paths.
 */
export function writeSplit(split: Chr1Split, outDir: string): string[] {
  const files = Object.fromEntries(Object.entries(SPLIT_FILES).map(([k, v]) => [k, path.join(outDir, v)])) as Record<keyof typeof SPLIT_FILES, string>;
  writeTsv(lockFrame(split.train), files.train);
  writeTsv(lockFrame(split.heldOutScan), files.heldOutScan);
  writeTsv(lockFrame(split.heldOutMirnaNeg), files.heldOutMirnaNeg);
  const n = split.positiveRows.cluster.length;
  writeTsv(pl.DataFrame({
    scan_row: Array.from({ length: n }, (_, k) => k),
    cluster: Array.from(split.positiveRows.cluster),
    part: Array.from(split.positiveRows.heldOut, (h) => (h ? "held-out" : "train")),
  }), files.clusters);
  writeTsv(pl.DataFrame({ window: split.heldOutWindows }), files.heldOutWindows);
  writeFileAtomic(files.summary, JSON.stringify({
    ...split.summary,
    deviation: "The original trained on the 179,148 non-chr1 positives (not public); here training uses chr1 positives and testing the held-out chr1 positives, site-disjoint.",
  }, null, 1) + "\n");
  return Object.values(files);
}

/** The leak guard of a split written by {@link writeSplit}: true for sites that share held-out sequence. */
export function readLeakGuard(splitDir: string): (site: string) => boolean {
  const file = path.join(splitDir, SPLIT_FILES.heldOutWindows);
  const frame = readTsv(file);
  if (!frame.columns.includes("window")) throw new InputError("missing column 'window' (not a split folder written by mirna-dl split?)", { file });
  return siteLeakFilter(frame.getColumn("window").toArray() as string[]);
}
