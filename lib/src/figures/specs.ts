/**
 * Figures: Vega-Lite specs built from plain data (pure functions). Rendering to SVG / PNG is
 * render.ts, notebook display display.ts.
 *
 * Specs declare the Vega-Lite 5 schema: notebooks show them under the MIME type
 * `application/vnd.vegalite.v5+json` (display.ts), which JupyterLab 4 draws with Vega-Lite 5,
 * and the two versions must agree. They are written in grammar that Vega-Lite 5 and 6 share:
 * this package compiles them with Vega-Lite 6 (render.ts) for the SVG / PNG, without warnings.
 */

/** A Vega-Lite specification (JSON-serialisable). */
export type VegaLiteSpec = Record<string, unknown>;

/** `$schema` of every spec built here: the version of `VEGA_LITE_MIME` in display.ts. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Default upper bound on points kept per curve (ROC/PR), see {@link downsampleCurve}. */
export const DEFAULT_MAX_CURVE_POINTS = 500;

/** Font of every spec: DejaVu Sans (Debian's default sans) first, then common browser fonts. */
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** Shared look: white background (readable in dark-mode viewers), readable font sizes. */
function baseSpec(title: string | undefined, axis: Record<string, unknown> = {}): VegaLiteSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...(title ? { title } : {}),
    background: "white",
    padding: 8,
    config: {
      font: FONT,
      view: { stroke: "#bbb" },
      title: { fontSize: 14, fontWeight: "bold", anchor: "start", offset: 10 },
      axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#e6e6e6", ...axis },
      legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", labelLimit: 400, symbolStrokeWidth: 3 },
    },
  };
}

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
 * @param x x coordinates, length n
 * @param y y coordinates, length n (same order)
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
    const xi = x[i], yi = y[i];
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) {
      throw new RangeError(`${name}: point ${i} is not finite (x=${xi}, y=${yi})`);
    }
    if (xi < xMin) xMin = xi;
    if (xi > xMax) xMax = xi;
    if (yi < yMin) yMin = yi;
    if (yi > yMax) yMax = yi;
  }
  const all = (indices: number[]): DownsampledCurve => ({
    x: indices.map((i) => x[i]),
    y: indices.map((i) => y[i]),
    indices,
  });
  if (n <= maxPoints) return all(Array.from({ length: n }, (_, i) => i));

  const xRange = xMax - xMin || 1;
  const yRange = yMax - yMin || 1;
  const cumulative = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const dx = (x[i] - x[i - 1]) / xRange;
    const dy = (y[i] - y[i - 1]) / yRange;
    cumulative[i] = cumulative[i - 1] + Math.hypot(dx, dy);
  }
  const total = cumulative[n - 1];
  if (!(total > 0)) return all([0, n - 1]); // every point is the same point

  // Interior targets k*step for k = 1..maxPoints-2; each keeps the first point reaching it.
  const step = total / (maxPoints - 1);
  const kept = [0];
  let k = 1;
  for (let i = 1; i < n - 1 && k <= maxPoints - 2; i++) {
    if (cumulative[i] >= k * step) {
      kept.push(i);
      while (k <= maxPoints - 2 && k * step <= cumulative[i]) k++;
    }
  }
  kept.push(n - 1);
  return all(kept);
}

/** Rounds to 4 decimals: finer than a pixel of any figure here, and keeps the JSON small. */
function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
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
  /** Plot area size in px (default 360 x 360). */
  width?: number;
  height?: number;
  /** Upper bound on points kept per curve (default 1,000). */
  maxPoints?: number;
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
 * ROC curves, one line per model, with the chance diagonal. Axes: false positive rate (x) and
 * true positive rate (y), both [0, 1]; the legend shows "name (AUC 0.xxx)" in the given order.
 */
