import * as zlib from "node:zlib";
import { InputError } from "../errors";

/**
 * A PNG (8-bit RGB, no interlace) of an RGB image `rgb` (shape=(height, width, 3), row-major bytes), each pixel drawn as
 * a `scale` × `scale` block. Deflate by node:zlib, CRCs by zlib.crc32.
 */
export function encodePng(rgb: Uint8Array, width: number, height: number, scale = 1): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  if (!Number.isInteger(scale) || scale < 1) throw new InputError(`scale must be a positive integer, got ${scale}`);
  const outWidth = width * scale;
  const outHeight = height * scale;
  const stride = outWidth * 3 + 1;
  const raw = Buffer.alloc(stride * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const rowStart = y * stride; // filter byte 0 (None) at rowStart
    const srcRow = Math.floor(y / scale) * width * 3;
    for (let x = 0; x < outWidth; x++) {
      const src = srcRow + Math.floor(x / scale) * 3;
      const dst = rowStart + 1 + x * 3;
      raw[dst] = rgb[src]!;
      raw[dst + 1] = rgb[src + 1]!;
      raw[dst + 2] = rgb[src + 2]!;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(outWidth, 0);
  ihdr.writeUInt32BE(outHeight, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
