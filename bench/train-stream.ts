/**
 * Streaming benchmark of binding training:
 * arch_00b trained from a generated 5,000,000-pair table streamed in chunks
 * (lib/src/binding/trainStream.ts) against the same model trained from an in-memory
 * 50,000-pair table, in one run: throughput (samples/s over the timed steps, after a warm-up)
 * and the peak resident memory of each.
 *
 * Each measurement runs in its own process, so its peak RSS is its own. Tables are generated
 * (seeded: random 20-nt miRNAs and 50-nt sites, a quarter positive with a planted 8mer) into
 * `--dir` (default out/bench-stream, kept for re-runs).
 *
 * Run:  node --import tsx bench/train-stream.ts [--rows 5000000] [--steps 1500] [--dir DIR] [--json]
 * Writes a table into BENCHMARKS.md between <!-- train-stream:start --> and <!-- train-stream:end -->.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { parseArgs } from "node:util";
import { ARCH00B_TRAINING, buildArch00b } from "../lib/src/binding/arch00b";
import { countPairRows, trainStandardStream } from "../lib/src/binding/trainStream";
import { readPairTable } from "../lib/src/binding/tables";
import { pairBatch } from "../lib/src/binding/trainingData";
import { REPO_ROOT } from "../lib/src/data/paths";
import { describeBackend, initBackend } from "../lib/src/ops/backend";
import { compileModel } from "../lib/src/ops/nn";
import { mulberry32, randomSequence } from "../lib/src/random";
import { shuffledEpoch } from "../lib/src/training/batches";
import { trainModel } from "../lib/src/training/loop";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "5000000" },
    "memory-rows": { type: "string", default: "50000" },
    steps: { type: "string", default: "1500" },
    dir: { type: "string", default: path.join(REPO_ROOT, "out", "bench-stream") },
    json: { type: "boolean" },
    // Internal: run one measurement in this process.
    measure: { type: "string" },
    file: { type: "string" },
  },
});

const COMPLEMENT: Record<string, string> = { A: "T", C: "G", G: "C", T: "A" };

/** Writes a seeded lock-format table of `rows` pairs (gzip), streamed, and returns its path. */
async function generateTable(file: string, rows: number): Promise<string> {
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const random = mulberry32(1789);
  const pool = Array.from({ length: 400 }, () => randomSequence(random, 20));
  const temp = `${file}.${process.pid}.tmp`;
  const gzip = zlib.createGzip({ level: 1 });
  const out = fs.createWriteStream(temp);
  gzip.pipe(out);
  const write = (text: string) => (gzip.write(text) ? Promise.resolve() : new Promise<void>((r) => gzip.once("drain", () => r())));
  await write("mirna_binding_sequence\tbinding_sequence\tlabel\n");
  let block = "";
  for (let i = 0; i < rows; i++) {
    const mirna = pool[Math.floor(random() * pool.length)]!;
    let site = randomSequence(random, 50);
    const positive = random() < 0.25;
    if (positive) {
      const plant = Array.from(mirna.slice(1, 8)).reverse().map((c) => COMPLEMENT[c]).join("") + "A";
      const at = Math.floor(random() * 42);
      site = site.slice(0, at) + plant + site.slice(at + 8);
    }
    block += `${mirna}\t${site}\t${positive ? "positive" : "negative"}\n`;
    if (block.length > 1 << 20) {
      await write(block);
      block = "";
    }
  }
  await write(block);
  gzip.end();
  await new Promise<void>((resolve, reject) => out.on("finish", () => resolve()).on("error", reject));
  fs.renameSync(temp, file);
  return file;
}

