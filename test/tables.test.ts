import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PAPER_TRAIN_COLUMNS } from "../lib/src/binding/paperLayout";
import { detectPairFormat, pairsFromLockFrame, readPairChunks, readPairTable } from "../lib/src/binding/tables";
import { publishedModelPath } from "../lib/src/binding/paths";
import { dataPath, missingData } from "../lib/src/data/paths";
import { mulberry32, randomSequence } from "../lib/src/random";
import pl from "nodejs-polars";
import { frameToTsv, readTsv, readTsvChunks, writeTsv } from "../lib/src/io/tsv";
import { InputError } from "../lib/src/errors";
import { CLI_COMMAND, MIRNA, SITE, tempDir, writeFixture } from "./helpers";

const dir = tempDir();
const LOCK_HEADER = "mirna_binding_sequence\tbinding_sequence\tlabel\n";

test("reads the lock format, .tsv and .tsv.gz, normalising U and case", async () => {
  const text = LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n${MIRNA.replace(/T/g, "U").toLowerCase()}\t${SITE}\tnegative\n`;
  for (const name of ["lock.tsv", "lock.tsv.gz"]) {
    const t = await readPairTable(writeFixture(dir, name, text), { requireLabels: true });
    assert.equal(t.format, "lock");
    assert.deepEqual(t.mirnas, [MIRNA, MIRNA]);
    assert.deepEqual(Array.from(t.labels!), [1, 0]);
  }
});

test("reads the miRBind format and pads its short miRNAs with N", async () => {
  const t = await readPairTable(writeFixture(dir, "mb.tsv", `miRNA\tgene\tlabel\n${MIRNA.slice(0, 18)}\t${SITE}\t1\n${MIRNA}\t${SITE}\t0\n`));
  assert.equal(t.format, "mirbind");
  assert.equal(t.mirnas[0], MIRNA.slice(0, 18) + "NN");
  assert.deepEqual(Array.from(t.labels!), [1, 0]);
});

test("reads the miRBench format: noncodingRNA of any length padded with N / cut to 20 nt, labels 1/0, other columns kept", async () => {
  const header = "id\tgene\tnoncodingRNA\tnoncodingRNA_name\tlabel\tchr\tstrand";
  const rows = [
    `r0\t${SITE}\t${MIRNA}UU\thsa-let-7\t1\t1\t+`, // 22 nt, RNA letters: cut to 20
    `r1\t${SITE}\t${MIRNA.slice(0, 17).toLowerCase()}\thsa-x\t0\t2\t-`, // 17 nt: padded
    `r2\t${SITE}\t${MIRNA}\thsa-y\t1\tX\t+`,
  ];
  const file = writeFixture(dir, "mirbench.tsv", `${header}\n${rows.join("\n")}\n`);
  for (const opts of [{}, { fitMirna: false }, { fitMirna: true }]) {
    const t = await readPairTable(file, { requireLabels: true, ...opts });
    assert.equal(t.format, "mirbench");
    assert.deepEqual(t.mirnas, [MIRNA, MIRNA.slice(0, 17) + "NNN", MIRNA]);
    assert.deepEqual(t.sites, [SITE, SITE, SITE]);
    assert.deepEqual(Array.from(t.labels!), [1, 0, 1]);
    assert.deepEqual(t.header, header.split("\t"));
    assert.deepEqual(t.lines, rows, "the lines as read, for predict to write back");
  }
  const chunks = [];
  for await (const c of readPairChunks(file, { rows: 2 })) chunks.push(c);
  assert.deepEqual(chunks.flatMap((c) => c.mirnas), [MIRNA, MIRNA.slice(0, 17) + "NNN", MIRNA]);
  await rejectsWith(writeFixture(dir, "mirbench-label.tsv", `gene\tnoncodingRNA\tlabel\n${SITE}\t${MIRNA}\tpositive\n`), "mirbench-label.tsv, row 1 (line 2), column 'label'", "bad label 'positive'", "'1' or '0'");
  await rejectsWith(writeFixture(dir, "mirbench-site.tsv", `gene\tnoncodingRNA\tlabel\n${SITE.slice(2)}\t${MIRNA}\t1\n`), "mirbench-site.tsv, row 1 (line 2), column 'gene'", "length 48, expected 50");
});

test("miRBind- and miRBench-format miRNAs are fitted to 20 nt even when fitMirna is false (as the command line passes it)", async () => {
  const t = await readPairTable(writeFixture(dir, "mb-false.tsv", `miRNA\tgene\tlabel\n${MIRNA.slice(0, 18)}\t${SITE}\t1\n${MIRNA}AAA\t${SITE}\t0\n`), { fitMirna: false });
  assert.deepEqual(t.mirnas, [MIRNA.slice(0, 18) + "NN", MIRNA]);
  await rejectsWith(writeFixture(dir, "lock-false.tsv", LOCK_HEADER + `${MIRNA.slice(0, 18)}\t${SITE}\tpositive\n`), "lock-false.tsv, row 1", "length 18, expected 20");
});

test("format detection: which columns, and tables with the columns of two formats are refused", () => {
  assert.equal(detectPairFormat(["mirna_binding_sequence", "binding_sequence", "label"]), "lock");
  assert.equal(detectPairFormat(["label", "gene", "miRNA", "extra"]), "mirbind");
  assert.equal(detectPairFormat(["noncodingRNA_name", "gene", "noncodingRNA", "feature"]), "mirbench");
  assert.throws(() => detectPairFormat(["miRNA", "noncodingRNA", "gene", "label"], "two.tsv"), /two\.tsv: has the columns of two formats, miRBind \(miRNA, gene\) and miRBench \(noncodingRNA, gene\)/);
  assert.throws(() => detectPairFormat(["mirna_binding_sequence", "binding_sequence", "miRNA", "gene"], "two.tsv"), /two formats, lock .* and miRBind/);
  assert.throws(() => detectPairFormat(["noncodingRNA", "label"], "nc.tsv"), /nc\.tsv: missing column 'gene' \(miRBench format needs noncodingRNA, gene, label\); found: noncodingRNA, label/);
  assert.throws(() => detectPairFormat(["gene", "label"], "g.tsv"), /missing column 'miRNA' \(miRBind format needs miRNA, gene, label\) \(or the miRBench format, noncodingRNA\); found: gene, label/);
  assert.throws(() => detectPairFormat(["a", "b"], "ab.tsv"), /missing columns: expected the lock format .*, the miRBind format \(miRNA, gene, label\), the miRBench format \(noncodingRNA, gene, label\) or the original's training table train_set_positives\.tsv \(35 columns: familyseqRepresentative, pos_sequence, …\); found: a, b/);
  assert.equal(detectPairFormat(PAPER_TRAIN_COLUMNS), "paper");
  assert.throws(() => detectPairFormat(PAPER_TRAIN_COLUMNS.filter((c) => c !== "pos_sequence"), "p.tsv"), /p\.tsv, header, column 'pos_sequence': missing column 'pos_sequence' of the original's 35-column training table/);
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", cwd: path.join(__dirname, ".."), env: { ...process.env, MIRNA_DL_BACKEND: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("evaluate on a miRBench-format file gives the same numbers as on the same rows in the miRBind format; predict carries its other columns through", async (t) => {
  const source = dataPath("mirbind", "test_set_1_1_CLASH2013_paper.tsv.gz");
  const model = publishedModelPath("iterative");
  const skip = missingData(source, model);
  if (skip) return t.skip(skip);
  const mirbind = await readPairTable(source, { requireLabels: true });
  assert.equal(mirbind.format, "mirbind");
  assert.equal(mirbind.mirnas.length, 4000);
  // The same rows as miRBench gives them: the mature miRNA at its own length (the N padding
  // removed; 20-nt ones extended by 2 nt, which the cut to 20 removes again), columns in another
  // order, with miRBench's other columns.
  const random = mulberry32(3);
  const lines = ["noncodingRNA_name\tgene\tfeature\tnoncodingRNA\tlabel\tchr\tstart\tend\tstrand"];
  const lengths = new Set<number>();
  mirbind.mirnas.forEach((m, k) => {
    const mature = m.includes("N") ? m.replace(/N+$/, "") : m + randomSequence(random, 2);
    lengths.add(mature.length);
    lines.push(`mir-${k}\t${mirbind.sites[k]}\tthree_prime_utr\t${mature}\t${mirbind.labels![k]}\t${1 + (k % 22)}\t${1000 + k}\t${1049 + k}\t${k % 2 ? "+" : "-"}`);
  });
  assert.ok(lengths.size >= 3 && lengths.has(22), `lengths ${[...lengths].join(", ")}`);
  const mirbench = writeFixture(dir, "mirbench_test_set.tsv", lines.join("\n") + "\n");
  for (const spec of ["seed", model]) {
    const numbers = (file: string) => {
      const r = cli("evaluate", "--model", spec, "--input", file, "--json", "--quiet");
      assert.equal(r.code, 0, r.stderr);
      const { input: _input, seconds: _seconds, ...rest } = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
      return rest;
    };
    const expected = numbers(source);
    const got = numbers(mirbench);
    assert.deepEqual(got, expected, spec);
    assert.ok((expected.rocAuc as number) > (spec === "seed" ? 0.55 : 0.6), `${spec}: rocAuc ${expected.rocAuc}`); // CLASH holds many non-canonical sites
  }
  // predict: the miRBench columns, then the score, which is the miRBind-format row's.
  const out = path.join(dir, "mirbench_scored.tsv");
  const r = cli("predict", "--model", "seed", "--input", mirbench, "--output", out, "--quiet");
  assert.equal(r.code, 0, r.stderr);
  const written = fs.readFileSync(out, "utf8").split("\n");
  assert.equal(written[0], lines[0] + "\tscore");
  const reference = cli("predict", "--model", "seed", "--input", source).stdout.split("\n");
  for (const k of [0, 1, 2, 1999, 3999]) {
    assert.equal(written[k + 1], `${lines[k + 1]}\t${reference[k + 1]!.split("\t")[3]}`, `row ${k + 1}`);
  }
});

test("labels are optional unless required", async () => {
  const file = writeFixture(dir, "nolabel.tsv", `mirna_binding_sequence\tbinding_sequence\n${MIRNA}\t${SITE}\n`);
  assert.equal((await readPairTable(file)).labels, null);
  await assert.rejects(readPairTable(file, { requireLabels: true }), /nolabel\.tsv: missing column 'label'/);
});

/** Expects an InputError whose message contains every fragment. */
async function rejectsWith(file: string, ...fragments: string[]) {
  await assert.rejects(readPairTable(file, { requireLabels: true }), (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
    return true;
  });
}

test("bad input: missing column", async () => {
  await rejectsWith(writeFixture(dir, "mc.tsv", `mirna_binding_sequence\tlabel\n${MIRNA}\tpositive\n`), "mc.tsv", "missing column 'binding_sequence'");
  await rejectsWith(writeFixture(dir, "mc2.tsv", `a\tb\n1\t2\n`), "mc2.tsv", "missing columns", "found: a, b");
});

test("bad input: bad label names the row", async () => {
  await rejectsWith(writeFixture(dir, "bl.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE}\tmaybe\n`), "bl.tsv, row 2 (line 3), column 'label'", "bad label 'maybe'", "'positive' or 'negative'");
  await rejectsWith(writeFixture(dir, "bl2.tsv", `miRNA\tgene\tlabel\n${MIRNA}\t${SITE}\t2\n`), "bl2.tsv, row 1", "bad label '2'", "'1' or '0'");
});

