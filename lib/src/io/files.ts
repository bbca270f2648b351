import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { InputError } from "../errors";

/**
 * Reading files (gzip by name or by content) and the project's one way of writing them: to a
 * temporary name in the same folder, flushed to disk (fsync), then a rename, so a reader never
 * sees half a file and a failed write leaves the old file as it was.
 *
 * Temporary files and folders get fresh, unpredictable names (`.NAME.PID-RANDOM.tmp`) and are
 * created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW; mkdir), so a symbolic link planted at a
 * temporary name is never followed. Paths are resolved as the kernel does before any work
 * ({@link canonicalPath}). Outputs that are not regular files are never replaced: standard
 * output (`-`, `/dev/stdout`, or the file it was redirected to, also for append) is written
 * through its descriptor; a character device (`/dev/null`), a FIFO or a socket is written
 * straight through; a symbolic link is followed and its target is written atomically (the link
 * stays a link). Two outputs of one command that are one file are refused
 * ({@link checkDistinctOutputs}). Output folders are checked and replaced whole
 * ({@link openOutputFolder}). Temporary files and folders in flight are listed, so that an
 * interrupted process can remove them ({@link removePendingTemps}, called by the CLI on SIGINT /
 * SIGTERM); {@link removeStaleTemps} removes those of a process that died.
 */

// ---------------------------------------------------------------------------------------------
// reading

const GZIP_MAGIC = [0x1f, 0x8b];

/** True when `bytes` start like a gzip stream. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * What a binary file is, from its first bytes (HDF5, NumPy, zip/.npz, PNG, xz, bzip2, zstd), or
 * null when it does not start like one of those. Used to say "this is a Keras model, expected a
 * table" instead of printing its bytes.
 */
export function binaryFileKind(head: Uint8Array): string | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a)) return "an HDF5 file (a Keras .h5 model?)";
  if (starts(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59)) return "a NumPy .npy array";
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06)) return "a zip archive (a NumPy .npz?)";
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "a PNG image";
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "an xz archive";
  if (starts(0x42, 0x5a, 0x68)) return "a bzip2 archive";
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return "a zstd archive";
  return null;
}

/**
 * Reads a file, gunzipping when its name ends in `.gz` or its bytes start like gzip (a gzip file
 * named `.tsv` is read, not reported as garbage). Errors name the file: missing file, a folder,
 * a `.gz` that is not gzip, a truncated or corrupt gzip stream.
 */
export function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw readError(e, file);
  }
  const named = file.endsWith(".gz");
  if (!isGzip(raw)) {
    if (named && raw.length > 0) throw new InputError("named .gz but not a gzip file", { file });
    return raw;
  }
  try {
    return zlib.gunzipSync(raw);
  } catch (e) {
    throw gzipError(e, file);
  }
}

/**
 * The first `bytes` bytes of `file` (fewer when it is shorter), read without loading the rest:
 * enough to tell gzip or a binary format ({@link isGzip}, {@link binaryFileKind}). An InputError
 * ({@link readError}) when the file cannot be opened or read.
 */
export function readFileHead(file: string, bytes = 16): Buffer {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const head = Buffer.alloc(bytes);
      return head.subarray(0, fs.readSync(fd, head, 0, bytes, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw readError(e, file);
  }
}

/** The InputError for a file that cannot be opened or read. */
export function readError(e: unknown, file: string): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new InputError("file not found", { file });
  if (code === "EISDIR") return new InputError("is a folder, expected a file", { file });
  if (code === "EACCES" || code === "EPERM") return new InputError("permission denied (cannot read it)", { file });
  return new InputError(`cannot read: ${(e as Error).message}`, { file });
}

