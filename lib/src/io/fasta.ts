import { InputError, InputLocation, shorten } from "../errors";
import { binaryFileKind, invalidUtf8Offset, readMaybeGzip } from "./files";

/**
 * FASTA reading: records of a name, a sequence that may span lines and, optionally, a
 * dot-bracket structure on the lines after it (as RNAfold prints it).
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
    if (raw.length === 0) throw new InputError(`record '${shorten(name)}' has an empty sequence`, { file, row: line });
    const sequence = normalise(raw, { file, row: line }, `sequence of record '${shorten(name)}'`);
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
      if (name.length === 0) throw new InputError("FASTA header '>' without a name", { file, row: lineNo });
      const earlier = seen.get(name);
      if (earlier !== undefined) throw new InputError(`duplicate record name '${shorten(name)}' (first at line ${earlier})`, { file, row: lineNo });
      seen.set(name, lineNo);
      current = { name, line: lineNo, seq: [], structure: [] };
      continue;
    }
    if (!current) {
      throw new InputError(
        `not FASTA: line ${lineNo} comes before any '>' header (each sequence needs a header line '>name')`,
        { file, row: lineNo },
      );
    }
    const structure = STRUCTURE_LINE.exec(lineText);
    if (structure) current.structure.push(structure[1]!);
    else if (LOOKS_LIKE_STRUCTURE.test(lineText)) {
      throw new InputError(
        `record '${shorten(current.name)}': bad structure line '${shorten(lineText)}' (expected dots and round brackets only, optionally followed by an energy such as ' (-12.30)')`,
        { file, row: lineNo },
      );
    } else if (current.structure.length) {
      throw new InputError(`record '${shorten(current.name)}': sequence text after its structure line`, { file, row: lineNo });
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
  if (!header) return new InputError(`not UTF-8 text (${byte}): save the file as UTF-8`, { file, row: lineNo });
  const shown = Buffer.from(bytes.subarray(Math.max(lineStart, 0), Math.min(bytes.length, offset + 1))).toString("utf8").replace(/^>/, "");
  return new InputError(`the record name '${shorten(shown.trim())}' is not UTF-8 text (${byte}): save the file as UTF-8`, { file, row: lineNo });
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
