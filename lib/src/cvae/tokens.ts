import { InputError } from "../errors";
import {
  BarMark,
  barLengths,
  baseBarLength,
  HAIRPIN_IMAGE_HEIGHT,
  HAIRPIN_IMAGE_SIZE,
  HAIRPIN_IMAGE_WIDTH,
  HairpinColumn,
  HairpinColumns,
  HairpinSymbol,
  LOWER_BASE_ROW,
  MAX_LOWER_LENGTH,
  MAX_UPPER_LENGTH,
  UPPER_BASE_ROW,
} from "../hairpin/image";

/**
 * The column vocabulary of the conditional VAE's structured decoder (model.ts). A hairpin image
 * is a deterministic function of its columns (lib/src/hairpin/image.ts), and a column of a
 * drawing made by the encoder is one of 31 states: a canonical stem pair (A–U, U–A, G–C, C–G,
 * G–U, U–G; both bars of the base length b), two unpaired nucleotides (16; bars ramped over the
 * unpaired run), a nucleotide facing a gap on either side (4 + 4), or "end" (white: the columns
 * past the hairpin). The decoder predicts one of these per column; colours (5 classes per half)
 * and bar lengths (0–12 per half) then follow from the encoding rules of the image (base bar
 * lengths and bar lengths of a half, including the unpaired-run ramp quirk and the clipping to
 * the image), so every decoded sample renders to an exact image of our encoding and decodes to a
 * sequence.
 *
 * Token ids: 0 = end; 1–6 paired AU UA GC CG GU UG (upper–lower); 7–22 unpaired upper × lower
 * (7 + 4·u + l over A, C, G, U); 23–26 upper nucleotide over a lower gap; 27–30 upper gap over a
 * lower nucleotide.
 */

/** Number of column states (the decoder's classes per column). */
export const COLUMN_TOKENS = 31;
export const END_TOKEN = 0;
/** Columns of an image = token positions. */
export const TOKEN_COLUMNS = HAIRPIN_IMAGE_WIDTH;
/** Channels of the VAE's one-hot image input: A, C, G, U, gap (white = all zero). */
export const ONE_HOT_CHANNELS = 5;

const NUCLEOTIDES = ["A", "C", "G", "U"] as const;
type Nucleotide = (typeof NUCLEOTIDES)[number];
const PAIRS: readonly [Nucleotide, Nucleotide][] = [["A", "U"], ["U", "A"], ["G", "C"], ["C", "G"], ["G", "U"], ["U", "G"]];

/** What a column token shows: symbols and whether it is a stem pair. */
export interface TokenColumn {
  upper: HairpinSymbol;
  lower: HairpinSymbol;
  paired: boolean;
}

/** Token id → column (null for end). */
export const TOKEN_COLUMN_TABLE: readonly (TokenColumn | null)[] = (() => {
  const table: (TokenColumn | null)[] = [null];
  for (const [u, l] of PAIRS) table.push({ upper: u, lower: l, paired: true });
  for (const u of NUCLEOTIDES) for (const l of NUCLEOTIDES) table.push({ upper: u, lower: l, paired: false });
  for (const u of NUCLEOTIDES) table.push({ upper: u, lower: "-", paired: false });
  for (const l of NUCLEOTIDES) table.push({ upper: "-", lower: l, paired: false });
  return table;
})();

const TOKEN_OF = new Map<string, number>(TOKEN_COLUMN_TABLE.map((c, id) => [c ? `${c.upper}${c.lower}${c.paired ? "p" : "u"}` : "end", id]));

/** The token of one column, or null when no token describes it (a paired column that is not a canonical pair, a gap on both halves). */
export function columnToken(upper: HairpinSymbol, lower: HairpinSymbol, paired: boolean): number | null {
  return TOKEN_OF.get(`${upper}${lower}${paired ? "p" : "u"}`) ?? null;
}

