import * as path from "node:path";
import { InputError, shorten } from "../errors";
import { bootstrapAveragePrecision, bootstrapDifference, rankMetrics } from "../metrics";
import { PAIR_FORMATS, PairTable } from "./tables";

/**
 * Comparing binding models on labelled pair tables, as miRBench does in Python (`mirna-dl
 * benchmark`): per table and model the average precision and ROC-AUC, and the paired bootstrap
 * interval of each model's AP difference against the table's best model; other tools' per-row
 * scores come from a table of scores matched to the rows by (miRNA, site).
 */

/**
 * Columns of a scores table that are never a tool's scores although they may hold numbers: the
 * annotations of miRBench's tables (noncodingRNA_name … gene_cluster_ID).
 */
export const ANNOTATION_COLUMNS: readonly string[] = ["noncodingRNA_name", "noncodingRNA_fam", "feature", "chr", "start", "end", "strand", "gene_cluster_ID", "test"];

/** Other tools' scores, as read from one table (miRBench's prediction files, or `benchmark`'s own scores.tsv). */
export interface ToolScores {
  file: string;
  /** The table's pairs (miRNAs fitted to 20 nt as for any table of its format) and labels, if it has them. */
  table: PairTable;
  /** The tools: one per numeric column, in column order. */
  tools: string[];
  /** Per tool its score per row of the table, each shape=(rows,). */
  scores: Float64Array[];
  /** Columns that are neither pair columns, annotations nor numbers (not used). */
  ignored: string[];
}

/** A cell that reads as a finite number (`0.93`, `-1e-3`, `1`). */
function parseScore(cell: string): number {
  const x = cell.trim() === "" ? NaN : Number(cell);
  return Number.isFinite(x) ? x : NaN;
}

/**
 * The tool columns of a pair table: every column other than the format's miRNA, site and label
 * columns and {@link ANNOTATION_COLUMNS} whose first row is a number. Every row of a tool column
 * must then be a finite number (an InputError names the file, row and column otherwise). A table
 * with no row, or no tool column, is an InputError.
 */
export function readToolScores(table: PairTable): ToolScores {
  const file = table.file;
  if (table.lines.length === 0) throw new InputError("no rows: a table of scores needs one row per pair", { file });
  const own = PAIR_FORMATS[table.format];
  const skip = new Set<string>([own.mirna, own.site, own.label, ...ANNOTATION_COLUMNS]);
  const first = table.lines[0]!.split("\t");
  const toolColumns: number[] = [];
  const ignored: string[] = [];
  table.header.forEach((name, c) => {
    if (skip.has(name)) return;
    if (Number.isNaN(parseScore(first[c] ?? ""))) ignored.push(name);
    else toolColumns.push(c);
  });
  if (toolColumns.length === 0) {
    throw new InputError(
      `no score columns: a table of scores has the pair columns (${own.mirna}, ${own.site}[, ${own.label}]) and one numeric column per tool; found ${table.header.map((h) => shorten(h, 30)).join(", ")}`,
      { file },
    );
  }
  const scores = toolColumns.map(() => new Float64Array(table.lines.length));
  table.lines.forEach((line, r) => {
    const cells = line.split("\t");
    toolColumns.forEach((c, k) => {
      const x = parseScore(cells[c]!);
      if (Number.isNaN(x)) throw new InputError(`'${shorten(cells[c]!, 30)}' is not a number (a score column holds a number on every row)`, { file, row: r + 1, column: table.header[c]! });
      scores[k]![r] = x;
    });
  });
  return { file, table, tools: toolColumns.map((c) => table.header[c]!), scores, ignored };
}

/** Where the rows of a table of scores fall in an input table: `rows[i]` = the scores row of input row i. */
export interface ScoreAlignment {
  rows: Int32Array;
  /** Rows of the scores table no input row took (they are not used). */
  unused: number;
}

/** The key rows are matched by: the pair, and the label when both tables have one. */
function pairKey(mirna: string, site: string, label: number | null): string {
  return label === null ? `${mirna}\t${site}` : `${mirna}\t${site}\t${label}`;
}

/**
 * Matches every row of `input` to a row of `scores` by (miRNA, site) — and label, when both
 * tables have labels — taking repeated pairs in order (the k-th occurrence in the input gets the
 * k-th in the scores table). An input row with no match is an InputError naming it (and, when
 * the pair is there with the other label, that row). Extra rows of the scores table are allowed
 * (a scores file may cover several test sets) and counted.
 */
export function alignToolScores(input: PairTable, scores: ToolScores): ScoreAlignment {
  const withLabels = input.labels !== null && scores.table.labels !== null;
  const queues = new Map<string, number[]>();
  const t = scores.table;
  for (let r = 0; r < t.mirnas.length; r++) {
    const key = pairKey(t.mirnas[r]!, t.sites[r]!, withLabels ? t.labels![r]! : null);
    const q = queues.get(key);
    if (q) q.push(r);
    else queues.set(key, [r]);
  }
  const rows = new Int32Array(input.mirnas.length);
  const taken = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const label = withLabels ? input.labels![i]! : null;
    const key = pairKey(input.mirnas[i]!, input.sites[i]!, label);
    const q = queues.get(key);
    const k = taken.get(key) ?? 0;
    if (!q || k >= q.length) {
      let detail = `this pair (miRNA ${input.mirnas[i]}, site ${input.sites[i]}) has no row of scores in ${scores.file}`;
      if (q) detail += ` (it is there ${q.length} time${q.length === 1 ? "" : "s"}, fewer than here)`;
      else if (label !== null) {
        const other = queues.get(pairKey(input.mirnas[i]!, input.sites[i]!, 1 - label));
        if (other) detail += ` with label ${label}: it is there with label ${1 - label} (row ${other[0]! + 1})`;
      }
      throw new InputError(`${detail}; rows are matched by miRNA and site${withLabels ? " and label" : ""}`, { file: input.file, row: i + 1 });
    }
    rows[i] = q[k]!;
    taken.set(key, k + 1);
  }
  return { rows, unused: t.mirnas.length - rows.length };
}

