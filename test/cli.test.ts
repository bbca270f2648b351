import { test } from "node:test";
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
import { tempDir, writeFixture, MIRNA, SITE } from "./helpers";

// The installed command (the shim npm links as node_modules/.bin/mirna-dl; it runs lib/dist).
const BIN = path.join(__dirname, "..", "lib", "bin", "mirna-dl.js");
const FIXTURE = path.join(__dirname, "fixtures", "synthetic_pairs.tsv");
const dir = tempDir();

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, MIRNA_DL_BACKEND: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("help on every command", () => {
  const main = run("--help");
  assert.equal(main.code, 0);
  assert.match(main.stdout, /Commands:[\s\S]*predict[\s\S]*evaluate/);
  for (const command of ["predict", "evaluate"]) {
    const r = run(command, "--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`Usage: mirna-dl ${command} --model PATH --input TSV`));
  }
});

test("usage errors exit 2 with a message and no stack trace", () => {
  const unknown = run("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^mirna-dl: unknown command 'frobnicate'/);
  const missing = run("evaluate", "--input", FIXTURE);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing --model/);
  const badOption = run("predict", "--modle", "seed");
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /Unknown option '--modle'/);
});

test("bad input exits 2 naming file, row and problem", () => {
  const bad = writeFixture(dir, "bad.tsv", `mirna_binding_sequence\tbinding_sequence\tlabel\n${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE.slice(0, 40)}\tnegative\n`);
  const r = run("evaluate", "--model", "seed", "--input", bad);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `mirna-dl: ${bad}, row 2, column 'binding_sequence': site '${SITE.slice(0, 40)}' has length 40, expected 50`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const noModel = run("evaluate", "--model", path.join(dir, "nope.h5"), "--input", FIXTURE);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /nope\.h5: model not found/);
});

test("evaluate --json with the seed baseline", async () => {
  const r = run("evaluate", "--model", "seed", "--input", FIXTURE, "--json");
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
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
  assert.match(r.stderr, /TensorFlow\.js backend/, "names the backend");
  const scored = await readPairTable(out);
  assert.ok(scored.frame.columns.includes("score"));
  const table = await readPairTable(FIXTURE);
  const expected = await predictScores(model, table.mirnas, table.sites);
  const got = scored.frame.getColumn("score").toArray().map(Number);
  assert.equal(got.length, expected.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-4, `row ${i}: ${got[i]} vs ${expected[i]}`);
  model.dispose();
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
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(report.n, 64155);
  assert.ok(Math.abs(report.rocAuc - 0.97296) < 5e-4, `rocAuc ${report.rocAuc}`);
});
