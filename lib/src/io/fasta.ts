import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { InputError, InputLocation, shorten } from "../errors";
import { binaryFileKind, gzipError, invalidUtf8Offset, isGzip, readError, readMaybeGzip } from "./files";

/**
 * FASTA reading, the one reader of the library: whole files of records of a name, a sequence
 * that may span lines and, optionally, a dot-bracket structure on the lines after it (as RNAfold
 * prints it) — {@link readFasta}; and nucleotide records of any size as a stream —
 * {@link streamFasta}.
 */

/** One FASTA record. */
export interface FastaRecord {
  /** Header text after '>' up to the first whitespace. */
  name: string;
  /** The sequence, as the `normalise` option made it (default: upper case). */
  sequence: string;
  /** Dot-bracket structure given in the record, or null. */
  structure: string | null;
  /** 1-based line number of the header. */
  line: number;
}

/** Options of {@link parseFasta} / {@link readFasta}. */
export interface FastaOptions {
  /**
   * Turns a record's raw sequence (lines joined) into the stored one, or throws an InputError
   * naming `where` and `label`. Default: trim and upper-case, letters only.
   */
  normalise?: (raw: string, where: InputLocation, label: string) => string;
}

/** A structure line as RNAfold prints it: dots and brackets, optionally ` (-12.30)`. */
const STRUCTURE_LINE = /^([.()]+)(\s+\(\s*[-+]?\d+(?:\.\d+)?\))?$/;
/** A line that starts like a structure (a dot or a bracket: never in a sequence). */
const LOOKS_LIKE_STRUCTURE = /^[.()[\]{}<>]/;

/** The default normalisation: upper case, letters only. */
function lettersOnly(raw: string, where: InputLocation, label: string): string {
  const sequence = raw.trim().toUpperCase();
  const bad = /[^A-Z]/.exec(sequence);
  if (bad) throw new InputError(`${label} has a character '${shorten(bad[0])}' at position ${bad.index + 1} that is not a letter`, where);
  return sequence;
}

/**
 * Parses FASTA text: records start with `>name`; the sequence may span lines; after it, lines
 * of dots and brackets (optionally followed by an energy in parentheses) give the record's
 * structure. Blank lines are skipped. InputErrors (naming `file` and the line as the row) for:
 * text before the first header, a header without a name, a record without sequence, letters
 * `normalise` rejects, duplicate names, no records at all.
 */
export function parseFasta(text: string, file?: string, opts: FastaOptions = {}): FastaRecord[] {
  const normalise = opts.normalise ?? lettersOnly;
  const records: FastaRecord[] = [];
  const lines = text.split(/\r?\n/);
  let current: { name: string; line: number; seq: string[]; structure: string[] } | null = null;
  const seen = new Map<string, number>();
  const finish = () => {
    if (!current) return;
    const { name, line } = current;
    const raw = current.seq.join("");
    if (raw.length === 0) throw new InputError(`record '${shorten(name)}' has an empty sequence`, { file, line });
    const sequence = normalise(raw, { file, line }, `sequence of record '${shorten(name)}'`);
    const structure = current.structure.length ? current.structure.join("") : null;
    records.push({ name, sequence, structure, line });
  };
  for (let k = 0; k < lines.length; k++) {
    const lineText = lines[k]!.trim();
    const lineNo = k + 1;
    if (lineText.length === 0) continue;
    if (lineText.startsWith(">")) {
      finish();
      const name = lineText.slice(1).trim().split(/\s+/)[0] ?? "";
      if (name.length === 0) throw new InputError("FASTA header '>' without a name", { file, line: lineNo });
      const earlier = seen.get(name);
      if (earlier !== undefined) throw new InputError(`duplicate record name '${shorten(name)}' (first at line ${earlier})`, { file, line: lineNo });
      seen.set(name, lineNo);
      current = { name, line: lineNo, seq: [], structure: [] };
      continue;
    }
    if (!current) {
      throw new InputError(
        `not FASTA: line ${lineNo} comes before any '>' header (each sequence needs a header line '>name')`,
        { file, line: lineNo },
      );
    }
    const structure = STRUCTURE_LINE.exec(lineText);
    if (structure) current.structure.push(structure[1]!);
    else if (LOOKS_LIKE_STRUCTURE.test(lineText)) {
      throw new InputError(
        `record '${shorten(current.name)}': bad structure line '${shorten(lineText)}' (expected dots and round brackets only, optionally followed by an energy such as ' (-12.30)')`,
        { file, line: lineNo },
      );
    } else if (current.structure.length) {
      throw new InputError(`record '${shorten(current.name)}': sequence text after its structure line`, { file, line: lineNo });
    } else current.seq.push(lineText);
  }
  finish();
  if (records.length === 0) throw new InputError("no FASTA records (expected '>name' lines followed by sequences)", { file });
  return records;
}

