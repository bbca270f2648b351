/** Positive-rows files (lib/src/binding/positiveRows.ts): round trip and clear errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { readPositiveRows, writePositiveRows } from "../lib/src/binding/positiveRows";
import { tempDir, writeFixture } from "./helpers";

test("positive rows: written and read back in order", () => {
  const dir = tempDir();
  const file = path.join(dir, "rows.tsv");
  writePositiveRows(file, [5, 0, 17, 3]);
  assert.deepEqual(readPositiveRows(file), [5, 0, 17, 3]);
});

test("positive rows: a missing column, a bad value or a repeated row names the file and row", () => {
  const dir = tempDir();
  const noColumn = writeFixture(dir, "a.tsv", "index\n1\n");
  assert.throws(() => readPositiveRows(noColumn), (e: Error) => e.message.startsWith(`${noColumn}, header: no 'row' column`));
  const bad = writeFixture(dir, "b.tsv", "row\n1\n-2\n");
  assert.throws(() => readPositiveRows(bad), (e: Error) => e.message === `${bad}, row 2, column 'row': '-2' is not a non-negative integer`);
  const fraction = writeFixture(dir, "c.tsv", "row\n1.5\n");
  assert.throws(() => readPositiveRows(fraction), /row 1, column 'row': '1\.5' is not a non-negative integer/);
  const repeated = writeFixture(dir, "d.tsv", "row\n4\n7\n4\n");
  assert.throws(() => readPositiveRows(repeated), (e: Error) => e.message === `${repeated}, row 3, column 'row': row 4 repeats data row 1`);
  assert.throws(() => readPositiveRows(path.join(dir, "none.tsv")), /none\.tsv: file not found/);
});
