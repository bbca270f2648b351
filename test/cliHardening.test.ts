/**
 * The command line under hostile but realistic inputs: outputs that are special
 * files, user columns kept byte for byte, interrupts, broken models, unwritable outputs found
 * before the work, a closed standard output, clear one-line messages. Runs the CLI as helpers.ts
 * CLI_COMMAND does (lib/dist when up to date, else the sources through tsx).
 * Run: node --import tsx --test test/cliHardening.test.ts
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { buildDeepMirClassifier } from "../lib/src/hairpin/classifier";
import { initBackend } from "../lib/src/ops/backend";
import { saveTfjsModel } from "../lib/src/io/tfjsModel";
import { publishedModelPath } from "../lib/src/binding/paths";
import { missingData } from "../lib/src/data/paths";
import { CLI_COMMAND, isRunning, MIRNA, SITE_8MER, tempDir, writeFixture } from "./helpers";

/** A site with no seed match for MIRNA (seed score 0). */
const SITE = "G".repeat(50);

const ROOT = path.join(__dirname, "..");
const dir = tempDir();
const HEADER = "mirna_binding_sequence\tbinding_sequence\tlabel";

function run(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const r = spawnSync(process.execPath, [...CLI_COMMAND, ...args], {
    encoding: "utf8", cwd: ROOT, env: { ...process.env, MIRNA_DL_BACKEND: "", ...opts.env }, input: opts.input, maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A one-line message on stderr: "mirna-dl: …", no stack trace, short. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n").filter((l) => !/TensorFlow\.js backend/.test(l));
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.match(lines[0]!, /^mirna-dl: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  assert.ok(lines[0]!.length < 400, `short: ${lines[0]!.length} characters`);
}

let toyModel = "";
let classifierModel = "";
let bigTable = "";
before(async () => {
  await initBackend({ quiet: true });
  toyModel = path.join(dir, "toy");
  const model = buildArch00b({ seed: 4 });
  await saveTfjsModel(model, toyModel);
  model.dispose();
  classifierModel = path.join(dir, "classifier");
  const classifier = buildDeepMirClassifier({ modules: 1, filters: [4], denseUnits: 8, seed: 3 });
  await saveTfjsModel(classifier, classifierModel);
  classifier.dispose();
  // Long enough to interrupt: tens of seconds of scoring with a network.
  const rows = Array.from({ length: 60_000 }, (_, i) => `${MIRNA}\t${i % 2 ? SITE : SITE_8MER}\t${i % 3 ? "negative" : "positive"}`);
  bigTable = writeFixture(dir, "big.tsv", `${HEADER}\n${rows.join("\n")}\n`);
});

// ---------------------------------------------------------------------------------------------
// 2. --output never replaces special files

test("--output: '-' is standard output; a symlink is followed; a FIFO and a device are written straight through, never replaced", async (t) => {
  const input = writeFixture(dir, "two.tsv", `${HEADER}\n${MIRNA}\t${SITE_8MER}\tpositive\n${MIRNA}\t${SITE}\tnegative\n`);
  const expected = `${HEADER}\tscore\n${MIRNA}\t${SITE_8MER}\tpositive\t4\n${MIRNA}\t${SITE}\tnegative\t0\n`;
  const dash = run(["predict", "--model", "seed", "--input", input, "--output", "-"]);
  assert.equal(dash.code, 0, dash.stderr);
  assert.equal(dash.stdout, expected);
  assert.ok(!fs.existsSync(path.join(ROOT, "-")), "no file named '-'");

  const folder = path.join(dir, "special");
  fs.mkdirSync(folder);
  const real = path.join(folder, "real.tsv");
  fs.writeFileSync(real, "old\n");
  fs.symlinkSync("real.tsv", path.join(folder, "link.tsv"));
  const viaLink = run(["predict", "--model", "seed", "--input", input, "--output", path.join(folder, "link.tsv")]);
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.ok(fs.lstatSync(path.join(folder, "link.tsv")).isSymbolicLink(), "the link stays a link");
  assert.equal(fs.readFileSync(real, "utf8"), expected, "its target gets the table");

  const fifo = path.join(folder, "pipe");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
  const reader = spawn("cat", [fifo]);
  let received = "";
  reader.stdout.on("data", (d: Buffer) => (received += d.toString()));
  const readerDone = new Promise((resolve) => reader.on("close", resolve));
  const viaFifo = await runAsync(["predict", "--model", "seed", "--input", input, "--output", fifo]);
  if (!fs.statSync(fifo).isFIFO()) {
    reader.kill(); // it waits for a writer that will never come
    assert.fail("the FIFO was replaced by a regular file");
  }
  await readerDone;
  assert.equal(viaFifo.code, 0, viaFifo.stderr);
  assert.equal(received, expected);
  assert.ok(fs.statSync(fifo).isFIFO(), "still a FIFO");

  const device = path.join(folder, "null");
  if (spawnSync("mknod", [device, "c", "1", "3"]).status !== 0) return t.skip("cannot make a device node here (the FIFO and link cases ran)");
  const viaDevice = run(["predict", "--model", "seed", "--input", input, "--output", device]);
  assert.equal(viaDevice.code, 0, viaDevice.stderr);
  assert.ok(fs.statSync(device).isCharacterDevice(), "still a character device");
  assert.deepEqual(fs.readdirSync(folder).sort(), ["link.tsv", "null", "pipe", "real.tsv"], "no temp files");
});

function runAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_COMMAND, ...args], { cwd: ROOT, env: { ...process.env, MIRNA_DL_BACKEND: "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------
// 3. user columns kept byte for byte; ragged rows; an existing score column

test("predict keeps the user's cells byte for byte (quotes, extra columns, unicode), also over repeated runs", () => {
  const rows = [
    `${MIRNA}\t${SITE_8MER}\tpositive\t"quoted"\tsays "hi"\tß-mir-1 🧬\t`,
    `${MIRNA}\t${SITE}\tnegative\t""\t"\t'single'`,
  ];
  const text = `${HEADER}\tnote "1"\tcomment\tname\textra\n${rows.map((r) => (r.split("\t").length === 7 ? r : r + "\t")).join("\n")}\n`;
  const input = writeFixture(dir, "quotes.tsv", text);
  const first = path.join(dir, "quotes-scored.tsv");
  const r1 = run(["predict", "--model", "seed", "--input", input, "--output", first]);
  assert.equal(r1.code, 0, r1.stderr);
  const out1 = fs.readFileSync(first, "utf8").split("\n");
  const in1 = text.split("\n");
  in1.slice(0, -1).forEach((line, k) => assert.equal(out1[k]!.slice(0, line.length), line, `line ${k + 1}: the input line unchanged`));
  assert.deepEqual(out1.slice(1, 3).map((l) => l.split("\t").pop()), ["4", "0"]);
  // Scored again (another column): every earlier cell is still byte-identical.
  const second = path.join(dir, "quotes-scored-twice.tsv");
  const r2 = run(["predict", "--model", "seed", "--input", first, "--output", second, "--score-column", "score2"]);
  assert.equal(r2.code, 0, r2.stderr);
  const out2 = fs.readFileSync(second, "utf8").split("\n");
  out1.slice(0, -1).forEach((line, k) => assert.equal(out2[k], `${line}\t${k === 0 ? "score2" : out1[k]!.split("\t").pop()}`));
});

test("a row with more or fewer fields than the header is refused, naming the row and the counts", () => {
  const more = writeFixture(dir, "more.tsv", `${HEADER}\n${MIRNA}\t${SITE}\tpositive\n${MIRNA}\t${SITE}\tpositive\textra\n`);
  const r = run(["predict", "--model", "seed", "--input", more]);
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, /more\.tsv, row 2 \(line 3\): 4 tab-separated fields, the header has 3/);
  assert.equal(r.stdout, "", "nothing written");
  const fewer = writeFixture(dir, "fewer.tsv", `${HEADER}\n${MIRNA}\t${SITE}\n`);
  const f = run(["evaluate", "--model", "seed", "--input", fewer]);
  assert.equal(f.code, 2);
  assertOneLine(f.stderr, /fewer\.tsv, row 1 \(line 2\): 2 tab-separated fields, the header has 3/);
  assert.doesNotMatch(f.stderr, /bad label/);
});

test("an existing 'score' column is not overwritten unless --score-column names it", () => {
  const input = writeFixture(dir, "scored.tsv", `${HEADER}\tscore\tafter\n${MIRNA}\t${SITE_8MER}\tpositive\t0.5\tx\n`);
  const refused = run(["predict", "--model", "seed", "--input", input]);
  assert.equal(refused.code, 2);
  assertOneLine(refused.stderr, /scored\.tsv, column 'score': already has a 'score' column .*--score-column NAME/);
  assert.equal(refused.stdout, "");
  const named = run(["predict", "--model", "seed", "--input", input, "--score-column", "seed_score"]);
  assert.equal(named.code, 0, named.stderr);
  assert.equal(named.stdout, `${HEADER}\tscore\tafter\tseed_score\n${MIRNA}\t${SITE_8MER}\tpositive\t0.5\tx\t4\n`);
  const replaced = run(["predict", "--model", "seed", "--input", input, "--score-column", "score"]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(replaced.stdout, `${HEADER}\tscore\tafter\n${MIRNA}\t${SITE_8MER}\tpositive\t4\tx\n`, "named explicitly: replaced in place");
  const bad = run(["predict", "--model", "seed", "--input", input, "--score-column", "a\tb"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--score-column must be a column name without tabs/);
});

// ---------------------------------------------------------------------------------------------
// 4, 5. interrupts: the command stops, and leaves no temporary file

/** Resolves when `text()` matches `pattern` (polled), or rejects after `ms`. */
async function waitFor(what: string, check: () => boolean, ms = 120_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} during scoring: the command dies of it promptly, the temp file is removed, the old output stays`, async () => {
    const folder = path.join(dir, `signal-${signal}`);
    fs.mkdirSync(folder);
    const out = path.join(folder, "out.tsv");
    fs.writeFileSync(out, "previous results\n");
    const child: ChildProcess = spawn(process.execPath, [...CLI_COMMAND, "predict", "--model", toyModel, "--input", bigTable, "--output", out], { cwd: ROOT });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, sig) => resolve({ code, signal: sig })));
    // The temp file exists from the start (the output is opened before any work); scoring has begun.
    await waitFor("scoring to start", () => /scoring with toy/.test(stderr) && fs.readdirSync(folder).length === 2);
    child.kill(signal);
    const sentAt = Date.now();
    const result = await exited;
    assert.equal(result.signal, signal, `dies of ${signal} (exit ${result.code}; ${stderr})`);
    assert.ok(Date.now() - sentAt < 10_000, `stopped ${Date.now() - sentAt} ms after the signal`);
    assert.deepEqual(fs.readdirSync(folder), ["out.tsv"], "no temporary file left behind");
    assert.equal(fs.readFileSync(out, "utf8"), "previous results\n", "the old output is untouched");
  });
}

for (const [starter, env] of [
  // npm does not pass SIGTERM on; the shell dies of it and the command is left behind.
  ["started by npm (npx): killing the npm side", { npm_execpath: "/usr/lib/node_modules/npm/bin/npm-cli.js", npm_command: "exec" }],
  // A notebook kernel's training worker (binding/experiment.ts sets MIRNA_DL_STOP_WITH_PARENT=1).
  ["started as a library run's worker: killing the process that started it", { MIRNA_DL_STOP_WITH_PARENT: "1" }],
] as const) {
  test(`${starter} stops the command too, which writes nothing`, async () => {
    const folder = path.join(dir, `parent-${env.npm_command ?? "worker"}`);
    fs.mkdirSync(folder);
    const out = path.join(folder, "out.tsv");
    // What `npx mirna-dl …` runs: npm → sh -c '<command>' → node. The trailing `; true` keeps sh
    // from exec'ing node, as npm's shell does not either.
    const command = [process.execPath, ...CLI_COMMAND, "predict", "--model", toyModel, "--input", bigTable, "--output", out]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    // Without npm's variables from the environment (npm test sets them), so only `env` starts the watch.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
    const shell = spawn("sh", ["-c", `${command}; true`], { cwd: ROOT, env: { ...inherited, ...env } });
    let stderr = "";
    shell.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let node = 0;
    await waitFor("the command to start scoring", () => {
      node = childrenOf(shell.pid!)[0] ?? 0;
      return node > 0 && /scoring with toy/.test(stderr);
    });
    shell.kill("SIGTERM");
    const killedAt = Date.now();
    await waitFor("the command to stop", () => !isRunning(node), 60_000).catch(() => {
      process.kill(node, "SIGKILL");
      assert.fail(`the command (pid ${node}) kept running after its parent was killed`);
    });
    assert.ok(Date.now() - killedAt < 10_000, `stopped ${Date.now() - killedAt} ms after the parent`);
    assert.deepEqual(fs.readdirSync(folder), [], "no output and no temporary file");
  });
}

// ---------------------------------------------------------------------------------------------
// 6. broken model files

test("broken models: a truncated weights.bin, another network in a TensorFlow.js folder, a truncated or corrupt .h5", async (t) => {
  const input = writeFixture(dir, "one.tsv", `${HEADER}\n${MIRNA}\t${SITE}\tpositive\n`);
  const truncated = path.join(dir, "truncated-weights");
  fs.cpSync(toyModel, truncated, { recursive: true });
  const weights = path.join(truncated, "weights.bin");
  fs.truncateSync(weights, Math.floor(fs.statSync(weights).size / 2));
  const w = run(["predict", "--model", truncated, "--input", input]);
  assert.equal(w.code, 2, w.stderr);
  assertOneLine(w.stderr, /truncated-weights\/model\.json: \.\/weights\.bin holds [\d,]+ bytes, model\.json describes 1,206,276 \(truncated weights\?\)/);

  const other = run(["predict", "--model", classifierModel, "--input", input]);
  assert.equal(other.code, 2, other.stderr);
  assertOneLine(other.stderr, /classifier: not a binding model: its input is \(batch, 25, 100, 3\), expected \(batch, 50, 20, 1\) .*hairpin classify/);

  const notH5 = writeFixture(dir, "text.h5", "just text\n");
  const n = run(["predict", "--model", notH5, "--input", input]);
  assert.equal(n.code, 2);
  assertOneLine(n.stderr, /text\.h5: not an HDF5 file/);

  const published = publishedModelPath("iterative");
  const skip = missingData(published);
  if (skip) return t.skip(skip);
  for (const [name, bytes] of [["half.h5", 0.5], ["head.h5", 0.001], ["almost.h5", 0.99]] as const) {
    const cut = path.join(dir, name);
    const data = fs.readFileSync(published);
    fs.writeFileSync(cut, data.subarray(0, Math.floor(data.length * bytes)));
    const r = run(["predict", "--model", cut, "--input", input]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assertOneLine(r.stderr, new RegExp(`${name.replace(".", "\\.")}: truncated HDF5 file: [\\d,]+ bytes, its superblock says 3,754,152`));
  }
  // Corrupt in the middle (same size): HDF5's own diagnostics are not printed.
  const corrupt = path.join(dir, "corrupt.h5");
  const data = Buffer.from(fs.readFileSync(published));
  data.fill(0x5a, 4096, 3_000_000);
  fs.writeFileSync(corrupt, data);
  const c = run(["predict", "--model", corrupt, "--input", input]);
  assert.equal(c.code, 2, c.stderr);
  assertOneLine(c.stderr, /corrupt\.h5: /);
  assert.doesNotMatch(c.stderr, /HDF5-DIAG|#\d{3}:/, "no HDF5 diagnostics");
});

// ---------------------------------------------------------------------------------------------
// 7. output problems found before the work

test("an --output that is a folder or cannot be written fails before the model is loaded or anything scored", () => {
  const input = writeFixture(dir, "seven.tsv", `${HEADER}\n${MIRNA}\t${SITE}\tpositive\n`);
  const folder = path.join(dir, "an-output-folder");
  fs.mkdirSync(folder);
  for (const model of [toyModel, "seed"]) {
    const r = run(["predict", "--model", model, "--input", input, "--output", folder]);
    assert.equal(r.code, 2);
    assertOneLine(r.stderr, /an-output-folder: is a folder, expected a file to write/);
    assert.doesNotMatch(r.stderr, /TensorFlow\.js backend|scoring with/, "no model loaded, nothing scored");
  }
  assert.deepEqual(fs.readdirSync(folder), []);
  // A path through a file (ENOTDIR), and a read-only folder (when permissions apply: not as root).
  const underFile = run(["predict", "--model", toyModel, "--input", input, "--output", path.join(input, "out.tsv")]);
  assert.equal(underFile.code, 2);
  assertOneLine(underFile.stderr, /out\.tsv: cannot write: a part of the path is a file, not a folder/);
  assert.doesNotMatch(underFile.stderr, /TensorFlow\.js backend/);
  if (process.getuid?.() !== 0) {
    const readOnly = path.join(dir, "read-only");
    fs.mkdirSync(readOnly, { mode: 0o555 });
    const r = run(["predict", "--model", toyModel, "--input", input, "--output", path.join(readOnly, "out.tsv")]);
    assert.equal(r.code, 2);
    assertOneLine(r.stderr, /cannot write: permission denied/);
    assert.doesNotMatch(r.stderr, /TensorFlow\.js backend/);
  }
});

// ---------------------------------------------------------------------------------------------
// 8. a closed standard output

test("standard output closed early (| head -1): the command exits quietly with 0", async () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => `${MIRNA}\t${i % 2 ? SITE_8MER : SITE}\t${i % 2 ? "positive" : "negative"}`);
  const input = writeFixture(dir, "many.tsv", `${HEADER}\n${rows.join("\n")}\n`);
  for (const args of [["predict", "--model", "seed", "--input", input], ["evaluate", "--model", "seed", "--input", input]]) {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; first: string }>((resolve) => {
      const child = spawn(process.execPath, [...CLI_COMMAND, ...args], { cwd: ROOT });
      let stderr = "";
      let first = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.once("data", (d: Buffer) => {
        first = d.toString().split("\n")[0]!;
        child.stdout.destroy(); // what `head -1` does after its line
      });
      child.on("close", (code, signal) => resolve({ code, signal, stderr, first }));
    });
    assert.ok(result.first.length > 0, "read a first line");
    assert.equal(result.code, 0, `${args[0]}: exit 0, got ${result.code} (${result.signal}): ${result.stderr}`);
    assert.equal(result.stderr, "", `${args[0]}: quiet`);
  }
});

// ---------------------------------------------------------------------------------------------
// 10. messages

test("messages: a gzip named .tsv is read; a 10 MB sequence is cut; binary files are named, not printed", () => {
  const gz = path.join(dir, "really-gzip.tsv");
  fs.writeFileSync(gz, zlib.gzipSync(`${HEADER}\n${MIRNA}\t${SITE_8MER}\tpositive\n`));
  const g = run(["predict", "--model", "seed", "--input", gz]);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(g.stdout, `${HEADER}\tscore\n${MIRNA}\t${SITE_8MER}\tpositive\t4\n`);

  const huge = writeFixture(dir, "huge.tsv", `${HEADER}\n${MIRNA}\t${"ACGT".repeat(2_500_000)}\tpositive\n`);
  const h = run(["predict", "--model", "seed", "--input", huge]);
  assert.equal(h.code, 2);
  assertOneLine(h.stderr, /huge\.tsv, row 1 \(line 2\), column 'binding_sequence': site 'ACGTACGT[ACGT]*… \(10,000,000 characters\)' has length 10000000, expected 50/);

  const h5 = path.join(dir, "model-as-input.h5");
  fs.writeFileSync(h5, Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7), Buffer.from("\tx\n\u0001\u0002\tzz\n")]));
  const npy = path.join(dir, "array.npy");
  fs.writeFileSync(npy, Buffer.concat([Buffer.from("\x93NUMPY\x01\x00", "latin1"), Buffer.from("{'descr': '<f4'}\n\t\u0000\u0001")]));
  const bin = path.join(dir, "random.tsv");
  fs.writeFileSync(bin, Buffer.from([0x61, 0x09, 0x62, 0x0a, 0x00, 0xff, 0x09, 0xfe, 0x0a]));
  const cases: [string, RegExp][] = [
    [h5, /model-as-input\.h5: is an HDF5 file \(a Keras \.h5 model\?\), expected a tab-separated table$/],
    [npy, /array\.npy: is a NumPy \.npy array, expected a tab-separated table$/],
    [bin, /random\.tsv, row 1 \(line 2\): contains a NUL byte: binary data, not a tab-separated table$/],
  ];
  for (const [file, pattern] of cases) {
    const r = run(["evaluate", "--model", "seed", "--input", file]);
    assert.equal(r.code, 2, r.stderr);
    assertOneLine(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000e-\u001f\ufffd]/, "no binary bytes printed");
  }
  // A model file given where a table belongs, and a table where a model belongs.
  const asModel = run(["predict", "--model", npy, "--input", gz]);
  assert.equal(asModel.code, 2);
  assertOneLine(asModel.stderr, /array\.npy: unknown model type \(a NumPy \.npy array\)/);
});

test("--help says that miRBind-format miRNAs are padded or cut to 20 nt automatically", () => {
  // Help text wraps at any space: match it with the line breaks read as spaces.
  const main = run(["--help"]).stdout.replace(/\s+/g, " ");
  assert.match(main, /miRBind- and miRBench-format miRNAs are padded with N or cut to 20 nt automatically/);
  for (const command of ["predict", "evaluate"]) {
    assert.match(run([command, "--help"]).stdout.replace(/\s+/g, " "), /miRBind- and miRBench-format miRNAs are always padded or cut to 20 nt/, command);
  }
});

// ---------------------------------------------------------------------------------------------
// No file overwritten that was not named

test("symlinks planted at every temporary name the output could have had (.out.tsv.<pid>.tmp for every pid) leave their victim untouched", () => {
  const folder = path.join(dir, "planted");
  fs.mkdirSync(folder);
  const victim = path.join(dir, "planted-victim.txt");
  fs.writeFileSync(victim, "precious\n");
  const pidMax = Number(fs.readFileSync("/proc/sys/kernel/pid_max", "utf8"));
  assert.ok(pidMax <= 4_194_304);
  for (let pid = 1; pid <= Math.min(pidMax, 65_536); pid++) fs.symlinkSync(victim, path.join(folder, `.out.tsv.${pid}.tmp`));
  const input = writeFixture(dir, "planted.tsv", `${HEADER}\n${MIRNA}\t${SITE_8MER}\tpositive\n`);
  const out = path.join(folder, "out.tsv");
  const r = run(["predict", "--model", "seed", "--input", input, "--output", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(victim, "utf8"), "precious\n", "the victim is untouched");
  assert.ok(fs.lstatSync(out).isFile(), "out.tsv is a regular file, not a link");
  assert.equal(fs.readFileSync(out, "utf8"), `${HEADER}\tscore\n${MIRNA}\t${SITE_8MER}\tpositive\t4\n`);
  assert.equal(fs.readdirSync(folder).filter((e) => !fs.lstatSync(path.join(folder, e)).isSymbolicLink()).length, 1, "no temporary file left");
});

test("scan: --output and --top-output that are one file (a symlink, a hard link, '-' and /dev/stdout) are refused before any work", () => {
  const mirnas = writeFixture(dir, "same-m.fa", `>let-7\n${MIRNA}\n`);
  const targets = writeFixture(dir, "same-t.fa", `>utr\n${"G".repeat(60)}CTACCTCA${"G".repeat(60)}\n`);
  const folder = path.join(dir, "same-file");
  fs.mkdirSync(folder);
  const a = path.join(folder, "a.tsv");
  fs.writeFileSync(a, "earlier results\n");
  fs.symlinkSync("a.tsv", path.join(folder, "b.tsv"));
  fs.linkSync(a, path.join(folder, "c.tsv"));
  for (const [output, top, named] of [
    [a, path.join(folder, "b.tsv"), /'.*a\.tsv' and '.*b\.tsv'/],
    [path.join(folder, "c.tsv"), a, /'.*c\.tsv' and '.*a\.tsv'/],
    ["-", "/dev/stdout", /'-' and '\/dev\/stdout'/],
  ] as const) {
    const r = run(["scan", "--model", "seed", "--mirnas", mirnas, "--targets", targets, "--output", output, "--top-output", top]);
    assert.equal(r.code, 2, r.stderr);
    assertOneLine(r.stderr, new RegExp(`--output and --top-output are the same file \\(${named.source}\\)`));
    assert.equal(r.stdout, "", "nothing written");
    assert.equal(fs.readFileSync(a, "utf8"), "earlier results\n", "the file is untouched");
    assert.deepEqual(fs.readdirSync(folder).sort(), ["a.tsv", "b.tsv", "c.tsv"], "no temporary file");
  }
});

test("-o /dev/stdout with standard output appended to a log keeps the log and appends the table; -o newdir/ is refused", async () => {
  const input = writeFixture(dir, "append.tsv", `${HEADER}\n${MIRNA}\t${SITE_8MER}\tpositive\n`);
  const table = `${HEADER}\tscore\n${MIRNA}\t${SITE_8MER}\tpositive\t4\n`;
  const log = path.join(dir, "run.log");
  for (const output of ["/dev/stdout", "-", log]) {
    fs.writeFileSync(log, "earlier log line\n");
    const fd = fs.openSync(log, "a"); // what `>> run.log` does
    const r = spawnSync(process.execPath, [...CLI_COMMAND, "predict", "--model", "seed", "--input", input, "--output", output], { cwd: ROOT, stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
    fs.closeSync(fd);
    assert.equal(r.status, 0, `${output}: ${r.stderr}`);
    assert.equal(fs.readFileSync(log, "utf8"), `earlier log line\n${table}`, `${output}: the log is kept, the table appended`);
  }
  const slash = run(["predict", "--model", "seed", "--input", input, "--output", path.join(dir, "newdir") + "/"]);
  assert.equal(slash.code, 2);
  assertOneLine(slash.stderr, /newdir\/: ends in '\/', so it names a folder: expected a file to write/);
  assert.ok(!fs.existsSync(path.join(dir, "newdir")), "no file named 'newdir'");
});

test("a model.json tfjs cannot build is one line naming it", () => {
  const input = writeFixture(dir, "unknown.tsv", `${HEADER}\n${MIRNA}\t${SITE_8MER}\tpositive\n`);
  const unknown = path.join(dir, "unknown-layer");
  fs.cpSync(toyModel, unknown, { recursive: true });
  const json = JSON.parse(fs.readFileSync(path.join(unknown, "model.json"), "utf8"));
  json.modelTopology.config.layers[1].class_name = "FancyLayer";
  fs.writeFileSync(path.join(unknown, "model.json"), JSON.stringify(json));
  const u = run(["predict", "--model", unknown, "--input", input]);
  assert.equal(u.code, 2, u.stderr);
  assertOneLine(u.stderr, /unknown-layer\/model\.json: cannot build the model it describes: Unknown layer: FancyLayer/);
});

test("a model whose weights hold NaN is one line naming the model, not 'score 0 is NaN'", async () => {
  const input = writeFixture(dir, "nan.tsv", `${HEADER}\n${MIRNA}\t${SITE_8MER}\tpositive\n${MIRNA}\t${SITE}\tnegative\n`);
  const nan = path.join(dir, "nan-weights");
  const model = buildArch00b({ seed: 4 });
  const poisoned = model.getWeights().map((w, i) => (i === 0 ? tf.fill(w.shape, NaN) : w.clone()));
  model.setWeights(poisoned);
  tf.dispose(poisoned);
  await saveTfjsModel(model, nan);
  model.dispose();
  const r = run(["evaluate", "--model", nan, "--input", input]);
  assert.equal(r.code, 2, r.stderr);
  assertOneLine(r.stderr, /nan-weights: the model's weights hold NaN \([\d,]+ of [\d,]+ values of '[^']+'\): a diverged or damaged model, it cannot score/);
});
