/**
 * The genome steps of the ENCORI preprocessing (steps 4 and 7): the seeded
 * 50-nt window around every site, and the scan negatives (the 20 flanking windows) of the test
 * positives. Windows are read strand-aware from an opened genome ({@link openGenome}): on the
 * '-' strand the reverse complement, so every sequence reads 5'→3' on the site's transcript.
 *
 * Windows off a chromosome end: the original cut windows with `bedtools getfasta -s`, which
 * (bedtools 2.26) skips an interval running past the chromosome end with a warning ("beyond the
 * length of chrN size. Skipping.") and stops with an error on a negative start; the notebook
 * then glued the sequences back by position (`pd.concat(axis=1)`), which would shift every later
 * sequence by one row. We neither skip silently nor misalign: with `offChromosome: "drop"`
 * (default) such a row is removed and its ENCORI row number reported; with `"error"` the step
 * throws an {@link InputError} naming the ENCORI file and row. A chromosome missing from the
 * FASTA is always an error.
 */
import pl from "nodejs-polars";
import { InputError } from "../errors";
import { DEFAULT_SEED, mulberry32, randomInteger } from "../random";
import type { Genome } from "./genome";
import { CoordinateMode, encoriRows, keepRows, siteInterval } from "./steps";

/** What to do with a window (or scan region) running off a chromosome end. */
export type OffChromosome = "drop" | "error";

export interface SiteWindowOptions {
  /** PRNG seed (mulberry32); default 1789. */
  seed?: number;
  /** Window length (nt); default 50. */
  windowLength?: number;
  /** The window starts r nt before the site, r uniform integer in [offsetMin, offsetMax]; default 15, 29. */
  offsetMin?: number;
  offsetMax?: number;
  /** Coordinate reading (steps.ts); default "exact". */
  mode?: CoordinateMode;
  offChromosome?: OffChromosome;
  /** The ENCORI file, for error messages. */
  file?: string;
  /** Called as windows are read (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface SiteWindowResult {
  /** Input rows with windows, plus columns windowOffset (r), windowStart, windowEnd (0-based, end exclusive, + strand coordinates) and binding_sequence (5'→3' on the site's strand). */
  frame: pl.DataFrame;
  count: number;
  dropped: number;
  /** encoriRow of every row whose window ran off its chromosome (dropped). */
  droppedRows: number[];
}

/** Lengths of the genome's chromosomes by name. */
function chromosomeLengths(genome: Genome): Map<string, number> {
  return new Map(genome.chromosomes().map((c) => [c.name, c.length]));
}

function unknownChromosome(genome: Genome, chrom: string, file: string | undefined, row: number): InputError {
  const names = genome.chromosomes().map((c) => c.name);
  const shown = names.length > 12 ? names.slice(0, 12).join(", ") + `, … (${names.length} in all)` : names.join(", ");
  return new InputError(`chromosome '${chrom}' is not in the genome ${genome.file} (it has ${shown})`, { file, row, line: null, column: "chromosome" });
}

/**
 * Step 4: one 50-nt window per site. For row i (in input order) r_i is drawn from
 * mulberry32(seed) — one `randomInteger(random, offsetMin, offsetMax)` per row, drawn for every
 * row before any is dropped, so a row's window does not depend on which other rows run off a
 * chromosome. The window starts r_i nt before the site's first base, in + strand coordinates
 * whatever the strand (as the original: `random_start = narrowStart − r`):
 * - exact: windowStart = (narrowStart − 1) − r (0-based), so exactly r bases precede the site;
 * - faithful: windowStart = narrowStart − r (narrowStart taken as a BED start).
 * windowEnd = windowStart + windowLength. The sequence is read strand-aware ('-' → reverse
 * complement), so on a '-' strand site the r bases lie on the transcript's 3' side: the site
 * ends r nt before the window's 3' end (in the 5'→3' sequence, the site's first genomic base is
 * at index windowLength − 1 − r). Off-chromosome windows: see the module comment.
 */
