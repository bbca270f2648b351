import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  barSpec,
  boxPlotSpec,
  concatSpecs,
  differenceSpec,
  dotPlotSpec,
  downsampleCurve,
  heatmapSpec,
  linePanelsSpec,
  lineSpec,
  prCurveSpec,
  rocCurveSpec,
  VEGA_LITE_SCHEMA,
  type VegaLiteSpec,
} from "../lib/src/figures/specs";
import { attributionMatrixSpec, positionProfileSpec, seedMatchSharesSpec } from "../lib/src/figures/binding";
import { compileSpec, loadVega, rasterizeSvg, renderPng, renderSvg, saveFigure } from "../lib/src/figures/render";
import {
  emitDisplay,
  figureBundle,
  formatCell,
  imageBundle,
  insideTslab,
  markdownBundle,
  pngSize,
  showFigure,
  showImage,
  showMarkdown,
  showTable,
  tableBundle,
  VEGA_LITE_MIME,
} from "../lib/src/figures/display";

/** Seeded uniform [0, 1) generator (LCG), so every run sees the same data. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** An empirical ROC curve of n scored samples (10 % positives), as a metrics module would give. */
function syntheticRoc(n: number, separation: number, seed: number) {
  const u = uniform(seed);
  const samples: { score: number; positive: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const positive = u() < 0.1;
    const gaussian = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    samples.push({ score: gaussian + (positive ? separation : 0), positive });
  }
  samples.sort((a, b) => b.score - a.score);
  const positives = samples.filter((s) => s.positive).length;
  const negatives = n - positives;
  const fpr = new Float64Array(n + 1), tpr = new Float64Array(n + 1);
  const recall = new Float64Array(n), precision = new Float64Array(n);
  let tp = 0, fp = 0, auc = 0;
  samples.forEach((s, i) => {
    if (s.positive) tp++;
    else fp++;
    fpr[i + 1] = fp / negatives;
    tpr[i + 1] = tp / positives;
    auc += (fpr[i + 1]! - fpr[i]!) * (tpr[i + 1]! + tpr[i]!) / 2;
    recall[i] = tp / positives;
    precision[i] = tp / (tp + fp);
  });
  return { fpr, tpr, recall, precision, auc, prevalence: positives / n };
}

const rocA = syntheticRoc(100_000, 1.5, 1);
const rocB = syntheticRoc(20_000, 0.7, 2);

/** Compiles with vega-lite and fails on any warning (vega-lite drops what it does not understand). */
async function assertCompilesCleanly(spec: VegaLiteSpec): Promise<void> {
  assert.equal(spec.$schema, VEGA_LITE_SCHEMA);
  JSON.parse(JSON.stringify(spec)); // serialisable
  const { vega, warnings } = await compileSpec(spec);
  assert.deepEqual(warnings, []);
  assert.ok(vega && typeof vega === "object");
}

/** The data rows of every layer (and nested layer) of a spec. */
function layerValues(spec: VegaLiteSpec): Record<string, unknown>[][] {
  const out: Record<string, unknown>[][] = [];
  const visit = (s: Record<string, unknown>) => {
    const data = s.data as { values?: Record<string, unknown>[] } | undefined;
    if (data?.values) out.push(data.values);
    for (const child of (s.layer as Record<string, unknown>[] | undefined) ?? []) visit(child);
  };
  visit(spec);
  return out;
}

/** Fraction of pixels that are not (near) white in RGBA bytes. */
function inkFraction(pixels: Buffer): number {
  let ink = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i]! < 200 || pixels[i + 1]! < 200 || pixels[i + 2]! < 200) ink++;
  }
  return ink / (pixels.length / 4);
}

// -------------------------------------------------------------------------------------------
// Downsampling
// -------------------------------------------------------------------------------------------

test("downsampleCurve bounds the points, keeps both ends and keeps original points in order", () => {
  const d = downsampleCurve(rocA.fpr, rocA.tpr, 1000);
  assert.ok(d.x.length <= 1000 && d.x.length >= 900, `kept ${d.x.length}`);
  assert.equal(d.indices[0], 0);
  assert.equal(d.indices.at(-1), rocA.fpr.length - 1);
  assert.deepEqual([d.x[0], d.y[0]], [0, 0]);
  assert.deepEqual([d.x.at(-1), d.y.at(-1)], [1, 1]);
  for (let j = 1; j < d.indices.length; j++) assert.ok(d.indices[j]! > d.indices[j - 1]!);
  d.indices.forEach((i, j) => assert.deepEqual([d.x[j], d.y[j]], [rocA.fpr[i], rocA.tpr[i]]));
  for (const m of [2, 3, 10, 999]) assert.ok(downsampleCurve(rocA.fpr, rocA.tpr, m).x.length <= m);
});

test("downsampleCurve keeps the shape where points are unevenly spread along the curve", () => {
  // 99,000 points crowd the first 1 % of the curve; 1,000 spread over the rest. Thinning by
  // index would leave ~10 points for 99 % of the curve.
  const n = 100_000;
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const xi = i < 99_000 ? (0.01 * i) / 99_000 : 0.01 + (0.99 * (i - 99_000)) / 999;
    x[i] = xi;
    y[i] = Math.sqrt(xi) + 0.05 * Math.sin(40 * xi);
  }
  const d = downsampleCurve(x, y, 500);
  // Every original point lies close to the kept points that bracket it.
  let worst = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    while (d.indices[k + 1]! < i) k++; // the last index is n - 1: k + 1 stays in range
    const a = d.indices[k]!, b = d.indices[Math.min(k + 1, d.indices.length - 1)]!;
    const dist = Math.min(Math.hypot(x[i]! - x[a]!, y[i]! - y[a]!), Math.hypot(x[i]! - x[b]!, y[i]! - y[b]!));
    worst = Math.max(worst, dist);
  }
  assert.ok(worst < 0.01, `worst distance to a kept neighbour ${worst}`);
});

test("downsampleCurve returns short curves whole and rejects bad input with a clear message", () => {
  assert.deepEqual(downsampleCurve([0, 0.5, 1], [0, 0.7, 1], 1000), { x: [0, 0.5, 1], y: [0, 0.7, 1], indices: [0, 1, 2] });
  assert.deepEqual(downsampleCurve(new Array(5000).fill(0.5), new Array(5000).fill(0.5), 10).indices, [0, 4999]);
  assert.throws(() => downsampleCurve([0, 1], [0], 10, "modelX"), /modelX: x has 2 points but y has 1/);
  assert.throws(() => downsampleCurve([0, NaN, 1], [0, 1, 1], 10, "modelX"), /modelX: point 1 is not finite/);
  assert.throws(() => downsampleCurve([0, 1], [0, 1], 1), /maxPoints must be an integer >= 2/);
});