test("bad input: wrong length, non-nucleotide letter, empty cell", async () => {
  await rejectsWith(writeFixture(dir, "len.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE.slice(1)}\tnegative\n`), "len.tsv, row 2 (line 3), column 'binding_sequence'", "length 49, expected 50");
  await rejectsWith(writeFixture(dir, "mlen.tsv", LOCK_HEADER + `${MIRNA}A\t${SITE}\tpositive\n`), "mlen.tsv, row 1", "miRNA", "length 21, expected 20");
  await rejectsWith(writeFixture(dir, "let.tsv", LOCK_HEADER + `${MIRNA.slice(0, 19)}X\t${SITE}\tpositive\n`), "let.tsv, row 1", "non-nucleotide letter 'X' at position 20");
  await rejectsWith(writeFixture(dir, "emp.tsv", LOCK_HEADER + `\t${SITE}\tpositive\n`), "emp.tsv, row 1", "empty miRNA sequence");
});

test("bad input: empty file, header only, truncated gzip, missing file", async () => {
  await rejectsWith(writeFixture(dir, "empty.tsv", ""), "empty.tsv", "empty file");
  await rejectsWith(writeFixture(dir, "header.tsv", LOCK_HEADER), "header.tsv", "no data rows");
  const full = fs.readFileSync(writeFixture(dir, "whole.tsv.gz", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n`.repeat(200)));
  const truncated = path.join(dir, "trunc.tsv.gz");
  fs.writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
  await rejectsWith(truncated, "trunc.tsv.gz", "truncated gzip");
  await rejectsWith(path.join(dir, "nope.tsv"), "nope.tsv", "file not found");
});

test("writeTsv writes atomically and round-trips", async () => {
  const t = await readPairTable(writeFixture(dir, "rt.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n`));
  const out = path.join(dir, "sub", "out.tsv.gz");
  writeTsv(t.frame, out);
  const back = await readPairTable(out);
  assert.deepEqual(back.sites, [SITE]);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ["out.tsv.gz"], "no temp file left");
});

test("streamed in chunks: rows numbered across chunks, gzip, the same pairs as a whole read", async () => {
  const rows = Array.from({ length: 10 }, (_, i) => `${MIRNA}\t${SITE}\t${i % 3 === 0 ? "positive" : "negative"}`);
  for (const name of ["chunks.tsv", "chunks.tsv.gz"]) {
    const file = writeFixture(dir, name, LOCK_HEADER + rows.join("\n") + "\n");
    const chunks = [];
    for await (const c of readPairChunks(file, { rows: 3 })) chunks.push(c);
    assert.deepEqual(chunks.map((c) => [c.firstRow, c.mirnas.length]), [[1, 3], [4, 3], [7, 3], [10, 1]], name);
    const whole = await readPairTable(file);
    assert.deepEqual(chunks.flatMap((c) => Array.from(c.labels!)), Array.from(whole.labels!));
    assert.deepEqual(chunks.flatMap((c) => c.sites), whole.sites);
  }
  // No final newline: the last row still counts.
  const noNewline = writeFixture(dir, "nonl.tsv", LOCK_HEADER + rows.slice(0, 4).join("\n"));
  let n = 0;
  for await (const c of readTsvChunks(noNewline, { rows: 3 })) n += c.frame.height;
  assert.equal(n, 4);
  // A bad row in a later chunk is reported with its row number in the whole table.
  const bad = [...rows];
  bad[7] = `${MIRNA}\t${SITE.slice(0, 40)}\tnegative`;
  const badFile = writeFixture(dir, "badchunk.tsv", LOCK_HEADER + bad.join("\n") + "\n");
  await assert.rejects(async () => {
    for await (const _ of readPairChunks(badFile, { rows: 3 })) void _;
  }, (e: unknown) => e instanceof InputError && /badchunk\.tsv, row 8 \(line 9\), column 'binding_sequence'/.test(e.message));
  for (const [name, text, pattern] of [["empty.tsv", "", /empty file/], ["head.tsv", LOCK_HEADER, /header but no data rows/]] as const) {
    await assert.rejects(async () => {
      for await (const _ of readTsvChunks(writeFixture(dir, name, text))) void _;
    }, pattern, name);
  }
});

test("pairsFromLockFrame: labelled pairs of a lock frame, validated", async () => {
  const t = await readPairTable(writeFixture(dir, "lf.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE}\tnegative\n`));
  const pairs = pairsFromLockFrame(t.frame, "frame");
  assert.deepEqual([pairs.name, pairs.mirnas, Array.from(pairs.labels)], ["frame", [MIRNA, MIRNA], [1, 0]]);
  assert.throws(() => pairsFromLockFrame(t.frame.withColumn(t.frame.getColumn("label").str.replace("positive", "maybe")), "x"), /x, row 1 \(line 2\), column 'label': bad label 'maybe'/);
});

test("TSV is read and written symmetrically: cells with quotes survive any number of round trips byte for byte", async () => {
  const text = `${LOCK_HEADER.trimEnd()}\tnote\n${MIRNA}\t${SITE}\tpositive\t"quoted"\n${MIRNA}\t${SITE}\tnegative\tsays "hi", twice ""\n${MIRNA}\t${SITE}\tnegative\t"\n`;
  let file = writeFixture(dir, "quotes-0.tsv", text);
  for (let round = 1; round <= 3; round++) {
    const table = await readPairTable(file);
    assert.deepEqual(table.frame.getColumn("note").toArray(), ["\"quoted\"", "says \"hi\", twice \"\"", "\""]);
    const next = path.join(dir, `quotes-${round}.tsv`);
    writeTsv(table.frame, next);
    assert.equal(fs.readFileSync(next, "utf8"), text, `round ${round}: byte-identical`);
    file = next;
  }
  assert.equal(frameToTsv(readTsv(file)), text);
});

test("ragged rows, empty lines between rows, duplicate column names: errors naming the row", async () => {
  await rejectsWith(writeFixture(dir, "long-row.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE}\tpositive\tsurplus\n`), "long-row.tsv, row 2 (line 3): 4 tab-separated fields, the header has 3");
  await rejectsWith(writeFixture(dir, "short-row.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\n`), "short-row.tsv, row 1 (line 2): 2 tab-separated fields, the header has 3");
  await rejectsWith(writeFixture(dir, "gap.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\tpositive\n\n${MIRNA}\t${SITE}\tpositive\n`), "gap.tsv, row 2 (line 3): empty line (expected 3 tab-separated fields)");
  await rejectsWith(writeFixture(dir, "dup.tsv", `label\t${LOCK_HEADER}${MIRNA}\t${MIRNA}\t${SITE}\tpositive\n`), "dup.tsv, header: duplicate column name 'label' (columns 1 and 4)");
  await rejectsWith(writeFixture(dir, "empty-label.tsv", LOCK_HEADER + `${MIRNA}\t${SITE}\t\n`), "empty-label.tsv, row 1 (line 2), column 'label': empty label (expected 'positive' or 'negative')");
  // Trailing empty lines and CRLF line ends are fine.
  const ok = await readPairTable(writeFixture(dir, "trailing.tsv", LOCK_HEADER.replace("\n", "\r\n") + `${MIRNA}\t${SITE}\tpositive\r\n\n\n`), { requireLabels: true });
  assert.deepEqual(Array.from(ok.labels!), [1]);
  // The chunked reader says the same.
  await assert.rejects(async () => {
    for await (const _ of readPairChunks(path.join(dir, "long-row.tsv"), { rows: 1 })) void _;
  }, /long-row\.tsv, row 2 \(line 3\): 4 tab-separated fields, the header has 3/);
});

test("writeTsv refuses a cell it could not write without quoting (a tab or a line break)", () => {
  const frame = pl.DataFrame({ a: ["fine", "tab\there"] });
  assert.throws(() => writeTsv(frame, path.join(dir, "never.tsv")), (e: unknown) => e instanceof InputError && /never\.tsv, row 2 \(line 3\), column 'a': cell 'tab\\x09here' holds a tab/.test(e.message));
  assert.ok(!fs.existsSync(path.join(dir, "never.tsv")));
});

test("miRBind / miRBench miRNAs are checked whole before they are cut to 20 nt", async () => {
  const dir = tempDir();
  const mirbind = writeFixture(dir, "cut.tsv", `miRNA\tgene\tlabel\n${MIRNA}\t${SITE}\t1\nTGAGGTAGTAGGTTGTGTGGXXXX-?\t${SITE}\t0\n`);
  await assert.rejects(readPairTable(mirbind), (e: unknown) => e instanceof InputError && /cut\.tsv, row 2 \(line 3\), column 'miRNA': miRNA 'TGAGGTAGTAGGTTGTGTGGXXXX-\?' has a non-nucleotide letter 'X' at position 21/.test(e.message));
  const mirbench = writeFixture(dir, "cut-bench.tsv", `noncodingRNA\tgene\tlabel\nTGAGGTAGTAGGTTGTATAGTTAGGTAGTAGG?\t${SITE}\t1\n`);
  await assert.rejects(readPairTable(mirbench), /cut-bench\.tsv, row 1 \(line 2\), column 'noncodingRNA': miRNA '.*' has a non-nucleotide letter '\?' at position 33/);
  const lock = writeFixture(dir, "cut-lock.tsv", `mirna_binding_sequence\tbinding_sequence\tlabel\n${MIRNA}ACGU!\t${SITE}\tpositive\n`);
  await assert.rejects(readPairTable(lock, { fitMirna: true }), /non-nucleotide letter '!' at position 25/);
  // Valid long miRNAs are still cut.
  const long = writeFixture(dir, "long.tsv", `miRNA\tgene\tlabel\n${MIRNA}ACGU\t${SITE}\t1\n`);
  assert.deepEqual((await readPairTable(long)).mirnas, [MIRNA]);
});
