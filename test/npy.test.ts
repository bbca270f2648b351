import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { NdArray, readNpy, readNpyFile, readNpz, readNpzSingle } from "../lib/src/io/npy";
import { InputError } from "../lib/src/errors";
import { tempDir } from "./helpers";

// Fixtures: test/fixtures/npy/make_fixtures.py (NumPy 1.24) writes the files and expected.json.
const FIXTURES = path.join(__dirname, "fixtures", "npy");
const fixture = (name: string) => path.join(FIXTURES, name);
interface Expected {
  dtype: string;
  shape: number[];
  values: (number | string)[];
}
const EXPECTED = JSON.parse(fs.readFileSync(fixture("expected.json"), "utf8")) as Record<string, Expected>;
const dir = tempDir();

/** Which typed array each dtype must come back as (module doc table). */
const STORAGE: Record<string, new (...args: never[]) => unknown> = {
  "<f8": Float64Array,
  "<f4": Float32Array,
  "<i8": Float64Array,
  "<u8": Float64Array,
  "<i4": Int32Array,
  "<i2": Int16Array,
  "|i1": Int8Array,
  "<u4": Uint32Array,
  "<u2": Uint16Array,
  "|u1": Uint8Array,
  "|b1": Uint8Array,
};

/** Checks dtype, shape, storage type and every value against the NumPy-written expectation. */
function assertMatches(array: NdArray, expected: Expected, what: string) {
  assert.equal(array.dtype, expected.dtype, `${what} dtype`);
  assert.deepEqual(array.shape, expected.shape, `${what} shape`);
  if (/^[<|][US]\d+$/.test(expected.dtype)) {
    assert.ok(Array.isArray(array.data), `${what}: strings expected`);
  } else {
    assert.ok(array.data instanceof STORAGE[expected.dtype]!, `${what}: expected ${STORAGE[expected.dtype]!.name}, got ${array.data.constructor.name}`);
  }
  const values = Array.from(array.data as ArrayLike<number | string>);
  const want = expected.values.map((v) => (typeof v === "string" && /^[<|]?[iu]8$/.test(expected.dtype) ? Number(v) : v));
  assert.deepEqual(values, want, `${what} values`);
}

const GOOD_NPY = Object.keys(EXPECTED).filter((k) => k.endsWith(".npy"));

test("fixtures cover every supported dtype, header versions 1-3, a scalar and an empty array", () => {
  const dtypes = new Set(GOOD_NPY.map((k) => EXPECTED[k]!.dtype.replace(/^([<|][US])\d+$/, "$1")));
  for (const d of ["<f8", "<f4", "<i8", "<u8", "<i4", "<i2", "|i1", "<u4", "<u2", "|u1", "|b1", "<U", "|S"]) assert.ok(dtypes.has(d), `no fixture for ${d}`);
  for (const [name, major] of [["f8.npy", 1], ["f8_v2.npy", 2], ["f8_v3.npy", 3]] as const) {
    assert.equal(fs.readFileSync(fixture(name))[6], major, `${name} header version`);
  }
});

for (const name of GOOD_NPY) {
  test(`reads ${name} (${EXPECTED[name]!.dtype}, shape (${EXPECTED[name]!.shape.join(", ")})) as NumPy wrote it`, () => {
    assertMatches(readNpyFile(fixture(name)), EXPECTED[name]!, name);
  });
}

test("strings: <U is UTF-32 with trailing NULs removed, |S is latin-1 bytes", () => {
  assert.deepEqual(readNpyFile(fixture("unicode.npy")).data, [">hsa-mir-21", "α-β", "", "xxxxxxx"]);
  assert.deepEqual(readNpyFile(fixture("bytes.npy")).data, [">hsa-let-7a-1", "caf\u00e9", "", "a\u0000b"]);
});

test("int64: numbers by default, bigint on request, and an error for values beyond 2^53", () => {
  const big = readNpyFile(fixture("i8.npy"), { int64: "bigint" });
  assert.ok(big.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(big.data as BigInt64Array), EXPECTED["i8.npy"]!.values.map((v) => BigInt(v)));
  assert.ok(readNpyFile(fixture("u8.npy"), { int64: "bigint" }).data instanceof BigUint64Array);
  assert.throws(() => readNpyFile(fixture("i8_unsafe.npy")), /i8_unsafe\.npy: <i8 value 9007199254740992 at flat index 0 is not a safe integer.*int64: "bigint"/);
  assert.deepEqual(Array.from(readNpyFile(fixture("i8_unsafe.npy"), { int64: "bigint" }).data as BigInt64Array), [2n ** 53n, 1n]);
});

test("reads from an unaligned buffer (copies instead of a misaligned view)", () => {
  const bytes = fs.readFileSync(fixture("f8.npy"));
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  assertMatches(readNpy(padded.subarray(3), "unaligned"), EXPECTED["f8.npy"]!, "unaligned f8");
});

/** The compression method of every local file header of a zip (by walking the headers). */
function zipMethods(file: string): number[] {
  const zip = fs.readFileSync(file);
  const methods: number[] = [];
  let p = 0;
  while (zip.readUInt32LE(p) === 0x04034b50) {
    methods.push(zip.readUInt16LE(p + 8));
    const compressed = zip.readUInt32LE(p + 18);
    const nameLength = zip.readUInt16LE(p + 26);
    const extraLength = zip.readUInt16LE(p + 28);
    let size = compressed;
    if (compressed === 0xffffffff) size = Number(zip.readBigUInt64LE(p + 30 + nameLength + 4 + 8)); // zip64 extra: size, compressed size
    p += 30 + nameLength + extraLength + size;
  }
  return methods;
}

