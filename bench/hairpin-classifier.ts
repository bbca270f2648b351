/**
 * The deepMir classifier experiment (issue 5, spec hairpin.md §3): for each seed, trains the
 * VGG-style classifier on `modhsa_train` (no pre-training), then evaluates it on `modhsa_test`
 * and every other deepMir set whose images exist (accuracy, sensitivity, specificity, F1,
 * ROC-AUC; single-class sets: accuracy = sensitivity or specificity). modhsa_test is also
 * scored after every epoch, as the original's Keras `validation_data`, for the training curve
 * only: nothing is selected on it (the reported model is the last epoch's).
 *
 * Run:  node --import tsx bench/hairpin-classifier.ts [--seeds 1,2,3] [--epochs 100]
 *         [--out out/hairpin-classifier] [--modules 2] [--dense-units 128] [--kernel-size 3]
 *         [--batch-size 128] [--max-train N] [--pretrain-epochs N]
 * With --pretrain-epochs N (> 0), each seed first trains N epochs on a pre-training set built
 * from the non-human images we have (positives: benchmark mmu, mmuplus, ggaplus, dreplus;
 * negatives: chen, shuffled), from which every image whose decoded hairpin shares a 25-nt
 * stretch with a modhsa_test hairpin is removed (leak guard; identical images included), then
 * balanced by seeded subsampling; then it trains `--epochs` on modhsa_train with a fresh Adam.
 * Writes DIR/results.json (options, backend, per-seed history and metrics, summary with mean ±
 * sd) and DIR/seed-S/{model/, checkpoint/}; an interrupted run resumes from the checkpoints.
 * Needs the data ($MIRNA_DL_DATA/premirna).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../lib/src/backend";
import { writeFileAtomic } from "../lib/src/fileio";
import { buildDeepMirClassifier } from "../lib/src/hairpin/classifier";
import { listDeepMirDatasets, loadDeepMirDataset, DeepMirDataset } from "../lib/src/hairpin/datasets";
import { evaluateHairpinClassifier, HairpinSetMetrics } from "../lib/src/hairpin/evaluate";
import { trainDeepMirClassifier, HairpinEpochRecord } from "../lib/src/hairpin/train";
import { decodeHairpinImage, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "../lib/src/hairpin/image";
import { mulberry32 } from "../lib/src/random";
import { saveTfjsModel } from "../lib/src/models/tfjsFormat";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "1" },
    epochs: { type: "string", default: "100" },
    out: { type: "string", default: "out/hairpin-classifier" },
    modules: { type: "string", default: "2" },
    "dense-units": { type: "string", default: "128" },
    "kernel-size": { type: "string", default: "3" },
    "batch-size": { type: "string", default: "128" },
    "max-train": { type: "string" },
    "pretrain-epochs": { type: "string", default: "0" },
  },
});
const seeds = values.seeds!.split(",").map(Number);
const epochs = Number(values.epochs);
const outDir = values.out!;
const modelOptions = { modules: Number(values.modules), denseUnits: Number(values["dense-units"]), kernelSize: Number(values["kernel-size"]) };
const batchSize = Number(values["batch-size"]);
const pretrainEpochs = Number(values["pretrain-epochs"]);
if (seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(epochs) || epochs < 0) {
  throw new Error("--seeds takes integers (1,2,3), --epochs a non-negative integer");
}

/** Length of the shared stretch that marks a pre-training hairpin as a modhsa_test leak. */
const LEAK_KMER = 25;

/** The hairpin sequence an image shows ("" when the image is not a clean drawing). */
function decodedSequence(images: Uint8Array, i: number): string {
  try {
    const data = images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE);
    return decodeHairpinImage({ height: HAIRPIN_IMAGE_HEIGHT, width: HAIRPIN_IMAGE_WIDTH, data }, { verify: false }).sequence;
  } catch {
    return "";
  }
}

function kmers(sequence: string, k: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + k <= sequence.length; i++) out.push(sequence.slice(i, i + k));
  return out;
}

/**
 * The pre-training set: positives mmu, mmuplus, ggaplus, dreplus; negatives chen, shuffled;
 * without any image identical to, or whose decoded hairpin shares a {@link LEAK_KMER}-nt stretch
 * with, a modhsa_test hairpin; the larger class subsampled (seeded) to the smaller one's size.
 */