/**
 * Offset of the first byte of `bytes` that does not belong to valid UTF-8 (a stray continuation
 * byte, a Latin-1 letter such as 0xE9, an overlong form, a surrogate, a character cut off at the
 * end), or -1 when all of it is valid.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > n) return i;
    for (let k = 1; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    if (length === 3) {
      const c = ((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) return i;
    } else if (length === 4) {
      const c = ((b & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
      if (c < 0x10000 || c > 0x10ffff) return i;
    }
    i += length;
  }
  return -1;
}

/** The InputError for a gzip stream that does not inflate. */
export function gzipError(e: unknown, file: string): InputError {
  const message = (e as Error).message;
  return new InputError(/unexpected end/i.test(message) ? "truncated gzip file (unexpected end of data)" : `corrupt gzip file (${message})`, { file });
}

// ---------------------------------------------------------------------------------------------
// temporary files in flight

const pendingTemps = new Set<string>();

/** Characters of a target's name kept in its temporary name (names are at most 255 bytes). */
const TEMP_STEM = 160;
/** Names tried before giving up, when every one is taken (planted, or left by a crashed run). */
const TEMP_ATTEMPTS = 64;
/** `.NAME.PID-RANDOM.tmp` (also `.old` for a folder set aside), and `.NAME.PID.tmp`, the names before they were random. */
const TEMP_NAME = /^\.(.+)\.(\d+)(?:-[0-9a-f]{12})?\.(?:tmp|old)$/;

/**
 * A fresh temporary name beside `target`: `.NAME.PID-RANDOM.tmp`, 48 random bits, so it cannot
 * be guessed in advance; the PID tells a later run whether its writer is still alive.
 */
function tempName(target: string, suffix: ".tmp" | ".old" = ".tmp"): string {
  const base = path.basename(target).slice(0, TEMP_STEM);
  return path.join(path.dirname(target), `.${base}.${process.pid}-${crypto.randomBytes(6).toString("hex")}${suffix}`);
}