/** True for tokens 1–6 (stem pairs). */
export function isPairedToken(token: number): boolean {
  return token >= 1 && token <= 6;
}

/** Token → index of its upper symbol in A, C, G, U, gap (4), or 5 for end. */
export const TOKEN_UPPER: readonly number[] = TOKEN_COLUMN_TABLE.map((c) => (c ? "ACGU-".indexOf(c.upper) : 5));
/** Token → index of its lower symbol in A, C, G, U, gap (4), or 5 for end. */
export const TOKEN_LOWER: readonly number[] = TOKEN_COLUMN_TABLE.map((c) => (c ? "ACGU-".indexOf(c.lower) : 5));

/**
 * The column form tokens describe: tokens up to the first end (at most 100), bar lengths from
 * the pairing rules and clipped to the image (12 upper, 11 lower). Throws an InputError for an
 * unknown token id.
 */
export function tokensToColumns(tokens: ArrayLike<number>): HairpinColumns {
  const cols: TokenColumn[] = [];
  for (let x = 0; x < Math.min(tokens.length, TOKEN_COLUMNS); x++) {
    const t = tokens[x]!;
    if (!Number.isInteger(t) || t < 0 || t >= COLUMN_TOKENS) throw new InputError(`column ${x}: token ${t} is not one of 0–${COLUMN_TOKENS - 1}`);
    if (t === END_TOKEN) break;
    cols.push(TOKEN_COLUMN_TABLE[t]!);
  }
  const base = cols.map((c) => baseBarLength(c.upper, c.lower));
  const mark = (s: HairpinSymbol, paired: boolean): BarMark => (s === "-" ? 2 : paired ? 0 : 1);
  const upper = barLengths(cols.map((c) => mark(c.upper, c.paired)), base);
  const lower = barLengths(cols.map((c) => mark(c.lower, c.paired)), base);
  return cols.map((c, x): HairpinColumn => ({
    upper: c.upper,
    lower: c.lower,
    paired: c.paired,
    upperLength: Math.min(upper[x]!, MAX_UPPER_LENGTH),
    lowerLength: Math.min(lower[x]!, MAX_LOWER_LENGTH),
  }));
}

/**
 * The tokens of a column form, padded with end to 100 positions, or null when the columns are
 * not a drawing the vocabulary can describe: a paired column that is not a canonical pair, or
 * bar lengths other than the pairing rules give (e.g. a hairpin of more than 100 columns,
 * whose last unpaired run was ramped over columns the image cuts off). Returns shape=(100,).
 */
export function columnsToTokens(columns: readonly HairpinColumn[]): Uint8Array | null {
  if (columns.length > TOKEN_COLUMNS) return null;
  const tokens = new Uint8Array(TOKEN_COLUMNS);
  for (let x = 0; x < columns.length; x++) {
    const c = columns[x]!;
    const t = columnToken(c.upper, c.lower, c.paired);
    if (t === null) return null;
    tokens[x] = t;
  }
  const redrawn = tokensToColumns(tokens);
  for (let x = 0; x < columns.length; x++) {
    if (redrawn[x]!.upperLength !== columns[x]!.upperLength || redrawn[x]!.lowerLength !== columns[x]!.lowerLength) return null;
  }
  return tokens;
}

/**
 * Column form from the strings of `images_columns.tsv.gz` (top, bot, bar lengths): paired =
 * both nucleotides and both bars of the base length (as {@link decodeHairpinImage} reads it).
 */
export function columnsFromStrings(top: string, bot: string, topLen: readonly number[], botLen: readonly number[]): HairpinColumns {
  const out: HairpinColumns = [];
  for (let x = 0; x < top.length; x++) {
    const upper = top[x] as HairpinSymbol;
    const lower = bot[x] as HairpinSymbol;
    const b = baseBarLength(upper, lower);
    out.push({ upper, lower, paired: upper !== "-" && lower !== "-" && topLen[x] === b && botLen[x] === b, upperLength: topLen[x]!, lowerLength: botLen[x]! });
  }
  return out;
}

