import { test } from "node:test";
import assert from "node:assert/strict";
import { dataPath, missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { readMaybeGzip } from "../lib/src/io/files";
import { foldSequences, parseRnafoldOutput, rnafoldVersion } from "../lib/src/hairpin/rnafold";

// These tests run the real RNAfold (environment/setup.sh installs Debian's vienna-rna); without
// it they fail with the install hint, on purpose.

const LET7_FASTA = dataPath("premirna", "jacordero-deepmir", "examples", "sequences.fasta");
const GOLDEN = dataPath("premirna", "derived", "encoder_golden.jsonl.gz");

/** Records of a small FASTA file: first word of the header line → sequence. */
function readFasta(text: string): { name: string; sequence: string }[] {
  const records: { name: string; sequence: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(">")) records.push({ name: line.slice(1).trim().split(/\s+/)[0]!, sequence: "" });
    else if (records.length > 0) records[records.length - 1]!.sequence += line.trim();
  }
  return records;
}

test("the four let-7 hairpins fold as in the golden fixtures (RNAfold 2.1.3)", async (t) => {
  const skip = missingData(LET7_FASTA, GOLDEN);
  if (skip) return t.skip(skip);
  const records = readFasta(readMaybeGzip(LET7_FASTA).toString("utf8"));
  assert.deepEqual(
    records.map((r) => r.name),
    ["hsa-let-7b", "hsa-let-7c", "hsa-let-7d", "hsa-let-7e"],
  );
  const golden = new Map<string, { seq: string; fold: string }>();
  for (const line of readMaybeGzip(GOLDEN).toString("utf8").trim().split("\n")) {
    const record = JSON.parse(line) as { id: string; seq: string; fold: string };
    golden.set(record.id, record);
  }
  const folded = await foldSequences(
    records.map((r) => r.sequence),
    { names: records.map((r) => r.name) },
  );
  assert.equal(folded.length, 4);
  records.forEach((record, i) => {
    const expected = golden.get(record.name);
    assert.ok(expected, `${record.name} is not in ${GOLDEN}`);
    assert.equal(folded[i]!.sequence, expected.seq, record.name);
    assert.equal(folded[i]!.structure, expected.fold, `${record.name} structure`);
    assert.ok(folded[i]!.mfe < -20, `${record.name}: MFE ${folded[i]!.mfe} kcal/mol, a let-7 hairpin is far below -20`);
  });
});

test("foldSequences normalises, keeps input order and reads the MFE", async () => {
  const folded = await foldSequences(["ggggaaaacccc", " ACGUACGU\n", "GGGGAAAATTTT"]);
  assert.deepEqual(folded, [
    { sequence: "GGGGAAAACCCC", structure: "((((....))))", mfe: -5.4 },
    { sequence: "ACGUACGU", structure: "........", mfe: 0 },
    { sequence: "GGGGAAAAUUUU", structure: folded[2]!.structure, mfe: folded[2]!.mfe },
  ]);
  assert.equal(folded[2]!.structure.length, 12);
  assert.deepEqual(await foldSequences([]), []);
});

test("foldSequences passes temperature and dangles to RNAfold", async () => {
  const [at37] = await foldSequences(["GGGGAAAACCCC"]);
  const [at70] = await foldSequences(["GGGGAAAACCCC"], { temperature: 70, dangles: 0 });
  assert.ok(at70!.mfe > at37!.mfe, `70 °C: ${at70!.mfe}, 37 °C: ${at37!.mfe}`);
  await assert.rejects(foldSequences(["ACGU"], { dangles: 5 as 2 }), /dangles must be 0, 1, 2 or 3/);
});

test("a batch folded with RNAfold threads (--jobs) gives the single-thread folds, in input order", async () => {
  // 200 seeded random hairpin-sized sequences of varied length: any reordering would show.
  let state = 1789;
  const next = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  const sequences = Array.from({ length: 200 }, () => Array.from({ length: 40 + Math.floor(next() * 60) }, () => "ACGU"[Math.floor(next() * 4)]).join(""));
  const threaded = await foldSequences(sequences, { jobs: 2 });
  const single = await foldSequences(sequences, { jobs: 1 });
  assert.deepEqual(threaded, single);
  assert.deepEqual(threaded.map((f) => f.sequence), sequences);
  await assert.rejects(foldSequences(sequences, { jobs: 0 }), /jobs must be a positive integer/);
});

test("foldSequences rejects bad sequences, naming the record", async () => {
  const check = async (sequences: string[], opts: Parameters<typeof foldSequences>[1], pattern: RegExp) => {
    await assert.rejects(foldSequences(sequences, opts), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  };
  await check(["ACGU", "  "], {}, /^sequence 2 is empty/);
  await check(["ACGU", "ACGXU"], { file: "hairpins.fa" }, /^hairpins\.fa: sequence 2 'ACGXU' has a non-RNA letter 'X' at position 4/);
  await check(["ACGU", "ACNU"], { names: ["a", "mir-9"] }, /^sequence mir-9 'ACNU' has a non-RNA letter 'N' at position 3/);
  await check(["ACGU"], { names: ["a", "b"] }, /2 names for 1 sequences/);
});

test("a missing RNAfold gives a clear message saying how to install it", async () => {
  await assert.rejects(foldSequences(["GGGGAAAACCCC"], { binary: "/nonexistent/RNAfold" }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /could not run '\/nonexistent\/RNAfold'/);
    assert.match(e.message, /apt-get install vienna-rna/);
    assert.match(e.message, /non-free/);
    assert.match(e.message, /conda install -c bioconda viennarna/);
    return true;
  });
  await assert.rejects(rnafoldVersion("/nonexistent/RNAfold"), /RNAfold \(ViennaRNA\) was not found/);
});

test("rnafoldVersion reads the version", async () => {
  assert.match(await rnafoldVersion(), /^2\.\d+\.\d+$/);
});

test("parseRnafoldOutput reads every energy spacing and checks the output", () => {
  const output = "GGGGAAAACCCC\n((((....)))) ( -5.40)\nACGU\n.... (  0.00)\nGGGAAACCC\n(((...)))(-12.30)\n";
  assert.deepEqual(parseRnafoldOutput(output, ["GGGGAAAACCCC", "ACGU", "GGGAAACCC"]), [
    { sequence: "GGGGAAAACCCC", structure: "((((....))))", mfe: -5.4 },
    { sequence: "ACGU", structure: "....", mfe: 0 },
    { sequence: "GGGAAACCC", structure: "(((...)))", mfe: -12.3 },
  ]);
  assert.throws(() => parseRnafoldOutput(output, ["GGGGAAAACCCC"]), /printed 6 lines for 1 sequences/);
  assert.throws(() => parseRnafoldOutput("ACGU\n.... (  0.00)\n", ["ACGA"]), /out of step at sequence 1/);
  assert.throws(() => parseRnafoldOutput("ACGU\n... (  0.00)\n", ["ACGU"]), /cannot read RNAfold structure line/);
});
