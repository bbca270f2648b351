import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../lib/src/ops/backend";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { InputError } from "../lib/src/errors";
import { buildDeepMirClassifier, predictHairpinImages } from "../lib/src/hairpin/classifier";
import { readImagesNpz, writeImagesNpz, writeNamesNpz } from "../lib/src/hairpin/datasets";
import { parseHairpinFasta } from "../lib/src/hairpin/fastaImages";
import { encodePng } from "../lib/src/io/png";
import { encodeHairpinImage, HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { readTsv } from "../lib/src/io/tsv";
import { readNpzSingle } from "../lib/src/io/npy";
import { missingData } from "../lib/src/data/paths";
import { deepMirDatasetsFolder } from "../lib/src/hairpin/datasets";
import { loadTfjsModel, saveTfjsModel } from "../lib/src/io/tfjsModel";
import { CLI_COMMAND, decodePng, tempDir, writeFixture } from "./helpers";

// These run the real RNAfold (environment/setup.sh installs Debian's vienna-rna) and the CLI
// as helpers.ts CLI_COMMAND runs it (lib/dist when up to date, else the sources): mirna-dl hairpin …
const FASTA = path.join(__dirname, "fixtures", "hairpin", "hairpins.fa");
const dir = tempDir();

/** The fixture's records: constructed hairpins, RNAfold 2.5.1 MFE structures (hp4's is given in the file). */
const EXPECTED = [
  { name: "hp1", structure: "((((((((((((((((((((((((..(....)..))))))))))))))))))))))))", mfe: "-49.00" },
  { name: "hp2_dna", structure: "((((((((((((((((((((((((.(......).)))))))).))))))))))))))))", mfe: "-45.40" },
  { name: "hp3", structure: "((((((((((((((((((.(((((..........))))).))))))))))))))))))", mfe: "-42.10" },
  { name: "hp4_given", structure: "((((...))))", mfe: "" },
];

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", env: { ...process.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let modelDir = "";
before(async () => {
  await initBackend({ quiet: true });
  modelDir = path.join(dir, "model");
  const model = buildDeepMirClassifier({ modules: 1, filters: [4], denseUnits: 8, seed: 3 });
  await saveTfjsModel(model, modelDir);
  model.dispose();
});

test("help: hairpin, encode, classify, train", () => {
  const main = run("--help");
  assert.equal(main.code, 0);
  // The main help lists the nested commands themselves.
  assert.match(main.stdout, /^ {2}hairpin encode +fold FASTA[\s\S]*^ {2}hairpin classify +[\s\S]*^ {2}hairpin train +[\s\S]*^ {2}hairpin train-vae +[\s\S]*^ {2}hairpin generate +/m);
  const hairpin = run("hairpin", "--help");
  assert.equal(hairpin.code, 0);
  assert.match(hairpin.stdout, /encode[\s\S]*classify[\s\S]*train[\s\S]*help/);
  assert.equal(run("hairpin").stdout, hairpin.stdout);
  const commands = [
    ["encode", /^Usage: mirna-dl hairpin encode --input FASTA --out DIR \[--scale N\]/],
    ["classify", /^Usage: mirna-dl hairpin classify --model DIR --input FASTA\|NPZ/],
    ["train", /^Usage: mirna-dl hairpin train \[--seeds S,S,…\] \[--epochs N\] \[--out DIR\] \[options\]/],
  ] as const;
  for (const [command, pattern] of commands) {
    const r = run("hairpin", command, "--help");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, pattern);
    assert.equal(run("hairpin", "help", command).stdout, r.stdout, `hairpin help ${command}`);
  }
  const train = run("hairpin", "train", "-h").stdout;
  for (const option of ["seeds", "epochs", "out", "modules", "dense-units", "kernel-size", "batch-size", "max-train", "pretrain-epochs", "train-set", "test-set"]) {
    assert.match(train, new RegExp(`--${option} `), option);
  }
  assert.match(train, /--epochs N +training epochs per seed \(default 100\)/);
  assert.match(train, /--train-set PREFIX .*\(default modhsa_train\)/);
  const unknown = run("hairpin", "draw");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown hairpin command 'draw'/);
  const missing = run("hairpin", "encode", "--input", FASTA);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing --out/);
});

