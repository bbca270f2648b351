import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { makePaperFixture, PAPER_FIXTURE_ROWS } from "../lib/fixtures/paper/make_fixture";
import { PAPER_TRAIN_COLUMNS } from "../lib/src/binding/paperLayout";
import { locatePaperTable, paperFixturePath, paperTrainTablePath, readPaperTrainTable } from "../lib/src/binding/paperTable";
import { readPairChunks, readPairTable } from "../lib/src/binding/tables";
import { InputError } from "../lib/src/errors";
import { MIRNA, SITE, tempDir, writeFixture } from "./helpers";

const FIXTURE = paperFixturePath();
const TEXT = fs.readFileSync(FIXTURE, "utf8");
/** The fixture's data lines split into cells (the test's own parser). */
const ROWS = TEXT.trimEnd().split("\n").slice(1).map((line) => line.split("\t"));
const col = (name: string) => PAPER_TRAIN_COLUMNS.indexOf(name as (typeof PAPER_TRAIN_COLUMNS)[number]);

/** The fixture with cell (data row `row`, 1-based; `column`) replaced by `value`. */
function edited(row: number, column: string, value: string): string {
  const lines = TEXT.trimEnd().split("\n");
  const cells = lines[row]!.split("\t");
  cells[col(column)] = value;
  lines[row] = cells.join("\t");
  return lines.join("\n") + "\n";
}

test("the committed fixture is what make_fixture.ts writes: 35 columns, synthetic, no chr1", () => {
  assert.equal(makePaperFixture(), TEXT, "regenerate with: node --import tsx lib/fixtures/paper/make_fixture.ts");
  assert.deepEqual(TEXT.split("\n")[0]!.split("\t"), [...PAPER_TRAIN_COLUMNS]);
  assert.equal(ROWS.length, PAPER_FIXTURE_ROWS);
  assert.ok(ROWS.every((r) => r.length === 35 && r[col("chromosome")] !== "chr1" && r[col("RBP")] === "AGO2"));
  assert.ok(ROWS.every((r) => /^MIMAT99\d{5}$/.test(r[col("miRNAid")]!)), "made-up accessions only");
  // The original's construction: random_end = random_start + 50, random_start = narrowStart − random_int.
  assert.ok(ROWS.every((r) => Number(r[col("random_end")]) - Number(r[col("random_start")]) === 50 && Number(r[col("narrowStart")]) - Number(r[col("random_start")]) === Number(r[col("random_int")])));
});

test("readPaperTrainTable: miRNA = familyseqRepresentative, site = pos_sequence, per row; chromosomes, families, sha256", async () => {
  const t = await readPaperTrainTable(FIXTURE);
  assert.deepEqual(t.mirnas, ROWS.map((r) => r[col("familyseqRepresentative")]));
  assert.deepEqual(t.sites, ROWS.map((r) => r[col("pos_sequence")]));
  assert.equal(Object.values(t.chromosomes).reduce((a, b) => a + b, 0), PAPER_FIXTURE_ROWS);
  assert.ok(!("chr1" in t.chromosomes));
  assert.equal(t.chromosomes.chr4, ROWS.filter((r) => r[col("chromosome")] === "chr4").length);
  assert.equal(t.families, new Set(ROWS.map((r) => r[col("familyseqRepresentative")])).size);
  assert.equal(t.sha256, crypto.createHash("sha256").update(TEXT).digest("hex"));
  // Padded family representatives (N) are kept as they are.
  assert.ok(t.mirnas.some((m) => m.endsWith("N")));
  // Gzipped: the same pairs.
  const dir = tempDir();
  const gz = path.join(dir, "train_set_positives.tsv.gz");
  fs.writeFileSync(gz, zlib.gzipSync(TEXT));
  const fromGz = await readPaperTrainTable(gz);
  assert.deepEqual([fromGz.mirnas, fromGz.sites], [t.mirnas, t.sites]);
  // Through the generic reader: format 'paper', no labels (every row a positive).
  const pairs = await readPairTable(FIXTURE);
  assert.equal(pairs.format, "paper");
  assert.equal(pairs.labels, null);
});

