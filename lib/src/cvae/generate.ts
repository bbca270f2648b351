import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { predict } from "../predict";
import { mulberry32, normalSampler } from "../random";
import { HAIRPIN_IMAGE_SIZE, hairpinColumnsSequence, HairpinColumns, renderHairpinColumns } from "../hairpin/image";
import { isCanonicalProfile, PROFILE_NAMES, PROFILE_SIZE, ProfileName } from "./data";
import { Cvae, cvaePriors, cvaeResidualPrior, decodeCvae, globalLatents, latentSize, RESIDUAL_BLOCKS } from "./model";
import { CvaeModelInfo, CvaeTrainingSet, scaleProfiles } from "./saved";
import { COLUMN_TOKENS, decodeTokenProbabilities, TOKEN_COLUMNS, tokensToColumns } from "./tokens";
import { DEFAULT_DRAWING_GRAMMAR, DrawingGrammar, sampleArDecoder } from "./arDecoder";

/**
 * Sampling hairpins from a trained conditional VAE: z_class from the learned class prior
 * p(z_c | y), z_structure from the learned structure prior p(z_s | profile) — the profile
 * [stem pairs, loop nt, GC] either requested or, entry by entry, that of a training hairpin of
 * the class drawn at random — each with its spread times the latent temperature. Then one of
 * two decoders writes the columns:
 *   - "autoregressive" (the default when the model has one, arDecoder.ts): column by column
 *     from the loop outwards given z_g = [z_class | z_structure] and the columns before, each
 *     token drawn at the token temperature; z_residual is not used (left 0 in `latents`);
 *   - "columns": the CVAE's own decoder, given also z_residual from its prior (N(0, I), or
 *     autoregressive over blocks of columns); its per-column token probabilities are decoded
 *     (tokens.ts: most likely tokens, loop nucleotides chosen jointly on both halves).
 * Either way the tokens render into exact images and read as sequences.
 */

/** Which decoder writes the columns of generated hairpins (see the module comment). */
export type GenerationDecoder = "autoregressive" | "columns";

/**
 * Defaults of generation per decoder: the latent temperature, the token temperature and the
 * nucleus (topP: the AR decoder's draws; the columns decoder ignores it), and the decodings
 * RNAfold-verified decoding tries per sample (verified.ts).
 */
export const DEFAULT_GENERATION = {
  // Token temperature 1 within the 0.9 nucleus: a temperature below 1 sharpens every column
  // towards its most likely token and over-pairs the stems (at 0.7, 4% of generated
  // pre-miRNAs were more stable per nt than 99% of real ones); the nucleus cuts the unlikely
  // tail that makes drawings incoherent without that sharpening.
  // The drawing grammar (arDecoder.ts): masks what no RNAfold structure is drawn as; chosen on
  // the validation split (see settings.ts).
  autoregressive: { temperature: 1, tokenTemperature: 1, topP: 0.9, grammar: DEFAULT_DRAWING_GRAMMAR as DrawingGrammar | false },
  columns: { temperature: 0.1, tokenTemperature: 0, topP: 1 },
  candidates: 24,
} as const;

/** The decoder generation uses: `requested`, else the AR decoder when the model has one. */
export function generationDecoder(model: Pick<CvaeForGeneration, "cvae">, requested?: GenerationDecoder): GenerationDecoder {
  if (requested !== undefined && requested !== "autoregressive" && requested !== "columns") throw new InputError(`decoder must be 'autoregressive' or 'columns', got '${String(requested)}'`);
  const decoder = requested ?? (model.cvae.arDecoder ? "autoregressive" : "columns");
  if (decoder === "autoregressive" && !model.cvae.arDecoder) throw new InputError("this model has no autoregressive decoder (train-vae trains one; or generate with the 'columns' decoder)");
  return decoder;
}