test("encode: PNG per record, TSV of folds, images and names .npz, identical to the library encoder", () => {
  const out = path.join(dir, "encoded");
  const r = run("hairpin", "encode", "--input", FASTA, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    fs.readdirSync(out).sort(),
    ["hairpins.tsv", "hairpins_images.npz", "hairpins_names.npz", "hp1.png", "hp2_dna.png", "hp3.png", "hp4_given.png"],
  );
  const table = readTsv(path.join(out, "hairpins.tsv"));
  assert.deepEqual(table.getColumn("name").toArray(), EXPECTED.map((e) => e.name));
  assert.deepEqual(table.getColumn("structure").toArray(), EXPECTED.map((e) => e.structure));
  assert.deepEqual(table.getColumn("mfe").toArray().map((v) => v ?? ""), EXPECTED.map((e) => e.mfe));
  const sequences = table.getColumn("sequence").toArray() as string[];
  assert.equal(sequences[1], "agtgagctacggatcagcctagacgatataattggtctaggcatgatccgtagctcact".toUpperCase().replace(/T/g, "U"));
  assert.equal(sequences[0]!.length, 58);

  const images = readNpzSingle(path.join(out, "hairpins_images.npz"));
  assert.equal(images.dtype, "|u1");
  assert.deepEqual(images.shape, [4, 25, 100, 3]);
  assert.deepEqual(readNpzSingle(path.join(out, "hairpins_names.npz")).data, EXPECTED.map((e) => e.name));
  EXPECTED.forEach((e, k) => {
    const expected = encodeHairpinImage(sequences[k]!, e.structure).data;
    assert.deepEqual((images.data as Uint8Array).subarray(k * HAIRPIN_IMAGE_SIZE, (k + 1) * HAIRPIN_IMAGE_SIZE), expected);
    const png = decodePng(fs.readFileSync(path.join(out, `${e.name}.png`)));
    assert.equal(png.width, 400);
    assert.equal(png.height, 100);
    for (const [y, x] of [[0, 0], [50, 3], [51, 2], [99, 399], [48, 7]]) {
      const src = (Math.floor(y! / 4) * 100 + Math.floor(x! / 4)) * 3;
      assert.deepEqual([...png.rgb.subarray((y! * 400 + x!) * 3, (y! * 400 + x!) * 3 + 3)], [...expected.subarray(src, src + 3)], `pixel ${y},${x}`);
    }
  });
});

test("classify: FASTA (folded + encoded) and the encoded .npz give the library's probabilities", async () => {
  const fasta = run("hairpin", "classify", "--model", modelDir, "--input", FASTA, "--json");
  assert.equal(fasta.code, 0, fasta.stderr);
  const lines = fasta.stdout.trim().split("\n").map((l) => JSON.parse(l) as { name: string; probability: number; call: number; structure: string; mfe: number | null });
  assert.deepEqual(lines.map((l) => l.name), EXPECTED.map((e) => e.name));
  assert.deepEqual(lines.map((l) => l.structure), EXPECTED.map((e) => e.structure));
  assert.equal(lines[3]!.mfe, null);

  const encodedDir = path.join(dir, "for-npz");
  const encodedQuietly = run("hairpin", "encode", "-i", FASTA, "-o", encodedDir, "--scale", "1", "-q");
  assert.equal(encodedQuietly.code, 0, encodedQuietly.stderr);
  assert.equal(encodedQuietly.stderr, "", "-q: nothing on standard error");
  const { images, names } = readImagesNpz(path.join(encodedDir, "hairpins_images.npz"));
  assert.deepEqual(names, EXPECTED.map((e) => e.name));
  const model = await loadTfjsModel(modelDir);
  const expected = predictHairpinImages(model, images);
  model.dispose();
  lines.forEach((l, k) => {
    assert.ok(Math.abs(l.probability - expected[k]!) < 1e-5, `${l.name}: ${l.probability} vs ${expected[k]}`);
    assert.equal(l.call, expected[k]! >= 0.5 ? 1 : 0);
  });

  const npz = run("hairpin", "classify", "--model", modelDir, "--input", path.join(encodedDir, "hairpins_images.npz"), "--threshold", "0", "--quiet");
  assert.equal(npz.code, 0, npz.stderr);
  assert.equal(npz.stderr, "", "--quiet: no backend line");
  const rows = npz.stdout.trim().split("\n");
  assert.equal(rows[0], "name\tprobability\tcall");
  assert.deepEqual(rows.slice(1).map((r) => r.split("\t")[0]), EXPECTED.map((e) => e.name));
  rows.slice(1).forEach((r, k) => {
    const [, p, call] = r.split("\t");
    assert.ok(Math.abs(Number(p) - expected[k]!) < 1e-5);
    assert.equal(call, "1");
  });
});

