/**
 * Fuzz test of the TSV reader (lib/src/io/tsv.ts): 10,000 seeded random inputs — random bytes,
 * random quoting, random field counts, stray tabs, line breaks, CR, BOM, NUL, invalid UTF-8,
 * binary signatures. Each gives either a clean table or an InputError naming the file (and the
 * row, for a problem in a row); never another exception, never a hang. A clean table has as many
 * cells in every row as in the header, writes back as it was read (byte for byte when the input
 * is in the canonical form: LF line ends, no BOM, final newline), and is read the same way whole
 * and streamed in chunks.
 * Run: node --import tsx --test test/tsvFuzz.test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../lib/src/errors";
import { formatTsv, parseTsvTable, readTsvChunks, TsvTable } from "../lib/src/io/tsv";
import { mulberry32 } from "../lib/src/random";
import { tempDir } from "./helpers";

const CASES = 10_000;
const CHUNKED_CASES = 1_000;
const FILE = "fuzz.tsv";
/** File-level problems (no row to name). */
const FILE_LEVEL = /^fuzz\.tsv: (empty file|the table has a header but no data rows|is (an HDF5 file|a NumPy|a zip|a PNG|an xz|a bzip2|a zstd))/;

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, n: number) => Math.floor(random() * n);

const PIECES = ["A", "c", "G", "T", "N", "x", "1", "0", "-", " ", "\"", "\"\"", "'", "positive", "negative", "é", "ß", "🧬", ",", ";", "\\", "\\t", "score", "label"];
const NASTY = ["\t", "\n", "\r", "\r\n", "\u0000", "\ufeff", "\"\t\"", "\"\n\""];

/** A random cell: pieces, sometimes quoted (CSV style, with doubled quotes), rarely holding a tab or a line break. */
function cell(random: Random): string {
  let text = "";
  const length = int(random, 6);
  for (let i = 0; i < length; i++) text += random() < 0.03 ? pick(random, NASTY) : pick(random, PIECES);
  if (random() < 0.2) text = `"${text.replace(/"/g, "\"\"")}"`;
  return text;
}

/** A random table: a header, rows of mostly the right width (sometimes one field more or less). */
function randomTable(random: Random): Buffer {
  const width = 1 + int(random, 5);
  const header = Array.from({ length: width }, (_, k) => (random() < 0.9 ? `col${k}${random() < 0.1 ? "\"" : ""}` : cell(random)));
  const lines = [header.join("\t")];
  const rows = int(random, 8);
  for (let r = 0; r < rows; r++) {
    const fields = random() < 0.1 ? Math.max(1, width + pick(random, [-1, 1, 2])) : width;
    lines.push(Array.from({ length: fields }, () => cell(random)).join("\t"));
    if (random() < 0.03) lines.push("");
  }
  const eol = random() < 0.1 ? "\r\n" : "\n";
  let text = lines.join(eol) + (random() < 0.85 ? eol : "");
  if (random() < 0.05) text = "\ufeff" + text;
  return Buffer.from(text, "utf8");
}

/** Random bytes, sometimes behind a binary signature or with a tab-separated prefix. */
function randomBytes(random: Random): Buffer {
  const length = int(random, 200);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = random() < 0.3 ? pick(random, [9, 10, 13, 34, 65, 0xc3, 0xa9, 0xff, 0]) : int(random, 256);
  const prefix = pick(random, [
    Buffer.alloc(0),
    Buffer.from("a\tb\n"),
    Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]),
    Buffer.from("PK\u0003\u0004", "latin1"),
  ]);
  return Buffer.concat([prefix, bytes]);
}

