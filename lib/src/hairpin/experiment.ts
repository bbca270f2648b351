import { displayPath } from "../data/paths";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describeBackend } from "../ops/backend";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { runLibraryTask, runPool } from "../io/workers";
import { formatDuration } from "../progress";
import { saveTfjsModel } from "../io/tfjsModel";
import { formatMeanSd, MeanSd, meanSd } from "../metrics";
import { compileModel, disposeModel } from "../ops/nn";
import { mulberry32, shuffleInPlace } from "../random";
import { buildDeepMirClassifier, DEEPMIR_TRAINING } from "./classifier";
import { DeepMirDataset, listDeepMirDatasets, loadDeepMirDataset } from "./datasets";
import { evaluateHairpinClassifier, HairpinSetMetrics } from "./evaluate";
import { decodeHairpinImage, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "./image";
import { HairpinEpochRecord, trainDeepMirClassifier } from "./train";

/**
 * The deepMir classifier experiment (after Cordero et al. 2019): for each seed, trains the
 * VGG-style classifier on a training set (default `modhsa_train`), then evaluates it on the
 * test set (default `modhsa_test`) and every other deepMir set whose images exist (accuracy,
 * sensitivity, specificity, F1, ROC-AUC; single-class sets: accuracy = sensitivity or
 * specificity), and summarises mean ± sd over the seeds. The test set is also scored after
 * every epoch, as the original's Keras `validation_data`, for the training curve only: nothing
 * is selected on it (the reported model is the last epoch's).
 *
 * Everything is checkpointed under `outDir` (`seed-S/checkpoint/` after every epoch,
 * `seed-S/model/` at the end, `results.json`): a run that is interrupted, or repeated with the
 * same options, resumes and ends in the same weights (lib/src/hairpin/train.ts).
 */

/** Options of {@link runHairpinClassifierExperiment}. */
export interface HairpinExperimentOptions {
  /** One training run per seed (weights, dropout masks, shuffling). */
  seeds: readonly number[];
  /** Training epochs per seed (the paper: 100). */
  epochs: number;
  /** Folder for checkpoints, models and results.json. */
  outDir: string;
  /** Classifier shape (classifier.ts). Defaults: 2 modules, 128 dense units, 3×3 kernels. */
  modules?: number;
  denseUnits?: number;
  kernelSize?: number;
  /** Default 128 (the paper's). */
  batchSize?: number;
  /** deepMir prefixes. Defaults `modhsa_train`, `modhsa_test`. */
  trainSet?: string;
  testSet?: string;
  /** Use only this many training images, taken at even spacing (keeps both classes of a class-sorted set). */
  maxTrain?: number;
  /** Sets evaluated besides the test set: prefixes, or "all" (default) = every other set with images. */
  evaluateOn?: readonly string[] | "all";
  /**
   * Pre-training epochs (default 0 = none). With N > 0, each seed first trains N epochs on
   * {@link pretrainingSet}, then trains `epochs` on the training set with a fresh Adam.
   */
  pretrainEpochs?: number;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
  /** Write `outDir/results.json` (default true; a worker training one seed of a shared folder does not). */
  writeResults?: boolean;
}

/** One seed's run. */
export interface HairpinSeedResult {
  seed: number;
  pretraining: { report: Record<string, { n: number; removed: number }>; n: number; history: HairpinEpochRecord[] } | null;
  /** Per epoch, with the test set's accuracy after that epoch. */
  history: (HairpinEpochRecord & { testAccuracy: number })[];
  /** Test set first, then the other sets. */
  metrics: HairpinSetMetrics[];
  secondsPerEpoch: number;
  /** Where the final model is (tfjs format). */
  modelDir: string;
}

/** Mean ± sd over seeds of each metric of one set (null where the metric does not apply). */
export interface HairpinSetSummary {
  name: string | null;
  n: number;
  accuracy: MeanSd | null;
  sensitivity: MeanSd | null;
  specificity: MeanSd | null;
  f1: MeanSd | null;
  rocAuc: MeanSd | null;
}

/** What results.json holds. */
export interface HairpinExperimentResults {
  experiment: string;
  model: Record<string, unknown>;
  trainSet: string;
  testSet: string;
  pretrainEpochs: number;
  /** Sets that were (partly) training data in pre-training: not held out. */
  notHeldOut: string[];
  epochs: number;
  seeds: number[];
  backend: string;
  trainSamples: number;
  date: string;
  perSeed: HairpinSeedResult[];
  summary: HairpinSetSummary[];
}

/** Length of the shared stretch that marks a pre-training hairpin as a test-set leak. */
export const LEAK_KMER = 25;

/** The sets {@link pretrainingSet} draws from: non-human positives and negatives we have images of. */
export const PRETRAINING_SOURCES = { positives: ["mmu", "mmuplus", "ggaplus", "dreplus"], negatives: ["chen", "shuffled"] } as const;

/**
 * Runs (or resumes) the experiment and writes `outDir/results.json` (atomically). Needs the
 * deepMir data ($MIRNA_DL_DATA/premirna) and an initialised backend (initBackend()).
 */
export async function runHairpinClassifierExperiment(opts: HairpinExperimentOptions): Promise<HairpinExperimentResults> {
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const { seeds, epochs, outDir } = opts;
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) throw new InputError(`seeds must be integers, got ${JSON.stringify(seeds)}`);
  if (!Number.isInteger(epochs) || epochs < 0) throw new InputError(`epochs must be a non-negative integer, got ${epochs}`);
  const pretrainEpochs = opts.pretrainEpochs ?? 0;
  if (!Number.isInteger(pretrainEpochs) || pretrainEpochs < 0) throw new InputError(`pretrainEpochs must be a non-negative integer, got ${pretrainEpochs}`);
  const modelOptions = { modules: opts.modules ?? 2, denseUnits: opts.denseUnits ?? 128, kernelSize: opts.kernelSize ?? 3 };
  const batchSize = opts.batchSize ?? 128;
  const trainSet = opts.trainSet ?? "modhsa_train";
  const testSet = opts.testSet ?? "modhsa_test";

  const fullTrain = loadDeepMirDataset(trainSet);
  const train = opts.maxTrain === undefined ? fullTrain : spreadRows(fullTrain, opts.maxTrain);
  const test = loadDeepMirDataset(testSet);
  const others = (opts.evaluateOn === undefined || opts.evaluateOn === "all"
    ? listDeepMirDatasets().filter((d) => d.images).map((d) => d.prefix)
    : [...opts.evaluateOn]
  ).filter((p) => p !== trainSet && p !== testSet);
  progress(`train ${trainSet}: ${train.n} images (${countOnes(train.labels)} positive); test ${testSet}: ${test.n}; other sets: ${others.join(", ") || "none"}`);

  const perSeed: HairpinSeedResult[] = [];
  for (const seed of seeds) {
    const seedDir = path.join(outDir, `seed-${seed}`);
    const model = buildDeepMirClassifier({ ...modelOptions, seed });
    try {
      let pretraining: HairpinSeedResult["pretraining"] = null;
      if (pretrainEpochs > 0) {
        const { data, report } = pretrainingSet(test, seed);
        progress(`pre-training set: ${data.n} images (balanced); removed as ${testSet} leaks: ${JSON.stringify(report)}`);
        const pre = await trainDeepMirClassifier(model, data, {
          epochs: pretrainEpochs, batchSize, seed: seed + 1000, checkpointDir: path.join(seedDir, "pretrain-checkpoint"),
          onEpoch: (r) => progress(`seed ${seed} pre-training epoch ${r.epoch}/${pretrainEpochs}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)} | ${r.seconds.toFixed(1)} s`),
        });
        pretraining = { report, n: data.n, history: pre.history };
        // Fine-tuning starts with a fresh Adam, as a reloaded Keras model would.
        compileModel(model, DEEPMIR_TRAINING);
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
          progress(`seed ${seed} epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)} | ${testSet} acc ${testAccuracy.toFixed(4)} | ${r.seconds.toFixed(1)} s`);
        },
      });
      if (result.resumedFromEpoch >= epochs && epochs > 0) progress(`seed ${seed}: all ${epochs} epochs found in ${displayPath(path.join(seedDir, "checkpoint"))}`);
      const modelDir = path.join(seedDir, "model");
      await saveTfjsModel(model, modelDir);
      const metrics: HairpinSetMetrics[] = [evaluateHairpinClassifier(model, test).metrics];
      for (const prefix of others) metrics.push(evaluateHairpinClassifier(model, loadDeepMirDataset(prefix)).metrics);
      const history = result.history.map((h) => ({ ...h, testAccuracy: testCurve.get(h.epoch) ?? NaN }));
      const secondsPerEpoch = history.length ? meanSd(history.map((h) => h.seconds)).mean : NaN;
      perSeed.push({ seed, pretraining, history, metrics, secondsPerEpoch, modelDir });
      progress(`seed ${seed}: ${testSet} accuracy ${metrics[0]!.accuracy.toFixed(4)}`);
    } finally {
      disposeModel(model);
    }
  }

  const results: HairpinExperimentResults = {
    experiment: pretrainEpochs > 0
      ? `deepMir VGG classifier pre-trained ${pretrainEpochs} epochs on non-human images (${testSet} leaks removed), then trained on ${trainSet}`
      : `deepMir VGG classifier trained on ${trainSet} without pre-training`,
    model: { ...modelOptions, firstConvPadding: "valid", optimizer: "adam 1e-3", batchSize },
    trainSet, testSet, pretrainEpochs,
    notHeldOut: pretrainEpochs > 0 ? ["mmu", "mmustar", "mmuplus", "ggaplus", "dreplus", "mirgenedb", "chen", "shuffled"] : [],
    epochs, seeds: [...seeds], backend: describeBackend(), trainSamples: train.n, date: new Date().toISOString(),
    perSeed, summary: summariseSeeds(perSeed),
  };
  if (opts.writeResults ?? true) writeFileAtomic(path.join(outDir, "results.json"), JSON.stringify(results, null, 1));
  return results;
}

