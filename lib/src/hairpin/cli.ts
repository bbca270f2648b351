import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, ParseArgsConfig } from "node:util";
import * as zlib from "node:zlib";
import pl from "nodejs-polars";
import { initBackend } from "../backend";
import { InputError } from "../errors";
import { readMaybeGzip, writeFileAtomic } from "../fileio";
import { loadTfjsModel } from "../models/tfjsFormat";
import { readNpzSingle } from "../npy";
import { writeTsv } from "../tables";
import { predictHairpinImages } from "./classifier";
import { encodeHairpinImage, HAIRPIN_IMAGE_CHANNELS, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "./image";
import { imagesFrom } from "./datasets";
import { normaliseRnaSequence } from "./rna";
import { foldSequences } from "./rnafold";

/**
 * `mirna-dl hairpin …`: hairpin images from FASTA (RNAfold + the Cordero et al. encoding) and
 * the deepMir classifier from the command line. Usage problems and bad input throw
 * {@link InputError} (the CLI prints the message and exits with code 2).
 */

export const HAIRPIN_HELP = `Usage: mirna-dl hairpin <encode|classify> [options]

Pre-miRNA hairpins as 25 × 100 images (Cordero et al. 2019) and the deepMir classifier.

Commands:
  encode     fold FASTA sequences with RNAfold and write their hairpin images (PNG + .npz)
  classify   probability that each hairpin is a pre-miRNA, from FASTA or a deepMir .npz

mirna-dl hairpin <command> --help shows the options of a command.`;

export const ENCODE_HELP = `Usage: mirna-dl hairpin encode --input FASTA --out DIR [--scale N]

Folds every sequence with RNAfold (one batch, 37 °C; ViennaRNA must be installed) and draws
its hairpin image. A record may carry its own dot-bracket structure on the lines after its
sequence (as RNAfold prints it, energy optional); then it is not folded. Writes into DIR:
  <name>.png              one image per record, 100 × 25 pixels enlarged --scale times
  hairpins.tsv            name, sequence, structure, mfe (kcal/mol; empty when given), png
  hairpins_images.npz     uint8 (N, 25, 100, 3) RGB, as the deepMir *_images.npz (0–255)
  hairpins_names.npz      the record names (N,), as the deepMir *_names.npz

Options:
  -i, --input FASTA   sequences (.fa / .fasta, .gz accepted); headers required, sequences
                      may span lines; A C G U (T is read as U, case ignored)
  -o, --out DIR       output folder (created)
      --scale N       PNG enlargement, 1–32 (default 4: 400 × 100 pixels)
  -h, --help          this help`;

export const CLASSIFY_HELP = `Usage: mirna-dl hairpin classify --model DIR --input FASTA|NPZ [--json] [options]

Scores hairpins with a classifier saved by mirna-dl (TensorFlow.js folder, e.g. from
bench/hairpin-classifier.ts). FASTA input is folded with RNAfold and encoded first (records
may carry their own structure, see 'hairpin encode --help'); .npz input holds images as the
deepMir datasets (N, 25, 100, 3) with values 0–255 — names come from a sibling
<prefix>_names.npz when there is one, else the row number (0-based).
Prints name, probability (P(pre-miRNA)) and call (1 when probability ≥ threshold) as a
tab-separated table, or with --json one JSON object per line.

Options:
  -m, --model DIR       model folder (model.json + weights.bin)
  -i, --input FILE      FASTA (.fa, .fasta, .gz) or .npz
      --json            one JSON object per line
      --threshold X     call a pre-miRNA when probability ≥ X (default 0.5)
      --batch-size N    images per forward pass (default 256)
  -h, --help            this help`;

// ---------------------------------------------------------------------------------------------
// FASTA

/** One FASTA record. */
export interface FastaRecord {
  /** Header text after '>' up to the first whitespace. */
  name: string;
  /** Normalised RNA (upper case, T → U). */
  sequence: string;
  /** Dot-bracket structure given in the record, or null. */
  structure: string | null;
  /** 1-based line number of the header. */
  line: number;
}

/** A structure line as RNAfold prints it: dots and brackets, optionally ` (-12.30)`. */
const STRUCTURE_LINE = /^([.()]+)(\s+\(\s*[-+]?\d+(?:\.\d+)?\))?$/;

/**
 * Parses FASTA text: records start with `>name`; the sequence may span lines; after it, lines
 * of dots and brackets (optionally followed by an energy in parentheses) give the record's
 * structure. Blank lines are skipped. InputErrors (naming `file` and the line as the row) for:
 * text before the first header, a header without a name, a record without sequence, non-RNA
 * letters, duplicate names, no records at all.
 */
export function parseFasta(text: string, file?: string): FastaRecord[] {
  const records: FastaRecord[] = [];
  const lines = text.split(/\r?\n/);
  let current: { name: string; line: number; seq: string[]; structure: string[] } | null = null;
  const seen = new Map<string, number>();
  const finish = () => {
    if (!current) return;
    const { name, line } = current;
    const raw = current.seq.join("");
    if (raw.length === 0) throw new InputError(`record '${name}' has an empty sequence`, { file, row: line });
    const sequence = normaliseRnaSequence(raw, { file, row: line }, `sequence of record '${name}'`);
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
      if (earlier !== undefined) throw new InputError(`duplicate record name '${name}' (first at line ${earlier})`, { file, row: lineNo });
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
    else if (current.structure.length) {
      throw new InputError(`record '${current.name}': sequence text after its structure line`, { file, row: lineNo });
    } else current.seq.push(lineText);
  }
  finish();
  if (records.length === 0) throw new InputError("no FASTA records (expected '>name' lines followed by sequences)", { file });
  return records;
}

/** Reads and parses a FASTA file (gzip when named .gz). */
export function readFasta(file: string): FastaRecord[] {
  return parseFasta(readMaybeGzip(file).toString("utf8"), file);
}

// ---------------------------------------------------------------------------------------------
// PNG and .npz writers

/**
 * A PNG (8-bit RGB, no interlace) of an RGB image `rgb` [height, width, 3], each pixel drawn as
 * a `scale` × `scale` block. Deflate by node:zlib, CRCs by zlib.crc32.
 */
export function encodePng(rgb: Uint8Array, width: number, height: number, scale = 1): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  if (!Number.isInteger(scale) || scale < 1) throw new InputError(`scale must be a positive integer, got ${scale}`);
  const outWidth = width * scale;
  const outHeight = height * scale;
  const stride = outWidth * 3 + 1;
  const raw = Buffer.alloc(stride * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const rowStart = y * stride; // filter byte 0 (None) at rowStart
    const srcRow = Math.floor(y / scale) * width * 3;
    for (let x = 0; x < outWidth; x++) {
      const src = srcRow + Math.floor(x / scale) * 3;
      const dst = rowStart + 1 + x * 3;
      raw[dst] = rgb[src]!;
      raw[dst + 1] = rgb[src + 1]!;
      raw[dst + 2] = rgb[src + 2]!;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(outWidth, 0);
  ihdr.writeUInt32BE(outHeight, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A `.npy` v1.0 file: header dict padded to a multiple of 64 bytes, then `body`. */
function npyBytes(descr: string, shape: readonly number[], body: Buffer): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const preamble = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(preamble);
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, "latin1"), body]);
}

