/**
 * `npm run data:fetch`: fetches the public data listed in `data/manifest.json` into the data
 * folder ({@link dataRoot}), copies it from a local mirror (`--from DIR`), lists what is
 * present (`--list`) and verifies checksums (`--verify`).
 *
 * Downloads use Node's built-in `http`/`https` only. They are resumable: bytes go to
 * `<file>.part` and a rerun (or an automatic retry) continues with an HTTP Range request.
 * Every file is checked against the manifest's sha256 before it is renamed into place. The
 * manifest has no checksum for files not in the project's mirror: the first fetch of such a file
 * records its size and sha256 in the data folder's lock file ({@link LOCK_FILE}) and prints
 * them; later runs, `--list` and `--verify` check it against that record, and a file with
 * neither is reported as unverified, never as good. Temporary files of an interrupted run are
 * removed by the CLI's signal handling, or by the next run ({@link removeStaleTemps}).
 *
 * How each local file is produced from its download (`produce` in the manifest):
 * - `as-is`: the download is the file.
 * - `gzip`: the download is gzipped (Node zlib); the manifest's `content_sha256` is the sha256
 *   of the download and of the gunzipped file. The gzip bytes differ from a mirror's copy
 *   (other compressor), so a file whose own sha256 differs is accepted when its content matches.
 * - `tar.xz-member+gzip`: the download is a `.tar.xz`; the one member matching `member`
 *   (a glob on the member's base name) is extracted (the `xz` program, Debian `xz-utils`, plus
 *   a tar reader here) and gzipped.
 * - `zip-member`: the download is a `.zip`; the member named `member` is extracted (Node zlib).
 * Entries without `url` are not downloadable: they can only be copied with `--from`.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { dataRoot, REPO_ROOT } from "./paths";
import { InputError } from "../errors";
import { progressReporter } from "../progress";
import { globToRegExp, pickMember, readTar, readZipMember, xzDecompress } from "../io/archives";
import { isGzip, removeStaleTemps, withAtomicFile, writeFileAtomic } from "../io/files";

/** How a local file is made from its download; see the module comment. */
export const PRODUCE_KINDS = ["as-is", "gzip", "tar.xz-member+gzip", "zip-member"] as const;
export type ProduceKind = (typeof PRODUCE_KINDS)[number];

/** One file of the manifest, by path under the data folder. Sizes in bytes, hashes lowercase hex. */
export interface ManifestFile {
  /** Path under the data folder, `/`-separated. */
  path: string;
  /** Size of the local file as stored in the project's mirror; null when unknown. */
  bytes: number | null;
  /** sha256 of the local file as stored in the mirror; null when unknown. */
  sha256: string | null;
  /** For gzip files: size and sha256 of the uncompressed content. */
  content_bytes?: number | null;
  content_sha256?: string | null;
  /** Where to download it from; null or absent: not downloadable (copy with --from). */
  url?: string | null;
  /** How the local file is made from the download (default `as-is`). */
  produce?: ProduceKind;
  /** Archive member to extract (glob on the base name) for the `*-member*` kinds. */
  member?: string;
  /** Size and sha256 of the downloaded file itself, when known. */
  download_bytes?: number | null;
  download_sha256?: string | null;
  note?: string;
}

export interface ManifestSource {
  name: string;
  origin: string;
  files: ManifestFile[];
  note?: string;
}

export interface Manifest {
  description?: string;
  sources: ManifestSource[];
}

/** The project's manifest, `data/manifest.json` in the repository. */
export const DEFAULT_MANIFEST = path.join(REPO_ROOT, "data", "manifest.json");

const SHA256 = /^[0-9a-f]{64}$/;

/** Reads and checks a manifest file; errors name the file and the offending entry. */
export function readManifest(file: string = DEFAULT_MANIFEST): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === "ENOENT" ? "manifest not found" : `not a valid JSON manifest: ${(e as Error).message}`, { file });
  }
  return checkManifest(parsed, file);
}