test("bad FASTA input: clear errors naming the file, line and record (library and CLI exit code 2)", () => {
  const cases: [string, string, RegExp][] = [
    ["no-header.fa", "ACGUACGU\n>x\nACGU\n", /no-header\.fa, line 1: not FASTA: line 1 comes before any '>' header/],
    ["empty.fa", ">a\nGGGGAAACCCC\n>b\n\n>c\nACGU\n", /empty\.fa, line 3: record 'b' has an empty sequence/],
    ["letters.fa", ">a\nGGGGAAACCCC\n>bad one\nGGGGAXACCCC\n", /letters\.fa, line 3: sequence of record 'bad' .* has a non-RNA letter 'X' at position 6/],
    ["nameless.fa", ">\nACGU\n", /nameless\.fa, line 1: FASTA header '>' without a name/],
    ["twice.fa", ">a\nACGU\n>a\nACGU\n", /twice\.fa, line 3: duplicate record name 'a' \(first at line 1\)/],
    ["nothing.fa", "\n\n", /nothing\.fa: no FASTA records/],
  ];
  for (const [name, text, pattern] of cases) {
    const file = writeFixture(dir, name, text);
    assert.throws(() => parseHairpinFasta(text, file), (e: unknown) => e instanceof InputError && pattern.test(e.message), name);
  }
  const cli = run("hairpin", "encode", "--input", path.join(dir, "letters.fa"), "--out", path.join(dir, "never"));
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /record 'bad'.*non-RNA letter 'X'/);
  assert.ok(!fs.existsSync(path.join(dir, "never")));

  const mismatch = writeFixture(dir, "mismatch.fa", ">ok\nGGGGAAACCCC\n>short_fold\nGGGGAAACCCC\n((((..))))\n");
  const m = run("hairpin", "classify", "--model", modelDir, "--input", mismatch);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /mismatch\.fa, line 3: record 'short_fold': .*10.*11|mismatch\.fa, line 3: record 'short_fold': .*11.*10/);

  const noLoop = writeFixture(dir, "noloop.fa", ">flat\nGGGGAAACCCC\n...........\n");
  const n = run("hairpin", "encode", "--input", noLoop, "--out", path.join(dir, "never"));
  assert.equal(n.code, 2);
  assert.match(n.stderr, /record 'flat': .*no terminal loop/);

  const missingModel = run("hairpin", "classify", "--model", path.join(dir, "no-model"), "--input", FASTA);
  assert.equal(missingModel.code, 2);
  assert.match(missingModel.stderr, /no-model: model not found\n$/);
});

test("classify refuses a model that is not a hairpin classifier", async () => {
  const other = path.join(dir, "arch00b");
  const model = buildArch00b({ seed: 1 });
  await saveTfjsModel(model, other);
  model.dispose();
  const r = run("hairpin", "classify", "--model", other, "--input", FASTA);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a hairpin classifier: its input is \(batch, 50, 20, 1\), expected \(batch, 25, 100, 3\)/);
});

