import * as fs from "node:fs";
import { isUtf8 } from "node:buffer";
import * as zlib from "node:zlib";
import pl from "nodejs-polars";
import { InputError, shorten } from "../errors";
import { binaryFileKind, gzipError, isGzip, readError, readFileHead, readMaybeGzip, writeFileAtomic } from "./files";

/**
 * Tab-separated tables with a header line, every cell a string, read and written the same way:
 * no quoting at all. A cell is the text between two tabs, quotes included, so reading a table
 * and writing it back gives the same bytes (lines end in `\n`; a `\r` before it and a UTF-8 byte
 * order mark are dropped on reading). A row must have as many fields as the header; a cell
 * cannot hold a tab or a line break (writing one is an error, never a silent quote).
 *
 * Whole files: {@link readTsv} / {@link parseTsv} (a polars frame of string columns) or
 * {@link readTsvTable} (plain arrays and the raw lines); streamed: {@link readTsvChunks}
 * (memory independent of the table's size). Errors are {@link InputError}s naming the file and
 * the row (1-based data row; the header is row 0): a ragged row, a NUL byte, text that is not
 * UTF-8, an empty line between rows, a duplicate or empty column name, a binary file.
 */

/** A parsed table: header, columns of strings (parallel to the header) and the raw data lines. */
export interface TsvTable {
  header: string[];
  /** columns[c][r] = cell of column c in data row r. */
  columns: string[][];
  /** The data lines as read (without the line end), for writing them back unchanged. */
  lines: string[];
  /** 1-based data row of lines[0]. */
  firstRow: number;
}

const EMPTY_FILE = "empty file (expected a tab-separated table with a header line)";
const BLANK_HEADER = "the first line is empty: it must name the columns (a tab-separated header line)";
const NO_ROWS = "the table has a header but no data rows";

/** Checks the first bytes for a binary format this table reader should never see. */
function refuseBinary(head: Uint8Array, file: string): void {
  const kind = binaryFileKind(head);
  if (kind) throw new InputError(`is ${kind}, expected a tab-separated table`, { file });
}

/** The 1-based line (header = 1) holding byte `offset`. */
function lineOfOffset(body: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (body[i] === 10) line++;
  return line;
}

/**
 * The error for the first NUL byte or invalid UTF-8 sequence of `body` (whose first line is row
 * `firstRow`), or null when it is clean text. Returned, not thrown, so that a malformed row before
 * it is reported first (problems are reported in file order).
 */
function textProblem(body: Buffer, file: string, firstRow: number): InputError | null {
  const nul = body.indexOf(0);
  let nulRow = nul >= 0 ? firstRow + lineOfOffset(body, nul) - 1 : Infinity;
  let utf8Row = Infinity;
  if (!isUtf8(body)) {
    let start = 0;
    for (let line = 0; start <= body.length && firstRow + line < nulRow; line++) {
      const end = body.indexOf(10, start);
      if (!isUtf8(body.subarray(start, end < 0 ? body.length : end))) {
        utf8Row = firstRow + line;
        break;
      }
      if (end < 0) break;
      start = end + 1;
    }
  }
  if (nulRow === Infinity && utf8Row === Infinity) return null;
  if (nulRow <= utf8Row) return new InputError("contains a NUL byte: binary data, not a tab-separated table", { file, row: nulRow });
  nulRow = utf8Row;
  return new InputError("is not UTF-8 text", { file, row: utf8Row });
}

/** Splits the header line into column names; errors for empty and duplicate names. */
function parseHeader(line: string, file: string): string[] {
  if (line.includes("\r")) throw new InputError("a carriage return (\\r) inside the header line (old Mac line ends?)", { file, row: 0 });
  const header = line.split("\t");
  const seen = new Map<string, number>();
  header.forEach((name, k) => {
    if (name.length === 0 && header.length > 1) throw new InputError(`column ${k + 1} has an empty name`, { file, row: 0 });
    const before = seen.get(name);
    if (before !== undefined) throw new InputError(`duplicate column name '${shorten(name)}' (columns ${before + 1} and ${k + 1})`, { file, row: 0 });
    seen.set(name, k);
  });
  return header;
}

