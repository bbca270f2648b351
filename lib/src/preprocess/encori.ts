/**
 * Reader for the ENCORI (starBase) miRNA–target table, as the API
 * `https://rnasysu.com/encori/api/miRNATarget/?assembly=hg19&geneType=mRNA&miRNA=all&...`
 * (formerly starbase.sysu.edu.cn) returns it: a few `#` comment lines, a header line, then one
 * tab-separated row per (miRNA, site) with the 22 columns in {@link ENCORI_COLUMNS}. Newer API
 * versions append more columns (e.g. TDMDScore, phyloP, cellline/tissue, regulation); they are
 * kept as strings.
 *
 * Coordinates (narrowStart, narrowEnd, broadStart, broadEnd) are returned exactly as ENCORI
 * writes them, never shifted. What they mean: **1-based, both ends inclusive** (like the
 * ENCORI web pages' `chr:start-end`), as far as we can tell. Evidence: the original CEITEC
 * notebook (github.com/ML-Bioinfo-CEITEC/mirna_binding,
 * notebook/generate_encori_train_test_datasets_lock.ipynb, output of
 * `encori_train_positive_samples.head(10)`) prints ENCORI rows next to the genome sequence it
 * cut with `bedtools getfasta -s`. Reading narrowStart..narrowEnd as 1-based inclusive gives,
 * in all nine readable let-7 rows, exactly a 6mer or 7mer seed match (TACCTC / CTACCTC =
 * reverse complement of let-7 nt 2–7 / 2–8) on both strands, e.g. chr13:49054893-49054898(+)
 * → TACCTC; reading them as BED (0-based start, end exclusive) gives 5-nt fragments (ACCTC)
 * instead. No ENCORI documentation stating the convention was found. The original notebook
 * itself passed narrowStart/narrowEnd to bedtools as BED intervals (and the GTF's 1-based
 * start as a BED start too); the pipeline steps decide which of the two conventions to follow.
 */
import pl from "nodejs-polars";
import { InputError, type InputLocation } from "../errors";
import { readMaybeGzip } from "../io/files";

/** Genomic coordinate columns: read as Int64, must be ≥ 0 (see the module comment for their meaning). */
export const ENCORI_COORDINATE_COLUMNS = ["narrowStart", "narrowEnd", "broadStart", "broadEnd"] as const;

/** The 0/1 flag columns of the seven target-prediction programs, in API order. */
const PROGRAM_COLUMNS = ["PITA", "RNA22", "miRmap", "microT", "miRanda", "PicTar", "TargetScan"] as const;

/** The 22 columns of the ENCORI `miRNATarget` table, in API order. */
export const ENCORI_COLUMNS = [
  "miRNAid",
  "miRNAname",
  "geneID",
  "geneName",
  "geneType",
  "chromosome",
  ...ENCORI_COORDINATE_COLUMNS,
  "strand",
  "clipExpNum",
  "degraExpNum",
  "RBP",
  ...PROGRAM_COLUMNS,
  "pancancerNum",
] as const;

/**
 * Count and 0/1 predictor-flag columns: read as Int32, must be ≥ 0. clipExpNum / degraExpNum:
 * supporting CLIP-seq / degradome-seq experiments; PITA … TargetScan: 1 when that program
 * predicts the site; pancancerNum: cancer types where the pair is anti-correlated.
 */
export const ENCORI_COUNT_COLUMNS = ["clipExpNum", "degraExpNum", ...PROGRAM_COLUMNS, "pancancerNum"] as const;

/**
 * Reads an ENCORI `miRNATarget` table (`.tsv`, `.txt` or gzip `.gz`).
 *
 * Returns one row per line after the header: string columns (miRNAid = MIMAT accession,
 * miRNAname, geneID, geneName, geneType, chromosome, strand '+'/'-', RBP, and any extra columns),
 * coordinates as Int64 and counts / flags as Int32, in file order.
 *
 * Throws {@link InputError} naming the file (and the 1-based data row with its line) for:
 * a missing / truncated file; an API error body (a single text line such as
 * `The miRNA name is not found` instead of a table — the message quotes it); no header or no
 * data rows; missing columns; empty, non-integer or negative coordinates and counts;
 * narrowStart > narrowEnd or broadStart > broadEnd; a strand other than '+' or '-'.
 */