/** Checks one outcome: a well-formed table, or an InputError naming the file and, when it is about a row, the row. */
function checkOutcome(body: Buffer, run: () => TsvTable, label: string): TsvTable | InputError {
  let table: TsvTable;
  try {
    table = run();
  } catch (e) {
    assert.ok(e instanceof InputError, `${label}: not an InputError: ${(e as Error)?.stack ?? e}`);
    assert.equal(e.where.file, FILE, `${label}: names the file: ${e.message}`);
    assert.ok(e.where.row !== undefined || FILE_LEVEL.test(e.message), `${label}: names a row: ${e.message}`);
    assert.ok(e.message.length < 400, `${label}: a short message: ${e.message.length} characters`);
    assert.doesNotMatch(e.message, /[\u0000-\u0008\u000b-\u001f]/, `${label}: no raw control bytes in the message`);
    return e;
  }
  const width = table.header.length;
  assert.ok(width >= 1);
  for (const column of table.columns) assert.equal(column.length, table.lines.length, `${label}: every column has every row`);
  table.lines.forEach((line, r) => {
    const cells = table.columns.map((c) => c[r]!);
    assert.equal(cells.join("\t"), line, `${label}: row ${r + 1} cells are its line split at tabs`);
  });
  // Written back and read again: the same table.
  const written = formatTsv(table.header, table.columns, FILE);
  const again = parseTsvTable(Buffer.from(written), FILE);
  assert.deepEqual(again.header, table.header, `${label}: header round trip`);
  assert.deepEqual(again.columns, table.columns, `${label}: cells round trip`);
  // Canonical input (LF, no BOM, final newline, no empty lines): byte-identical.
  const text = body.toString("utf8");
  if (!text.includes("\r") && !text.startsWith("\ufeff") && text.endsWith("\n") && !text.includes("\n\n") && width > 1) {
    assert.equal(written, text, `${label}: byte-identical round trip`);
  }
  return table;
}

test(`TSV reader fuzz: ${CASES.toLocaleString("en-US")} random inputs give a clean table or an InputError naming a row`, () => {
  const random = mulberry32(20241130);
  let clean = 0;
  let errors = 0;
  const started = performance.now();
  for (let k = 0; k < CASES; k++) {
    const body = random() < 0.75 ? randomTable(random) : randomBytes(random);
    const outcome = checkOutcome(body, () => parseTsvTable(body, FILE), `case ${k}`);
    if (outcome instanceof InputError) errors++;
    else clean++;
  }
  // Both outcomes are exercised, and no case hangs (the whole run is a few seconds).
  assert.ok(clean > CASES / 6, `${clean} clean tables`);
  assert.ok(errors > CASES / 10, `${errors} errors`);
  assert.ok(performance.now() - started < 60_000, "no case takes long");
});

test(`TSV reader fuzz: ${CHUNKED_CASES.toLocaleString("en-US")} random files read whole and streamed in chunks of 1–3 rows agree`, async () => {
  const dir = tempDir();
  const random = mulberry32(7);
  for (let k = 0; k < CHUNKED_CASES; k++) {
    const body = random() < 0.85 ? randomTable(random) : randomBytes(random);
    const file = path.join(dir, FILE);
    fs.writeFileSync(file, body);
    const rows = 1 + int(random, 3);
    const whole = checkOutcome(body, () => parseTsvTable(body, FILE), `case ${k}`);
    let streamed: { header: string[]; columns: string[][] } | InputError;
    const cwd = process.cwd();
    process.chdir(dir); // so that errors name the file as FILE
    try {
      const header: string[][] = [];
      const columns: string[][] = [];
      for await (const chunk of readTsvChunks(FILE, { rows })) {
        header.push(chunk.table.header);
        chunk.table.columns.forEach((c, i) => (columns[i] ??= []).push(...c));
      }
      streamed = { header: header[0]!, columns };
    } catch (e) {
      assert.ok(e instanceof InputError, `case ${k} (chunks of ${rows}): not an InputError: ${(e as Error)?.stack ?? e}`);
      streamed = e;
    } finally {
      process.chdir(cwd);
    }
    if (whole instanceof InputError) {
      assert.ok(streamed instanceof InputError, `case ${k}: whole read fails (${whole.message}) but the chunked read does not`);
      assert.equal(streamed.message, whole.message, `case ${k} (chunks of ${rows}): same message`);
    } else {
      assert.ok(!(streamed instanceof InputError), `case ${k} (chunks of ${rows}): chunked read fails: ${(streamed as InputError).message}`);
      assert.deepEqual(streamed.header, whole.header, `case ${k}: header`);
      assert.deepEqual(streamed.columns, whole.columns, `case ${k}: cells`);
    }
  }
});
