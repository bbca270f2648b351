import * as fs from "node:fs";
import { trainCvaeModelTask } from "./cvae/experiment";
import { InputError } from "./errors";
import { trainHairpinSeedTask } from "./hairpin/experiment";
import { installProcessHandlers } from "./cli/process";
import { initBackend } from "./ops/backend";

/**
 * The library's worker entry point: `node lib/dist/workers.js TASK INPUT.json` runs one task of
 * an experiment in its own process (io/workers.ts starts it: runLibraryTask). It stops when the
 * process that started it is gone, and dies of SIGINT / SIGTERM like the command line.
 */

const TASKS: Record<string, (input: never) => Promise<void>> = {
  "cvae-model": trainCvaeModelTask,
  "hairpin-seed": trainHairpinSeedTask,
};

async function main(argv: readonly string[]): Promise<void> {
  const [task, inputFile] = argv;
  const run = task === undefined ? undefined : TASKS[task];
  if (!run || inputFile === undefined) throw new InputError(`usage: workers.js TASK INPUT.json (tasks: ${Object.keys(TASKS).join(", ")})`);
  const input = JSON.parse(fs.readFileSync(inputFile, "utf8")) as never;
  await initBackend({ quiet: false });
  await run(input);
}

if (require.main === module) {
  installProcessHandlers();
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? (e instanceof InputError ? e.message : e.stack) : String(e));
    process.exitCode = e instanceof InputError ? 2 : 1;
  });
}
