import { InputError, InputLocation, shorten } from "../errors";

/**
 * Normalises an RNA sequence for folding and hairpin images: trims,
 * upper-cases and reads T as U. Throws an {@link InputError} naming `where` and `label` (e.g.
 * "sequence hsa-let-7b") when it is empty or holds anything but A, C, G, U (after T→U).
 * N is rejected too: a hairpin image has no colour for it.
 */
export function normaliseRnaSequence(sequence: string, where: InputLocation = {}, label = "sequence"): string {
  const rna = sequence.trim().toUpperCase().replace(/T/g, "U");
  if (rna.length === 0) throw new InputError(`${label} is empty`, where);
  for (let i = 0; i < rna.length; i++) {
    const letter = rna[i]!;
    if (letter !== "A" && letter !== "C" && letter !== "G" && letter !== "U") {
      const shown = shorten(rna);
      throw new InputError(
        `${label} '${shown}' has a non-RNA letter '${letter}' at position ${i + 1} (allowed: A, C, G, U; T is read as U)`,
        where,
      );
    }
  }
  return rna;
}