/** What to generate. */
export interface GenerateOptions {
  /** Number of samples. */
  n: number;
  /** 1 = pre-miRNA, 0 = not. */
  label: 0 | 1;
  /** Seed of every random draw (latents, profiles). Same seed, same samples. */
  seed: number;
  /** Requested profile entries in their units (stem pairs, loop nt, GC fraction 0–1); the others come from training hairpins of the class. */
  profile?: Partial<Record<ProfileName, number>>;
  /**
   * Which training hairpins of the class lend the profiles: "canonical" = those drawn with a
   * canonical hairpin's shape (≥ 18 pairs, loop 3–20 nt; {@link CANONICAL_HAIRPIN}), "all" = every
   * one. Default "canonical" for pre-miRNAs, "all" for negatives.
   */
  profilePool?: ProfilePool;
  /** The decoder (default: "autoregressive" when the model has one, else "columns"). */
  decoder?: GenerationDecoder;
  /** Standard deviation of the latent draws relative to the priors' (default {@link DEFAULT_GENERATION} of the decoder). */
  temperature?: number;
  /**
   * Token temperature: for "columns", 0 = most likely token per column, > 0 samples; for
   * "autoregressive", each column's draw (0 = most likely). Default {@link DEFAULT_GENERATION}.
   */
  tokenTemperature?: number;
  /** "autoregressive": each column's draw from the nucleus holding this much probability (1 = all tokens). Default {@link DEFAULT_GENERATION}. */
  topP?: number;
  /**
   * "autoregressive": the structure grammar the draws obey ({@link DrawingGrammar}; masks, still
   * one draw per column), or false for none. Default {@link DEFAULT_GENERATION}.
   */
  grammar?: DrawingGrammar | false;
  /** Samples per decoder pass. Default 256. */
  batchSize?: number;
}

/** A trained model as generation needs it. */
export interface CvaeForGeneration {
  cvae: Cvae;
  info: Pick<CvaeModelInfo, "profileScaling">;
  training: Pick<CvaeTrainingSet, "labels" | "profiles">;
}

/** Generated hairpins; row i of every array belongs together. */
export interface GeneratedHairpins {
  n: number;
  label: 0 | 1;
  /** The decoder that wrote the columns. */
  decoder: GenerationDecoder;
  /** shape=(n, 100) column tokens. */
  tokens: Uint8Array;
  /** The column form of each sample. */
  columns: HairpinColumns[];
  /** shape=(n, 25, 100, 3) RGB images, exact drawings of the columns. */
  images: Uint8Array;
  /** The sequence each image decodes to. */
  sequences: string[];
  /** The drawn structure of each sample as dot-bracket (paired columns as brackets). */
  structures: string[];
  /** shape=(n, 3): the profile each sample was conditioned on (raw units). */
  profiles: Float32Array;
  /** shape=(n, D): the latent each sample was decoded from. */
  latents: Float32Array;
}

/** Which training hairpins lend generation their profiles (see {@link GenerateOptions.profilePool}). */
export type ProfilePool = "canonical" | "all";

/** The profile pool of class `label` when none is asked for: "canonical" for pre-miRNAs, "all" for negatives. */
export function defaultProfilePool(label: 0 | 1): ProfilePool {
  return label === 1 ? "canonical" : "all";
}

/**
 * The profiles to condition `n` samples of class `label` on: requested entries, the rest from
 * random training hairpins of the class (of the `pool`; default "canonical" for pre-miRNAs, "all"
 * for negatives). shape=(n, 3).
 */
