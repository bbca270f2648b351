import * as zlib from "node:zlib";
import { InputError } from "./errors";
import { readMaybeGzip } from "./fileio";

/**
 * Readers for NumPy's `.npy` arrays and `.npz` archives (zip files of `.npy` members, as written
 * by `np.save` / `np.savez` / `np.savez_compressed`), without Python.
 *
 * Supported element types (the header's `descr`) and what they become in {@link NdArray.data}:
 *
 * | descr | data |
 * | --- | --- |
 * | `<f8` | Float64Array |
 * | `<f4` | Float32Array |
 * | `<i8`, `<u8` | Float64Array of integers by default — an error if any value is beyond ±(2^53 − 1), i.e. not exactly representable; `{ int64: "bigint" }` gives BigInt64Array / BigUint64Array instead |
 * | `<i4`, `<i2`, `\|i1` | Int32Array, Int16Array, Int8Array |
 * | `<u4`, `<u2`, `\|u1` | Uint32Array, Uint16Array, Uint8Array |
 * | `\|b1` | Uint8Array of 0 / 1 |
 * | `<U n` | string[]: UTF-32LE, n code points per element, trailing NULs removed |
 * | `\|S n` | string[]: n bytes per element decoded as latin-1 (byte k → U+00kk), trailing NULs removed |
 *
 * Values are in C (row-major) order. Not supported, each with a clear {@link InputError}:
 * big-endian types (`>f8` …), `fortran_order: True` (save with `np.ascontiguousarray` first),
 * structured / object / complex / float16 / datetime types. Header versions 1.0, 2.0 and 3.0
 * are read. Zip members may be stored (method 0) or deflated (method 8); zip64 records are
 * understood; encrypted members are rejected; each member's CRC-32 is checked.
 */

/** The typed storage of an {@link NdArray}, by element type (see the module table). */
export type NdData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | string[];

/** An n-dimensional array read from a `.npy` file: values in C order, `data.length` = product of `shape`. */
export interface NdArray {
  /** The header's `descr` as written, e.g. `<f8`, `|u1`, `<U30`, `|S29`. */
  dtype: string;
  /** Dimensions; `[]` for a 0-d (scalar) array, whose data then holds one value. */
  shape: number[];
  data: NdData;
}

