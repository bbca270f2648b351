import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { saveTfjsModel } from "../lib/src/io/tfjsModel";
import { predictScores } from "../lib/src/binding/predict";
import { readPairTable } from "../lib/src/binding/tables";
import { seedMatchScores } from "../lib/src/binding/seedMatch";
import { rankMetrics } from "../lib/src/metrics";
import { testSetPath } from "../lib/src/binding/paths";
import { missingData } from "../lib/src/data/paths";
import { strideSubset } from "../lib/src/binding/evaluation";
import { CLI_COMMAND, tempDir, writeFixture, MIRNA, SITE } from "./helpers";
import { reportFailure } from "../lib/src/cli/failure";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";

// The CLI as helpers.ts CLI_COMMAND runs it: lib/dist when it is up to date with lib/src, else
// the sources through tsx (never stale code); one test checks the installed shim lib/bin/mirna-dl.js.
const ROOT = path.join(__dirname, "..");
const BIN = path.join(ROOT, "lib", "bin", "mirna-dl.js");
const FIXTURE = path.join(__dirname, "fixtures", "synthetic_pairs.tsv");
const dir = tempDir();

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", cwd: ROOT, env: { ...process.env, MIRNA_DL_BACKEND: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): Record<string, unknown> & { threshold: number; precision: number; recall: number; f1: number; accuracy: number } {
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

// A hand-made table for the seed baseline. MIRNA's nt 2–8 are GAGGTAG, so its seed sites are
// rc(2–8) = CTACCTC and rc(2–7) = TACCTC; in a poly-G background each site below has exactly
// one seed-match class, hence a known score (8mer 4, 7mer-m8 3, 7mer-A1 2, 6mer 1, none 0).
const G = (n: number) => "G".repeat(n);
const SITES = {
  eightMer: G(20) + "CTACCTCA" + G(22),
  sevenMerM8: G(20) + "CTACCTC" + G(23),
  sevenMerA1: G(20) + "TACCTCA" + G(23),
  sixMer: G(20) + "TACCTC" + G(24),
  none: G(50),
};
/** [site, label (1 positive), seed score]. */
const HAND_TABLE: [string, 0 | 1, number][] = [
  [SITES.eightMer, 1, 4],
  [SITES.sevenMerM8, 1, 3],
  [SITES.sevenMerA1, 0, 2],
  [SITES.sixMer, 1, 1],
  [SITES.none, 1, 0],
  [SITES.none, 0, 0],
  [SITES.sixMer, 0, 1],
  [SITES.eightMer, 0, 4],
];
function handTable(name: string, mirna = MIRNA): string {
  const rows = HAND_TABLE.map(([site, label]) => `${mirna}\t${site}\t${label ? "positive" : "negative"}`);
  return writeFixture(dir, name, `mirna_binding_sequence\tbinding_sequence\tlabel\n${rows.join("\n")}\n`);
}

// In-process models (buildArch00b, predictScores) run on the backend the CLI would choose, without tfjs' cpu banner.
before(() => initBackend({ quiet: true }));

