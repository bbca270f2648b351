/**
 * The binding trainers (lib/src/binding/{trainStandard,trainIterative,trainStream}.ts), the
 * negatives they draw (binding/negatives.ts) and the chr1 split (binding/split.ts), on small
 * synthetic sets with planted seed matches (fast, a tiny network) and, when the data is there,
 * the split of the real chr1 sets. The CLI runs of `mirna-dl train` (kill -9 and --resume) are
 * here too.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { mirnaNegatives, seedFamily } from "../lib/src/binding/negatives";
import { testSetPath } from "../lib/src/binding/paths";
import { siteLeakFilter, splitChr1Positives, withoutLeaks } from "../lib/src/binding/split";
import { POSITIVE_ROWS_FILE, readPositiveRows } from "../lib/src/binding/positiveRows";
import { readPairTable } from "../lib/src/binding/tables";
import { iterativePositiveOrder, iterativePositiveRows, trainIterative } from "../lib/src/binding/trainIterative";
import { standardStepsPerEpoch, trainStandard } from "../lib/src/binding/trainStandard";
import { selectionMetrics } from "../lib/src/binding/trainingData";
import { trainStandardStream } from "../lib/src/binding/trainStream";
import { missingData } from "../lib/src/data/paths";
import { initBackend } from "../lib/src/ops/backend";
import { mulberry32, randomSequence, shuffleInPlace } from "../lib/src/random";
import { CLI_COMMAND, tempDir, writeFixture } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const COMPLEMENT: Record<string, string> = { A: "T", C: "G", G: "C", T: "A" };
const rc = (s: string) => Array.from(s).reverse().map((c) => COMPLEMENT[c]!).join("");

/** `n` positives over `miRNAs` random miRNAs: random 50-mers with an 8mer seed match (rc(2–8) + A) planted. */
function plantedPositives(n: number, mirnaCount: number, seed: number) {
  const random = mulberry32(seed);
  const pool = Array.from({ length: mirnaCount }, () => randomSequence(random, 20));
  const mirnas: string[] = [];
  const sites: string[] = [];
  for (let i = 0; i < n; i++) {
    const mirna = pool[Math.floor(random() * pool.length)]!;
    const plant = rc(mirna.slice(1, 8)) + "A";
    const at = Math.floor(random() * (50 - plant.length));
    const site = randomSequence(random, 50);
    mirnas.push(mirna);
    sites.push(site.slice(0, at) + plant + site.slice(at + plant.length));
  }
  return { mirnas, sites };
}

/** A small network with arch_00b's input and output, fast to train. */
function tinyModel(seed = 1, filters = 4, learningRate = 0.05): tf.LayersModel {
  const input = tf.input({ shape: [50, 20, 1] });
  // A 7×7 filter sees a planted seed match's diagonal; the maximum over the matrix says "somewhere".
  let x = tf.layers.conv2d({ filters, kernelSize: 7, padding: "same", activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalMaxPooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.compile({ optimizer: tf.train.adam(learningRate), loss: "binaryCrossentropy", metrics: ["accuracy"] });
  return model;
}

const weightsOf = (model: tf.LayersModel) => Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync())));