export interface ReadNpyOptions {
  /**
   * How to return `<i8` / `<u8` data: `"number"` (default) = Float64Array, refusing values that
   * are not safe integers; `"bigint"` = BigInt64Array / BigUint64Array, exact for every value.
   */
  int64?: "number" | "bigint";
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Number of elements of an array of this shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Parses one `.npy` file held in memory. `source` names it in error messages (a path, or
 * "archive.npz, member 'x.npy'"). Throws {@link InputError} for a bad magic string, a malformed
 * or truncated header, an unsupported element type or order, or a data part whose length does
 * not match the shape.
 */
export function readNpy(buffer: Uint8Array, source = "<buffer>", options: ReadNpyOptions = {}): NdArray {
  const fail = (message: string): never => {
    throw new InputError(message, { file: source });
  };
  if (buffer.length < 6 || MAGIC.some((b, i) => buffer[i] !== b)) {
    fail("not a NumPy .npy file (bad magic string; expected \\x93NUMPY at the start)");
  }
  if (buffer.length < 10) fail(`truncated .npy header (${buffer.length} bytes)`);
  const major = buffer[6];
  const minor = buffer[7];
  let headerLength: number;
  let headerStart: number;
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buffer.length < 12) fail("truncated .npy header");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`unsupported .npy format version ${major}.${minor} (this reader knows 1.0, 2.0, 3.0)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > buffer.length) {
    fail(`truncated .npy header: it declares ${headerLength} bytes but the file has ${buffer.length - headerStart} after the preamble`);
  }
  const headerBytes = Buffer.from(buffer.buffer, buffer.byteOffset + headerStart, headerLength);
  const header = headerBytes.toString(major === 3 ? "utf8" : "latin1");
  const { descr, fortranOrder, shape } = parseHeader(header, fail);
  if (fortranOrder && shape.length > 1) {
    fail(`fortran_order: True is not supported (array of shape (${shape.join(", ")})); save a C-ordered copy with np.ascontiguousarray`);
  }
  const type = elementType(descr, fail);
  const count = shapeSize(shape);
  const expected = count * type.itemSize;
  const found = buffer.length - dataStart;
  if (found < expected) {
    fail(`truncated data: shape (${shape.join(", ")}) of ${descr} needs ${expected} bytes after the header, found ${found}`);
  }
  if (found > expected) {
    fail(`${found - expected} unexpected bytes after the data of shape (${shape.join(", ")}) of ${descr} (corrupt file?)`);
  }
  const bytes = buffer.subarray(dataStart, dataStart + expected);
  return { dtype: descr, shape, data: decode(bytes, type, count, options, fail) };
}

/** Reads a `.npy` file from disk (see {@link readNpy}). */
export function readNpyFile(file: string, options: ReadNpyOptions = {}): NdArray {
  return readNpy(readMaybeGzip(file), file, options);
}

/**
 * Reads every member of a `.npz` archive. Keys are the member names without `.npy` (as
 * `np.load(file).files`: `arr_0`, or the keyword names given to `np.savez`). Errors name the
 * file and, for a bad member, the member.
 */
export function readNpz(file: string, options: ReadNpyOptions = {}): Map<string, NdArray> {
  const archive = readMaybeGzip(file);
  const result = new Map<string, NdArray>();
  for (const entry of readZipDirectory(archive, file)) {
    if (entry.name.endsWith("/")) continue; // a folder entry
    const source = `${file}, member '${entry.name}'`;
    const body = extractZipMember(archive, entry, source);
    const key = entry.name.endsWith(".npy") ? entry.name.slice(0, -4) : entry.name;
    result.set(key, readNpy(body, source, options));
  }
  if (result.size === 0) throw new InputError("the .npz archive holds no arrays", { file });
  return result;
}

/**
 * Reads the only array of a one-member `.npz` (what `np.savez_compressed(file, array)` writes,
 * member `arr_0`); an error names the members when there are several.
 */
export function readNpzSingle(file: string, options: ReadNpyOptions = {}): NdArray {
  const arrays = readNpz(file, options);
  if (arrays.size !== 1) {
    throw new InputError(`expected one array in the .npz archive, found ${arrays.size}: ${[...arrays.keys()].join(", ")}`, { file });
  }
  return arrays.values().next().value as NdArray;
}

// ---------------------------------------------------------------------------------------------
// .npy header

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Parses the header dict literal, e.g. `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeader(header: string, fail: (m: string) => never): Header {
  const text = header.trim();
  if (!text.startsWith("{") || !text.endsWith("}")) fail(`malformed .npy header (expected a dict literal): ${JSON.stringify(text.slice(0, 120))}`);
  if (/['"]descr['"]\s*:\s*\[/.test(text)) {
    fail("unsupported dtype: structured arrays (a list of fields) are not supported");
  }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    fail(`malformed .npy header (needs descr, fortran_order and shape): ${JSON.stringify(text.slice(0, 120))}`);
  }
  const dims = shape![1]
    .split(",")
    .map((s) => s.trim().replace(/L$/, ""))
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : fail(`malformed shape in .npy header: (${shape![1]})`)));
  return { descr: descr![1], fortranOrder: fortran![1] === "True", shape: dims };
}

type ElementKind = "f8" | "f4" | "i8" | "u8" | "i4" | "i2" | "i1" | "u4" | "u2" | "u1" | "b1" | "U" | "S";

interface ElementType {
  kind: ElementKind;
  /** Bytes per element. */
  itemSize: number;
}

const FIXED_TYPES: Record<string, ElementType> = {
  "<f8": { kind: "f8", itemSize: 8 },
  "<f4": { kind: "f4", itemSize: 4 },
  "<i8": { kind: "i8", itemSize: 8 },
  "<u8": { kind: "u8", itemSize: 8 },
  "<i4": { kind: "i4", itemSize: 4 },
  "<u4": { kind: "u4", itemSize: 4 },
  "<i2": { kind: "i2", itemSize: 2 },
  "<u2": { kind: "u2", itemSize: 2 },
  "|i1": { kind: "i1", itemSize: 1 },
  "|u1": { kind: "u1", itemSize: 1 },
  "|b1": { kind: "b1", itemSize: 1 },
};

const SUPPORTED = "<f8, <f4, <i8, <i4, <i2, |i1, <u8, <u4, <u2, |u1, |b1, <U n, |S n";

