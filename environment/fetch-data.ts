/**
 * `npm run data:fetch`: a shortcut for `mirna-dl data fetch` (lib/src/cli/data.ts), which
 * fetches, copies (--from), lists or verifies the public data of data/manifest.json. The flags
 * of the shortcut's earlier form still work: `--list` runs `mirna-dl data list`, `--verify`
 * `mirna-dl data verify`; every other argument is passed on.
 *
 *   npm run data:fetch -- [--list | --verify] [--only SEL]... [--from DIR]
 *
 * Exit status: 0 success; 1 a file failed; 2 bad usage.
 */
import { main } from "../lib/src/cli/main";
import { installProcessHandlers } from "../lib/src/cli/process";

/** The `mirna-dl` arguments of the shortcut's arguments (`--list` and `--verify` together are refused before). */
export function dataCommandLine(argv: readonly string[]): string[] {
  const list = argv.includes("--list");
  const verify = argv.includes("--verify");
  const rest = argv.filter((a) => a !== "--list" && a !== "--verify");
  return ["data", list ? "list" : verify ? "verify" : "fetch", ...rest];
}

if (require.main === module) {
  // As the mirna-dl command: SIGINT / SIGTERM / SIGHUP remove the temporary file being written
  // (a download's <file>.part is kept, to resume), and under npm the run stops with its npm parent.
  installProcessHandlers();
  const argv = process.argv.slice(2);
  if (argv.includes("--list") && argv.includes("--verify")) {
    process.stderr.write("mirna-dl: --list and --verify cannot be combined (mirna-dl data list, or mirna-dl data verify)\n");
    process.exitCode = 2;
  } else {
    main(dataCommandLine(argv)).then((code) => {
      process.exitCode = code;
    });
  }
}
