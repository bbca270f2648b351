import { test } from "node:test";
import assert from "node:assert/strict";
import { curvesFor, evaluateScorers, strideSubset } from "../lib/src/binding/evaluation";
import { seedMatchScorer } from "../lib/src/binding/scorer";
import { MIRNA, SITE_8MER } from "./helpers";

test("strideSubset keeps every k-th of each class from the first, in order", () => {
  const labels = Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 0, 1, 0]);
  const pairs = { name: "t", mirnas: [...labels].map((_, i) => `m${i}`), sites: [...labels].map((_, i) => `s${i}`), labels };
  const sub = strideSubset(pairs, { positiveStride: 2, negativeStride: 3 });
  // positives at 0,1,2,8 → keep 0,2; negatives at 3,4,5,6,7,9 → keep 3,6
  assert.deepEqual(sub.mirnas, ["m0", "m2", "m3", "m6"]);
  assert.deepEqual(Array.from(sub.labels), [1, 1, 0, 0]);
});

test("evaluateScorers scores each set with each scorer", async () => {
  const set = { name: "toy", mirnas: [MIRNA, MIRNA, MIRNA], sites: [SITE_8MER, "A".repeat(50), "C".repeat(50)], labels: Uint8Array.from([1, 0, 0]) };
  const result = await evaluateScorers([seedMatchScorer()], [set]);
  assert.equal(result.rows.length, 1);
  assert.equal(result.rows[0]!.rocAuc, 1);
  assert.deepEqual(Array.from(result.scores.get("seed-match|toy")!), [4, 0, 0]);
  const curves = curvesFor(result, set);
  assert.equal(curves.roc[0]!.name, "seed-match");
  assert.ok(Math.abs(curves.pr[0]!.prevalence! - 1 / 3) < 1e-12);
});
