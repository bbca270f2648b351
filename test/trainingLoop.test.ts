/**
 * The shared training loop and its checkpoints (lib/src/training/): resume equals an
 * uninterrupted run, a checkpoint of the hairpin classifier's first format (written by the
 * code before the loop was shared, test/fixtures/checkpoint-v1) resumes to the old loop's exact
 * weights, unknown formats are refused by name, early stopping, task state, key checks, async
 * batch streams, no leaked tensors.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../lib/src/errors";
import { buildDeepMirClassifier, DEEPMIR_TRAINING } from "../lib/src/hairpin/classifier";
import { HAIRPIN_IMAGE_SIZE } from "../lib/src/hairpin/image";
import { trainDeepMirClassifier } from "../lib/src/hairpin/train";
import { initBackend } from "../lib/src/ops/backend";
import { compileModel, KERAS_ADAM } from "../lib/src/ops/nn";
import { mulberry32 } from "../lib/src/random";
import { chunkRows, epochOrder, indexBatches, shuffledEpoch, splitTrainValidation } from "../lib/src/training/batches";
import { readLatestCheckpoint } from "../lib/src/training/checkpoint";
import { EpochData, trainModel, TrainingTask } from "../lib/src/training/loop";
import { tempDir } from "./helpers";

// The v1 fixture was made on the wasm backend: the comparison with its weights is exact there.
before(async () => {
  await initBackend({ preferred: "wasm", quiet: true });
});

/** The synthetic image set the v1 fixture was trained on (the same as in hairpinClassifier.test.ts). */
function syntheticSet(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const random = mulberry32(seed);
  const images = new Uint8Array(n * HAIRPIN_IMAGE_SIZE).fill(255);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = random() < 0.5 ? 1 : 0;
    labels[i] = label;
    const x0 = Math.floor(random() * 90);
    for (let row = 8; row < 17; row++) {
      for (let x = x0; x < x0 + 10; x++) {
        const at = i * HAIRPIN_IMAGE_SIZE + (row * 100 + x) * 3;
        images[at] = label ? 255 : 0;
        images[at + 1] = 0;
        images[at + 2] = label ? 0 : 255;
      }
    }
    for (let k = 0; k < 50; k++) images[i * HAIRPIN_IMAGE_SIZE + Math.floor(random() * HAIRPIN_IMAGE_SIZE)] = 0;
  }
  return { images, labels };
}

function flatWeights(model: tf.LayersModel): Float32Array {
  return Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync())));
}

const V1 = path.join(__dirname, "fixtures", "checkpoint-v1");

function tinyClassifier(): tf.LayersModel {
  const model = buildDeepMirClassifier({ modules: 1, filters: [2], denseUnits: 2, seed: 3 });
  compileModel(model, { ...DEEPMIR_TRAINING, optimizer: { ...KERAS_ADAM, learningRate: 0.01 } });
  return model;
}

test("a hairpin checkpoint of format 1 resumes to the exact weights of the old loop's uninterrupted run", async () => {
  const dir = path.join(tempDir(), "checkpoint");
  fs.cpSync(path.join(V1, "checkpoint"), dir, { recursive: true });
  assert.equal(readLatestCheckpoint(dir)!.state.task, "hairpin-classifier");
  const model = tinyClassifier();
  const result = await trainDeepMirClassifier(model, syntheticSet(48, 11), { epochs: 2, batchSize: 16, seed: 5, validationFraction: 0.25, checkpointDir: dir });
  assert.equal(result.resumedFromEpoch, 1);
  assert.deepEqual(Object.keys(result.history[0]!).sort(), ["accuracy", "epoch", "loss", "seconds", "valAccuracy", "valLoss"], "format-1 history converted to camelCase");
  const old = new Float32Array(new Uint8Array(fs.readFileSync(path.join(V1, "old-loop-2-epochs-weights.f32"))).buffer);
  assert.deepEqual(flatWeights(model), old);
  // The new loop from scratch gives the same weights too.
  const fresh = tinyClassifier();
  await trainDeepMirClassifier(fresh, syntheticSet(48, 11), { epochs: 2, batchSize: 16, seed: 5, validationFraction: 0.25 });
  assert.deepEqual(flatWeights(fresh), old);
  // It was rewritten in the current format.
  assert.equal(readLatestCheckpoint(dir)!.state.format, "mirna-dl checkpoint 2");
  for (const m of [model, fresh]) {
    m.optimizer.dispose();
    m.dispose();
  }
});

