import { cholesky, choleskySolve } from "../cholesky";
import { InputError } from "../errors";
import { pearson } from "../metrics";
import { gcContent } from "../sequence";
import { autoregressiveTokens, columnsStructure, CvaeForGeneration, decodeLatentProbabilities, decodeProbabilities, GenerationDecoder, generationDecoder, renderTokens } from "./generate";
import type { DrawingGrammar } from "./arDecoder";
import { hairpinGalleryPng } from "../hairpin/gallery";
import { decodeHairpinImage, findTerminalLoop, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH, hairpinColumnsSequence, HairpinColumns } from "../hairpin/image";
import { latentSize } from "./model";
import { TOKEN_COLUMNS } from "./tokens";

/**
 * Latent factors ↔ biology: properties of hairpins — those the structure latent is conditioned
 * on (stem pairs, loop size, GC) and those it is not (length, bulges, asymmetry, MFE per nt,
 * the apical UGU motif) — the correlation of every latent dimension with them, linear
 * directions in latent space that predict them, and traversals along such a direction, decoded
 * by a generator and drawn as image strips whose achieved properties are read back from the
 * drawings.
 */

/** Properties a latent direction is related to: the conditioned ones first. */
export const HAIRPIN_PROPERTIES = ["stem", "loop", "gc", "length", "bulges", "asymmetry", "mfePerNt", "apicalUgu"] as const;
export type HairpinProperty = (typeof HAIRPIN_PROPERTIES)[number];

/** The properties the structure latent is conditioned on (its prior p(z_s | stem, loop, GC) and auxiliary regressor). */
export const CONDITIONED_PROPERTIES: readonly HairpinProperty[] = ["stem", "loop", "gc"];

/** What each property means (for tables and axis titles). */
export const HAIRPIN_PROPERTY_LABELS: Readonly<Record<HairpinProperty, string>> = {
  stem: "stem length (paired columns)",
  loop: "terminal-loop size (nt)",
  gc: "GC content",
  length: "length (nt)",
  bulges: "bulges (one-sided gap runs in the stem)",
  asymmetry: "arm asymmetry (|5′ − 3′| nt inside the stem)",
  mfePerNt: "MFE per nt (kcal/mol/nt)",
  apicalUgu: "apical UGU motif (0/1)",
};

/** Short names of the properties (row labels of figures). */
export const HAIRPIN_PROPERTY_SHORT_LABELS: Readonly<Record<HairpinProperty, string>> = {
  stem: "stem", loop: "loop", gc: "GC", length: "length", bulges: "bulges", asymmetry: "asymmetry", mfePerNt: "MFE per nt", apicalUgu: "apical UGU",
};

/** The properties of one hairpin. */
export type HairpinProperties = Record<HairpinProperty, number>;

/**
 * Properties of a drawn hairpin (columns from the loop outwards, `sequence` its 5′→3′ reading):
 * stem = paired columns; loop = columns before the first pair; GC = fraction of G and C in
 * `sequence`; length = its nucleotides; bulges = runs of columns with a gap on exactly one half
 * between the first and the last pair; asymmetry = |5′-arm − 3′-arm nucleotides| over the same
 * columns (one-sided gaps that do not balance); mfePerNt = `mfe` (kcal/mol, e.g. RNAfold's) per
 * nucleotide; apicalUgu = 1 when UGU occurs in the terminal loop of the drawn structure or in
 * the 2 nucleotides of each arm next to it (the apical UGU/GUG motif of pri-miRNAs), else 0.
 */
export function hairpinProperties(columns: HairpinColumns, sequence: string, mfe: number): HairpinProperties {
  let stem = 0, first = -1, last = -1;
  columns.forEach((c, x) => {
    if (c.paired) {
      stem++;
      if (first < 0) first = x;
      last = x;
    }
  });
  let bulges = 0, upperGaps = 0, lowerGaps = 0;
  let inRun = false;
  for (let x = Math.max(first, 0); x <= last; x++) {
    const c = columns[x]!;
    const oneSided = (c.upper === "-") !== (c.lower === "-");
    if (oneSided && !inRun) bulges++;
    inRun = oneSided;
    if (c.upper === "-" && c.lower !== "-") upperGaps++;
    if (c.lower === "-" && c.upper !== "-") lowerGaps++;
  }
  // The motif on the drawing's own reading, so structure and sequence line up.
  const read = hairpinColumnsSequence(columns).sequence;
  const terminal = findTerminalLoop(columnsStructure(columns));
  const apicalUgu = terminal && read.slice(Math.max(0, terminal.open - 2), terminal.close + 3).includes("UGU") ? 1 : 0;
  return {
    stem, loop: first < 0 ? columns.length : first, gc: gcContent(sequence), length: sequence.length,
    bulges, asymmetry: Math.abs(upperGaps - lowerGaps), mfePerNt: sequence.length ? mfe / sequence.length : 0, apicalUgu,
  };
}

