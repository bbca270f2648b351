/**
 * Executes notebooks on the tslab kernel registered in this checkout's
 * `.jupyter/` (see environment/setup.sh) and writes the executed copies to an
 * output folder; sources are only overwritten with `--update`.
 *
 *   node --import tsx environment/run-notebooks.ts [options] [notebook.ipynb ...]
 *
 * Without notebook arguments: the notebooks of `notebooks/`, in the order of
 * NOTEBOOKS in environment/notebook-data.ts (preprocess, model_train_lock,
 * interpret, cvae_generate; missing ones are skipped, others follow by name).
 * Notebook arguments run in that order too.
 *
 * Before the first cell runs, the data the selected notebooks read (NOTEBOOKS)
 * is checked in the data folder and what is missing is fetched as
 * `npm run data:fetch` does; when that fails, nothing runs and one message says
 * what is missing and how to provide it (exit status 2).
 *
 * Runs stop at the first failing notebook (later notebooks read what earlier
 * ones wrote); a failed notebook leaves `<out>/<name>.ipynb.log` (the full
 * nbconvert output) instead of an executed copy, and the executed copy of an
 * earlier run of it is removed. Failures name the notebook and the cell: an
 * error in a cell (including a failed check cell, lib/src/checks.ts), a cell
 * that outlasts MIRNA_DL_CELL_TIMEOUT, or nbconvert killed by a signal (the
 * cell that was running). `--update` copies only successful runs. Before the
 * first cell: the expected time of each notebook and in total (its last
 * successful run with the same profile, kept in `<out>/timings.json`, else the
 * committed table environment/run-times.json). Progress: notebook k/n, code
 * cell i/m, elapsed time, the last run's duration; in logs (not a terminal) a
 * line per code cell and a heartbeat line every MIRNA_DL_HEARTBEAT seconds
 * while a cell runs.
 *
 * Environment:
 *   MIRNA_DL_PROFILE       `ci` or `full` (default `full`; --profile overrides), passed to notebooks
 *   MIRNA_DL_DATA          data folder, passed on as an absolute path
 *                          (relative paths resolve against the repo root;
 *                          default `<repo>/data`)
 *   MIRNA_DL_CELL_TIMEOUT  seconds a single cell may run (default 1800; -1: no limit)
 *   MIRNA_DL_HEARTBEAT     seconds between "still running" lines in logs (default 30)
 *
 * Exit status: 0 all notebooks ran; 1 a notebook failed; 2 bad usage, set-up or missing data.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import path from "node:path";
import { checkKernel, jupyterPath, type Profile, repoRoot, resolveDataDir, resolveProfile, runScript, UsageError } from "./common";
import { dataSelectors, dataStatus, ensureData, NOTEBOOKS, notebookName, runOrder } from "./notebook-data";
import { DEFAULT_MANIFEST } from "../lib/src/data/fetch";
import { flag, option, optionsTable, parseCommandLine, repeatedOption, UsageError as CommandLineError } from "../lib/src/cli/args";

/** The runner's options, declared as every mirna-dl command declares its own (lib/src/cli/args.ts). */
const RUNNER_OPTIONS = {
  // Any text: an empty selection gets its own message below.
  only: repeatedOption({ arg: "NAME", parse: (raw) => raw, help: "run only this notebook of notebooks/ (or of the arguments); NAME with or\nwithout .ipynb; a comma list works too (--only preprocess,cvae_generate)" }),
  profile: option({ arg: "P", help: "ci (small, fast runs) or full (the real analysis); overrides MIRNA_DL_PROFILE" }),
  out: option({ arg: "DIR", help: "folder for executed copies, logs and timings.json (default out/notebooks/)" }),
  update: flag("after a successful run, copy the executed notebook over its source"),
  list: flag("show the notebooks that would run, in order, and the state of their data; run nothing"),
  manifest: option({ arg: "FILE", help: "data manifest to check and fetch with (default data/manifest.json)" }),
};