export function drawProfiles(training: Pick<CvaeTrainingSet, "labels" | "profiles">, label: 0 | 1, n: number, seed: number, requested: Partial<Record<ProfileName, number>> = {}, pool: ProfilePool = defaultProfilePool(label)): Float32Array {
  for (const [k, v] of Object.entries(requested)) {
    if (!PROFILE_NAMES.includes(k as ProfileName)) throw new InputError(`unknown profile entry '${k}' (known: ${PROFILE_NAMES.join(", ")})`);
    if (v !== undefined && !Number.isFinite(v)) throw new InputError(`profile entry '${k}' must be a number, got ${v}`);
  }
  if (requested.gc !== undefined && !(requested.gc >= 0 && requested.gc <= 1)) throw new InputError(`gc must be a fraction in 0–1, got ${requested.gc}`);
  for (const k of ["stem", "loop"] as const) {
    if (requested[k] !== undefined && !(requested[k]! >= 0 && requested[k]! <= TOKEN_COLUMNS)) throw new InputError(`${k} must be in 0–${TOKEN_COLUMNS}, got ${requested[k]}`);
  }
  if (pool !== "canonical" && pool !== "all") throw new InputError(`profile pool must be 'canonical' or 'all', got '${pool}'`);
  const rows = [...training.labels.keys()].filter((i) => training.labels[i] === label && (pool === "all" || isCanonicalProfile(training.profiles, i)));
  if (rows.length === 0) throw new InputError(`the model's training set has no ${pool === "canonical" ? "canonical " : ""}hairpin of class ${label}`);
  const random = mulberry32(seed);
  const out = new Float32Array(n * PROFILE_SIZE);
  for (let i = 0; i < n; i++) {
    const row = rows[Math.floor(random() * rows.length)]!;
    PROFILE_NAMES.forEach((name, k) => {
      out[i * PROFILE_SIZE + k] = requested[name] ?? training.profiles[row * PROFILE_SIZE + k]!;
    });
  }
  return out;
}

/**
 * Latents for `n` samples: z_class ~ p(z_c | label), z_structure ~ p(z_s | profile), z_residual
 * ~ N(0, I) or, for the "columns" layout, block by block from its autoregressive prior given
 * z_class, z_structure and the blocks before; each with its spread times `temperature`.
 * With `residual: false` z_residual stays 0 (the AR decoder does not read it). Returns shape=(n, D).
 */
export function sampleLatents(model: CvaeForGeneration, label: 0 | 1, profiles: Float32Array, seed: number, temperature = 1, opts: { residual?: boolean } = {}): Float32Array {
  const { cvae } = model;
  const n = profiles.length / PROFILE_SIZE;
  const { class: dc, structure: ds, residual: dr } = cvae.config.latent;
  const D = latentSize(cvae.config);
  const normal = normalSampler(seed);
  const [cm, cl, sm, sl] = tf.tidy(() => {
    const classes = tf.oneHot(tf.fill([n], label, "int32"), 2).toFloat() as tf.Tensor2D;
    const p = cvaePriors(cvae, classes, tf.tensor2d(scaleProfiles(profiles, model.info.profileScaling), [n, PROFILE_SIZE]));
    return [p.classMean, p.classLogVar, p.structureMean, p.structureLogVar].map((t) => t.dataSync() as Float32Array);
  });
  const z = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < dc; k++) z[i * D + k] = cm![i * dc + k]! + Math.exp(0.5 * cl![i * dc + k]!) * temperature * normal();
    for (let k = 0; k < ds; k++) z[i * D + dc + k] = sm![i * ds + k]! + Math.exp(0.5 * sl![i * ds + k]!) * temperature * normal();
    if (!cvae.residualPrior && opts.residual !== false) for (let k = 0; k < dr; k++) z[i * D + dc + ds + k] = temperature * normal();
  }
  if (cvae.residualPrior && opts.residual !== false) {
    // Block by block from the loop outwards: each block from the prior given the blocks drawn before it.
    const channels = dr / RESIDUAL_BLOCKS;
    const zr = new Float32Array(n * dr);
    const zc = new Float32Array(n * dc), zs = new Float32Array(n * ds);
    for (let i = 0; i < n; i++) {
      zc.set(z.subarray(i * D, i * D + dc), i * dc);
      zs.set(z.subarray(i * D + dc, i * D + dc + ds), i * ds);
    }
    const zcT = tf.tensor2d(zc, [n, dc]), zsT = tf.tensor2d(zs, [n, ds]);
    try {
      for (let b = 0; b < RESIDUAL_BLOCKS; b++) {
        const [m, l] = tf.tidy(() => {
          const p = cvaeResidualPrior(cvae, zcT, zsT, tf.tensor2d(zr, [n, dr]));
          return [p.mean.dataSync() as Float32Array, p.logVar.dataSync() as Float32Array];
        });
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < channels; k++) {
            const at = i * dr + b * channels + k;
            zr[at] = m![at]! + Math.exp(0.5 * l![at]!) * temperature * normal();
          }
        }
      }
    } finally {
      tf.dispose([zcT, zsT]);
    }
    for (let i = 0; i < n; i++) z.set(zr.subarray(i * dr, (i + 1) * dr), i * D + dc + ds);
  }
  return z;
}

