#!/usr/bin/env node
import { removeEmptyOutputFolders } from "../io/files";
import { reportFailure } from "./failure";
import { CommandGroup, defineGroup, runCommandLine } from "./args";
import { evaluateCommand, predictCommand } from "./binding";
import { benchmarkCommand } from "./benchmark";
import { dataGroup } from "./data";
import { explainCommand } from "./explain";
import { scanCommand } from "./scan";
import { hairpinGroup } from "./hairpin";
import { splitCommand, trainCommand } from "./train";
import { installProcessHandlers } from "./process";

/**
 * The `mirna-dl` command line. Commands are declared with cli/args.ts (options, help, handler)
 * and listed in COMMANDS; `mirna-dl hairpin …` is the group in cli/hairpin.ts.
 */
const COMMANDS = [
  predictCommand,
  evaluateCommand,
  benchmarkCommand,
  scanCommand,
  splitCommand,
  trainCommand,
  explainCommand,
  hairpinGroup,
  dataGroup,
];

export const CLI: CommandGroup = defineGroup({
  name: "mirna-dl",
  summary: "",
  title: "mirna-dl — miRNA–target binding (CEITEC arch_00b) and pre-miRNA hairpin models from the command line",
  footer: `Tables: tab-separated, .tsv or .tsv.gz, with a header, in the lock format
(mirna_binding_sequence, binding_sequence, label = positive/negative), the miRBind format
(miRNA, gene, label = 1/0) or the miRBench format (noncodingRNA, gene, label = 1/0; other
columns kept); 'train' also reads the original work's 35-column training table
(train_set_positives.tsv: familyseqRepresentative, pos_sequence, …; every row a positive).
Cells are read and written as they are (no quoting); every row needs as many fields as the
header. miRNAs 20 nt: lock-format miRNAs of another length are refused unless --fit-mirna is
given; miRBind- and miRBench-format miRNAs are padded with N or cut to 20 nt automatically (as
miRBind does). Sites 50 nt; U is read as T.
Models: a Keras .h5 file (the published CEITEC models; other architectures are refused), a
folder saved by mirna-dl (TensorFlow.js format), or 'seed' for the seed-match baseline
(8mer 4 > 7mer-m8 3 > 7mer-A1 2 > 6mer 1 > none 0).
Outputs are checked before any work (two outputs that are one file, a path ending in '/' or
through a missing folder are refused), written to a fresh temporary file (never through a
symbolic link) and renamed into place when complete; '-', /dev/stdout and the file standard
output is redirected to are written straight to it; devices and FIFOs are written straight
through; Ctrl+C leaves no partial files.

Each command's help (mirna-dl <command> --help) ends with worked examples; they read the public
data from $MIRNA_DL_DATA (mirna-dl data fetch, or npm run data:fetch, puts it in data/: export
MIRNA_DL_DATA=data).
Environment: MIRNA_DL_BACKEND = node-gpu | node | native | wasm | cpu overrides the automatic
choice.
Exit codes: 0 success, 2 bad input or usage, 1 unexpected failure (or a failing external program).`,
  commands: COMMANDS,
});

/**
 * Runs `mirna-dl` with `argv` (the arguments after the program name) and returns the exit
 * code: 0 success (also when standard output was closed early by its reader), 2 usage error or
 * bad input (message only), 1 a failing external program (message only) or anything else (with
 * its stack: that is a bug).
 */
export async function main(argv: string[]): Promise<number> {
  try {
    await runCommandLine(CLI, argv);
    return 0;
  } catch (e) {
    removeEmptyOutputFolders();
    return reportFailure(e);
  }
}


/**
 * The entry point of the `mirna-dl` program (lib/bin/mirna-dl.js and `node lib/src/cli/main.ts`):
 * installs the signal, EPIPE and parent-process handling (cli/process.ts), runs {@link main} and
 * sets the exit code.
 */
export async function runCli(argv: string[] = process.argv.slice(2)): Promise<void> {
  installProcessHandlers();
  process.exitCode = await main(argv);
}

if (require.main === module) void runCli();
