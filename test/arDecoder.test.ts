/**
 * The autoregressive column decoder (lib/src/cvae/arDecoder.ts): shapes, causality (column
 * x's logits do not see tokens ≥ x), the windowed sampler gives exactly the full model's
 * greedy tokens, training learns tokens that depend on z_g, resume reproduces an uninterrupted
 * run, seeded sampling, loop mirroring, the folder round trip, errors, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import {
  ArDecoderConfig, arDecoderLogits, arDecoderNll, buildArDecoder, DEFAULT_DRAWING_GRAMMAR, disposeArDecoder, DrawingGrammar, hasArDecoder, HISTORY_CHANNELS, keepNucleus, loadArDecoder, mirrorLoop, obeysGrammar,
  sampleArDecoder, saveArDecoder, shiftedOneHot, tokenHistory, trainArDecoder,
} from "../lib/src/cvae/arDecoder";
import { COLUMN_TOKENS, isPairedToken, TOKEN_COLUMNS } from "../lib/src/cvae/tokens";
import { tempDir } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const toyConfig: ArDecoderConfig = { columnChannels: 4, hidden: 8, filters: 8, layers: 2, kernel: 3, seed: 3 };

function row(values: number[]): Uint8Array {
  const r = new Uint8Array(TOKEN_COLUMNS);
  r.set(values);
  return r;
}

test("shapes, NLL finite, no leaked tensors", () => {
  const before = tf.memory().numTensors;
  const d = buildArDecoder(2, toyConfig);
  assert.equal(d.receptiveField, 5);
  const nll = tf.tidy(() => arDecoderNll(d, tf.ones([3, 2]) as tf.Tensor2D, tf.zeros([3, TOKEN_COLUMNS], "int32") as tf.Tensor2D).dataSync()[0]!);
  assert.ok(Number.isFinite(nll) && nll > 0);
  const tokens = sampleArDecoder(d, new Float32Array([1, -1, 0.5, 0.5]), { seed: 1 });
  assert.equal(tokens.length, 2 * TOKEN_COLUMNS);
  assert.ok(tokens.every((t) => t < COLUMN_TOKENS));
  assert.ok(tokens[0] !== 0 && tokens[TOKEN_COLUMNS] !== 0, "column 0 is never end");
  disposeArDecoder(d);
  assert.equal(tf.memory().numTensors, before);
});

test("causal: column x's logits do not depend on tokens at x or after", () => {
  const d = buildArDecoder(2, toyConfig);
  const logits = (r: Uint8Array) => tf.tidy(() => (d.container.apply([tf.ones([1, 2]), shiftedOneHot(tf.tensor2d(Int32Array.from(r), [1, TOKEN_COLUMNS], "int32"))]) as tf.Tensor).dataSync() as Float32Array);
  const a = row([7, 8, 1, 2, 3, 4, 5, 6, 1, 1, 1]), b = row([7, 8, 1, 2, 3, 4, 5, 6, 1, 1, 1]);
  b[6] = 20; // change column 6 only
  const la = logits(a), lb = logits(b);
  for (let x = 0; x <= 6; x++) for (let t = 0; t < COLUMN_TOKENS; t++) assert.equal(la[x * COLUMN_TOKENS + t], lb[x * COLUMN_TOKENS + t], `column ${x} must not see column 6`);
  assert.notDeepEqual(Array.from(la.subarray(7 * COLUMN_TOKENS, 8 * COLUMN_TOKENS)), Array.from(lb.subarray(7 * COLUMN_TOKENS, 8 * COLUMN_TOKENS)), "column 7 sees column 6");
  disposeArDecoder(d);
});

test("the windowed sampler gives the full model's greedy tokens exactly", () => {
  const d = buildArDecoder(3, { ...toyConfig, seed: 11 });
  const zg = new Float32Array([0.3, -1.2, 2, 1.5, 0.1, -0.4, -2, 2, 2]);
  const tokens = sampleArDecoder(d, zg, { seed: 1, tokenTemperature: 0, mirror: false, grammar: false });
  const full = tf.tidy(() => (d.container.apply([tf.tensor2d(zg, [3, 3]), shiftedOneHot(tf.tensor2d(Int32Array.from(tokens), [3, TOKEN_COLUMNS], "int32"))]) as tf.Tensor).dataSync() as Float32Array);
  let checked = 0;
  for (let i = 0; i < 3; i++) {
    for (let x = 0; x < TOKEN_COLUMNS; x++) {
      const at = (i * TOKEN_COLUMNS + x) * COLUMN_TOKENS;
      let best = 0;
      for (let t = 1; t < COLUMN_TOKENS; t++) if (full[at + t]! > full[at + best]!) best = t;
      if (x === 0 && best === 0) {
        // column 0 is never end: the sampler takes the most likely other token
        let second = 1;
        for (let t = 2; t < COLUMN_TOKENS; t++) if (full[at + t]! > full[at + second]!) second = t;
        assert.equal(tokens[i * TOKEN_COLUMNS], second);
        checked++;
        continue;
      }
      assert.equal(tokens[i * TOKEN_COLUMNS + x], best, `sample ${i}, column ${x}`);
      checked++;
      if (best === 0) break; // end: the rest is end by construction
    }
  }
  assert.ok(checked > 3 * d.receptiveField, `enough columns checked (${checked}) to pass the window's warm-up`);
  disposeArDecoder(d);
});

test("mirrorLoop: the loop's lower halves mirror its upper halves; pairs and later columns untouched", () => {
  // Loop of 3 columns (uppers A, C, G) then a pair: lowers must be G, C, A.
  const t = row([7 + 4 * 0 + 3, 7 + 4 * 1 + 1, 7 + 4 * 2 + 0, 3, 9]);
  mirrorLoop(t);
  assert.deepEqual(Array.from(t.subarray(0, 5)), [7 + 4 * 0 + 2, 7 + 4 * 1 + 1, 7 + 4 * 2 + 0, 3, 9]);
  const noPair = row([7, 8, 9]);
  assert.deepEqual(Array.from(mirrorLoop(noPair.slice()).subarray(0, 3)), [7, 8, 9]);
});

test("training learns tokens that depend on z_g; resume reproduces; seeded sampling; save/load", async () => {
  // Two kinds of hairpin: z_g ≈ (+1, 0) → loop A·U then 4 G–C pairs; z_g ≈ (−1, 0) → loop C·G then 6 A–U pairs.
  const n = 64;
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  const mean = new Float32Array(n * 2), logVar = new Float32Array(n * 2).fill(Math.log(0.01));
  for (let i = 0; i < n; i++) {
    const a = i % 2 === 0;
    tokens.set(a ? [7 + 3, 7 + 12, 3, 3, 3, 3] : [7 + 4 + 2, 7 + 8 + 1, 1, 1, 1, 1, 1, 1], i * TOKEN_COLUMNS);
    mean[2 * i] = a ? 1 : -1;
  }
  const dir = tempDir();
  const options = { seed: 4, batchSize: 16, learningRate: 0.02, validationFraction: 0.125, config: toyConfig };
  const first = await trainArDecoder(tokens, { mean, logVar }, { ...options, epochs: 1, checkpointDir: `${dir}/ckpt` });
  disposeArDecoder(first.decoder);
  const resumed = await trainArDecoder(tokens, { mean, logVar }, { ...options, epochs: 2, checkpointDir: `${dir}/ckpt` });
  const straight = await trainArDecoder(tokens, { mean, logVar }, { ...options, epochs: 2 });
  assert.deepEqual(Array.from(resumed.decoder.container.getWeights()[0]!.dataSync()), Array.from(straight.decoder.container.getWeights()[0]!.dataSync()));
  disposeArDecoder(resumed.decoder);
  disposeArDecoder(straight.decoder);

  const trained = await trainArDecoder(tokens, { mean, logVar }, { ...options, epochs: 60 });
  assert.ok(trained.info.validationNll !== null && trained.info.validationNll < 1, `validation NLL ${trained.info.validationNll}`);
  const greedy = sampleArDecoder(trained.decoder, new Float32Array([1, 0, -1, 0]), { seed: 1, tokenTemperature: 0, grammar: false }); // toy loops of 2: no grammar
  assert.deepEqual(Array.from(greedy.subarray(0, 7)), [7 + 3, 7 + 12, 3, 3, 3, 3, 0]);
  assert.deepEqual(Array.from(greedy.subarray(TOKEN_COLUMNS, TOKEN_COLUMNS + 9)), [7 + 4 + 2, 7 + 8 + 1, 1, 1, 1, 1, 1, 1, 0]);
  const zg = new Float32Array([1, 0, -1, 0, 1, 0]);
  assert.deepEqual(sampleArDecoder(trained.decoder, zg, { seed: 7 }), sampleArDecoder(trained.decoder, zg, { seed: 7 }));

  assert.equal(hasArDecoder(dir), false);
  await saveArDecoder(dir, trained.decoder, trained.info);
  assert.equal(hasArDecoder(dir), true);
  const loaded = await loadArDecoder(dir);
  assert.deepEqual(sampleArDecoder(loaded.decoder, zg, { seed: 7 }), sampleArDecoder(trained.decoder, zg, { seed: 7 }));
  assert.equal(loaded.info.training.epochs, 60);
  disposeArDecoder(loaded.decoder);
  disposeArDecoder(trained.decoder);
});

test("conditions: known per-row values appended to z_g without noise; the decoder learns tokens that depend on them", async () => {
  // z_g carries nothing (all 0); the condition (1 or 0) decides the hairpin, as the class does.
  const n = 64;
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  const mean = new Float32Array(n * 2), logVar = new Float32Array(n * 2).fill(Math.log(0.01));
  const conditions = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    conditions[i] = i % 2;
    tokens.set(i % 2 ? [7 + 3, 7 + 12, 3, 3, 3, 3] : [7 + 4 + 2, 7 + 8 + 1, 1, 1, 1, 1, 1, 1], i * TOKEN_COLUMNS);
  }
  const before = tf.memory().numTensors;
  const trained = await trainArDecoder(tokens, { mean, logVar }, { seed: 4, batchSize: 16, learningRate: 0.02, validationFraction: 0.125, config: toyConfig, epochs: 60, conditions });
  assert.equal(trained.decoder.globalDims, 3);
  assert.equal(trained.info.globalDims, 3);
  assert.equal(trained.info.conditionDims, 1);
  assert.ok(trained.info.validationNll !== null && trained.info.validationNll < 1, `validation NLL ${trained.info.validationNll}`);
  const greedy = sampleArDecoder(trained.decoder, new Float32Array([0, 0, 1, 0, 0, 0]), { seed: 1, tokenTemperature: 0, grammar: false }); // toy loops of 2: no grammar
  assert.deepEqual(Array.from(greedy.subarray(0, 7)), [7 + 3, 7 + 12, 3, 3, 3, 3, 0]);
  assert.deepEqual(Array.from(greedy.subarray(TOKEN_COLUMNS, TOKEN_COLUMNS + 9)), [7 + 4 + 2, 7 + 8 + 1, 1, 1, 1, 1, 1, 1, 0]);
  disposeArDecoder(trained.decoder);
  assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  await assert.rejects(trainArDecoder(tokens, { mean, logVar }, { seed: 1, epochs: 1, config: toyConfig, conditions: new Float32Array(n + 1) }), /condition values do not fit 64 hairpins/);
});

test("keepNucleus: the most likely weights up to the mass, ties by index; at least one kept", () => {
  const w = Float64Array.from([9, 0.5, 0.2, 0.2, 0.1]);
  assert.ok(Math.abs(keepNucleus(w, 1, 0.6) - 0.7) < 1e-12);
  assert.deepEqual(Array.from(w), [9, 0.5, 0.2, 0, 0], "0.5 then the first of the tied 0.2s; index 0 is before `from`, untouched");
  const one = Float64Array.from([0.1, 0.6, 0.3]);
  assert.equal(keepNucleus(one, 0, 0.01), 0.6);
  assert.deepEqual(Array.from(one), [0, 0.6, 0]);
});

test("topP: a small nucleus gives the greedy tokens; 1 leaves sampling as it was; errors", () => {
  const d = buildArDecoder(2, toyConfig);
  const zg = new Float32Array([0.5, -1, 1, 0.2, -0.3, 0.8]);
  assert.deepEqual(sampleArDecoder(d, zg, { seed: 3, tokenTemperature: 1, topP: 1e-6 }), sampleArDecoder(d, zg, { seed: 3, tokenTemperature: 0 }));
  assert.deepEqual(sampleArDecoder(d, zg, { seed: 3, topP: 1 }), sampleArDecoder(d, zg, { seed: 3 }));
  assert.notDeepEqual(sampleArDecoder(d, zg, { seed: 3, topP: 0.5 }), sampleArDecoder(d, zg, { seed: 3 }));
  assert.throws(() => sampleArDecoder(d, zg, { seed: 3, topP: 0 }), /topP must be in \(0, 1\]/);
  assert.throws(() => sampleArDecoder(d, zg, { seed: 3, topP: 1.5 }), /topP must be in \(0, 1\]/);
  disposeArDecoder(d);
});

test("errors: bad sizes, posteriors that do not fit, missing folder, bad temperature", async () => {
  assert.throws(() => buildArDecoder(0, toyConfig), (e: unknown) => e instanceof InputError && /globalDims must be a whole number from 1 to 4,096, got 0/.test(e.message));
  assert.throws(() => buildArDecoder(2, { ...toyConfig, layers: 0 }), /layers must be a whole number from 1 to 64, got 0/);
  await assert.rejects(trainArDecoder(new Uint8Array(3 * TOKEN_COLUMNS), { mean: new Float32Array(7), logVar: new Float32Array(7) }, { seed: 1, epochs: 1, config: toyConfig }), /do not fit 3 hairpins/);
  await assert.rejects(loadArDecoder(tempDir()), (e: unknown) => e instanceof InputError && /ar-decoder.json missing/.test(e.message));
  const absurd = tempDir();
  fs.writeFileSync(path.join(absurd, "ar-decoder.json"), JSON.stringify({ globalDims: 4, config: { ...toyConfig, hidden: 2e9 } }));
  await assert.rejects(loadArDecoder(absurd), (e: unknown) => e instanceof InputError && /ar-decoder\.json: config\.hidden must be a whole number from 1 to 4,096, got 2000000000$/.test(e.message));
  const d = buildArDecoder(2, toyConfig);
  assert.throws(() => sampleArDecoder(d, new Float32Array(2), { seed: 1, tokenTemperature: -1 }), /tokenTemperature must be ≥ 0/);
  assert.throws(() => sampleArDecoder(d, new Float32Array(3), { seed: 1 }), /not rows of 2/);
  disposeArDecoder(d);
});

const historyConfig: ArDecoderConfig = { ...toyConfig, history: true };

test("tokenHistory: loop closed, pairs, loop size, arm asymmetry and nucleotides of the columns before each column", () => {
  // loop of 3 (two-nt columns), then pair, upper-only bulge column, pair, lower-only column, end.
  const r = row([7 + 0 + 3, 7 + 4 + 1, 7 + 12 + 0, 3, 23, 1, 27]);
  const h = tf.tidy(() => tokenHistory(shiftedOneHot(tf.tensor2d(Int32Array.from(r), [1, TOKEN_COLUMNS], "int32"))).arraySync() as number[][][])[0]!;
  assert.equal(h.length, TOKEN_COLUMNS);
  assert.equal(h[0]!.length, HISTORY_CHANNELS);
  const expect = (x: number, closed: number, pairs: number, loop: number, asym: number, nt: number) =>
    assert.deepEqual(h[x], [closed, pairs / 16, loop / 16, asym / 8, nt / 64], `column ${x}`);
  expect(0, 0, 0, 0, 0, 0);
  expect(3, 0, 0, 3, 0, 3); // 3 loop columns before column 3: 3 nucleotides (each shown twice)
  expect(4, 1, 1, 3, 0, 5); // + the pair
  expect(5, 1, 1, 3, 1, 6); // + an upper nucleotide facing a gap
  expect(7, 1, 2, 3, 0, 9); // + a pair, + a lower nucleotide facing a gap
  expect(99, 1, 2, 3, 0, 9);
});

test("history decoder: causal, windowed sampler = the full model's greedy tokens, NLL, no leaks", () => {
  const before = tf.memory().numTensors;
  const d = buildArDecoder(3, { ...historyConfig, seed: 13 });
  const logits = (r: Uint8Array) => tf.tidy(() => arDecoderLogits(d, tf.ones([1, 3]) as tf.Tensor2D, tf.tensor2d(Int32Array.from(r), [1, TOKEN_COLUMNS], "int32")).dataSync() as Float32Array);
  const a = row([7, 8, 9, 1, 2, 3, 4, 5, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), b = a.slice();
  b[1] = 1; // a pair at column 1: seen by every later column through the history, beyond the receptive field
  const la = logits(a), lb = logits(b);
  for (let t = 0; t < COLUMN_TOKENS * 2; t++) assert.equal(la[t], lb[t], "columns 0–1 do not see column 1");
  assert.notDeepEqual(Array.from(la.subarray(18 * COLUMN_TOKENS, 19 * COLUMN_TOKENS)), Array.from(lb.subarray(18 * COLUMN_TOKENS, 19 * COLUMN_TOKENS)), "column 18 (outside the receptive field of 5) sees column 1 through the history");
  const zg = new Float32Array([0.3, -1.2, 2, 1.5, 0.1, -0.4, -2, 2, 2]);
  const tokens = sampleArDecoder(d, zg, { seed: 1, tokenTemperature: 0, mirror: false, grammar: false });
  const full = tf.tidy(() => arDecoderLogits(d, tf.tensor2d(zg, [3, 3]), tf.tensor2d(Int32Array.from(tokens), [3, TOKEN_COLUMNS], "int32")).dataSync() as Float32Array);
  for (let i = 0; i < 3; i++) {
    for (let x = 1; x < TOKEN_COLUMNS; x++) {
      const at = (i * TOKEN_COLUMNS + x) * COLUMN_TOKENS;
      let best = 0;
      for (let t = 1; t < COLUMN_TOKENS; t++) if (full[at + t]! > full[at + best]!) best = t;
      assert.equal(tokens[i * TOKEN_COLUMNS + x], best, `sample ${i}, column ${x}`);
      if (best === 0) break;
    }
  }
  const nll = tf.tidy(() => arDecoderNll(d, tf.ones([2, 3]) as tf.Tensor2D, tf.zeros([2, TOKEN_COLUMNS], "int32") as tf.Tensor2D).dataSync()[0]!);
  assert.ok(Number.isFinite(nll) && nll > 0);
  disposeArDecoder(d);
  assert.equal(tf.memory().numTensors, before);
});

/** Checks one sampled row against the drawing grammar; returns the loop size. */
function checkGrammar(r: Uint8Array, g: DrawingGrammar): number {
  let length = 0;
  while (length < TOKEN_COLUMNS && r[length] !== 0) length++;
  let loop = 0;
  while (loop < length && !isPairedToken(r[loop]!)) loop++;
  assert.ok(loop < length, "a pair closes the loop");
  assert.ok(loop >= g.minLoop, `loop ${loop} ≥ ${g.minLoop}`);
  const nt = (t: number) => [(t - 7) >> 2, (t - 7) & 3];
  const pairs = g.mismatch === "none" ? [] : [[0, 3], [3, 0], [1, 2], [2, 1], ...(g.mismatch === "wc+gu" ? [[2, 3], [3, 2]] : [])];
  const comp = (u: number, l: number) => pairs.some(([a, b]) => a === u && b === l);
  for (let x = 0; x < loop; x++) {
    assert.ok(r[x]! >= 7 && r[x]! <= 22, "loop columns hold two nucleotides");
    assert.equal(nt(r[x]!)[1], nt(r[loop - 1 - x]!)[0], "the loop is mirrored");
  }
  if (loop >= g.minLoop + 2) assert.ok(!comp(...(nt(r[loop - 1]!) as [number, number])), "no complementary closing mismatch");
  let runTwo = false, side = 0;
  const upperNt = (t: number) => (t <= 6 ? [0, 3, 2, 1, 2, 3][t - 1]! : t - 23);
  const lowerNt = (t: number) => (t <= 6 ? [3, 0, 1, 2, 3, 2][t - 1]! : t - 27);
  for (let x = loop + 1; x < length; x++) {
    const t = r[x]!, prev = r[x - 1]!;
    if (isPairedToken(t)) {
      if (prev >= 7 && prev <= 22) assert.ok(!comp(...(nt(prev) as [number, number])), `column ${x - 1}: complementary column before a pair`);
      if (g.bulgeRegister !== false && prev >= 23 && x >= 2 && isPairedToken(r[x - 2]!)) {
        const same = prev <= 26 ? upperNt(prev) === upperNt(r[x - 2]!) : lowerNt(prev) === lowerNt(r[x - 2]!);
        assert.ok(!same, `column ${x - 1}: a one-nucleotide bulge RNAfold would draw one column nearer the loop`);
      }
      runTwo = false;
      side = 0;
    } else if (t >= 7 && t <= 22) {
      if (isPairedToken(prev)) assert.ok(!comp(...(nt(t) as [number, number])), `column ${x}: complementary column after a pair`);
      runTwo = true;
    } else {
      assert.ok(!runTwo, `column ${x}: a column facing a gap after a two-nucleotide column`);
      const s = t <= 26 ? 1 : 2;
      assert.ok(side === 0 || side === s, `column ${x}: gaps on both sides in one run`);
      side = s;
    }
  }
  return loop;
}

