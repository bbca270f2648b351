/**
 * The table steps of the ENCORI preprocessing (the original's notebook
 * `generate_encori_train_test_datasets_lock`, github.com/ML-Bioinfo-CEITEC/mirna_binding): AGO2
 * filter, UTR overlap, ambiguous-site removal, TargetScan family join and chromosome split. The
 * genome steps (seeded window, scan negatives) are in `windows.ts`, the miRNA negatives in
 * `negatives.ts`, the chaining in `pipeline.ts`.
 *
 * Every step takes a nodejs-polars frame of ENCORI rows (as {@link readEncoriTargets} returns
 * them, plus the `encoriRow` column from {@link withEncoriRows}) and returns the rows it keeps,
 * in input order unless said otherwise, with the number kept and dropped.
 *
 * ## Coordinates
 * Two readings of the same numbers, chosen by {@link CoordinateMode}:
 * - `"exact"` (default): as the formats define them. ENCORI narrowStart..narrowEnd are 1-based,
 *   both ends inclusive (the evidence is in `encori.ts`: read so, the original notebook's own
 *   printed rows hold exactly a 6mer/7mer let-7 seed match; read as BED they hold 5-nt
 *   fragments), so the site is the 0-based half-open interval [narrowStart − 1, narrowEnd).
 *   GTF start..end are 1-based inclusive by definition: [start − 1, end).
 * - `"faithful"`: as the original notebook did, handing both tables to bedtools as BED, i.e.
 *   reading narrowStart and the GTF start as 0-based starts: site [narrowStart, narrowEnd),
 *   UTR [start, end). This loses the first base of every site and of every UTR, so a site
 *   touching only a UTR's first base (or whose first base is a UTR's last) is dropped.
 *   Use it to reproduce the original counts (425,370 UTR rows, 202,890 unique sites).
 * On the fixtures the two differ by two rows at the UTR step (lib/fixtures/preprocess/README.md).
 */
import pl from "nodejs-polars";
import { fitMirnaLength, normaliseSequence } from "../binding/sequences";
import { HUMAN_SPECIES_ID, TargetScanFamily } from "./targetscan";

/** How ENCORI and GTF coordinates are read; see the module comment. */
export type CoordinateMode = "exact" | "faithful";

/** What a table step returns: the kept rows and how many were kept / dropped. */
export interface StepResult {
  frame: pl.DataFrame;
  /** Rows kept (= frame.height). */
  count: number;
  /** Rows removed by this step. */
  dropped: number;
}

/** Name of the column holding the 1-based ENCORI data row (header = row 0) each row came from. */
export const ENCORI_ROW = "encoriRow";

/** Adds `encoriRow` (Int32, 1..height) unless the frame has it, so later errors can name the row. */
export function withEncoriRows(frame: pl.DataFrame): pl.DataFrame {
  if (frame.columns.includes(ENCORI_ROW)) return frame;
  const rows = Int32Array.from({ length: frame.height }, (_, i) => i + 1);
  return frame.withColumn(pl.Series(ENCORI_ROW, rows, pl.Int32));
}

/** The `encoriRow` column as numbers, or 1..height when the frame has none. */
export function encoriRows(frame: pl.DataFrame): number[] {
  if (frame.columns.includes(ENCORI_ROW)) return frame.getColumn(ENCORI_ROW).toArray() as number[];
  return Array.from({ length: frame.height }, (_, i) => i + 1);
}

/** Keeps the rows where `keep[i]` is true (order kept). */
export function keepRows(frame: pl.DataFrame, keep: readonly boolean[]): pl.DataFrame {
  const mask = "__keep";
  return frame.withColumn(pl.Series(mask, keep as boolean[], pl.Bool)).filter(pl.col(mask)).drop(mask);
}

function result(before: pl.DataFrame, frame: pl.DataFrame): StepResult {
  return { frame, count: frame.height, dropped: before.height - frame.height };
}

function requireColumns(frame: pl.DataFrame, columns: readonly string[], step: string): void {
  const missing = columns.filter((c) => !frame.columns.includes(c));
  if (missing.length > 0) throw new Error(`${step}: the frame lacks column(s) ${missing.join(", ")} (has ${frame.columns.join(", ")})`);
}

// ---------------------------------------------------------------------------------------------
// 1. RBP filter

/** Step 1: keeps the rows whose `RBP` column equals `rbp` exactly (default "AGO2"). */
export function filterByRbp(frame: pl.DataFrame, rbp = "AGO2"): StepResult {
  requireColumns(frame, ["RBP"], "filterByRbp");
  return result(frame, frame.filter(pl.col("RBP").eq(pl.lit(rbp))));
}

// ---------------------------------------------------------------------------------------------
// 2. UTR overlap

/** A site's 0-based half-open interval [from, to) under `mode` (see the module comment). */
export function siteInterval(narrowStart: number, narrowEnd: number, mode: CoordinateMode): [number, number] {
  return mode === "exact" ? [narrowStart - 1, narrowEnd] : [narrowStart, narrowEnd];
}

