import { isInputError, ToolError } from "../errors";
import { OutputClosedError } from "../io/files";
import { UsageError } from "./args";

/**
 * Writes what a failed command needs on standard error and returns its exit code (see
 * `main` in cli/main.ts): the message alone for usage errors, bad input and failing external programs;
 * the stack for anything else, since that is a bug and its report needs it.
 */
export function reportFailure(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`mirna-dl: ${e.message}\n${e.help === undefined ? "" : `\n${e.help}\n`}`);
    return 2;
  }
  if (isInputError(e)) {
    process.stderr.write(`mirna-dl: ${e.message}\n`);
    return 2;
  }
  if (e instanceof OutputClosedError) return 0;
  if (e instanceof ToolError) {
    process.stderr.write(`mirna-dl: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`mirna-dl: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}
