import { Resvg } from "@resvg/resvg-js";
import { InputError } from "../errors";
import { imageCount } from "./classifier";
import { encodePng } from "../io/png";
import { HAIRPIN_COLOURS, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "./image";

/** Options of {@link hairpinGalleryPng}. */
export interface HairpinGalleryOptions {
  /** Images per row (default 4). */
  columns?: number;
  /** Grey pixels between images and around the grid, before scaling (default 2). */
  gap?: number;
  /** Integer magnification of every pixel (default 4: a 25 × 100 image becomes 100 × 400). */
  scale?: number;
  /**
   * A caption under each image (e.g. its name), one per index in the same order; "\n" starts a
   * new line (every caption gets the room of the longest); a line longer than the image is wide
   * is cut with "…".
   */
  captions?: readonly string[];
  /** A colour key under the grid: A, C, G, U and gap (default: when captions are given). */
  legend?: boolean;
  /** Text size of captions and key in pixels of the PNG (default 5.5 × scale, at least 10). */
  fontSize?: number;
}

/** RGB of the gaps: light grey, so the images' white background stays visible as such. */
const GAP_GREY = 200;
/** Text colour: near-black, readable on the grey. */
const TEXT_COLOUR = "#111111";
/** The font the text is drawn in (loaded by resvg from the system; Debian's default sans). */
const FONT = "DejaVu Sans";
/** Average advance of a DejaVu Sans character, as a fraction of the font size (to fit captions). */
const CHAR_WIDTH = 0.62;

/** The colour key: symbol → label. */
const KEY: readonly [keyof typeof HAIRPIN_COLOURS, string][] = [["A", "A"], ["C", "C"], ["G", "G"], ["U", "U"], ["-", "gap"]];

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** `text` cut to at most `max` characters, the last of them "…". */
function fit(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join("") + "…";
}

/**
 * A PNG of hairpin images in a grid (row-major, `columns` per row), e.g. examples of each
 * class for a notebook. `images`: Uint8Array, shape=(n, 25, 100, 3); `indices`: which images to
 * draw, in order. Pixels are magnified by `scale` with no smoothing, so each nucleotide stays a crisp
 * block of colour. With `captions`, each image gets its caption below it, and a colour key
 * (A, C, G, U, gap) runs under the grid: the text is drawn by resvg with the system font
 * (DejaVu Sans), the images and key swatches are copied in pixel for pixel afterwards, so they
 * keep their exact colours. The same call on the same system gives the same bytes.
 */
export function hairpinGalleryPng(images: Uint8Array, indices: readonly number[], opts: HairpinGalleryOptions = {}): Buffer {
  const n = imageCount(images);
  const columns = opts.columns ?? 4;
  const gap = opts.gap ?? 2;
  const scale = opts.scale ?? 4;
  if (indices.length === 0) throw new InputError("a gallery needs at least one image");
  if (!Number.isInteger(columns) || columns < 1) throw new InputError(`columns must be a positive integer, got ${columns}`);
  if (!Number.isInteger(gap) || gap < 0) throw new InputError(`gap must be a non-negative integer, got ${gap}`);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new InputError(`image index ${i} is outside 0..${n - 1}`);
  }
  const captions = opts.captions;
  if (captions !== undefined && captions.length !== indices.length) {
    throw new InputError(`${captions.length} captions for ${indices.length} images; give one caption per image`);
  }
  const legend = opts.legend ?? captions !== undefined;
  if (captions === undefined && !legend) return plainGrid(images, indices, columns, gap, scale);
  if (!Number.isInteger(scale) || scale < 1) throw new InputError(`scale must be a positive integer, got ${scale}`);
  const fontSize = opts.fontSize ?? Math.max(10, Math.round(5.5 * scale));
  if (!(fontSize >= 4 && fontSize <= 200)) throw new InputError(`fontSize must be in 4..200 pixels, got ${fontSize}`);

  // Layout in output pixels.
  const W = HAIRPIN_IMAGE_WIDTH * scale;
  const H = HAIRPIN_IMAGE_HEIGHT * scale;
  const g = gap * scale;
  const pad = Math.max(g, Math.round(fontSize / 3));
  const captionLines = captions === undefined ? 0 : Math.max(1, ...captions.map((c) => c.split("\n").length));
  const lineStep = Math.round(fontSize * 1.2);
  const captionH = captions !== undefined ? Math.round(fontSize * 1.5) + (captionLines - 1) * lineStep : 0;
  const rows = Math.ceil(indices.length / columns);
  const usedColumns = Math.min(columns, indices.length);
  const swatch = Math.round(fontSize * 0.9);
  const keyWidths = KEY.map(([, label]) => swatch + Math.round(fontSize * 0.35) + Math.ceil(label.length * CHAR_WIDTH * fontSize) + fontSize);
  const keyWidth = keyWidths.reduce((a, b) => a + b, 0);
  const legendH = legend ? Math.round(fontSize * 1.9) : 0;
  const width = Math.max(usedColumns * W + (usedColumns + 1) * g, legend ? keyWidth + 2 * pad : 0);
  const gridH = rows * (H + captionH) + (rows + 1) * g;
  const height = gridH + legendH;
  const cellX = (k: number) => g + (k % columns) * (W + g);
  const cellY = (k: number) => g + Math.floor(k / columns) * (H + captionH + g);

  // Text, through resvg.
  const texts: string[] = [];
  const text = (x: number, y: number, s: string, clip = "") =>
    texts.push(`<text x="${x}" y="${y}" font-family="${FONT}" font-size="${fontSize}" fill="${TEXT_COLOUR}"${clip}>${escapeXml(s)}</text>`);
  const maxChars = Math.max(1, Math.floor((W - 2) / (CHAR_WIDTH * fontSize)));
  captions?.forEach((c, k) => {
    // Cut to the estimated width, and clipped to the image's width whatever the letters.
    texts.push(`<clipPath id="c${k}"><rect x="${cellX(k)}" y="${cellY(k) + H}" width="${W}" height="${captionH}"/></clipPath>`);
    c.split("\n").forEach((line, j) => {
      text(cellX(k) + 1, cellY(k) + H + Math.round(fontSize * 1.08) + j * lineStep, fit(line, maxChars), ` clip-path="url(#c${k})"`);
    });
  });
  const keyY = gridH + Math.round((legendH - swatch) / 2);
  const keyX: number[] = [];
  if (legend) {
    let x = pad;
    KEY.forEach(([, label], i) => {
      keyX.push(x);
      text(x + swatch + Math.round(fontSize * 0.35), keyY + Math.round(swatch * 0.85), label);
      x += keyWidths[i]!;
    });
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="rgb(${GAP_GREY},${GAP_GREY},${GAP_GREY})"/>${texts.join("")}</svg>`;
  const rendered = new Resvg(svg, {
    fitTo: { mode: "original" },
    font: { loadSystemFonts: true, defaultFontFamily: FONT, sansSerifFamily: FONT },
    shapeRendering: 2,
    textRendering: 1,
  }).render();
  if (rendered.width !== width || rendered.height !== height) {
    throw new Error(`gallery: resvg drew ${rendered.width} × ${rendered.height} pixels, expected ${width} × ${height}`);
  }
  const rgba = rendered.pixels;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = rgba[j]!;
    rgb[i + 1] = rgba[j + 1]!;
    rgb[i + 2] = rgba[j + 2]!;
  }

  // Images and swatches, pixel for pixel.
  const fill = (x0: number, y0: number, w: number, h: number, colour: readonly number[]) => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) rgb.set(colour, (y * width + x) * 3);
  };
  indices.forEach((image, k) => {
    const source = images.subarray(image * HAIRPIN_IMAGE_SIZE, (image + 1) * HAIRPIN_IMAGE_SIZE);
    const x0 = cellX(k), y0 = cellY(k);
    for (let y = 0; y < H; y++) {
      const from = Math.floor(y / scale) * HAIRPIN_IMAGE_WIDTH * 3;
      for (let x = 0; x < W; x++) {
        const s = from + Math.floor(x / scale) * 3;
        const at = ((y0 + y) * width + x0 + x) * 3;
        rgb[at] = source[s]!;
        rgb[at + 1] = source[s + 1]!;
        rgb[at + 2] = source[s + 2]!;
      }
    }
  });
  if (legend) KEY.forEach(([symbol], i) => fill(keyX[i]!, keyY, swatch, swatch, HAIRPIN_COLOURS[symbol]));
  return encodePng(rgb, width, height);
}

/** The grid alone (no text): images and grey gaps, magnified by `scale` when encoded. */
function plainGrid(images: Uint8Array, indices: readonly number[], columns: number, gap: number, scale: number): Buffer {
  const rows = Math.ceil(indices.length / columns);
  const usedColumns = Math.min(columns, indices.length);
  const width = usedColumns * HAIRPIN_IMAGE_WIDTH + (usedColumns + 1) * gap;
  const height = rows * HAIRPIN_IMAGE_HEIGHT + (rows + 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(GAP_GREY);
  indices.forEach((image, k) => {
    const x0 = gap + (k % columns) * (HAIRPIN_IMAGE_WIDTH + gap);
    const y0 = gap + Math.floor(k / columns) * (HAIRPIN_IMAGE_HEIGHT + gap);
    const source = images.subarray(image * HAIRPIN_IMAGE_SIZE, (image + 1) * HAIRPIN_IMAGE_SIZE);
    for (let y = 0; y < HAIRPIN_IMAGE_HEIGHT; y++) {
      const from = y * HAIRPIN_IMAGE_WIDTH * 3;
      rgb.set(source.subarray(from, from + HAIRPIN_IMAGE_WIDTH * 3), ((y0 + y) * width + x0) * 3);
    }
  });
  return encodePng(rgb, width, height, scale);
}
