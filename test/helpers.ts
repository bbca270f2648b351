import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { pathToFileURL } from "node:url";
import type { TestContext } from "node:test";

const ROOT = path.resolve(__dirname, "..");

/** Newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : fs.statSync(file).mtimeMs);
  }
  return newest;
}

/** True when lib/dist was built after the last change to lib/src (environment/setup.sh's rule). */
function distUpToDate(): boolean {
  try {
    const built = fs.statSync(path.join(ROOT, "lib", "dist", ".mirna-dl-build-stamp")).mtimeMs;
    const sources = Math.max(
      newestMtime(path.join(ROOT, "lib", "src")),
      fs.statSync(path.join(ROOT, "lib", "tsconfig.json")).mtimeMs,
      fs.statSync(path.join(ROOT, "lib", "package.json")).mtimeMs,
    );
    return built >= sources;
  } catch {
    return false;
  }
}

/**
 * The arguments after `node` that run the `mirna-dl` command line in tests: the built
 * lib/dist/cli/main.js when it is up to date with lib/src (`npm test` builds it first, through
 * set-up), else the sources through tsx — so a test never runs stale code. Each CLI process
 * costs about a third of the CPU time from lib/dist that transpiling lib/src with tsx costs,
 * and the CLI tests start hundreds of them. Absolute paths (tsx's loader by its file URL): the
 * command works from any current folder.
 */
export const CLI_COMMAND: readonly string[] = distUpToDate()
  ? [path.join(ROOT, "lib", "dist", "cli", "main.js")]
  : ["--import", pathToFileURL(path.join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href, path.join(ROOT, "lib", "src", "cli", "main.ts")];

/** Why this checkout's tslab kernel is not registered for Jupyter (setup does it), or undefined when it is. */
export function tslabKernelMissing(): string | undefined {
  const spec = path.join(ROOT, ".jupyter", "share", "jupyter", "kernels", "tslab", "kernel.json");
  return fs.existsSync(spec) ? undefined : `tslab kernel not registered (${spec} missing; run bash environment/setup.sh)`;
}

/**
 * True when `reason` is undefined (what the test needs is here). Otherwise skips `t` with the
 * reason, or fails it when MIRNA_DL_REQUIRE_DATA=1 (CI), where everything must be present.
 */
export function presentOrSkip(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (process.env.MIRNA_DL_REQUIRE_DATA === "1") assert.fail(`MIRNA_DL_REQUIRE_DATA=1 but ${reason}`);
  t.skip(reason);
  return false;
}

/** Whether process `pid` runs (Linux /proc; a zombie has ended). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = "mirna-dl-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `name` in `dir` (gzip when the name ends in .gz) and returns the path. */
export function writeFixture(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, name.endsWith(".gz") ? zlib.gzipSync(text) : text);
  return file;
}

export const MIRNA = "TGAGGTAGTAGGTTGTATAG";
export const SITE = "CCCTGAAGACCACCCCAGTCTACCTCGGTGCTGGCCAGGAAACCTTTCGG";
/** A site holding an 8mer for MIRNA: rc(nt 2–8) + A. */
export const SITE_8MER = "GGGGGGGGGGGGGGGGGGGG" + "CTACCTC" + "A" + "G".repeat(22);

/** Parses a FASTA into name → sequence (the test's own reader, independent of the .fai). */
export function parseFasta(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = "";
  let parts: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(">")) {
      if (name) out.set(name, parts.join(""));
      name = line.slice(1).split(/\s/)[0]!;
      parts = [];
    } else parts.push(line.trim());
  }
  if (name) out.set(name, parts.join(""));
  return out;
}

/** RGB pixels of a PNG written by encodePng (8-bit RGB, filter 0 on every row). */
export function decodePng(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8;
  let width = 0, height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(png.readUInt32BE(at + 8 + length), zlib.crc32(png.subarray(at + 4, at + 8 + length)) >>> 0, `CRC of ${type}`);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 2, 0, 0, 0]);
    }
    if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 3 + 1)], 0);
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}
