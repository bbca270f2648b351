/**
 * `mirna-dl hairpin train-vae` and `hairpin generate` (lib/src/cli/vae.ts), run from source:
 * a tiny model trained on a few real images, then samples written as FASTA, PNGs, .npz, TSV and
 * summary; the .npz is read by `hairpin classify`; usage errors exit 2 with a message.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { missingData } from "../lib/src/data/paths";
import { buildDeepMirClassifier } from "../lib/src/hairpin/classifier";
import { deepMirDatasetsFolder, readImagesNpz } from "../lib/src/hairpin/datasets";
import { decodeHairpinImage, HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { saveCvae } from "../lib/src/cvae/saved";
import { trainCvae } from "../lib/src/cvae/train";
import { readNpz } from "../lib/src/io/npy";
import { saveTfjsModel } from "../lib/src/io/tfjsModel";
import { initBackend } from "../lib/src/ops/backend";
import { CLI_COMMAND, parseFasta, tempDir } from "./helpers";
import { constructedSet } from "./vaeHelpers";

const dir = tempDir();

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], { encoding: "utf8", env: { ...process.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  await initBackend({ quiet: true });
  const classifier = buildDeepMirClassifier({ modules: 1, filters: [4], denseUnits: 8, seed: 3 });
  await saveTfjsModel(classifier, path.join(dir, "classifier"));
  classifier.dispose();
});

test("help lists train-vae and generate; usage errors exit 2", () => {
  const group = run("hairpin", "--help");
  assert.equal(group.code, 0);
  assert.match(group.stdout, /train-vae[\s\S]*generate/);
  assert.match(run("hairpin", "generate", "--help").stdout, /^Usage: mirna-dl hairpin generate --model DIR --out DIR \[--class CLASS\] \[--n N\]/);
  const noModel = run("hairpin", "generate", "--out", path.join(dir, "x"));
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /missing --model/);
  const badClass = run("hairpin", "generate", "--model", dir, "--out", path.join(dir, "x"), "--class", "mirna");
  assert.equal(badClass.code, 2);
  assert.match(badClass.stderr, /--class must be pre-mirna or negative, got 'mirna'/);
  assert.match(run("hairpin", "generate", "--model", dir, "--out", path.join(dir, "x"), "--gc", "1.5").stderr, /--gc must be a fraction in 0–1/);
  assert.match(run("hairpin", "train-vae", "--latent", "2,2").stderr, /--latent must be three positive integers/);
  const notBlocks = run("hairpin", "train-vae", "--latent", "2,2,30", "--out", path.join(dir, "x"), "--epochs", "0");
  assert.equal(notBlocks.code, 2);
  assert.match(notBlocks.stderr, /multiple of 25/);
  const notModel = run("hairpin", "generate", "--model", path.join(dir, "classifier"), "--out", path.join(dir, "x"));
  assert.equal(notModel.code, 2);
  assert.match(notModel.stderr, /not a CVAE model folder: no cvae\.json/);
});

test("train-vae on a few images, then generate: FASTA, TSV, PNGs, .npz (read by classify), summary", (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  const model = path.join(dir, "vae");
  const trained = run("hairpin", "train-vae", "--out", model, "--epochs", "1", "--max-train", "64", "--latent", "2,2,25", "--seed", "3", "--ar-epochs", "1", "--refine-rounds", "1", "--refine-samples", "16", "--refine-epochs", "1");
  assert.equal(trained.code, 0, trained.stderr);
  const report = JSON.parse(trained.stdout);
  assert.equal(report.trainingHairpins, 64);
  assert.ok(report.reconstruction.colourAccuracy >= 0 && report.reconstruction.colourAccuracy <= 1);
  for (const f of ["cvae.json", "training.tsv.gz", "model/model.json", "checkpoint/latest.json", "ar-decoder.json", "ar-decoder/model.json", "ar-checkpoint/latest.json"]) assert.ok(fs.existsSync(path.join(model, f)), f);
  assert.equal(report.arDecoder.epochs, 1);
  assert.deepEqual(report.arDecoder.refinement.map((r: { drafts: number[] }) => r.drafts), [[16, 16]]);
  assert.ok(fs.existsSync(path.join(model, "ar-checkpoint-refine", "round-1", "drafts.json")), "the refinement round is checkpointed");
  const info = JSON.parse(fs.readFileSync(path.join(model, "cvae.json"), "utf8"));
  assert.ok(info.sanity.rules.mfePerNtRange[0] < info.sanity.rules.mfePerNtRange[1]);

  const out = path.join(dir, "generated");
  const g = run("hairpin", "generate", "--model", model, "--out", out, "--n", "20", "--stem", "25", "--classifier", path.join(dir, "classifier"), "--scale", "1");
  assert.equal(g.code, 0, g.stderr);
  const summary = JSON.parse(g.stdout);
  assert.equal(summary.n, 20);
  // By default: raw samples (one draw each), their numbers, no verification.
  assert.equal(summary.mode, "raw");
  assert.equal(summary.verified, null);
  for (const k of ["refoldExact", "columnAgreement", "sanityPass", "classifierPreMirna", "noveltyMedian"]) assert.equal(typeof summary[k], "number", k);
  assert.equal(summary.decoder, "autoregressive");
  assert.equal(summary.temperature, 1);
  assert.equal(summary.profilePool, "canonical");
  assert.equal(typeof summary.topP, "number");
  assert.match(g.stderr, /raw: one draw each/);
  const fasta = parseFasta(fs.readFileSync(path.join(out, "generated.fa"), "utf8"));
  assert.equal(fasta.size, 20);
  const { images, names } = readImagesNpz(path.join(out, "generated_images.npz"));
  assert.equal(images.length, 20 * HAIRPIN_IMAGE_SIZE);
  assert.deepEqual(names, [...fasta.keys()]);
  names.forEach((name, i) => {
    const image = { height: 25 as const, width: 100 as const, data: images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE) };
    assert.equal(decodeHairpinImage(image).sequence, fasta.get(name));
  });
  const tsv = fs.readFileSync(path.join(out, "generated.tsv"), "utf8").trim().split("\n");
  assert.equal(tsv.length, 21);
  assert.match(tsv[0]!, /^name\tclass\tsequence\tdrawn_structure\trnafold_structure\tmfe\trefold_exact/);
  assert.equal(tsv[1]!.split("\t")[12], "25", "requested stem recorded");
  assert.ok(tsv.slice(1).every((line) => line.split("\t")[15] === "0"), "raw: every sample is its first draw (rank 0)");
  assert.equal(fs.readdirSync(path.join(out, "png")).length, 20);
  const npz = readNpz(path.join(out, "generated.npz"));
  assert.deepEqual(npz.get("tokens")!.shape, [20, 100]);
  assert.deepEqual(npz.get("latents")!.shape, [20, 29]);
  // The same seed gives the same samples; an existing output needs --force.
  const again = run("hairpin", "generate", "--model", model, "--out", out, "--n", "20", "--stem", "25", "--no-novelty");
  assert.equal(again.code, 2);
  assert.match(again.stderr, /not empty/);
  const forced = run("hairpin", "generate", "--model", model, "--out", out, "--n", "20", "--stem", "25", "--no-novelty", "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(parseFasta(fs.readFileSync(path.join(out, "generated.fa"), "utf8")), fasta);
  assert.equal(JSON.parse(forced.stdout).noveltyMedian, null);
  const columns = run("hairpin", "generate", "--model", model, "--out", path.join(dir, "generated-columns"), "--n", "5", "--no-novelty", "--decoder", "columns", "-q");
  assert.equal(columns.code, 0, columns.stderr);
  assert.equal(columns.stderr, "", "-q: nothing on standard error");
  assert.equal(JSON.parse(columns.stdout).decoder, "columns");
  assert.equal(JSON.parse(columns.stdout).temperature, 0.1);
  assert.match(run("hairpin", "generate", "--model", model, "--out", path.join(dir, "x"), "--decoder", "pixels").stderr, /--decoder must be autoregressive or columns/);
  const allProfiles = run("hairpin", "generate", "--model", model, "--out", path.join(dir, "generated-all"), "--n", "5", "--no-novelty", "--profiles", "all", "-q");
  assert.equal(allProfiles.code, 0, allProfiles.stderr);
  assert.equal(JSON.parse(allProfiles.stdout).profilePool, "all");
  assert.match(run("hairpin", "generate", "--model", model, "--out", path.join(dir, "x"), "--profiles", "some").stderr, /--profiles must be canonical or all/);
  assert.match(run("hairpin", "generate", "--model", model, "--out", path.join(dir, "x"), "--top-p", "0").stderr, /--top-p must be a number in \(0, 1\]/);
  const nucleus = run("hairpin", "generate", "--model", model, "--out", path.join(dir, "generated-nucleus"), "--n", "5", "--no-novelty", "--top-p", "0.5", "-q");
  assert.equal(nucleus.code, 0, nucleus.stderr);
  assert.equal(JSON.parse(nucleus.stdout).topP, 0.5);
  // --verify: the same first draws, then fresh draws until RNAfold agrees; the summary keeps the raw numbers and says what verification cost.
  const verifiedOut = path.join(dir, "generated-verified");
  const v = run("hairpin", "generate", "--model", model, "--out", verifiedOut, "--n", "20", "--stem", "25", "--no-novelty", "--verify", "--candidates", "3");
  assert.equal(v.code, 0, v.stderr);
  const vs = JSON.parse(v.stdout);
  assert.equal(vs.mode, "verified");
  assert.equal(vs.refoldExact, JSON.parse(forced.stdout).refoldExact, "the top-level numbers are the raw draws' (same seed)");
  for (const k of ["kept", "draws", "acceptanceRate", "keptFraction", "refoldExact", "sanityPass"]) assert.equal(typeof vs.verified[k], "number", k);
  assert.equal(vs.verified.candidates, 3);
  assert.ok(vs.verified.draws >= 20 && vs.verified.draws <= 60);
  assert.ok(vs.verified.refoldExact >= vs.refoldExact, "the filter never loses a passing first draw");
  assert.equal(vs.verified.kept, Math.round(vs.verified.refoldExact * 20));
  assert.match(v.stderr, /verified decoding: \d+ of 20 samples .* after \d+ draws \(acceptance/);
  const usage = run("hairpin", "generate", "--model", model, "--out", path.join(dir, "x"), "--candidates", "3");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--candidates needs --verify/);
  const classified = run("hairpin", "classify", "--model", path.join(dir, "classifier"), "--input", path.join(out, "generated_images.npz"));
  assert.equal(classified.code, 0, classified.stderr);
  assert.equal(classified.stdout.trim().split("\n").length, 21);
});

// ---------------------------------------------------------------------------------------------
// Outputs checked before any work, models checked before any sampling

/** A toy CVAE trained one epoch on constructed hairpins (no AR decoder: generation uses the columns decoder). */
async function toyModel(folder: string): Promise<void> {
  const data = vaeRowsFromImages(constructedSet("toy", 16, 5)).rows;
  const { cvae, info } = await trainCvae(data, { batchSize: 8, learningRate: 0.01, warmupEpochs: 1, validationFraction: 0.25, config: TOY_CVAE_CONFIG, epochs: 1, seed: 2 });
  info.sanity = { rules: { minStemPairs: 18, loopRange: [3, 20], mfePerNtRange: [-0.7, -0.2] }, source: "test" };
  await saveCvae(folder, cvae, info, { sequences: data.sequences, labels: data.labels, profiles: data.profiles });
  disposeCvae(cvae);
}