test("negatives: never the site's own miRNA, never a known positive pair, exactly `ratio` per positive, seeded", () => {
  const all = plantedPositives(300, 12, 3);
  // The same site with two miRNAs: both pairs are positives.
  all.mirnas.push(all.mirnas[1]!);
  all.sites.push(all.sites[0]!);
  const current = { mirnas: all.mirnas.slice(0, 50), sites: all.sites.slice(0, 50) };
  const positiveKeys = new Set(all.mirnas.map((m, i) => `${m}|${all.sites[i]}`));
  const draw = (seed: number) => mirnaNegatives(current.mirnas, current.sites, { ratio: 5, seed, pool: [...new Set(all.mirnas)], knownPositives: all });
  const negatives = draw(7);
  assert.equal(negatives.mirnas.length, 250);
  for (let i = 0; i < negatives.mirnas.length; i++) {
    const k = negatives.positiveIndex[i]!;
    assert.notEqual(negatives.mirnas[i], current.mirnas[k], "own miRNA");
    assert.equal(negatives.sites[i], current.sites[k]);
    assert.ok(!positiveKeys.has(`${negatives.mirnas[i]}|${negatives.sites[i]}`), `negative ${i} is a known positive pair`);
  }
  assert.ok(!negatives.mirnas.slice(0, 5).includes(all.mirnas[1]!), "site 0's other positive miRNA (from knownPositives) is not drawn");
  assert.deepEqual(draw(7).mirnas, negatives.mirnas);
  assert.notDeepEqual(draw(8).mirnas, negatives.mirnas);
});

test("standard training: ratio·P negatives, the last 5% validates, history per epoch, same seed same weights", async () => {
  const train = plantedPositives(300, 20, 5);
  const run = async () => {
    const model = tinyModel(3, 16, 0.01);
    const r = await trainStandard(model, train, { positives: 200, ratio: 1, epochs: 5, batchSize: 16, seed: 11 });
    return { r, weights: weightsOf(model) };
  };
  const a = await run();
  assert.equal(a.r.positivesUsed, 200);
  assert.equal(a.r.negativesUsed, 200);
  assert.equal(a.r.validationRows, 20);
  assert.equal(a.r.trainRows, 380);
  assert.equal(a.r.history.length, 5);
  assert.ok(a.r.history.every((h) => h.steps === standardStepsPerEpoch(200, 1, 16)), `steps per epoch ${a.r.history.map((h) => h.steps)} = ⌈380 / 16⌉`);
  for (const h of a.r.history) for (const k of ["loss", "accuracy", "valLoss", "valAp", "valF1"]) assert.ok(Number.isFinite(h[k]), `${k} recorded`);
  assert.ok(a.r.history[4]!.valAp! > 0.9, `learns the planted seeds: val AP ${a.r.history.map((h) => h.valAp)}`);
  assert.deepEqual((await run()).weights, a.weights);
  await assert.rejects(trainStandard(tinyModel(), train, { positives: 500 }), /500 positives asked for, the training set has 300/);
});

test("faithful iterative schedule: ratio +1 and fresh positives after an F1 > 0.7, identical negatives while the ratio stays", async () => {
  const train = plantedPositives(800, 30, 9);
  const model = tinyModel(5);
  const r = await trainIterative(model, train, { variant: "faithful", iterations: 12, positivesPerIteration: 80, minibatches: 20, seed: 2 });
  const h = r.history;
  assert.equal(h.length, 12);
  assert.deepEqual([h[0]!.ratio, h[0]!.positivesUsed], [1, 80]);
  let raised = 0;
  let kept = 0;
  for (let i = 1; i < h.length; i++) {
    const prev = h[i - 1]!;
    const passed = typeof prev.valF1 === "number" && prev.valF1 > 0.7;
    assert.equal(prev.metricPassed, passed ? 1 : 0);
    if (passed) {
      raised++;
      assert.equal(h[i]!.ratio, (prev.ratio as number) + 1, `iteration ${i + 1}: ratio raised`);
      assert.equal(h[i]!.positivesUsed, (prev.positivesUsed as number) + 80, `iteration ${i + 1}: fresh positives`);
      assert.ok((h[i]!.distinctNegatives as number) > (prev.distinctNegatives as number), "new negatives with the new positives");
    } else {
      kept++;
      assert.equal(h[i]!.ratio, prev.ratio);
      assert.equal(h[i]!.positivesUsed, prev.positivesUsed);
      assert.equal(h[i]!.distinctNegatives, prev.distinctNegatives, `iteration ${i + 1}: the same negatives again (fixed seed)`);
    }
  }
  assert.ok(raised >= 2 && kept >= 1, `the run should both raise and keep the ratio (raised ${raised}, kept ${kept}): ${h.map((x) => `${x.ratio}/${x.valF1}`).join(" ")}`);
  assert.equal(r.stoppedBy, "iterations");
  await assert.rejects(trainIterative(tinyModel(), train, { variant: "faithful", positivesPerIteration: 80, minibatches: 100 }), /minibatches \(100\) must not exceed the positives per iteration \(80\)/);
});