/**
 * The unpaired nucleotides a drawn hairpin carries beyond its outermost pair on each arm (its
 * flanks; the whole hairpin when nothing pairs). Motifs of the primary transcript outside the
 * stem (basal UG, CNNC) can only be seen in these.
 */
export function flankLengths(columns: HairpinColumns): { fivePrime: number; threePrime: number } {
  const last = columns.reduce((at, c, x) => (c.paired ? x : at), -1);
  let fivePrime = 0, threePrime = 0;
  for (let x = last + 1; x < columns.length; x++) {
    if (columns[x]!.upper !== "-") fivePrime++;
    if (columns[x]!.lower !== "-") threePrime++;
  }
  return { fivePrime, threePrime };
}

/** Pearson r of every latent dimension with every property: shape=(D, properties), row-major; NaN where a dimension is constant. */
export function latentCorrelations(latents: Float32Array, dims: number, properties: readonly HairpinProperties[]): Float64Array {
  const n = properties.length;
  if (latents.length !== n * dims) throw new InputError(`${latents.length} latent values for ${n} hairpins of ${dims} dimensions`);
  const out = new Float64Array(dims * HAIRPIN_PROPERTIES.length);
  const column = new Float64Array(n);
  const values = HAIRPIN_PROPERTIES.map((p) => Float64Array.from(properties, (h) => h[p]));
  for (let k = 0; k < dims; k++) {
    for (let i = 0; i < n; i++) column[i] = latents[i * dims + k]!;
    HAIRPIN_PROPERTIES.forEach((_, j) => {
      out[k * HAIRPIN_PROPERTIES.length + j] = pearson(column, values[j]!);
    });
  }
  return out;
}

/** A linear direction in latent space that predicts a property. */
export interface PropertyDirection {
  property: HairpinProperty;
  /** Unit vector shape=(D,). */
  direction: Float64Array;
  /** Change of the predicted property per unit step along the direction. */
  slope: number;
  /** R² of the ridge fit on the data it was fitted on, and on `test` data when given. */
  r2: number;
  testR2: number | null;
}

/**
 * Ridge regression (λ = `lambda`, default 1, on centred data) of each property on the latents,
 * giving the direction that predicts it; R² on the fit data and on optional test data.
 * Solved by Cholesky on the D × D normal equations.
 */
export function propertyDirections(
  latents: Float32Array, dims: number, properties: readonly HairpinProperties[],
  opts: { lambda?: number; test?: { latents: Float32Array; properties: readonly HairpinProperties[] } } = {},
): PropertyDirection[] {
  const n = properties.length;
  if (latents.length !== n * dims) throw new InputError(`${latents.length} latent values for ${n} hairpins of ${dims} dimensions`);
  if (n < 2) throw new InputError("a direction needs at least 2 hairpins");
  const lambda = opts.lambda ?? 1;
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) mean[k]! += latents[i * dims + k]! / n;
  const A = new Float64Array(dims * dims);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dims; a++) {
      const va = latents[i * dims + a]! - mean[a]!;
      for (let b = 0; b <= a; b++) A[a * dims + b]! += va * (latents[i * dims + b]! - mean[b]!);
    }
  }
  for (let a = 0; a < dims; a++) {
    A[a * dims + a]! += lambda;
    for (let b = 0; b < a; b++) A[b * dims + a] = A[a * dims + b]!;
  }
  const L = cholesky(A, dims);
  return HAIRPIN_PROPERTIES.map((property) => {
    const yMean = properties.reduce((s, h) => s + h[property], 0) / n;
    const rhs = new Float64Array(dims);
    for (let i = 0; i < n; i++) {
      const dy = properties[i]![property] - yMean;
      for (let k = 0; k < dims; k++) rhs[k]! += (latents[i * dims + k]! - mean[k]!) * dy;
    }
    const w = choleskySolve(L, dims, rhs);
    const r2 = (z: Float32Array, hs: readonly HairpinProperties[]) => {
      let ss = 0, st = 0;
      const m = hs.reduce((s, h) => s + h[property], 0) / hs.length;
      hs.forEach((h, i) => {
        let pred = yMean;
        for (let k = 0; k < dims; k++) pred += w[k]! * (z[i * dims + k]! - mean[k]!);
        ss += (h[property] - pred) ** 2;
        st += (h[property] - m) ** 2;
      });
      return st > 0 ? 1 - ss / st : NaN;
    };
    const norm = Math.sqrt(w.reduce((s, v) => s + v * v, 0));
    return {
      property,
      direction: norm > 0 ? w.map((v) => v / norm) : w,
      slope: norm,
      r2: r2(latents, properties),
      testR2: opts.test ? r2(opts.test.latents, opts.test.properties) : null,
    };
  });
}

