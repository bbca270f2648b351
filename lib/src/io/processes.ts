import * as fs from "node:fs";

/** The parent PID of `pid` ("self": this process; Linux /proc), or null where there is no /proc or no such process. */
export function parentOf(pid: number | "self"): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** Whether a process `pid` exists (one we may not signal counts: EPERM). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Under npm (`npm run …`, `npx …`; npm_execpath set): calls `onGone` once when the processes that
 * started this one (the shell and npm) are gone or this process was re-parented. npm passes a kill
 * on to its shell only, so without this a `kill <npm pid>` leaves the script running. Does nothing
 * outside npm (a shell's background job, nohup, setsid keep running when their parent exits, as
 * they should).
 */
export function watchNpmParents(onGone: () => void, intervalMs = 250): void {
  if (!process.env.npm_execpath) return;
  const grandparent = parentOf(process.ppid);
  watchAncestors([process.ppid, ...(grandparent !== null && grandparent > 1 ? [grandparent] : [])], onGone, intervalMs);
}

/** Calls `onGone` once when this process is re-parented or one of `watched` is gone. */
function watchAncestors(watched: readonly number[], onGone: () => void, intervalMs: number): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    const live = parentOf("self");
    if ((live !== null && live !== parent) || watched.some((pid) => !isAlive(pid))) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
}

/**
 * The environment variable a library run sets on the worker commands it starts
 * (binding/experiment.ts): the command stops when the process that started it is gone.
 */
export const STOP_WITH_PARENT_ENV = "MIRNA_DL_STOP_WITH_PARENT";

/**
 * Calls `onGone` once when the process that started this one has exited (this process was
 * re-parented, or its parent no longer exists). For workers a notebook kernel starts: a kernel
 * that is killed must not leave hours of training running behind it.
 */
export function watchParent(onGone: () => void, intervalMs = 500): void {
  watchAncestors([process.ppid], onGone, intervalMs);
}
