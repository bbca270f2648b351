/**
 * environment/run-notebooks.ts against the fixture notebooks in
 * test/fixtures/notebooks/ (passes.ipynb, throws.ipynb, needs-data.ipynb;
 * checks.ipynb with its reference table references/checks.json; sleeps.ipynb
 * for a cell timeout; kills-nbconvert.ipynb, whose cell kills the nbconvert
 * process running it; orphans-kernel.ipynb, which does so and keeps its kernel
 * running), on the real tslab kernel through `jupyter nbconvert`.
 * Each kernel run takes a few seconds. Data is fetched from a loopback HTTP server started here, with a
 * temporary manifest (--manifest) and data folder (MIRNA_DL_DATA); fixtures
 * copied under a name of the runner's table (e.g. cvae_generate.ipynb) get that
 * notebook's data requirements.
 *
 * The kernel tests need jupyter on PATH and the tslab kernel registered in
 * this checkout's .jupyter/ (bash environment/setup.sh). Without them they
 * are skipped, or fail when MIRNA_DL_REQUIRE_DATA=1 (CI).
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { NOTEBOOKS } from "../environment/notebook-data";
import { isRunning, presentOrSkip } from "./helpers";

const repoRoot = path.resolve(__dirname, "..");
const runnerScript = path.join(repoRoot, "environment", "run-notebooks.ts");
const fixtures = path.join(repoRoot, "test", "fixtures", "notebooks");
const tempRoot = mkdtempSync(path.join(tmpdir(), "mirna-dl-runner-test-"));
after(() => rmSync(tempRoot, { recursive: true, force: true }));

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the notebook runner as CI does, from the repo root. */
function runRunner(args: string[], env: Record<string, string | undefined> = {}): RunResult {
  const result = spawnSync(process.execPath, ["--import", "tsx", runnerScript, ...args], {
    cwd: repoRoot,
    env: { ...process.env, MIRNA_DL_PROFILE: undefined, MIRNA_DL_DATA: undefined, ...env },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Like runRunner, without blocking this process (needed while it serves HTTP to the runner). A
 * runner still running after `timeoutMs` is killed (status null).
 */
function runRunnerAsync(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 0): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", runnerScript, ...args],
      { cwd: repoRoot, env: { ...process.env, MIRNA_DL_PROFILE: undefined, MIRNA_DL_DATA: undefined, ...env }, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** A fresh folder under the test's temporary root. */
function freshDir(name: string): string {
  const dir = path.join(tempRoot, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Copies fixture `fixture` into `dir` under the name `as` (e.g. a name of the runner's table). */
function fixtureAs(fixture: string, dir: string, as: string): string {
  const file = path.join(dir, as);
  copyFileSync(path.join(fixtures, fixture), file);
  return file;
}

/** The notebooks `--list` shows, in order. */
function listed(stdout: string): string[] {
  return [...stdout.matchAll(/^\[\d+\/\d+\] (\S+\.ipynb)/gm)].map((m) => m[1]!);
}

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Text of every stream output of every cell of an executed notebook. */
function streamOutputText(notebookFile: string): string {
  const nb = JSON.parse(readFileSync(notebookFile, "utf8")) as {
    cells: { outputs?: { output_type: string; text?: string | string[] }[] }[];
  };
  return nb.cells
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === "stream")
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? "")))
    .join("");
}

/** Text of every output of every cell (streams, and the text/plain of displays such as tables). */
function outputText(notebookFile: string): string {
  const nb = JSON.parse(readFileSync(notebookFile, "utf8")) as {
    cells: { outputs?: { output_type: string; text?: string | string[]; data?: Record<string, string | string[]> }[] }[];
  };
  const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join("") : (t ?? ""));
  return nb.cells
    .flatMap((c) => c.outputs ?? [])
    .map((o) => (o.output_type === "stream" ? join(o.text) : join(o.data?.["text/plain"])) + "\n")
    .join("");
}

/** Why notebooks cannot run here, or undefined when they can. */
function kernelUnavailableReason(): string | undefined {
  const onPath = (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, "jupyter"), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!onPath) return "jupyter is not on PATH (Debian: bash environment/setup.sh)";
  const spec = path.join(repoRoot, ".jupyter", "share", "jupyter", "kernels", "tslab", "kernel.json");
  if (!existsSync(spec)) return `tslab kernel not registered (${spec} missing; run bash environment/setup.sh)`;
  const argv0 = (JSON.parse(readFileSync(spec, "utf8")) as { argv?: string[] }).argv?.[0];
  if (argv0 !== path.join(repoRoot, "node_modules", ".bin", "tslab")) {
    return `${spec} does not run this checkout's tslab (run bash environment/setup.sh)`;
  }
  return undefined;
}

const kernelProblem = kernelUnavailableReason();

describe("run-notebooks: arguments and environment", () => {
  test("an unknown MIRNA_DL_PROFILE is rejected with exit status 2", () => {
    const r = runRunner([path.join(fixtures, "passes.ipynb")], { MIRNA_DL_PROFILE: "quick" });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /MIRNA_DL_PROFILE must be one of ci, full; got "quick"/);
  });

  test("a bad MIRNA_DL_CELL_TIMEOUT is rejected with exit status 2", () => {
    const r = runRunner([path.join(fixtures, "passes.ipynb")], { MIRNA_DL_CELL_TIMEOUT: "10min" });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /MIRNA_DL_CELL_TIMEOUT .*"10min"/);
  });

  test("a bad MIRNA_DL_HEARTBEAT is rejected with exit status 2", () => {
    const r = runRunner(["--list", path.join(fixtures, "passes.ipynb")], { MIRNA_DL_HEARTBEAT: "0" });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^run-notebooks: MIRNA_DL_HEARTBEAT must be a whole number of seconds > 0; got "0"$/m);
  });

  test("a missing notebook is named in the error", () => {
    const r = runRunner(["test/fixtures/notebooks/no-such.ipynb"]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /no-such\.ipynb: no such notebook/);
  });

  test("--profile overrides MIRNA_DL_PROFILE; a bad --profile is rejected with exit status 2", () => {
    const nb = path.join(fixtures, "passes.ipynb");
    const r = runRunner(["--list", "--profile", "ci", nb], { MIRNA_DL_PROFILE: "full" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^profile ci · /m);
    const bad = runRunner(["--list", "--profile", "quick", nb]);
    assert.equal(bad.status, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /^run-notebooks: --profile must be one of ci, full; got "quick"$/m);
  });

  test("order: preprocess, model_train_lock, interpret, clash, cvae_generate, then the others by name", () => {
    const dir = freshDir("order");
    const names = ["zeta.ipynb", "cvae_generate.ipynb", "alpha.ipynb", "model_train_lock.ipynb", "preprocess.ipynb"];
    const files = names.map((n) => fixtureAs("passes.ipynb", dir, n));
    const r = runRunner(["--list", ...files], { MIRNA_DL_DATA: freshDir("order-data") });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(listed(r.stdout), ["preprocess.ipynb", "model_train_lock.ipynb", "cvae_generate.ipynb", "alpha.ipynb", "zeta.ipynb"]);
    // No earlier run in --out: the committed table's time for the notebooks it knows.
    assert.match(r.stdout, /^\[1\/5\] preprocess\.ipynb · no data · expected \d+(\.\d)? (s|min|h) \(environment\/run-times\.json\)$/m);
    assert.match(r.stdout, /^\[4\/5\] alpha\.ipynb · no data$/m);
    assert.deepEqual(NOTEBOOKS.map((n) => n.name), ["preprocess", "model_train_lock", "interpret", "clash", "cvae_generate"]);
  });

  test("without arguments: the notebooks of notebooks/ in the table's order; absent ones are skipped", () => {
    const r = runRunner(["--list"], { MIRNA_DL_DATA: freshDir("default-data") });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const present = readdirSync(path.join(repoRoot, "notebooks")).filter((f) => f.endsWith(".ipynb"));
    const known = NOTEBOOKS.map((n) => `${n.name}.ipynb`);
    const expected = [...known.filter((f) => present.includes(f)), ...present.filter((f) => !known.includes(f)).sort()];
    assert.deepEqual(listed(r.stdout), expected);
    const absent = NOTEBOOKS.map((n) => n.name).filter((n) => !present.includes(`${n}.ipynb`));
    if (absent.length > 0) assert.match(r.stdout, new RegExp(`^not in notebooks/ \\(skipped\\): ${absent.join(", ")}$`, "m"));
    // What each needs is shown: nothing for preprocess, the published models for model_train_lock.
    assert.match(r.stdout, /preprocess\.ipynb · no data/);
    assert.match(r.stdout, /model_train_lock\.ipynb · data mirna_binding\/data\/models, .*mirbind: \d+ files, \d+ missing/);
    // One file is "1 file".
    assert.match(r.stdout, /interpret\.ipynb · data mirna_binding\/data\/models\/iterative\.h5: 1 file, 1 missing/);
  });

  test("--only: repeatable or a comma list, run order kept; an unknown name is exit status 2", () => {
    const dir = freshDir("only");
    const files = ["cvae_generate.ipynb", "preprocess.ipynb", "other.ipynb"].map((n) => fixtureAs("passes.ipynb", dir, n));
    const env = { MIRNA_DL_DATA: freshDir("only-data") };
    const comma = runRunner(["--list", "--only", "cvae_generate,preprocess.ipynb", ...files], env);
    assert.equal(comma.status, 0, comma.stdout + comma.stderr);
    assert.deepEqual(listed(comma.stdout), ["preprocess.ipynb", "cvae_generate.ipynb"]);
    const repeated = runRunner(["--list", "--only", "other", "--only", "cvae_generate", ...files], env);
    assert.deepEqual(listed(repeated.stdout), ["cvae_generate.ipynb", "other.ipynb"]);
    const unknown = runRunner(["--list", "--only", "interpret", ...files], env);
    assert.equal(unknown.status, 2, unknown.stdout + unknown.stderr);
    assert.match(unknown.stderr, /^run-notebooks: --only interpret: no such notebook in the notebook arguments \(there: cvae_generate, preprocess, other\)$/m);
    const fromFolder = runRunner(["--list", "--only", "no_such_notebook"], env);
    assert.equal(fromFolder.status, 2);
    assert.match(fromFolder.stderr, /--only no_such_notebook: no such notebook in notebooks\//);
  });

  test("--only with an empty selection ('' or ',') is a usage error, never 'all notebooks'", () => {
    const env = { MIRNA_DL_DATA: freshDir("only-empty-data") };
    for (const value of ["", ",", " , "]) {
      const r = runRunner(["--list", "--only", value], env);
      assert.equal(r.status, 2, `--only ${JSON.stringify(value)}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^run-notebooks: --only .*names no notebook/m);
      assert.deepEqual(listed(r.stdout), [], "nothing listed");
    }
    // Also together with a real name: one empty --only still selects nothing by itself.
    const mixed = runRunner(["--list", "--only", "preprocess", "--only", ""], env);
    assert.equal(mixed.status, 2, mixed.stdout + mixed.stderr);
  });

  test("--out naming an existing file, or a path under a file: exit 2 before any work, one line, no stack", () => {
    const dir = freshDir("out-file");
    const file = path.join(dir, "results.txt");
    writeFileSync(file, "keep me\n");
    for (const out of [file, path.join(file, "sub")]) {
      for (const extra of [[], ["--list"]]) {
        const r = runRunner([...extra, "--out", out, "--profile", "ci", path.join(fixtures, "passes.ipynb")]);
        assert.equal(r.status, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /^run-notebooks: --out .*results\.txt.*: .*not a folder/m);
        assert.doesNotMatch(r.stderr, /^\s+at |EEXIST|ENOTDIR/m, "no stack, no raw error code");
        assert.doesNotMatch(r.stdout, /starting kernel|cell \d/, "no notebook started");
      }
    }
    assert.equal(readFileSync(file, "utf8"), "keep me\n", "the file is untouched");
  });
});

describe("run-notebooks: executing on the tslab kernel", () => {
  test("a passing notebook: exit 0, executed copy in --out, source untouched", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const outDir = path.join(tempRoot, "pass-out");
    const source = path.join(fixtures, "passes.ipynb");
    const sourceBefore = readFileSync(source, "utf8");
    const r = runRunner(["--out", outDir, "test/fixtures/notebooks/passes.ipynb"], {
      MIRNA_DL_PROFILE: "ci",
      MIRNA_DL_DATA: "test/fixtures",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\[1\/1\] passes\.ipynb … ok \(\d+\.\d s\)/);
    // Before the first cell: the expected time (none known for this notebook yet); no pointer to
    // the ci profile, which this is.
    assert.match(r.stdout, /^expected time on the ci profile:\n {2}passes\.ipynb +unknown *$/m);
    assert.doesNotMatch(r.stdout, /first look/);
    // Progress: kernel start, then each cell with the elapsed time (not a terminal: one line each).
    assert.match(r.stdout, /^\[1\/1\] passes\.ipynb · starting kernel$/m);
    assert.match(r.stdout, /^\[1\/1\] passes\.ipynb · cell 1\/2 · \d+:\d\d$/m);
    assert.match(r.stdout, /^\[1\/1\] passes\.ipynb · cell 2\/2 · \d+:\d\d$/m);
    const printed = streamOutputText(path.join(outDir, "passes.ipynb"));
    assert.match(printed, /runner-fixture-ok/);
    assert.match(printed, /^profile=ci$/m);
    // MIRNA_DL_DATA made absolute against the repo root; cwd = notebook folder.
    assert.ok(printed.includes(`data=${path.join(repoRoot, "test", "fixtures")}\n`), printed);
    assert.ok(printed.includes(`cwd=${fixtures}\n`), printed);
    assert.equal(readFileSync(source, "utf8"), sourceBefore, "the source notebook must not be modified");
    assert.deepEqual(readdirSync(outDir).sort(), ["passes.ipynb", "timings.json"], "only the executed copy and the timings are left in --out");
    const timing = (JSON.parse(readFileSync(path.join(outDir, "timings.json"), "utf8")) as {
      notebooks: Record<string, Record<string, { seconds: number; cells: (number | null)[] }>>;
    }).notebooks["passes.ipynb"]?.ci;
    assert.ok(timing && timing.seconds > 0 && timing.cells.length === 2 && timing.cells.every((c) => c !== null && c >= 0), JSON.stringify(timing));

    // The next run with this profile shows the last run's duration as the estimate.
    const again = runRunner(["--out", outDir, "--profile", "ci", "test/fixtures/notebooks/passes.ipynb"]);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^\[1\/1\] passes\.ipynb · cell 2\/2 · \d+:\d\d · last ci run \d+:\d\d$/m);
    assert.match(again.stdout, /^ {2}passes\.ipynb +\d+(\.\d)? (s|min|h) +last ci run on this machine$/m);
  });

  test("a failing notebook: non-zero exit naming the notebook, the cell and the error", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const outDir = path.join(tempRoot, "fail-out");
    // A later notebook (by name after throws.ipynb) that must not run.
    const later = fixtureAs("passes.ipynb", freshDir("fail-later"), "zz-later.ipynb");
    const r = runRunner(["--out", outDir, later, path.join(fixtures, "throws.ipynb")], { MIRNA_DL_PROFILE: "ci" });
    const all = r.stdout + r.stderr;
    assert.equal(r.status, 1, all);
    assert.match(r.stdout, /\[1\/2\] throws\.ipynb … FAILED/);
    assert.match(r.stderr, /^stopped: 1 later notebook\(s\) not run$/m);
    assert.doesNotMatch(r.stdout, /^\[\d\/2\] zz-later/m, "the first failure stops the run");
    assert.match(r.stderr, /throws\.ipynb failed in code cell 2 of 3/);
    assert.match(r.stderr, /\| throw new Error\("boom-42"\);/, "shows the failing cell's source");
    // The error itself (from the kernel's stderr), not only the cell source.
    assert.match(r.stderr, /^ {2}Error: boom-42$/m);
    assert.ok(!existsSync(path.join(outDir, "throws.ipynb")), "no executed copy after a failure");
    assert.match(readFileSync(path.join(outDir, "throws.ipynb.log"), "utf8"), /CellExecutionError/);
  });

  test("--update copies the executed notebook over its source", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const sourceDir = path.join(tempRoot, "update-src");
    const outDir = path.join(tempRoot, "update-out");
    mkdirSync(sourceDir);
    const source = path.join(sourceDir, "passes.ipynb");
    copyFileSync(path.join(fixtures, "passes.ipynb"), source);
    assert.equal(streamOutputText(source), "", "fixture is committed without outputs");
    const r = runRunner(["--update", "--out", outDir, source], { MIRNA_DL_PROFILE: "full" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /source updated/);
    // The full profile takes hours: the ci profile is pointed at before anything runs.
    assert.match(r.stdout, /^expected time on the full profile:$/m);
    assert.match(r.stdout, /^for a first look in minutes, the small ci profile.*: npm run notebooks -- --profile ci$/m);
    assert.ok(r.stdout.indexOf("--profile ci") < r.stdout.indexOf("starting kernel"), "printed before the kernel starts");
    const updated = streamOutputText(source);
    assert.match(updated, /runner-fixture-ok/);
    assert.match(updated, /^profile=full$/m);
    assert.match(updated, new RegExp(`^cwd=${sourceDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    assert.deepEqual(readdirSync(sourceDir), ["passes.ipynb"], "no temporary files left next to the source");
  });
});

describe("run-notebooks: failures", () => {
  test("a cell that outlasts MIRNA_DL_CELL_TIMEOUT fails the run, naming the cell and the limit; no executed copy", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const outDir = path.join(tempRoot, "timeout-out");
    const started = Date.now();
    const r = runRunner(["--out", outDir, path.join(fixtures, "sleeps.ipynb")], { MIRNA_DL_PROFILE: "ci", MIRNA_DL_CELL_TIMEOUT: "3", MIRNA_DL_HEARTBEAT: "1" });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.ok(Date.now() - started < 60_000, "stopped at the time limit, not after the cell's two minutes");
    assert.match(r.stdout, /\[1\/1\] sleeps\.ipynb … FAILED/);
    // Logs show that a long cell is alive: a heartbeat line with the cell's elapsed time.
    assert.match(r.stdout, /^\[1\/1\] sleeps\.ipynb · cell 2\/3 still running · 0:0[1-9] in this cell · \d+:\d\d in all$/m);
    assert.doesNotMatch(r.stdout, /cell 1\/3 still running/, "no heartbeat for the short first cell");
    assert.match(r.stderr, /^sleeps\.ipynb failed in code cell 2 of 3$/m);
    assert.match(r.stderr, /^ {2}\| await new Promise\(\(resolve\) => setTimeout\(resolve, 120_000\)\);$/m);
    assert.match(r.stderr, /^ {2}the cell did not finish within 3 s \(MIRNA_DL_CELL_TIMEOUT; -1 for no limit\) and was stopped$/m);
    assert.ok(!existsSync(path.join(outDir, "sleeps.ipynb")), "no executed copy");
    assert.match(readFileSync(path.join(outDir, "sleeps.ipynb.log"), "utf8"), /CellTimeoutError/);
  });

  test("nbconvert killed by a signal: reported as such with the running cell, exit 1, no executed copy", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const outDir = path.join(tempRoot, "killed-out");
    // An executed copy of an earlier successful run under the same name must not survive.
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, "kills-nbconvert.ipynb"), "{}");
    const r = runRunner(["--out", outDir, path.join(fixtures, "kills-nbconvert.ipynb")], { MIRNA_DL_PROFILE: "ci" });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[1\/1\] kills-nbconvert\.ipynb … FAILED/);
    assert.match(r.stderr, /^kills-nbconvert\.ipynb failed in code cell 2 of 3$/m);
    assert.match(r.stderr, /^ {2}nbconvert was killed by signal SIGKILL while code cell 2 was running; it was stopped from outside the notebook/m);
    assert.ok(!existsSync(path.join(outDir, "kills-nbconvert.ipynb")), "no executed copy, not even the earlier one");
    assert.deepEqual(readdirSync(outDir).sort(), ["kills-nbconvert.ipynb.log"], "no partial output left in --out");
  });

  test("nbconvert killed while its kernel lives on (holding nbconvert's output): the runner does not hang, reports it, and stops the kernel", async (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const dir = freshDir("orphan");
    const pidFile = path.join(dir, "kernel.pid");
    const started = Date.now();
    const r = await runRunnerAsync(["--out", path.join(dir, "out"), path.join(fixtures, "orphans-kernel.ipynb")], { MIRNA_DL_PROFILE: "ci", MIRNA_DL_TEST_KERNEL_PID_FILE: pidFile }, 240_000);
    const kernel = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0;
    // Whatever the outcome, no kernel is left behind by this test (it would sleep for 10 minutes).
    t.after(() => {
      if (kernel > 1 && isRunning(kernel)) process.kill(kernel, "SIGKILL");
    });
    assert.equal(r.status, 1, `the runner ended with status 1 (null: it hung and was killed after 240 s)\n${r.stdout}${r.stderr}`);
    assert.ok(Date.now() - started < 240_000);
    assert.match(r.stderr, /^ {2}nbconvert was killed by signal SIGKILL while code cell 2 was running;/m);
    assert.ok(kernel > 1, `the kernel wrote its pid to ${pidFile}: ${kernel}`);
    // Stopped by the runner with SIGTERM: gone within a few seconds.
    const deadline = Date.now() + 30_000;
    while (isRunning(kernel) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(!isRunning(kernel), `the orphaned kernel ${kernel} was stopped`);
  });

  test("the runner killed with SIGTERM mid-cell: nbconvert and the kernel are stopped, exit 143, nothing left in --out", async (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const dir = freshDir("runner-killed");
    const outDir = path.join(dir, "out");
    const pidFile = path.join(dir, "kernel.pid");
    const runner = spawn(process.execPath, ["--import", "tsx", runnerScript, "--out", outDir, path.join(fixtures, "runner-killed.ipynb")], {
      cwd: repoRoot,
      env: { ...process.env, MIRNA_DL_PROFILE: "ci", MIRNA_DL_DATA: undefined, MIRNA_DL_TEST_KERNEL_PID_FILE: pidFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    runner.stdout.on("data", (d: Buffer) => (output += d.toString()));
    runner.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => runner.on("exit", (code) => resolve(code)));
    let kernel = 0;
    t.after(() => {
      if (isRunning(runner.pid!)) runner.kill("SIGKILL");
      if (kernel > 1 && isRunning(kernel)) process.kill(kernel, "SIGKILL");
    });
    const deadline = Date.now() + 180_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(existsSync(pidFile), `the kernel started its second cell within 180 s\n${output}`);
    kernel = Number(readFileSync(pidFile, "utf8"));
    runner.kill("SIGTERM");
    const code = await exited;
    assert.equal(code, 143, `128 + SIGTERM\n${output}`);
    assert.match(output, /stopped by SIGTERM: the notebook's kernel and the work it started were stopped/);
    const stopBy = Date.now() + 30_000;
    while (isRunning(kernel) && Date.now() < stopBy) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(!isRunning(kernel), `the kernel ${kernel} was stopped with the runner`);
    assert.deepEqual(readdirSync(outDir).sort(), ["runner-killed.ipynb.log"], "no executed copy and no partial folder in --out");
  });

  test("--update never copies a failed run over its source", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const sourceDir = freshDir("update-fail-src");
    const source = fixtureAs("throws.ipynb", sourceDir, "throws.ipynb");
    const before = readFileSync(source);
    const r = runRunner(["--update", "--out", path.join(tempRoot, "update-fail-out"), source], { MIRNA_DL_PROFILE: "ci" });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /source updated/);
    assert.match(r.stderr, /^--update: .*throws\.ipynb left as it was \(a failed run is never copied over its source\)$/m);
    assert.ok(readFileSync(source).equals(before), "the source is byte for byte what it was");
    assert.deepEqual(readdirSync(sourceDir), ["throws.ipynb"]);
  });

  test("a check cell: passes within the tolerance; a reference moved beyond it fails the run and removes the earlier executed copy", (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    // Under the repository, so that the notebook's `import * as mdl from "mirna-dl"` resolves.
    mkdirSync(path.join(repoRoot, "out"), { recursive: true });
    const dir = mkdtempSync(path.join(repoRoot, "out", "runner-test-checks-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const notebook = fixtureAs("checks.ipynb", dir, "checks.ipynb");
    mkdirSync(path.join(dir, "references"));
    const tableFile = path.join(dir, "references", "checks.json");
    const table = JSON.parse(readFileSync(path.join(fixtures, "references", "checks.json"), "utf8")) as {
      checks: { answer: { ci: { value: number; tolerance: number } } };
    };
    assert.deepEqual(table.checks.answer.ci, { value: 42, tolerance: 0.5 }, "the fixture's reference: 42 ± 0.5 (the notebook measures 6 · 7)");
    const withReference = (value: number) => {
      table.checks.answer.ci.value = value;
      writeFileSync(tableFile, JSON.stringify(table));
    };
    const outDir = path.join(dir, "out");

    withReference(42.4); // moved, but within the tolerance
    const ok = runRunner(["--out", outDir, "--profile", "ci", notebook]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const shown = outputText(path.join(outDir, "checks.ipynb"));
    assert.match(shown, /^checks: 2 checks against .*checks\.json \(profile ci\): all passed$/m);
    assert.match(shown, /^answer +42 +42\.4 +± 0\.5 +yes$/m);
    assert.match(shown, /^after the check$/m);

    withReference(42.6); // moved by more than the tolerance
    const bad = runRunner(["--out", outDir, "--profile", "ci", notebook]);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /\[1\/1\] checks\.ipynb … FAILED/);
    // Cells are counted as code cells (the notebook opens with a markdown cell), in the progress
    // lines and in the failure alike.
    assert.match(ok.stdout, /^\[1\/1\] checks\.ipynb · cell 3\/3 · /m);
    assert.doesNotMatch(ok.stdout, /cell \d\/4/);
    assert.match(bad.stderr, /^checks\.ipynb failed in code cell 2 of 3$/m);
    assert.match(bad.stderr, /ReferenceCheckError: checks: 1 of 2 checks failed against .*checks\.json \(profile ci\):/);
    assert.match(bad.stderr, /- answer: measured 42, expected 42\.6 ± 0\.5/);
    assert.ok(!existsSync(path.join(outDir, "checks.ipynb")), "the executed copy of the passing run is gone: --out holds the latest run's results");
    assert.ok(existsSync(path.join(outDir, "checks.ipynb.log")));
  });
});

describe("run-notebooks: the data the notebooks read, before the first cell", () => {
  test("missing data that cannot be downloaded: exit 2 before any cell, one message with the three ways", async (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const dir = freshDir("nodata");
    const port = await closedPort(); // like no network: the connection is refused
    const manifest = path.join(dir, "manifest.json");
    writeFileSync(
      manifest,
      JSON.stringify({
        sources: [
          {
            name: "test",
            origin: "test",
            files: [
              { path: "premirna/jacordero-deepmir/fixture.txt", bytes: 3, sha256: sha256("abc"), url: `http://127.0.0.1:${port}/fixture.txt` },
              { path: "premirna/jacordero-deepmir/other.txt", bytes: 3, sha256: sha256("def"), url: `http://127.0.0.1:${port}/other.txt` },
            ],
          },
        ],
      }),
    );
    const notebook = fixtureAs("needs-data.ipynb", dir, "cvae_generate.ipynb");
    const outDir = path.join(dir, "out");
    const data = path.join(dir, "data");
    const r = await runRunnerAsync(["--out", outDir, "--manifest", manifest, notebook], { MIRNA_DL_DATA: data, MIRNA_DL_PROFILE: "ci" });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const message = r.stderr.slice(r.stderr.indexOf("run-notebooks: "));
    assert.match(message, new RegExp(`^run-notebooks: the notebooks need data that is not in ${data.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(MIRNA_DL_DATA\\) and could not be fetched; no notebook was run\\.$`, "m"));
    assert.match(message, /^ {2}cvae_generate\.ipynb: 2 of 2 files missing: premirna\/jacordero-deepmir\/fixture\.txt, premirna\/jacordero-deepmir\/other\.txt$/m);
    assert.match(message, /^ {2}why: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED/m);
    assert.match(message, /^ {2}npm run data:fetch {2,}/m);
    assert.match(message, /^ {2}npm run data:fetch -- --from DIR {2,}/m);
    assert.match(message, /^ {2}MIRNA_DL_DATA=DIR npm run notebooks {2,}/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    // Tried once: the second file from the unreachable host is not attempted.
    assert.equal((r.stderr.match(/^data: \[\d\/2\]/gm) ?? []).length, 1, r.stderr);
    assert.doesNotMatch(r.stdout, /starting kernel|cell \d/, "no notebook started");
    assert.ok(!existsSync(outDir), "nothing written to --out");
  });

  test("missing data is fetched from the manifest's URLs (loopback server) before the first cell runs", async (t) => {
    if (!presentOrSkip(t, kernelProblem)) return;
    const dir = freshDir("fetch");
    const served: Record<string, Buffer> = { "/fixture.txt": Buffer.from("fetched-before-run-7\n"), "/extra.bin": Buffer.from("unused") };
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url ?? "");
      const body = served[req.url ?? ""];
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const manifest = path.join(dir, "manifest.json");
    const fixtureBytes = served["/fixture.txt"]!;
    writeFileSync(
      manifest,
      JSON.stringify({
        sources: [
          {
            name: "test",
            origin: "loopback",
            files: [
              { path: "premirna/jacordero-deepmir/fixture.txt", bytes: fixtureBytes.length, sha256: sha256(fixtureBytes), url: `${base}/fixture.txt` },
              // No checksum: an upstream extra no notebook relies on; never fetched before a run.
              { path: "premirna/jacordero-deepmir/extra.bin", bytes: null, sha256: null, url: `${base}/extra.bin` },
              // Not selected by cvae_generate's data.
              { path: "mirbind/unrelated.tsv", bytes: 3, sha256: sha256("xyz"), url: `${base}/unrelated.tsv` },
            ],
          },
        ],
      }),
    );
    const notebook = fixtureAs("needs-data.ipynb", dir, "cvae_generate.ipynb");
    const outDir = path.join(dir, "out");
    const data = path.join(dir, "data");
    const r = await runRunnerAsync(["--out", outDir, "--manifest", manifest, "--profile", "ci", notebook], { MIRNA_DL_DATA: data });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(requests, ["/fixture.txt"], "only the missing file the notebook needs is requested");
    assert.match(r.stderr, /^data: 1 file that cvae_generate\.ipynb needs is not in .*; fetching/m);
    assert.match(r.stderr, /^data: \[1\/1\] premirna\/jacordero-deepmir\/fixture\.txt$/m);
    assert.match(r.stderr, /^fetched premirna\/jacordero-deepmir\/fixture\.txt$/m);
    assert.equal(readFileSync(path.join(data, "premirna", "jacordero-deepmir", "fixture.txt"), "utf8"), "fetched-before-run-7\n");
    // The cell read the fetched file: it was there before the first cell ran.
    assert.match(streamOutputText(path.join(outDir, "cvae_generate.ipynb")), /^fixture data: fetched-before-run-7$/m);
    assert.match(r.stdout, /\[1\/1\] cvae_generate\.ipynb … ok/);

    // Present and checked: the next run fetches nothing.
    const again = await runRunnerAsync(["--out", outDir, "--manifest", manifest, "--profile", "ci", notebook], { MIRNA_DL_DATA: data });
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.deepEqual(requests, ["/fixture.txt"]);
    assert.doesNotMatch(again.stderr, /^data: /m);
  });
});