/** Flags of a temporary file: created here and now, never an existing file, never through a symbolic link. */
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Runs `create` on fresh temporary names until one is free (EEXIST: taken, try another). */
function tryTempNames<T>(target: string, shown: string, suffix: ".tmp" | ".old", create: (temp: string) => T): T {
  for (let attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    const temp = tempName(target, suffix);
    try {
      return create(temp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw writeError(e, shown);
    }
  }
  throw new InputError(`cannot write: ${TEMP_ATTEMPTS} fresh temporary names beside it were all taken`, { file: shown });
}

/**
 * Creates an empty temporary file beside `target` with O_CREAT | O_EXCL | O_NOFOLLOW (a name
 * that exists, a symbolic link included, is never opened: another name is drawn) and lists it
 * for {@link removePendingTemps}. Errors name `shown` (the output as the user gave it).
 */
function createTempFile(target: string, shown: string): { temp: string; fd: number } {
  return tryTempNames(target, shown, ".tmp", (temp) => {
    const fd = fs.openSync(temp, CREATE_NEW, 0o666);
    pendingTemps.add(temp);
    return { temp, fd };
  });
}

/** {@link createTempFile} with a promise-based handle (streamed outputs). */
async function createTempHandle(target: string, shown: string): Promise<{ temp: string; handle: fs.promises.FileHandle }> {
  for (let attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    const temp = tempName(target);
    try {
      const handle = await fs.promises.open(temp, CREATE_NEW, 0o666);
      pendingTemps.add(temp);
      return { temp, handle };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw writeError(e, shown);
    }
  }
  throw new InputError(`cannot write: ${TEMP_ATTEMPTS} fresh temporary names beside it were all taken`, { file: shown });
}

/** Creates an empty folder (mode 0700) under a fresh temporary name beside `target`; mkdir never follows a link. */
function createTempFolder(target: string, shown: string, suffix: ".tmp" | ".old" = ".tmp"): string {
  return tryTempNames(target, shown, suffix, (temp) => {
    fs.mkdirSync(temp, { mode: 0o700 });
    return temp;
  });
}

/**
 * Removes every temporary file and folder this process is writing (synchronous, never throws).
 * For signal handlers: an interrupted write leaves nothing behind.
 */
export function removePendingTemps(): void {
  for (const temp of pendingTemps) {
    try {
      fs.rmSync(temp, { recursive: true, force: true });
    } catch {
      // best effort: the process is going down
    }
  }
  pendingTemps.clear();
}

/** The temporary paths in flight (for tests). */
export function pendingTempPaths(): string[] {
  return [...pendingTemps];
}

/**
 * When `entry` (a file name) is a temporary name this module makes (`.NAME.PID-RANDOM.tmp`, a
 * folder set aside `.NAME.PID-RANDOM.old`) or made before (`.NAME.PID.tmp`): the target's name
 * and the writer's PID; else null.
 */
export function parseTempName(entry: string): { base: string; pid: number; aside: boolean } | null {
  const m = TEMP_NAME.exec(entry);
  return m ? { base: m[1]!, pid: Number(m[2]), aside: entry.endsWith(".old") } : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files and folders that writes to `target` left beside it in a process
 * that is gone (killed before it could clean up). Temps of live processes (this one included) and
 * folders set aside (`.old`: an old output, kept for the user) are left alone; links are removed
 * as links, never followed. Returns the paths removed. Never throws.
 */
export function removeStaleTemps(target: string): string[] {
  const folder = path.dirname(path.resolve(target));
  const base = path.basename(target).slice(0, TEMP_STEM);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(folder);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const temp = parseTempName(entry);
    if (!temp || temp.aside || temp.base !== base || temp.pid === process.pid || isAlive(temp.pid)) continue;
    try {
      fs.rmSync(path.join(folder, entry), { recursive: true, force: true });
      removed.push(path.join(folder, entry));
    } catch {
      // best effort: an unwritable folder keeps it
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// where a write goes

/**
 * How a write to a path is done: atomically at `path` (a regular file, new or replaced), straight
 * into an existing special file (FIFO, device, socket), or through the process's own standard
 * output (fd 1) or error (fd 2) when the path is where that goes.
 */
export type WriteTarget = { mode: "atomic"; path: string } | { mode: "direct"; path: string } | { mode: "fd"; fd: 1 | 2 };

/**
 * `file` made absolute as the kernel resolves it: symbolic links among its folders followed,
 * each `..` applied to the folder before it (so `missing/../x` needs `missing`, as open() does),
 * folders that do not exist yet kept as written (they are created later). The last component is
 * kept as it is (a link there is the caller's business). InputErrors naming `file`: a `..` after
 * a folder that does not exist, a part of the path that is a file, a loop of links.
 */
export function canonicalPath(file: string): string {
  const absolute = path.isAbsolute(file) ? file : `${process.cwd()}/${file}`;
  const parts = absolute.split("/").filter((p) => p !== "" && p !== ".");
  let current = "/";
  let missing: string | null = null;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === "..") {
      if (missing !== null) throw new InputError(`cannot write: folder not found ('${missing}' does not exist, so '..' after it leads nowhere)`, { file });
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, part);
    if (missing !== null || i === parts.length - 1) {
      current = next;
      continue;
    }
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(next, { throwIfNoEntry: false });
    } catch (e) {
      throw writeError(e, file); // ENOTDIR, ELOOP, EACCES
    }
    if (!stat) {
      if (fs.lstatSync(next, { throwIfNoEntry: false })?.isSymbolicLink()) throw new InputError(`cannot write: folder not found ('${next}' is a link to nothing)`, { file });
      missing = next;
      current = next;
    } else if (!stat.isDirectory()) {
      throw new InputError("cannot write: a part of the path is a file, not a folder", { file });
    } else current = fs.realpathSync(next);
  }
  return current;
}

/** The path a chain of symbolic links at `file` (canonical) ends at; `file` itself when it is not a link. */
function followLinks(file: string, shown: string): string {
  let current = file;
  for (let hops = 0; hops < 40; hops++) {
    const lstat = fs.lstatSync(current, { throwIfNoEntry: false });
    if (!lstat?.isSymbolicLink()) return current;
    current = canonicalPath(path.resolve(path.dirname(current), fs.readlinkSync(current)));
  }
  throw new InputError("too many levels of symbolic links", { file: shown });
}

/** 1 or 2 when `stat` is the file the process's standard output or error goes to (same device and inode), else null. */
function standardStreamOf(stat: fs.Stats): 1 | 2 | null {
  for (const fd of [1, 2] as const) {
    try {
      const s = fs.fstatSync(fd);
      if (s.dev === stat.dev && s.ino === stat.ino) return fd;
    } catch {
      // that descriptor is closed
    }
  }
  return null;
}

/**
 * Where a write to `file` goes. `-`, or a path that is where standard output (error) goes
 * (`/dev/stdout`, `/proc/self/fd/1`, or the very file it was redirected to, also with `>>`):
 * written straight through that descriptor, never replaced (an appended log stays appended to).
 * An existing regular file (also through symbolic links): replaced atomically, at the link's
 * final target. An existing character device, FIFO or socket: written straight through. A
 * dangling symbolic link: its target is created. Anything else: created atomically. A folder,
 * or a path ending in '/' (which names a folder), is an InputError; so is a path the kernel
 * cannot resolve ({@link canonicalPath}).
 */
export function resolveWriteTarget(file: string): WriteTarget {
  if (file === "-") return { mode: "fd", fd: 1 };
  if (file === "") throw new InputError("an empty path is no file to write");
  const canonical = canonicalPath(file);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(canonical, { throwIfNoEntry: false });
  } catch (e) {
    throw writeError(e, file); // ELOOP, EACCES…
  }
  if (stat?.isDirectory()) throw new InputError("is a folder, expected a file to write", { file });
  if (/\/\.{0,2}$/.test(file)) throw new InputError("ends in '/', so it names a folder: expected a file to write", { file });
  if (stat) {
    const fd = standardStreamOf(stat);
    if (fd !== null) return { mode: "fd", fd };
    if (!stat.isFile()) return { mode: "direct", path: canonical };
    return { mode: "atomic", path: fs.realpathSync(canonical) };
  }
  return { mode: "atomic", path: followLinks(canonical, file) };
}

