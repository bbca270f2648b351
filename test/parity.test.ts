/**
 * Parity of our arch_00b (Keras .h5 loader + encoder + predict) with an independent PyTorch
 * implementation (bench/reference/arch00b_torch.py), on the five published CEITEC models.
 *
 * - Synthetic pairs (test/fixtures/synthetic_pairs.tsv, made by make_synthetic_pairs.ts) scored
 *   by PyTorch are stored in test/fixtures/arch00b_reference_scores.json; our scores must match
 *   within 1e-4 absolute for every model and row.
 * - The first three rows of the real scan test set (positives 0, 1, 2) scored by iterative.h5
 *   must be 0.82329, 0.01616, 0.68652 (± 1e-4), numbers from yet another implementation.
 *
 * - The deepMir classifier (default configuration) with weights drawn from a seeded generator on
 *   both sides (test/fixtures/make_deepmir_parity.ts, deepmir_torch.py parity-fixture) on 12
 *   hairpin images (test/fixtures/deepmir_parity_images.npz): softmax within 1e-4 of PyTorch's
 *   (test/fixtures/deepmir_reference_probabilities.json). Needs no data.
 *
 * Needs the .h5 files under $MIRNA_DL_DATA (default <repo>/data). Without them the data tests
 * skip with a reason, or fail when MIRNA_DL_REQUIRE_DATA=1.
 * Run: node --import tsx --test test/parity.test.ts
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { dataPath } from "../lib/src/data/paths";
import { loadKerasH5 } from "../lib/src/binding/kerasH5";
import { predictScores } from "../lib/src/binding/predict";
import { readPairTable } from "../lib/src/binding/tables";
import { makeSyntheticPairs } from "./fixtures/make_synthetic_pairs";
import { DEEPMIR_PARITY_SEED, fillDeepMirParityWeights, makeDeepMirParityImages } from "./fixtures/make_deepmir_parity";
import { buildDeepMirClassifier, imageSource, predictHairpinImages } from "../lib/src/hairpin/classifier";
import { readImagesNpz } from "../lib/src/hairpin/datasets";
import { predict } from "../lib/src/predict";

const FIXTURES = path.join(__dirname, "fixtures");
const SYNTHETIC_TSV = path.join(FIXTURES, "synthetic_pairs.tsv");
const REFERENCE_JSON = path.join(FIXTURES, "arch00b_reference_scores.json");
const TOLERANCE = 1e-4;

/** Scores of iterative.h5 on scan_test_set rows 0, 1, 2 (all positives), from an independent implementation. */
const SCAN_FIRST_ROWS_ITERATIVE = [0.82329, 0.01616, 0.68652];
/** Those reference numbers are rounded to 5 decimals: allow the rounding on top of the tolerance. */
const ROUNDED_TOLERANCE = TOLERANCE + 5e-6;

interface ReferenceFixture {
  input: string;
  input_sha256: string;
  rows: number;
  produced_by: string;
  torch_version: string;
  models: Record<string, number[]>;
}

const reference = JSON.parse(fs.readFileSync(REFERENCE_JSON, "utf8")) as ReferenceFixture;
const modelNames = Object.keys(reference.models);
const modelFile = (name: string) => dataPath("mirna_binding", "data", "models", `${name}.h5`);
const scanTestSet = dataPath("mirna_binding", "data", "datasets", "scan_test_set.tsv.gz");

/**
 * null when every file exists; else the reason to skip. Throws when MIRNA_DL_REQUIRE_DATA=1, so
 * CI with data configured cannot pass by skipping.
 */
function missingReason(files: readonly string[]): string | null {
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length === 0) return null;
  const reason = `data not found: ${missing.join(", ")} (set MIRNA_DL_DATA to a folder laid out like shared/data)`;
  if (process.env.MIRNA_DL_REQUIRE_DATA === "1") {
    throw new Error(`${reason}; MIRNA_DL_REQUIRE_DATA=1 so missing data is an error`);
  }
  return reason;
}

/** Largest |a-b| and its index. */
function worstDifference(ours: ArrayLike<number>, theirs: readonly number[]): { index: number; diff: number } {
  assert.equal(ours.length, theirs.length, "score count");
  let worst = { index: -1, diff: 0 };
  for (let i = 0; i < theirs.length; i++) {
    const diff = Math.abs(ours[i]! - theirs[i]!);
    if (!(diff <= worst.diff)) worst = { index: i, diff }; // NaN counts as worst
  }
  return worst;
}

describe("parity fixture is self-consistent (no data needed)", () => {
  test("synthetic_pairs.tsv is what make_synthetic_pairs.ts generates", () => {
    const expected = ["mirna_binding_sequence\tbinding_sequence\tlabel", ...makeSyntheticPairs()].join("\n") + "\n";
    assert.equal(fs.readFileSync(SYNTHETIC_TSV, "utf8"), expected,
      "regenerate with: node --import tsx test/fixtures/make_synthetic_pairs.ts (then the PyTorch fixture)");
  });

  test("reference scores were made from this synthetic_pairs.tsv, for all five published models", () => {
    const sha = createHash("sha256").update(fs.readFileSync(SYNTHETIC_TSV)).digest("hex");
    assert.equal(sha, reference.input_sha256, `fixture is stale; re-run: ${reference.produced_by}`);
    assert.deepEqual([...modelNames].sort(), [
      "iterative", "standard_100k_ratio1", "standard_100k_ratio10", "standard_1k_ratio1", "standard_1k_ratio10",
    ]);
    for (const name of modelNames) {
      assert.equal(reference.models[name]!.length, reference.rows, name);
      assert.ok(reference.models[name]!.every((s) => s >= 0 && s <= 1), `${name}: scores in [0, 1]`);
    }
    assert.equal(reference.rows, 64);
  });
});