export function rocCurveSpec(curves: RocCurveSeries[], opts: CurveSpecOptions = {}): VegaLiteSpec {
  if (curves.length === 0) throw new RangeError("rocCurveSpec: no curves given");
  const labelled = curves.map((c) => ({ label: curveLabel(c.name, "AUC", c.auc), x: c.fpr, y: c.tpr }));
  checkUniqueNames(labelled.map((c) => c.label), "rocCurveSpec");
  const values = curveRows(labelled, "fpr", "tpr", opts.maxPoints ?? DEFAULT_MAX_CURVE_POINTS);
  const unit = { type: "quantitative", scale: { domain: [0, 1], nice: false } };
  const xUnit = { ...unit, axis: { labelFlush: true } };
  return {
    ...baseSpec(opts.title ?? "ROC curve"),
    width: opts.width ?? 360,
    height: opts.height ?? 360,
    layer: [
      {
        data: { values: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }] },
        mark: { type: "line", color: "#999", strokeDash: [5, 4], strokeWidth: 1 },
        encoding: { x: { field: "fpr", ...xUnit }, y: { field: "tpr", ...unit } },
      },
      {
        data: { values },
        transform: [{ flatten: ["fpr", "tpr", "i"] }],
        mark: { type: "line", strokeWidth: 2, clip: true },
        encoding: {
          x: { field: "fpr", ...xUnit, title: "False positive rate" },
          y: { field: "tpr", ...unit, title: "True positive rate" },
          color: {
            field: "model",
            type: "nominal",
            scale: { domain: labelled.map((c) => c.label) },
            legend: { title: null, orient: "bottom-right", fillColor: "white", padding: 6, strokeColor: "#ccc" },
          },
          order: { field: "i", type: "quantitative" },
        },
      },
    ],
  };
}

/**
 * Precision-recall curves, one line per model. When curves give a prevalence, a dashed
 * horizontal line marks it (the precision of a random classifier): one grey line if all
 * prevalences agree, else one line per model in its colour.
 */
export function prCurveSpec(curves: PrCurveSeries[], opts: CurveSpecOptions = {}): VegaLiteSpec {
  if (curves.length === 0) throw new RangeError("prCurveSpec: no curves given");
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
  const values = curveRows(labelled, "recall", "precision", opts.maxPoints ?? DEFAULT_MAX_CURVE_POINTS);
  const unit = { type: "quantitative", scale: { domain: [0, 1], nice: false } };
  const xUnit = { ...unit, axis: { labelFlush: true } };
  const domain = labelled.map((c) => c.label);
  const color = {
    field: "model",
    type: "nominal",
    scale: { domain },
    // Below the plot: PR curves can pass through every corner of the plot area.
    legend: { title: null, orient: "bottom", direction: "vertical" },
  };
  const layer: VegaLiteSpec[] = [];
  const withPrevalence = labelled.filter((c) => c.prevalence !== undefined);
  const distinct = new Set(withPrevalence.map((c) => c.prevalence));
  if (distinct.size === 1) {
    const p = round4(withPrevalence[0].prevalence as number);
    layer.push({
      data: { values: [{ prevalence: p, label: `chance level (prevalence ${p.toFixed(3)})` }] },
      layer: [
        { mark: { type: "rule", color: "#999", strokeDash: [5, 4] }, encoding: { y: { field: "prevalence", ...unit } } },
        {
          mark: { type: "text", align: "left", baseline: "bottom", dx: 4, dy: -3, color: "#666", fontSize: 10 },
          encoding: {
            x: { datum: 0, ...xUnit },
            y: { field: "prevalence", ...unit },
            text: { field: "label" },
          },
        },
      ],
    });
  } else if (distinct.size > 1) {
    layer.push({
      data: { values: withPrevalence.map((c) => ({ model: c.label, prevalence: round4(c.prevalence as number) })) },
      mark: { type: "rule", strokeDash: [5, 4], strokeWidth: 1 },
      encoding: { y: { field: "prevalence", ...unit }, color },
    });
  }
  layer.push({
    data: { values },
    transform: [{ flatten: ["recall", "precision", "i"] }],
    mark: { type: "line", strokeWidth: 2, clip: true },
    encoding: {
      x: { field: "recall", ...xUnit, title: "Recall" },
      y: { field: "precision", ...unit, title: "Precision" },
      color,
      order: { field: "i", type: "quantitative" },
    },
  });
  return {
    ...baseSpec(opts.title ?? "Precision-recall curve"),
    width: opts.width ?? 360,
    height: opts.height ?? 360,
    layer,
  };
}

// ---------------------------------------------------------------------------------------------
// Bars and lines from tables
// ---------------------------------------------------------------------------------------------

/** A table row: field name -> value. */
export type DataRow = Record<string, unknown>;

function checkFields(rows: readonly DataRow[], fields: (string | undefined)[], what: string): void {
  if (rows.length === 0) throw new RangeError(`${what}: no rows given`);
  for (const f of fields) {
    if (f === undefined) continue;
    const missing = rows.findIndex((r) => !(f in r));
    if (missing >= 0) {
      throw new RangeError(
        `${what}: row ${missing} has no field "${f}" (it has: ${Object.keys(rows[missing]).join(", ")})`,
      );
    }
  }
}

