#!/usr/bin/env node
import { isInputError } from "../errors";
import { CommandGroup, defineGroup, runCommandLine, UsageError } from "./args";
import { evaluateCommand, predictCommand } from "./binding";
import { hairpinGroup } from "./hairpin";
import { splitCommand, trainCommand } from "./train";

/**
 * The `mirna-dl` command line. Commands are declared with cli/args.ts (options, help, handler)
 * and listed here; `mirna-dl hairpin …` is the group in cli/hairpin.ts.
 */
export const CLI: CommandGroup = defineGroup({
  name: "mirna-dl",
  summary: "",
  title: "mirna-dl — miRNA–target binding (CEITEC arch_00b) and pre-miRNA hairpin models from the command line",
  footer: `Tables: tab-separated, .tsv or .tsv.gz, with a header, in the lock format
(mirna_binding_sequence, binding_sequence, label = positive/negative) or the miRBind format
(miRNA, gene, label = 1/0). miRNAs 20 nt (N-padded), sites 50 nt; U is read as T.
Models: a Keras .h5 file (the published CEITEC models), a folder saved by mirna-dl
(TensorFlow.js format), or 'seed' for the seed-match baseline (8mer 4 > 7mer-m8 3 > 7mer-A1 2 > 6mer 1 > none 0).

Environment: MIRNA_DL_BACKEND = node-gpu | node | wasm | cpu overrides the automatic choice.
Exit codes: 0 success, 2 bad input or usage, 1 unexpected failure.`,
  commands: [predictCommand, evaluateCommand, splitCommand, trainCommand, hairpinGroup],
});

/**
 * Runs `mirna-dl` with `argv` (the arguments after the program name) and returns the exit
 * code: 0 success, 2 usage error or bad input (message only), 1 anything else (with its stack:
 * that is a bug).
 */
export async function main(argv: string[]): Promise<number> {
  try {
    await runCommandLine(CLI, argv);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mirna-dl: ${e.message}\n${e.help === undefined ? "" : `\n${e.help}\n`}`);
      return 2;
    }
    if (isInputError(e)) {
      process.stderr.write(`mirna-dl: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mirna-dl: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
