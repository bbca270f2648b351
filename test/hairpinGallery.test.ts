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
