import * as fs from "node:fs";
import * as zlib from "node:zlib";
import pl from "nodejs-polars";
import { InputError } from "../errors";
import { readMaybeGzip, writeFileAtomic } from "./files";

/**
 * Tab-separated tables with a header line, every column read as a string: whole files
 * ({@link readTsv}) or streamed in chunks of rows ({@link readTsvChunks}, memory independent of
 * the table's size). Both parse with nodejs-polars through {@link parseTsv}.
 */

/**
 * Parses TSV bytes (header line first) into a frame of string columns. `file` names the source
 * in errors. An empty body or a header without rows is an InputError.
 */
export function parseTsv(body: Buffer, file: string): pl.DataFrame {
  if (body.toString("utf8", 0, Math.min(body.length, 4096)).trim().length === 0) {
    throw new InputError("empty file (expected a tab-separated table with a header line)", { file });
  }
  let frame: pl.DataFrame;
  try {
    frame = pl.readCSV(body, { sep: "\t", hasHeader: true, inferSchemaLength: 0, quoteChar: undefined });
  } catch (e) {
    throw new InputError(`cannot parse as a tab-separated table: ${(e as Error).message}`, { file });
  }
  if (frame.height === 0) throw new InputError("the table has a header but no data rows", { file });
  return frame;
}

/**
 * Reads a tab-separated table (`.tsv`, or gzip `.tsv.gz`) with a header line, every column as a
 * string. Errors name the file: missing, empty, no data rows, unparsable, truncated gzip.
 */
export function readTsv(file: string): pl.DataFrame {
  return parseTsv(readMaybeGzip(file), file);
}

/** One chunk of {@link readTsvChunks}. */
export interface TsvChunk {
  frame: pl.DataFrame;
  /** 1-based data row of the chunk's first row (the header is row 0), for error messages. */
  firstRow: number;
}

/**
 * Streams a tab-separated table (gzip when named `.gz`) in chunks of `rows` data rows (the last
 * one smaller), each parsed as {@link parseTsv} parses a whole file, with the header. Memory
 * holds one chunk, whatever the table's size. Errors name the file.
 */
export async function* readTsvChunks(file: string, opts: { rows?: number } = {}): AsyncGenerator<TsvChunk> {
  const rows = opts.rows ?? 65_536;
  if (!Number.isInteger(rows) || rows < 1) throw new InputError(`chunk rows must be a positive integer, got ${rows}`);
  if (!fs.existsSync(file)) throw new InputError("file not found", { file });
  if (fs.statSync(file).isDirectory()) throw new InputError("is a folder, expected a file", { file });
  const source = fs.createReadStream(file);
  const stream = file.endsWith(".gz") ? source.pipe(zlib.createGunzip()) : source;
  source.on("error", (e) => stream.destroy(e));
  let header: Buffer | null = null;
  let pending: Buffer[] = [];
  let pendingLines = 0;
  let firstRow = 1;
  let emitted = 0;
  const flush = (parts: Buffer[]): TsvChunk => {
    const chunk = { frame: parseTsv(Buffer.concat([header!, ...parts]), file), firstRow };
    firstRow += chunk.frame.height;
    emitted++;
    return chunk;
  };
  try {
    for await (const data of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let at = data.indexOf(10); at >= 0; at = data.indexOf(10, at + 1)) {
        if (header === null) {
          header = Buffer.concat([...pending, data.subarray(start, at + 1)]);
          pending = [];
          start = at + 1;
          continue;
        }
        pendingLines++;
        if (pendingLines === rows) {
          const parts = [...pending, data.subarray(start, at + 1)];
          pending = [];
          pendingLines = 0;
          start = at + 1;
          yield flush(parts);
        }
      }
      if (start < data.length) pending.push(data.subarray(start));
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const message = (e as Error).message;
    throw new InputError(/unexpected end/i.test(message) ? "truncated gzip file (unexpected end of data)" : `cannot read: ${message}`, { file });
  }
  if (header === null) {
    if (pending.length === 0 || Buffer.concat(pending).toString("utf8").trim().length === 0) {
      throw new InputError("empty file (expected a tab-separated table with a header line)", { file });
    }
    throw new InputError("the table has a header but no data rows", { file });
  }
  const rest = Buffer.concat(pending);
  if (rest.toString("utf8").trim().length > 0) yield flush([rest]);
  else if (emitted === 0) throw new InputError("the table has a header but no data rows", { file });
}

/**
 * Writes a data frame as a tab-separated table, atomically (gzip when the name ends in `.gz`).
 */
export function writeTsv(frame: pl.DataFrame, file: string): void {
  const body = frame.writeCSV({ separator: "\t", includeHeader: true }) as Buffer;
  writeFileAtomic(file, body);
}