/**
 * One-hot 5-channel images (A, C, G, U, gap; white = all zero) of token rows: for column x the
 * upper symbol's channel on rows 12 − upperLength … 12 and the lower symbol's on rows 13 … 13 +
 * lowerLength, as the RGB image draws them. `tokens` holds `n` rows of 100; returns
 * shape=(n, 25, 100, 5) row-major.
 */
export function tokensToOneHot(tokens: Uint8Array, n: number): Float32Array {
  if (tokens.length !== n * TOKEN_COLUMNS) throw new InputError(`${tokens.length} tokens for ${n} rows of ${TOKEN_COLUMNS}`);
  const out = new Float32Array(n * HAIRPIN_IMAGE_HEIGHT * HAIRPIN_IMAGE_WIDTH * ONE_HOT_CHANNELS);
  const rowStride = HAIRPIN_IMAGE_WIDTH * ONE_HOT_CHANNELS;
  for (let i = 0; i < n; i++) {
    const columns = tokensToColumns(tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS));
    const image = i * HAIRPIN_IMAGE_HEIGHT * rowStride;
    columns.forEach((c, x) => {
      const u = "ACGU-".indexOf(c.upper);
      for (let row = UPPER_BASE_ROW - c.upperLength; row <= UPPER_BASE_ROW; row++) out[image + row * rowStride + x * ONE_HOT_CHANNELS + u] = 1;
      const l = "ACGU-".indexOf(c.lower);
      for (let row = LOWER_BASE_ROW; row <= LOWER_BASE_ROW + c.lowerLength; row++) out[image + row * rowStride + x * ONE_HOT_CHANNELS + l] = 1;
    });
  }
  return out;
}

/** Checks that RGB images are whole 25 × 100 × 3 images; returns their number. */
export function rgbImageCount(images: Uint8Array): number {
  if (images.length % HAIRPIN_IMAGE_SIZE !== 0) throw new InputError(`image bytes (${images.length}) are not whole 25 × 100 × 3 images`);
  return images.length / HAIRPIN_IMAGE_SIZE;
}

/**
 * Structured decoding of per-column token probabilities into tokens (what a sample "is"):
 *   1. length: the first column whose most likely token is end ends the hairpin (at least
 *      `minColumns` columns are kept);
 *   2. the terminal loop: columns before the first column whose most likely token is a pair.
 *      In an encoder drawing the loop's nucleotides appear on both halves, mirrored (column x's
 *      lower nucleotide is column L − 1 − x's upper one), so the loop's nucleotides are chosen
 *      jointly: nucleotide k of the loop maximises log P(upper of column k) + log P(lower of
 *      column L − 1 − k), and every loop column is two unpaired nucleotides;
 *   3. every other column: its most likely token, end excluded.
 * `probabilities` holds one row of 100 × 31 probabilities (softmax output); returns
 * shape=(100,) tokens, end-padded. With `temperature` > 0, steps 2–3 sample instead of taking
 * the maximum (`random` in [0, 1) from a seeded generator).
 */
