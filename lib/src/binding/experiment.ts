import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { dataPath, displayPath, LIB_ROOT, Profile, profile, REPO_ROOT } from "../data/paths";
import { readMaybeGzip, writeFileAtomic } from "../io/files";
import { runWorkerProcess } from "../io/workers";
import { AveragePrecisionBootstrap, bootstrapAveragePrecision, formatMeanSd, MeanSd, meanSd, rankMetrics } from "../metrics";
import type { PrCurveSeries, RocCurveSeries } from "../figures/specs";
import { initBackend } from "../ops/backend";
import { formatDuration } from "../progress";
import type { EpochRecord } from "../training/checkpoint";
import { curveSeries, strideSubset, SubsetOptions } from "./evaluation";
import { PaperTrainTable, readPaperTrainTable } from "./paperTable";
import { PUBLISHED_MODELS, publishedModelPath, testSetPath } from "./paths";
import { POSITIVE_ROWS_FILE, writePositiveRows } from "./positiveRows";
import { openScorer, PairScorer } from "./scorer";
import { readLeakGuard, splitChr1Positives, SPLIT_FILES, SplitSummary, writeSplit } from "./split";
import { LabelledPairs, PairTable, readPairTable } from "./tables";
import { iterativePositiveRows } from "./trainIterative";
import { standardStepsPerEpoch } from "./trainStandard";

/**
 * The binding experiment of the model_train_lock notebook (does iterative training match a
 * model trained on 5× more positives?): the chr1 split, every training configuration over
 * several seeds, and every model — ours, the published ones and the seed-match baseline —
 * scored on the same held-out rows and on the CLASH test sets.
 *
 * Training runs as `mirna-dl train` worker processes (by default two at a time, one OpenMP
 * thread each: on two cores that trains about 1.6× faster than one process on both), each into
 * its own folder with checkpoints, so the notebook shows the commands a user would type and an
 * interrupted experiment resumes. Scores are cached next to each model.
 *
 * The paper's own setting (option `paperTable`, when the original's training table is present):
 * the same configurations, workers, checkpoints and cached scores, but every model trains on
 * that table (the ENCORI positives outside chr1; its miRNAs re-paired with its sites as
 * negatives) and every model is scored on the published chr1 scan and miRNA-negative test sets,
 * as the paper did; no split, no CLASH data.
 *
 * The CLASH setting (option `clash`), the seed paper's proposed next step: every model trains on
 * miRBind's CLASH training table (AGO1 CLASH of Helwak et al. 2013), is chosen on miRBind's
 * evaluation sets only (configurations with `select`), and is scored on miRBind's CLASH test
 * sets; no split, no chr1 data.
 */

/** One training configuration. */
export interface BindingConfig {
  /** Folder and table name, e.g. "standard_1k_ratio10". */
  name: string;
  mode: "standard" | "iterative";
  /** standard */
  positives?: number;
  ratio?: number;
  epochs?: number;
  /** iterative */
  variant?: "faithful" | "improved";
  iterations?: number;
  positivesPerIteration?: number;
  minibatches?: number;
  validationPositives?: number;
  maxRatio?: number;
  /** Train on the CLASH training positives too (leak-guarded against the held-out chr1 sequence). */
  withClash?: boolean;
  /** standard: train on the training table's label-0 rows as they are (`--negatives given`) instead of re-pairing. */
  negatives?: "given";
  /** Re-paired negatives never from the positive's seed family (`--negative-family seed`). */
  negativeFamily?: "seed";
  /** CLASH setting: choose the model (epoch or iteration) on the setting's selection sets (`--select`). */
  select?: boolean;
  /** standard: stop after this many epochs without a better validation loss (with `select`: selection AP), keep the best (`--early-stopping`). */
  earlyStopping?: number;
  /**
   * standard, a control: train on exactly the positives that the run of this (iterative, chr1-only)
   * configuration with the same seed trained on (`--positive-rows` of its positive_rows.tsv);
   * `positives` must be unset. The run starts once that one has finished.
   */
  positivesFrom?: string;
  /**
   * standard, a control: as many gradient steps as the run of this configuration with the same
   * seed took — `epochs` becomes round(its steps / steps per epoch), at least 1 (so the steps
   * match to within half an epoch); `epochs` must be unset. Starts once that run has finished.
   */
  stepsFrom?: string;
}

