import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runHairpinClassifierExperiment, trainHairpinSeedsInWorkers } from "../lib/src/hairpin/experiment";
import { listDeepMirDatasets } from "../lib/src/hairpin/datasets";
import { runLibraryTask, runPool } from "../lib/src/io/workers";
import { initBackend } from "../lib/src/ops/backend";
import { tempDir } from "./helpers";

// Worker processes (lib/src/io/workers.ts, the entry lib/src/workers.ts): the pool, a failing
// task, and a classifier seed trained in a worker that the experiment then only resumes.

test("runPool: every job once, in order, at most `workers` at a time; the first failure after the running jobs end", async () => {
  const started: number[] = [];
  let running = 0;
  let most = 0;
  await runPool([1, 2, 3, 4, 5], 2, async (job) => {
    started.push(job);
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5 * (6 - job)));
    running--;
  });
  assert.deepEqual(started, [1, 2, 3, 4, 5]);
  assert.equal(most, 2);
  const ran: number[] = [];
  await assert.rejects(runPool([1, 2, 3, 4], 2, async (job) => {
    ran.push(job);
    if (job === 1) throw new Error("job 1 failed");
    await new Promise((r) => setTimeout(r, 20));
  }), /job 1 failed/);
  assert.ok(!ran.includes(4), `no new job after a failure: ${ran}`);
  await assert.rejects(runPool([1], 0, async () => {}), /workers must be a positive integer/);
});

test("runLibraryTask: an unknown task fails with the entry's usage and the end of its log", async () => {
  const log = path.join(tempDir(), "worker.log");
  await assert.rejects(runLibraryTask("no-such-task", {}, log), (e: Error) => /task no-such-task .*failed \(exit 2\); end of .*worker\.log:\nusage: workers\.js TASK INPUT\.json \(tasks: cvae-model, hairpin-seed\)/s.test(e.message));
  assert.ok(fs.existsSync(`${log}.input.json`), "the input is kept beside the log");
});

test("a classifier seed trained in a worker: the experiment finds it complete and keeps its weights (data)", async (t) => {
  if (!listDeepMirDatasets().some((d) => d.prefix === "modhsa_train" && d.images)) return t.skip("deepMir images not in MIRNA_DL_DATA");
  const outDir = tempDir();
  const options = { seeds: [3], epochs: 1, maxTrain: 64, evaluateOn: [] as string[], outDir };
  const lines: string[] = [];
  await trainHairpinSeedsInWorkers([{ options, seed: 3 }], { progress: (l) => void lines.push(l) });
  assert.match(lines[0]!, /^trained .*seed-3 in a worker in /);
  const weights = path.join(outDir, "seed-3", "model", "weights.bin");
  const trained = fs.readFileSync(weights);
  assert.match(fs.readFileSync(path.join(outDir, "seed-3", "worker.log"), "utf8"), /seed 3 epoch 1\/1: loss/);
  assert.ok(!fs.existsSync(path.join(outDir, "results.json")), "a worker writes no results.json");
  await initBackend({ quiet: true });
  const resumed: string[] = [];
  const r = await runHairpinClassifierExperiment({ ...options, progress: (l) => void resumed.push(l) });
  assert.ok(resumed.some((l) => /seed 3: all 1 epochs found/.test(l)), resumed.join("\n"));
  assert.ok(!resumed.some((l) => /epoch 1\/1: loss/.test(l)), "nothing trained again");
  assert.deepEqual(fs.readFileSync(weights), trained, "the model the worker trained");
  assert.equal(r.perSeed[0]!.history.length, 1);
});
