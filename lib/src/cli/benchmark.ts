import * as path from "node:path";
import {
  alignToolScores, benchmarkTable, BenchmarkTable, modelNames, ModelScores, readToolScores, tableName, ToolScores,
} from "../binding/benchmark";
import { curveSeries } from "../binding/evaluation";
import { openScorer } from "../binding/scorer";
import { PairTable, readPairTable } from "../binding/tables";
import { InputError } from "../errors";
import { saveFigure } from "../figures/render";
import { prCurveSpec, rocCurveSpec, VegaLiteSpec } from "../figures/specs";
import { withAtomicFolder, writeFileAtomic } from "../io/files";
import { formatFloat32, formatTsv } from "../io/tsv";
import { describeBackend, initBackend } from "../ops/backend";
import { formatDuration, progressReporter } from "../progress";
import { defineCommand, flag, integerInRange, option, positiveInteger, repeatedOption, UsageError } from "./args";

/** `mirna-dl benchmark`: binding models and other tools' scores compared on labelled pair tables. */

/** What `benchmark` writes into --out (an earlier output may be replaced with --force). */
const BENCHMARK_FILES = ["summary.tsv", "benchmark.json", "scores/", "figures/"];
const benchmarkOwns = (entry: string) =>
  BENCHMARK_FILES.includes(entry) || /^scores\/[^/]+\.tsv\.gz$/.test(entry) || /^figures\/[^/]+\.(pr|roc)\.(svg|png|vl\.json)$/.test(entry);

/** One input table and every score set on it. */
interface BenchmarkInput {
  table: PairTable & { labels: Uint8Array };
  name: string;
  models: ModelScores[];
}

/** Distinct names for the input tables (a number added where two files share a name). */
function inputNames(files: readonly string[]): string[] {
  const base = files.map(tableName);
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b}_${base.slice(0, i + 1).filter((x) => x === b).length}` : b));
}

/** A number with `digits` decimals, or "–" for null. */
const fixed = (x: number | null, digits = 4) => (x === null ? "–" : x.toFixed(digits));

/** The printed table of one input: model, AP, ROC-AUC and ΔAP against the best with its interval. */
function formatTable(t: BenchmarkTable, file: string): string {
  const head = `${t.name}  (${file}: ${t.n.toLocaleString("en-US")} pairs, ${t.positives.toLocaleString("en-US")} positive)`;
  const ci = t.bootstrap ? ` [95% CI, ${t.bootstrap.resamples} paired resamples]` : "";
  const rows = [["model", "AP", "ROC-AUC", `ΔAP vs best${ci}`]];
  for (const r of t.rows) {
    const diff = r.best ? "best" : r.lo === null ? fixed(r.difference) : `${fixed(r.difference)} [${fixed(r.lo)}, ${fixed(r.hi)}]`;
    rows.push([r.model, fixed(r.averagePrecision), fixed(r.rocAuc), diff]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return [head, ...rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  "))].join("\n");
}

export const benchmarkCommand = defineCommand({
  name: "benchmark",
  summary: "compare models (and other tools' scores) on labelled tables: AP, ROC-AUC, paired bootstrap CIs",
  description: `Scores every --input table with every --model and reports per table: pairs, positives, and for each
