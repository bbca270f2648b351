import { cholesky, choleskySolve } from "../cholesky";
import { InputError } from "../errors";
import { pearson } from "../metrics";
import { decodeLatentProbabilities, decodeProbabilities, renderTokens } from "./generate";
import { hairpinGalleryPng } from "./gallery";
import { HairpinColumns } from "./image";
import { Cvae, latentSize } from "./vaeModel";

/**
 * Latent factors ↔ biology (issue 12 §5): biological properties of hairpins, the correlation
 * of every latent dimension with them, linear directions in latent space that predict them,
 * and traversals along such a direction rendered as image strips.
 */

/** Properties a latent direction is related to. */
export const HAIRPIN_PROPERTIES = ["stem", "loop", "bulges", "gc", "mfe"] as const;
export type HairpinProperty = (typeof HAIRPIN_PROPERTIES)[number];

/** What each property means (for tables and axis titles). */
export const HAIRPIN_PROPERTY_LABELS: Readonly<Record<HairpinProperty, string>> = {
  stem: "stem length (paired columns)",
  loop: "terminal-loop size (nt)",
  bulges: "bulges (one-sided gap runs in the stem)",
  gc: "GC content",
  mfe: "MFE (kcal/mol)",
};

/** The properties of one hairpin. */
export type HairpinProperties = Record<HairpinProperty, number>;

/**
 * Properties of a drawn hairpin: stem = paired columns; loop = columns before the first pair;
 * bulges = runs of columns with a gap on exactly one half between the first and the last
 * pair; GC = fraction of G and C in `sequence`; `mfe` as given (e.g. RNAfold's, kcal/mol).
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
  let bulges = 0;
  let inRun = false;
  for (let x = Math.max(first, 0); x <= last; x++) {
    const c = columns[x]!;
    const oneSided = (c.upper === "-") !== (c.lower === "-");
    if (oneSided && !inRun) bulges++;
    inRun = oneSided;
  }
  let gc = 0;
  for (const ch of sequence) if (ch === "G" || ch === "C") gc++;
  return { stem, loop: first < 0 ? columns.length : first, bulges, gc: sequence.length ? gc / sequence.length : 0, mfe };
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

/** A traversal: latents along a line and what they decode to. */
export interface LatentTraversal {
  /** Offsets along the direction (latent units). */
  offsets: number[];
  /** shape=(steps, D). */
  latents: Float32Array;
  /** shape=(steps, 100) decoded tokens. */
  tokens: Uint8Array;
  /** shape=(steps, 25, 100, 3) images. */
  images: Uint8Array;
  sequences: string[];
  columns: HairpinColumns[];
}

/**
 * Decodes `base` + t · `direction` for each t in `offsets` (`base` and `direction` shape=(D,)).
 * A direction may be a unit vector of the latent space (e.g. from {@link propertyDirections})
 * or a single dimension (a one-hot vector).
 */
export function latentTraversal(cvae: Cvae, base: ArrayLike<number>, direction: ArrayLike<number>, offsets: readonly number[]): LatentTraversal {
  const D = latentSize(cvae.config);
  if (base.length !== D || direction.length !== D) throw new InputError(`base and direction must have ${D} values, got ${base.length} and ${direction.length}`);
  const latents = new Float32Array(offsets.length * D);
  offsets.forEach((t, s) => {
    for (let k = 0; k < D; k++) latents[s * D + k] = base[k]! + t * direction[k]!;
  });
  const tokens = decodeProbabilities(decodeLatentProbabilities(cvae, latents));
  const rendered = renderTokens(tokens);
  return { offsets: [...offsets], latents, tokens, images: rendered.images, sequences: rendered.sequences, columns: rendered.columns };
}

/** A traversal as one PNG strip (one image per step, captioned with `caption(offset, step)`). */
export function traversalPng(traversal: LatentTraversal, caption: (offset: number, step: number) => string, opts: { columns?: number; scale?: number } = {}): Buffer {
  return hairpinGalleryPng(traversal.images, traversal.offsets.map((_, s) => s), {
    columns: opts.columns ?? 1, scale: opts.scale ?? 3, captions: traversal.offsets.map((t, s) => caption(t, s)),
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