test("help on every command", () => {
  const main = run("--help");
  assert.equal(main.code, 0);
  assert.match(main.stdout, /Commands:[\s\S]*predict[\s\S]*evaluate[\s\S]*hairpin[\s\S]*help/);
  assert.match(main.stdout, /Exit codes: 0 success, 2 bad input or usage, 1 unexpected failure/);
  assert.equal(run().stdout, main.stdout, "no arguments = --help");
  assert.equal(run("help").stdout, main.stdout);
  for (const command of ["predict", "evaluate"]) {
    const r = run(command, "--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: mirna-dl ${command} --model PATH --input TSV`));
    assert.match(r.stdout, /--batch-size N +samples per forward pass \(default 256\)/);
    assert.match(r.stdout, /--fit-mirna/);
    assert.equal(run("help", command).stdout, r.stdout, `help ${command}`);
  }
  assert.match(run("evaluate", "-h").stdout, /--threshold X +call a pair positive when score ≥ X \(default 0\.5; 1 for 'seed'/);
  assert.match(run("predict", "-h").stdout, /-o, --output TSV/);
  assert.equal(run("help", "hairpin", "train").stdout, run("hairpin", "train", "--help").stdout);
});

test("usage errors exit 2 with a message and no stack trace", () => {
  const unknown = run("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^mirna-dl: unknown command 'frobnicate'\n\n.*\n\nUsage: mirna-dl <command>/, "message, then the main help");
  assert.equal(run("help", "frobnicate").code, 2);
  const missing = run("evaluate", "--input", FIXTURE);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^mirna-dl: missing --model\n\nUsage: mirna-dl evaluate /, "message, then the command's help");
  const badOption = run("predict", "--modle", "seed");
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /Unknown option '--modle'/);
  const positional = run("predict", "--model", "seed", "--input", FIXTURE, "extra");
  assert.equal(positional.code, 2);
  assert.match(positional.stderr, /Unexpected argument 'extra'/);
  for (const r of [unknown, missing, badOption, positional]) assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});

test("--threshold and --batch-size are validated before any work: exit 2 naming the option and the value", () => {
  const base = ["evaluate", "--model", "seed", "--input", FIXTURE];
  const cases: [string[], RegExp][] = [
    [["--threshold", "abc"], /^mirna-dl: --threshold must be a number, got 'abc' \(see 'mirna-dl evaluate --help'\)\n$/],
    [["--threshold", ""], /--threshold must be a number, got ''/],
    [["--threshold", "Infinity"], /--threshold must be a number, got 'Infinity'/],
    [["--batch-size", "0"], /^mirna-dl: --batch-size must be a positive integer, got '0'/],
    [["--batch-size", "-3"], /--batch-size must be a positive integer, got '-3'/],
    [["--batch-size", "2.5"], /--batch-size must be a positive integer, got '2\.5'/],
    [["--batch-size", "many"], /--batch-size must be a positive integer, got 'many'/],
    [["--batch-size"], /argument missing/],
  ];
  for (const [extra, pattern] of cases) {
    const r = run(...base, ...extra);
    assert.equal(r.code, 2, extra.join(" "));
    assert.match(r.stderr, pattern, extra.join(" "));
    assert.equal(r.stdout, "", "nothing scored");
  }
  const predict = run("predict", "--model", "seed", "--input", FIXTURE, "--batch-size", "0");
  assert.equal(predict.code, 2);
  assert.match(predict.stderr, /--batch-size must be a positive integer, got '0' \(see 'mirna-dl predict --help'\)/);
  // Accepted forms: a negative number after the option (not taken for an option), and --x=v.
  assert.equal(lastJson(run(...base, "--json", "--threshold", "-1").stdout).threshold, -1);
  assert.equal(lastJson(run(...base, "--json", "--threshold=2.5", "--batch-size", "7").stdout).threshold, 2.5);
});

test("bad input exits 2 naming file, row and problem", () => {
  const bad = writeFixture(dir, "bad.tsv", `mirna_binding_sequence\tbinding_sequence\tlabel\n${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE.slice(0, 40)}\tnegative\n`);
  const r = run("evaluate", "--model", "seed", "--input", bad);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `mirna-dl: ${bad}, row 2 (line 3), column 'binding_sequence': site '${SITE.slice(0, 40)}' has length 40, expected 50`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const noModel = run("evaluate", "--model", path.join(dir, "nope.h5"), "--input", FIXTURE);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /nope\.h5: model not found/);
});

test("an unexpected error (not bad input) exits 1 with its stack", () => {
  // Every input the CLI reads is checked, so no input reaches this path: a plain Error stands for a bug.
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = reportFailure(new Error("a bug"));
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 1);
  assert.match(written.join(""), /^mirna-dl: unexpected error: Error: a bug\n\s+at /, "a bug report needs the stack");
  written.length = 0;
  process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write;
  try {
    code = reportFailure(new InputError("has length 40, expected 50", { file: "t.tsv", row: 2, column: "site" }));
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 2);
  assert.doesNotMatch(written.join(""), /\n\s+at /, "bad input: the message only");
});

test("predict to standard output: the input columns plus the seed score of each hand-made pair", () => {
  const input = handTable("hand.tsv");
  const r = run("predict", "--model", "seed", "--input", input);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "mirna_binding_sequence\tbinding_sequence\tlabel\tscore");
  assert.equal(lines.length, HAND_TABLE.length + 1);
  HAND_TABLE.forEach(([site, label, score], k) => {
    const [mirna, gotSite, gotLabel, gotScore] = lines[k + 1]!.split("\t");
    assert.deepEqual([mirna, gotSite, gotLabel], [MIRNA, site, label ? "positive" : "negative"], `row ${k + 1}`);
    assert.equal(Number(gotScore), score, `row ${k + 1} score`);
  });
});

