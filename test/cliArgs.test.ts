import { test, TestContext } from "node:test";
import assert from "node:assert/strict";
import {
  defineCommand, defineGroup, finiteNumber, flag, integerInRange, integerList, option, positiveInteger, repeatedOption, requiredOption,
  runCommandLine, UsageError,
} from "../lib/src/cli/args";

// The parser and validators in process (the commands themselves: cli.test.ts, hairpinCli.test.ts).

/** Runs `argv` against `group` with console.log captured; returns what was printed. */
async function capture(t: TestContext, fn: () => Promise<void>): Promise<string> {
  const printed: string[] = [];
  t.mock.method(console, "log", (...args: unknown[]) => void printed.push(args.join(" ")));
  await fn();
  t.mock.restoreAll();
  return printed.join("\n");
}

function usageError(message: RegExp, help?: RegExp) {
  return (e: unknown) => e instanceof UsageError && message.test(e.message) && (help === undefined || help.test(e.help ?? ""));
}

test("validators: accepted values and one-line messages naming the option and the text", () => {
  assert.equal(positiveInteger("12", "--n"), 12);
  for (const bad of ["0", "-1", "1.5", "", " ", "x", "NaN"]) {
    assert.throws(() => positiveInteger(bad, "--n"), usageError(new RegExp(`^--n must be a positive integer, got '${bad}'$`)), bad);
  }
  assert.equal(finiteNumber("-0.25", "--x"), -0.25);
  assert.equal(finiteNumber("1e-3", "--x"), 0.001);
  for (const bad of ["", "abc", "Infinity", "1,5"]) assert.throws(() => finiteNumber(bad, "--x"), usageError(/^--x must be a number/), bad);
  const scale = integerInRange(1, 32);
  assert.equal(scale("32", "--scale"), 32);
  assert.throws(() => scale("33", "--scale"), usageError(/^--scale must be an integer 1–32, got '33'$/));
  assert.throws(() => scale("0", "--scale"), usageError(/1–32/));
  assert.equal(integerInRange(0)("0", "--epochs"), 0);
  assert.throws(() => integerInRange(0)("-1", "--epochs"), usageError(/^--epochs must be an integer ≥ 0, got '-1'$/));
  assert.deepEqual(integerList("1, 2,3", "--seeds"), [1, 2, 3]);
  for (const bad of ["", "1,", "1,1", "a", "1.5"]) assert.throws(() => integerList(bad, "--seeds"), usageError(/^--seeds must be distinct comma-separated integers/), bad);
  assert.equal(requiredOption("v", "--model"), "v");
  assert.throws(() => requiredOption(undefined, "--model", "HELP"), usageError(/^missing --model$/, /^HELP$/));
});

// A command as a new subcommand would declare it.
let ran: unknown[] = [];
const toy = defineCommand({
  name: "toy",
  summary: "a toy command",
  description: "Does toy things.",
  examples: ["prog toy -m a.h5", "prog toy -m b --json"],
  options: {
    model: option({ short: "m", arg: "PATH", required: true, help: "the model" }),
    size: option({ arg: "N", parse: positiveInteger, default: 8, help: "a size\nover two lines" }),
    offset: option({ arg: "X", parse: finiteNumber, inUsage: true, help: "an offset (default: none)" }),
    scale: option({ arg: "N", parse: integerInRange(1, 4), default: 2, defaultText: "2: double", help: "a scale" }),
    json: flag("JSON out", { inUsage: true }),
    quiet: flag("be quiet", { short: "q" }),
  },
  run(o) {
    ran.push(o);
  },
});
const inner = defineGroup({ name: "inner", summary: "nested commands", commands: [toy] });
const cli = defineGroup({ name: "prog", summary: "", title: "prog — a test CLI", footer: "The end.", commands: [toy, inner] });

test("a declared command: typed values, defaults, required options, negative numbers", async () => {
  ran = [];
  await runCommandLine(cli, ["toy", "-m", "a.h5"]);
  await runCommandLine(cli, ["toy", "--model=b", "--size", "3", "--offset", "-2.5", "--json", "-q", "--scale", "4"]);
  await runCommandLine(cli, ["inner", "toy", "-m", "c", "--offset", "-.5"]);
  assert.deepEqual(ran, [
    { model: "a.h5", size: 8, offset: undefined, scale: 2, json: false, quiet: false },
    { model: "b", size: 3, offset: -2.5, scale: 4, json: true, quiet: true },
    { model: "c", size: 8, offset: -0.5, scale: 2, json: false, quiet: false },
  ]);
  await assert.rejects(runCommandLine(cli, ["toy"]), usageError(/^missing --model$/, /^Usage: prog toy --model PATH/));
  await assert.rejects(runCommandLine(cli, ["toy", "-m", "x", "--size", "0"]), usageError(/^--size must be a positive integer, got '0' \(see 'prog toy --help'\)$/));
  await assert.rejects(runCommandLine(cli, ["toy", "-m", "x", "--nope"]), usageError(/^Unknown option '--nope'/, /^Usage: prog toy /));
  await assert.rejects(runCommandLine(cli, ["toy", "-m", "x", "stray"]), usageError(/Unexpected argument 'stray'/));
  await assert.rejects(runCommandLine(cli, ["toy", "-m", "x", "--json=yes"]), usageError(/'--json' does not take an argument/));
  await assert.rejects(runCommandLine(cli, ["toy", "-m"]), usageError(/argument missing/));
  await assert.rejects(runCommandLine(cli, ["toy", "-m", ""]), usageError(/^--model must not be empty/));
  assert.equal(ran.length, 3, "the handler never ran on bad options");
});

