/** Where a problem in user input was found: a file and, when known, a 1-based data row. */
export interface InputLocation {
  file?: string;
  /** 1-based data row (the header is row 0). */
  row?: number;
  column?: string;
}

/**
 * An error in user input (a table, a sequence, an option), as opposed to a bug.
 * The message starts with "file:row: " so the user can find the problem; the CLI
 * prints only the message (no stack trace) and exits with code 2.
 */
export class InputError extends Error {
  readonly where: InputLocation;
  constructor(message: string, where: InputLocation = {}) {
    super(formatLocation(where) + message);
    this.name = "InputError";
    this.where = where;
  }
}

function formatLocation(where: InputLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.column !== undefined) parts.push(`column '${where.column}'`);
  return parts.length ? parts.join(", ") + ": " : "";
}

/** True for errors that should be reported to the user as a message, not a stack trace. */
export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
