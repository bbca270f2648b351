import { test } from "node:test";
import assert from "node:assert/strict";
import { dataPath, missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { readMaybeGzip } from "../lib/src/io/files";
import { readTsv } from "../lib/src/io/tsv";
import {
  HairpinColumn,
  HairpinColumns,
  HairpinImage,
  HairpinSymbol,
  baseBarLength,
  blankHairpinImage,
  decodeHairpinImage,
  encodeHairpinImage,
  findTerminalLoop,
  hairpinColumns,
  hairpinImageRows,
  renderHairpinColumns,
} from "../lib/src/hairpin/image";

const GOLDEN = dataPath("premirna", "derived", "encoder_golden.jsonl.gz");
const COLUMNS_TSV = dataPath("premirna", "derived", "images_columns.tsv.gz");

/** Pads short text rows to 100 columns with white. */
const rows25 = (rows: string[]): string[] => rows.map((row) => row.padEnd(100, "."));

/** RGB bytes of pixel (row, column). */
const pixelAt = (image: HairpinImage, row: number, x: number): number[] => {
  const at = (row * 100 + x) * 3;
  return Array.from(image.data.subarray(at, at + 3));
};

/** Row-by-row differences of two text images, for readable failures. */
function textDiff(expected: string[], actual: string[], limit = 12): string[] {
  const out: string[] = [];
  for (let row = 0; row < 25; row++) {
    for (let x = 0; x < 100; x++) {
      if (expected[row]![x] !== actual[row]![x]) out.push(`row ${row} col ${x}: expected ${expected[row]![x]}, got ${actual[row]![x]}`);
    }
  }
  return out.length > limit ? [...out.slice(0, limit), `… ${out.length - limit} more`] : out;
}

// ------------------------------------------------------------------ hand-made cases ------

// Stem G–C, U–G, a 2×2 internal loop (A·A, C·A), A–U, G–C, terminal loop GAAA.
//            0123456789012345
const SMALL_SEQ = "GUACAGGAAACUAAGC";
const SMALL_FOLD = "((..((....))..))";

test("a small hairpin: columns, bar lengths and the unpaired-run ramp quirk", () => {
  const columns = hairpinColumns(SMALL_SEQ, SMALL_FOLD);
  // Column 0 = loop apex: (upper seq[9], lower seq[6]) … column 9 = (seq[0], seq[15]).
  assert.equal(columns.map((c) => c.upper).join(""), "AAAGGACAUG");
  assert.equal(columns.map((c) => c.lower).join(""), "GAAACUAAGC");
  assert.deepEqual(columns.map((c) => c.paired), [false, false, false, false, true, true, false, false, true, true]);
  // Loop run at 0–3 (P = 4): b=4 plus 2,4,4,2. Pairs: G–C 1, A–U 2, U–G 3.
  // Internal-loop run at 6–7: j = 5, k = 8, so P = 14 and the run rises 2, 4 (not 2, 2): the quirk.
  const lengths = [6, 8, 8, 6, 1, 2, 6, 8, 3, 1];
  assert.deepEqual(columns.map((c) => c.upperLength), lengths);
  assert.deepEqual(columns.map((c) => c.lowerLength), lengths);

  const image = encodeHairpinImage(SMALL_SEQ, SMALL_FOLD);
  const expected = rows25([
    "", "", "", "",
    ".AA....A..", // row 4: bars of length 8 reach up to row 12 − 8
    ".AA....A..",
    "AAAG..CA..", // rows 6–8: length ≥ 6
    "AAAG..CA..",
    "AAAG..CA..",
    "AAAG..CAU.", // row 9: length ≥ 3 (U–G)
    "AAAG.ACAU.", // row 10: length ≥ 2 (A–U)
    "AAAGGACAUG", // rows 11–12: every column (G–C has length 1 = two pixels)
    "AAAGGACAUG",
    "GAAACUAAGC", // rows 13–14: lower base rows
    "GAAACUAAGC",
    "GAAA.UAAG.",
    "GAAA..AAG.",
    "GAAA..AA..",
    "GAAA..AA..",
    "GAAA..AA..",
    ".AA....A..", // rows 20–21: length 8 reaches 13 + 8
    ".AA....A..",
    "", "", "",
  ]);
  assert.deepEqual(hairpinImageRows(image), expected, textDiff(expected, hairpinImageRows(image)).join("\n"));
  // The colours themselves (Cordero et al. 2019).
  assert.deepEqual(pixelAt(image, 12, 0), [255, 255, 0]); // A yellow
  assert.deepEqual(pixelAt(image, 12, 6), [0, 0, 255]); // C blue
  assert.deepEqual(pixelAt(image, 12, 3), [255, 0, 0]); // G red
  assert.deepEqual(pixelAt(image, 12, 8), [0, 255, 0]); // U green
  assert.deepEqual(pixelAt(image, 3, 1), [255, 255, 255]); // white background
  assert.deepEqual(pixelAt(image, 13, 10), [255, 255, 255]); // past the last column

  const decoded = decodeHairpinImage(image);
  assert.deepEqual(decoded.columns, columns);
  assert.equal(decoded.sequence, SMALL_SEQ);
  assert.equal(decoded.loopLength, 4);
});

test("a 5' bulge becomes a black gap on the lower half", () => {
  // 5' bulge U at position 2.  0123456789ab
  const columns = hairpinColumns("GCUGCAAAGCGC", "((.((...))))");
  assert.equal(columns.map((c) => c.upper).join(""), "AAACGUCG");
  assert.equal(columns.map((c) => c.lower).join(""), "AAAGC-GC");
  assert.deepEqual(columns.map((c) => c.upperLength), [6, 8, 6, 1, 1, 3, 1, 1]); // loop P = 3: 2, 4, 2
  assert.deepEqual(columns.map((c) => c.lowerLength), [6, 8, 6, 1, 1, 1, 1, 1]); // the gap: b = 1, no ramp
  const image = renderHairpinColumns(columns);
  const rows = hairpinImageRows(image);
  assert.equal(rows.slice(8, 15).map((row) => row[5]).join(""), ".UUUUkk"); // rows 8–14 at column 5
  assert.equal(rows[15]![5], ".");
  assert.deepEqual(pixelAt(image, 13, 5), [0, 0, 0]);
  const decoded = decodeHairpinImage(image);
  assert.equal(decoded.sequence, "GCUGCAAAGCGC");
  assert.equal(decoded.loopLength, 3);
});

test("long loops are clipped to the image, long stems cut at 100 columns", () => {
  const loop = hairpinColumns("GGGGG" + "A".repeat(30) + "CCCCC", "(((((" + ".".repeat(30) + ")))))");
  assert.equal(loop.length, 35);
  assert.equal(Math.max(...loop.map((c) => c.upperLength)), 12);
  assert.equal(Math.max(...loop.map((c) => c.lowerLength)), 11);
  const rows = hairpinImageRows(renderHairpinColumns(loop));
  assert.equal(rows[0]![15], "A");
  assert.equal(rows[24]![15], "A");

  const stem = hairpinColumns("G".repeat(120) + "AAAA" + "C".repeat(120), "(".repeat(120) + "...." + ")".repeat(120));
  assert.equal(stem.length, 100);
  const decoded = decodeHairpinImage(renderHairpinColumns(stem));
  assert.equal(decoded.sequence, "G".repeat(96) + "AAAA" + "C".repeat(96));
});

test("the terminal loop is the one nearest the middle, measured with the exclusive end", () => {
  assert.deepEqual(findTerminalLoop("((((....))))"), { open: 3, close: 8 });
  assert.equal(findTerminalLoop("((()))...."), null);
  // Loops at 0–3 and 8–11 in 14 nt, middle 7: end (exclusive) 4 is 3 away, start 8 is 1 away.
  assert.deepEqual(findTerminalLoop("(..)....(..).."), { open: 8, close: 11 });
  // Middle 8: the first loop's exclusive end 5 and the second's start 11 are both 3 away → the
  // first (measured from the ')' at 4, the second loop would win).
  assert.deepEqual(findTerminalLoop("(...)......(...)"), { open: 0, close: 4 });
});

test("base bar lengths", () => {
  const b = (u: HairpinSymbol, l: HairpinSymbol) => baseBarLength(u, l);
  assert.deepEqual([b("G", "C"), b("C", "G"), b("A", "U"), b("U", "A"), b("G", "U"), b("U", "G")], [1, 1, 2, 2, 3, 3]);
  assert.deepEqual([b("A", "A"), b("C", "U"), b("A", "G"), b("-", "G"), b("A", "-")], [4, 4, 4, 1, 1]);
});

test("encoder input is normalised and bad input is an InputError with a clear message", () => {
  assert.deepEqual(hairpinColumns("guacaggaaacTaagc", SMALL_FOLD), hairpinColumns("GUACAGGAAACUAAGC", SMALL_FOLD));
  const bad = (sequence: string, fold: string, pattern: RegExp) =>
    assert.throws(() => encodeHairpinImage(sequence, fold, { file: "x.tsv", row: 3 }), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /^x\.tsv, row 3 \(line 4\): /);
      assert.match(e.message, pattern);
      return true;
    });
  bad("GGGAAAUCC", "((((....))))", /structure has length 12 but the sequence has 9 nt/);
  bad("GGGGAAAACCCC", "(((.....))))", /unbalanced structure: '\)' at position 12 closes nothing/);
  bad("GGGGAAAACCCC", "((((....))).", /unbalanced structure: 1 '\(' never closed/);
  bad("GGGGAAAACCCC", "((((.[].))))", /structure has '\[' at position 6/);
  bad("GGGGAAAACCCC", "((()))......", /has no terminal loop/);
  bad("GGGGAAAACCCC", "............", /has no terminal loop/);
  bad("GGGGAXAACCCC", "((((....))))", /non-RNA letter 'X' at position 6/);
  bad("GGGGANAACCCC", "((((....))))", /non-RNA letter 'N' at position 6/);
  bad("", "", /sequence is empty/);
});

