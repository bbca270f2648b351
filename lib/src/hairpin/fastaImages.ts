import { InputError, InputLocation, shorten } from "../errors";
import { FastaRecord, parseFasta, readFasta } from "../io/fasta";
import { encodeHairpinImage, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH, MAX_HAIRPIN_LENGTH } from "./image";
import { normaliseRnaSequence } from "./rna";
import { foldSequences } from "./rnafold";

/**
 * Hairpins from FASTA: records read as RNA (T → U; a record may carry its own dot-bracket
 * structure), folded with RNAfold where they carry none, and drawn as 25 × 100 images.
 */

/**
 * A record's sequence as RNA ({@link normaliseRnaSequence}), at most {@link MAX_HAIRPIN_LENGTH}
 * nt: longer ones are refused here, before any folding (RNAfold takes minutes on 10 kb, and the
 * image could not show it).
 */
const rna = (raw: string, where: InputLocation, label: string) => {
  const sequence = normaliseRnaSequence(raw, where, label);
  if (sequence.length > MAX_HAIRPIN_LENGTH) {
    throw new InputError(
      `${label} is ${sequence.length.toLocaleString("en-US")} nt long: a hairpin image holds ${HAIRPIN_IMAGE_WIDTH} columns, at most ${MAX_HAIRPIN_LENGTH} nt (pre-miRNAs are 55–180 nt); give the hairpin, not the transcript`,
      where,
    );
  }
  return sequence;
};

/** Parses FASTA text of RNA hairpins (see {@link parseFasta}; sequences as {@link normaliseRnaSequence}, at most {@link MAX_HAIRPIN_LENGTH} nt). */
export function parseHairpinFasta(text: string, file?: string): FastaRecord[] {
  return parseFasta(text, file, { normalise: rna });
}

/** Reads a FASTA file of RNA hairpins (gzip when named .gz); see {@link parseHairpinFasta}. */
export function readHairpinFasta(file: string): FastaRecord[] {
  return readFasta(file, { normalise: rna });
}

/** A record folded (or with its given structure) and drawn. */
export interface EncodedHairpin {
  name: string;
  sequence: string;
  structure: string;
  /** kcal/mol from RNAfold; null when the structure came with the record. */
  mfe: number | null;
  /** RGB bytes, shape=(25, 100, 3), row-major. */
  image: Uint8Array;
}

/**
 * Folds the records without a structure (one RNAfold batch) and encodes every record. An
 * encoding failure (structure length ≠ sequence length, unbalanced brackets, no terminal
 * loop) is an InputError naming the record and its line.
 */
export async function encodeFastaRecords(records: readonly FastaRecord[], file?: string): Promise<EncodedHairpin[]> {
  const toFold = records.filter((r) => r.structure === null);
  const folded = await foldSequences(toFold.map((r) => r.sequence), { names: toFold.map((r) => r.name), file });
  const foldOf = new Map(toFold.map((r, k) => [r, folded[k]!]));
  return records.map((r) => {
    const fold = foldOf.get(r);
    const structure = fold ? fold.structure : r.structure!;
    try {
      const image = encodeHairpinImage(r.sequence, structure).data;
      return { name: r.name, sequence: r.sequence, structure, mfe: fold ? fold.mfe : null, image };
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`record '${shorten(r.name)}': ${e.message}`, { file, row: r.line });
      throw e;
    }
  });
}

/** Concatenates images (each shape=(25, 100, 3)) into one byte array, shape=(n, 25, 100, 3). */
export function stackImages(images: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(images.length * HAIRPIN_IMAGE_SIZE);
  images.forEach((image, k) => out.set(image, k * HAIRPIN_IMAGE_SIZE));
  return out;
}
