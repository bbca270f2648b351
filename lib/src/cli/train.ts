import * as fs from "node:fs";
import * as path from "node:path";
import { buildArch00b } from "../binding/arch00b";
import { testSetPath } from "../binding/paths";
import { readLeakGuard, splitChr1Positives, withoutLeaks, writeSplit } from "../binding/split";
import { POSITIVE_ROWS_FILE, readPositiveRows, writePositiveRows } from "../binding/positiveRows";
import { PairTable, readPairTable } from "../binding/tables";
import { trainIterative } from "../binding/trainIterative";
import { trainStandard } from "../binding/trainStandard";
import { trainStandardStream } from "../binding/trainStream";
import { InputError } from "../errors";
import { makeOutputFolder, writeFileAtomic } from "../io/files";
import { saveTfjsModel } from "../io/tfjsModel";
import { describeBackend, initBackend } from "../ops/backend";
import { disposeModel } from "../ops/nn";
import { formatDuration, progressReporter } from "../progress";
import { DEFAULT_SEED } from "../random";
import type { EpochRecord } from "../training/checkpoint";
import { readLatestCheckpoint } from "../training/checkpoint";
import { defineCommand, finiteNumber, flag, integerInRange, option, positiveInteger, UsageError, Validator } from "./args";

/** `mirna-dl split` and `mirna-dl train`: the chr1 train / held-out split and the binding trainers. */

/** One of `choices`. */
function oneOf<T extends string>(...choices: T[]): Validator<T> {
  return (raw, flag) => {
    if (!(choices as string[]).includes(raw)) throw new UsageError(`${flag} must be one of ${choices.join(", ")}, got '${raw}'`);
    return raw as T;
  };
}

/** Comma-separated non-empty paths. */
const pathList: Validator<string[]> = (raw, flag) => {
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.some((p) => p === "")) throw new UsageError(`${flag} must be comma-separated paths, got '${raw}'`);
  return parts;
};

/** A number in [0, 1). */
const fraction: Validator<number> = (raw, flag) => {
  const x = finiteNumber(raw, flag);
  if (!(x >= 0 && x < 1)) throw new UsageError(`${flag} must be in [0, 1), got '${raw}'`);
  return x;
};

export const splitCommand = defineCommand({
  name: "split",
  summary: "split the chr1 positives into training and held-out test sets, site-disjoint",
  description: `The non-chr1 training table of the original work is not public, so the trainers learn from
part of the 21,385 chr1 positives and are tested on the rest (a deviation from the paper).
Positives are clustered when one's 1,050-nt scan region shares a 24-nt stretch (not
low-complexity) with another's window; whole clusters are held out until --test-fraction of
the positives is reached. Writes into --out: train_positives.tsv.gz, heldout_scan_test_set.tsv.gz
(held-out positives + their 20 scan negatives each), heldout_mirna_neg_test_set.tsv.gz (held-out
positives + the miRNA negatives of their sites), positives_split.tsv.gz (cluster and part per
positive), heldout_windows.tsv.gz (for --leak-guard of 'train') and split.json.`,
  examples: [
    "mirna-dl split --out out/split   # the published test sets of $MIRNA_DL_DATA",
  ],
  options: {
    out: option({ short: "o", arg: "DIR", required: true, help: "output folder" }),
    scan: option({ arg: "TSV", help: "the published scan test set (default: $MIRNA_DL_DATA/mirna_binding/data/datasets/scan_test_set.tsv.gz)" }),
    "mirna-neg": option({ arg: "TSV", help: "the published miRNA-neg test set (default: beside the scan set)" }),
    "test-fraction": option({ arg: "X", parse: fraction, default: 0.2, help: "fraction of positives held out" }),
    seed: option({ arg: "N", parse: integerInRange(0), default: DEFAULT_SEED, help: "seed of the cluster draw" }),
  },
  async run(o) {
    makeOutputFolder(o.out); // before the tables are read: a file there fails now
    const read = async (file: string, name: string) => {
      const t = await readPairTable(file, { requireLabels: true });
      return { name, mirnas: t.mirnas, sites: t.sites, labels: t.labels! };
    };
    const split = splitChr1Positives({
      scan: await read(o.scan ?? testSetPath("scan"), o.scan ?? testSetPath("scan")),
      mirnaNeg: await read(o["mirna-neg"] ?? testSetPath("mirnaNeg"), o["mirna-neg"] ?? testSetPath("mirnaNeg")),
    }, { testFraction: o["test-fraction"], seed: o.seed });
    const written = writeSplit(split, o.out);
    const s = split.summary;
    process.stderr.write(`mirna-dl: ${s.positives} positives in ${s.clusters} clusters (largest ${s.largestCluster}): ${s.trainPositives} train, ${s.heldOutPositives} held out ` +
      `(+ ${s.heldOutScanNegatives} scan and ${s.heldOutMirnaNegatives} miRNA negatives); ${written.length} files in ${o.out}\n`);
  },
});

