/** Where a problem in user input was found: a file and, when known, a 1-based data row. */
export interface InputLocation {
  file?: string;
  /** 1-based data row (the header is row 0). */
  row?: number;
  /** 1-based line of the file holding that row (header = line 1), shown as "row N (line M)". */
  line?: number;
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

/**
 * An external program (RNAfold, xz) failed or printed something unreadable: not a bug here and
 * not the user's input either. The CLI prints only the message and exits with code 1.
 */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}

function formatLocation(where: InputLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.row !== undefined) parts.push(where.row === 0 ? "header" : `row ${where.row}${where.line !== undefined ? ` (line ${where.line})` : ""}`);
  if (where.column !== undefined) parts.push(`column '${shorten(where.column, 60)}'`);
  return parts.length ? parts.join(", ") + ": " : "";
}

/** True for errors that should be reported to the user as a message, not a stack trace. */
export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

/**
 * Text for an error message: at most `max` characters (longer text is cut, with "… (N
 * characters)" appended), control characters and bytes that are not printable shown as `\xNN` /
 * `\uNNNN`, so a 10 MB sequence or a binary file never floods the terminal.
 */
export function shorten(text: string, max = 60): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  // eslint-disable-next-line no-control-regex
  const shown = cut.replace(/[\u0000-\u001f\u007f-\u009f\ufffd\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 256 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return text.length > max ? `${shown}… (${text.length.toLocaleString("en-US")} characters)` : shown;
}

/**
 * A size read from a file (a layer's units in a model config): a whole number from 1 to `max`,
 * else an InputError naming `where` and `field` (e.g. `config.dense must be a whole number from
 * 1 to 4,096, got 2000000000`), so an absurd value is a message, not a RangeError deep inside.
 */
export function checkSize(value: unknown, field: string, where: InputLocation, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InputError(`${field} must be a whole number from 1 to ${max.toLocaleString("en-US")}, got ${shorten(JSON.stringify(value) ?? String(value), 40)}`, where);
  }
  return value;
}