/** Options of {@link runBindingExperiment}. */
export interface BindingExperimentOptions {
  /** Folder of the split, the models and results.json. */
  outDir: string;
  configs: readonly BindingConfig[];
  seeds: readonly number[];
  /** Seed of the split (one split for every training seed). Default 1789. */
  splitSeed?: number;
  /** Which held-out rows are scored: every k-th positive and negative (default: all positives, every 4th negative). */
  heldOutSubset?: SubsetOptions;
  /** The same for the CLASH test sets (default all rows). */
  clashSubset?: SubsetOptions;
  /** `mirna-dl train` processes at a time. Default 2. */
  workers?: number;
  /** OpenMP threads per worker. Default 1. */
  threadsPerWorker?: number;
  /** Progress lines (default stderr). */
  progress?: (line: string) => void;
  /**
   * The paper's setting: train on the original's training table in this file (see
   * paperTable.ts: locatePaperTable) instead of the chr1 split, and score on the published chr1
   * test sets. `splitSeed`, `heldOutSubset` and `clashSubset` do not apply; `withClash`
   * configurations are refused. Default: the chr1 split.
   */
  paperTable?: string;
  /** Paper setting: which rows of the chr1 scan and miRNA-negative test sets are scored (default: all of them). */
  testSubset?: SubsetOptions;
  /**
   * The CLASH setting: train on `train` (default miRBind's CLASH training table), choose models
   * on `select` (default miRBind's three evaluation sets), score on miRBind's CLASH test sets
   * (`clashSubset` of their rows). `withClash` configurations and `paperTable` are refused.
   */
  clash?: {
    train?: string;
    select?: readonly string[];
    /** Train on every k-th positive and negative of `train` only (written to `outDir/clash-train.tsv.gz`; a small profile). */
    trainSubset?: SubsetOptions;
    /** Choose on every k-th positive and negative of each selection table only (`outDir/clash-select-<k>.tsv.gz`). */
    selectSubset?: SubsetOptions;
  };
  /**
   * A paired bootstrap of average precision over the rows of the held-out test sets (in the
   * paper setting: of the chr1 test sets)
   * ({@link bootstrapAveragePrecision}): every configuration (its seed-mean AP), every published
   * model ("published <name>") and the seed baseline ("seed-match baseline") on the same
   * resamples; with `resampleScoreSets`, each configuration's seeds are resampled too. Results
   * only (not written to results.json).
   */
  bootstrap?: { resamples: number; seed: number; resampleScoreSets?: boolean };
  /**
   * Models trained elsewhere to score beside ours (e.g. model_train_lock's chr1-trained runs on
   * the CLASH test sets): per name, run folders holding `model/` (one per seed). Scored on the
   * same rows (cached under `outDir/comparators`), listed with config = the name, summarised
   * over their folders like a configuration, and in the bootstrap under the name. Missing
   * folders are an InputError.
   */
  comparators?: readonly { name: string; dirs: readonly string[] }[];
  /**
   * Test sets (by name) to draw ROC and PR curves of: every configuration's and comparator's
   * first seed, the published models and the seed baseline. Results only (`curves`, not written
   * to results.json).
   */
  curves?: readonly string[];
}

/** Metrics of one model on one test set. */
export interface BindingScore {
  model: string;
  /** The configuration, or "published" / "baseline". */
  config: string;
  seed: number | null;
  testSet: string;
  n: number;
  positives: number;
  rocAuc: number;
  averagePrecision: number;
}

/** One trained model: its configuration, seed, folder and training log. */
export interface TrainedModel {
  config: string;
  seed: number;
  dir: string;
  command: string[];
  seconds: number;
  /** Gradient steps the run took (the sum over its history). */
  steps: number;
  /** What training.json says: history, positivesUsed, distinctNegatives, stoppedBy, … */
  log: { history: EpochRecord[]; positivesUsed?: number; negativesUsed?: number; distinctNegatives?: number; stoppedBy?: string; seconds: number; backend: string; options?: Record<string, unknown>; sources?: { file: string; rows: number; positives: number }[] };
}

/** Mean ± sd over seeds of one configuration on one test set. */
export interface BindingSummaryRow {
  config: string;
  testSet: string;
  seeds: number;
  rocAuc: MeanSd;
  averagePrecision: MeanSd;
  positivesUsed: MeanSd | null;
  /** Gradient steps of training, over seeds. */
  steps: MeanSd;
}

/** What results.json holds. */
export interface BindingExperimentResults {
  split: SplitSummary;
  /** Training sources and their sizes. */
  training: { chr1Positives: number; clashPositives: number; clashDroppedAsLeaks: number };
  testSets: { name: string; n: number; positives: number }[];
  trained: TrainedModel[];
  scores: BindingScore[];
  summary: BindingSummaryRow[];
  /** Per held-out test set, with {@link BindingExperimentOptions.bootstrap}: the AP bootstrap. */
  bootstrap?: (AveragePrecisionBootstrap & { testSet: string })[];
  /** With {@link BindingExperimentOptions.curves}: per test set, the curves for prCurveSpec / rocCurveSpec. */
  curves?: { testSet: string; pr: PrCurveSeries[]; roc: RocCurveSeries[] }[];
  seconds: number;
  date: string;
}

/** What an experiment in either setting reports (results.json): test sets, runs, scores and their summary. */
export type ExperimentResultsCommon = Omit<BindingExperimentResults, "split" | "training">;

/** The original's training table as the paper-setting experiment used it. */
export interface PaperTableSummary {
  /** The table, as given (absolute path). */
  file: string;
  sha256: string;
  rows: number;
  /** Distinct miRNAs: the pool the negatives are drawn from. */
  families: number;
  /** Rows per chromosome. */
  chromosomes: Record<string, number>;
  /** The rows of the chr1 test sets scored (null: all). */
  testSubset: SubsetOptions | null;
}

/** What results.json holds in the paper's setting. */
export interface PaperExperimentResults extends ExperimentResultsCommon {
  setting: "paper";
  paper: PaperTableSummary;
}

/** The CLASH tables as the CLASH-setting experiment used them. */
export interface ClashSettingSummary {
  train: { file: string; rows: number; positives: number; negatives: number };
  select: { file: string; rows: number; positives: number }[];
}