/** A GTF feature's 0-based half-open interval [from, to) under `mode`. */
export function gtfInterval(start: number, end: number, mode: CoordinateMode): [number, number] {
  return mode === "exact" ? [start - 1, end] : [start, end];
}

/**
 * Disjoint, sorted unions of intervals per chromosome: `from[i] < to[i] <= from[i + 1]`
 * (touching intervals merged), 0-based half-open.
 */
export interface IntervalIndex {
  from: Float64Array;
  to: Float64Array;
}

/** Builds per-chromosome merged interval unions (empty intervals are ignored). */
export function buildIntervalIndex(chromosomes: readonly string[], from: ArrayLike<number>, to: ArrayLike<number>): Map<string, IntervalIndex> {
  const byChrom = new Map<string, number[]>();
  for (let i = 0; i < chromosomes.length; i++) {
    if (to[i]! <= from[i]!) continue;
    let list = byChrom.get(chromosomes[i]!);
    if (list === undefined) byChrom.set(chromosomes[i]!, (list = []));
    list.push(i);
  }
  const index = new Map<string, IntervalIndex>();
  for (const [chrom, list] of byChrom) {
    list.sort((a, b) => from[a]! - from[b]!);
    const f: number[] = [];
    const t: number[] = [];
    for (const i of list) {
      const last = t.length - 1;
      if (last >= 0 && from[i]! <= t[last]!) t[last] = Math.max(t[last]!, to[i]!);
      else {
        f.push(from[i]!);
        t.push(to[i]!);
      }
    }
    index.set(chrom, { from: Float64Array.from(f), to: Float64Array.from(t) });
  }
  return index;
}

/** True when [from, to) shares ≥ 1 base with an interval of `index` (binary search on the ends). */
export function overlapsAny(index: IntervalIndex | undefined, from: number, to: number): boolean {
  if (index === undefined || to <= from) return false;
  // First merged interval whose end lies after `from`; ends are sorted because the union is disjoint.
  let low = 0;
  let high = index.to.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (index.to[mid]! > from) high = mid;
    else low = mid + 1;
  }
  return low < index.to.length && index.from[low]! < to;
}

/**
 * Step 2: keeps the sites sharing ≥ 1 base with any feature of `gtf` whose type is in `features`
 * (default ["UTR"], GENCODE's spelling for 5' and 3' UTRs) on the same chromosome.
 *
 * Strand-insensitive: the original called `bedtools intersect -wa -u` without `-s` on BED files
 * holding no strand column, so a + strand site inside a − strand gene's UTR counts; we do the
 * same. Coordinates per `mode` (module comment). `gtf` is a frame as {@link readGtfFeatures}
 * returns it (seqname, feature, start, end). Merged per-chromosome unions, then one binary
 * search per site: O((sites + features) · log features).
 */
export function filterUtrOverlap(frame: pl.DataFrame, gtf: pl.DataFrame, mode: CoordinateMode = "exact", features: readonly string[] = ["UTR"]): StepResult {
  requireColumns(frame, ["chromosome", "narrowStart", "narrowEnd"], "filterUtrOverlap");
  requireColumns(gtf, ["seqname", "feature", "start", "end"], "filterUtrOverlap (GTF)");
  const utrs = gtf.filter(pl.col("feature").isIn([...features]));
  const starts = utrs.getColumn("start").toArray() as number[];
  const ends = utrs.getColumn("end").toArray() as number[];
  const from = new Float64Array(starts.length);
  const to = new Float64Array(starts.length);
  for (let i = 0; i < starts.length; i++) [from[i], to[i]] = gtfInterval(Number(starts[i]), Number(ends[i]), mode);
  const index = buildIntervalIndex(utrs.getColumn("seqname").toArray() as string[], from, to);

  const chroms = frame.getColumn("chromosome").toArray() as string[];
  const narrowStart = frame.getColumn("narrowStart").toArray() as number[];
  const narrowEnd = frame.getColumn("narrowEnd").toArray() as number[];
  const keep = new Array<boolean>(frame.height);
  for (let i = 0; i < frame.height; i++) {
    const [f, t] = siteInterval(Number(narrowStart[i]), Number(narrowEnd[i]), mode);
    keep[i] = overlapsAny(index.get(chroms[i]!), f, t);
  }
  return result(frame, keepRows(frame, keep));
}

// ---------------------------------------------------------------------------------------------
// 3. Ambiguous sites

/**
 * Step 3: groups rows by (chromosome, narrowStart, narrowEnd) — the raw ENCORI numbers, strand
 * not part of the key, as the original — and drops every group of more than one row (a site
 * claimed by several miRNAs, or a duplicated row). Order kept.
 */
export function removeAmbiguousSites(frame: pl.DataFrame): StepResult {
  requireColumns(frame, ["chromosome", "narrowStart", "narrowEnd"], "removeAmbiguousSites");
  const chroms = frame.getColumn("chromosome").toArray() as string[];
  const starts = frame.getColumn("narrowStart").toArray() as number[];
  const ends = frame.getColumn("narrowEnd").toArray() as number[];
  const keys = chroms.map((c, i) => `${c}\t${starts[i]}\t${ends[i]}`);
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return result(frame, keepRows(frame, keys.map((k) => counts.get(k) === 1)));
}