/** Checks the shape of a parsed manifest (see {@link Manifest}). */
export function checkManifest(value: unknown, file = "manifest"): Manifest {
  const fail = (message: string): never => {
    throw new InputError(message, { file });
  };
  if (typeof value !== "object" || value === null || !Array.isArray((value as Manifest).sources)) fail("expected an object with a 'sources' array");
  const manifest = value as Manifest;
  const seen = new Set<string>();
  manifest.sources.forEach((source, s) => {
    if (!Array.isArray(source.files)) fail(`sources[${s}] ('${source.name}'): 'files' must be an array`);
    source.files.forEach((entry, f) => {
      const where = `sources[${s}].files[${f}]`;
      if (typeof entry.path !== "string" || entry.path === "" || entry.path.startsWith("/") || entry.path.split("/").includes("..")) {
        fail(`${where}: 'path' must be a relative path inside the data folder, got ${JSON.stringify(entry.path)}`);
      }
      if (seen.has(entry.path)) fail(`${where}: path '${entry.path}' is listed twice`);
      seen.add(entry.path);
      for (const key of ["sha256", "content_sha256", "download_sha256"] as const) {
        const hash = entry[key];
        if (hash !== undefined && hash !== null && !SHA256.test(hash)) fail(`${where} ('${entry.path}'): '${key}' must be 64 lowercase hex digits`);
      }
      for (const key of ["bytes", "content_bytes", "download_bytes"] as const) {
        const n = entry[key];
        if (n !== undefined && n !== null && !(Number.isInteger(n) && n >= 0)) fail(`${where} ('${entry.path}'): '${key}' must be a byte count`);
      }
      const produce = entry.produce ?? "as-is";
      if (!(PRODUCE_KINDS as readonly string[]).includes(produce)) fail(`${where} ('${entry.path}'): unknown 'produce' ${JSON.stringify(produce)} (expected ${PRODUCE_KINDS.join(", ")})`);
      if (produce.includes("member") && !entry.member) fail(`${where} ('${entry.path}'): 'produce' ${produce} needs 'member'`);
      if (entry.url !== undefined && entry.url !== null && !/^https?:\/\//.test(entry.url)) fail(`${where} ('${entry.path}'): 'url' must be http(s)`);
    });
  });
  return manifest;
}


/** Every file entry of a manifest, in manifest order. */
export function manifestFiles(manifest: Manifest): ManifestFile[] {
  return manifest.sources.flatMap((s) => s.files);
}

// ---------------------------------------------------------------------------------------------
// Selection (--only)

/**
 * True when `pattern` selects `filePath`: a glob (`*`, `?`, `**`) matched against the whole path
 * or the base name; otherwise the exact path, the exact base name, or a folder prefix.
 */
export function matchesSelector(filePath: string, pattern: string): boolean {
  const base = path.posix.basename(filePath);
  if (/[*?]/.test(pattern)) {
    const re = globToRegExp(pattern);
    return re.test(filePath) || re.test(base);
  }
  const folder = pattern.replace(/\/+$/, "") + "/";
  return filePath === pattern || base === pattern || filePath.startsWith(folder);
}

/** The entries selected by `only` (all when empty); a pattern that selects nothing is an error. */
export function selectFiles(manifest: Manifest, only: string[] = []): ManifestFile[] {
  const files = manifestFiles(manifest);
  if (only.length === 0) return files;
  for (const pattern of only) {
    if (!files.some((f) => matchesSelector(f.path, pattern))) {
      throw new InputError(`--only '${pattern}' matches no file in the manifest`);
    }
  }
  return files.filter((f) => only.some((p) => matchesSelector(f.path, p)));
}

// ---------------------------------------------------------------------------------------------
// Checking present files

/** sha256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest("hex");
}

/** sha256 (hex) and size of a gzip file's content, streamed; null when it is not valid gzip. */
async function gunzippedSha256(file: string): Promise<{ sha256: string; bytes: number } | null> {
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  const gunzip = zlib.createGunzip();
  gunzip.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  try {
    await pipeline(fs.createReadStream(file), gunzip, hash);
  } catch {
    return null;
  }
  return { sha256: hash.digest("hex"), bytes };
}

// ---------------------------------------------------------------------------------------------
// The lock file: checksums recorded on the first fetch of entries the manifest has none for

/** The lock file in the data folder (beside the data, never committed). */
export const LOCK_FILE = "manifest.lock.json";

/** What the first fetch of a file without a checksum in the manifest recorded about it. */
export interface LockRecord {
  /** Size and sha256 of the local file. */
  bytes: number;
  sha256: string;
  /** For gzip files: size and sha256 of the content (the gzip bytes depend on the compressor). */
  content_bytes?: number;
  content_sha256?: string;
  /** When, and from where (the URL, or the mirror's copy). */
  recorded: string;
  from: string;
}

/** The lock file's content: records by manifest path. */
export interface FetchLock {
  description: string;
  files: Record<string, LockRecord>;
}

const LOCK_DESCRIPTION =
  "sha256 and sizes that npm run data:fetch recorded on the first fetch of files data/manifest.json has no checksum for; " +
  "later runs, --list and --verify check those files against them. Delete an entry (and its file) to fetch and record it again.";

/** The lock file of `dataDir` (empty when there is none); a malformed one is an InputError naming it. */
export function readFetchLock(dataDir: string): FetchLock {
  const file = path.join(dataDir, LOCK_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { description: LOCK_DESCRIPTION, files: {} };
    throw new InputError(`cannot read: ${(e as Error).message}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not a valid lock file: ${(e as Error).message}`, { file });
  }
  const files = (parsed as FetchLock | null)?.files;
  if (typeof files !== "object" || files === null || Array.isArray(files)) throw new InputError("not a lock file: expected an object with 'files'", { file });
  for (const [key, r] of Object.entries(files)) {
    const ok = typeof r === "object" && r !== null && Number.isInteger(r.bytes) && r.bytes >= 0 && SHA256.test(String(r.sha256)) &&
      (r.content_sha256 === undefined || SHA256.test(String(r.content_sha256)));
    if (!ok) throw new InputError(`the record of '${key}' needs 'bytes' and a 64-digit 'sha256'`, { file });
  }
  return { description: LOCK_DESCRIPTION, files };
}

/** Adds `record` for `entryPath` to the lock file of `dataDir` (read again first: another run may have added records), atomically. */
function recordInLock(dataDir: string, entryPath: string, record: LockRecord): void {
  const lock = readFetchLock(dataDir);
  lock.files[entryPath] = record;
  const sorted = Object.fromEntries(Object.entries(lock.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeFileAtomic(path.join(dataDir, LOCK_FILE), JSON.stringify({ description: LOCK_DESCRIPTION, files: sorted }, null, 1) + "\n");
}

/** True when the manifest itself can check the entry (a sha256 of the file or of its content). */
function hasManifestChecksum(entry: ManifestFile): boolean {
  return Boolean(entry.sha256 || entry.content_sha256);
}

/** Size, sha256 and (for a gzip file) the content's of the file at `file`: what the lock records. */
async function describeFile(file: string, from: string): Promise<LockRecord> {
  const record: LockRecord = { bytes: fs.statSync(file).size, sha256: await sha256File(file), recorded: new Date().toISOString(), from };
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, "r");
  const n = fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  if (isGzip(head.subarray(0, n))) {
    const content = await gunzippedSha256(file);
    if (content) Object.assign(record, { content_bytes: content.bytes, content_sha256: content.sha256 });
  }
  return record;
}

/**
 * State of one manifest file on disk:
 * `ok` (sha256 matches the manifest), `ok-content` (gzip content matches `content_sha256`, the
 * gzip bytes differ), `ok-recorded` (the manifest has no checksum; the file matches what its
 * first fetch recorded in the lock file), `unverified` (present, but nothing to check it against:
 * no checksum in the manifest and none recorded; never counted as a good copy), `missing`,
 * `wrong` (checksum or size differs; see `detail`).
 */
export type FileState = "ok" | "ok-content" | "ok-recorded" | "unverified" | "missing" | "wrong";

export interface FileCheck {
  entry: ManifestFile;
  /** Absolute path checked. */
  file: string;
  state: FileState;
  /** Size on disk, when present. */
  bytes?: number;
  /** For `wrong`: what differs, with both values. */
  detail?: string;
}

/**
 * Checks one file (at `file`, default its place under `dataDir`) against its manifest entry or,
 * when the manifest has no checksum for it, against the record of `lock` (default: the lock file
 * of `dataDir`).
 */
export async function checkFile(entry: ManifestFile, dataDir: string, file = path.join(dataDir, ...entry.path.split("/")), lock?: FetchLock): Promise<FileCheck> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return { entry, file, state: "missing" };
  }
  if (!stat.isFile()) return { entry, file, state: "wrong", detail: "not a regular file" };
  const base = { entry, file, bytes: stat.size };
  if (entry.sha256) {
    const actual = await sha256File(file);
    if (actual === entry.sha256) return { ...base, state: "ok" };
    if (!entry.content_sha256) return { ...base, state: "wrong", detail: `sha256 expected ${entry.sha256}, got ${actual}` };
  }
  if (entry.content_sha256) {
    const content = await gunzippedSha256(file);
    if (content?.sha256 === entry.content_sha256) return { ...base, state: "ok-content" };
    return {
      ...base,
      state: "wrong",
      detail: content ? `sha256 of the gunzipped content expected ${entry.content_sha256}, got ${content.sha256}` : `not a valid gzip file (content sha256 expected ${entry.content_sha256})`,
    };
  }
  if (entry.bytes !== null && entry.bytes !== undefined && stat.size !== entry.bytes) {
    return { ...base, state: "wrong", detail: `size expected ${entry.bytes} bytes, got ${stat.size}` };
  }
  const record = (lock ?? readFetchLock(dataDir)).files[entry.path];
  if (!record) return { ...base, state: "unverified" };
  const when = `recorded by its first fetch, ${record.recorded.slice(0, 10)}, in ${LOCK_FILE}`;
  const actual = await sha256File(file);
  if (actual === record.sha256) return { ...base, state: "ok-recorded" };
  if (record.content_sha256) {
    const content = await gunzippedSha256(file);
    if (content?.sha256 === record.content_sha256) return { ...base, state: "ok-recorded" };
  }
  return { ...base, state: "wrong", detail: `sha256 expected ${record.sha256} (${when}), got ${actual}` };
}

