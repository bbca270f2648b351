/**
 * Seeded pseudo-random numbers: every random choice in this project takes a seed, and the same
 * seed gives the same numbers on every machine (unlike Math.random).
 */

/** mulberry32: a small, fast 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [low, high] (both inclusive). */
export function randomInteger(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

/** A random sequence over `alphabet` (default ACGT), `length` letters long. */
export function randomSequence(random: () => number, length: number, alphabet = "ACGT"): string {
  const chars = new Array<string>(length);
  for (let i = 0; i < length; i++) chars[i] = alphabet[Math.floor(random() * alphabet.length)]!;
  return chars.join("");
}
