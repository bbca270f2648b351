/**
 * What the notebook runner (run-notebooks.ts) and `npm run jupyter` (jupyter.ts) share: where
 * this checkout's tslab kernel is registered, and how the environment variables that notebooks
 * read are checked and passed on.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const repoRoot = path.resolve(__dirname, "..");
/** Set as JUPYTER_PATH, so Jupyter finds this checkout's kernel and never another checkout's. */
export const jupyterPath = path.join(repoRoot, ".jupyter", "share", "jupyter");
const kernelSpecFile = path.join(jupyterPath, "kernels", "tslab", "kernel.json");

export const profiles = ["ci", "full"] as const;
export type Profile = (typeof profiles)[number];

/** Bad arguments, environment or set-up: reported as one message without a stack, exit status 2. */
export class UsageError extends Error {}

/** The run profile: `--profile` if given, else MIRNA_DL_PROFILE, else `full`. */
export function resolveProfile(flag: string | undefined, env: NodeJS.ProcessEnv): Profile {
  const value = flag ?? env.MIRNA_DL_PROFILE ?? "full";
  if (!(profiles as readonly string[]).includes(value)) {
    const source = flag !== undefined ? "--profile" : "MIRNA_DL_PROFILE";
    throw new UsageError(`${source} must be one of ${profiles.join(", ")}; got "${value}"`);
  }
  return value as Profile;
}

/** The data folder as an absolute path: MIRNA_DL_DATA (relative to the repo root) or `<repo>/data`. */
export function resolveDataDir(env: NodeJS.ProcessEnv): string {
  return path.resolve(repoRoot, env.MIRNA_DL_DATA || "data");
}

/** True when `command` is an executable file in a folder of PATH. */
export function onPath(command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Fails with a set-up hint unless jupyter and this checkout's tslab kernel are there. */
export function checkKernel(): void {
  if (!onPath("jupyter")) {
    throw new UsageError("'jupyter' not found on PATH; run: bash environment/setup.sh");
  }
  if (!existsSync(kernelSpecFile)) {
    throw new UsageError(`tslab kernel not registered (${kernelSpecFile} missing); run: bash environment/setup.sh`);
  }
  const argv0 = (JSON.parse(readFileSync(kernelSpecFile, "utf8")) as { argv?: string[] }).argv?.[0];
  const ownTslab = path.join(repoRoot, "node_modules", ".bin", "tslab");
  if (argv0 !== ownTslab) {
    throw new UsageError(`${kernelSpecFile} runs ${argv0}, not this checkout's ${ownTslab}; run: bash environment/setup.sh`);
  }
}

/** Runs `main` as a script: its result is the exit status; a UsageError is one line on stderr and status 2. */
export function runScript(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      if (e instanceof UsageError) {
        console.error(`${name}: ${e.message}`);
        process.exitCode = 2;
      } else {
        console.error(e);
        process.exitCode = 1;
      }
    },
  );
}

export { watchNpmParents } from "../lib/src/io/processes";