test("improved iterative: fresh negatives every iteration, a fixed validation slice, ratio cap and stopping rule", async () => {
  const train = plantedPositives(1000, 30, 13);
  const model = tinyModel(7);
  const r = await trainIterative(model, train, {
    variant: "improved", iterations: 12, positivesPerIteration: 100, validationPositives: 100, batchSize: 16, maxRatio: 3, patience: 2, metric: "ap", metricThreshold: 0.55, seed: 4,
  });
  const h = r.history;
  for (let i = 1; i < h.length; i++) {
    assert.ok(h[i]!.ratio! <= 3, "ratio capped");
    if (h[i]!.ratio === h[i - 1]!.ratio && h[i]!.positivesUsed === h[i - 1]!.positivesUsed) {
      assert.ok((h[i]!.distinctNegatives as number) > (h[i - 1]!.distinctNegatives as number), `iteration ${i + 1}: fresh negatives`);
    }
  }
  assert.ok(h.some((x) => x.ratio === 3), `reaches the cap: ${h.map((x) => x.ratio)}`);
  assert.ok(["stopping rule", "positives exhausted", "iterations"].includes(r.stoppedBy));
  if (r.stoppedBy === "stopping rule") assert.ok(h.length < 12);
});

test("iterative runs report the positives they trained on; standard training on given rows uses exactly those", async () => {
  const train = plantedPositives(400, 20, 17);
  const r = await trainIterative(tinyModel(9), train, { variant: "improved", iterations: 4, positivesPerIteration: 50, validationPositives: 50, batchSize: 16, metricThreshold: -1, seed: 6 });
  assert.equal(r.positivesUsed, 200, "threshold −1: fresh positives every iteration");
  assert.deepEqual(r.positiveRows, iterativePositiveRows(400, 6, r.positivesUsed));
  assert.equal(new Set(r.positiveRows).size, 200);
  const validation = new Set(iterativePositiveOrder(400, 6).subarray(350));
  assert.ok(r.positiveRows.every((row) => !validation.has(row)), "never a validation positive");
  // The rows a seeded choice of 100 would take give the same model as that choice; other rows another.
  const standard = async (opts: { positives?: number; positiveRows?: number[] }) => {
    const model = tinyModel(3, 8, 0.01);
    const result = await trainStandard(model, train, { ...opts, ratio: 2, epochs: 2, batchSize: 16, seed: 11 });
    const weights = weightsOf(model);
    model.dispose();
    return { result, weights };
  };
  const seededOrder = Uint32Array.from({ length: 400 }, (_, i) => i);
  shuffleInPlace(seededOrder, mulberry32(11));
  const byCount = await standard({ positives: 100 });
  const sameRows = await standard({ positiveRows: Array.from(seededOrder.subarray(0, 100)) });
  assert.deepEqual(sameRows.weights, byCount.weights);
  assert.equal(sameRows.result.positivesUsed, 100);
  assert.equal(sameRows.result.negativesUsed, 200);
  const otherRows = await standard({ positiveRows: r.positiveRows.slice(0, 100) });
  assert.notDeepEqual(otherRows.weights, byCount.weights);
  await assert.rejects(trainStandard(tinyModel(), train, { positiveRows: [1, 400] }), /positive row 1 is 400: must be an integer in 0…399/);
  await assert.rejects(trainStandard(tinyModel(), train, { positiveRows: [3, 3] }), /positive row 1 repeats row 3/);
  await assert.rejects(trainStandard(tinyModel(), train, { positiveRows: [1, 2], positives: 3 }), /positives \(3\) must equal the number of positive rows given \(2\)/);
});

