/**
 * Rendering Vega-Lite specs in Node: vega-lite compile -> vega View with renderer "none" -> SVG
 * -> resvg PNG.
 *
 * vega and vega-lite are loaded with a real dynamic `import()` of their resolved file URL
 * (vega 6 is ESM-only with top-level await and cannot be `require`d; the pinned vega 5 is
 * CommonJS, which `import()` loads as well), created through `new Function` so no compiler can
 * rewrite it into `require()` (tslab transpiles imported `.ts` files to CommonJS and would).
 * Loaded modules are cached.
 */
import { pathToFileURL } from "node:url";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../io/files";
import type { VegaLiteSpec } from "./specs";


/** The parts of vega-lite's API used here (typed locally: TS 5.0 in tslab cannot read its export map). */
interface VegaLiteModule {
  version: string;
  compile(spec: unknown, opt?: unknown): { spec: unknown };
}
interface VegaView {
  toSVG(scaleFactor?: number): Promise<string>;
  finalize(): void;
}
/** The parts of vega's API used here. */
interface VegaModule {
  version: string;
  parse(spec: unknown, config?: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: "none" | "svg" | "canvas"; logLevel?: number }) => VegaView;
}

/**
 * Dynamic import that no compiler rewrites into `require()` (vega's ESM entry points use
 * top-level await, which `require` of an ES module rejects).
 */
const importEsm = new Function("url", "return import(url)") as (url: string) => Promise<unknown>;

let vegaModules: Promise<{ vega: VegaModule; vl: VegaLiteModule }> | undefined;

/** Loads vega and vega-lite once (cached). */
export function loadVega(): Promise<{ vega: VegaModule; vl: VegaLiteModule }> {
  if (!vegaModules) {
    // Resolve from this file so the packages are found wherever the caller's cwd is; both
    // export maps have a "default" condition, so require.resolve finds their ESM entry.
    const url = (name: string) => pathToFileURL(require.resolve(name)).href;
    vegaModules = Promise.all([importEsm(url("vega")), importEsm(url("vega-lite"))]).then(([vega, vl]) => ({
      vega: vega as VegaModule,
      vl: vl as VegaLiteModule,
    }));
    vegaModules.catch(() => {
      vegaModules = undefined; // let a later call retry
    });
  }
  return vegaModules;
}

/** A Vega-Lite spec compiled to Vega, with the warnings vega-lite gave on the way. */
export interface CompiledSpec {
  vega: unknown;
  warnings: string[];
}

/**
 * Compiles a Vega-Lite spec to a Vega spec; throws if vega-lite rejects it. Warnings (e.g. an
 * unknown encoding channel, which vega-lite drops) are returned, not printed.
 */
export async function compileSpec(spec: VegaLiteSpec): Promise<CompiledSpec> {
  const { vl } = await loadVega();
  const warnings: string[] = [];
  let level = 2; // vega-util's Warn
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]): never {
      throw new Error(args.map(String).join(" "));
    },
    warn(...args: unknown[]) {
      warnings.push(args.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return { vega: vl.compile(spec, { logger }).spec, warnings };
}

/** Renders a Vega-Lite spec to an SVG document (string). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega } = await loadVega();
  const { vega: vgSpec } = await compileSpec(spec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none", logLevel: 0 });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A rasterised figure. */
export interface Raster {
  png: Buffer;
  /** Size in pixels (already multiplied by the scale). */
  width: number;
  height: number;
  /** RGBA bytes, shape=(height, width, 4), row-major. */
  pixels: Buffer;
}

/** Options of {@link renderPng} / {@link rasterizeSvg}. */
export interface PngOptions {
  /** Pixel density: 2 (default) gives sharp figures on high-DPI screens and in papers. */
  scale?: number;
}

/**
 * Rasterises an SVG with resvg on a white background. Text is drawn with the system fonts
 * (loaded by resvg); generic "sans-serif" maps to DejaVu Sans, Debian's default.
 */
export function rasterizeSvg(svg: string, opts: PngOptions = {}): Raster {
  const scale = opts.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) throw new RangeError(`renderPng: scale must be in (0, 16], got ${scale}`);
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  const image = resvg.render();
  return { png: image.asPng(), width: image.width, height: image.height, pixels: image.pixels };
}

/** Renders a Vega-Lite spec to PNG bytes. */
export async function renderPng(spec: VegaLiteSpec, opts: PngOptions = {}): Promise<Buffer> {
  return rasterizeSvg(await renderSvg(spec), opts).png;
}

/** File formats {@link saveFigure} writes: "json" is the Vega-Lite spec itself (.vl.json). */
export type FigureFormat = "svg" | "png" | "json";

const EXTENSIONS: Record<FigureFormat, string> = { svg: ".svg", png: ".png", json: ".vl.json" };

/**
 * Saves a figure as `<pathWithoutExt>.svg`, `.png` (scale 2) and/or `.vl.json`, creating the
 * folder if needed; each file is written atomically (temp file + rename). Returns the paths.
 */
export async function saveFigure(
  spec: VegaLiteSpec,
  pathWithoutExt: string,
  formats: readonly FigureFormat[] = ["svg", "png"],
  opts: PngOptions = {},
): Promise<string[]> {
  for (const f of formats) {
    if (!(f in EXTENSIONS)) throw new RangeError(`saveFigure: unknown format "${f}" (use svg, png or json)`);
  }
  const needsSvg = formats.includes("svg") || formats.includes("png");
  const svg = needsSvg ? await renderSvg(spec) : "";
  const written: string[] = [];
  for (const f of formats) {
    const file = pathWithoutExt + EXTENSIONS[f];
    const data = f === "svg" ? svg : f === "png" ? rasterizeSvg(svg, opts).png : JSON.stringify(spec, null, 1) + "\n";
    writeFileAtomic(file, data);
    written.push(file);
  }
  return written;
}
