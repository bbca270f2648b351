import pl from "nodejs-polars";
import { describeBackend, initBackend } from "../ops/backend";
import { rankMetrics, thresholdMetrics } from "../metrics";
import { progressReporter } from "../progress";
import { openScorer, PairScorer } from "../binding/scorer";
import { readPairTable } from "../binding/tables";
import { writeTsv } from "../io/tsv";
import { defineCommand, finiteNumber, flag, option, positiveInteger } from "./args";

/** `mirna-dl predict` and `mirna-dl evaluate`: miRNA–site pairs scored by a network or the seed baseline. */

/** Options every binding command takes. */
const SCORING_OPTIONS = {
  model: option({ short: "m", arg: "PATH", required: true, help: "Keras .h5 file, tfjs model folder, or 'seed'" }),
  input: option({ short: "i", arg: "TSV", required: true, help: "table of pairs (lock or miRBind format; the label column is optional)" }),
  "batch-size": option({ arg: "N", parse: positiveInteger, default: 256, help: "samples per forward pass" }),
  "fit-mirna": flag("pad miRNAs with N / cut them to 20 nt instead of rejecting other lengths"),
  quiet: flag("no progress on standard error", { short: "q" }),
};

function isSeedModel(spec: string): boolean {
  return spec === "seed" || spec === "seed-match";
}

async function openWithBackend(modelSpec: string): Promise<{ scorer: PairScorer; backend: string }> {
  if (isSeedModel(modelSpec)) return { scorer: await openScorer(modelSpec), backend: "none" };
  await initBackend(); // always names the backend on stderr; --quiet only silences progress
  return { scorer: await openScorer(modelSpec), backend: describeBackend() };
}

export const predictCommand = defineCommand({
  name: "predict",
  summary: "score miRNA–site pairs in a table, write the table with a 'score' column",
  description: `Scores every miRNA–site pair of the input table; writes the input columns plus 'score'
(probability of binding for networks, 0–4 for 'seed') to --output (.tsv or .tsv.gz, written
atomically) or to standard output.`,
  options: {
    model: SCORING_OPTIONS.model,
    input: SCORING_OPTIONS.input,
    output: option({ short: "o", arg: "TSV", inUsage: true, help: "where to write (default: standard output)" }),
    "batch-size": SCORING_OPTIONS["batch-size"],
    "fit-mirna": SCORING_OPTIONS["fit-mirna"],
    quiet: SCORING_OPTIONS.quiet,
  },
  async run(o) {
    const table = await readPairTable(o.input, { fitMirna: o["fit-mirna"] });
    const { scorer } = await openWithBackend(o.model);
    const scores = await scorer.score(table.mirnas, table.sites, { batchSize: o["batch-size"], onProgress: progressReporter(`scoring with ${scorer.name}`, { quiet: o.quiet }) });
    scorer.dispose();
    const out = table.frame.withColumn(pl.Series("score", scores, pl.Float32));
    if (o.output !== undefined) writeTsv(out, o.output);
    else process.stdout.write(out.writeCSV({ separator: "\t", includeHeader: true }) as Buffer);
  },
});

export const evaluateCommand = defineCommand({
  name: "evaluate",
  summary: "score a labelled table and report ROC-AUC, average precision and more",
  description: `Scores a labelled table and reports n, positives, negatives, ROC-AUC (ties averaged), average
precision (step-wise, as scikit-learn), and precision / recall / F1 / accuracy at --threshold.`,
  options: {
    model: SCORING_OPTIONS.model,
    input: { ...SCORING_OPTIONS.input, help: "labelled table (lock or miRBind format)" },
    json: flag("print one JSON object instead of a table", { inUsage: true }),
    threshold: option({ arg: "X", parse: finiteNumber, help: "call a pair positive when score ≥ X (default 0.5; 1 for 'seed' = 6mer or better)" }),
    "batch-size": SCORING_OPTIONS["batch-size"],
    "fit-mirna": SCORING_OPTIONS["fit-mirna"],
    quiet: SCORING_OPTIONS.quiet,
  },
  async run(o) {
    // Seed scores are 0–4 match ranks: 1 = 6mer or better.
    const threshold = o.threshold ?? (isSeedModel(o.model) ? 1 : 0.5);
    const started = performance.now();
    const table = await readPairTable(o.input, { requireLabels: true, fitMirna: o["fit-mirna"] });
    const { scorer, backend } = await openWithBackend(o.model);
    const scores = await scorer.score(table.mirnas, table.sites, { batchSize: o["batch-size"], onProgress: progressReporter(`scoring with ${scorer.name}`, { quiet: o.quiet }) });
    scorer.dispose();
    const labels = table.labels!;
    const rank = rankMetrics(labels, scores);
    const at = thresholdMetrics(labels, scores, threshold);
    const seconds = (performance.now() - started) / 1000;
    if (o.json) {
      console.log(JSON.stringify({
        model: o.model,
        input: o.input,
        ...rank,
        threshold,
        precision: at.precision,
        recall: at.recall,
        f1: at.f1,
        accuracy: at.accuracy,
        backend,
        seconds: Number(seconds.toFixed(2)),
        firstScores: Array.from(scores.slice(0, 3), (s) => Number(s.toFixed(5))),
      }));
      return;
    }
    const rows: [string, string][] = [
      ["model", o.model], ["input", o.input], ["pairs", `${rank.n} (${rank.positives} positive, ${rank.negatives} negative)`],
      ["ROC-AUC", rank.rocAuc.toFixed(5)], ["average precision", rank.averagePrecision.toFixed(5)],
      [`precision @ ${threshold}`, at.precision.toFixed(4)], [`recall @ ${threshold}`, at.recall.toFixed(4)],
      [`F1 @ ${threshold}`, at.f1.toFixed(4)], [`accuracy @ ${threshold}`, at.accuracy.toFixed(4)],
      ["backend", backend], ["seconds", seconds.toFixed(1)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  },
});
