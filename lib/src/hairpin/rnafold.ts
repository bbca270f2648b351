import { spawn } from "node:child_process";
import * as os from "node:os";
import { InputError, shorten, ToolError } from "../errors";
import { normaliseRnaSequence } from "./rna";

/**
 * Adapter for ViennaRNA's `RNAfold` (an external program, not vendored: environment/environment.yml
 * installs bioconda's `viennarna`). One process folds a whole batch: the sequences go to its stdin
 * one per line, `--noPS` keeps it from writing structure plots.
 */

/** Options of {@link foldSequences}. Defaults are ViennaRNA's: 37 °C, dangles 2. */
export interface FoldOptions {
  /** Folding temperature in °C (`-T`). Default 37. */
  temperature?: number;
  /** Dangling-end model (`-d`): 0, 1, 2 or 3. Default 2 (RNAfold's default). */
  dangles?: 0 | 1 | 2 | 3;
  /** The RNAfold program to run. Default: `$MIRNA_DL_RNAFOLD`, else `RNAfold` on PATH. */
  binary?: string;
  /** Record names, parallel to the sequences, used in error messages (default: their 1-based number). */
  names?: readonly string[];
  /** File the sequences came from, used in error messages. */
  file?: string;
  /**
   * RNAfold threads (`--jobs`) for batches of 32 sequences or more; its output keeps the input
   * order. Default: the machine's cores.
   */
  jobs?: number;
}

/** One folded sequence: the normalised sequence, its MFE structure and free energy. */
export interface FoldedSequence {
  /** The sequence as folded: upper case, T read as U. */
  sequence: string;
  /** MFE structure in dot-bracket notation, same length as `sequence`. */
  structure: string;
  /** Minimum free energy in kcal/mol (e.g. -12.3). */
  mfe: number;
}

/** The RNAfold program {@link foldSequences} runs when no `binary` option is given. */
export function defaultRnafoldBinary(): string {
  const fromEnv = process.env.MIRNA_DL_RNAFOLD;
  return fromEnv && fromEnv.length > 0 ? fromEnv : "RNAfold";
}

/** What to tell the user when RNAfold cannot be started. */
function rnafoldMissing(binary: string): InputError {
  return new InputError(
    `RNAfold (ViennaRNA) was not found: could not run '${binary}'. Install it — Debian/Ubuntu: ` +
      "enable the non-free component and `apt-get install vienna-rna` (environment/setup.sh does both); " +
      "conda: `conda install -c bioconda viennarna` — or set MIRNA_DL_RNAFOLD to the RNAfold program.",
  );
}

/** Output of one finished run: stdout as text. Rejects with a clear error when it fails. */
function runProgram(binary: string, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    };
    const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (e: NodeJS.ErrnoException) => {
      fail(e.code === "ENOENT" || e.code === "EACCES" ? rnafoldMissing(binary) : new ToolError(`could not run '${binary}': ${e.message}`));
    });
    // A program that dies early closes its stdin (EPIPE); the exit status reports that.
    child.stdin.on("error", () => undefined);
    child.on("close", (code, signal) => {
      if (settled) return;
      const stderr = Buffer.concat(err).toString("utf8").trim();
      if (code !== 0) {
        const firstLines = stderr.split("\n").slice(0, 3).map((l) => shorten(l.trim(), 200)).join(" / ");
        fail(
          new ToolError(
            `${binary} ${args.join(" ")} failed (${signal ? `signal ${signal}` : `exit code ${code}`})${firstLines ? `: ${firstLines}` : ""}`,
          ),
        );
        return;
      }
      settled = true;
      resolve(Buffer.concat(out).toString("utf8"));
    });
    child.stdin.end(input);
  });
}

/** Structure line of RNAfold: `((((....)))) ( -5.40)` (the energy may be padded: `(  0.00)`). */
const STRUCTURE_LINE = /^([.()]+)\s*\(\s*([-+]?\d+(?:\.\d+)?)\)\s*$/;

/**
 * Parses RNAfold `--noPS` output for `sequences` (normalised, in input order): per sequence a
 * sequence line, then a structure line with the MFE in parentheses.
 */
export function parseRnafoldOutput(output: string, sequences: readonly string[]): FoldedSequence[] {
  const lines = output.split(/\r?\n/).filter((line) => line.trim().length > 0);
  if (lines.length !== 2 * sequences.length) {
    throw new ToolError(
      `RNAfold printed ${lines.length} lines for ${sequences.length} sequences (expected ${2 * sequences.length}); output starts: ${shorten(JSON.stringify(output.slice(0, 200)), 120)}`,
    );
  }
  return sequences.map((sequence, k) => {
    const echoed = lines[2 * k]!.trim();
    const structureLine = lines[2 * k + 1]!;
    if (echoed !== sequence) {
      throw new ToolError(`RNAfold output out of step at sequence ${k + 1}: expected '${shorten(sequence)}', got '${shorten(echoed)}'`);
    }
    const match = STRUCTURE_LINE.exec(structureLine);
    if (!match || match[1]!.length !== sequence.length) {
      throw new ToolError(`cannot read RNAfold structure line for sequence ${k + 1}: '${shorten(structureLine, 120)}'`);
    }
    return { sequence, structure: match[1]!, mfe: Number(match[2]) };
  });
}

/**
 * Folds RNA sequences with RNAfold (one process for the whole batch) and returns their MFE
 * structures and energies, in input order. Sequences are normalised (trimmed, upper case,
 * T→U); an empty one or one with a letter other than A/C/G/U throws an {@link InputError}
 * naming the record (its name from `opts.names`, else its 1-based number as the row). A missing
 * RNAfold throws an InputError saying how to install it.
 */
export async function foldSequences(sequences: readonly string[], opts: FoldOptions = {}): Promise<FoldedSequence[]> {
  const temperature = opts.temperature ?? 37;
  const dangles = opts.dangles ?? 2;
  if (!Number.isFinite(temperature)) throw new InputError(`temperature must be a number in °C, got ${temperature}`);
  if (![0, 1, 2, 3].includes(dangles)) throw new InputError(`dangles must be 0, 1, 2 or 3, got ${dangles}`);
  if (opts.names && opts.names.length !== sequences.length) {
    throw new InputError(`${opts.names.length} names for ${sequences.length} sequences`, { file: opts.file });
  }
  const normalised = sequences.map((sequence, i) => {
    const name = opts.names?.[i];
    const label = name !== undefined ? `sequence ${shorten(name)}` : `sequence ${i + 1}`;
    return normaliseRnaSequence(sequence, { file: opts.file }, label);
  });
  if (normalised.length === 0) return [];
  const binary = opts.binary ?? defaultRnafoldBinary();
  const jobs = opts.jobs ?? os.availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new InputError(`jobs must be a positive integer, got ${jobs}`);
  const args = ["--noPS", `--temp=${temperature}`, `--dangles=${dangles}`, ...(jobs > 1 && normalised.length >= 32 ? [`--jobs=${jobs}`] : [])];
  const output = await runProgram(binary, args, normalised.join("\n") + "\n");
  return parseRnafoldOutput(output, normalised);
}

/** The RNAfold version, e.g. "2.5.1" (from `RNAfold --version`). */
export async function rnafoldVersion(binary: string = defaultRnafoldBinary()): Promise<string> {
  const output = (await runProgram(binary, ["--version"], "")).trim();
  const match = /(\d+\.\d+(?:\.\d+)?)/.exec(output);
  if (!match) throw new ToolError(`cannot read a version from '${binary} --version': '${shorten(output, 120)}'`);
  return match[1]!;
}