/** What results.json holds in the CLASH setting. */
export interface ClashExperimentResults extends ExperimentResultsCommon {
  setting: "clash";
  clash: ClashSettingSummary;
}

/**
 * Where the model_train_lock notebook keeps the experiment (split, models, results.json) and
 * later notebooks (interpret) find it: `<repo>/out/binding` for the full profile,
 * `<repo>/out/binding-ci` for the ci profile.
 */
export function bindingExperimentDir(p: Profile = profile()): string {
  return path.join(REPO_ROOT, "out", p === "full" ? "binding" : "binding-ci");
}

/**
 * Where model_train_lock keeps the paper-setting experiment: `<repo>/out/binding-paper` for the
 * full profile, `<repo>/out/binding-paper-ci` for the ci profile.
 */
export function paperExperimentDir(p: Profile = profile()): string {
  return path.join(REPO_ROOT, "out", p === "full" ? "binding-paper" : "binding-paper-ci");
}

/**
 * Where the CLASH-setting experiment is kept: `<repo>/out/binding-clash` for the full profile,
 * `<repo>/out/binding-clash-ci` for the ci profile.
 */
export function clashExperimentDir(p: Profile = profile()): string {
  return path.join(REPO_ROOT, "out", p === "full" ? "binding-clash" : "binding-clash-ci");
}

/**
 * The folder of the paper-setting experiment holds models of one table only: records the
 * table's sha256 in `outDir/paper-table.json` on first use and refuses another table later
 * (resuming would mix models trained on different data).
 */
function claimPaperFolder(outDir: string, table: PaperTrainTable): void {
  const record = path.join(outDir, "paper-table.json");
  if (fs.existsSync(record)) {
    const saved = JSON.parse(fs.readFileSync(record, "utf8")) as { sha256: string; file: string };
    if (saved.sha256 !== table.sha256) {
      throw new InputError(`holds models trained on another table (${saved.file}, sha256 ${saved.sha256}) than ${table.file} (sha256 ${table.sha256}); remove the folder or choose another outDir`, { file: outDir });
    }
    return;
  }
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(record, JSON.stringify({ file: table.file, sha256: table.sha256, rows: table.mirnas.length }, null, 1) + "\n");
}

/** The CLASH (miRBind) tables under the data folder: the training table, the evaluation sets (model selection) and the test sets. */
export function clashPath(name: "train" | "test_1_1" | "test_1_10" | "evaluation_1_1" | "evaluation_1_10" | "evaluation_1_20"): string {
  const file = name === "train" ? "train_set_1_1_CLASH2013_paper.tsv.gz" : `${name.replace(/_1_/, "_set_1_")}_CLASH2013_paper.tsv.gz`;
  return dataPath("mirbind", file);
}

/** miRBind's evaluation sets, the CLASH setting's default model-selection tables. */
export const CLASH_SELECTION_SETS = ["evaluation_1_1", "evaluation_1_10", "evaluation_1_20"] as const;

/** How to run `mirna-dl`: the built CLI, or the sources through tsx when this module runs from source. */
function cliCommand(): string[] {
  return __filename.endsWith(".ts")
    ? [process.execPath, "--import", "tsx", path.join(LIB_ROOT, "src", "cli", "main.ts")]
    : [process.execPath, path.join(LIB_ROOT, "bin", "mirna-dl.js")];
}

/** What a control configuration takes from the run it follows (see {@link BindingConfig.positivesFrom}, `stepsFrom`). */
export interface ResolvedControl {
  /** The positive-rows file (positivesFrom). */
  positiveRows?: string;
  /** Epochs (stepsFrom). */
  epochs?: number;
}

/**
 * The `mirna-dl train` arguments of a configuration and seed. `tables.chr1` is the training
 * table: the chr1 split's training positives, or in the paper's setting the original's table.
 * `control`: what a control configuration resolved.
 */
export function trainArguments(config: BindingConfig, seed: number, tables: { chr1: string; clash: string; splitDir: string; select?: readonly string[] }, outDir: string, control: ResolvedControl = {}): string[] {
  const args = ["train", "--mode", config.mode, "--seed", String(seed), "--out", outDir, "--resume", "-q"];
  const add = (flag: string, value: number | string | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };
  add("--train", config.withClash ? `${tables.chr1},${tables.clash}` : tables.chr1);
  if (config.withClash) add("--leak-guard", tables.splitDir);
  add("--negative-family", config.negativeFamily);
  if (config.select) {
    if (!tables.select?.length) throw new InputError(`${config.name}: select needs selection tables (the CLASH setting's)`);
    add("--select", tables.select.join(","));
  }
  if (config.mode === "standard") {
    add("--negatives", config.negatives);
    add("--positives", config.positives);
    add("--positive-rows", control.positiveRows);
    add("--ratio", config.ratio);
    add("--epochs", control.epochs ?? config.epochs);
    add("--early-stopping", config.earlyStopping);
  } else {
    add("--variant", config.variant ?? "improved");
    add("--iterations", config.iterations);
    add("--positives-per-iteration", config.positivesPerIteration);
    add("--minibatches", config.minibatches);
    add("--validation-positives", config.validationPositives);
    add("--max-ratio", config.maxRatio);
  }
  return args;
}