/** True for the null device (written to any number of times without harm). */
function isNullDevice(stat: fs.Stats): boolean {
  const nul = fs.statSync("/dev/null", { throwIfNoEntry: false });
  return nul !== undefined && stat.isCharacterDevice() && stat.rdev === nul.rdev;
}

/** What an output is, to tell two apart: device and inode of what it writes to, else the path it will create; null for the null device. */
function outputIdentity(file: string): string | null {
  const where = resolveWriteTarget(file);
  let stat: fs.Stats | undefined;
  try {
    stat = where.mode === "fd" ? fs.fstatSync(where.fd) : fs.statSync(where.path, { throwIfNoEntry: false });
  } catch {
    return `fd ${where.mode === "fd" ? where.fd : ""}`;
  }
  if (stat && isNullDevice(stat)) return null;
  if (stat) return `${stat.dev}:${stat.ino}`;
  return `path ${(where as { path: string }).path}`;
}

/**
 * Refuses, before any work, outputs of one command that are one file: the same path, a symbolic
 * or hard link to it, standard output named twice (`-`, `/dev/stdout`, or the file it was
 * redirected to). Two writers on one file would interleave their tables or lose one. `outputs`:
 * [option, path] pairs, absent options undefined. The null device may be named more than once.
 * Also checks each output as {@link resolveWriteTarget} does.
 */
export function checkDistinctOutputs(outputs: readonly (readonly [option: string, file: string | undefined])[]): void {
  const seen = new Map<string, [string, string]>();
  for (const [option, file] of outputs) {
    if (file === undefined) continue;
    const identity = outputIdentity(file);
    if (identity === null) continue;
    const earlier = seen.get(identity);
    if (earlier) {
      const same = earlier[1] === file ? `both '${file}'` : `'${earlier[1]}' and '${file}'`;
      throw new InputError(`${earlier[0]} and ${option} are the same file (${same}): two outputs would overwrite each other; name two different files`);
    }
    seen.set(identity, [option, file]);
  }
}

