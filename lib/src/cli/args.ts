import { parseArgs } from "node:util";

/**
 * The one argument parser of `mirna-dl`: every command declares its options (type, short flag,
 * placeholder, help line, default, validator) next to its handler with {@link defineCommand};
 * commands are grouped with {@link defineGroup} (`mirna-dl hairpin …`). The usage line, the
 * options table and the command lists of `--help` are generated from the declarations, so a
 * command's options and its help cannot drift apart. Adding a command = declaring its options
 * and a handler, and listing it in its group (cli/main.ts or cli/hairpin.ts).
 */

/**
 * A mistake on the command line (unknown command or option, missing or malformed option).
 * The CLI prints `mirna-dl: <message>`, then `help` when there is one, and exits with code 2.
 */
export class UsageError extends Error {
  /** Printed after the message: the command's help, or a pointer to it. */
  readonly help: string | undefined;
  constructor(message: string, help?: string) {
    super(message);
    this.name = "UsageError";
    this.help = help;
  }
}

// ---------------------------------------------------------------------------------------------
// validators: (raw text, "--flag") → value, or a UsageError naming the option and the text

/** Turns an option's text into its value; throws a {@link UsageError} naming `flag` when the text is bad. */
export type Validator<T> = (raw: string, flag: string) => T;

/** Any non-empty text. */
export const nonEmpty: Validator<string> = (raw, flag) => {
  if (raw.trim() === "") throw new UsageError(`${flag} must not be empty`);
  return raw;
};

/** A finite number (`0.5`, `-1`, `1e-3`). */
export const finiteNumber: Validator<number> = (raw, flag) => {
  const n = raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got '${raw}'`);
  return n;
};

/** An integer ≥ 1. */
export const positiveInteger: Validator<number> = (raw, flag) => {
  const n = raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got '${raw}'`);
  return n;
};