/** Token probabilities of latents shape=(n, D): shape=(n, 100, 31), row-major. */
export function decodeLatentProbabilities(cvae: Cvae, latents: Float32Array, batchSize = 256): Float32Array {
  const D = latentSize(cvae.config);
  const n = latents.length / D;
  return predict((z) => tf.softmax(decodeCvae(cvae, z as tf.Tensor2D)), { n, make: (s, e) => tf.tensor2d(latents.subarray(s * D, e * D), [e - s, D]) }, { batchSize }).values;
}

/** The drawn structure of a column form as dot-bracket, aligned with {@link hairpinColumnsSequence}'s sequence. */
export function columnsStructure(columns: HairpinColumns): string {
  let loop = columns.findIndex((c) => c.paired);
  if (loop < 0) loop = columns.length;
  let five = "";
  for (let x = columns.length - 1; x >= 0; x--) if (columns[x]!.upper !== "-") five += columns[x]!.paired ? "(" : ".";
  let three = "";
  for (let x = loop; x < columns.length; x++) if (columns[x]!.lower !== "-") three += columns[x]!.paired ? ")" : ".";
  return five + three;
}

/** Tokens shape=(n, 100) → columns, images, sequences and drawn structures. */
export function renderTokens(tokens: Uint8Array): Pick<GeneratedHairpins, "columns" | "images" | "sequences" | "structures"> {
  const n = tokens.length / TOKEN_COLUMNS;
  const images = new Uint8Array(n * HAIRPIN_IMAGE_SIZE);
  const columns: HairpinColumns[] = [];
  const sequences: string[] = [];
  const structures: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = tokensToColumns(tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS));
    columns.push(c);
    images.set(renderHairpinColumns(c).data, i * HAIRPIN_IMAGE_SIZE);
    sequences.push(hairpinColumnsSequence(c).sequence);
    structures.push(columnsStructure(c));
  }
  return { columns, images, sequences, structures };
}

/** Decodes probabilities shape=(n, 100, 31) into tokens shape=(n, 100) (see {@link decodeTokenProbabilities}). */
export function decodeProbabilities(probabilities: Float32Array, opts: { tokenTemperature?: number; seed?: number } = {}): Uint8Array {
  const per = TOKEN_COLUMNS * COLUMN_TOKENS;
  const n = probabilities.length / per;
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  const random = opts.tokenTemperature ? mulberry32(opts.seed ?? 1) : undefined;
  for (let i = 0; i < n; i++) {
    tokens.set(decodeTokenProbabilities(probabilities.subarray(i * per, (i + 1) * per), { temperature: opts.tokenTemperature, random }), i * TOKEN_COLUMNS);
  }
  return tokens;
}

/** A generation request resolved: its decoder and temperatures, the profiles and the latents drawn. */
export interface GenerationDraw {
  decoder: GenerationDecoder;
  temperature: number;
  tokenTemperature: number;
  topP: number;
  /** The AR decoder's structure grammar (false: none; the columns decoder has none). */
  grammar: DrawingGrammar | false;
  /** shape=(n, 3) raw profiles; shape=(n, D) latents. */
  profiles: Float32Array;
  latents: Float32Array;
}

