import { InputError } from "./errors";
import { INVALID_CODE, MIRNA_LENGTH, NUCLEOTIDE_CODES, SITE_LENGTH } from "./sequences";

export interface BindingMatrixOptions {
  /** Add a second channel with 1 where the pair is a G:U wobble (site G–miRNA U or site U–miRNA G). Default false (arch_00b uses one channel). */
  wobbleChannel?: boolean;
  /** Preallocated output of length n·50·20·channels; every value is overwritten. */
  out?: Float32Array;
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
 * Encodes miRNA–site pairs as binding matrices (spec binding.md §2).
 *
 * Output shape [n, 50, 20, channels] (row-major, channels last, as tf.tensor4d expects):
 * element [k, i, j, 0] is 1 when site nucleotide i and miRNA nucleotide j of pair k form a
 * Watson–Crick pair (A–T, T–A, G–C, C–G; U counts as T), else 0. Both sequences are read 5'→3'
 * as given, so a perfect site is an anti-diagonal of ones. With `wobbleChannel`, channel 1
 * marks G:U wobble pairs.
 *
 * Inputs: miRNAs of 20 nt and sites of 50 nt over A, C, G, T, U, N (either case); anything else
 * is an {@link InputError} naming the pair (0-based index). Validate tables with their file and
 * row first (see tables.ts) so users see those instead.
 *
 * Speed: writes only the ones (about 1 in 4 cells) into a zero-filled buffer, using per-miRNA
 * bit masks of the columns each site nucleotide pairs with.
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
  // Module imports compile to property loads; local copies keep the hot loop tight.
  const SITES = SITE_LENGTH;
  const MIRNAS = MIRNA_LENGTH;
  const CODES = NUCLEOTIDE_CODES;
  const INVALID = INVALID_CODE;
  const channels = bindingMatrixChannels(opts);
  const pairSize = SITES * MIRNAS * channels;
  const out = opts.out ?? new Float32Array(n * pairSize);
  if (out.length !== n * pairSize) {
    throw new InputError(`output buffer holds ${out.length} values, expected ${n * pairSize} (${n}×50×20×${channels})`);
  }
  const reused = opts.out !== undefined;

  // For the current miRNA: bit j of wcMask[c] is set when miRNA nt j pairs with site code c.
  const wcMask = new Int32Array(5);
  const wobbleMask = new Int32Array(5);
  const rowSize = MIRNAS * channels;
  let previousMirna: string | undefined;
  // One memset over the whole output is cheaper than zeroing pair by pair.
  if (reused) out.fill(0);

  for (let k = 0; k < n; k++) {
    const mirna = mirnas[k]!;
    const site = sites[k]!;
    if (mirna.length !== MIRNAS || site.length !== SITES) throwLengthError(mirna, site, k);
    // Tables are usually grouped by miRNA: rebuild the masks only when it changes.
    if (mirna !== previousMirna) {
      wcMask.fill(0);
      wobbleMask.fill(0);
      for (let j = 0; j < MIRNAS; j++) {
        const charCode = mirna.charCodeAt(j);
        const m = charCode < 128 ? CODES[charCode]! : INVALID;
        if (m === INVALID) throwLetterError(mirna, j, k, "miRNA");
        if (m < 4) {
          wcMask[WATSON_CRICK_PARTNER[m]!]! |= 1 << j;
          const wobble = WOBBLE_PARTNER[m]!;
          if (wobble >= 0) wobbleMask[wobble]! |= 1 << j;
        }
      }
      previousMirna = mirna;
    }

    const base = k * pairSize;
    for (let i = 0; i < SITES; i++) {
      const charCode = site.charCodeAt(i);
      const c = charCode < 128 ? CODES[charCode]! : INVALID;
      if (c >= 4) {
        if (c === 4) continue; // N pairs with nothing
        throwLetterError(site, i, k, "site");
      }
      const rowBase = base + i * rowSize;
      // Write a 1 at each set bit (lowest first): about 5 of the 20 columns per row.
      let bits = wcMask[c]!;
      if (channels === 1) {
        while (bits !== 0) {
          out[rowBase + 31 - Math.clz32(bits & -bits)] = 1;
          bits &= bits - 1;
        }
      } else {
        while (bits !== 0) {
          out[rowBase + (31 - Math.clz32(bits & -bits)) * 2] = 1;
          bits &= bits - 1;
        }
        let wobbleBits = wobbleMask[c]!;
        while (wobbleBits !== 0) {
          out[rowBase + (31 - Math.clz32(wobbleBits & -wobbleBits)) * 2 + 1] = 1;
          wobbleBits &= wobbleBits - 1;
        }
      }
    }
  }
  return out;
}

// Cold paths kept out of the loop so it stays small and inlined.
function throwLengthError(mirna: string, site: string, pair: number): never {
  if (mirna.length !== MIRNA_LENGTH) {
    throw new InputError(`pair ${pair}: miRNA '${mirna}' has length ${mirna.length}, expected ${MIRNA_LENGTH}`);
  }
  throw new InputError(`pair ${pair}: site '${site}' has length ${site.length}, expected ${SITE_LENGTH}`);
}

function throwLetterError(sequence: string, position: number, pair: number, kind: string): never {
  throw new InputError(
    `pair ${pair}: ${kind} '${sequence}' has a non-nucleotide letter '${sequence[position]}' at position ${position + 1}`,
  );
}
