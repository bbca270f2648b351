/**
 * How long the standard-training runs of a binding experiment will take, from a throughput
 * measured on runs of the same experiment that have finished (same machine, same workers), so
 * a notebook can say what it is about to start before it starts hours of work.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { readLatestCheckpoint } from "../training/checkpoint";
import type { BindingConfig, TrainedModel } from "./experiment";

/** Rows (positives and negatives) a standard configuration builds: positives × (1 + ratio). */
export function standardRows(config: BindingConfig): number {
  if (config.mode !== "standard") throw new InputError(`${config.name}: only standard configurations have a fixed size (iterative runs stop on their own schedule)`);
  return (config.positives ?? 1000) * (1 + (config.ratio ?? 10));
}

/**
 * Measured throughput of finished standard runs: rows per second of epoch time (each epoch
 * trains on the rows minus the validation part and then scores the validation part, so this
 * counts every row once per epoch), pooled over the runs (total rows / total seconds).
 * Null when no standard run has finished.
 */
export function measuredRowsPerSecond(trained: readonly TrainedModel[]): { rowsPerSecond: number; runs: number; rows: number; seconds: number } | null {
  let rows = 0;
  let seconds = 0;
  let runs = 0;
  for (const t of trained) {
    const { positivesUsed, negativesUsed, history } = t.log;
    if (typeof positivesUsed !== "number" || typeof negativesUsed !== "number" || history.length === 0) continue; // iterative runs log no negativesUsed
    rows += (positivesUsed + negativesUsed) * history.length;
    seconds += history.reduce((a, h) => a + h.seconds, 0);
    runs++;
  }
  return runs === 0 || seconds <= 0 ? null : { rowsPerSecond: rows / seconds, runs, rows, seconds };
}

/** One standard run still to do: its epochs left (from its checkpoint) and the expected seconds. */
export interface PlannedRun {
  config: string;
  seed: number;
  /** Epochs already checkpointed (a resumed run starts after them). */
  epochsDone: number;
  epochs: number;
  seconds: number;
}

/** What {@link estimateStandardTraining} expects to take. */
export interface TrainingEstimate {
  runs: PlannedRun[];
  /** Sum over runs (one worker each). */
  workerSeconds: number;
  /** With `workers` runs at a time, longest first (as the experiment schedules them). */
  wallSeconds: number;
}

/**
 * Expected time of the standard runs of `configs` × `seeds` under `outDir` (folders
 * `<config>/seed-<seed>` as runBindingExperiment makes them) that have not finished: a finished
 * run (model and training log present) costs nothing, a checkpointed one only its epochs left.
 * Each epoch costs rows / `rowsPerSecond` seconds; wall time is the longest-first schedule over
 * `workers` parallel workers.
 */
export function estimateStandardTraining(outDir: string, configs: readonly BindingConfig[], seeds: readonly number[], rowsPerSecond: number, workers: number): TrainingEstimate {
  if (!(rowsPerSecond > 0)) throw new InputError(`rowsPerSecond must be positive, got ${rowsPerSecond}`);
  if (!Number.isInteger(workers) || workers < 1) throw new InputError(`workers must be a positive integer, got ${workers}`);
  const runs: PlannedRun[] = [];
  for (const config of configs) {
    for (const seed of seeds) {
      const dir = path.join(outDir, config.name, `seed-${seed}`);
      if (fs.existsSync(path.join(dir, "model", "model.json")) && fs.existsSync(path.join(dir, "training.json"))) continue;
      const epochs = config.epochs ?? 10;
      const checkpoint = fs.existsSync(path.join(dir, "checkpoint")) ? readLatestCheckpoint(path.join(dir, "checkpoint")) : null;
      const epochsDone = Math.min(checkpoint?.state.epoch ?? 0, epochs);
      runs.push({ config: config.name, seed, epochsDone, epochs, seconds: (standardRows(config) * (epochs - epochsDone)) / rowsPerSecond });
    }
  }
  // Longest first onto the least-loaded worker.
  const load = new Array<number>(workers).fill(0);
  for (const run of [...runs].sort((a, b) => b.seconds - a.seconds)) {
    const i = load.indexOf(Math.min(...load));
    load[i]! += run.seconds;
  }
  return { runs, workerSeconds: runs.reduce((a, r) => a + r.seconds, 0), wallSeconds: Math.max(0, ...load) };
}
