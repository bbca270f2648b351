/**
 * The small CART tree (lib/src/cvae/latentTree.ts): finds a planted split, respects depth and
 * leaf size, is deterministic for a seed, describes itself in readable lines, refuses bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../lib/src/errors";
import { describeDecisionTree, fitDecisionTree, predictDecisionTree, treeDepth, treeFeatures } from "../lib/src/cvae/latentTree";
import { mulberry32 } from "../lib/src/random";

/** 400 rows of 5 features; label = feature 3 > 0.2 (feature 1 a weaker, noisy copy). */
function planted(seed: number) {
  const random = mulberry32(seed);
  const n = 400, d = 5;
  const x = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) x[i * d + k] = random() * 2 - 1;
    y[i] = x[i * d + 3]! > 0.2 ? 1 : 0;
    x[i * d + 1] = x[i * d + 3]! + (random() - 0.5);
  }
  return { x, y, d };
}

test("the root split is the planted one; predictions are leaf fractions; the description reads as rules", () => {
  const { x, y, d } = planted(1);
  const tree = fitDecisionTree(x, y, d, { maxDepth: 2, minLeaf: 10 });
  assert.equal(tree.root.leaf, false);
  if (tree.root.leaf) return;
  assert.equal(tree.root.feature, 3);
  assert.ok(Math.abs(tree.root.threshold - 0.2) < 0.02, `threshold ${tree.root.threshold}`);
  const p = predictDecisionTree(tree, x);
  let correct = 0;
  p.forEach((v, i) => { if ((v >= 0.5 ? 1 : 0) === y[i]) correct++; });
  assert.equal(correct, 400, "pure leaves");
  assert.deepEqual(treeFeatures(tree), [3]);
  const lines = describeDecisionTree(tree, ["a", "b", "c", "stem", "e"], { digits: 2 });
  assert.match(lines[0]!, /^stem ≤ 0\.2\d$/);
  assert.match(lines[1]!, /^ {4}→ not pre-miRNA \(\d+ of \d+ = 100%\)$/);
  assert.match(lines[2]!, /^stem > 0\.2\d$/);
  assert.match(lines[3]!, /→ pre-miRNA/);
});

test("depth 0 is one leaf; minLeaf stops splits; the same seed gives the same tree", () => {
  const { x, y, d } = planted(2);
  assert.equal(fitDecisionTree(x, y, d, { maxDepth: 0 }).root.leaf, true);
  assert.equal(treeDepth(fitDecisionTree(x, y, d, { maxDepth: 0 })), 0);
  assert.equal(fitDecisionTree(x, y, d, { minLeaf: 250 }).root.leaf, true);
  assert.equal(treeDepth(fitDecisionTree(x, y, d, { maxDepth: 3, minLeaf: 10 })), 1, "the planted split leaves pure leaves: depth 1 of the 3 allowed");
  const noisy = Uint8Array.from(y, (v, i) => (i % 7 === 0 ? 1 - v : v));
  const a = fitDecisionTree(x, noisy, d, { maxDepth: 3, seed: 5 });
  const b = fitDecisionTree(x, noisy, d, { maxDepth: 3, seed: 5 });
  assert.deepEqual(a, b);
  const count = (n: typeof a.root): number => (n.leaf ? 1 : count(n.left) + count(n.right));
  assert.ok(count(a.root) <= 8);
  assert.ok(treeDepth(a) >= 1 && treeDepth(a) <= 3);
});

test("bad input is refused", () => {
  assert.throws(() => fitDecisionTree([1, 2, 3], [0, 1], 2), InputError);
  assert.throws(() => fitDecisionTree([1, 2], [0, 2], 1), /label 2 at row 1/);
  assert.throws(() => fitDecisionTree([1, 2], [0, 1], 1, { maxDepth: -1 }), InputError);
  const tree = fitDecisionTree([1, 2], [0, 1], 1, { minLeaf: 1 });
  assert.throws(() => predictDecisionTree({ ...tree, features: 3 }, [1, 2]), InputError);
});
