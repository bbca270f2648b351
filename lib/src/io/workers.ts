import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LIB_ROOT } from "../data/paths";
import { writeFileAtomic } from "./files";
import { STOP_WITH_PARENT_ENV } from "./processes";

/**
 * Worker processes: long training runs of an experiment (binding models, hairpin classifiers,
 * VAEs) started as separate processes, a few at a time, one OpenMP thread each. On two cores two
 * such workers train about 1.6× faster than one process on both, a killed kernel takes its
 * workers with it (they watch their parent), and every run checkpoints, so the experiment then
 * resumes in-process from what the workers left.
 */

/** How to run a library task in a worker: `node lib/dist/workers.js` (or the sources through tsx when this module runs from source). */
export function workerCommand(): string[] {
  return __filename.endsWith(".ts")
    ? [process.execPath, "--import", "tsx", path.join(LIB_ROOT, "src", "workers.ts")]
    : [process.execPath, path.join(LIB_ROOT, "dist", "workers.js")];
}

/** Options of {@link runWorkerProcess}. */
export interface WorkerProcessOptions {
  /** OpenMP threads of the worker (default 1). */
  threads?: number;
  /** MIRNA_DL_PROFILE of the worker (default: this process's, else "full"). */
  profile?: string;
}

/**
 * Runs `command` as a worker process: its output appended to `log`, one OpenMP thread by default,
 * stopping when this process is gone ({@link STOP_WITH_PARENT_ENV}). Resolves when it exits with
 * 0; rejects with the last lines of `log` otherwise.
 */
export function runWorkerProcess(command: readonly string[], log: string, opts: WorkerProcessOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const out = fs.openSync(log, "a");
    const child = spawn(command[0]!, command.slice(1), {
      stdio: ["ignore", out, out],
      env: { ...process.env, OMP_NUM_THREADS: String(opts.threads ?? 1), MIRNA_DL_PROFILE: opts.profile ?? process.env.MIRNA_DL_PROFILE ?? "full", [STOP_WITH_PARENT_ENV]: "1" },
    });
    child.on("error", (e) => {
      fs.closeSync(out);
      reject(e);
    });
    child.on("exit", (code, signal) => {
      fs.closeSync(out);
      if (code === 0) return resolve();
      const tail = fs.readFileSync(log, "utf8").trim().split("\n").slice(-8).join("\n");
      // What a reader can rerun: `mirna-dl train …` for a CLI worker, the task and its input file otherwise.
      const what = command.includes("train") ? `mirna-dl ${command.slice(command.indexOf("train")).join(" ")}` : `task ${command.slice(-2).join(" ")}`;
      reject(new Error(`${what} failed (${signal ?? `exit ${code}`}); end of ${log}:\n${tail}`));
    });
  });
}

/**
 * Runs a task of the library's worker entry (lib/src/workers.ts) in a worker process: `input`
 * (plain JSON: no functions) is written to `<log>.input.json`, the task's output goes to `log`.
 */
export function runLibraryTask(task: string, input: unknown, log: string, opts: WorkerProcessOptions = {}): Promise<void> {
  const inputFile = `${log}.input.json`;
  writeFileAtomic(inputFile, JSON.stringify(input, null, 1) + "\n");
  return runWorkerProcess([...workerCommand(), task, inputFile], log, opts);
}

/**
 * Runs `run` on every job, at most `workers` at a time, jobs started in order. Rejects with the
 * first failure once the running jobs have ended (no new job starts after a failure).
 */
export async function runPool<T>(jobs: readonly T[], workers: number, run: (job: T) => Promise<void>): Promise<void> {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (failure === null && next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await run(job);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, worker));
  if (failure !== null) throw failure;
}
