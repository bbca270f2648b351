import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import { boxStats, drivingPositions, mutagenesis, mutagenesisSummary } from "../lib/src/binding/mutagenesis";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { MIRNA, SITE, SITE_8MER } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

/** logit = w · (pairs in miRNA column `column`) + bias; or, with `row`, the pairs in site row `row`. */
function lineModel(where: { column?: number; row?: number }, w = 1.5, bias = -2): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [50, 20, 1] }), tf.layers.dense({ units: 1, activation: "sigmoid" })] });
  const kernel = new Float32Array(1000);
  for (let i = 0; i < 50; i++) for (let j = 0; j < 20; j++) if (j === where.column || i === where.row) kernel[i * 20 + j] = w;
  model.setWeights([tf.tensor2d(kernel, [1000, 1]), tf.tensor1d([bias])]);
  return model;
}

/** Pairs in miRNA column j (0-based) or site row i of one pair's matrix. */
function pairsIn(mirna: string, site: string, where: { column?: number; row?: number }): number {
  const x = encodeBindingMatrix([mirna], [site]);
  let n = 0;
  for (let i = 0; i < 50; i++) for (let j = 0; j < 20; j++) if (j === where.column || i === where.row) n += x[i * 20 + j]!;
  return n;
}

const PAIRS = { mirnas: [MIRNA, MIRNA.slice(0, 19) + "N"], sites: [SITE_8MER, SITE] };
const ALTS: Record<string, string[]> = { A: ["C", "G", "T"], C: ["A", "G", "T"], G: ["A", "C", "T"], T: ["A", "C", "G"] };

test("miRNA mutagenesis of a model that reads miRNA position 5: Δlogit = w · (pairs after − before) there, 0 elsewhere; N gives NaN", async () => {
  const column = 4;
  const model = lineModel({ column });
  const result = await mutagenesis(model, PAIRS, { sequence: "mirna", scale: "logit" });
  assert.deepEqual([result.n, result.positions, result.alternatives, result.sequence, result.scale], [2, 20, 3, "mirna", "logit"]);
  assert.equal(result.deltas.length, 2 * 20 * 3);
  assert.equal(result.original.length, 2);
  for (let k = 0; k < 2; k++) {
    const mirna = PAIRS.mirnas[k]!, site = PAIRS.sites[k]!;
    assert.ok(Math.abs(result.original[k]! - (1.5 * pairsIn(mirna, site, { column }) - 2)) < 1e-5);
    for (let p = 0; p < 20; p++) {
      for (let a = 0; a < 3; a++) {
        const d = result.deltas[(k * 20 + p) * 3 + a]!;
        if (mirna[p] === "N") {
          assert.ok(Number.isNaN(d));
          continue;
        }
        const mutant = mirna.slice(0, p) + ALTS[mirna[p]!]![a]! + mirna.slice(p + 1);
        const expected = p === column ? 1.5 * (pairsIn(mutant, site, { column }) - pairsIn(mirna, site, { column })) : 0;
        assert.ok(Math.abs(d - expected) < 1e-4, `pair ${k} position ${p + 1} alternative ${a}: ${d} vs ${expected}`);
      }
    }
  }
  const summary = mutagenesisSummary(result);
  assert.equal(summary.length, 20);
  assert.equal(drivingPositions(summary)[0], column + 1);
  assert.equal(summary[19]!.n, 3, "the N of pair 1 is skipped");
  model.dispose();
});

test("site mutagenesis of a model that reads site position 23: only that position moves the score; probabilities by default", async () => {
  const row = 22;
  const model = lineModel({ row }, 1, 0);
  const result = await mutagenesis(model, { mirnas: [MIRNA], sites: [SITE_8MER] }, { sequence: "site", batchSize: 7 });
  assert.deepEqual([result.positions, result.scale], [50, "probability"]);
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const before = pairsIn(MIRNA, SITE_8MER, { row });
  assert.ok(Math.abs(result.original[0]! - sigmoid(before)) < 1e-6);
  for (let p = 0; p < 50; p++) {
    for (let a = 0; a < 3; a++) {
      const mutant = SITE_8MER.slice(0, p) + ALTS[SITE_8MER[p]!]![a]! + SITE_8MER.slice(p + 1);
      const expected = sigmoid(pairsIn(MIRNA, mutant, { row })) - sigmoid(before);
      assert.ok(Math.abs(result.deltas[p * 3 + a]! - expected) < 1e-5);
      if (p !== row) assert.equal(result.deltas[p * 3 + a], 0);
    }
  }
  model.dispose();
});

test("mutagenesis on arch_00b: no tensors leak; bad options are InputErrors", async () => {
  const model = buildArch00b({ seed: 2 });
  await mutagenesis(model, PAIRS, { scale: "logit" }); // warm-up
  const before = tf.memory().numTensors;
  const r = await mutagenesis(model, PAIRS, { scale: "logit", batchSize: 50 });
  await mutagenesis(model, PAIRS, { sequence: "site" });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(r.deltas.some((d) => Number.isFinite(d) && d !== 0));
  await assert.rejects(mutagenesis(model, PAIRS, { sequence: "both" as never }), InputError);
  await assert.rejects(mutagenesis(model, PAIRS, { scale: "odds" as never }), InputError);
  await assert.rejects(mutagenesis(model, { mirnas: [MIRNA], sites: [] }), InputError);
  model.dispose();
});

test("boxStats: quartiles interpolated as NumPy, Tukey whiskers, NaN skipped", () => {
  const s = boxStats([1, 2, 3, 4, 100, NaN]);
  // np.percentile([1,2,3,4,100], [25, 50, 75]) = 2, 3, 4; IQR 2: whiskers within [-1, 7].
  assert.deepEqual([s.n, s.q1, s.median, s.q3, s.lowerWhisker, s.upperWhisker], [5, 2, 3, 4, 1, 4]);
  assert.equal(s.mean, 22);
  assert.equal(boxStats([-2, 2]).meanAbs, 2);
  assert.equal(boxStats([0, 1, 2, 3]).q1, 0.75);
  assert.throws(() => boxStats([NaN]), InputError);
  assert.deepEqual(drivingPositions([
    { position: 1, ...boxStats([0.1]) }, { position: 2, ...boxStats([-0.5]) }, { position: 3, ...boxStats([0.5]) },
  ]), [2, 3, 1]);
});