/** The InputError for an output that cannot be written (a read-only folder, a file where a folder should be…). */
export function writeError(e: unknown, file: string): Error {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOTDIR: "a part of the path is a file, not a folder",
    EISDIR: "is a folder, expected a file to write",
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    EFBIG: "file too large",
    ENAMETOOLONG: "file name too long",
    ENOENT: "folder not found",
    EEXIST: "already exists",
    ELOOP: "too many levels of symbolic links",
  };
  if (code !== undefined && why[code] !== undefined) return new InputError(`cannot write: ${why[code]}`, { file });
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * {@link writeError} for failures of work that writes into an output folder: only a full disk,
 * a quota, a read-only or too small file system name the output (a missing input inside the
 * work must not read as "cannot write").
 */
function diskError(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "EROFS" || code === "EFBIG" ? writeError(e, file) : e;
}

/** Creates the folder of `file` (with parents), errors naming `shown`. */
function makeParent(file: string, shown: string = file): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  } catch (e) {
    throw writeError(e, shown);
  }
}

/** Gives the temp file the permissions of the file it replaces (a new file keeps the umask's). */
function copyMode(from: string, to: string): void {
  const stat = fs.statSync(from, { throwIfNoEntry: false });
  if (stat?.isFile()) fs.chmodSync(to, stat.mode & 0o7777);
}

/** Writes all of `data` to an open file descriptor (waiting out EAGAIN on a non-blocking pipe). */
function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(fd, data, offset, data.length - offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// whole-file writes

/**
 * Writes `data` to `file` atomically: a fresh temp file in the same folder (created exclusively,
 * see {@link createTempFile}), flushed with fsync, then renamed onto `file`, so a reader never
 * sees half a file and a failed write leaves the old file untouched. Gzips when the name ends in
 * `.gz`. Creates the folder. Where the write goes otherwise: {@link resolveWriteTarget}.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const body = file.endsWith(".gz") ? zlib.gzipSync(data) : typeof data === "string" ? Buffer.from(data) : data;
  const target = resolveWriteTarget(file);
  if (target.mode !== "atomic") {
    try {
      if (target.mode === "fd") writeAllSync(target.fd, body);
      else fs.writeFileSync(target.path, body);
    } catch (e) {
      throw writeError(e, file);
    }
    return;
  }
  makeParent(target.path, file);
  const { temp, fd } = createTempFile(target.path, file);
  try {
    try {
      writeAllSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    copyMode(target.path, temp);
    fs.renameSync(temp, target.path);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw writeError(e, file);
  } finally {
    pendingTemps.delete(temp);
  }
}

/**
 * Makes `target` atomically with a writer of its own (a stream, a copy, a download): `write`
 * gets the path of a fresh, empty temporary file to fill; when it resolves, the temp file is
 * flushed (fsync) and renamed onto `target`; when it throws, the temp file is removed and
 * `target` is untouched. Creates the folder. A character device, FIFO or socket is handed to
 * `write` itself (written straight through); standard output gets the bytes of a temporary file
 * written elsewhere (never reopened by path, which would truncate a redirected file).
 */
export async function withAtomicFile(target: string, write: (temp: string) => Promise<void> | void): Promise<void> {
  const where = resolveWriteTarget(target);
  if (where.mode === "direct") return void (await write(where.path));
  const place = where.mode === "fd" ? path.join(os.tmpdir(), "mirna-dl-output") : where.path;
  if (where.mode === "atomic") makeParent(where.path, target);
  const { temp, fd } = createTempFile(place, target);
  fs.closeSync(fd);
  try {
    await write(temp);
    if (where.mode === "fd") {
      writeAllSync(where.fd, fs.readFileSync(temp));
      fs.rmSync(temp, { force: true });
      return;
    }
    const handle = await fs.promises.open(temp, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    copyMode(where.path, temp);
    await fs.promises.rename(temp, where.path);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw diskError(e, target);
  } finally {
    pendingTemps.delete(temp);
  }
}

// ---------------------------------------------------------------------------------------------
// output folders

/** How an existing output folder may be replaced; see {@link openOutputFolder}. */
export interface OutputFolderOptions {
  /** Replace a folder that is not empty (`--force`); only what `owns` accepts, when it is given. */
  force?: boolean;
  /**
   * What the command writes, as paths relative to the folder ('/'-separated, folders ending in
   * '/'): a folder holding anything else (a symbolic link included) is never replaced. Absent:
   * the folder is the library's own (checkpoints) and is replaced whatever it holds.
   */
  owns?: (entry: string) => boolean;
  /** The command, for messages ("hairpin encode"). */
  command?: string;
}

/** A folder being written: fill `temp`, then `commit()` swaps it in for `target`, or `abort()`. */
export interface OutputFolder {
  /** The folder that will be replaced (symbolic links followed). */
  readonly target: string;
  /** The fresh temporary folder to write into. */
  readonly temp: string;
  /** Puts `temp` in place of `target` (an existing `target` is set aside and removed once the new one is in place). */
  commit(): void;
  /** Removes `temp`; `target` is untouched. Never throws. */
  abort(): void;
}

/** Every entry under `folder` (lstat: links are entries, not followed), relative, folders ending in '/'; folders `owns` refuses are not walked. */
function folderEntries(folder: string, owns: (entry: string) => boolean, prefix = ""): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(path.join(folder, prefix)).sort()) {
    const relative = prefix + name;
    const stat = fs.lstatSync(path.join(folder, relative));
    if (stat.isDirectory()) {
      out.push(`${relative}/`);
      if (owns(`${relative}/`)) out.push(...folderEntries(folder, owns, `${relative}/`));
    } else out.push(relative);
  }
  return out;
}