/** One model's scores on one table, shape=(rows,) in the table's row order. */
export interface ModelScores {
  name: string;
  scores: ArrayLike<number>;
}

/** One model on one table, with its AP difference against the table's best model. */
export interface BenchmarkRow {
  model: string;
  averagePrecision: number;
  rocAuc: number;
  /** True for the model with the highest AP (the first of ties). */
  best: boolean;
  /** AP(model) − AP(best) on the rows, with the central 95% interval over paired resamples; null for the best model and without a bootstrap. */
  difference: number | null;
  lo: number | null;
  hi: number | null;
}

/** Every model on one table. */
export interface BenchmarkTable {
  name: string;
  n: number;
  positives: number;
  rows: BenchmarkRow[];
  /** The bootstrap the intervals come from (null: none was asked for). */
  bootstrap: { resamples: number; seed: number; level: number } | null;
}

/** Options of {@link benchmarkTable}. */
export interface BenchmarkOptions {
  /** Paired, stratified bootstrap resamples over rows (default 1,000; 0: no intervals). */
  resamples?: number;
  /** Seed of the resampling (default 1). */
  seed?: number;
}

/**
 * AP and ROC-AUC of every model on one labelled table, and for every model but the best (by AP)
 * the paired bootstrap interval of AP(model) − AP(best): each resample draws positives among the
 * positives and negatives among the negatives, and all models are scored on the same resample
 * ({@link bootstrapAveragePrecision}). `labels` 1 / 0, shape=(n,); model names must be distinct.
 */
export function benchmarkTable(name: string, labels: ArrayLike<number>, models: readonly ModelScores[], opts: BenchmarkOptions = {}): BenchmarkTable {
  if (models.length === 0) throw new InputError(`${name}: no models to compare`);
  const names = models.map((m) => m.name);
  const twice = names.find((m, i) => names.indexOf(m) !== i);
  if (twice !== undefined) throw new InputError(`${name}: two models named '${twice}'`);
  const resamples = opts.resamples ?? 1000;
  const seed = opts.seed ?? 1;
  const metrics = models.map((m) => {
    if (m.scores.length !== labels.length) throw new InputError(`${name}: model '${m.name}' has ${m.scores.length} scores for ${labels.length} rows`);
    return rankMetrics(labels, m.scores);
  });
  const n = metrics[0]!.n;
  const positives = metrics[0]!.positives;
  let bestIndex = 0;
  metrics.forEach((m, i) => {
    if (m.averagePrecision > metrics[bestIndex]!.averagePrecision) bestIndex = i;
  });
  const best = names[bestIndex]!;
  const boot = resamples > 0 && models.length > 1
    ? bootstrapAveragePrecision(labels, Object.fromEntries(models.map((m) => [m.name, [m.scores]])), { resamples, seed })
    : null;
  const rows = models.map((m, i): BenchmarkRow => {
    const isBest = i === bestIndex;
    const diff = boot && !isBest ? bootstrapDifference(boot, m.name, best) : null;
    return {
      model: m.name,
      averagePrecision: metrics[i]!.averagePrecision,
      rocAuc: metrics[i]!.rocAuc,
      best: isBest,
      difference: isBest ? null : diff ? diff.difference : metrics[i]!.averagePrecision - metrics[bestIndex]!.averagePrecision,
      lo: diff ? diff.lo : null,
      hi: diff ? diff.hi : null,
    };
  });
  return { name, n, positives, rows, bootstrap: boot ? { resamples, seed, level: 0.95 } : null };
}

/**
 * Short, distinct names for model arguments: 'seed' → seed-match; a path → its last component
 * without `.h5`, or as many trailing components as it takes to differ from every other
 * argument's name (`a/seed-1/model` beside `b/seed-1/model`; names with different numbers of
 * components never coincide). The same argument twice is an InputError.
 */
export function modelNames(specs: readonly string[]): string[] {
  const twice = specs.find((s, i) => specs.indexOf(s) !== i);
  if (twice !== undefined) throw new InputError(`model '${twice}' given twice`);
  const parts = specs.map((s) => (s === "seed" || s === "seed-match" ? ["seed-match"] : path.resolve(s).replace(/\.h5$/i, "").split(path.sep).filter((p) => p !== "")));
  const suffix = (i: number, k: number) => parts[i]!.slice(-k).join("/");
  return specs.map((spec, i) => {
    for (let k = 1; k <= parts[i]!.length; k++) {
      const name = suffix(i, k);
      if (!parts.some((_, j) => j !== i && suffix(j, k) === name)) return name;
    }
    // Distinct arguments that resolve to one path ('a.h5' and './a.h5'): what the user typed.
    return spec;
  });
}

/** A table's name in reports and file names: its file name without `.tsv` / `.tsv.gz` (`test_set_1_10_CLASH2013_paper`). */
export function tableName(file: string): string {
  return path.basename(file).replace(/(\.tsv)?(\.gz)?$/i, "") || "table";
}
