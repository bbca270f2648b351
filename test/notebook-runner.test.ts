/**
 * environment/run-notebooks.ts against the fixture notebooks in
 * test/fixtures/notebooks/ (passes.ipynb, throws.ipynb), on the real tslab
 * kernel through `jupyter nbconvert`. Each kernel run takes a few seconds.
 *
 * The kernel tests need jupyter on PATH and the tslab kernel registered in
 * this checkout's .jupyter/ (bash environment/setup.sh). Without them they
 * are skipped, or fail when MIRNA_DL_REQUIRE_DATA=1 (CI).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test, type TestContext } from "node:test";

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

/** True when kernel tests can run; otherwise skips `t`, or fails it in CI. */
function kernelAvailable(t: TestContext): boolean {
  if (kernelProblem === undefined) return true;
  if (process.env.MIRNA_DL_REQUIRE_DATA === "1") assert.fail(`MIRNA_DL_REQUIRE_DATA=1 but ${kernelProblem}`);
  t.skip(kernelProblem);
  return false;
}

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

  test("a missing notebook is named in the error", () => {
    const r = runRunner(["test/fixtures/notebooks/no-such.ipynb"]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /no-such\.ipynb: no such notebook/);
  });
});

describe("run-notebooks: executing on the tslab kernel", () => {
  test("a passing notebook: exit 0, executed copy in --out, source untouched", (t) => {
    if (!kernelAvailable(t)) return;
    const outDir = path.join(tempRoot, "pass-out");
    const source = path.join(fixtures, "passes.ipynb");
    const sourceBefore = readFileSync(source, "utf8");
    const r = runRunner(["--out", outDir, "test/fixtures/notebooks/passes.ipynb"], {
      MIRNA_DL_PROFILE: "ci",
      MIRNA_DL_DATA: "test/fixtures",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\[1\/1\] passes\.ipynb … ok \(\d+\.\d s\)/);
    const printed = streamOutputText(path.join(outDir, "passes.ipynb"));
    assert.match(printed, /runner-fixture-ok/);
    assert.match(printed, /^profile=ci$/m);
    // MIRNA_DL_DATA made absolute against the repo root; cwd = notebook folder.
    assert.ok(printed.includes(`data=${path.join(repoRoot, "test", "fixtures")}\n`), printed);
    assert.ok(printed.includes(`cwd=${fixtures}\n`), printed);
    assert.equal(readFileSync(source, "utf8"), sourceBefore, "the source notebook must not be modified");
    assert.deepEqual(readdirSync(outDir), ["passes.ipynb"], "only the executed copy is left in --out");
  });

  test("a failing notebook: non-zero exit naming the notebook, the cell and the error", (t) => {
    if (!kernelAvailable(t)) return;
    const outDir = path.join(tempRoot, "fail-out");
    const r = runRunner(["--out", outDir, path.join(fixtures, "throws.ipynb")], { MIRNA_DL_PROFILE: "ci" });
    const all = r.stdout + r.stderr;
    assert.notEqual(r.status, 0, all);
    assert.match(r.stdout, /\[1\/1\] throws\.ipynb … FAILED/);
    assert.match(r.stderr, /throws\.ipynb failed in cell 2 of 3/);
    assert.match(r.stderr, /\| throw new Error\("boom-42"\);/, "shows the failing cell's source");
    // The error itself (from the kernel's stderr), not only the cell source.
    assert.match(r.stderr, /^ {2}Error: boom-42$/m);
    assert.ok(!existsSync(path.join(outDir, "throws.ipynb")), "no executed copy after a failure");
    assert.match(readFileSync(path.join(outDir, "throws.ipynb.log"), "utf8"), /CellExecutionError/);
  });

  test("--update copies the executed notebook over its source", (t) => {
    if (!kernelAvailable(t)) return;
    const sourceDir = path.join(tempRoot, "update-src");
    const outDir = path.join(tempRoot, "update-out");
    mkdirSync(sourceDir);
    const source = path.join(sourceDir, "passes.ipynb");
    copyFileSync(path.join(fixtures, "passes.ipynb"), source);
    assert.equal(streamOutputText(source), "", "fixture is committed without outputs");
    const r = runRunner(["--update", "--out", outDir, source], { MIRNA_DL_PROFILE: "full" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /source updated/);
    const updated = streamOutputText(source);
    assert.match(updated, /runner-fixture-ok/);
    assert.match(updated, /^profile=full$/m);
    assert.match(updated, new RegExp(`^cwd=${sourceDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    assert.deepEqual(readdirSync(sourceDir), ["passes.ipynb"], "no temporary files left next to the source");
  });
});
