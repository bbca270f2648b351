import * as fs from "node:fs";
import * as path from "node:path";

/** The `mirna-dl` package folder (lib/src/data or lib/dist/data → two levels up). */
export const LIB_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The workspace the package sits in (the repository root): its `data/` is the default data
 * folder, its `out/` where notebooks put checkpoints.
 */
export const REPO_ROOT = path.resolve(LIB_ROOT, "..");

/**
 * The data folder: `$MIRNA_DL_DATA` (a folder laid out like the project's shared data:
 * `mirna_binding/`, `mirbind/`, `premirna/`), or `data/` in the repository. Relative values
 * resolve against the current directory.
 */
/**
 * A path as notebooks and progress lines print it: relative to the repository when inside it,
 * `$MIRNA_DL_DATA/…` when inside the data root, else unchanged (no machine-specific prefixes).
 */
export function displayPath(p: string): string {
  const absolute = path.resolve(p);
  const data = path.resolve(dataRoot());
  if (absolute === data || absolute.startsWith(data + path.sep)) return path.join("$MIRNA_DL_DATA", path.relative(data, absolute));
  if (absolute === REPO_ROOT || absolute.startsWith(REPO_ROOT + path.sep)) return path.relative(REPO_ROOT, absolute) || ".";
  return p;
}

export function dataRoot(): string {
  const fromEnv = process.env.MIRNA_DL_DATA;
  return fromEnv && fromEnv.length > 0 ? path.resolve(fromEnv) : path.join(REPO_ROOT, "data");
}

/** A path under the data folder, e.g. `dataPath("mirna_binding", "data", "models", "iterative.h5")`. */
export function dataPath(...parts: string[]): string {
  return path.join(dataRoot(), ...parts);
}

/** True when CI demands real data (`MIRNA_DL_REQUIRE_DATA=1`): missing files must fail, not skip. */
export function dataRequired(): boolean {
  return process.env.MIRNA_DL_REQUIRE_DATA === "1";
}

/**
 * Checks that data files exist. Returns null when all are present, else a reason naming the
 * missing files; throws instead when {@link dataRequired} (CI).
 */
export function missingData(...files: string[]): string | null {
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length === 0) return null;
  const reason = `data not found: ${missing.join(", ")} (set MIRNA_DL_DATA to a folder laid out like shared/data, or run npm run data:fetch)`;
  if (dataRequired()) throw new Error(`${reason}; MIRNA_DL_REQUIRE_DATA=1 so this is an error`);
  return reason;
}

/** Run profile from `MIRNA_DL_PROFILE`: `ci` (small, fast) or `full` (default). */
export type Profile = "ci" | "full";
export function profile(): Profile {
  const value = process.env.MIRNA_DL_PROFILE ?? "full";
  if (value !== "ci" && value !== "full") {
    throw new Error(`MIRNA_DL_PROFILE must be 'ci' or 'full', got '${value}'`);
  }
  return value;
}
