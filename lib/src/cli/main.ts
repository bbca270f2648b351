#!/usr/bin/env node
import { parseArgs, ParseArgsConfig } from "node:util";
import pl from "nodejs-polars";
import { describeBackend, initBackend } from "../ops/backend";
import { isInputError } from "../errors";
import { hairpinCommand } from "./hairpin";
import { rankMetrics, thresholdMetrics } from "../metrics";
import { progressReporter } from "../progress";
import { openScorer, PairScorer } from "../binding/scorer";
import { readPairTable } from "../binding/tables";
import { writeTsv } from "../io/tsv";

const MAIN_HELP = `mirna-dl — miRNA–target binding models (CEITEC arch_00b) from the command line

Usage: mirna-dl <command> [options]

Commands:
  predict    score miRNA–site pairs in a table, write the table with a 'score' column
  evaluate   score a labelled table and report ROC-AUC, average precision and more
  hairpin    pre-miRNA hairpin images and classifier: hairpin encode | classify (mirna-dl hairpin --help)
  help       show help for a command (mirna-dl help predict)

Tables: tab-separated, .tsv or .tsv.gz, with a header, in the lock format
(mirna_binding_sequence, binding_sequence, label = positive/negative) or the miRBind format
(miRNA, gene, label = 1/0). miRNAs 20 nt (N-padded), sites 50 nt; U is read as T.
Models: a Keras .h5 file (the published CEITEC models), a folder saved by mirna-dl
(TensorFlow.js format), or 'seed' for the seed-match baseline (8mer 4 > 7mer-m8 3 > 7mer-A1 2 > 6mer 1 > none 0).

Environment: MIRNA_DL_BACKEND = node-gpu | node | wasm | cpu overrides the automatic choice.
Exit codes: 0 success, 2 bad input or usage, 1 unexpected failure.`;

