import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeBindingMatrix, encoderImplementation } from "../lib/src/binding/encoding";
import { mulberry32 } from "../lib/src/random";
import { needNative } from "./tfHelpers";
import { reverseComplement } from "../lib/src/binding/sequences";

const MIRNA = "TGAGGTAGTAGGTTGTATAG"; // let-7a, 20 nt
/** Value at [pair k, site row i, miRNA column j, channel c]. */
function at(m: Float32Array, k: number, i: number, j: number, channels = 1, c = 0): number {
  return m[((k * 50 + i) * 20 + j) * channels + c]!;
}

test("shape [n,50,20,1] and hand-checked cells", () => {
  const site = "A".repeat(50);
  const m = encodeBindingMatrix([MIRNA], [site]);
  assert.equal(m.length, 1000);
  // Site A pairs only with miRNA T: columns where MIRNA has T (0-based 0, 5, 8, 12, 13, 15, 17).
  const expectedColumns = [...MIRNA].flatMap((ch, j) => (ch === "T" ? [j] : []));
  assert.deepEqual(expectedColumns, [0, 5, 8, 12, 13, 15, 17]);
  for (let i = 0; i < 50; i++) {
    for (let j = 0; j < 20; j++) assert.equal(at(m, 0, i, j), expectedColumns.includes(j) ? 1 : 0, `cell ${i},${j}`);
  }
});

test("a hand-written 4-letter example: every Watson–Crick pair and nothing else", () => {
  // Site starts ACGTN…, miRNA starts TGCAA…: row i, column j is 1 only for A–T, C–G, G–C, T–A.
  const site = "ACGTN" + "N".repeat(45);
  const mirna = "TGCAG" + "N".repeat(15);
  const m = encodeBindingMatrix([mirna], [site]);
  const expected = [
    // miRNA:  T  G  C  A  G
    /* A */ [1, 0, 0, 0, 0],
    /* C */ [0, 1, 0, 0, 1],
    /* G */ [0, 0, 1, 0, 0],
    /* T */ [0, 0, 0, 1, 0],
    /* N */ [0, 0, 0, 0, 0],
  ];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.equal(at(m, 0, i, j), expected[i]![j], `cell ${i},${j}`);
  let ones = 0;
  for (const v of m) ones += v;
  assert.equal(ones, 5, "only the five pairs above");
});

test("a perfect site is an anti-diagonal of ones", () => {
  const rc = reverseComplement(MIRNA);
  const site = "C".repeat(10) + rc + "C".repeat(20);
  const m = encodeBindingMatrix([MIRNA], [site]);
  for (let j = 0; j < 20; j++) assert.equal(at(m, 0, 10 + 19 - j, j), 1);
});

test("U reads as T and lower case is accepted", () => {
  const a = encodeBindingMatrix([MIRNA], ["ACGU".repeat(12) + "AC"]);
  const b = encodeBindingMatrix([MIRNA.toLowerCase()], ["acgt".repeat(12) + "ac"]);
  const c = encodeBindingMatrix([MIRNA], ["ACGT".repeat(12) + "AC"]);
  assert.deepEqual(a, c);
  assert.deepEqual(b, c);
});

test("wobble channel marks G:U pairs in channel 1, channel 0 unchanged", () => {
  const site = "GT" + "A".repeat(48);
  const mirna = "TG" + "C".repeat(18);
  const one = encodeBindingMatrix([mirna], [site]);
  const two = encodeBindingMatrix([mirna], [site], { wobbleChannel: true });
  assert.equal(two.length, 2000);
  for (let i = 0; i < 50; i++) for (let j = 0; j < 20; j++) assert.equal(at(two, 0, i, j, 2, 0), at(one, 0, i, j));
  assert.equal(at(two, 0, 0, 0, 2, 1), 1, "site G – miRNA T(U)");
  assert.equal(at(two, 0, 1, 1, 2, 1), 1, "site T(U) – miRNA G");
  assert.equal(at(two, 0, 0, 1, 2, 1), 0, "G–G is no pair");
  assert.equal(at(two, 0, 0, 2, 2, 0), 1, "site G – miRNA C is Watson–Crick");
});

test("batches, and a reused output buffer is fully overwritten", () => {
  const sites = ["A".repeat(50), "C".repeat(50), "G".repeat(50)];
  const mirnas = [MIRNA, "G".repeat(20), MIRNA];
  const fresh = encodeBindingMatrix(mirnas, sites);
  const out = new Float32Array(3000).fill(7);
  encodeBindingMatrix(mirnas, sites, { out });
  assert.deepEqual(out, fresh);
  assert.equal(at(fresh, 1, 3, 4), 1, "C site with G miRNA pairs everywhere");
  for (let i = 0; i < 50; i++) for (let j = 0; j < 20; j++) assert.equal(at(fresh, 2, i, j), MIRNA[j] === "C" ? 1 : 0);
});

