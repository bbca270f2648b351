/**
 * The notebooks of notebooks/: the order `npm run notebooks` runs them in and the data each
 * reads, in one table; and the check, before any cell runs, that this data is in the data folder,
 * fetching what is missing through data:fetch's machinery (lib/src/data/fetch.ts).
 */
import path from "node:path";
import {
  checkFile,
  DEFAULT_MANIFEST,
  fetchData,
  isGood,
  type Manifest,
  type ManifestFile,
  manifestFiles,
  matchesSelector,
  readManifest,
} from "../lib/src/data/fetch";
import { UsageError } from "./common";

export interface NotebookEntry {
  /** File name in notebooks/ without `.ipynb`. */
  name: string;
  /**
   * What it reads from the data folder, as data:fetch selectors (a path, a folder, a base name or
   * a glob; see matchesSelector in lib/src/data/fetch.ts) over data/manifest.json.
   */
  data: string[];
}

/**
 * Notebooks in the order they run: later ones read what earlier ones wrote. Notebooks missing
 * from the folder are skipped; notebooks not listed here run after these, by name, and need no
 * data. A notebook that starts reading a new file of the data folder must name it here.
 */
export const NOTEBOOKS: readonly NotebookEntry[] = [
  // Falls back to the generated fixtures when the ENCORI / genome inputs are absent; shows the
  // published test sets only when they are there.
  { name: "preprocess", data: [] },
  {
    name: "model_train_lock",
    data: [
      "mirna_binding/data/models", // the five published Keras models
      "mirna_binding/data/datasets/scan_test_set.tsv.gz",
      "mirna_binding/data/datasets/mirna_neg_test_set.tsv.gz",
      "mirbind", // the miRBind CLASH sets (training sections)
    ],
  },
  // The published iterative model; our model and the held-out pairs come from model_train_lock's
  // experiment folder (out/), not from the data folder.
  { name: "interpret", data: ["mirna_binding/data/models/iterative.h5"] },
  // miRBind's CLASH tables and the published models; model_train_lock's chr1 models (out/), when there, as comparators.
  { name: "clash", data: ["mirna_binding/data/models", "mirbind"] },
  // The deepMir datasets, example hairpins and published saliency maps.
  { name: "cvae_generate", data: ["premirna/jacordero-deepmir"] },
];

/** Notebook name (no `.ipynb`) → its place in {@link NOTEBOOKS}, or undefined. */
function rank(name: string): number | undefined {
  const i = NOTEBOOKS.findIndex((n) => n.name === name);
  return i < 0 ? undefined : i;
}

/** Base name without `.ipynb`. */
export function notebookName(file: string): string {
  return path.basename(file).replace(/\.ipynb$/, "");
}

