/**
 * Figures of the binding task (Vega-Lite specs, pure functions like specs.ts): seed-match shares
 * of a dataset, attribution matrices of binding pairs and per-position attribution profiles.
 */

import { baseSpec, checkFields, DataRow, pickFields, round4, VegaLiteSpec } from "./base";
import { barSpec } from "./specs";

/** Options of {@link seedMatchSharesSpec}. */
export interface SeedMatchSharesSpecOptions {
  title?: string;
  /** Counts shown in the panel titles, e.g. { positive: 21385, negative: 427700 }. */
  totals?: { positive: number; negative: number };
}

/**
 * Seed-match classes of a labelled set as two bar panels, positives and negatives, each with its
 * own axis in percent of its label's pairs (negatives carry seed matches about a hundred times
 * less often, so one shared axis would show their bars as 0): one bar per class with a seed
 * match (8mer … 6mer) and one for "any" (at least a 6mer, the sum); "none" is 100% − any. Values are
 * printed on the bars. `shares`: rows {label: "positive" | "negative", class, share} as
 * seedMatchClassShares returns them.
 */
export function seedMatchSharesSpec(shares: readonly { label: string; class: string; share: number }[], opts: SeedMatchSharesSpecOptions = {}): VegaLiteSpec {
  const panels = (["positive", "negative"] as const).map((label) => {
    const mine = shares.filter((r) => r.label === label);
    if (mine.length === 0) throw new RangeError(`seedMatchSharesSpec: no ${label} rows`);
    const none = mine.find((r) => r.class === "none")?.share ?? 0;
    const rows = [...mine.filter((r) => r.class !== "none").map((r) => ({ class: r.class, percent: 100 * r.share })), { class: "any", percent: 100 * (1 - none) }];
    const total = opts.totals?.[label];
    // Positives on 0–100%; negatives on their own, much shorter axis.
    const spec = barSpec(rows, { x: "class", y: "percent", xTitle: null, yTitle: `% of ${label}s`, labelFormat: ".1f", height: 200, step: 58, ...(label === "positive" ? { yDomain: [0, 100] as [number, number] } : {}) });
    const { $schema: _s, config: _c, background: _b, padding: _p, ...panel } = spec;
    return {
      ...panel,
      title: { text: `${label}s${total !== undefined ? ` (${total.toLocaleString("en-US")})` : ""}`, fontSize: 12, fontWeight: "normal" },
      layer: (panel.layer as VegaLiteSpec[]).map((l, i) => (i === 0 ? { ...l, mark: { type: "bar", color: label === "positive" ? "#4c78a8" : "#f58518" } } : l)),
    };
  });
  return { ...baseSpec(opts.title), hconcat: panels, spacing: 28 };
}

// ---------------------------------------------------------------------------------------------
// Binding-model interpretation: attribution on the binding matrix, position profiles, box plots
// ---------------------------------------------------------------------------------------------

/** One pair's binding matrix (shape=(50, 20), 1 = Watson–Crick pair) and its attribution (shape=(50, 20)), row-major. */
export interface AttributionMatrix {
  /** shape=(rows, cols), 0/1 per cell: row i = site nucleotide i, column j = miRNA nucleotide j. */
  binding: ArrayLike<number>;
  /** Attribution per cell (same layout). */
  attribution: ArrayLike<number>;
  /** Site positions (rows), default 50; miRNA positions (columns), default 20. */
  rows?: number;
  cols?: number;
}

/** Options of {@link attributionMatrixSpec}. */
export interface AttributionMatrixSpecOptions {
  title?: string;
  /** Second title line (e.g. the sequences or the score). */
  subtitle?: string;
  /** Symmetric colour range ±domain (default: the largest |attribution| of the matrix). */
  domain?: number;
  /** Cell size in px (default 11). */
  cellSize?: number;
  /** Legend title (default "attribution"). */
  valueTitle?: string;
}

/**
 * A binding matrix with the model's attribution overlaid: each cell coloured by its attribution
 * (diverging, red = raises the score, blue = lowers it, white = 0), a black dot on every cell
 * where the two nucleotides pair. Columns are miRNA positions 1–20 (5'→3', left to right, axis
 * on top), rows site positions 1–50 (5'→3', top to bottom); a perfect duplex is an
 * anti-diagonal of dots.
 */