test("bad input: length, letters, count mismatch, wrong buffer", () => {
  assert.throws(() => encodeBindingMatrix([MIRNA], ["A".repeat(49)]), /pair 0: site .* has length 49, expected 50/);
  assert.throws(() => encodeBindingMatrix(["A".repeat(21)], ["A".repeat(50)]), /pair 0: miRNA .* has length 21, expected 20/);
  assert.throws(() => encodeBindingMatrix([MIRNA, MIRNA], ["A".repeat(50), "A".repeat(49) + "X"]), /pair 1: site .* non-nucleotide letter 'X' at position 50/);
  assert.throws(() => encodeBindingMatrix([MIRNA], []), /1 miRNAs but 0 sites/);
  assert.throws(() => encodeBindingMatrix([MIRNA], ["A".repeat(50)], { out: new Float32Array(10) }), /holds 10 values, expected 1000/);
});

test("a caller buffer that is not 8-byte aligned is filled correctly too", () => {
  const mirnas = [MIRNA, "ACGTN".repeat(4)];
  const sites = ["ACGT".repeat(12) + "GA", "TTGCA".repeat(10)];
  const expected = encodeBindingMatrix(mirnas, sites);
  const backing = new Float32Array(2001).fill(9);
  const misaligned = backing.subarray(1); // byteOffset 4
  encodeBindingMatrix(mirnas, sites, { out: misaligned });
  assert.deepEqual(misaligned, expected);
  assert.equal(backing[0], 9, "nothing written before the view");
});

describe("the native (C++) encoder", () => {
  /** Seeded pairs over every accepted letter (both cases, U, N), runs of repeated miRNAs. */
  function mixedPairs(n: number, seed: number): { mirnas: string[]; sites: string[] } {
    const random = mulberry32(seed);
    const letters = "ACGTUNacgtun";
    const sequence = (length: number): string => {
      let s = "";
      for (let i = 0; i < length; i++) s += letters[Math.floor(random() * letters.length)];
      return s;
    };
    const mirnas: string[] = [];
    const sites: string[] = [];
    for (let k = 0; k < n; k++) {
      mirnas.push(k > 0 && random() < 0.5 ? mirnas[k - 1]! : sequence(20));
      sites.push(sequence(50));
    }
    return { mirnas, sites };
  }

  test("writes the same matrices as the JS encoder, bit for bit (1 and 2 channels, any buffer alignment)", (t) => {
    if (!needNative(t)) return;
    const { mirnas, sites } = mixedPairs(2000, 11);
    for (const wobbleChannel of [false, true]) {
      const js = encodeBindingMatrix(mirnas, sites, { wobbleChannel, implementation: "js" });
      assert.ok(js.some((v) => v === 1), "the comparison needs ones");
      const native = encodeBindingMatrix(mirnas, sites, { wobbleChannel, implementation: "native", out: new Float32Array(js.length).fill(7) });
      assert.deepEqual(native, js);
      for (const byteOffset of [4, 8, 12]) {
        const backing = new Float32Array(js.length + 4).fill(9);
        const view = backing.subarray(byteOffset / 4, byteOffset / 4 + js.length);
        encodeBindingMatrix(mirnas, sites, { wobbleChannel, implementation: "native", out: view });
        assert.deepEqual(view, js, `byteOffset ${byteOffset}`);
        assert.equal(backing[byteOffset / 4 - 1], 9, "nothing written before the view");
        assert.equal(backing[byteOffset / 4 + js.length], 9, "nothing written after the view");
      }
    }
  });

  test("rejects bad input with the JS encoder's messages, naming the pair", (t) => {
    if (!needNative(t)) return;
    const native = { implementation: "native" } as const;
    assert.throws(() => encodeBindingMatrix([MIRNA, MIRNA], ["A".repeat(50), "A".repeat(49)], native), /pair 1: site .* has length 49, expected 50/);
    assert.throws(() => encodeBindingMatrix([MIRNA, MIRNA, MIRNA], ["A".repeat(50), "A".repeat(50), "AXA".padEnd(50, "A")], native), /pair 2: site .* non-nucleotide letter 'X' at position 2/);
    // A letter beyond Latin-1 whose low byte is 'A' (U+0141) must not read as A.
    assert.throws(() => encodeBindingMatrix(["A".repeat(19) + "\u0141"], ["A".repeat(50)], native), /pair 0: miRNA .* non-nucleotide letter 'Ł' at position 20/);
    assert.throws(() => encodeBindingMatrix([MIRNA], ["A".repeat(50)], { ...native, out: new Float32Array(10) }), /holds 10 values, expected 1000/);
  });

  test("is what 'auto' uses when the addon is built", (t) => {
    if (!needNative(t)) return;
    assert.equal(encoderImplementation(), "native");
  });
});
