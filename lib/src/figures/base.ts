/**
 * What every figure module shares (specs.ts, binding.ts, cvae.ts): the spec type, the shared
 * look, rounding and the checks of table rows. Internal: notebooks get the types through specs.ts.
 */

/** A Vega-Lite specification (JSON-serialisable). */
export type VegaLiteSpec = Record<string, unknown>;

/** `$schema` of every spec built here: the version of `VEGA_LITE_MIME` in display.ts. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Font of every spec: DejaVu Sans (Debian's default sans) first, then common browser fonts. */
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** Shared look: white background (readable in dark-mode viewers), readable font sizes. */
export function baseSpec(title: string | undefined, axis: Record<string, unknown> = {}): VegaLiteSpec {
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

/** Rounds to 4 decimals: finer than a pixel of any figure here, and keeps the JSON small. */
export function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** A table row: field name -> value. */
export type DataRow = Record<string, unknown>;

/** Checks that every row has every field a figure reads (a RangeError naming the row and what it has). */
export function checkFields(rows: readonly DataRow[], fields: (string | undefined)[], what: string): void {
  if (rows.length === 0) throw new RangeError(`${what}: no rows given`);
  for (const f of fields) {
    if (f === undefined) continue;
    const missing = rows.findIndex((r) => !(f in r));
    if (missing >= 0) {
      throw new RangeError(
        `${what}: row ${missing} has no field "${f}" (it has: ${Object.keys(rows[missing]!).join(", ")})`,
      );
    }
  }
}

/** Keeps only the fields a figure uses, so a spec does not carry whole tables. */
export function pickFields(rows: readonly DataRow[], fields: (string | undefined)[]): DataRow[] {
  const keep = fields.filter((f): f is string => f !== undefined);
  return rows.map((r) => Object.fromEntries(keep.map((f) => [f, r[f]])));
}