/** A zip with one deflated member `arr_0.npy` (what numpy.savez_compressed writes for one array). */
function npzBytes(npy: Buffer): Buffer {
  const name = Buffer.from("arr_0.npy", "latin1");
  const data = zlib.deflateRawSync(npy);
  const crc = zlib.crc32(npy) >>> 0;
  if (data.length >= 0xffffffff || npy.length >= 0xffffffff) throw new Error("array too large for a zip without zip64");
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt16LE(0, 10); // time
  local.writeUInt16LE(0x21, 12); // date 1980-01-01
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(npy.length, 22);
  local.writeUInt16LE(name.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // made by
  central.writeUInt16LE(20, 6); // needed
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(0, 12);
  central.writeUInt16LE(0x21, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(npy.length, 24);
  central.writeUInt16LE(name.length, 28);
  // extra, comment, disk, internal/external attributes: 0; local header offset 0
  const centralOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** Writes images [N, 25, 100, 3] bytes as a deepMir-style `.npz` (uint8 `|u1`), atomically. */
export function writeImagesNpz(file: string, images: Uint8Array): void {
  if (images.length % HAIRPIN_IMAGE_SIZE !== 0) throw new Error(`image bytes ${images.length} are not whole 25 × 100 × 3 images`);
  const n = images.length / HAIRPIN_IMAGE_SIZE;
  const body = Buffer.from(images.buffer, images.byteOffset, images.byteLength);
  writeFileAtomic(file, npzBytes(npyBytes("|u1", [n, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_CHANNELS], body)));
}

/** Writes strings as a `.npz` of a NumPy unicode array `<U{max length}` (UTF-32 LE), atomically. */
export function writeNamesNpz(file: string, names: readonly string[]): void {
  const codePoints = names.map((s) => Array.from(s, (c) => c.codePointAt(0)!));
  const width = Math.max(1, ...codePoints.map((c) => c.length));
  const body = Buffer.alloc(names.length * width * 4);
  codePoints.forEach((cps, i) => cps.forEach((cp, k) => body.writeUInt32LE(cp, (i * width + k) * 4)));
  writeFileAtomic(file, npzBytes(npyBytes(`<U${width}`, [names.length], body)));
}

// ---------------------------------------------------------------------------------------------
// encoding FASTA records

/** A record folded (or with its given structure) and drawn. */
export interface EncodedHairpin {
  name: string;
  sequence: string;
  structure: string;
  /** kcal/mol from RNAfold; null when the structure came with the record. */
  mfe: number | null;
  /** 25 × 100 × 3 RGB bytes. */
  image: Uint8Array;
}

/**
 * Folds the records without a structure (one RNAfold batch) and encodes every record. An
 * encoding failure (structure length ≠ sequence length, unbalanced brackets, no terminal
 * loop) is an InputError naming the record and its line.
 */
export async function encodeFastaRecords(records: readonly FastaRecord[], file?: string): Promise<EncodedHairpin[]> {
  const toFold = records.filter((r) => r.structure === null);
  const folded = await foldSequences(toFold.map((r) => r.sequence), { names: toFold.map((r) => r.name), file });
  const foldOf = new Map(toFold.map((r, k) => [r, folded[k]!]));
  return records.map((r) => {
    const fold = foldOf.get(r);
    const structure = fold ? fold.structure : r.structure!;
    try {
      const image = encodeHairpinImage(r.sequence, structure).data;
      return { name: r.name, sequence: r.sequence, structure, mfe: fold ? fold.mfe : null, image };
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`record '${r.name}': ${e.message}`, { file, row: r.line });
      throw e;
    }
  });
}

/** Concatenates images into one [N, 25, 100, 3] byte array. */
function stackImages(images: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(images.length * HAIRPIN_IMAGE_SIZE);
  images.forEach((image, k) => out.set(image, k * HAIRPIN_IMAGE_SIZE));
  return out;
}

/** A file name for a record: letters, digits, '.', '_', '-' kept, anything else '_'. */
function fileNameFor(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return safe.length > 0 ? safe : "_";
}

// ---------------------------------------------------------------------------------------------
// commands

function parse<T extends ParseArgsConfig["options"]>(args: string[], options: T, help: string) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new InputError(`${(e as Error).message}\n\n${help}`);
  }
}

