import { test } from "node:test";
import assert from "node:assert/strict";
import { hairpinGalleryPng } from "../lib/src/hairpin/gallery";
import { HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { pngSize } from "../lib/src/figures/display";
import { decodePng } from "./helpers";

test("hairpinGalleryPng: grid size, grey gaps, each image at its place", () => {
  const images = new Uint8Array(3 * HAIRPIN_IMAGE_SIZE).fill(255);
  images[2 * HAIRPIN_IMAGE_SIZE] = 7; // image 2, pixel (0,0), red channel
  const png = hairpinGalleryPng(images, [0, 1, 2], { columns: 2, gap: 1, scale: 1 });
  // 2 columns: 2·100 + 3 gaps; 2 rows: 2·25 + 3 gaps
  assert.deepEqual(pngSize(png), { width: 203, height: 53 });
  const { rgb, width } = decodePng(png);
  const at = (x: number, y: number) => [...rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
  assert.deepEqual(at(0, 0), [200, 200, 200], "gap");
  assert.deepEqual(at(1, 1), [255, 255, 255], "image 0");
  assert.deepEqual(at(1, 27), [7, 255, 255], "image 2 starts the second row");
  assert.deepEqual(at(150, 40), [200, 200, 200], "empty cell of the last row stays grey");
  assert.deepEqual(pngSize(hairpinGalleryPng(images, [1], { scale: 4, gap: 0 })), { width: 400, height: 100 });
});

test("hairpinGalleryPng: bad arguments", () => {
  const images = new Uint8Array(HAIRPIN_IMAGE_SIZE);
  assert.throws(() => hairpinGalleryPng(images, []), /at least one image/);
  assert.throws(() => hairpinGalleryPng(images, [1]), /image index 1 is outside 0..0/);
  assert.throws(() => hairpinGalleryPng(images, [0], { columns: 0 }), /columns must be a positive integer/);
  assert.throws(() => hairpinGalleryPng(new Uint8Array(5), [0]), /not a multiple of 25 × 100 × 3/);
});

test("hairpinGalleryPng with captions: exact images, a caption under each, a colour key, the same bytes every time", () => {
  const images = new Uint8Array(3 * HAIRPIN_IMAGE_SIZE).fill(255);
  for (let i = 0; i < HAIRPIN_IMAGE_SIZE; i += 3) images.set([i % 2 ? 255 : 0, 0, 255], HAIRPIN_IMAGE_SIZE + i); // image 1: stripes
  images.set([255, 0, 0], 2 * HAIRPIN_IMAGE_SIZE + 3 * (12 * 100 + 7)); // image 2: one red pixel (row 12, column 7)
  const scale = 2, gap = 1, fontSize = 12;
  const png = hairpinGalleryPng(images, [1, 2, 0], { columns: 2, gap, scale, captions: ["hsa-mir-21", "", "negative 7"], fontSize });
  const { rgb, width, height } = decodePng(png);
  const at = (x: number, y: number) => [...rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
  // Layout: 2 columns of 200 px images with 2 px gaps; rows of 50 px images + 18 px captions; a 23 px key.
  const W = 200, H = 50, g = 2, captionH = 18, legendH = 23;
  assert.deepEqual({ width, height }, { width: 2 * W + 3 * g, height: 2 * (H + captionH) + 3 * g + legendH });
  // The images pixel for pixel, magnified without smoothing, at their places.
  const cell = (k: number) => ({ x: g + (k % 2) * (W + g), y: g + Math.floor(k / 2) * (H + captionH + g) });
  [1, 2, 0].forEach((image, k) => {
    const { x, y } = cell(k);
    for (let yy = 0; yy < H; yy++) {
      for (let xx = 0; xx < W; xx++) {
        const s = image * HAIRPIN_IMAGE_SIZE + (Math.floor(yy / scale) * 100 + Math.floor(xx / scale)) * 3;
        assert.deepEqual(at(x + xx, y + yy), [...images.subarray(s, s + 3)], `image ${image} pixel (${xx}, ${yy})`);
      }
    }
  });
  assert.deepEqual(at(cell(1).x + 14, cell(1).y + 24), [255, 0, 0]);
  // Captions: dark text under the captioned images, none under the empty caption.
  const dark = (x0: number, y0: number, w: number, h: number) => {
    let count = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (at(x, y).every((c) => c < 100)) count++;
    return count;
  };
  assert.ok(dark(cell(0).x, cell(0).y + H, W, captionH) > 30, "caption of the first image");
  assert.equal(dark(cell(1).x, cell(1).y + H, W, captionH), 0, "no caption for an empty one");
  assert.ok(dark(cell(2).x, cell(2).y + H, W, captionH) > 30, "caption of the third image");
  // The key: a swatch of each symbol colour (A yellow, C blue, G red, U green, gap black) with its label.
  const keyRow = height - Math.round(legendH / 2);
  const colours = new Set<string>();
  for (let x = 0; x < width; x++) colours.add(at(x, keyRow).join(","));
  for (const c of ["255,255,0", "0,0,255", "255,0,0", "0,255,0", "0,0,0"]) assert.ok(colours.has(c), `key colour ${c}`);
  // Deterministic, and grey around everything.
  assert.ok(hairpinGalleryPng(images, [1, 2, 0], { columns: 2, gap, scale, captions: ["hsa-mir-21", "", "negative 7"], fontSize }).equals(png));
  assert.deepEqual(at(0, 0), [200, 200, 200]);
  // A caption longer than the image is cut, not drawn over the next one (W: wider than the estimate).
  const long = decodePng(hairpinGalleryPng(images, [0, 0], { columns: 2, gap, scale, captions: ["W".repeat(200), ""], fontSize, legend: false }));
  const longAt = (x: number, y: number) => [...long.rgb.subarray((y * long.width + x) * 3, (y * long.width + x) * 3 + 3)];
  for (let y = H + g; y < H + g + captionH; y++) for (let x = W + g; x < long.width; x++) assert.deepEqual(longAt(x, y), [200, 200, 200]);
});

test("hairpinGalleryPng: a caption per image", () => {
  const images = new Uint8Array(2 * HAIRPIN_IMAGE_SIZE);
  assert.throws(() => hairpinGalleryPng(images, [0, 1], { captions: ["a"] }), /1 captions for 2 images/);
  // Without captions the key alone can be asked for.
  assert.ok(decodePng(hairpinGalleryPng(images, [0], { scale: 1, legend: true })).height > 29);
});

test("hairpinGalleryPng: captions with line breaks get one line each, every caption the room of the longest", () => {
  const images = new Uint8Array(2 * HAIRPIN_IMAGE_SIZE).fill(255);
  const scale = 2, gap = 1, fontSize = 12;
  const png = decodePng(hairpinGalleryPng(images, [0, 1], { columns: 2, gap, scale, fontSize, legend: false, captions: ["first line\nsecond line", "one line"] }));
  const W = 200, H = 50, g = 2, lineStep = 14, captionH = 18 + lineStep;
  assert.deepEqual({ width: png.width, height: png.height }, { width: 2 * W + 3 * g, height: H + captionH + 2 * g });
  const dark = (x0: number, y0: number, h: number) => {
    let count = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + W; x++) if ([...png.rgb.subarray((y * png.width + x) * 3, (y * png.width + x) * 3 + 3)].every((c) => c < 100)) count++;
    return count;
  };
  assert.ok(dark(g, g + H, lineStep) > 30, "first line");
  assert.ok(dark(g, g + H + lineStep + 2, captionH - lineStep - 2) > 30, "second line, below the first");
  assert.equal(dark(2 * g + W, g + H + lineStep + 2, captionH - lineStep - 2), 0, "a one-line caption leaves the second line empty");
});
