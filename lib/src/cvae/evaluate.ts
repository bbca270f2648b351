import * as tf from "@tensorflow/tfjs";
import { InputError, shorten } from "../errors";
import { predict } from "../predict";
import { predictHairpinImages } from "../hairpin/classifier";
import { decodeProbabilities, renderTokens } from "./generate";
import { HAIRPIN_IMAGE_SIZE, hairpinColumns, HairpinColumns, renderHairpinColumns } from "../hairpin/image";
import { nearestEditDistances, NearestSequence } from "./novelty";
import { FoldedSequence, FoldOptions, foldSequences } from "../hairpin/rnafold";
import { VaeDataset } from "./data";
import { Cvae, decodeCvae, encodeCvae, latentSize } from "./model";
import { quantile } from "../metrics";
import { hairpinSanity, SanityResult, SanityRules } from "./sanity";
import { tokensToColumns, tokensToOneHot, TOKEN_COLUMNS } from "./tokens";

/**
 * Evaluating generated hairpins: how many the classifier calls pre-miRNA; whether
 * RNAfold folds each decoded sequence into the drawn structure (refold → re-encode → same
 * image); the hairpin sanity rules (sanity.ts) on that fold; and the VAE's reconstruction of
 * held-out images. Novelty (edit distance to the training set) is in novelty.ts.
 */

/** The refold check of one sample. */
export interface RefoldResult {
  /** RNAfold's MFE structure of the decoded sequence and its energy (kcal/mol). */
  fold: string;
  mfe: number;
  /** The re-encoded image equals the generated one, pixel for pixel. */
  exact: boolean;
  /** Fraction of columns (over the longer of the two drawings) with the same symbols and bar lengths. */
  columnAgreement: number;
}

/** Fraction of columns of two column forms that agree (symbols and both bar lengths), over the longer one. */
export function columnAgreement(a: HairpinColumns, b: HairpinColumns): number {
  const n = Math.max(a.length, b.length);
  if (n === 0) return 1;
  let same = 0;
  for (let x = 0; x < Math.min(a.length, b.length); x++) {
    const p = a[x]!, q = b[x]!;
    if (p.upper === q.upper && p.lower === q.lower && p.upperLength === q.upperLength && p.lowerLength === q.lowerLength) same++;
  }
  return same / n;
}

/**
 * Folds every sequence with RNAfold (one batch) and re-encodes it with its MFE structure; a
 * sample passes when the re-encoded image is the generated one exactly. A fold without a
 * terminal loop cannot be drawn: not exact, agreement 0; so is an empty sequence (not folded).
 * `columns[i]` is sample i's drawing.
 */
export async function refoldCheck(sequences: readonly string[], columns: readonly HairpinColumns[], fold: FoldOptions = {}): Promise<RefoldResult[]> {
  if (sequences.length !== columns.length) throw new InputError(`${sequences.length} sequences but ${columns.length} drawings`);
  // A drawing may show no nucleotide to read (e.g. only gaps on the upper half before any pair): nothing to fold.
  const foldable = [...sequences.keys()].filter((i) => sequences[i]!.length > 0);
  const folded = await foldSequences(foldable.map((i) => sequences[i]!), fold); // RNAfold --jobs: all cores
  const byIndex = new Map(foldable.map((i, k) => [i, folded[k]!]));
  return sequences.map((_, i) => {
    const f = byIndex.get(i);
    return f ? refoldOne(f, columns[i]!) : { fold: "", mfe: 0, exact: false, columnAgreement: 0 };
  });
}

function refoldOne(f: FoldedSequence, drawn: HairpinColumns): RefoldResult {
  let again: HairpinColumns;
  try {
    again = hairpinColumns(f.sequence, f.structure);
  } catch (e) {
    if (e instanceof InputError) return { fold: f.structure, mfe: f.mfe, exact: false, columnAgreement: 0 };
    throw e;
  }
  const a = renderHairpinColumns(drawn).data;
  const b = renderHairpinColumns(again).data;
  let exact = a.length === b.length;
  for (let k = 0; exact && k < a.length; k++) if (a[k] !== b[k]) exact = false;
  return { fold: f.structure, mfe: f.mfe, exact, columnAgreement: columnAgreement(drawn, again) };
}