/**
 * Splits data lines (text after the header; `firstRow` = the row of its first line) into
 * columns. Every row must have `header.length` fields; empty lines at the very end are ignored,
 * elsewhere they are errors.
 */
function parseRows(
  text: string,
  header: readonly string[],
  file: string,
  firstRow: number,
  blankBefore = -1,
  problem: InputError | null = null,
): TsvTable & { blank: number; lineCount: number } {
  const stopRow = problem?.where.row ?? Infinity;
  const width = header.length;
  const columns: string[][] = header.map(() => []);
  const lines: string[] = [];
  let start = 0;
  let row = firstRow;
  let blank = blankBefore; // row of the first empty line seen, pending: an error unless only empty lines follow
  while (start < text.length) {
    if (row >= stopRow) throw problem!;
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    start = end + 1;
    if (line.includes("\r")) {
      throw new InputError("a carriage return (\\r) inside a line (old Mac line ends, or a cell holding a line break?)", { file, row });
    }
    if (line.length === 0 && width > 1) {
      if (blank < 0) blank = row;
      row++;
      continue;
    }
    if (blank >= 0) throw new InputError(`empty line (expected ${width} tab-separated fields)`, { file, row: blank });
    let fields = 1;
    for (let at = line.indexOf("\t"); at >= 0; at = line.indexOf("\t", at + 1)) fields++;
    if (fields !== width) {
      throw new InputError(`${fields} tab-separated field${fields === 1 ? "" : "s"}, the header has ${width} (a cell holding a tab, or a missing one?)`, { file, row });
    }
    if (width === 1) columns[0]!.push(line);
    else {
      const cells = line.split("\t");
      for (let c = 0; c < width; c++) columns[c]!.push(cells[c]!);
    }
    lines.push(line);
    row++;
  }
  if (problem) throw problem;
  return { header: [...header], columns, lines, firstRow, blank, lineCount: row - firstRow };
}

/** Splits off the header line of `text` (a BOM dropped); null when there is no line end yet. */
function splitHeader(text: string): { header: string; rest: string } | null {
  const end = text.indexOf("\n");
  if (end < 0) return null;
  let header = text.slice(0, end);
  if (header.endsWith("\r")) header = header.slice(0, -1);
  if (header.startsWith("\ufeff")) header = header.slice(1);
  return { header, rest: text.slice(end + 1) };
}

/**
 * Parses TSV bytes (header line first) into header, columns and lines. `file` names the source
 * in errors. An empty body, a header without rows and every malformed row are InputErrors.
 */
export function parseTsvTable(body: Buffer, file: string): TsvTable {
  refuseBinary(body.subarray(0, 16), file);
  const problem = textProblem(body, file, 0);
  if (problem?.where.row === 0) throw problem;
  const text = body.toString("utf8");
  if (text.trim().length === 0) throw new InputError(EMPTY_FILE, { file });
  const split = splitHeader(text) ?? { header: text.replace(/\r$/, "").replace(/^\ufeff/, ""), rest: "" };
  if (split.header.trim().length === 0) throw new InputError(BLANK_HEADER, { file, row: 0 });
  const header = parseHeader(split.header, file);
  const { blank: _blank, lineCount: _lines, ...table } = parseRows(split.rest, header, file, 1, -1, problem);
  if (table.lines.length === 0) throw new InputError(NO_ROWS, { file });
  return table;
}

/** Reads a tab-separated table (`.tsv`, or gzip) into header, columns and raw lines; see {@link parseTsvTable}. */
export function readTsvTable(file: string): TsvTable {
  return parseTsvTable(readMaybeGzip(file), file);
}

/** A frame of string columns from a parsed table. */
export function tableToFrame(table: Pick<TsvTable, "header" | "columns">): pl.DataFrame {
  return pl.DataFrame(table.header.map((name, c) => pl.Series(name, table.columns[c]!, pl.Utf8)));
}

/**
 * Parses TSV bytes (header line first) into a frame of string columns. `file` names the source
 * in errors. An empty body or a header without rows is an InputError; so is a ragged row.
 */
