import pl from "nodejs-polars";
import { InputError, shorten } from "../errors";
import { readTsvChunks, readTsvTable, tableToFrame, TsvTable } from "../io/tsv";
import { checkPaperChromosomes, checkPaperHeader, looksLikePaperTable, PAPER_CHROMOSOME_COLUMN, PAPER_LAYOUT_TITLE, PAPER_MIRNA_COLUMN, PAPER_SITE_COLUMN } from "./paperLayout";
import { MIRNA_LENGTH, SITE_LENGTH, fitMirnaLength, normaliseSequence, validateSequence } from "./sequences";

/**
 * Column names of the pair-table formats this project reads (any other columns may be there too:
 * `predict` writes them back unchanged).
 */
export const PAIR_FORMATS = {
  /** CEITEC "lock" tables: label is `positive` / `negative`; miRNAs 20 nt (others refused unless fitted). */
  lock: { mirna: "mirna_binding_sequence", site: "binding_sequence", label: "label" },
  /** miRBind tables: label is `1` / `0`; miRNAs (17–20 nt in its CLASH sets) always padded with N / cut to 20 nt. */
  mirbind: { mirna: "miRNA", site: "gene", label: "label" },
  /**
   * miRBench tables (Sammut et al. 2025; columns noncodingRNA, gene, label plus noncodingRNA_name,
   * noncodingRNA_fam, feature, chr, start, end, strand, …): label is `1` / `0`; noncodingRNA is
   * a mature miRNA of any length, always padded with N / cut to 20 nt as for miRBind.
   */
  mirbench: { mirna: "noncodingRNA", site: "gene", label: "label" },
  /**
   * The original work's training table (paperLayout.ts): exactly its 35 columns, every row a
   * positive (it has no label column), miRNAs already 20 nt, no chr1 row. Errors name the row
   * and its line.
   */
  paper: { mirna: PAPER_MIRNA_COLUMN, site: PAPER_SITE_COLUMN, label: "label" },
} as const;
export type PairFormat = keyof typeof PAIR_FORMATS;

/** How each format is named in messages. */
const FORMAT_TITLE: Record<PairFormat, string> = { lock: "lock", mirbind: "miRBind", mirbench: "miRBench", paper: "paper" };

/** True when the format's miRNAs are always padded with N / cut to 20 nt (miRBind, miRBench). */
export function fitsMirnaLength(format: PairFormat): boolean {
  return format === "mirbind" || format === "mirbench";
}

/**
 * miRNA–site pairs, the one shape every binding function takes: parallel arrays, miRNAs 20 nt,
 * sites 50 nt, alphabet ACGTN (U read as T).
 */
export interface Pairs {
  mirnas: string[];
  sites: string[];
  /** 1 = binds (positive), 0 = does not; null when not known. */
  labels: Uint8Array | null;
}

/** Pairs with labels and a name (a test set, a training set). */
export interface LabelledPairs extends Pairs {
  name: string;
  labels: Uint8Array;
}

/** A table of pairs as read from a file, validated. */
export interface PairTable extends Pairs {
  file: string;
  format: PairFormat;
  /** The table as read (all columns as strings), for writing predictions next to the input columns. Built on first use. */
  frame: pl.DataFrame;
  /** The column names of the header, in file order. */
  header: string[];
  /** The data lines exactly as read (without line ends): predictions are written after them, the user's cells untouched. */
  lines: string[];
}

export interface ReadPairTableOptions {
  /** Demand a label column (evaluation). Default false. */
  requireLabels?: boolean;
  /**
   * Pad lock-format miRNAs with N / cut them to 20 nt instead of rejecting other lengths. Default
   * false. miRBind- and miRBench-format miRNAs are always fitted, whatever this says (miRBind's
   * CLASH tables hold 17–20 nt miRNAs, which miRBind itself pads with N; miRBench's are mature
   * miRNAs of any length).
   */
  fitMirna?: boolean;
}

/** The formats and their columns, for messages. */
const FORMATS_EXPECTED = `the lock format (mirna_binding_sequence, binding_sequence, label), the miRBind format (miRNA, gene, label), the miRBench format (noncodingRNA, gene, label) or the original's training table train_set_positives.tsv (35 columns: ${PAPER_MIRNA_COLUMN}, ${PAPER_SITE_COLUMN}, …)`;

/**
 * Which pair format a set of column names is: the format whose miRNA and site columns are both
 * there. No format, or more than one (a table with the miRNA columns of two formats), is an
 * InputError listing what was expected and what was found.
 */
