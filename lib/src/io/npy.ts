import { InputError } from "../errors";
import { extractZipMember, readZipDirectory, zipArchive } from "./archives";
import { readMaybeGzip, writeFileAtomic } from "./files";

/**
 * NumPy's `.npy` arrays and `.npz` archives (zip files of `.npy` members, as written by
 * `np.save` / `np.savez` / `np.savez_compressed`), read and written without Python.
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

/** How zip errors name an `.npz` file. */
const NPZ = { kind: ".npz (zip) archive" };

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
  if (archive.length >= 6 && MAGIC.every((b, i) => archive[i] === b)) {
    throw new InputError("this is a .npy file, not a .npz archive (read it with readNpy)", { file });
  }
  for (const entry of readZipDirectory(archive, file, NPZ)) {
    if (entry.name.endsWith("/")) continue; // a folder entry
    const source = `${file}, member '${entry.name}'`;
    const body = extractZipMember(archive, entry, source, NPZ);
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
  // Each regex has one group, not optional: it is there whenever the regex matched.
  const shapeText = shape[1]!;
  const dims = shapeText
    .split(",")
    .map((s) => s.trim().replace(/L$/, ""))
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : fail(`malformed shape in .npy header: (${shapeText})`)));
  return { descr: descr[1]!, fortranOrder: fortran[1] === "True", shape: dims };
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
        const v = big[i]!;
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
      const c = codes[k]!;
      if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) fail(`invalid code point 0x${c.toString(16)} in <U${width} string at flat index ${i}`);
      s += String.fromCodePoint(c);
    }
    out[i] = s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// writing

/** Element types {@link encodeNpy} writes, by the typed array that holds them. */
function descrOf(array: NdArray): string {
  const { data } = array;
  if (Array.isArray(data)) {
    if (/^<U\d+$/.test(array.dtype)) return array.dtype;
    const width = Math.max(1, ...data.map((s) => Array.from(s).length));
    return `<U${width}`;
  }
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof Int16Array) return "<i2";
  if (data instanceof Int8Array) return "|i1";
  if (data instanceof Uint32Array) return "<u4";
  if (data instanceof Uint16Array) return "<u2";
  if (data instanceof Uint8Array) return array.dtype === "|b1" ? "|b1" : "|u1";
  if (data instanceof BigInt64Array) return "<i8";
  return "<u8";
}

/**
 * A `.npy` v1.0 file of `array` (C order; the header padded to a multiple of 64 bytes, as
 * NumPy writes it). The element type follows the typed array (Float32Array → `<f4`,
 * Uint8Array → `|u1`, or `|b1` when `dtype` says so, …); strings become `<U n`, n = the
 * longest string in code points (or the `<U n` given as `dtype`).
 */
export function encodeNpy(array: NdArray): Buffer {
  const count = shapeSize(array.shape);
  if (array.data.length !== count) {
    throw new Error(`encodeNpy: shape (${array.shape.join(", ")}) holds ${count} values, data has ${array.data.length}`);
  }
  const descr = descrOf(array);
  let body: Buffer;
  if (Array.isArray(array.data)) {
    const width = Number(descr.slice(2));
    body = Buffer.alloc(count * width * 4);
    array.data.forEach((s, i) => {
      const points = Array.from(s, (c) => c.codePointAt(0)!);
      if (points.length > width) throw new Error(`encodeNpy: string ${i} is longer than ${descr}`);
      points.forEach((cp, k) => body.writeUInt32LE(cp, (i * width + k) * 4));
    });
  } else {
    body = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const preamble = Buffer.alloc(10);
  Buffer.from([...MAGIC, 1, 0]).copy(preamble);
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, "latin1"), body]);
}

/**
 * Writes arrays as a compressed `.npz` (members `<key>.npy`, deflated; what
 * `np.savez_compressed(file, key=array, …)` writes), atomically. `np.load(file)[key]` reads them.
 */
export function writeNpz(file: string, arrays: Readonly<Record<string, NdArray>>): void {
  const keys = Object.keys(arrays);
  if (keys.length === 0) throw new Error("writeNpz: no arrays to write");
  writeFileAtomic(file, zipArchive(keys.map((key) => ({ name: `${key}.npy`, data: encodeNpy(arrays[key]!) }))));
}