test("grammar: every sampled row obeys the drawing grammar; seeded; a grammar-free draw breaks it", () => {
  const d = buildArDecoder(2, { ...toyConfig, seed: 21 });
  const n = 60;
  const zg = new Float32Array(n * 2).map((_, k) => Math.sin(k) * 2);
  for (const g of [DEFAULT_DRAWING_GRAMMAR, { minLoop: 5, mismatch: "wc" } as DrawingGrammar]) {
    const tokens = sampleArDecoder(d, zg, { seed: 5, grammar: g });
    for (let i = 0; i < n; i++) checkGrammar(tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), g);
    assert.deepEqual(sampleArDecoder(d, zg, { seed: 5, grammar: g }), tokens);
  }
  const free = sampleArDecoder(d, zg, { seed: 5, grammar: false });
  assert.deepEqual(sampleArDecoder(d, zg, { seed: 5 }), sampleArDecoder(d, zg, { seed: 5, grammar: DEFAULT_DRAWING_GRAMMAR }), "the default grammar");
  let broken = 0;
  for (let i = 0; i < n; i++) {
    try {
      checkGrammar(free.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), DEFAULT_DRAWING_GRAMMAR);
    } catch {
      broken++;
    }
  }
  assert.ok(broken > n / 2, `an untrained decoder without the grammar breaks it (${broken} of ${n})`);
  assert.throws(() => sampleArDecoder(d, zg, { seed: 1, grammar: { minLoop: -1, mismatch: "wc" } }), /grammar: minLoop/);
  disposeArDecoder(d);
});