/** Nucleotide composition of a set of sequences (means over sequences). */
export interface SequenceComposition {
  n: number;
  /** Mean fraction of A, C, G, U per sequence. */
  a: number;
  c: number;
  g: number;
  u: number;
  /** Mean length of the longest single-nucleotide run. */
  longestRun: number;
  /** Fraction of sequences holding a run of one nucleotide at least `runThreshold` long. */
  withLongRun: number;
  runThreshold: number;
}

/**
 * Composition of RNA sequences (A, C, G, U; T read as U), to compare generated hairpins with
 * real ones: low-complexity samples (e.g. a G-run arm pairing a pyrimidine arm through G–U and
 * G–C pairs) show as skewed fractions and long runs. `runThreshold` default 8.
 */
export function sequenceComposition(sequences: readonly string[], runThreshold = 8): SequenceComposition {
  const sums = { A: 0, C: 0, G: 0, U: 0 };
  let runs = 0;
  let withLongRun = 0;
  for (const raw of sequences) {
    const s = raw.toUpperCase().replace(/T/g, "U");
    if (s.length === 0) throw new InputError("an empty sequence has no composition");
    let longest = 0;
    for (let i = 0, run = 0; i < s.length; i++) {
      const base = s[i]!;
      if (!(base === "A" || base === "C" || base === "G" || base === "U")) throw new InputError(`sequence ${shorten(raw)} has '${base}' at position ${i + 1} (expected A, C, G, U)`);
      sums[base] += 1 / s.length;
      run = i > 0 && base === s[i - 1] ? run + 1 : 1;
      if (run > longest) longest = run;
    }
    runs += longest;
    if (longest >= runThreshold) withLongRun++;
  }
  const n = sequences.length;
  const mean = (x: number) => (n ? x / n : NaN);
  return { n, a: mean(sums.A), c: mean(sums.C), g: mean(sums.G), u: mean(sums.U), longestRun: mean(runs), withLongRun: mean(withLongRun), runThreshold };
}

/** Fraction of images ([n, 25, 100, 3] bytes) the classifier calls pre-miRNA (P ≥ threshold), with the probabilities. */
export function classifierCalls(classifier: tf.LayersModel, images: Uint8Array, threshold = 0.5): { fraction: number; probabilities: Float32Array } {
  const probabilities = predictHairpinImages(classifier, images);
  let calls = 0;
  for (const p of probabilities) if (p >= threshold) calls++;
  return { fraction: probabilities.length ? calls / probabilities.length : NaN, probabilities };
}

/** Reconstruction of held-out images by the CVAE (posterior mean → decoder → structured decoding). */
export interface ReconstructionMetrics {
  n: number;
  /** Per column and half, the colour (A, C, G, U, gap, or white past the hairpin) agrees; over the longer of the true and reconstructed hairpin. */
  colourAccuracy: number;
  /** Per column and half, the bar length agrees (same denominator). */
  barAccuracy: number;
  /** Whole column (both colours and bars) agrees (over the longer one). */
  columnAccuracy: number;
  /** Images reconstructed pixel for pixel. */
  exactImages: number;
  /** Reconstructed hairpins of the true number of columns. */
  sameLength: number;
  /** Per image, in row order. */
  perImageColourAccuracy: Float64Array;
}

/**
 * Encodes `d`'s images with the CVAE (posterior mean), decodes them and compares the drawings
 * (see {@link ReconstructionMetrics}). Inference mode, batches of `batchSize`.
 */
export function reconstructionMetrics(cvae: Cvae, d: Pick<VaeDataset, "n" | "tokens">, batchSize = 128): ReconstructionMetrics {
  const means = encodeMeans(cvae, d.tokens, d.n, batchSize);
  const D = latentSize(cvae.config);
  const probabilities = predict((z) => tf.softmax(decodeCvae(cvae, z as tf.Tensor2D)), { n: d.n, make: (s, e) => tf.tensor2d(means.subarray(s * D, e * D), [e - s, D]) }, { batchSize }).values;
  const tokens = decodeProbabilities(probabilities);
  const { columns } = renderTokens(tokens);
  let colour = 0, bar = 0, column = 0, total = 0, columnsTotal = 0, exact = 0, sameLength = 0;
  const perImage = new Float64Array(d.n);
  for (let i = 0; i < d.n; i++) {
    const truth = tokensToColumns(d.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS));
    const got = columns[i]!;
    const n = Math.max(truth.length, got.length);
    let c = 0;
    for (let x = 0; x < n; x++) {
      const t = truth[x], g = got[x];
      const tu = t?.upper ?? "white", tl = t?.lower ?? "white", gu = g?.upper ?? "white", gl = g?.lower ?? "white";
      c += (tu === gu ? 1 : 0) + (tl === gl ? 1 : 0);
      bar += (t && g && t.upperLength === g.upperLength ? 1 : 0) + (t && g && t.lowerLength === g.lowerLength ? 1 : 0);
      if (t && g && tu === gu && tl === gl && t.upperLength === g.upperLength && t.lowerLength === g.lowerLength) column++;
    }
    colour += c;
    total += 2 * n;
    columnsTotal += n;
    perImage[i] = n ? c / (2 * n) : 1;
    if (truth.length === got.length) sameLength++;
    const a = renderHairpinColumns(truth).data, b = renderHairpinColumns(got).data;
    let same = true;
    for (let k = 0; same && k < a.length; k++) if (a[k] !== b[k]) same = false;
    if (same) exact++;
  }
  return {
    n: d.n, colourAccuracy: colour / total, barAccuracy: bar / total, columnAccuracy: column / columnsTotal,
    exactImages: exact / d.n, sameLength: sameLength / d.n, perImageColourAccuracy: perImage,
  };
}

