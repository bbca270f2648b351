/**
 * Figures: Vega-Lite specs built from plain data (pure functions). Rendering to SVG / PNG is
 * render.ts, notebook display display.ts.
 *
 * Specs declare the Vega-Lite 5 schema: notebooks show them under the MIME type
 * `application/vnd.vegalite.v5+json` (display.ts), which JupyterLab 4 draws with Vega-Lite 5,
 * and the two versions must agree. This package compiles them with Vega-Lite 5 too (render.ts,
 * for the SVG / PNG, without warnings): the interactive chart and the PNG come from the same
 * major version. (Vega-Lite 6 would also need Node ≥ 22.)
 */

import { quantileSorted } from "../metrics";
import { baseSpec, checkFields, DataRow, pickFields, round4, VegaLiteSpec } from "./base";

export type { DataRow, VegaLiteSpec } from "./base";
export { VEGA_LITE_SCHEMA } from "./base";

/** Default upper bound on points kept per curve (ROC/PR), see {@link downsampleCurve}. */
export const DEFAULT_MAX_CURVE_POINTS = 500;

// ---------------------------------------------------------------------------------------------
// Downsampling
// ---------------------------------------------------------------------------------------------

/** Indices and values of the points a curve keeps after {@link downsampleCurve}. */
export interface DownsampledCurve {
  x: number[];
  y: number[];
  /** Index into the input arrays of each kept point (increasing). */
  indices: number[];
}

/**
 * Thins a curve (points in drawing order) to at most `maxPoints` points, spaced evenly along
 * its path length in coordinates normalised by the x and y ranges, so steps and corners stay
 * in place to within 1/(maxPoints-1) of the path. The first and last points are always kept;
 * a curve with at most `maxPoints` points is returned whole.
 *
 * @param x x coordinates, shape=(n,)
 * @param y y coordinates, shape=(n,) (same order)
 * @param maxPoints >= 2
 * @param name curve name used in error messages
 */