export const trainCommand = defineCommand({
  name: "train",
  summary: "train arch_00b on pair tables, the standard or the iterative way",
  description: `Trains the CEITEC arch_00b binding model and writes a model folder that predict, evaluate
and the notebooks load (DIR/model), its training log (DIR/training.json) and checkpoints
(DIR/checkpoint; --resume continues the last complete epoch or iteration).
Standard (the original's recipe): --positives of the training positives (or exactly the
--positive-rows of a file) with --ratio re-paired negatives each (other miRNAs of the tables,
never the site's own, never a known positive pair), --epochs of batches, the last
--validation-fraction held out. With --stream the one --train table must hold labelled pairs
(both classes), which are read in chunks and shuffled through a buffer: memory does not grow
with the table.
Iterative (the paper's loop): --positives-per-iteration positives at a time; when an iteration
validates above 0.7 the ratio goes up by one and fresh positives replace the current ones. The
positives it trained on are written to DIR/${POSITIVE_ROWS_FILE} (0-based rows of the training
positives, column 'row'): --positive-rows of a standard run takes that file.
--variant faithful is the original loop (500 minibatches, the last validates, negatives from
one fixed seed); improved (default) draws fresh negatives every iteration and validates on
--validation-positives held-out training positives, with a ratio cap and a stopping rule.
Training tables: lock, miRBind or miRBench format, or the original work's 35-column
training table (train_set_positives.tsv of github.com/ML-Bioinfo-CEITEC/mirna_binding: every
row a positive, familyseqRepresentative × pos_sequence, no chr1 row), detected from the header;
their positives (label 1, or every row without a label column) are the training positives.
Other data (CLASH: miRBind's train_set_1_1 with its evaluation sets): --negatives given trains on
the tables' label-0 rows as they are; --negative-family seed keeps re-paired negatives out of the
positive's seed family (nt 2–8); --select scores the given labelled tables after every epoch or
iteration (select AP in the log) and keeps the weights with the highest AP, so the test tables
choose nothing.`,
  examples: [
    "mirna-dl train --mode standard --train out/split/train_positives.tsv.gz --out out/standard --positives 5000 --epochs 10",
    "mirna-dl train --mode iterative --variant faithful --train out/split/train_positives.tsv.gz --out out/iterative   # again with --resume after an interruption",
    `mirna-dl train --mode standard --train out/split/train_positives.tsv.gz --positive-rows out/iterative/${POSITIVE_ROWS_FILE} --out out/standard-same-positives   # the iterative run's positives, trained the standard way`,
  ],
  options: {
    mode: option({ arg: "MODE", parse: oneOf("standard", "iterative"), required: true, help: "standard | iterative" }),
    variant: option({ arg: "V", parse: oneOf("faithful", "improved"), default: "improved" as "faithful" | "improved", help: "iterative: faithful | improved" }),
    train: option({ arg: "TSV[,TSV…]", parse: pathList, required: true, help: "training tables" }),
    out: option({ short: "o", arg: "DIR", required: true, help: "output folder" }),
    seed: option({ arg: "N", parse: integerInRange(0), default: DEFAULT_SEED, help: "seed of every random choice" }),
    resume: flag("continue the checkpoint in DIR (without it, a folder with a checkpoint is refused)"),
    "leak-guard": option({ arg: "SPLIT_DIR", help: "drop training rows whose site shares held-out sequence of that split (mirna-dl split)" }),
    positives: option({ arg: "N", parse: positiveInteger, help: "standard: positives to train on (default: all)" }),
    "positive-rows": option({ arg: "TSV", help: `standard: train on exactly these positives (0-based rows of the training positives, column 'row', e.g. an iterative run's ${POSITIVE_ROWS_FILE})` }),
    ratio: option({ arg: "R", parse: integerInRange(0), default: 10, help: "standard: negatives per positive" }),
    epochs: option({ arg: "N", parse: integerInRange(0), default: 10, help: "standard: epochs" }),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 32, help: "standard and improved: samples per step" }),
    "validation-fraction": option({ arg: "X", parse: fraction, default: 0.05, help: "standard: the last part held out for validation" }),
    "early-stopping": option({ arg: "N", parse: positiveInteger, help: "standard: stop after N epochs without a lower validation loss, keep the best" }),
    stream: flag("standard: stream one labelled table in chunks"),
    negatives: option({ arg: "N", parse: oneOf("repaired", "given"), default: "repaired" as "repaired" | "given", help: "standard: repaired (--ratio re-paired miRNAs per positive) | given (the label-0\nrows of the --train tables, as they are)" }),
    "negative-family": option({ arg: "F", parse: oneOf("none", "seed"), default: "none" as "none" | "seed", help: "re-paired negatives never use a miRNA of the positive's family: none (only\nits own miRNA) | seed (same nucleotides 2–8)" }),
    select: option({ arg: "TSV[,TSV…]", parse: pathList, help: "labelled tables outside the training data that choose the model: scored\nafter every epoch / iteration, the weights with the highest AP are kept (with\n--early-stopping N, standard training stops after N epochs without a better one)" }),
    iterations: option({ arg: "N", parse: positiveInteger, default: 28, help: "iterative: iterations (at most)" }),
    "positives-per-iteration": option({ arg: "N", parse: positiveInteger, default: 1000, help: "iterative: positives per iteration" }),
    minibatches: option({ arg: "N", parse: integerInRange(2), default: 500, help: "faithful: minibatches per iteration (the last validates)" }),
    "max-ratio": option({ arg: "R", parse: positiveInteger, default: 20, help: "improved: largest ratio" }),
    metric: option({ arg: "M", parse: oneOf("f1", "ap"), default: "f1" as "f1" | "ap", help: "improved: validation metric, f1 (at 0.5) or ap" }),
    "validation-positives": option({ arg: "N", parse: positiveInteger, default: 1000, help: "improved: training positives held out for validation" }),
    quiet: flag("no progress on standard error", { short: "q" }),
  },
  async run(o) {
    if (o.stream && o.mode !== "standard") throw new UsageError("--stream goes with --mode standard");
    if (o.stream && o.train.length !== 1) throw new UsageError("--stream takes one --train table");
    if (o.stream && o["leak-guard"] !== undefined) throw new UsageError("--leak-guard cannot filter a streamed table; filter it first");
    if (o["positive-rows"] !== undefined && (o.mode !== "standard" || o.stream)) throw new UsageError("--positive-rows goes with --mode standard (not --stream)");
    if (o["positive-rows"] !== undefined && o.positives !== undefined) throw new UsageError("give --positives or --positive-rows, not both");
    if (o.negatives === "given" && (o.mode !== "standard" || o.stream)) throw new UsageError("--negatives given goes with --mode standard (not --stream, which trains on the table's labels anyway)");
    if (o.stream && o.select !== undefined) throw new UsageError("--select is not available with --stream");
    makeOutputFolder(o.out); // before any work: a file there, or a path that cannot be resolved, fails now
    const checkpointDir = path.join(o.out, "checkpoint");
    if (!o.resume && fs.existsSync(checkpointDir) && readLatestCheckpoint(checkpointDir) !== null) {
      throw new UsageError(`${o.out} holds a checkpoint of an earlier run; add --resume to continue it, or choose another --out`);
    }
    const positiveRows = o["positive-rows"] !== undefined ? readPositiveRows(o["positive-rows"]) : undefined;
    const started = performance.now();
    const say = (line: string) => {
      if (!o.quiet) process.stderr.write(`mirna-dl: ${line}\n`);
    };
    let positives = { mirnas: [] as string[], sites: [] as string[] };
    const givenNegatives = { mirnas: [] as string[], sites: [] as string[] };
    const sources: Record<string, unknown>[] = [];
    if (!o.stream) {
      for (const file of o.train) {
        const table = await readPairTable(file);
        const rows = table.labels ? table.mirnas.flatMap((_, i) => (table.labels![i] === 1 ? [i] : [])) : table.mirnas.map((_, i) => i);
        positives = { mirnas: [...positives.mirnas, ...rows.map((i) => table.mirnas[i]!)], sites: [...positives.sites, ...rows.map((i) => table.sites[i]!)] };
        if (o.negatives === "given" && table.labels) {
          table.labels.forEach((y, i) => {
            if (y === 0) {
              givenNegatives.mirnas.push(table.mirnas[i]!);
              givenNegatives.sites.push(table.sites[i]!);
            }
          });
        }
        sources.push({ file, format: table.format, rows: table.mirnas.length, positives: rows.length, ...(o.negatives === "given" ? { negatives: table.labels ? table.mirnas.length - rows.length : 0 } : {}) });
        if (table.format === "paper") say(`${file}: the original's training table, ${rows.length} positives of ${new Set(table.mirnas).size} miRNA families`);
      }
      if (o["leak-guard"] !== undefined) {
        const { pairs, dropped } = withoutLeaks({ ...positives, labels: null }, readLeakGuard(o["leak-guard"]));
        positives = { mirnas: pairs.mirnas, sites: pairs.sites };
        say(`leak guard (${o["leak-guard"]}): ${dropped} training positives dropped, ${positives.mirnas.length} kept`);
      }
      if (positives.mirnas.length === 0) throw new InputError(`no positives in ${o.train.join(", ")}`);
      if (o.negatives === "given" && givenNegatives.mirnas.length === 0) throw new InputError(`--negatives given: no label-0 rows in ${o.train.join(", ")}`);
      if (o.negatives === "given" && o["leak-guard"] !== undefined) throw new UsageError("--leak-guard filters positives only; with --negatives given, filter the tables first");
      const outside = positiveRows?.findIndex((r) => r >= positives.mirnas.length) ?? -1;
      if (outside >= 0) {
        throw new InputError(`row ${positiveRows![outside]} is beyond the ${positives.mirnas.length} training positives of ${o.train.join(", ")}`, { file: o["positive-rows"], row: outside + 1, column: "row" });
      }
    }
    // The model-selection set: every row of the --select tables (both classes needed).
    let selection: { mirnas: string[]; sites: string[]; labels: Uint8Array } | undefined;
    if (o.select !== undefined) {
      const parts: PairTable[] = [];
      for (const file of o.select) parts.push(await readPairTable(file, { requireLabels: true }));
      const labels = Uint8Array.from(parts.flatMap((t) => Array.from(t.labels!)));
      if (!labels.includes(1) || !labels.includes(0)) throw new InputError(`--select needs positives and negatives; ${o.select.join(", ")} hold${labels.includes(1) ? " no negatives" : " no positives"}`);
      selection = { mirnas: parts.flatMap((t) => t.mirnas), sites: parts.flatMap((t) => t.sites), labels };
      sources.push(...o.select.map((file, k) => ({ file, role: "selection", rows: parts[k]!.mirnas.length })));
    }
    await initBackend({ quiet: o.quiet });
    const model = buildArch00b({ seed: o.seed });
    let stepReport: ((done: number, total: number) => void) | null = null;
    let reportEpoch = 0;
    const onStep = (epoch: number, done: number, total: number | undefined) => {
      if (o.quiet || total === undefined) return;
      if (epoch !== reportEpoch) {
        reportEpoch = epoch;
        stepReport = progressReporter(`${o.mode === "iterative" ? "iteration" : "epoch"} ${epoch}`, { everyPercent: 50 });
      }
      stepReport!(done, total);
    };
    const logRecord = (r: EpochRecord) => {
      const f = (k: string) => (typeof r[k] === "number" ? (r[k] as number).toFixed(4) : "—");
      say(o.mode === "iterative"
        ? `iteration ${r.epoch}: ratio ${r.ratio}, positives used ${r.positivesUsed}, distinct negatives ${r.distinctNegatives}, loss ${f("loss")}, val loss ${f("valLoss")}, val F1 ${f("valF1")}, val AP ${f("valAp")}${"selAp" in r ? `, select AP ${f("selAp")}` : ""} (${r.seconds.toFixed(1)} s)`
        : `epoch ${r.epoch}: loss ${f("loss")}, accuracy ${f("accuracy")}, val loss ${f("valLoss")}, val AP ${f("valAp")}${"selAp" in r ? `, select AP ${f("selAp")}` : ""} (${r.seconds.toFixed(1)} s)`);
    };
    try {
      let summary: Record<string, unknown>;
      if (o.mode === "iterative") {
        const r = await trainIterative(model, positives, {
          variant: o.variant, iterations: o.iterations, positivesPerIteration: o["positives-per-iteration"], minibatches: o.minibatches, batchSize: o["batch-size"],
          validationPositives: o["validation-positives"], metric: o.metric, maxRatio: o["max-ratio"], seed: o.seed, checkpointDir,
          negativeFamily: o["negative-family"], selection, onIteration: logRecord, onStep,
        });
        writePositiveRows(path.join(o.out, POSITIVE_ROWS_FILE), r.positiveRows);
        if (r.bestIteration !== null) say(`kept the weights of iteration ${r.bestIteration} (highest AP on --select)`);
        summary = { history: r.history, resumedFromEpoch: r.resumedFromEpoch, stoppedBy: r.stoppedBy, bestIteration: r.bestIteration, positivesUsed: r.positivesUsed, distinctNegatives: r.distinctNegatives, positiveRowsFile: POSITIVE_ROWS_FILE };
      } else if (o.stream) {
        const r = await trainStandardStream(model, o.train[0]!, {
          epochs: o.epochs, batchSize: o["batch-size"], validationFraction: o["validation-fraction"], seed: o.seed, checkpointDir, onEpoch: logRecord, onStep,
        });
        summary = { history: r.history, resumedFromEpoch: r.resumedFromEpoch, rows: r.rows, trainRows: r.trainRows, validationRows: r.validationRows };
      } else {
        const r = await trainStandard(model, positives, {
          positives: o.positives, positiveRows, ratio: o.ratio, epochs: o.epochs, batchSize: o["batch-size"], validationFraction: o["validation-fraction"],
          earlyStopping: o["early-stopping"] === undefined ? undefined : { patience: o["early-stopping"] },
          negatives: o.negatives === "given" ? givenNegatives : undefined, negativeFamily: o["negative-family"], selection,
          seed: o.seed, checkpointDir, onEpoch: logRecord, onStep,
        });
        if (selection && r.bestEpoch !== null) say(`kept the weights of epoch ${r.bestEpoch} (highest AP on --select)`);
        summary = { history: r.history, resumedFromEpoch: r.resumedFromEpoch, positivesUsed: r.positivesUsed, negativesUsed: r.negativesUsed, bestEpoch: r.bestEpoch };
      }
      await saveTfjsModel(model, path.join(o.out, "model"));
      const seconds = (performance.now() - started) / 1000;
      writeFileAtomic(path.join(o.out, "training.json"), JSON.stringify({
        mode: o.mode, variant: o.mode === "iterative" ? o.variant : null, options: o, sources, backend: describeBackend(), seconds, date: new Date().toISOString(), ...summary,
      }, null, 1) + "\n");
      say(`model written to ${path.join(o.out, "model")} (${formatDuration(seconds)})`);
    } finally {
      disposeModel(model);
    }
  },
});