test("readPaperTrainTable: clear errors naming file, row (line) and column", async () => {
  const dir = tempDir();
  const rejects = async (name: string, text: string, pattern: RegExp) => {
    const file = writeFixture(dir, name, text);
    await assert.rejects(readPaperTrainTable(file), (e: unknown) => e instanceof InputError && e.message.startsWith(file) && pattern.test(e.message), name);
  };
  await rejects("chr1.tsv", edited(3, "chromosome", "chr1"), /, row 3 \(line 4\), column 'chromosome': a chr1 site: chr1 is the test chromosome/);
  await rejects("chr.tsv", edited(7, "chromosome", "7"), /, row 7 \(line 8\), column 'chromosome': malformed chromosome '7'/);
  await rejects("site.tsv", edited(5, "pos_sequence", SITE.slice(0, 49)), /, row 5 \(line 6\), column 'pos_sequence': site '.*' has length 49, expected 50/);
  await rejects("letter.tsv", edited(2, "pos_sequence", SITE.slice(0, 49) + "X"), /, row 2 \(line 3\), column 'pos_sequence': site .* non-nucleotide letter 'X' at position 50/);
  await rejects("mirna.tsv", edited(9, "familyseqRepresentative", MIRNA.slice(0, 19)), /, row 9 \(line 10\), column 'familyseqRepresentative': miRNA '.*' has length 19, expected 20/);
  await rejects("emptysite.tsv", edited(4, "pos_sequence", ""), /, row 4 \(line 5\), column 'pos_sequence': empty site sequence/);
  const lines = TEXT.trimEnd().split("\n");
  const without = (name: string) => lines.map((l) => l.split("\t").filter((_, i) => i !== col(name)).join("\t")).join("\n") + "\n";
  await rejects("nochrom.tsv", without("chromosome"), /, header, column 'chromosome': missing column 'chromosome' of the original's 35-column training table/);
  await rejects("nosite.tsv", without("pos_sequence"), /, header, column 'pos_sequence': missing column 'pos_sequence'/);
  await rejects("nomirna.tsv", without("familyseqRepresentative"), /, header, column 'familyseqRepresentative': missing column/);
  await rejects("index.tsv", lines.map((l, i) => `${i === 0 ? "Unnamed: 0" : i - 1}\t${l}`).join("\n") + "\n", /, header, column 'Unnamed: 0': column 'Unnamed: 0' is not a column of the original's/);
  await rejects("empty.tsv", lines[0] + "\n", /no data rows/);
  await rejects("lock.tsv", `mirna_binding_sequence\tbinding_sequence\tlabel\n${MIRNA}\t${SITE}\tpositive\n`, /expected the original's 35-column training table \(train_set_positives\.tsv\); this is a lock-format pair table/);
  // A labelled test set it is not.
  await assert.rejects(readPairTable(FIXTURE, { requireLabels: true }), /holds positives only \(no label column\)/);
});

test("readPairChunks on the original's table: every chunk checked, rows numbered across chunks", async () => {
  const dir = tempDir();
  let rows = 0;
  for await (const chunk of readPairChunks(FIXTURE, { rows: 100 })) {
    assert.equal(chunk.labels, null);
    rows += chunk.mirnas.length;
  }
  assert.equal(rows, PAPER_FIXTURE_ROWS);
  const file = writeFixture(dir, "late-chr1.tsv", edited(150, "chromosome", "chr1"));
  await assert.rejects(async () => {
    for await (const _ of readPairChunks(file, { rows: 100 })) { /* read */ }
  }, /late-chr1\.tsv, row 150 \(line 151\), column 'chromosome': a chr1 site/);
});

test("locatePaperTable: MIRNA_DL_PAPER_TABLE first (must exist), else the data folder, else absent with how to get it", () => {
  const env = (vars: Record<string, string>) => ({ ...vars }) as NodeJS.ProcessEnv;
  const fixture = locatePaperTable(env({ MIRNA_DL_PAPER_TABLE: FIXTURE }));
  assert.equal(fixture.file, FIXTURE);
  assert.equal(fixture.source, "env");
  assert.match(fixture.reason, /generated 35-column fixture: synthetic sequences, not the real table/);
  // Relative: from the repository root, whatever the current folder (notebook kernels run in notebooks/).
  assert.equal(locatePaperTable(env({ MIRNA_DL_PAPER_TABLE: "lib/fixtures/paper/train_set_positives.tsv" })).file, FIXTURE);
  assert.throws(() => locatePaperTable(env({ MIRNA_DL_PAPER_TABLE: "/no/such/table.tsv" })), /\/no\/such\/table\.tsv: MIRNA_DL_PAPER_TABLE names a file that does not exist/);
  const data = tempDir();
  const saved = process.env.MIRNA_DL_DATA;
  process.env.MIRNA_DL_DATA = data;
  try {
    const absent = locatePaperTable(env({}));
    assert.equal(absent.file, null);
    assert.equal(absent.source, "absent");
    assert.match(absent.reason, /train_set_positives\.tsv\.gz is not in the data folder \(the original repository publishes it, github\.com\/ML-Bioinfo-CEITEC\/mirna_binding, data\/datasets\/train_set_positives\.tar\.xz; with internet, npm run data:fetch -- --only train_set_positives\.tsv\.gz fetches it\)$/);
    fs.mkdirSync(path.dirname(paperTrainTablePath()), { recursive: true });
    fs.writeFileSync(paperTrainTablePath(), zlib.gzipSync(TEXT));
    const present = locatePaperTable(env({}));
    assert.equal(present.file, paperTrainTablePath());
    assert.equal(present.source, "data");
  } finally {
    if (saved === undefined) delete process.env.MIRNA_DL_DATA;
    else process.env.MIRNA_DL_DATA = saved;
  }
});

/** Runs the CLI from source. */
function cli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "lib", "src", "cli", "main.ts"), ...args], { encoding: "utf8", env: { ...process.env } });
}