// -------------------------------------------------------------------------------------------
// Spec builders
// -------------------------------------------------------------------------------------------

test("rocCurveSpec: valid spec, AUC in the legend, every curve thinned to <= 1,000 points", async () => {
  const spec = rocCurveSpec([
    { name: "arch_00b", fpr: rocA.fpr, tpr: rocA.tpr, auc: rocA.auc },
    { name: "small CNN", fpr: rocB.fpr, tpr: rocB.tpr },
  ]);
  await assertCompilesCleanly(spec);
  // One columnar row per curve, flattened by the spec into points.
  const rows = layerValues(spec).find((v) => v.some((r) => Array.isArray(r.fpr)))!;
  const byModel = new Map<unknown, number>();
  for (const r of rows) byModel.set(r.model, (r.fpr as number[]).length);
  const labelA = `arch_00b (AUC ${rocA.auc.toFixed(3)})`;
  assert.deepEqual([...byModel.keys()], [labelA, "small CNN"]);
  for (const count of byModel.values()) assert.ok(count <= 500 && count > 250, `${count} points`);
  assert.ok(JSON.stringify(spec).length < 40_000, `spec stays small (${JSON.stringify(spec).length} bytes)`);
  assert.throws(() => rocCurveSpec([]), /no curves/);
  assert.throws(
    () => rocCurveSpec([{ name: "m", fpr: [0, 1], tpr: [0, 1] }, { name: "m", fpr: [0, 1], tpr: [0, 1] }]),
    /two curves are labelled "m"/,
  );
});

test("prCurveSpec: baseline at the prevalence (one grey line, one per model, or none)", async () => {
  const curve = (name: string, prevalence?: number, ap?: number) => ({
    name, recall: rocA.recall, precision: rocA.precision, prevalence, ap,
  });
  const shared = prCurveSpec([curve("a", 0.1, 0.61234), curve("b", 0.1)]);
  await assertCompilesCleanly(shared);
  const baselines = layerValues(shared).filter((v) => v.some((r) => "prevalence" in r));
  assert.deepEqual(baselines, [[{ prevalence: 0.1, label: "chance level (prevalence 0.100)" }]]);
  assert.ok(layerValues(shared).some((v) => v.some((r) => r.model === "a (AP 0.612)")));

  const separate = prCurveSpec([curve("a", 0.1), curve("b", 0.2)]);
  await assertCompilesCleanly(separate);
  assert.deepEqual(
    layerValues(separate).filter((v) => v.some((r) => "prevalence" in r)),
    [[{ model: "a", prevalence: 0.1 }, { model: "b", prevalence: 0.2 }]],
  );

  const none = prCurveSpec([curve("a")]);
  await assertCompilesCleanly(none);
  assert.equal(layerValues(none).filter((v) => v.some((r) => "prevalence" in r)).length, 0);
  assert.throws(() => prCurveSpec([curve("a", 1.5)]), /prevalence must be in \[0, 1\]/);
});

test("barSpec and lineSpec: valid specs; a missing field names the row and field", async () => {
  const metrics = [
    { model: "arch_00b", metric: "AUC", value: 0.91, extra: "dropped" },
    { model: "arch_00b", metric: "AP", value: 0.6, extra: "dropped" },
    { model: "small", metric: "AUC", value: 0.8, extra: "dropped" },
    { model: "small", metric: "AP", value: 0.4, extra: "dropped" },
  ];
  const grouped = barSpec(metrics, { x: "metric", y: "value", color: "model", title: "Test metrics", yDomain: [0, 1] });
  await assertCompilesCleanly(grouped);
  assert.deepEqual((grouped.data as { values: unknown[] }).values[0], { metric: "AUC", value: 0.91, model: "arch_00b" });
  const barTooltip = ((grouped.layer as VegaLiteSpec[])[0]!.encoding as { tooltip: { field: string; format?: string }[] }).tooltip;
  assert.deepEqual(barTooltip.map((t) => [t.field, t.format]), [["metric", undefined], ["model", undefined], ["value", ".3f"]], "hovering a bar names it and gives its value");
  await assertCompilesCleanly(barSpec(metrics.slice(0, 2), { x: "metric", y: "value", labelFormat: "" }));
  assert.throws(() => barSpec([{ a: 1 }, { b: 2 }], { x: "a", y: "b" }), /row 1 has no field "a" \(it has: b\)/);
  assert.throws(() => barSpec([], { x: "a", y: "b" }), /no rows/);

  const history = Array.from({ length: 30 }, (_, e) => ({ epoch: e + 1, loss: 1 / (e + 1), valLoss: 1.2 / (e + 1) }));
  await assertCompilesCleanly(lineSpec(history, { x: "epoch", y: ["loss", "valLoss"], logY: true }));
  await assertCompilesCleanly(lineSpec(history, { x: "epoch", y: "loss" }));
  const xAxis = (spec: VegaLiteSpec) => (spec.encoding as Record<string, { axis?: unknown }>).x!.axis;
  assert.deepEqual(xAxis(lineSpec(history, { x: "epoch", y: "loss" })), { tickMinStep: 1, format: "d" }, "whole epochs: whole-number ticks");
  assert.equal(xAxis(lineSpec([{ t: 0.5, v: 1 }, { t: 1, v: 2 }], { x: "t", y: "v" })), undefined);
  const long = history.flatMap((r) => [
    { epoch: r.epoch, auc: 1 - r.loss / 2, split: "train" },
    { epoch: r.epoch, auc: 1 - r.valLoss / 2, split: "validation" },
  ]);
  await assertCompilesCleanly(lineSpec(long, { x: "epoch", y: "auc", color: "split", yTitle: "AUC" }));
  assert.throws(() => lineSpec(long, { x: "epoch", y: ["auc", "loss"], color: "split" }), /not both/);
});

