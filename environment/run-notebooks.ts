/**
 * Executes notebooks on the tslab kernel registered in this checkout's
 * `.jupyter/` (see environment/setup.sh) and writes the executed copies to an
 * output folder; sources are only overwritten with `--update`.
 *
 *   node --import tsx environment/run-notebooks.ts [--out DIR] [--update] [notebook.ipynb ...]
 *
 * Without notebook arguments: every `notebooks/*.ipynb`, sorted by name.
 * Runs stop at the first failing notebook (later notebooks usually read what
 * earlier ones wrote); a failed notebook leaves `<out>/<name>.ipynb.log` (the
 * full nbconvert output) instead of an executed copy.
 *
 * Environment:
 *   MIRNA_DL_PROFILE       `ci` or `full` (default `full`), passed to notebooks
 *   MIRNA_DL_DATA          data folder, passed on as an absolute path
 *                          (relative paths resolve against the repo root;
 *                          default `<repo>/data`)
 *   MIRNA_DL_CELL_TIMEOUT  seconds a single cell may run (default 1800; -1: no limit)
 *
 * Exit status: 0 all notebooks ran; 1 a notebook failed; 2 bad usage or setup.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const repoRoot = path.resolve(__dirname, "..");
const jupyterPath = path.join(repoRoot, ".jupyter", "share", "jupyter");
const kernelSpecFile = path.join(jupyterPath, "kernels", "tslab", "kernel.json");
const profiles = ["ci", "full"] as const;
type Profile = (typeof profiles)[number];

const usage = `usage: node --import tsx environment/run-notebooks.ts [--out DIR] [--update] [notebook.ipynb ...]
  --out DIR   folder for executed copies (default out/notebooks/ in the repo)
  --update    after a successful run, copy the executed notebook over its source
env: MIRNA_DL_PROFILE=ci|full (default full), MIRNA_DL_DATA (default <repo>/data),
     MIRNA_DL_CELL_TIMEOUT seconds per cell (default 1800, -1 = no limit)`;

/** Bad arguments or environment: reported without a stack, exit status 2. */
class UsageError extends Error {}

interface RunOptions {
  notebooks: string[];
  outDir: string;
  update: boolean;
  profile: Profile;
  dataDir: string;
  cellTimeoutSeconds: number;
}

/** What went wrong in a notebook, condensed from nbconvert's stderr. */
interface NotebookFailure {
  /** 1-based index of the failing code cell (all cells counted), if known. */
  cellNumber?: number;
  cellCount?: number;
  /** Source of the failing cell, if known. */
  cellSource?: string;
  /** Error name and message (e.g. "Error: boom"), without stack frames. */
  error: string;
}

/**
 * nbclient hook (loaded through `--config`): when a cell fails, print its index
 * and the text it wrote to stderr — tslab reports thrown errors only there, the
 * CellExecutionError itself carries no error name or message for tslab.
 */
const cellErrorHookConfig = `
import json, sys

def _mirna_dl_on_cell_error(cell, cell_index, execute_reply):
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            texts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            texts.append("%s: %s" % (output.get("ename", ""), output.get("evalue", "")))
    content = execute_reply.get("content", {}) if execute_reply else {}
    report = {"cell_index": cell_index, "source": cell.get("source", ""), "stderr": "".join(texts),
              "ename": content.get("ename"), "evalue": content.get("evalue")}
    sys.stderr.write("\\n${failureMarker()}" + json.dumps(report) + "\\n")
    sys.stderr.flush()

c.ExecutePreprocessor.on_cell_error = _mirna_dl_on_cell_error
`;

