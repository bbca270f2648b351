import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import {
  insilicoCheckpointDir, insilicoDataset, mutatePositions, originalInsilicoDataset, plantableFamilies, plantedSite, plantInto, replantedMutagenesis, runInsilicoExperiment, runOriginalInsilicoExperiment,
} from "../lib/src/binding/insilico";
import { mutagenesisSummary } from "../lib/src/binding/mutagenesis";
import { reverseComplement } from "../lib/src/binding/sequences";
import { encodeBindingMatrix } from "../lib/src/binding/encoding";
import { disposeModel } from "../lib/src/ops/nn";
import { mulberry32 } from "../lib/src/random";
import { MIRNA, tempDir } from "./helpers";

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

// -------------------------------------------------------------------------------------------
// The original's design: family representatives, ratio 1, re-planted mutagenesis
// -------------------------------------------------------------------------------------------

/** `n` distinct random 20-mers (stand-ins for family representatives). */
function families(n: number, seed: number): string[] {
  const random = mulberry32(seed);
  const out = new Set<string>();
  while (out.size < n) out.add(Array.from({ length: 20 }, () => "ACGT"[Math.floor(random() * 4)]).join(""));
  return [...out];
}

test("plantableFamilies, mutatePositions, plantInto: N-padded and duplicate families dropped; exactly the given positions change; the stretch faces its miRNA", () => {
  assert.deepEqual(plantableFamilies([MIRNA, MIRNA, "TTCACAGGGAGGTGTCATNN", "ACGT", MIRNA.slice(1) + "A"]), [MIRNA, MIRNA.slice(1) + "A"]);
  const random = mulberry32(1);
  const mutated = mutatePositions(MIRNA, [7, 8, 20], random);
  assert.deepEqual([...MIRNA].flatMap((b, i) => (b !== mutated[i] ? [i + 1] : [])), [7, 8, 20]);
  assert.throws(() => mutatePositions("NNNNNNNNNNNNNNNNNNNN", [1], random), InputError);
  const background = "A".repeat(50);
  const site = plantInto(background, MIRNA, 13);
  assert.equal(site.slice(13, 33), reverseComplement(MIRNA));
  assert.equal(site.slice(0, 13) + site.slice(33), "A".repeat(30));
  assert.deepEqual(pairedOnDiagonal(MIRNA, site, 13), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.throws(() => plantInto(background, MIRNA, 31), InputError);
  assert.throws(() => plantInto("ACGT", MIRNA, 0), InputError);
});

test("originalInsilicoDataset: family split, trained and unseen miRNAs, planted positives, ratio-1 negatives from the right pools, seeded", () => {
  const fams = families(20, 4);
  const opts = { mirnas: 5, sitesPerMirna: 10, testFraction: 0.2, unseenSites: 6, seed: 9 };
  const d = originalInsilicoDataset(fams, opts);
  assert.deepEqual([d.trainFamilies.length, d.testFamilies.length], [16, 4]);
  assert.deepEqual([...d.trainFamilies, ...d.testFamilies].sort(), [...fams].sort());
  assert.equal(d.mirnas.length, 5);
  assert.ok(d.mirnas.every((m) => d.trainFamilies.includes(m)));
  assert.ok(d.testFamilies.includes(d.unseenMirna));
  // 5 miRNAs × (10 − 2 held out) training positives; 10 held-out + 10 negatives; 6 + 6 unseen.
  assert.equal(d.train.mirnas.length, 40);
  const count = (set: { labels: Uint8Array }, y: number) => set.labels.filter((v) => v === y).length;
  assert.deepEqual([count(d.test, 1), count(d.test, 0), count(d.unseen, 1), count(d.unseen, 0)], [10, 10, 6, 6]);
  assert.equal(d.unseenBackgrounds.length, 6);
  // Every positive pairs its miRNA's positions 1–6 (and only those) at some offset; the unseen ones inside their background.
  for (const set of [d.train, d.test, d.unseen]) {
    for (let r = 0; r < set.labels.length; r++) {
      if (set.labels[r] !== 1) continue;
      const offsets = Array.from({ length: 31 }, (_, o) => o).filter((o) => pairedOnDiagonal(set.mirnas[r]!, set.sites[r]!, o).join() === "1,2,3,4,5,6");
      assert.ok(offsets.length > 0, `${set.name} row ${r}: no stretch pairing exactly positions 1–6`);
    }
  }
  d.unseenBackgrounds.forEach((b, k) => {
    const site = d.unseen.sites[k]!;
    const differing = [...b].filter((c, i) => c !== site[i]).length;
    assert.ok(differing <= 20, "the site is its background with a 20-nt stretch written over it");
  });
  // Negatives: held-out sites with any family but their own; unseen sites with other test families.
  d.test.mirnas.forEach((m, r) => {
    if (d.test.labels[r] === 0) assert.ok(fams.includes(m) && m !== d.test.mirnas[r - 10]);
  });
  d.unseen.mirnas.forEach((m, r) => {
    if (d.unseen.labels[r] === 0) assert.ok(d.testFamilies.includes(m) && m !== d.unseenMirna);
  });
  assert.ok(d.chanceMatchRate >= 0 && d.chanceMatchRate <= 1);
  assert.deepEqual(originalInsilicoDataset(fams, opts), d);
  assert.notDeepEqual(originalInsilicoDataset(fams, { ...opts, seed: 10 }).train.sites, d.train.sites);
  assert.throws(() => originalInsilicoDataset(fams, { ...opts, mirnas: 17 }), /training families/);
  assert.throws(() => originalInsilicoDataset([...fams, "TTCACAGGGAGGTGTCATNN"], opts), /not a 20-nt/);
  assert.throws(() => originalInsilicoDataset(fams, { ...opts, testFraction: 0 }), InputError);
});

test("replantedMutagenesis: one re-planted site per position, Δ against the original positive; a model reading miRNA position 2 moves there", async () => {
  // logit = 3 · (pairs in miRNA column 2) − 2. The miRNA's only G is position 2, the backgrounds hold no C: column 2 pairs
  // once on a planted stretch, none once position 2 is mutated, and twice when a mutation elsewhere happens to give a G.
  const mirna = "TGATATATATATATATATAT";
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [50, 20, 1] }), tf.layers.dense({ units: 1, activation: "sigmoid" })] });
  const kernel = new Float32Array(1000);
  for (let i = 0; i < 50; i++) kernel[i * 20 + 1] = 3;
  model.setWeights([tf.tensor2d(kernel, [1000, 1]), tf.tensor1d([-2])]);
  const random = mulberry32(2);
  const backgrounds = Array.from({ length: 4 }, () => Array.from({ length: 50 }, () => "AGT"[Math.floor(random() * 3)]).join(""));
  const sites = backgrounds.map((b) => plantInto(b, mirna.slice(0, 6) + "A".repeat(14), 5));
  const mirnas = backgrounds.map(() => mirna);
  const before = tf.memory().numTensors;
  const r = await replantedMutagenesis(model, { mirnas, sites, backgrounds }, { scale: "logit", seed: 3 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([r.n, r.positions, r.alternatives, r.scale, r.deltas.length, r.control.length], [4, 20, 1, "logit", 80, 4]);
  // The unmutated re-planting pairs column 2 once, as the original site: Δ 0.
  for (const c of r.control) assert.ok(Math.abs(c) < 1e-4);
  let gained = 0;
  for (let k = 0; k < 4; k++) {
    assert.ok(Math.abs(r.original[k]! - 1) < 1e-5, "one pair in column 2: logit 3 − 2");
    for (let j = 0; j < 20; j++) {
      const d = r.deltas[k * 20 + j]!;
      if (j === 1) assert.ok(Math.abs(d + 3) < 1e-4, `pair ${k} position 2: ${d}`);
      else {
        assert.ok(Math.abs(d) < 1e-4 || Math.abs(d - 3) < 1e-4, `pair ${k} position ${j + 1}: ${d}`);
        if (d > 1) gained++;
      }
    }
  }
  assert.ok(gained > 0 && gained < 4 * 19, "mutations elsewhere give a G now and then (1 in 3)");
  const summary = mutagenesisSummary(r);
  assert.deepEqual([summary.length, summary[1]!.n, summary[1]!.median], [20, 4, -3]);
  const p = await replantedMutagenesis(model, { mirnas, sites, backgrounds }, { seed: 3 });
  assert.equal(p.scale, "probability");
  assert.ok(Math.abs(p.deltas[1]! - (1 / (1 + Math.exp(2)) - 1 / (1 + Math.exp(-1)))) < 1e-5);
  assert.deepEqual(p.deltas.map((d) => Math.sign(Math.round(d * 1e4))), r.deltas.map((d) => Math.sign(Math.round(d * 1e4))), "same seed, same re-planted sites");
  await assert.rejects(replantedMutagenesis(model, { mirnas, sites, backgrounds: backgrounds.slice(1) }), InputError);
  model.dispose();
});

