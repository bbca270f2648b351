/**
 * Benchmarks, in one run:
 *   (a) our encoder (encodeBindingMatrix), pairs/s on one core: 200,000 random seeded pairs into
 *       a preallocated buffer, best of 5; the implementation "auto" picks (the native C++ one when
 *       the addon is built) and, when that is native, the JS one too;
 *   (b) the NumPy reference encoder (bench/reference/encode_numpy.py --bench 200000, one core);
 *   (c) our arch_00b: inference samples/s at batch 256 and training samples/s at batch 32 on the
 *       backend initBackend() picks;
 *   (d) the PyTorch arch_00b (bench/reference/arch00b_torch.py bench, 2 threads);
 *   (e) our deepMir pre-miRNA classifier (lib/src/hairpin/classifier.ts): training samples/s at
 *       batch 128 (the paper's) and inference at batch 256, on random hairpin-like images;
 *   (f) the same classifier in PyTorch (bench/reference/deepmir_torch.py bench, 2 threads);
 *   (g) the whole `mirna-dl predict` command, end to end (a fresh process: start-up, reading the
 *       449,085-pair scan test set .tsv.gz, loading iterative.h5, encoding, scoring at batch 256,
 *       writing the scored table), pairs/s, beside (c)'s model-only inference rate of the same
 *       run; needs the data ($MIRNA_DL_DATA), else null with a reason.
 *   (h) the whole `mirna-dl scan` command, end to end (a fresh process): 100 miRNAs (TargetScan
 *       family representatives) × 10 targets of 5,000 nt (chr1 3'UTR sequence around scan-set
 *       sites), stride 1, iterative.h5, the seed prefilter on, top 3 sites per pair: wall and CPU
 *       seconds, peak memory, windows scored; the budget is 60 s. Needs the data.
 *
 * Run: npm run --silent bench -- [--json] [--seconds S] [--pairs N] [--no-python] [--parts LIST]
 * --parts a,c,g runs only those parts (letters above) and prints them, without writing
 * BENCHMARKS.md or bench/results/latest.json.
 * Progress goes to stderr, a table to stdout; with --json the last stdout line is one JSON object.
 * Also writes bench/results/latest.json and the table between the markers in BENCHMARKS.md.
 * Python: $MIRNA_DL_PYTHON, else the first of python3, /usr/bin/python3 that imports the needed
 * modules; when none does, the Python fields are null with a reason.
 */
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../lib/src/ops/backend";
import { loadNativeAddon } from "../lib/src/ops/native/addon";
import { replacedKernelNames } from "../lib/src/ops/native/nativeKernelUtil";
import { encodeBindingMatrix, encoderImplementation } from "../lib/src/binding/encoding";
import { buildDeepMirClassifier, DEEPMIR_TRAINING } from "../lib/src/hairpin/classifier";
import { compileModel, CompileSpec, disposeModel } from "../lib/src/ops/nn";
import { writeFileAtomic } from "../lib/src/io/files";
import { ARCH00B_TRAINING, buildArch00b } from "../lib/src/binding/arch00b";
import { publishedModelPath, testSetPath } from "../lib/src/binding/paths";
import { dataPath } from "../lib/src/data/paths";
import { readFasta } from "../lib/src/io/fasta";
import { readTsvTable } from "../lib/src/io/tsv";
import { mulberry32, randomSequence } from "../lib/src/random";

const REPO_ROOT = path.resolve(__dirname, "..");
const RESULTS_FILE = path.join(REPO_ROOT, "bench", "results", "latest.json");
const BENCHMARKS_MD = path.join(REPO_ROOT, "BENCHMARKS.md");
const START_MARKER = "<!-- bench:start -->";
const END_MARKER = "<!-- bench:end -->";
const SEED = 1789;
/** Encoder timing: best of this many runs, the same for ours and NumPy (the first run pays for JIT warm-up and page faults). */
const ENCODER_REPEATS = 5;
const SITE_LENGTH = 50;
const MIRNA_LENGTH = 20;

interface Options {
  json: boolean;
  /** Timed seconds per model measurement (ours and PyTorch), after warm-up. */
  seconds: number;
  /** Pairs for the encoder benchmarks. */
  pairs: number;
  python: boolean;
  /** Parts to run (letters a–g); all when null. */
  parts: Set<string> | null;
}

