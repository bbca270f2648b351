import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { InputError } from "../errors";

/**
 * Reading files (gzip by name or by content) and the project's one way of writing them: to a
 * temporary name in the same folder, flushed to disk (fsync), then a rename, so a reader never
 * sees half a file and a failed write leaves the old file as it was.
 *
 * Outputs that are not regular files are never replaced: a character device (`/dev/null`), a
 * FIFO or a socket is written straight through; a symbolic link is followed and its target is
 * written atomically (the link stays a link); `-` is standard output ({@link openOutput}).
 * Temporary files and folders in flight are listed, so that an interrupted process can remove
 * them ({@link removePendingTemps}, called by the CLI on SIGINT / SIGTERM).
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

/** The InputError for a gzip stream that does not inflate. */
export function gzipError(e: unknown, file: string): InputError {
  const message = (e as Error).message;
  return new InputError(/unexpected end/i.test(message) ? "truncated gzip file (unexpected end of data)" : `corrupt gzip file (${message})`, { file });
}

// ---------------------------------------------------------------------------------------------
// temporary files in flight

const pendingTemps = new Set<string>();

/** The temporary name a write to `target` goes through: `.name.<pid>.tmp` in the same folder. */
export function tempPathFor(target: string): string {
  const resolved = path.resolve(target);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.${process.pid}.tmp`);
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

// ---------------------------------------------------------------------------------------------
// where a write goes

/** How a write to a path is done: atomically at `path`, or straight into an existing special file. */
export type WriteTarget = { mode: "atomic"; path: string } | { mode: "direct"; path: string };

/**
 * Where a write to `file` goes. An existing regular file (also through symbolic links): replaced
 * atomically, at the link's final target. An existing character device, FIFO or socket: written
 * straight through. A dangling symbolic link: its target is created. A folder: an InputError.
 * Anything else: created atomically.
 */
export function resolveWriteTarget(file: string): WriteTarget {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file, { throwIfNoEntry: false });
  } catch (e) {
    throw writeError(e, file); // ENOTDIR, EACCES, ELOOP…
  }
  if (stat) {
    if (stat.isDirectory()) throw new InputError("is a folder, expected a file to write", { file });
    if (!stat.isFile()) return { mode: "direct", path: file };
    return { mode: "atomic", path: fs.realpathSync(file) };
  }
  return { mode: "atomic", path: followDanglingLink(file) };
}

/** The path a chain of symbolic links ends at (`file` itself when it is not a link). */
function followDanglingLink(file: string): string {
  let current = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    const lstat = fs.lstatSync(current, { throwIfNoEntry: false });
    if (!lstat?.isSymbolicLink()) return current;
    current = path.resolve(path.dirname(current), fs.readlinkSync(current));
  }
  throw new InputError("too many levels of symbolic links", { file });
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
    ENAMETOOLONG: "file name too long",
    ENOENT: "folder not found",
    EEXIST: "already exists",
    ELOOP: "too many levels of symbolic links",
  };
  if (code !== undefined && why[code] !== undefined) return new InputError(`cannot write: ${why[code]}`, { file });
  return e instanceof Error ? e : new Error(String(e));
}

/** Creates the folder of `file` (with parents), errors naming `file`. */
function makeParent(file: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  } catch (e) {
    throw writeError(e, file);
  }
}

/** Gives the temp file the permissions of the file it replaces (a new file keeps the umask's). */
function copyMode(from: string, to: string): void {
  const stat = fs.statSync(from, { throwIfNoEntry: false });
  if (stat?.isFile()) fs.chmodSync(to, stat.mode & 0o7777);
}

/** Writes all of `data` to an open file descriptor. */
function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

// ---------------------------------------------------------------------------------------------
// whole-file writes

/**
 * Writes `data` to `file` atomically: a temp file in the same folder, flushed with fsync, then
 * renamed onto `file`, so a reader never sees half a file and a failed write leaves the old file
 * untouched. Gzips when the name ends in `.gz`. Creates the folder. A symbolic link is followed
 * (its target is replaced, the link stays); a character device, FIFO or socket is written
 * straight through (never replaced by a regular file).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const body = file.endsWith(".gz") ? zlib.gzipSync(data) : typeof data === "string" ? Buffer.from(data) : data;
  const target = resolveWriteTarget(file);
  if (target.mode === "direct") {
    try {
      fs.writeFileSync(target.path, body);
    } catch (e) {
      throw writeError(e, file);
    }
    return;
  }
  makeParent(target.path);
  const temp = tempPathFor(target.path);
  pendingTemps.add(temp);
  try {
    const fd = fs.openSync(temp, "w", 0o666);
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
 * gets the temporary path to fill; when it resolves, the temp file is flushed (fsync) and renamed
 * onto `target`; when it throws, the temp file is removed and `target` is untouched. Creates the
 * folder. A symbolic link is followed; a character device, FIFO or socket is handed to `write`
 * itself (written straight through).
 */
export async function withAtomicFile(target: string, write: (temp: string) => Promise<void> | void): Promise<void> {
  const where = resolveWriteTarget(target);
  if (where.mode === "direct") return void (await write(where.path));
  makeParent(where.path);
  const temp = tempPathFor(where.path);
  pendingTemps.add(temp);
  try {
    await write(temp);
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
    throw e;
  } finally {
    pendingTemps.delete(temp);
  }
}

/**
 * Makes the folder `target` atomically: `fill` writes into a fresh temporary folder beside it,
 * which then replaces `target` (an existing `target` is first renamed aside, and removed once the
 * new folder is in place; a failure leaves it untouched and removes the temporary folder).
 */
export async function withAtomicFolder(target: string, fill: (temp: string) => Promise<void> | void): Promise<void> {
  const temp = tempPathFor(target);
  const old = `${temp}.old`;
  pendingTemps.add(temp);
  try {
    try {
      fs.rmSync(temp, { recursive: true, force: true });
      fs.mkdirSync(temp, { recursive: true });
    } catch (e) {
      throw writeError(e, target); // before any work: an unwritable place fails at once
    }
    await fill(temp);
    if (fs.existsSync(target)) {
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(target, old);
      try {
        fs.renameSync(temp, target);
      } catch (e) {
        fs.renameSync(old, target);
        throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(temp, target);
    }
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  } finally {
    pendingTemps.delete(temp);
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
 * a read-only folder, a missing disk) fails before any work is done. `-` is standard output
 * (`OutputClosedError` when the reader goes away); a character device, FIFO or socket is written
 * straight through; anything else goes to a temp file in its folder, renamed onto it by
 * `commit()` (gzip when the name ends in `.gz`).
 */
export async function openOutput(target: string): Promise<OutputSink> {
  if (target === "-") return stdoutSink();
  const where = resolveWriteTarget(target);
  const temp = where.mode === "atomic" ? tempPathFor(where.path) : null;
  if (temp !== null) {
    makeParent(where.path);
    pendingTemps.add(temp);
  }
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(temp ?? where.path, "w", 0o666);
  } catch (e) {
    if (temp !== null) pendingTemps.delete(temp);
    throw writeError(e, target);
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
        if (temp !== null) {
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

function stdoutSink(): OutputSink {
  watchStdout();
  const out = process.stdout;
  return {
    target: "-",
    async write(data) {
      if (stdoutClosed || out.destroyed) throw new OutputClosedError();
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
      if (stdoutClosed) throw new OutputClosedError();
    },
    async commit() {
      if (stdoutClosed) throw new OutputClosedError();
    },
    async abort() {},
  };
}