for (const [name, method] of [["deflated.npz", 8], ["stored.npz", 0]] as const) {
  test(`reads ${name} (zip method ${method}, NumPy's zip64 local headers) with every member`, () => {
    assert.deepEqual(zipMethods(fixture(name)), [method, method, method], "fixture uses the intended zip method");
    const arrays = readNpz(fixture(name));
    assert.deepEqual([...arrays.keys()], ["images", "labels", "names"]);
    for (const key of arrays.keys()) assertMatches(arrays.get(key)!, EXPECTED[`npz:${key}`]!, `${name}:${key}`);
  });
}

test("readNpzSingle wants exactly one member and names the ones it found", () => {
  assert.throws(() => readNpzSingle(fixture("deflated.npz")), /deflated\.npz: expected one array in the \.npz archive, found 3: images, labels, names/);
});

/** Writes bytes to a temp file and returns its path. */
function writeTemp(name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Expects an InputError whose message matches the pattern. */
function throwsInput(run: () => unknown, pattern: RegExp) {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test("bad .npy inputs: clear messages naming the file", () => {
  const f8 = fs.readFileSync(fixture("f8.npy"));
  throwsInput(() => readNpyFile(writeTemp("magic.npy", "PK not numpy at all")), /magic\.npy: not a NumPy \.npy file \(bad magic string/);
  throwsInput(() => readNpyFile(writeTemp("trunc.npy", f8.subarray(0, f8.length - 5))), /trunc\.npy: truncated data: shape \(2, 3\) of <f8 needs 48 bytes after the header, found 43/);
  throwsInput(() => readNpyFile(writeTemp("header.npy", f8.subarray(0, 40))), /header\.npy: truncated \.npy header/);
  throwsInput(() => readNpyFile(writeTemp("preamble.npy", f8.subarray(0, 8))), /preamble\.npy: truncated \.npy header \(8 bytes\)/);
  throwsInput(() => readNpyFile(writeTemp("extra.npy", Buffer.concat([f8, Buffer.alloc(8)]))), /extra\.npy: 8 unexpected bytes after the data/);
  const v4 = Buffer.from(f8);
  v4[6] = 4;
  throwsInput(() => readNpyFile(writeTemp("v4.npy", v4)), /v4\.npy: unsupported \.npy format version 4\.0/);
  throwsInput(() => readNpyFile(fixture("complex.npy")), /complex\.npy: unsupported dtype '<c16' \(supported: <f8/);
  throwsInput(() => readNpyFile(fixture("structured.npy")), /structured\.npy: unsupported dtype: structured arrays/);
  throwsInput(() => readNpyFile(fixture("bigendian.npy")), /bigendian\.npy: unsupported dtype '>f8': big-endian/);
  throwsInput(() => readNpyFile(fixture("fortran.npy")), /fortran\.npy: fortran_order: True is not supported \(array of shape \(2, 3\)\)/);
  throwsInput(() => readNpyFile(path.join(dir, "absent.npy")), /absent\.npy: file not found/);
});

/** Sets the compression method of every local and central header of a zip. */
function withMethod(zip: Buffer, method: number): Buffer {
  const out = Buffer.from(zip);
  for (let p = 0; p + 4 <= out.length; p++) {
    const signature = out.readUInt32LE(p);
    if (signature === 0x04034b50) out.writeUInt16LE(method, p + 8);
    if (signature === 0x02014b50) out.writeUInt16LE(method, p + 10);
  }
  return out;
}

test("bad .npz inputs: corrupt, truncated, not a zip, a bad member — messages name file and member", () => {
  const stored = fs.readFileSync(fixture("stored.npz"));
  const deflated = fs.readFileSync(fixture("deflated.npz"));
  throwsInput(() => readNpz(writeTemp("text.npz", "hello, this is not a zip archive at all")), /text\.npz: corrupt \.npz \(zip\) archive: not a zip file/);
  throwsInput(() => readNpz(fixture("f8.npy")), /f8\.npy: this is a \.npy file, not a \.npz archive/);
  throwsInput(() => readNpz(writeTemp("cut.npz", deflated.subarray(0, deflated.length - 30))), /cut\.npz: corrupt \.npz \(zip\) archive: no end-of-central-directory record \(truncated file\?\)/);
  // Flip one byte of array data in the stored archive: only the CRC can notice.
  const flipped = Buffer.from(stored);
  flipped[stored.indexOf("NUMPY") + 200]! ^= 0xff;
  throwsInput(() => readNpz(writeTemp("crc.npz", flipped)), /crc\.npz, member 'images\.npy': corrupt \.npz \(zip\) archive: CRC-32 mismatch/);
  // Garble the deflate stream of the first member.
  const garbled = Buffer.from(deflated);
  for (let p = 80; p < 110; p++) garbled[p] = 0xff;
  throwsInput(() => readNpz(writeTemp("garbled.npz", garbled)), /garbled\.npz, member 'images\.npy': corrupt \.npz \(zip\) archive: (cannot inflate|CRC-32 mismatch|the member holds)/);
  throwsInput(() => readNpz(writeTemp("bzip2.npz", withMethod(stored, 12))), /bzip2\.npz, member 'images\.npy': corrupt \.npz \(zip\) archive: unsupported compression method 12/);
  throwsInput(() => readNpz(fixture("bad_member.npz")), /bad_member\.npz, member 'bad\.npy': not a NumPy \.npy file/);
});