export function decodeTokenProbabilities(
  probabilities: ArrayLike<number>,
  opts: { temperature?: number; random?: () => number; minColumns?: number } = {},
): Uint8Array {
  const V = COLUMN_TOKENS;
  if (probabilities.length !== TOKEN_COLUMNS * V) throw new InputError(`${probabilities.length} probabilities, expected ${TOKEN_COLUMNS} × ${V}`);
  const temperature = opts.temperature ?? 0;
  if (temperature > 0 && !opts.random) throw new InputError("sampling with a temperature needs a seeded random generator");
  const minColumns = opts.minColumns ?? 1;
  const p = (x: number, t: number) => probabilities[x * V + t]!;
  const argmax = (x: number, from: number, to: number) => {
    let best = from;
    for (let t = from + 1; t < to; t++) if (p(x, t) > p(x, best)) best = t;
    return best;
  };
  let length = TOKEN_COLUMNS;
  for (let x = minColumns; x < TOKEN_COLUMNS; x++) {
    if (argmax(x, 0, V) === END_TOKEN) {
      length = x;
      break;
    }
  }
  const choose = (scores: number[]): number => {
    // scores are log-probabilities; argmax, or a sample at `temperature`
    if (temperature <= 0) {
      let best = 0;
      for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
      return best;
    }
    const max = Math.max(...scores);
    const w = scores.map((s) => Math.exp((s - max) / temperature));
    const total = w.reduce((a, b) => a + b, 0);
    let r = opts.random!() * total;
    for (let k = 0; k < w.length; k++) {
      r -= w[k]!;
      if (r < 0) return k;
    }
    return w.length - 1;
  };
  const log = (v: number) => Math.log(Math.max(v, 1e-12));
  const tokens = new Uint8Array(TOKEN_COLUMNS);
  let loop = length;
  for (let x = 0; x < length; x++) {
    if (isPairedToken(argmax(x, 1, V))) {
      loop = x;
      break;
    }
  }
  // Marginal probability of each nucleotide on one half of column x (unpaired tokens only: loop columns are unpaired).
  const halfNucleotide = (x: number, half: "upper" | "lower"): number[] => unpairedMarginal((t) => p(x, t), half === "upper");
  if (loop < length) {
    const nts: number[] = [];
    for (let k = 0; k < loop; k++) {
      const up = halfNucleotide(k, "upper");
      const down = halfNucleotide(loop - 1 - k, "lower");
      nts.push(choose(up.map((v, i) => log(v) + log(down[i]!))));
    }
    for (let x = 0; x < loop; x++) tokens[x] = 7 + 4 * nts[x]! + nts[loop - 1 - x]!;
  }
  for (let x = loop < length ? loop : 0; x < length; x++) {
    const scores: number[] = [];
    for (let t = 1; t < V; t++) scores.push(log(p(x, t)));
    tokens[x] = 1 + choose(scores);
  }
  return tokens;
}

/** Log-probability of a token row under per-column probabilities shape=(100, 31) (end columns included). */
export function tokensLogProbability(probabilities: ArrayLike<number>, tokens: ArrayLike<number>): number {
  let sum = 0;
  for (let x = 0; x < TOKEN_COLUMNS; x++) sum += Math.log(Math.max(probabilities[x * COLUMN_TOKENS + tokens[x]!]!, 1e-12));
  return sum;
}

/**
 * Marginal probability of each nucleotide (A, C, G, U) on one half of a column, summed over the
 * 16 two-unpaired-nucleotide tokens (ids 7 + 4·upper + lower); `p(token)` gives the column's
 * token probabilities. Shape=(4,).
 */
function unpairedMarginal(p: (token: number) => number, upper: boolean): number[] {
  const m = [0, 0, 0, 0];
  for (let u = 0; u < 4; u++) for (let l = 0; l < 4; l++) m[upper ? u : l] = m[upper ? u : l]! + p(7 + 4 * u + l);
  return m;
}

/**
 * The most likely tokens with a given hairpin length and terminal loop: columns ≥ `length` are
 * end; columns < `loop` are the loop (two unpaired nucleotides each, chosen jointly and mirrored
 * as in {@link decodeTokenProbabilities}); column `loop` is the most likely pair; the others
 * their most likely token other than end. `loop` = `length` means no pair. Returns
 * shape=(100,).
 */