const ALL_PARTS = ["a", "b", "c", "d", "e", "f", "g", "h"];

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { json: false, seconds: 10, pairs: 200_000, python: true, parts: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${arg} needs a positive number, got '${argv[i] ?? ""}'`);
      return v;
    };
    if (arg === "--json") options.json = true;
    else if (arg === "--seconds") options.seconds = value();
    else if (arg === "--pairs") options.pairs = Math.round(value());
    else if (arg === "--no-python") options.python = false;
    else if (arg === "--parts") {
      const list = (argv[++i] ?? "").split(",").map((p) => p.trim()).filter(Boolean);
      if (list.length === 0 || list.some((p) => !ALL_PARTS.includes(p))) throw new Error(`--parts takes letters of ${ALL_PARTS.join(", ")}, got '${argv[i] ?? ""}'`);
      options.parts = new Set(list);
    } else if (arg === "--help" || arg === "-h") {
      process.stdout.write("usage: npm run --silent bench -- [--json] [--seconds S=10] [--pairs N=200000] [--no-python] [--parts a,b,…,h]\n");
      process.exit(0);
    } else throw new Error(`unknown option '${arg}' (try --help)`);
  }
  return options;
}

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);


/** n random ACGT strings of `length` nt. */
function randomSequences(n: number, length: number, random: () => number): string[] {
  return Array.from({ length: n }, () => randomSequence(random, length));
}

/** (a) Encoder throughput: best of `repeats`, every pair a different random miRNA (like the NumPy bench). */
function benchEncoder(pairs: number, implementation: "native" | "js", repeats = ENCODER_REPEATS): { pairs_per_s: number; seconds: number } {
  const random = mulberry32(SEED);
  const mirnas = randomSequences(pairs, MIRNA_LENGTH, random);
  const sites = randomSequences(pairs, SITE_LENGTH, random);
  const buffer = new Float32Array(pairs * SITE_LENGTH * MIRNA_LENGTH);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    encodeBindingMatrix(mirnas, sites, { out: buffer, implementation });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.min(best, seconds);
    progress(`encoder (${implementation}) run ${r + 1}/${repeats}: ${(pairs / seconds).toFixed(0)} pairs/s`);
  }
  let ones = 0;
  for (let i = 0; i < buffer.length; i++) ones += buffer[i]!;
  // Random ACGT pairs: one cell in four pairs. A wrong encoder should not look fast.
  const expected = buffer.length / 4;
  if (Math.abs(ones - expected) > 0.01 * expected) {
    throw new Error(`encoder sanity check failed: ${ones} ones, expected about ${expected}`);
  }
  return { pairs_per_s: pairs / best, seconds: best };
}

/** Repeats `step` for at least `seconds` (and 3 steps); returns steps and elapsed seconds. */
async function timedLoop(step: () => Promise<void>, seconds: number): Promise<{ steps: number; elapsed: number }> {
  const start = performance.now();
  let steps = 0;
  for (;;) {
    await step();
    steps++;
    const elapsed = (performance.now() - start) / 1000;
    if (steps >= 3 && elapsed >= seconds) return { steps, elapsed };
  }
}

/** Random binary matrices [n, 50, 20, 1] (a quarter ones, like real binding matrices) and 0/1 labels [n, 1]. */
function randomBatch(n: number, random: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const values = new Float32Array(n * SITE_LENGTH * MIRNA_LENGTH);
  for (let i = 0; i < values.length; i++) values[i] = random() < 0.25 ? 1 : 0;
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) labels[i] = random() < 0.5 ? 1 : 0;
  return { x: tf.tensor4d(values, [n, SITE_LENGTH, MIRNA_LENGTH, 1]), y: tf.tensor2d(labels, [n, 1]) };
}

/** A batch of model inputs and labels. */
interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * Inference samples/s on `predictData` and training samples/s (trainOnBatch, cycling through
 * `trainData`), each after a warm-up and timed for `seconds`. Disposes the data and the model
 * (with its optimizer's slots).
 */
async function timeTrainingAndInference(label: string, model: tf.LayersModel, training: CompileSpec, trainData: Batch[], predictData: Batch, seconds: number) {
  compileModel(model, training);
  const predictBatch = predictData.x.shape[0]!;
  const trainBatch = trainData[0]!.x.shape[0]!;
  const predictStep = async () => {
    const out = model.predict(predictData.x, { batchSize: predictBatch }) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  await predictStep(); // warm-up (kernel compilation, weight upload)
  progress(`${label} predict: timing ${seconds}s at batch ${predictBatch}`);
  const predicted = await timedLoop(predictStep, seconds);

  let next = 0;
  const trainStep = async () => {
    const { x, y } = trainData[next++ % trainData.length]!;
    await model.trainOnBatch(x, y);
  };
  await trainStep(); // warm-up
  await trainStep();
  progress(`${label} train: timing ${seconds}s at batch ${trainBatch}`);
  const trained = await timedLoop(trainStep, seconds);

  for (const d of [predictData, ...trainData]) tf.dispose([d.x, d.y]);
  disposeModel(model);
  return {
    predict_samples_per_s: (predicted.steps * predictBatch) / predicted.elapsed,
    train_samples_per_s: (trained.steps * trainBatch) / trained.elapsed,
    predict_batch: predictBatch,
    train_batch: trainBatch,
  };
}

/** (c) Our arch_00b: predict samples/s at batch `predictBatch`, training samples/s at batch `trainBatch`. */
async function benchModel(seconds: number, predictBatch = 256, trainBatch = 32) {
  const random = mulberry32(SEED + 1);
  const predictData = randomBatch(predictBatch, random);
  const trainData = Array.from({ length: 8 }, () => randomBatch(trainBatch, random));
  return timeTrainingAndInference("arch_00b", buildArch00b({ seed: SEED }), ARCH00B_TRAINING, trainData, predictData, seconds);
}

/** Random hairpin-like images [n, 25, 100, 3] in [0, 1] (the six colours of the encoding, mostly white) and one-hot labels [n, 2]. */
function randomHairpinBatch(n: number, random: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const palette = [[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 0]];
  const values = new Float32Array(n * 25 * 100 * 3);
  for (let p = 0; p < n * 25 * 100; p++) {
    const colour = palette[random() < 0.7 ? 0 : 1 + Math.floor(random() * 5)]!;
    values.set(colour, p * 3);
  }
  const labels = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) labels[i * 2 + (random() < 0.5 ? 1 : 0)] = 1;
  return { x: tf.tensor4d(values, [n, 25, 100, 3]), y: tf.tensor2d(labels, [n, 2]) };
}

/** (e) Our deepMir classifier: training samples/s at batch `trainBatch`, predict samples/s at `predictBatch`. */
async function benchDeepMir(seconds: number, predictBatch = 256, trainBatch = 128) {
  const random = mulberry32(SEED + 2);
  const trainData = Array.from({ length: 4 }, () => randomHairpinBatch(trainBatch, random));
  const predictData = randomHairpinBatch(predictBatch, random);
  const timed = await timeTrainingAndInference("deepMir", buildDeepMirClassifier({ seed: SEED }), DEEPMIR_TRAINING, trainData, predictData, seconds);
  return {
    deepmir_train_samples_per_s: timed.train_samples_per_s,
    deepmir_predict_samples_per_s: timed.predict_samples_per_s,
    deepmir_train_batch: timed.train_batch,
    deepmir_predict_batch: timed.predict_batch,
  };
}

/** Pairs of the scan test set (the end-to-end row's input). */
const SCAN_PAIRS = 449_085;

/**
 * Runs the mirna-dl CLI from the sources (`args` after `main.ts`) in its own process, under
 * /usr/bin/time when present (stderr then ends with "mirna-dl-bench-cpu USER SYS MAXRSS_KB"),
 * with the bench's thread count; returns the result and the wall time in seconds.
 */
function timeCliRun(args: readonly string[]): { run: SpawnSyncReturns<string>; seconds: number } {
  const cliArgs = ["--import", "tsx", path.join(REPO_ROOT, "lib", "src", "cli", "main.ts"), ...args];
  const timeBinary = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
  const [command, commandArgs] = timeBinary ? [timeBinary, ["-f", "mirna-dl-bench-cpu %U %S %M", process.execPath, ...cliArgs]] : [process.execPath, cliArgs];
  const started = performance.now();
  const run = spawnSync(command, commandArgs, {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: String(BENCH_THREADS), MIRNA_DL_BACKEND: process.env.MIRNA_DL_BACKEND ?? "" },
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 3_600_000,
  });
  return { run, seconds: (performance.now() - started) / 1000 };
}

/**
 * (g) The whole `mirna-dl predict` command in a fresh process (from the sources through tsx, as
 * the tests run it), on the scan test set with iterative.h5, `BENCH_THREADS` threads: pairs/s
 * from the wall time, and the child's user / system CPU seconds (from /usr/bin/time when there).
 */
function benchPredictCli(): { pairs_per_s: number; seconds: number; user_s: number | null; system_s: number | null } | { reason: string } {
  const model = publishedModelPath("iterative");
  const input = testSetPath("scan");
  const missing = [model, input].filter((f) => !fs.existsSync(f));
  if (missing.length) return { reason: `data not found: ${missing.join(", ")} (set MIRNA_DL_DATA)` };
  const out = path.join(os.tmpdir(), `mirna-dl-bench-${process.pid}.tsv`);
  progress(`(g) mirna-dl predict end to end: ${SCAN_PAIRS.toLocaleString("en-US")} pairs, ${path.basename(model)}`);
  const { run, seconds } = timeCliRun(["predict", "--model", model, "--input", input, "--output", out, "--batch-size", "256", "-q"]);
  try {
    if (run.error) return { reason: `mirna-dl predict: ${run.error.message}` };
    if (run.status !== 0) return { reason: `mirna-dl predict exited with ${run.status}: ${run.stderr.trim().split("\n").pop() ?? ""}` };
    const lines = fs.readFileSync(out, "utf8").split("\n").length - 2;
    if (lines !== SCAN_PAIRS) return { reason: `mirna-dl predict wrote ${lines} rows, expected ${SCAN_PAIRS}` };
  } finally {
    fs.rmSync(out, { force: true });
  }
  const cpu = /mirna-dl-bench-cpu ([\d.]+) ([\d.]+)/.exec(run.stderr);
  return { pairs_per_s: SCAN_PAIRS / seconds, seconds, user_s: cpu ? Number(cpu[1]) : null, system_s: cpu ? Number(cpu[2]) : null };
}

/** (h) The scan benchmark's size: miRNAs × targets of TARGET_LENGTH nt, stride 1. */
const SCAN_MIRNAS = 100;
const SCAN_TARGETS = 10;
const SCAN_TARGET_LENGTH = 5_000;
/** The budget for (h), seconds. */
const SCAN_BUDGET_S = 60;

interface ScanCliResult {
  seconds: number;
  user_s: number | null;
  system_s: number | null;
  max_rss_mb: number | null;
  windows: number;
  scored: number;
  rows: number;
  sites: number;
}

/**
 * (h) `mirna-dl scan` in a fresh process, as a user runs it. Inputs (written to a temporary
 * folder): SCAN_MIRNAS miRNAs drawn (seeded) from the TargetScan family representatives
 * (tarbased.sanified.fasta, 20–24 nt), and SCAN_TARGETS targets of SCAN_TARGET_LENGTH nt, each
 * the 1,050-nt chr1 regions of five scan-test-set positives (their 21 windows: 10 flanking, the
 * site, 10 flanking) joined and cut: real 3'UTR composition. Timed from spawn to exit.
 */
function benchScanCli(): ScanCliResult | { reason: string } {
  const model = publishedModelPath("iterative");
  const scanSet = testSetPath("scan");
  const families = dataPath("mirna_binding", "data", "reference", "tarbased.sanified.fasta");
  const missing = [model, scanSet, families].filter((f) => !fs.existsSync(f));
  if (missing.length) return { reason: `data not found: ${missing.join(", ")} (set MIRNA_DL_DATA)` };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mirna-dl-bench-scan-"));
  try {
    const random = mulberry32(SEED);
    const records = readFasta(families);
    const order = records.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const mirnas = path.join(work, "mirnas.fa");
    fs.writeFileSync(mirnas, order.slice(0, SCAN_MIRNAS).map((i) => `>${records[i]!.name}\n${records[i]!.sequence}\n`).join(""));
    // The scan set: positives 0–21,384, then 20 negatives per positive (preprocessing step 7).
    const sites = readTsvTable(scanSet).columns[1]!;
    const positives = 21_385;
    let fasta = "";
    for (let t = 0; t < SCAN_TARGETS; t++) {
      let sequence = "";
      for (let b = 0; sequence.length < SCAN_TARGET_LENGTH; b++) {
        const k = (t * 5 + b) * 401; // spread over chr1
        const flanks = Array.from({ length: 20 }, (_, i) => sites[positives + 20 * k + i]!);
        sequence += flanks.slice(0, 10).join("") + sites[k]! + flanks.slice(10).join("");
      }
      fasta += `>utr${t + 1}\n${sequence.slice(0, SCAN_TARGET_LENGTH).replace(/(.{60})/g, "$1\n")}\n`;
    }
    const targets = path.join(work, "utrs.fa");
    fs.writeFileSync(targets, fasta);
    const windowsOut = path.join(work, "windows.tsv");
    const topOut = path.join(work, "top.tsv");
    progress(`(h) mirna-dl scan end to end: ${SCAN_MIRNAS} miRNAs × ${SCAN_TARGETS} targets × ${SCAN_TARGET_LENGTH.toLocaleString("en-US")} nt, stride 1, ${path.basename(model)}`);
    const { run, seconds } = timeCliRun(["scan", "--model", model, "--mirnas", mirnas, "--targets", targets, "--output", windowsOut, "--top-output", topOut, "--top", "3"]);
    if (run.error) return { reason: `mirna-dl scan: ${run.error.message}` };
    if (run.status !== 0) return { reason: `mirna-dl scan exited with ${run.status}: ${run.stderr.trim().split("\n").pop() ?? ""}` };
    const number = (pattern: RegExp) => Number((pattern.exec(run.stderr)?.[1] ?? "NaN").replace(/,/g, ""));
    const windows = number(/: ([\d,]+) windows at stride 1/);
    const scored = number(/scored ([\d,]+) windows/);
    const expectedWindows = SCAN_MIRNAS * SCAN_TARGETS * (SCAN_TARGET_LENGTH - 49);
    if (windows !== expectedWindows) return { reason: `mirna-dl scan reported ${windows} windows, expected ${expectedWindows}` };
    const rows = fs.readFileSync(windowsOut, "utf8").split("\n").length - 2;
    const topRows = fs.readFileSync(topOut, "utf8").split("\n").length - 2;
    const cpu = /mirna-dl-bench-cpu ([\d.]+) ([\d.]+) (\d+)/.exec(run.stderr);
    return {
      seconds, user_s: cpu ? Number(cpu[1]) : null, system_s: cpu ? Number(cpu[2]) : null, max_rss_mb: cpu ? Math.round(Number(cpu[3]) / 1024) : null,
      windows, scored, rows, sites: topRows,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The first Python interpreter that imports `modules`, or a reason why there is none. */
function findPython(modules: readonly string[]): { python: string } | { reason: string } {
  const candidates = process.env.MIRNA_DL_PYTHON ? [process.env.MIRNA_DL_PYTHON] : ["python3", "/usr/bin/python3"];
  const failures: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", `import ${modules.join(", ")}`], { encoding: "utf8", timeout: 60_000 });
    if (probe.status === 0) return { python };
    const why = probe.error ? probe.error.message : (probe.stderr.trim().split("\n").pop() ?? `exit ${probe.status}`);
    failures.push(`${python}: ${why}`);
  }
  return { reason: `no Python with ${modules.join(", ")} (${failures.join("; ")})` };
}

/** Runs a reference script; returns its last stdout line parsed as JSON, or a reason. */
function runPythonJson(python: string, args: readonly string[], timeoutMs: number): { value: Record<string, unknown> } | { reason: string } {
  const run = spawnSync(python, args, {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.error) return { reason: `${python} ${args.join(" ")}: ${run.error.message}` };
  if (run.status !== 0) return { reason: `${python} ${args.join(" ")} exited with ${run.status}` };
  const last = run.stdout.trim().split("\n").pop() ?? "";
  try {
    return { value: JSON.parse(last) as Record<string, unknown> };
  } catch {
    return { reason: `${python} ${args.join(" ")} printed no JSON (last line: '${last.slice(0, 200)}')` };
  }
}

/** Null-safe number from a JSON object. */
function numberField(value: Record<string, unknown> | undefined, key: string): number | null {
  const v = value?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function readTfjsVersion(): string {
  try {
    const pkg = require.resolve("@tensorflow/tfjs/package.json", { paths: [path.join(REPO_ROOT, "lib"), REPO_ROOT] });
    return (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {
    return tf.version.tfjs;
  }
}

/** Threads for our backend (where it can use them) and for PyTorch. */
const BENCH_THREADS = 2;

/** OpenMP threads of the native kernels. */
function nativeThreads(): number | null {
  const load = loadNativeAddon();
  return load.ok ? load.addon.getThreads() : null;
}

type Results = Record<string, unknown> & {
  backend: string;
  encode_pairs_per_s: number | null;
  numpy_encode_pairs_per_s: number | null;
  predict_samples_per_s: number | null;
  train_samples_per_s: number | null;
  pytorch_train_samples_per_s: number | null;
  pytorch_predict_samples_per_s: number | null;
};

const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? "n/a" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | null, b: number | null): string => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");
const percent = (a: number | null | undefined, b: number | null | undefined): string =>
  a !== null && a !== undefined && b !== null && b !== undefined && b > 0 ? `${((100 * a) / b).toFixed(0)}% of model-only` : "n/a";

/** Markdown table of one run (used on stdout and in BENCHMARKS.md). */
function markdownTable(r: Results): string {
  const torchWhy = r.pytorch_train_samples_per_s === null ? ` (${String(r.pytorch_reason ?? "not run")})` : "";
  const deepMirWhy = r.pytorch_deepmir_train_samples_per_s === null ? ` (${String(r.pytorch_deepmir_reason ?? "not run")})` : "";
  const numpyWhy = r.numpy_encode_pairs_per_s === null ? ` (${String(r.numpy_reason ?? "not run")})` : "";
  const cliDetail = r.predict_cli_pairs_per_s === null || r.predict_cli_pairs_per_s === undefined
    ? String(r.predict_cli_reason ?? "not run")
    : `${fmt(r.predict_cli_seconds as number, 1)} s${r.predict_cli_user_s !== null && r.predict_cli_user_s !== undefined ? `, CPU ${fmt(r.predict_cli_user_s as number, 1)} s user + ${fmt(r.predict_cli_system_s as number, 1)} s system` : ""}`;
  const lines = [
    `Measured ${String(r.date)} on ${String(r.cpu_model)} (${String(r.cores)} cores), Node ${String(r.node_version)}, ` +
      `tfjs ${String(r.tfjs_version)} backend \`${r.backend}\`, PyTorch ${String(r.torch_version ?? "n/a")}, NumPy ${String(r.numpy_version ?? "n/a")}` +
      `${Array.isArray(r.load_average) ? `; load average at the end ${(r.load_average as number[]).join(" / ")} (1 / 5 / 15 min)` : ""}.`,
    "",
    "| measurement | ours (TypeScript) | reference (Python) | ours / reference |",
    "|---|---:|---:|---:|",
    `| encode binding matrices, pairs/s, 1 core (${fmt(r.encode_pairs as number)} random pairs, best of ${ENCODER_REPEATS}; ${String(r.encode_implementation)} encoder) | ${fmt(r.encode_pairs_per_s)} | ${fmt(r.numpy_encode_pairs_per_s)} (NumPy)${numpyWhy} | ${ratio(r.encode_pairs_per_s, r.numpy_encode_pairs_per_s)} |`,
    ...(r.encode_implementation === "js" ? [] : [
      `| same, JS encoder (the fallback without the addon) | ${fmt(r.js_encode_pairs_per_s as number)} | ${fmt(r.numpy_encode_pairs_per_s)} (NumPy) | ${ratio(r.js_encode_pairs_per_s as number, r.numpy_encode_pairs_per_s)} |`,
    ]),
    `| arch_00b inference, samples/s, batch ${String(r.predict_batch)} | ${fmt(r.predict_samples_per_s)} | ${fmt(r.pytorch_predict_samples_per_s)} (PyTorch, ${String(r.pytorch_threads ?? "n/a")} threads)${torchWhy} | ${ratio(r.predict_samples_per_s, r.pytorch_predict_samples_per_s)} |`,
    `| arch_00b training, samples/s, batch ${String(r.train_batch)} | ${fmt(r.train_samples_per_s)} | ${fmt(r.pytorch_train_samples_per_s)} (PyTorch, ${String(r.pytorch_threads ?? "n/a")} threads)${torchWhy} | ${ratio(r.train_samples_per_s, r.pytorch_train_samples_per_s)} |`,
    `| deepMir classifier inference, images/s, batch ${String(r.deepmir_predict_batch)} | ${fmt(r.deepmir_predict_samples_per_s as number)} | ${fmt(r.pytorch_deepmir_predict_samples_per_s as number | null)} (PyTorch)${deepMirWhy} | ${ratio(r.deepmir_predict_samples_per_s as number, r.pytorch_deepmir_predict_samples_per_s as number | null)} |`,
    `| deepMir classifier training, images/s, batch ${String(r.deepmir_train_batch)} | ${fmt(r.deepmir_train_samples_per_s as number)} | ${fmt(r.pytorch_deepmir_train_samples_per_s as number | null)} (PyTorch)${deepMirWhy} | ${ratio(r.deepmir_train_samples_per_s as number, r.pytorch_deepmir_train_samples_per_s as number | null)} |`,
    `| predict CLI, 449,085 pairs, pairs/s (\`mirna-dl predict\` end to end: start-up, read .tsv.gz, load iterative.h5, encode, score at batch 256, write; ${cliDetail}) | ${fmt(r.predict_cli_pairs_per_s as number | null)} | ${fmt(r.predict_samples_per_s)} (ours, model-only inference above) | ${percent(r.predict_cli_pairs_per_s as number | null, r.predict_samples_per_s)} |`,
    scanRow(r),
  ];
  return lines.join("\n");
}