export function downsampleCurve(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  maxPoints: number = DEFAULT_MAX_CURVE_POINTS,
  name = "curve",
): DownsampledCurve {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`${name}: x has ${n} points but y has ${y.length}`);
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new RangeError(`${name}: maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!, yi = y[i]!;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) {
      throw new RangeError(`${name}: point ${i} is not finite (x=${xi}, y=${yi})`);
    }
    if (xi < xMin) xMin = xi;
    if (xi > xMax) xMax = xi;
    if (yi < yMin) yMin = yi;
    if (yi > yMax) yMax = yi;
  }
  const all = (indices: number[]): DownsampledCurve => ({
    x: indices.map((i) => x[i]!),
    y: indices.map((i) => y[i]!),
    indices,
  });
  if (n <= maxPoints) return all(Array.from({ length: n }, (_, i) => i));

  const xRange = xMax - xMin || 1;
  const yRange = yMax - yMin || 1;
  const cumulative = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const dx = (x[i]! - x[i - 1]!) / xRange;
    const dy = (y[i]! - y[i - 1]!) / yRange;
    cumulative[i] = cumulative[i - 1]! + Math.hypot(dx, dy);
  }
  const total = cumulative[n - 1]!;
  if (!(total > 0)) return all([0, n - 1]); // every point is the same point

  // Interior targets k*step for k = 1..maxPoints-2; each keeps the first point reaching it.
  const step = total / (maxPoints - 1);
  const kept = [0];
  let k = 1;
  for (let i = 1; i < n - 1 && k <= maxPoints - 2; i++) {
    const ci = cumulative[i]!;
    if (ci >= k * step) {
      kept.push(i);
      while (k <= maxPoints - 2 && k * step <= ci) k++;
    }
  }
  kept.push(n - 1);
  return all(kept);
}

// ---------------------------------------------------------------------------------------------
// ROC and precision-recall curves
// ---------------------------------------------------------------------------------------------

/** One model's ROC curve: points in threshold order (fpr and tpr in [0, 1]). */
export interface RocCurveSeries {
  name: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  /** Area under the curve, shown in the legend as "name (AUC 0.xxx)". */
  auc?: number;
}

/** One model's precision-recall curve: points in threshold order. */
export interface PrCurveSeries {
  name: string;
  recall: ArrayLike<number>;
  precision: ArrayLike<number>;
  /** Average precision, shown in the legend as "name (AP 0.xxx)". */
  ap?: number;
  /** Fraction of positives in the evaluated set: the precision of a random classifier. */
  prevalence?: number;
}

/** Options shared by the curve figures. */
export interface CurveSpecOptions {
  title?: string;
  /** Plot area size in px (default 360 x 360); a zoomed panel has the same size. */
  width?: number;
  height?: number;
  /** Upper bound on points kept per curve (default 500; per panel). */
  maxPoints?: number;
}

/** A zoomed panel beside the whole curve: its x range and, optionally, its y range. */
export interface CurveZoom {
  /** x range of the panel, e.g. [0, 0.1] (FPR) or [0.8, 1] (recall). */
  x: [number, number];
  /**
   * y range of the panel (default: from the curves inside the x range — the lowest and highest
   * y they reach there, widened by 2 % of the span and rounded out to 0.05). Curves leaving
   * it are cut at the panel's edge.
   */
  y?: [number, number];
}

/** Options of {@link rocCurveSpec}. */
export interface RocCurveSpecOptions extends CurveSpecOptions {
  /**
   * Adds a panel beside the full curve showing only this part, so curves that overlap at full
   * scale separate: e.g. `{ x: [0, 0.1] }` for false positive rates up to 0.1.
   */
  zoom?: CurveZoom;
}

/** Options of {@link prCurveSpec}. */
export interface PrCurveSpecOptions extends CurveSpecOptions {
  /** Adds a panel beside the full curve showing only this part, e.g. `{ x: [0.8, 1] }` (recall 0.8–1). */
  zoom?: CurveZoom;
}

/**
 * The part of a curve inside x ∈ [lo, hi], with the one point before and after it (so the line
 * reaches the panel's edges; the panel clips it). Curves are monotone in x (ROC) or not (PR):
 * points are kept in drawing order whenever they, or a neighbour, lie inside.
 */
function curveWindow(x: ArrayLike<number>, y: ArrayLike<number>, lo: number, hi: number): { x: number[]; y: number[] } {
  const inside = (i: number) => x[i]! >= lo && x[i]! <= hi;
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (inside(i) || (i > 0 && inside(i - 1)) || (i + 1 < x.length && inside(i + 1))) {
      xs.push(x[i]!);
      ys.push(y[i]!);
    }
  }
  return { x: xs, y: ys };
}

/** The default y range of a zoomed panel: what the curves reach inside the x range (see {@link CurveZoom}). */
function zoomYDomain(curves: { x: ArrayLike<number>; y: ArrayLike<number> }[], lo: number, hi: number): [number, number] {
  let yMin = Infinity, yMax = -Infinity;
  for (const c of curves) {
    for (let i = 0; i < c.x.length; i++) {
      const xi = c.x[i]!, yi = c.y[i]!;
      if (xi < lo || xi > hi) continue;
      yMin = Math.min(yMin, yi);
      yMax = Math.max(yMax, yi);
    }
  }
  if (!(yMax >= yMin)) return [0, 1];
  const pad = Math.max(0.02 * (yMax - yMin), 0.005);
  return [Math.max(0, Math.floor((yMin - pad) * 20) / 20), Math.min(1, Math.ceil((yMax + pad) * 20) / 20)];
}

function checkZoom(zoom: CurveZoom | undefined, what: string): void {
  if (zoom === undefined) return;
  for (const [axis, r] of [["x", zoom.x], ["y", zoom.y]] as const) {
    if (r === undefined) continue;
    if (!(Array.isArray(r) && r.length === 2 && Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] < r[1])) {
      throw new RangeError(`${what}: zoom.${axis} must be [low, high] with low < high, got ${JSON.stringify(r)}`);
    }
  }
}

/**
 * The whole curve and a zoomed copy side by side: one colour legend below both, each panel with
 * its own axes. `panel(zoomed)` builds one panel (size and layers).
 */
function withZoom(title: string, panel: (zoomed: boolean) => VegaLiteSpec): VegaLiteSpec {
  return {
    ...baseSpec(title),
    hconcat: [panel(false), panel(true)],
    spacing: 28,
    resolve: { scale: { color: "shared", x: "independent", y: "independent" } },
  };
}

function curveLabel(name: string, metric: string, value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? name : `${name} (${metric} ${value.toFixed(3)})`;
}

function checkUniqueNames(names: string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new RangeError(`${what}: two curves are labelled "${n}"; give each model its own name`);
    seen.add(n);
  }
}

/**
 * One row per curve, {model, <xField>: number[], <yField>: number[], i: number[]}, each thinned to
 * maxPoints; the spec flattens them (a `flatten` transform) into one row per point. Columnar rows
 * keep notebook outputs small: the label is stored once per curve, not once per point.
 */
function curveRows(
  curves: { label: string; x: ArrayLike<number>; y: ArrayLike<number> }[],
  xField: string,
  yField: string,
  maxPoints: number,
): Record<string, string | number[]>[] {
  return curves.map((c) => {
    const d = downsampleCurve(c.x, c.y, maxPoints, c.label);
    return { model: c.label, [xField]: d.x.map(round4), [yField]: d.y.map(round4), i: d.x.map((_, j) => j) };
  });
}

/**
 * What a curve panel draws, for the whole curves (`zoom` undefined) or a zoomed range: the x and
 * y domains, the columnar rows of the points inside (see {@link curveRows}) and the x and y
 * encodings' type and scale.
 */
function curvePanelData(
  curves: { label: string; x: ArrayLike<number>; y: ArrayLike<number> }[],
  zoom: CurveZoom | undefined,
  xField: string,
  yField: string,
  maxPoints: number,
) {
  const xDomain: [number, number] = zoom?.x ?? [0, 1];
  const yDomain: [number, number] = zoom ? (zoom.y ?? zoomYDomain(curves, zoom.x[0], zoom.x[1])) : [0, 1];
  const source = zoom ? curves.map((c) => ({ ...c, ...curveWindow(c.x, c.y, zoom.x[0], zoom.x[1]) })) : curves;
  const values = curveRows(source.filter((c) => c.x.length > 0), xField, yField, maxPoints);
  const xUnit = { type: "quantitative", scale: { domain: xDomain, nice: false }, axis: { labelFlush: true } };
  const yUnit = { type: "quantitative", scale: { domain: yDomain, nice: false } };
  return { xDomain, yDomain, values, xUnit, yUnit, xField, yField };
}

/** The layer of a curve panel ({@link curvePanelData}) that draws the curves: one line per model, in point order. */
function curveLines(d: ReturnType<typeof curvePanelData>, xTitle: string, yTitle: string, color: Record<string, unknown>): VegaLiteSpec {
  return {
    data: { values: d.values },
    transform: [{ flatten: [d.xField, d.yField, "i"] }],
    mark: { type: "line", strokeWidth: 2, clip: true },
    encoding: {
      x: { field: d.xField, ...d.xUnit, title: xTitle },
      y: { field: d.yField, ...d.yUnit, title: yTitle },
      color,
      order: { field: "i", type: "quantitative" },
    },
  };
}

/**
 * ROC curves, one line per model, with the chance diagonal. Axes: false positive rate (x) and
 * true positive rate (y), both [0, 1]; the legend shows "name (AUC 0.xxx)" in the given order.
 * With `zoom`, a second panel shows only that range of false positive rates (e.g. [0, 0.1]),
 * where the best models differ.
 */
export function rocCurveSpec(curves: RocCurveSeries[], opts: RocCurveSpecOptions = {}): VegaLiteSpec {
  if (curves.length === 0) throw new RangeError("rocCurveSpec: no curves given");
  checkZoom(opts.zoom, "rocCurveSpec");
  const labelled = curves.map((c) => ({ label: curveLabel(c.name, "AUC", c.auc), x: c.fpr, y: c.tpr }));
  checkUniqueNames(labelled.map((c) => c.label), "rocCurveSpec");
  const maxPoints = opts.maxPoints ?? DEFAULT_MAX_CURVE_POINTS;
  const title = opts.title ?? "ROC curve";
  const panel = (zoom: CurveZoom | undefined): VegaLiteSpec => {
    const data = curvePanelData(labelled, zoom, "fpr", "tpr", maxPoints);
    const { xDomain, yDomain, xUnit, yUnit } = data;
    const lo = Math.max(xDomain[0], yDomain[0]), hi = Math.min(xDomain[1], yDomain[1]);
    return {
      ...(opts.zoom ? { title: { text: zoom ? `false positive rate ${xDomain[0]}–${xDomain[1]}` : "whole curve", fontSize: 12, fontWeight: "normal" } } : {}),
      width: opts.width ?? 360,
      height: opts.height ?? 360,
      layer: [
        ...(hi > lo
          ? [{
              data: { values: [{ fpr: lo, tpr: lo }, { fpr: hi, tpr: hi }] },
              mark: { type: "line", color: "#999", strokeDash: [5, 4], strokeWidth: 1, clip: true },
              encoding: { x: { field: "fpr", ...xUnit }, y: { field: "tpr", ...yUnit } },
            }]
          : []),
        curveLines(data, "False positive rate", "True positive rate", {
          field: "model",
          type: "nominal",
          scale: { domain: labelled.map((c) => c.label) },
          legend: opts.zoom
            ? { title: null, orient: "bottom", direction: "vertical" }
            : { title: null, orient: "bottom-right", fillColor: "white", padding: 6, strokeColor: "#ccc" },
        }),
      ],
    };
  };
  if (opts.zoom) return withZoom(title, (zoomed) => panel(zoomed ? opts.zoom : undefined));
  return { ...baseSpec(title), ...panel(undefined) };
}

/**
 * Precision-recall curves, one line per model. When curves give a prevalence, a dashed
 * horizontal line marks it (the precision of a random classifier): one grey line if all
 * prevalences agree, else one line per model in its colour. With `zoom`, a second panel shows
 * only that range of recall (e.g. [0.8, 1]).
 */
export function prCurveSpec(curves: PrCurveSeries[], opts: PrCurveSpecOptions = {}): VegaLiteSpec {
  if (curves.length === 0) throw new RangeError("prCurveSpec: no curves given");
  checkZoom(opts.zoom, "prCurveSpec");
  const labelled = curves.map((c) => ({
    label: curveLabel(c.name, "AP", c.ap),
    x: c.recall,
    y: c.precision,
    prevalence: c.prevalence,
  }));
  checkUniqueNames(labelled.map((c) => c.label), "prCurveSpec");
  for (const c of labelled) {
    if (c.prevalence !== undefined && !(c.prevalence >= 0 && c.prevalence <= 1)) {
      throw new RangeError(`prCurveSpec: ${c.label}: prevalence must be in [0, 1], got ${c.prevalence}`);
    }
  }
  const maxPoints = opts.maxPoints ?? DEFAULT_MAX_CURVE_POINTS;
  const domain = labelled.map((c) => c.label);
  const color = {
    field: "model",
    type: "nominal",
    scale: { domain },
    // Below the plot: PR curves can pass through every corner of the plot area.
    legend: { title: null, orient: "bottom", direction: "vertical" },
  };
  const withPrevalence = labelled.filter((c) => c.prevalence !== undefined);
  const distinct = new Set(withPrevalence.map((c) => c.prevalence));
  const panel = (zoom: CurveZoom | undefined): VegaLiteSpec => {
    const data = curvePanelData(labelled, zoom, "recall", "precision", maxPoints);
    const { xDomain, yDomain, xUnit, yUnit } = data;
    const visible = (p: number) => p >= yDomain[0] && p <= yDomain[1];
    const layer: VegaLiteSpec[] = [];
    const only = withPrevalence[0];
    if (distinct.size === 1 && only !== undefined && visible(only.prevalence as number)) {
      const p = round4(only.prevalence as number);
      layer.push({
        data: { values: [{ prevalence: p, label: `chance level (prevalence ${p.toFixed(3)})` }] },
        layer: [
          { mark: { type: "rule", color: "#999", strokeDash: [5, 4] }, encoding: { y: { field: "prevalence", ...yUnit } } },
          {
            mark: { type: "text", align: "left", baseline: "bottom", dx: 4, dy: -3, color: "#666", fontSize: 10 },
            encoding: {
              x: { datum: xDomain[0], ...xUnit },
              y: { field: "prevalence", ...yUnit },
              text: { field: "label" },
            },
          },
        ],
      });
    } else if (distinct.size > 1) {
      const shown = withPrevalence.filter((c) => visible(c.prevalence as number));
      if (shown.length > 0) {
        layer.push({
          data: { values: shown.map((c) => ({ model: c.label, prevalence: round4(c.prevalence as number) })) },
          mark: { type: "rule", strokeDash: [5, 4], strokeWidth: 1 },
          encoding: { y: { field: "prevalence", ...yUnit }, color },
        });
      }
    }
    layer.push(curveLines(data, "Recall", "Precision", color));
    return {
      ...(opts.zoom ? { title: { text: zoom ? `recall ${xDomain[0]}–${xDomain[1]}` : "whole curve", fontSize: 12, fontWeight: "normal" } } : {}),
      width: opts.width ?? 360,
      height: opts.height ?? 360,
      layer,
    };
  };
  const title = opts.title ?? "Precision-recall curve";
  if (opts.zoom) return withZoom(title, (zoomed) => panel(zoomed ? opts.zoom : undefined));
  return { ...baseSpec(title), ...panel(undefined) };
}

// ---------------------------------------------------------------------------------------------
// Bars and lines from tables
// ---------------------------------------------------------------------------------------------

/** Options of {@link barSpec}. */
export interface BarSpecOptions {
  /** Category field (nominal), e.g. "model" or "metric". */
  x: string;
  /** Value field (quantitative), e.g. "value". */
  y: string;
  /** Optional grouping field: bars side by side within each x category, one colour each. */
  color?: string;
  /**
   * Optional field with the standard deviation of `y` (e.g. over seeds): an error bar from
   * y − sd to y + sd on each bar; rows where it is null or missing get none.
   */
  error?: string;
  /**
   * Bars along the horizontal axis, categories down the vertical one in row order (default
   * false). For long category names (a funnel of steps): labels are never rotated or cut.
   */
  horizontal?: boolean;
  title?: string;
  /** Title of the category axis (default: the field name; null: none). */
  xTitle?: string | null;
  /** Title of the value axis (default: the field name). */
  yTitle?: string;
  /** Fixed value axis domain, e.g. [0, 1] for metrics. */
  yDomain?: [number, number];
  /** d3 format of the value printed at the end of each bar (default ".3f"; "" for none). */
  labelFormat?: string;
  /** Width (height when horizontal) of one bar step in px (default 28 grouped, 40 single; 22 / 26 horizontal). */
  step?: number;
  /** Angle of the category labels in degrees (default 0; e.g. -35 for long labels). Ignored when horizontal. */
  xLabelAngle?: number;
  /** Longest category label in px before it is cut with "…" (default 600: in practice never). */
  labelLimit?: number;
  /** Length of the value axis in px (default 260 upright, 360 horizontal). */
  height?: number;
}

/**
 * A bar chart of a metric table: one bar per row, category `x`, length `y`; with `color`, bars
 * of a category stand side by side; with `error`, mean ± sd error bars. Values are printed at
 * the end of the bars (beyond the error bar). `horizontal` turns the chart so that long
 * category names read left to right, in row order from the top.
 */
export function barSpec(rows: readonly DataRow[], opts: BarSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.x, opts.y, opts.color], "barSpec");
  const horizontal = opts.horizontal ?? false;
  const sortNone = null; // keep categories in the order of the rows
  const labelAngle = horizontal ? 0 : (opts.xLabelAngle ?? 0);
  const labelLimit = opts.labelLimit ?? 600;
  const catChannel = horizontal ? "y" : "x";
  const valChannel = horizontal ? "x" : "y";
  const catEnc = {
    field: opts.x, type: "nominal", sort: sortNone, title: opts.xTitle === undefined ? opts.x : opts.xTitle,
    axis: {
      labelLimit,
      ...(horizontal ? { labelPadding: 6 } : { labelAngle, ...(labelAngle !== 0 ? { labelAlign: "right", labelBaseline: "middle", labelPadding: 6 } : {}) }),
    },
  };
  const valEnc = {
    field: opts.y,
    type: "quantitative",
    title: opts.yTitle ?? opts.y,
    ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}),
  };
  const offsetChannel = horizontal ? "yOffset" : "xOffset";
  const group = opts.color
    ? {
        color: { field: opts.color, type: "nominal", sort: sortNone, title: opts.color },
        [offsetChannel]: { field: opts.color, type: "nominal", sort: sortNone },
      }
    : {};
  const labelFormat = opts.labelFormat ?? ".3f";
  const picked = pickFields(rows, [opts.x, opts.y, opts.color, opts.error]).map((r) => {
    if (opts.error === undefined) return r;
    const sd = r[opts.error];
    const y = r[opts.y];
    const hasSd = typeof sd === "number" && Number.isFinite(sd) && typeof y === "number";
    return { ...r, [opts.error]: hasSd ? sd : null, __lo: hasSd ? y - sd : null, __hi: hasSd ? y + sd : null, __end: hasSd ? y + sd : y };
  });
  // Hovering a bar names its category (and group) and gives its value (± sd).
  const tooltip = [
    { field: opts.x, type: "nominal", title: opts.xTitle ?? opts.x },
    ...(opts.color ? [{ field: opts.color, type: "nominal", title: opts.color }] : []),
    { field: opts.y, type: "quantitative", title: opts.yTitle ?? opts.y, ...(labelFormat ? { format: labelFormat } : {}) },
    ...(opts.error !== undefined ? [{ field: opts.error, type: "quantitative", title: "sd", ...(labelFormat ? { format: labelFormat } : {}) }] : []),
  ];
  const layer: VegaLiteSpec[] = [{ mark: { type: "bar", ...(opts.color ? {} : { color: "#4c78a8" }) }, encoding: { tooltip } }];
  if (opts.error !== undefined) {
    layer.push({
      transform: [{ filter: "datum.__lo != null" }],
      mark: { type: "rule", color: "#222", strokeWidth: 1.5 },
      encoding: {
        [valChannel]: { field: "__lo", type: "quantitative" },
        [`${valChannel}2`]: { field: "__hi" },
        color: { value: "#222" },
      },
    });
    // Whiskers: short ticks at both ends.
    for (const end of ["__lo", "__hi"]) {
      layer.push({
        transform: [{ filter: "datum.__lo != null" }],
        mark: { type: "tick", color: "#222", thickness: 1.5, size: 8, orient: horizontal ? "vertical" : "horizontal" },
        encoding: { [valChannel]: { field: end, type: "quantitative" }, color: { value: "#222" } },
      });
    }
  }
  if (labelFormat) {
    const endField = opts.error !== undefined ? "__end" : opts.y;
    layer.push({
      mark: horizontal
        ? { type: "text", align: "left", baseline: "middle", dx: 3, fontSize: 10, color: "#333" }
        : { type: "text", baseline: "bottom", dy: -2, fontSize: 9, color: "#333" },
      encoding: {
        [valChannel]: { field: endField, type: "quantitative" },
        text: { field: opts.y, type: "quantitative", format: labelFormat },
        color: { value: "#333" },
      },
    });
  }
  const step = opts.step ?? (horizontal ? (opts.color ? 22 : 26) : opts.color ? 28 : 40);
  return {
    ...baseSpec(opts.title),
    data: { values: picked },
    ...(horizontal ? { height: { step }, width: opts.height ?? 360 } : { width: { step }, height: opts.height ?? 260 }),
    encoding: { [catChannel]: catEnc, [valChannel]: valEnc, ...group },
    layer,
  };
}

/** Options of {@link dotPlotSpec}. */
export interface DotPlotSpecOptions {
  /** Row label field (nominal), e.g. "model": one row per value, in the order of the rows. */
  y: string;
  /** Value field (quantitative), e.g. "ROC-AUC" (the mean, for results over seeds). */
  x: string;
  /** Group field, e.g. "test set": colour and shape; the dots of one row are spread slightly apart. */
  color?: string;
  /** Field with the standard deviation of x (results over seeds): an error bar mean ± sd; null: none. */
  error?: string;
  /** Field with a reference value per row (e.g. a published number): an open black ring drawn over the dot; null: none. */
  reference?: string;
  /** Legend label of the reference marks (default "reference"). */
  referenceTitle?: string;
  title?: string;
  /** Value axis title (default: the field name). */
  xTitle?: string;
  /** Row axis title (default none). */
  yTitle?: string | null;
  /**
   * Value axis range. Default: from the data — the dots, error bars and reference marks —
   * widened on each side by `margin` of that span, so that close values separate (not from 0).
   * Values outside it are drawn at its edge as an arrowhead with the value printed beside.
   */
  domain?: [number, number];
  /**
   * Default domain from the bulk of the values only: values more than 3 interquartile ranges
   * below the first quartile or above the third (of the dots, error bars and references) stay
   * out of it and are drawn at its edge with their value (default false). For a few far-off
   * models that would otherwise squeeze the close ones together.
   */
  focus?: boolean;
  /** Fraction of the data's span added on each side of the default domain (default 0.1). */
  margin?: number;
  /** Limits the default domain to this range, e.g. [0, 1] for metrics. */
  clamp?: [number, number];
  /** d3 format of the value axis and tooltips (default ".3f"). */
  format?: string;
  /** Width of the plot area in px (default 420). */
  width?: number;
  /** Height of one row in px (default 22; 12 per group + 8 with several groups). */
  rowHeight?: number;
}

/** Field names used internally by {@link dotPlotSpec} (never clash with user fields). */
const DOT = { lo: "__lo", hi: "__hi", ref: "__ref", off: "__off", edge: "__edge", label: "__label" } as const;

/** A number as a d3 fixed-point format (".3f", ".4f") prints it; other formats: 3 decimals. */
function d3Fixed(x: number, format: string): string {
  const m = /^\.(\d+)f$/.exec(format);
  return x.toFixed(m ? Number(m[1]) : 3);
}

/**
 * A dot plot for comparing a metric across models: one row per model (labels in full, left),
 * one dot per value on a zoomed value axis (the data's range with a small margin, not from 0),
 * coloured and shaped by group (e.g. test set), with optional mean ± sd error bars (results
 * over seeds) and reference marks (e.g. published values, an open ring over the dot, so that
 * both stay visible when they coincide). Values outside the axis (see `domain`, `focus`) are
 * drawn at its edge as an arrowhead with their value.
 */
export function dotPlotSpec(rows: readonly DataRow[], opts: DotPlotSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.y, opts.x, opts.color], "dotPlotSpec");
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const parsed = rows.map((r, i) => {
    const x = num(r[opts.x]);
    if (x === null) throw new RangeError(`dotPlotSpec: row ${i}: "${opts.x}" must be a finite number, got ${String(r[opts.x])}`);
    const sd = opts.error !== undefined ? num(r[opts.error]) : null;
    const ref = opts.reference !== undefined ? num(r[opts.reference]) : null;
    return { r, x, sd, ref };
  });
  let domain = opts.domain;
  if (domain === undefined) {
    let all = parsed.flatMap((p) => [p.x, p.sd !== null ? p.x - p.sd : null, p.sd !== null ? p.x + p.sd : null, p.ref]).filter((v): v is number => v !== null);
    if (opts.clamp) {
      const [c0, c1] = opts.clamp;
      if (!(c0 < c1)) throw new RangeError(`dotPlotSpec: clamp must be [low, high] with low < high, got ${JSON.stringify(opts.clamp)}`);
    }
    if (opts.focus && all.length >= 4) {
      const sorted = [...all].sort((a, b) => a - b);
      const q1 = quantileSorted(sorted, 0.25), q3 = quantileSorted(sorted, 0.75);
      const iqr = q3 - q1;
      all = all.filter((v) => v >= q1 - 3 * iqr && v <= q3 + 3 * iqr);
    }
    let lo = Math.min(...all), hi = Math.max(...all);
    const span = hi - lo || Math.max(Math.abs(hi) * 0.01, 1e-3);
    const pad = span * (opts.margin ?? 0.1);
    lo -= pad;
    hi += pad;
    if (opts.clamp) {
      lo = Math.max(lo, opts.clamp[0]);
      hi = Math.min(hi, opts.clamp[1]);
    }
    domain = [lo, hi];
  }
  if (!(domain[0] < domain[1])) throw new RangeError(`dotPlotSpec: domain must be [low, high] with low < high, got ${JSON.stringify(domain)}`);
  const [d0, d1] = domain;
  const format = opts.format ?? ".3f";
  const values = parsed.map(({ r, x, sd, ref }): DataRow => {
    const off = x < d0 ? "left" : x > d1 ? "right" : null;
    return {
      [opts.y]: r[opts.y],
      [opts.x]: x,
      ...(opts.color !== undefined ? { [opts.color]: r[opts.color] } : {}),
      ...(opts.error !== undefined ? { [opts.error]: sd } : {}),
      // Error bars and references are clipped to the axis; an off-axis dot goes to the edge.
      [DOT.lo]: sd !== null && off === null ? Math.max(x - sd, d0) : null,
      [DOT.hi]: sd !== null && off === null ? Math.min(x + sd, d1) : null,
      [DOT.ref]: ref !== null && ref >= d0 && ref <= d1 ? ref : null,
      [DOT.off]: off,
      [DOT.edge]: off === "left" ? d0 : off === "right" ? d1 : null,
      // The printed value of an off-axis dot, with its reference when that is off the axis too.
      [DOT.label]: off === null ? null : `${d3Fixed(x, format)}${ref !== null && (ref < d0 || ref > d1) ? ` (○ ${d3Fixed(ref, format)})` : ""}`,
    };
  });
  const groups = opts.color !== undefined ? new Set(rows.map((r) => String(r[opts.color!]))).size : 1;
  const rowHeight = opts.rowHeight ?? Math.max(22, 12 * groups + 8);
  const xScale = { domain, nice: false, zero: false };
  const x = (field: string) => ({ field, type: "quantitative", scale: xScale, title: opts.xTitle ?? opts.x, axis: { format } });
  const groupEnc =
    opts.color !== undefined
      ? {
          color: { field: opts.color, type: "nominal", sort: null, title: opts.color },
          yOffset: { field: opts.color, type: "nominal", sort: null, scale: { paddingOuter: 0.5 } },
        }
      : {};
  const layer: VegaLiteSpec[] = [];
  if (opts.error !== undefined) {
    layer.push({
      transform: [{ filter: `datum.${DOT.lo} != null` }],
      mark: { type: "rule", strokeWidth: 2 },
      encoding: { x: x(DOT.lo), x2: { field: DOT.hi }, ...groupEnc, ...(opts.color === undefined ? { color: { value: "#4c78a8" } } : {}) },
    });
  }
  const tooltip = [
    { field: opts.y, type: "nominal" },
    ...(opts.color !== undefined ? [{ field: opts.color, type: "nominal" }] : []),
    { field: opts.x, type: "quantitative", format: ".4f" },
    ...(opts.error !== undefined ? [{ field: opts.error, type: "quantitative", format: ".4f", title: "sd" }] : []),
    ...(opts.reference !== undefined ? [{ field: DOT.ref, type: "quantitative", format: ".4f", title: opts.referenceTitle ?? "reference" }] : []),
  ];
  const shapeEnc = opts.color !== undefined ? { shape: { field: opts.color, type: "nominal", sort: null, title: opts.color } } : { color: { value: "#4c78a8" } };
  layer.push({
    transform: [{ filter: `datum.${DOT.off} == null` }],
    mark: { type: "point", filled: true, size: 80, opacity: 0.95 },
    encoding: { x: x(opts.x), ...groupEnc, ...shapeEnc, tooltip },
  });
  const offAxis = values.some((v) => v[DOT.off] !== null);
  if (offAxis) {
    for (const side of ["left", "right"] as const) {
      if (!values.some((v) => v[DOT.off] === side)) continue;
      layer.push({
        transform: [{ filter: `datum.${DOT.off} == '${side}'` }],
        layer: [
          { mark: { type: "point", shape: `triangle-${side}`, filled: true, size: 90, opacity: 0.95 }, encoding: { x: x(DOT.edge), ...groupEnc, ...(opts.color === undefined ? { color: { value: "#4c78a8" } } : {}), tooltip } },
          {
            mark: { type: "text", align: side === "left" ? "left" : "right", dx: side === "left" ? 9 : -9, baseline: "middle", fontSize: 10 },
            encoding: { x: x(DOT.edge), ...(opts.color !== undefined ? { yOffset: groupEnc.yOffset, color: groupEnc.color } : { color: { value: "#333" } }), text: { field: DOT.label, type: "nominal" } },
          },
        ],
      });
    }
  }
  if (opts.reference !== undefined) {
    layer.push({
      transform: [{ filter: `datum.${DOT.ref} != null` }],
      mark: { type: "point", shape: "circle", filled: false, size: 170, strokeWidth: 1.6, color: "#111", opacity: 1 },
      encoding: { x: x(DOT.ref), ...(opts.color !== undefined ? { yOffset: groupEnc.yOffset } : {}) },
    });
  }
  // What the marks mean, under the title (the colour / shape legend names the groups).
  const key = [
    ...(opts.error !== undefined ? ["bars: mean ± sd"] : []),
    ...(opts.reference !== undefined ? [`○: ${opts.referenceTitle ?? "reference"}`] : []),
    ...(offAxis ? ["▸ ◂: off the axis (value printed)"] : []),
  ];
  const title = key.length > 0 ? { text: opts.title ?? "", subtitle: key.join("   ·   "), subtitleFontSize: 11, subtitleColor: "#444" } : opts.title;
  return {
    ...baseSpec(undefined),
    ...(title !== undefined ? { title } : {}),
    data: { values },
    width: opts.width ?? 420,
    // With groups, the step is that of a whole row (the groups share it), not of one group.
    height: opts.color !== undefined ? { step: rowHeight, for: "position" } : { step: rowHeight },
    encoding: {
      y: { field: opts.y, type: "nominal", sort: null, title: opts.yTitle ?? null, axis: { labelLimit: 600, labelFontSize: 12, labelPadding: 6, grid: true, gridColor: "#f0f0f0" } },
    },
    layer,
  };
}

/** Options of {@link differenceSpec}. */
export interface DifferenceSpecOptions {
  /** Row label field (nominal), e.g. "comparison" ("iterative − standard 5k"): one row each, in row order. */
  y: string;
  /** The difference (quantitative), e.g. "difference". */
  x: string;
  /** Fields of the interval's lower and upper ends. */
  lo: string;
  hi: string;
  /** Group field, e.g. "test set": colour and shape, the group's intervals of one row side by side. */
  color?: string;
  title?: string;
  /** What the interval is, shown under the title (e.g. "95% CI, paired bootstrap over rows"). */
  intervalTitle?: string;
  /** What the dot is, in that subtitle (default "difference"; e.g. "mean" for means with intervals). */
  pointTitle?: string;
  /** What the dashed line at 0 means, in that subtitle (default "no difference"; e.g. "logit 0 (p = 0.5)"). */
  zeroTitle?: string;
  /** Value axis title (default: the field name). */
  xTitle?: string;
  /** d3 format of the axis and tooltips (default "+.3f"). */
  format?: string;
  width?: number;
  /** Height of one row in px (default 12 per group + 10). */
  rowHeight?: number;
}

/**
 * Differences (or any values where 0 means something, e.g. mean logits) with their intervals
 * (e.g. AP of one model minus another's, with a bootstrap CI):
 * one row per comparison, a dot at the difference and a bar over the interval, a dashed line at
 * 0 — an interval that does not cross it is a resolved difference. The axis spans the intervals
 * and 0, so differences of a few thousandths are as visible as their uncertainty.
 */
export function differenceSpec(rows: readonly DataRow[], opts: DifferenceSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.y, opts.x, opts.lo, opts.hi, opts.color], "differenceSpec");
  rows.forEach((r, i) => {
    for (const f of [opts.x, opts.lo, opts.hi]) {
      if (typeof r[f] !== "number" || !Number.isFinite(r[f] as number)) throw new RangeError(`differenceSpec: row ${i}: "${f}" must be a finite number, got ${String(r[f])}`);
    }
    if (!((r[opts.lo] as number) <= (r[opts.hi] as number))) throw new RangeError(`differenceSpec: row ${i}: "${opts.lo}" exceeds "${opts.hi}"`);
  });
  const ends = rows.flatMap((r) => [r[opts.lo] as number, r[opts.hi] as number]).concat([0]);
  const lo = Math.min(...ends), hi = Math.max(...ends);
  const pad = 0.08 * (hi - lo || 1e-3);
  const domain = [lo - pad, hi + pad];
  const format = opts.format ?? "+.3f";
  const groups = opts.color !== undefined ? new Set(rows.map((r) => String(r[opts.color!]))).size : 1;
  const xEnc = (field: string) => ({ field, type: "quantitative", scale: { domain, nice: false, zero: false }, title: opts.xTitle ?? opts.x, axis: { format } });
  const groupEnc = opts.color !== undefined
    ? { color: { field: opts.color, type: "nominal", sort: null, title: opts.color }, yOffset: { field: opts.color, type: "nominal", sort: null, scale: { paddingOuter: 0.6 } } }
    : { color: { value: "#4c78a8" } };
  const title = opts.intervalTitle ? { text: opts.title ?? "", subtitle: `dot: ${opts.pointTitle ?? "difference"} · bar: ${opts.intervalTitle} · dashed: ${opts.zeroTitle ?? "no difference"}`, subtitleFontSize: 11, subtitleColor: "#444" } : opts.title;
  return {
    ...baseSpec(undefined),
    ...(title !== undefined ? { title } : {}),
    data: { values: pickFields(rows, [opts.y, opts.x, opts.lo, opts.hi, opts.color]) },
    width: opts.width ?? 420,
    height: opts.color !== undefined ? { step: opts.rowHeight ?? 12 * groups + 10, for: "position" } : { step: opts.rowHeight ?? 22 },
    encoding: {
      y: { field: opts.y, type: "nominal", sort: null, title: null, axis: { labelLimit: 900, labelFontSize: 12, labelPadding: 6, grid: true, gridColor: "#f0f0f0" } },
    },
    layer: [
      { data: { values: [{ zero: 0 }] }, mark: { type: "rule", color: "#777", strokeDash: [5, 4], strokeWidth: 1.2 }, encoding: { x: xEnc("zero"), y: null } },
      { mark: { type: "rule", strokeWidth: 2.5 }, encoding: { x: xEnc(opts.lo), x2: { field: opts.hi }, ...groupEnc } },
      {
        mark: { type: "point", filled: true, size: 60, opacity: 1 },
        encoding: {
          x: xEnc(opts.x), ...groupEnc,
          ...(opts.color !== undefined ? { shape: { field: opts.color, type: "nominal", sort: null, title: opts.color } } : {}),
          tooltip: [
            { field: opts.y, type: "nominal" },
            ...(opts.color !== undefined ? [{ field: opts.color, type: "nominal" }] : []),
            { field: opts.x, type: "quantitative", format: "+.4f" },
            { field: opts.lo, type: "quantitative", format: "+.4f" },
            { field: opts.hi, type: "quantitative", format: "+.4f" },
          ],
        },
      },
    ],
  };
}

/** Options of {@link lineSpec}. */
export interface LineSpecOptions {
  /** x field (quantitative), e.g. "epoch". */
  x: string;
  /**
   * y field(s) (quantitative). Several fields, e.g. ["loss", "valLoss"], become one line each,
   * coloured by field name (then `color` must not be given).
   */
  y: string | string[];
  /** Optional series field: one line per value, e.g. "split" or "fold". */
  color?: string;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Logarithmic y axis (e.g. for losses). */
  logY?: boolean;
  /** Draw a dot at each point (default: when a line has at most 60 points). */
  points?: boolean;
  width?: number;
  height?: number;
}

/** Line chart of a table, e.g. training curves (loss or AUC per epoch, one line per split). */
export function lineSpec(rows: readonly DataRow[], opts: LineSpecOptions): VegaLiteSpec {
  const yFields = Array.isArray(opts.y) ? opts.y : [opts.y];
  if (yFields.length === 0) throw new RangeError("lineSpec: no y field given");
  if (yFields.length > 1 && opts.color) {
    throw new RangeError("lineSpec: give either several y fields or a color field, not both");
  }
  checkFields(rows, [opts.x, ...yFields, opts.color], "lineSpec");
  const folded = yFields.length > 1;
  const seriesField = folded ? "series" : opts.color;
  const valueField = folded ? "value" : yFields[0];
  const seriesCount = seriesField ? new Set(rows.map((r) => String(r[opts.color ?? ""]))).size : 1;
  const pointsPerLine = rows.length / (folded ? 1 : seriesCount);
  const points = opts.points ?? pointsPerLine <= 60;
  // Epochs, iterations: whole-number ticks only (as linePanelsSpec), never "1.2 epochs".
  const integerX = rows.every((r) => Number.isInteger(r[opts.x]));
  return {
    ...baseSpec(opts.title),
    data: { values: pickFields(rows, [opts.x, ...yFields, opts.color]) },
    ...(folded ? { transform: [{ fold: yFields, as: ["series", "value"] }] } : {}),
    width: opts.width ?? 420,
    height: opts.height ?? 260,
    mark: { type: "line", strokeWidth: 2, point: points ? { size: 20 } : false },
    encoding: {
      x: { field: opts.x, type: "quantitative", title: opts.xTitle ?? opts.x, ...(integerX ? { axis: { tickMinStep: 1, format: "d" } } : {}) },
      y: {
        field: valueField,
        type: "quantitative",
        title: opts.yTitle ?? (folded ? yFields.join(", ") : valueField),
        scale: opts.logY ? { type: "log" } : { zero: false },
      },
      ...(seriesField
        ? { color: { field: seriesField, type: "nominal", sort: folded ? yFields : null, title: folded ? null : seriesField } }
        : {}),
      tooltip: [
        { field: opts.x, type: "quantitative" },
        { field: valueField, type: "quantitative", format: ".4g" },
        ...(seriesField ? [{ field: seriesField, type: "nominal" }] : []),
      ],
    },
  };
}

/** Options of {@link linePanelsSpec}. */
export interface LinePanelsSpecOptions {
  /** x field (quantitative), e.g. "iteration". */
  x: string;
  /** y field (quantitative), e.g. "validation F1". */
  y: string;
  /** Series field within a panel, e.g. "seed": one line and colour each, the same colours in every panel. */
  color: string;
  /** Panel field, e.g. "loop": one panel per value, in order of first appearance (or `panels`). */
  panel: string;
  /** Panels to draw, in order (default: every value of `panel`). */
  panels?: string[];
  /** Title of each panel (default: its value), e.g. to say what the y values mean there; an array is one line each. */
  panelTitles?: Record<string, string | string[]>;
  /**
   * One y scale for all panels (default true: values compared across panels); false when the
   * panels' y values are different quantities (each panel then has its own axis and title).
   */
  sharedY?: boolean;
  /** y axis title (default: the field name); per panel with `panelYTitles`. */
  yTitle?: string;
  panelYTitles?: Record<string, string>;
  xTitle?: string;
  /** Legend title of the series (default: the field name). */
  colorTitle?: string;
  title?: string;
  /** Panels per row (default all in one row). */
  columns?: number;
  /** Size of one panel in px (default 300 x 200). */
  width?: number;
  height?: number;
}

/**
 * Line charts split into panels (small multiples), e.g. learning curves per training loop,
 * coloured by seed: one panel per value of `panel`, one line per value of `color` in each, the
 * colours the same in every panel. y is shared between panels unless `sharedY` is false.
 */
export function linePanelsSpec(rows: readonly DataRow[], opts: LinePanelsSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.x, opts.y, opts.color, opts.panel], "linePanelsSpec");
  const panels = opts.panels ?? [...new Set(rows.map((r) => String(r[opts.panel])))];
  for (const p of panels) if (!rows.some((r) => String(r[opts.panel]) === p)) throw new RangeError(`linePanelsSpec: no rows for panel "${p}"`);
  const sharedY = opts.sharedY ?? true;
  const series = [...new Set(rows.map((r) => String(r[opts.color])))];
  const pointsPerLine = rows.length / Math.max(1, series.length * panels.length);
  const values = pickFields(rows.filter((r) => panels.includes(String(r[opts.panel]))), [opts.x, opts.y, opts.color, opts.panel]);
  // Epochs, iterations, ratios: whole-number ticks only.
  const integerX = values.every((r) => Number.isInteger(r[opts.x]));
  const integerY = values.every((r) => r[opts.y] === null || Number.isInteger(r[opts.y]));
  const panel = (p: string): VegaLiteSpec => ({
    title: { text: opts.panelTitles?.[p] ?? p, fontSize: 12, fontWeight: "normal" },
    width: opts.width ?? 300,
    height: opts.height ?? 200,
    transform: [{ filter: { field: opts.panel, equal: p } }],
    mark: { type: "line", strokeWidth: 1.8, point: pointsPerLine <= 60 ? { size: 16 } : false },
    encoding: {
      x: { field: opts.x, type: "quantitative", title: opts.xTitle ?? opts.x, ...(integerX ? { axis: { tickMinStep: 1, format: "d" } } : {}) },
      y: { field: opts.y, type: "quantitative", title: opts.panelYTitles?.[p] ?? opts.yTitle ?? opts.y, scale: { zero: false }, ...(integerY ? { axis: { tickMinStep: 1, format: "d" } } : {}) },
      color: { field: opts.color, type: "nominal", sort: series, title: opts.colorTitle ?? opts.color },
      tooltip: [
        { field: opts.panel, type: "nominal" },
        { field: opts.color, type: "nominal" },
        { field: opts.x, type: "quantitative" },
        { field: opts.y, type: "quantitative", format: ".4g" },
      ],
    },
  });
  const columns = opts.columns ?? panels.length;
  return {
    ...baseSpec(opts.title),
    data: { values },
    // One row: hconcat (a grid would align the panels' title rows and leave gaps).
    ...(columns >= panels.length ? { hconcat: panels.map(panel) } : { concat: panels.map(panel), columns }),
    spacing: 20,
    resolve: { scale: { color: "shared", x: "shared", y: sharedY ? "shared" : "independent" }, axis: { y: "independent" } },
  };
}

// ---------------------------------------------------------------------------------------------
// Heatmap (binding matrices)
// ---------------------------------------------------------------------------------------------

/** A matrix: `values` shape=(rows, cols), row-major (values[r * cols + c]). */
export interface HeatmapMatrix {
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  /** One label per row (may repeat, e.g. nucleotides); default 1..rows. */
  rowLabels?: string[];
  /** One label per column; default 1..cols. */
  colLabels?: string[];
}

/** Options of {@link heatmapSpec}. */
export interface HeatmapSpecOptions {
  title?: string;
  /** Default "Target site nucleotide" (binding-matrix rows). */
  rowTitle?: string;
  /** Default "miRNA nucleotide" (binding-matrix columns). */
  colTitle?: string;
  /** Legend title (default "value"). */
  valueTitle?: string;
  /** Colour scale domain (default: data range). */
  domain?: [number, number];
  /** Vega colour scheme (default "viridis"). */
  scheme?: string;
  /** Cell size in px (default: 14 px, smaller for big matrices so the figure stays <= ~700 px). */
  cellSize?: number;
  /**
   * Cell height in px when it should differ from the width (default `cellSize`): a few rows of
   * many narrow columns (e.g. properties × latent dimensions) stay tall enough for a label each.
   */
  cellHeight?: number;
  /**
   * Label every k-th column (default: every column when the labels fit, else the first of every
   * 2, 5, 10, 20, 25, 50, … columns, whichever is the smallest that keeps labels apart).
   */
  xTickEvery?: number;
  /** Label every k-th row (default: as for columns). */
  yTickEvery?: number;
}

/** Steps a sparse axis may label every k-th cell by. */
const TICK_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

/** The smallest tick step whose labels (of `longest` characters at ~6.5 px each) are `minGap` px apart. */
function tickStep(cell: number, longest: number, horizontal: boolean, count: number): number {
  const need = horizontal ? Math.max(12, 6.5 * longest + 6) : 13;
  return TICK_STEPS.find((k) => k * cell >= need) ?? Math.max(1, count);
}

/**
 * Heatmap of a matrix, e.g. a 50 x 20 binding matrix (rows = target-site nucleotides from the
 * 5' end, top to bottom; columns = miRNA nucleotides, left to right). Cells are positioned by
 * index, so repeated labels (A, C, G, U...) are fine. Non-finite values are left blank.
 */
export function heatmapSpec(matrix: HeatmapMatrix, opts: HeatmapSpecOptions = {}): VegaLiteSpec {
  const { rows, cols, values } = matrix;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new RangeError(`heatmapSpec: rows and cols must be positive integers, got ${rows} x ${cols}`);
  }
  if (values.length !== rows * cols) {
    throw new RangeError(`heatmapSpec: ${rows} x ${cols} matrix needs ${rows * cols} values, got ${values.length}`);
  }
  const rowLabels = matrix.rowLabels ?? Array.from({ length: rows }, (_, i) => String(i + 1));
  const colLabels = matrix.colLabels ?? Array.from({ length: cols }, (_, i) => String(i + 1));
  if (rowLabels.length !== rows) throw new RangeError(`heatmapSpec: ${rowLabels.length} row labels for ${rows} rows`);
  if (colLabels.length !== cols) throw new RangeError(`heatmapSpec: ${colLabels.length} column labels for ${cols} columns`);

  // Columnar: one array of values, expanded by the transforms below into one row per cell
  // (r, c, labels), so a 25 x 100 map costs ~8 bytes per cell in the notebook, not ~50.
  const columnValues: (number | null)[] = Array.from(values, (v) => (Number.isFinite(v) ? round4(v) : null));
  const cell = opts.cellSize ?? Math.max(4, Math.min(14, Math.floor(700 / Math.max(rows, cols))));
  const cellHeight = opts.cellHeight ?? cell;
  if (!(cellHeight > 0)) throw new RangeError(`heatmapSpec: cellHeight must be > 0, got ${opts.cellHeight}`);
  // Labels by index: an ordinal axis over labels would merge repeated ones.
  const labelAt = (labels: string[]) => `${JSON.stringify(labels)}[datum.value]`;
  const longest = (labels: string[]) => Math.max(...labels.map((l) => l.length));
  for (const [name, k] of [["xTickEvery", opts.xTickEvery], ["yTickEvery", opts.yTickEvery]] as const) {
    if (k !== undefined && !(Number.isInteger(k) && k >= 1)) throw new RangeError(`heatmapSpec: ${name} must be a positive integer, got ${k}`);
  }
  const xStep = opts.xTickEvery ?? tickStep(cell, longest(colLabels), true, cols);
  const yStep = opts.yTickEvery ?? tickStep(cellHeight, longest(rowLabels), false, rows);
  /** Axis properties: every `step`-th index labelled, at a readable size. */
  const sparse = (step: number, count: number, size: number) => ({
    ...(step > 1 ? { values: Array.from({ length: Math.ceil(count / step) }, (_, i) => i * step), ticks: true, tickSize: 3 } : {}),
    labelFontSize: Math.max(7, Math.min(11, step * size - 3)),
  });
  const valueTitle = opts.valueTitle ?? "value";
  return {
    ...baseSpec(opts.title, { grid: false, ticks: false, domain: false }),
    data: { values: [{ v: columnValues }] },
    transform: [
      { flatten: ["v"] },
      { window: [{ op: "row_number", as: "k" }] },
      { calculate: `floor((datum.k - 1) / ${cols})`, as: "r" },
      { calculate: `(datum.k - 1) % ${cols}`, as: "c" },
      { calculate: `${JSON.stringify(rowLabels)}[datum.r]`, as: "rl" },
      { calculate: `${JSON.stringify(colLabels)}[datum.c]`, as: "cl" },
    ],
    width: cols * cell,
    height: rows * cellHeight,
    mark: { type: "rect" },
    encoding: {
      x: {
        field: "c",
        type: "ordinal",
        title: opts.colTitle ?? "miRNA nucleotide",
        axis: { labelExpr: labelAt(colLabels), labelAngle: 0, orient: "top", ...sparse(xStep, cols, cell) },
      },
      y: {
        field: "r",
        type: "ordinal",
        title: opts.rowTitle ?? "Target site nucleotide",
        axis: { labelExpr: labelAt(rowLabels), ...sparse(yStep, rows, cellHeight) },
      },
      color: {
        field: "v",
        type: "quantitative",
        title: valueTitle,
        scale: { scheme: opts.scheme ?? "viridis", ...(opts.domain ? { domain: opts.domain } : {}) },
      },
      tooltip: [
        { field: "rl", type: "nominal", title: "row" },
        { field: "r", type: "ordinal", title: "row index" },
        { field: "cl", type: "nominal", title: "column" },
        { field: "c", type: "ordinal", title: "column index" },
        { field: "v", type: "quantitative", title: valueTitle, format: ".4g" },
      ],
    },
  };
}

/** Options of {@link concatSpecs}. */
export interface ConcatSpecOptions {
  title?: string;
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Share the colour scale between panels (default false: each panel keeps its own legend). */
  sharedColor?: boolean;
  /** Share the y scale between panels (default false), so panels that compare one quantity read alike. */
  sharedY?: boolean;
  /** Where the legends go (default: right of each panel); "bottom" keeps side-by-side panels narrow. */
  legendOrient?: "right" | "bottom";
  /** Entries per row of a legend below the panels (default 3), so a long legend wraps instead of widening the figure. */
  legendColumns?: number;
}

/**
 * Several figures of this module side by side in one figure (e.g. our saliency map next to the
 * published one), wrapped into rows of `columns` panels. Each panel keeps its data, title and
 * encodings; the config of the first one applies to all.
 */
export function concatSpecs(specs: readonly VegaLiteSpec[], opts: ConcatSpecOptions = {}): VegaLiteSpec {
  if (specs.length === 0) throw new RangeError("concatSpecs: no figures to combine");
  const panels = specs.map((spec) => {
    const { $schema: _schema, config: _config, background: _background, padding: _padding, ...panel } = spec;
    return panel;
  });
  const config = (specs[0]!.config ?? baseSpec(undefined).config) as Record<string, unknown>;
  return {
    ...baseSpec(opts.title),
    config: opts.legendOrient
      ? { ...config, legend: { ...(config.legend as Record<string, unknown>), orient: opts.legendOrient, ...(opts.legendOrient === "bottom" ? { columns: opts.legendColumns ?? 3 } : {}) } }
      : config,
    concat: panels,
    columns: opts.columns ?? specs.length,
    spacing: 24,
    resolve: { scale: { color: opts.sharedColor ? "shared" : "independent", ...(opts.sharedY ? { y: "shared" } : {}) } },
  };
}

/** One box of {@link boxPlotSpec}: precomputed statistics (e.g. mutagenesisSummary rows) and the fields named by `x` and `color`. */
export interface BoxPlotRow {
  lowerWhisker: number;
  q1: number;
  median: number;
  q3: number;
  upperWhisker: number;
}

/** Options of {@link boxPlotSpec}. */
export interface BoxPlotSpecOptions {
  /** Category field along x (e.g. "position"; integers sort numerically). */
  x: string;
  /** Group field: boxes of a category side by side, one colour each (e.g. "model"). */
  color?: string;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Width of one category in px, all its groups together (default 22, 16 per group with groups). */
  step?: number;
  height?: number;
  /** Numeric categories: label only the first and every k-th (e.g. 5 for 50 site positions); default every one. */
  xLabelEvery?: number;
}

/**
 * Box plots from precomputed statistics (no raw values in the spec, so thousands of values per
 * box cost nothing): a box from q1 to q3, a white median tick, whiskers to the Tukey whisker
 * ends; outliers are not drawn. A dashed rule at 0.
 */
export function boxPlotSpec(rows: readonly BoxPlotRow[], opts: BoxPlotSpecOptions): VegaLiteSpec {
  const table = rows as unknown as readonly DataRow[];
  checkFields(table, [opts.x, opts.color, "lowerWhisker", "q1", "median", "q3", "upperWhisker"], "boxPlotSpec");
  const values = pickFields(table, [opts.x, opts.color, "lowerWhisker", "q1", "median", "q3", "upperWhisker"]).map((r) => {
    for (const f of ["lowerWhisker", "q1", "median", "q3", "upperWhisker"]) {
      const v = r[f];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`boxPlotSpec: "${f}" must be a finite number, got ${String(v)}`);
      r[f] = round4(v);
    }
    return r;
  });
  const numeric = table.every((r) => typeof r[opts.x] === "number");
  const every = opts.xLabelEvery ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`boxPlotSpec: xLabelEvery must be a positive integer, got ${every}`);
  const labelled = numeric && every > 1 ? { values: [...new Set(table.map((r) => r[opts.x] as number))].sort((a, b) => a - b).filter((v, i) => i === 0 || v % every === 0) } : {};
  const x = { field: opts.x, type: "ordinal", title: opts.xTitle ?? opts.x, sort: numeric ? "ascending" : null, axis: { labelAngle: 0, ...labelled } };
  const group = opts.color ? { color: { field: opts.color, type: "nominal", sort: null, title: opts.color }, xOffset: { field: opts.color, type: "nominal", sort: null } } : {};
  const y = (field: string) => ({ field, type: "quantitative", title: opts.yTitle ?? "value" });
  const groups = opts.color ? new Set(table.map((r) => String(r[opts.color!]))).size : 1;
  const step = opts.step ?? (opts.color ? 16 * groups + 6 : 22);
  return {
    ...baseSpec(opts.title),
    width: { step, ...(opts.color ? { for: "position" } : {}) },
    height: opts.height ?? 260,
    layer: [
      { data: { values: [{ __zero: 0 }] }, mark: { type: "rule", color: "#888", strokeDash: [3, 3] }, encoding: { y: { field: "__zero", type: "quantitative" } } },
      {
        data: { values },
        layer: [
          { mark: { type: "rule", color: "#333" }, encoding: { x, y: y("lowerWhisker"), y2: { field: "upperWhisker" }, ...(opts.color ? { xOffset: group.xOffset } : {}) } },
          {
            mark: { type: "bar", width: { band: 0.8 }, ...(opts.color ? {} : { color: "#4c78a8" }) },
            encoding: {
              x, y: y("q1"), y2: { field: "q3" }, ...group,
              tooltip: [
                { field: opts.x, type: "ordinal", title: opts.xTitle ?? opts.x },
                ...(opts.color ? [{ field: opts.color, type: "nominal" }] : []),
                ...["upperWhisker", "q3", "median", "q1", "lowerWhisker"].map((f) => ({ field: f, type: "quantitative", format: ".4f" })),
              ],
            },
          },
          { mark: { type: "tick", color: "white", thickness: 2, bandSize: (step * 0.8) / groups }, encoding: { x, y: y("median"), ...(opts.color ? { xOffset: group.xOffset } : {}) } },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Distributions and requested-vs-achieved values (the conditional VAE)
// ---------------------------------------------------------------------------------------------

/** Options of {@link histogramsSpec}. */
export interface HistogramsSpecOptions {
  /** Quantitative fields, one panel each (e.g. ["length", "gc", "mfe", "loop"]). */
  fields: string[];
  /** Series field (e.g. "source": generated / real): overlaid, one colour each. */
  color: string;
  /** Panel titles by field (default: the field name). */
  titles?: Record<string, string>;
  /** Bins per panel (default 30). */
  maxBins?: number;
  title?: string;
  /** Panels per row (default 2). */
  columns?: number;
  /** Size of one panel in px (default 300 × 160). */
  width?: number;
  height?: number;
}

/**
 * Overlaid histograms of several quantities, one panel per field, each series normalised to
 * its own total (fraction of that series per bin, so series of different sizes compare), drawn
 * as semi-transparent steps of one colour per series. Rows missing a field (or with a non-finite
 * value) are left out of that panel.
 */
export function histogramsSpec(rows: readonly DataRow[], opts: HistogramsSpecOptions): VegaLiteSpec {
  if (opts.fields.length === 0) throw new RangeError("histogramsSpec: no fields given");
  checkFields(rows, [opts.color], "histogramsSpec");
  const panels = opts.fields.map((field) => {
    const values = rows
      .filter((r) => typeof r[field] === "number" && Number.isFinite(r[field] as number))
      .map((r) => ({ v: round4(r[field] as number), s: r[opts.color] }));
    if (values.length === 0) throw new RangeError(`histogramsSpec: no finite values of "${field}"`);
    return {
      title: { text: opts.titles?.[field] ?? field, fontSize: 12, fontWeight: "normal" },
      data: { values },
      transform: [
        { bin: { maxbins: opts.maxBins ?? 30 }, field: "v", as: ["b0", "b1"] },
        { aggregate: [{ op: "count", as: "count" }], groupby: ["b0", "b1", "s"] },
        { joinaggregate: [{ op: "sum", field: "count", as: "total" }], groupby: ["s"] },
        { calculate: "datum.count / datum.total", as: "fraction" },
      ],
      width: opts.width ?? 300,
      height: opts.height ?? 160,
      mark: { type: "bar", opacity: 0.5, binSpacing: 0 },
      encoding: {
        x: { field: "b0", type: "quantitative", bin: { binned: true }, title: opts.titles?.[field] ?? field },
        x2: { field: "b1" },
        y: { field: "fraction", type: "quantitative", stack: null, title: "fraction" },
        color: { field: "s", type: "nominal", title: opts.color, sort: null },
        tooltip: [
          { field: "s", type: "nominal", title: opts.color },
          { field: "b0", type: "quantitative", title: "from", format: ".3g" },
          { field: "b1", type: "quantitative", title: "to", format: ".3g" },
          { field: "fraction", type: "quantitative", format: ".3f" },
        ],
      },
    };
  });
  return {
    ...baseSpec(opts.title),
    concat: panels,
    columns: opts.columns ?? 2,
    spacing: 24,
    resolve: { scale: { color: "shared" } },
  };
}

/** One bin of a pre-binned histogram: [from, to) and the fraction of each series in it. */
export interface HistogramBin {
  from: number;
  to: number;
  /** Fraction of each series' values in the bin (series name → fraction). */
  fractions: Record<string, number>;
}

/** One panel of {@link binnedHistogramsSpec}. */
export interface BinnedHistogramPanel {
  /** Panel title (also the x axis title). */
  title: string;
  /** Shared bins, in order. */
  bins: readonly HistogramBin[];
  /** A line under the title (e.g. the distance between the series). */
  subtitle?: string;
}

/** Options of {@link binnedHistogramsSpec}. */
export interface BinnedHistogramsSpecOptions {
  /** The series, in legend order (each bin gives a fraction for every one). */
  series: readonly string[];
  /** Legend title (default "source"). */
  seriesTitle?: string;
  title?: string;
  /** Panels per row (default 3). */
  columns?: number;
  /** Size of one panel in px (default 240 × 140). */
  width?: number;
  height?: number;
}

/**
 * Histograms computed beforehand (so a figure of thousands of values carries only its bins),
 * one panel per quantity, each series drawn as a step outline of its own colour over shared
 * bins, the fractions of each series summing to 1 per panel. Panel titles sit over the plot
 * area, whatever the width of the axis labels.
 */
export function binnedHistogramsSpec(panels: readonly BinnedHistogramPanel[], opts: BinnedHistogramsSpecOptions): VegaLiteSpec {
  if (panels.length === 0) throw new RangeError("binnedHistogramsSpec: no panels given");
  if (opts.series.length === 0) throw new RangeError("binnedHistogramsSpec: no series given");
  const seriesTitle = opts.seriesTitle ?? "source";
  return {
    ...baseSpec(opts.title),
    concat: panels.map((panel, k) => {
      if (panel.bins.length === 0) throw new RangeError(`binnedHistogramsSpec: panel ${k} ("${panel.title}") has no bins`);
      const values = panel.bins.flatMap((b, i) => opts.series.map((series) => {
        const f = b.fractions[series];
        if (typeof f !== "number" || !Number.isFinite(f)) throw new RangeError(`binnedHistogramsSpec: panel "${panel.title}", bin ${i}: no fraction for "${series}"`);
        return { b0: round4(b.from), b1: round4(b.to), f: round4(f), s: series };
      }));
      return {
        title: { text: panel.title, fontSize: 12, fontWeight: "normal", anchor: "start", frame: "group", ...(panel.subtitle ? { subtitle: panel.subtitle, subtitleFontSize: 10, subtitleColor: "#555" } : {}) },
        data: { values },
        width: opts.width ?? 240,
        height: opts.height ?? 140,
        mark: { type: "bar", opacity: 0.45, binSpacing: 0, stroke: null },
        encoding: {
          x: { field: "b0", type: "quantitative", bin: { binned: true }, title: panel.title, axis: { titleFontSize: 11 } },
          x2: { field: "b1" },
          y: { field: "f", type: "quantitative", stack: null, title: "fraction" },
          color: { field: "s", type: "nominal", title: seriesTitle, sort: [...opts.series], scale: { domain: [...opts.series] }, legend: { orient: "top", direction: "horizontal" } },
          tooltip: [
            { field: "s", type: "nominal", title: seriesTitle },
            { field: "b0", type: "quantitative", title: "from", format: ".3g" },
            { field: "b1", type: "quantitative", title: "to", format: ".3g" },
            { field: "f", type: "quantitative", title: "fraction", format: ".3f" },
          ],
        },
      };
    }),
    columns: opts.columns ?? 3,
    spacing: 20,
    resolve: { scale: { color: "shared" } },
  };
}

/** Options of {@link comparisonScatterSpec}. */
export interface ComparisonScatterSpecOptions {
  xTitle: string;
  yTitle: string;
  title?: string;
  /** Label the points farthest from the diagonal (default 6). */
  labelTop?: number;
  /** Size of the plot in px (default 320). */
  size?: number;
}

/**
 * One value against another per item (e.g. each 3-mer's frequency in generated against real
 * hairpins): a point per item on equal axes, the diagonal y = x dashed, and the items farthest
 * from it labelled.
 */
export function comparisonScatterSpec(rows: readonly { label: string; x: number; y: number }[], opts: ComparisonScatterSpecOptions): VegaLiteSpec {
  if (rows.length === 0) throw new RangeError("comparisonScatterSpec: no points");
  rows.forEach((r, i) => {
    if (!Number.isFinite(r.x) || !Number.isFinite(r.y)) throw new RangeError(`comparisonScatterSpec: point ${i} ("${r.label}") is not finite`);
  });
  const top = opts.labelTop ?? 6;
  const far = new Set([...rows].sort((a, b) => Math.abs(b.y - b.x) - Math.abs(a.y - a.x)).slice(0, top).map((r) => r.label));
  const values = rows.map((r) => ({ l: r.label, x: round4(r.x), y: round4(r.y), t: far.has(r.label) ? r.label : "" }));
  const hi = Math.max(...rows.flatMap((r) => [r.x, r.y]));
  const lo = Math.min(0, ...rows.flatMap((r) => [r.x, r.y]));
  const domain = [round4(lo), round4(hi * 1.05)];
  const size = opts.size ?? 320;
  const x = { field: "x", type: "quantitative", title: opts.xTitle, scale: { domain } };
  const y = { field: "y", type: "quantitative", title: opts.yTitle, scale: { domain } };
  return {
    ...baseSpec(opts.title),
    width: size,
    height: size,
    layer: [
      { data: { values: [{ x: domain[0], y: domain[0] }, { x: domain[1], y: domain[1] }] }, mark: { type: "line", color: "#999", strokeDash: [4, 3] }, encoding: { x, y } },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 30, color: "#4c78a8" },
        encoding: { x, y, tooltip: [{ field: "l", type: "nominal", title: "item" }, { field: "x", type: "quantitative", title: opts.xTitle, format: ".4f" }, { field: "y", type: "quantitative", title: opts.yTitle, format: ".4f" }] },
      },
      { data: { values }, mark: { type: "text", dx: 4, dy: -6, align: "left", fontSize: 10, color: "#333" }, encoding: { x, y, text: { field: "t" } } },
    ],
  };
}
