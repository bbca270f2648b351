import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BindingConfig, TrainedModel } from "../lib/src/binding/experiment";
import { estimateStandardTraining, measuredRowsPerSecond, standardRows } from "../lib/src/binding/trainingTime";
import { CHECKPOINT_FORMAT } from "../lib/src/training/checkpoint";
import { tempDir } from "./helpers";

const run = (config: string, log: Partial<TrainedModel["log"]>): TrainedModel => ({
  config, seed: 1, dir: "", command: [], seconds: 0, steps: 0,
  log: { history: [], seconds: 0, backend: "", ...log },
});
const epochs = (...seconds: number[]) => seconds.map((s, i) => ({ epoch: i + 1, seconds: s, loss: 0.5 }));

test("measuredRowsPerSecond: pooled rows per second of epoch time over the finished standard runs; iterative runs do not count", () => {
  assert.equal(measuredRowsPerSecond([]), null);
  const m = measuredRowsPerSecond([
    run("a", { positivesUsed: 100, negativesUsed: 1000, history: epochs(10, 12) }), // 2,200 rows in 22 s
    run("b", { positivesUsed: 50, negativesUsed: 50, history: epochs(2) }), // 100 rows in 2 s
    run("it", { positivesUsed: 5000, distinctNegatives: 9999, history: epochs(1000) }), // iterative: no negativesUsed
  ]);
  assert.deepEqual(m, { rowsPerSecond: 2300 / 24, runs: 2, rows: 2300, seconds: 24 });
});

test("estimateStandardTraining: finished runs cost nothing, checkpointed ones their epochs left; longest first over the workers", () => {
  const out = tempDir();
  const configs: BindingConfig[] = [
    { name: "big", mode: "standard", positives: 1000, ratio: 9, epochs: 10 }, // 10,000 rows an epoch
    { name: "small", mode: "standard", positives: 100, ratio: 1, epochs: 10 }, // 200 rows an epoch
  ];
  assert.equal(standardRows(configs[0]!), 10_000);
  assert.throws(() => standardRows({ name: "it", mode: "iterative" }), /only standard configurations/);
  const fresh = estimateStandardTraining(out, configs, [1, 2], 1000, 2);
  assert.deepEqual(fresh.runs.map((r) => [r.config, r.seed, r.epochsDone, r.seconds]), [["big", 1, 0, 100], ["big", 2, 0, 100], ["small", 1, 0, 2], ["small", 2, 0, 2]]);
  assert.equal(fresh.workerSeconds, 204);
  assert.equal(fresh.wallSeconds, 102); // big 1 + small 1 on one worker, big 2 + small 2 on the other
  assert.equal(estimateStandardTraining(out, configs, [1, 2], 1000, 1).wallSeconds, 204);
  // big seed 1 finished; big seed 2 checkpointed after epoch 4 of 10.
  const done = path.join(out, "big", "seed-1");
  fs.mkdirSync(path.join(done, "model"), { recursive: true });
  fs.writeFileSync(path.join(done, "model", "model.json"), "{}");
  fs.writeFileSync(path.join(done, "training.json"), "{}");
  const checkpoint = path.join(out, "big", "seed-2", "checkpoint");
  fs.mkdirSync(path.join(checkpoint, "epoch-0004"), { recursive: true });
  fs.writeFileSync(path.join(checkpoint, "latest.json"), JSON.stringify({ checkpoint: "epoch-0004", epoch: 4 }));
  fs.writeFileSync(path.join(checkpoint, "epoch-0004", "state.json"), JSON.stringify({ format: CHECKPOINT_FORMAT, epoch: 4 }));
  const later = estimateStandardTraining(out, configs, [1, 2], 1000, 2);
  assert.deepEqual(later.runs.map((r) => [r.config, r.seed, r.epochsDone, r.seconds]), [["big", 2, 4, 60], ["small", 1, 0, 2], ["small", 2, 0, 2]]);
  assert.equal(later.wallSeconds, 60);
  assert.throws(() => estimateStandardTraining(out, configs, [1], 0, 2), /rowsPerSecond must be positive/);
  assert.throws(() => estimateStandardTraining(out, [{ name: "it", mode: "iterative" }], [1], 10, 2), /only standard configurations/);
});
