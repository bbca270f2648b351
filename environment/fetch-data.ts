/**
 * `npm run data:fetch`: fetch, copy (--from), list or verify the public data of
 * data/manifest.json. The work is done by lib/src/data/fetch.ts, archives in lib/src/io/archives.ts; run with --help for options.
 *
 *   node --import tsx environment/fetch-data.ts [--list | --verify] [--only SEL]... [--from DIR]
 *
 * Exit status: 0 success; 1 a file failed; 2 bad usage.
 */
import { runDataFetchCli } from "../lib/src/data/fetch";

runDataFetchCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
