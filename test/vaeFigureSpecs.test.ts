/**
 * The figure specs of the VAE part (the last block of lib/src/figures/specs.ts, and the
 * heat map's row height): overlaid histograms (raw or pre-binned), requested-vs-achieved panels
 * and the comparison scatter compile with Vega-Lite without warnings, carry only what they
 * draw, render, and refuse bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSpec, renderSvg } from "../lib/src/figures/render";
import { requestedAchievedSpec } from "../lib/src/figures/cvae";
import { binnedHistogramsSpec, comparisonScatterSpec, heatmapSpec, histogramsSpec, VEGA_LITE_SCHEMA, VegaLiteSpec } from "../lib/src/figures/specs";

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
  assert.equal((spec.concat as { title: { frame: string } }[])[1]!.title.frame, "group", "panel titles over the plot area, so they line up");
  const svg = await renderSvg(spec);
  assert.match(svg, /requested stem/);
  assert.throws(() => requestedAchievedSpec([{ property: "x" }], { panel: "property", requested: "requested", achieved: "achieved" }), RangeError);
});

test("binnedHistogramsSpec: pre-binned panels, one colour per series, titles over the plot area, renders; bad input refused", async () => {
  const panels = [
    { title: "length (nt)", subtitle: "JSD 0.120", bins: [{ from: 60, to: 70, fractions: { generated: 0.6, real: 0.2 } }, { from: 70, to: 80, fractions: { generated: 0.4, real: 0.8 } }] },
    { title: "GC content", bins: [{ from: 0.3, to: 0.5, fractions: { generated: 1, real: 1 } }] },
  ];
  const spec = binnedHistogramsSpec(panels, { series: ["generated", "real"], title: "generated vs real" });
  await compilesCleanly(spec);
  const concat = spec.concat as { data: { values: Record<string, unknown>[] }; title: { text: string; frame: string; subtitle?: string } }[];
  assert.equal(concat.length, 2);
  assert.equal(concat[0]!.data.values.length, 4, "one row per bin and series");
  assert.deepEqual(Object.keys(concat[0]!.data.values[0]!), ["b0", "b1", "f", "s"]);
  assert.equal(concat[1]!.title.frame, "group");
  assert.equal(concat[0]!.title.subtitle, "JSD 0.120");
  const svg = await renderSvg(spec);
  assert.match(svg, /GC content/);
  assert.match(svg, /JSD 0\.120/);
  assert.throws(() => binnedHistogramsSpec([], { series: ["a"] }), RangeError);
  assert.throws(() => binnedHistogramsSpec([{ title: "x", bins: [{ from: 0, to: 1, fractions: { a: 1 } }] }], { series: ["a", "b"] }), /no fraction for "b"/);
});

test("comparisonScatterSpec: the diagonal, the farthest points labelled, renders", async () => {
  const rows = ["AAA", "AAC", "AAG", "AAU"].map((label, i) => ({ label, x: 0.01 * (i + 1), y: i === 2 ? 0.1 : 0.01 * (i + 1) }));
  const spec = comparisonScatterSpec(rows, { xTitle: "real", yTitle: "generated", labelTop: 1 });
  await compilesCleanly(spec);
  const text = (spec.layer as { data: { values: { t?: string }[] } }[])[2]!.data.values.map((v) => v.t);
  assert.deepEqual(text, ["", "", "AAG", ""], "only the point farthest from the diagonal is labelled");
  assert.match(await renderSvg(spec), /AAG/);
  assert.throws(() => comparisonScatterSpec([{ label: "x", x: NaN, y: 1 }], { xTitle: "a", yTitle: "b" }), RangeError);
});

test("heatmapSpec: cellHeight makes rows taller than columns are wide, and every row gets its label", async () => {
  const rows = ["stem", "loop", "gc", "length"];
  const spec = heatmapSpec({ values: Array.from({ length: 4 * 300 }, (_, i) => (i % 7) / 7), rows: 4, cols: 300, rowLabels: rows }, { cellSize: 3, cellHeight: 18 });
  assert.equal(spec.width, 900);
  assert.equal(spec.height, 72);
  const y = (spec.encoding as { y: { axis: Record<string, unknown> } }).y.axis;
  assert.equal(y.values, undefined, "every row labelled");
  assert.equal(y.labelFontSize, 11);
  const svg = await renderSvg(spec);
  for (const r of rows) assert.match(svg, new RegExp(`>${r}<`), r);
  assert.throws(() => heatmapSpec({ values: [1], rows: 1, cols: 1 }, { cellHeight: 0 }), RangeError);
});