export function attributionMatrixSpec(matrix: AttributionMatrix, opts: AttributionMatrixSpecOptions = {}): VegaLiteSpec {
  const rows = matrix.rows ?? 50;
  const cols = matrix.cols ?? 20;
  if (matrix.binding.length !== rows * cols || matrix.attribution.length !== rows * cols) {
    throw new RangeError(`attributionMatrixSpec: a ${rows} x ${cols} matrix needs ${rows * cols} values, got ${matrix.binding.length} (binding) and ${matrix.attribution.length} (attribution)`);
  }
  let largest = 0;
  for (let k = 0; k < rows * cols; k++) {
    const v = matrix.attribution[k]!;
    if (!Number.isFinite(v)) throw new RangeError(`attributionMatrixSpec: attribution ${k} is not finite (${v})`);
    largest = Math.max(largest, Math.abs(v));
  }
  const domain = opts.domain ?? (largest > 0 ? largest : 1);
  if (!(domain > 0)) throw new RangeError(`attributionMatrixSpec: domain must be positive, got ${domain}`);
  const cell = opts.cellSize ?? 11;
  const valueTitle = opts.valueTitle ?? "attribution";
  const positions = (count: number, every: number) => Array.from({ length: count }, (_, i) => i + 1).filter((p) => p === 1 || p % every === 0);
  const title = opts.title !== undefined || opts.subtitle !== undefined
    ? { text: opts.title ?? "", ...(opts.subtitle ? { subtitle: opts.subtitle, subtitleFontSize: 11, subtitleColor: "#444" } : {}) }
    : undefined;
  return {
    ...baseSpec(undefined, { grid: false }),
    ...(title ? { title } : {}),
    // The cells travel as two strings (space-separated attributions, one 0/1 character per cell), split by the
    // spec: notebooks store JSON with one array element a line, which would make 1,000 numbers 1,000 lines.
    data: { values: [{ a: Array.from(matrix.attribution, (v) => String(round4(v))).join(" "), b: Array.from(matrix.binding, (v) => (v > 0 ? "1" : "0")).join("") }] },
    transform: [
      { calculate: "split(datum.a, ' ')", as: "a" },
      { calculate: "split(datum.b, '')", as: "b" },
      { flatten: ["a", "b"] },
      { calculate: "toNumber(datum.a)", as: "a" },
      { calculate: "toNumber(datum.b)", as: "b" },
      { window: [{ op: "row_number", as: "k" }] },
      { calculate: `floor((datum.k - 1) / ${cols}) + 1`, as: "site" },
      { calculate: `(datum.k - 1) % ${cols} + 1`, as: "mirna" },
    ],
    width: cols * cell,
    height: rows * cell,
    encoding: {
      x: {
        field: "mirna", type: "ordinal", title: "miRNA position (5'→3')",
        // Every position where two-digit labels fit, else 1 and the even positions.
        axis: { orient: "top", labelAngle: 0, values: cell >= 12 ? positions(cols, 1) : positions(cols, 2), labelFontSize: 10 },
      },
      y: {
        field: "site", type: "ordinal", title: "site position (5'→3')",
        axis: { values: positions(rows, 5), labelFontSize: 10 },
      },
    },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          color: { field: "a", type: "quantitative", title: valueTitle, scale: { scheme: "redblue", reverse: true, domain: [-domain, domain], clamp: true } },
          tooltip: [
            { field: "mirna", type: "ordinal", title: "miRNA position" },
            { field: "site", type: "ordinal", title: "site position" },
            { field: "b", type: "quantitative", title: "pairs (1) or not (0)" },
            { field: "a", type: "quantitative", title: valueTitle, format: ".4f" },
          ],
        },
      },
      {
        transform: [{ filter: "datum.b > 0" }],
        mark: { type: "circle", color: "#111", size: Math.max(6, cell * 1.2), opacity: 0.85 },
      },
    ],
  };
}

