import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPaperChromosomes, checkPaperHeader, looksLikePaperTable, PAPER_TRAIN_COLUMNS } from "../lib/src/binding/paperLayout";
import { InputError } from "../lib/src/errors";

test("the original's 35 columns, as its notebooks show them", () => {
  assert.equal(PAPER_TRAIN_COLUMNS.length, 35);
  assert.equal(new Set(PAPER_TRAIN_COLUMNS).size, 35);
  // The 22 ENCORI columns first, the miRNA and site columns where the original's table has them.
  assert.equal(PAPER_TRAIN_COLUMNS[0], "miRNAid");
  assert.equal(PAPER_TRAIN_COLUMNS[21], "pancancerNum");
  assert.equal(PAPER_TRAIN_COLUMNS.indexOf("pos_sequence"), 27);
  assert.equal(PAPER_TRAIN_COLUMNS[34], "familyseqRepresentative");
});

test("checkPaperHeader: all 35 columns in any order; a missing or extra column is named", () => {
  checkPaperHeader([...PAPER_TRAIN_COLUMNS].reverse(), "t.tsv");
  const missing = (e: unknown) => e instanceof InputError && e.where.row === 0 && e.where.column === "Seed+m8" && /^t\.tsv, header, column 'Seed\+m8': missing column 'Seed\+m8' of the original's 35-column training table/.test(e.message);
  assert.throws(() => checkPaperHeader(PAPER_TRAIN_COLUMNS.filter((c) => c !== "Seed+m8"), "t.tsv"), missing);
  assert.throws(() => checkPaperHeader(PAPER_TRAIN_COLUMNS.slice(20), "t.tsv"), /missing columns 'miRNAid', 'miRNAname', 'geneID', 'geneName', 'geneType', 'chromosome' and 14 more/);
  assert.throws(() => checkPaperHeader(["", ...PAPER_TRAIN_COLUMNS], "t.tsv"), /t\.tsv, header, column '': column '' is not a column of the original's 35-column training table \(train_set_positives\.tsv\) \(a pandas index column\?/);
  assert.ok(looksLikePaperTable(["pos_sequence"]) && looksLikePaperTable(["familyseqRepresentative", "x"]));
  assert.ok(!looksLikePaperTable(["mirna_binding_sequence", "binding_sequence", "label"]));
});

test("checkPaperChromosomes: chr2–chr22, chrX, chrY, chrM pass; chr1 and malformed labels name row (line) and column", () => {
  checkPaperChromosomes(["chr2", "chr10", "chr22", "chrX", "chrY", "chrM"], "t.tsv", 1);
  const at = (values: string[], firstRow: number, pattern: RegExp, row: number) =>
    assert.throws(() => checkPaperChromosomes(values, "t.tsv", firstRow), (e: unknown) => e instanceof InputError && e.where.row === row && e.where.line === row + 1 && pattern.test(e.message));
  at(["chr2", "chr1"], 1, /^t\.tsv, row 2 \(line 3\), column 'chromosome': a chr1 site: chr1 is the test chromosome/, 2);
  at(["chr3", "chr3", "chr23"], 101, /^t\.tsv, row 103 \(line 104\), column 'chromosome': malformed chromosome 'chr23'/, 103);
  for (const bad of ["2", "Chr2", "chr2 ", "chr_2", "chrUn_gl000220", "chr01"]) at([bad], 1, /malformed chromosome/, 1);
  at([""], 1, /empty chromosome/, 1);
});