test("streamed standard training: the same weights whatever the chunk size; memory holds a chunk and the buffer", async () => {
  const pos = plantedPositives(120, 15, 21);
  const neg = mirnaNegatives(pos.mirnas, pos.sites, { ratio: 2, seed: 3 });
  const random = mulberry32(5);
  const rows = [...pos.mirnas.map((m, i) => `${m}\t${pos.sites[i]}\tpositive`), ...neg.mirnas.map((m, i) => `${m}\t${neg.sites[i]}\tnegative`)];
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const file = writeFixture(tempDir(), "stream.tsv", "mirna_binding_sequence\tbinding_sequence\tlabel\n" + rows.join("\n") + "\n");
  const run = async (chunkRows: number) => {
    const model = tinyModel(9);
    const r = await trainStandardStream(model, file, { epochs: 2, batchSize: 16, shuffleBuffer: 50, chunkRows, seed: 3 });
    return { r, weights: weightsOf(model) };
  };
  const small = await run(7);
  const large = await run(1000);
  assert.equal(small.r.rows, 360);
  assert.equal(small.r.validationRows, 18);
  assert.deepEqual(small.weights, large.weights);
  assert.ok(small.r.history.every((x) => Number.isFinite(x.valLoss)));
});

test("split of synthetic chr1-like sets: site-disjoint, deterministic, held-out negatives with their positives", () => {
  // A random "chromosome"; positives are windows at random places (some overlap), each with its
  // 1,050-nt scan region cut into 21 windows.
  const random = mulberry32(17);
  const chromosome = randomSequence(random, 60_000);
  const n = 60;
  const mirnaPool = Array.from({ length: 25 }, () => randomSequence(random, 20));
  const starts = Array.from({ length: n }, () => 500 + Math.floor(random() * (chromosome.length - 1100)));
  const mirnas = starts.map(() => mirnaPool[Math.floor(random() * mirnaPool.length)]!);
  const windowsOf = (s: number) => Array.from({ length: 21 }, (_, w) => chromosome.slice(s - 500 + 50 * w, s - 450 + 50 * w));
  const positiveSites = starts.map((s) => windowsOf(s)[10]!);
  const scanNegSites = starts.flatMap((s) => windowsOf(s).filter((_, w) => w !== 10));
  const negMirnas = mirnas.flatMap((m) => Array.from({ length: 20 }, () => m));
  const mnNeg = mirnaNegatives(mirnas, positiveSites, { ratio: 20, seed: 1 });
  const sets = {
    scan: { name: "scan", mirnas: [...mirnas, ...negMirnas], sites: [...positiveSites, ...scanNegSites], labels: Uint8Array.from({ length: n * 21 }, (_, i) => (i < n ? 1 : 0)) },
    mirnaNeg: { name: "neg", mirnas: [...mirnas, ...mnNeg.mirnas], sites: [...positiveSites, ...mnNeg.sites], labels: Uint8Array.from({ length: n * 21 }, (_, i) => (i < n ? 1 : 0)) },
  };
  const split = splitChr1Positives(sets, { testFraction: 0.25, seed: 3 });
  const again = splitChr1Positives(sets, { testFraction: 0.25, seed: 3 });
  assert.deepEqual(again.positiveRows.heldOut, split.positiveRows.heldOut, "deterministic");
  assert.notDeepEqual(splitChr1Positives(sets, { testFraction: 0.25, seed: 4 }).positiveRows.heldOut, split.positiveRows.heldOut);
  const held = Array.from(split.positiveRows.heldOut).flatMap((h, k) => (h ? [k] : []));
  const trained = Array.from(split.positiveRows.heldOut).flatMap((h, k) => (h ? [] : [k]));
  assert.equal(split.train.mirnas.length + held.length, n);
  // Independent check: no training window overlaps a held-out region on the chromosome.
  for (const t of trained) for (const h of held) assert.ok(Math.abs(starts[t]! - starts[h]!) >= 550 - 24, `positives ${t} (train) and ${h} (held out) overlap`);
  assert.equal(split.heldOutScan.labels.length, held.length * 21);
  assert.deepEqual(split.heldOutScan.sites.slice(held.length, held.length + 20), windowsOf(starts[held[0]!]!).filter((_, w) => w !== 10));
  assert.equal(split.heldOutMirnaNeg.labels.length, held.length * 21);
  const leaks = siteLeakFilter(split.heldOutWindows);
  assert.ok(positiveSites.every((s, k) => leaks(s) === Boolean(split.positiveRows.heldOut[k])), "the leak guard flags exactly the held-out sites");
  assert.equal(withoutLeaks({ mirnas, sites: positiveSites, labels: null }, leaks).dropped, held.length);
});

