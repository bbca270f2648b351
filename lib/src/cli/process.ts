import * as fs from "node:fs";
import * as os from "node:os";
import { removePendingTemps, watchStdout } from "../io/files";

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

/** The live parent PID (Linux /proc), or null where there is no /proc. */
function currentParent(): number | null {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** The parent PID of `pid` (Linux /proc), or null. */
function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Watches the processes that started this one under npm (the shell and npm itself): when one
 * of them is gone, stop as on SIGTERM. Does nothing outside npm (a shell's background job, nohup,
 * setsid keep running when their parent exits, as they should).
 */
function watchNpmParents(intervalMs = 250): void {
  if (!process.env.npm_execpath) return;
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const watched = [parent, ...(grandparent !== null && grandparent > 1 ? [grandparent] : [])];
  const timer = setInterval(() => {
    const live = currentParent();
    if ((live !== null && live !== parent) || watched.some((pid) => !isAlive(pid))) {
      clearInterval(timer);
      process.stderr.write("mirna-dl: the npm process that started this command is gone: stopping\n");
      dieOf("SIGTERM");
    }
  }, intervalMs);
  timer.unref();
}

/**
 * Installs the signal handlers, the EPIPE watch on standard output and, under npm, the parent
 * watch (see above). Idempotent. For the command-line entry point only: a library user's process
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
  watchNpmParents();
}