test("PNG and .npz writers: scale, CRCs, round trip through the .npz reader", () => {
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]); // 2 × 2
  const png = decodePng(encodePng(rgb, 2, 2, 3));
  assert.equal(png.width, 6);
  assert.deepEqual([...png.rgb.subarray(0, 3)], [255, 0, 0]);
  assert.deepEqual([...png.rgb.subarray((5 * 6 + 5) * 3, (5 * 6 + 5) * 3 + 3)], [9, 9, 9]);
  assert.deepEqual([...png.rgb.subarray((0 * 6 + 3) * 3, (0 * 6 + 3) * 3 + 3)], [0, 255, 0]);

  const images = new Uint8Array(3 * HAIRPIN_IMAGE_SIZE).map((_, i) => (i * 31) & 255);
  const file = path.join(dir, "rt_images.npz");
  writeImagesNpz(file, images);
  writeNamesNpz(path.join(dir, "rt_names.npz"), ["a", "ß-mir-1", ">c"]);
  const back = readImagesNpz(file);
  assert.deepEqual(back.images, images);
  assert.deepEqual(back.names, ["a", "ß-mir-1", "c"]);
  assert.throws(() => readImagesNpz(path.join(__dirname, "fixtures", "npy", "nonexistent.npz")), InputError);
});