export function decodeTokensWithShape(probabilities: ArrayLike<number>, length: number, loop: number): Uint8Array {
  const V = COLUMN_TOKENS;
  if (!(Number.isInteger(length) && length >= 1 && length <= TOKEN_COLUMNS && Number.isInteger(loop) && loop >= 0 && loop <= length)) {
    throw new InputError(`a decoding needs 1 ≤ length ≤ ${TOKEN_COLUMNS} and 0 ≤ loop ≤ length, got length ${length}, loop ${loop}`);
  }
  const p = (x: number, t: number) => Math.max(probabilities[x * V + t]!, 1e-12);
  const tokens = new Uint8Array(TOKEN_COLUMNS);
  const half = (x: number, upper: boolean) => unpairedMarginal((t) => p(x, t), upper);
  if (loop < length) {
    const nts: number[] = [];
    for (let k = 0; k < loop; k++) {
      const up = half(k, true), down = half(loop - 1 - k, false);
      let best = 0;
      for (let i = 1; i < 4; i++) if (Math.log(up[i]!) + Math.log(down[i]!) > Math.log(up[best]!) + Math.log(down[best]!)) best = i;
      nts.push(best);
    }
    for (let x = 0; x < loop; x++) tokens[x] = 7 + 4 * nts[x]! + nts[loop - 1 - x]!;
    let pair = 1;
    for (let t = 2; t <= 6; t++) if (p(loop, t) > p(loop, pair)) pair = t;
    tokens[loop] = pair;
  }
  for (let x = loop < length ? loop + 1 : 0; x < length; x++) {
    let best = 1;
    for (let t = 2; t < V; t++) if (p(x, t) > p(x, best)) best = t;
    tokens[x] = best;
  }
  return tokens;
}

/** Length (columns before the first end) and loop (columns before the first pair) of a token row. */
export function tokenShape(tokens: ArrayLike<number>): { length: number; loop: number } {
  let length = 0;
  while (length < TOKEN_COLUMNS && tokens[length] !== END_TOKEN) length++;
  let loop = 0;
  while (loop < length && !isPairedToken(tokens[loop]!)) loop++;
  return { length, loop };
}

/**
 * Alternative decodings of one sample's probabilities shape=(100, 31), most likely first:
 * the structured decoding ({@link decodeTokenProbabilities}), then the most likely tokens for
 * hairpin lengths and loop sizes near its own (length − 3 … + 2, loop − 2 … + 2;
 * {@link decodeTokensWithShape}), then `sampled` decodings drawn at `temperature` (seeded),
 * without duplicates, ranked by log-probability (the structured decoding stays first). At most
 * `max` candidates.
 */
export function candidateDecodings(
  probabilities: ArrayLike<number>,
  opts: { max: number; sampled?: number; temperature?: number; random?: () => number },
): Uint8Array[] {
  const first = decodeTokenProbabilities(probabilities);
  const { length, loop } = tokenShape(first);
  const seen = new Set<string>([first.join(",")]);
  const others: { tokens: Uint8Array; score: number }[] = [];
  const add = (tokens: Uint8Array) => {
    const key = tokens.join(",");
    if (seen.has(key)) return;
    seen.add(key);
    others.push({ tokens, score: tokensLogProbability(probabilities, tokens) });
  };
  for (const dn of [0, -1, 1, -2, 2, -3]) {
    for (const dl of [0, -1, 1, -2, 2]) {
      const n = length + dn, l = loop + dl;
      if (n < 1 || n > TOKEN_COLUMNS || l < 0 || l > n || (dn === 0 && dl === 0)) continue;
      add(decodeTokensWithShape(probabilities, n, l));
    }
  }
  const sampled = opts.sampled ?? 0;
  if (sampled > 0) {
    if (!opts.random) throw new InputError("sampled decodings need a seeded random generator");
    for (let k = 0; k < sampled; k++) add(decodeTokenProbabilities(probabilities, { temperature: opts.temperature ?? 0.5, random: opts.random }));
  }
  others.sort((a, b) => b.score - a.score);
  return [first, ...others.map((o) => o.tokens)].slice(0, Math.max(1, opts.max));
}