export function parseTsv(body: Buffer, file: string): pl.DataFrame {
  return tableToFrame(parseTsvTable(body, file));
}

/**
 * Reads a tab-separated table (`.tsv`, or gzip `.tsv.gz`) with a header line, every column as a
 * string. Errors name the file: missing, empty, no data rows, ragged rows, truncated gzip.
 */
export function readTsv(file: string): pl.DataFrame {
  return parseTsv(readMaybeGzip(file), file);
}

/** One chunk of {@link readTsvChunks}. */
export interface TsvChunk {
  frame: pl.DataFrame;
  /** 1-based data row of the chunk's first row (the header is row 0), for error messages. */
  firstRow: number;
  /** The chunk as plain arrays and raw lines. */
  table: TsvTable;
}

/** A chunk whose polars frame is built only when asked for. */
function lazyChunk(table: TsvTable): TsvChunk {
  let frame: pl.DataFrame | undefined;
  return {
    get frame() {
      return (frame ??= tableToFrame(table));
    },
    firstRow: table.firstRow,
    table,
  };
}

/** The bytes of `file`, gunzipped when named `.gz` or starting like gzip, as a stream. */
function openBytes(file: string): AsyncIterable<Buffer> {
  const head = readFileHead(file);
  if (!isGzip(head)) {
    if (file.endsWith(".gz") && head.length > 0) throw new InputError("named .gz but not a gzip file", { file });
    refuseBinary(head, file);
  }
  const source = fs.createReadStream(file);
  if (!isGzip(head)) return source;
  const gunzip = zlib.createGunzip();
  source.on("error", (e) => gunzip.destroy(e));
  return source.pipe(gunzip);
}

/**
 * Streams a tab-separated table (gzip when named `.gz` or starting like gzip) in chunks of
 * `rows` data rows (the last one smaller), each checked as {@link parseTsvTable} checks a whole
 * file, rows numbered across chunks. Memory holds one chunk, whatever the table's size. Errors
 * name the file and the row.
 */
