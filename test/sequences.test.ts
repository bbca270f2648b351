import { test } from "node:test";
import assert from "node:assert/strict";
import { fitMirnaLength, normaliseSequence, reverseComplement, validateSequence } from "../lib/src/binding/sequences";
import { InputError } from "../lib/src/errors";

test("normaliseSequence upper-cases, trims and reads U as T", () => {
  assert.equal(normaliseSequence(" ugagguaguagguuguauagu \n"), "TGAGGTAGTAGGTTGTATAGT");
});

test("fitMirnaLength pads with N and cuts to 20", () => {
  assert.equal(fitMirnaLength("ACGT"), "ACGT" + "N".repeat(16));
  assert.equal(fitMirnaLength("A".repeat(23)), "A".repeat(20));
});

test("reverseComplement", () => {
  assert.equal(reverseComplement("AACGTN"), "NACGTT");
  assert.throws(() => reverseComplement("ACX"), /'X' at position 3 is not a nucleotide/);
});

test("validateSequence names file, row and problem", () => {
  const where = { file: "pairs.tsv", row: 7, column: "binding_sequence" };
  assert.throws(() => validateSequence("ACGT", "site", 50, where), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.message, "pairs.tsv, row 7 (line 8), column 'binding_sequence': site 'ACGT' has length 4, expected 50");
    return true;
  });
  assert.throws(() => validateSequence("ACGTX" + "A".repeat(15), "miRNA", 20, where), /row 7.*non-nucleotide letter 'X' at position 5/);
  assert.throws(() => validateSequence("", "miRNA", 20, where), /empty miRNA sequence/);
  assert.throws(() => validateSequence("A".repeat(22), "miRNA", 20, where), /length 22, expected 20.*--fit-mirna/);
  validateSequence("ACGTN".repeat(4), "miRNA", 20, where);
});