export async function cutSiteWindows(frame: pl.DataFrame, genome: Genome, options: SiteWindowOptions = {}): Promise<SiteWindowResult> {
  const seed = options.seed ?? DEFAULT_SEED;
  const length = options.windowLength ?? 50;
  const offsetMin = options.offsetMin ?? 15;
  const offsetMax = options.offsetMax ?? 29;
  const mode = options.mode ?? "exact";
  const offChromosome = options.offChromosome ?? "drop";
  const random = mulberry32(seed);
  const chroms = frame.getColumn("chromosome").toArray() as string[];
  const narrowStart = frame.getColumn("narrowStart").toArray() as number[];
  const narrowEnd = frame.getColumn("narrowEnd").toArray() as number[];
  const strands = frame.getColumn("strand").toArray() as ("+" | "-")[];
  const rows = encoriRows(frame);
  const lengths = chromosomeLengths(genome);

  const n = frame.height;
  const offsets = new Int32Array(n);
  for (let i = 0; i < n; i++) offsets[i] = randomInteger(random, offsetMin, offsetMax);

  const keep = new Array<boolean>(n).fill(true);
  const starts: number[] = [];
  const sequences: string[] = [];
  const keptOffsets: number[] = [];
  const droppedRows: number[] = [];
  for (let i = 0; i < n; i++) {
    const chrom = chroms[i]!;
    const chromLength = lengths.get(chrom);
    if (chromLength === undefined) throw unknownChromosome(genome, chrom, options.file, rows[i]!);
    const start = siteInterval(Number(narrowStart[i]), Number(narrowEnd[i]), mode)[0] - offsets[i]!;
    const where = { file: options.file, row: rows[i]!, line: null }; // ENCORI row; its line (after the comment lines) is not known here
    if (start < 0 || start + length > chromLength) {
      if (offChromosome === "error") {
        throw new InputError(
          `the ${length}-nt window ${chrom}:${start}-${start + length} (0-based, end exclusive; ${offsets[i]} nt before the site) runs off ${chrom} (length ${chromLength}) in genome ${genome.file}`,
          where,
        );
      }
      keep[i] = false;
      droppedRows.push(rows[i]!);
      continue;
    }
    sequences.push(await genome.window(chrom, start, length, strands[i]!, where));
    starts.push(start);
    keptOffsets.push(offsets[i]!);
    if (options.onProgress && (i % 10000 === 9999 || i === n - 1)) options.onProgress(i + 1, n);
  }
  const kept = keepRows(frame, keep).withColumns(
    pl.Series("windowOffset", keptOffsets, pl.Int32),
    pl.Series("windowStart", starts, pl.Int64),
    pl.Series("windowEnd", starts.map((s) => s + length), pl.Int64),
    pl.Series("binding_sequence", sequences, pl.Utf8),
  );
  return { frame: kept, count: kept.height, dropped: n - kept.height, droppedRows };
}

