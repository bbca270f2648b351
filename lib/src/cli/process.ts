import * as os from "node:os";
import { removePendingTemps, watchStdout } from "../io/files";
import { STOP_WITH_PARENT_ENV, watchNpmParents, watchParent } from "../io/processes";

/**
 * What the `mirna-dl` process does around the command itself, installed once by the entry point
 * ({@link installProcessHandlers}):
 *
 * - SIGINT, SIGTERM, SIGHUP: the temporary files and folders of writes in flight are removed
 *   (the target keeps its old content), then the process dies of the same signal, as if it had
 *   no handler. Long work gives the event loop a turn every 50 ms, so this happens promptly.
 * - Standard output closed by its reader (`| head -1`, EPIPE): exit quietly with code 0.
 * - Started by npm (`npx mirna-dl`, `npm exec`, an npm script): npm runs the command as a child
 *   of a shell and does not pass signals on to it, so a SIGTERM to the `npx` process used to
 *   leave this process running (and writing its output later). Here the parent processes are
 *   watched; when they are gone, this process stops as if it had received SIGTERM.
 */

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let installed = false;

/** Removes the temp files, restores the default action and raises `signal` again. */
function dieOf(signal: NodeJS.Signals): void {
  removePendingTemps();
  for (const s of SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, signal);
  // The default action ends the process; in case the signal is ignored (e.g. SIGHUP under nohup):
  setTimeout(() => process.exit(128 + os.constants.signals[signal]), 1000).unref();
}

/**
 * Installs the signal handlers, the EPIPE watch on standard output and, under npm, the parent
 * watch (io/processes.ts: when the shell or npm that started this command is gone, stop as on
 * SIGTERM). Idempotent. For the command-line entry point only: a library user's process
 * keeps its own signal handling.
 */
export function installProcessHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, () => dieOf(signal));
  watchStdout(() => {
    removePendingTemps();
    process.exit(0);
  });
  watchNpmParents(() => {
    process.stderr.write("mirna-dl: the npm process that started this command is gone: stopping\n");
    dieOf("SIGTERM");
  });
  if (process.env[STOP_WITH_PARENT_ENV] === "1") {
    watchParent(() => {
      process.stderr.write("mirna-dl: the process that started this command is gone: stopping\n");
      dieOf("SIGTERM");
    });
  }
}