export function detectPairFormat(columns: readonly string[], file?: string): PairFormat {
  const formats = Object.keys(PAIR_FORMATS) as PairFormat[];
  const complete = formats.filter((f) => columns.includes(PAIR_FORMATS[f].mirna) && columns.includes(PAIR_FORMATS[f].site));
  const found = foundColumns(columns);
  if (complete.length === 1) {
    if (complete[0] === "paper") checkPaperHeader(columns, file ?? "table");
    return complete[0]!;
  }
  if (complete.length > 1) {
    const which = complete.map((f) => `${FORMAT_TITLE[f]} (${PAIR_FORMATS[f].mirna}, ${PAIR_FORMATS[f].site})`).join(" and ");
    throw new InputError(`has the columns of two formats, ${which}: which miRNA and site columns to read is ambiguous (rename the columns of the format not meant); found: ${found}`, { file });
  }
  // The original's training table names what is missing of its 35 columns.
  if (looksLikePaperTable(columns)) checkPaperHeader(columns, file ?? "table");
  // A format whose miRNA column is there names the missing site column, and vice versa (the
  // miRNA column first: 'gene' alone is both miRBind's and miRBench's).
  const partial = formats.find((f) => columns.includes(PAIR_FORMATS[f].mirna)) ?? formats.find((f) => columns.includes(PAIR_FORMATS[f].site));
  if (partial) {
    const names = PAIR_FORMATS[partial];
    const missing = [names.mirna, names.site].filter((c) => !columns.includes(c));
    const others = partial === "lock" ? "" : ` (or ${formats.filter((f) => fitsMirnaLength(f) && f !== partial).map((f) => `the ${FORMAT_TITLE[f]} format, ${PAIR_FORMATS[f].mirna}`).join(", ")})`;
    throw new InputError(`missing column '${missing.join("', '")}' (${FORMAT_TITLE[partial]} format needs ${names.mirna}, ${names.site}, ${names.label})${missing.includes(names.mirna) ? others : ""}; found: ${found}`, { file });
  }
  throw new InputError(`missing columns: expected ${FORMATS_EXPECTED}; found: ${found}`, { file });
}

/** Column names for an error message: each shortened, at most 12 of them. */
function foundColumns(columns: readonly string[]): string {
  const shown = columns.slice(0, 12).map((c) => shorten(c, 40));
  return columns.length > 12 ? `${shown.join(", ")}, … (${columns.length} columns)` : shown.join(", ");
}

/**
 * Reads and validates a miRNA–site pair table in the lock, miRBind or miRBench format (detected
 * from the header). Rows are numbered from 1 = first line after the header. Ragged rows (more or fewer
 * fields than the header) are errors naming the row.
 */
export async function readPairTable(file: string, opts: ReadPairTableOptions = {}): Promise<PairTable> {
  const table = readTsvTable(file);
  const format = detectPairFormat(table.header, file);
  const pairs = pairsOf(tableColumns(table), table.header, format, file, opts, 1);
  if (format === "paper" && pairs.mirnas.length === 0) throw new InputError(`no rows: ${PAPER_LAYOUT_TITLE} holds one positive per row, this one only a header`, { file });
  let frame: pl.DataFrame | undefined;
  return {
    file,
    format,
    ...pairs,
    header: table.header,
    lines: table.lines,
    get frame() {
      return (frame ??= tableToFrame(table));
    },
  };
}

/** Column accessor of a parsed table. */
function tableColumns(table: Pick<TsvTable, "header" | "columns">): (name: string) => readonly (string | null)[] {
  return (name) => table.columns[table.header.indexOf(name)]!;
}

/**
 * Streams a pair table in chunks of `rows` pairs (see readTsvChunks), each validated as
 * {@link readPairTable} validates a whole table; memory holds one chunk. Every chunk's format
 * is the header's.
 */
export async function* readPairChunks(file: string, opts: ReadPairTableOptions & { rows?: number } = {}): AsyncGenerator<Pairs & { firstRow: number }> {
  let format: PairFormat | null = null;
  for await (const chunk of readTsvChunks(file, { rows: opts.rows })) {
    format ??= detectPairFormat(chunk.table.header, file);
    yield { ...pairsOf(tableColumns(chunk.table), chunk.table.header, format, file, opts, chunk.firstRow), firstRow: chunk.firstRow };
  }
}

