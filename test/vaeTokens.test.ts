/**
 * The VAE's column vocabulary (lib/src/cvae/tokens.ts): tokens describe encoder drawings
 * exactly (bars from the pairing rules = the encoder's bars, on constructed hairpins and on
 * every single-stem dataset image), structured decoding of probabilities (end, mirrored loop),
 * one-hot images.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { imagesColumnsPath, readImagesColumns } from "../lib/src/hairpin/datasets";
import { rgbToOneHot } from "../lib/src/cvae/evaluate";
import { countHairpinLoops } from "../lib/src/cvae/sanity";
import { decodeHairpinImage, hairpinColumns, renderHairpinColumns } from "../lib/src/hairpin/image";
import {
  candidateDecodings,
  COLUMN_TOKENS,
  columnsFromStrings,
  columnsToTokens,
  columnToken,
  decodeTokenProbabilities,
  decodeTokensWithShape,
  END_TOKEN,
  isPairedToken,
  TOKEN_COLUMN_TABLE,
  tokenShape,
  tokensLogProbability,
  tokensToColumns,
  tokensToOneHot,
} from "../lib/src/cvae/tokens";
import { mulberry32 } from "../lib/src/random";
import { constructedHairpin } from "./vaeHelpers";

test("the vocabulary: 31 distinct column states, 6 of them canonical pairs", () => {
  assert.equal(COLUMN_TOKENS, 31);
  assert.equal(TOKEN_COLUMN_TABLE.length, 31);
  assert.equal(TOKEN_COLUMN_TABLE[END_TOKEN], null);
  const keys = new Set(TOKEN_COLUMN_TABLE.slice(1).map((c) => `${c!.upper}${c!.lower}${c!.paired}`));
  assert.equal(keys.size, 30);
  assert.deepEqual([...Array(31).keys()].filter(isPairedToken), [1, 2, 3, 4, 5, 6]);
  assert.equal(columnToken("G", "C", true), 3);
  assert.equal(columnToken("A", "C", true), null, "a paired A–C is not a drawing of a fold");
  assert.equal(columnToken("-", "-", false), null);
  assert.equal(columnToken("A", "-", false), 23);
});

test("constructed hairpins: tokens render the encoder's columns exactly and decode to the sequence", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const h = constructedHairpin(seed, 15 + (seed % 20));
    const columns = hairpinColumns(h.sequence, h.structure);
    const tokens = columnsToTokens(columns);
    assert.ok(tokens, `hairpin ${seed} is representable`);
    assert.equal(tokens.length, 100);
    assert.deepEqual(tokensToColumns(tokens), columns);
    assert.equal(decodeHairpinImage(renderHairpinColumns(tokensToColumns(tokens))).sequence, h.sequence);
  }
});

test("columnsToTokens refuses bars the pairing rules do not give", () => {
  const h = constructedHairpin(3);
  const columns = hairpinColumns(h.sequence, h.structure);
  const changed = columns.map((c, x) => (x === 5 ? { ...c, upperLength: c.upperLength + 1 } : c));
  assert.equal(columnsToTokens(changed), null);
  assert.throws(() => tokensToColumns([3, 31]), (e: unknown) => e instanceof InputError && /column 1: token 31/.test(e.message));
});

test("every single-stem dataset image whose drawing is an exact encoding is representable (bars agree with the encoder)", (t) => {
  const skip = missingData(imagesColumnsPath());
  if (skip) return t.skip(skip);
  let checked = 0;
  for (const r of readImagesColumns()) {
    if (!r.roundtripExact || countHairpinLoops(r.structure) !== 1) continue;
    const columns = columnsFromStrings(r.top, r.bot, r.topLen, r.botLen);
    const tokens = columnsToTokens(columns);
    assert.ok(tokens, `${r.dataset} ${r.index} is representable`);
    checked++;
  }
  assert.ok(checked > 18000, `checked ${checked}`);
});

/** Probabilities that put `p` on the given token of each column (end elsewhere), the rest spread evenly. */
function peaked(tokens: number[], p = 0.9): Float32Array {
  const out = new Float32Array(100 * 31).fill((1 - p) / 30);
  for (let x = 0; x < 100; x++) out[x * 31 + (tokens[x] ?? END_TOKEN)] = p;
  return out;
}