/** What a traversal step's drawing shows, read back from its rendered image. */
export interface AchievedProfile {
  /** Paired columns. */
  stem: number;
  /** Columns before the first pair. */
  loop: number;
  /** G + C fraction of the drawing's sequence. */
  gc: number;
  /** Nucleotides. */
  length: number;
}

/** A traversal: latents along a line, what a decoder draws from them, and what the drawings show. */
export interface LatentTraversal {
  /** Offsets along the direction (latent units). */
  offsets: number[];
  /** The decoder that drew the steps. */
  decoder: GenerationDecoder;
  /** shape=(steps, D). */
  latents: Float32Array;
  /** shape=(steps, 100) decoded tokens. */
  tokens: Uint8Array;
  /** shape=(steps, 25, 100, 3) images. */
  images: Uint8Array;
  sequences: string[];
  columns: HairpinColumns[];
  /** Per step: stem, loop, GC and length of the rendered image (decoded back from its pixels; null when it does not decode). */
  achieved: (AchievedProfile | null)[];
  /**
   * Per step, the mean stem, loop and GC over `draws` further drawings (decodable ones; null when
   * none): with one draw, or a decoder without randomness, the step's own drawing.
   */
  meanAchieved: ({ stem: number; loop: number; gc: number } | null)[];
  /** Drawings behind `meanAchieved` per step. */
  draws: number;
}

/** Options of {@link latentTraversal}. */
export interface LatentTraversalOptions {
  /**
   * "autoregressive" (default when the model has one): the generator, reading only the class
   * and structure parts of each latent and the class `label`; "columns": the VAE's own decoder
   * (all parts), most likely tokens.
   */
  decoder?: GenerationDecoder;
  /** The class given to the autoregressive decoder (default 1, pre-miRNA). */
  label?: 0 | 1;
  /**
   * Token temperature of the autoregressive decoder (default 0: the most likely column at each
   * step, so a step's drawing depends on its latent alone); with > 0, every step draws with the
   * same `seed` (default 1) and `topP` (default 1).
   */
  tokenTemperature?: number;
  topP?: number;
  /** The autoregressive decoder's drawing grammar (default: the generator's, {@link DEFAULT_GENERATION}; false: none). */
  grammar?: DrawingGrammar | false;
  seed?: number;
  /**
   * With the autoregressive decoder at a token temperature > 0: further drawings per step for
   * `meanAchieved`, drawn in one batch with seed `seed` + 1 (default 1: none, the step's own
   * drawing). Each step's image stays its `seed` drawing.
   */
  draws?: number;
}

/**
 * Stem, loop, GC and length of each rendered image shape=(n, 25, 100, 3), read back from its
 * pixels; null for an image that is not an exact hairpin drawing (decodeHairpinImage rejects it).
 */
export function achievedProfiles(images: Uint8Array): (AchievedProfile | null)[] {
  if (images.length % HAIRPIN_IMAGE_SIZE !== 0) throw new InputError(`image bytes (${images.length}) are not whole 25 × 100 × 3 images`);
  return Array.from({ length: images.length / HAIRPIN_IMAGE_SIZE }, (_, i) => {
    let decoded;
    try {
      decoded = decodeHairpinImage({ data: images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE), width: HAIRPIN_IMAGE_WIDTH, height: HAIRPIN_IMAGE_HEIGHT });
    } catch (e) {
      if (e instanceof InputError) return null;
      throw e;
    }
    const p = hairpinProperties(decoded.columns, decoded.sequence, 0);
    return { stem: p.stem, loop: p.loop, gc: p.gc, length: p.length };
  });
}

/**
 * Decodes `base` + t · `direction` for each t in `offsets` (`base` and `direction` shape=(D,))
 * with a decoder of `model` (see {@link LatentTraversalOptions}) and reads each drawing's stem,
 * loop and GC back from its image. A direction may be a unit vector of the latent space (e.g.
 * from {@link propertyDirections}) or a single dimension (a one-hot vector); the autoregressive
 * decoder sees only its class and structure parts, so a direction meant for it should be fitted
 * on those parts (zeros elsewhere).
 */