/** Posterior means of token rows shape=(n, 100) (one-hot images built per batch): shape=(n, D). */
export function encodeMeans(cvae: Cvae, tokens: Uint8Array, n: number, batchSize = 128): Float32Array {
  return predict((x) => encodeCvae(cvae, x as tf.Tensor4D).mean, {
    n,
    make: (s, e) => tf.tensor4d(tokensToOneHot(tokens.subarray(s * TOKEN_COLUMNS, e * TOKEN_COLUMNS), e - s), [e - s, 25, 100, 5]),
  }, { batchSize }).values;
}

/** Posterior means and log-variances of token rows shape=(n, 100), in one encoder pass: each shape=(n, D). */
export function encodePosteriors(cvae: Cvae, tokens: Uint8Array, n: number, batchSize = 128): { mean: Float32Array; logVar: Float32Array } {
  const both = predict((x) => {
    const { mean, logVar } = encodeCvae(cvae, x as tf.Tensor4D);
    return tf.concat([mean, logVar], 1);
  }, {
    n,
    make: (s, e) => tf.tensor4d(tokensToOneHot(tokens.subarray(s * TOKEN_COLUMNS, e * TOKEN_COLUMNS), e - s), [e - s, 25, 100, 5]),
  }, { batchSize }).values;
  const D = latentSize(cvae.config);
  const mean = new Float32Array(n * D), logVar = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    mean.set(both.subarray(2 * i * D, (2 * i + 1) * D), i * D);
    logVar.set(both.subarray((2 * i + 1) * D, (2 * i + 2) * D), i * D);
  }
  return { mean, logVar };
}

/** Posterior means of RGB images ([n, 25, 100, 3] bytes, any hairpin drawing): shape=(n, D). */
export function encodeImageMeans(cvae: Cvae, images: Uint8Array, batchSize = 128): Float32Array {
  const n = images.length / HAIRPIN_IMAGE_SIZE;
  return predict((x) => encodeCvae(cvae, x as tf.Tensor4D).mean, { n, make: (s, e) => tf.tensor4d(rgbToOneHot(images.subarray(s * HAIRPIN_IMAGE_SIZE, e * HAIRPIN_IMAGE_SIZE)), [e - s, 25, 100, 5]) }, { batchSize }).values;
}

/**
 * One-hot 5-channel images of RGB images: A yellow, C blue, G red, U green, gap black → channels
 * 0–4, white → all zero. Returns shape=(n, 25, 100, 5). An InputError names a pixel of any other
 * colour.
 */
export function rgbToOneHot(images: Uint8Array): Float32Array {
  if (images.length % HAIRPIN_IMAGE_SIZE !== 0) throw new InputError(`image bytes (${images.length}) are not whole 25 × 100 × 3 images`);
  const pixels = images.length / 3;
  const out = new Float32Array(pixels * 5);
  for (let p = 0; p < pixels; p++) {
    const r = images[3 * p]!, g = images[3 * p + 1]!, b = images[3 * p + 2]!;
    let channel: number;
    if (r === 255 && g === 255 && b === 255) continue;
    else if (r === 255 && g === 255 && b === 0) channel = 0;
    else if (r === 0 && g === 0 && b === 255) channel = 1;
    else if (r === 255 && g === 0 && b === 0) channel = 2;
    else if (r === 0 && g === 255 && b === 0) channel = 3;
    else if (r === 0 && g === 0 && b === 0) channel = 4;
    else {
      const image = Math.floor(p / 2500);
      throw new InputError(`image ${image}, pixel (row ${Math.floor((p % 2500) / 100)}, column ${p % 100}) has colour (${r}, ${g}, ${b}), not a hairpin colour`);
    }
    out[5 * p + channel] = 1;
  }
  return out;
}

