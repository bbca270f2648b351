/**
 * The deepMir classifier experiment (issue 5, spec hairpin.md §3): for each seed, trains the
 * VGG-style classifier on `modhsa_train` (no pre-training), then evaluates it on `modhsa_test`
 * and every other deepMir set whose images exist (accuracy, sensitivity, specificity, F1,
 * ROC-AUC; single-class sets: accuracy = sensitivity or specificity). modhsa_test is also
 * scored after every epoch, as the original's Keras `validation_data`, for the training curve
 * only: nothing is selected on it (the reported model is the last epoch's).
 *
 * The experiment itself is lib/src/hairpin/experiment.ts (the cvae_generate notebook runs it too);
 * this script is its command line.
 *
 * Run:  node --import tsx bench/hairpin-classifier.ts [--seeds 1,2,3] [--epochs 100]
 *         [--out out/hairpin-classifier] [--modules 2] [--dense-units 128] [--kernel-size 3]
 *         [--batch-size 128] [--max-train N] [--pretrain-epochs N]
 *         [--train-set modhsa_train] [--test-set modhsa_test]
 * With --pretrain-epochs N (> 0), each seed first trains N epochs on a pre-training set built
 * from the non-human images we have (positives: benchmark mmu, mmuplus, ggaplus, dreplus;
 * negatives: chen, shuffled), from which every image whose decoded hairpin shares a 25-nt
 * stretch with a modhsa_test hairpin is removed (leak guard; identical images included), then
 * balanced by seeded subsampling; then it trains `--epochs` on modhsa_train with a fresh Adam.
 * Writes DIR/results.json (options, backend, per-seed history and metrics, summary with mean ±
 * sd) and DIR/seed-S/{model/, checkpoint/}; an interrupted run resumes from the checkpoints.
 * Needs the data ($MIRNA_DL_DATA/premirna).
 */
import { parseArgs } from "node:util";
import { initBackend } from "../lib/src/ops/backend";
import { InputError } from "../lib/src/errors";
import { HairpinSetMetrics } from "../lib/src/hairpin/evaluate";
import { formatMeanSd, runHairpinClassifierExperiment } from "../lib/src/hairpin/experiment";

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
    "train-set": { type: "string", default: "modhsa_train" },
    "test-set": { type: "string", default: "modhsa_test" },
  },
});

async function main(): Promise<void> {
  await initBackend();
  const seeds = values.seeds!.split(",").map(Number);
  const results = await runHairpinClassifierExperiment({
    seeds,
    epochs: Number(values.epochs),
    outDir: values.out!,
    modules: Number(values.modules),
    denseUnits: Number(values["dense-units"]),
    kernelSize: Number(values["kernel-size"]),
    batchSize: Number(values["batch-size"]),
    maxTrain: values["max-train"] === undefined ? undefined : Number(values["max-train"]),
    pretrainEpochs: Number(values["pretrain-epochs"]),
    trainSet: values["train-set"],
    testSet: values["test-set"],
  });
  for (const s of results.perSeed) printTable(s.seed, s.metrics);
  console.log(`\nmean ± sd over seeds ${seeds.join(", ")} (${results.epochs} epochs, ${results.backend}):`);
  for (const s of results.summary) {
    console.log(`${String(s.name).padEnd(16)} n ${String(s.n).padStart(5)}  accuracy ${formatMeanSd(s.accuracy)}  ROC-AUC ${formatMeanSd(s.rocAuc)}`);
  }
  if (results.notHeldOut.length) console.log(`note: ${results.notHeldOut.join(", ")} were pre-training data: not held out`);
  console.log(`seconds per epoch: ${results.perSeed.map((s) => s.secondsPerEpoch.toFixed(1)).join(", ")}; results in ${values.out}/results.json`);
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
  // Bad input (missing data, unknown set) is a message, anything else a bug with its stack.
  process.stderr.write(`${e instanceof InputError ? `error: ${e.message}` : ((e as Error).stack ?? String(e))}\n`);
  process.exitCode = e instanceof InputError ? 2 : 1;
});