function elementType(descr: string, fail: (m: string) => never): ElementType {
  const fixed = FIXED_TYPES[descr];
  if (fixed) return fixed;
  const text = /^([<|])([US])(\d+)$/.exec(descr);
  if (text) {
    const width = Number(text[3]);
    if (text[2] === "U" && text[1] === "<") return { kind: "U", itemSize: 4 * width };
    if (text[2] === "S" && text[1] === "|") return { kind: "S", itemSize: width };
  }
  if (descr.startsWith(">")) {
    return fail(`unsupported dtype '${descr}': big-endian data is not supported (convert with array.astype(array.dtype.newbyteorder('<')))`);
  }
  return fail(`unsupported dtype '${descr}' (supported: ${SUPPORTED})`);
}

/** Copies `bytes` into a fresh ArrayBuffer when it is not aligned for `itemSize`-byte elements. */
function aligned(bytes: Uint8Array, itemSize: number): { buffer: ArrayBuffer; offset: number } {
  if (bytes.byteOffset % itemSize === 0) return { buffer: bytes.buffer as ArrayBuffer, offset: bytes.byteOffset };
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return { buffer: copy.buffer, offset: 0 };
}

function decode(bytes: Uint8Array, type: ElementType, count: number, options: ReadNpyOptions, fail: (m: string) => never): NdData {
  const { buffer, offset } = aligned(bytes, type.kind === "U" ? 4 : type.kind === "S" ? 1 : type.itemSize);
  switch (type.kind) {
    case "f8":
      return new Float64Array(buffer, offset, count);
    case "f4":
      return new Float32Array(buffer, offset, count);
    case "i8":
    case "u8": {
      const big = type.kind === "i8" ? new BigInt64Array(buffer, offset, count) : new BigUint64Array(buffer, offset, count);
      if (options.int64 === "bigint") return big;
      const out = new Float64Array(count);
      const limit = BigInt(Number.MAX_SAFE_INTEGER);
      for (let i = 0; i < count; i++) {
        const v = big[i];
        if (v > limit || v < -limit) {
          fail(`${type.kind === "i8" ? "<i8" : "<u8"} value ${v} at flat index ${i} is not a safe integer (beyond ±2^53−1); read with { int64: "bigint" }`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case "i4":
      return new Int32Array(buffer, offset, count);
    case "i2":
      return new Int16Array(buffer, offset, count);
    case "i1":
      return new Int8Array(buffer, offset, count);
    case "u4":
      return new Uint32Array(buffer, offset, count);
    case "u2":
      return new Uint16Array(buffer, offset, count);
    case "u1":
    case "b1":
      return new Uint8Array(buffer, offset, count);
    case "U":
      return decodeUtf32(new Uint32Array(buffer, offset, (count * type.itemSize) / 4), count, type.itemSize / 4, fail);
    case "S": {
      const out: string[] = new Array(count);
      const all = Buffer.from(buffer, offset, count * type.itemSize);
      for (let i = 0; i < count; i++) {
        let end = (i + 1) * type.itemSize;
        while (end > i * type.itemSize && all[end - 1] === 0) end--;
        out[i] = all.toString("latin1", i * type.itemSize, end);
      }
      return out;
    }
  }
}

function decodeUtf32(codes: Uint32Array, count: number, width: number, fail: (m: string) => never): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    let end = (i + 1) * width;
    while (end > i * width && codes[end - 1] === 0) end--;
    let s = "";
    for (let k = i * width; k < end; k++) {
      const c = codes[k];
      if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) fail(`invalid code point 0x${c.toString(16)} in <U${width} string at flat index ${i}`);
      s += String.fromCodePoint(c);
    }
    out[i] = s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// zip (only what .npz needs: central directory, stored and deflated members, zip64 records)

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/** Lists the members of a zip archive from its central directory. */
function readZipDirectory(zip: Buffer, file: string): ZipEntry[] {
  const fail = (message: string): never => {
    throw new InputError(`corrupt .npz (zip) archive: ${message}`, { file });
  };
  if (zip.length >= 6 && MAGIC.every((b, i) => zip[i] === b)) {
    throw new InputError("this is a .npy file, not a .npz archive (read it with readNpy)", { file });
  }
  if (zip.length < 22 || zip.readUInt32LE(0) !== LOCAL_SIGNATURE) {
    if (zip.length >= 4 && zip.readUInt32LE(0) === EOCD_SIGNATURE) fail("the archive is empty");
    fail("not a zip file (no local file header at the start)");
  }
  // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the end.
  let eocd = -1;
  for (let p = zip.length - 22; p >= Math.max(0, zip.length - 22 - 0xffff); p--) {
    if (zip.readUInt32LE(p) === EOCD_SIGNATURE && p + 22 + zip.readUInt16LE(p + 20) === zip.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail("no end-of-central-directory record (truncated file?)");
  let count = zip.readUInt16LE(eocd + 10);
  let directorySize = zip.readUInt32LE(eocd + 12);
  let directoryOffset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || zip.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) fail("zip64 values without a zip64 locator");
    const record = safeNumber(zip.readBigUInt64LE(locator + 8), fail);
    if (record + 56 > zip.length || zip.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) fail("bad zip64 end-of-central-directory record");
    count = safeNumber(zip.readBigUInt64LE(record + 32), fail);
    directorySize = safeNumber(zip.readBigUInt64LE(record + 40), fail);
    directoryOffset = safeNumber(zip.readBigUInt64LE(record + 48), fail);
  }
  if (directoryOffset + directorySize > zip.length) fail("the central directory lies beyond the end of the file (truncated file?)");
  const entries: ZipEntry[] = [];
  let p = directoryOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== CENTRAL_SIGNATURE) fail(`bad central directory entry ${k + 1} of ${count}`);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    if (p + 46 + nameLength + extraLength + commentLength > zip.length) fail(`central directory entry ${k + 1} runs past the end of the file`);
    const entry: ZipEntry = {
      flags: zip.readUInt16LE(p + 8),
      method: zip.readUInt16LE(p + 10),
      crc32: zip.readUInt32LE(p + 16),
      compressedSize: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      localHeaderOffset: zip.readUInt32LE(p + 42),
      name: zip.toString("utf8", p + 46, p + 46 + nameLength),
    };
    applyZip64Extra(zip.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength), entry, fail);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Replaces 0xFFFFFFFF sizes / offset with the 64-bit values of a zip64 extra field (id 1). */
function applyZip64Extra(extra: Buffer, entry: ZipEntry, fail: (m: string) => never): void {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const next = (): number => {
        if (q + 8 > p + 4 + length) fail(`short zip64 extra field for '${entry.name}'`);
        const v = safeNumber(extra.readBigUInt64LE(q), fail);
        q += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
    }
    p += 4 + length;
  }
}

function safeNumber(v: bigint, fail: (m: string) => never): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`zip64 value ${v} too large`);
  return Number(v);
}

