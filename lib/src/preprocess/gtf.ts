/**
 * Streaming reader for GTF (GENCODE / Ensembl gene annotation, `.gtf` or gzip `.gtf.gz`).
 *
 * GTF lines have nine tab-separated fields: seqname, source, feature, start, end, score,
 * strand, frame, attributes. Coordinates are **1-based, both ends inclusive** (GTF/GFF
 * definition), returned unchanged. Lines starting with '#' are comments.
 *
 * Built for the ~1.5 GB GENCODE v34lift37 basic annotation: the file is read in chunks from a
 * (gunzip) stream, a line is split fully only when its feature type is wanted, and only those
 * rows are kept. GENCODE v34lift37 writes UTRs as feature `UTR`; Ensembl writes
 * `five_prime_utr` / `three_prime_utr`, GFF3 `five_prime_UTR` / `three_prime_UTR`.
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import pl from "nodejs-polars";
import { InputError } from "../errors";

/** Feature types of UTRs in GENCODE GTF (`UTR`), Ensembl GTF and GFF3 spellings. */
export const UTR_FEATURES = ["UTR", "five_prime_UTR", "three_prime_UTR", "five_prime_utr", "three_prime_utr"] as const;

export interface ReadGtfOptions {
  /** Keep only these feature types (column 3, exact match). Default: every feature. */
  features?: readonly string[];
}

/**
 * Reads the features of a GTF file into a data frame with columns
 * seqname, source, feature (strings), start, end (Int64, 1-based inclusive), score, strand
 * ('+', '-' or '.'), frame (strings as written, '.' when absent), and gene_id, transcript_id,
 * gene_type parsed from the attributes (null where the line has none; gene lines have no
 * transcript_id). Rows in file order.
 *
 * Throws {@link InputError} naming the file and the line number (1-based,
 * comment lines counted) for: a missing file, a truncated / corrupt gzip stream, a data line
 * with fewer than 9 tab-separated fields, a start or end that is not a positive integer,
 * start > end, or a strand other than '+', '-', '.'. Lines of unwanted features are only
 * checked for having a feature column.
 */
export async function readGtfFeatures(file: string, options: ReadGtfOptions = {}): Promise<pl.DataFrame> {
  const wanted = options.features ? new Set(options.features) : null;
  const columns = {
    seqname: [] as string[],
    source: [] as string[],
    feature: [] as string[],
    start: [] as number[],
    end: [] as number[],
    score: [] as string[],
    strand: [] as string[],
    frame: [] as string[],
    gene_id: [] as (string | null)[],
    transcript_id: [] as (string | null)[],
    gene_type: [] as (string | null)[],
  };

  let lineNumber = 0;
  const onLine = (line: string): void => {
    lineNumber++;
    if (line.length === 0 || line.charCodeAt(0) === 0x23 /* # */) return;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const tab1 = line.indexOf("\t");
    const tab2 = tab1 < 0 ? -1 : line.indexOf("\t", tab1 + 1);
    const tab3 = tab2 < 0 ? -1 : line.indexOf("\t", tab2 + 1);
    if (tab3 < 0) {
      if (line.trim() === "") return;
      throw new InputError(`expected 9 tab-separated GTF fields, found ${line.split("\t").length}`, { file, line: lineNumber });
    }
    const feature = line.slice(tab2 + 1, tab3);
    if (wanted !== null && !wanted.has(feature)) return;
    const fields = line.split("\t");
    if (fields.length < 9) {
      throw new InputError(`expected 9 tab-separated GTF fields, found ${fields.length}`, { file, line: lineNumber });
    }
    const start = parsePosition(fields[3]!, "start", file, lineNumber);
    const end = parsePosition(fields[4]!, "end", file, lineNumber);
    if (start > end) throw new InputError(`start ${start} > end ${end}`, { file, line: lineNumber, column: "start" });
    const strand = fields[6]!;
    if (strand !== "+" && strand !== "-" && strand !== ".") {
      throw new InputError(`strand '${strand}' (expected '+', '-' or '.')`, { file, line: lineNumber, column: "strand" });
    }
    const attributes = fields.slice(8).join("\t");
    columns.seqname.push(fields[0]!);
    columns.source.push(fields[1]!);
    columns.feature.push(feature);
    columns.start.push(start);
    columns.end.push(end);
    columns.score.push(fields[5]!);
    columns.strand.push(strand);
    columns.frame.push(fields[7]!);
    columns.gene_id.push(attribute(attributes, "gene_id"));
    columns.transcript_id.push(attribute(attributes, "transcript_id"));
    columns.gene_type.push(attribute(attributes, "gene_type"));
  };

  await forEachLine(file, onLine);

  return pl.DataFrame([
    pl.Series("seqname", columns.seqname, pl.Utf8),
    pl.Series("source", columns.source, pl.Utf8),
    pl.Series("feature", columns.feature, pl.Utf8),
    pl.Series("start", columns.start, pl.Int64),
    pl.Series("end", columns.end, pl.Int64),
    pl.Series("score", columns.score, pl.Utf8),
    pl.Series("strand", columns.strand, pl.Utf8),
    pl.Series("frame", columns.frame, pl.Utf8),
    pl.Series("gene_id", columns.gene_id, pl.Utf8),
    pl.Series("transcript_id", columns.transcript_id, pl.Utf8),
    pl.Series("gene_type", columns.gene_type, pl.Utf8),
  ]);
}

