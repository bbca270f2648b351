/**
 * Writes the preprocessing outputs ({@link runPreprocessing}) into a folder, every file atomically
 * (temporary file + rename, via writeFileAtomic / writeTsv):
 *
 * | name | rows | columns |
 * |---|---|---|
 * | train_positives | training positives (all chromosomes but the test one) | lock format: mirna_binding_sequence, binding_sequence, label |
 * | scan_test_set | test positives, then 20 scan negatives per positive (k·20 … k·20 + 19 ↔ positive k) | lock format |
 * | mirna_neg_test_set | test positives, then `ratio` miRNA negatives per positive, same layout | lock format |
 * | positives | every positive (train and test) with ENCORI columns, encoriRow, window coordinates (windowStart/windowEnd 0-based end-exclusive, + strand), family, set | full |
 *
 * each as TSV (`.tsv`, `.tsv.gz`) and/or Parquet (`.parquet`, zstd), plus `counts.tsv` (rows after every step).
 */
import * as path from "node:path";
import pl from "nodejs-polars";
import { writeFileAtomic } from "../io/files";
import { writeTsv } from "../io/tsv";
import type { PreprocessResult } from "./pipeline";

/** Output file formats. */
export type OutputFormat = "tsv" | "tsv.gz" | "parquet";

export const OUTPUT_TABLES = ["train_positives", "scan_test_set", "mirna_neg_test_set", "positives"] as const;
export type OutputTable = (typeof OUTPUT_TABLES)[number];

/** Writes one frame as Parquet (zstd), atomically. */
export function writeParquetAtomic(frame: pl.DataFrame, file: string): void {
  writeFileAtomic(file, frame.writeParquet({ compression: "zstd" }));
}

/** Writes `frame` to `file` in the format its name ends with (.tsv, .tsv.gz, .parquet). */
export function writeTable(frame: pl.DataFrame, file: string): void {
  if (file.endsWith(".parquet")) writeParquetAtomic(frame, file);
  else if (file.endsWith(".tsv") || file.endsWith(".tsv.gz")) writeTsv(frame, file);
  else throw new Error(`writeTable: unknown format of ${file} (expected .tsv, .tsv.gz or .parquet)`);
}

/**
 * Writes the four tables in every format of `formats` (default .tsv.gz and .parquet) and
 * counts.tsv into `outDir` (created if missing). Returns the paths written, in order.
 */
export function writePreprocessOutputs(result: PreprocessResult, outDir: string, formats: readonly OutputFormat[] = ["tsv.gz", "parquet"]): string[] {
  const tables: Record<OutputTable, pl.DataFrame> = {
    train_positives: result.trainPositives,
    scan_test_set: result.scanTestSet,
    mirna_neg_test_set: result.mirnaNegTestSet,
    positives: result.positives,
  };
  const written: string[] = [];
  for (const name of OUTPUT_TABLES) {
    for (const format of formats) {
      const file = path.join(outDir, `${name}.${format}`);
      writeTable(tables[name], file);
      written.push(file);
    }
  }
  const counts = pl.DataFrame([
    pl.Series("step", result.counts.map((c) => c.step), pl.Utf8),
    pl.Series("rows", result.counts.map((c) => c.rows), pl.Int64),
    pl.Series("dropped", result.counts.map((c) => c.dropped), pl.Int64),
  ]);
  const countsFile = path.join(outDir, "counts.tsv");
  writeTsv(counts, countsFile);
  written.push(countsFile);
  return written;
}