/** True for states that count as a good, checked copy of the file (never `unverified`). */
export function isGood(state: FileState): boolean {
  return state === "ok" || state === "ok-content" || state === "ok-recorded";
}

// ---------------------------------------------------------------------------------------------
// Downloads

/** A download failure that a retry (resuming the `.part` file) may fix: connection lost, stall. */
class TransientError extends Error {}

/** Connection errors that mean the host cannot be reached at all. */
const NO_NETWORK_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN"]);

/** Options of one download. */
interface DownloadOptions {
  /** Expected size of the complete download, when known. */
  expectedBytes: number | null;
  label: string;
  retries: number;
  stallTimeoutMs: number;
  quiet: boolean;
  log: (line: string) => void;
}

/** GET `url` (following up to 5 redirects) with extra headers; resolves with the response. */
function httpGet(url: string, headers: Record<string, string>, stallTimeoutMs: number, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new InputError(`not a valid URL: ${url}`));
      return;
    }
    const client = parsed.protocol === "https:" ? https : http;
    const request = client.get(parsed, { headers: { "user-agent": "mirna-dl data:fetch", ...headers } }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects === 0) {
          reject(new Error(`too many redirects at ${url}`));
          return;
        }
        httpGet(new URL(location, parsed).toString(), headers, stallTimeoutMs, redirects - 1).then(resolve, reject);
        return;
      }
      resolve(response);
    });
    request.setTimeout(stallTimeoutMs, () => request.destroy(Object.assign(new Error(`no data for ${stallTimeoutMs / 1000} s`), { code: "ETIMEDOUT" })));
    request.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code && NO_NETWORK_CODES.has(e.code)) {
        reject(new Error(`cannot reach ${parsed.host} (${e.code}: ${e.message}). No network? Copy the files from a local mirror instead: --from DIR`));
      } else if (e.code === "ECONNRESET" || e.code === "ETIMEDOUT" || e.code === "EPIPE") {
        reject(new TransientError(`${url}: ${e.message}`));
      } else reject(e);
    });
  });
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Progress for a byte count whose total is unknown: one line per 8 MiB, in progressReporter's style. */
function unknownTotalReporter(label: string, quiet: boolean): (done: number) => void {
  const started = performance.now();
  let next = 8 * 2 ** 20;
  return (done) => {
    if (quiet || done < next) return;
    next = done + 8 * 2 ** 20;
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    process.stderr.write(`${label}: ${done.toLocaleString("en-US")} bytes (${rate.toLocaleString("en-US")}/s)\n`);
  };
}

