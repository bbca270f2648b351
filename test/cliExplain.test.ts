import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { initBackend } from "../lib/src/ops/backend";
import { saveTfjsModel } from "../lib/src/io/tfjsModel";
import { readNpyFile } from "../lib/src/io/npy";
import { readTsvTable } from "../lib/src/io/tsv";
import { CLI_COMMAND, tempDir, writeFixture, MIRNA, SITE, SITE_8MER } from "./helpers";

// `mirna-dl explain` from source (as test/cli.test.ts runs the other commands).
const ROOT = path.join(__dirname, "..");
const dir = tempDir();
const MODEL = path.join(dir, "model");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", cwd: ROOT, env: { ...process.env, MIRNA_DL_BACKEND: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ROWS: [string, string, string][] = [
  [MIRNA, SITE_8MER, "positive"],
  [MIRNA, SITE, "positive"],
  [MIRNA, "A".repeat(50), "negative"],
  ["TAGCTTATCAGACTGATGTT", SITE_8MER, "negative"],
];
const TABLE = writeFixture(dir, "pairs.tsv", `mirna_binding_sequence\tbinding_sequence\tlabel\n${ROWS.map((r) => r.join("\t")).join("\n")}\n`);

before(async () => {
  await initBackend({ quiet: true });
  const model = buildArch00b({ seed: 21 });
  await saveTfjsModel(model, MODEL);
  model.dispose();
});

test("explain writes attribution matrices (.npy), a per-pair and a per-position table, figures and a summary", () => {
  const out = path.join(dir, "explained");
  const r = run("explain", "--model", MODEL, "--input", TABLE, "--out", out, "--steps", "16", "--tolerance", "0.01", "--max-steps", "128", "--examples", "2", "-q");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "quiet");
  for (const stem of ["integrated_gradients", "saliency"]) {
    const npy = readNpyFile(path.join(out, `${stem}.npy`));
    assert.equal(npy.dtype, "<f4");
    assert.deepEqual(npy.shape, [4, 50, 20]);
  }
  const ig = readNpyFile(path.join(out, "integrated_gradients.npy")).data as Float32Array;
  const pairs = readTsvTable(path.join(out, "pairs.tsv"));
  assert.deepEqual(pairs.header, ["row", "mirna", "site", "label", "seed_class", "probability", "logit", "baseline_logit", "attribution_sum", "completeness_error", "steps"]);
  const col = (name: string) => pairs.columns[pairs.header.indexOf(name)]!.map((v) => v!);
  assert.deepEqual(col("seed_class"), ["8mer", "7mer-m8", "none", "none"]);
  assert.deepEqual(col("label"), ["positive", "positive", "negative", "negative"]);
  for (let k = 0; k < 4; k++) {
    // The matrices sum to the table's attribution_sum, which is the logit difference within tolerance (or at the step cap).
    const sum = ig.subarray(k * 1000, (k + 1) * 1000).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - Number(col("attribution_sum")[k])) < 1e-3);
    const delta = Number(col("logit")[k]) - Number(col("baseline_logit")[k]);
    const error = Math.abs(sum - delta) / Math.max(Math.abs(delta), 1e-3);
    assert.ok(error <= 0.011 || col("steps")[k] === "128", `pair ${k}: completeness error ${error}`);
    const p = Number(col("probability")[k]);
    assert.ok(Math.abs(Math.log(p / (1 - p)) - Number(col("logit")[k])) < 1e-3);
  }
  const positions = readTsvTable(path.join(out, "positions.tsv"));
  assert.deepEqual(positions.header, ["method", "axis", "group", "position", "n", "mean", "sd", "share"]);
  // 2 methods × (20 + 50 positions) × groups all, positive, negative, and the classes of the positives: 8mer, 7mer-m8.
  assert.equal(positions.lines.length, 2 * 70 * 5);
  const groups = new Set(positions.columns[2]);
  assert.deepEqual([...groups], ["all", "positive", "negative", "8mer", "7mer-m8"]);
  for (const f of ["integrated_gradients_mirna_positions", "saliency_site_positions", "integrated_gradients_examples"]) {
    assert.ok(fs.statSync(path.join(out, "figures", `${f}.svg`)).size > 1000, f);
    assert.ok(fs.existsSync(path.join(out, "figures", `${f}.png`)), f);
  }
  const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
  assert.equal(summary.n, 4);
  assert.equal(summary.positives, 2);
  assert.deepEqual(summary.baseline, { name: "zero", value: 0 });
  assert.ok(summary.peakMirnaPosition["integrated-gradients"].all >= 1);

  // Only saliency, uniform baseline ignored; an earlier output is replaced with --force.
  const again = run("explain", "-m", MODEL, "-i", TABLE, "-o", out, "--method", "saliency", "--examples", "0", "-q", "--force");
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!fs.existsSync(path.join(out, "integrated_gradients.npy")));
  assert.deepEqual(readTsvTable(path.join(out, "pairs.tsv")).header, ["row", "mirna", "site", "label", "seed_class", "probability", "logit"]);
});