test("split of the real chr1 sets: nothing of a held-out site in training (data)", async (t) => {
  const skip = missingData(testSetPath("scan"), testSetPath("mirnaNeg"));
  if (skip) return t.skip(skip);
  const read = async (file: string) => {
    const table = await readPairTable(file, { requireLabels: true });
    return { name: file, mirnas: table.mirnas, sites: table.sites, labels: table.labels! };
  };
  const split = splitChr1Positives({ scan: await read(testSetPath("scan")), mirnaNeg: await read(testSetPath("mirnaNeg")) });
  const s = split.summary;
  assert.equal(s.positives, 21385);
  assert.equal(s.trainPositives + s.heldOutPositives, 21385);
  assert.ok(Math.abs(s.heldOutPositives / 21385 - 0.2) < 0.01, `held out ${s.heldOutPositives}`);
  assert.equal(s.heldOutScanNegatives, 20 * s.heldOutPositives);
  const trainSites = new Set(split.train.sites);
  const heldSites = split.heldOutScan.sites;
  assert.equal(heldSites.filter((site) => trainSites.has(site)).length, 0, "no held-out window (positive or scan negative) is a training site");
  assert.equal(split.heldOutMirnaNeg.sites.filter((site) => trainSites.has(site)).length, 0, "no held-out miRNA-neg site is a training site");
  // Held-out miRNA negatives pair held-out sites only.
  const heldPositiveSites = new Set(heldSites.slice(0, s.heldOutPositives));
  assert.ok(split.heldOutMirnaNeg.sites.every((site) => heldPositiveSites.has(site)));
});

/** Runs the CLI from source. */
function cli(args: string[]) {
  return spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", env: { ...process.env } });
}

