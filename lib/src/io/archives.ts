import { spawn } from "node:child_process";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { InputError } from "../errors";

/**
 * Archives, the one implementation of each in this package. Zip: reading (central directory,
 * stored and deflated members, zip64 records, CRC-32 checked) for `.npz` files and downloaded
 * archives, and writing (deflated members, no zip64) for `.npz` files. Tar: reading the
 * regular files of ustar / GNU / PAX archives, `.tar.xz` through the `xz` program.
 */

/** One member as the central directory lists it. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** How errors call the archive: "zip archive" by default, ".npz (zip) archive" for NumPy files. */
export interface ZipReadOptions {
  kind?: string;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/** Lists the members of a zip archive from its central directory. Errors name `file`. */
export function readZipDirectory(zip: Buffer, file: string, opts: ZipReadOptions = {}): ZipEntry[] {
  const kind = opts.kind ?? "zip archive";
  const fail = (message: string): never => {
    throw new InputError(`corrupt ${kind}: ${message}`, { file });
  };
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

/** The uncompressed bytes of one member; checks method, sizes and CRC-32. `source` names it in errors. */
export function extractZipMember(zip: Buffer, entry: ZipEntry, source: string, opts: ZipReadOptions = {}): Buffer {
  const kind = opts.kind ?? "zip archive";
  const fail = (message: string): never => {
    throw new InputError(`corrupt ${kind}: ${message}`, { file: source });
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

/**
 * Matches a glob against a slash-separated path: `**` any characters, `*` any except `/`,
 * `?` one character except `/`.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The one member whose name or base name matches `pattern` (a glob); errors list the members. */
export function pickMember<T extends { name: string }>(members: readonly T[], pattern: string, file: string): T {
  const re = globToRegExp(pattern);
  const hits = members.filter((m) => re.test(path.posix.basename(m.name)) || re.test(m.name));
  if (hits.length !== 1) {
    throw new InputError(`expected exactly one member matching '${pattern}', found ${hits.length} (members: ${members.map((m) => m.name).join(", ") || "none"})`, { file });
  }
  return hits[0]!;
}

/** Extracts the one member (stored or deflated) whose name matches `pattern` (a glob). */
export function readZipMember(archive: Buffer, pattern: string, file = "archive"): { name: string; data: Buffer } {
  const entry = pickMember(readZipDirectory(archive, file).filter((e) => !e.name.endsWith("/")), pattern, file);
  return { name: entry.name, data: extractZipMember(archive, entry, `${file}, member '${entry.name}'`) };
}

/** A member to write. */
export interface ZipMemberData {
  name: string;
  data: Uint8Array;
}

/**
 * A zip archive of deflated members (what `numpy.savez_compressed` writes), with a zero
 * timestamp (1980-01-01) so the same members give the same bytes. No zip64: members and the
 * archive must stay under 4 GiB.
 */
export function zipArchive(members: readonly ZipMemberData[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const member of members) {
    const name = Buffer.from(member.name, "utf8");
    const data = zlib.deflateRawSync(member.data);
    const crc = zlib.crc32(member.data) >>> 0;
    if (data.length >= 0xffffffff || member.data.length >= 0xffffffff) throw new Error("zip member too large for a zip without zip64");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_SIGNATURE, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(member.name === name.toString("latin1") ? 0 : 0x800, 6); // flags: UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(member.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(CENTRAL_SIGNATURE, 0);
    entry.writeUInt16LE(20, 4); // made by
    entry.writeUInt16LE(20, 6); // needed
    entry.writeUInt16LE(local.readUInt16LE(6), 8);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt16LE(0, 12);
    entry.writeUInt16LE(0x21, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(member.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    // extra, comment, disk, internal/external attributes: 0
    entry.writeUInt32LE(offset, 42);
    parts.push(local, name, data);
    central.push(entry, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  if (offset + directory.length >= 0xffffffff) throw new Error("archive too large for a zip without zip64");
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD_SIGNATURE, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

// ---------------------------------------------------------------------------------------------
// tar

/** Runs `xz -dc file` and returns the decompressed bytes. */
export function xzDecompress(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("xz", ["-dc", "--", file], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === "ENOENT" ? "the 'xz' program is needed to unpack .tar.xz archives: install it (Debian/Ubuntu: apt-get install xz-utils) or copy the files with --from DIR" : `cannot run xz: ${e.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new InputError(`xz failed (exit ${code}): ${err.trim()}`, { file }));
    });
  });
}

/** A regular-file member of a tar archive. */
export interface TarMember {
  name: string;
  data: Buffer;
}

function tarString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString("utf8");
}

/** The regular files of an (uncompressed) ustar/GNU/PAX tar archive. */
export function readTar(archive: Buffer, file = "archive"): TarMember[] {
  const members: TarMember[] = [];
  let offset = 0;
  let longName: string | null = null;
  for (;;) {
    if (offset + 512 > archive.length) throw new InputError(`truncated tar archive (no end-of-archive block after byte ${offset})`, { file });
    const header = archive.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const sizeField = tarString(header, 124, 12).trim();
    const size = parseInt(sizeField || "0", 8);
    if (!Number.isFinite(size)) throw new InputError(`corrupt tar header at byte ${offset}`, { file });
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + 512;
    if (dataStart + size > archive.length) throw new InputError(`truncated tar archive (member at byte ${offset} needs ${size} bytes)`, { file });
    const data = archive.subarray(dataStart, dataStart + size);
    const magic = tarString(header, 257, 6);
    const prefix = magic.startsWith("ustar") ? tarString(header, 345, 155) : "";
    const name = longName ?? (prefix ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100));
    longName = null;
    if (type === "L") longName = tarString(data, 0, data.length);
    else if (type === "x") {
      const pathRecord = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (pathRecord) longName = pathRecord[1]!;
    } else if (type === "0" || type === "\0" || type === "7") members.push({ name, data });
    offset = dataStart + Math.ceil(size / 512) * 512;
  }
  return members;
}
