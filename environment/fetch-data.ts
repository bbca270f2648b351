/**
 * `npm run data:fetch`: fetch, copy (--from), list or verify the public data of
 * data/manifest.json. The work is done by lib/src/data/fetch.ts, archives in lib/src/io/archives.ts; run with --help for options.
 *
 *   node --import tsx environment/fetch-data.ts [--list | --verify] [--only SEL]... [--from DIR]
 *
 * Exit status: 0 success; 1 a file failed; 2 bad usage.
 */
import { installProcessHandlers } from "../lib/src/cli/process";
import { runDataFetchCli } from "../lib/src/data/fetch";

// As the mirna-dl command: SIGINT / SIGTERM / SIGHUP remove the temporary file being written
// (a download's <file>.part is kept, to resume), and under npm the run stops with its npm parent.
installProcessHandlers();
runDataFetchCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