/** The JSON a worker gets to train one seed of a classifier experiment ({@link trainHairpinSeedTask}). */
export interface HairpinSeedTask {
  /** The experiment's options (plain JSON: no progress callback). */
  options: Omit<HairpinExperimentOptions, "progress">;
  seed: number;
}

/**
 * A worker's task (lib/src/workers.ts, "hairpin-seed"): trains (or resumes) one seed of an
 * experiment into `outDir/seed-S` exactly as {@link runHairpinClassifierExperiment} would (the
 * test-set curve included), without scoring the other sets or writing results.json; the
 * experiment then finds the seed complete and only evaluates it.
 */
export async function trainHairpinSeedTask(task: HairpinSeedTask): Promise<void> {
  await runHairpinClassifierExperiment({ ...task.options, seeds: [task.seed], evaluateOn: [], writeResults: false, progress: (line) => console.log(line) });
}

/**
 * Trains seeds of one or more classifier experiments in worker processes (lib/src/io/workers.ts),
 * `workers` at a time (default 2, one thread each), each logged to `outDir/seed-S/worker.log`.
 * Running the experiments afterwards resumes the finished checkpoints, so they only evaluate:
 * on two cores the notebook's five training runs take about the time of three.
 */
export async function trainHairpinSeedsInWorkers(runs: readonly HairpinSeedTask[], opts: { workers?: number; progress?: (line: string) => void } = {}): Promise<void> {
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const started = performance.now();
  await runPool(runs.map(({ options, seed }) => ({ options: withoutProgress(options), seed })), opts.workers ?? 2, async (job) => {
    const t0 = performance.now();
    const log = path.join(job.options.outDir, `seed-${job.seed}`, "worker.log");
    await runLibraryTask("hairpin-seed", job, log);
    progress(`trained ${displayPath(path.join(job.options.outDir, `seed-${job.seed}`))} in a worker in ${formatDuration((performance.now() - t0) / 1000)} (${formatDuration((performance.now() - started) / 1000)} so far)`);
  });
}

