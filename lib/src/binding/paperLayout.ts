/**
 * The layout of the original work's training table, `train_set_positives.tsv` (published in
 * github.com/ML-Bioinfo-CEITEC/mirna_binding as data/datasets/train_set_positives.tar.xz): the
 * ENCORI AGO2 positives outside chr1, one row per site, written by the notebook
 * notebook/generate_encori_train_test_datasets_lock.ipynb with pandas `to_csv(sep="\t",
 * header=True, index=False)`. Its 35 columns, in file order, are the 22 columns of the ENCORI
 * API dump, then the notebook's own (name, midpoint, random_int, random_start, random_end,
 * pos_sequence: the 50-nt window), then the 6 TargetScan miR_Family_Info.txt columns joined on
 * miRNAid, then `familyseqRepresentative` (the family's longest mature sequence, cut or padded
 * with N to 20 nt, U → T). The original's training notebook (notebook/model_train_lock.ipynb)
 * reads only `familyseqRepresentative` (the miRNA) and `pos_sequence` (the site); every row is a
 * positive. chr1 is the test chromosome: its sites make the scan and miRNA-negative test sets,
 * and the table holds none of them.
 *
 * These checks are used by the pair-table reader (tables.ts), which detects the layout from its
 * header like the other table formats.
 */
import { InputError, shorten } from "../errors";

/** The 35 columns of the original's training table, in file order. */
export const PAPER_TRAIN_COLUMNS = [
  "miRNAid", "miRNAname", "geneID", "geneName", "geneType", "chromosome",
  "narrowStart", "narrowEnd", "broadStart", "broadEnd", "strand", "clipExpNum", "degraExpNum", "RBP",
  "PITA", "RNA22", "miRmap", "microT", "miRanda", "PicTar", "TargetScan", "pancancerNum",
  "name", "midpoint", "random_int", "random_start", "random_end", "pos_sequence",
  "miRFamily", "Seed+m8", "SpeciesID", "MiRBase ID", "MatureSequence", "Family Conservation?",
  "familyseqRepresentative",
] as const;

/** The columns the training reads: the miRNA (family representative, 20 nt) and the site (50 nt). */
export const PAPER_MIRNA_COLUMN = "familyseqRepresentative";
export const PAPER_SITE_COLUMN = "pos_sequence";
export const PAPER_CHROMOSOME_COLUMN = "chromosome";

/** Rows of the original's table (its generating notebook prints "train set size is: (179148, 35)"). */
export const PAPER_TRAIN_ROWS = 179_148;

/** The chromosome the original kept for testing (its scan and miRNA-negative test sets). */
export const PAPER_TEST_CHROMOSOME = "chr1";

/** Chromosome labels a training row may carry: UCSC names of GRCh37 as ENCORI writes them, chr1 excluded. */
const TRAINING_CHROMOSOME = /^chr([2-9]|1[0-9]|2[0-2]|X|Y|M)$/;

/** Names of the layout for messages. */
export const PAPER_LAYOUT_TITLE = "the original's 35-column training table (train_set_positives.tsv)";

/**
 * True when a header looks like the original's training table (it holds its miRNA or site
 * column), so that a table missing other columns of it gets this layout's error rather than
 * "no known format".
 */
export function looksLikePaperTable(columns: readonly string[]): boolean {
  return columns.includes(PAPER_MIRNA_COLUMN) || columns.includes(PAPER_SITE_COLUMN);
}

/**
 * Throws an InputError (file, header, column) unless `columns` are exactly the 35 columns of
 * {@link PAPER_TRAIN_COLUMNS} (in any order): a missing column and an extra one (e.g. a pandas
 * index column) are both named.
 */
export function checkPaperHeader(columns: readonly string[], file: string): void {
  const missing = PAPER_TRAIN_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    const list = missing.length <= 6 ? missing.map((c) => `'${c}'`).join(", ") : `${missing.slice(0, 6).map((c) => `'${c}'`).join(", ")} and ${missing.length - 6} more`;
    throw new InputError(
      `missing column${missing.length > 1 ? "s" : ""} ${list} of ${PAPER_LAYOUT_TITLE}; it has ${columns.length} columns, the original ${PAPER_TRAIN_COLUMNS.length}: ${PAPER_TRAIN_COLUMNS.join(", ")}`,
      { file, row: 0, column: missing[0] },
    );
  }
  const known = new Set<string>(PAPER_TRAIN_COLUMNS);
  const extra = columns.filter((c) => !known.has(c));
  if (extra.length > 0) {
    throw new InputError(
      `column '${shorten(extra[0]!, 40)}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ""} is not a column of ${PAPER_LAYOUT_TITLE} (a pandas index column? the original was written with index=False)`,
      { file, row: 0, column: extra[0] },
    );
  }
}

/**
 * Checks the chromosome of every row (`values[i]` is data row `firstRow + i`, on line
 * `firstRow + i + 1`): a training row must be on chr2–chr22, chrX, chrY or chrM. chr1 (the test
 * chromosome) and malformed labels are InputErrors naming file, row (line) and column.
 */
export function checkPaperChromosomes(values: readonly (string | null)[], file: string, firstRow: number): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? "";
    if (TRAINING_CHROMOSOME.test(value)) continue;
    const where = { file, row: firstRow + i, line: firstRow + i + 1, column: PAPER_CHROMOSOME_COLUMN };
    if (value === PAPER_TEST_CHROMOSOME) {
      throw new InputError(
        `a ${PAPER_TEST_CHROMOSOME} site: ${PAPER_TEST_CHROMOSOME} is the test chromosome of the original (its scan and miRNA-negative test sets), so its training table holds no ${PAPER_TEST_CHROMOSOME} row`,
        where,
      );
    }
    throw new InputError(
      value.trim() === "" ? "empty chromosome (expected chr2–chr22, chrX, chrY or chrM)" : `malformed chromosome '${shorten(value, 30)}' (expected chr2–chr22, chrX, chrY or chrM, as ENCORI writes GRCh37 names)`,
      where,
    );
  }
}