/** One attempt: continue `part` from its current size; throws TransientError when a retry may help. */
async function downloadOnce(url: string, part: string, opts: DownloadOptions): Promise<void> {
  let have = fileSize(part);
  if (opts.expectedBytes !== null) {
    if (have === opts.expectedBytes) return;
    if (have > opts.expectedBytes) {
      fs.rmSync(part, { force: true });
      have = 0;
    }
  }
  const response = await httpGet(url, have > 0 ? { range: `bytes=${have}-` } : {}, opts.stallTimeoutMs);
  const status = response.statusCode ?? 0;
  const contentRange = String(response.headers["content-range"] ?? "");
  if (status === 416) {
    response.resume();
    const total = /\/(\d+)$/.exec(contentRange);
    if (total && Number(total[1]) === have) return; // the part file is already complete
    fs.rmSync(part, { force: true });
    throw new TransientError(`${opts.label}: the server rejected resuming at byte ${have}; starting over`);
  }
  if (status !== 200 && status !== 206) {
    response.resume();
    throw new Error(`HTTP ${status} ${response.statusMessage ?? ""}`.trimEnd() + ` for ${url}`);
  }
  let start = 0;
  let total: number | null = null;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange);
    start = m ? Number(m[1]) : -1;
    if (start !== have) {
      response.resume();
      fs.rmSync(part, { force: true });
      throw new TransientError(`${opts.label}: the server resumed at the wrong offset (${contentRange || "no Content-Range"}); starting over`);
    }
    total = m && m[3] !== "*" ? Number(m[3]) : null;
    if (!opts.quiet) opts.log(`${opts.label}: resuming at byte ${have.toLocaleString("en-US")}`);
  } else {
    if (have > 0 && !opts.quiet) opts.log(`${opts.label}: the server does not support resuming; starting over`);
    const length = response.headers["content-length"];
    total = length !== undefined ? Number(length) : null;
  }
  total ??= opts.expectedBytes;
  // O_NOFOLLOW: the predictable <file>.part name is never followed through a symbolic link planted there.
  const { O_WRONLY, O_CREAT, O_APPEND, O_TRUNC, O_NOFOLLOW } = fs.constants;
  const handle = await fs.promises.open(part, O_WRONLY | O_CREAT | O_NOFOLLOW | (start > 0 ? O_APPEND : O_TRUNC), 0o666);
  let done = start;
  const report = total !== null ? progressReporter(opts.label, { quiet: opts.quiet }) : null;
  const reportUnknown = unknownTotalReporter(opts.label, opts.quiet);
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      await handle.write(chunk);
      done += chunk.length;
      if (report && total !== null) report(done - start, total - start);
      else reportUnknown(done);
    }
  } catch (e) {
    throw new TransientError(`${opts.label}: connection lost after ${done.toLocaleString("en-US")}${total !== null ? ` of ${total.toLocaleString("en-US")}` : ""} bytes (${(e as Error).message}); the partial download is kept in ${part}: rerun to resume`);
  } finally {
    await handle.close();
  }
  if (total !== null && done < total) {
    throw new TransientError(`${opts.label}: connection closed after ${done.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} bytes; the partial download is kept in ${part}: rerun to resume`);
  }
}

