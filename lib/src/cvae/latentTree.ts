import { InputError } from "../errors";
import { mulberry32, shuffleInPlace } from "../random";

/**
 * A small CART decision tree (Gini impurity, binary splits "feature ≤ threshold") for two
 * classes, to describe pre-miRNA vs not in a few human-readable splits of the VAE's latent
 * space. Thresholds are midpoints between consecutive distinct values; among equally good
 * splits the first feature in a seeded order wins, so the same seed gives the same tree.
 */

export interface DecisionTreeOptions {
  /** Deepest split level (root = depth 0). Default 3. */
  maxDepth?: number;
  /** Fewest samples in a leaf. Default 20. */
  minLeaf?: number;
  /** Seed of the feature order (ties). Default 1. */
  seed?: number;
}

/** A node: a leaf with its class counts, or a split with two children. */
export type TreeNode =
  | { leaf: true; n: number; positives: number }
  | { leaf: false; n: number; positives: number; feature: number; threshold: number; left: TreeNode; right: TreeNode };

export interface DecisionTree {
  root: TreeNode;
  features: number;
}

function gini(n: number, positives: number): number {
  if (n === 0) return 0;
  const p = positives / n;
  return 2 * p * (1 - p);
}

/**
 * Fits a tree to `x` shape=(n, features) row-major and labels `y` shape=(n,) of 0 / 1. A node
 * is split when it is impure, above `maxDepth` and a split leaves ≥ `minLeaf` samples on both
 * sides with a lower weighted Gini impurity.
 */
export function fitDecisionTree(x: ArrayLike<number>, y: ArrayLike<number>, features: number, opts: DecisionTreeOptions = {}): DecisionTree {
  const n = y.length;
  if (!Number.isInteger(features) || features < 1 || x.length !== n * features) throw new InputError(`x must hold ${n} rows of ${features} features, got ${x.length} values`);
  for (let i = 0; i < n; i++) if (y[i] !== 0 && y[i] !== 1) throw new InputError(`label ${y[i]} at row ${i} is neither 0 nor 1`);
  const maxDepth = opts.maxDepth ?? 3;
  const minLeaf = opts.minLeaf ?? 20;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new InputError(`maxDepth must be a non-negative integer, got ${maxDepth}`);
  if (!Number.isInteger(minLeaf) || minLeaf < 1) throw new InputError(`minLeaf must be a positive integer, got ${minLeaf}`);
  const order = Array.from({ length: features }, (_, f) => f);
  shuffleInPlace(order, mulberry32(opts.seed ?? 1));
  const value = (i: number, f: number) => x[i * features + f]!;

  const grow = (rows: number[], depth: number): TreeNode => {
    let positives = 0;
    for (const i of rows) positives += y[i]!;
    const size = rows.length;
    const node = { n: size, positives };
    if (depth >= maxDepth || positives === 0 || positives === size || size < 2 * minLeaf) return { leaf: true, ...node };
    let best: { feature: number; threshold: number; impurity: number } | null = null;
    const parent = gini(size, positives);
    for (const f of order) {
      const sorted = rows.slice().sort((a, b) => value(a, f) - value(b, f));
      let leftPositives = 0;
      for (let k = 0; k < size - 1; k++) {
        leftPositives += y[sorted[k]!]!;
        const left = k + 1;
        if (left < minLeaf || size - left < minLeaf) continue;
        const v = value(sorted[k]!, f), next = value(sorted[k + 1]!, f);
        if (v === next) continue;
        const impurity = (left * gini(left, leftPositives) + (size - left) * gini(size - left, positives - leftPositives)) / size;
        if (impurity < parent - 1e-12 && (best === null || impurity < best.impurity - 1e-12)) best = { feature: f, threshold: (v + next) / 2, impurity };
      }
    }
    if (!best) return { leaf: true, ...node };
    const { feature, threshold } = best;
    const leftRows = rows.filter((i) => value(i, feature) <= threshold);
    const rightRows = rows.filter((i) => value(i, feature) > threshold);
    return { leaf: false, ...node, feature, threshold, left: grow(leftRows, depth + 1), right: grow(rightRows, depth + 1) };
  };
  return { root: grow(Array.from({ length: n }, (_, i) => i), 0), features };
}

/** The fraction of positives in the leaf each row of `x` shape=(n, features) falls in: shape=(n,). */
export function predictDecisionTree(tree: DecisionTree, x: ArrayLike<number>): Float64Array {
  if (x.length % tree.features !== 0) throw new InputError(`x must hold rows of ${tree.features} features, got ${x.length} values`);
  const n = x.length / tree.features;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let node = tree.root;
    while (!node.leaf) node = x[i * tree.features + node.feature]! <= node.threshold ? node.left : node.right;
    out[i] = node.n ? node.positives / node.n : 0.5;
  }
  return out;
}

/**
 * The tree as indented text, one line per split and leaf: `z_class[3] ≤ 0.412` / `> 0.412`,
 * leaves `→ pre-miRNA (1,204 of 1,290 = 93%)` or `→ not pre-miRNA (…)`. `featureNames[f]` names
 * feature f (e.g. with its strongest biological correlate).
 */
export function describeDecisionTree(tree: DecisionTree, featureNames: readonly string[], opts: { digits?: number; classNames?: [string, string] } = {}): string[] {
  const digits = opts.digits ?? 3;
  const [negative, positive] = opts.classNames ?? ["not pre-miRNA", "pre-miRNA"];
  const lines: string[] = [];
  const leafText = (node: TreeNode) => {
    const majority = node.positives * 2 >= node.n;
    const count = majority ? node.positives : node.n - node.positives;
    return `→ ${majority ? positive : negative} (${count.toLocaleString("en-US")} of ${node.n.toLocaleString("en-US")} = ${Math.round((100 * count) / Math.max(1, node.n))}%)`;
  };
  const walk = (node: TreeNode, indent: string) => {
    if (node.leaf) {
      lines.push(`${indent}${leafText(node)}`);
      return;
    }
    const name = featureNames[node.feature] ?? `feature ${node.feature}`;
    lines.push(`${indent}${name} ≤ ${node.threshold.toFixed(digits)}`);
    walk(node.left, indent + "    ");
    lines.push(`${indent}${name} > ${node.threshold.toFixed(digits)}`);
    walk(node.right, indent + "    ");
  };
  walk(tree.root, "");
  return lines;
}

/** Features a tree splits on, in order of first use (root first). */
export function treeFeatures(tree: DecisionTree): number[] {
  const out: number[] = [];
  const walk = (node: TreeNode) => {
    if (node.leaf) return;
    if (!out.includes(node.feature)) out.push(node.feature);
    walk(node.left);
    walk(node.right);
  };
  walk(tree.root);
  return out;
}

/** Depth of a tree: splits on the longest path from the root to a leaf (0 for a single leaf). */
export function treeDepth(tree: DecisionTree): number {
  const depth = (node: TreeNode): number => (node.leaf ? 0 : 1 + Math.max(depth(node.left), depth(node.right)));
  return depth(tree.root);
}