function required(value: string | undefined, name: string, help: string): string {
  if (!value) throw new InputError(`missing --${name}\n\n${help}`);
  return value;
}

/** `mirna-dl hairpin encode`: returns the records written. */
export async function hairpinEncodeCommand(args: string[]): Promise<EncodedHairpin[] | null> {
  const values = parse(args, {
    input: { type: "string", short: "i" }, out: { type: "string", short: "o" }, scale: { type: "string" }, help: { type: "boolean", short: "h" },
  }, ENCODE_HELP);
  if (values.help) {
    console.log(ENCODE_HELP);
    return null;
  }
  const input = required(values.input, "input", ENCODE_HELP);
  const out = required(values.out, "out", ENCODE_HELP);
  const scale = values.scale === undefined ? 4 : Number(values.scale);
  if (!Number.isInteger(scale) || scale < 1 || scale > 32) throw new InputError(`--scale must be an integer 1–32, got '${values.scale}'`);
  const records = readFasta(input);
  const pngNames = records.map((r) => `${fileNameFor(r.name)}.png`);
  const clash = pngNames.findIndex((p, k) => pngNames.indexOf(p) !== k);
  if (clash >= 0) {
    throw new InputError(`record names '${records[pngNames.indexOf(pngNames[clash]!)]!.name}' and '${records[clash]!.name}' give the same file name ${pngNames[clash]}`, { file: input, row: records[clash]!.line });
  }
  const encoded = await encodeFastaRecords(records, input);
  fs.mkdirSync(out, { recursive: true });
  encoded.forEach((e, k) => writeFileAtomic(path.join(out, pngNames[k]!), encodePng(e.image, HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_HEIGHT, scale)));
  writeTsv(
    pl.DataFrame({
      name: encoded.map((e) => e.name),
      sequence: encoded.map((e) => e.sequence),
      structure: encoded.map((e) => e.structure),
      mfe: pl.Series("mfe", encoded.map((e) => (e.mfe === null ? null : e.mfe.toFixed(2))), pl.Utf8),
      png: pngNames,
    }),
    path.join(out, "hairpins.tsv"),
  );
  writeImagesNpz(path.join(out, "hairpins_images.npz"), stackImages(encoded.map((e) => e.image)));
  writeNamesNpz(path.join(out, "hairpins_names.npz"), encoded.map((e) => e.name));
  process.stderr.write(`mirna-dl: ${encoded.length} hairpin images written to ${out}\n`);
  return encoded;
}

