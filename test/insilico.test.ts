import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import { insilicoDataset, plantedSite, runInsilicoExperiment } from "../lib/src/binding/insilico";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { disposeModel } from "../lib/src/ops/nn";
import { mulberry32 } from "../lib/src/random";
import { MIRNA } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

/** Which miRNA positions (1-based) pair on the diagonal of a planted stretch at `offset`. */
function pairedOnDiagonal(mirna: string, site: string, offset: number): number[] {
  const x = encodeBindingMatrix([mirna], [site]);
  const out: number[] = [];
  // miRNA position j (0-based) pairs site position offset + 19 − j (0-based).
  for (let j = 0; j < 20; j++) if (x[(offset + 19 - j) * 20 + j] === 1) out.push(j + 1);
  return out;
}

test("plantedSite: the planted stretch pairs miRNA positions 1–k exactly, on its diagonal", () => {
  const random = mulberry32(3);
  for (const [offset, k] of [[0, 6], [30, 6], [12, 8], [7, 1]] as const) {
    const site = plantedSite(MIRNA, offset, random, k);
    assert.equal(site.length, 50);
    assert.match(site, /^[ACGT]{50}$/);
    assert.deepEqual(pairedOnDiagonal(MIRNA, site, offset), Array.from({ length: k }, (_, i) => i + 1));
  }
  assert.throws(() => plantedSite(MIRNA, 31, random), InputError);
  assert.throws(() => plantedSite("ACGT", 0, random), InputError);
});

test("insilicoDataset: sizes, the unseen miRNA, distinct prefixes, every positive planted, negatives never positives, seeded", () => {
  const opts = { mirnas: 8, sitesPerMirna: 10, heldOutFraction: 0.2, testRatio: 4, seed: 5 };
  const d = insilicoDataset(opts);
  assert.equal(d.mirnas.length, 8);
  assert.equal(d.unseenMirna, d.mirnas[7]);
  assert.equal(new Set(d.mirnas.map((m) => m.slice(0, 6))).size, 8, "positions 1–6 distinct");
  // 7 training miRNAs × (10 − 2 held out).
  assert.equal(d.train.mirnas.length, 7 * 8);
  assert.ok(d.train.labels.every((y) => y === 1));
  assert.ok(!d.train.mirnas.includes(d.unseenMirna));
  const count = (set: { labels: Uint8Array }, y: number) => set.labels.filter((v) => v === y).length;
  assert.deepEqual([count(d.heldOut, 1), count(d.heldOut, 0)], [14, 14 * 4]);
  assert.deepEqual([count(d.unseen, 1), count(d.unseen, 0)], [10, 10 * 4]);
  assert.ok(d.unseen.mirnas.slice(0, 10).every((m) => m === d.unseenMirna));
  assert.ok(!d.heldOut.mirnas.includes(d.unseenMirna));
  // Positives first; each positive's site pairs its miRNA at positions 1–6 at its offset.
  const offsetOf = new Map<string, number>();
  d.mirnas.forEach((m, i) => {
    for (let s = 0; s < 10; s++) offsetOf.set(`${m}|${s}`, d.offsets[i * 10 + s]!);
  });
  for (const set of [d.train, d.heldOut, d.unseen]) {
    for (let r = 0; r < set.labels.length; r++) {
      if (set.labels[r] !== 1) continue;
      const x = encodeBindingMatrix([set.mirnas[r]!], [set.sites[r]!]);
      // Somewhere in the site, miRNA 1–6 pair on one diagonal.
      let found = false;
      for (let o = 0; o <= 30 && !found; o++) found = [0, 1, 2, 3, 4, 5].every((j) => x[(o + 19 - j) * 20 + j] === 1);
      assert.ok(found, `${set.name} row ${r}: no planted site`);
    }
  }
  // No negative is a positive pair.
  const positives = new Set([d.train, d.heldOut, d.unseen].flatMap((s) => s.mirnas.flatMap((m, r) => (s.labels[r] === 1 ? [`${m}|${s.sites[r]}`] : []))));
  for (const set of [d.heldOut, d.unseen]) {
    set.mirnas.forEach((m, r) => {
      if (set.labels[r] === 0) assert.ok(!positives.has(`${m}|${set.sites[r]}`));
    });
  }
  assert.ok(d.chanceMatchRate >= 0 && d.chanceMatchRate < 0.1);
  // Seeded: the same seed gives the same data, another seed other data.
  assert.deepEqual(insilicoDataset(opts), d);
  assert.notDeepEqual(insilicoDataset({ ...opts, seed: 6 }).mirnas, d.mirnas);
});

test("insilicoDataset: bad options are InputErrors", () => {
  assert.throws(() => insilicoDataset({ mirnas: 2 }), InputError);
  assert.throws(() => insilicoDataset({ sitesPerMirna: 1 }), InputError);
  assert.throws(() => insilicoDataset({ pairedPositions: 0 }), InputError);
  assert.throws(() => insilicoDataset({ maxOffset: 31 }), InputError);
  assert.throws(() => insilicoDataset({ heldOutFraction: 1 }), InputError);
  assert.throws(() => insilicoDataset({ mirnas: 5, testRatio: 4 }), InputError);
  assert.throws(() => insilicoDataset({ mirnas: 5, pairedPositions: 1, testRatio: 2 }), /distinct positions/);
});

test("runInsilicoExperiment: trains with the standard trainer, metrics for the held-out and the unseen sets, leaks nothing but the model", async () => {
  const before = tf.memory().numTensors;
  const r = await runInsilicoExperiment({
    data: { mirnas: 6, sitesPerMirna: 10, testRatio: 2, seed: 3 },
    training: { epochs: 1, ratio: 1, batchSize: 16 },
  });
  assert.equal(r.training.history.length, 1);
  assert.equal(r.training.positivesUsed, 5 * 8);
  assert.deepEqual(r.metrics.map((m) => m.testSet), ["in-silico held-out", "in-silico unseen miRNA"]);
  assert.deepEqual(r.metrics.map((m) => [m.n, m.positives]), [[30, 10], [30, 10]]);
  for (const m of r.metrics) assert.ok(m.rocAuc >= 0 && m.rocAuc <= 1 && m.averagePrecision > 0);
  assert.equal(r.scores.heldOut.length, 30);
  disposeModel(r.model); // the model and its optimizer's slots
  assert.equal(tf.memory().numTensors, before);
});