test("classify and encode: --threshold, --batch-size and --scale are validated (exit 2)", () => {
  const cases: [string[], RegExp][] = [
    [["classify", "--model", modelDir, "--input", FASTA, "--threshold", "high"], /--threshold must be a number, got 'high'/],
    [["classify", "--model", modelDir, "--input", FASTA, "--batch-size", "0"], /--batch-size must be a positive integer, got '0'/],
    [["encode", "--input", FASTA, "--out", path.join(dir, "never"), "--scale", "33"], /--scale must be an integer 1–32, got '33'/],
  ];
  for (const [args, pattern] of cases) {
    const r = run("hairpin", ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
  assert.ok(!fs.existsSync(path.join(dir, "never")));
});

test("train: options are validated before any data is read (exit 2)", () => {
  const out = path.join(dir, "train-never");
  const cases: [string[], RegExp][] = [
    [["--seeds", "1,x"], /--seeds must be distinct comma-separated integers, got '1,x'/],
    [["--seeds", "2,2"], /--seeds must be distinct comma-separated integers, got '2,2'/],
    [["--epochs", "-1"], /--epochs must be an integer ≥ 0, got '-1'/],
    [["--modules", "5"], /--modules must be an integer 1–4, got '5'/],
    [["--dense-units", "0"], /--dense-units must be a positive integer, got '0'/],
    [["--kernel-size", "2.5"], /--kernel-size must be a positive integer, got '2\.5'/],
    [["--batch-size", "x"], /--batch-size must be a positive integer, got 'x'/],
    [["--max-train", "0"], /--max-train must be a positive integer, got '0'/],
    [["--pretrain-epochs", "one"], /--pretrain-epochs must be an integer ≥ 0, got 'one'/],
    [["--train-set", ""], /--train-set must not be empty/],
  ];
  for (const [args, pattern] of cases) {
    const r = run("hairpin", "train", "--out", out, ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
  assert.ok(!fs.existsSync(out));
});

test("train on the deepMir data with tiny settings: tables on stdout, options in results.json", (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  const out = path.join(dir, "train");
  const unknown = run("hairpin", "train", "--out", out, "--evaluate-on", "modhsa_test,nope");
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /--evaluate-on: no deepMir set with images named 'nope'; the sets are .*modhsa_test/);
  assert.ok(!fs.existsSync(out), "refused before any work");
  const r = run(
    "hairpin", "train", "--seeds", "3", "--epochs", "1", "--max-train", "64", "--out", out,
    "--modules", "1", "--dense-units", "8", "--kernel-size", "5", "--batch-size", "32", "--test-set", "hsapseudo_test",
    "--evaluate-on", "modhsa_test,benchmark/mmu",
  );
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")) as {
    epochs: number; seeds: number[]; trainSamples: number; trainSet: string; testSet: string; pretrainEpochs: number;
    model: { modules: number; denseUnits: number; kernelSize: number; batchSize: number };
    perSeed: { seed: number; history: unknown[]; metrics: { name: string }[] }[]; summary: { name: string }[];
  };
  assert.equal(results.epochs, 1);
  assert.deepEqual(results.seeds, [3]);
  assert.equal(results.trainSamples, 64);
  assert.equal(results.trainSet, "modhsa_train");
  assert.equal(results.testSet, "hsapseudo_test");
  assert.equal(results.pretrainEpochs, 0);
  assert.deepEqual(
    { modules: results.model.modules, denseUnits: results.model.denseUnits, kernelSize: results.model.kernelSize, batchSize: results.model.batchSize },
    { modules: 1, denseUnits: 8, kernelSize: 5, batchSize: 32 },
  );
  assert.equal(results.perSeed.length, 1);
  assert.equal(results.perSeed[0]!.history.length, 1);
  assert.equal(results.summary[0]!.name, "hsapseudo_test", "the test set first");
  assert.deepEqual(results.summary.map((s) => s.name), ["hsapseudo_test", "modhsa_test", "mmu"], "the test set, then the sets --evaluate-on names");
  assert.ok(fs.existsSync(path.join(out, "seed-3", "model", "model.json")));
  assert.match(r.stdout, /^seed 3\nset +n +pos +neg +accuracy/m);
  assert.match(r.stdout, /^hsapseudo_test +1129 +564 +565 /m);
  assert.match(r.stdout, /^mean ± sd over seeds 3 \(1 epochs, /m);
  assert.ok(r.stdout.trimEnd().endsWith(`results in ${path.join(out, "results.json")}`), r.stdout);
});

// ---------------------------------------------------------------------------------------------
// Hardening: long and quoted names, existing outputs, a failing RNAfold, bad input

test("encode: a record name too long for a file name gets a short unique PNG name; the TSV keeps the name", () => {
  const long = "hsa-mir-" + "x".repeat(400);
  const longer = long + "y";
  const fasta = writeFixture(dir, "long-names.fa", `>${long}\nGGGGGGGGGGAAAACCCCCCCCCC\n((((((((((....))))))))))\n>${longer}\nGGGGGGGGGGAAAACCCCCCCCCC\n((((((((((....))))))))))\n`);
  const out = path.join(dir, "long-out");
  const r = run("hairpin", "encode", "--input", fasta, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  const pngs = fs.readdirSync(out).filter((f) => f.endsWith(".png"));
  assert.equal(pngs.length, 2, "two distinct files");
  for (const png of pngs) assert.ok(Buffer.byteLength(png) <= 204, `${png.length} bytes`);
  const table = readTsv(path.join(out, "hairpins.tsv"));
  assert.deepEqual(table.getColumn("name").toArray(), [long, longer]);
  assert.deepEqual([...(table.getColumn("png").toArray() as string[])].sort(), [...pngs].sort());
});

test("encode: a name holding quotes is written to hairpins.tsv as it is, and reads back the same", () => {
  const fasta = writeFixture(dir, "quoted.fa", `>mir"1"x\nGGGGGGGGGGAAAACCCCCCCCCC\n((((((((((....))))))))))\n`);
  const out = path.join(dir, "quoted-out");
  const r = run("hairpin", "encode", "--input", fasta, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  const text = fs.readFileSync(path.join(out, "hairpins.tsv"), "utf8");
  assert.equal(text.split("\n")[1]!.split("\t")[0], "mir\"1\"x", "no CSV quoting");
  assert.deepEqual(readTsv(path.join(out, "hairpins.tsv")).getColumn("name").toArray(), ["mir\"1\"x"]);
});

test("encode: --out an existing file is refused; a non-empty folder needs --force and is replaced whole (no stale PNGs)", () => {
  const file = writeFixture(dir, "not-a-folder", "x");
  const onFile = run("hairpin", "encode", "--input", FASTA, "--out", file);
  assert.equal(onFile.code, 2);
  assert.match(onFile.stderr, /^mirna-dl: .*not-a-folder: exists and is not a folder/);
  assert.equal(fs.readFileSync(file, "utf8"), "x");

  const out = path.join(dir, "rerun");
  assert.equal(run("hairpin", "encode", "--input", FASTA, "--out", out).code, 0);
  const one = writeFixture(dir, "one.fa", ">only\nGGGGGGGGGGAAAACCCCCCCCCC\n((((((((((....))))))))))\n");
  const again = run("hairpin", "encode", "--input", one, "--out", out);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /rerun: folder is not empty \(7 entries\): give --force/);
  assert.equal(fs.readdirSync(out).length, 7, "untouched");
  const forced = run("hairpin", "encode", "--input", one, "--out", out, "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ["hairpins.tsv", "hairpins_images.npz", "hairpins_names.npz", "only.png"], "no PNG of the earlier run");
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith(".rerun")), [], "no temporary folder left");

  fs.writeFileSync(path.join(out, "my-notes.txt"), "keep");
  const foreign = run("hairpin", "encode", "--input", one, "--out", out, "--force");
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /holds files 'hairpin encode' does not write \('my-notes\.txt'\): not replaced even with --force/);
  assert.equal(fs.readFileSync(path.join(out, "my-notes.txt"), "utf8"), "keep");
});

test("encode: an RNAfold that fails or prints garbage is one clear message (no stack); the earlier output stays", () => {
  const out = path.join(dir, "rnafold-fails");
  assert.equal(run("hairpin", "encode", "--input", FASTA, "--out", out).code, 0);
  const before = fs.readdirSync(out).sort();
  const failing = writeFixture(dir, "failing-rnafold.sh", "#!/bin/sh\necho 'ERROR: cannot allocate memory' >&2\nexit 3\n");
  const garbage = writeFixture(dir, "garbage-rnafold.sh", "#!/bin/sh\ncat > /dev/null\necho 'this is not RNAfold output'\n");
  fs.chmodSync(failing, 0o755);
  fs.chmodSync(garbage, 0o755);
  const cases: [string, RegExp][] = [
    [failing, /^mirna-dl: .*failing-rnafold\.sh --noPS .* failed \(exit code 3\): ERROR: cannot allocate memory\n$/],
    [garbage, /^mirna-dl: RNAfold printed 1 lines for 3 sequences \(expected 6\); output starts: .*this is not RNAfold output.*\n$/],
  ];
  for (const [binary, pattern] of cases) {
    const r = spawnSync(process.execPath, [...CLI_COMMAND, "hairpin", "encode", "--input", FASTA, "--out", out, "--force"], {
      encoding: "utf8", env: { ...process.env, MIRNA_DL_RNAFOLD: binary },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.deepEqual(fs.readdirSync(out).sort(), before, "the earlier output is untouched");
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith(".rnafold-fails")), [], "no temporary folder left");
});

test("a bad structure line is reported as a structure, not as a sequence letter; binary input is named", () => {
  const bad = writeFixture(dir, "bad-structure.fa", ">hp\nGGGGAAACCCC\n((((...)))x\n");
  const r = run("hairpin", "encode", "--input", bad, "--out", path.join(dir, "never"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^mirna-dl: .*bad-structure\.fa, line 3: record 'hp': bad structure line '\(\(\(\(\.\.\.\)\)\)x' \(expected dots and round brackets only/);
  assert.doesNotMatch(r.stderr, /non-RNA letter/);
  const npy = path.join(__dirname, "fixtures", "npy");
  const someNpy = fs.readdirSync(npy).find((f) => f.endsWith(".npy"));
  if (someNpy) {
    const b = run("hairpin", "encode", "--input", path.join(npy, someNpy), "--out", path.join(dir, "never"));
    assert.equal(b.code, 2);
    assert.match(b.stderr, /is a NumPy \.npy array, expected FASTA text\n$/);
  }
  assert.ok(!fs.existsSync(path.join(dir, "never")));
});

test("train: a --test-set that is the training set is refused before any work", () => {
  const out = path.join(dir, "same-set");
  for (const [train, testSet] of [["modhsa_train", "modhsa_train"], ["hsa", "benchmark/hsa"]] as const) {
    const r = run("hairpin", "train", "--train-set", train, "--test-set", testSet, "--epochs", "1", "--out", out);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^mirna-dl: --test-set is the training set \\('${train}'\\): a model scored on the images it was trained on says nothing about new hairpins; choose another set`));
    assert.doesNotMatch(r.stderr, /TensorFlow\.js backend|\n\s+at /);
  }
  assert.ok(!fs.existsSync(out), "nothing written");
});

test("encode: a record longer than an image can hold is refused before any folding, naming it", () => {
  const long = writeFixture(dir, "long.fa", `>short\nGGGGGGGGGGAAAACCCCCCCCCC\n>transcript\n${"ACGU".repeat(2500)}\n`);
  const started = Date.now();
  const r = run("hairpin", "encode", "--input", long, "--out", path.join(dir, "too-long-out"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^mirna-dl: .*long\.fa, line 3: sequence of record 'transcript' is 10,000 nt long: a hairpin image holds 100 columns, at most 200 nt/);
  assert.ok(Date.now() - started < 60_000, "not folded");
  assert.ok(!fs.existsSync(path.join(dir, "too-long-out")));
  const limit = writeFixture(dir, "limit.fa", `>at-limit\n${"G".repeat(98)}AAAA${"C".repeat(98)}\n`);
  assert.equal(run("hairpin", "encode", "--input", limit, "--out", path.join(dir, "limit-out")).code, 0, "200 nt is drawn");
});

test("encode on a full disk: one line naming the output folder, the earlier output intact, nothing left behind", (t) => {
  const disk = path.join(dir, "small-disk");
  fs.mkdirSync(disk);
  // A 256 KiB file system of its own (root can mount a tmpfs; elsewhere this test is skipped).
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", disk], { encoding: "utf8" });
  if (mounted.status !== 0) return t.skip(`cannot mount a small tmpfs here (${mounted.stderr.trim() || mounted.error?.message})`);
  try {
    const out = path.join(disk, "images");
    const first = run("hairpin", "encode", "--input", FASTA, "--out", out, "--scale", "1");
    assert.equal(first.code, 0, first.stderr);
    const before = Object.fromEntries(fs.readdirSync(out).map((f) => [f, fs.readFileSync(path.join(out, f)).toString("base64")]));
    // 60 hairpins drawn 32× larger: far more than the disk holds.
    const records = Array.from({ length: 60 }, (_, k) => `>big${k}\n${"G".repeat(20 + (k % 7))}AAAA${"C".repeat(20 + (k % 7))}\n${"(".repeat(20 + (k % 7))}....${")".repeat(20 + (k % 7))}\n`).join("");
    const big = writeFixture(dir, "big.fa", records);
    const full = run("hairpin", "encode", "--input", big, "--out", out, "--scale", "32", "--force");
    assert.equal(full.code, 2, full.stderr);
    assert.match(full.stderr, /^mirna-dl: .*small-disk\/images: cannot write: no space left on the device\n$/);
    assert.deepEqual(Object.fromEntries(fs.readdirSync(out).map((f) => [f, fs.readFileSync(path.join(out, f)).toString("base64")])), before, "the earlier output is intact");
    assert.deepEqual(fs.readdirSync(disk), ["images"], "no temporary folder left");
  } finally {
    spawnSync("umount", [disk]);
  }
});
