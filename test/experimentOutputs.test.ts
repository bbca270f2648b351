import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../lib/src/errors";
import { experimentOutputs, sampleLabelledPairs } from "../lib/src/binding/experimentOutputs";
import { bindingExperimentDir } from "../lib/src/binding/experiment";
import { tempDir } from "./helpers";

test("experimentOutputs: the paths of a complete experiment; a missing model or split says to run model_train_lock first", () => {
  const dir = tempDir();
  assert.throws(() => experimentOutputs({ dir }), (e: unknown) => e instanceof InputError && /run notebooks\/model_train_lock\.ipynb first/.test(e.message) && /best\/seed-1\/model\/model\.json/.test(e.message));
  fs.mkdirSync(path.join(dir, "best", "seed-1", "model"), { recursive: true });
  fs.writeFileSync(path.join(dir, "best", "seed-1", "model", "model.json"), "{}");
  assert.throws(() => experimentOutputs({ dir }), /heldout_scan_test_set\.tsv\.gz/);
  fs.mkdirSync(path.join(dir, "split"));
  for (const f of ["heldout_scan_test_set.tsv.gz", "heldout_mirna_neg_test_set.tsv.gz"]) fs.writeFileSync(path.join(dir, "split", f), "");
  const out = experimentOutputs({ dir });
  assert.equal(out.model, path.join(dir, "best", "seed-1", "model"));
  assert.equal(out.heldOutScan, path.join(dir, "split", "heldout_scan_test_set.tsv.gz"));
  assert.throws(() => experimentOutputs({ dir, config: "standard_1k_ratio1", seed: 2 }), /standard_1k_ratio1\/seed-2/);
  // By default: the experiment folder of the current profile.
  assert.throws(() => experimentOutputs({ config: "no-such-config" }), (e: unknown) => e instanceof InputError && e.message.includes(bindingExperimentDir()));
});

test("sampleLabelledPairs: sizes, order, the filter, seeded", () => {
  const n = 40;
  const pairs = {
    name: "t",
    mirnas: Array.from({ length: n }, (_, i) => `m${i}`),
    sites: Array.from({ length: n }, (_, i) => `s${i}`),
    labels: Uint8Array.from({ length: n }, (_, i) => (i < 10 ? 1 : 0)),
  };
  const s = sampleLabelledPairs(pairs, { positives: 4, negatives: 6, seed: 3 });
  assert.equal(s.labels.length, 10);
  assert.deepEqual(Array.from(s.labels), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  const rows = Array.from(s.rows);
  assert.deepEqual(rows.slice(0, 4), [...rows.slice(0, 4)].sort((a, b) => a - b), "table order within a class");
  rows.forEach((r, k) => assert.equal(s.mirnas[k], `m${r}`));
  assert.deepEqual(sampleLabelledPairs(pairs, { positives: 4, negatives: 6, seed: 3 }), s);
  assert.notDeepEqual(Array.from(sampleLabelledPairs(pairs, { positives: 4, negatives: 6, seed: 4 }).rows), rows);
  const all = sampleLabelledPairs(pairs, { positives: 100, negatives: 0 });
  assert.deepEqual(Array.from(all.rows), Array.from({ length: 10 }, (_, i) => i), "every positive when there are fewer");
  const even = sampleLabelledPairs(pairs, { positives: 100, negatives: 100, keep: (i) => i % 2 === 0 });
  assert.ok(Array.from(even.rows).every((r) => r % 2 === 0));
  assert.equal(even.labels.length, 20);
  assert.throws(() => sampleLabelledPairs(pairs, { positives: -1, negatives: 0 }), InputError);
});
