/**
 * Novelty (lib/src/cvae/novelty.ts): the bit-parallel edit distance equals the
 * textbook table on random pairs of every length up to 200 (several 32-bit blocks), the
 * nearest-reference search is exact, bad letters are named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../lib/src/errors";
import { editDistance, nearestEditDistances } from "../lib/src/cvae/novelty";
import { mulberry32, randomSequence } from "../lib/src/random";

/** The textbook dynamic-programming table. */
function tableDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

test("editDistance equals the table on random and related pairs, lengths 0–200", () => {
  const random = mulberry32(7);
  for (let t = 0; t < 1500; t++) {
    const a = randomSequence(random, Math.floor(random() * 200), "ACGU");
    const b = random() < 0.5
      ? randomSequence(random, Math.floor(random() * 200), "ACGU")
      : a.split("").filter(() => random() > 0.05).map((c) => (random() < 0.1 ? "ACGU"[Math.floor(random() * 4)]! : c)).join("");
    assert.equal(editDistance(a, b), tableDistance(a, b), `${a.length} × ${b.length}`);
  }
  assert.equal(editDistance("", "ACG"), 3);
  assert.equal(editDistance("ACGT", "ACGU"), 0, "T is read as U");
  assert.equal(editDistance("GAAAC", "GAAC"), 1);
});

test("nearestEditDistances: exact nearest over all references", () => {
  const random = mulberry32(8);
  const refs = Array.from({ length: 300 }, () => randomSequence(random, 40 + Math.floor(random() * 100), "ACGU"));
  const queries = [refs[17]!, refs[3]!.slice(2) + "GG", randomSequence(random, 80, "ACGU"), ""];
  const nearest = nearestEditDistances(queries, refs);
  queries.forEach((q, i) => {
    const best = Math.min(...refs.map((r) => tableDistance(q, r)));
    assert.equal(nearest[i]!.distance, best);
    assert.equal(tableDistance(q, refs[nearest[i]!.index]!), best);
  });
  assert.equal(nearest[0]!.distance, 0);
  assert.throws(() => nearestEditDistances(["ACGN"], refs), (e: unknown) => e instanceof InputError && /'N' at position 4/.test(e.message));
  assert.throws(() => nearestEditDistances(["ACG"], []), InputError);
});