test("runOriginalInsilicoExperiment: ratio 1 from every family, early stopping, checkpoints that resume; metrics of both test sets; leaks nothing but the model", async () => {
  const fams = families(16, 5);
  const data = { mirnas: 4, sitesPerMirna: 12, unseenSites: 5, seed: 2 };
  const dir = tempDir();
  const before = tf.memory().numTensors;
  const first = await runOriginalInsilicoExperiment(fams, { data, training: { epochs: 1, batchSize: 16, checkpointDir: dir } });
  // 4 miRNAs × 11 training sites, one negative each; 15% of the 88 rows validate.
  assert.deepEqual([first.training.positivesUsed, first.training.negativesUsed, first.training.validationRows], [44, 44, 13]);
  assert.equal(first.training.history.length, 1);
  assert.deepEqual(first.metrics.map((m) => [m.n, m.positives]), [[8, 4], [10, 5]]);
  disposeModel(first.model);
  const resumed = await runOriginalInsilicoExperiment(fams, { data, training: { epochs: 2, batchSize: 16, checkpointDir: dir } });
  assert.equal(resumed.training.resumedFromEpoch, 1);
  assert.equal(resumed.training.history.length, 2);
  assert.ok(resumed.training.bestEpoch === 1 || resumed.training.bestEpoch === 2, "early stopping on the validation loss is on");
  disposeModel(resumed.model);
  // Another negative pool (other families) is another run: its checkpoint does not resume.
  await assert.rejects(runOriginalInsilicoExperiment(families(17, 5), { data, training: { epochs: 2, batchSize: 16, checkpointDir: dir } }), /negativePool/);
  assert.equal(tf.memory().numTensors, before);
});

test("insilicoCheckpointDir: out/insilico/<name> for the full profile, out/insilico-ci/<name> for ci", () => {
  assert.match(insilicoCheckpointDir("original", "full"), /[/\\]out[/\\]insilico[/\\]original$/);
  assert.match(insilicoCheckpointDir("variant", "ci"), /[/\\]out[/\\]insilico-ci[/\\]variant$/);
});
