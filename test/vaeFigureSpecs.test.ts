/**
 * The figure specs of the VAE part (the last block of lib/src/figures/specs.ts): overlaid
 * histograms and requested-vs-achieved panels compile with Vega-Lite without warnings, carry
 * only what they draw, render, and refuse bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSpec, renderSvg } from "../lib/src/figures/render";
import { histogramsSpec, requestedAchievedSpec, VEGA_LITE_SCHEMA, VegaLiteSpec } from "../lib/src/figures/specs";

async function compilesCleanly(spec: VegaLiteSpec): Promise<void> {
  assert.equal(spec.$schema, VEGA_LITE_SCHEMA);
  const { warnings } = await compileSpec(JSON.parse(JSON.stringify(spec)));
  assert.deepEqual(warnings, []);
}

test("histogramsSpec: one panel per field, series normalised per bin, renders", async () => {
  const rows = [
    ...Array.from({ length: 50 }, (_, i) => ({ source: "generated", length: 60 + (i % 30), gc: 0.3 + (i % 10) / 30 })),
    ...Array.from({ length: 20 }, (_, i) => ({ source: "real", length: 70 + i, gc: 0.5, mfe: -30 - i })),
  ];
  const spec = histogramsSpec(rows, { fields: ["length", "gc", "mfe"], color: "source", titles: { gc: "GC content" } });
  await compilesCleanly(spec);
  const panels = spec.concat as { data: { values: { v: number; s: string }[] }; title: { text: string } }[];
  assert.equal(panels.length, 3);
  assert.equal(panels[1]!.title.text, "GC content");
  assert.equal(panels[2]!.data.values.length, 20, "rows without the field are left out of its panel");
  assert.deepEqual(Object.keys(panels[0]!.data.values[0]!), ["v", "s"]);
  const svg = await renderSvg(spec);
  assert.match(svg, /GC content/);
  assert.throws(() => histogramsSpec(rows, { fields: [], color: "source" }), RangeError);
  assert.throws(() => histogramsSpec(rows, { fields: ["nothing"], color: "source" }), /no finite values of "nothing"/);
});

test("requestedAchievedSpec: a panel per property with the diagonal, error bars, renders", async () => {
  const rows = [20, 25, 30].flatMap((r) => [1, 2].map((seed) => ({ property: "stem", requested: r, achieved: r - 1, sd: 2, seed })))
    .concat([{ property: "gc", requested: 0.4, achieved: 0.42, sd: 0.05, seed: 1 }]);
  const spec = requestedAchievedSpec(rows, { panel: "property", requested: "requested", achieved: "achieved", error: "sd", color: "seed" });
  await compilesCleanly(spec);
  assert.equal((spec.concat as unknown[]).length, 2);
  const svg = await renderSvg(spec);
  assert.match(svg, /requested stem/);
  assert.throws(() => requestedAchievedSpec([{ property: "x" }], { panel: "property", requested: "requested", achieved: "achieved" }), RangeError);
});