test("fine-tuning: init starts from the given decoder's weights; resume reproduces; other sizes refused", async () => {
  const n = 32;
  const tokens = new Uint8Array(n * TOKEN_COLUMNS);
  for (let i = 0; i < n; i++) tokens.set([7 + 3, 7 + 12, 7, 3, 3, 3, 3], i * TOKEN_COLUMNS);
  const mean = new Float32Array(n * 2), logVar = new Float32Array(n * 2).fill(-20);
  const options = { seed: 9, batchSize: 8, learningRate: 0.01, validationFraction: 0.125, config: historyConfig };
  const base = await trainArDecoder(tokens, { mean, logVar }, { ...options, epochs: 2 });
  const zero = await trainArDecoder(tokens, { mean, logVar }, { ...options, seed: 10, epochs: 0, init: base.decoder });
  assert.deepEqual(zero.decoder.container.getWeights().map((w) => Array.from(w.dataSync())), base.decoder.container.getWeights().map((w) => Array.from(w.dataSync())));
  const dir = tempDir();
  const first = await trainArDecoder(tokens, { mean, logVar }, { ...options, seed: 10, epochs: 1, init: base.decoder, checkpointDir: dir, source: { base: "b" } });
  disposeArDecoder(first.decoder);
  const resumed = await trainArDecoder(tokens, { mean, logVar }, { ...options, seed: 10, epochs: 2, init: base.decoder, checkpointDir: dir, source: { base: "b" } });
  const straight = await trainArDecoder(tokens, { mean, logVar }, { ...options, seed: 10, epochs: 2, init: base.decoder });
  assert.deepEqual(resumed.decoder.container.getWeights().map((w) => Array.from(w.dataSync())), straight.decoder.container.getWeights().map((w) => Array.from(w.dataSync())));
  const other = buildArDecoder(2, toyConfig);
  await assert.rejects(trainArDecoder(tokens, { mean, logVar }, { ...options, epochs: 1, init: other }), /other sizes/);
  for (const d of [base.decoder, zero.decoder, resumed.decoder, straight.decoder, other]) disposeArDecoder(d);
});

