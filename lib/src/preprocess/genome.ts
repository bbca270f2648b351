/**
 * Genome windows from an indexed FASTA, strand-aware, via `@gmod/indexedfasta`:
 * - plain FASTA `genome.fa` with its samtools index `genome.fa.fai`;
 * - bgzip-compressed FASTA `genome.fa.gz` with `genome.fa.gz.fai` and `genome.fa.gz.gzi`
 *   (`bgzip -i genome.fa` then `samtools faidx genome.fa.gz`). A plain-gzip FASTA cannot be
 *   read by position: recompress it with bgzip.
 *
 * Coordinates are 0-based, `length` letters from `start0` on the + strand (BED-like
 * `[start0, start0 + length)`), whatever the strand of the request. Windows on the '-' strand
 * are reverse-complemented, so they read 5'→3' on a minus-strand transcript.
 */
import * as fs from "node:fs";
import { InputError, InputLocation } from "../errors";
import { writeFileAtomic } from "../io/files";
import { reverseComplement } from "../binding/sequences";

/** The part of `@gmod/indexedfasta` (v5) this module uses: 0-based, end-exclusive reads. */
interface IndexedFastaReader {
  getSequence(name: string, min: number, max: number): Promise<string | undefined>;
}
interface IndexedFastaModule {
  IndexedFasta: new (options: { fasta: OpenFile; fai: OpenFile }) => IndexedFastaReader;
  BgzipIndexedFasta: new (options: { fasta: OpenFile; fai: OpenFile; gzi: OpenFile }) => IndexedFastaReader;
}

/**
 * A local file held open for the genome's lifetime, in the shape of generic-filehandle2's
 * `GenericFilehandle` that @gmod/indexedfasta reads through. Its own `LocalFile` opens and closes
 * the file on every read, which is slow for hundreds of thousands of windows and fails with
 * EMFILE when many reads run at once; here every read is one synchronous `pread` on one
 * descriptor (microseconds for a local file).
 */