/** The options without their progress callback (a worker gets JSON). */
function withoutProgress(options: HairpinExperimentOptions): Omit<HairpinExperimentOptions, "progress"> {
  const { progress: _progress, ...rest } = options;
  return rest;
}

/** Mean ± sd over seeds of every metric of every set (sets in the order of the first seed). */
export function summariseSeeds(perSeed: readonly Pick<HairpinSeedResult, "metrics">[]): HairpinSetSummary[] {
  const first = perSeed[0];
  if (!first) return [];
  return first.metrics.map((m, i) => {
    const pick = (key: "accuracy" | "sensitivity" | "specificity" | "f1" | "rocAuc"): MeanSd | null => {
      const xs = perSeed.map((s) => s.metrics[i]![key]).filter((x): x is number => x !== null);
      return xs.length ? meanSd(xs) : null;
    };
    return { name: m.name, n: m.n, accuracy: pick("accuracy"), sensitivity: pick("sensitivity"), specificity: pick("specificity"), f1: pick("f1"), rocAuc: pick("rocAuc") };
  });
}

/**
 * The pre-training set: positives mmu, mmuplus, ggaplus, dreplus; negatives chen, shuffled;
 * without any image identical to, or whose decoded hairpin shares a {@link LEAK_KMER}-nt
 * stretch with, a hairpin of `test`; the larger class subsampled (seeded) to the smaller one's
 * size. `report` gives per source set its size and how many images were removed as leaks.
 */