/**
 * The InputError for FASTA bytes that are not UTF-8 at `offset` of `bytes` (its line `lineNo`,
 * which started at `lineStart`, or in an earlier piece when negative and `inHeader` says what it
 * was): a record name is refused naming the record's line, never turned into U+FFFD.
 */
export function notUtf8Error(bytes: Uint8Array, offset: number, file: string | undefined, lineNo: number, lineStart: number, inHeader = false): InputError {
  const header = lineStart >= 0 ? bytes[lineStart] === 0x3e /* '>' */ : inHeader;
  const byte = offset < bytes.length ? `byte 0x${bytes[offset]!.toString(16).padStart(2, "0")}` : "a character cut off at the end";
  if (!header) return new InputError(`not UTF-8 text (${byte}): save the file as UTF-8`, { file, line: lineNo });
  const shown = Buffer.from(bytes.subarray(Math.max(lineStart, 0), Math.min(bytes.length, offset + 1))).toString("utf8").replace(/^>/, "");
  return new InputError(`the record name '${shorten(shown.trim())}' is not UTF-8 text (${byte}): save the file as UTF-8`, { file, line: lineNo });
}

/**
 * Reads and parses a FASTA file (gzip when named .gz or starting like gzip); a binary file is
 * refused by name, text that is not UTF-8 naming its line (a name in Latin-1 would otherwise
 * become U+FFFD). A UTF-8 byte order mark is skipped.
 */
export function readFasta(file: string, opts: FastaOptions = {}): FastaRecord[] {
  const body = readMaybeGzip(file);
  const kind = binaryFileKind(body.subarray(0, 16)) ?? (body.subarray(0, 65536).includes(0) ? "binary data (NUL bytes)" : null);
  if (kind) throw new InputError(`is ${kind}, expected FASTA text`, { file });
  const bad = invalidUtf8Offset(body);
  if (bad >= 0) {
    const lineStart = bad === 0 ? 0 : body.lastIndexOf(0x0a, bad - 1) + 1; // (a negative offset would count from the end)
    let lineNo = 1;
    for (let i = body.indexOf(0x0a); i >= 0 && i < bad; i = body.indexOf(0x0a, i + 1)) lineNo++;
    throw notUtf8Error(body, bad, file, lineNo, lineStart);
  }
  return parseFasta(body.toString("utf8").replace(/^\ufeff/, ""), file, opts);
}

// ---------------------------------------------------------------------------------------------
// streaming

/**
 * What {@link streamFasta} yields: a record starts, some of its sequence (normalised: ACGTN), it
 * ends. `progress` (optional, any unit, non-decreasing): how far through the input this piece is.
 */
export type FastaPiece = (
  | { kind: "start"; name: string; line?: number }
  | { kind: "sequence"; text: string }
  | { kind: "end" }
) & { progress?: number };

/** Options of {@link streamFasta}. */
export interface StreamFastaOptions {
  /** What a record is called in errors ("target"; default "record"). */
  recordWord?: string;
}

/** Letters a streamed sequence line may hold: nucleotides, and spaces, tabs and carriage returns (ignored). */
const NUCLEOTIDE_LINE_BAD = /[^ACGTUNacgtun \t\r]/;

