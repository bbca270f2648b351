import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { publishedModelPath } from "../lib/src/binding/paths";
import { hasSeedRegionMatch, scanSeedClass } from "../lib/src/binding/scan";
import { missingData } from "../lib/src/data/paths";
import { mulberry32, randomSequence } from "../lib/src/random";
import { CLI_COMMAND, MIRNA, tempDir, writeFixture } from "./helpers";

// `mirna-dl scan` as test/cli.test.ts runs the CLI (helpers.ts CLI_COMMAND).
const ROOT = path.join(__dirname, "..");
const dir = tempDir();

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", cwd: ROOT, env: { ...process.env, MIRNA_DL_BACKEND: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rows of a TSV text (header first) as arrays of cells. */
const rowsOf = (text: string) => text.trimEnd().split("\n").map((l) => l.split("\t"));

// MIRNA (let-7, TGAGGTAGTAGGTTGTATAG) has the 8mer site CTACCTCA; in a poly-G background it is the
// only seed match, so the windows holding it are known: starts 59 … 101 for an 8mer at 101–108.
// miR-ac (ACAC…) has no seed match in these targets. utr2 is 28 nt: one window, padded with N.
const G = (n: number) => "G".repeat(n);
const TARGETS = `>utr1 a 3'UTR\n${G(100)}CTACCTCA${G(92)}\n>utr2\n${G(10)}CTACCTCA\n${G(10)}\n>utr3\n${G(300)}\n`;
const MIRNAS = `>let-7a\n${MIRNA.replace(/T/g, "U")}UU\n>miR-ac\n${"AC".repeat(11)}\n`;

test("help: scan is listed, and its help says what the prefilter misses", () => {
  const main = run("--help");
  assert.match(main.stdout, /\n {2}scan +slide 50-nt windows along targets/);
  const help = run("scan", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: mirna-dl scan --model PATH --mirnas FASTA --targets FASTA \[--output TSV\] \[--top-output TSV\] \[options\]/);
  assert.match(help.stdout, /of the 27,813 pairs it scores ≥ 0\.5, 909 \(3\.3%\) have\s+no\s+seed-region\s+match/);
  assert.match(help.stdout, /--all-windows +score every window/);
  assert.equal(run("help", "scan").stdout, help.stdout);
});

