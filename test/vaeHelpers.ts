/** Shared by the VAE tests: constructed single-stem hairpins and a tiny labelled image set. */
import { mulberry32, randomSequence } from "../lib/src/random";
import { encodeHairpinImage, HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";

const PAIRS = ["AU", "UA", "GC", "CG", "GU", "UG"];

/**
 * A random single-stem hairpin with its structure: `stem` pairs (mostly G–C / A–U), bulges on
 * either arm, 1 × 1 internal loops, a terminal loop of 4–9 nt and short unpaired tails.
 * Paired positions are complementary, so every column is a canonical pair.
 */
export function constructedHairpin(seed: number, stem = 22): { sequence: string; structure: string } {
  const random = mulberry32(seed);
  const five: string[] = [];
  const fiveFold: string[] = [];
  const three: string[] = []; // from the loop outwards
  const threeFold: string[] = [];
  const tail5 = randomSequence(random, Math.floor(random() * 3), "ACGU");
  const tail3 = randomSequence(random, Math.floor(random() * 3), "ACGU");
  for (let k = 0; k < stem; k++) {
    const r = random();
    if (k > 2 && k < stem - 3 && r < 0.08) {
      five.push("A");
      fiveFold.push(".");
    } else if (k > 2 && k < stem - 3 && r < 0.16) {
      three.push("C");
      threeFold.push(".");
    } else if (k > 2 && k < stem - 3 && r < 0.2) {
      five.push("A");
      fiveFold.push(".");
      three.push("A");
      threeFold.push(".");
    }
    const pair = PAIRS[random() < 0.85 ? Math.floor(random() * 4) : 4 + Math.floor(random() * 2)]!;
    five.push(pair[0]!);
    fiveFold.push("(");
    three.push(pair[1]!);
    threeFold.push(")");
  }
  const loop = "GAAA" + randomSequence(random, Math.floor(random() * 6), "A");
  const sequence = tail5 + five.join("") + loop + [...three].reverse().join("") + tail3;
  const structure = ".".repeat(tail5.length) + fiveFold.join("") + ".".repeat(loop.length) + [...threeFold].reverse().join("") + ".".repeat(tail3.length);
  return { sequence, structure };
}

/** A deepMir-like set of drawings of constructed hairpins: labels alternate 1, 0. */
export function constructedSet(prefix: string, n: number, seed: number): { prefix: string; n: number; images: Uint8Array; labels: Uint8Array; names: string[] } {
  const images = new Uint8Array(n * HAIRPIN_IMAGE_SIZE);
  const labels = new Uint8Array(n);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = constructedHairpin(seed * 1000 + i, 18 + (i % 7));
    images.set(encodeHairpinImage(h.sequence, h.structure).data, i * HAIRPIN_IMAGE_SIZE);
    labels[i] = i % 2 === 0 ? 1 : 0;
    names.push(`${prefix}_${i}`);
  }
  return { prefix, n, images, labels, names };
}