describe("published models: our scores match the PyTorch reference", () => {
  let pairs: { mirnas: string[]; sites: string[] };
  before(async () => {
    await initBackend();
    const table = await readPairTable(SYNTHETIC_TSV);
    pairs = { mirnas: table.mirnas, sites: table.sites };
    assert.equal(pairs.mirnas.length, reference.rows);
  });

  for (const name of modelNames) {
    test(`${name}.h5 on ${reference.rows} synthetic pairs within ${TOLERANCE}`, async (t) => {
      const skip = missingReason([modelFile(name)]);
      if (skip) return t.skip(skip);
      const model: tf.LayersModel = await loadKerasH5(modelFile(name));
      try {
        const ours = await predictScores(model, pairs.mirnas, pairs.sites, { batchSize: 256 });
        const theirs = reference.models[name]!;
        const worst = worstDifference(ours, theirs);
        assert.ok(worst.diff <= TOLERANCE,
          `${name}: row ${worst.index} ours ${ours[worst.index]} vs PyTorch ${theirs[worst.index]} (|diff| ${worst.diff})`);
      } finally {
        model.dispose();
      }
    });
  }

  test("iterative.h5 on scan_test_set rows 0-2 gives 0.82329, 0.01616, 0.68652", async (t) => {
    const skip = missingReason([modelFile("iterative"), scanTestSet]);
    if (skip) return t.skip(skip);
    const table = await readPairTable(scanTestSet);
    assert.equal(table.format, "lock");
    assert.deepEqual(Array.from(table.labels!.subarray(0, 3)), [1, 1, 1], "rows 0-2 are positives");
    const model = await loadKerasH5(modelFile("iterative"));
    try {
      const ours = await predictScores(model, table.mirnas.slice(0, 3), table.sites.slice(0, 3));
      const worst = worstDifference(ours, SCAN_FIRST_ROWS_ITERATIVE);
      assert.ok(worst.diff <= ROUNDED_TOLERANCE,
        `row ${worst.index}: ours ${ours[worst.index]} vs reference ${SCAN_FIRST_ROWS_ITERATIVE[worst.index]}`);
    } finally {
      model.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The deepMir pre-miRNA classifier against the PyTorch one (bench/reference/deepmir_torch.py):
// the same seeded weights, the same images, the forward pass within 1e-4. No data needed.

const DEEPMIR_IMAGES = path.join(FIXTURES, "deepmir_parity_images.npz");
const DEEPMIR_JSON = path.join(FIXTURES, "deepmir_reference_probabilities.json");

interface DeepMirFixture {
  images_sha256: string;
  seed: number;
  parameters: number;
  produced_by: string;
  probabilities: [number, number][];
}

describe("deepMir classifier: our forward pass matches the PyTorch reference", () => {
  const deepMir = JSON.parse(fs.readFileSync(DEEPMIR_JSON, "utf8")) as DeepMirFixture;

  test("the parity images are what make_deepmir_parity.ts draws, and the fixture was made from them", () => {
    const { images } = readImagesNpz(DEEPMIR_IMAGES);
    assert.deepEqual(images, makeDeepMirParityImages(), "regenerate with: node --import tsx test/fixtures/make_deepmir_parity.ts (then the PyTorch fixture)");
    const sha = createHash("sha256").update(fs.readFileSync(DEEPMIR_IMAGES)).digest("hex");
    assert.equal(sha, deepMir.images_sha256, `fixture is stale; re-run: ${deepMir.produced_by}`);
    assert.equal(deepMir.probabilities.length, 12);
    assert.equal(deepMir.seed, DEEPMIR_PARITY_SEED);
    // The images and weights give probabilities that differ between images (a real comparison).
    const p = deepMir.probabilities.map((r) => r[1]);
    assert.ok(Math.max(...p) - Math.min(...p) > 0.05, `spread ${Math.min(...p)}–${Math.max(...p)}`);
  });

  test(`default classifier, seeded weights, 12 hairpin images: softmax within ${TOLERANCE}`, async () => {
    await initBackend({ quiet: true });
    const model = buildDeepMirClassifier();
    try {
      assert.equal(fillDeepMirParityWeights(model, deepMir.seed), deepMir.parameters, "every weight set, as many as PyTorch has");
      const { images } = readImagesNpz(DEEPMIR_IMAGES);
      const ours = predict(model, imageSource(images), { batchSize: 5 }).values; // batches of 5: batching must not matter
      const theirs = deepMir.probabilities.flat();
      const worst = worstDifference(ours, theirs);
      assert.ok(worst.diff <= TOLERANCE, `value ${worst.index} (image ${Math.floor(worst.index / 2)}): ours ${ours[worst.index]} vs PyTorch ${theirs[worst.index]} (|diff| ${worst.diff})`);
      // The classifier's own entry point gives column 1.
      const column = predictHairpinImages(model, images);
      column.forEach((v, k) => assert.ok(Math.abs(v - theirs[2 * k + 1]!) <= TOLERANCE, `image ${k}`));
    } finally {
      model.dispose();
    }
  });
});