/** Notebook files in run order: those of {@link NOTEBOOKS} in its order, then the others by name. */
export function runOrder(files: readonly string[]): string[] {
  return [...files].sort((a, b) => {
    const ra = rank(notebookName(a));
    const rb = rank(notebookName(b));
    if (ra !== undefined && rb !== undefined) return ra - rb;
    if (ra !== undefined) return -1;
    if (rb !== undefined) return 1;
    const na = path.basename(a);
    const nb = path.basename(b);
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** The data selectors of a notebook file (none for notebooks not in the table). */
export function dataSelectors(file: string): string[] {
  return NOTEBOOKS.find((n) => n.name === notebookName(file))?.data ?? [];
}

/**
 * Manifest entries a notebook needs: those its selectors pick that the manifest can verify (with
 * a sha256). Entries without one are upstream files the project's mirror does not hold (e.g. the
 * deepMir image sets of 4 MiB or more): no notebook relies on them, so they are never required.
 */
export function requiredEntries(manifest: Manifest, selectors: readonly string[], manifestFile: string, notebook: string): ManifestFile[] {
  const files = manifestFiles(manifest);
  for (const selector of selectors) {
    if (!files.some((f) => matchesSelector(f.path, selector))) {
      throw new UsageError(`${notebook} needs data '${selector}', which matches no file of ${manifestFile} (fix NOTEBOOKS in environment/notebook-data.ts)`);
    }
  }
  return files.filter((f) => selectors.some((s) => matchesSelector(f.path, s)) && Boolean(f.sha256 || f.content_sha256));
}

export interface DataStatus {
  notebook: string;
  required: ManifestFile[];
  missing: ManifestFile[];
  /** Present but not what the manifest describes: path and what differs. */
  wrong: { path: string; detail: string }[];
}

/** Checks (sha256) the files each notebook needs. */
export async function dataStatus(notebooks: readonly string[], dataDir: string, manifestFile: string): Promise<DataStatus[]> {
  const needing = notebooks.filter((nb) => dataSelectors(nb).length > 0);
  if (needing.length === 0) return notebooks.map((nb) => ({ notebook: nb, required: [], missing: [], wrong: [] }));
  let manifest: Manifest;
  try {
    manifest = readManifest(manifestFile);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const checked = new Map<string, Awaited<ReturnType<typeof checkFile>>>();
  const result: DataStatus[] = [];
  for (const nb of notebooks) {
    const required = requiredEntries(manifest, dataSelectors(nb), manifestFile, path.basename(nb));
    const status: DataStatus = { notebook: nb, required, missing: [], wrong: [] };
    for (const entry of required) {
      let check = checked.get(entry.path);
      if (check === undefined) {
        check = await checkFile(entry, dataDir);
        checked.set(entry.path, check);
      }
      if (check.state === "missing") status.missing.push(entry);
      else if (!isGood(check.state)) status.wrong.push({ path: entry.path, detail: check.detail ?? check.state });
    }
    result.push(status);
  }
  return result;
}

/** Data that could not be provided: the one message `npm run notebooks` stops with (exit 2). */
export class MissingDataError extends UsageError {}

/** "1 file", "3 files". */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** At most `n` items, then "(+k more)". */
function some(items: readonly string[], n = 4): string {
  return items.length <= n ? items.join(", ") : `${items.slice(0, n).join(", ")} (+${items.length - n} more)`;
}

/**
 * Makes sure the data the notebooks need is in `dataDir`: fetches each missing file as
 * `npm run data:fetch` would (download, resumable and checked; progress on stderr) and throws a
 * {@link MissingDataError} naming what is still missing, why, and the three ways to provide it.
 * Present files are checked against their sha256 and never overwritten.
 */
export async function ensureData(
  notebooks: readonly string[],
  opts: { dataDir: string; manifestFile?: string; log?: (line: string) => void },
): Promise<void> {
  const manifestFile = path.resolve(opts.manifestFile ?? DEFAULT_MANIFEST);
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const statuses = await dataStatus(notebooks, opts.dataDir, manifestFile);
  const missing = new Map<string, ManifestFile>();
  for (const s of statuses) for (const e of s.missing) missing.set(e.path, e);

  const failed = new Map<string, string>();
  if (missing.size > 0) {
    const names = statuses.filter((s) => s.missing.length > 0).map((s) => path.basename(s.notebook));
    const who = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    log(`data: ${plural(missing.size, "file")} that ${who} need${names.length === 1 ? "s" : ""} ${missing.size === 1 ? "is" : "are"} not in ${opts.dataDir}; fetching (as npm run data:fetch does)`);
    const manifest = readManifest(manifestFile);
    // After "cannot reach <host>" the other files from that host are not tried: the answer would be the same.
    const unreachable = new Map<string, string>();
    let i = 0;
    for (const entry of missing.values()) {
      i++;
      const host = entry.url ? new URL(entry.url).host : undefined;
      const known = host !== undefined ? unreachable.get(host) : undefined;
      if (known !== undefined) {
        failed.set(entry.path, known);
        continue;
      }
      log(`data: [${i}/${missing.size}] ${entry.path}`);
      try {
        const report = await fetchData({ manifest, dataDir: opts.dataDir, only: [entry.path], log });
        for (const f of report.failed) {
          failed.set(f.path, f.error);
          if (host !== undefined && /^cannot reach /.test(f.error)) unreachable.set(host, f.error);
        }
      } catch (e) {
        failed.set(entry.path, (e as Error).message);
      }
    }
  }
  const wrong = new Map<string, string>();
  for (const s of statuses) for (const w of s.wrong) wrong.set(w.path, w.detail);
  if (failed.size === 0 && wrong.size === 0) {
    if (missing.size > 0) log(`data: fetched ${plural(missing.size, "file")} into ${opts.dataDir}`);
    return;
  }

  const problem = failed.size > 0 ? `is not in ${opts.dataDir} (MIRNA_DL_DATA) and could not be fetched` : `is wrong in ${opts.dataDir} (MIRNA_DL_DATA)`;
  const lines = [`the notebooks need data that ${problem}; no notebook was run.`];
  for (const s of statuses) {
    const notHere = s.missing.filter((e) => failed.has(e.path)).map((e) => e.path);
    const bad = s.wrong.map((w) => w.path);
    if (notHere.length > 0) lines.push(`  ${path.basename(s.notebook)}: ${notHere.length} of ${plural(s.required.length, "file")} missing: ${some(notHere, 3)}`);
    if (bad.length > 0) lines.push(`  ${path.basename(s.notebook)}: ${plural(bad.length, "file")} present but wrong (delete to fetch again): ${some(bad, 3)}`);
  }
  const reasons = [...new Set([...failed.values(), ...[...wrong].map(([p, d]) => `${p}: ${d}`)])].map(
    // data:fetch's own hint after "cannot reach" repeats the ways listed below.
    (r) => r.replace(/\s*\n\s*/g, " ").replace(/\. No network\? Copy the files from a local mirror instead: --from DIR$/, ""),
  );
  for (const reason of reasons.slice(0, 3)) lines.push(`  why: ${reason}`);
  if (reasons.length > 3) lines.push(`  (+${reasons.length - 3} more reasons)`);
  lines.push(
    "Provide the data in one of three ways, then run again:",
    "  npm run data:fetch                    download it (needs internet)",
    "  npm run data:fetch -- --from DIR      copy it from a local mirror laid out like data/",
    "  MIRNA_DL_DATA=DIR npm run notebooks   use a data folder that already holds it",
  );
  throw new MissingDataError(lines.join("\n"));
}
