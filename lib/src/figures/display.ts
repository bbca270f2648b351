/**
 * Rich output for notebooks run by the tslab kernel: figures, tables and images.
 *
 * Each `show*` function builds a Jupyter MIME bundle with a pure, exported builder
 * (`figureBundle`, `tableBundle`, `imageBundle`) and, inside tslab, sends it as ONE
 * `display_data` message and returns undefined: tslab echoes a cell's last non-null value, so
 * returning the bundle would print it under the output. Outside tslab (tests, scripts) nothing
 * is sent or printed and the bundle that would have been sent is returned.
 *
 * How the message is sent: tslab's public `display.raw(mime, data)` puts a single MIME type in
 * each message, so a figure would become two outputs (interactive chart + image). Instead we
 * call the function that `raw` itself uses: tslab's `dist/jupyter.js` module keeps the writer
 * of the cell being executed in its export `lastWriteDisplayData(content, update)`, where
 * `content` is the `display_data` content `{data, metadata, transient}` of the Jupyter
 * messaging protocol. We take that module from `require.cache` (the kernel has loaded it), so
 * we reach the kernel's own instance whichever tslab copy `require` would find from here, and
 * the library does not depend on tslab. Checked with tslab 1.0.22.
 */
import type { Raster } from "./render";
import { rasterizeSvg, renderSvg } from "./render";
import type { VegaLiteSpec } from "./specs";

/**
 * MIME type of the interactive chart. JupyterLab 4 (and Notebook 7) render Vega-Lite under
 * v3/v4/v5 MIME types only (with Vega-Lite 5; there is no v6 renderer), so figures use v5 and
 * specs declare the matching v5 `$schema` (specs.ts VEGA_LITE_SCHEMA). The classic Notebook
 * has no Vega-Lite renderer: it shows the PNG of the same bundle (test/browser.test.ts).
 */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** A Jupyter MIME bundle: MIME type -> representation (string, or JSON for JSON types). */
export type MimeBundle = Record<string, unknown>;

/** Content of a Jupyter `display_data` message. */
export interface DisplayMessage {
  data: MimeBundle;
  /** Per-MIME metadata, e.g. {"image/png": {width, height}} (display size in CSS px). */
  metadata: Record<string, unknown>;
}

type WriteDisplayData = (
  content: DisplayMessage & { transient?: Record<string, unknown> },
  update: boolean,
) => void;

/** The display writer of the tslab cell being executed, or undefined outside tslab. */
function tslabWriter(): WriteDisplayData | undefined {
  if (typeof require === "undefined" || !require.cache) return undefined;
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    const writer = (mod?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === "function") return writer as WriteDisplayData;
  }
  return undefined;
}

/** True when running inside a tslab kernel that is executing a cell. */
export function insideTslab(): boolean {
  return tslabWriter() !== undefined;
}

/**
 * Sends a bundle as one `display_data` message when inside tslab; returns whether it was sent.
 * Outside tslab it does nothing.
 */
export function emitDisplay(message: DisplayMessage): boolean {
  const write = tslabWriter();
  if (!write) return false;
  write({ data: message.data, metadata: message.metadata, transient: {} }, false);
  return true;
}

/** Sends the message inside tslab (-> undefined); outside, returns it. */
function show(message: DisplayMessage): DisplayMessage | undefined {
  return emitDisplay(message) ? undefined : message;
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

function specTitle(spec: VegaLiteSpec): string | undefined {
  const t = spec.title;
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string") {
    return (t as { text: string }).text;
  }
  return undefined;
}

/**
 * The bundle of a figure: the Vega-Lite spec (interactive in JupyterLab), a PNG of it (what the
 * classic notebook, nbconvert HTML and GitHub show) and a one-line text description.
 *
 * @param raster the figure rendered by {@link rasterizeSvg}
 * @param scale the pixel density it was rendered at: the PNG is displayed at width/scale CSS px
 */
export function figureBundle(spec: VegaLiteSpec, raster: Raster, scale: number): DisplayMessage {
  const width = Math.round(raster.width / scale);
  const height = Math.round(raster.height / scale);
  const title = specTitle(spec);
  return {
    data: {
      [VEGA_LITE_MIME]: spec,
      "image/png": raster.png.toString("base64"),
      "text/plain": `<Figure${title ? ` "${title}"` : ""}: Vega-Lite, ${width} x ${height} px>`,
    },
    metadata: { "image/png": { width, height } },
  };
}

/** Options of {@link showFigure}. */
export interface ShowFigureOptions {
  /** Pixel density of the PNG (default 2: sharp on high-DPI screens). */
  scale?: number;
}

/**
 * Shows a Vega-Lite figure in the notebook: interactive chart and static PNG in one output.
 * Outside tslab, returns the bundle instead.
 */