export function readEncoriTargets(file: string): pl.DataFrame {
  const body = readMaybeGzip(file);
  const tableStart = skipLeadingComments(body);
  // Trailing blank lines would otherwise become rows of empty values.
  let tableEnd = body.length;
  while (tableEnd > tableStart && (body[tableEnd - 1] === 0x0a || body[tableEnd - 1] === 0x0d || body[tableEnd - 1] === 0x20)) tableEnd--;
  const table = body.subarray(tableStart, tableEnd);
  const firstLine = firstNonEmptyLine(table);
  if (firstLine === null) {
    throw new InputError("no table: the file holds only '#' comment lines or blank lines (expected an ENCORI miRNATarget table)", { file });
  }
  if (!firstLine.includes("\t")) {
    const restHasLines = table.toString("utf8", 0, Math.min(table.length, 1 << 16)).trim().split(/\r?\n/).length > 1;
    const what = restHasLines ? "is not tab-separated" : "is a one-line message, not a table (an ENCORI API error?)";
    throw new InputError(`the ENCORI response ${what}: "${truncate(firstLine, 200)}"`, { file });
  }

  let frame: pl.DataFrame;
  try {
    frame = pl.readCSV(table, { sep: "\t", hasHeader: true, inferSchemaLength: 0, quoteChar: undefined });
  } catch (e) {
    throw new InputError(`cannot parse as a tab-separated ENCORI table: ${(e as Error).message}`, { file });
  }
  const missing = ENCORI_COLUMNS.filter((c) => !frame.columns.includes(c));
  if (missing.length > 0) {
    throw new InputError(
      `missing column${missing.length > 1 ? "s" : ""} '${missing.join("', '")}' (an ENCORI miRNATarget table has ${ENCORI_COLUMNS.join(", ")}); found: ${frame.columns.join(", ")}`,
      { file },
    );
  }
  if (frame.height === 0) throw new InputError("the ENCORI table has a header but no data rows", { file });
  const src: Source = { file, headerLine: headerLineNumber(body, tableStart) };

  const casts: pl.Expr[] = [];
  for (const column of ENCORI_COORDINATE_COLUMNS) {
    checkNonNegativeIntegers(frame, column, pl.Int64, src);
    casts.push(pl.col(column).cast(pl.Int64, true));
  }
  for (const column of ENCORI_COUNT_COLUMNS) {
    checkNonNegativeIntegers(frame, column, pl.Int32, src);
    casts.push(pl.col(column).cast(pl.Int32, true));
  }
  const typed = frame.withColumns(...casts);
  checkOrdered(typed, "narrowStart", "narrowEnd", src);
  checkOrdered(typed, "broadStart", "broadEnd", src);
  checkStrand(typed, src);
  return typed;
}

/** The file, and the 1-based line of its header (after the '#' comment lines): data row r is line headerLine + r. */
interface Source {
  file: string;
  headerLine: number;
}

/** Where data row `r` (0-based) and `column` are, for messages: "row 3 (line 9)". */
function at(src: Source, r: number, column: string): InputLocation {
  return { file: src.file, row: r + 1, line: src.headerLine + r + 1, column };
}

/** 1-based line number of the header: the first non-blank line at or after byte `tableStart`. */
function headerLineNumber(body: Buffer, tableStart: number): number {
  let offset = tableStart;
  for (;;) {
    const newline = body.indexOf(0x0a, offset);
    if (newline < 0 || body.toString("utf8", offset, newline).trim() !== "") break;
    offset = newline + 1;
  }
  let lines = 1;
  for (let i = body.indexOf(0x0a); i >= 0 && i < offset; i = body.indexOf(0x0a, i + 1)) lines++;
  return lines;
}

/** Byte offset of the first line that does not start with '#'. */
function skipLeadingComments(body: Buffer): number {
  let offset = 0;
  while (offset < body.length && body[offset] === 0x23 /* # */) {
    const newline = body.indexOf(0x0a, offset);
    if (newline < 0) return body.length;
    offset = newline + 1;
  }
  return offset;
}

function firstNonEmptyLine(table: Buffer): string | null {
  const head = table.toString("utf8", 0, Math.min(table.length, 1 << 16));
  for (const line of head.split(/\r?\n/)) {
    if (line.trim() !== "") return line.replace(/\r$/, "");
  }
  return null;
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

const NON_NEGATIVE_INTEGER = /^\+?\d+$/;

/** Throws naming the first row whose value in `column` is empty or not a non-negative integer. */
function checkNonNegativeIntegers(frame: pl.DataFrame, column: string, dtype: typeof pl.Int64 | typeof pl.Int32, src: Source): void {
  // Fast path: a vectorised cast; only on failure walk the column to find the first bad row.
  const cast = frame.getColumn(column).cast(dtype, false);
  if (cast.nullCount() === 0 && (cast.len() === 0 || (cast.min() as number) >= 0)) return;
  const raw = frame.getColumn(column).toArray() as (string | null)[];
  for (let r = 0; r < raw.length; r++) {
    const value = raw[r];
    if (value === null || value === undefined || value === "") {
      throw new InputError("empty value (expected a non-negative integer)", at(src, r, column));
    }
    if (!NON_NEGATIVE_INTEGER.test(value)) {
      throw new InputError(`'${truncate(value, 40)}' is not a non-negative integer`, at(src, r, column));
    }
    if (cast.get(r) === null) throw new InputError(`${value} is too large`, at(src, r, column));
  }
}

/** Throws naming the first row where `startColumn` > `endColumn`. */
function checkOrdered(frame: pl.DataFrame, startColumn: string, endColumn: string, src: Source): void {
  const bad = frame.getColumn(startColumn).gt(frame.getColumn(endColumn)).argTrue();
  if (bad.len() === 0) return;
  const r = bad.get(0) as number;
  const start = frame.getColumn(startColumn).get(r) as number;
  const end = frame.getColumn(endColumn).get(r) as number;
  throw new InputError(`${startColumn} ${start} > ${endColumn} ${end}`, at(src, r, startColumn));
}

function checkStrand(frame: pl.DataFrame, src: Source): void {
  const bad = frame
    .select("strand")
    .withRowCount("row")
    .filter(pl.col("strand").isNull().or(pl.col("strand").isIn(["+", "-"]).not()))
    .head(1);
  if (bad.height === 0) return;
  const r = bad.getColumn("row").get(0) as number;
  const value = bad.getColumn("strand").get(0) as string | null;
  throw new InputError(`strand '${value ?? ""}' (expected '+' or '-')`, at(src, r, "strand"));
}
