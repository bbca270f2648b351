import { InputError, shorten } from "../errors";
import { loadNativeAddon } from "../ops/native/addon";
import { INVALID_CODE, MIRNA_LENGTH, NUCLEOTIDE_CODES, SITE_LENGTH } from "./sequences";

export interface BindingMatrixOptions {
  /** Add a second channel with 1 where the pair is a G:U wobble (site G–miRNA U or site U–miRNA G). Default false (arch_00b uses one channel). */
  wobbleChannel?: boolean;
  /** Preallocated output, shape=(n, 50, 20, channels) (length n·50·20·channels); every value is overwritten. */
  out?: Float32Array;
  /**
   * Which encoder writes the matrices (same output bit for bit): "native", the C++ one of this
   * project's addon (native/src/encode.cc; non-temporal stores, about 1.5–2× the JS one);
   * "js"; default "auto": native when the addon is built and has it, else js.
   */
  implementation?: EncoderImplementation;
}

export type EncoderImplementation = "auto" | "native" | "js";

/** The encoder `implementation: "auto"` uses on this machine ("native" or "js"). */
export function encoderImplementation(): "native" | "js" {
  const load = loadNativeAddon();
  return load.ok && typeof load.addon.encodeBindingMatrix === "function" ? "native" : "js";
}

/** Number of channels the encoder writes for these options. */
export function bindingMatrixChannels(opts: BindingMatrixOptions = {}): number {
  return opts.wobbleChannel ? 2 : 1;
}

// Watson–Crick partner code for each nucleotide code (A↔T, C↔G); N pairs with nothing.
const WATSON_CRICK_PARTNER = new Int8Array([3, 2, 1, 0, -1]);
// G:U wobble partner: G pairs with T(U), T(U) with G.
const WOBBLE_PARTNER = new Int8Array([-1, -1, 3, 2, -1]);

/**
 * Encodes miRNA–site pairs as binding matrices, as the original work did
 * (github.com/ML-Bioinfo-CEITEC/mirna_binding).
 *
 * Returns Float32Array, shape=(n, 50, 20, channels), row-major, channels last (as tf.tensor4d
 * expects), 0/1 values; channels is 1, or 2 with `wobbleChannel`. Element [k, i, j, 0] is 1 when
 * site nucleotide i and miRNA nucleotide j of pair k form a Watson–Crick pair (A–T, T–A, G–C,
 * C–G; U counts as T), else 0. Both sequences are read 5'→3' as given, so a perfect site is an
 * anti-diagonal of ones. With `wobbleChannel`, channel 1 marks G:U wobble pairs.
 *
 * Inputs: `mirnas` shape=(n,), 20 nt each, and `sites` shape=(n,), 50 nt each, over A, C, G, T,
 * U, N (either case); anything else is an {@link InputError} naming the pair (0-based index).
 * Validate tables with their file and row first (see tables.ts) so users see those instead.
 *
 * Speed: every cell is written (no separate zero fill) by copying per-miRNA row templates;
 * see encodeInto (JS) and native/src/encode.cc (C++, used when built). npm run bench measures
 * both on one core.
 */
export function encodeBindingMatrix(
  mirnas: readonly string[],
  sites: readonly string[],
  opts: BindingMatrixOptions = {},
): Float32Array {
  const n = mirnas.length;
  if (sites.length !== n) {
    throw new InputError(`got ${n} miRNAs but ${sites.length} sites: they must pair one to one`);
  }
  const channels = bindingMatrixChannels(opts);
  const pairSize = SITE_LENGTH * MIRNA_LENGTH * channels;
  const out = opts.out ?? new Float32Array(n * pairSize);
  if (out.length !== n * pairSize) {
    throw new InputError(`output buffer holds ${out.length} values, expected ${n * pairSize} (${n}×50×20×${channels})`);
  }

  const implementation = opts.implementation ?? "auto";
  const useNative = implementation === "native" || (implementation === "auto" && encoderImplementation() === "native");
  if (useNative) {
    encodeNative(mirnas, sites, out, channels);
    return out;
  }
  // Float64 views need 8-byte alignment; encode a misaligned caller buffer through an aligned copy.
  if (out.byteOffset % 8 !== 0) {
    const aligned = new Float32Array(out.length);
    encodeInto(mirnas, sites, aligned, channels);
    out.set(aligned);
  } else {
    encodeInto(mirnas, sites, out, channels);
  }
  return out;
}

/** The C++ encoder: lengths checked here (for the message), letters there. */
function encodeNative(mirnas: readonly string[], sites: readonly string[], out: Float32Array, channels: number): void {
  const load = loadNativeAddon();
  if (!load.ok) throw new Error(`encoder "native" requested but ${load.reason}`);
  if (typeof load.addon.encodeBindingMatrix !== "function") {
    throw new Error(`encoder "native" requested but ${load.file} predates it: rerun environment/setup.sh`);
  }
  const n = mirnas.length;
  for (let k = 0; k < n; k++) {
    if (mirnas[k]!.length !== MIRNA_LENGTH || sites[k]!.length !== SITE_LENGTH) throwLengthError(mirnas[k]!, sites[k]!, k);
  }
  const bad = load.addon.encodeBindingMatrix(mirnas.join(""), sites.join(""), n, channels as 1 | 2, out);
  if (bad >= 0) {
    // Re-encode the offending pair in JS for the exact message (it throws).
    encodeInto([mirnas[bad]!], [sites[bad]!], new Float32Array(SITE_LENGTH * MIRNA_LENGTH * channels), channels, bad);
    throw new Error(`native encoder rejected pair ${bad} but the JS encoder accepts it`);
  }
}