/** Options of {@link positionProfileSpec}. */
export interface PositionProfileSpecOptions {
  /** Position field (1-based integers), e.g. "position". */
  x: string;
  /** Value field, e.g. "mean". */
  y: string;
  /** Series field (one line each), e.g. "seed class" or "model". */
  color?: string;
  /** Field with a standard deviation or error: a band y ± it around each line. */
  error?: string;
  /** Shaded position ranges, e.g. [{ from: 2, to: 8, label: "seed" }]: drawn behind the lines. */
  bands?: { from: number; to: number; label: string }[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

/**
 * A profile along the miRNA or the site: one line (with dots) per series over integer
 * positions, every position labelled, optional ± error bands, and shaded regions (the seed 2–8,
 * 3' supplementary 13–16) labelled above the plot; a rule at 0.
 */
export function positionProfileSpec(rows: readonly DataRow[], opts: PositionProfileSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.x, opts.y, opts.color, opts.error], "positionProfileSpec");
  const xs = rows.map((r) => Number(r[opts.x]));
  if (xs.some((v) => !Number.isInteger(v))) throw new RangeError(`positionProfileSpec: "${opts.x}" must hold integer positions`);
  const lo = Math.min(...xs), hi = Math.max(...xs);
  const every = hi - lo + 1 > 25 ? 5 : 1;
  const x = {
    field: opts.x, type: "quantitative", title: opts.xTitle ?? opts.x,
    scale: { domain: [lo - 0.5, hi + 0.5], nice: false, zero: false },
    // Every label shown when each fits (Vega's overlap check otherwise thins 20 positions to every 4th).
    axis: { values: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).filter((p) => every === 1 || p === lo || p % every === 0), format: "d", grid: false, labelOverlap: every === 1 ? false : true },
  };
  const series = opts.color ? { color: { field: opts.color, type: "nominal", sort: null, title: opts.color } } : { color: { value: "#4c78a8" } };
  const layer: VegaLiteSpec[] = [];
  if (opts.bands && opts.bands.length > 0) {
    const bandRows = opts.bands.map((b) => ({ __from: b.from - 0.5, __to: b.to + 0.5, __label: b.label }));
    layer.push({
      data: { values: bandRows },
      mark: { type: "rect", color: "#f2e6c9", opacity: 0.7 },
      encoding: { x: { field: "__from", type: "quantitative", scale: x.scale, axis: x.axis, title: x.title }, x2: { field: "__to" } },
    });
    // Labels above the plot area (y = −3 px), where no line or dot can cover them.
    layer.push({
      data: { values: bandRows },
      transform: [{ calculate: "(datum.__from + datum.__to) / 2", as: "__mid" }],
      mark: { type: "text", baseline: "bottom", fontSize: 10, color: "#7a5c00" },
      encoding: { x: { field: "__mid", type: "quantitative", scale: x.scale, axis: x.axis, title: x.title }, y: { value: -3 }, text: { field: "__label" } },
    });
  }
  layer.push({ data: { values: [{ __zero: 0 }] }, mark: { type: "rule", color: "#888", strokeDash: [3, 3] }, encoding: { y: { field: "__zero", type: "quantitative" } } });
  const fields = pickFields(rows, [opts.x, opts.y, opts.color, opts.error]);
  if (opts.error !== undefined) {
    const withBand = fields.map((r) => {
      const y = Number(r[opts.y]), e = Number(r[opts.error!]);
      return { ...r, __lo: Number.isFinite(e) ? y - e : null, __hi: Number.isFinite(e) ? y + e : null };
    });
    layer.push({
      data: { values: withBand },
      transform: [{ filter: "datum.__lo != null" }],
      mark: { type: "area", opacity: 0.15 },
      encoding: { x, y: { field: "__lo", type: "quantitative" }, y2: { field: "__hi" }, ...(opts.color ? { color: { ...series.color, legend: null } } : series) },
    });
  }
  layer.push({
    data: { values: fields },
    mark: { type: "line", strokeWidth: 2, point: { size: 25 } },
    encoding: {
      x,
      y: { field: opts.y, type: "quantitative", title: opts.yTitle ?? opts.y },
      ...series,
      tooltip: [
        { field: opts.x, type: "quantitative", title: opts.xTitle ?? opts.x },
        { field: opts.y, type: "quantitative", format: ".4f" },
        ...(opts.color ? [{ field: opts.color, type: "nominal" }] : []),
        ...(opts.error ? [{ field: opts.error, type: "quantitative", format: ".4f" }] : []),
      ],
    },
  });
  const bands = opts.bands !== undefined && opts.bands.length > 0;
  return {
    ...baseSpec(undefined),
    // With band labels above the plot, the title sits higher so the two never touch.
    ...(opts.title ? { title: bands ? { text: opts.title, offset: 20 } : opts.title } : {}),
    width: opts.width ?? 460,
    height: opts.height ?? 240,
    layer,
  };
}