test("scan with the seed baseline: window rows to standard output, top sites to a file, coordinates 1-based", () => {
  const mirnas = writeFixture(dir, "m.fa", MIRNAS);
  const targets = writeFixture(dir, "t.fa", TARGETS);
  const top = path.join(dir, "top.tsv");
  const r = run("scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "--top-output", top, "--top", "2");
  assert.equal(r.code, 0, r.stderr);
  const rows = rowsOf(r.stdout);
  assert.deepEqual(rows[0], ["target", "mirna", "start", "end", "score", "seed_match"]);
  // Every window holding the 8mer (starts 59–101 of utr1, the padded window 1–28 of utr2) scores 4;
  // window 58 holds only its 7mer-m8 (CTACCTC), 102 its 7mer-A1 (TACCTCA), 57 its offset 6mer (CTACCT,
  // scored 0: not written); nothing for miR-ac.
  assert.deepEqual(rows.slice(1), [
    ["utr1", "let-7a", "58", "107", "3", "7mer-m8"],
    ...Array.from({ length: 43 }, (_, i) => ["utr1", "let-7a", String(59 + i), String(108 + i), "4", "8mer"]),
    ["utr1", "let-7a", "102", "151", "2", "7mer-A1"],
    ["utr2", "let-7a", "1", "28", "4", "8mer"],
  ]);
  // Top sites: let-7a's best window in utr1 is the leftmost holding the 8mer; no site in the G-only targets.
  const sites = rowsOf(fs.readFileSync(top, "utf8"));
  assert.deepEqual(sites[0], ["target", "mirna", "rank", "start", "end", "score", "seed_match"]);
  assert.deepEqual(sites.slice(1), [["utr1", "let-7a", "1", "59", "108", "4", "8mer"], ["utr2", "let-7a", "1", "1", "28", "4", "8mer"]]);
  assert.match(r.stderr, /mirna-dl scan: scanned 3 targets \(528 nt\) with 2 miRNAs: 806 windows at stride 1\n/);
  assert.match(r.stderr, /scored 47 windows \(5\.8%\) holding a seed-region match; the other 759 were not scored/);
  assert.match(r.stderr, /46 windows with score ≥ 1 written to standard output/);
  assert.match(r.stderr, /4 of 6 pairs had no scored window and have no sites/);
  assert.match(r.stderr, /1 target was shorter than 50 nt: one window each, padded with N/);
  assert.doesNotMatch(run("scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "-q").stderr, /./, "--quiet prints nothing");
  // --threshold X keeps scores ≥ X: the 8mer windows only at 4.
  const eight = rowsOf(run("scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "--threshold", "4", "-q").stdout).slice(1);
  assert.deepEqual(eight, rows.slice(1).filter((row) => row[4] === "4"));
  assert.equal(eight.length, 44);
});

test("scan output files: gzip when named .gz, the same rows; --stride and --threshold", () => {
  const random = mulberry32(12);
  const a = randomSequence(random, 22);
  const mirnas = writeFixture(dir, "m2.fa", `>a\n${a}\n>b\n${MIRNA}\n`);
  const mirnaOf: Record<string, string> = { a: a.slice(0, 20), b: MIRNA };
  const sequence = randomSequence(random, 3000);
  const targets = writeFixture(dir, "t2.fa.gz", `>long\n${sequence.replace(/(.{70})/g, "$1\n")}\n`);
  const plain = path.join(dir, "w.tsv");
  const gz = path.join(dir, "w.tsv.gz");
  for (const out of [plain, gz]) assert.equal(run("scan", "-m", "seed", "--mirnas", mirnas, "-t", targets, "-o", out, "--threshold", "0", "-q").code, 0);
  const text = fs.readFileSync(plain, "utf8");
  assert.equal(zlib.gunzipSync(fs.readFileSync(gz)).toString("utf8"), text);
  const rows = rowsOf(text).slice(1);
  // Threshold 0: every window holding a seed-region match, with its class.
  let expected = 0;
  for (let s = 0; s + 50 <= 3000; s++) for (const m of ["a", "b"]) if (hasSeedRegionMatch(mirnaOf[m]!, sequence.slice(s, s + 50))) expected++;
  assert.equal(rows.length, expected);
  for (const row of rows.slice(0, 50)) assert.equal(row[5], scanSeedClass(mirnaOf[row[1]!]!, sequence.slice(Number(row[2]) - 1, Number(row[3]))));
  const strided = rowsOf(run("scan", "-m", "seed", "--mirnas", mirnas, "-t", targets, "--threshold", "0", "--stride", "7", "-q").stdout).slice(1);
  assert.ok(strided.every((row) => (Number(row[2]) - 1) % 7 === 0 || Number(row[3]) === 3000));
  assert.ok(strided.length > 0 && strided.length < rows.length);
  const high = rowsOf(run("scan", "-m", "seed", "--mirnas", mirnas, "-t", targets, "--threshold", "3", "-q").stdout).slice(1);
  assert.deepEqual(high, rows.filter((row) => Number(row[4]) >= 3));
});

test("usage errors and bad input exit 2 with one message, before any output is made", () => {
  const mirnas = writeFixture(dir, "m3.fa", MIRNAS);
  const targets = writeFixture(dir, "t3.fa", TARGETS);
  const out = path.join(dir, "never.tsv");
  const cases: [string[], RegExp][] = [
    [["scan", "--model", "seed", "--targets", targets], /missing --mirnas/],
    [["scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "--top", "3"], /--top K sets the sites per pair written to --top-output: give --top-output PATH too/],
    [["scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "--top-output", "-"], /--output and --top-output cannot both be standard output/],
    [["scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "-o", out, "--top-output", out], /--output and --top-output are the same file/],
    [["scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "--stride", "0"], /--stride must be an integer 1–1000000, got '0'/],
    [["scan", "--model", "seed", "--mirnas", mirnas, "--targets", writeFixture(dir, "bad.fa", ">a\nACGT\nACXT\n"), "-o", out], /bad\.fa, line 3: target 'a' has a letter 'X' at position 7 that is not a nucleotide/],
    [["scan", "--model", "seed", "--mirnas", writeFixture(dir, "nseed.fa", ">n\nUGANGUAGUAGG\n"), "--targets", targets, "-o", out], /nseed\.fa, line 1: miRNA 'n' .* has an N in its seed .* --all-windows/],
    [["scan", "--model", path.join(dir, "no-model.h5"), "--mirnas", mirnas, "--targets", targets, "-o", out], /no-model\.h5: model not found/],
    [["scan", "--model", "seed", "--mirnas", mirnas, "--targets", path.join(dir, "no-targets.fa"), "-o", out], /no-targets\.fa: file not found/],
    [["scan", "--model", "seed", "--mirnas", path.join(dir, "no-mirnas.fa"), "--targets", targets, "-o", out], /no-mirnas\.fa: file not found/],
    // The output is checked first: a folder fails before the (missing) model is looked at.
    [["scan", "--model", path.join(dir, "no-model.h5"), "--mirnas", mirnas, "--targets", targets, "-o", dir], /is a folder, expected a file to write/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  assert.ok(!fs.existsSync(out), "no output file");
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temporary file left");
  // A bad record after good ones: the rows already scored are not published either.
  const late = writeFixture(dir, "late.fa", `>ok\n${G(100)}CTACCTCA${G(92)}\n>bad\nACGU-\n`);
  const r = run("scan", "--model", "seed", "--mirnas", mirnas, "--targets", late, "-o", out, "--top-output", path.join(dir, "never-top.tsv"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /late\.fa, line 4: target 'bad' has a letter '-' at position 5/);
  assert.ok(!fs.existsSync(out) && !fs.existsSync(path.join(dir, "never-top.tsv")));
});

test("standard output closed early (| head -2): exit 0, quietly", async () => {
  const random = mulberry32(2);
  const mirnas = writeFixture(dir, "m4.fa", `>b\n${MIRNA}\n`);
  const targets = writeFixture(dir, "t4.fa", `>long\n${randomSequence(random, 200_000)}\n`);
  const child = spawn(process.execPath, [...CLI_COMMAND, "scan", "-m", "seed", "--mirnas", mirnas, "-t", targets, "--threshold", "0", "-q"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let seen = "";
  child.stdout.on("data", (d: Buffer) => {
    seen += d.toString();
    if (seen.split("\n").length > 2) child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
});

test("scan with the published iterative model: a planted 8mer is the top site, and the window scores are predict's", async (t) => {
  const model = publishedModelPath("iterative");
  const skip = missingData(model);
  if (skip) return t.skip(skip);
  const random = mulberry32(77);
  // AT-rich background without a seed-region match of let-7, and an 8mer planted at 801.
  let background = "";
  do {
    background = Array.from({ length: 1500 }, () => "AATTGC"[Math.floor(random() * 6)]).join("");
  } while (hasSeedRegionMatch(MIRNA, background));
  const sequence = background.slice(0, 800) + "CTACCTCA" + background.slice(808);
  const mirnas = writeFixture(dir, "m5.fa", `>let-7a-5p\nUGAGGUAGUAGGUUGUAUAGUU\n`);
  const targets = writeFixture(dir, "t5.fa", `>utr\n${sequence}\n`);
  const top = path.join(dir, "top5.tsv");
  const r = run("scan", "-m", model, "--mirnas", mirnas, "-t", targets, "--top-output", top, "--top", "1", "-q");
  assert.equal(r.code, 0, r.stderr);
  const sites = rowsOf(fs.readFileSync(top, "utf8")).slice(1);
  assert.equal(sites.length, 1);
  const [, , rank, start, end, score, cls] = sites[0]!;
  assert.equal(rank, "1");
  assert.ok(Number(start) <= 801 && 808 <= Number(end), `top site ${start}–${end}`);
  assert.equal(cls, "8mer");
  assert.ok(Number(score) > 0.5, `score ${score}`);
  // The window rows' scores are what `predict` gives the same pairs (up to the last bits, which depend on the batching).
  const windows = rowsOf(r.stdout).slice(1);
  assert.ok(windows.length > 10, `${windows.length} windows ≥ 0.5`);
  const pairs = writeFixture(dir, "pairs5.tsv", "mirna_binding_sequence\tbinding_sequence\tlabel\n" +
    windows.map((w) => `${MIRNA}\t${sequence.slice(Number(w[2]) - 1, Number(w[3]))}\tpositive`).join("\n") + "\n");
  const predicted = rowsOf(run("predict", "-m", model, "-i", pairs, "-q").stdout).slice(1);
  windows.forEach((w, k) => assert.ok(Math.abs(Number(w[4]) - Number(predicted[k]![3])) < 1e-6, `window ${w[2]}: scan ${w[4]}, predict ${predicted[k]![3]}`));
});