/**
 * Checks an output folder and starts writing it, before any work is done: the path is resolved as
 * the kernel would ({@link canonicalPath}: a `..` after a missing folder fails now, not at the
 * end), an existing file is refused, an existing folder that is not empty is refused unless
 * `force`, and with `owns` even then when it holds anything the command does not write (at any
 * depth), so a mistyped --out never deletes other files. Creates a fresh temporary folder beside
 * it (mkdir: never through a link; mode 0700 until it is put in place, then that of a new
 * folder or of the one it replaces).
 */
export function openOutputFolder(target: string, opts: OutputFolderOptions = {}): OutputFolder {
  if (target === "-" || target === "") throw new InputError("expected a folder to write into", { file: target });
  const canonical = canonicalPath(target);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(canonical, { throwIfNoEntry: false });
  } catch (e) {
    throw writeError(e, target);
  }
  if (stat && !stat.isDirectory()) throw new InputError("exists and is not a folder (expected a folder to write into)", { file: target });
  const real = stat ? fs.realpathSync(canonical) : followLinks(canonical, target);
  if (stat && opts.owns) {
    const owns = opts.owns;
    const command = opts.command ?? "this command";
    const top = fs.readdirSync(real);
    if (top.length > 0 && !opts.force) {
      throw new InputError(`folder is not empty (${top.length} entries): give --force to replace an earlier '${command}' output, or choose a new folder`, { file: target });
    }
    const foreign = folderEntries(real, owns).filter((e) => !owns(e) || fs.lstatSync(path.join(real, e)).isSymbolicLink());
    if (foreign.length > 0) {
      throw new InputError(
        `holds files '${command}' does not write (${foreign.slice(0, 3).map((f) => `'${f}'`).join(", ")}${foreign.length > 3 ? ", …" : ""}): not replaced even with --force; choose another folder`,
        { file: target },
      );
    }
  }
  makeParent(real, target);
  const temp = createTempFolder(real, target);
  pendingTemps.add(temp);
  const mode = stat ? stat.mode & 0o7777 : 0o777 & ~process.umask();
  const abort = () => {
    try {
      fs.rmSync(temp, { recursive: true, force: true });
    } catch {
      // best effort
    }
    pendingTemps.delete(temp);
  };
  return {
    target: real,
    temp,
    abort,
    commit() {
      try {
        fs.chmodSync(temp, mode);
        if (fs.lstatSync(real, { throwIfNoEntry: false })) {
          // The old folder is renamed onto an empty folder of a fresh name (never a planted link), and
          // removed once the new one is in place; it is not a pending temp: a signal in between keeps it.
          const aside = createTempFolder(real, target, ".old");
          fs.renameSync(real, aside);
          try {
            fs.renameSync(temp, real);
          } catch (e) {
            fs.renameSync(aside, real);
            throw e;
          }
          fs.rmSync(aside, { recursive: true, force: true });
        } else {
          fs.renameSync(temp, real);
        }
        pendingTemps.delete(temp);
      } catch (e) {
        abort();
        throw writeError(e, target);
      }
    },
  };
}

