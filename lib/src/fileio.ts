import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { InputError } from "./errors";

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

/**
 * Writes `data` to `file` atomically: a temp file in the same folder, then rename, so a reader
 * never sees half a file. Gzips when the name ends in `.gz`. Creates the folder.
 */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const body = file.endsWith(".gz") ? zlib.gzipSync(data) : data;
  const temp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, body);
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}