test("evaluate: threshold metrics on a hand-made table, and the seed baseline's default threshold is 1", () => {
  const input = handTable("hand-eval.tsv");
  // Scores [4, 3, 2, 1, 0, 0, 1, 4], labels [1, 1, 0, 1, 1, 0, 0, 0].
  // Threshold 1 (called: score ≥ 1 = rows 1,2,3,4,7,8): TP rows 1,2,4 = 3; FP rows 3,7,8 = 3;
  // FN row 5 = 1; TN row 6 = 1 → precision 3/6, recall 3/4, F1 2·0.5·0.75/1.25 = 0.6, accuracy 4/8.
  const byDefault = run("evaluate", "--model", "seed", "--input", input, "--json");
  assert.equal(byDefault.code, 0, byDefault.stderr);
  const d = lastJson(byDefault.stdout);
  assert.equal(d.threshold, 1, "seed default threshold: 6mer or better");
  assert.equal(d.n, 8);
  assert.equal(d.positives, 4);
  assert.equal(d.precision, 0.5);
  assert.equal(d.recall, 0.75);
  assert.ok(Math.abs(d.f1 - 0.6) < 1e-12, `f1 ${d.f1}`);
  assert.equal(d.accuracy, 0.5);
  // Seed scores are integers, so 0.5 would call the same rows as 1: the default shows in
  // `threshold` above and in the row names of the table.
  const text = run("evaluate", "--model", "seed", "--input", input);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^precision @ 1 +0\.5000$/m);
  assert.match(text.stdout, /^recall @ 1 +0\.7500$/m);
  assert.match(text.stdout, /^F1 @ 1 +0\.6000$/m);
  assert.match(text.stdout, /^accuracy @ 1 +0\.5000$/m);
  assert.match(text.stdout, /^pairs +8 \(4 positive, 4 negative\)$/m);

  // Threshold 3 (called rows 1,2,8): TP 2, FP 1, FN 2 (rows 4,5), TN 3 (rows 3,6,7) →
  // precision 2/3, recall 2/4, F1 2·(2/3)·(1/2)/(2/3 + 1/2) = 4/7, accuracy 5/8.
  const at3 = lastJson(run("evaluate", "--model", "seed", "--input", input, "--json", "--threshold", "3").stdout);
  assert.equal(at3.threshold, 3);
  assert.ok(Math.abs(at3.precision - 2 / 3) < 1e-12, `precision ${at3.precision}`);
  assert.equal(at3.recall, 0.5);
  assert.ok(Math.abs(at3.f1 - 4 / 7) < 1e-12, `f1 ${at3.f1}`);
  assert.equal(at3.accuracy, 0.625);
  // Threshold 4.5 calls nothing: precision and F1 are reported as 0, accuracy = negatives 4/8.
  const none = lastJson(run("evaluate", "--model", "seed", "--input", input, "--json", "--threshold", "4.5").stdout);
  assert.deepEqual([none.precision, none.recall, none.f1, none.accuracy], [0, 0, 0, 0.5]);
});

test("evaluate: a network's default threshold is 0.5", async () => {
  const modelDir = path.join(dir, "toy-threshold");
  const model = buildArch00b({ seed: 5 });
  await saveTfjsModel(model, modelDir);
  model.dispose();
  const input = handTable("hand-net.tsv");
  const byDefault = run("evaluate", "--model", modelDir, "--input", input, "--json", "--quiet");
  assert.equal(byDefault.code, 0, byDefault.stderr);
  const d = lastJson(byDefault.stdout);
  assert.equal(d.threshold, 0.5);
  const explicit = lastJson(run("evaluate", "--model", modelDir, "--input", input, "--json", "--quiet", "--threshold", "0.5").stdout);
  assert.deepEqual([d.precision, d.recall, d.f1, d.accuracy], [explicit.precision, explicit.recall, explicit.f1, explicit.accuracy]);
  // Probabilities are < 1, so the seed baseline's threshold would call nothing.
  const atOne = lastJson(run("evaluate", "--model", modelDir, "--input", input, "--json", "--quiet", "--threshold", "1").stdout);
  assert.deepEqual([atOne.precision, atOne.recall], [0, 0]);
});