/**
 * Streams the nucleotide records of a FASTA file (gzip when it starts like gzip) without holding
 * a record in memory (scan's targets: whole chromosomes or transcriptomes): yields `start`, the sequence in pieces (upper case, U → T, spaces ignored) and `end`
 * per record. Errors (InputError naming the file and line): text before the first '>', a header
 * without a name, a duplicate name, an empty record, a letter that is not A, C, G, T, U or N
 * (with its position in the record), no records, a binary, truncated or unreadable file.
 * Each piece's `progress` is about the bytes of the file behind it (characters, for text that is
 * not ASCII; for a gzip file, the compressed bytes read so far): the file's size is the total.
 */
export async function* streamFasta(file: string, opts: StreamFastaOptions = {}): AsyncGenerator<FastaPiece> {
  const recordWord = opts.recordWord ?? "record";
  let head: Buffer;
  try {
    const fd = fs.openSync(file, "r");
    try {
      head = Buffer.alloc(16);
      head = head.subarray(0, fs.readSync(fd, head, 0, 16, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw readError(e, file);
  }
  const gzip = isGzip(head);
  if (!gzip) {
    if (file.endsWith(".gz") && head.length > 0) throw new InputError("named .gz but not a gzip file", { file });
    const kind = binaryFileKind(head);
    if (kind) throw new InputError(`is ${kind}, expected FASTA text`, { file });
  }
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let read = 0;
  raw.on("data", (chunk) => {
    read += chunk.length;
  });
  /** Bytes of text (uncompressed) before the current chunk. */
  let consumed = 0;
  const progressAt = (offsetInChunk: number) => (gzip ? read : consumed + offsetInChunk);
  let stream: AsyncIterable<Buffer> = raw;
  if (gzip) {
    const gunzip = zlib.createGunzip();
    raw.on("error", (e) => gunzip.destroy(e));
    stream = raw.pipe(gunzip);
  }
  // fatal: bytes that are not UTF-8 (a name in Latin-1) are refused naming the line, not turned
  // into U+FFFD; ignoreBOM false: a byte order mark at the start is dropped (as tables and --mirnas do)
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  /** The last bytes of the previous chunk: a character may continue in the next one. */
  let tail: Buffer = Buffer.alloc(0);
  /** The error for a chunk that does not decode: where its first bad byte is, on which line. */
  const utf8Failure = (chunk: Buffer): InputError => {
    // Start at a character boundary within the carried tail, so a character split over two chunks counts as one.
    let from = 0;
    while (from < tail.length && (tail[from]! & 0xc0) === 0x80) from++;
    const bytes = Buffer.concat([tail.subarray(from), chunk]);
    const carried = tail.length - from;
    const found = invalidUtf8Offset(bytes);
    const bad = found >= 0 ? found : Math.max(0, bytes.length - 1);
    let lineNo = line;
    let lineStart = -1;
    for (let i = carried; i < bad; i++) {
      if (bytes[i] === 0x0a) {
        lineNo++;
        lineStart = i + 1;
      }
    }
    if (lineStart < 0 && atLineStart && !inHeader) lineStart = carried; // the chunk starts a line
    return notUtf8Error(bytes, bad, file, lineNo, lineStart, inHeader);
  };
  const names = new Map<string, number>();
  let line = 1;
  let atLineStart = true;
  let inHeader = false;
  let header = "";
  let headerLine = 0;
  let current: { name: string; line: number; length: number } | null = null;
  let records = 0;

  /** Checks and normalises sequence text of the current record (from line `lineNo`). */
  const sequenceText = (text: string, lineNo: number): string => {
    const bad = NUCLEOTIDE_LINE_BAD.exec(text);
    if (bad) {
      if (current === null) {
        throw new InputError("not FASTA: text before the first '>' header (each sequence needs a header line '>name')", { file, line: lineNo });
      }
      const position = current.length + text.slice(0, bad.index).replace(/[ \t\r]/g, "").length + 1;
      throw new InputError(
        `${recordWord} '${shorten(current.name)}' has a letter '${shorten(bad[0])}' at position ${position.toLocaleString("en-US")} that is not a nucleotide (A, C, G, T, U or N; other IUPAC codes: replace them with N)`,
        { file, line: lineNo },
      );
    }
    const clean = /[ \t\r]/.test(text) ? text.replace(/[ \t\r]/g, "") : text;
    if (clean.length === 0) return "";
    if (current === null) throw new InputError("not FASTA: text before the first '>' header (each sequence needs a header line '>name')", { file, line: lineNo });
    current.length += clean.length;
    const upper = clean.toUpperCase();
    return upper.includes("U") ? upper.replace(/U/g, "T") : upper;
  };
  const endRecord = (): FastaPiece | null => {
    if (current === null) return null;
    if (current.length === 0) throw new InputError(`record '${shorten(current.name)}' has an empty sequence`, { file, line: current.line });
    current = null;
    return { kind: "end" };
  };
  const startRecord = (text: string, lineNo: number): FastaPiece => {
    const name = text.slice(1).trim().split(/\s+/)[0] ?? "";
    if (name.length === 0) throw new InputError("FASTA header '>' without a name", { file, line: lineNo });
    const earlier = names.get(name);
    if (earlier !== undefined) throw new InputError(`duplicate record name '${shorten(name)}' (first at line ${earlier})`, { file, line: lineNo });
    names.set(name, lineNo);
    current = { name, line: lineNo, length: 0 };
    records++;
    return { kind: "start", name, line: lineNo };
  };

  try {
    for await (const chunk of stream) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw utf8Failure(chunk);
      }
      tail = chunk.subarray(Math.max(0, chunk.length - 3));
      const pieces: FastaPiece[] = [];
      /** Offset in `text` where each piece ends, for the progress. */
      const offsets: number[] = [];
      let sequence = "";
      let at = 0;
      const flushSequence = () => {
        if (sequence.length) {
          pieces.push({ kind: "sequence", text: sequence });
          offsets.push(at);
        }
        sequence = "";
      };
      const push = (piece: FastaPiece) => {
        pieces.push(piece);
        offsets.push(at);
      };
      while (at < text.length) {
        const newline = text.indexOf("\n", at);
        const end = newline < 0 ? text.length : newline;
        if (atLineStart && !inHeader && text.charCodeAt(at) === 62 /* '>' */) {
          inHeader = true;
          header = "";
          headerLine = line;
        }
        if (inHeader) {
          header += text.slice(at, end);
          if (header.length > 1_000_000) throw new InputError("a FASTA header line longer than 1,000,000 characters", { file, line: headerLine });
          if (newline >= 0) {
            inHeader = false;
            flushSequence();
            const ended = endRecord();
            if (ended) push(ended);
            push(startRecord(header.replace(/\r$/, ""), headerLine));
          }
        } else if (end > at) {
          sequence += sequenceText(text.slice(at, end), line);
        }
        if (newline < 0) {
          atLineStart = false;
          break;
        }
        at = newline + 1;
        line++;
        atLineStart = true;
      }
      at = text.length;
      flushSequence();
      for (let i = 0; i < pieces.length; i++) yield { ...pieces[i]!, progress: progressAt(offsets[i]!) };
      consumed += chunk.length;
    }
    let rest: string;
    try {
      rest = decoder.decode();
    } catch {
      throw utf8Failure(Buffer.alloc(0));
    }
    if (rest.length) {
      if (inHeader) header += rest;
      else {
        const tail = sequenceText(rest, line);
        if (tail.length) yield { kind: "sequence", text: tail };
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    if ((e as NodeJS.ErrnoException).code?.startsWith("Z_") || /unexpected end|incorrect header|invalid/i.test((e as Error).message)) throw gzipError(e, file);
    throw readError(e, file);
  }
  if (inHeader) {
    const ended = endRecord();
    if (ended) yield ended;
    yield startRecord(header.replace(/\r$/, ""), headerLine);
  }
  const ended = endRecord();
  if (ended) yield ended;
  if (records === 0) throw new InputError("no FASTA records (expected '>name' lines followed by sequences)", { file });
}
