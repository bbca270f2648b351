import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";

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
