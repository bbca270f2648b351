/**
 * Refold-consistent fine-tuning of the AR decoder (lib/src/cvae/arRefine.ts) with a toy CVAE
 * and decoder and the real RNAfold: what a round records, that every accepted draft refolds to
 * exactly its drawing, that an interrupted run resumes to the same weights, errors, no leaks.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/src/ops/backend";
import { ArDecoderConfig, DEFAULT_DRAWING_GRAMMAR, disposeArDecoder, hasArDecoder, trainArDecoder } from "../lib/src/cvae/arDecoder";
import { capToReference, refineArDecoder } from "../lib/src/cvae/arRefine";
import { longestRun } from "../lib/src/cvae/realism";
import { mulberry32 } from "../lib/src/random";
import { refoldCheck } from "../lib/src/cvae/evaluate";
import { renderTokens } from "../lib/src/cvae/generate";
import { vaeRowsFromImages } from "../lib/src/cvae/data";
import { buildCvae, disposeCvae, globalLatents, TOY_CVAE_CONFIG } from "../lib/src/cvae/model";
import { profileScaling } from "../lib/src/cvae/saved";
import { encodePosteriors } from "../lib/src/cvae/evaluate";
import { constructedSet } from "./vaeHelpers";
import { tempDir } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const arConfig: ArDecoderConfig = { columnChannels: 4, hidden: 8, filters: 12, layers: 2, kernel: 3, seed: 3, history: true };
const sampling = { temperature: 1, tokenTemperature: 1, topP: 0.9, grammar: DEFAULT_DRAWING_GRAMMAR, profilePool: "all" as const };

test("longestRun: the longest single-nucleotide run", () => {
  assert.equal(longestRun(""), 0);
  assert.equal(longestRun("ACGU"), 1);
  assert.equal(longestRun("AAGGGGCUUU"), 4);
});

test("capToReference: no bin holds a larger share than in the reference; under-full bins keep all; seeded", () => {
  const real = Array.from({ length: 1000 }, (_, i) => i / 1000); // uniform: deciles 0.1 wide
  const values = [...Array.from({ length: 500 }, (_, i) => 0.05 + i / 1e4), ...Array.from({ length: 50 }, (_, i) => 0.55 + i / 1e3)]; // 500 in bin 0, 50 in bin 5
  const kept = capToReference(values, real, 10, mulberry32(1));
  const inBin0 = kept.filter((k) => values[k]! < 0.1).length;
  assert.equal(inBin0, Math.round(0.1 * values.length), "bin 0 capped at its real share (10%)");
  assert.equal(kept.filter((k) => values[k]! >= 0.5).length, 50, "bin 5 under-full: all kept");
  assert.deepEqual(capToReference(values, real, 10, mulberry32(1)), kept);
  assert.deepEqual(capToReference([], real, 10, mulberry32(1)), []);
});

test("refineArDecoder: accepted drafts refold exactly; records; resume = uninterrupted; errors; no leaks", async () => {
  const data = vaeRowsFromImages(constructedSet("toy", 40, 5)).rows;
  const cvae = buildCvae(TOY_CVAE_CONFIG);
  const model = {
    cvae, info: { profileScaling: profileScaling(data), training: { seed: 1, steps: 0 } },
    training: { labels: data.labels, profiles: data.profiles, sequences: data.sequences },
  };
  // A decoder that has learned the constructed hairpins a little (their drafts then often fold as drawn).
  const post = encodePosteriors(cvae, data.tokens, data.n);
  const mean = globalLatents(cvae.config, post.mean), logVar = globalLatents(cvae.config, post.logVar);
  const base = await trainArDecoder(data.tokens, { mean, logVar }, { seed: 2, epochs: 40, learningRate: 0.02, batchSize: 8, config: arConfig, conditions: Float32Array.from(data.labels) });
  const start = () => trainArDecoder(data.tokens, { mean, logVar }, { seed: 2, epochs: 0, config: arConfig, conditions: Float32Array.from(data.labels), init: base.decoder });
  const options = { seed: 7, samplesPerClass: 24, epochs: 1, batchSize: 16, sampling, fold: { jobs: 1 } };
  const before = tf.memory().numTensors;

  const dir = tempDir();
  model.cvae.arDecoder = (await start()).decoder;
  const one = await refineArDecoder(model, base.info, data, { ...options, rounds: 1, checkpointDir: dir });
  const r1 = one.info.refinement![0]!;
  assert.deepEqual(r1.drafts, [24, 24]);
  for (const k of [0, 1]) assert.ok(r1.accepted[k]! <= r1.refoldExact[k]! && r1.refoldExact[k]! <= 24);
  assert.ok(r1.accepted[0] + r1.accepted[1] > 0, "some drafts refold exactly");
  assert.ok(hasArDecoder(path.join(dir, "round-1", "decoder")));
  // Every accepted draft folds into exactly its drawing.
  const drafts = JSON.parse(fs.readFileSync(path.join(dir, "round-1", "drafts.json"), "utf8")) as { tokens: number[]; labels: number[] };
  const drawn = renderTokens(Uint8Array.from(drafts.tokens));
  assert.equal(drawn.sequences.length, drafts.labels.length);
  assert.ok((await refoldCheck(drawn.sequences, drawn.columns, { jobs: 1 })).every((r) => r.exact));
  // Resume: a second round on top of the first's checkpoint = two rounds in one go.
  const resumed = await refineArDecoder(model, base.info, data, { ...options, rounds: 2, checkpointDir: dir });
  assert.equal(resumed.info.refinement!.length, 2);
  const resumedWeights = model.cvae.arDecoder!.container.getWeights().map((w) => Array.from(w.dataSync()));
  disposeArDecoder(model.cvae.arDecoder!);
  model.cvae.arDecoder = (await start()).decoder;
  const straight = await refineArDecoder(model, base.info, data, { ...options, rounds: 2 });
  assert.deepEqual(straight.info.refinement!.map((r) => r.accepted), resumed.info.refinement!.map((r) => r.accepted));
  assert.deepEqual(model.cvae.arDecoder!.container.getWeights().map((w) => Array.from(w.dataSync())), resumedWeights);
  disposeArDecoder(model.cvae.arDecoder!);
  model.cvae.arDecoder = undefined;
  assert.equal(tf.memory().numTensors, before, "no leaked tensors");

  await assert.rejects(refineArDecoder(model, base.info, data, options), /needs a model with an autoregressive decoder/);
  model.cvae.arDecoder = (await start()).decoder;
  await assert.rejects(refineArDecoder(model, base.info, data, { ...options, rounds: 0 }), /rounds must be a positive integer/);
  await assert.rejects(refineArDecoder(model, { ...base.info, conditionDims: 0 }, data, options), /class-conditioned/);
  disposeArDecoder(base.decoder);
  disposeCvae(cvae);
});