/** The validated pairs of a frame in `format`; `firstRow` = the 1-based row of its first line. */
function pairsOfFrame(frame: pl.DataFrame, format: PairFormat, file: string, opts: ReadPairTableOptions, firstRow: number): Pairs {
  return pairsOf((name) => frame.getColumn(name).toArray() as (string | null)[], frame.columns, format, file, opts, firstRow);
}

/** The validated pairs of columns in `format`; `firstRow` = the 1-based row of the first value. */
function pairsOf(
  column: (name: string) => readonly (string | null)[],
  columns: readonly string[],
  format: PairFormat,
  file: string,
  opts: ReadPairTableOptions,
  firstRow: number,
): Pairs {
  const names = PAIR_FORMATS[format];
  const paper = format === "paper";
  // The original's training table has no label column: every row is a positive.
  const hasLabels = !paper && columns.includes(names.label);
  if (opts.requireLabels && paper) {
    throw new InputError(`${PAPER_LAYOUT_TITLE} holds positives only (no label column): it is a training table, not a labelled test set`, { file });
  }
  if (opts.requireLabels && !hasLabels) {
    throw new InputError(`missing column '${names.label}' (needed to evaluate; ${format} format)`, { file });
  }
  if (paper) checkPaperChromosomes(column(PAPER_CHROMOSOME_COLUMN), file, firstRow);
  const mirnas = sequenceColumn(column(names.mirna), names.mirna, "miRNA", MIRNA_LENGTH, file, opts.fitMirna === true || fitsMirnaLength(format), firstRow, paper);
  const sites = sequenceColumn(column(names.site), names.site, "site", SITE_LENGTH, file, false, firstRow, paper);
  const labels = hasLabels ? labelColumn(column(names.label), names.label, format, file, firstRow) : null;
  return { mirnas, sites, labels };
}

/**
 * Pairs of a lock-format frame (as the preprocessing writes them), labelled from its `label`
 * column, validated; `name` names them (and the source in errors).
 */
export function pairsFromLockFrame(frame: pl.DataFrame, name: string): LabelledPairs {
  const pairs = pairsOfFrame(frame, "lock", name, { requireLabels: true }, 1);
  return { name, mirnas: pairs.mirnas, sites: pairs.sites, labels: pairs.labels! };
}

const CLEAN = /^[ACGTN]+$/;

function sequenceColumn(
  values: readonly (string | null)[],
  column: string,
  kind: "miRNA" | "site",
  length: number,
  file: string,
  fit: boolean,
  firstRow: number,
  /** Name each row's line too (header = line 1), as "row N (line M)". */
  lines = false,
): string[] {
  const out = new Array<string>(values.length);
  // Tables repeat the same miRNA many times: check each distinct string once.
  const checked = new Map<string, string>();
  for (let r = 0; r < values.length; r++) {
    const raw = values[r];
    const where = { file, row: firstRow + r, column, ...(lines ? { line: firstRow + r + 1 } : {}) };
    if (raw === null || raw === undefined || raw.trim() === "") {
      throw new InputError(`empty ${kind} sequence`, where);
    }
    const known = checked.get(raw);
    if (known !== undefined) {
      out[r] = known;
      continue;
    }
    let value = CLEAN.test(raw) ? raw : normaliseSequence(raw);
    if (fit) {
      // The whole cell is checked before it is cut: 'TGAGG…GGXXXX-?' is refused, not cut to 20 valid nt.
      validateSequence(value, kind, value.length, where);
      value = fitMirnaLength(value, length);
    }
    validateSequence(value, kind, length, where);
    if (kind === "miRNA") checked.set(raw, value);
    out[r] = value;
  }
  return out;
}

function labelColumn(values: readonly (string | null)[], column: string, format: PairFormat, file: string, firstRow: number): Uint8Array {
  const labels = new Uint8Array(values.length);
  const [positive, negative] = format === "lock" ? ["positive", "negative"] : ["1", "0"]; // miRBind and miRBench
  for (let r = 0; r < values.length; r++) {
    const value = values[r]?.trim();
    if (value === positive) labels[r] = 1;
    else if (value === negative) labels[r] = 0;
    else {
      const raw = values[r] ?? "";
      const what = raw.trim() === "" ? "empty label" : `bad label '${shorten(raw)}'`;
      throw new InputError(`${what} (expected '${positive}' or '${negative}')`, { file, row: firstRow + r, column });
    }
  }
  return labels;
}