/** The (h) row: `mirna-dl scan` wall seconds against its budget. */
function scanRow(r: Results): string {
  const size = `${SCAN_MIRNAS} miRNAs × ${SCAN_TARGETS} targets × ${fmt(SCAN_TARGET_LENGTH)} nt, stride 1`;
  if (r.scan_cli_seconds === null || r.scan_cli_seconds === undefined) {
    return `| scan CLI, seconds (\`mirna-dl scan\` end to end, ${size}; ${String(r.scan_cli_reason ?? "not run")}) | n/a | ${SCAN_BUDGET_S} (budget) | n/a |`;
  }
  const windows = r.scan_cli_windows as number;
  const scored = r.scan_cli_scored as number;
  const cpu = r.scan_cli_user_s === null ? "" : `, CPU ${fmt(r.scan_cli_user_s as number, 1)} s user + ${fmt(r.scan_cli_system_s as number, 1)} s system, peak RSS ${fmt(r.scan_cli_max_rss_mb as number)} MB`;
  return `| scan CLI, seconds (\`mirna-dl scan\` end to end, ${size}, iterative.h5: ${fmt(windows)} windows, seed prefilter scored ${fmt(scored)} = ${((100 * scored) / windows).toFixed(1)}%, ${fmt(r.scan_cli_rows as number)} rows ≥ 0.5, top 3 sites per pair${cpu}) | ${fmt(r.scan_cli_seconds as number, 1)} | ${SCAN_BUDGET_S} (budget) | ${((100 * (r.scan_cli_seconds as number)) / SCAN_BUDGET_S).toFixed(0)}% of budget |`;
}