model its average precision (step-wise, as scikit-learn), ROC-AUC, and AP(model) − AP(best) with
the central 95% interval of a paired, stratified bootstrap over the table's rows (--bootstrap
resamples, --seed; every model is scored on the same resamples, positives drawn among positives
and negatives among negatives). The best model is the one with the highest AP.
--scores adds other tools: a table of pairs (lock, miRBind or miRBench format) whose other
numeric columns are tools' per-row scores, as in miRBench's prediction files (noncodingRNA, gene,
label, then one column per tool; miRBench's annotation columns such as start and end are not
tools). Its rows are matched to an input's rows by miRNA and site (and label, when both tables
have one), repeated pairs in order; it is used for every input whose rows it all covers, and
refused, naming the first unmatched row, when it covers none.
With --out DIR (checked before any work; a file, or a folder holding anything else than an
earlier 'benchmark' output, is refused; replaced as a whole when complete, with --force):
  summary.tsv        one row per table and model: n, positives, AP, ROC-AUC, ΔAP vs best, CI
  scores/NAME.tsv.gz per table: miRNA, gene, label and one column per model (miRBind format:
                     itself a --scores table)
  figures/NAME.pr.*  precision–recall curves (SVG, PNG and the Vega-Lite spec .vl.json)
  figures/NAME.roc.* ROC curves
  benchmark.json     everything above but the scores, with models, backend and time`,
  examples: [
    "mirna-dl benchmark -m $MIRNA_DL_DATA/mirna_binding/data/models/iterative.h5 -m seed \\\n-i $MIRNA_DL_DATA/mirbind/test_set_1_1_CLASH2013_paper.tsv.gz \\\n-i $MIRNA_DL_DATA/mirbind/test_set_1_10_CLASH2013_paper.tsv.gz -o out/benchmark",
    "mirna-dl benchmark -m seed -i test.tsv --scores other_tools.tsv --bootstrap 2000",
  ],
  options: {
    model: repeatedOption({ short: "m", arg: "PATH", inUsage: true, help: "Keras .h5 file, mirna-dl model folder, or 'seed'" }),
    input: repeatedOption({ short: "i", arg: "TSV", required: true, help: "labelled table of pairs (lock, miRBind or miRBench format)" }),
    scores: repeatedOption({ arg: "TSV", inUsage: true, help: "a table of other tools' per-row scores (see below)" }),
    bootstrap: option({ arg: "N", parse: integerInRange(0, 100_000), default: 1000, help: "paired bootstrap resamples for the intervals (0: none)" }),
    seed: option({ arg: "N", parse: integerInRange(0, 2 ** 32 - 1), default: 1, help: "seed of the bootstrap resampling" }),
    out: option({ short: "o", arg: "DIR", inUsage: true, help: "write tables, scores, figures and JSON into DIR (see below)" }),
    json: flag("print one JSON object instead of the tables"),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 256, help: "samples per forward pass" }),
    "fit-mirna": flag("pad lock-format miRNAs with N / cut them to 20 nt instead of rejecting other\nlengths (miRBind and miRBench miRNAs always are)"),
    force: flag("replace the output of an earlier 'benchmark' in DIR (a folder holding anything\nelse is never replaced)"),
    quiet: flag("no progress and no backend line on standard error", { short: "q" }),
  },
  async run(o) {
    if (o.model.length === 0 && o.scores.length === 0) throw new UsageError("nothing to compare: give --model (one or more) or --scores");
    const names = modelNames(o.model);
    const started = performance.now();
    const work = async (out: string | null) => {
      // Every table first: a bad row fails before any model is loaded.
      const tableNames = inputNames(o.input);
      const inputs: BenchmarkInput[] = [];
      for (const [i, file] of o.input.entries()) {
        const table = await readPairTable(file, { requireLabels: true, fitMirna: o["fit-mirna"] });
        if (table.mirnas.length === 0) throw new InputError("no pairs to score", { file });
        inputs.push({ table: table as BenchmarkInput["table"], name: tableNames[i]!, models: [] });
      }
      const tools: ToolScores[] = [];
      for (const file of o.scores) tools.push(readToolScores(await readPairTable(file, { fitMirna: o["fit-mirna"] })));

      // Tools: each scores table goes with every input it covers.
      const toolsUsed: { file: string; tools: string[]; inputs: string[]; ignored: string[] }[] = [];
      const firstMiss = new Map<BenchmarkInput, InputError>();
      for (const t of tools) {
        const covered: string[] = [];
        const misses: InputError[] = [];
        for (const input of inputs) {
          let rows: Int32Array;
          try {
            rows = alignToolScores(input.table, t).rows;
          } catch (e) {
            if (e instanceof InputError) {
              misses.push(e);
              if (!firstMiss.has(input)) firstMiss.set(input, e);
              continue;
            }
            throw e;
          }
          t.tools.forEach((tool, k) => {
            const all = t.scores[k]!;
            const own = Float64Array.from(rows, (r) => all[r]!);
            const taken = new Set([...names, ...input.models.map((m) => m.name)]);
            const name = taken.has(tool) ? `${tool} (${tableName(t.file)})` : tool;
            if (taken.has(name)) throw new InputError(`tool column '${tool}' is named like a model or another tool's column; rename it`, { file: t.file, column: tool });
            input.models.push({ name, scores: own });
          });
          covered.push(input.name);
        }
        if (covered.length === 0) {
          if (misses.length === 1) throw misses[0]!;
          throw new InputError(`covers none of the inputs: ${misses.map((m) => m.message).join("; ")}`, { file: t.file });
        }
        toolsUsed.push({ file: t.file, tools: t.tools, inputs: covered, ignored: t.ignored });
      }
      // Without --model, an input no scores table covers has nothing to compare.
      if (o.model.length === 0) for (const input of inputs) if (input.models.length === 0) throw firstMiss.get(input)!;

      // Models: one at a time, each over every table.
      let backend = "none";
      for (const [k, spec] of o.model.entries()) {
        if (spec !== "seed" && spec !== "seed-match" && backend === "none") {
          await initBackend({ quiet: o.quiet });
          backend = describeBackend();
        }
        const scorer = await openScorer(spec);
        try {
          for (const input of inputs) {
            const scores = await scorer.score(input.table.mirnas, input.table.sites, {
              batchSize: o["batch-size"],
              onProgress: progressReporter(`${names[k]} on ${input.name}`, { quiet: o.quiet }),
            });
            // Models before tools in every table, in command-line order.
            input.models.splice(k, 0, { name: names[k]!, scores });
          }
        } finally {
          scorer.dispose();
        }
      }

      const results = inputs.map((input) => benchmarkTable(input.name, input.table.labels, input.models, { resamples: o.bootstrap, seed: o.seed }));
      const seconds = (performance.now() - started) / 1000;
      const report = {
        models: o.model.map((spec, k) => ({ name: names[k]!, model: spec })),
        scores: toolsUsed,
        inputs: inputs.map((input, i) => ({ file: input.table.file, format: input.table.format, ...results[i]! })),
        bootstrap: o.bootstrap > 0 ? { resamples: o.bootstrap, seed: o.seed, level: 0.95, paired: true, stratified: true } : null,
        backend,
        seconds: Number(seconds.toFixed(2)),
      };

      if (out !== null) {
        const tsvRows = results.flatMap((t, i) => t.rows.map((r) => [
          t.name, inputs[i]!.table.file, r.model, String(t.n), String(t.positives), formatFloat32(r.averagePrecision), formatFloat32(r.rocAuc),
          r.best ? "best" : "", r.difference === null ? "" : formatFloat32(r.difference), r.lo === null ? "" : formatFloat32(r.lo), r.hi === null ? "" : formatFloat32(r.hi),
        ]));
        const header = ["table", "file", "model", "n", "positives", "average_precision", "roc_auc", "best", "ap_difference_vs_best", "ci_lo", "ci_hi"];
        writeFileAtomic(path.join(out, "summary.tsv"), formatTsv(header, header.map((_, c) => tsvRows.map((r) => r[c]!))));
        for (const [i, input] of inputs.entries()) {
          const t = input.table;
          const columns = [t.mirnas, t.sites, Array.from(t.labels, String), ...input.models.map((m) => Array.from(m.scores, (x) => formatFloat32(x)))];
          const text = formatTsv(["miRNA", "gene", "label", ...input.models.map((m) => m.name)], columns);
          writeFileAtomic(path.join(out, "scores", `${input.name}.tsv.gz`), text);
          const curves = curveSeries(t.labels, input.models);
          const what = `${input.name} (${results[i]!.n.toLocaleString("en-US")} pairs, ${results[i]!.positives.toLocaleString("en-US")} positive)`;
          // The table's name as a subtitle: a long file name would widen the figure.
          const titled = (spec: VegaLiteSpec, text: string): VegaLiteSpec => ({ ...spec, title: { text, subtitle: what } });
          await saveFigure(titled(prCurveSpec(curves.pr), "Precision–recall"), path.join(out, "figures", `${input.name}.pr`), ["svg", "png", "json"]);
          await saveFigure(titled(rocCurveSpec(curves.roc), "ROC"), path.join(out, "figures", `${input.name}.roc`), ["svg", "png", "json"]);
        }
        writeFileAtomic(path.join(out, "benchmark.json"), JSON.stringify(report, null, 1) + "\n");
      }

      if (o.json) return void console.log(JSON.stringify(report));
      const legend = report.models.filter((m) => m.name !== m.model && m.name !== "seed-match").map((m) => `  ${m.name} = ${m.model}`);
      const toolLines = toolsUsed.map((t) => `  ${t.tools.join(", ")} from ${t.file}${t.ignored.length ? ` (not scores: ${t.ignored.join(", ")})` : ""}`);
      const parts = results.map((t, i) => formatTable(t, inputs[i]!.table.file));
      if (legend.length) parts.push(`models:\n${legend.join("\n")}`);
      if (toolLines.length) parts.push(`tools:\n${toolLines.join("\n")}`);
      parts.push(`backend ${backend} · ${formatDuration(seconds)}${out !== null ? ` · written to ${o.out}` : ""}`);
      console.log(parts.join("\n\n"));
    };
    if (o.out === undefined) await work(null);
    else await withAtomicFolder(o.out, work, { force: o.force, owns: benchmarkOwns, command: "benchmark" });
  },
});
