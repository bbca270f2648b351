import { describeBackend, initBackend } from "../ops/backend";
import { InputError } from "../errors";
import { rankMetrics, thresholdMetrics } from "../metrics";
import { progressReporter } from "../progress";
import { openScorer, PairScorer } from "../binding/scorer";
import { PairTable, readPairTable } from "../binding/tables";
import { openOutput, OutputSink } from "../io/files";
import { formatFloat32 } from "../io/tsv";
import { defineCommand, finiteNumber, flag, option, positiveInteger, QUIET_FLAG, Validator, UsageError } from "./args";

/** `mirna-dl predict` and `mirna-dl evaluate`: miRNA–site pairs scored by a network or the seed baseline. */

/** Options every binding command takes. */
const SCORING_OPTIONS = {
  model: option({ short: "m", arg: "PATH", required: true, help: "Keras .h5 file, tfjs model folder, or 'seed'" }),
  input: option({ short: "i", arg: "TSV", required: true, help: "table of pairs (lock, miRBind or miRBench format; the label column is optional)" }),
  "batch-size": option({ arg: "N", parse: positiveInteger, default: 256, help: "samples per forward pass" }),
  "fit-mirna": flag("pad miRNAs with N / cut them to 20 nt instead of rejecting other lengths\n(lock format; miRBind- and miRBench-format miRNAs are always padded or cut to 20 nt)"),
  quiet: QUIET_FLAG,
};

function isSeedModel(spec: string): boolean {
  return spec === "seed" || spec === "seed-match";
}

async function openWithBackend(modelSpec: string, quiet: boolean): Promise<{ scorer: PairScorer; backend: string }> {
  if (isSeedModel(modelSpec)) return { scorer: await openScorer(modelSpec), backend: "none" };
  await initBackend({ quiet }); // names the backend on stderr unless --quiet
  return { scorer: await openScorer(modelSpec), backend: describeBackend() };
}

/** A column name: not empty, no tab or line break (it goes into a tab-separated header). */
const columnName: Validator<string> = (raw, flag) => {
  if (raw.length === 0 || /[\t\n\r]/.test(raw)) throw new UsageError(`${flag} must be a column name without tabs or line breaks, got '${raw.replace(/[\t\n\r]/g, " ")}'`);
  return raw;
};

/** Lines of output per write: large enough to be cheap, small enough to let Ctrl+C through. */
const LINES_PER_WRITE = 16_384;

/**
 * Writes the input table with the scores: the header and every data line exactly as read, plus
 * a tab and the score (or, when `replace` is a column index, that cell replaced).
 */
async function writeScoredTable(sink: OutputSink, table: PairTable, scores: Float32Array, column: string, replace: number): Promise<void> {
  const header = replace >= 0 ? table.header : [...table.header, column];
  await sink.write(header.join("\t") + "\n");
  const lines = table.lines;
  for (let start = 0; start < lines.length; start += LINES_PER_WRITE) {
    const end = Math.min(lines.length, start + LINES_PER_WRITE);
    const out = new Array<string>(end - start);
    for (let r = start; r < end; r++) {
      const score = formatFloat32(scores[r]!);
      if (replace < 0) out[r - start] = `${lines[r]!}\t${score}`;
      else {
        const cells = lines[r]!.split("\t");
        cells[replace] = score;
        out[r - start] = cells.join("\t");
      }
    }
    await sink.write(out.join("\n") + "\n");
  }
}

export const predictCommand = defineCommand({
  name: "predict",
  summary: "score miRNA–site pairs in a table, write the table with a 'score' column",
  description: `Scores every miRNA–site pair of the input table; writes the input lines unchanged plus a
'score' column (probability of binding for networks, 0–4 for 'seed') to --output (.tsv, or
gzip when named .gz; written to a temporary file first and renamed into place when complete)
or to standard output ('-', the default). An input that already has a 'score' column is refused
unless --score-column names the column to write (an existing column named so is replaced).
The output is checked before any scoring: a folder or an unwritable place fails at once.`,
  examples: [
    "mirna-dl predict -m $MIRNA_DL_DATA/mirna_binding/data/models/iterative.h5 -i $MIRNA_DL_DATA/mirbind/test_set_1_1_CLASH2013_paper.tsv.gz -o scored.tsv",
    "mirna-dl predict -m seed -i $MIRNA_DL_DATA/mirna_binding/data/datasets/scan_test_set.tsv.gz | head",
  ],
  options: {
    model: SCORING_OPTIONS.model,
    input: SCORING_OPTIONS.input,
    output: option({ short: "o", arg: "TSV", inUsage: true, help: "where to write; '-' = standard output (the default)" }),
    "score-column": option({ arg: "NAME", parse: columnName, help: "name of the score column (default 'score'); an existing column of\nthat name is replaced" }),
    "batch-size": SCORING_OPTIONS["batch-size"],
    "fit-mirna": SCORING_OPTIONS["fit-mirna"],
    quiet: SCORING_OPTIONS.quiet,
  },
  async run(o) {
    // The output first: a folder, a read-only folder or a full disk fails before any work.
    const sink = await openOutput(o.output ?? "-");
    try {
      const table = await readPairTable(o.input, { fitMirna: o["fit-mirna"] });
      const column = o["score-column"] ?? "score";
      const replace = table.header.indexOf(column);
      if (replace >= 0 && o["score-column"] === undefined) {
        throw new InputError(
          "already has a 'score' column (a scored table?): it is not overwritten; name the new column with --score-column NAME (an existing column given by name is replaced)",
          { file: o.input, column: "score" },
        );
      }
      const { scorer } = await openWithBackend(o.model, o.quiet);
      let scores: Float32Array;
      try {
        scores = await scorer.score(table.mirnas, table.sites, { batchSize: o["batch-size"], onProgress: progressReporter(`scoring with ${scorer.name}`, { quiet: o.quiet }) });
      } finally {
        scorer.dispose();
      }
      await writeScoredTable(sink, table, scores, column, replace);
      await sink.commit();
    } catch (e) {
      await sink.abort();
      throw e;
    }
  },
});

export const evaluateCommand = defineCommand({
  name: "evaluate",
  summary: "score a labelled table and report ROC-AUC, average precision and more",
  description: `Scores a labelled table and reports n, positives, negatives, ROC-AUC (ties averaged), average
precision (step-wise, as scikit-learn), and precision / recall / F1 / accuracy at --threshold.`,
  examples: [
    "mirna-dl evaluate -m $MIRNA_DL_DATA/mirna_binding/data/models/iterative.h5 -i $MIRNA_DL_DATA/mirbind/test_set_1_10_CLASH2013_paper.tsv.gz",
    "mirna-dl evaluate -m seed -i $MIRNA_DL_DATA/mirna_binding/data/datasets/mirna_neg_test_set.tsv.gz --json",
  ],
  options: {
    model: SCORING_OPTIONS.model,
    input: { ...SCORING_OPTIONS.input, help: "labelled table (lock, miRBind or miRBench format)" },
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
    const { scorer, backend } = await openWithBackend(o.model, o.quiet);
    let scores: Float32Array;
    try {
      scores = await scorer.score(table.mirnas, table.sites, { batchSize: o["batch-size"], onProgress: progressReporter(`scoring with ${scorer.name}`, { quiet: o.quiet }) });
    } finally {
      scorer.dispose();
    }
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