/**
 * The hot loop. Per miRNA it builds five row templates (one per site code A, C, G, T, N; each
 * 20 × channels float32 of 0/1), then copies the template of each site nucleotide into the output
 * row. Copies go through Float64Array views, two float32 cells per 8-byte move, unrolled for one
 * channel: about 1.6× faster than writing single ones. The moves copy bit patterns (0.0f / 1.0f
 * pairs are never NaN as doubles), so the float32 values arrive unchanged.
 */
function encodeInto(mirnas: readonly string[], sites: readonly string[], out: Float32Array, channels: number, firstPair = 0): void {
  const SITES = SITE_LENGTH;
  const MIRNAS = MIRNA_LENGTH;
  const CODES = NUCLEOTIDE_CODES;
  const INVALID = INVALID_CODE;
  const n = mirnas.length;
  const rowDoubles = (MIRNAS * channels) / 2; // 10 for one channel
  const out64 = new Float64Array(out.buffer, out.byteOffset, out.length / 2);
  const template64 = new Float64Array(5 * rowDoubles);
  const template32 = new Float32Array(template64.buffer);
  let previousMirna: string | undefined;

  for (let k = 0; k < n; k++) {
    const mirna = mirnas[k]!;
    const site = sites[k]!;
    if (mirna.length !== MIRNAS || site.length !== SITES) throwLengthError(mirna, site, firstPair + k);
    // Tables are usually grouped by miRNA: rebuild the templates only when it changes.
    if (mirna !== previousMirna) {
      template32.fill(0);
      for (let j = 0; j < MIRNAS; j++) {
        const charCode = mirna.charCodeAt(j);
        const m = charCode < 128 ? CODES[charCode]! : INVALID;
        if (m === INVALID) throwLetterError(mirna, j, firstPair + k, "miRNA");
        if (m < 4) {
          // Site code that pairs with miRNA nucleotide m, written at column j of that code's row.
          template32[WATSON_CRICK_PARTNER[m]! * MIRNAS * channels + j * channels] = 1;
          const wobble = WOBBLE_PARTNER[m]!;
          if (channels === 2 && wobble >= 0) template32[wobble * MIRNAS * 2 + j * 2 + 1] = 1;
        }
      }
      previousMirna = mirna;
    }

    const rowStart = k * SITES * rowDoubles;
    if (channels === 1) copyRowsOneChannel(site, firstPair + k, rowStart, out64, template64);
    else copyRows(site, firstPair + k, rowStart, rowDoubles, out64, template64);
  }
}

/** Copies the template row of each site nucleotide (10 doubles = 20 float32), unrolled. */
function copyRowsOneChannel(site: string, pair: number, rowStart: number, out64: Float64Array, template64: Float64Array): void {
  const CODES = NUCLEOTIDE_CODES;
  let row = rowStart;
  for (let i = 0; i < 50; i++, row += 10) {
    const charCode = site.charCodeAt(i);
    const c = charCode < 128 ? CODES[charCode]! : 255; // 255 = INVALID_CODE
    if (c > 4) throwLetterError(site, i, pair, "site");
    const t = c * 10;
    out64[row] = template64[t]!;
    out64[row + 1] = template64[t + 1]!;
    out64[row + 2] = template64[t + 2]!;
    out64[row + 3] = template64[t + 3]!;
    out64[row + 4] = template64[t + 4]!;
    out64[row + 5] = template64[t + 5]!;
    out64[row + 6] = template64[t + 6]!;
    out64[row + 7] = template64[t + 7]!;
    out64[row + 8] = template64[t + 8]!;
    out64[row + 9] = template64[t + 9]!;
  }
}

/** Same for any number of channels (rowDoubles = 10 · channels). */
function copyRows(site: string, pair: number, rowStart: number, rowDoubles: number, out64: Float64Array, template64: Float64Array): void {
  let row = rowStart;
  for (let i = 0; i < SITE_LENGTH; i++, row += rowDoubles) {
    const charCode = site.charCodeAt(i);
    const c = charCode < 128 ? NUCLEOTIDE_CODES[charCode]! : INVALID_CODE;
    if (c > 4) throwLetterError(site, i, pair, "site");
    const t = c * rowDoubles;
    for (let d = 0; d < rowDoubles; d++) out64[row + d] = template64[t + d]!;
  }
}

// Cold paths kept out of the loop so it stays small and inlined.
function throwLengthError(mirna: string, site: string, pair: number): never {
  if (mirna.length !== MIRNA_LENGTH) {
    throw new InputError(`pair ${pair}: miRNA '${shorten(mirna)}' has length ${mirna.length}, expected ${MIRNA_LENGTH}`);
  }
  throw new InputError(`pair ${pair}: site '${shorten(site)}' has length ${site.length}, expected ${SITE_LENGTH}`);
}

function throwLetterError(sequence: string, position: number, pair: number, kind: string): never {
  throw new InputError(
    `pair ${pair}: ${kind} '${shorten(sequence)}' has a non-nucleotide letter '${shorten(sequence[position]!)}' at position ${position + 1}`,
  );
}