/**
 * Makes the folder `target` atomically: `fill` writes into a fresh temporary folder beside it,
 * which then replaces `target` ({@link openOutputFolder}: checks first, with `opts`). A failure
 * leaves `target` untouched and removes the temporary folder; a full disk or a read-only file
 * system during `fill` is reported naming `target`.
 */
export async function withAtomicFolder(target: string, fill: (temp: string) => Promise<void> | void, opts: OutputFolderOptions = {}): Promise<void> {
  const folder = openOutputFolder(target, opts);
  try {
    await fill(folder.temp);
  } catch (e) {
    folder.abort();
    throw diskError(e, target);
  }
  folder.commit();
}

/**
 * A folder that a command writes into piece by piece (training runs: checkpoints, models, logs):
 * resolved as the kernel would ({@link canonicalPath}) and created (with parents) before any
 * work; an existing file there is an InputError naming it. Returns the folder's path.
 */
export function makeOutputFolder(dir: string): string {
  const canonical = canonicalPath(dir);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(canonical, { throwIfNoEntry: false });
  } catch (e) {
    throw writeError(e, dir);
  }
  if (stat && !stat.isDirectory()) throw new InputError("exists and is not a folder (expected a folder to write into)", { file: dir });
  try {
    // The first folder mkdir created (undefined when it existed): removed again if the command fails.
    const created = fs.mkdirSync(canonical, { recursive: true });
    if (created !== undefined) createdOutputFolders.push({ first: created, leaf: canonical });
  } catch (e) {
    throw writeError(e, dir);
  }
  return canonical;
}

/** Folders {@link makeOutputFolder} created in this process, for {@link removeEmptyOutputFolders}. */
const createdOutputFolders: { first: string; leaf: string }[] = [];

/**
 * Removes the folders {@link makeOutputFolder} created that are still empty (a command that
 * failed on its input after preparing its output leaves nothing behind). Folders holding anything
 * are kept; never throws.
 */