export function pretrainingSet(test: DeepMirDataset, seed: number): { data: DeepMirDataset; report: Record<string, { n: number; removed: number }> } {
  const testKmers = new Set<string>();
  const testImages = new Set<string>();
  for (let i = 0; i < test.n; i++) {
    for (const k of kmers(decodedSequence(test.images, i), LEAK_KMER)) testKmers.add(k);
    testImages.add(imageKey(test.images, i));
  }
  const report: Record<string, { n: number; removed: number }> = {};
  const kept: { set: DeepMirDataset; row: number }[] = [];
  for (const prefix of [...PRETRAINING_SOURCES.positives, ...PRETRAINING_SOURCES.negatives]) {
    const set = loadDeepMirDataset(prefix);
    let removed = 0;
    for (let i = 0; i < set.n; i++) {
      const leak = testImages.has(imageKey(set.images, i)) || kmers(decodedSequence(set.images, i), LEAK_KMER).some((k) => testKmers.has(k));
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
    shuffleInPlace(copy, random);
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

/** `count` rows of `d` taken at even spacing (keeps both classes of a class-sorted set). */
export function spreadRows(d: DeepMirDataset, count: number): DeepMirDataset {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`maxTrain must be a positive integer, got ${count}`);
  const m = Math.min(count, d.n);
  const rows = Array.from({ length: m }, (_, k) => Math.floor((k * d.n) / m));
  const images = new Uint8Array(rows.length * HAIRPIN_IMAGE_SIZE);
  rows.forEach((r, k) => images.set(d.images.subarray(r * HAIRPIN_IMAGE_SIZE, (r + 1) * HAIRPIN_IMAGE_SIZE), k * HAIRPIN_IMAGE_SIZE));
  return { ...d, n: rows.length, labels: Uint8Array.from(rows, (r) => d.labels[r]!), names: rows.map((r) => d.names[r]!), images };
}

/** The hairpin sequence image i shows ("" when it is not a clean drawing). */
function decodedSequence(images: Uint8Array, i: number): string {
  try {
    const data = images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE);
    return decodeHairpinImage({ height: HAIRPIN_IMAGE_HEIGHT, width: HAIRPIN_IMAGE_WIDTH, data }, { verify: false }).sequence;
  } catch {
    return "";
  }
}

function imageKey(images: Uint8Array, i: number): string {
  return Buffer.from(images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE)).toString("base64");
}

function kmers(sequence: string, k: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + k <= sequence.length; i++) out.push(sequence.slice(i, i + k));
  return out;
}

function countOnes(xs: Uint8Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
