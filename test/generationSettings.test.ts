/**
 * Choosing generation settings on a validation split (lib/src/cvae/settings.ts) with
 * a toy CVAE and AR decoder and the real RNAfold: one row per candidate with both classes'
 * raw-sample measures, the choice follows the stated rule, seeded, errors, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { buildArDecoder, DEFAULT_DRAWING_GRAMMAR } from "../lib/src/cvae/arDecoder";
import {
  chooseGenerationSettings, DEFAULT_GENERATION_CANDIDATES, GENERATION_TARGETS, GenerationCandidate, wilsonInterval,
} from "../lib/src/cvae/settings";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { buildCvae, disposeCvae, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { profileScaling } from "../lib/src/cvae/saved";
import { constructedSet } from "./vaeHelpers";

before(async () => {
  await initBackend({ quiet: true });
});

test("wilsonInterval", () => {
  const [lo, hi] = wilsonInterval(70, 100);
  assert.ok(Math.abs(lo - 0.6041) < 1e-3 && Math.abs(hi - 0.7810) < 1e-3, `${lo} ${hi}`);
  assert.deepEqual(wilsonInterval(0, 10).map((v) => v >= 0 && v <= 1), [true, true]);
});

test("the default candidates differ and each names its settings", () => {
  const names = DEFAULT_GENERATION_CANDIDATES.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(DEFAULT_GENERATION_CANDIDATES[0]!.name, "default");
});

test("chooseGenerationSettings: a row per candidate, the rule's choice, seeded; errors; no leaks", async () => {
  const train = vaeRowsFromImages(constructedSet("toy", 30, 3)).rows;
  const validation = vaeRowsFromImages(constructedSet("val", 12, 4)).rows;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  cvae.arDecoder = buildArDecoder(5, { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 2 });
  const model = { cvae, info: { profileScaling: profileScaling(train) }, training: { labels: train.labels, profiles: train.profiles, sequences: train.sequences } };
  const candidates: GenerationCandidate[] = [
    { name: "grammar", temperature: 1, tokenTemperature: 1, topP: 0.9, grammar: DEFAULT_DRAWING_GRAMMAR, profilePool: "all" },
    { name: "free", temperature: 1, tokenTemperature: 1, topP: 0.9, grammar: false, profilePool: "all" },
  ];
  const before = tf.memory().numTensors;
  const choice = await chooseGenerationSettings({ model, validation, candidates, samples: 10, seed: 101, fold: { jobs: 1 } });
  assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  assert.equal(choice.table.length, 2);
  for (const row of choice.table) {
    assert.equal(row.preMirna.n, 10);
    assert.equal(row.negative.n, 10);
    assert.ok(row.preMirna.refoldExactCi[0] <= row.preMirna.refoldExact && row.preMirna.refoldExact <= row.preMirna.refoldExactCi[1]);
    assert.equal(row.preMirna.classifierPreMirna, null);
    assert.equal(row.targetsMet, Object.values(row.meets).filter(Boolean).length);
  }
  // The rule: most targets met, then the smallest realism distance, then list order.
  const best = Math.max(...choice.table.map((r) => r.targetsMet));
  const tied = choice.table.filter((r) => r.targetsMet === best);
  const expected = tied.reduce((a, r) => (r.realismDistance < a.realismDistance ? r : a));
  assert.equal(choice.chosen.name, expected.candidate.name);
  assert.ok(choice.sanityRules.mfePerNtRange[0] < choice.sanityRules.mfePerNtRange[1], "the MFE window comes from the validation pre-miRNAs");
  assert.deepEqual(choice.targets, GENERATION_TARGETS);
  const again = await chooseGenerationSettings({ model, validation, candidates: candidates.slice(0, 1), samples: 10, seed: 101, fold: { jobs: 1 } });
  assert.deepEqual(again.table[0]!.preMirna, choice.table[0]!.preMirna, "same seed, same numbers");
  await assert.rejects(chooseGenerationSettings({ model, validation, candidates: [], seed: 1 }), /no generation candidates/);
  await assert.rejects(chooseGenerationSettings({ model, validation, candidates, samples: 0, seed: 1 }), /samples must be a positive integer/);
  const onlyPositives = { ...validation, labels: new Uint8Array(validation.n).fill(1) };
  await assert.rejects(chooseGenerationSettings({ model, validation: onlyPositives, candidates, seed: 1 }), /needs pre-miRNAs and negatives/);
  disposeCvae(cvae);
});
