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

/** The seed of every random choice unless one is given: 1789, as in the original work. */
export const DEFAULT_SEED = 1789;

/**
 * A seed derived from a run seed and a counter (an epoch, an iteration): a fixed mix, so the
 * randomness of any step is known from the run seed alone and a checkpoint needs no
 * generator state.
 */
export function derivedSeed(seed: number, counter: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(counter + 1, 0x85ebca6b)) >>> 0;
}

/** A Fisher–Yates shuffle of `values` in place, drawing from `random`. */
export function shuffleInPlace<T>(values: { length: number; [index: number]: T }, random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}

/** Seeded standard normal draws (Box–Muller on mulberry32). */
export function normalSampler(seed: number): () => number {
  const random = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
