import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, ParseArgsConfig } from "node:util";
import pl from "nodejs-polars";
import { initBackend } from "../ops/backend";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { encodePng } from "../io/png";
import { loadTfjsModel } from "../io/tfjsModel";
import { writeTsv } from "../io/tsv";
import { predictHairpinImages } from "../hairpin/classifier";
import { readImagesNpz, writeImagesNpz, writeNamesNpz } from "../hairpin/datasets";
import { EncodedHairpin, encodeFastaRecords, readHairpinFasta, stackImages } from "../hairpin/fastaImages";
import { HAIRPIN_IMAGE_CHANNELS, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH } from "../hairpin/image";

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
  const records = readHairpinFasta(input);
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
    const encoded = await encodeFastaRecords(readHairpinFasta(input), input);
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