test("a checkpoint of an unknown format is refused with a message naming its version", async () => {
  const dir = path.join(tempDir(), "checkpoint");
  fs.cpSync(path.join(V1, "checkpoint"), dir, { recursive: true });
  const stateFile = path.join(dir, "epoch-0001", "state.json");
  fs.writeFileSync(stateFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(stateFile, "utf8")), format: "mirna-dl checkpoint 7" }));
  const model = tinyClassifier();
  await assert.rejects(
    trainDeepMirClassifier(model, syntheticSet(48, 11), { epochs: 2, batchSize: 16, seed: 5, validationFraction: 0.25, checkpointDir: dir }),
    (e: unknown) => e instanceof InputError && /unknown checkpoint format 'mirna-dl checkpoint 7'/.test(e.message) && /epoch-0001/.test(e.message),
  );
  model.dispose();
});

/** A toy regression task: y = x·w on 64 rows; 4 features. */
function toyData() {
  const random = mulberry32(9);
  const x = Float32Array.from({ length: 64 * 4 }, () => random() * 2 - 1);
  const y = Float32Array.from({ length: 64 }, (_, i) => x[i * 4]! - 2 * x[i * 4 + 1]! + 0.5 * x[i * 4 + 3]!);
  return { x, y };
}

function toyModel(seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const hidden = tf.layers.dense({ units: 8, activation: "tanh", kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.compile({ optimizer: tf.train.adam(0.05), loss: "meanSquaredError" });
  return model;
}

/** A task over the toy data with a counter in its state and a validation loss on all rows. */
function toyTask(model: tf.LayersModel, state = { epochsSeen: 0 }): TrainingTask & { state: { epochsSeen: number } } {
  const { x, y } = toyData();
  const rows = Uint32Array.from({ length: 64 }, (_, i) => i);
  const make = (r: Uint32Array) => ({
    x: tf.tensor2d(Float32Array.from(Array.from(r).flatMap((i) => Array.from(x.subarray(i * 4, i * 4 + 4)))), [r.length, 4]),
    y: tf.tensor2d(Float32Array.from(Array.from(r), (i) => y[i]!), [r.length, 1]),
  });
  return {
    name: "toy",
    state,
    epoch: (epoch) => shuffledEpoch(rows, 16, 4, epoch, make),
    validate: () => {
      const loss = tf.tidy(() => tf.losses.meanSquaredError(tf.tensor2d(y, [64, 1]), model.predict(tf.tensor2d(x, [64, 4])) as tf.Tensor).dataSync()[0]!);
      return { valLoss: loss };
    },
    afterEpoch(record) {
      state.epochsSeen++;
      return { fields: { epochsSeen: state.epochsSeen, doubled: 2 * record.epoch } };
    },
    saveState: () => ({ ...state }),
    restoreState: (saved) => Object.assign(state, saved as { epochsSeen: number }),
  };
}

test("resume: killed after epoch 2 of 5, a second run ends in the uninterrupted run's weights, history and task state", async () => {
  const straight = toyModel();
  const straightTask = toyTask(straight);
  const whole = await trainModel(straight, straightTask, { epochs: 5 });
  const dir = tempDir();
  const first = toyModel();
  await trainModel(first, toyTask(first), { epochs: 2, checkpointDir: dir, key: { seed: 4 } });
  const second = toyModel(); // as a new process would: fresh model, fresh task state
  const secondTask = toyTask(second);
  const resumed = await trainModel(second, secondTask, { epochs: 5, checkpointDir: dir, key: { seed: 4 } });
  assert.equal(resumed.resumedFromEpoch, 2);
  assert.deepEqual(flatWeights(second), flatWeights(straight));
  const strip = (h: typeof whole.history) => h.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(resumed.history), strip(whole.history));
  assert.equal(secondTask.state.epochsSeen, 5, "task state restored, then advanced");
  assert.deepEqual(resumed.history.map((h) => h.doubled), [2, 4, 6, 8, 10]);
  assert.equal(resumed.steps, 5 * 4);
  // Another key or task is refused.
  await assert.rejects(trainModel(toyModel(), toyTask(toyModel()), { epochs: 6, checkpointDir: dir, key: { seed: 5 } }), /other seed \(seed 4\)/);
  await assert.rejects(trainModel(toyModel(), { ...toyTask(toyModel()), name: "other" }, { epochs: 6, checkpointDir: dir, key: { seed: 4 } }), /task 'toy', not 'other'/);
});

test("early stopping: stops after `patience` epochs without improvement and restores the best weights", async () => {
  const model = toyModel(3);
  const task = toyTask(model);
  // A validation metric that improves twice, then gets worse: best epoch 2.
  const values = [5, 3, 4, 4.5, 6, 7, 8];
  let bestWeights: Float32Array | null = null;
  const result = await trainModel(model, {
    ...task,
    validate: (epoch) => ({ valMetric: values[epoch - 1]! }),
  }, {
    epochs: 7,
    checkpointDir: tempDir(),
    earlyStopping: { monitor: "valMetric", mode: "min", patience: 2 },
    onEpoch: (r) => {
      if (r.epoch === 2) bestWeights = flatWeights(model);
    },
  });
  assert.equal(result.stoppedAfterEpoch, 4, "epochs 3 and 4 brought no improvement");
  assert.equal(result.bestEpoch, 2);
  assert.equal(result.history.length, 4);
  assert.deepEqual(flatWeights(model), bestWeights);
  await assert.rejects(trainModel(toyModel(), task, { epochs: 2, earlyStopping: { monitor: "nothing", mode: "min", patience: 1, restoreBest: false } }), /early stopping watches 'nothing'/);
});

test("a task can stop training, batches may come from an async stream, nothing leaks", async () => {
  const model = toyModel(5);
  const { x, y } = toyData();
  async function* stream(): AsyncIterable<{ x: tf.Tensor; y: tf.Tensor }> {
    for (let start = 0; start < 64; start += 32) {
      await new Promise((r) => setImmediate(r));
      yield { x: tf.tensor2d(x.subarray(start * 4, (start + 32) * 4), [32, 4]), y: tf.tensor2d(y.subarray(start, start + 32), [32, 1]) };
    }
  }
  await trainModel(model, { name: "warm", epoch: (): EpochData => ({ batches: stream() }) }, { epochs: 1 }); // optimizer slots exist now
  const tensors = tf.memory().numTensors;
  const result = await trainModel(model, {
    name: "stream",
    epoch: (): EpochData => ({ batches: stream() }),
    afterEpoch: (r) => ({ stop: r.epoch === 3 }),
  }, { epochs: 10 });
  assert.equal(result.history.length, 3);
  assert.equal(result.stoppedAfterEpoch, 3);
  assert.equal(result.steps, 6);
  assert.ok(result.history.every((h) => h.steps === 2 && Number.isFinite(h.loss)));
  assert.equal(tf.memory().numTensors, tensors, "no tensors leaked");
});

test("an uncompiled model is refused", async () => {
  const model = buildDeepMirClassifier({ modules: 1, filters: [2], denseUnits: 2 });
  await assert.rejects(trainModel(model, { name: "x", epoch: () => ({ batches: [] }) }, { epochs: 1 }), /must be compiled/);
  model.dispose();
});

test("batches: seeded split and epoch orders, chunking, index batches", () => {
  const { train, validation } = splitTrainValidation(10, 0.3, 2);
  assert.equal(validation.length, 3);
  assert.deepEqual([...train, ...validation].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  const rows = Uint32Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(epochOrder(rows, 1, 1), epochOrder(rows, 1, 1));
  assert.notDeepEqual(epochOrder(rows, 1, 1), epochOrder(rows, 1, 2));
  assert.deepEqual(chunkRows(rows, 4).map((b) => b.length), [4, 4, 2]);
  assert.throws(() => chunkRows(rows, 0), /batchSize must be a positive integer/);
  const made: number[][] = [];
  const data = indexBatches(chunkRows(rows, 5), (r) => {
    made.push(Array.from(r));
    return { x: tf.zeros([r.length, 1]), y: tf.zeros([r.length, 1]) };
  });
  assert.equal(data.steps, 2);
  assert.equal(made.length, 0, "batches are made lazily");
  for (const b of data.batches as Iterable<{ x: tf.Tensor; y: tf.Tensor }>) tf.dispose([b.x, b.y]);
  assert.deepEqual(made, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
});

/** A toy run checkpointed after 2 epochs, and how to resume it (to 9 epochs) and expect a refusal. */
async function checkpointedRun() {
  const dir = tempDir();
  const first = toyModel();
  await trainModel(first, toyTask(first), { epochs: 2, checkpointDir: dir, key: { seed: 4 } });
  const folder = path.join(dir, "epoch-0002");
  const resume = (epochs = 9) => {
    const model = toyModel();
    return trainModel(model, toyTask(model), { epochs, checkpointDir: dir, key: { seed: 4 } });
  };
  const damaged = async (what: string, damage: () => void, pattern: RegExp) => {
    damage();
    await assert.rejects(resume(), (e: unknown) => e instanceof InputError && pattern.test(e.message) && /--resume cannot continue from this checkpoint \(remove .* to train from the start\)$/.test(e.message), what);
  };
  return { dir, folder, resume, damaged };
}

test("a tampered state.json or latest.json is refused naming the file and the field, never resumed into a run that trains nothing", async () => {
  const { dir, folder, resume, damaged } = await checkpointedRun();
  const stateFile = path.join(folder, "state.json");
  const state = fs.readFileSync(stateFile, "utf8");
  const edit = (change: (s: Record<string, unknown>) => void) => () => {
    const s = JSON.parse(state);
    change(s);
    fs.writeFileSync(stateFile, JSON.stringify(s));
  };
  await damaged("epoch", edit((s) => (s.epoch = "eight")), /epoch-0002\/state\.json: 'epoch' must be a whole number ≥ 0, got "eight"/);
  await damaged("history", edit((s) => (s.history = null)), /state\.json: 'history' must be a list of epochs, got null/);
  await damaged("history length", edit((s) => (s.history = (s.history as unknown[]).slice(0, 1))), /'history' must be a list of 2 epochs \(one per epoch done\), got "1 records"/);
  await damaged("step", edit((s) => (s.step = -3)), /'step' must be a whole number ≥ 0, got -3/);
  await damaged("layout", edit((s) => ((s.optimizerWeights as { dtype: string }[])[0]!.dtype = "float64")), /'optimizerWeights\[0\]\.dtype' must be float32 or int32, got "float64"/);
  await damaged("stopped", edit((s) => (s.stoppedAfterEpoch = 7)), /'stoppedAfterEpoch' must be null or a whole number from 1 to 2, got 7/);
  fs.writeFileSync(stateFile, state);
  const latest = path.join(dir, "latest.json");
  const pointer = fs.readFileSync(latest, "utf8");
  await damaged("latest", () => fs.writeFileSync(latest, JSON.stringify({ checkpoint: "../../elsewhere", epoch: 2 })), /latest\.json: 'checkpoint' must name an epoch folder \(epoch-NNNN\), got "\.\.\/\.\.\/elsewhere"/);
  fs.writeFileSync(latest, pointer);
  assert.equal((await resume(3)).resumedFromEpoch, 2, "intact again: it resumes");
});

test("a truncated optimizer.bin or weights.bin of a checkpoint is refused naming the file", async () => {
  const { folder, resume, damaged } = await checkpointedRun();
  const optimizer = path.join(folder, "optimizer.bin");
  const slots = fs.readFileSync(optimizer);
  await damaged("optimizer.bin", () => fs.writeFileSync(optimizer, slots.subarray(0, 100)), /epoch-0002\/optimizer\.bin: holds 100 bytes, state\.json describes [\d,]+ \(damaged or truncated\)/);
  fs.writeFileSync(optimizer, slots);
  const weights = path.join(folder, "model", "weights.bin");
  const w = fs.readFileSync(weights);
  await damaged("weights.bin", () => fs.writeFileSync(weights, w.subarray(0, 10)), /epoch-0002\/model\/model\.json: \.\/weights\.bin holds 10 bytes, model\.json describes [\d,]+ \(truncated weights\?\)/);
  fs.writeFileSync(weights, w);
  assert.equal((await resume(3)).resumedFromEpoch, 2, "intact again: it resumes");
});