test("mirna-dl train --mode iterative: kill -9 mid-run, then --resume, ends in the uninterrupted run's weights", async () => {
  const dir = tempDir();
  const pos = plantedPositives(300, 20, 31);
  const table = writeFixture(dir, "train.tsv", "mirna_binding_sequence\tbinding_sequence\tlabel\n" + pos.mirnas.map((m, i) => `${m}\t${pos.sites[i]}\tpositive`).join("\n") + "\n");
  const args = (out: string) => ["train", "--mode", "iterative", "--variant", "faithful", "--train", table, "--out", out, "--iterations", "6", "--positives-per-iteration", "40", "--minibatches", "10", "--seed", "3", "-q"];
  const straight = cli(args(path.join(dir, "straight")));
  assert.equal(straight.status, 0, straight.stderr);
  // A second process, killed once its third iteration is checkpointed.
  const killedOut = path.join(dir, "killed");
  const child = spawn(process.execPath, [...CLI_COMMAND, ...args(killedOut)], { stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  const latest = path.join(killedOut, "checkpoint", "latest.json");
  const timer = setInterval(() => {
    try {
      if (JSON.parse(fs.readFileSync(latest, "utf8")).epoch >= 3) child.kill("SIGKILL");
    } catch { /* not written yet */ }
  }, 20);
  const signal = await exited;
  clearInterval(timer);
  assert.equal(signal, "SIGKILL", "the run was killed before it finished");
  assert.ok(!fs.existsSync(path.join(killedOut, "training.json")), "no training log of a finished run");
  const refused = cli(args(killedOut));
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /holds a checkpoint of an earlier run; add --resume/);
  const resumed = cli([...args(killedOut), "--resume"]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(fs.readFileSync(path.join(killedOut, "model", "weights.bin")), fs.readFileSync(path.join(dir, "straight", "model", "weights.bin")));
  const log = JSON.parse(fs.readFileSync(path.join(killedOut, "training.json"), "utf8"));
  assert.ok(log.resumedFromEpoch >= 3, `resumed after iteration ${log.resumedFromEpoch}`);
  assert.equal(log.history.length, 6);
});

test("mirna-dl train: SIGTERM in the middle of an epoch stops it within seconds, not at the end of the epoch", async () => {
  const dir = tempDir();
  const pos = plantedPositives(4000, 20, 51);
  const table = writeFixture(dir, "train.tsv", "mirna_binding_sequence\tbinding_sequence\tlabel\n" + pos.mirnas.map((m, i) => `${m}\t${pos.sites[i]}\tpositive`).join("\n") + "\n");
  // One epoch of 44,000 rows: tens of seconds on any backend.
  const out = path.join(dir, "out");
  const child = spawn(process.execPath, [...CLI_COMMAND, "train", "--mode", "standard", "--train", table, "--out", out, "--ratio", "10", "--epochs", "1", "--seed", "5"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  // Training has begun once the first epoch's progress line shows ("epoch 1: 1/1375 (0%)").
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (/^epoch 1: \d+\/\d+/m.test(stderr)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > 120_000) {
        clearInterval(timer);
        child.kill("SIGKILL");
        reject(new Error(`training did not start: ${stderr}`));
      }
    }, 50);
  });
  child.kill("SIGTERM");
  const sentAt = Date.now();
  const signal = await exited;
  const took = Date.now() - sentAt;
  assert.equal(signal, "SIGTERM", stderr);
  assert.ok(took < 5_000, `stopped ${took} ms after SIGTERM`);
  assert.ok(!fs.existsSync(path.join(out, "training.json")), "no log of a finished run");
});

test("standard training: negatives drawn from a given pool (the original's in-silico experiment: every family)", async () => {
  const train = plantedPositives(60, 6, 8);
  const outsider = randomSequence(mulberry32(99), 20);
  // A pool of one miRNA that no positive has: one negative per site is possible, two are not.
  const r = await trainStandard(tinyModel(), train, { ratio: 1, epochs: 1, batchSize: 16, seed: 2, negativePool: [outsider] });
  assert.equal(r.negativesUsed, 60);
  await assert.rejects(trainStandard(tinyModel(), train, { ratio: 2, epochs: 1, seed: 2, negativePool: [outsider] }), /only 1 miRNAs of the pool of 1/);
});

