import * as path from "node:path";
import {
  AttributionBaseline, AttributionMethod, BindingAttributions, bindingAttributions, baselineValue, matrixOf,
  PositionSummaryRow, positionProfiles, SEED_CLASS_ORDER, seedMatchClasses, summariseProfiles,
} from "../binding/attribution";
import { openScorer } from "../binding/scorer";
import { MIRNA_LENGTH, SITE_LENGTH } from "../binding/sequences";
import { readPairTable } from "../binding/tables";
import { encodeBindingMatrix } from "../binding/encoding";
import { InputError } from "../errors";
import { saveFigure } from "../figures/render";
import { attributionMatrixSpec, positionProfileSpec } from "../figures/binding";
import { concatSpecs } from "../figures/specs";
import { withAtomicFolder, writeFileAtomic } from "../io/files";
import { encodeNpy } from "../io/npy";
import { formatTsv, formatFloat32 } from "../io/tsv";
import { describeBackend, initBackend } from "../ops/backend";
import { formatDuration, progressReporter } from "../progress";
import { defineCommand, finiteNumber, flag, integerInRange, option, positiveInteger, UsageError, Validator } from "./args";

/** `mirna-dl explain`: gradient attributions of a binding model on a table of pairs. */

/** integrated-gradients | saliency | both. */
const methodList: Validator<AttributionMethod[]> = (raw, flag) => {
  if (raw === "both") return ["integrated-gradients", "saliency"];
  if (raw === "integrated-gradients" || raw === "ig") return ["integrated-gradients"];
  if (raw === "saliency") return ["saliency"];
  throw new UsageError(`${flag} must be integrated-gradients (ig), saliency or both, got '${raw}'`);
};

/** zero | uniform | a number. */
const baselineOption: Validator<AttributionBaseline> = (raw, flag) => {
  if (raw === "zero" || raw === "uniform") return raw;
  const x = raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(x)) throw new UsageError(`${flag} must be zero, uniform or a number, got '${raw}'`);
  return x;
};

/** A number ≥ 0. */
const nonNegative: Validator<number> = (raw, flag) => {
  const x = finiteNumber(raw, flag);
  if (x < 0) throw new UsageError(`${flag} must be ≥ 0, got '${raw}'`);
  return x;
};

/** What `explain` writes into its folder (an earlier output may be replaced with --force). */
const EXPLAIN_FILES = ["integrated_gradients.npy", "saliency.npy", "pairs.tsv", "positions.tsv", "summary.json", "figures/"];
const explainOwns = (entry: string) => EXPLAIN_FILES.includes(entry) || /^figures\/[^/]+\.(svg|png)$/.test(entry);

/** File stem of a method's outputs. */
const STEM: Record<AttributionMethod, string> = { "integrated-gradients": "integrated_gradients", saliency: "saliency" };

