/**
 * The ENCORI preprocessing pipeline (the eight steps of the original's preprocessing notebook):
 * ENCORI miRNA–target table + GTF + TargetScan families + genome → training positives, the scan
 * test set and the miRNA-negative test set, with the number of rows after every step. The steps
 * are in steps.ts, windows.ts and negatives.ts; writing is in outputs.ts.
 */
import pl from "nodejs-polars";
import { progressReporter } from "../progress";
import { DEFAULT_SEED } from "../random";
import { readEncoriTargets } from "./encori";
import { Genome, openGenome } from "./genome";
import { readGtfFeatures } from "./gtf";
import { mirnaNegatives } from "../binding/negatives";
import {
  CoordinateMode,
  FamilyRepresentative,
  filterByRbp,
  filterUtrOverlap,
  joinTargetScanFamilies,
  removeAmbiguousSites,
  splitByChromosome,
  withEncoriRows,
} from "./steps";
import { TargetScanFamily, readTargetScanFamilies } from "./targetscan";
import { OffChromosome, cutSiteWindows, scanNegatives } from "./windows";

/** Every parameter of the pipeline; {@link DEFAULT_PREPROCESS_CONFIG} holds the paper's values. */
export interface PreprocessConfig {
  /** Seed of every random choice (window offsets, miRNA negatives). Paper: 1789. */
  seed: number;
  /** Site window length (nt). Paper: 50. */
  windowLength: number;
  /** The window starts r nt before the site, r uniform integer in [min, max]. Paper: [15, 29] (numpy randint(15, 30)). */
  windowOffsetMin: number;
  windowOffsetMax: number;
  /** nt scanned on each side of a test positive's window for scan negatives (a multiple of windowLength). Paper: 500 (20 flanking windows). */
  scanFlank: number;
  /** miRNA negatives per positive. Paper: 20. */
  mirnaNegativeRatio: number;
  /** Chromosome held out as the test set. Paper: chr1. */
  testChromosome: string;
  /** ENCORI `RBP` value kept. Paper: AGO2. */
  rbp: string;
  /** GTF feature types counted as UTRs. Paper (GENCODE): ["UTR"]. */
  utrFeatures: string[];
  /**
   * How ENCORI and GTF coordinates are read (steps.ts). Default "exact": ENCORI narrowStart..narrowEnd
   * are 1-based inclusive — the original notebook's own printed rows hold exact let-7 seed matches
   * only when read so (lib/src/preprocess/encori.ts) — and GTF is 1-based inclusive by definition.
   * "faithful" reproduces the original's bedtools reading (both as BED: first base of every site
   * and UTR lost).
   */
  coordinates: CoordinateMode;
  /** A window or scan region running off a chromosome end: drop the row (reported) or stop with an error. Default drop (windows.ts). */
  offChromosome: OffChromosome;
  /**
   * The miRNAs the miRNA negatives are drawn from. "test" (paper): the unique family
   * representatives of the test positives (the original's `df.mirna_binding_sequence.unique()`
   * on the chr1 positives, 402 sequences). "all": the representatives of every positive, train
   * and test (needed when the test chromosome holds fewer than ratio + 1 families, as on the
   * fixtures: 15 families on chr1, 29 in all).
   */
  mirnaNegativePool: "test" | "all";
  /** miRNA length of the family representatives (N-padded / cut). Paper: 20. */
  mirnaLength: number;
}

export const DEFAULT_PREPROCESS_CONFIG: Readonly<PreprocessConfig> = Object.freeze({
  seed: DEFAULT_SEED,
  windowLength: 50,
  windowOffsetMin: 15,
  windowOffsetMax: 29,
  scanFlank: 500,
  mirnaNegativeRatio: 20,
  testChromosome: "chr1",
  rbp: "AGO2",
  utrFeatures: ["UTR"],
  coordinates: "exact",
  offChromosome: "drop",
  mirnaNegativePool: "test",
  mirnaLength: 20,
});