function pretrainingSet(test: DeepMirDataset, seed: number): { data: DeepMirDataset; report: Record<string, { n: number; removed: number }> } {
  const testKmers = new Set<string>();
  const testImages = new Set<string>();
  for (let i = 0; i < test.n; i++) {
    for (const k of kmers(decodedSequence(test.images, i), LEAK_KMER)) testKmers.add(k);
    testImages.add(Buffer.from(test.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE)).toString("base64"));
  }
  const report: Record<string, { n: number; removed: number }> = {};
  const kept: { set: DeepMirDataset; row: number }[] = [];
  for (const prefix of ["mmu", "mmuplus", "ggaplus", "dreplus", "chen", "shuffled"]) {
    const set = loadDeepMirDataset(prefix);
    let removed = 0;
    for (let i = 0; i < set.n; i++) {
      const image = Buffer.from(set.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE)).toString("base64");
      const leak = testImages.has(image) || kmers(decodedSequence(set.images, i), LEAK_KMER).some((k) => testKmers.has(k));
      if (leak) removed++;
      else kept.push({ set, row: i });
    }
    report[prefix] = { n: set.n, removed };
  }
  const positives = kept.filter((k) => k.set.labels[k.row] === 1);
  const negatives = kept.filter((k) => k.set.labels[k.row] === 0);
  const random = mulberry32(seed);
  const take = (rows: typeof kept, count: number) => {
    const copy = rows.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, count);
  };
  const size = Math.min(positives.length, negatives.length);
  const rows = [...take(positives, size), ...take(negatives, size)];
  const images = new Uint8Array(rows.length * HAIRPIN_IMAGE_SIZE);
  rows.forEach((r, k) => images.set(r.set.images.subarray(r.row * HAIRPIN_IMAGE_SIZE, (r.row + 1) * HAIRPIN_IMAGE_SIZE), k * HAIRPIN_IMAGE_SIZE));
  const data: DeepMirDataset = {
    prefix: "pretrain_nonhuman", n: rows.length, images,
    labels: Uint8Array.from(rows, (r) => r.set.labels[r.row]!), names: rows.map((r) => `${r.set.prefix}:${r.set.names[r.row]}`),
  };
  return { data, report };
}

function meanSd(xs: number[]): { mean: number; sd: number | null } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : null;
  return { mean, sd };
}