export interface ScanOptions {
  /** Window length (nt); default 50. */
  windowLength?: number;
  /** nt scanned on each side of the positive window; a multiple of windowLength; default 500 (10 windows a side). */
  flank?: number;
  offChromosome?: OffChromosome;
  /** The ENCORI file, for error messages. */
  file?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ScanResult {
  /** The positives whose scan region fits on the chromosome (input order). */
  positives: pl.DataFrame;
  /** Negatives in the published order: negatives k·m … k·m + m − 1 belong to positive k (m = 2·flank / windowLength = 20). */
  mirnas: string[];
  sites: string[];
  /** For each negative: its positive's row in `positives`, and its window's index in the scan region (0 … perPositive; the positive is the middle one, perPositive / 2, left out). */
  positiveIndex: Int32Array;
  windowIndex: Int32Array;
  /** Negatives per positive (20 by default). */
  perPositive: number;
  /** encoriRow of positives dropped because their scan region runs off the chromosome. */
  droppedRows: number[];
}

/**
 * Step 7: scan negatives for (test) positives holding windowStart, windowEnd, strand,
 * binding_sequence, mirna_binding_sequence (after steps 4–5). For each positive the region
 * [windowStart − flank, windowEnd + flank) (1,050 nt by default) is read strand-aware, so on the
 * '-' strand it is reverse-complemented and its windows run 5'→3' along the transcript, as
 * `bedtools getfasta -s` gave the original; the region is cut into 2·flank/windowLength + 1
 * windows of windowLength (21); the middle one is the positive (checked to equal its
 * binding_sequence), the other 20 in region order are negatives paired with the positive's miRNA.
 * A region running off the chromosome: the positive gets no scan negatives and is left out of
 * `positives` (drop, reported) or an InputError (error); see the module comment.
 */
export async function scanNegatives(positives: pl.DataFrame, genome: Genome, options: ScanOptions = {}): Promise<ScanResult> {
  const length = options.windowLength ?? 50;
  const flank = options.flank ?? 500;
  if (flank % length !== 0 || flank < 0) throw new Error(`scan flank ${flank} is not a non-negative multiple of the window length ${length}`);
  const offChromosome = options.offChromosome ?? "drop";
  const side = flank / length;
  const perPositive = 2 * side;
  const chroms = positives.getColumn("chromosome").toArray() as string[];
  const starts = positives.getColumn("windowStart").toArray() as number[];
  const strands = positives.getColumn("strand").toArray() as ("+" | "-")[];
  const windows = positives.getColumn("binding_sequence").toArray() as string[];
  const mirnaColumn = positives.getColumn("mirna_binding_sequence").toArray() as string[];
  const rows = encoriRows(positives);
  const lengths = chromosomeLengths(genome);

  const n = positives.height;
  const keep = new Array<boolean>(n).fill(true);
  const mirnas: string[] = [];
  const sites: string[] = [];
  const positiveIndex: number[] = [];
  const windowIndex: number[] = [];
  const droppedRows: number[] = [];
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const chrom = chroms[i]!;
    const chromLength = lengths.get(chrom);
    if (chromLength === undefined) throw unknownChromosome(genome, chrom, options.file, rows[i]!);
    const regionStart = Number(starts[i]) - flank;
    const regionLength = length + 2 * flank;
    const where = { file: options.file, row: rows[i]!, line: null }; // ENCORI row; its line (after the comment lines) is not known here
    if (regionStart < 0 || regionStart + regionLength > chromLength) {
      if (offChromosome === "error") {
        throw new InputError(
          `the scan region ${chrom}:${regionStart}-${regionStart + regionLength} (0-based, end exclusive; ±${flank} nt around the window) runs off ${chrom} (length ${chromLength}) in genome ${genome.file}`,
          where,
        );
      }
      keep[i] = false;
      droppedRows.push(rows[i]!);
      continue;
    }
    const region = await genome.window(chrom, regionStart, regionLength, strands[i]!, where);
    const middle = region.slice(side * length, side * length + length);
    if (middle !== windows[i]) throw new Error(`scan region of ENCORI row ${rows[i]}: middle window ${middle} differs from the positive window ${windows[i]}`);
    for (let w = 0; w <= perPositive; w++) {
      if (w === side) continue;
      mirnas.push(mirnaColumn[i]!);
      sites.push(region.slice(w * length, w * length + length));
      positiveIndex.push(kept);
      windowIndex.push(w);
    }
    kept++;
    if (options.onProgress && (i % 5000 === 4999 || i === n - 1)) options.onProgress(i + 1, n);
  }
  return {
    positives: keepRows(positives, keep),
    mirnas,
    sites,
    positiveIndex: Int32Array.from(positiveIndex),
    windowIndex: Int32Array.from(windowIndex),
    perPositive,
    droppedRows,
  };
}