test("help is generated from the declarations", async (t) => {
  const help = await capture(t, () => runCommandLine(cli, ["toy", "--help"]));
  // Usage, summary and options first (what to type), then the description, then the examples.
  assert.equal(help, `Usage: prog toy --model PATH [--offset X] [--json] [options]

A toy command.

Options:
  -m, --model PATH  the model
      --size N      a size
                    over two lines (default 8)
      --offset X    an offset (default: none)
      --scale N     a scale (default 2: double)
      --json        JSON out
  -q, --quiet       be quiet
  -h, --help        this help

Does toy things.

Examples:
  prog toy -m a.h5
  prog toy -m b --json`);
  assert.equal(await capture(t, () => runCommandLine(cli, ["help", "toy"])), help);
  assert.equal(await capture(t, () => runCommandLine(cli, ["toy", "-m", "x", "-h"])), help, "--help wins over other options");
  assert.equal(await capture(t, () => runCommandLine(cli, ["inner", "toy", "-h"])), help.replace("prog toy", "prog inner toy"));

  const main = await capture(t, () => runCommandLine(cli, []));
  assert.equal(main, `prog — a test CLI

Usage: prog <command> [options]

Commands:
  toy        a toy command
  inner toy  a toy command
  help       show help for a command (prog help toy)

The end.`);
  assert.equal(await capture(t, () => runCommandLine(cli, ["-h"])), main);
  assert.equal(await capture(t, () => runCommandLine(cli, ["help"])), main);
  assert.match(await capture(t, () => runCommandLine(cli, ["help", "inner"])), /^Usage: prog inner <command>[\s\S]*help +show help for a command \(prog inner help toy\)/);
  assert.equal(await capture(t, () => runCommandLine(cli, ["help", "inner", "toy"])), help.replace("prog toy", "prog inner toy"));
});

test("groups: unknown commands and help topics are usage errors with the group's help", async () => {
  await assert.rejects(runCommandLine(cli, ["nope"]), usageError(/^unknown command 'nope'$/, /^prog — a test CLI/));
  await assert.rejects(runCommandLine(cli, ["inner", "nope"]), usageError(/^unknown inner command 'nope'$/, /^Usage: prog inner <command>/));
  await assert.rejects(runCommandLine(cli, ["help", "nope"]), usageError(/^unknown command 'nope'$/));
  await assert.rejects(runCommandLine(cli, ["help", "toy", "more"]), usageError(/'prog toy' has no subcommands/));
  assert.throws(() => defineGroup({ name: "g", summary: "", commands: [toy, toy] }), /command 'toy' declared twice/);
  assert.throws(() => defineGroup({ name: "g", summary: "", commands: [{ ...toy, name: "help" }] }), /'help'/);
});

test("repeated options: every value in order, each validated; required ones need one; help says so", async (t) => {
  const seen: unknown[] = [];
  const multi = defineCommand({
    name: "multi",
    summary: "a command with lists",
    description: "Lists.",
    options: {
      input: repeatedOption({ short: "i", arg: "TSV", required: true, help: "a table" }),
      size: repeatedOption({ arg: "N", parse: positiveInteger, inUsage: true, help: "a size" }),
    },
    run(o) {
      seen.push(o);
    },
  });
  const group = defineGroup({ name: "prog", summary: "", commands: [multi] });
  await runCommandLine(group, ["multi", "-i", "a.tsv", "--input", "b.tsv", "--size", "3", "-i", "c.tsv", "--size=4"]);
  await runCommandLine(group, ["multi", "-i", "a.tsv"]);
  assert.deepEqual(seen, [{ input: ["a.tsv", "b.tsv", "c.tsv"], size: [3, 4] }, { input: ["a.tsv"], size: [] }]);
  await assert.rejects(runCommandLine(group, ["multi"]), usageError(/^missing --input$/));
  await assert.rejects(runCommandLine(group, ["multi", "-i", "a", "--size", "2", "--size", "0"]), usageError(/^--size must be a positive integer, got '0'/));
  await assert.rejects(runCommandLine(group, ["multi", "-i", ""]), usageError(/^--input must not be empty/));
  const help = await capture(t, () => runCommandLine(group, ["multi", "--help"]));
  assert.match(help, /^Usage: prog multi --input TSV \[--input TSV …\] \[--size N …\]\n/);
  assert.match(help, /-i, --input TSV +a table \(repeatable; at least one\)\n +--size N +a size \(repeatable\)\n/);
  assert.equal(seen.length, 2, "the handler never ran on bad options");
});
