import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { InputError } from "../errors";

/**
 * Reading files (gzip by name) and the project's one way of writing them: to a temporary
 * name in the same folder, then a rename, so a reader never sees half a file and a failed
 * write leaves the old file as it was.
 */

/**
 * Reads a file, gunzipping when its name ends in `.gz`. Errors name the file: missing file,
 * a truncated or corrupt gzip stream.
 */
export function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError("file not found", { file });
    if (code === "EISDIR") throw new InputError("is a folder, expected a file", { file });
    throw new InputError(`cannot read: ${(e as Error).message}`, { file });
  }
  if (!file.endsWith(".gz")) return raw;
  try {
    return zlib.gunzipSync(raw);
  } catch (e) {
    const message = (e as Error).message;
    const why = /unexpected end/i.test(message) ? "truncated gzip file (unexpected end of data)" : `corrupt gzip file (${message})`;
    throw new InputError(why, { file });
  }
}

/** The temporary name a write to `target` goes through: `.name.<pid>.tmp` in the same folder. */
export function tempPathFor(target: string): string {
  const resolved = path.resolve(target);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.${process.pid}.tmp`);
}

/**
 * Writes `data` to `file` atomically: a temp file in the same folder, then rename, so a reader
 * never sees half a file. Gzips when the name ends in `.gz`. Creates the folder.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const body = file.endsWith(".gz") ? zlib.gzipSync(data) : data;
  const temp = tempPathFor(file);
  try {
    fs.writeFileSync(temp, body);
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * Makes `target` atomically with a writer of its own (a stream, a copy, a download): `write`
 * gets the temporary path to fill; when it resolves, the temp file is renamed onto `target`;
 * when it throws, the temp file is removed and `target` is untouched. Creates the folder.
 */
export async function withAtomicFile(target: string, write: (temp: string) => Promise<void> | void): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const temp = tempPathFor(target);
  try {
    await write(temp);
    await fs.promises.rename(temp, target);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * Makes the folder `target` atomically: `fill` writes into a fresh temporary folder beside it,
 * which then replaces `target` (an existing `target` is removed just before the rename; a
 * failure leaves it untouched and removes the temporary folder).
 */
export async function withAtomicFolder(target: string, fill: (temp: string) => Promise<void> | void): Promise<void> {
  const temp = tempPathFor(target);
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp, { recursive: true });
  try {
    await fill(temp);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(temp, target);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}