const usage = `usage: npm run notebooks [-- options] [notebook.ipynb ...]
       node --import tsx environment/run-notebooks.ts [options] [notebook.ipynb ...]
${optionsTable(RUNNER_OPTIONS)}
Order: ${NOTEBOOKS.map((n) => n.name).join(", ")} (those present), then any other by name.
Missing data is fetched before the first cell runs (as npm run data:fetch does).
Before the first cell it prints the expected time of each notebook: its last run on this machine
(<out>/timings.json), else environment/run-times.json. The full profile takes hours; the ci
profile (--profile ci) minutes.
env: MIRNA_DL_PROFILE=ci|full (default full), MIRNA_DL_DATA (default <repo>/data),
     MIRNA_DL_CELL_TIMEOUT seconds per cell (default 1800, -1 = no limit),
     MIRNA_DL_HEARTBEAT seconds between "still running" lines when output is not a terminal (default 30)`;

interface RunOptions {
  notebooks: string[];
  /** Known notebooks that are not in the folder (reported, not an error). */
  absent: string[];
  outDir: string;
  update: boolean;
  list: boolean;
  profile: Profile;
  dataDir: string;
  manifestFile: string;
  cellTimeoutSeconds: number;
  /** Seconds between "still running" lines in logs (MIRNA_DL_HEARTBEAT). */
  heartbeatSeconds: number;
}

/** What went wrong in a notebook, condensed from nbconvert's stderr. */
interface NotebookFailure {
  /** 1-based ordinal of the failing cell among the code cells, if known. */
  cellNumber?: number;
  /** Number of code cells. */
  cellCount?: number;
  /** Source of the failing cell, if known. */
  cellSource?: string;
  /** Error name and message (e.g. "Error: boom"), without stack frames. */
  error: string;
}

const failureMarker = "MIRNA-DL-CELL-ERROR ";
const cellStartMarker = "MIRNA-DL-CELL-START ";
const cellDoneMarker = "MIRNA-DL-CELL-DONE ";

/**
 * nbclient hooks (loaded through `--config`). nbconvert reports no progress by itself: these
 * print a line when a code cell starts and when it has finished, which the runner turns into
 * its progress display. When a cell fails, the error hook prints its index and the text it wrote
 * to stderr — tslab reports thrown errors only there, the CellExecutionError itself carries no
 * error name or message for tslab.
 */