/** Keeps only the fields a figure uses, so a spec does not carry whole tables. */
function pickFields(rows: readonly DataRow[], fields: (string | undefined)[]): DataRow[] {
  const keep = fields.filter((f): f is string => f !== undefined);
  return rows.map((r) => Object.fromEntries(keep.map((f) => [f, r[f]])));
}

/** Options of {@link barSpec}. */
export interface BarSpecOptions {
  /** Category field (nominal), e.g. "model" or "metric". */
  x: string;
  /** Value field (quantitative), e.g. "value". */
  y: string;
  /** Optional grouping field: bars side by side within each x category, one colour each. */
  color?: string;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Fixed value axis domain, e.g. [0, 1] for metrics. */
  yDomain?: [number, number];
  /** d3 format of the value printed above each bar (default ".3f"; "" for none). */
  labelFormat?: string;
  /** Width of one bar step in px (default 28 grouped, 40 single). */
  step?: number;
  /** Angle of the category labels in degrees (default 0; e.g. -35 for long labels). */
  xLabelAngle?: number;
  height?: number;
}

/**
 * A bar chart of a metric table: one bar per row, category `x`, height `y`; with `color`, bars
 * of a category stand side by side. Values are printed above the bars.
 */
export function barSpec(rows: readonly DataRow[], opts: BarSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.x, opts.y, opts.color], "barSpec");
  const sortNone = null; // keep categories in the order of the rows
  const labelAngle = opts.xLabelAngle ?? 0;
  const xEnc = {
    field: opts.x, type: "nominal", sort: sortNone, title: opts.xTitle ?? opts.x,
    axis: { labelAngle, ...(labelAngle !== 0 ? { labelAlign: "right", labelLimit: 260 } : {}) },
  };
  const yEnc = {
    field: opts.y,
    type: "quantitative",
    title: opts.yTitle ?? opts.y,
    ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}),
  };
  const group = opts.color
    ? {
        color: { field: opts.color, type: "nominal", sort: sortNone, title: opts.color },
        xOffset: { field: opts.color, type: "nominal", sort: sortNone },
      }
    : {};
  const labelFormat = opts.labelFormat ?? ".3f";
  const layer: VegaLiteSpec[] = [{ mark: { type: "bar", ...(opts.color ? {} : { color: "#4c78a8" }) } }];
  if (labelFormat) {
    layer.push({
      mark: { type: "text", baseline: "bottom", dy: -2, fontSize: 9, color: "#333" },
      encoding: { text: { field: opts.y, type: "quantitative", format: labelFormat } },
    });
  }
  return {
    ...baseSpec(opts.title),
    data: { values: pickFields(rows, [opts.x, opts.y, opts.color]) },
    width: { step: opts.step ?? (opts.color ? 28 : 40) },
    height: opts.height ?? 260,
    encoding: { x: xEnc, y: yEnc, ...group },
    layer,
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
  return {
    ...baseSpec(opts.title),
    data: { values: pickFields(rows, [opts.x, ...yFields, opts.color]) },
    ...(folded ? { transform: [{ fold: yFields, as: ["series", "value"] }] } : {}),
    width: opts.width ?? 420,
    height: opts.height ?? 260,
    mark: { type: "line", strokeWidth: 2, point: points ? { size: 20 } : false },
    encoding: {
      x: { field: opts.x, type: "quantitative", title: opts.xTitle ?? opts.x },
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

// ---------------------------------------------------------------------------------------------
// Heatmap (binding matrices)
// ---------------------------------------------------------------------------------------------

/** A row-major matrix: values[r * cols + c]. */
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
  // Labels by index: an ordinal axis over labels would merge repeated ones.
  const labelAt = (labels: string[]) => `${JSON.stringify(labels)}[datum.value]`;
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
    height: rows * cell,
    mark: { type: "rect" },
    encoding: {
      x: {
        field: "c",
        type: "ordinal",
        title: opts.colTitle ?? "miRNA nucleotide",
        axis: { labelExpr: labelAt(colLabels), labelAngle: 0, orient: "top", labelFontSize: Math.min(11, cell - 2) },
      },
      y: {
        field: "r",
        type: "ordinal",
        title: opts.rowTitle ?? "Target site nucleotide",
        axis: { labelExpr: labelAt(rowLabels), labelFontSize: Math.min(11, cell - 2) },
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
  return {
    ...baseSpec(opts.title),
    config: specs[0]!.config ?? baseSpec(undefined).config,
    concat: panels,
    columns: opts.columns ?? specs.length,
    spacing: 24,
    resolve: { scale: { color: opts.sharedColor ? "shared" : "independent" } },
  };
}