/** One measurement, in this process: prints one JSON line. */
async function measure(kind: "stream" | "memory", file: string, steps: number): Promise<void> {
  await initBackend({ quiet: true });
  const model = buildArch00b({ seed: 1 });
  compileModel(model, ARCH00B_TRAINING);
  const warmup = 100;
  let timedFrom = 0;
  let timedSteps = 0;
  const onStep = (_epoch: number, done: number) => {
    if (done === warmup) timedFrom = performance.now();
    if (done > warmup) timedSteps = done - warmup;
  };
  const started = performance.now();
  let prepareSeconds = 0;
  if (kind === "stream") {
    const t0 = performance.now();
    await countPairRows(file); // what trainStandardStream does first; timed apart
    prepareSeconds = (performance.now() - t0) / 1000;
    await trainStandardStream(model, file, { epochs: 1, batchSize: 32, validationFraction: 0, seed: 1, maxSteps: warmup + steps, onStep });
  } else {
    const t0 = performance.now();
    const table = await readPairTable(file, { requireLabels: true });
    prepareSeconds = (performance.now() - t0) / 1000;
    const data = { mirnas: table.mirnas, sites: table.sites, labels: table.labels! };
    const rows = Uint32Array.from({ length: data.labels.length }, (_, i) => i);
    // As many epochs over the 50,000 pairs as the step count needs.
    const stepsPerEpoch = Math.ceil(rows.length / 32);
    let total = 0;
    await trainModel(model, {
      name: "bench-memory",
      epoch: (epoch) => shuffledEpoch(rows, 32, 1, epoch, (r) => pairBatch(data, r)),
      afterEpoch: () => ({ stop: total >= warmup + steps }),
    }, {
      epochs: Math.ceil((warmup + steps) / stepsPerEpoch) + 1,
      onStep: () => onStep(0, ++total),
    });
  }
  const seconds = (performance.now() - timedFrom) / 1000;
  process.stdout.write(JSON.stringify({
    kind, samplesPerSecond: (timedSteps * 32) / seconds, timedSteps, prepareSeconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, totalSeconds: (performance.now() - started) / 1000, backend: describeBackend(),
  }) + "\n");
}

async function main(): Promise<void> {
  const steps = Number(values.steps);
  if (values.measure) return measure(values.measure as "stream" | "memory", values.file!, steps);
  const rows = Number(values.rows);
  const memoryRows = Number(values["memory-rows"]);
  process.stderr.write(`generating tables in ${values.dir} (kept for re-runs) …\n`);
  const big = await generateTable(path.join(values.dir!, `pairs_${rows}.tsv.gz`), rows);
  const small = await generateTable(path.join(values.dir!, `pairs_${memoryRows}.tsv.gz`), memoryRows);
  const run = (kind: string, file: string) => {
    process.stderr.write(`measuring ${kind} training (${path.basename(file)}, ${steps} timed steps) …\n`);
    const r = spawnSync(process.execPath, ["--import", "tsx", __filename, "--measure", kind, "--file", file, "--steps", String(steps)], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`${kind} measurement failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as { samplesPerSecond: number; peakRssMiB: number; prepareSeconds: number; backend: string; timedSteps: number };
  };
  const memory = run("memory", small);
  const stream = run("stream", big);
  const ratio = stream.samplesPerSecond / memory.samplesPerSecond;
  const when = new Date().toISOString();
  const table = [
    `Measured ${when} on ${os.cpus()[0]?.model.trim() ?? "?"} (${os.cpus().length} cores), backend ${stream.backend}; ${steps} timed steps of batch 32 after 100 warm-up steps, each measurement in its own process; load average at the end ${os.loadavg()[0]!.toFixed(1)}.`,
    "",
    "| training from | pairs | samples/s | peak RSS (MiB) | preparation |",
    "|---|---:|---:|---:|---|",
    `| in-memory table | ${memoryRows.toLocaleString("en-US")} | ${memory.samplesPerSecond.toFixed(0)} | ${memory.peakRssMiB.toFixed(0)} | read + validate ${memory.prepareSeconds.toFixed(1)} s |`,
    `| streamed table (chunks of 65,536 rows, shuffle buffer 32,768) | ${rows.toLocaleString("en-US")} | ${stream.samplesPerSecond.toFixed(0)} (${(100 * ratio).toFixed(0)}% of in-memory) | ${stream.peakRssMiB.toFixed(0)} | counting + validating pass ${stream.prepareSeconds.toFixed(1)} s |`,
  ].join("\n");
  console.log(table);
  const md = path.join(REPO_ROOT, "BENCHMARKS.md");
  const text = fs.readFileSync(md, "utf8");
  const block = `<!-- train-stream:start -->\n${table}\n<!-- train-stream:end -->`;
  const next = text.includes("<!-- train-stream:start -->")
    ? text.replace(/<!-- train-stream:start -->[\s\S]*<!-- train-stream:end -->/, block)
    : `${text.trimEnd()}\n\n## Streamed training (bench/train-stream.ts)\n\nArch_00b trained from a generated 5,000,000-pair table read in chunks, against the same model trained from a 50,000-pair table held in memory (\`npm run bench:train-stream\`).\n\n${block}\n`;
  fs.writeFileSync(md, next);
  if (values.json) console.log(JSON.stringify({ memory, stream, ratio, when }));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