/** Downloads `url` into `part`, resuming what is there, retrying transient failures `retries` times. */
async function downloadToPart(url: string, part: string, opts: DownloadOptions): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await downloadOnce(url, part, opts);
      return;
    } catch (e) {
      if (!(e instanceof TransientError) || attempt >= opts.retries) throw e;
      if (!opts.quiet) opts.log(`${(e as Error).message} — retry ${attempt + 1} of ${opts.retries}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Producing local files

function sha256Buffer(data: Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

function mismatch(what: string, file: string, expected: string, actual: string): Error {
  return new Error(`checksum mismatch for ${what} ${file}: expected sha256 ${expected}, got ${actual}`);
}

/** Size of the complete download, when the manifest tells it. */
function expectedDownloadBytes(entry: ManifestFile): number | null {
  if (entry.download_bytes != null) return entry.download_bytes;
  const produce = entry.produce ?? "as-is";
  if (produce === "as-is") return entry.bytes;
  if (produce === "gzip") return entry.content_bytes ?? null;
  return null;
}

/** Turns the complete download `part` into the local file `target` (see the module comment). */
async function produceFromDownload(entry: ManifestFile, part: string, target: string): Promise<void> {
  const produce = entry.produce ?? "as-is";
  if (entry.download_bytes != null && fileSize(part) !== entry.download_bytes) {
    throw new Error(`size mismatch for the download of ${entry.path}: expected ${entry.download_bytes} bytes, got ${fileSize(part)} (kept in ${part})`);
  }
  const head = Buffer.alloc(64);
  const fd = fs.openSync(part, "r");
  const headLength = fs.readSync(fd, head, 0, 64, 0);
  fs.closeSync(fd);
  if (head.subarray(0, headLength).toString("latin1").startsWith("version https://git-lfs")) {
    fs.renameSync(part, `${target}.bad`);
    throw new Error(`the server sent a Git LFS pointer instead of ${entry.path} (${entry.url}); moved to ${target}.bad`);
  }
  const expectedDownload = entry.download_sha256 ?? (produce === "as-is" ? entry.sha256 : produce === "gzip" ? entry.content_sha256 : null) ?? null;
  if (expectedDownload) {
    const actual = await sha256File(part);
    if (actual !== expectedDownload) {
      const bad = `${target}.bad`;
      fs.renameSync(part, bad);
      throw new Error(`${mismatch("the download of", entry.path, expectedDownload, actual).message}; the download was moved to ${bad}`);
    }
  }
  if (produce === "as-is") {
    fs.renameSync(part, target);
  } else if (produce === "gzip") {
    await withAtomicFile(target, (temp) => pipeline(fs.createReadStream(part), zlib.createGzip(), fs.createWriteStream(temp)));
    fs.rmSync(part, { force: true });
  } else if (produce === "tar.xz-member+gzip") {
    const member = pickMember(readTar(await xzDecompress(part), part), entry.member!, part);
    const expected = entry.content_sha256;
    if (expected && sha256Buffer(member.data) !== expected) throw mismatch(`member ${member.name} of`, part, expected, sha256Buffer(member.data));
    await withAtomicFile(target, (temp) => fs.promises.writeFile(temp, zlib.gzipSync(member.data)));
    fs.rmSync(part, { force: true });
  } else {
    const member = readZipMember(fs.readFileSync(part), entry.member!, part);
    if (entry.sha256 && sha256Buffer(member.data) !== entry.sha256) throw mismatch(`member ${member.name} of`, part, entry.sha256, sha256Buffer(member.data));
    await withAtomicFile(target, (temp) => fs.promises.writeFile(temp, member.data));
    fs.rmSync(part, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The operations

export interface DataFetchOptions {
  /** A manifest or the path of one (default `data/manifest.json`). */
  manifest?: Manifest | string;
  /** Data folder (default {@link dataRoot}: `$MIRNA_DL_DATA` or `<repo>/data`). */
  dataDir?: string;
  /** Selectors (see {@link matchesSelector}); empty: every file. */
  only?: string[];
  /** Copy from this mirror folder (laid out like the data folder) instead of downloading. */
  from?: string;
  /** Automatic retries (resuming) per download after a lost connection (default 2). */
  retries?: number;
  /** Abort a download attempt after this long without data, in ms (default 60,000). */
  stallTimeoutMs?: number;
  /** No progress lines. */
  quiet?: boolean;
  /** Where messages go (default: standard error). */
  log?: (line: string) => void;
}

/** What {@link fetchData} did, by manifest path. */
export interface FetchReport {
  /** Already present and good (checked against the manifest or the lock file). */
  present: string[];
  downloaded: string[];
  copied: string[];
  /** Fetched now, with no checksum in the manifest: their size and sha256 were recorded in the lock file. */
  recorded: { path: string; record: LockRecord }[];
  /** Present, but neither the manifest nor the lock file has a checksum to check them against. */
  unverified: string[];
  /** Not obtainable this way (no URL / not in the mirror) and not asked for explicitly. */
  skipped: { path: string; reason: string }[];
  failed: { path: string; error: string }[];
  /** Temporary files of an interrupted earlier run that were removed. */
  removedTemps: string[];
}

function resolveManifest(manifest: Manifest | string | undefined): Manifest {
  return typeof manifest === "object" ? checkManifest(manifest) : readManifest(manifest ?? DEFAULT_MANIFEST);
}

/** Checks every selected file (present or not), against the manifest or the lock file. */
export async function listData(opts: DataFetchOptions = {}): Promise<FileCheck[]> {
  const manifest = resolveManifest(opts.manifest);
  const dataDir = path.resolve(opts.dataDir ?? dataRoot());
  const lock = readFetchLock(dataDir);
  const checks: FileCheck[] = [];
  for (const entry of selectFiles(manifest, opts.only)) checks.push(await checkFile(entry, dataDir, undefined, lock));
  return checks;
}

/**
 * Checks every selected file, as {@link listData}: a verification passes only when every one is
 * present and good ({@link isGood}); missing, unverified and wrong files are failures.
 */
export async function verifyData(opts: DataFetchOptions = {}): Promise<FileCheck[]> {
  return listData(opts);
}

/** The message that prints what a first fetch recorded. */
function recordedLine(entryPath: string, r: LockRecord, dataDir: string): string {
  const content = r.content_sha256 ? ` (gunzipped: ${r.content_bytes!.toLocaleString("en-US")} bytes, sha256 ${r.content_sha256})` : "";
  return `recorded ${entryPath}: ${r.bytes.toLocaleString("en-US")} bytes, sha256 ${r.sha256}${content} in ${path.join(dataDir, LOCK_FILE)} ` +
    "(the manifest has no checksum for it: compare with the source if you can; later runs check the file against this record)";
}

/**
 * Fetches every selected file that is missing: downloads it (resumable, verified, atomic) or,
 * with `from`, copies it from a mirror (verified, atomic). Present files are checked, never
 * overwritten (a wrong one is a failure: delete it to fetch it again). A file the manifest has no
 * checksum for is checked against the lock file's record when there is one; else its first
 * successful fetch records its size and sha256 there (and prints them). Entries that cannot be
 * obtained this way are skipped, or are failures when selected explicitly with `only`.
 * Temporary files an interrupted earlier run left beside the selected files are removed first.
 */
export async function fetchData(opts: DataFetchOptions = {}): Promise<FetchReport> {
  const manifest = resolveManifest(opts.manifest);
  const dataDir = path.resolve(opts.dataDir ?? dataRoot());
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const explicit = (opts.only ?? []).length > 0;
  const report: FetchReport = { present: [], downloaded: [], copied: [], recorded: [], unverified: [], skipped: [], failed: [], removedTemps: [] };
  const mirror = opts.from !== undefined ? path.resolve(opts.from) : null;
  if (mirror !== null && !fs.statSync(mirror, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InputError("--from: not a folder", { file: mirror });
  }
  const lock = readFetchLock(dataDir);
  for (const entry of selectFiles(manifest, opts.only)) {
    const target = path.join(dataDir, ...entry.path.split("/"));
    for (const stale of removeStaleTemps(target)) {
      report.removedTemps.push(stale);
      if (!opts.quiet) log(`removed ${stale}: a temporary file of an interrupted earlier run`);
    }
    const check = await checkFile(entry, dataDir, target, lock);
    if (isGood(check.state)) {
      report.present.push(entry.path);
      continue;
    }
    if (check.state === "unverified") {
      report.unverified.push(entry.path);
      continue;
    }
    if (check.state === "wrong") {
      report.failed.push({ path: entry.path, error: `${target} is present but wrong (${check.detail}); delete it to fetch it again` });
      continue;
    }
    const unavailable = (reason: string) => {
      if (explicit) report.failed.push({ path: entry.path, error: reason });
      else report.skipped.push({ path: entry.path, reason });
    };
    /**
     * Checks a file just made at `file` (a copy's temp file, or the target): good, wrong, or, for
     * an entry nothing can check (no checksum in the manifest, none recorded), good with the record
     * its first fetch makes (written to the lock file once the file is in place).
     */
    const accept = async (file: string, from: string): Promise<{ check: FileCheck; first: LockRecord | null }> => {
      const check = await checkFile(entry, dataDir, file, lock);
      if (check.state !== "unverified") return { check, first: null };
      return { check: { ...check, state: "ok-recorded" }, first: await describeFile(file, from) };
    };
    const keep = (first: LockRecord | null) => {
      if (first === null) return;
      recordInLock(dataDir, entry.path, first);
      lock.files[entry.path] = first;
      report.recorded.push({ path: entry.path, record: first });
      log(recordedLine(entry.path, first, dataDir)); // also with --quiet: the only time these numbers are shown
    };
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if (mirror !== null) {
        const source = path.join(mirror, ...entry.path.split("/"));
        if (!fs.existsSync(source)) {
          unavailable(`not in the mirror ${mirror}`);
          continue;
        }
        let first: LockRecord | null = null;
        await withAtomicFile(target, async (temp) => {
          await fs.promises.copyFile(source, temp);
          const made = await accept(temp, source);
          if (!isGood(made.check.state)) throw new Error(`the mirror's copy ${source} is wrong: ${made.check.detail}`);
          first = made.first;
        });
        keep(first);
        report.copied.push(entry.path);
        if (!opts.quiet) log(`copied ${entry.path}`);
        continue;
      }
      if (!entry.url) {
        unavailable(`not downloadable${entry.note ? ` (${entry.note})` : ""}; copy it with --from DIR`);
        continue;
      }
      const part = `${target}.part`;
      await downloadToPart(entry.url, part, {
        expectedBytes: expectedDownloadBytes(entry),
        label: `download ${entry.path}`,
        retries: opts.retries ?? 2,
        stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
        quiet: opts.quiet ?? false,
        log,
      });
      await produceFromDownload(entry, part, target);
      const final = await accept(target, entry.url);
      if (!isGood(final.check.state)) {
        fs.renameSync(target, `${target}.bad`);
        throw new Error(`${entry.path} was made but is wrong (${final.check.detail}); moved to ${target}.bad`);
      }
      keep(final.first);
      report.downloaded.push(entry.path);
      if (!opts.quiet) log(`fetched ${entry.path}`);
    } catch (e) {
      report.failed.push({ path: entry.path, error: (e as Error).message });
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Command line

const STATE_LABEL: Record<FileState, string> = {
  ok: "ok",
  "ok-content": "ok (content)",
  "ok-recorded": "ok (recorded)",
  unverified: "UNVERIFIED",
  missing: "missing",
  wrong: "WRONG",
};

/** A table of checks, one line per file: state, size, path, and how to get it or what is wrong. */
export function formatChecks(checks: FileCheck[]): string {
  const width = Math.max(...Object.values(STATE_LABEL).map((s) => s.length));
  const lines = checks.map((c) => {
    const size = c.bytes ?? c.entry.bytes;
    const sizeText = size === null || size === undefined ? "?" : size.toLocaleString("en-US");
    let tail = "";
    if (c.state === "missing") tail = c.entry.url ? "  (downloadable)" : "  (not downloadable; copy with --from)";
    if (c.state === "wrong") tail = `  ${c.detail}`;
    if (c.state === "unverified") tail = "  (no checksum in the manifest and none recorded: delete it and fetch it again to record one)";
    return `${STATE_LABEL[c.state].padEnd(width)}  ${sizeText.padStart(13)}  ${c.entry.path}${tail}`;
  });
  const count = (states: FileState[]) => checks.filter((c) => states.includes(c.state)).length;
  lines.push(`${checks.length} files: ${count(["ok", "ok-content", "ok-recorded"])} ok, ${count(["unverified"])} unverified, ${count(["missing"])} missing, ${count(["wrong"])} wrong`);
  return lines.join("\n");
}