test("the renderer rejects columns it cannot draw", () => {
  const column: HairpinColumn = { upper: "A", lower: "U", paired: true, upperLength: 2, lowerLength: 2 };
  assert.throws(() => renderHairpinColumns([{ ...column, upperLength: 13 }]), /column 0: upper bar length 13 is not an integer 0–12/);
  assert.throws(() => renderHairpinColumns([column, { ...column, lowerLength: 12 }]), /column 1: lower bar length 12 is not an integer 0–11/);
  assert.throws(() => renderHairpinColumns([{ ...column, lower: "T" as HairpinSymbol }]), /lower symbol 'T'/);
  assert.throws(() => renderHairpinColumns(new Array<HairpinColumn>(101).fill(column)), /101 hairpin columns, an image holds at most 100/);
  assert.deepEqual(renderHairpinColumns([]).data, blankHairpinImage().data);
});

test("the decoder names the pixel of an unknown colour and rejects non-hairpin drawings", () => {
  const image = encodeHairpinImage(SMALL_SEQ, SMALL_FOLD);
  const withPixel = (row: number, x: number, rgb: number[]): HairpinImage => {
    const copy = { ...image, data: image.data.slice() };
    copy.data.set(rgb, (row * 100 + x) * 3);
    return copy;
  };
  assert.throws(
    () => decodeHairpinImage(withPixel(12, 3, [128, 128, 128])),
    (e: unknown) => e instanceof InputError && /pixel \(row 12, column 3\) has colour \(128, 128, 128\)/.test(e.message),
  );
  assert.throws(() => decodeHairpinImage(withPixel(0, 99, [1, 2, 3])), /pixel \(row 0, column 99\) has colour \(1, 2, 3\)/);
  assert.throws(() => decodeHairpinImage(withPixel(1, 50, [255, 0, 0])), /pixel \(row 1, column 50\) is not part of a hairpin drawing/);
  assert.throws(() => decodeHairpinImage(withPixel(13, 2, [255, 255, 255])), /pixel \(row 13, column 2\) is white but the other half/);
  // Without verification a stray pixel is ignored.
  assert.equal(decodeHairpinImage(withPixel(1, 50, [255, 0, 0]), { verify: false }).sequence, SMALL_SEQ);
  assert.throws(() => decodeHairpinImage({ ...image, data: image.data.subarray(3) }), /must be 25 × 100 RGB \(7500 bytes\)/);
  assert.deepEqual(decodeHairpinImage(blankHairpinImage()), { columns: [], sequence: "", loopLength: 0 });
});