const nbconvertConfig = `
import json, sys

def _mirna_dl_on_cell_execute(cell, cell_index):
    sys.stderr.write("\\n${cellStartMarker}%d\\n" % cell_index)
    sys.stderr.flush()

def _mirna_dl_on_cell_executed(cell, cell_index, execute_reply):
    sys.stderr.write("\\n${cellDoneMarker}%d\\n" % cell_index)
    sys.stderr.flush()

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
    sys.stderr.write("\\n${failureMarker}" + json.dumps(report) + "\\n")
    sys.stderr.flush()

c.ExecutePreprocessor.on_cell_execute = _mirna_dl_on_cell_execute
c.ExecutePreprocessor.on_cell_executed = _mirna_dl_on_cell_executed
c.ExecutePreprocessor.on_cell_error = _mirna_dl_on_cell_error
`;

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): RunOptions | "help" {
  let parsed;
  try {
    parsed = parseCommandLine(argv, RUNNER_OPTIONS, { prog: "run-notebooks", help: usage, positionals: true });
  } catch (e) {
    if (e instanceof CommandLineError) throw new UsageError(`${e.message}\n${usage}`);
    throw e;
  }
  if (parsed === null) return "help";

  const profile = resolveProfile(parsed.values.profile, env);
  const timeoutText = env.MIRNA_DL_CELL_TIMEOUT ?? "1800";
  const cellTimeoutSeconds = Number(timeoutText);
  if (!/^(-1|[1-9][0-9]*)$/.test(timeoutText.trim())) {
    throw new UsageError(`MIRNA_DL_CELL_TIMEOUT must be a whole number of seconds > 0 (or -1 for no limit); got "${timeoutText}"`);
  }
  const dataDir = resolveDataDir(env);
  const outDir = path.resolve(parsed.values.out ?? path.join(repoRoot, "out", "notebooks"));
  checkOutDir(outDir);
  const manifestFile = path.resolve(parsed.values.manifest ?? DEFAULT_MANIFEST);
  if (!existsSync(manifestFile)) throw new UsageError(`--manifest ${manifestFile}: no such file`);

  let notebooks: string[];
  let absent: string[] = [];
  const folder = path.join(repoRoot, "notebooks");
  if (parsed.positionals.length > 0) {
    notebooks = parsed.positionals.map((p) => path.resolve(p));
    for (const nb of notebooks) {
      if (!nb.endsWith(".ipynb")) throw new UsageError(`${nb}: not a notebook (expected a .ipynb file)`);
      if (!existsSync(nb) || !statSync(nb).isFile()) throw new UsageError(`${nb}: no such notebook`);
    }
  } else {
    notebooks = existsSync(folder)
      ? readdirSync(folder)
          .filter((f) => f.endsWith(".ipynb"))
          .map((f) => path.join(folder, f))
      : [];
    const names = new Set(notebooks.map(notebookName));
    absent = NOTEBOOKS.map((n) => n.name).filter((n) => !names.has(n));
  }
  const onlyNames = (value: string) => value.split(",").map((o) => o.trim().replace(/\.ipynb$/, "")).filter((o) => o !== "");
  // An empty selection is a mistake (an unset shell variable, a stray comma), not "everything":
  // on the full profile "everything" is hours of work.
  const emptyOnly = parsed.values.only.find((o) => onlyNames(o).length === 0);
  if (emptyOnly !== undefined) {
    throw new UsageError(`--only ${JSON.stringify(emptyOnly)} names no notebook; give one or more names (--only preprocess,cvae_generate), or leave --only out to run every notebook`);
  }
  const only = parsed.values.only.flatMap(onlyNames);
  if (only.length > 0) {
    const available = notebooks.map(notebookName);
    for (const name of only) {
      if (!available.includes(name)) {
        const where = parsed.positionals.length > 0 ? "the notebook arguments" : path.relative(repoRoot, folder) + "/";
        throw new UsageError(`--only ${name}: no such notebook in ${where} (there: ${available.join(", ") || "none"})`);
      }
    }
    notebooks = notebooks.filter((nb) => only.includes(notebookName(nb)));
    absent = [];
  }
  const byName = new Map<string, string>();
  for (const nb of notebooks) {
    const other = byName.get(path.basename(nb));
    if (other !== undefined) {
      throw new UsageError(`${nb} and ${other} would both be written to ${path.join(outDir, path.basename(nb))}; run them separately`);
    }
    byName.set(path.basename(nb), nb);
  }
  return {
    notebooks: runOrder(notebooks),
    absent,
    outDir,
    update: parsed.values.update,
    list: parsed.values.list,
    profile,
    dataDir,
    manifestFile,
    cellTimeoutSeconds,
    heartbeatSeconds: heartbeatSeconds(env),
  };
}

/**
 * Refuses, before any work, an output folder that cannot be one: a path that exists and is not a
 * folder, or lies under something that is not a folder. A folder that does not exist yet is fine
 * (it is created when the first notebook runs).
 */
function checkOutDir(outDir: string): void {
  for (let p = outDir; ; ) {
    let isFolder: boolean;
    try {
      isFolder = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw new UsageError(`--out ${outDir}: cannot use it (${(e as Error).message})`);
      const parent = path.dirname(p);
      if (parent === p) return;
      p = parent;
      continue;
    }
    if (isFolder) return;
    throw new UsageError(p === outDir ? `--out ${outDir}: exists and is not a folder` : `--out ${outDir}: ${p} is not a folder`);
  }
}