/** The uncompressed bytes of one member; checks method, sizes and CRC-32. */
function extractZipMember(zip: Buffer, entry: ZipEntry, source: string): Buffer {
  const fail = (message: string): never => {
    throw new InputError(`corrupt .npz (zip) archive: ${message}`, { file: source });
  };
  if (entry.flags & 0x1) fail("the member is encrypted");
  const p = entry.localHeaderOffset;
  if (p + 30 > zip.length || zip.readUInt32LE(p) !== LOCAL_SIGNATURE) fail("bad local file header");
  const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
  const end = start + entry.compressedSize;
  if (end > zip.length) fail(`member data runs past the end of the file (truncated file?)`);
  const raw = zip.subarray(start, end);
  let body: Buffer;
  if (entry.method === 0) {
    body = raw;
  } else if (entry.method === 8) {
    try {
      // One output chunk of the expected size: no concatenation of 16 KiB pieces (about 2x faster
      // on the 225 MB image members). Deflate expands at most ~1032:1, which bounds the allocation
      // when a corrupt directory claims a huge size.
      const chunkSize = Math.max(64, Math.min(entry.size, 1032 * raw.length + 1024));
      body = zlib.inflateRawSync(raw, { chunkSize, maxOutputLength: Math.max(entry.size, 1) });
    } catch (e) {
      return fail(`cannot inflate the member (${(e as Error).message})`);
    }
  } else {
    return fail(`unsupported compression method ${entry.method} (only stored = 0 and deflate = 8)`);
  }
  if (body.length !== entry.size) fail(`the member holds ${body.length} bytes, the directory says ${entry.size}`);
  const crc = zlib.crc32(body) >>> 0;
  if (crc !== entry.crc32) fail(`CRC-32 mismatch (computed ${hex(crc)}, the directory says ${hex(entry.crc32)})`);
  return body;
}

function hex(v: number): string {
  return "0x" + v.toString(16).padStart(8, "0");
}