/** The inputs: file paths, or what was already read from them. */
export interface PreprocessInputs {
  /** ENCORI miRNATarget table (path, or a frame as readEncoriTargets returns it). */
  encori: string | pl.DataFrame;
  /** GTF annotation (path, or a frame as readGtfFeatures returns it). */
  gtf: string | pl.DataFrame;
  /** TargetScan miR_Family_Info.txt (path, or its rows). */
  targetscan: string | readonly TargetScanFamily[];
  /** Indexed FASTA (path; opened and closed here) or an opened genome (left open). */
  genome: string | Genome;
}

/** Rows left after one step. */
export interface StepCount {
  step: string;
  rows: number;
  /** Rows removed by this step (0 for the first line). */
  dropped: number;
}

export interface PreprocessResult {
  config: PreprocessConfig;
  /** Rows after every step, in order (the funnel). */
  counts: StepCount[];
  /** Every positive (train and test; order of step 5) with its ENCORI columns, encoriRow, window (windowOffset, windowStart, windowEnd: 0-based end-exclusive + strand), family and lock columns; column `set` is "train" / "test". */
  positives: pl.DataFrame;
  /** Lock tables (mirna_binding_sequence, binding_sequence, label). */
  trainPositives: pl.DataFrame;
  /** Test positives with scan regions inside the chromosome, then 20 negatives per positive in positive order. */
  scanTestSet: pl.DataFrame;
  /** All test positives, then `mirnaNegativeRatio` negatives per positive in positive order. */
  mirnaNegTestSet: pl.DataFrame;
  /** Family representatives by family name. */
  representatives: Map<string, FamilyRepresentative>;
  /** ENCORI rows (1-based) dropped because their window / scan region ran off a chromosome, or their miRNA is not in TargetScan. */
  droppedRows: { windowOffChromosome: number[]; scanOffChromosome: number[]; notInTargetScan: number[] };
}

export interface RunOptions {
  /** Progress lines on stderr for the genome steps; default false. */
  progress?: boolean;
}

/** A lock-format table from parallel arrays. */
export function lockTable(mirnas: readonly string[], sites: readonly string[], labels: readonly ("positive" | "negative")[]): pl.DataFrame {
  return pl.DataFrame([
    pl.Series("mirna_binding_sequence", mirnas as string[], pl.Utf8),
    pl.Series("binding_sequence", sites as string[], pl.Utf8),
    pl.Series("label", labels as string[], pl.Utf8),
  ]);
}

function labels(positives: number, negatives: number): ("positive" | "negative")[] {
  return [...new Array<"positive">(positives).fill("positive"), ...new Array<"negative">(negatives).fill("negative")];
}

/**
 * Runs steps 1–8 (steps.ts, windows.ts, negatives.ts) with `config` (missing fields from
 * {@link DEFAULT_PREPROCESS_CONFIG}).
 * Errors in the inputs are {@link InputError}s naming the file and row.
 */
