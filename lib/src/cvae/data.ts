import { InputError } from "../errors";
import { mulberry32, shuffleInPlace } from "../random";
import { gcContent } from "../sequence";
import { DeepMirDataset, loadDeepMirDataset } from "../hairpin/datasets";
import { LEAK_KMER } from "../hairpin/experiment";
import { decodeHairpinImage, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH, HairpinColumns } from "../hairpin/image";
import { columnsToTokens, isPairedToken, TOKEN_COLUMNS } from "./tokens";

/**
 * The conditional VAE's data: hairpin images of the deepMir sets read back into column tokens
 * (tokens.ts), with their class and structure profile, deduplicated by decoded sequence, and
 * split three ways so that no hairpin is shared between the parts:
 * - test (`heldOut`): default `modhsa_test`, the classifier's test set; reported numbers only;
 * - validation: a seeded part of one training set (default a quarter of `modhsa_train`, the
 *   human set closest to the test set); every generation setting is chosen on it;
 * - train: everything else, without any image whose decoded hairpin shares a
 *   {@link LEAK_KMER}-nt stretch with a test or validation hairpin.
 */

/** The profile the structure part of the latent is conditioned on: [stem pairs, loop nt, GC fraction]. */
export const PROFILE_NAMES = ["stem", "loop", "gc"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const PROFILE_SIZE = PROFILE_NAMES.length;

/** The shape of a canonical pre-miRNA hairpin: at least 18 base pairs, a terminal loop of 3–20 nt. */
export const CANONICAL_HAIRPIN: Readonly<{ minStemPairs: number; loopRange: readonly [number, number] }> = Object.freeze({ minStemPairs: 18, loopRange: [3, 20] as const });

/** Whether profile row `row` of `profiles` shape=(n, 3) has the {@link CANONICAL_HAIRPIN} shape. */
export function isCanonicalProfile(profiles: Float32Array, row: number): boolean {
  const stem = profiles[row * PROFILE_SIZE]!, loop = profiles[row * PROFILE_SIZE + 1]!;
  return stem >= CANONICAL_HAIRPIN.minStemPairs && loop >= CANONICAL_HAIRPIN.loopRange[0] && loop <= CANONICAL_HAIRPIN.loopRange[1];
}

/** Images as tokens with labels and profiles. Row i of every array belongs together. */
export interface VaeDataset {
  n: number;
  /** shape=(n, 100): column tokens, end-padded. */
  tokens: Uint8Array;
  /** shape=(n,): 1 = pre-miRNA, 0 = not. */
  labels: Uint8Array;
  /** shape=(n, 3): stem pairs (paired columns), terminal-loop nucleotides (columns before the first pair), GC fraction of the sequence. */
  profiles: Float32Array;
  /** The hairpin sequence each image decodes to. */
  sequences: string[];
  /** `<dataset>:<name>` of each row (the first one when several images show the same hairpin). */
  sources: string[];
}

/** The deepMir sets the VAE trains on by default: human and other-species positives, pseudo-hairpin and shuffled negatives. */
export const VAE_TRAINING_SETS: readonly string[] = [
  "modhsa_train", "hsa", "hsaplus", "mmu", "mmuplus", "ggaplus", "dreplus", "mirgenedb", "hsapseudo", "chen", "shuffled",
];

/** Profile of one column form and its sequence: [stem pairs, loop nt, GC fraction]. */
export function hairpinProfile(columns: HairpinColumns | Uint8Array, sequence: string): [number, number, number] {
  let stem = 0;
  let loop = -1;
  if (columns instanceof Uint8Array) {
    for (let x = 0; x < columns.length && columns[x] !== 0; x++) {
      if (isPairedToken(columns[x]!)) {
        stem++;
        if (loop < 0) loop = x;
      }
    }
    if (loop < 0) loop = columns.findIndex((t) => t === 0) < 0 ? columns.length : columns.findIndex((t) => t === 0);
  } else {
    columns.forEach((c, x) => {
      if (c.paired) {
        stem++;
        if (loop < 0) loop = x;
      }
    });
    if (loop < 0) loop = columns.length;
  }
  return [stem, loop, gcContent(sequence)];
}

/** What {@link vaeRowsFromImages} kept and dropped. */
export interface VaeImportReport {
  images: number;
  /** Images the column vocabulary cannot describe (multi-branch drawings, > 100 columns, …). */
  notRepresentable: number;
}

/**
 * Reads every image of `set` back into tokens ({@link decodeHairpinImage}) and keeps those the
 * column vocabulary describes exactly (tokens.ts: single-stem drawings; multi-branch folds,
 * which the encoder draws with nucleotides lost, are not). Throws an InputError naming the image
 * for a pixel that is not a hairpin drawing.
 */
export function vaeRowsFromImages(set: Pick<DeepMirDataset, "prefix" | "n" | "images" | "labels" | "names">): { rows: VaeDataset; report: VaeImportReport } {
  const tokens: Uint8Array[] = [];
  const labels: number[] = [];
  const profiles: number[] = [];
  const sequences: string[] = [];
  const sources: string[] = [];
  let notRepresentable = 0;
  for (let i = 0; i < set.n; i++) {
    const data = set.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE);
    let decoded;
    try {
      decoded = decodeHairpinImage({ height: HAIRPIN_IMAGE_HEIGHT, width: HAIRPIN_IMAGE_WIDTH, data });
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${set.prefix} image ${i} (${set.names[i]}): ${e.message}`);
      throw e;
    }
    const t = columnsToTokens(decoded.columns);
    if (!t || decoded.sequence.length === 0) {
      notRepresentable++;
      continue;
    }
    tokens.push(t);
    labels.push(set.labels[i]!);
    profiles.push(...hairpinProfile(decoded.columns, decoded.sequence));
    sequences.push(decoded.sequence);
    sources.push(`${set.prefix}:${set.names[i]}`);
  }
  const rows: VaeDataset = {
    n: tokens.length,
    tokens: concatTokens(tokens),
    labels: Uint8Array.from(labels),
    profiles: Float32Array.from(profiles),
    sequences,
    sources,
  };
  return { rows, report: { images: set.n, notRepresentable } };
}

function concatTokens(rows: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(rows.length * TOKEN_COLUMNS);
  rows.forEach((r, k) => out.set(r, k * TOKEN_COLUMNS));
  return out;
}

/** Rows `indices` of a dataset, in that order. */
export function selectVaeRows(d: VaeDataset, indices: ArrayLike<number>): VaeDataset {
  const n = indices.length;
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  const profiles = new Float32Array(n * 3);
  const labels = new Uint8Array(n);
  const sequences: string[] = [];
  const sources: string[] = [];
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!(i >= 0 && i < d.n)) throw new InputError(`row ${i} is outside 0..${d.n - 1}`);
    tokens.set(d.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS);
    profiles.set(d.profiles.subarray(i * 3, i * 3 + 3), k * 3);
    labels[k] = d.labels[i]!;
    sequences.push(d.sequences[i]!);
    sources.push(d.sources[i]!);
  }
  return { n, tokens, labels, profiles, sequences, sources };
}

/** Options of {@link buildVaeData}. */
export interface VaeDataOptions {
  /** Sets to train on, in order of preference when several show the same hairpin. Default {@link VAE_TRAINING_SETS}. */
  trainSets?: readonly string[];
  /** The held-out set. Default `modhsa_test`. */
  heldOutSet?: string;
  /** Keep at most this many training rows (seeded, both classes in proportion); default all. */
  maxTrain?: number;
  /** Keep at most this many held-out rows (seeded, both classes in proportion); default all. */
  maxHeldOut?: number;
  /** Seed of the subsampling. Default 1. */
  seed?: number;
  /**
   * The validation split: `fraction` of the rows `set` keeps (after deduplication and the test
   * leak guard), drawn with `seed`, each class in proportion. Default {@link DEFAULT_VAE_VALIDATION};
   * `false`: no validation split (all of it trains).
   */
  validation?: Partial<VaeValidationOptions> | false;
  /** Keep at most this many validation rows (seeded, both classes in proportion); default all. */
  maxValidation?: number;
  /** Reads a set (default {@link loadDeepMirDataset}; tests pass their own). */
  load?: (prefix: string) => Pick<DeepMirDataset, "prefix" | "n" | "images" | "labels" | "names">;
}

/** Where the validation split comes from (see {@link VaeDataOptions.validation}). */
export interface VaeValidationOptions {
  set: string;
  fraction: number;
  seed: number;
}

/** A quarter of `modhsa_train` (≈ 450 hairpins), seed 1789. */
export const DEFAULT_VAE_VALIDATION: Readonly<VaeValidationOptions> = Object.freeze({ set: "modhsa_train", fraction: 0.25, seed: 1789 });

/** Per source set: images, not representable, duplicates of an earlier hairpin, held-out leaks, kept. */
export interface VaeDataReport {
  set: string;
  images: number;
  notRepresentable: number;
  duplicates: number;
  /** Hairpins shown with both labels (dropped everywhere). */
  conflicting: number;
  /** Removed because the hairpin shares a {@link LEAK_KMER}-nt stretch with a held-out one. */
  heldOutLeaks: number;
  /** Moved to the validation split (rows of the validation set only). */
  validation: number;
  /** Removed because the hairpin shares a {@link LEAK_KMER}-nt stretch with a validation one. */
  validationLeaks: number;
  kept: number;
  positives: number;
  negatives: number;
}

/** The VAE's training, validation and held-out (test) data. */
export interface VaeData {
  train: VaeDataset;
  /** The validation split (empty when `validation: false`). */
  validation: VaeDataset;
  /** Where the validation split came from; null without one. */
  validationSplit: VaeValidationOptions | null;
  /** The test split. */
  heldOut: VaeDataset;
  heldOutSet: string;
  /** One row per training set, then one for the validation split and one for the held-out set. */
  report: VaeDataReport[];
}

/** A test for "shares a `LEAK_KMER`-nt stretch with (or equals) one of `sequences`". */
function leakGuard(sequences: Iterable<string>): (s: string) => boolean {
  const kmers = new Set<string>();
  const whole = new Set<string>();
  for (const sequence of sequences) {
    whole.add(sequence);
    for (let k = 0; k + LEAK_KMER <= sequence.length; k++) kmers.add(sequence.slice(k, k + LEAK_KMER));
  }
  return (s) => {
    if (whole.has(s)) return true;
    for (let k = 0; k + LEAK_KMER <= s.length; k++) if (kmers.has(s.slice(k, k + LEAK_KMER))) return true;
    return false;
  };
}

/**
 * Training and held-out data for the VAE (see the module comment): every image of the
 * training sets read into tokens (representable ones only), deduplicated by decoded sequence
 * (the first set listed wins; a hairpin shown with both labels is dropped), without any
 * hairpin sharing a {@link LEAK_KMER}-nt stretch with a held-out image (all held-out images
 * count, representable or not); the held-out set deduplicated the same way.
 */
export function buildVaeData(opts: VaeDataOptions = {}): VaeData {
  const load = opts.load ?? loadDeepMirDataset;
  const heldOutSet = opts.heldOutSet ?? "modhsa_test";
  const trainSets = opts.trainSets ?? VAE_TRAINING_SETS;
  if (trainSets.includes(heldOutSet)) throw new InputError(`the held-out set '${heldOutSet}' is also a training set`);
  const heldOutImages = load(heldOutSet);
  const held = vaeRowsFromImages(heldOutImages);
  // Every held-out image counts for the leak guard, also those the vocabulary cannot describe.
  const leaks = leakGuard(Array.from({ length: heldOutImages.n }, (_, i) => {
    const data = heldOutImages.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE);
    return decodeHairpinImage({ height: HAIRPIN_IMAGE_HEIGHT, width: HAIRPIN_IMAGE_WIDTH, data }, { verify: false }).sequence;
  }));
  const validationSplit = opts.validation === false ? null : { ...DEFAULT_VAE_VALIDATION, ...(opts.validation ?? {}) };
  if (validationSplit) {
    if (!trainSets.includes(validationSplit.set)) throw new InputError(`the validation set '${validationSplit.set}' is not one of the training sets (${trainSets.join(", ")})`);
    if (!(validationSplit.fraction > 0 && validationSplit.fraction < 1)) throw new InputError(`the validation fraction must be in (0, 1), got ${validationSplit.fraction}`);
  }

  // Labels per hairpin over all training sets (a hairpin with both labels is dropped).
  const imported = trainSets.map((prefix) => ({ prefix, ...vaeRowsFromImages(load(prefix)) }));
  const labelsOf = new Map<string, number>();
  for (const { rows } of imported) {
    rows.sequences.forEach((s, i) => labelsOf.set(s, (labelsOf.get(s) ?? 0) | (1 << rows.labels[i]!)));
  }
  const report: VaeDataReport[] = [];
  const seen = new Set<string>();
  const parts: VaeDataset[] = [];
  const counts: { duplicates: number; conflicting: number; heldOutLeaks: number }[] = [];
  for (const { rows } of imported) {
    let duplicates = 0, conflicting = 0, heldOutLeaks = 0;
    const keep: number[] = [];
    rows.sequences.forEach((s, i) => {
      if (labelsOf.get(s) === 3) conflicting++;
      else if (seen.has(s)) duplicates++;
      else if (leaks(s)) heldOutLeaks++;
      else keep.push(i);
      seen.add(s);
    });
    parts.push(selectVaeRows(rows, keep));
    counts.push({ duplicates, conflicting, heldOutLeaks });
  }
  // The validation split: a seeded, class-stratified part of one set's kept rows; then every
  // training row that shares a stretch with a validation hairpin goes.
  let validation = selectVaeRows(parts[0]!, []);
  const moved = parts.map(() => 0);
  if (validationSplit) {
    const k = trainSets.indexOf(validationSplit.set);
    const from = parts[k]!;
    const chosen = stratifiedRows(from, Math.round(validationSplit.fraction * from.n), validationSplit.seed);
    const chosenSet = new Set(chosen);
    validation = selectVaeRows(from, chosen);
    parts[k] = selectVaeRows(from, [...from.labels.keys()].filter((i) => !chosenSet.has(i)));
    moved[k] = validation.n;
  }
  const validationLeaks = validationSplit ? leakGuard(validation.sequences) : () => false;
  imported.forEach(({ prefix, report: r }, k) => {
    const kept = [...parts[k]!.labels.keys()].filter((i) => !validationLeaks(parts[k]!.sequences[i]!));
    const leaked = parts[k]!.n - kept.length;
    parts[k] = selectVaeRows(parts[k]!, kept);
    const part = parts[k]!;
    const positives = part.labels.reduce((a, b) => a + b, 0);
    report.push({ set: prefix, images: r.images, notRepresentable: r.notRepresentable, ...counts[k]!, validation: moved[k]!, validationLeaks: leaked, kept: part.n, positives, negatives: part.n - positives });
  });
  let train = concatVaeDatasets(parts);
  // The held-out set, deduplicated.
  const heldSeen = new Set<string>();
  const heldKeep: number[] = [];
  let heldDuplicates = 0;
  held.rows.sequences.forEach((s, i) => {
    if (heldSeen.has(s)) heldDuplicates++;
    else heldKeep.push(i);
    heldSeen.add(s);
  });
  let heldOut = selectVaeRows(held.rows, heldKeep);
  const seed = opts.seed ?? 1;
  if (opts.maxTrain !== undefined) train = stratifiedSubset(train, opts.maxTrain, seed);
  if (opts.maxHeldOut !== undefined) heldOut = stratifiedSubset(heldOut, opts.maxHeldOut, seed + 1);
  if (opts.maxValidation !== undefined && validation.n > 0) validation = stratifiedSubset(validation, opts.maxValidation, seed + 2);
  if (validationSplit) {
    const validationPositives = validation.labels.reduce((a, b) => a + b, 0);
    report.push({
      set: `${validationSplit.set} (validation)`, images: validation.n, notRepresentable: 0, duplicates: 0, conflicting: 0, heldOutLeaks: 0,
      validation: 0, validationLeaks: 0, kept: validation.n, positives: validationPositives, negatives: validation.n - validationPositives,
    });
  }
  const heldPositives = heldOut.labels.reduce((a, b) => a + b, 0);
  report.push({
    set: `${heldOutSet} (held out)`, images: held.report.images, notRepresentable: held.report.notRepresentable, duplicates: heldDuplicates,
    conflicting: 0, heldOutLeaks: 0, validation: 0, validationLeaks: 0, kept: heldOut.n, positives: heldPositives, negatives: heldOut.n - heldPositives,
  });
  return { train, validation, validationSplit, heldOut, heldOutSet, report };
}

/** Rows of several datasets, one after the other. */
export function concatVaeDatasets(parts: readonly VaeDataset[]): VaeDataset {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  const profiles = new Float32Array(n * 3);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    tokens.set(p.tokens, at * TOKEN_COLUMNS);
    profiles.set(p.profiles, at * 3);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { n, tokens, labels, profiles, sequences: parts.flatMap((p) => p.sequences), sources: parts.flatMap((p) => p.sources) };
}

/**
 * At most `count` rows, each class in proportion (seeded choice, rows kept in their original
 * order). `count` ≥ the size returns the dataset unchanged.
 */
export function stratifiedSubset(d: VaeDataset, count: number, seed: number): VaeDataset {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`the subset size must be a positive integer, got ${count}`);
  if (count >= d.n) return d;
  return selectVaeRows(d, stratifiedRows(d, count, seed));
}

/** Indices (ascending) of about `count` rows of `d`, each class in proportion, seeded. */
function stratifiedRows(d: VaeDataset, count: number, seed: number): number[] {
  const random = mulberry32(seed);
  const chosen: number[] = [];
  for (const label of [0, 1]) {
    const rows = [...d.labels.keys()].filter((i) => d.labels[i] === label);
    shuffleInPlace(rows, random);
    chosen.push(...rows.slice(0, Math.round((count * rows.length) / d.n)));
  }
  return chosen.sort((a, b) => a - b);
}