/**
 * Writes the rows of `table` that the subset keeps (every k-th positive and negative, in file
 * order, header and lines as read) to `file`, unless it already holds exactly them; returns `file`.
 */
function writeLabelledSubset(table: PairTable, subset: SubsetOptions, file: string): string {
  const positiveStride = subset.positiveStride ?? 1;
  const negativeStride = subset.negativeStride ?? 10;
  let positives = 0;
  let negatives = 0;
  const kept = table.lines.filter((_, i) => (table.labels![i] === 1 ? positives++ % positiveStride === 0 : negatives++ % negativeStride === 0));
  const text = [table.header.join("\t"), ...kept].join("\n") + "\n";
  // Rewritten only when it differs: a resumed experiment keeps the table its checkpoints were trained on.
  if (!fs.existsSync(file) || readMaybeGzip(file).toString("utf8") !== text) writeFileAtomic(file, text);
  return file;
}

/** Reads a test set, keeping the subset's rows. */
async function readSubset(file: string, name: string, subset: SubsetOptions | undefined): Promise<LabelledPairs> {
  const t = await readPairTable(file, { requireLabels: true });
  const all: LabelledPairs = { name, mirnas: t.mirnas, sites: t.sites, labels: t.labels! };
  return subset ? strideSubset(all, subset) : all;
}

/**
 * Scores `set` with `scorer`, cached in `cacheDir` (the scores as float32, keyed by the set's name
 * and size). With no scorer, the cached scores must exist.
 */
async function cachedScores(scorer: PairScorer | null, set: LabelledPairs, cacheDir: string): Promise<Float32Array> {
  const file = path.join(cacheDir, `scores-${set.name.replace(/[^A-Za-z0-9_-]+/g, "_")}-${set.labels.length}.f32`);
  if (fs.existsSync(file)) {
    const bytes = fs.readFileSync(file);
    if (bytes.length === set.labels.length * 4) return new Float32Array(new Uint8Array(bytes).buffer);
  }
  if (!scorer) throw new Error(`no cached scores ${file}`);
  const scores = await scorer.score(set.mirnas, set.sites, { batchSize: 512 });
  writeFileAtomic(file, Buffer.from(scores.buffer, scores.byteOffset, scores.byteLength));
  return scores;
}

/**
 * Runs (or resumes) the experiment: the split (written once to `outDir/split`), every
 * configuration × seed trained by worker processes (skipped when its model exists), every
 * model scored on the held-out scan and miRNA-neg sets and the CLASH test sets, the published
 * models and the seed baseline on the same rows; mean ± sd over seeds; `outDir/results.json`.
 * With `paperTable`: no split; every configuration × seed trains on that table and every model
 * is scored on the chr1 scan and miRNA-neg test sets (`testSubset` of their rows).
 */