function failureMarker(): string {
  return "MIRNA-DL-CELL-ERROR ";
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): RunOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        update: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
  if (parsed.values.help) return "help";

  const profile = env.MIRNA_DL_PROFILE ?? "full";
  if (!(profiles as readonly string[]).includes(profile)) {
    throw new UsageError(`MIRNA_DL_PROFILE must be one of ${profiles.join(", ")}; got "${profile}"`);
  }
  const timeoutText = env.MIRNA_DL_CELL_TIMEOUT ?? "1800";
  const cellTimeoutSeconds = Number(timeoutText);
  if (!/^(-1|[1-9][0-9]*)$/.test(timeoutText.trim())) {
    throw new UsageError(`MIRNA_DL_CELL_TIMEOUT must be a whole number of seconds > 0 (or -1 for no limit); got "${timeoutText}"`);
  }
  const dataDir = path.resolve(repoRoot, env.MIRNA_DL_DATA || "data");
  const outDir = path.resolve(parsed.values.out ?? path.join(repoRoot, "out", "notebooks"));

  let notebooks: string[];
  if (parsed.positionals.length > 0) {
    notebooks = parsed.positionals.map((p) => path.resolve(p));
    for (const nb of notebooks) {
      if (!nb.endsWith(".ipynb")) throw new UsageError(`${nb}: not a notebook (expected a .ipynb file)`);
      if (!existsSync(nb) || !statSync(nb).isFile()) throw new UsageError(`${nb}: no such notebook`);
    }
  } else {
    const folder = path.join(repoRoot, "notebooks");
    notebooks = existsSync(folder)
      ? readdirSync(folder)
          .filter((f) => f.endsWith(".ipynb"))
          .sort()
          .map((f) => path.join(folder, f))
      : [];
  }
  const byName = new Map<string, string>();
  for (const nb of notebooks) {
    const other = byName.get(path.basename(nb));
    if (other !== undefined) {
      throw new UsageError(`${nb} and ${other} would both be written to ${path.join(outDir, path.basename(nb))}; run them separately`);
    }
    byName.set(path.basename(nb), nb);
  }
  return { notebooks, outDir, update: parsed.values.update, profile: profile as Profile, dataDir, cellTimeoutSeconds };
}

/** Fails with a setup hint unless jupyter and this checkout's tslab kernel are there. */
function checkKernel(): void {
  if (!existsSync(kernelSpecFile)) {
    throw new UsageError(`tslab kernel not registered (${kernelSpecFile} missing); run: bash environment/setup.sh`);
  }
  const argv0 = (JSON.parse(readFileSync(kernelSpecFile, "utf8")) as { argv?: string[] }).argv?.[0];
  const ownTslab = path.join(repoRoot, "node_modules", ".bin", "tslab");
  if (argv0 !== ownTslab) {
    throw new UsageError(`${kernelSpecFile} runs ${argv0}, not this checkout's ${ownTslab}; run: bash environment/setup.sh`);
  }
}

/** Writes `data` to `file` through a temporary file in the same folder and a rename. */
function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runProcess(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new UsageError(`'${command}' not found on PATH; run: bash environment/setup.sh`) : e),
    );
    child.on("close", (exitCode, signal) => resolve({ exitCode, signal, output: Buffer.concat(chunks).toString("utf8") }));
  });
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * Error text without stack frames ("    at ...") and without the code excerpt
 * Node prints above an uncaught error ("evalmachine.<anonymous>:3", the line,
 * a caret line); at most `maxLines` lines.
 */
function conciseError(text: string, maxLines = 8): string {
  const lines = stripAnsi(text)
    .replace(/^evalmachine\.<anonymous>:\d+\n.*\n\s*\^+\s*\n/gm, "")
    .split("\n")
    .filter((l) => !/^\s+at /.test(l) && l.trim() !== "");
  return lines.slice(0, maxLines).join("\n") + (lines.length > maxLines ? "\n…" : "");
}

/** Condenses nbconvert's output after a failed run (see cellErrorHookConfig). */
function describeFailure(output: string, notebookFile: string): NotebookFailure {
  let cellSources: string[] | undefined;
  try {
    const nb = JSON.parse(readFileSync(notebookFile, "utf8")) as { cells: { source: string | string[] }[] };
    cellSources = nb.cells.map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
  } catch {
    cellSources = undefined;
  }
  const cellCount = cellSources?.length;
  const markerLine = output.split("\n").find((l) => l.startsWith(failureMarker()));
  if (markerLine !== undefined) {
    const report = JSON.parse(markerLine.slice(failureMarker().length)) as {
      cell_index: number;
      source: string;
      stderr: string;
      ename: string | null;
      evalue: string | null;
    };
    const fromReply = report.ename ? `${report.ename}: ${report.evalue ?? ""}` : "";
    return {
      cellNumber: report.cell_index + 1,
      cellCount,
      cellSource: report.source,
      error: conciseError(report.stderr) || fromReply || "(the kernel reported an error without a message)",
    };
  }
  // No hook report: timeout, dead kernel, unreadable notebook, ... Show the
  // last Python exception (up to the cell preview that may follow it).
  const text = stripAnsi(output);
  const lines = text.split("\n");
  const lastException = lines.findLastIndex((l) => /^[\w.]+(Error|Exception|Interrupt)\b/.test(l));
  let errorLines = lines.slice(-10);
  if (lastException >= 0) {
    errorLines = lines.slice(lastException, lastException + 4);
    const cut = errorLines.findIndex((l) => /^-{5,}$/.test(l) || /preview of the cell contents/.test(l));
    if (cut > 0) errorLines = errorLines.slice(0, cut);
  }
  const sourceMatch = /(?:executing the following cell|preview of the cell contents):\n-{5,}\n([\s\S]*?)\n-{5,}\n/.exec(text);
  const cellSource = sourceMatch?.[1];
  let cellNumber: number | undefined;
  if (cellSource !== undefined && cellSources !== undefined) {
    const index = cellSources.findIndex((s) => cellSource.trim() !== "" && s.startsWith(cellSource.trim()));
    if (index >= 0) cellNumber = index + 1;
  }
  return { cellNumber, cellCount, cellSource, error: errorLines.join("\n").trim() };
}