export function latentTraversal(model: CvaeForGeneration, base: ArrayLike<number>, direction: ArrayLike<number>, offsets: readonly number[], opts: LatentTraversalOptions = {}): LatentTraversal {
  const D = latentSize(model.cvae.config);
  if (base.length !== D || direction.length !== D) throw new InputError(`base and direction must have ${D} values, got ${base.length} and ${direction.length}`);
  if (offsets.length === 0 || offsets.some((t) => !Number.isFinite(t))) throw new InputError(`offsets must be finite numbers, got ${JSON.stringify(offsets)}`);
  const decoder = generationDecoder(model, opts.decoder);
  const latents = new Float32Array(offsets.length * D);
  offsets.forEach((t, s) => {
    for (let k = 0; k < D; k++) latents[s * D + k] = base[k]! + t * direction[k]!;
  });
  let tokens: Uint8Array;
  if (decoder === "columns") tokens = decodeProbabilities(decodeLatentProbabilities(model.cvae, latents));
  else {
    // Step by step with one seed, so that with sampling every step gets the same random numbers.
    tokens = new Uint8Array(offsets.length * TOKEN_COLUMNS);
    offsets.forEach((_, s) => {
      tokens.set(autoregressiveTokens(model, latents.subarray(s * D, (s + 1) * D), opts.label ?? 1, { seed: opts.seed ?? 1, tokenTemperature: opts.tokenTemperature ?? 0, topP: opts.topP, grammar: opts.grammar }), s * TOKEN_COLUMNS);
    });
  }
  const rendered = renderTokens(tokens);
  const achieved = achievedProfiles(rendered.images);
  const draws = decoder === "autoregressive" && (opts.tokenTemperature ?? 0) > 0 ? (opts.draws ?? 1) : 1;
  if (!Number.isInteger(draws) || draws < 1) throw new InputError(`draws must be a positive integer, got ${opts.draws}`);
  let meanAchieved = achieved.map((a) => (a ? { stem: a.stem, loop: a.loop, gc: a.gc } : null));
  if (draws > 1) {
    // One batch: every step's latent `draws` times (rows step-major).
    const repeated = new Float32Array(offsets.length * draws * D);
    offsets.forEach((_, s) => {
      for (let k = 0; k < draws; k++) repeated.set(latents.subarray(s * D, (s + 1) * D), (s * draws + k) * D);
    });
    const more = achievedProfiles(renderTokens(autoregressiveTokens(model, repeated, opts.label ?? 1, { seed: (opts.seed ?? 1) + 1, tokenTemperature: opts.tokenTemperature!, topP: opts.topP, grammar: opts.grammar })).images);
    meanAchieved = offsets.map((_, s) => {
      const ok = more.slice(s * draws, (s + 1) * draws).filter((a): a is AchievedProfile => a !== null);
      if (ok.length === 0) return null;
      const mean = (f: (a: AchievedProfile) => number) => ok.reduce((t, a) => t + f(a), 0) / ok.length;
      return { stem: mean((a) => a.stem), loop: mean((a) => a.loop), gc: mean((a) => a.gc) };
    });
  }
  return { offsets: [...offsets], decoder, latents, tokens, images: rendered.images, sequences: rendered.sequences, columns: rendered.columns, achieved, meanAchieved, draws };
}

/** The rows of a traversal's images, `caption(step)` under each (may hold line breaks). */
export function traversalPng(traversal: LatentTraversal, caption: (step: number) => string, opts: { columns?: number; scale?: number } = {}): Buffer {
  return hairpinGalleryPng(traversal.images, traversal.offsets.map((_, s) => s), {
    columns: opts.columns ?? 1, scale: opts.scale ?? 3, captions: traversal.offsets.map((_, s) => caption(s)),
  });
}

/** Means of the rows of `latents` shape=(n, D) where `pick(i)` holds: shape=(D,). */
export function meanLatent(latents: Float32Array, dims: number, pick: (i: number) => boolean = () => true): Float64Array {
  const n = latents.length / dims;
  const out = new Float64Array(dims);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!pick(i)) continue;
    count++;
    for (let k = 0; k < dims; k++) out[k]! += latents[i * dims + k]!;
  }
  if (count === 0) throw new InputError("no latents to average");
  return out.map((v) => v / count);
}

/** Standard deviation of `latents` shape=(n, D) along a unit `direction`. */
export function spreadAlong(latents: Float32Array, dims: number, direction: ArrayLike<number>): number {
  const n = latents.length / dims;
  const proj = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < dims; k++) s += latents[i * dims + k]! * direction[k]!;
    proj[i] = s;
  }
  const m = proj.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(proj.reduce((a, b) => a + (b - m) ** 2, 0) / n);
}