/** Images [N, 25, 100, 3] bytes and names from a deepMir-style `.npz` (see CLASSIFY_HELP). */
export function readImagesNpz(file: string): { images: Uint8Array; names: string[] } {
  const array = readNpzSingle(file);
  const images = imagesFrom(array, file);
  const n = images.length / HAIRPIN_IMAGE_SIZE;
  const namesFile = /_images\.npz$/.test(file) ? file.replace(/_images\.npz$/, "_names.npz") : null;
  let names = Array.from({ length: n! }, (_, i) => String(i));
  if (namesFile && fs.existsSync(namesFile)) {
    const namesArray = readNpzSingle(namesFile);
    if (!Array.isArray(namesArray.data) || namesArray.data.length !== n) {
      throw new InputError(`expected ${n} names (one per image), found ${namesArray.dtype} (${namesArray.shape.join(", ")})`, { file: namesFile });
    }
    names = namesArray.data.map((s) => s.replace(/^>+/, ""));
  }
  return { images, names };
}

/** One classified hairpin. */
export interface ClassifiedHairpin {
  name: string;
  /** P(pre-miRNA). */
  probability: number;
  /** 1 when probability ≥ threshold. */
  call: 0 | 1;
  sequence?: string;
  structure?: string;
  mfe?: number | null;
}

/** `mirna-dl hairpin classify`: prints and returns the scored hairpins. */
export async function hairpinClassifyCommand(args: string[]): Promise<ClassifiedHairpin[] | null> {
  const values = parse(args, {
    model: { type: "string", short: "m" }, input: { type: "string", short: "i" }, json: { type: "boolean" },
    threshold: { type: "string" }, "batch-size": { type: "string" }, help: { type: "boolean", short: "h" },
  }, CLASSIFY_HELP);
  if (values.help) {
    console.log(CLASSIFY_HELP);
    return null;
  }
  const modelDir = required(values.model, "model", CLASSIFY_HELP);
  const input = required(values.input, "input", CLASSIFY_HELP);
  const threshold = values.threshold === undefined ? 0.5 : Number(values.threshold);
  if (!Number.isFinite(threshold)) throw new InputError(`--threshold must be a number, got '${values.threshold}'`);
  const batchSize = values["batch-size"] === undefined ? 256 : Number(values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`--batch-size must be a positive integer, got '${values["batch-size"]}'`);

  await initBackend(); // model first: a bad --model fails before any folding
  const model = await loadTfjsModel(modelDir);
  const shape = model.inputs[0]!.shape;
  if (shape.length !== 4 || shape[1] !== HAIRPIN_IMAGE_HEIGHT || shape[2] !== HAIRPIN_IMAGE_WIDTH || shape[3] !== HAIRPIN_IMAGE_CHANNELS) {
    model.dispose();
    throw new InputError(`not a hairpin classifier: its input is (${shape.map((d) => d ?? "batch").join(", ")}), expected (batch, 25, 100, 3)`, { file: modelDir });
  }
  let images: Uint8Array;
  let rows: Omit<ClassifiedHairpin, "probability" | "call">[];
  if (input.toLowerCase().endsWith(".npz")) {
    const read = readImagesNpz(input);
    images = read.images;
    rows = read.names.map((name) => ({ name }));
  } else {
    const encoded = await encodeFastaRecords(readFasta(input), input);
    images = stackImages(encoded.map((e) => e.image));
    rows = encoded.map((e) => ({ name: e.name, sequence: e.sequence, structure: e.structure, mfe: e.mfe }));
  }
  const probabilities = predictHairpinImages(model, images, batchSize);
  model.dispose();
  const results: ClassifiedHairpin[] = rows.map((r, k) => ({
    ...r, probability: probabilities[k]!, call: probabilities[k]! >= threshold ? 1 : 0,
  }));
  if (values.json) {
    for (const r of results) console.log(JSON.stringify({ ...r, probability: Number(r.probability.toFixed(6)) }));
  } else {
    console.log("name\tprobability\tcall");
    for (const r of results) console.log(`${r.name}\t${r.probability.toFixed(6)}\t${r.call}`);
  }
  return results;
}

/** `mirna-dl hairpin <subcommand> …` (args after "hairpin"). */
export async function hairpinCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "encode":
      await hairpinEncodeCommand(rest);
      return;
    case "classify":
      await hairpinClassifyCommand(rest);
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(rest[0] === "encode" ? ENCODE_HELP : rest[0] === "classify" ? CLASSIFY_HELP : HAIRPIN_HELP);
      return;
    default:
      throw new InputError(`unknown hairpin command '${sub}'\n\n${HAIRPIN_HELP}`);
  }
}