test("explain refuses bad usage and bad input with exit 2, before any output", () => {
  const out = path.join(dir, "never");
  const cases: [string[], RegExp][] = [
    [["--model", "seed", "--input", TABLE, "--out", out], /--model seed is the seed-match rule, not a network/],
    [["--model", MODEL, "--input", TABLE, "--out", out, "--method", "gradcam"], /--method must be integrated-gradients \(ig\), saliency or both, got 'gradcam'/],
    [["--model", MODEL, "--input", TABLE, "--out", out, "--baseline", "random"], /--baseline must be zero, uniform or a number, got 'random'/],
    [["--model", MODEL, "--input", TABLE, "--out", out, "--steps", "0"], /--steps must be an integer 1–4096, got '0'/],
    [["--model", MODEL, "--input", TABLE, "--out", out, "--steps", "64", "--max-steps", "32"], /--max-steps \(32\) must be at least --steps \(64\)/],
    [["--model", MODEL, "--input", path.join(dir, "missing.tsv"), "--out", out], /missing\.tsv/],
    [["--model", path.join(dir, "nope"), "--input", TABLE, "--out", out], /nope: model not found/],
    [["--input", TABLE, "--out", out], /missing --model/],
  ];
  for (const [args, pattern] of cases) {
    const r = run("explain", ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  const bad = writeFixture(dir, "bad.tsv", `mirna_binding_sequence\tbinding_sequence\n${MIRNA}\t${SITE.slice(0, 30)}\n`);
  const r = run("explain", "--model", MODEL, "--input", bad, "--out", out);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.tsv, row 1 \(line 2\), column 'binding_sequence': site .* has length 30, expected 50/);
  assert.ok(!fs.existsSync(out), "nothing written");
  assert.match(run("explain", "--help").stdout, /^Usage: mirna-dl explain --model PATH --input TSV --out DIR/);
});

test("explain --out never deletes what it did not write: a file, a folder with other files, '.', a path through a file or through a missing folder are refused before any work", () => {
  const folder = path.join(dir, "user");
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, "thesis.tex"), "years of work\n");
  const file = path.join(dir, "results.txt");
  fs.writeFileSync(file, "keep\n");
  const cwd = path.join(dir, "cwd");
  fs.mkdirSync(cwd);
  fs.writeFileSync(path.join(cwd, "notes.md"), "mine\n");
  const cases: [string, string[], RegExp][] = [
    [ROOT, ["-o", folder], /user: folder is not empty \(1 entries\): give --force to replace an earlier 'explain' output/],
    [ROOT, ["-o", folder, "--force"], /user: holds files 'explain' does not write \('thesis\.tex'\): not replaced even with --force/],
    [ROOT, ["-o", file], /results\.txt: exists and is not a folder/],
    [ROOT, ["-o", file, "--force"], /results\.txt: exists and is not a folder/],
    [ROOT, ["-o", path.join(file, "sub")], /results\.txt\/sub: cannot write: a part of the path is a file, not a folder/],
    [cwd, ["-o", "."], /^mirna-dl: \.: folder is not empty/],
    [ROOT, ["-o", `${dir}/missing/../g`], /missing\/\.\.\/g: cannot write: folder not found/],
  ];
  for (const [where, args, pattern] of cases) {
    // CLI_COMMAND holds absolute paths only: it runs from any folder.
    const r = spawnSync(process.execPath, [...CLI_COMMAND, "explain", "--model", MODEL, "--input", TABLE, ...args], { encoding: "utf8", cwd: where, env: { ...process.env, MIRNA_DL_BACKEND: "" } });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /TensorFlow\.js backend|integrated gradients|\n\s+at /, "refused before any work, no stack");
  }
  assert.deepEqual(fs.readdirSync(folder), ["thesis.tex"]);
  assert.equal(fs.readFileSync(file, "utf8"), "keep\n");
  assert.deepEqual(fs.readdirSync(cwd), ["notes.md"]);
  assert.ok(!fs.existsSync(path.join(dir, "g")));
});
