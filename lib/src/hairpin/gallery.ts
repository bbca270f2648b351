import { InputError } from "../errors";
import { imageCount } from "./classifier";
import { encodePng } from "../io/png";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "./image";

/** Options of {@link hairpinGalleryPng}. */
export interface HairpinGalleryOptions {
  /** Images per row (default 4). */
  columns?: number;
  /** Grey pixels between images and around the grid, before scaling (default 2). */
  gap?: number;
  /** Integer magnification of every pixel (default 4: a 25 × 100 image becomes 100 × 400). */
  scale?: number;
}

/** RGB of the gaps: light grey, so the images' white background stays visible as such. */
const GAP_GREY = 200;

/**
 * A PNG of hairpin images in a grid (row-major, `columns` per row), e.g. examples of each
 * class for a notebook. `images`: [N, 25, 100, 3] bytes; `indices`: which images to draw, in
 * order. Pixels are magnified by `scale` with no smoothing, so each nucleotide stays a crisp
 * block of colour.
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