test("generate --force never deletes files it did not write under DIR/png; a binding model as --classifier, absurd cvae.json sizes, '..' after a missing folder and train-vae --out FILE are refused before any work", async () => {
  const toy = path.join(dir, "toy-vae");
  await toyModel(toy);
  const binding = path.join(dir, "binding");
  const arch = buildArch00b({ seed: 1 });
  await saveTfjsModel(arch, binding);
  arch.dispose();
  const quick = ["--n", "2", "--no-novelty", "--scale", "1"]; // raw samples (one draw each): the quickest generation

  // 5. An earlier output with the user's own files under png/: refused even with --force, kept.
  const out = path.join(dir, "toy-generated");
  const first = run("hairpin", "generate", "--model", toy, "--out", out, ...quick, "-q");
  assert.equal(first.code, 0, first.stderr);
  fs.mkdirSync(path.join(out, "png", "thesis"));
  fs.writeFileSync(path.join(out, "png", "thesis", "chapter1.tex"), "years of work\n");
  const refused = run("hairpin", "generate", "--model", toy, "--out", out, ...quick, "--force");
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^mirna-dl: .*toy-generated: holds files 'hairpin generate' does not write \('png\/thesis\/'\): not replaced even with --force; choose another folder\n$/);
  assert.equal(fs.readFileSync(path.join(out, "png", "thesis", "chapter1.tex"), "utf8"), "years of work\n");
  fs.rmSync(path.join(out, "png", "thesis"), { recursive: true });
  const replaced = run("hairpin", "generate", "--model", toy, "--out", out, ...quick, "--force", "-q");
  assert.equal(replaced.code, 0, `only what generate wrote: replaced (${replaced.stderr})`);

  const refusedBeforeWork = (args: string[], pattern: RegExp) => {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n").filter((l) => !/TensorFlow\.js backend/.test(l));
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at |epoch \d|hairpins written/, "no stack, no work done");
  };
  // 11. A binding model given as the classifier: refused by its input shape before any sampling.
  refusedBeforeWork(["hairpin", "generate", "--model", toy, "--out", path.join(dir, "g11"), "--classifier", binding, ...quick],
    /binding: not a hairpin classifier: its input is \(batch, 50, 20, 1\), expected \(batch, 25, 100, 3\) \(this looks like a binding model: use 'mirna-dl predict'\)/);
  assert.ok(!fs.existsSync(path.join(dir, "g11")), "nothing written");
  // 12. '..' after a folder that does not exist: refused before anything is loaded.
  refusedBeforeWork(["hairpin", "generate", "--model", toy, "--out", `${dir}/missing/../g12`, ...quick], /missing\/\.\.\/g12: cannot write: folder not found/);
  // 13. Absurd sizes in cvae.json: a message naming the file and the field.
  const absurd = path.join(dir, "absurd-vae");
  fs.cpSync(toy, absurd, { recursive: true });
  const info = JSON.parse(fs.readFileSync(path.join(absurd, "cvae.json"), "utf8"));
  fs.writeFileSync(path.join(absurd, "cvae.json"), JSON.stringify({ ...info, config: { ...info.config, dense: 2e9 } }));
  refusedBeforeWork(["hairpin", "generate", "--model", absurd, "--out", path.join(dir, "g13"), ...quick], /absurd-vae\/cvae\.json: config\.dense must be a whole number from 1 to 4,096, got 2000000000$/);
  // 14. train-vae --out an existing file.
  const file = path.join(dir, "a-file");
  fs.writeFileSync(file, "mine\n");
  refusedBeforeWork(["hairpin", "train-vae", "--out", file, "--epochs", "1", "--max-train", "16"], /a-file: exists and is not a folder \(expected a folder to write into\)/);
  assert.equal(fs.readFileSync(file, "utf8"), "mine\n");
});