export async function runBindingExperiment(opts: BindingExperimentOptions & { paperTable: string }): Promise<PaperExperimentResults>;
export async function runBindingExperiment(opts: BindingExperimentOptions & { clash: NonNullable<BindingExperimentOptions["clash"]> }): Promise<ClashExperimentResults>;
export async function runBindingExperiment(opts: BindingExperimentOptions): Promise<BindingExperimentResults>;
export async function runBindingExperiment(opts: BindingExperimentOptions): Promise<BindingExperimentResults | PaperExperimentResults | ClashExperimentResults> {
  const started = performance.now();
  const progress = opts.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (opts.seeds.length === 0) throw new InputError("no seeds");
  const names = opts.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new InputError(`configuration names must be distinct: ${names.join(", ")}`);
  const splitDir = path.join(opts.outDir, "split");
  const paperFile = opts.paperTable === undefined ? null : path.resolve(opts.paperTable);
  if (paperFile !== null && opts.configs.some((c) => c.withClash)) {
    throw new InputError(`the paper's setting trains on the original's table only; drop the withClash configurations (${opts.configs.filter((c) => c.withClash).map((c) => c.name).join(", ")})`);
  }
  const clashSetting = opts.clash ?? null;
  if (clashSetting !== null && paperFile !== null) throw new InputError("choose one setting: paperTable or clash, not both");
  if (clashSetting !== null && opts.configs.some((c) => c.withClash)) {
    throw new InputError(`the CLASH setting trains on the CLASH table already; drop withClash (${opts.configs.filter((c) => c.withClash).map((c) => c.name).join(", ")})`);
  }
  const selectless = opts.configs.filter((c) => c.select && clashSetting === null);
  if (selectless.length > 0) throw new InputError(`select chooses models on the CLASH setting's evaluation sets; only the CLASH setting has them (${selectless.map((c) => c.name).join(", ")})`);

  // The split, once (chr1 setting); or the original's table, validated (paper setting).
  let split: SplitSummary | null = null;
  let paper: PaperTableSummary | null = null;
  const summaryFile = path.join(splitDir, SPLIT_FILES.summary);
  let clash: ClashSettingSummary | null = null;
  const selectFiles: string[] = [];
  if (clashSetting !== null) {
    let file = path.resolve(clashSetting.train ?? clashPath("train"));
    let t = await readPairTable(file, { requireLabels: true });
    if (clashSetting.trainSubset) {
      file = writeLabelledSubset(t, clashSetting.trainSubset, path.join(opts.outDir, "clash-train.tsv.gz"));
      t = await readPairTable(file, { requireLabels: true });
    }
    const positives = t.labels!.reduce((a, b) => a + b, 0);
    const select = [];
    for (const [k, given] of (clashSetting.select ?? CLASH_SELECTION_SETS.map((n) => clashPath(n))).entries()) {
      let f = path.resolve(given);
      let s = await readPairTable(f, { requireLabels: true });
      if (clashSetting.selectSubset) {
        f = writeLabelledSubset(s, clashSetting.selectSubset, path.join(opts.outDir, `clash-select-${k + 1}.tsv.gz`));
        s = await readPairTable(f, { requireLabels: true });
      }
      selectFiles.push(f);
      select.push({ file: f, rows: s.labels!.length, positives: s.labels!.reduce((a, b) => a + b, 0) });
    }
    clash = { train: { file, rows: t.labels!.length, positives, negatives: t.labels!.length - positives }, select };
    progress(`training table: ${displayPath(file)}, ${positives} positives and ${t.labels!.length - positives} negatives; model selection on ${select.map((x) => `${displayPath(x.file)} (${x.rows})`).join(", ")}`);
  } else if (paperFile !== null) {
    const table = await readPaperTrainTable(paperFile);
    claimPaperFolder(opts.outDir, table);
    paper = { file: paperFile, sha256: table.sha256, rows: table.mirnas.length, families: table.families, chromosomes: table.chromosomes, testSubset: opts.testSubset ?? null };
    progress(`training table: ${displayPath(paperFile)}, ${paper.rows} positives on ${Object.keys(paper.chromosomes).length} chromosomes (no chr1), ${paper.families} miRNA families`);
  } else if (fs.existsSync(summaryFile) && Object.values(SPLIT_FILES).every((f) => fs.existsSync(path.join(splitDir, f)))) {
    split = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as SplitSummary;
    progress(`split: found in ${displayPath(splitDir)}`);
  } else {
    const read = async (file: string) => {
      const t = await readPairTable(file, { requireLabels: true });
      return { name: file, mirnas: t.mirnas, sites: t.sites, labels: t.labels! };
    };
    const made = splitChr1Positives({ scan: await read(testSetPath("scan")), mirnaNeg: await read(testSetPath("mirnaNeg")) }, { seed: opts.splitSeed });
    writeSplit(made, splitDir);
    split = made.summary;
    progress(`split: ${split.trainPositives} training and ${split.heldOutPositives} held-out positives (${split.clusters} clusters) written to ${displayPath(splitDir)}`);
  }
  // The training table: the original's (paper setting), CLASH's, or the split's training positives.
  const chr1Train = paperFile ?? (clash !== null ? clash.train.file : path.join(splitDir, SPLIT_FILES.train));
  const clashTrain = clashPath("train");
  let clashPositives = 0;
  let clashDropped = 0;
  if (opts.configs.some((c) => c.withClash)) {
    const t = await readPairTable(clashTrain, { requireLabels: true });
    const leaks = readLeakGuard(splitDir);
    for (let i = 0; i < t.labels!.length; i++) {
      if (t.labels![i] !== 1) continue;
      if (leaks(t.sites[i]!)) clashDropped++;
      else clashPositives++;
    }
  }

  // Training, `workers` at a time, in trainingOrder; a control starts once the run it follows has finished.
  checkControls(opts.configs);
  const jobs = opts.configs.flatMap((config) => opts.seeds.map((seed) => ({ config, seed, dir: path.join(opts.outDir, config.name, `seed-${seed}`) })));
  const dirOf = (config: string, seed: number) => path.join(opts.outDir, config, `seed-${seed}`);
  const readLog = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "training.json"), "utf8")) as TrainedModel["log"];
  /** What a control takes from the finished run it follows (that run's folder holds its log). */
  const resolve = (config: BindingConfig, seed: number): ResolvedControl => {
    const control: ResolvedControl = {};
    if (config.positivesFrom) control.positiveRows = positiveRowsOf(dirOf(config.positivesFrom, seed), readLog(dirOf(config.positivesFrom, seed)), seed);
    if (config.stepsFrom) {
      const steps = stepsOf(readLog(dirOf(config.stepsFrom, seed)));
      const positives = config.positives ?? 1000;
      control.epochs = Math.max(1, Math.round(steps / standardStepsPerEpoch(positives, config.ratio ?? 10)));
    }
    return control;
  };
  const dependsOn = (c: BindingConfig) => [c.positivesFrom, c.stepsFrom].filter((x): x is string => x !== undefined);
  const rank = new Map(trainingOrder(opts.configs).map((name, i) => [name, i]));
  const queue = [...jobs].sort((a, b) => rank.get(a.config.name)! - rank.get(b.config.name)!);
  const command = cliCommand();
  const trainingStarted = performance.now();
  const finished = new Set<string>();
  let waiting: (() => void)[] = [];
  let done = 0;
  const worker = async () => {
    while (queue.length > 0) {
      const next = queue.findIndex((j) => dependsOn(j.config).every((d) => finished.has(`${d}/${j.seed}`)));
      if (next < 0) {
        await new Promise<void>((wake) => waiting.push(wake));
        continue;
      }
      const job = queue.splice(next, 1)[0]!;
      const model = path.join(job.dir, "model", "model.json");
      const log = path.join(job.dir, "training.json");
      if (!(fs.existsSync(model) && fs.existsSync(log))) {
        const args = trainArguments(job.config, job.seed, { chr1: chr1Train, clash: clashTrain, splitDir, select: selectFiles }, job.dir, resolve(job.config, job.seed));
        const t0 = performance.now();
        await runWorkerProcess([...command, ...args], path.join(job.dir, "train.log"), { threads: opts.threadsPerWorker ?? 1 });
        progress(`trained ${job.config.name} seed ${job.seed} in ${formatDuration((performance.now() - t0) / 1000)} (${done + 1}/${jobs.length}; ${formatDuration((performance.now() - trainingStarted) / 1000)} so far)`);
      }
      done++;
      finished.add(`${job.config.name}/${job.seed}`);
      const wake = waiting;
      waiting = [];
      wake.forEach((w) => w());
    }
    // Whoever still waits has nothing left to wait for.
    const wake = waiting;
    waiting = [];
    wake.forEach((w) => w());
  };
  await Promise.all(Array.from({ length: Math.min(opts.workers ?? 2, jobs.length) }, worker));
  const trained: TrainedModel[] = jobs.map((job) => {
    const log = readLog(job.dir);
    const args = trainArguments(job.config, job.seed, { chr1: chr1Train, clash: clashTrain, splitDir, select: selectFiles }, job.dir, resolve(job.config, job.seed));
    return { config: job.config.name, seed: job.seed, dir: job.dir, command: ["mirna-dl", ...args], seconds: log.seconds, steps: stepsOf(log), log };
  });

  // Evaluation: the paper's chr1 test sets, the CLASH test sets, or the held-out rows of the split and CLASH.
  const clashTests = async () => [
    await readSubset(clashPath("test_1_1"), "CLASH 1:1", opts.clashSubset),
    await readSubset(clashPath("test_1_10"), "CLASH 1:10", opts.clashSubset),
  ];
  const testSets = clash !== null ? await clashTests() : paperFile !== null
    ? [
      await readSubset(testSetPath("scan"), "chr1 scan", opts.testSubset),
      await readSubset(testSetPath("mirnaNeg"), "chr1 miRNA-neg", opts.testSubset),
    ]
    : [
      await readSubset(path.join(splitDir, SPLIT_FILES.heldOutScan), "held-out scan", opts.heldOutSubset ?? { positiveStride: 1, negativeStride: 4 }),
      await readSubset(path.join(splitDir, SPLIT_FILES.heldOutMirnaNeg), "held-out miRNA-neg", opts.heldOutSubset ?? { positiveStride: 1, negativeStride: 4 }),
      ...(await clashTests()),
    ];
  await initBackend();
  const scores: BindingScore[] = [];
  const score = async (scorer: PairScorer, meta: Omit<BindingScore, "testSet" | "n" | "positives" | "rocAuc" | "averagePrecision">, cacheDir: string) => {
    for (const set of testSets) {
      const s = await cachedScores(scorer, set, cacheDir);
      const m = rankMetrics(set.labels, s);
      scores.push({ ...meta, testSet: set.name, n: m.n, positives: m.positives, rocAuc: m.rocAuc, averagePrecision: m.averagePrecision });
    }
  };
  for (const t of trained) {
    const scorer = await openScorer(path.join(t.dir, "model"));
    try {
      await score(scorer, { model: `${t.config} (seed ${t.seed})`, config: t.config, seed: t.seed }, t.dir);
    } finally {
      scorer.dispose();
    }
  }
  for (const name of PUBLISHED_MODELS) {
    const scorer = await openScorer(publishedModelPath(name));
    try {
      await score(scorer, { model: name, config: "published", seed: null }, path.join(opts.outDir, "published", name));
    } finally {
      scorer.dispose();
    }
  }
  await score(await openScorer("seed"), { model: "seed-match", config: "baseline", seed: null }, path.join(opts.outDir, "published", "seed-match"));
  const comparators = opts.comparators ?? [];
  const comparatorCache = (name: string, k: number) => path.join(opts.outDir, "comparators", name.replace(/[^A-Za-z0-9_-]+/g, "_"), String(k + 1));
  for (const c of comparators) {
    if (names.includes(c.name)) throw new InputError(`comparator '${c.name}' is named like a configuration`);
    for (const [k, dir] of c.dirs.entries()) {
      if (!fs.existsSync(path.join(dir, "model", "model.json")) || !fs.existsSync(path.join(dir, "training.json"))) {
        throw new InputError(`comparator '${c.name}': not a finished training run (model/model.json and training.json) in this folder`, { file: dir });
      }
      const scorer = await openScorer(path.join(dir, "model"));
      try {
        await score(scorer, { model: `${c.name} (${path.basename(dir)})`, config: c.name, seed: k + 1 }, comparatorCache(c.name, k));
      } finally {
        scorer.dispose();
      }
    }
  }
  progress(`scored ${trained.length + comparators.reduce((a, c) => a + c.dirs.length, 0) + PUBLISHED_MODELS.length + 1} models on ${testSets.map((s) => `${s.name} (${s.labels.length})`).join(", ")}`);

  const summary: BindingSummaryRow[] = [...opts.configs, ...comparators].flatMap((config) =>
    testSets.map((set) => {
      const rows = scores.filter((s) => s.config === config.name && s.testSet === set.name);
      // A comparator's logs are its folders' training.json.
      const comparator = comparators.find((c) => c.name === config.name);
      const logs = comparator ? comparator.dirs.map(readLog) : trained.filter((t) => t.config === config.name).map((t) => t.log);
      const used = logs.map((l) => l.positivesUsed).filter((x): x is number => typeof x === "number");
      return {
        config: config.name, testSet: set.name, seeds: rows.length,
        rocAuc: meanSd(rows.map((r) => r.rocAuc)), averagePrecision: meanSd(rows.map((r) => r.averagePrecision)),
        positivesUsed: used.length ? meanSd(used) : null,
        steps: meanSd(logs.map(stepsOf)),
      };
    }),
  );
  const common: ExperimentResultsCommon = {
    testSets: testSets.map((s) => ({ name: s.name, n: s.labels.length, positives: s.labels.reduce((a, b) => a + b, 0) })),
    trained, scores, summary,
    seconds: 0,
    date: new Date().toISOString(),
  };
  const results: BindingExperimentResults | PaperExperimentResults | ClashExperimentResults = clash !== null
    ? { setting: "clash", clash, ...common }
    : paper !== null
    ? { setting: "paper", paper, ...common }
    : { split: split!, training: { chr1Positives: split!.trainPositives, clashPositives, clashDroppedAsLeaks: clashDropped }, ...common };
  writeFileAtomic(path.join(opts.outDir, "results.json"), JSON.stringify({ ...results, seconds: (performance.now() - started) / 1000 }, null, 1) + "\n");
  if (opts.bootstrap) {
    const b0 = performance.now();
    results.bootstrap = [];
    // The test sets the experiment is about: all of them in the paper and CLASH settings, the held-out ones on the split.
    for (const set of testSets.filter((t) => paper !== null || clash !== null || t.name.startsWith("held-out"))) {
      const models: Record<string, Float32Array[]> = {};
      for (const config of opts.configs) {
        models[config.name] = await Promise.all(trained.filter((t) => t.config === config.name).map((t) => cachedScores(null, set, t.dir)));
      }
      for (const c of comparators) models[c.name] = await Promise.all(c.dirs.map((_, k) => cachedScores(null, set, comparatorCache(c.name, k))));
      for (const name of PUBLISHED_MODELS) models[`published ${name}`] = [await cachedScores(null, set, path.join(opts.outDir, "published", name))];
      models["seed-match baseline"] = [await cachedScores(null, set, path.join(opts.outDir, "published", "seed-match"))];
      results.bootstrap.push({ testSet: set.name, ...bootstrapAveragePrecision(set.labels, models, opts.bootstrap) });
    }
    progress(`bootstrap: ${opts.bootstrap.resamples} resamples of the ${paper !== null || clash !== null ? "test" : "held-out"} rows${opts.bootstrap.resampleScoreSets ? " and of each configuration's seeds" : ""} (seed ${opts.bootstrap.seed}) in ${formatDuration((performance.now() - b0) / 1000)}`);
  }
  if (opts.curves?.length) {
    results.curves = [];
    for (const name of opts.curves) {
      const set = testSets.find((t) => t.name === name);
      if (!set) throw new InputError(`curves: no test set '${name}' (test sets: ${testSets.map((t) => t.name).join(", ")})`);
      const models: { name: string; scores: Float32Array }[] = [];
      for (const config of opts.configs) {
        const first = trained.find((t) => t.config === config.name)!;
        models.push({ name: `${config.name} (seed ${first.seed})`, scores: await cachedScores(null, set, first.dir) });
      }
      for (const c of comparators) models.push({ name: `${c.name} (${path.basename(c.dirs[0]!)})`, scores: await cachedScores(null, set, comparatorCache(c.name, 0)) });
      for (const p of PUBLISHED_MODELS) models.push({ name: `published ${p}`, scores: await cachedScores(null, set, path.join(opts.outDir, "published", p)) });
      models.push({ name: "seed-match", scores: await cachedScores(null, set, path.join(opts.outDir, "published", "seed-match")) });
      const { pr, roc } = curveSeries(set.labels, models);
      results.curves.push({ testSet: name, pr, roc });
    }
  }
  results.seconds = (performance.now() - started) / 1000;
  return results;
}