function formatFailure(name: string, failure: NotebookFailure, logFile: string): string {
  const where =
    failure.cellNumber !== undefined ? ` in cell ${failure.cellNumber}${failure.cellCount ? ` of ${failure.cellCount}` : ""}` : "";
  const parts = [`${name} failed${where}`];
  if (failure.cellSource !== undefined) {
    const src = failure.cellSource.split("\n");
    const shown = src.slice(0, 6).map((l) => `  | ${l}`);
    if (src.length > 6) shown.push(`  | … (${src.length - 6} more lines)`);
    parts.push("cell:", ...shown);
  }
  parts.push("error:", ...failure.error.split("\n").map((l) => `  ${l}`));
  parts.push(`full nbconvert log: ${logFile}`);
  return parts.join("\n");
}

async function runAll(opts: RunOptions): Promise<number> {
  if (opts.notebooks.length === 0) {
    console.log(`no notebooks in ${path.join(repoRoot, "notebooks")}; nothing to run`);
    return 0;
  }
  checkKernel();
  mkdirSync(opts.outDir, { recursive: true });
  const configDir = mkdtempSync(path.join(tmpdir(), "mirna-dl-nbconvert-"));
  const configFile = path.join(configDir, "mirna_dl_nbconvert_config.py");
  writeFileSync(configFile, cellErrorHookConfig);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    MIRNA_DL_PROFILE: opts.profile,
    MIRNA_DL_DATA: opts.dataDir,
  };
  console.log(`profile ${opts.profile}, data ${opts.dataDir}, output ${opts.outDir}`);
  try {
    for (const [i, notebook] of opts.notebooks.entries()) {
      const name = path.basename(notebook);
      process.stdout.write(`[${i + 1}/${opts.notebooks.length}] ${name} … `);
      const started = process.hrtime.bigint();
      const partialDir = mkdtempSync(path.join(opts.outDir, ".running-"));
      let result: ProcessResult;
      try {
        result = await runProcess(
          "jupyter",
          [
            "nbconvert",
            `--config=${configFile}`,
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.kernel_name=tslab",
            `--ExecutePreprocessor.timeout=${opts.cellTimeoutSeconds}`,
            `--output-dir=${partialDir}`,
            `--output=${name}`,
            notebook,
          ],
          path.dirname(notebook),
          env,
        );
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const executed = path.join(partialDir, name);
        // Output folder = results of the latest run: no stale copy or log.
        const logFile = path.join(opts.outDir, `${name}.log`);
        rmSync(logFile, { force: true });
        if (result.exitCode !== 0 || !existsSync(executed)) {
          process.stdout.write(`FAILED (${seconds.toFixed(1)} s)\n`);
          rmSync(path.join(opts.outDir, name), { force: true });
          writeFileAtomic(logFile, result.output);
          const failure = describeFailure(result.output, notebook);
          if (result.signal) failure.error = `nbconvert was killed by ${result.signal}\n${failure.error}`;
          console.error(formatFailure(name, failure, logFile));
          const notRun = opts.notebooks.length - i - 1;
          if (notRun > 0) console.error(`stopped: ${notRun} later notebook(s) not run`);
          return 1;
        }
        renameSync(executed, path.join(opts.outDir, name));
        if (opts.update) writeFileAtomic(notebook, readFileSync(path.join(opts.outDir, name)));
        process.stdout.write(`ok (${seconds.toFixed(1)} s)${opts.update ? ", source updated" : ""}\n`);
      } finally {
        rmSync(partialDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
  return 0;
}

async function main(): Promise<number> {
  try {
    const opts = parseOptions(process.argv.slice(2), process.env);
    if (opts === "help") {
      console.log(usage);
      return 0;
    }
    return await runAll(opts);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`run-notebooks: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