export const explainCommand = defineCommand({
  name: "explain",
  summary: "attribute a binding model's scores to the cells of each pair's binding matrix",
  description: `Gradient attributions of a binding model (Keras .h5 or mirna-dl model folder) on every pair of
the input table, w.r.t. its 50 × 20 binding matrix (row i = site nucleotide i, column j =
miRNA nucleotide j). The score explained is the logit of the model's sigmoid output.
Integrated gradients: (x − x′) · ∫ ∂logit/∂x (x′ + α(x − x′)) dα from the baseline x′
(--baseline zero = the all-zero matrix, "no pair forms", the default; uniform = 0.25, the chance
of a Watson–Crick pair between random nucleotides; or a number), by Gauss–Legendre quadrature
with --steps points; pairs whose attributions miss completeness (Σ = logit(x) − logit(x′)) by
more than --tolerance are recomputed with twice the steps up to --max-steps. Saliency: the
gradient ∂logit/∂x itself.
Writes into --out (checked before any work: a file, or a folder holding anything else than an
earlier 'explain' output, is refused; replaced as a whole when complete, with --force):
  integrated_gradients.npy, saliency.npy   float32 (n, 50, 20): row k = pair k of the table
  pairs.tsv       per pair: row, seed-match class, label, probability, logit, and for integrated
                  gradients the baseline logit, the attributions' sum, the completeness error
                  and the steps used
  positions.tsv   per method, axis (mirna = sum over site rows; site = sum over miRNA columns;
                  saliency as |gradient|), group and position: pairs, mean, sd, mean share of the
                  pair's total |attribution|. Groups: all, positive / negative (with labels),
                  and the seed-match classes 8mer … none (of the positives when there are labels)
  figures/        per-position profiles by seed-match class (SVG and PNG) and the matrices of
                  the highest-scoring pairs
  summary.json    model, input, counts, baseline, completeness, peak positions, backend, time`,
  examples: [
    "zcat $MIRNA_DL_DATA/mirbind/test_set_1_1_CLASH2013_paper.tsv.gz | head -101 > pairs.tsv   # the header and 100 pairs",
    "mirna-dl explain -m $MIRNA_DL_DATA/mirna_binding/data/models/iterative.h5 -i pairs.tsv -o out/explain",
    "mirna-dl explain -m $MIRNA_DL_DATA/mirna_binding/data/models/iterative.h5 -i pairs.tsv -o out/saliency --method saliency",
  ],
  options: {
    model: option({ short: "m", arg: "PATH", required: true, help: "Keras .h5 file or mirna-dl model folder (a network: 'seed' has no gradients)" }),
    input: option({ short: "i", arg: "TSV", required: true, help: "table of pairs (lock or miRBind format; the label column is optional)" }),
    out: option({ short: "o", arg: "DIR", required: true, help: "output folder (created; must be new or empty unless --force)" }),
    method: option({ arg: "M", parse: methodList, default: ["integrated-gradients", "saliency"] as AttributionMethod[], defaultText: "both", help: "integrated-gradients (ig) | saliency | both" }),
    baseline: option({ arg: "B", parse: baselineOption, default: "zero" as AttributionBaseline, help: "integrated gradients: zero | uniform | a number" }),
    steps: option({ arg: "N", parse: integerInRange(1, 4096), default: 64, help: "integrated gradients: Gauss–Legendre points on the path" }),
    tolerance: option({ arg: "X", parse: nonNegative, default: 0.01, help: "integrated gradients: refine pairs whose completeness error exceeds X (0: never)" }),
    "max-steps": option({ arg: "N", parse: integerInRange(1, 65535), default: 256, help: "integrated gradients: most steps a refined pair gets" }),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 256, help: "matrices per gradient pass" }),
    examples: option({ arg: "N", parse: integerInRange(0, 50), default: 6, help: "matrices of the N highest-scoring pairs drawn in figures/" }),
    "fit-mirna": flag("pad miRNAs with N / cut them to 20 nt instead of rejecting other lengths"),
    force: flag("replace the output of an earlier 'explain' in DIR (a folder holding anything\nelse is never replaced)"),
    quiet: flag("no progress on standard error", { short: "q" }),
  },
  async run(o) {
    if (o.model === "seed" || o.model === "seed-match") throw new UsageError("--model seed is the seed-match rule, not a network: it has no gradients to attribute");
    if (o["max-steps"] < o.steps) throw new UsageError(`--max-steps (${o["max-steps"]}) must be at least --steps (${o.steps})`);
    baselineValue(o.baseline);
    // --out first: a file there, a folder holding other files or a path that cannot be resolved
    // fails before any work; the work fills a fresh folder that replaces --out once complete.
    let n = 0;
    const started = performance.now();
    await withAtomicFolder(o.out, async (dir) => {
      const table = await readPairTable(o.input, { fitMirna: o["fit-mirna"] });
      if (table.mirnas.length === 0) throw new InputError("no pairs to explain", { file: o.input });
      await initBackend({ quiet: o.quiet });
      const scorer = await openScorer(o.model);
      n = table.mirnas.length;
      const results: BindingAttributions[] = [];
      let probabilities: Float32Array;
      try {
        const model = scorer.model!;
        for (const method of o.method) {
          results.push(bindingAttributions(model, table, {
            method, baseline: o.baseline, steps: o.steps, tolerance: o.tolerance, maxSteps: o["max-steps"], batchSize: o["batch-size"],
            onProgress: progressReporter(method === "saliency" ? "saliency" : "integrated gradients", { quiet: o.quiet }),
          }));
        }
        probabilities = await scorer.score(table.mirnas, table.sites, { batchSize: o["batch-size"] });
      } finally {
        scorer.dispose();
      }
      const classes = seedMatchClasses(table);
      const labels = table.labels;
      const ig = results.find((r) => r.method === "integrated-gradients") ?? null;

      // Groups of positions.tsv: all, by label, by seed-match class (of the positives when labelled).
      const groupings: { names: string[]; order: readonly string[] }[] = [{ names: classes.map(() => "all"), order: ["all"] }];
      if (labels) groupings.push({ names: Array.from(labels, (y) => (y === 1 ? "positive" : "negative")), order: ["positive", "negative"] });
      groupings.push({ names: classes.map((c, k) => (labels && labels[k] !== 1 ? "" : c)), order: SEED_CLASS_ORDER });
      const summary: (PositionSummaryRow & { method: string; axis: string })[] = [];
      for (const r of results) {
        for (const axis of ["mirna", "site"] as const) {
          const profiles = positionProfiles(r.values, axis, { absolute: r.method === "saliency" });
          for (const g of groupings) {
            for (const row of summariseProfiles(profiles, axis === "mirna" ? MIRNA_LENGTH : SITE_LENGTH, g.names, g.order)) summary.push({ method: r.method, axis, ...row });
          }
        }
      }
      const peaks = Object.fromEntries(results.map((r) => [r.method, Object.fromEntries(
        [...new Set(summary.filter((s) => s.method === r.method && s.axis === "mirna").map((s) => s.group))].map((group) => {
          const own = summary.filter((s) => s.method === r.method && s.axis === "mirna" && s.group === group);
          return [group, own.reduce((best, s) => (s.mean > best.mean ? s : best)).position];
        }),
      )]));

      for (const r of results) {
        writeFileAtomic(path.join(dir, `${STEM[r.method]}.npy`), encodeNpy({ dtype: "<f4", data: r.values, shape: [n, SITE_LENGTH, MIRNA_LENGTH] }));
      }
      const f = (x: number) => formatFloat32(x);
      const columns: [string, string[]][] = [
        ["row", table.mirnas.map((_, k) => String(k + 1))],
        ["mirna", table.mirnas],
        ["site", table.sites],
        ...(labels ? [["label", Array.from(labels, (y) => (y === 1 ? "positive" : "negative"))] as [string, string[]]] : []),
        ["seed_class", classes],
        ["probability", Array.from(probabilities, f)],
        ["logit", Array.from(results[0]!.logits, f)],
      ];
      if (ig) {
        columns.push(
          ["baseline_logit", Array.from(ig.baselineLogits!, f)],
          ["attribution_sum", Array.from(ig.logits, (_, k) => {
            let s = 0;
            for (const v of matrixOf(ig.values, k)) s += v;
            return f(s);
          })],
          ["completeness_error", Array.from(ig.completeness!, (e) => e.toPrecision(3))],
          ["steps", Array.from(ig.steps!, String)],
        );
      }
      writeFileAtomic(path.join(dir, "pairs.tsv"), formatTsv(columns.map(([h]) => h), columns.map(([, c]) => c)));
      const summaryColumns = ["method", "axis", "group", "position", "n", "mean", "sd", "share"] as const;
      writeFileAtomic(path.join(dir, "positions.tsv"), formatTsv([...summaryColumns], summaryColumns.map((c) => summary.map((s) => (typeof s[c] === "number" && !Number.isInteger(s[c]) ? (s[c] as number).toPrecision(6) : String(s[c]))))));

      for (const r of results) {
        const yTitle = r.method === "saliency" ? "mean Σ |∂logit/∂cell|" : "mean attribution (logit)";
        for (const axis of ["mirna", "site"] as const) {
          const rows = summary.filter((s) => s.method === r.method && s.axis === axis && (SEED_CLASS_ORDER as readonly string[]).includes(s.group))
            .map((s) => ({ position: s.position, mean: s.mean, "seed-match class": `${s.group} (n = ${s.n})` }));
          if (rows.length === 0) continue;
          await saveFigure(positionProfileSpec(rows, {
            x: "position", y: "mean", color: "seed-match class",
            bands: axis === "mirna" ? [{ from: 2, to: 8, label: "seed 2–8" }, { from: 13, to: 16, label: "3' suppl." }] : [],
            title: `${r.method === "saliency" ? "Saliency" : "Integrated gradients"} per ${axis === "mirna" ? "miRNA" : "site"} position${labels ? " (positives)" : ""}`,
            xTitle: axis === "mirna" ? "miRNA position (5'→3')" : "site position (5'→3')", yTitle,
          }), path.join(dir, "figures", `${STEM[r.method]}_${axis}_positions`));
        }
      }
      if (o.examples > 0) {
        const top = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b).slice(0, o.examples);
        const binding = encodeBindingMatrix(top.map((k) => table.mirnas[k]!), top.map((k) => table.sites[k]!));
        for (const r of results) {
          const panels = top.map((k, i) => attributionMatrixSpec({ binding: binding.subarray(i * 1000, (i + 1) * 1000), attribution: matrixOf(r.values, k) }, {
            title: `row ${k + 1}: ${classes[k]}${labels ? `, ${labels[k] === 1 ? "positive" : "negative"}` : ""}`,
            subtitle: `p = ${probabilities[k]!.toFixed(3)}`,
            valueTitle: r.method === "saliency" ? "∂logit/∂cell" : "attribution",
          }));
          await saveFigure(concatSpecs(panels, { title: `${r.method === "saliency" ? "Saliency" : "Integrated gradients"}: the ${top.length} highest-scoring pairs`, columns: 3 }), path.join(dir, "figures", `${STEM[r.method]}_examples`));
        }
      }
      const completeness = ig ? Array.from(ig.completeness!).sort((a, b) => a - b) : null;
      writeFileAtomic(path.join(dir, "summary.json"), JSON.stringify({
        model: o.model, input: o.input, n, positives: labels ? labels.reduce((a, b) => a + b, 0) : null,
        methods: o.method, score: "logit of the sigmoid output",
        baseline: ig ? { name: o.baseline, value: ig.baseline } : null,
        steps: ig ? { initial: o.steps, max: o["max-steps"], tolerance: o.tolerance, mean: ig.steps!.reduce((a, b) => a + b, 0) / n } : null,
        completeness: completeness ? { median: completeness[completeness.length >> 1], max: completeness[completeness.length - 1], withinTolerance: completeness.filter((e) => e <= o.tolerance).length / n } : null,
        peakMirnaPosition: peaks,
        backend: describeBackend(), seconds: (performance.now() - started) / 1000, date: new Date().toISOString(),
      }, null, 1) + "\n");
    }, { force: o.force, owns: explainOwns, command: "explain" });
    if (!o.quiet) process.stderr.write(`mirna-dl: attributions of ${n} pairs written to ${o.out} (${formatDuration((performance.now() - started) / 1000)})\n`);
  },
});