test("obeysGrammar: a drawing as RNAfold draws it passes; each rule catches its case", () => {
  // Loop of 5 (uppers A, C, A, A, C → closing mismatch C over A: not complementary), then G–C, G–C, an upper bulge A, C–G, end.
  const loop = [0, 1, 0, 0, 1];
  const mirrored = loop.map((u, x) => 7 + 4 * u + loop[loop.length - 1 - x]!);
  const ok = row([...mirrored, 3, 3, 23, 4]);
  assert.ok(obeysGrammar(ok));
  assert.ok(obeysGrammar(ok, { minLoop: 3, mismatch: "none", bulgeRegister: false }));
  // Closing mismatch U over A (column 4 upper U, column 0 upper A): Watson–Crick, loop 5 ≥ 3 + 2.
  const closing = [0, 1, 0, 0, 3];
  assert.equal(obeysGrammar(row([...closing.map((u, x) => 7 + 4 * u + closing[4 - x]!), 3, 3, 23, 4])), false);
  assert.ok(obeysGrammar(row([...closing.map((u, x) => 7 + 4 * u + closing[4 - x]!), 3, 3, 23, 4]), { minLoop: 3, mismatch: "none" }));
  // A one-nucleotide upper bulge G after a G–C pair: RNAfold draws the twin one column nearer the loop.
  assert.equal(obeysGrammar(row([...mirrored, 3, 3, 25, 4])), false);
  assert.ok(obeysGrammar(row([...mirrored, 3, 3, 25, 4]), { ...DEFAULT_DRAWING_GRAMMAR, bulgeRegister: false }));
  // A loop of 2, a column facing a gap in the loop, an end before any pair.
  assert.equal(obeysGrammar(row([7, 7, 3, 3])), false);
  assert.equal(obeysGrammar(row([7, 23, 7, 3])), false);
  assert.equal(obeysGrammar(row([7, 7, 7])), false);
});