test("--fit-mirna: miRNAs of other lengths are rejected, or padded with N / cut to 20 nt", () => {
  const long = handTable("long-mirna.tsv", MIRNA + "TT"); // 22 nt: cut to MIRNA
  const short = handTable("short-mirna.tsv", MIRNA.slice(0, 18)); // 18 nt: the seed (nt 2–8) is kept
  for (const [file, length] of [[long, 22], [short, 18]] as const) {
    const rejected = run("predict", "--model", "seed", "--input", file);
    assert.equal(rejected.code, 2);
    assert.match(rejected.stderr, new RegExp(`row 1 \\(line 2\\), column 'mirna_binding_sequence': miRNA '[ACGT]+' has length ${length}, expected 20.*--fit-mirna`));
    const fitted = run("predict", "--model", "seed", "--input", file, "--fit-mirna");
    assert.equal(fitted.code, 0, fitted.stderr);
    const scores = fitted.stdout.trim().split("\n").slice(1).map((l) => Number(l.split("\t")[3]));
    assert.deepEqual(scores, HAND_TABLE.map(([, , score]) => score));
    assert.equal(run("evaluate", "--model", "seed", "--input", file).code, 2);
    const evaluated = run("evaluate", "--model", "seed", "--input", file, "--fit-mirna", "--json");
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.equal(lastJson(evaluated.stdout).precision, 0.5);
  }
});

test("evaluate --json with the seed baseline", async () => {
  const r = run("evaluate", "--model", "seed", "--input", FIXTURE, "--json");
  assert.equal(r.code, 0, r.stderr);
  const report = lastJson(r.stdout);
  const table = await readPairTable(FIXTURE, { requireLabels: true });
  const expected = rankMetrics(table.labels!, seedMatchScores(table.mirnas, table.sites));
  for (const key of ["n", "positives", "negatives", "rocAuc", "averagePrecision"] as const) assert.equal(report[key], expected[key], key);
  assert.equal(report.backend, "none");
  assert.equal(typeof report.seconds, "number");
});

test("predict with a saved tfjs model writes the input columns plus score", async () => {
  const modelDir = path.join(dir, "toy-model");
  const model = buildArch00b({ seed: 21 });
  await saveTfjsModel(model, modelDir);
  const out = path.join(dir, "scored.tsv");
  const r = run("predict", "--model", modelDir, "--input", FIXTURE, "--output", out, "--quiet");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "", "the table goes to --output");
  assert.equal(r.stderr, "", "-q: no progress, no backend line");
  const loud = run("predict", "--model", modelDir, "--input", FIXTURE, "--output", out);
  assert.equal(loud.code, 0, loud.stderr);
  assert.match(loud.stderr, /^mirna-dl: TensorFlow\.js backend /m, "without -q the backend is named");
  assert.match(loud.stderr, /^scoring with toy-model: 64\/64 \(100%/m, "and progress is shown");
  const scored = await readPairTable(out);
  assert.ok(scored.frame.columns.includes("score"));
  const table = await readPairTable(FIXTURE);
  const expected = await predictScores(model, table.mirnas, table.sites);
  const got = scored.frame.getColumn("score").toArray().map(Number);
  assert.equal(got.length, expected.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-4, `row ${i}: ${got[i]} vs ${expected[i]}`);
  model.dispose();
});

test("the installed command lib/bin/mirna-dl.js runs the built CLI", (t) => {
  if (!fs.existsSync(path.join(ROOT, "lib", "dist", "cli", "main.js"))) return t.skip("lib/dist not built");
  const r = spawnSync(process.execPath, [BIN, "evaluate", "--model", "seed", "--input", FIXTURE, "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lastJson(r.stdout).n, 64);
  assert.equal(spawnSync(process.execPath, [BIN, "frobnicate"], { encoding: "utf8" }).status, 2);
});

test("seed baseline on the parity subset of the scan set: ROC-AUC 0.97296", async (t) => {
  const file = testSetPath("scan");
  const skip = missingData(file);
  if (skip) return t.skip(skip);
  const table = await readPairTable(file, { requireLabels: true });
  const sub = strideSubset({ name: "scan", mirnas: table.mirnas, sites: table.sites, labels: table.labels! }, { negativeStride: 10 });
  assert.equal(sub.labels.length, 64155);
  const subsetFile = path.join(dir, "scan_subset.tsv");
  const lines = ["mirna_binding_sequence\tbinding_sequence\tlabel"];
  for (let i = 0; i < sub.labels.length; i++) lines.push(`${sub.mirnas[i]}\t${sub.sites[i]}\t${sub.labels[i] ? "positive" : "negative"}`);
  fs.writeFileSync(subsetFile, lines.join("\n") + "\n");
  const r = run("evaluate", "--model", "seed", "--input", subsetFile, "--json");
  assert.equal(r.code, 0, r.stderr);
  const report = lastJson(r.stdout);
  assert.equal(report.n, 64155);
  assert.ok(Math.abs((report.rocAuc as number) - 0.97296) < 5e-4, `rocAuc ${report.rocAuc}`);
});
