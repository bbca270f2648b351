/**
 * The conditional-VAE experiment's settings plumbing (lib/src/cvae/experiment.ts): where
 * generation settings come from (defaults labelled as such, a choice must say where it was made),
 * the grammar travels with them (none for the VAE's own decoder), and a development seed that is
 * a reported seed is refused before any work. The experiment itself runs in cvae_generate (ci).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_DRAWING_GRAMMAR } from "../lib/src/cvae/arDecoder";
import { chooseGenerationOnValidation, describeGrammar, resolveGeneration } from "../lib/src/cvae/experiment";

test("resolveGeneration: defaults labelled, a choice says where, the grammar only with the AR decoder", () => {
  const d = resolveGeneration("autoregressive");
  assert.equal(d.chosen, false);
  assert.match(d.chosenOn, /not yet chosen on validation/);
  assert.deepEqual(d.settings.grammar, DEFAULT_DRAWING_GRAMMAR);
  const c = resolveGeneration("autoregressive", { settings: { topP: 1, grammar: false }, chosenOn: "validation split, development seed 101" });
  assert.equal(c.chosen, true);
  assert.equal(c.settings.topP, 1);
  assert.equal(c.settings.grammar, false);
  assert.equal(c.settings.tokenTemperature, 1);
  assert.throws(() => resolveGeneration("autoregressive", { settings: {}, chosenOn: " " }), /where they were chosen/);
  assert.equal(resolveGeneration("columns").settings.grammar, false);
  assert.equal(resolveGeneration("columns", { settings: { grammar: DEFAULT_DRAWING_GRAMMAR }, chosenOn: "x" }).settings.grammar, false);
});

test("describeGrammar names what the grammar masks", () => {
  assert.equal(describeGrammar(false), "no grammar");
  assert.match(describeGrammar(DEFAULT_DRAWING_GRAMMAR), /loop ≥ 3 nt.*Watson–Crick or GU.*register/);
  assert.doesNotMatch(describeGrammar({ minLoop: 4, mismatch: "none", bulgeRegister: false }), /register/);
});

test("chooseGenerationOnValidation refuses a reported seed, another decoder and no validation split, before any work", async () => {
  const base = { seeds: [1, 2, 3], epochs: 1, outDir: "/nonexistent/never-written", classifierDir: null };
  await assert.rejects(chooseGenerationOnValidation(base, 2), /development seed 2 is one of the reported seeds/);
  await assert.rejects(chooseGenerationOnValidation({ ...base, decoder: "columns" }, 101), /autoregressive decoder/);
  await assert.rejects(chooseGenerationOnValidation({ ...base, data: { validation: false } }, 101), /validation split/);
  await assert.rejects(chooseGenerationOnValidation(base, 1.5), /must be an integer/);
});