test("heatmapSpec: one cell per value, labels by index so repeats survive", async () => {
  const values = Float32Array.from({ length: 50 * 20 }, (_, i) => (i % 7 === 0 ? 1 : 0));
  const rowLabels = Array.from({ length: 50 }, (_, i) => "ACGT"[i % 4]!);
  const colLabels = Array.from({ length: 20 }, (_, i) => "ACGT"[(i * 3) % 4]!);
  const spec = heatmapSpec({ values, rows: 50, cols: 20, rowLabels, colLabels });
  await assertCompilesCleanly(spec);
  const cells = await heatmapCells(spec);
  assert.equal(cells.length, 1000);
  assert.deepEqual(cells[21], { r: 1, c: 1, v: 1, rl: "C", cl: "T" });
  const axisY = (spec.encoding as { y: { axis: { labelExpr: string } } }).y.axis;
  assert.ok(axisY.labelExpr.startsWith('["A","C","G","T","A"'));

  const withNaN = heatmapSpec({ values: [1, NaN, 3, 4], rows: 2, cols: 2 });
  await assertCompilesCleanly(withNaN);
  // The NaN cell is left blank: no rect is drawn for it.
  assert.deepEqual((await heatmapCells(withNaN)).map((cell) => [cell.r, cell.c, cell.v]), [[0, 0, 1], [1, 0, 3], [1, 1, 4]]);
  assert.throws(() => heatmapSpec({ values: [1, 2, 3], rows: 2, cols: 2 }), /2 x 2 matrix needs 4 values, got 3/);
  assert.throws(() => heatmapSpec({ values: [1, 2], rows: 1, cols: 2, colLabels: ["a"] }), /1 column labels for 2 columns/);
});

// -------------------------------------------------------------------------------------------
// Rendering
// -------------------------------------------------------------------------------------------

const rocSpec = rocCurveSpec([
  { name: "arch_00b", fpr: rocA.fpr, tpr: rocA.tpr, auc: rocA.auc },
  { name: "small CNN", fpr: rocB.fpr, tpr: rocB.tpr, auc: rocB.auc },
]);

test("renderSvg draws axis titles, legend labels and the lines", async () => {
  const svg = await renderSvg(rocSpec);
  assert.match(svg, /^<svg/);
  for (const text of ["False positive rate", "True positive rate", "ROC curve", `arch_00b (AUC ${rocA.auc.toFixed(3)})`]) {
    assert.ok(svg.includes(`>${text}</text>`), `missing text "${text}"`);
  }
  assert.ok((svg.match(/<path/g) ?? []).length >= 3);
  const heat = await renderSvg(heatmapSpec({ values: [0, 1, 1, 0], rows: 2, cols: 2 }));
  assert.ok(heat.includes(">miRNA nucleotide</text>") && heat.includes(">Target site nucleotide</text>"));
});

test("renderPng gives a PNG at twice the SVG size, with ink but mostly white", async () => {
  const svg = await renderSvg(rocSpec);
  const svgWidth = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
  const svgHeight = Number(/height="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
  const png = await renderPng(rocSpec);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const size = pngSize(png);
  assert.deepEqual(size, { width: Math.ceil(svgWidth * 2), height: Math.ceil(svgHeight * 2) });
  assert.ok(size.width > 600 && size.height > 600, `${size.width} x ${size.height}`);
  assert.ok(png.length > 20_000, `${png.length} bytes`);
  const ink = inkFraction(rasterizeSvg(svg, { scale: 1 }).pixels);
  assert.ok(ink > 0.02 && ink < 0.5, `ink fraction ${ink}`);
  assert.deepEqual(pngSize(await renderPng(rocSpec, { scale: 1 })), { width: Math.ceil(svgWidth), height: Math.ceil(svgHeight) });
});

test("renderPng draws text with the system fonts", async () => {
  const textOnly: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    background: "white",
    width: 200,
    height: 60,
    data: { values: [{ t: "miRNA" }] },
    mark: { type: "text", fontSize: 40, font: "DejaVu Sans, sans-serif" },
    encoding: { text: { field: "t" } },
    config: { view: { stroke: null } },
  };
  const raster = rasterizeSvg(await renderSvg(textOnly), { scale: 1 });
  assert.ok(inkFraction(raster.pixels) > 0.03, "no glyphs drawn: are system fonts (fonts-dejavu-core) installed?");
});

// -------------------------------------------------------------------------------------------
// Notebook bundles
// -------------------------------------------------------------------------------------------

test("the MIME type of figures and the $schema of specs name the same Vega-Lite version (5: what JupyterLab 4 renders)", async () => {
  // JupyterLab 4 draws Vega-Lite only under v3/v4/v5 MIME types, with Vega-Lite 5.
  assert.equal(VEGA_LITE_MIME, "application/vnd.vegalite.v5+json");
  assert.equal(VEGA_LITE_SCHEMA, "https://vega.github.io/schema/vega-lite/v5.json");
  const mimeVersion = /^application\/vnd\.vegalite\.v(\d+)\+json$/.exec(VEGA_LITE_MIME)?.[1];
  const schemaVersion = /\/vega-lite\/v(\d+)(?:\.\d+)*\.json$/.exec(VEGA_LITE_SCHEMA)?.[1];
  assert.ok(mimeVersion !== undefined && mimeVersion === schemaVersion, `MIME v${mimeVersion} vs $schema v${schemaVersion}`);
  // Every builder declares it, and Vega-Lite 5 (our renderer, as JupyterLab's) compiles the specs without a warning.
  const rows = [{ k: "a", v: 1, s: "x" }, { k: "b", v: 2, s: "y" }];
  const specs: VegaLiteSpec[] = [
    rocCurveSpec([{ name: "m", fpr: rocA.fpr, tpr: rocA.tpr, auc: rocA.auc }]),
    prCurveSpec([{ name: "m", recall: rocA.recall, precision: rocA.precision, prevalence: rocA.prevalence }]),
    barSpec(rows, { x: "k", y: "v", color: "s" }),
    lineSpec(rows.map((r, i) => ({ epoch: i + 1, loss: r.v })), { x: "epoch", y: "loss" }),
    heatmapSpec({ values: Float32Array.from([0, 1, 2, 3]), rows: 2, cols: 2 }),
  ];
  specs.push(concatSpecs(specs.slice(2, 4)));
  for (const spec of specs) await assertCompilesCleanly(spec);
  const shown = await showFigure(specs[2]!, { scale: 1 });
  assert.equal((shown?.data[VEGA_LITE_MIME] as VegaLiteSpec).$schema, VEGA_LITE_SCHEMA, "the bundle carries the v5 spec");
});