/** Gradient steps of a training log: the sum of its history's steps. */
function stepsOf(log: TrainedModel["log"]): number {
  return log.history.reduce((a, h) => a + (typeof h.steps === "number" ? h.steps : 0), 0);
}

/**
 * The positive-rows file of the iterative run in `dir` (seed `seed`). Runs trained before
 * `mirna-dl train` recorded it have none: it is written from the log with the trainer's own
 * order ({@link iterativePositiveRows}; the run's training positives are those of its one table).
 */
function positiveRowsOf(dir: string, log: TrainedModel["log"], seed: number): string {
  const file = path.join(dir, POSITIVE_ROWS_FILE);
  if (fs.existsSync(file)) return file;
  const sources = log.sources ?? [];
  if (sources.length !== 1 || log.options?.["leak-guard"] !== undefined || typeof log.positivesUsed !== "number") {
    throw new InputError(`${displayPath(dir)}: no ${POSITIVE_ROWS_FILE}, and its training log does not say which positives it used (one table, no leak guard, positivesUsed)`);
  }
  writePositiveRows(file, iterativePositiveRows(sources[0]!.positives, seed, log.positivesUsed));
  return file;
}

/**
 * The order configurations are trained in (their names; each configuration's seeds together):
 * by the longest chain a run starts, its own work (rows × epochs, an iterative run as 10,000
 * rows an iteration) plus that of the longest control that waits for it (a control starts only
 * once the run it follows has finished). So the runs the long controls follow come first, and no
 * worker idles at the end behind a control that started late. Ties keep the given order.
 */