/** Everything measured on a set of generated hairpins. */
export interface GeneratedEvaluation {
  n: number;
  refold: RefoldResult[];
  sanity: SanityResult[];
  /** P(pre-miRNA) of each generated image by the judge classifier (null without one). */
  classifierProbabilities: Float32Array | null;
  /** Edit distance to the nearest training sequence (null without training sequences). */
  novelty: NearestSequence[] | null;
  summary: GeneratedSummary;
  /** Wall-clock seconds of RNAfold + re-encoding, the classifier, the novelty search. */
  seconds: { refold: number; classifier: number; novelty: number };
}

/** The headline fractions of a {@link GeneratedEvaluation}. */
export interface GeneratedSummary {
  n: number;
  /** Fraction whose refolded, re-encoded image is the generated one exactly. */
  refoldExact: number;
  /** Mean per-column agreement of generated and re-encoded drawings. */
  columnAgreement: number;
  /** Fraction passing all sanity rules, and each rule alone. */
  sanityPass: number;
  oneLoop: number;
  stemOk: number;
  loopOk: number;
  mfeOk: number;
  /** Fraction the classifier calls pre-miRNA (P ≥ 0.5), or null. */
  classifierPreMirna: number | null;
  /** Median and mean edit distance to the nearest training sequence, fraction with distance 0 (copies), or null. */
  noveltyMedian: number | null;
  noveltyMean: number | null;
  copies: number | null;
  /** Distinct sequences / n. */
  distinct: number;
}

/**
 * Evaluates generated hairpins: refold check and sanity rules on RNAfold's folds (one batch),
 * the classifier's calls on the generated images (when `classifier` is given), and novelty
 * against `trainingSequences` (when given).
 */
export async function evaluateGeneratedHairpins(
  generated: { sequences: readonly string[]; columns: readonly HairpinColumns[]; images: Uint8Array },
  opts: { rules: SanityRules; classifier?: tf.LayersModel | null; trainingSequences?: readonly string[] | null; fold?: FoldOptions },
): Promise<GeneratedEvaluation> {
  const n = generated.sequences.length;
  let t = performance.now();
  const refold = await refoldCheck(generated.sequences, generated.columns, opts.fold);
  const sanity = refold.map((r) => hairpinSanity(r.fold, r.mfe, opts.rules));
  const refoldSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const classifierProbabilities = opts.classifier ? classifierCalls(opts.classifier, generated.images).probabilities : null;
  const classifierSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const novelty = opts.trainingSequences ? nearestEditDistances(generated.sequences, opts.trainingSequences) : null;
  const noveltySeconds = (performance.now() - t) / 1000;
  const fraction = (f: (i: number) => boolean) => {
    let c = 0;
    for (let i = 0; i < n; i++) if (f(i)) c++;
    return n ? c / n : NaN;
  };
  const distances = novelty?.map((d) => d.distance) ?? null;
  const summary: GeneratedSummary = {
    n,
    refoldExact: fraction((i) => refold[i]!.exact),
    columnAgreement: n ? refold.reduce((s, r) => s + r.columnAgreement, 0) / n : NaN,
    sanityPass: fraction((i) => sanity[i]!.pass),
    oneLoop: fraction((i) => sanity[i]!.oneLoop),
    stemOk: fraction((i) => sanity[i]!.stemOk),
    loopOk: fraction((i) => sanity[i]!.loopOk),
    mfeOk: fraction((i) => sanity[i]!.mfeOk),
    classifierPreMirna: classifierProbabilities ? fraction((i) => classifierProbabilities[i]! >= 0.5) : null,
    noveltyMedian: distances && n ? quantile(distances, 0.5) : null,
    noveltyMean: distances && n ? distances.reduce((a, b) => a + b, 0) / n : null,
    copies: distances ? fraction((i) => distances[i] === 0) : null,
    distinct: n ? new Set(generated.sequences).size / n : NaN,
  };
  return { n, refold, sanity, classifierProbabilities, novelty, summary, seconds: { refold: refoldSeconds, classifier: classifierSeconds, novelty: noveltySeconds } };
}
