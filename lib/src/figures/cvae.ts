/**
 * Figures of the generative model (Vega-Lite specs, pure functions like specs.ts): what
 * generation by a requested property achieved.
 */

import { baseSpec, checkFields, DataRow, round4, VegaLiteSpec } from "./base";

/** Options of {@link requestedAchievedSpec}. */
export interface RequestedAchievedSpecOptions {
  /** Panel field (e.g. "property"): one panel per value, each with its own scales. */
  panel: string;
  /** Requested value field (x). */
  requested: string;
  /** Achieved mean field (y). */
  achieved: string;
  /** Optional field with the sd of the achieved value: error bars. */
  error?: string;
  /** Optional series field (e.g. "seed"): colour. */
  color?: string;
  title?: string;
  width?: number;
  height?: number;
}

/**
 * Requested against achieved values (e.g. generation conditioned on a stem length): one panel
 * per `panel` value, dots at (requested, achieved mean) with ± sd bars, and the diagonal
 * achieved = requested as a grey dashed line.
 */
export function requestedAchievedSpec(rows: readonly DataRow[], opts: RequestedAchievedSpecOptions): VegaLiteSpec {
  checkFields(rows, [opts.panel, opts.requested, opts.achieved, opts.color], "requestedAchievedSpec");
  const panels = [...new Set(rows.map((r) => String(r[opts.panel])))];
  return {
    ...baseSpec(opts.title),
    concat: panels.map((p) => {
      const mine = rows.filter((r) => String(r[opts.panel]) === p);
      const values = mine.map((r) => {
        const y = r[opts.achieved] as number;
        const sd = opts.error !== undefined && typeof r[opts.error] === "number" ? (r[opts.error] as number) : null;
        return {
          x: r[opts.requested], y: round4(y), lo: sd === null ? null : round4(y - sd), hi: sd === null ? null : round4(y + sd),
          ...(opts.color !== undefined ? { c: String(r[opts.color]) } : {}),
        };
      });
      const all = values.flatMap((v) => [v.x as number, v.y, v.lo ?? v.y, v.hi ?? v.y]);
      const lo = Math.min(...all), hi = Math.max(...all);
      const colour = opts.color !== undefined ? { color: { field: "c", type: "nominal", title: opts.color } } : {};
      return {
        // Over the plot area, whatever the width of the axis labels (so panels line up).
        title: { text: p, fontSize: 12, fontWeight: "normal", anchor: "start", frame: "group" },
        width: opts.width ?? 220,
        height: opts.height ?? 200,
        layer: [
          {
            data: { values: [{ x: lo, y: lo }, { x: hi, y: hi }] },
            mark: { type: "line", color: "#999", strokeDash: [4, 3] },
            encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
          },
          {
            data: { values },
            transform: [{ filter: "datum.lo != null" }],
            mark: { type: "rule", strokeWidth: 1.5 },
            encoding: { x: { field: "x", type: "quantitative" }, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, ...colour },
          },
          {
            data: { values },
            mark: { type: "point", filled: true, size: 50 },
            encoding: {
              x: { field: "x", type: "quantitative", title: `requested ${p}`, scale: { zero: false } },
              y: { field: "y", type: "quantitative", title: `achieved ${p}`, scale: { zero: false } },
              ...colour,
              tooltip: [{ field: "x", type: "quantitative", title: "requested" }, { field: "y", type: "quantitative", title: "achieved (mean)" }, { field: "lo", title: "− sd" }, { field: "hi", title: "+ sd" }],
            },
          },
        ],
      };
    }),
    columns: panels.length,
    spacing: 24,
    resolve: { scale: { color: "shared" } },
  };
}