export function trainingOrder(configs: readonly BindingConfig[]): string[] {
  const byName = new Map(configs.map((c) => [c.name, c]));
  const work = (c: BindingConfig): number => {
    if (c.positivesFrom) {
      const from = byName.get(c.positivesFrom)!;
      return (from.iterations ?? 28) * (from.positivesPerIteration ?? 1000) * (1 + (c.ratio ?? 10)) * (c.epochs ?? 10);
    }
    if (c.stepsFrom) return work(byName.get(c.stepsFrom)!);
    return c.mode === "standard" ? (c.positives ?? 1000) * (1 + (c.ratio ?? 10)) * (c.epochs ?? 10) : (c.iterations ?? 28) * 10_000;
  };
  // Controls never follow a control (checkControls), so the chain is at most two runs long.
  const chain = (c: BindingConfig): number =>
    work(c) + Math.max(0, ...configs.filter((d) => d.positivesFrom === c.name || d.stepsFrom === c.name).map(work));
  return configs.map((c, i) => ({ name: c.name, chain: chain(c), i })).sort((a, b) => b.chain - a.chain || a.i - b.i).map((c) => c.name);
}

/**
 * Checks the control configurations (positivesFrom, stepsFrom): standard, following a
 * configuration of the experiment that is not a control itself (positivesFrom: an iterative one
 * without CLASH), without the option they set. An InputError names the configuration.
 */