const POSITIVE_INTEGER = /^[1-9]\d*$/;

function parsePosition(text: string, column: "start" | "end", file: string, line: number): number {
  if (!POSITIVE_INTEGER.test(text)) {
    throw new InputError(`${column} '${text}' is not a positive integer (GTF coordinates are 1-based)`, { file, line, column });
  }
  return Number(text);
}

/** Value of `key "value";` in a GTF attribute string (the first occurrence), or null. */
function attribute(attributes: string, key: string): string | null {
  let from = 0;
  for (;;) {
    const at = attributes.indexOf(key, from);
    if (at < 0) return null;
    // The key must start the string or follow "; " and be followed by a space.
    const before = at === 0 ? ";" : attributes[at - 1]!;
    const after = attributes[at + key.length];
    if ((before === ";" || before === " " || before === "\t") && after === " ") {
      let valueStart = at + key.length + 1;
      while (attributes[valueStart] === " ") valueStart++;
      if (attributes[valueStart] === '"') {
        const close = attributes.indexOf('"', valueStart + 1);
        return close < 0 ? attributes.slice(valueStart + 1) : attributes.slice(valueStart + 1, close);
      }
      const semicolon = attributes.indexOf(";", valueStart);
      return (semicolon < 0 ? attributes.slice(valueStart) : attributes.slice(valueStart, semicolon)).trim();
    }
    from = at + key.length;
  }
}

/**
 * Calls `onLine` for every line of `file` (without the newline), gunzipping `.gz` on the fly,
 * holding at most one chunk plus one partial line in memory.
 */
async function forEachLine(file: string, onLine: (line: string) => void): Promise<void> {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new InputError("is a folder, expected a file", { file });
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === "ENOENT" ? "file not found" : `cannot read: ${(e as Error).message}`, { file });
  }
  const raw = fs.createReadStream(file);
  const stream: NodeJS.ReadableStream = file.endsWith(".gz") ? raw.pipe(zlib.createGunzip()) : raw;
  if (file.endsWith(".gz")) raw.on("error", (e) => (stream as zlib.Gunzip).destroy(e));
  const decoder = new TextDecoder("utf8");
  let pending = "";
  try {
    for await (const chunk of stream) {
      const text = pending + decoder.decode(chunk as Buffer, { stream: true });
      let lineStart = 0;
      for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", lineStart)) {
        onLine(text.slice(lineStart, newline));
        lineStart = newline + 1;
      }
      pending = text.slice(lineStart);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const message = (e as Error).message;
    const why = /unexpected end/i.test(message)
      ? "truncated gzip file (unexpected end of data)"
      : /incorrect header|invalid|unknown compression/i.test(message)
        ? `corrupt gzip file (${message})`
        : `cannot read: ${message}`;
    throw new InputError(why, { file });
  } finally {
    raw.destroy();
  }
  pending += decoder.decode();
  if (pending.length > 0) onLine(pending);
}
