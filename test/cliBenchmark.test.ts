import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readPairTable } from "../lib/src/binding/tables";
import { seedMatchScores } from "../lib/src/binding/seedMatch";
import { rankMetrics } from "../lib/src/metrics";
import { CLI_COMMAND, tempDir, writeFixture } from "./helpers";

// `mirna-dl benchmark` as a user runs it: the seed baseline and a table of other tools' scores
// on the synthetic fixture (a network model scores the same way: cli.test.ts covers scoring).
const ROOT = path.join(__dirname, "..");
const dir = tempDir();
/**
 * The synthetic fixture with every third label flipped: its positives were planted with seed
 * matches, so the seed baseline would be perfect on it as it is.
 */
const FIXTURE = (() => {
  const [header, ...rows] = fs.readFileSync(path.join(__dirname, "fixtures", "synthetic_pairs.tsv"), "utf8").trim().split("\n");
  const flipped = rows.map((line, i) => (i % 3 === 0 ? line.replace(/\t(positive|negative)$/, (_, y: string) => `\t${y === "positive" ? "negative" : "positive"}`) : line));
  return writeFixture(dir, "pairs.tsv", [header, ...flipped].join("\n") + "\n");
})();

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, "benchmark", ...args], { encoding: "utf8", cwd: ROOT, env: { ...process.env, MIRNA_DL_BACKEND: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Report {
  models: { name: string; model: string }[];
  scores: { file: string; tools: string[]; inputs: string[]; ignored: string[] }[];
  inputs: { file: string; name: string; n: number; positives: number; rows: { model: string; averagePrecision: number; rocAuc: number; best: boolean; difference: number | null; lo: number | null; hi: number | null }[] }[];
  bootstrap: { resamples: number; seed: number } | null;
}

/**
 * The fixture's pairs in the miRBench layout with two tools: 'oracle' (the label plus a little
 * noise: near-perfect) and 'coin' (a fixed pseudo-random score), rows reversed, with miRBench
 * annotations (a name, a numeric `start`) and a text column that are not tools.
 */
async function toolTable(name: string, drop = 0): Promise<{ file: string; oracle: number[]; coin: number[] }> {
  const t = await readPairTable(FIXTURE, { requireLabels: true });
  const n = t.mirnas.length;
  const oracle = Array.from(t.labels!, (y, i) => y * 0.7 + ((i * 37) % 10) / 20);
  const coin = Array.from({ length: n }, (_, i) => ((i * 53) % 17) / 17);
  const lines = ["noncodingRNA\tgene\tlabel\tnoncodingRNA_name\tstart\tnote\toracle\tcoin"];
  for (let i = n - 1 - drop; i >= 0; i--) lines.push(`${t.mirnas[i]}\t${t.sites[i]}\t${t.labels![i]}\thsa-miR-${i}\t${1000 + i}\tsite ${i}\t${oracle[i]}\t${coin[i]}`);
  return { file: writeFixture(dir, name, lines.join("\n") + "\n"), oracle, coin };
}

test("benchmark: the seed baseline and two tools on one table: AP, ROC-AUC, paired intervals, files, and scores that round-trip", async () => {
  const tools = await toolTable("tools.tsv");
  const out = path.join(dir, "bench");
  const r = run("-m", "seed", "-i", FIXTURE, "--scores", tools.file, "-o", out, "--bootstrap", "300", "--seed", "7", "-q");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "-q: nothing on standard error");
  // The printed table: every model, the best marked, the others with an interval.
  assert.match(r.stdout, /^pairs +\(.*pairs\.tsv: 64 pairs, \d+ positive\)\nmodel +AP +ROC-AUC +ΔAP vs best \[95% CI, 300 paired resamples\]\n/);
  assert.match(r.stdout, /\noracle +\d\.\d{4} +\d\.\d{4} +best\n/);
  assert.match(r.stdout, /\nseed-match +\d\.\d{4} +\d\.\d{4} +-\d\.\d{4} \[-?\d\.\d{4}, -?\d\.\d{4}\]\n/);
  assert.match(r.stdout, /tools:\n {2}oracle, coin from .*tools\.tsv \(not scores: note\)/);

  const report = JSON.parse(fs.readFileSync(path.join(out, "benchmark.json"), "utf8")) as Report;
  const table = await readPairTable(FIXTURE, { requireLabels: true });
  const seed = rankMetrics(table.labels!, seedMatchScores(table.mirnas, table.sites));
  const rows = report.inputs[0]!.rows;
  assert.deepEqual(rows.map((x) => x.model), ["seed-match", "oracle", "coin"]);
  assert.equal(rows[0]!.averagePrecision, seed.averagePrecision);
  assert.equal(rows[1]!.averagePrecision, rankMetrics(table.labels!, tools.oracle).averagePrecision, "tool scores matched to the rows although the table is reversed");
  assert.equal(rows[2]!.rocAuc, rankMetrics(table.labels!, tools.coin).rocAuc);
  assert.deepEqual(rows.map((x) => x.best), [false, true, false]);
  for (const x of [rows[0]!, rows[2]!]) assert.ok(x.lo! <= x.difference! && x.difference! <= x.hi! && x.difference! < 0, JSON.stringify(x));
  assert.deepEqual(report.bootstrap && [report.bootstrap.resamples, report.bootstrap.seed], [300, 7]);

  const summary = fs.readFileSync(path.join(out, "summary.tsv"), "utf8").trim().split("\n");
  assert.equal(summary[0], "table\tfile\tmodel\tn\tpositives\taverage_precision\troc_auc\tbest\tap_difference_vs_best\tci_lo\tci_hi");
  assert.equal(summary.length, 4);
  assert.deepEqual(fs.readdirSync(path.join(out, "figures")).sort(), ["pr", "roc"].flatMap((k) => ["png", "svg", "vl.json"].map((e) => `pairs.${k}.${e}`)).sort());
  assert.ok(fs.readFileSync(path.join(out, "figures", "pairs.pr.svg"), "utf8").includes("oracle (AP "));

  // The written scores are a --scores table: the same numbers without scoring anything.
  const again = run("-i", FIXTURE, "--scores", path.join(out, "scores", "pairs.tsv.gz"), "--bootstrap", "300", "--seed", "7", "--json", "-q");
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout) as Report;
  assert.deepEqual(second.inputs[0]!.rows, rows, "same APs, same intervals from the same seed");

  // A second run into the folder needs --force; a folder holding other files is never replaced.
  const twice = run("-m", "seed", "-i", FIXTURE, "-o", out, "-q");
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /folder is not empty .*--force/);
  fs.writeFileSync(path.join(out, "notes.txt"), "mine");
  const foreign = run("-m", "seed", "-i", FIXTURE, "-o", out, "--force", "-q");
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /holds files 'benchmark' does not write \('notes\.txt'\)/);
  assert.equal(fs.readFileSync(path.join(out, "notes.txt"), "utf8"), "mine");
});