/** Checks `opts`, resolves the decoder's defaults and draws the profiles and latents (what {@link generateHairpins} and verified generation share). */
export function drawGeneration(model: CvaeForGeneration, opts: GenerateOptions): GenerationDraw {
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new InputError(`n must be a positive integer, got ${opts.n}`);
  if (opts.label !== 0 && opts.label !== 1) throw new InputError(`label must be 0 or 1, got ${opts.label}`);
  const decoder = generationDecoder(model, opts.decoder);
  const temperature = opts.temperature ?? DEFAULT_GENERATION[decoder].temperature;
  if (!(temperature >= 0)) throw new InputError(`temperature must be ≥ 0, got ${temperature}`);
  const tokenTemperature = opts.tokenTemperature ?? DEFAULT_GENERATION[decoder].tokenTemperature;
  if (!(tokenTemperature >= 0)) throw new InputError(`tokenTemperature must be ≥ 0, got ${tokenTemperature}`);
  const topP = opts.topP ?? DEFAULT_GENERATION[decoder].topP;
  if (!(topP > 0 && topP <= 1)) throw new InputError(`topP must be in (0, 1], got ${topP}`);
  const grammar = decoder === "columns" ? false : opts.grammar ?? DEFAULT_GENERATION.autoregressive.grammar;
  const profiles = drawProfiles(model.training, opts.label, opts.n, opts.seed, opts.profile, opts.profilePool);
  const latents = sampleLatents(model, opts.label, profiles, opts.seed + 1, temperature, { residual: decoder === "columns" });
  return { decoder, temperature, tokenTemperature, topP, grammar, profiles, latents };
}

/**
 * The AR decoder's input for latents shape=(n, D) of class `label`: z_g, with the class
 * appended (1 = pre-miRNA) when the decoder was trained on it (decoders saved before take z_g
 * alone). shape=(n, Dg or Dg + 1).
 */
export function arDecoderInput(model: CvaeForGeneration, latents: Float32Array, label: 0 | 1): Float32Array {
  const zg = globalLatents(model.cvae.config, latents);
  const n = latents.length / latentSize(model.cvae.config);
  const Dg = zg.length / n;
  const inputs = model.cvae.arDecoder!.globalDims;
  if (inputs === Dg) return zg;
  if (inputs !== Dg + 1) throw new InputError(`the autoregressive decoder takes ${inputs} inputs; z_g has ${Dg} (and the class 1)`);
  const out = new Float32Array(n * inputs);
  for (let i = 0; i < n; i++) {
    out.set(zg.subarray(i * Dg, (i + 1) * Dg), i * inputs);
    out[i * inputs + Dg] = label;
  }
  return out;
}

/** The AR decoder's tokens for drawn latents of class `label` (the first draw of `seed`). shape=(n, 100). */
export function autoregressiveTokens(model: CvaeForGeneration, latents: Float32Array, label: 0 | 1, opts: { seed: number; tokenTemperature: number; topP?: number; batchSize?: number; grammar?: DrawingGrammar | false }): Uint8Array {
  return sampleArDecoder(model.cvae.arDecoder!, arDecoderInput(model, latents, label), opts);
}

/** Generates `opts.n` hairpins of class `opts.label` (see the module comment). */
export function generateHairpins(model: CvaeForGeneration, opts: GenerateOptions): GeneratedHairpins {
  const draw = drawGeneration(model, opts);
  const tokens = draw.decoder === "columns"
    ? decodeProbabilities(decodeLatentProbabilities(model.cvae, draw.latents, opts.batchSize), { tokenTemperature: draw.tokenTemperature, seed: opts.seed + 2 })
    : autoregressiveTokens(model, draw.latents, opts.label, { seed: opts.seed + 2, tokenTemperature: draw.tokenTemperature, topP: draw.topP, batchSize: opts.batchSize, grammar: draw.grammar });
  return { n: opts.n, label: opts.label, decoder: draw.decoder, tokens, ...renderTokens(tokens), profiles: draw.profiles, latents: draw.latents };
}
