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