export async function showFigure(spec: VegaLiteSpec, opts: ShowFigureOptions = {}): Promise<DisplayMessage | undefined> {
  const scale = opts.scale ?? 2;
  const raster = rasterizeSvg(await renderSvg(spec), { scale });
  return show(figureBundle(spec, raster, scale));
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** Options of {@link tableBundle} / {@link showTable}. */
export interface TableOptions {
  /** Columns to show, in order (default: the keys of all rows, in first-seen order). */
  columns?: string[];
  /** Decimals of non-integer numbers (default 3); tiny numbers use this many significant digits. */
  digits?: number;
  /** Caption above the table. */
  caption?: string;
  /** Show at most this many rows (default 200); a note tells how many were left out. */
  maxRows?: number;
}

/** Formats one cell: integers as they are, other numbers with `digits` decimals. */
export function formatCell(value: unknown, digits = 3): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toPrecision(Math.max(1, digits));
    return value.toFixed(digits);
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Keys of all rows, in first-seen order. */
function allColumns(rows: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/**
 * The bundle of a table: `text/html` (a plain table; class "dataframe" picks up the notebook's
 * table style, numbers right-aligned) and `text/plain` (aligned columns).
 */
export function tableBundle(rows: readonly Record<string, unknown>[], opts: TableOptions = {}): DisplayMessage {
  const digits = opts.digits ?? 3;
  const maxRows = opts.maxRows ?? 200;
  const columns = opts.columns ?? allColumns(rows);
  const shown = rows.slice(0, maxRows);
  const cells = shown.map((r) => columns.map((c) => formatCell(r[c], digits)));
  const numeric = columns.map((c) =>
    shown.some((r) => typeof r[c] === "number") && shown.every((r) => r[c] == null || typeof r[c] === "number"),
  );
  const omitted = rows.length - shown.length;
  const note = omitted > 0 ? `… ${omitted} more row${omitted === 1 ? "" : "s"} (${rows.length} in all)` : "";

  const align = (j: number) => (numeric[j] ? ' style="text-align: right"' : "");
  const html = [
    '<table class="dataframe">',
    opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "",
    "<thead><tr>" + columns.map((c, j) => `<th${align(j)}>${escapeHtml(c)}</th>`).join("") + "</tr></thead>",
    "<tbody>",
    ...cells.map((row) => "<tr>" + row.map((v, j) => `<td${align(j)}>${escapeHtml(v)}</td>`).join("") + "</tr>"),
    "</tbody>",
    "</table>",
    note ? `<p><em>${escapeHtml(note)}</em></p>` : "",
  ]
    .filter((s) => s !== "")
    .join("\n");

  // Every row of `cells` has one cell per column.
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j]!.length)));
  const pad = (s: string, j: number) => (numeric[j] ? s.padStart(widths[j]!) : s.padEnd(widths[j]!));
  const line = (row: string[]) => row.map((v, j) => pad(v, j)).join("  ").trimEnd();
  const text = [
    ...(opts.caption ? [opts.caption] : []),
    line(columns),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
    ...(note ? [note] : []),
  ].join("\n");

  return { data: { "text/html": html, "text/plain": text }, metadata: {} };
}

/** Shows rows as a table in the notebook. Outside tslab, returns the bundle instead. */
export function showTable(rows: readonly Record<string, unknown>[], opts: TableOptions = {}): DisplayMessage | undefined {
  return show(tableBundle(rows, opts));
}

// ---------------------------------------------------------------------------------------------
// Markdown (text generated from results)
// ---------------------------------------------------------------------------------------------

/** The bundle of a Markdown text: `text/markdown` (rendered by every notebook front end) and the same as `text/plain`. */
export function markdownBundle(markdown: string): DisplayMessage {
  return { data: { "text/markdown": markdown, "text/plain": markdown }, metadata: {} };
}

/**
 * Shows Markdown in the notebook, e.g. a reading generated from the results (the cell's text then
 * cannot drift from its numbers). Outside tslab, returns the bundle instead.
 */
export function showMarkdown(markdown: string): DisplayMessage | undefined {
  return show(markdownBundle(markdown));
}

// ---------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height in pixels from a PNG's IHDR chunk; throws if the bytes are not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_SIGNATURE) || b.toString("latin1", 12, 16) !== "IHDR") {
    throw new RangeError("not a PNG image (bad signature or no IHDR chunk)");
  }
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Options of {@link imageBundle} / {@link showImage}. */
export interface ImageOptions {
  /** Pixel density the image was made at: it is displayed at width/scale CSS px (default 1). */
  scale?: number;
  /** Text shown where images cannot be (default "PNG image W x H"). */
  alt?: string;
}

/** The bundle of a PNG image. */
export function imageBundle(png: Uint8Array, opts: ImageOptions = {}): DisplayMessage {
  const { width, height } = pngSize(png);
  const scale = opts.scale ?? 1;
  return {
    data: {
      "image/png": Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString("base64"),
      "text/plain": opts.alt ?? `<PNG image ${width} x ${height}>`,
    },
    metadata: { "image/png": { width: Math.round(width / scale), height: Math.round(height / scale) } },
  };
}

/** Shows a PNG image in the notebook. Outside tslab, returns the bundle instead. */
export function showImage(png: Uint8Array, opts: ImageOptions = {}): DisplayMessage | undefined {
  return show(imageBundle(png, opts));
}