class OpenFile {
  private fd: number | null;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "r");
  }
  private descriptor(): number {
    if (this.fd === null) throw new Error(`${this.file} is closed`);
    return this.fd;
  }
  async read(length: number, position = 0): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    const count = length === 0 ? 0 : fs.readSync(this.descriptor(), bytes, 0, length, position);
    return bytes.subarray(0, count);
  }
  async readFile(options?: unknown): Promise<Uint8Array | string> {
    const bytes = fs.readFileSync(this.file);
    const encoding = typeof options === "string" ? (options as BufferEncoding) : (options as { encoding?: BufferEncoding } | undefined)?.encoding;
    return encoding ? bytes.toString(encoding) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  async stat(): Promise<{ size: number }> {
    return { size: fs.fstatSync(this.descriptor()).size };
  }
  async close(): Promise<void> {
    this.closeNow();
  }
  closeNow(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Loads `@gmod/indexedfasta` on first use, so the rest of the library builds and loads without
 * it; a missing package gives an error saying what to install.
 */
function loadIndexedFasta(): IndexedFastaModule {
  try {
    return require("@gmod/indexedfasta") as IndexedFastaModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND") {
      throw new Error("openGenome needs the npm package @gmod/indexedfasta: npm install @gmod/indexedfasta@^5.0.2");
    }
    throw e;
  }
}

/** A sequence named in the `.fai` index and its length (nt). */
export interface GenomeChromosome {
  name: string;
  length: number;
}

/** An opened genome; see {@link openGenome}. */
export interface Genome {
  /** The FASTA file this genome reads. */
  readonly file: string;
  /** Every sequence in the index, in index order. */
  chromosomes(): GenomeChromosome[];
  /** Length of `chrom` (nt); throws {@link InputError} for an unknown name. */
  chromosomeLength(chrom: string): number;
  /**
   * The `length` letters starting at 0-based `start0` on the + strand of `chrom`, upper case;
   * for strand '-' their reverse complement (5'→3' on the minus strand). Letters other than
   * A, C, G, T, N (IUPAC ambiguity codes such as R, Y) come back as N on both strands.
   * Throws {@link InputError} naming the FASTA file and the chromosome (and `where`, e.g. the
   * table row that asked, when given) for an unknown chromosome or a window running off
   * either end of it.
   */
  window(chrom: string, start0: number, length: number, strand: "+" | "-", where?: InputLocation): Promise<string>;
  /** Closes the FASTA and index files (held open while the genome is in use). */
  close(): void;
}

/** One line of a `.fai` index: name, length, byte offset of the first base, bases per line, bytes per line. */
interface FaiEntry {
  name: string;
  length: number;
  offset: number;
  lineBases: number;
  lineBytes: number;
}

/**
 * Opens an indexed FASTA (`.fa` + `.fai`) or a bgzipped one (`.gz` + `.fai` + `.gzi`; the index
 * files are the FASTA path plus `.fai` / `.gzi`). Reads and checks the `.fai` index now; bases
 * are read on demand through file descriptors held open until {@link Genome.close} (reads are
 * synchronous `pread`s, so many concurrent `window` calls are fine). Throws {@link InputError} naming the file for a missing FASTA or index,
 * a malformed `.fai` line (with its row), or a `.gz` that is not bgzip-compressed.
 */
export async function openGenome(fastaPath: string): Promise<Genome> {
  requireFile(fastaPath, "FASTA file");
  const faiPath = `${fastaPath}.fai`;
  requireFile(faiPath, "FASTA index (.fai; make it with `samtools faidx " + fastaPath + "`)");
  const index = readFai(faiPath);
  const byName = new Map(index.map((entry) => [entry.name, entry]));

  const { IndexedFasta, BgzipIndexedFasta } = loadIndexedFasta();
  let fasta: IndexedFastaReader;
  const files: OpenFile[] = [];
  const open = (file: string) => {
    const handle = new OpenFile(file);
    files.push(handle);
    return handle;
  };
  if (fastaPath.endsWith(".gz")) {
    checkBgzip(fastaPath);
    const gziPath = `${fastaPath}.gzi`;
    requireFile(gziPath, "bgzip index (.gzi; make it with `bgzip -r " + fastaPath + "` or `samtools faidx " + fastaPath + "`)");
    fasta = new BgzipIndexedFasta({ fasta: open(fastaPath), fai: open(faiPath), gzi: open(gziPath) });
  } else {
    fasta = new IndexedFasta({ fasta: open(fastaPath), fai: open(faiPath) });
  }

  const entryFor = (chrom: string, where?: InputLocation): FaiEntry => {
    const entry = byName.get(chrom);
    if (entry !== undefined) return entry;
    const names = index.map((e) => e.name);
    const shown = names.length > 12 ? names.slice(0, 12).join(", ") + `, … (${names.length} in all)` : names.join(", ");
    throw new InputError(`unknown chromosome '${chrom}' in genome ${fastaPath} (it has ${shown})`, where ?? { file: fastaPath });
  };

  return {
    file: fastaPath,
    chromosomes: () => index.map(({ name, length }) => ({ name, length })),
    chromosomeLength: (chrom) => entryFor(chrom).length,
    close: () => files.forEach((f) => f.closeNow()),
    async window(chrom, start0, length, strand, where) {
      const location = where ?? { file: fastaPath };
      const entry = entryFor(chrom, where);
      if (strand !== "+" && strand !== "-") {
        throw new InputError(`strand '${String(strand)}' (expected '+' or '-')`, location);
      }
      if (!Number.isSafeInteger(start0) || !Number.isSafeInteger(length) || length < 0) {
        throw new InputError(`bad window ${chrom}:${start0} length ${length} (expected integers, length ≥ 0)`, location);
      }
      const end0 = start0 + length;
      if (start0 < 0 || end0 > entry.length) {
        const side = start0 < 0 ? "start" : "end";
        throw new InputError(
          `window ${chrom}:${start0}-${end0} (0-based, end exclusive, strand ${strand}) runs off the ${side} of ${chrom} (length ${entry.length}) in genome ${fastaPath}`,
          location,
        );
      }
      if (length === 0) return "";
      let letters: string | undefined;
      try {
        letters = await fasta.getSequence(chrom, start0, end0);
      } catch (e) {
        throw new InputError(`cannot read ${chrom}:${start0}-${end0}: ${(e as Error).message}`, { file: fastaPath });
      }
      if (letters === undefined || letters.length !== length) {
        throw new InputError(
          `read ${letters?.length ?? 0} letters of ${chrom}:${start0}-${end0}, expected ${length}: the .fai index does not match the FASTA (rebuild it with samtools faidx)`,
          { file: fastaPath },
        );
      }
      const clean = letters.toUpperCase().replace(/[^ACGTN]/g, "N");
      return strand === "+" ? clean : reverseComplement(clean);
    },
  };
}

/**
 * Writes the samtools-compatible `.fai` index of an uncompressed FASTA (what
 * `samtools faidx genome.fa` writes: name, length, byte offset of the first base, bases per
 * line, bytes per line; byte-identical to samtools 1.16's on the fixtures, LF and CRLF), for
 * machines without samtools. Streams the file (≈ 0.4 s per 200 MB here), writes the index
 * atomically and returns the sequences.
 * Throws {@link InputError} naming the file and 1-based line for what an index cannot
 * describe: text before the first '>' header, an empty name, a name used twice, a sequence
 * without bases, lines of one sequence with different lengths (only the last may be shorter),
 * or a gzip file (gunzip it first, or bgzip it and use `samtools faidx`, which also writes the
 * `.gzi`).
 */
export async function indexFasta(fastaPath: string, faiPath = `${fastaPath}.fai`): Promise<GenomeChromosome[]> {
  requireFile(fastaPath, "FASTA file");
  if (fastaPath.endsWith(".gz")) {
    throw new InputError("indexFasta reads uncompressed FASTA only: gunzip it first (or bgzip it and run `samtools faidx`, which also writes the .gzi)", { file: fastaPath });
  }
  const entries: FaiEntry[] = [];
  const names = new Set<string>();
  let current: FaiEntry | null = null;
  /** Line number of the first line shorter than the sequence's line length (it must be the last). */
  let shortLine = 0;
  let lineNumber = 0;
  const fail = (message: string): never => {
    throw new InputError(message, { file: fastaPath, line: lineNumber });
  };
  const finish = () => {
    if (current === null) return;
    if (current.length === 0) fail(`sequence '${current.name}' has no bases (ends here)`);
    entries.push(current);
  };
  /** One line without its '\n' (a trailing '\r' is counted as a line byte, as samtools does). */
  const onLine = (line: Buffer, lineStart: number) => {
    lineNumber++;
    if (line.length > 0 && line[0] === 0x3e /* > */) {
      finish();
      const name = line.toString("latin1", 1).trim().split(/\s/)[0] ?? "";
      if (name === "") fail("header line without a sequence name");
      if (names.has(name)) fail(`sequence name '${name}' used twice`);
      names.add(name);
      current = { name, length: 0, offset: lineStart + line.length + 1, lineBases: 0, lineBytes: 0 };
      shortLine = 0;
      return;
    }
    const bases = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
    if (current === null) {
      if (bases === 0) return;
      fail("sequence text before the first '>' header");
    }
    const entry = current as FaiEntry;
    if (bases === 0) {
      if (shortLine === 0) shortLine = lineNumber;
      return;
    }
    if (entry.lineBases === 0) {
      entry.lineBases = bases;
      entry.lineBytes = line.length + 1;
    } else if (shortLine !== 0 || bases > entry.lineBases || line.length + 1 - bases !== entry.lineBytes - entry.lineBases) {
      fail(
        `lines of '${entry.name}' differ in length (${entry.lineBases} bases a line, ` +
          (shortLine !== 0 ? `but line ${shortLine} was shorter and is not the last` : `this one has ${bases}`) +
          "): an index needs equal lines; reformat the FASTA (e.g. `seqtk seq -l 60`)",
      );
    } else if (bases < entry.lineBases) {
      shortLine = lineNumber;
    }
    entry.length += bases;
  };

  const stream = fs.createReadStream(fastaPath, { highWaterMark: 1 << 20 });
  let carry: Buffer = Buffer.alloc(0);
  let carryStart = 0;
  try {
    for await (const chunk of stream) {
      const buffer: Buffer = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      let lineStart = 0;
      for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a, lineStart)) {
        onLine(buffer.subarray(lineStart, newline), carryStart + lineStart);
        lineStart = newline + 1;
      }
      carry = Buffer.from(buffer.subarray(lineStart));
      carryStart += lineStart;
    }
  } finally {
    stream.destroy();
  }
  if (carry.length > 0) onLine(carry, carryStart);
  finish();
  if (entries.length === 0) throw new InputError("no '>' header: not a FASTA file", { file: fastaPath });
  writeFileAtomic(faiPath, entries.map((e) => `${e.name}\t${e.length}\t${e.offset}\t${e.lineBases}\t${e.lineBytes}\n`).join(""));
  return entries.map(({ name, length }) => ({ name, length }));
}