// ------------------------------------------------------------------- real data ----------

test("all golden images of the original encoder are reproduced pixel for pixel", (t) => {
  const skip = missingData(GOLDEN);
  if (skip) return t.skip(skip);
  const records = readMaybeGzip(GOLDEN)
    .toString("utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { id: string; seq: string; fold: string; rows: string[] });
  assert.equal(records.length, 244);
  const mismatches: string[] = [];
  for (const record of records) {
    const image = encodeHairpinImage(record.seq, record.fold);
    const diff = textDiff(record.rows, hairpinImageRows(image), 5);
    if (diff.length > 0) mismatches.push(`${record.id}: ${diff.join("; ")}`);
    // The decoder reads back the encoder's own column form.
    const decoded = decodeHairpinImage(image);
    assert.deepEqual(decoded.columns, hairpinColumns(record.seq, record.fold), record.id);
  }
  assert.deepEqual(
    mismatches,
    [],
    `${mismatches.length} of ${records.length} golden images differ:\n${mismatches.slice(0, 10).join("\n")}`,
  );
});

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";

/** The column form of one row of images_columns.tsv; `paired` by the decoding rule of decodeHairpinImage. */
function columnsFromTsv(top: string, bot: string, topLen: string, botLen: string): HairpinColumns {
  const columns: HairpinColumns = [];
  for (let x = 0; x < top.length; x++) {
    const upper = top[x] as HairpinSymbol;
    const lower = bot[x] as HairpinSymbol;
    const upperLength = BASE36.indexOf(topLen[x]!);
    const lowerLength = BASE36.indexOf(botLen[x]!);
    const b = baseBarLength(upper, lower);
    const paired = upper !== "-" && lower !== "-" && upperLength === b && lowerLength === b;
    columns.push({ upper, lower, paired, upperLength, lowerLength });
  }
  return columns;
}

test("every dataset image: column form → image → decoded back, and re-encoding where the round trip is exact", (t) => {
  const skip = missingData(COLUMNS_TSV);
  if (skip) return t.skip(skip);
  const frame = readTsv(COLUMNS_TSV);
  assert.equal(frame.height, 23861);
  const column = (name: string): string[] => frame.getColumn(name).toArray().map((v: unknown) => (v == null ? "" : String(v)));
  const [dataset, index, ncols, top, bot, topLen, botLen, loopCols, decodedSeq, structure, exact] = [
    "dataset", "index", "ncols", "top", "bot", "top_len", "bot_len", "loop_cols",
    "decoded_seq", "rnafold213_mfe_structure", "roundtrip_exact",
  ].map(column);
  const problems: string[] = [];
  let reEncoded = 0;
  for (let r = 0; r < frame.height; r++) {
    const id = `${dataset![r]}[${index![r]}]`;
    if (problems.length >= 20) break;
    const columns = columnsFromTsv(top![r]!, bot![r]!, topLen![r]!, botLen![r]!);
    if (columns.length !== Number(ncols![r])) problems.push(`${id}: ${columns.length} columns, ncols says ${ncols![r]}`);
    const image = renderHairpinColumns(columns);
    const decoded = decodeHairpinImage(image);
    if (JSON.stringify(decoded.columns) !== JSON.stringify(columns)) problems.push(`${id}: decoded columns differ`);
    if (decoded.sequence !== decodedSeq![r]) problems.push(`${id}: decoded '${decoded.sequence}', TSV '${decodedSeq![r]}'`);
    if (decoded.loopLength !== Number(loopCols![r])) problems.push(`${id}: loop ${decoded.loopLength}, TSV ${loopCols![r]}`);
    // Our encoder reproduces the image exactly where the original did, and only there.
    let same = false;
    try {
      const again = encodeHairpinImage(decodedSeq![r]!, structure![r]!);
      same = Buffer.compare(Buffer.from(again.data), Buffer.from(image.data)) === 0;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
    }
    if (same) reEncoded++;
    if (same !== (exact![r] === "1")) {
      problems.push(`${id}: re-encoding ${same ? "matches" : "differs"}, roundtrip_exact = ${exact![r]}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.equal(reEncoded, 18532);
});