export async function* readTsvChunks(file: string, opts: { rows?: number } = {}): AsyncGenerator<TsvChunk> {
  const rows = opts.rows ?? 65_536;
  if (!Number.isInteger(rows) || rows < 1) throw new InputError(`chunk rows must be a positive integer, got ${rows}`);
  const stream = openBytes(file);
  let header: string[] | null = null;
  let blankHeader = false;
  let headerBytes: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingLines = 0;
  let firstRow = 1;
  let emitted = 0;
  let blank = -1; // an empty line at the end of the previous chunk: an error if rows follow
  const parse = (parts: Buffer[]): TsvChunk | null => {
    const body = Buffer.concat(parts);
    const problem = textProblem(body, file, firstRow);
    const { blank: trailing, lineCount, ...table } = parseRows(body.toString("utf8"), header!, file, firstRow, blank, problem);
    // Rows of the next chunk follow every line of this one, empty ones included.
    firstRow += lineCount;
    blank = trailing;
    if (table.lines.length === 0) return null;
    emitted++;
    return lazyChunk(table);
  };
  try {
    for await (const data of stream) {
      let start = 0;
      for (let at = data.indexOf(10); at >= 0; at = data.indexOf(10, at + 1)) {
        if (header === null) {
          const line = Buffer.concat([...headerBytes, data.subarray(start, at + 1)]);
          headerBytes = [];
          start = at + 1;
          const text = splitHeader(line.toString("utf8"))!;
          if (blankHeader && text.header.trim().length > 0) throw new InputError(BLANK_HEADER, { file, row: 0 });
          refuseBinary(line.subarray(0, 16), file);
          const problem = textProblem(line, file, 0);
          if (problem) throw problem;
          if (text.header.trim().length === 0) {
            blankHeader = true; // an error once anything but blank lines follows; an empty file otherwise
            continue;
          }
          header = parseHeader(text.header, file);
          continue;
        }
        pendingLines++;
        if (pendingLines === rows) {
          const parts = [...pending, data.subarray(start, at + 1)];
          pending = [];
          pendingLines = 0;
          start = at + 1;
          const chunk = parse(parts);
          if (chunk) yield chunk;
        }
      }
      if (start < data.length) (header === null ? headerBytes : pending).push(data.subarray(start));
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    if ((e as NodeJS.ErrnoException).code?.startsWith("Z_") || /unexpected end|incorrect header|invalid/i.test((e as Error).message)) throw gzipError(e, file);
    throw readError(e, file);
  }
  if (header === null) {
    const text = Buffer.concat(headerBytes);
    if (blankHeader && text.toString("utf8").trim().length > 0) throw new InputError(BLANK_HEADER, { file, row: 0 });
    refuseBinary(text.subarray(0, 16), file);
    const problem = textProblem(text, file, 0);
    if (problem) throw problem;
    if (text.toString("utf8").trim().length === 0) throw new InputError(EMPTY_FILE, { file });
    parseHeader(splitHeader(text.toString("utf8") + "\n")!.header, file);
    throw new InputError(NO_ROWS, { file });
  }
  const chunk = parse(pending);
  if (chunk) yield chunk;
  else if (emitted === 0) throw new InputError(NO_ROWS, { file });
}

// ---------------------------------------------------------------------------------------------
// writing

/** Throws when a cell cannot be written without quoting (a tab or a line break in it). */
function checkCell(value: string, file: string | undefined, row: number, column: string): void {
  if (/[\t\n\r]/.test(value)) {
    const what = value.includes("\t") ? "a tab" : "a line break";
    throw new InputError(`cell '${shorten(value)}' holds ${what}, which a tab-separated table without quoting cannot hold`, { file, row, column });
  }
}

/**
 * TSV text of a header and columns of strings (null or undefined written as empty): lines
 * joined by tabs, each ending in `\n`, nothing quoted. A cell or name holding a tab or a line
 * break is an InputError naming the row and column.
 */
export function formatTsv(header: readonly string[], columns: readonly (readonly (string | null | undefined)[])[], file?: string): string {
  header.forEach((name) => checkCell(name, file, 0, name));
  const height = columns[0]?.length ?? 0;
  const out: string[] = [header.join("\t")];
  for (let r = 0; r < height; r++) {
    const cells = new Array<string>(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const value = columns[c]![r] ?? "";
      checkCell(value, file, r + 1, header[c]!);
      cells[c] = value;
    }
    out.push(cells.join("\t"));
  }
  return out.join("\n") + "\n";
}

/** A column's cells as text: strings as they are, numbers and others as polars writes them, null as empty. */
function columnText(frame: pl.DataFrame, name: string): (string | null)[] {
  const series = frame.getColumn(name);
  if (series.dtype.equals(pl.String) || series.dtype.equals(pl.Utf8)) return series.toArray() as (string | null)[];
  // One column of numbers / booleans / dates needs no quoting: polars' text, split into lines.
  const text = (pl.DataFrame([series]).writeCSV({ includeHeader: false, separator: "\t" }) as Buffer).toString("utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * The TSV text {@link writeTsv} writes for a frame: the header, then one line per row, cells as
 * they are (no quoting: what {@link readTsv} reads back unchanged).
 */
export function frameToTsv(frame: pl.DataFrame, file?: string): string {
  return formatTsv(frame.columns, frame.columns.map((name) => columnText(frame, name)), file);
}

/**
 * Writes a data frame as a tab-separated table, atomically (gzip when the name ends in `.gz`),
 * without quoting: reading it back with {@link readTsv} gives the same cells. A cell holding a
 * tab or a line break is an InputError (it could not be read back).
 */
export function writeTsv(frame: pl.DataFrame, file: string): void {
  writeFileAtomic(file, frameToTsv(frame, file));
}

/**
 * The shortest decimal text that reads back as the same float32 (`0.82329154`, `4`, `1e-7`),
 * as polars writes Float32 columns; NaN and ±Infinity as `NaN`, `inf`, `-inf`.
 */
export function formatFloat32(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return String(x);
  // More digits never hurt a round trip: binary-search the fewest that do.
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Math.fround(Number(x.toPrecision(mid))) === x) hi = mid;
    else lo = mid + 1;
  }
  return String(Number(x.toPrecision(lo)));
}