export function removeEmptyOutputFolders(): void {
  for (const { first, leaf } of createdOutputFolders.splice(0).reverse()) {
    for (let folder = leaf; ; folder = path.dirname(folder)) {
      try {
        fs.rmdirSync(folder); // only an empty folder
      } catch {
        break;
      }
      if (folder === first || path.dirname(folder) === folder) break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// streamed output

/** Standard output was closed by the reader (`| head -1`): stop writing, exit quietly. */
export class OutputClosedError extends Error {
  constructor() {
    super("standard output was closed");
    this.name = "OutputClosedError";
  }
}

/** An output written piece by piece: nothing is visible at the target until {@link OutputSink.commit}. */
export interface OutputSink {
  /** The target as given (`-` for standard output). */
  readonly target: string;
  /** Appends `data` (waits while the output is busy). */
  write(data: string | Uint8Array): Promise<void>;
  /** Finishes: flush, fsync and rename onto the target (or nothing more for stdout / a device). */
  commit(): Promise<void>;
  /** Gives up: removes the temp file; the target is untouched. Never throws. */
  abort(): Promise<void>;
}

/**
 * Opens `target` for a streamed write, now, so that an output that cannot be written (a folder,
 * a read-only folder, a missing disk) fails before any work is done. Standard output (`-`, or a
 * path that is where it goes) is written through its descriptor (`OutputClosedError` when the
 * reader goes away); a character device, FIFO or socket is written straight through; anything
 * else goes to a fresh temp file in its folder, renamed onto it by `commit()` (gzip when the
 * name ends in `.gz`). Several outputs of one command: {@link checkDistinctOutputs} first.
 */
export async function openOutput(target: string): Promise<OutputSink> {
  const where = resolveWriteTarget(target);
  if (where.mode === "fd") return streamSink(target, where.fd === 1 ? process.stdout : process.stderr);
  let temp: string | null = null;
  let handle: fs.promises.FileHandle;
  if (where.mode === "atomic") {
    makeParent(where.path, target);
    ({ temp, handle } = await createTempHandle(where.path, target));
  } else {
    try {
      handle = await fs.promises.open(where.path, "w", 0o666);
    } catch (e) {
      throw writeError(e, target);
    }
  }
  const gzip = where.mode === "atomic" && target.endsWith(".gz") ? zlib.createGzip() : null;
  const compressed: Buffer[] = [];
  gzip?.on("data", (chunk: Buffer) => compressed.push(chunk));
  const flushCompressed = async () => {
    while (compressed.length) await writeAll(handle, compressed.shift()!);
  };
  let closed = false;
  const closeHandle = async () => {
    if (!closed) {
      closed = true;
      await handle.close();
    }
  };
  const sink: OutputSink = {
    target,
    async write(data) {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      try {
        if (gzip) {
          await new Promise<void>((resolve, reject) => gzip.write(bytes, (e) => (e ? reject(e) : resolve())));
          await flushCompressed();
        } else await writeAll(handle, bytes);
      } catch (e) {
        throw writeError(e, target);
      }
    },
    async commit() {
      try {
        if (gzip) {
          const ended = new Promise<void>((resolve, reject) => {
            gzip.once("end", resolve);
            gzip.once("error", reject);
          });
          gzip.end();
          await ended;
          await flushCompressed();
        }
        if (temp !== null) await handle.sync();
        await closeHandle();
        if (temp !== null && where.mode === "atomic") {
          copyMode(where.path, temp);
          await fs.promises.rename(temp, where.path);
          pendingTemps.delete(temp);
        }
      } catch (e) {
        await sink.abort();
        throw writeError(e, target);
      }
    },
    async abort() {
      try {
        await closeHandle();
      } catch {
        // already closed or failing: removing the temp file is what matters
      }
      if (temp !== null) {
        fs.rmSync(temp, { force: true });
        pendingTemps.delete(temp);
      }
    },
  };
  return sink;
}

async function writeAll(handle: fs.promises.FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
}

let stdoutClosed = false;

/** True once a write to standard output failed with EPIPE (the reader went away). */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/**
 * Marks standard output closed on EPIPE instead of crashing; other stdout errors are rethrown.
 * Installed once by {@link openOutput} for `-` and by the CLI.
 */
export function watchStdout(onClosed?: () => void): void {
  if ((process.stdout as { __mirnaDlWatched?: boolean }).__mirnaDlWatched) return;
  (process.stdout as { __mirnaDlWatched?: boolean }).__mirnaDlWatched = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") {
      stdoutClosed = true;
      onClosed?.();
      return;
    }
    throw e;
  });
}

/** A sink writing through the process's standard output (or error): its descriptor, whatever it is (a pipe, a terminal, a file opened for append). */
function streamSink(target: string, out: NodeJS.WriteStream): OutputSink {
  const isStdout = out === process.stdout;
  if (isStdout) watchStdout();
  const closedNow = () => (isStdout && stdoutClosed) || out.destroyed;
  return {
    target,
    async write(data) {
      if (closedNow()) throw new OutputClosedError();
      const ok = out.write(data);
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off("drain", done);
            out.off("error", done);
            out.off("close", done);
            resolve();
          };
          out.on("drain", done);
          out.on("error", done);
          out.on("close", done);
        });
      }
      if (isStdout && stdoutClosed) throw new OutputClosedError();
    },
    async commit() {
      if (isStdout && stdoutClosed) throw new OutputClosedError();
    },
    async abort() {},
  };
}
