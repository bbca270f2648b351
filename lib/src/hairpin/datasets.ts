import * as fs from "node:fs";
import * as path from "node:path";
import { dataPath } from "../data/paths";
import { InputError } from "../errors";
import { NdArray, readNpzSingle, writeNpz } from "../io/npy";
import { readTsv } from "../io/tsv";
import { HAIRPIN_IMAGE_CHANNELS, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "./image";

/**
 * The deepMir datasets (Cordero et al. 2019, GitHub jacordero/deepmir) as published: NumPy
 * `.npz` files `<prefix>_images.npz` (float64, shape=(n, 25, 100, 3), 0–255 RGB),
 * `<prefix>_labels.npz` (int64, shape=(n, 1), 1 = pre-miRNA) and `<prefix>_names.npz` (n
 * fixed-width strings, shape=(n,)) under
 * `$MIRNA_DL_DATA/premirna/jacordero-deepmir/datasets` and its `benchmark/` folder
 * (see premirna/SOURCE.md). Several sets have names and labels but no images: the upstream
 * snapshot left out files of 4 MiB or more.
 */


/** The folder holding the deepMir `.npz` datasets (its `benchmark/` subfolder holds more). */
export function deepMirDatasetsFolder(): string {
  return dataPath("premirna", "jacordero-deepmir", "datasets");
}

/** Which files exist for one dataset prefix (absolute paths, or null when absent). */
export interface DeepMirDatasetFiles {
  /** e.g. `modhsa_train`, `hsa`, `hsapseudo_test`; unique over both folders. */
  prefix: string;
  /** `datasets` or `datasets/benchmark`. */
  folder: "datasets" | "datasets/benchmark";
  images: string | null;
  labels: string | null;
  names: string | null;
  /** `<prefix>_categories.npz` (only `nonhsa_modmirbase` has one). */
  categories: string | null;
}

const PARTS = ["images", "labels", "names", "categories"] as const;

/**
 * Lists the dataset prefixes under {@link deepMirDatasetsFolder} and `benchmark/`, with the
 * files each has, sorted by folder then prefix. `root` overrides the datasets folder (tests).
 * Throws an InputError when the folder does not exist.
 */
export function listDeepMirDatasets(root: string = deepMirDatasetsFolder()): DeepMirDatasetFiles[] {
  if (!fs.existsSync(root)) throw new InputError("deepMir datasets folder not found (set MIRNA_DL_DATA; see premirna/SOURCE.md)", { file: root });
  const found: DeepMirDatasetFiles[] = [];
  for (const folder of ["datasets", "datasets/benchmark"] as const) {
    const dir = folder === "datasets" ? root : path.join(root, "benchmark");
    if (!fs.existsSync(dir)) continue;
    const byPrefix = new Map<string, DeepMirDatasetFiles>();
    for (const name of fs.readdirSync(dir).sort()) {
      const match = /^(.+)_(images|labels|names|categories)\.npz$/.exec(name);
      if (!match) continue;
      const prefix = match[1]!;
      let entry = byPrefix.get(prefix);
      if (!entry) {
        entry = { prefix, folder, images: null, labels: null, names: null, categories: null };
        byPrefix.set(prefix, entry);
      }
      entry[match[2] as (typeof PARTS)[number]] = path.join(dir, name);
    }
    found.push(...byPrefix.values());
  }
  return found;
}

/** Names and labels of a dataset, row i of each belonging together. */
export interface DeepMirLabelledNames {
  prefix: string;
  /** Number of rows. */
  n: number;
  /** shape=(n,), 1 = pre-miRNA (positive), 0 = negative. */
  labels: Uint8Array;
  /** shape=(n,), record names with leading `>` removed (e.g. `hsa-mir-21`, `random_seq_from_cds__NO_41742`). */
  names: string[];
}

/** A dataset with its images. */
export interface DeepMirDataset extends DeepMirLabelledNames {
  /**
   * shape=(n, 25, 100, 3), RGB bytes 0–255, C order (image, row, column, channel), row 0 at the top.
   * Image i starts at byte i × {@link HAIRPIN_IMAGE_SIZE}. (The original loaders divide by 255.)
   */
  images: Uint8Array;
}

/** The files of one prefix, or an InputError listing the known prefixes. */
function findDataset(prefix: string, root: string): DeepMirDatasetFiles {
  const all = listDeepMirDatasets(root);
  const wanted = prefix.replace(/^benchmark\//, "");
  const entry = all.find((d) => d.prefix === wanted);
  if (!entry) {
    throw new InputError(`no deepMir dataset '${prefix}'; known: ${all.map((d) => d.prefix).join(", ")}`, { file: root });
  }
  return entry;
}

/**
 * Reads the names and labels of one dataset (every prefix has them, including those whose images
 * are missing upstream). Checks: labels int64, shape=(n, 1) (or (n,)), holding only 0 / 1; names
 * a string array, shape=(n,); the same n.
 */
export function loadDeepMirNamesAndLabels(prefix: string, root: string = deepMirDatasetsFolder()): DeepMirLabelledNames {
  const files = findDataset(prefix, root);
  const folder = files.folder === "datasets" ? root : path.join(root, "benchmark");
  if (!files.labels) throw new InputError(`dataset '${files.prefix}' has no labels file (${files.prefix}_labels.npz)`, { file: folder });
  if (!files.names) throw new InputError(`dataset '${files.prefix}' has no names file (${files.prefix}_names.npz)`, { file: folder });
  const labels = labelsFrom(readNpzSingle(files.labels), files.labels);
  const names = namesFrom(readNpzSingle(files.names), files.names);
  if (names.length !== labels.length) {
    throw new InputError(`${names.length} names but ${labels.length} labels in ${files.labels}`, { file: files.names });
  }
  return { prefix: files.prefix, n: labels.length, labels, names };
}

/**
 * Reads one dataset with its images (e.g. `modhsa_train`, `hsa`; a `benchmark/` prefix is
 * accepted). Images are converted from float64 to bytes, refusing any value that is not an
 * integer in 0..255. Clear InputErrors for: an unknown prefix (lists the known ones); a prefix
 * whose images are not in the upstream snapshot; images without labels or names; shapes or
 * counts that disagree. `root` overrides the datasets folder.
 */
export function loadDeepMirDataset(prefix: string, root: string = deepMirDatasetsFolder()): DeepMirDataset {
  const files = findDataset(prefix, root);
  if (!files.images) {
    throw new InputError(
      `dataset '${files.prefix}' has ${[files.names && "names", files.labels && "labels"].filter(Boolean).join(" and ") || "no files"} but its images (${files.prefix}_images.npz) are not in the upstream ` +
        "snapshot (files of 4 MiB or more were left out; see premirna/SOURCE.md); loadDeepMirNamesAndLabels reads what is there",
      { file: path.join(root, files.folder === "datasets" ? "" : "benchmark", `${files.prefix}_images.npz`) },
    );
  }
  const imagesFile = files.images;
  if (!files.labels || !files.names) {
    throw new InputError(`images without ${!files.labels ? "labels" : "names"}: ${files.prefix}_${!files.labels ? "labels" : "names"}.npz is missing`, { file: imagesFile });
  }
  const { n, labels, names } = loadDeepMirNamesAndLabels(files.prefix, root);
  const images = imagesFrom(readNpzSingle(imagesFile), imagesFile);
  const count = images.length / HAIRPIN_IMAGE_SIZE;
  if (count !== n) throw new InputError(`${count} images but ${n} labels and names`, { file: imagesFile });
  return { prefix: files.prefix, n, labels, names, images };
}

/** int64, shape=(n, 1) or (n,), of 0 / 1 → Uint8Array, shape=(n,). */
function labelsFrom(array: NdArray, file: string): Uint8Array {
  const shapeOk = array.shape.length === 1 || (array.shape.length === 2 && array.shape[1] === 1);
  const data = array.data;
  const integers = data instanceof Float64Array || data instanceof Int32Array || data instanceof Uint8Array;
  if (!shapeOk || !integers || !/^(<[iu]8|<i4|\|u1|\|b1)$/.test(array.dtype)) {
    throw new InputError(`labels must be integers of shape (N, 1) or (N,), found ${array.dtype} (${array.shape.join(", ")})`, { file });
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < out.length; i++) {
    const v = data[i]!;
    if (v !== 0 && v !== 1) throw new InputError(`label ${v} at index ${i} is neither 0 nor 1`, { file });
    out[i] = v;
  }
  return out;
}

/**
 * A record name without its leading `>` marks (FASTA headers; `neghsa` has 6,355 names with two,
 * e.g. `>>hsa1_19500`, none of which collides with another name once stripped).
 */
function stripFastaMarks(name: string): string {
  let k = 0;
  while (name[k] === ">") k++;
  return k === 0 ? name : name.slice(k);
}

/** String array, shape=(n,) → names without leading `>`. */
function namesFrom(array: NdArray, file: string): string[] {
  if (!Array.isArray(array.data) || array.shape.length !== 1) {
    throw new InputError(`names must be a 1-d string array, found ${array.dtype} (${array.shape.join(", ")})`, { file });
  }
  return array.data.map(stripFastaMarks);
}

/**
 * float64 (or float32, uint8), shape=(n, 25, 100, 3), of integers 0..255 → Uint8Array of the same
 * shape, in one pass; errors name the image and pixel (e.g. images scaled to [0, 1]).
 */
export function imagesFrom(array: NdArray, file: string): Uint8Array {
  const [n, height, width, channels] = array.shape;
  const { data } = array;
  const numeric = array.dtype === "<f8" || array.dtype === "<f4" || array.dtype === "|u1";
  if (array.shape.length !== 4 || height !== HAIRPIN_IMAGE_HEIGHT || width !== HAIRPIN_IMAGE_WIDTH || channels !== HAIRPIN_IMAGE_CHANNELS || !numeric) {
    throw new InputError(
      `images must be float64, float32 or uint8 of shape (N, ${HAIRPIN_IMAGE_HEIGHT}, ${HAIRPIN_IMAGE_WIDTH}, ${HAIRPIN_IMAGE_CHANNELS}), found ${array.dtype} (${array.shape.join(", ")})`,
      { file },
    );
  }
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length);
  const bad = data instanceof Float64Array ? toBytes64(data, out) : toBytes32(data as Float32Array, out);
  if (bad >= 0) {
    const image = Math.floor(bad / HAIRPIN_IMAGE_SIZE);
    const rest = bad % HAIRPIN_IMAGE_SIZE;
    const row = Math.floor(rest / (HAIRPIN_IMAGE_WIDTH * HAIRPIN_IMAGE_CHANNELS));
    const column = Math.floor(rest / HAIRPIN_IMAGE_CHANNELS) % HAIRPIN_IMAGE_WIDTH;
    throw new InputError(
      `image ${image} (of ${n}), pixel row ${row}, column ${column}, channel ${rest % HAIRPIN_IMAGE_CHANNELS}: value ${data[bad]} is not an integer in 0..255`,
      { file },
    );
  }
  return out;
}

/**
 * Float64 → bytes in one pass. Returns the first index whose value is not an integer in 0..255,
 * else −1.
 *
 * toBytes64 and toBytes32 are the same loop twice on purpose, a performance choice (the
 * duplicates tool lists the pair): each loop sees one array type and stays monomorphic. Measured
 * on 225 MB of float64 images (28 M values, and the same values as float32; best of 15): one
 * loop over `Float64Array | Float32Array` takes as long for float64 (35 ms) but 1.2× as long for
 * float32 (42 ms against 35 ms); one float64 loop fed float32 data widened chunk by chunk into a
 * Float64Array, 1.35× (48–50 ms).
 */
function toBytes64(values: Float64Array, out: Uint8Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const byte = v & 255;
    if (byte !== v) return i;
    out[i] = byte;
  }
  return -1;
}