test("mirna-dl train --train <the original's table>: standard and iterative (faithful, improved) end to end; a malformed table exits 2 naming row and column", () => {
  const dir = tempDir();
  const runs: [string, string[]][] = [
    ["standard", ["--mode", "standard", "--positives", "40", "--ratio", "2", "--epochs", "1"]],
    ["faithful", ["--mode", "iterative", "--variant", "faithful", "--iterations", "2", "--positives-per-iteration", "20", "--minibatches", "5"]],
    ["improved", ["--mode", "iterative", "--variant", "improved", "--iterations", "2", "--positives-per-iteration", "20", "--validation-positives", "20"]],
  ];
  for (const [name, args] of runs) {
    const out = path.join(dir, name);
    const r = cli(["train", "--train", FIXTURE, "--out", out, "--seed", "2", ...args]);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${FIXTURE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: the original's training table, ${PAPER_FIXTURE_ROWS} positives of \\d+ miRNA families`));
    assert.ok(fs.existsSync(path.join(out, "model", "model.json")), name);
    const log = JSON.parse(fs.readFileSync(path.join(out, "training.json"), "utf8"));
    assert.deepEqual(log.sources, [{ file: FIXTURE, format: "paper", rows: PAPER_FIXTURE_ROWS, positives: PAPER_FIXTURE_ROWS }]);
    assert.ok(log.history.length >= 1, name);
  }
  const bad = writeFixture(dir, "bad.tsv", edited(12, "chromosome", "chr1"));
  const refused = cli(["train", "--mode", "standard", "--train", bad, "--out", path.join(dir, "bad"), "--epochs", "1"]);
  assert.equal(refused.status, 2);
  assert.equal(refused.stderr.trim(), `mirna-dl: ${bad}, row 12 (line 13), column 'chromosome': a chr1 site: chr1 is the test chromosome of the original (its scan and miRNA-negative test sets), so its training table holds no chr1 row`);
  assert.ok(!fs.existsSync(path.join(dir, "bad")), "nothing written");
});