/** Replaces the text between the bench markers in BENCHMARKS.md (appends a section when absent), atomically. */
function updateBenchmarksMd(table: string): void {
  const block = `${START_MARKER}\n${table}\n${END_MARKER}`;
  const current = fs.existsSync(BENCHMARKS_MD) ? fs.readFileSync(BENCHMARKS_MD, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(START_MARKER);
  const end = current.indexOf(END_MARKER);
  const updated = start >= 0 && end > start
    ? current.slice(0, start) + block + current.slice(end + END_MARKER.length)
    : `${current.trimEnd()}\n\n## Latest run\n\n${block}\n`;
  writeFileAtomic(BENCHMARKS_MD, updated);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const want = (part: string) => options.parts === null || options.parts.has(part);
  const began = performance.now();
  const cpus = os.cpus();
  const skipped = "skipped (--parts)";

  const encoderKind = encoderImplementation();
  let encoder: { pairs_per_s: number } | null = null;
  let jsEncoder: { pairs_per_s: number } | null = null;
  if (want("a")) {
    progress(`(a) our encoder (${encoderKind}): ${options.pairs} pairs, best of ${ENCODER_REPEATS}`);
    encoder = benchEncoder(options.pairs, encoderKind);
    jsEncoder = encoderKind === "js" ? encoder : benchEncoder(options.pairs, "js");
  }

  let numpy: Record<string, unknown> | undefined;
  let numpyReason: string | null = want("b") ? null : skipped;
  let torch: Record<string, unknown> | undefined;
  let torchReason: string | null = want("d") ? null : skipped;
  let numpyPython: string | null = null;
  let torchPython: string | null = null;
  if (!options.python) {
    numpyReason = torchReason = "skipped (--no-python)";
  } else if (want("b")) {
    progress(`(b) NumPy reference encoder: ${options.pairs} pairs`);
    const found = findPython(["numpy"]);
    if ("reason" in found) numpyReason = found.reason;
    else {
      numpyPython = found.python;
      const run = runPythonJson(found.python, ["bench/reference/encode_numpy.py", "--bench", String(options.pairs), "--seed", String(SEED), "--repeats", String(ENCODER_REPEATS)], 300_000);
      if ("reason" in run) numpyReason = run.reason;
      else numpy = run.value;
    }
  }

  // 2 threads, as the PyTorch comparator (used by the native backend's kernels).
  const backend = await initBackend({ threads: BENCH_THREADS });
  let ours: Awaited<ReturnType<typeof benchModel>> | null = null;
  if (want("c")) {
    progress(`(c) our arch_00b on backend '${backend}'`);
    ours = await benchModel(options.seconds);
  }

  if (options.python && (want("d") || want("f"))) {
    const found = findPython(["torch", "numpy", "h5py"]);
    if ("reason" in found) torchReason = found.reason;
    else torchPython = found.python;
  }
  if (options.python && want("d") && torchPython !== null) {
    progress(`(d) PyTorch arch_00b, 2 threads, ${options.seconds}s per phase`);
    const run = runPythonJson(torchPython, [
      "bench/reference/arch00b_torch.py", "bench", "--threads", String(BENCH_THREADS), "--train-batch", "32",
      "--predict-batch", "256", "--seconds", String(options.seconds), "--seed", String(SEED),
    ], 600_000);
    if ("reason" in run) torchReason = run.reason;
    else torch = run.value;
  }

  let oursDeepMir: Awaited<ReturnType<typeof benchDeepMir>> | null = null;
  if (want("e")) {
    progress(`(e) our deepMir classifier on backend '${backend}'`);
    oursDeepMir = await benchDeepMir(options.seconds);
  }
  let torchDeepMir: Record<string, unknown> | undefined;
  let torchDeepMirReason: string | null = !options.python ? "skipped (--no-python)" : want("f") ? null : skipped;
  if (options.python && want("f") && torchPython !== null) {
    progress(`(f) PyTorch deepMir classifier, 2 threads, ${options.seconds}s per phase`);
    const run = runPythonJson(torchPython, [
      "bench/reference/deepmir_torch.py", "bench", "--threads", String(BENCH_THREADS), "--train-batch", "128",
      "--predict-batch", "256", "--seconds", String(options.seconds), "--seed", String(SEED),
    ], 600_000);
    if ("reason" in run) torchDeepMirReason = run.reason;
    else torchDeepMir = run.value;
  } else if (options.python && want("f")) {
    torchDeepMirReason = torchReason;
  }

  const cli = want("g") ? benchPredictCli() : { reason: skipped };
  const scan = want("h") ? benchScanCli() : { reason: skipped };

  const results: Results = {
    backend,
    encode_pairs_per_s: encoder?.pairs_per_s ?? null,
    encode_implementation: encoderKind,
    js_encode_pairs_per_s: jsEncoder?.pairs_per_s ?? null,
    numpy_encode_pairs_per_s: numberField(numpy, "pairs_per_s"),
    predict_samples_per_s: ours?.predict_samples_per_s ?? null,
    train_samples_per_s: ours?.train_samples_per_s ?? null,
    pytorch_train_samples_per_s: numberField(torch, "pytorch_train_samples_per_s"),
    pytorch_predict_samples_per_s: numberField(torch, "pytorch_predict_samples_per_s"),
    deepmir_train_samples_per_s: oursDeepMir?.deepmir_train_samples_per_s ?? null,
    deepmir_predict_samples_per_s: oursDeepMir?.deepmir_predict_samples_per_s ?? null,
    deepmir_train_batch: oursDeepMir?.deepmir_train_batch ?? 128,
    deepmir_predict_batch: oursDeepMir?.deepmir_predict_batch ?? 256,
    pytorch_deepmir_train_samples_per_s: numberField(torchDeepMir, "pytorch_train_samples_per_s"),
    pytorch_deepmir_predict_samples_per_s: numberField(torchDeepMir, "pytorch_predict_samples_per_s"),
    pytorch_deepmir_reason: torchDeepMirReason,
    predict_cli_pairs_per_s: "reason" in cli ? null : cli.pairs_per_s,
    predict_cli_seconds: "reason" in cli ? null : cli.seconds,
    predict_cli_user_s: "reason" in cli ? null : cli.user_s,
    predict_cli_system_s: "reason" in cli ? null : cli.system_s,
    predict_cli_pairs: SCAN_PAIRS,
    predict_cli_reason: "reason" in cli ? cli.reason : null,
    predict_cli_fraction_of_model: "reason" in cli || !ours ? null : cli.pairs_per_s / ours.predict_samples_per_s,
    scan_cli_seconds: "reason" in scan ? null : scan.seconds,
    scan_cli_user_s: "reason" in scan ? null : scan.user_s,
    scan_cli_system_s: "reason" in scan ? null : scan.system_s,
    scan_cli_max_rss_mb: "reason" in scan ? null : scan.max_rss_mb,
    scan_cli_windows: "reason" in scan ? null : scan.windows,
    scan_cli_scored: "reason" in scan ? null : scan.scored,
    scan_cli_rows: "reason" in scan ? null : scan.rows,
    scan_cli_sites: "reason" in scan ? null : scan.sites,
    scan_cli_reason: "reason" in scan ? scan.reason : null,
    encode_pairs: options.pairs,
    predict_batch: ours?.predict_batch ?? 256,
    train_batch: ours?.train_batch ?? 32,
    seconds_per_phase: options.seconds,
    pytorch_threads: numberField(torch, "threads"),
    numpy_reason: numpyReason,
    pytorch_reason: torchReason,
    numpy_python: numpyPython,
    pytorch_python: torchPython,
    torch_version: (torch?.torch_version as string | undefined) ?? null,
    numpy_version: (numpy?.numpy_version as string | undefined) ?? null,
    tfjs_version: readTfjsVersion(),
    backend_detail: describeBackend(),
    threads: backend === "native" ? nativeThreads() : null,
    native_kernels: backend === "native" ? replacedKernelNames() : [],
    cpu_model: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
    total_memory_gb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node_version: process.version,
    date: new Date().toISOString(),
    total_seconds: 0,
  };
  results.total_seconds = Math.round((performance.now() - began) / 100) / 10;

  const table = markdownTable(results);
  if (options.parts === null) {
    writeFileAtomic(RESULTS_FILE, JSON.stringify(results, null, 2) + "\n");
    updateBenchmarksMd(table);
    progress(`done in ${results.total_seconds}s; wrote ${path.relative(REPO_ROOT, RESULTS_FILE)} and BENCHMARKS.md`);
  } else {
    progress(`done in ${results.total_seconds}s (parts ${[...options.parts].join(",")}: BENCHMARKS.md not updated)`);
  }
  process.stdout.write(table + "\n");
  if (options.json) process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
