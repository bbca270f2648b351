import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import {
    DeepMirDataset,
  ImageColumnsRow,
  SALIENCY_MAPS,
  SaliencyMapName,
  deepMirDatasetsFolder,
  imagesColumnsPath,
  listDeepMirDatasets,
  loadDeepMirDataset,
  loadDeepMirNamesAndLabels,
  loadSaliencyMap,
  readImagesColumns,
  saliencyMapPath,
} from "../lib/src/hairpin/datasets";
import { tempDir, writeFixture } from "./helpers";
import { HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";

// ---------------------------------------------------------------------------------------------
// Synthetic miniature datasets folder (test/fixtures/npy/make_fixtures.py): no real data needed.

const MINI = path.join(__dirname, "fixtures", "npy", "deepmir");
const EXPECTED = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "npy", "expected.json"), "utf8")) as Record<
  string,
  { shape: number[]; sum: number; first: number[] }
>;

/** Expects an InputError whose message matches the pattern. */
function throwsInput(run: () => unknown, pattern: RegExp) {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test("listDeepMirDatasets finds the prefixes of both folders and which files each has", () => {
  const list = listDeepMirDatasets(MINI);
  const summary = list.map((d) => `${d.folder}:${d.prefix}:${d.images ? "i" : "-"}${d.labels ? "l" : "-"}${d.names ? "n" : "-"}`);
  assert.deepEqual(summary, [
    "datasets:fractional:iln",
    "datasets:nolabels:i-n",
    "datasets:tiny:iln",
    "datasets/benchmark:badlabel:-ln",
    "datasets/benchmark:namesonly:-ln",
    "datasets/benchmark:short:iln",
  ]);
  throwsInput(() => listDeepMirDatasets(path.join(MINI, "absent")), /absent: deepMir datasets folder not found/);
});

test("loadDeepMirDataset converts float64 images to bytes and strips '>' from names", () => {
  const d = loadDeepMirDataset("tiny", MINI);
  const want = EXPECTED["deepmir:tiny_images"]!;
  assert.equal(d.n, 3);
  assert.equal(d.images.length, 3 * HAIRPIN_IMAGE_SIZE);
  assert.equal(d.images.reduce((a, b) => a + b, 0), want.sum);
  assert.deepEqual(Array.from(d.images.subarray(0, 12)), want.first);
  assert.deepEqual(Array.from(d.labels), [1, 0, 1]);
  assert.deepEqual(d.names, ["hsa-mir-1", "hsa2_7", "12"]);
  assert.deepEqual(loadDeepMirNamesAndLabels("benchmark/namesonly", MINI), { prefix: "namesonly", n: 2, labels: Uint8Array.from([0, 0]), names: ["x", "y"] });
});

test("loadDeepMirDataset: clear errors for bad or incomplete datasets", () => {
  throwsInput(() => loadDeepMirDataset("fractional", MINI), /fractional_images\.npz: image 0 \(of 1\), pixel row 3, column 7, channel 1: value 127\.5 is not an integer in 0\.\.255/);
  throwsInput(() => loadDeepMirDataset("nolabels", MINI), /nolabels_images\.npz: images without labels: nolabels_labels\.npz is missing/);
  throwsInput(() => loadDeepMirDataset("namesonly", MINI), /benchmark[/\\]namesonly_images\.npz: dataset 'namesonly' has names and labels but its images .* are not in the upstream snapshot/);
  throwsInput(() => loadDeepMirNamesAndLabels("badlabel", MINI), /badlabel_labels\.npz: label 2 at index 1 is neither 0 nor 1/);
  throwsInput(() => loadDeepMirDataset("short", MINI), /short_images\.npz: 2 images but 3 labels and names/);
  throwsInput(() => loadDeepMirDataset("nosuch", MINI), /no deepMir dataset 'nosuch'; known: fractional, nolabels, tiny, badlabel, namesonly, short/);
});

test("readImagesColumns: errors name file, row and column", () => {
  const dir = tempDir();
  const header = "dataset\tindex\tname\tlabel\tncols\ttop\tbot\ttop_len\tbot_len\tloop_cols\tdecoded_seq\trnafold213_mfe_structure\troundtrip_exact\n";
  const good = "hsa\t0\t>hsa-mir-1\t1\t3\tAC-\tGGU\t1a2\t121\t1\tCAGGU\t(...)\t1\n";
  const rows = readImagesColumns(writeFixture(dir, "good.tsv", header + good));
  assert.deepEqual(rows, [
    { dataset: "hsa", index: 0, name: "hsa-mir-1", label: 1, ncols: 3, top: "AC-", bot: "GGU", topLen: [1, 10, 2], botLen: [1, 2, 1], loopCols: 1, decodedSeq: "CAGGU", structure: "(...)", roundtripExact: true },
  ] satisfies ImageColumnsRow[]);
  throwsInput(() => readImagesColumns(writeFixture(dir, "len.tsv", header + good.replace("\t1a2\t", "\t1a\t"))), /len\.tsv, row 1 \(line 2\), column 'top_len': expected 3 characters \(ncols\), found 2/);
  throwsInput(() => readImagesColumns(writeFixture(dir, "digit.tsv", header + good.replace("\t1a2\t", "\t1*2\t"))), /digit\.tsv, row 1 \(line 2\), column 'top_len': '\*' at column 1 is not a base-36 digit/);
  throwsInput(() => readImagesColumns(writeFixture(dir, "label.tsv", header + good + good.replace("\t1\t3\t", "\t2\t3\t"))), /label\.tsv, row 2 \(line 3\), column 'label': expected an integer 0\.\.1, found '2'/);
  throwsInput(() => readImagesColumns(writeFixture(dir, "colour.tsv", header + good.replace("\tAC-\t", "\tAN-\t"))), /colour\.tsv, row 1 \(line 2\), column 'top': colour 'N' at column 1/);
  throwsInput(() => readImagesColumns(writeFixture(dir, "cols.tsv", "dataset\tindex\n" + "hsa\t0\n")), /cols\.tsv: missing columns: name, label/);
});

// ---------------------------------------------------------------------------------------------
// Real data: $MIRNA_DL_DATA/premirna (counts from premirna/SOURCE.md).

/** prefix → [N, positives] for every set whose images are in the snapshot. */
const WITH_IMAGES: Record<string, [number, number]> = {
  modhsa_test: [1098, 549],
  modhsa_train: [2562, 1281],
  chen: [3052, 0],
  dreplus: [287, 287],
  ggaplus: [229, 229],
  hsa: [1881, 1881],
  hsaplus: [523, 523],
  hsapseudo: [3762, 1881],
  hsapseudo_test: [1129, 564],
  hsapseudo_train: [2633, 1317],
  mirgenedb: [1434, 1434],
  mmu: [1193, 1193],
  mmuplus: [395, 395],
  mmustar: [379, 379],
  notbestfold: [1881, 0],
  shuffled: [1423, 0],
};
/** prefix → [N, positives] for the sets with names and labels only. */
const WITHOUT_IMAGES: Record<string, [number, number]> = {
  modmirbase_test: [14881, 7440],
  modmirbase_train: [34721, 17361],
  nonhsa_modmirbase: [46556, 23142],
  mirbase: [28596, 28596],
  neghsa: [67829, 0],
  pretrain: [18128, 9064],
  pseudo: [8492, 0],
  zou: [6280, 0],
};

/** The six colours of the encoding (SOURCE.md) as r<<16 | g<<8 | b. */
const COLOURS = new Set([0xffffff, 0xffff00, 0x0000ff, 0xff0000, 0x00ff00, 0x000000]);
const COLOUR_LETTER: Record<number, string> = { 0xffff00: "A", 0x0000ff: "C", 0xff0000: "G", 0x00ff00: "U", 0x000000: "-", 0xffffff: "." };

function pixel(d: DeepMirDataset, image: number, row: number, column: number): number {
  const p = image * HAIRPIN_IMAGE_SIZE + (row * 100 + column) * 3;
  return (d.images[p]! << 16) | (d.images[p + 1]! << 8) | d.images[p + 2]!;
}

test("real data: which prefixes have images, names and labels", (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  const list = listDeepMirDatasets();
  assert.deepEqual(list.filter((d) => d.images).map((d) => d.prefix).sort(), Object.keys(WITH_IMAGES).sort());
  assert.deepEqual(list.filter((d) => !d.images).map((d) => d.prefix).sort(), Object.keys(WITHOUT_IMAGES).sort());
  assert.ok(list.every((d) => d.labels && d.names), "every prefix has labels and names");
  assert.deepEqual(list.filter((d) => d.categories).map((d) => d.prefix), ["nonhsa_modmirbase"]);
});

test("real data: sets without images load names and labels with the SOURCE.md counts, and say why images are missing", (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  for (const [prefix, [n, positives]] of Object.entries(WITHOUT_IMAGES)) {
    const d = loadDeepMirNamesAndLabels(prefix);
    assert.equal(d.n, n, `${prefix} N`);
    assert.equal(d.names.length, n);
    assert.equal(d.labels.reduce((a, b) => a + b, 0), positives, `${prefix} positives`);
    assert.ok(d.names.every((name) => name.length > 0 && !name.startsWith(">")), `${prefix} names non-empty, ">" stripped`);
    // neghsa has 6,355 names with two leading '>'; stripping them must not merge names.
    if (prefix === "neghsa") assert.equal(new Set(d.names).size, n, "neghsa names unique after stripping '>'");
    throwsInput(() => loadDeepMirDataset(prefix), new RegExp(`${prefix}_images\\.npz: dataset '${prefix}' has names and labels but its images .* are not in the upstream snapshot`));
  }
});

test("real data: every image set loads with the SOURCE.md counts, only the 6 colours, and matches images_columns.tsv.gz", (t) => {
  const columnsFile = imagesColumnsPath();
  const skip = missingData(deepMirDatasetsFolder(), columnsFile);
  if (skip) return t.skip(skip);
  const byDataset = new Map<string, ImageColumnsRow[]>();
  for (const row of readImagesColumns(columnsFile)) {
    if (!byDataset.has(row.dataset)) byDataset.set(row.dataset, []);
    byDataset.get(row.dataset)!.push(row);
  }
  let total = 0;
  let loadMs = 0;
  for (const [prefix, [n, positives]] of Object.entries(WITH_IMAGES)) {
    const started = process.hrtime.bigint();
    const d = loadDeepMirDataset(prefix);
    loadMs += Number(process.hrtime.bigint() - started) / 1e6;
    total += d.n;
    assert.equal(d.n, n, `${prefix} N`);
    assert.equal(d.images.length, n * 25 * 100 * 3, `${prefix} images [N, 25, 100, 3]`);
    assert.equal(d.labels.reduce((a, b) => a + b, 0), positives, `${prefix} positives`);
    for (let p = 0; p < d.images.length; p += 3) {
      const colour = (d.images[p]! << 16) | (d.images[p + 1]! << 8) | d.images[p + 2]!;
      if (!COLOURS.has(colour)) assert.fail(`${prefix}: colour #${colour.toString(16).padStart(6, "0")} at byte ${p}`);
    }
    const rows = byDataset.get(prefix) ?? [];
    assert.equal(rows.length, n, `${prefix}: rows in images_columns.tsv.gz`);
    for (const row of rows) {
      const i = row.index;
      assert.ok(i >= 0 && i < n, `${prefix}: index ${i}`);
      assert.equal(d.names[i], row.name, `${prefix}[${i}] name`);
      assert.equal(d.labels[i], row.label, `${prefix}[${i}] label`);
      // The image itself agrees with its column form: row 12 / 13 colours, white after ncols.
      let top = "";
      let bot = "";
      for (let x = 0; x < row.ncols; x++) {
        top += COLOUR_LETTER[pixel(d, i, 12, x)];
        bot += COLOUR_LETTER[pixel(d, i, 13, x)];
      }
      assert.equal(top, row.top, `${prefix}[${i}] row 12`);
      assert.equal(bot, row.bot, `${prefix}[${i}] row 13`);
      if (row.ncols < 100) assert.equal(pixel(d, i, 12, row.ncols) & pixel(d, i, 13, row.ncols), 0xffffff, `${prefix}[${i}] white after ncols`);
    }
    assert.equal(new Set(rows.map((r) => r.index)).size, n, `${prefix}: each index once`);
  }
  assert.equal(total, 23861, "images over all image files");
  assert.equal([...byDataset.values()].reduce((a, rows) => a + rows.length, 0), 23861, "rows of images_columns.tsv.gz");
  t.diagnostic(`loaded all ${Object.keys(WITH_IMAGES).length} image files (${total} images) in ${(loadMs / 1000).toFixed(2)} s`);
});

test("real data: first rows of modhsa_test as NumPy reads them", (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  const d = loadDeepMirDataset("modhsa_test");
  // Reference values from NumPy 1.24 (np.load(...)["arr_0"]): names[:3], images.sum(), img 0 pixels.
  assert.deepEqual(d.names.slice(0, 3), ["hsa-mir-592", "hsa-mir-7114", "358"]);
  assert.equal(d.images.reduce((a, b) => a + b, 0), 1870166685);
  assert.equal(pixel(d, 0, 12, 0), 0xff0000);
  assert.equal(pixel(d, 0, 13, 0), 0xffff00);
});

test("real data: saliency maps are 25 × 100 with NumPy's sums and maxima", (t) => {
  const names = Object.keys(SALIENCY_MAPS) as SaliencyMapName[];
  const skip = missingData(...names.map(saliencyMapPath));
  if (skip) return t.skip(skip);
  // NumPy 1.24: float(a.astype(float64).sum()), float(a.max()), argmax as (row, column).
  const reference: Record<SaliencyMapName, [number, number, number, number]> = {
    hsapseudo_tp_avg_map: [157.24323641406818, 0.6890218865931106, 12, 26],
    hsapseudo_tn_avg_map: [194.5772477249006, 0.3227696016266191, 11, 42],
    tp_average_filtered_saliency: [80.02613142225891, 0.5073909163475037, 12, 28],
    tn_average_filtered_saliency: [104.53430160024436, 0.28453388810157776, 14, 26],
  };
  for (const name of names) {
    const map = loadSaliencyMap(name);
    assert.equal(map.values.length, 2500);
    assert.deepEqual([map.height, map.width], [25, 100]);
    const [sum, max, row, column] = reference[name];
    const ourSum = map.values.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(ourSum - sum) < 1e-9 * sum, `${name} sum ${ourSum} vs ${sum}`);
    const ourMax = Math.max(...map.values);
    assert.equal(ourMax, max, `${name} max`);
    assert.equal(map.values.indexOf(ourMax), row * 100 + column, `${name} argmax`);
  }
});

test("loadSaliencyMap: unknown names and wrong shapes are clear errors", () => {
  throwsInput(() => loadSaliencyMap("nosuch" as SaliencyMapName), /unknown saliency map 'nosuch'; known: hsapseudo_tp_avg_map/);
  throwsInput(() => loadSaliencyMap("hsapseudo_tp_avg_map", path.join(MINI, "tiny_labels.npz")), /tiny_labels\.npz: a saliency map must have shape \(25, 100\), found \(3, 1\)/);
});