/** An integer in [min, max] (max defaults to no upper bound). */
export function integerInRange(min: number, max = Infinity): Validator<number> {
  const range = max === Infinity ? `≥ ${min}` : `${min}–${max}`;
  return (raw, flag) => {
    const n = raw.trim() === "" ? NaN : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer ${range}, got '${raw}'`);
    return n;
  };
}

/** Comma-separated distinct integers (`1,2,3`). */
export const integerList: Validator<number[]> = (raw, flag) => {
  const parts = raw.split(",").map((s) => s.trim());
  const values = parts.map((s) => (s === "" ? NaN : Number(s)));
  if (values.some((n) => !Number.isInteger(n)) || new Set(values).size !== values.length) {
    throw new UsageError(`${flag} must be distinct comma-separated integers, got '${raw}'`);
  }
  return values;
};

/** The value of an option that must be given; throws "missing --flag" (with `help`) otherwise. */
export function requiredOption<T>(value: T | undefined, flag: string, help?: string): T {
  if (value === undefined) throw new UsageError(`missing ${flag}`, help);
  return value;
}

// ---------------------------------------------------------------------------------------------
// option declarations

/** An on/off switch (`--json`). */
export interface FlagOption {
  readonly kind: "flag";
  readonly short?: string;
  readonly help: string;
  /** Show `[--name]` in the usage line. */
  readonly inUsage?: boolean;
}

/** How a value option may be absent: never, replaced by its default, or left undefined. */
export type Presence = "required" | "default" | "optional";

/** An option with a value (`--model PATH`). */
export interface ValueOption<T, P extends Presence = Presence> {
  readonly kind: "value";
  readonly presence: P;
  readonly short?: string;
  /** Placeholder in the usage line and the options table: PATH, N, X. */
  readonly arg: string;
  /** Help text; `\n` starts a continuation line. The default is appended. */
  readonly help: string;
  readonly parse: Validator<T>;
  readonly default?: T;
  /** How the default reads in the help, when not `String(default)`. */
  readonly defaultText?: string;
  /** Show `[--name ARG]` in the usage line (required options always are). */
  readonly inUsage?: boolean;
  /**
   * May be given more than once ({@link repeatedOption}): `parse` turns each occurrence into a
   * one-element list and the values are the concatenation, in command-line order.
   */
  readonly repeated?: boolean;
}

/** What a command may declare. */
export type OptionSpec = FlagOption | ValueOption<unknown>;
export type Options = Record<string, OptionSpec>;

/** The parsed values handed to a command's handler, typed from its declarations. */
export type Values<O extends Options> = {
  [K in keyof O]: O[K] extends FlagOption
    ? boolean
    : O[K] extends ValueOption<infer T, infer P>
      ? P extends "optional" ? T | undefined : T
      : never;
};

/** Declares an on/off switch. */
export function flag(help: string, opts: { short?: string; inUsage?: boolean } = {}): FlagOption {
  return { kind: "flag", help, ...opts };
}

/** `-q, --quiet` as the commands that print progress take it. */
export const QUIET_FLAG = flag("no progress and no backend line on standard error", { short: "q" });

interface ValueInit<T> {
  short?: string;
  arg: string;
  help: string;
  /** Default: any non-empty text. */
  parse?: Validator<T>;
  defaultText?: string;
  inUsage?: boolean;
}

/** Declares an option with a value: `required: true`, a `default`, or neither (undefined when absent). */
// NoInfer: T comes from `parse` / `default` (else string), not from where the option is used.
export function option<T = string>(init: ValueInit<T> & { required: true }): ValueOption<NoInfer<T>, "required">;
export function option<T = string>(init: ValueInit<T> & { default: T }): ValueOption<NoInfer<T>, "default">;
export function option<T = string>(init: ValueInit<T>): ValueOption<NoInfer<T>, "optional">;
export function option<T>(init: ValueInit<T> & { required?: boolean; default?: T }): ValueOption<T> {
  const { required, parse, ...rest } = init;
  const presence: Presence = required ? "required" : "default" in init ? "default" : "optional";
  return { kind: "value", presence, parse: parse ?? (nonEmpty as unknown as Validator<T>), ...rest };
}

/**
 * Declares an option that may be given several times (`--model A --model B`): its value is the
 * list of the given values, in order, each checked by `parse`; `required` demands at least one,
 * otherwise the default is the empty list.
 */
export function repeatedOption<T = string>(init: ValueInit<T> & { required: true }): ValueOption<NoInfer<T>[], "required">;
export function repeatedOption<T = string>(init: ValueInit<T>): ValueOption<NoInfer<T>[], "default">;
export function repeatedOption<T>(init: ValueInit<T> & { required?: boolean }): ValueOption<T[]> {
  const { required, parse, ...rest } = init;
  const each = parse ?? (nonEmpty as unknown as Validator<T>);
  return {
    kind: "value",
    presence: required ? "required" : "default",
    ...(required ? {} : { default: [] as T[], defaultText: "none" }),
    parse: (raw, flag) => [each(raw, flag)],
    repeated: true,
    ...rest,
  };
}

// ---------------------------------------------------------------------------------------------
// commands and groups

/** What {@link defineCommand} takes. */
export interface CommandSpec<O extends Options> {
  /** The word that selects it (`predict`, `encode`). */
  name: string;
  /** One line for its group's command list. */
  summary: string;
  /** Paragraphs after the options table. */
  description: string;
  /**
   * 1–3 worked examples, shown last: commands on files a user has (the data folder's tables, a
   * FASTA), each a string (`\n` continues an example on the next line).
   */
  examples?: readonly string[];
  options: O;
  /** Does the work; throws UsageError / InputError for bad input. */
  run: (values: Values<O>, prog: string) => Promise<void> | void;
}

/** A runnable command (its option types erased: it parses its own arguments). */
export interface Command {
  readonly kind: "command";
  readonly name: string;
  readonly summary: string;
  /** The help text; `prog` is how it is invoked (`mirna-dl hairpin encode`). */
  help(prog: string): string;
  run(args: string[], prog: string): Promise<void>;
}

/** A set of commands under one word (`hairpin`), or the whole CLI. */
export interface CommandGroup {
  readonly kind: "group";
  readonly name: string;
  readonly summary: string;
  /** A line above the usage line (the program's title). */
  readonly title?: string;
  readonly description?: string;
  /** Text after the command list. */
  readonly footer?: string;
  readonly commands: readonly (Command | CommandGroup)[];
}

const HELP_OPTION: FlagOption = { kind: "flag", short: "h", help: "this help" };

/** Declares a command: its options (parsed and validated before `run` is called) and its handler. */
export function defineCommand<O extends Options>(spec: CommandSpec<O>): Command {
  const declared: Options = { ...spec.options, help: HELP_OPTION };
  const help = (prog: string) => commandHelp(prog, spec, declared);
  return {
    kind: "command",
    name: spec.name,
    summary: spec.summary,
    help,
    async run(args, prog) {
      const parsed = parseOptions(args, declared, prog, help(prog));
      if (parsed === null) return void console.log(help(prog));
      await spec.run(parsed.values as Values<O>, prog);
    },
  };
}

/** Declares a group of commands; `help` and `--help` are added to every group. */
export function defineGroup(group: Omit<CommandGroup, "kind">): CommandGroup {
  const names = group.commands.map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined || names.includes("help")) throw new Error(`command group '${group.name}': command '${twice ?? "help"}' declared twice`);
  return { kind: "group", ...group };
}

/**
 * Runs the command `argv` selects in `group` (`prog` = how the group is invoked). `--help`,
 * `-h`, `help [command …]` or nothing print help. Throws UsageError for unknown commands and
 * bad options; whatever the handler throws passes through.
 */
export async function runCommandLine(group: CommandGroup, argv: readonly string[], prog: string = group.name): Promise<void> {
  const [word, ...rest] = argv;
  if (word === undefined || word === "--help" || word === "-h") return void console.log(groupHelp(group, prog));
  if (word === "help") return void console.log(helpFor(group, rest, prog));
  const child = findChild(group, word, prog);
  if (child.kind === "group") return runCommandLine(child, rest, `${prog} ${child.name}`);
  await child.run(rest, `${prog} ${child.name}`);
}

function findChild(group: CommandGroup, word: string, prog: string): Command | CommandGroup {
  const child = group.commands.find((c) => c.name === word);
  if (!child) {
    const which = prog.includes(" ") ? `${prog.slice(prog.indexOf(" ") + 1)} command` : "command";
    throw new UsageError(`unknown ${which} '${word}'`, groupHelp(group, prog));
  }
  return child;
}

/** Help for `help a b …` inside `group`. */
function helpFor(group: CommandGroup, path: readonly string[], prog: string): string {
  const [word, ...rest] = path;
  if (word === undefined) return groupHelp(group, prog);
  const child = findChild(group, word, prog);
  const childProg = `${prog} ${child.name}`;
  if (child.kind === "group") return helpFor(child, rest, childProg);
  if (rest.length) throw new UsageError(`'${childProg}' has no subcommands`);
  return child.help(childProg);
}

// ---------------------------------------------------------------------------------------------
// parsing

/**
 * Parses a program's command line with the declarations every `mirna-dl` command uses (for
 * programs that are not commands of it, such as the notebook runner): the values typed from the
 * declarations, and the positional arguments when `positionals` allows them; null when --help
 * was asked for. Mistakes are UsageErrors (their help: `help`).
 */
export function parseCommandLine<O extends Options>(
  args: readonly string[], options: O, opts: { prog: string; help: string; positionals?: boolean },
): { values: Values<O>; positionals: string[] } | null {
  const declared: Options = { ...options, help: HELP_OPTION };
  const parsed = parseOptions(args, declared, opts.prog, opts.help, opts.positionals ?? false);
  return parsed === null ? null : { values: parsed.values as Values<O>, positionals: parsed.positionals };
}

/** The options table of a help text, as `mirna-dl` commands show it (defaults and "repeatable" added). */
export function optionsTable(options: Options): string {
  return table(optionRows(Object.entries({ ...options, help: HELP_OPTION })));
}

/** Parses and validates `args` against `declared`; null when --help was asked for. */
function parseOptions(args: readonly string[], declared: Options, prog: string, help: string, allowPositionals = false): { values: Record<string, unknown>; positionals: string[] } | null {
  const config: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(declared)) {
    config[name] = { type: spec.kind === "flag" ? "boolean" : "string", ...(spec.short ? { short: spec.short } : {}), ...(spec.kind === "value" && spec.repeated ? { multiple: true } : {}) };
  }
  let raw: Record<string, string | string[] | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: joinNegativeValues(args, declared), options: config, allowPositionals, strict: true });
    raw = parsed.values as typeof raw;
    positionals = parsed.positionals;
  } catch (e) {
    throw new UsageError((e as Error).message, help);
  }
  if (raw.help) return null;
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(declared)) {
    if (name === "help") continue;
    const given = raw[name];
    if (spec.kind === "flag") {
      values[name] = given === true;
    } else if (typeof given === "string" || (Array.isArray(given) && given.length > 0)) {
      try {
        values[name] = Array.isArray(given) ? given.flatMap((g) => spec.parse(g, `--${name}`) as unknown[]) : spec.parse(given, `--${name}`);
      } catch (e) {
        // A bad value: one line, pointing at the help rather than printing all of it.
        if (e instanceof UsageError && e.help === undefined) throw new UsageError(`${e.message} (see '${prog} --help')`);
        throw e;
      }
    } else if (spec.presence === "required") {
      requiredOption(undefined, `--${name}`, help);
    } else {
      values[name] = spec.default;
    }
  }
  return { values, positionals };
}

/**
 * `--threshold -1` → `--threshold=-1`: node's parser takes a value starting with '-' for an
 * option, so a negative number would otherwise need the `=` form.
 */
function joinNegativeValues(args: readonly string[], declared: Options): string[] {
  const takesValue = new Set<string>();
  for (const [name, spec] of Object.entries(declared)) {
    if (spec.kind !== "value") continue;
    takesValue.add(`--${name}`);
    if (spec.short) takesValue.add(`-${spec.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (takesValue.has(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// help text

/**
 * A command's help: usage, the one-line summary, the options, then the longer description and the
 * worked examples — what to type first, the prose after.
 */
function commandHelp(prog: string, spec: Pick<CommandSpec<Options>, "summary" | "description" | "examples">, declared: Options): string {
  const entries = Object.entries(declared);
  const usage = [`Usage: ${prog}`];
  let more = false;
  for (const [name, spec] of entries) {
    const again = spec.kind === "value" && spec.repeated ? ` [--${name} ${spec.arg} …]` : "";
    if (spec.kind === "value" && spec.presence === "required") usage.push(`--${name} ${spec.arg}${again}`);
    else if (spec.inUsage) usage.push(spec.kind === "value" ? `[--${name} ${spec.arg}${again ? " …" : ""}]` : `[--${name}]`);
    else if (name !== "help") more = true;
  }
  if (more) usage.push("[options]");
  const parts = [usage.join(" "), spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + ".", `Options:\n${table(optionRows(entries))}`, spec.description];
  if (spec.examples?.length) parts.push(`Examples:\n${spec.examples.map((e) => `  ${e.split("\n").join("\n    ")}`).join("\n")}`);
  return parts.join("\n\n");
}

/** The rows of an options table: flags and placeholder, help with the default or "repeatable". */
function optionRows(entries: readonly [string, OptionSpec][]): [string, string][] {
  return entries.map(([name, spec]): [string, string] => {
    const flags = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.kind === "value" ? ` ${spec.arg}` : ""}`;
    let text = spec.help;
    if (spec.kind === "value" && spec.repeated) text += spec.presence === "required" ? " (repeatable; at least one)" : " (repeatable)";
    else if (spec.kind === "value" && spec.presence === "default") text += ` (default ${spec.defaultText ?? String(spec.default)})`;
    return [flags, text];
  });
}

/** Every command under `group`, nested groups flattened: [words after the group, command]. */
function leafCommands(group: CommandGroup): [string, Command][] {
  return group.commands.flatMap((c): [string, Command][] =>
    c.kind === "group" ? leafCommands(c).map(([name, leaf]) => [`${c.name} ${name}`, leaf]) : [[c.name, c]],
  );
}

/** A group's help: every command, those of nested groups included (`hairpin generate`). */
function groupHelp(group: CommandGroup, prog: string): string {
  const rows: [string, string][] = leafCommands(group).map(([name, c]) => [name, c.summary]);
  const example = group.commands.find((c) => c.kind === "command")?.name ?? group.commands[0]?.name ?? "";
  rows.push(["help", `show help for a command (${prog} help ${example})`]);
  const parts = [
    ...(group.title ? [group.title] : []),
    `Usage: ${prog} <command> [options]`,
    ...(group.description ? [group.description] : []),
    `Commands:\n${table(rows)}`,
    ...(group.footer ? [group.footer] : []),
  ];
  return parts.join("\n\n");
}

/** Width in characters that help text is wrapped to (examples, being commands, are not wrapped). */
export const HELP_WIDTH = 100;

/** `text` broken at spaces into lines of at most `width` characters (a longer word stays whole). */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ").filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/**
 * Two columns, the second aligned and wrapped to {@link HELP_WIDTH}; `\n` in it starts a new
 * line, which continues under itself.
 */
function table(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const textWidth = Math.max(30, HELP_WIDTH - 2 - width);
  return rows
    .map(([left, right]) => {
      const lines = right.split("\n").flatMap((part) => wrapWords(part, textWidth));
      return `  ${left.padEnd(width)}${lines.join(`\n  ${" ".repeat(width)}`)}`;
    })
    .join("\n");
}