// ---------------------------------------------------------------------------------------------
// 5. TargetScan families

/** A family's representative: the longest mature sequence among its members seen in the data. */
export interface FamilyRepresentative {
  family: string;
  /** MiRBase ID of the member chosen, e.g. "hsa-miR-9002-5p". */
  mirbaseId: string;
  /** Its mature sequence as TargetScan writes it (RNA alphabet). */
  matureSequence: string;
  /** U→T, right-padded with N / cut to `mirnaLength` (default 20): the miRNA the model sees. */
  sequence: string;
}

export interface FamilyJoinResult extends StepResult {
  /** Representatives by family name, in order of first appearance in the joined rows. */
  representatives: Map<string, FamilyRepresentative>;
  /** ENCORI rows (encoriRow) dropped because their miRNAid is not a human TargetScan accession. */
  droppedRows: number[];
}

/**
 * Step 5: joins TargetScan families on the MIMAT accession (ENCORI `miRNAid` = TargetScan
 * `MiRBase Accession`, rows of `speciesId`, default human 9606), drops rows whose miRNA is not
 * there, and replaces every miRNA by its family's representative: the longest mature sequence
 * among the family members seen in the joined rows (ties: the one seen first in row order;
 * members found only in TargetScan never count), U→T, N-padded / cut to `mirnaLength`.
 *
 * Adds columns `miRFamily`, `MiRBase ID`, `MatureSequence` (the row's own miRNA) and
 * `mirna_binding_sequence` (the representative). Row order as the original (pandas
 * `groupby('miRFamily')` then `concat`): grouped by family in code-point order of the family
 * name, input order within a family. An accession listed twice for the species uses its first row.
 */
export function joinTargetScanFamilies(
  frame: pl.DataFrame,
  families: readonly TargetScanFamily[],
  options: { speciesId?: number; mirnaLength?: number } = {},
): FamilyJoinResult {
  requireColumns(frame, ["miRNAid"], "joinTargetScanFamilies");
  const speciesId = options.speciesId ?? HUMAN_SPECIES_ID;
  const byAccession = new Map<string, TargetScanFamily>();
  for (const f of families) {
    if (f.speciesId === speciesId && f.mirbaseAccession !== "" && !byAccession.has(f.mirbaseAccession)) byAccession.set(f.mirbaseAccession, f);
  }
  const accessions = frame.getColumn("miRNAid").toArray() as string[];
  const rows = encoriRows(frame);
  const keep = accessions.map((a) => byAccession.has(a));
  const droppedRows = rows.filter((_, i) => !keep[i]);
  const matched = accessions.filter((_, i) => keep[i]).map((a) => byAccession.get(a)!);

  const representatives = new Map<string, FamilyRepresentative>();
  for (const m of matched) {
    const current = representatives.get(m.family);
    if (current === undefined || m.matureSequence.length > current.matureSequence.length) {
      representatives.set(m.family, {
        family: m.family,
        mirbaseId: m.mirbaseId,
        matureSequence: m.matureSequence,
        sequence: fitMirnaLength(normaliseSequence(m.matureSequence), options.mirnaLength),
      });
    }
  }
  // Order: family name (code points), then input order (the index breaks ties, so the sort is stable).
  const order = matched.map((_, i) => i);
  order.sort((a, b) => {
    const fa = matched[a]!.family;
    const fb = matched[b]!.family;
    return fa < fb ? -1 : fa > fb ? 1 : a - b;
  });
  const rank = new Int32Array(matched.length);
  order.forEach((i, position) => (rank[i] = position));

  const kept = keepRows(frame, keep);
  const joined = kept
    .withColumns(
      pl.Series("miRFamily", matched.map((m) => m.family), pl.Utf8),
      pl.Series("MiRBase ID", matched.map((m) => m.mirbaseId), pl.Utf8),
      pl.Series("MatureSequence", matched.map((m) => m.matureSequence), pl.Utf8),
      pl.Series("mirna_binding_sequence", matched.map((m) => representatives.get(m.family)!.sequence), pl.Utf8),
      pl.Series("__order", rank, pl.Int32),
    )
    .sort("__order")
    .drop("__order");
  return { frame: joined, count: joined.height, dropped: frame.height - joined.height, representatives, droppedRows };
}

// ---------------------------------------------------------------------------------------------
// 6. Chromosome split

/** Step 6: test = rows on `testChromosome` (default chr1), train = all others; order kept. */
export function splitByChromosome(frame: pl.DataFrame, testChromosome = "chr1"): { train: pl.DataFrame; test: pl.DataFrame } {
  requireColumns(frame, ["chromosome"], "splitByChromosome");
  return {
    test: frame.filter(pl.col("chromosome").eq(pl.lit(testChromosome))),
    train: frame.filter(pl.col("chromosome").neq(pl.lit(testChromosome))),
  };
}