test("figureBundle carries the Vega-Lite spec and a PNG shown at CSS size", async () => {
  const svg = await renderSvg(rocSpec);
  const raster = rasterizeSvg(svg, { scale: 2 });
  const bundle = figureBundle(rocSpec, raster, 2);
  assert.deepEqual(Object.keys(bundle.data).sort(), [VEGA_LITE_MIME, "image/png", "text/plain"].sort());
  assert.equal(bundle.data[VEGA_LITE_MIME], rocSpec);
  const png = Buffer.from(bundle.data["image/png"] as string, "base64");
  assert.deepEqual(pngSize(png), { width: raster.width, height: raster.height });
  assert.deepEqual(bundle.metadata, { "image/png": { width: raster.width / 2, height: raster.height / 2 } });
  assert.match(bundle.data["text/plain"] as string, /^<Figure "ROC curve": Vega-Lite, \d+ x \d+ px>$/);
  JSON.stringify(bundle); // a Jupyter message must be JSON
});

test("tableBundle: escaped HTML with right-aligned numbers, and an aligned text table", () => {
  const rows = [
    { model: "arch_00b <TS>", auc: 0.912345, n: 1200, p: 0.0000123 },
    { model: "small", auc: 0.8, n: 98, p: null },
  ];
  const { data } = tableBundle(rows, { digits: 3, caption: "Test set" });
  const html = data["text/html"] as string;
  assert.ok(html.includes("<td>arch_00b &lt;TS&gt;</td>"));
  assert.ok(html.includes('<td style="text-align: right">0.912</td>'));
  assert.ok(html.includes('<td style="text-align: right">1200</td>'));
  assert.ok(html.includes('<td style="text-align: right">0.0000123</td>'));
  assert.ok(html.includes("<caption>Test set</caption>"));
  assert.equal(
    data["text/plain"],
    [
      "Test set",
      "model            auc     n          p",
      "-------------  -----  ----  ---------",
      "arch_00b <TS>  0.912  1200  0.0000123",
      "small          0.800    98",
    ].join("\n"),
  );
  const picked = tableBundle(rows, { columns: ["auc"], maxRows: 1 });
  assert.equal(picked.data["text/plain"], "  auc\n-----\n0.912\n… 1 more row (2 in all)");
  assert.equal(formatCell(2.5, 1), "2.5");
  assert.equal(formatCell(Number.NaN), "NaN");
});

test("outside tslab nothing is sent and the bundles are returned", async () => {
  assert.equal(insideTslab(), false);
  assert.equal(emitDisplay({ data: { "text/plain": "x" }, metadata: {} }), false);
  assert.equal(showTable([{ a: 1 }])?.data["text/plain"], "a\n-\n1");
  assert.deepEqual(showMarkdown("**a** 1")?.data, { "text/markdown": "**a** 1", "text/plain": "**a** 1" });
  const shown = await showFigure(heatmapSpec({ values: [0, 1], rows: 1, cols: 2 }));
  assert.deepEqual(Object.keys(shown?.data ?? {}).sort(), [VEGA_LITE_MIME, "image/png", "text/plain"].sort());
  assert.equal(showImage(await renderPng(heatmapSpec({ values: [1], rows: 1, cols: 1 })))?.metadata["image/png"] !== undefined, true);
  const png = await renderPng(heatmapSpec({ values: [0, 1], rows: 1, cols: 2 }), { scale: 2 });
  const image = imageBundle(png, { scale: 2 });
  const { width, height } = pngSize(png);
  assert.deepEqual(image.metadata, { "image/png": { width: width / 2, height: height / 2 } });
  assert.equal(image.data["text/plain"], `<PNG image ${width} x ${height}>`);
  assert.throws(() => imageBundle(Buffer.from("GIF89a not a png at all....")), /not a PNG/);
});

