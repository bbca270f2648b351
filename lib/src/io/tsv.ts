import pl from "nodejs-polars";
import { InputError } from "../errors";
import { readMaybeGzip, writeFileAtomic } from "./files";

/**
 * Reads a tab-separated table (`.tsv`, or gzip `.tsv.gz`) with a header line, every column as a
 * string. Errors name the file: missing, empty, no data rows, unparsable, truncated gzip.
 */
export function readTsv(file: string): pl.DataFrame {
  const body = readMaybeGzip(file);
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
 * Writes a data frame as a tab-separated table, atomically (gzip when the name ends in `.gz`).
 */
export function writeTsv(frame: pl.DataFrame, file: string): void {
  const body = frame.writeCSV({ separator: "\t", includeHeader: true }) as Buffer;
  writeFileAtomic(file, body);
}