test("mirna-dl train: an iterative run writes its positive rows, a standard run trains on them; rows beyond the table are refused", () => {
  const dir = tempDir();
  const pos = plantedPositives(120, 10, 41);
  const table = writeFixture(dir, "train.tsv", "mirna_binding_sequence\tbinding_sequence\tlabel\n" + pos.mirnas.map((m, i) => `${m}\t${pos.sites[i]}\tpositive`).join("\n") + "\n");
  const iterative = cli(["train", "--mode", "iterative", "--train", table, "--out", path.join(dir, "it"), "--iterations", "2", "--positives-per-iteration", "20", "--validation-positives", "20", "--seed", "4", "-q"]);
  assert.equal(iterative.status, 0, iterative.stderr);
  const log = JSON.parse(fs.readFileSync(path.join(dir, "it", "training.json"), "utf8"));
  const rows = readPositiveRows(path.join(dir, "it", POSITIVE_ROWS_FILE));
  assert.equal(log.positiveRowsFile, POSITIVE_ROWS_FILE);
  assert.deepEqual(rows, iterativePositiveRows(120, 4, log.positivesUsed));
  const standard = cli(["train", "--mode", "standard", "--train", table, "--out", path.join(dir, "std"), "--positive-rows", path.join(dir, "it", POSITIVE_ROWS_FILE), "--ratio", "1", "--epochs", "1", "--seed", "4", "-q"]);
  assert.equal(standard.status, 0, standard.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "std", "training.json"), "utf8")).positivesUsed, rows.length);
  const beyond = writeFixture(dir, "beyond.tsv", "row\n3\n120\n");
  const refused = cli(["train", "--mode", "standard", "--train", table, "--out", path.join(dir, "bad"), "--positive-rows", beyond, "-q"]);
  assert.equal(refused.status, 2);
  assert.equal(refused.stderr.trim(), `mirna-dl: ${beyond}, row 2 (line 3), column 'row': row 120 is beyond the 120 training positives of ${table}`);
  const both = cli(["train", "--mode", "standard", "--train", table, "--out", path.join(dir, "bad"), "--positive-rows", beyond, "--positives", "5", "-q"]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /give --positives or --positive-rows, not both/);
});

test("negatives by family: with the seed family, never a miRNA sharing the positive's nt 2–8; without it, the same draws as ever", () => {
  // Two miRNAs of one seed family (nt 2–8 equal, the rest different) and others.
  const random = mulberry32(23);
  const seedPart = "GAGGTAG";
  const family = [`T${seedPart}${randomSequence(random, 12)}`, `A${seedPart}${randomSequence(random, 12)}`];
  const others = Array.from({ length: 8 }, () => randomSequence(random, 20));
  const mirnas = [...family, ...others];
  const sites = mirnas.map(() => randomSequence(random, 50));
  const bySeed = mirnaNegatives(mirnas, sites, { ratio: 7, seed: 3, family: seedFamily });
  for (let i = 0; i < bySeed.mirnas.length; i++) {
    const own = mirnas[bySeed.positiveIndex[i]!]!;
    assert.notEqual(seedFamily(bySeed.mirnas[i]!), seedFamily(own), `negative ${i}: ${bySeed.mirnas[i]} is of ${own}'s family`);
  }
  // 10 miRNAs: a family member may pair with 8 others, not 9.
  assert.throws(() => mirnaNegatives(mirnas, sites, { ratio: 9, seed: 3, family: seedFamily }), /positive 0: only 8 miRNAs of the pool of 10/);
  const plain = mirnaNegatives(mirnas, sites, { ratio: 9, seed: 3 });
  assert.ok(plain.mirnas.slice(0, 9).includes(family[1]!), "without families the sibling is drawn");
  assert.deepEqual(mirnaNegatives(mirnas, sites, { ratio: 9, seed: 3, family: undefined }).mirnas, plain.mirnas);
});