const COMMON_OPTIONS = {
  model: { type: "string", short: "m" },
  input: { type: "string", short: "i" },
  "batch-size": { type: "string" },
  "fit-mirna": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const PREDICT_HELP = `Usage: mirna-dl predict --model PATH --input TSV [--output TSV] [options]

Scores every miRNA–site pair of the input table; writes the input columns plus 'score'
(probability of binding for networks, 0–4 for 'seed') to --output (.tsv or .tsv.gz, written
atomically) or to standard output.

Options:
  -m, --model PATH      Keras .h5 file, tfjs model folder, or 'seed'
  -i, --input TSV       table of pairs (lock or miRBind format; the label column is optional)
  -o, --output TSV      where to write (default: standard output)
      --batch-size N    samples per forward pass (default 256)
      --fit-mirna       pad miRNAs with N / cut them to 20 nt instead of rejecting other lengths
  -q, --quiet           no progress on standard error
  -h, --help            this help`;

const EVALUATE_HELP = `Usage: mirna-dl evaluate --model PATH --input TSV [--json] [options]

Scores a labelled table and reports n, positives, negatives, ROC-AUC (ties averaged), average
precision (step-wise, as scikit-learn), and precision / recall / F1 at --threshold.

Options:
  -m, --model PATH      Keras .h5 file, tfjs model folder, or 'seed'
  -i, --input TSV       labelled table (lock or miRBind format)
      --json            print one JSON object instead of a table
      --threshold X     call a pair positive when score ≥ X (default 0.5; 1 for 'seed' = 6mer or better)
      --batch-size N    samples per forward pass (default 256)
      --fit-mirna       pad miRNAs with N / cut them to 20 nt instead of rejecting other lengths
  -q, --quiet           no progress on standard error
  -h, --help            this help`;

class UsageError extends Error {}

function parse<T extends ParseArgsConfig["options"]>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function requireOption(value: string | undefined, name: string, help: string): string {
  if (!value) throw new UsageError(`missing --${name}\n\n${help}`);
  return value;
}

function positiveInteger(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

async function openWithBackend(modelSpec: string): Promise<{ scorer: PairScorer; backend: string }> {
  if (modelSpec === "seed" || modelSpec === "seed-match") return { scorer: await openScorer(modelSpec), backend: "none" };
  await initBackend(); // always names the backend on stderr; --quiet only silences progress
  return { scorer: await openScorer(modelSpec), backend: describeBackend() };
}

async function predictCommand(args: string[]): Promise<void> {
  const values = parse(args, { ...COMMON_OPTIONS, output: { type: "string", short: "o" } });
  if (values.help) return void console.log(PREDICT_HELP);
  const modelSpec = requireOption(values.model, "model", PREDICT_HELP);
  const input = requireOption(values.input, "input", PREDICT_HELP);
  const batchSize = positiveInteger(values["batch-size"], "batch-size", 256);
  const quiet = values.quiet ?? false;
  const table = await readPairTable(input, { fitMirna: values["fit-mirna"] });
  const { scorer } = await openWithBackend(modelSpec);
  const scores = await scorer.score(table.mirnas, table.sites, { batchSize, onProgress: progressReporter(`scoring with ${scorer.name}`, { quiet }) });
  scorer.dispose();
  const out = table.frame.withColumn(pl.Series("score", scores, pl.Float32));
  if (values.output) writeTsv(out, values.output);
  else process.stdout.write(out.writeCSV({ separator: "\t", includeHeader: true }) as Buffer);
}

async function evaluateCommand(args: string[]): Promise<void> {
  const values = parse(args, { ...COMMON_OPTIONS, json: { type: "boolean" }, threshold: { type: "string" } });
  if (values.help) return void console.log(EVALUATE_HELP);
  const modelSpec = requireOption(values.model, "model", EVALUATE_HELP);
  const input = requireOption(values.input, "input", EVALUATE_HELP);
  const batchSize = positiveInteger(values["batch-size"], "batch-size", 256);
  const quiet = values.quiet ?? false;
  const isSeed = modelSpec === "seed" || modelSpec === "seed-match";
  const threshold = values.threshold === undefined ? (isSeed ? 1 : 0.5) : Number(values.threshold);
  if (!Number.isFinite(threshold)) throw new UsageError(`--threshold must be a number, got '${values.threshold}'`);

  const started = performance.now();
  const table = await readPairTable(input, { requireLabels: true, fitMirna: values["fit-mirna"] });
  const { scorer, backend } = await openWithBackend(modelSpec);
  const scores = await scorer.score(table.mirnas, table.sites, { batchSize, onProgress: progressReporter(`scoring with ${scorer.name}`, { quiet }) });
  scorer.dispose();
  const labels = table.labels!;
  const rank = rankMetrics(labels, scores);
  const at = thresholdMetrics(labels, scores, threshold);
  const seconds = (performance.now() - started) / 1000;
  const report = {
    model: modelSpec,
    input,
    ...rank,
    threshold,
    precision: at.precision,
    recall: at.recall,
    f1: at.f1,
    accuracy: at.accuracy,
    backend,
    seconds: Number(seconds.toFixed(2)),
    firstScores: Array.from(scores.slice(0, 3), (s) => Number(s.toFixed(5))),
  };
  if (values.json) {
    console.log(JSON.stringify(report));
    return;
  }
  const rows: [string, string][] = [
    ["model", modelSpec], ["input", input], ["pairs", `${rank.n} (${rank.positives} positive, ${rank.negatives} negative)`],
    ["ROC-AUC", rank.rocAuc.toFixed(5)], ["average precision", rank.averagePrecision.toFixed(5)],
    [`precision @ ${threshold}`, at.precision.toFixed(4)], [`recall @ ${threshold}`, at.recall.toFixed(4)],
    [`F1 @ ${threshold}`, at.f1.toFixed(4)], [`accuracy @ ${threshold}`, at.accuracy.toFixed(4)],
    ["backend", backend], ["seconds", seconds.toFixed(1)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "predict":
        await predictCommand(rest);
        return 0;
      case "evaluate":
        await evaluateCommand(rest);
        return 0;
      case "hairpin":
        await hairpinCommand(rest);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h": {
        const topic = rest[0];
        console.log(topic === "predict" ? PREDICT_HELP : topic === "evaluate" ? EVALUATE_HELP : MAIN_HELP);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${command}'\n\n${MAIN_HELP}`);
    }
  } catch (e) {
    if (e instanceof UsageError || isInputError(e)) {
      process.stderr.write(`mirna-dl: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mirna-dl: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

