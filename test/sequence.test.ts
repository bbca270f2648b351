import { test } from "node:test";
import assert from "node:assert/strict";
import { gcContent } from "../lib/src/sequence";
import { quantile, quantileSorted } from "../lib/src/metrics";

test("gcContent: the share of G and C; 0 for an empty sequence", () => {
  assert.equal(gcContent("GGCCAAUU"), 0.5);
  assert.equal(gcContent("ACGN"), 0.5);
  assert.equal(gcContent(""), 0);
});

test("quantile: NumPy's linear interpolation, any order; quantileSorted on sorted values; none is an error", () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([10, 0], 0.25), 2.5);
  assert.equal(quantile([7], 0.9), 7);
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.75), 4);
  assert.throws(() => quantile([], 0.5), /no values to take a quantile of/);
});
