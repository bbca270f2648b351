/** What every task computes of a nucleotide sequence, in one place. */

/** The share of G and C among the letters of `sequence` (upper case; 0 for an empty one). */
export function gcContent(sequence: string): number {
  let gc = 0;
  for (const ch of sequence) if (ch === "G" || ch === "C") gc++;
  return sequence.length ? gc / sequence.length : 0;
}