function requireFile(file: string, what: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new InputError(`missing ${what}`, { file });
  }
  if (!stat.isFile()) throw new InputError(`is not a file (expected the ${what})`, { file });
}

/** Parses a samtools `.fai` index; rows are 1-based lines. */
function readFai(faiPath: string): FaiEntry[] {
  const text = fs.readFileSync(faiPath, "utf8");
  const entries: FaiEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const fields = line.split("\t");
    const where = { file: faiPath, line: i + 1 };
    if (fields.length < 5) throw new InputError(`expected 5 tab-separated .fai fields (name, length, offset, line bases, line bytes), found ${fields.length}`, where);
    if (fields[0]!.startsWith(">")) throw new InputError("looks like FASTA, not a .fai index", where);
    const numbers = fields.slice(1, 5).map((f) => (/^\d+$/.test(f) ? Number(f) : NaN));
    if (numbers.some((n) => !Number.isSafeInteger(n))) throw new InputError(`non-integer field in '${line}'`, where);
    const [length, offset, lineBases, lineBytes] = numbers as [number, number, number, number];
    if (lineBases <= 0 || lineBytes < lineBases) throw new InputError(`bad line lengths (${lineBases} bases, ${lineBytes} bytes) in '${line}'`, where);
    entries.push({ name: fields[0]!, length, offset, lineBases, lineBytes });
  }
  if (entries.length === 0) throw new InputError("empty FASTA index", { file: faiPath });
  return entries;
}

/** Throws unless the file starts with a BGZF block header (gzip with the 'BC' extra subfield). */
function checkBgzip(file: string): void {
  const header = Buffer.alloc(18);
  const fd = fs.openSync(file, "r");
  let read: number;
  try {
    read = fs.readSync(fd, header, 0, 18, 0);
  } finally {
    fs.closeSync(fd);
  }
  const isBgzf = read === 18 && header[0] === 0x1f && header[1] === 0x8b && (header[3]! & 0x04) !== 0 && header[12] === 0x42 && header[13] === 0x43;
  if (!isBgzf) {
    throw new InputError("not bgzip-compressed (a plain-gzip FASTA cannot be read by position: `gunzip` it, or recompress with `bgzip`)", { file });
  }
}