export function checkControls(configs: readonly BindingConfig[]): void {
  const byName = new Map(configs.map((c) => [c.name, c]));
  for (const c of configs) {
    for (const [field, from] of [["positivesFrom", c.positivesFrom], ["stepsFrom", c.stepsFrom]] as const) {
      if (from === undefined) continue;
      const source = byName.get(from);
      if (c.mode !== "standard") throw new InputError(`${c.name}: ${field} goes with mode "standard"`);
      if (!source) throw new InputError(`${c.name}: ${field} names '${from}', which is not a configuration of this experiment (${[...byName.keys()].join(", ")})`);
      if (source.positivesFrom || source.stepsFrom) throw new InputError(`${c.name}: ${field} names '${from}', itself a control`);
      if (field === "positivesFrom" && (source.mode !== "iterative" || source.withClash)) throw new InputError(`${c.name}: positivesFrom needs an iterative configuration without CLASH, '${from}' is not`);
    }
    if (c.positivesFrom && (c.positives !== undefined || c.withClash)) throw new InputError(`${c.name}: positivesFrom takes the positives; do not give positives or withClash`);
    if (c.stepsFrom && c.epochs !== undefined) throw new InputError(`${c.name}: stepsFrom sets the epochs; do not give epochs`);
  }
}

/**
 * A results table row per configuration (and published model / baseline): mean ± sd of AP and
 * ROC-AUC per test set. `labels` renames configurations for display (e.g. best → "iterative_improved + CLASH").
 */
export function bindingResultsTable(results: ExperimentResultsCommon, labels: Record<string, string> = {}): Record<string, string | number>[] {
  const sets = results.testSets.map((s) => s.name);
  const rows: Record<string, string | number>[] = [];
  const configs = [...new Set(results.summary.map((s) => s.config))];
  for (const config of configs) {
    const row: Record<string, string | number> = { model: labels[config] ?? config };
    const first = results.summary.find((s) => s.config === config)!;
    row["positives used"] = first.positivesUsed ? formatMeanSd(first.positivesUsed, 0) : "—";
    row["gradient steps"] = formatMeanSd(first.steps, 0);
    for (const set of sets) {
      const s = results.summary.find((r) => r.config === config && r.testSet === set)!;
      row[`${set} AP`] = formatMeanSd(s.averagePrecision);
      row[`${set} ROC-AUC`] = formatMeanSd(s.rocAuc);
    }
    rows.push(row);
  }
  for (const model of [...new Set(results.scores.filter((s) => s.seed === null).map((s) => s.model))]) {
    const row: Record<string, string | number> = { model: model === "seed-match" ? "seed-match baseline" : `published ${model}`, "positives used": "—", "gradient steps": "—" };
    for (const set of sets) {
      const s = results.scores.find((r) => r.model === model && r.testSet === set)!;
      row[`${set} AP`] = s.averagePrecision.toFixed(4);
      row[`${set} ROC-AUC`] = s.rocAuc.toFixed(4);
    }
    rows.push(row);
  }
  return rows;
}