export async function runPreprocessing(inputs: PreprocessInputs, config: Partial<PreprocessConfig> = {}, options: RunOptions = {}): Promise<PreprocessResult> {
  const c: PreprocessConfig = { ...DEFAULT_PREPROCESS_CONFIG, utrFeatures: [...DEFAULT_PREPROCESS_CONFIG.utrFeatures], ...config };
  const encoriFile = typeof inputs.encori === "string" ? inputs.encori : undefined;
  const encori = withEncoriRows(typeof inputs.encori === "string" ? readEncoriTargets(inputs.encori) : inputs.encori);
  const gtf = typeof inputs.gtf === "string" ? await readGtfFeatures(inputs.gtf, { features: c.utrFeatures }) : inputs.gtf;
  const families = typeof inputs.targetscan === "string" ? readTargetScanFamilies(inputs.targetscan) : inputs.targetscan;
  const genome = typeof inputs.genome === "string" ? await openGenome(inputs.genome) : inputs.genome;
  const progress = (label: string) => (options.progress ? progressReporter(label) : undefined);

  try {
    const counts: StepCount[] = [{ step: "ENCORI rows", rows: encori.height, dropped: 0 }];
    const count = (step: string, r: { count: number; dropped: number }) => counts.push({ step, rows: r.count, dropped: r.dropped });

    const rbp = filterByRbp(encori, c.rbp);
    count(c.rbp, rbp);
    const utr = filterUtrOverlap(rbp.frame, gtf, c.coordinates, c.utrFeatures);
    count("overlapping a UTR", utr);
    const unique = removeAmbiguousSites(utr.frame);
    count("unique site", unique);
    const windows = await cutSiteWindows(unique.frame, genome, {
      seed: c.seed,
      windowLength: c.windowLength,
      offsetMin: c.windowOffsetMin,
      offsetMax: c.windowOffsetMax,
      mode: c.coordinates,
      offChromosome: c.offChromosome,
      file: encoriFile,
      onProgress: progress("site windows"),
    });
    count("window inside the chromosome", windows);
    const joined = joinTargetScanFamilies(windows.frame, families, { mirnaLength: c.mirnaLength });
    count("in TargetScan", joined);
    const { train, test } = splitByChromosome(joined.frame, c.testChromosome);
    counts.push({ step: `test (${c.testChromosome})`, rows: test.height, dropped: 0 });
    counts.push({ step: "train (other chromosomes)", rows: train.height, dropped: 0 });

    const scan = await scanNegatives(test, genome, {
      windowLength: c.windowLength,
      flank: c.scanFlank,
      offChromosome: c.offChromosome,
      file: encoriFile,
      onProgress: progress("scan regions"),
    });
    counts.push({ step: "test positives with a scan region inside the chromosome", rows: scan.positives.height, dropped: test.height - scan.positives.height });
    counts.push({ step: "scan negatives", rows: scan.sites.length, dropped: 0 });

    const testMirnas = test.getColumn("mirna_binding_sequence").toArray() as string[];
    const testSites = test.getColumn("binding_sequence").toArray() as string[];
    const pool = c.mirnaNegativePool === "all" ? (joined.frame.getColumn("mirna_binding_sequence").toArray() as string[]) : testMirnas;
    const negatives = mirnaNegatives(testMirnas, testSites, { ratio: c.mirnaNegativeRatio, seed: c.seed, pool });
    counts.push({ step: "miRNA negatives", rows: negatives.mirnas.length, dropped: 0 });

    const scanPosMirnas = scan.positives.getColumn("mirna_binding_sequence").toArray() as string[];
    const scanPosSites = scan.positives.getColumn("binding_sequence").toArray() as string[];
    const trainPositives = lockTable(
      train.getColumn("mirna_binding_sequence").toArray() as string[],
      train.getColumn("binding_sequence").toArray() as string[],
      labels(train.height, 0),
    );
    const scanTestSet = lockTable([...scanPosMirnas, ...scan.mirnas], [...scanPosSites, ...scan.sites], labels(scanPosMirnas.length, scan.sites.length));
    const mirnaNegTestSet = lockTable([...testMirnas, ...negatives.mirnas], [...testSites, ...negatives.sites], labels(testMirnas.length, negatives.mirnas.length));
    const chromosomes = joined.frame.getColumn("chromosome").toArray() as string[];
    const positives = joined.frame.withColumn(pl.Series("set", chromosomes.map((chrom) => (chrom === c.testChromosome ? "test" : "train")), pl.Utf8));

    return {
      config: c,
      counts,
      positives,
      trainPositives,
      scanTestSet,
      mirnaNegTestSet,
      representatives: joined.representatives,
      droppedRows: { windowOffChromosome: windows.droppedRows, scanOffChromosome: scan.droppedRows, notInTargetScan: joined.droppedRows },
    };
  } finally {
    if (typeof inputs.genome === "string") genome.close();
  }
}