async function main(): Promise<void> {
  await initBackend();
  const backend = describeBackend();
  const maxTrain = values["max-train"] === undefined ? undefined : Number(values["max-train"]);
  // modhsa_train rows are sorted by class; a head of it must mix them, so take rows spread evenly.
  const fullTrain = loadDeepMirDataset("modhsa_train");
  const train = maxTrain === undefined ? fullTrain : spread(fullTrain, maxTrain);
  const test = loadDeepMirDataset("modhsa_test");
  const others = listDeepMirDatasets()
    .filter((d) => d.images && d.prefix !== "modhsa_train" && d.prefix !== "modhsa_test")
    .map((d) => d.prefix);
  process.stderr.write(`train ${train.n} (${sum(train.labels)} positive), test ${test.n}; other sets: ${others.join(", ")}\n`);

  const perSeed: { seed: number; pretraining: unknown; history: (HairpinEpochRecord & { test_accuracy: number })[]; metrics: HairpinSetMetrics[]; secondsPerEpoch: number }[] = [];
  for (const seed of seeds) {
    const seedDir = path.join(outDir, `seed-${seed}`);
    const model = buildDeepMirClassifier({ ...modelOptions, seed });
    let pretraining: { report: Record<string, { n: number; removed: number }>; n: number; history: HairpinEpochRecord[] } | null = null;
    if (pretrainEpochs > 0) {
      const { data, report } = pretrainingSet(test, seed);
      process.stderr.write(`pre-training set: ${data.n} images (balanced); removed as modhsa_test leaks: ${JSON.stringify(report)}\n`);
      const pre = await trainDeepMirClassifier(model, data, {
        epochs: pretrainEpochs, batchSize, seed: seed + 1000, checkpointDir: path.join(seedDir, "pretrain-checkpoint"),
        onEpoch: (r) => void process.stderr.write(`seed ${seed} pre-training epoch ${r.epoch}/${pretrainEpochs}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)} | ${r.seconds.toFixed(1)} s\n`),
      });
      pretraining = { report, n: data.n, history: pre.history };
      // fine-tuning starts with a fresh Adam, as a reloaded Keras model would
      model.optimizer.dispose();
      model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    }
    const testCurve = new Map<number, number>();
    const curveFile = path.join(seedDir, "test-curve.json");
    if (fs.existsSync(curveFile)) for (const [e, a] of JSON.parse(fs.readFileSync(curveFile, "utf8")) as [number, number][]) testCurve.set(e, a);
    const result = await trainDeepMirClassifier(model, train, {
      epochs, batchSize, seed, validationFraction: 0, checkpointDir: path.join(seedDir, "checkpoint"),
      onEpoch: (r) => {
        const testAccuracy = evaluateHairpinClassifier(model, test).metrics.accuracy;
        testCurve.set(r.epoch, testAccuracy);
        writeFileAtomic(curveFile, JSON.stringify([...testCurve]));
        process.stderr.write(
          `seed ${seed} epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)} | modhsa_test acc ${testAccuracy.toFixed(4)} | ${r.seconds.toFixed(1)} s | tensors ${tf.memory().numTensors}\n`,
        );
      },
    });
    await saveTfjsModel(model, path.join(seedDir, "model"));
    const metrics: HairpinSetMetrics[] = [evaluateHairpinClassifier(model, test).metrics];
    for (const prefix of others) metrics.push(evaluateHairpinClassifier(model, loadDeepMirDataset(prefix)).metrics);
    model.dispose();
    const history = result.history.map((h) => ({ ...h, test_accuracy: testCurve.get(h.epoch) ?? NaN }));
    const secondsPerEpoch = meanSd(history.map((h) => h.seconds)).mean;
    perSeed.push({ seed, pretraining, history, metrics, secondsPerEpoch });
    printTable(seed, metrics);
  }
  const summary = perSeed[0]?.metrics.map((m, i) => {
    const pick = (key: "accuracy" | "sensitivity" | "specificity" | "f1" | "rocAuc") => {
      const xs = perSeed.map((s) => s.metrics[i]![key]).filter((x): x is number => x !== null);
      return xs.length ? meanSd(xs) : null;
    };
    return { name: m.name, n: m.n, accuracy: pick("accuracy"), sensitivity: pick("sensitivity"), specificity: pick("specificity"), f1: pick("f1"), rocAuc: pick("rocAuc") };
  });
  const report = {
    experiment: pretrainEpochs > 0
      ? `deepMir VGG classifier pre-trained ${pretrainEpochs} epochs on non-human images (modhsa_test leaks removed), then trained on modhsa_train`
      : "deepMir VGG classifier trained on modhsa_train without pre-training",
    model: { ...modelOptions, firstConvPadding: "valid", optimizer: "adam 1e-3", batchSize },
    pretrainEpochs,
    // Sets whose images (minus the leak-guard removals) were training data in pre-training: not held out.
    notHeldOut: pretrainEpochs > 0 ? ["mmu", "mmustar", "mmuplus", "ggaplus", "dreplus", "mirgenedb", "chen", "shuffled"] : [],
    epochs, seeds, backend, trainSamples: train.n, date: new Date().toISOString(),
    perSeed, summary,
  };
  writeFileAtomic(path.join(outDir, "results.json"), JSON.stringify(report, null, 1));
  if (summary) {
    console.log(`\nmean ± sd over seeds ${seeds.join(", ")} (${epochs} epochs, ${backend}):`);
    for (const s of summary) console.log(`${String(s.name).padEnd(16)} n ${String(s.n).padStart(5)}  accuracy ${fmt(s.accuracy)}  ROC-AUC ${fmt(s.rocAuc)}`);
  }
  if (pretrainEpochs > 0) console.log("note: mmu, mmustar, mmuplus, ggaplus, dreplus, mirgenedb (⊇ the *plus sets), chen and shuffled were pre-training data: not held out");
  console.log(`seconds per epoch: ${perSeed.map((s) => s.secondsPerEpoch.toFixed(1)).join(", ")}; results in ${path.join(outDir, "results.json")}`);
}

function fmt(x: { mean: number; sd: number | null } | null): string {
  if (!x) return "   —   ";
  return x.sd === null ? x.mean.toFixed(4) : `${x.mean.toFixed(4)} ± ${x.sd.toFixed(4)}`;
}

function sum(xs: Uint8Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** `count` rows taken at even spacing (keeps both classes of a class-sorted set). */
function spread(d: DeepMirDataset, count: number): DeepMirDataset {
  const rows = Array.from({ length: Math.min(count, d.n) }, (_, k) => Math.floor((k * d.n) / Math.min(count, d.n)));
  const images = new Uint8Array(rows.length * HAIRPIN_IMAGE_SIZE);
  rows.forEach((r, k) => images.set(d.images.subarray(r * HAIRPIN_IMAGE_SIZE, (r + 1) * HAIRPIN_IMAGE_SIZE), k * HAIRPIN_IMAGE_SIZE));
  return { ...d, n: rows.length, labels: Uint8Array.from(rows, (r) => d.labels[r]!), names: rows.map((r) => d.names[r]!), images };
}

function printTable(seed: number, metrics: HairpinSetMetrics[]): void {
  const f = (x: number | null) => (x === null ? "    —  " : x.toFixed(4).padStart(7));
  console.log(`\nseed ${seed}\nset                  n    pos    neg  accuracy  sensitiv  specific      F1   ROC-AUC`);
  for (const m of metrics) {
    console.log(
      `${String(m.name).padEnd(16)} ${String(m.n).padStart(5)} ${String(m.positives).padStart(6)} ${String(m.negatives).padStart(6)}   ${f(m.accuracy)}   ${f(m.sensitivity)}   ${f(m.specificity)} ${f(m.f1)}   ${f(m.rocAuc)}`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