test("decodeTokenProbabilities: most likely tokens, stops at the first end, loop chosen jointly and mirrored", () => {
  const h = constructedHairpin(11);
  const tokens = Array.from(columnsToTokens(hairpinColumns(h.sequence, h.structure))!);
  const decoded = decodeTokenProbabilities(peaked(tokens));
  assert.deepEqual(Array.from(decoded), tokens);
  // A loop whose halves disagree: column 0 says upper A / lower G, column 2 (its mirror) says upper C / lower U.
  // The 3-column loop's nucleotides are chosen jointly: k = 0 from column 0's upper and column 2's lower, etc.
  const loopy = [7 + 4 * 0 + 2, 7 + 4 * 1 + 1, 7 + 4 * 1 + 3, 3, 3, 3, END_TOKEN];
  const probabilities = peaked(loopy);
  const out = decodeTokenProbabilities(probabilities);
  const loop = Array.from(out.slice(0, 3)).map((t) => TOKEN_COLUMN_TABLE[t]!);
  for (let x = 0; x < 3; x++) assert.equal(loop[x]!.lower, loop[2 - x]!.upper, "loop mirrored");
  assert.deepEqual(Array.from(out.slice(3, 7)), [3, 3, 3, 0]);
  // Sampling at a temperature is seeded.
  const a = decodeTokenProbabilities(probabilities, { temperature: 1, random: mulberry32(4) });
  const b = decodeTokenProbabilities(probabilities, { temperature: 1, random: mulberry32(4) });
  assert.deepEqual(a, b);
  assert.throws(() => decodeTokenProbabilities(probabilities, { temperature: 1 }), InputError);
  assert.throws(() => decodeTokenProbabilities(new Float32Array(10)), InputError);
});

test("tokensToOneHot draws what the RGB image shows: shape=(n, 25, 100, 5)", () => {
  const rows = [1, 2].map((s) => columnsToTokens(hairpinColumns(constructedHairpin(s).sequence, constructedHairpin(s).structure))!);
  const tokens = new Uint8Array(200);
  rows.forEach((r, i) => tokens.set(r, i * 100));
  const oneHot = tokensToOneHot(tokens, 2);
  assert.equal(oneHot.length, 2 * 25 * 100 * 5);
  const rgb = new Uint8Array(2 * 7500);
  rows.forEach((r, i) => rgb.set(renderHairpinColumns(tokensToColumns(r)).data, i * 7500));
  assert.deepEqual(oneHot, rgbToOneHot(rgb));
  assert.throws(() => tokensToOneHot(tokens, 3), InputError);
});

test("decodeTokensWithShape, tokenShape, candidateDecodings: forced length and loop, ranked alternatives", () => {
  const h = constructedHairpin(21);
  const tokens = Array.from(columnsToTokens(hairpinColumns(h.sequence, h.structure))!);
  const probabilities = peaked(tokens, 0.6);
  const shape = tokenShape(tokens);
  assert.deepEqual(Array.from(decodeTokensWithShape(probabilities, shape.length, shape.loop)), tokens);
  const shorter = decodeTokensWithShape(probabilities, shape.length - 2, shape.loop);
  assert.deepEqual(tokenShape(shorter), { length: shape.length - 2, loop: shape.loop });
  const widerLoop = decodeTokensWithShape(probabilities, shape.length, shape.loop + 1);
  assert.equal(tokenShape(widerLoop).loop, shape.loop + 1);
  for (let x = 0; x <= shape.loop; x++) assert.equal(TOKEN_COLUMN_TABLE[widerLoop[x]!]!.lower, TOKEN_COLUMN_TABLE[widerLoop[shape.loop - x]!]!.upper, "loop mirrored");
  assert.throws(() => decodeTokensWithShape(probabilities, 0, 0), InputError);
  const candidates = candidateDecodings(probabilities, { max: 12, sampled: 4, temperature: 0.5, random: mulberry32(1) });
  assert.equal(candidates.length, 12);
  assert.deepEqual(Array.from(candidates[0]!), tokens, "the structured decoding first");
  assert.equal(new Set(candidates.map((c) => c.join())).size, 12, "no duplicates");
  const scores = candidates.slice(1).map((c) => tokensLogProbability(probabilities, c));
  for (let k = 1; k < scores.length; k++) assert.ok(scores[k]! <= scores[k - 1]!, "ranked by log-probability");
  assert.ok(tokensLogProbability(probabilities, tokens) >= scores[0]!);
  assert.throws(() => candidateDecodings(probabilities, { max: 3, sampled: 2 }), InputError);
});