/** Creates the output folder; a failure (permissions, a file raced into its place) is one message. */
function makeOutDir(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--out ${outDir}: cannot create the folder (${(e as Error).message})`);
  }
}

/** Writes `data` to `file` through a temporary file in the same folder and a rename. */
function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

// ---------------------------------------------------------------------------------------------
// Timings of earlier runs: <out>/timings.json

interface NotebookTiming {
  /** Wall time of the whole run (kernel start included), seconds. */
  seconds: number;
  /** Seconds per cell index (null: not executed, e.g. markdown). */
  cells: (number | null)[];
  finished: string;
}

/** notebook file name → profile → timing of its last successful run. */
type Timings = Record<string, Partial<Record<Profile, NotebookTiming>>>;

function readTimings(file: string): Timings {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { notebooks?: Timings };
    return parsed.notebooks ?? {};
  } catch {
    return {}; // none yet, or unreadable: no estimates
  }
}

function writeTimings(file: string, timings: Timings): void {
  writeFileAtomic(file, JSON.stringify({ note: "durations of the last successful run of each notebook, per profile (npm run notebooks)", notebooks: timings }, null, 1) + "\n");
}

/** 75 s → "1:15", 3725 s → "1:02:05". */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A duration as a person plans with it: 23 s → "23 s", 2220 s → "37 min", 9000 s → "2.5 h". */
function roughDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// ---------------------------------------------------------------------------------------------
// Expected run times: this machine's last run, else the committed table

/** The committed run times (environment/run-times.json): measured runs, as in the README's table. */
const runTimesFile = path.join(repoRoot, "environment", "run-times.json");

interface RunTimesTable {
  /** Where and under what load the times were measured. */
  measured: string;
  /** Notebook name (no .ipynb) → profile → seconds of a run from scratch. */
  seconds: Record<string, Partial<Record<Profile, number>>>;
}

function readRunTimes(file: string = runTimesFile): RunTimesTable {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunTimesTable;
  } catch {
    return { measured: "", seconds: {} }; // no table: estimates come from earlier runs only
  }
}

interface Estimate {
  seconds: number;
  source: "last run" | "table";
}

/** What a notebook is expected to take on `profile`: its last run here, else the table, else undefined. */
function estimate(notebook: string, profile: Profile, timings: Timings, table: RunTimesTable): Estimate | undefined {
  const last = timings[path.basename(notebook)]?.[profile];
  if (last) return { seconds: last.seconds, source: "last run" };
  const fromTable = table.seconds[notebookName(notebook)]?.[profile];
  return fromTable !== undefined ? { seconds: fromTable, source: "table" } : undefined;
}

/**
 * The lines printed before the first cell: the expected time per notebook and in total and, on the
 * full profile, the pointer to the ci profile for a first look.
 */
function estimateLines(notebooks: readonly string[], profile: Profile, timings: Timings, table: RunTimesTable): string[] {
  const rows = notebooks.map((nb) => ({ name: path.basename(nb), est: estimate(nb, profile, timings, table) }));
  const width = Math.max(...rows.map((r) => r.name.length), "total".length) + 2;
  const lines = [`expected time on the ${profile} profile:`];
  for (const { name, est } of rows) {
    const from = est === undefined ? "" : est.source === "last run" ? `last ${profile} run on this machine` : "environment/run-times.json (README's table)";
    lines.push(`  ${name.padEnd(width)}${(est ? roughDuration(est.seconds) : "unknown").padEnd(9)}${from}`);
  }
  const known = rows.filter((r) => r.est !== undefined);
  const unknown = rows.length - known.length;
  if (rows.length > 1) {
    const total = known.reduce((sum, r) => sum + r.est!.seconds, 0);
    lines.push(`  ${"total".padEnd(width)}${known.length > 0 ? roughDuration(total) : "unknown"}${unknown > 0 && known.length > 0 ? ` + ${unknown} notebook${unknown === 1 ? "" : "s"} of unknown duration` : ""}`);
  }
  if (known.some((r) => r.est!.source === "table") && table.measured) lines.push(`  (the table: ${table.measured})`);
  if (profile === "full") {
    const ci = notebooks.map((nb) => estimate(nb, "ci", timings, table));
    const ciTotal = ci.every((e) => e !== undefined) ? ` (about ${roughDuration(ci.reduce((sum, e) => sum + e!.seconds, 0))})` : "";
    lines.push(`for a first look in minutes, the small ci profile${ciTotal}: npm run notebooks -- --profile ci`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Progress

/** Seconds between "still running" lines in logs (MIRNA_DL_HEARTBEAT, default 30). */
function heartbeatSeconds(env: NodeJS.ProcessEnv): number {
  const text = env.MIRNA_DL_HEARTBEAT ?? "30";
  if (!/^[1-9][0-9]*$/.test(text.trim())) throw new UsageError(`MIRNA_DL_HEARTBEAT must be a whole number of seconds > 0; got "${text}"`);
  return Number(text);
}

/**
 * Progress of one notebook; cells are counted as code cells ("cell 3/15": the third of 15 code
 * cells). On a terminal: one line rewritten every second. Otherwise (CI logs, tests): a line when
 * the kernel starts, one when each code cell starts, and a heartbeat line every `heartbeat`
 * seconds while a cell runs, with the cell's elapsed time (so a log shows a long cell is alive).
 */
class Progress {
  private readonly tty = Boolean(process.stdout.isTTY);
  private readonly started = Date.now();
  /** Ordinal (1-based) of the running code cell, and when it started. */
  private cell: { ordinal: number; started: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prefix: string,
    /** Indices (among all cells) of the code cells. */
    private readonly codeCells: readonly number[],
    private readonly last: NotebookTiming | undefined,
    private readonly profile: Profile,
    private readonly heartbeat: number,
  ) {
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.draw();
    } else {
      process.stdout.write(`${this.prefix} · starting kernel${this.estimate()}\n`);
    }
  }

  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  private estimate(): string {
    return this.last ? ` · last ${this.profile} run ${clock(this.last.seconds)}` : "";
  }

  private text(): string {
    if (this.cell === undefined) return `${this.prefix} · starting kernel · ${clock(this.elapsed())}${this.estimate()}`;
    const inCell = this.tty ? ` (this cell ${clock((Date.now() - this.cell.started) / 1000)})` : "";
    return `${this.prefix} · cell ${this.cell.ordinal}/${this.codeCells.length} · ${clock(this.elapsed())}${inCell}${this.estimate()}`;
  }

  private draw(): void {
    process.stdout.write(`\r\x1b[K${this.text()}`);
  }

  /** A cell (index among all cells) started. */
  cellStarted(index: number): void {
    const ordinal = this.codeCells.indexOf(index) + 1 || index + 1; // not a code cell: cannot happen, keep the index
    this.cell = { ordinal, started: Date.now() };
    if (this.tty) return this.draw();
    process.stdout.write(`${this.text()}\n`);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const cell = this.cell;
    this.heartbeatTimer = setInterval(() => {
      process.stdout.write(`${this.prefix} · cell ${cell.ordinal}/${this.codeCells.length} still running · ${clock((Date.now() - cell.started) / 1000)} in this cell · ${clock(this.elapsed())} in all\n`);
    }, this.heartbeat * 1000);
  }

  /** The running cell finished. */
  cellFinished(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Ends the display with the notebook's result line. */
  finish(line: string): void {
    if (this.timer) clearInterval(this.timer);
    this.cellFinished();
    process.stdout.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running nbconvert

interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, without the progress marker lines. */
  output: string;
}

/** A process as /proc shows it: its parent and its start time (to tell a reused PID apart). */
interface ProcessId {
  pid: number;
  started: string;
}

/** `pid`'s parent and start time (Linux /proc), or undefined when it is gone. */
function procStat(pid: number): { ppid: number; started: string } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = fields.slice(fields.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(rest[1]), started: rest[19]! };
  } catch {
    return undefined;
  }
}

/** The live children of `pid` (Linux /proc; none elsewhere). */
function childrenOf(pid: number): ProcessId[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    if (!/^\d+$/.test(e)) return [];
    const stat = procStat(Number(e));
    return stat?.ppid === pid ? [{ pid: Number(e), started: stat.started }] : [];
  });
}

/** Signals to this runner that stop the notebook running (see {@link runProcess}). */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The signal that stopped this runner, if one did: no later notebook starts, and the exit code says it. */
let stoppedBy: NodeJS.Signals | undefined;

/**
 * Runs a command; `onLine` sees each progress marker line of its stderr as it comes (they are left
 * out of `output`). The result comes when the command has exited and its output is read — or, at
 * most 2 s after it exited, when a process it started still holds its output open: nbconvert
 * killed from outside leaves its kernel running, and the kernel inherited nbconvert's stdout and
 * stderr (waiting for them to close would wait forever). Such a kernel, a child of nbconvert seen
 * while it ran, is stopped with SIGTERM once nbconvert is gone.
 */
function runProcess(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: string[] = [];
    let pending = "";
    /** nbconvert's children (its kernel), noted at each progress line. */
    const started = new Map<number, string>();
    const noteChildren = () => {
      if (child.pid !== undefined) for (const c of childrenOf(child.pid)) started.set(c.pid, c.started);
    };
    child.stdout.on("data", (c: Buffer) => chunks.push(c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => {
      pending += c.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith(cellStartMarker) || line.startsWith(cellDoneMarker)) {
          noteChildren();
          onLine(line);
        } else chunks.push(line + "\n");
      }
    });
    // A kill of this runner (SIGTERM, SIGHUP; SIGINT when it is not the terminal's) goes on to
    // nbconvert; its kernel is then stopped as an orphan below, and the kernel's training workers
    // stop with it. Without this the kernel and its workers ran on for hours after the runner.
    const forward = (signal: NodeJS.Signals) => {
      stoppedBy = signal;
      child.kill("SIGTERM");
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new UsageError(`'${command}' not found on PATH; run: bash environment/setup.sh`) : e),
    );
    let done = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      if (pending !== "") chunks.push(pending);
      resolve({ exitCode, signal, output: chunks.join("").replace(/\n{3,}/g, "\n\n") });
    };
    child.on("exit", (exitCode, signal) => {
      // Orphaned children (re-parented, same start time): the kernel of a killed nbconvert.
      for (const [pid, since] of started) {
        const now = procStat(pid);
        if (now !== undefined && now.started === since && now.ppid !== child.pid) {
          try {
            process.kill(pid, "SIGTERM");
          } catch {
            // gone meanwhile
          }
        }
      }
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(exitCode, signal);
      }, 2000).unref();
    });
    child.on("close", finish);
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

interface Cell {
  source: string;
  code: boolean;
}

/** A notebook's cells (source, and whether it is a code cell), or undefined when it cannot be read. */
function readCells(notebookFile: string): Cell[] | undefined {
  try {
    const nb = JSON.parse(readFileSync(notebookFile, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
    return nb.cells.map((c) => ({ source: Array.isArray(c.source) ? c.source.join("") : c.source, code: c.cell_type === "code" }));
  } catch {
    return undefined;
  }
}

/** Indices (among all cells) of the code cells. */
function codeCellIndices(cells: readonly Cell[] | undefined): number[] {
  return (cells ?? []).flatMap((c, i) => (c.code ? [i] : []));
}

/** What the runner itself knows about a failed run, besides nbconvert's output. */
interface FailureContext {
  /** Signal that ended nbconvert, if any. */
  signal: NodeJS.Signals | null;
  /** Index of the cell that was running when nbconvert ended (from the progress hooks). */
  runningCell: number | undefined;
  cellTimeoutSeconds: number;
}

/** Condenses nbconvert's output after a failed run (see nbconvertConfig). */
function describeFailure(output: string, notebookFile: string, context: FailureContext): NotebookFailure {
  const cells = readCells(notebookFile);
  const sources = cells?.map((c) => c.source);
  const codeCells = codeCellIndices(cells);
  const cellCount = cells ? codeCells.length : undefined;
  /** Cell index (among all cells) → ordinal among the code cells (1-based). */
  const ordinal = (index: number) => codeCells.indexOf(index) + 1 || index + 1;
  const running = context.runningCell;
  const runningSource = running !== undefined ? sources?.[running] : undefined;
  if (context.signal) {
    // Killed from outside (the out-of-memory killer, a stop by hand, a CI time limit): the
    // output has nothing but nbconvert's banner, the cell that was running is what we know.
    return {
      cellNumber: running !== undefined ? ordinal(running) : undefined,
      cellCount,
      cellSource: runningSource,
      error:
        `nbconvert was killed by signal ${context.signal}${running !== undefined ? ` while code cell ${ordinal(running)} was running` : ""}; ` +
        "it was stopped from outside the notebook (e.g. by the out-of-memory killer, or by hand), not by an error in a cell",
    };
  }
  if (/\bCellTimeoutError\b/.test(output)) {
    return {
      cellNumber: running !== undefined ? ordinal(running) : undefined,
      cellCount,
      cellSource: runningSource,
      error: `the cell did not finish within ${context.cellTimeoutSeconds} s (MIRNA_DL_CELL_TIMEOUT; -1 for no limit) and was stopped`,
    };
  }
  const markerLine = output.split("\n").find((l) => l.startsWith(failureMarker));
  if (markerLine !== undefined) {
    const report = JSON.parse(markerLine.slice(failureMarker.length)) as {
      cell_index: number;
      source: string;
      stderr: string;
      ename: string | null;
      evalue: string | null;
    };
    const fromReply = report.ename ? `${report.ename}: ${report.evalue ?? ""}` : "";
    return {
      cellNumber: ordinal(report.cell_index),
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
  if (cellSource !== undefined && sources !== undefined) {
    const index = sources.findIndex((s) => cellSource.trim() !== "" && s.startsWith(cellSource.trim()));
    if (index >= 0) cellNumber = ordinal(index);
  }
  return { cellNumber, cellCount, cellSource, error: errorLines.join("\n").trim() };
}

function formatFailure(name: string, failure: NotebookFailure, logFile: string): string {
  const where =
    failure.cellNumber !== undefined ? ` in code cell ${failure.cellNumber}${failure.cellCount ? ` of ${failure.cellCount}` : ""}` : "";
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

// ---------------------------------------------------------------------------------------------
// The run

/** `--list`: the plan, and the state of each notebook's data. */
async function listPlan(opts: RunOptions): Promise<number> {
  console.log(`profile ${opts.profile} · data ${opts.dataDir} · output ${opts.outDir}`);
  const statuses = await dataStatus(opts.notebooks, opts.dataDir, opts.manifestFile);
  const timings = readTimings(path.join(opts.outDir, "timings.json"));
  const table = readRunTimes();
  opts.notebooks.forEach((nb, i) => {
    const s = statuses[i]!;
    const selectors = dataSelectors(nb);
    const data =
      selectors.length === 0
        ? "no data"
        : `data ${selectors.join(", ")}: ${s.required.length} file${s.required.length === 1 ? "" : "s"}, ` +
          (s.missing.length + s.wrong.length === 0 ? "all present" : `${s.missing.length} missing, ${s.wrong.length} wrong`);
    const est = estimate(nb, opts.profile, timings, table);
    const time = est === undefined ? "" : est.source === "last run" ? ` · last ${opts.profile} run ${clock(est.seconds)}` : ` · expected ${roughDuration(est.seconds)} (environment/run-times.json)`;
    console.log(`[${i + 1}/${opts.notebooks.length}] ${path.basename(nb)} · ${data}${time}`);
  });
  if (opts.absent.length > 0) console.log(`not in notebooks/ (skipped): ${opts.absent.join(", ")}`);
  return 0;
}

async function runAll(opts: RunOptions): Promise<number> {
  if (opts.list) return listPlan(opts);
  if (opts.notebooks.length === 0) {
    console.log(`no notebooks in ${path.join(repoRoot, "notebooks")}; nothing to run`);
    return 0;
  }
  checkKernel();
  const timingsFile = path.join(opts.outDir, "timings.json");
  const timings = readTimings(timingsFile);
  const skipped = opts.absent.length > 0 ? ` · not present, skipped: ${opts.absent.join(", ")}` : "";
  console.log(`profile ${opts.profile} · data ${opts.dataDir} · output ${opts.outDir}${skipped}`);
  // How long this will take, before anything starts: the full profile runs for hours.
  for (const line of estimateLines(opts.notebooks, opts.profile, timings, readRunTimes())) console.log(line);
  // Everything the notebooks read is there before the first cell runs: a run that would stop
  // for lack of data after an hour of earlier notebooks stops now instead.
  await ensureData(opts.notebooks, { dataDir: opts.dataDir, manifestFile: opts.manifestFile });

  makeOutDir(opts.outDir);
  const configDir = mkdtempSync(path.join(tmpdir(), "mirna-dl-nbconvert-"));
  const configFile = path.join(configDir, "mirna_dl_nbconvert_config.py");
  writeFileSync(configFile, nbconvertConfig);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    MIRNA_DL_PROFILE: opts.profile,
    MIRNA_DL_DATA: opts.dataDir,
  };
  const runStarted = Date.now();
  try {
    for (const [i, notebook] of opts.notebooks.entries()) {
      const name = path.basename(notebook);
      const prefix = `[${i + 1}/${opts.notebooks.length}] ${name}`;
      const cells = readCells(notebook);
      const cellCount = cells?.length ?? 0;
      const progress = new Progress(prefix, codeCellIndices(cells), timings[name]?.[opts.profile], opts.profile, opts.heartbeatSeconds);
      const cellSeconds: (number | null)[] = Array.from({ length: cellCount }, () => null);
      let cellStarted = 0;
      /** Index of the cell that started last and has not finished (undefined: none running). */
      let runningCell: number | undefined;
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
          (line) => {
            const index = Number(line.slice(line.indexOf(" ") + 1));
            if (line.startsWith(cellStartMarker)) {
              cellStarted = Date.now();
              runningCell = index;
              progress.cellStarted(index);
            } else {
              runningCell = undefined;
              progress.cellFinished();
              if (index < cellSeconds.length) cellSeconds[index] = (Date.now() - cellStarted) / 1000;
            }
          },
        );
        const seconds = progress.elapsed();
        const executed = path.join(partialDir, name);
        // Output folder = results of the latest run: no stale copy or log.
        const logFile = path.join(opts.outDir, `${name}.log`);
        rmSync(logFile, { force: true });
        if (result.exitCode !== 0 || !existsSync(executed)) {
          progress.finish(`${prefix} … FAILED (${seconds.toFixed(1)} s)`);
          rmSync(path.join(opts.outDir, name), { force: true });
          writeFileAtomic(logFile, result.output);
          const failure = describeFailure(result.output, notebook, { signal: result.signal, runningCell, cellTimeoutSeconds: opts.cellTimeoutSeconds });
          console.error(formatFailure(name, failure, logFile));
          if (opts.update) console.error(`--update: ${notebook} left as it was (a failed run is never copied over its source)`);
          const notRun = opts.notebooks.length - i - 1;
          if (notRun > 0) console.error(`stopped: ${notRun} later notebook(s) not run`);
          if (stoppedBy !== undefined) {
            console.error(`stopped by ${stoppedBy}: the notebook's kernel and the work it started were stopped; checkpoints let a re-run resume`);
            return 128 + osConstants.signals[stoppedBy];
          }
          return 1;
        }
        renameSync(executed, path.join(opts.outDir, name));
        if (opts.update) writeFileAtomic(notebook, readFileSync(path.join(opts.outDir, name)));
        timings[name] = { ...timings[name], [opts.profile]: { seconds: Number(seconds.toFixed(1)), cells: cellSeconds.map((s) => (s === null ? null : Number(s.toFixed(2)))), finished: new Date().toISOString() } };
        writeTimings(timingsFile, timings);
        progress.finish(`${prefix} … ok (${seconds.toFixed(1)} s)${opts.update ? ", source updated" : ""}`);
      } finally {
        rmSync(partialDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
  if (opts.notebooks.length > 1) console.log(`${opts.notebooks.length} notebooks ran in ${clock((Date.now() - runStarted) / 1000)}`);
  return 0;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  if (opts === "help") {
    console.log(usage);
    return 0;
  }
  return runAll(opts);
}

runScript("run-notebooks", main);
