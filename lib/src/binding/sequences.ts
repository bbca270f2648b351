import { InputError, InputLocation, shorten } from "../errors";

/** Length of the miRNA axis of a binding matrix (nt). */
export const MIRNA_LENGTH = 20;
/** Length of the target-site axis of a binding matrix (nt). */
export const SITE_LENGTH = 50;

/** Nucleotide codes used by the encoders: A=0, C=1, G=2, T=3 (U is read as T), N=4. */
export const NUCLEOTIDE_CODE = { A: 0, C: 1, G: 2, T: 3, N: 4 } as const;
/** Marks a character code that is not a nucleotide in {@link NUCLEOTIDE_CODES}. */
export const INVALID_CODE = 255;

/**
 * Lookup table from a UTF-16 char code (< 128) to a nucleotide code; accepts upper and lower
 * case and U/u as T. Everything else maps to INVALID_CODE.
 */
export const NUCLEOTIDE_CODES: Uint8Array = (() => {
  const table = new Uint8Array(128).fill(INVALID_CODE);
  const set = (chars: string, code: number) => {
    for (const ch of chars) table[ch.charCodeAt(0)] = code;
  };
  set("Aa", 0);
  set("Cc", 1);
  set("Gg", 2);
  set("TtUu", 3);
  set("Nn", 4);
  return table;
})();

export type SequenceKind = "miRNA" | "site";

/** Upper-cases, trims and turns U into T: the DNA alphabet every table in this project uses. */
export function normaliseSequence(sequence: string): string {
  return sequence.trim().toUpperCase().replace(/U/g, "T");
}

/**
 * Right-pads a miRNA with N to 20 nt or cuts it to its first 20 nt, as the original
 * pipeline did for family representatives (step 5 of its preprocessing).
 */
export function fitMirnaLength(mirna: string, length = MIRNA_LENGTH): string {
  return mirna.length >= length ? mirna.slice(0, length) : mirna + "N".repeat(length - mirna.length);
}

/** Reverse complement in the DNA alphabet (N stays N). */
export function reverseComplement(sequence: string): string {
  const complement: Record<string, string> = { A: "T", C: "G", G: "C", T: "A", U: "A", N: "N" };
  let out = "";
  for (let i = sequence.length - 1; i >= 0; i--) {
    const c = complement[sequence[i]!.toUpperCase()];
    if (c === undefined) throw new InputError(`'${sequence[i]}' at position ${i + 1} is not a nucleotide`);
    out += c;
  }
  return out;
}

/**
 * Throws an {@link InputError} naming `where` unless `sequence` (already normalised) has
 * the expected length and only A, C, G, T, N.
 */
export function validateSequence(
  sequence: string,
  kind: SequenceKind,
  expectedLength: number,
  where: InputLocation = {},
): void {
  if (sequence.length === 0) throw new InputError(`empty ${kind} sequence`, where);
  for (let i = 0; i < sequence.length; i++) {
    const code = sequence.charCodeAt(i);
    if (code >= 128 || NUCLEOTIDE_CODES[code] === INVALID_CODE) {
      throw new InputError(
        `${kind} '${shorten(sequence)}' has a non-nucleotide letter '${shorten(sequence[i]!)}' at position ${i + 1} (allowed: A, C, G, T, U, N)`,
        where,
      );
    }
  }
  if (sequence.length !== expectedLength) {
    const hint =
      kind === "miRNA"
        ? " (pad with N or cut to 20 nt as the original pipeline did: --fit-mirna on the command line, fitMirnaLength() in code)"
        : "";
    throw new InputError(
      `${kind} '${shorten(sequence)}' has length ${sequence.length}, expected ${expectedLength}${hint}`,
      where,
    );
  }
}