test("benchmark: bad requests fail with exit code 2 and say why, before writing anything", async () => {
  const out = path.join(dir, "never");
  const nothing = run("-i", FIXTURE, "-o", out);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to compare: give --model \(one or more\) or --scores/);
  const noInput = run("-m", "seed");
  assert.equal(noInput.code, 2);
  assert.match(noInput.stderr, /missing --input/);
  const twice = run("-m", "seed", "-m", "seed", "-i", FIXTURE);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /model 'seed' given twice/);
  // A scores table without the input's first row (the table is reversed: its last line is dropped).
  const partial = await toolTable("partial.tsv", 0);
  const lines = fs.readFileSync(partial.file, "utf8").trim().split("\n");
  const short = writeFixture(dir, "short.tsv", lines.slice(0, -1).join("\n") + "\n");
  const missing = run("-i", FIXTURE, "--scores", short, "-o", out);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /pairs\.tsv, row 1 \(line 2\): this pair \(miRNA [ACGTN]{20}, site [ACGT]{50}\) has no row of scores in .*short\.tsv/);
  const unlabelled = writeFixture(dir, "unlabelled.tsv", "miRNA\tgene\nTGAGGTAGTAGGTTGTATAG\t" + "A".repeat(50) + "\n");
  const noLabels = run("-m", "seed", "-i", unlabelled);
  assert.equal(noLabels.code, 2);
  assert.match(noLabels.stderr, /unlabelled\.tsv: missing column 'label'/);
  assert.equal(fs.existsSync(out), false, "no output folder left behind");
});