test("saveFigure writes every format atomically and leaves no temporary files", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mirna-dl-plots-"));
  try {
    const base = path.join(dir, "figures", "roc");
    const written = await saveFigure(rocSpec, base, ["svg", "png", "json"]);
    assert.deepEqual(written, [base + ".svg", base + ".png", base + ".vl.json"]);
    assert.deepEqual((await readdir(path.join(dir, "figures"))).sort(), ["roc.png", "roc.svg", "roc.vl.json"]);
    assert.match(await readFile(base + ".svg", "utf8"), /False positive rate/);
    assert.ok(pngSize(await readFile(base + ".png")).width > 600);
    assert.deepEqual(JSON.parse(await readFile(base + ".vl.json", "utf8")), JSON.parse(JSON.stringify(rocSpec)));
    // Default formats; overwriting an existing figure works.
    assert.deepEqual(await saveFigure(rocSpec, base), [base + ".svg", base + ".png"]);
    assert.equal((await readdir(path.join(dir, "figures"))).length, 3);
    await assert.rejects(saveFigure(rocSpec, base, ["pdf" as "svg"]), /unknown format "pdf"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("concatSpecs: panels side by side, wrapped into rows, that render", async () => {
  const a = heatmapSpec({ values: [0, 1, 2, 3], rows: 2, cols: 2 }, { title: "ours" });
  const b = heatmapSpec({ values: [3, 2, 1, 0], rows: 2, cols: 2 }, { title: "theirs" });
  const spec = concatSpecs([a, b, a], { columns: 2, title: "two by two" });
  assert.equal(spec.$schema, VEGA_LITE_SCHEMA);
  assert.equal(spec.columns, 2);
  const panels = spec.concat as VegaLiteSpec[];
  assert.equal(panels.length, 3);
  assert.equal(panels[1]!.title, "theirs");
  assert.ok(panels.every((p) => p.$schema === undefined && p.config === undefined), "panels carry no top-level properties");
  assert.deepEqual(spec.resolve, { scale: { color: "independent" } });
  const svg = await renderSvg(spec);
  assert.ok(svg.includes("ours") && svg.includes("theirs") && svg.includes("two by two"));
  assert.deepEqual((concatSpecs([a], { sharedColor: true }).resolve as Record<string, unknown>), { scale: { color: "shared" } });
  assert.throws(() => concatSpecs([]), /no figures/);
});

/** The cells a heatmap spec expands to (the rows its rect marks are drawn from), via the Vega runtime. */
async function heatmapCells(spec: VegaLiteSpec): Promise<{ r: number; c: number; v: number | null; rl: string; cl: string }[]> {
  const { vega } = await loadVega();
  const compiled = await compileSpec(spec);
  const view = new vega.View(vega.parse(compiled.vega as never), { renderer: "none" }) as unknown as {
    runAsync(): Promise<unknown>; data(name: string): unknown; finalize(): void;
  };
  await view.runAsync();
  const rows = view.data("data_0") as Record<string, unknown>[];
  view.finalize();
  return rows.map((row) => ({ r: row.r as number, c: row.c as number, v: row.v as number | null, rl: row.rl as string, cl: row.cl as string }));
}

// -------------------------------------------------------------------------------------------
// Figure polish: dot plots, zoomed curves, error bars, horizontal bars, sparse heatmap ticks
// -------------------------------------------------------------------------------------------

/** The layers of a spec, nested ones included. */
function allLayers(spec: VegaLiteSpec): VegaLiteSpec[] {
  const out: VegaLiteSpec[] = [];
  const visit = (s: VegaLiteSpec) => {
    out.push(s);
    for (const key of ["layer", "hconcat", "concat"]) for (const child of (s[key] as VegaLiteSpec[] | undefined) ?? []) visit(child);
  };
  visit(spec);
  return out;
}

/** The layer of a dot plot that draws the (on-axis) dots. */
function dotsLayer(spec: VegaLiteSpec): VegaLiteSpec {
  return (spec.layer as VegaLiteSpec[]).find((l) => (l.mark as { filled?: boolean; type?: string }).filled === true && (l.mark as { type: string }).type === "point")!;
}

const aucRows = [
  { model: "standard_100k_ratio10", "test set": "scan", auc: 0.9843, sd: null, ref: 0.9853 },
  { model: "standard_100k_ratio10", "test set": "miRNA-neg", auc: 0.9905, sd: null, ref: 0.9907 },
  { model: "iterative (ours, 3 seeds)", "test set": "scan", auc: 0.9808, sd: 0.0012, ref: null },
  { model: "iterative (ours, 3 seeds)", "test set": "miRNA-neg", auc: 0.989, sd: 0.0009, ref: null },
  { model: "seed-match", "test set": "scan", auc: 0.973, sd: null, ref: 0.9744 },
  { model: "seed-match", "test set": "miRNA-neg", auc: 0.9795, sd: null, ref: 0.9794 },
];

test("dotPlotSpec: a row per model in order, a zoomed axis from the data (not from 0), error bars and reference marks", async () => {
  const spec = dotPlotSpec(aucRows, { y: "model", x: "auc", color: "test set", error: "sd", reference: "ref", referenceTitle: "published", title: "ROC-AUC" });
  await assertCompilesCleanly(spec);
  const [lo, hi] = (dotsLayer(spec).encoding as { x: { scale: { domain: [number, number] } } }).x.scale.domain;
  // Data span: 0.973 … 0.9907 (the largest reference); 10 % margin on each side.
  const span = 0.9907 - 0.973;
  assert.ok(Math.abs(lo - (0.973 - 0.1 * span)) < 1e-9 && Math.abs(hi - (0.9907 + 0.1 * span)) < 1e-9, `domain ${lo} … ${hi}`);
  assert.ok(lo > 0.95, "zoomed, not from 0");
  const y = (spec.encoding as { y: { sort: unknown; axis: { labelLimit: number } } }).y;
  assert.equal(y.sort, null, "rows in the order given");
  assert.ok(y.axis.labelLimit >= 400, "labels in full");
  const values = (spec.data as { values: Record<string, unknown>[] }).values;
  assert.deepEqual(values.map((v) => [v.__lo, v.__hi]).slice(2, 4).map((p) => p.map((x) => Math.round((x as number) * 1e4) / 1e4)), [[0.9796, 0.982], [0.9881, 0.9899]]);
  assert.equal(values[0]!.__lo, null, "no error bar without an sd");
  // Colour and shape by test set on the dots; the key of the marks under the title.
  const dots = dotsLayer(spec).encoding as Record<string, { field?: string }>;
  assert.equal(dots.color!.field, "test set");
  assert.equal(dots.shape!.field, "test set");
  assert.deepEqual((spec.title as { subtitle: string }).subtitle, "bars: mean ± sd   ·   ○: published");
  // The reference ring is drawn after (over) the dots, so a dot under it stays visible.
  const layers = spec.layer as VegaLiteSpec[];
  assert.ok(layers.indexOf(dotsLayer(spec)) < layers.findIndex((l) => (l.mark as { filled?: boolean }).filled === false));
  const svg = await renderSvg(spec);
  for (const label of ["standard_100k_ratio10", "iterative (ours, 3 seeds)", "seed-match", "scan", "miRNA-neg"]) assert.ok(svg.includes(`>${label}</text>`), label);
});

test("dotPlotSpec: clamp, a fixed domain, one group, and bad input", async () => {
  const clamped = dotPlotSpec([{ m: "a", v: 0.999 }, { m: "b", v: 0.2 }], { y: "m", x: "v", clamp: [0, 1] });
  await assertCompilesCleanly(clamped);
  const domainOf = (s: VegaLiteSpec) => (dotsLayer(s).encoding as { x: { scale: { domain: [number, number] } } }).x.scale.domain;
  assert.equal(domainOf(clamped)[1], 1);
  assert.deepEqual(domainOf(dotPlotSpec([{ m: "a", v: 0.5 }], { y: "m", x: "v", domain: [0, 1] })), [0, 1]);
  // One value: a small span around it, never an empty domain.
  const [lo, hi] = domainOf(dotPlotSpec([{ m: "a", v: 0.5 }], { y: "m", x: "v" }));
  assert.ok(lo < 0.5 && hi > 0.5);
  assert.throws(() => dotPlotSpec([{ m: "a", v: "x" }], { y: "m", x: "v" }), /row 0: "v" must be a finite number/);
  assert.throws(() => dotPlotSpec([{ m: "a", v: 1 }], { y: "m", x: "v", domain: [1, 0] }), /low < high/);
  assert.throws(() => dotPlotSpec([{ m: "a" }], { y: "m", x: "v" }), /row 0 has no field "v"/);
});

test("rocCurveSpec / prCurveSpec zoom: the whole curve and a zoomed panel, one shared legend", async () => {
  const curves = [
    { name: "a", fpr: rocA.fpr, tpr: rocA.tpr, auc: rocA.auc },
    { name: "b", fpr: rocB.fpr, tpr: rocB.tpr, auc: rocB.auc },
  ];
  const spec = rocCurveSpec(curves, { zoom: { x: [0, 0.1] } });
  await assertCompilesCleanly(spec);
  const panels = spec.hconcat as VegaLiteSpec[];
  assert.equal(panels.length, 2);
  assert.deepEqual(spec.resolve, { scale: { color: "shared", x: "independent", y: "independent" } });
  const curveLayer = (p: VegaLiteSpec) => (p.layer as VegaLiteSpec[]).find((l) => Array.isArray(((l.data as { values: Record<string, unknown>[] }).values[0] ?? {}).fpr))!;
  const zoomed = curveLayer(panels[1]!);
  const x = (zoomed.encoding as { x: { scale: { domain: number[] } } }).x.scale.domain;
  assert.deepEqual(x, [0, 0.1]);
  // The zoomed panel's points lie in the window, bar the one point past each edge.
  for (const row of (zoomed.data as { values: { fpr: number[] }[] }).values) {
    assert.ok(row.fpr.filter((f) => f > 0.1).length <= 1, "at most one point past the window");
    assert.ok(row.fpr.length > 100, "the window keeps its own resolution");
  }
  // Default y range: what the curves reach inside the window, rounded out to 0.05.
  const yDomain = (zoomed.encoding as { y: { scale: { domain: number[] } } }).y.scale.domain;
  assert.ok(yDomain[0]! >= 0 && yDomain[1]! <= 1 && (yDomain[0]! * 20) % 1 === 0, JSON.stringify(yDomain));
  const svg = await renderSvg(spec);
  assert.equal(svg.split(`>a (AUC ${rocA.auc.toFixed(3)})</text>`).length - 1, 1, "one legend for both panels");
  assert.ok(svg.includes(">false positive rate 0–0.1</text>"));

  const given = rocCurveSpec(curves, { zoom: { x: [0, 0.1], y: [0.5, 1] } });
  assert.deepEqual((curveLayer((given.hconcat as VegaLiteSpec[])[1]!).encoding as { y: { scale: { domain: number[] } } }).y.scale.domain, [0.5, 1]);
  assert.throws(() => rocCurveSpec(curves, { zoom: { x: [0.1, 0] } }), /zoom\.x must be \[low, high\]/);

  const pr = prCurveSpec([{ name: "a", recall: rocA.recall, precision: rocA.precision, prevalence: rocA.prevalence }], { zoom: { x: [0.8, 1] } });
  await assertCompilesCleanly(pr);
  const prSvg = await renderSvg(pr);
  assert.ok(prSvg.includes(">recall 0.8–1</text>") && prSvg.includes(">whole curve</text>"));
  // Without zoom: one panel, as before.
  assert.equal(rocCurveSpec(curves).hconcat, undefined);
});

test("barSpec: mean ± sd error bars, labels beyond them; horizontal bars keep long labels whole", async () => {
  const rows = [
    { set: "modhsa_test", accuracy: 0.9217, sd: 0.0069 },
    { set: "chen", accuracy: 0.6616, sd: 0.0478 },
    { set: "one seed only", accuracy: 0.5, sd: null },
  ];
  const spec = barSpec(rows, { x: "set", y: "accuracy", error: "sd", yDomain: [0, 1], xLabelAngle: -40 });
  await assertCompilesCleanly(spec);
  const values = (spec.data as { values: Record<"__lo" | "__hi" | "__end", number | null>[] }).values;
  assert.deepEqual(values.map((v) => [v.__lo, v.__hi].map((x) => (x === null ? null : Math.round(x * 1e4) / 1e4))), [[0.9148, 0.9286], [0.6138, 0.7094], [null, null]]);
  assert.deepEqual(values.map((v) => v.__end === null ? null : Math.round(v.__end! * 1e4) / 1e4), [0.9286, 0.7094, 0.5], "value labels sit beyond the error bar");
  const layers = spec.layer as VegaLiteSpec[];
  assert.equal(layers.filter((l) => (l.mark as { type: string }).type === "rule").length, 1);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes(">0.922</text>") && svg.includes(">one seed only</text>"));

  const long = "test positives with a scan region inside the chromosome";
  const funnel = barSpec([{ step: "ENCORI rows", rows: 64 }, { step: long, rows: 18 }], { x: "step", y: "rows", horizontal: true, xTitle: null, labelFormat: ",d" });
  await assertCompilesCleanly(funnel);
  const enc = funnel.encoding as Record<string, { field: string; title?: unknown }>;
  assert.equal(enc.y!.field, "step");
  assert.equal(enc.x!.field, "rows");
  assert.equal(enc.y!.title, null);
  const funnelSvg = await renderSvg(funnel);
  assert.ok(funnelSvg.includes(`>${long}</text>`), "the long label is drawn whole, not cut with …");
  // Upright bars with angled labels do not cut them either (the default limit is generous).
  assert.ok((await renderSvg(barSpec([{ step: long, rows: 18 }], { x: "step", y: "rows", xLabelAngle: -35 }))).includes(`>${long}</text>`));
});

test("heatmapSpec: sparse ticks on big maps, every label on small ones", async () => {
  const big = heatmapSpec({ values: new Float32Array(25 * 100), rows: 25, cols: 100 }, { cellSize: 4 });
  await assertCompilesCleanly(big);
  const axis = (s: VegaLiteSpec, ch: "x" | "y") => (s.encoding as Record<string, { axis: { values?: number[]; labelFontSize: number } }>)[ch]!.axis;
  const xs = axis(big, "x").values!;
  assert.ok(xs.length <= 20 && xs.length >= 5, `${xs.length} column labels`);
  assert.equal(xs[0], 0);
  assert.ok(axis(big, "x").labelFontSize >= 9, "readable labels");
  const explicit = heatmapSpec({ values: new Float32Array(25 * 100), rows: 25, cols: 100 }, { cellSize: 4, xTickEvery: 10, yTickEvery: 4 });
  assert.deepEqual(axis(explicit, "x").values, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  assert.deepEqual(axis(explicit, "y").values, [0, 4, 8, 12, 16, 20, 24]);
  // A binding matrix (14 px cells, one-letter labels): every row and column labelled.
  const small = heatmapSpec({ values: new Float32Array(50 * 20), rows: 50, cols: 20, rowLabels: Array(50).fill("A"), colLabels: Array(20).fill("C") });
  assert.equal(axis(small, "x").values, undefined);
  assert.equal(axis(small, "y").values, undefined);
  assert.throws(() => heatmapSpec({ values: [1], rows: 1, cols: 1 }, { xTickEvery: 0 }), /xTickEvery must be a positive integer/);
  // Panels with one colour scale: one legend for all.
  const a = heatmapSpec({ values: [0, 1, 2, 3], rows: 2, cols: 2 }, { valueTitle: "saliency" });
  const b = heatmapSpec({ values: [0, 5, 2, 3], rows: 2, cols: 2 }, { valueTitle: "saliency" });
  const svg = await renderSvg(concatSpecs([a, b], { sharedColor: true }));
  assert.equal(svg.split(">saliency</text>").length - 1, 1, "one shared legend");
  assert.equal((await renderSvg(concatSpecs([a, b]))).split(">saliency</text>").length - 1, 2, "independent: one legend each");
});

// -------------------------------------------------------------------------------------------
// Interpretation figures: shared scales, band labels clear of the data, intervals, Markdown
// -------------------------------------------------------------------------------------------

test("concatSpecs: a shared y scale and legends below on request", async () => {
  const rows = [1, 2, 3].map((position) => ({ position, mean: position * 2, group: "a" }));
  const a = positionProfileSpec(rows, { x: "position", y: "mean", color: "group", title: "left" });
  const b = positionProfileSpec(rows.map((r) => ({ ...r, mean: r.mean / 100 })), { x: "position", y: "mean", color: "group", title: "right" });
  const spec = concatSpecs([a, b], { sharedY: true, legendOrient: "bottom" });
  assert.deepEqual(spec.resolve, { scale: { color: "independent", y: "shared" } });
  assert.equal(((spec.config as Record<string, Record<string, unknown>>).legend)!.orient, "bottom");
  assert.deepEqual(concatSpecs([a, b]).resolve, { scale: { color: "independent" } });
  assert.equal((concatSpecs([a, b]).config as Record<string, Record<string, unknown>>).legend!.orient, undefined);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes("left") && svg.includes("right"));
});

test("positionProfileSpec: band labels above the plot area, the title raised to make room", async () => {
  const rows = Array.from({ length: 20 }, (_, i) => ({ position: i + 1, mean: i === 2 ? 5 : 0 }));
  const spec = positionProfileSpec(rows, { x: "position", y: "mean", bands: [{ from: 2, to: 8, label: "seed 2–8" }], title: "profile" });
  const text = allLayers(spec).find((l) => (l.mark as { type?: string } | undefined)?.type === "text")!;
  assert.deepEqual((text.encoding as Record<string, unknown>).y, { value: -3 });
  assert.equal((text.mark as Record<string, unknown>).baseline, "bottom");
  assert.deepEqual(spec.title, { text: "profile", offset: 20 });
  // Every layer that places x declares the same axis: one without values would win the merge and thin the labels.
  const axes = allLayers(spec).map((l) => (l.encoding as Record<string, { axis?: { values?: number[] } }> | undefined)?.x?.axis?.values?.length).filter((v) => v !== undefined);
  assert.deepEqual(axes, [20, 20, 20]);
  assert.equal(positionProfileSpec(rows, { x: "position", y: "mean", title: "plain" }).title, "plain");
  assert.ok((await renderSvg(spec)).includes("seed 2–8"));
});

test("differenceSpec for means: the dot and the dashed line named in the subtitle, groups in order", async () => {
  const rows = ["8mer", "7mer-m8", "6mer"].flatMap((type, i) => ["a", "b"].map((model) => ({ type, model, mean: 3 - i, lo: 2.5 - i, hi: 3.4 - i })));
  const spec = differenceSpec(rows, { y: "type", x: "mean", lo: "lo", hi: "hi", color: "model", title: "site types", xTitle: "mean logit", intervalTitle: "95% bootstrap interval", pointTitle: "mean", zeroTitle: "logit 0 (p = 0.5)" });
  await assertCompilesCleanly(spec);
  assert.equal((spec.title as { subtitle: string }).subtitle, "dot: mean · bar: 95% bootstrap interval · dashed: logit 0 (p = 0.5)");
  const svg = await renderSvg(spec);
  assert.ok(svg.indexOf(">8mer<") < svg.indexOf(">6mer<") && svg.includes("mean logit"));
});

test("markdownBundle: Markdown for the notebook, the same text as plain text", () => {
  const b = markdownBundle("* **agrees**: 8mer > 6mer");
  assert.deepEqual(b.data, { "text/markdown": "* **agrees**: 8mer > 6mer", "text/plain": "* **agrees**: 8mer > 6mer" });
  assert.equal(showMarkdown("x")?.data["text/markdown"], "x", "outside tslab the bundle is returned");
});

test("boxPlotSpec: xLabelEvery labels the first and every k-th numeric position; legends below wrap into columns", () => {
  const rows = Array.from({ length: 50 }, (_, i) => ({ position: i + 1, lowerWhisker: -1, q1: -0.5, median: 0, q3: 0.5, upperWhisker: 1 }));
  const spec = boxPlotSpec(rows, { x: "position", xLabelEvery: 5 });
  const x = allLayers(spec).map((l) => (l.encoding as Record<string, { axis?: { values?: number[] } }> | undefined)?.x).find((e) => e?.axis !== undefined)!;
  assert.deepEqual(x.axis!.values, [1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  assert.equal(boxPlotSpec(rows, { x: "position" }).layer !== undefined, true);
  assert.throws(() => boxPlotSpec(rows, { x: "position", xLabelEvery: 0 }), /xLabelEvery/);
  const legend = (concatSpecs([spec, spec], { legendOrient: "bottom", legendColumns: 2 }).config as Record<string, Record<string, unknown>>).legend!;
  assert.deepEqual([legend.orient, legend.columns], ["bottom", 2]);
});

test("attributionMatrixSpec: cells stored as two strings, expanded by the spec into one row per cell with its attribution and pairing", async () => {
  const binding = Array.from({ length: 6 }, (_, k) => (k % 2 === 0 ? 1 : 0));
  const attribution = [0.5, 0, -0.25, 0, 1.23456, 0];
  const spec = attributionMatrixSpec({ binding, attribution, rows: 3, cols: 2 }, { domain: 2, valueTitle: "IG" });
  const data = (spec.data as { values: Record<string, unknown>[] }).values;
  assert.deepEqual(data, [{ a: "0.5 0 -0.25 0 1.2346 0", b: "101010" }]);
  const { vega } = await loadVega();
  const view = new vega.View(vega.parse((await compileSpec(spec)).vega as never), { renderer: "none" }) as unknown as { runAsync(): Promise<unknown>; data(name: string): unknown; finalize(): void };
  await view.runAsync();
  const rows = view.data("data_0") as { a: number; b: number; site: number; mirna: number }[];
  view.finalize();
  assert.deepEqual(rows.map((r) => [r.site, r.mirna, r.a, r.b]), [[1, 1, 0.5, 1], [1, 2, 0, 0], [2, 1, -0.25, 1], [2, 2, 0, 0], [3, 1, 1.2346, 1], [3, 2, 0, 0]]);
  assert.ok((await renderSvg(spec)).includes("IG"));
});

test("dotPlotSpec focus: far-off values stay out of the axis, drawn at its edge with their value (and their reference)", async () => {
  const rows = [
    ...["a", "b", "c", "d", "e"].map((m, i) => ({ m, v: 0.97 + 0.004 * i, ref: 0.971 + 0.004 * i })),
    { m: "far", v: 0.708, ref: 0.7158 },
  ];
  const spec = dotPlotSpec(rows, { y: "m", x: "v", reference: "ref", focus: true, format: ".3f" });
  await assertCompilesCleanly(spec);
  const [lo, hi] = (dotsLayer(spec).encoding as { x: { scale: { domain: [number, number] } } }).x.scale.domain;
  assert.ok(lo > 0.96 && hi < 0.99, `the axis shows the close values: ${lo} … ${hi}`);
  const values = (spec.data as { values: Record<string, unknown>[] }).values;
  const far = values.find((v) => v.m === "far")!;
  assert.deepEqual([far.__off, far.__edge, far.__label, far.__ref], ["left", lo, "0.708 (○ 0.716)", null]);
  assert.equal(values.filter((v) => v.__off !== null).length, 1);
  assert.match((spec.title as { subtitle: string }).subtitle, /off the axis \(value printed\)/);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes(">0.708 (○ 0.716)</text>"), "the off-axis value is printed");
  // Without focus the axis reaches the far value.
  const whole = dotPlotSpec(rows, { y: "m", x: "v" });
  assert.ok(((dotsLayer(whole).encoding as { x: { scale: { domain: [number, number] } } }).x.scale.domain[0]) < 0.708);
});

test("differenceSpec: intervals around each difference, a line at 0, the axis spans the intervals and 0", async () => {
  const rows = [
    { comparison: "5k − 1k", "test set": "scan", d: 0.0168, lo: 0.012, hi: 0.021 },
    { comparison: "iterative − 5k", "test set": "scan", d: -0.0109, lo: -0.015, hi: -0.007 },
    { comparison: "iterative − 5k", "test set": "miRNA-neg", d: -0.0059, lo: -0.008, hi: -0.003 },
  ];
  const spec = differenceSpec(rows, { y: "comparison", x: "d", lo: "lo", hi: "hi", color: "test set", title: "AP differences", intervalTitle: "95% CI" });
  await assertCompilesCleanly(spec);
  const layers = spec.layer as VegaLiteSpec[];
  const domain = ((layers[1]!.encoding as { x: { scale: { domain: number[] } } }).x.scale.domain);
  assert.ok(domain[0]! < -0.015 && domain[1]! > 0.021 && domain[0]! > -0.03, `axis ${domain}`);
  assert.deepEqual((layers[0]!.data as { values: unknown[] }).values, [{ zero: 0 }]);
  const positiveOnly = differenceSpec([{ c: "x", d: 0.01, lo: 0.005, hi: 0.015 }], { y: "c", x: "d", lo: "lo", hi: "hi" });
  assert.ok(((positiveOnly.layer as VegaLiteSpec[])[1]!.encoding as { x: { scale: { domain: number[] } } }).x.scale.domain[0]! < 0, "0 is always on the axis");
  assert.throws(() => differenceSpec([{ c: "x", d: 0.01, lo: 0.02, hi: 0.015 }], { y: "c", x: "d", lo: "lo", hi: "hi" }), /row 0: "lo" exceeds "hi"/);
  assert.throws(() => differenceSpec([{ c: "x", d: "a", lo: 0, hi: 1 }], { y: "c", x: "d", lo: "lo", hi: "hi" }), /row 0: "d" must be a finite number/);
});

test("linePanelsSpec: a panel per loop, a colour per seed shared by the panels, shared or independent y", async () => {
  const rows = ["faithful", "improved"].flatMap((loop) => [1, 2].flatMap((seed) => [1, 2, 3].map((it) => ({ loop, seed: `seed ${seed}`, iteration: it, f1: loop === "faithful" ? it / 3 : 0.9 }))));
  const spec = linePanelsSpec(rows, { x: "iteration", y: "f1", color: "seed", panel: "loop", panelTitles: { faithful: "faithful: 2 positives" }, title: "F1" });
  await assertCompilesCleanly(spec);
  const panels = spec.hconcat as VegaLiteSpec[];
  assert.deepEqual(panels.map((p) => (p.title as { text: string }).text), ["faithful: 2 positives", "improved"]);
  assert.deepEqual(spec.resolve, { scale: { color: "shared", x: "shared", y: "shared" }, axis: { y: "independent" } });
  assert.equal((linePanelsSpec(rows, { x: "iteration", y: "f1", color: "seed", panel: "loop", sharedY: false }).resolve as { scale: { y: string } }).scale.y, "independent");
  const axes = ((spec.hconcat as VegaLiteSpec[])[0]!.encoding as Record<string, { axis?: { format?: string } }>);
  assert.equal(axes.x!.axis?.format, "d", "whole-number iterations");
  assert.equal(axes.y!.axis, undefined, "F1 is not a whole number");
  const grid = linePanelsSpec(rows, { x: "iteration", y: "f1", color: "seed", panel: "loop", columns: 1 });
  assert.equal(grid.columns, 1);
  assert.throws(() => linePanelsSpec(rows, { x: "iteration", y: "f1", color: "seed", panel: "loop", panels: ["nope"] }), /no rows for panel "nope"/);
});

test("seedMatchSharesSpec: positives and negatives each on their own percent axis, with 'any' and without 'none'", async () => {
  const shares = ["positive", "negative"].flatMap((label) => ["8mer", "7mer-m8", "7mer-A1", "6mer", "none"].map((c, i) => ({ label, class: c, share: label === "positive" ? [0.09, 0.22, 0.19, 0.47, 0.03][i]! : [0.002, 0.005, 0.005, 0.013, 0.975][i]! })));
  const spec = seedMatchSharesSpec(shares, { title: "seed matches", totals: { positive: 100, negative: 2000 } });
  await assertCompilesCleanly(spec);
  const panels = spec.hconcat as VegaLiteSpec[];
  const values = panels.map((p) => (p.data as { values: { class: string; percent: number }[] }).values);
  assert.deepEqual(values[1]!.map((v) => v.class), ["8mer", "7mer-m8", "7mer-A1", "6mer", "any"]);
  assert.ok(Math.abs(values[1]!.at(-1)!.percent - 2.5) < 1e-9, "any = 100% − none");
  assert.deepEqual(panels.map((p) => (p.title as { text: string }).text), ["positives (100)", "negatives (2,000)"]);
  const svg = await renderSvg(spec);
  assert.ok(svg.includes(">0.5</text>") && svg.includes(">2.5</text>"), "the negatives' values are printed, not 0.0");
});