test("standard training on given negatives and a selection set: the best epoch's weights by selection AP, recorded per epoch", async () => {
  const dir = tempDir();
  const train = plantedPositives(200, 12, 31);
  // Given negatives: the sites with their planted seed destroyed (a shuffled copy of each).
  const random = mulberry32(5);
  const negatives = { mirnas: train.mirnas.slice(0, 150), sites: train.sites.slice(0, 150).map((s) => { const a = Array.from(s); shuffleInPlace(a, random); return a.join(""); }) };
  const held = plantedPositives(60, 12, 32);
  const selection = {
    mirnas: [...held.mirnas, ...held.mirnas],
    sites: [...held.sites, ...held.sites.map((s) => Array.from(s).reverse().join(""))],
    labels: Uint8Array.from({ length: 120 }, (_, i) => (i < 60 ? 1 : 0)),
  };
  const model = tinyModel(3, 8, 0.01);
  const r = await trainStandard(model, train, { negatives, epochs: 4, batchSize: 16, seed: 2, selection, checkpointDir: path.join(dir, "ckpt") });
  assert.equal(r.negativesUsed, 150, "the given negatives, not ratio · P re-paired ones");
  assert.ok(r.history.every((h) => typeof h.selAp === "number" && typeof h.selRocAuc === "number" && typeof h.selLoss === "number"));
  const best = r.history.reduce((a, h) => (h.selAp! > a.selAp! ? h : a));
  assert.equal(r.bestEpoch, best.epoch, "the epoch with the highest selection AP");
  const { selAp } = await selectionMetrics(model, selection);
  assert.ok(Math.abs(selAp! - best.selAp!) < 1e-6, `the model holds the best epoch's weights: ${selAp} vs ${best.selAp}`);
  model.dispose();
  await assert.rejects(trainStandard(tinyModel(), train, { epochs: 1, selection }), /a selection set keeps the best epoch's weights: it needs a checkpoint folder/);
});

test("mirna-dl train on a miRBind-style table: --negatives given, --negative-family seed, --select; bad combinations refused", () => {
  const dir = tempDir();
  const pos = plantedPositives(150, 10, 43);
  const random = mulberry32(44);
  const lines = ["miRNA\tgene\tlabel"];
  pos.mirnas.forEach((m, i) => {
    lines.push(`${m}\t${pos.sites[i]}\t1`);
    lines.push(`${pos.mirnas[(i + 3) % pos.mirnas.length]}\t${randomSequence(random, 50)}\t0`);
  });
  const table = writeFixture(dir, "clash_like.tsv", lines.join("\n") + "\n");
  const evalSet = writeFixture(dir, "evaluation.tsv", lines.slice(0, 41).join("\n") + "\n");
  const given = cli(["train", "--mode", "standard", "--train", table, "--negatives", "given", "--select", evalSet, "--out", path.join(dir, "given"), "--epochs", "2", "--seed", "4"]);
  assert.equal(given.status, 0, given.stderr);
  assert.match(given.stderr, /epoch 1: .*select AP \d\.\d{4}/);
  assert.match(given.stderr, /kept the weights of epoch [12] \(highest AP on --select\)/);
  const log = JSON.parse(fs.readFileSync(path.join(dir, "given", "training.json"), "utf8"));
  assert.equal(log.negativesUsed, 150);
  assert.ok(log.sources.some((s: { role?: string; rows: number }) => s.role === "selection" && s.rows === 40));
  const iterative = cli(["train", "--mode", "iterative", "--train", table, "--negative-family", "seed", "--select", evalSet, "--out", path.join(dir, "it"), "--iterations", "2", "--positives-per-iteration", "20", "--validation-positives", "20", "--seed", "4", "-q"]);
  assert.equal(iterative.status, 0, iterative.stderr);
  const itLog = JSON.parse(fs.readFileSync(path.join(dir, "it", "training.json"), "utf8"));
  assert.ok([1, 2].includes(itLog.bestIteration));
  assert.equal(itLog.options["negative-family"], "seed");
  const bad = cli(["train", "--mode", "iterative", "--train", table, "--negatives", "given", "--out", path.join(dir, "bad"), "-q"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--negatives given goes with --mode standard/);
  const onlyPositives = writeFixture(dir, "positives.tsv", lines.filter((l, i) => i === 0 || l.endsWith("\t1")).join("\n") + "\n");
  const none = cli(["train", "--mode", "standard", "--train", onlyPositives, "--negatives", "given", "--out", path.join(dir, "none"), "-q"]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--negatives given: no label-0 rows in/);
  const oneClass = cli(["train", "--mode", "standard", "--train", table, "--select", onlyPositives, "--out", path.join(dir, "one"), "-q"]);
  assert.equal(oneClass.status, 2);
  assert.match(oneClass.stderr, /--select needs positives and negatives; .* hold no negatives/);
});