/** As {@link toBytes64} for float32 data. */
function toBytes32(values: Float32Array, out: Uint8Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const byte = v & 255;
    if (byte !== v) return i;
    out[i] = byte;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// saliency maps

/** The published average saliency maps, by name → path under `premirna/jacordero-deepmir`. */
export const SALIENCY_MAPS = {
  /** Average saliency over the true positives of `hsapseudo_test` (float64). */
  hsapseudo_tp_avg_map: "datasets/hsapseudo_tp_avg_map.npz",
  /** Average saliency over the true negatives of `hsapseudo_test` (float64). */
  hsapseudo_tn_avg_map: "datasets/hsapseudo_tn_avg_map.npz",
  /** Filtered average saliency, true positives (float32; the paper's figure). */
  tp_average_filtered_saliency: "notebooks/tp_average_filtered_saliency.npz",
  /** Filtered average saliency, true negatives (float32; the paper's figure). */
  tn_average_filtered_saliency: "notebooks/tn_average_filtered_saliency.npz",
} as const;
export type SaliencyMapName = keyof typeof SALIENCY_MAPS;

/** A 25 × 100 saliency map (one value per image pixel). */
export interface SaliencyMap {
  name: SaliencyMapName;
  file: string;
  height: number;
  width: number;
  /** shape=(25, 100), row-major, row 0 at the top. */
  values: Float64Array;
}

/** Path of a saliency map's `.npz` under the data folder. */
export function saliencyMapPath(name: SaliencyMapName): string {
  return dataPath("premirna", "jacordero-deepmir", ...SALIENCY_MAPS[name].split("/"));
}

/** Reads a published saliency map (float64 or float32, shape=(25, 100); float32 is widened exactly). `fileOverride` reads another file of that form. */
export function loadSaliencyMap(name: SaliencyMapName, fileOverride?: string): SaliencyMap {
  if (!Object.hasOwn(SALIENCY_MAPS, name)) throw new InputError(`unknown saliency map '${name}'; known: ${Object.keys(SALIENCY_MAPS).join(", ")}`);
  const file = fileOverride ?? saliencyMapPath(name);
  const array = readNpzSingle(file);
  if (array.shape.length !== 2 || array.shape[0] !== HAIRPIN_IMAGE_HEIGHT || array.shape[1] !== HAIRPIN_IMAGE_WIDTH) {
    throw new InputError(`a saliency map must have shape (${HAIRPIN_IMAGE_HEIGHT}, ${HAIRPIN_IMAGE_WIDTH}), found (${array.shape.join(", ")})`, { file });
  }
  if (!(array.data instanceof Float64Array || array.data instanceof Float32Array)) {
    throw new InputError(`a saliency map must be float64 or float32, found ${array.dtype}`, { file });
  }
  const values = array.data instanceof Float64Array ? array.data : Float64Array.from(array.data);
  return { name, file, height: HAIRPIN_IMAGE_HEIGHT, width: HAIRPIN_IMAGE_WIDTH, values };
}

// ---------------------------------------------------------------------------------------------
// derived/images_columns.tsv.gz

/** One image of the datasets in column form (premirna/SOURCE.md, "derived"). */
export interface ImageColumnsRow {
  /** Dataset prefix, e.g. `modhsa_train`, `hsa`. */
  dataset: string;
  /** Row of the image in its `<dataset>_images.npz`. */
  index: number;
  /** Record name with leading `>` removed (as {@link DeepMirLabelledNames.names}). */
  name: string;
  /** 1 = pre-miRNA, 0 = negative. */
  label: number;
  /** Number of non-white columns. */
  ncols: number;
  /** Colour of pixel row 12 per column: A / C / G / U, `-` = black (gap); length ncols. */
  top: string;
  /** Colour of pixel row 13 per column; length ncols. */
  bot: string;
  /** Upper bar length per column (covers rows 12 − len … 12); decoded from base-36 digits. */
  topLen: number[];
  /** Lower bar length per column (covers rows 13 … 13 + len). */
  botLen: number[];
  /** Columns before the first paired column (terminal-loop length). */
  loopCols: number;
  /** Hairpin sequence read back from the image. */
  decodedSeq: string;
  /** RNAfold 2.1.3 MFE structure of decodedSeq (dot-bracket). */
  structure: string;
  /** True when re-encoding decodedSeq with that structure gives the image exactly. */
  roundtripExact: boolean;
}

/** Path of `derived/images_columns.tsv.gz` under the data folder. */
export function imagesColumnsPath(): string {
  return dataPath("premirna", "derived", "images_columns.tsv.gz");
}

const IMAGE_COLUMNS_HEADER = [
  "dataset",
  "index",
  "name",
  "label",
  "ncols",
  "top",
  "bot",
  "top_len",
  "bot_len",
  "loop_cols",
  "decoded_seq",
  "rnafold213_mfe_structure",
  "roundtrip_exact",
] as const;

/**
 * Reads `images_columns.tsv.gz` (23,861 rows, one per available dataset image) into typed rows.
 * Checks every field: integers, labels and round-trip flags 0 / 1, strings of length ncols,
 * base-36 bar lengths; errors name the file, the 1-based data row and the column.
 */
export function readImagesColumns(file: string = imagesColumnsPath()): ImageColumnsRow[] {
  const frame = readTsv(file);
  const missing = IMAGE_COLUMNS_HEADER.filter((c) => !frame.columns.includes(c));
  if (missing.length) throw new InputError(`missing columns: ${missing.join(", ")}; found: ${frame.columns.join(", ")}`, { file });
  const column = Object.fromEntries(
    IMAGE_COLUMNS_HEADER.map((c) => [c, frame.getColumn(c).toArray() as (string | null)[]]),
  ) as Record<(typeof IMAGE_COLUMNS_HEADER)[number], (string | null)[]>;
  const rows: ImageColumnsRow[] = new Array(frame.height);
  for (let r = 0; r < frame.height; r++) {
    const text = (c: (typeof IMAGE_COLUMNS_HEADER)[number], allowEmpty = false): string => {
      const v = column[c][r];
      if ((v === null || v === undefined) && allowEmpty) return ""; // polars reads an empty field as null
      if (v === null || v === undefined || (!allowEmpty && v.length === 0)) throw new InputError("empty value", { file, row: r + 1, column: c });
      return v;
    };
    const integer = (c: (typeof IMAGE_COLUMNS_HEADER)[number], max = Number.MAX_SAFE_INTEGER): number => {
      const v = text(c);
      if (!/^\d+$/.test(v) || Number(v) > max) throw new InputError(`expected an integer 0..${max === Number.MAX_SAFE_INTEGER ? "" : max}, found '${v}'`, { file, row: r + 1, column: c });
      return Number(v);
    };
    const ncols = integer("ncols", HAIRPIN_IMAGE_WIDTH);
    const ofLength = (c: (typeof IMAGE_COLUMNS_HEADER)[number]): string => {
      const v = text(c, ncols === 0);
      if (v.length !== ncols) throw new InputError(`expected ${ncols} characters (ncols), found ${v.length}`, { file, row: r + 1, column: c });
      return v;
    };
    const lengths = (c: "top_len" | "bot_len"): number[] => {
      const v = ofLength(c);
      const out = new Array<number>(v.length);
      for (let k = 0; k < v.length; k++) {
        const digit = parseInt(v[k]!, 36);
        if (Number.isNaN(digit)) throw new InputError(`'${v[k]}' at column ${k} is not a base-36 digit`, { file, row: r + 1, column: c });
        out[k] = digit;
      }
      return out;
    };
    const top = ofLength("top");
    const bot = ofLength("bot");
    for (const [c, v] of [["top", top], ["bot", bot]] as const) {
      const bad = /[^ACGU-]/.exec(v);
      if (bad) throw new InputError(`colour '${bad[0]}' at column ${bad.index} is not one of A, C, G, U, -`, { file, row: r + 1, column: c });
    }
    const name = text("name");
    rows[r] = {
      dataset: text("dataset"),
      index: integer("index"),
      name: stripFastaMarks(name),
      label: integer("label", 1),
      ncols,
      top,
      bot,
      topLen: lengths("top_len"),
      botLen: lengths("bot_len"),
      loopCols: integer("loop_cols", HAIRPIN_IMAGE_WIDTH),
      decodedSeq: text("decoded_seq", true),
      structure: text("rnafold213_mfe_structure", true),
      roundtripExact: integer("roundtrip_exact", 1) === 1,
    };
  }
  return rows;
}

/** Writes images (Uint8Array, shape=(n, 25, 100, 3)) as a deepMir-style `.npz` (uint8 `|u1`, member `arr_0`), atomically. */
export function writeImagesNpz(file: string, images: Uint8Array): void {
  if (images.length % HAIRPIN_IMAGE_SIZE !== 0) throw new Error(`image bytes ${images.length} are not whole 25 × 100 × 3 images`);
  const n = images.length / HAIRPIN_IMAGE_SIZE;
  writeNpz(file, { arr_0: { dtype: "|u1", shape: [n, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_CHANNELS], data: images } });
}

/** Writes names as a deepMir-style `.npz` of a NumPy unicode array `<U{max length}`, atomically. */
export function writeNamesNpz(file: string, names: readonly string[]): void {
  writeNpz(file, { arr_0: { dtype: "<U", shape: [names.length], data: [...names] } });
}

/** Images (Uint8Array, shape=(n, 25, 100, 3)) and names (shape=(n,)) from a deepMir-style `.npz` (`<prefix>_images.npz`, names from a sibling `<prefix>_names.npz` when there is one, else the 0-based row number). */
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
