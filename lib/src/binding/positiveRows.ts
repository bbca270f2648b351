import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { readTsvTable } from "../io/tsv";

/**
 * Which training positives a run trained on, as a file: `mirna-dl train --mode iterative` writes
 * the rows it used (`positive_rows.tsv` in its folder) and `mirna-dl train --mode standard
 * --positive-rows FILE` trains on exactly those, so that a standard model can be compared with
 * an iterative one on the same positives.
 *
 * Format: a TSV with one column `row`, one 0-based index per line into the positives of the
 * `--train` tables (in file order, after `--leak-guard`), in the order the run took them.
 */

/** The file name an iterative run writes into its folder. */
export const POSITIVE_ROWS_FILE = "positive_rows.tsv";

/** Writes `rows` (0-based indices) to `file` (atomically). */
export function writePositiveRows(file: string, rows: readonly number[]): void {
  writeFileAtomic(file, "row\n" + rows.map((r) => `${r}\n`).join(""));
}

/**
 * Reads a positive-rows file: the `row` column as distinct non-negative integers. A missing
 * column, a value that is not such an integer or a repeated row is an InputError naming the
 * file and row.
 */
export function readPositiveRows(file: string): number[] {
  const table = readTsvTable(file);
  const column = table.header.indexOf("row");
  if (column < 0) throw new InputError(`no 'row' column (header: ${table.header.join(", ")})`, { file, row: 0 });
  const seen = new Map<number, number>();
  const firstRow = table.firstRow;
  return table.columns[column]!.map((raw, i) => {
    const where = { file, row: firstRow + i, column: "row" };
    const value = raw;
    if (!/^\d+$/.test(value.trim())) throw new InputError(`'${value}' is not a non-negative integer`, where);
    const row = Number(value.trim());
    if (!Number.isSafeInteger(row)) throw new InputError(`'${value}' is too large`, where);
    const earlier = seen.get(row);
    if (earlier !== undefined) throw new InputError(`row ${row} repeats data row ${earlier}`, where);
    seen.set(row, firstRow + i);
    return row;
  });
}
