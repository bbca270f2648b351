/**
 * The VAE's data (lib/src/cvae/data.ts): images read back into tokens and profiles,
 * deduplication by sequence, hairpins with both labels dropped, the held-out leak guard,
 * stratified subsets; on the real deepMir sets when present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { deepMirDatasetsFolder } from "../lib/src/hairpin/datasets";
import { encodeHairpinImage, HAIRPIN_IMAGE_SIZE, hairpinColumns } from "../lib/src/hairpin/image";
import { buildVaeData, hairpinProfile, selectVaeRows, stratifiedSubset, vaeRowsFromImages } from "../lib/src/cvae/data";
import { columnsToTokens } from "../lib/src/cvae/tokens";
import { constructedHairpin, constructedSet } from "./vaeHelpers";

test("hairpinProfile: stem pairs, loop columns, GC fraction (from columns or tokens)", () => {
  const sequence = "GGGGAAACCCC";
  const columns = hairpinColumns(sequence, "((((...))))");
  assert.deepEqual(hairpinProfile(columns, sequence), [4, 3, 8 / 11]);
  assert.deepEqual(hairpinProfile(columnsToTokens(columns)!, sequence), [4, 3, 8 / 11]);
});

test("vaeRowsFromImages: single-stem drawings become tokens; a multi-branch drawing is counted, not kept", () => {
  const set = constructedSet("toy", 6, 1);
  // Replace image 5 by a two-branch fold's drawing (it loses nucleotides, and its 'paired' columns are not pairs).
  const multi = encodeHairpinImage("GGGGAAAACCCCAGGGGAAAACCCCA", "((((....))))(((((....)))))");
  set.images.set(multi.data, 5 * HAIRPIN_IMAGE_SIZE);
  const { rows, report } = vaeRowsFromImages(set);
  assert.equal(report.images, 6);
  assert.equal(report.notRepresentable, 1);
  assert.equal(rows.n, 6 - report.notRepresentable);
  assert.equal(rows.tokens.length, rows.n * 100);
  assert.equal(rows.profiles.length, rows.n * 3);
  assert.equal(rows.sequences[0], constructedHairpin(1000, 18).sequence);
  assert.equal(rows.sources[0], "toy:toy_0");
  const bad = { ...set, images: set.images.slice() };
  bad.images[3 * HAIRPIN_IMAGE_SIZE + 12 * 300 + 3] = 7; // an unknown colour
  assert.throws(() => vaeRowsFromImages(bad), (e: unknown) => e instanceof InputError && /toy image 3 \(toy_3\)/.test(e.message));
});

test("buildVaeData: dedup by sequence, conflicting labels dropped, 25-nt leak guard against the held-out set", () => {
  const a = constructedSet("a", 10, 1);
  const b = constructedSet("b", 10, 2);
  // b's image 0 is a's image 0 again (duplicate, same label 1); b's image 1 is a's image 2 with label 0 (conflict: a labels it 1).
  b.images.set(a.images.subarray(0, HAIRPIN_IMAGE_SIZE), 0);
  b.images.set(a.images.subarray(2 * HAIRPIN_IMAGE_SIZE, 3 * HAIRPIN_IMAGE_SIZE), HAIRPIN_IMAGE_SIZE);
  b.labels[1] = 0;
  // The held-out set shows a's image 4.
  const held = constructedSet("held", 3, 3);
  held.images.set(a.images.subarray(4 * HAIRPIN_IMAGE_SIZE, 5 * HAIRPIN_IMAGE_SIZE), 0);
  const sets: Record<string, ReturnType<typeof constructedSet>> = { a, b, held };
  const data = buildVaeData({ trainSets: ["a", "b"], heldOutSet: "held", load: (p) => sets[p]!, validation: false });
  const [ra, rb, rh] = data.report;
  assert.equal(data.validation.n, 0);
  assert.equal(data.validationSplit, null);
  assert.deepEqual([ra!.duplicates, ra!.conflicting, ra!.heldOutLeaks], [0, 1, 1]);
  assert.deepEqual([rb!.duplicates, rb!.conflicting, rb!.heldOutLeaks], [1, 1, 0]);
  assert.equal(data.train.n, 8 + 8);
  assert.equal(new Set(data.train.sequences).size, data.train.n);
  assert.equal(data.heldOut.n, 3);
  assert.equal(rh!.set, "held (held out)");
  const heldKmers = new Set(data.heldOut.sequences.flatMap((s) => Array.from({ length: s.length - 24 }, (_, k) => s.slice(k, k + 25))));
  for (const s of data.train.sequences) for (let k = 0; k + 25 <= s.length; k++) assert.ok(!heldKmers.has(s.slice(k, k + 25)));
  assert.throws(() => buildVaeData({ trainSets: ["a", "held"], heldOutSet: "held", load: (p) => sets[p]! }), InputError);
});

test("buildVaeData: a seeded validation split of one set, leak-guarded against training", () => {
  // b's image i is a's image i with one more stem pair: the same 5' arm (≥ 30 nt), another hairpin.
  const drawn = (prefix: string, extra: number) => {
    const images = new Uint8Array(20 * HAIRPIN_IMAGE_SIZE);
    for (let i = 0; i < 20; i++) {
      const h = constructedHairpin(500 + i, 30 + extra);
      images.set(encodeHairpinImage(h.sequence, h.structure).data, i * HAIRPIN_IMAGE_SIZE);
    }
    return { prefix, n: 20, images, labels: Uint8Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 1 : 0)), names: Array.from({ length: 20 }, (_, i) => `${prefix}_${i}`) };
  };
  const a = drawn("a", 0);
  const b = drawn("b", 1);
  const held = constructedSet("held", 3, 3);
  const sets: Record<string, ReturnType<typeof constructedSet>> = { a, b, held };
  const load = (p: string) => sets[p]!;
  const data = buildVaeData({ trainSets: ["a", "b"], heldOutSet: "held", load, validation: { set: "a", fraction: 0.5, seed: 7 } });
  const [ra, rb, rv, rh] = data.report;
  assert.equal(data.validation.n, 10);
  assert.equal(data.validation.labels.reduce((x, y) => x + y, 0), 5, "both classes in proportion");
  assert.equal(ra!.validation, 10);
  assert.equal(rb!.validation, 0);
  assert.equal(rv!.set, "a (validation)");
  assert.equal(rh!.set, "held (held out)");
  assert.equal(ra!.validationLeaks, 0);
  assert.equal(rb!.validationLeaks, 10, "b's variants of the validation hairpins leave training");
  assert.equal(data.train.n, 20);
  const kmers = (seqs: string[]) => new Set(seqs.flatMap((s) => Array.from({ length: s.length - 24 }, (_, k) => s.slice(k, k + 25))));
  const validationKmers = kmers(data.validation.sequences);
  for (const s of data.train.sequences) for (let k = 0; k + 25 <= s.length; k++) assert.ok(!validationKmers.has(s.slice(k, k + 25)));
  // Seeded: the same seed gives the same split, another seed another one.
  assert.deepEqual(buildVaeData({ trainSets: ["a", "b"], heldOutSet: "held", load, validation: { set: "a", fraction: 0.5, seed: 7 } }).validation.sequences, data.validation.sequences);
  assert.notDeepEqual(buildVaeData({ trainSets: ["a", "b"], heldOutSet: "held", load, validation: { set: "a", fraction: 0.5, seed: 8 } }).validation.sequences, data.validation.sequences);
  assert.throws(() => buildVaeData({ trainSets: ["a", "b"], heldOutSet: "held", load, validation: { set: "c" } }), InputError);
  assert.throws(() => buildVaeData({ trainSets: ["a", "b"], heldOutSet: "held", load, validation: { set: "a", fraction: 1 } }), InputError);
});

test("stratifiedSubset keeps both classes in proportion, seeded; selectVaeRows checks rows", () => {
  const { rows } = vaeRowsFromImages(constructedSet("s", 40, 4));
  const sub = stratifiedSubset(rows, 10, 1);
  assert.equal(sub.n, 10);
  assert.equal(sub.labels.reduce((x, y) => x + y, 0), 5);
  assert.deepEqual(stratifiedSubset(rows, 10, 1).sequences, sub.sequences);
  assert.notDeepEqual(stratifiedSubset(rows, 10, 2).sequences, sub.sequences);
  assert.equal(stratifiedSubset(rows, 100, 1), rows);
  assert.throws(() => selectVaeRows(rows, [40]), InputError);
  assert.throws(() => stratifiedSubset(rows, 0, 1), InputError);
});

test("buildVaeData on the deepMir sets: modhsa_test held out, no training hairpin shares a 25-nt stretch with it", (t) => {
  const skip = missingData(deepMirDatasetsFolder());
  if (skip) return t.skip(skip);
  const data = buildVaeData();
  assert.equal(data.heldOutSet, "modhsa_test");
  assert.ok(data.train.n > 6000, `${data.train.n} training hairpins`);
  assert.ok(data.heldOut.n > 700);
  assert.ok(data.validation.n > 400, `${data.validation.n} validation hairpins`);
  const heldKmers = new Set<string>();
  for (const s of [...data.heldOut.sequences, ...data.validation.sequences]) for (let k = 0; k + 25 <= s.length; k++) heldKmers.add(s.slice(k, k + 25));
  for (const s of data.train.sequences) for (let k = 0; k + 25 <= s.length; k++) assert.ok(!heldKmers.has(s.slice(k, k + 25)));
  const testKmers = new Set<string>();
  for (const s of data.heldOut.sequences) for (let k = 0; k + 25 <= s.length; k++) testKmers.add(s.slice(k, k + 25));
  for (const s of data.validation.sequences) for (let k = 0; k + 25 <= s.length; k++) assert.ok(!testKmers.has(s.slice(k, k + 25)));
  assert.equal(new Set(data.train.sequences).size, data.train.n);
  const positives = data.train.labels.reduce((a, b) => a + b, 0);
  assert.ok(positives > 2500 && data.train.n - positives > 3000);
});
