/**
 * Notebooks check their own numbers. Each notebook ends its result sections with a check cell
 * that hands its headline numbers to {@link checkReferences}; it compares them with the
 * notebook's committed reference table, shows a table (check / measured / reference /
 * tolerance / ok) and throws one error listing every failure, which fails the notebook run
 * (`npm run notebooks` exits 1 and names the cell).
 *
 *     mdl.checkReferences("cvae_generate", {
 *       "modhsa_test accuracy (mean over seeds)": results.summary[0]!.accuracy!.mean,
 *       "hsa-let-7b image decodes to its sequence": decoded.sequence === folded!.sequence,
 *     });
 *
 * In a notebook, write `{ name: value }`, not the shorthand `{ value }`, for variables of
 * earlier cells: tslab does not rewrite shorthand properties that name them.
 *
 * The table: `references/<notebook>.json` from the working directory (a notebook's kernel runs
 * in the notebook's folder, so for notebooks/x.ipynb that is notebooks/references/x.json),
 * else `<repo>/notebooks/references/<notebook>.json`; `opts.file` names another.
 *
 *     {
 *       "notebook": "cvae_generate",
 *       "about": "what the numbers are and where the references come from",
 *       "groups": { "fixtures": "note printed with the checks of this group" },      (optional)
 *       "checks": {
 *         "<name>": {
 *           "about": "...",                                                         (optional)
 *           "group": "fixtures",                                                    (optional)
 *           "ci":   { "min": 0.45, "max": 0.75, "source": "CI run of ..." },
 *           "full": { "value": 0.9217, "tolerance": 0.02, "source": "full run of ..." }
 *         }
 *       }
 *     }
 *
 * A check gives its reference per profile (`ci`, `full`; see {@link profile}) or once for every
 * profile (`all`, not together with `ci` / `full`). A reference is one of:
 *
 * | reference                              | passes when                                       |
 * |----------------------------------------|---------------------------------------------------|
 * | `{ value: number, tolerance: number }` | abs(measured − value) ≤ tolerance (0: exact)      |
 * | `{ min?: number, max?: number }`       | min ≤ measured ≤ max (at least one bound)         |
 * | `{ value: true }` / `{ value: false }` | measured is that boolean (e.g. "round trip exact")|
 * | `{ above: "<other>", margin?: m }`     | measured > measured value `<other>` + m (m ≥ 0)   |
 * | `{ below: "<other>", margin?: m }`     | measured < measured value `<other>` − m           |
 *
 * `above` / `below` compare two numbers of the same call (e.g. a trained model's ROC-AUC above
 * the seed baseline's): `<other>` must be measured too, and needs a check of its own. Each
 * reference may carry a `source` (where the number comes from); unknown keys are errors, so a
 * misspelt `tolerence` does not silently pass.
 *
 * Nothing passes silently: a check of the table that is not measured, a measured value that has
 * no check, a check without a reference for the current profile, `null`, `NaN` or a value of the
 * wrong kind are failures like a number out of range. Checks with a `group` apply only when the
 * call names that group (`opts.group`, e.g. the input source of preprocess: "fixtures"); checks
 * without one always apply; a group must be declared under `groups` with the note shown beside
 * its checks (e.g. why a source has no references). A notebook with several check cells gives
 * each cell's checks a group and each cell its group (all checks in groups: a cell checks only
 * its own).
 *
 * Tolerances should reflect real variation (seeds, backends), and be small enough to fail:
 * change a reference by more than its tolerance and the notebook run fails
 * (test/notebook-runner.test.ts does this on a fixture notebook).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { displayPath, REPO_ROOT, profile as currentProfile, type Profile } from "./data/paths";
import { insideTslab, showTable } from "./figures/display";

/** A reference for one profile (see the module comment). */
export type Reference =
  | { value: number; tolerance: number; source?: string }
  | { min?: number; max?: number; source?: string }
  | { value: boolean; source?: string }
  | { above: string; margin?: number; source?: string }
  | { below: string; margin?: number; source?: string };

/** One named check of a reference table. */
export interface ReferenceCheck {
  about?: string;
  /** Applies only when {@link checkReferences} is given this group. */
  group?: string;
  ci?: Reference;
  full?: Reference;
  /** For every profile (instead of `ci` / `full`). */
  all?: Reference;
}

/** A notebook's reference table (notebooks/references/<notebook>.json). */
export interface ReferenceTable {
  notebook?: string;
  about?: string;
  /** Group name → note shown with the checks when that group is used. */
  groups?: Record<string, string>;
  checks: Record<string, ReferenceCheck>;
}

/** A measured value: a number, or a boolean for yes/no checks; null / undefined = not measured. */
export type MeasuredValue = number | boolean | null | undefined;

/** One row of the check table. */
export interface ReferenceCheckRow {
  check: string;
  measured: string;
  reference: string;
  tolerance: string;
  ok: boolean;
  /** Why it failed (empty when ok). */
  problem: string;
}

/** The outcome of comparing measured values with a table. */
export interface ReferenceCheckReport {
  notebook: string;
  profile: Profile;
  /** The table file (or "(given table)"). */
  file: string;
  group: string | undefined;
  /** The group's note from the table, if any. */
  groupNote: string | undefined;
  rows: ReferenceCheckRow[];
  failures: string[];
}

/** Thrown by {@link checkReferences} when a check fails; the message lists every failure. */
export class ReferenceCheckError extends Error {
  readonly report: ReferenceCheckReport;
  constructor(report: ReferenceCheckReport) {
    const n = report.rows.length;
    const k = report.failures.length;
    super(
      `${report.notebook}: ${k} of ${n} check${n === 1 ? "" : "s"} failed against ${report.file} (profile ${report.profile}` +
        `${report.group !== undefined ? `, group ${report.group}` : ""}):\n` +
        report.failures.map((f) => `  - ${f}`).join("\n"),
    );
    this.name = "ReferenceCheckError";
    this.report = report;
  }
}

/** Options of {@link readReferenceTable} / {@link checkReferences}. */
export interface ReferenceOptions {
  /** The table file (default: references/<notebook>.json from the working directory, else <repo>/notebooks/references/). */
  file?: string;
}

/** Options of {@link checkReferences}. */
export interface CheckReferencesOptions extends ReferenceOptions {
  /** Profile whose references apply (default: {@link profile}, from MIRNA_DL_PROFILE). */
  profile?: Profile;
  /** Also apply the checks of this group (declared under `groups` in the table). */
  group?: string;
  /** Show no table (default false: shown in the notebook, printed outside one). */
  quiet?: boolean;
}

/** Where the table of `notebook` is looked for, in order. */
export function referenceTableCandidates(notebook: string): string[] {
  const name = `${notebook}.json`;
  return [path.resolve("references", name), path.join(REPO_ROOT, "notebooks", "references", name)];
}

const PROFILES: readonly Profile[] = ["ci", "full"];
/**
 * Relative slack of the inclusive bounds (value ± tolerance, min, max), so that a bound written
 * in decimal holds for the binary number next to it (0.935 − 0.92 > 0.015 in floating point).
 */
const SLACK = 1e-9;
const CHECK_KEYS = new Set(["about", "group", "ci", "full", "all"]);
const TABLE_KEYS = new Set(["notebook", "about", "groups", "checks"]);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isFiniteNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Checks one reference's shape; returns a problem or undefined. */
function referenceProblem(ref: unknown): string | undefined {
  if (!isObject(ref)) return "must be an object";
  const keys = Object.keys(ref);
  const allowed = (list: string[]) => {
    const extra = keys.filter((k) => !list.includes(k) && k !== "source");
    return extra.length > 0 ? `unknown key${extra.length > 1 ? "s" : ""} ${extra.map((k) => `"${k}"`).join(", ")} (allowed: ${list.join(", ")}, source)` : undefined;
  };
  if (ref.source !== undefined && typeof ref.source !== "string") return '"source" must be a string';
  if ("above" in ref || "below" in ref) {
    const key = "above" in ref ? "above" : "below";
    if ("above" in ref && "below" in ref) return 'give "above" or "below", not both';
    if (typeof ref[key] !== "string" || ref[key] === "") return `"${key}" must name another measured value`;
    if (ref.margin !== undefined && !(isFiniteNumber(ref.margin) && ref.margin >= 0)) return '"margin" must be a number ≥ 0';
    return allowed([key, "margin"]);
  }
  if ("value" in ref) {
    if (typeof ref.value === "boolean") return allowed(["value"]);
    if (!isFiniteNumber(ref.value)) return '"value" must be a finite number or a boolean';
    if (!("tolerance" in ref)) return '"tolerance" is required with a numeric "value" (0 for an exact value)';
    if (!(isFiniteNumber(ref.tolerance) && ref.tolerance >= 0)) return '"tolerance" must be a number ≥ 0';
    return allowed(["value", "tolerance"]);
  }
  if ("min" in ref || "max" in ref) {
    if (ref.min !== undefined && !isFiniteNumber(ref.min)) return '"min" must be a finite number';
    if (ref.max !== undefined && !isFiniteNumber(ref.max)) return '"max" must be a finite number';
    if (isFiniteNumber(ref.min) && isFiniteNumber(ref.max) && ref.min > ref.max) return `"min" ${ref.min} is above "max" ${ref.max}`;
    return allowed(["min", "max"]);
  }
  return 'needs "value" (+ "tolerance"), "min" / "max", "above" or "below"';
}

/**
 * Validates a parsed table; throws an Error naming the file and every problem (unknown keys,
 * references of the wrong shape, groups that are not declared, `above` naming no check).
 */
export function validateReferenceTable(table: unknown, file = "(given table)"): ReferenceTable {
  const problems: string[] = [];
  if (!isObject(table)) throw new Error(`${file}: a reference table must be a JSON object with "checks"`);
  for (const k of Object.keys(table)) if (!TABLE_KEYS.has(k)) problems.push(`unknown top-level key "${k}" (allowed: ${[...TABLE_KEYS].join(", ")})`);
  if (table.notebook !== undefined && typeof table.notebook !== "string") problems.push('"notebook" must be a string');
  if (table.groups !== undefined && !(isObject(table.groups) && Object.values(table.groups).every((v) => typeof v === "string"))) {
    problems.push('"groups" must map group names to notes (strings)');
  }
  const groups = isObject(table.groups) ? table.groups : {};
  if (!isObject(table.checks)) {
    problems.push('"checks" must be an object: check name → references');
  } else {
    for (const [name, check] of Object.entries(table.checks)) {
      if (!isObject(check)) {
        problems.push(`check "${name}": must be an object`);
        continue;
      }
      for (const k of Object.keys(check)) if (!CHECK_KEYS.has(k)) problems.push(`check "${name}": unknown key "${k}" (allowed: ${[...CHECK_KEYS].join(", ")})`);
      if (check.group !== undefined && (typeof check.group !== "string" || !(check.group in groups))) {
        problems.push(`check "${name}": group ${JSON.stringify(check.group)} is not declared under "groups"`);
      }
      if ("all" in check && PROFILES.some((p) => p in check)) problems.push(`check "${name}": give "all" or per-profile references (${PROFILES.join(", ")}), not both`);
      for (const p of [...PROFILES, "all"] as const) {
        if (!(p in check)) continue;
        const problem = referenceProblem(check[p]);
        if (problem) problems.push(`check "${name}", ${p}: ${problem}`);
        const ref = check[p] as Record<string, unknown>;
        const other = (ref?.above ?? ref?.below) as unknown;
        if (typeof other === "string" && !(other in table.checks)) problems.push(`check "${name}", ${p}: compares with "${other}", which is not a check of the table`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`${file}: bad reference table:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return table as unknown as ReferenceTable;
}

/** Reads and validates the reference table of `notebook` (see the module comment for where it is looked for). */
export function readReferenceTable(notebook: string, opts: ReferenceOptions = {}): { file: string; table: ReferenceTable } {
  const candidates = opts.file !== undefined ? [path.resolve(opts.file)] : referenceTableCandidates(notebook);
  const file = candidates.find((f) => fs.existsSync(f));
  if (file === undefined) throw new Error(`no reference table for ${notebook}: looked for ${candidates.join(" and ")}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not readable JSON: ${(e as Error).message}`);
  }
  const table = validateReferenceTable(parsed, file);
  if (table.notebook !== undefined && table.notebook !== notebook) {
    throw new Error(`${file} is the table of notebook "${table.notebook}", not of "${notebook}"`);
  }
  return { file, table };
}

/** A number as the table shows it: integers whole, others with up to 4 decimals. */
function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const s = x.toFixed(4);
  return Math.abs(x) < 1e-3 && x !== 0 ? x.toPrecision(3) : s;
}

/** A number of the table as written there (0.015, not 0.0150). */
function fmtRef(x: number): string {
  return String(x);
}

function fmtMeasured(x: MeasuredValue): string {
  if (x === undefined) return "(not measured)";
  if (x === null) return "(no value)";
  return typeof x === "boolean" ? String(x) : fmt(x);
}

/** The reference of `check` for `profile`, or undefined. */
function referenceFor(check: ReferenceCheck, profile: Profile): Reference | undefined {
  return check.all ?? check[profile];
}

/**
 * Compares `measured` with `table` for `profile` (pure: no output, no throw). Every applicable
 * check of the table and every measured value gives one row; `failures` says what is wrong, one
 * line each.
 */
export function evaluateReferences(
  table: ReferenceTable,
  measured: Readonly<Record<string, MeasuredValue>>,
  opts: { notebook?: string; profile: Profile; group?: string; file?: string },
): ReferenceCheckReport {
  const file = opts.file ?? "(given table)";
  const notebook = opts.notebook ?? table.notebook ?? "notebook";
  const failures: string[] = [];
  const rows: ReferenceCheckRow[] = [];
  const groups = table.groups ?? {};
  if (opts.group !== undefined && !(opts.group in groups)) {
    const known = Object.keys(groups);
    failures.push(`group "${opts.group}" is not declared in ${file} (declared: ${known.length > 0 ? known.join(", ") : "none"})`);
  }
  const applies = (c: ReferenceCheck) => c.group === undefined || c.group === opts.group;
  const row = (check: string, value: MeasuredValue, reference: string, tolerance: string, problem: string) => {
    rows.push({ check, measured: fmtMeasured(value), reference, tolerance, ok: problem === "", problem });
    if (problem !== "") failures.push(`${check}: ${problem}`);
  };

  for (const [name, check] of Object.entries(table.checks)) {
    if (!applies(check)) continue;
    const value = measured[name];
    const ref = referenceFor(check, opts.profile);
    if (ref === undefined) {
      row(name, value, "(none)", "", `no reference for profile ${opts.profile} in ${file}`);
      continue;
    }
    const missing = value === undefined ? "not measured (the check cell passes no value of this name)" : value === null ? "measured value is null" : "";
    if ("above" in ref || "below" in ref) {
      const above = "above" in ref;
      const otherName = above ? (ref as { above: string }).above : (ref as { below: string }).below;
      const margin = ref.margin ?? 0;
      const other = measured[otherName];
      const otherText = typeof other === "number" ? ` (${fmt(other)})` : "";
      const reference = `${above ? ">" : "<"} ${otherName}${otherText}`;
      const tolerance = margin > 0 ? `margin ${fmtRef(margin)}` : "";
      let problem = missing;
      if (!problem && typeof value !== "number") problem = `expected a number, measured ${fmtMeasured(value)}`;
      else if (!problem && typeof other !== "number") problem = `the value it is compared with, "${otherName}", is ${fmtMeasured(other)}`;
      else if (!problem && !Number.isFinite(value as number)) problem = `measured ${value}`;
      else if (!problem) {
        const v = value as number, o = other as number;
        const ok = above ? v > o + margin : v < o - margin;
        if (!ok) problem = `measured ${fmt(v)}, not ${above ? "above" : "below"} ${otherName} ${fmt(o)}${margin > 0 ? ` ${above ? "+" : "−"} ${fmtRef(margin)}` : ""}`;
      }
      row(name, value, reference, tolerance, problem);
    } else if ("value" in ref && typeof ref.value === "boolean") {
      let problem = missing;
      if (!problem && typeof value !== "boolean") problem = `expected ${ref.value} (a boolean), measured ${fmtMeasured(value)}`;
      else if (!problem && value !== ref.value) problem = `measured ${value}, expected ${ref.value}`;
      row(name, value, String(ref.value), "", problem);
    } else if ("value" in ref) {
      const r = ref as { value: number; tolerance: number };
      let problem = missing;
      if (!problem && typeof value !== "number") problem = `expected a number, measured ${fmtMeasured(value)}`;
      else if (!problem && !(Math.abs((value as number) - r.value) <= r.tolerance + SLACK * Math.max(1, Math.abs(r.value)))) {
        problem = `measured ${fmtMeasured(value)}, expected ${fmtRef(r.value)}${r.tolerance > 0 ? ` ± ${fmtRef(r.tolerance)}` : " exactly"}`;
      }
      row(name, value, fmtRef(r.value), r.tolerance > 0 ? `± ${fmtRef(r.tolerance)}` : "exact", problem);
    } else {
      const r = ref as { min?: number; max?: number };
      const reference = r.min !== undefined && r.max !== undefined ? `${fmtRef(r.min)} … ${fmtRef(r.max)}` : r.min !== undefined ? `≥ ${fmtRef(r.min)}` : `≤ ${fmtRef(r.max!)}`;
      let problem = missing;
      if (!problem && typeof value !== "number") problem = `expected a number, measured ${fmtMeasured(value)}`;
      else if (!problem) {
        const v = value as number;
        const slack = (b: number) => SLACK * Math.max(1, Math.abs(b));
        const ok = (r.min === undefined || v >= r.min - slack(r.min)) && (r.max === undefined || v <= r.max + slack(r.max)) && !Number.isNaN(v);
        if (!ok) problem = `measured ${fmt(v)}, outside ${reference}`;
      }
      row(name, value, reference, "range", problem);
    }
  }
  for (const [name, value] of Object.entries(measured)) {
    const check = table.checks[name];
    if (check !== undefined && applies(check)) continue;
    const why =
      check !== undefined
        ? `measured, but its check belongs to group "${check.group}", which this call does not apply`
        : `measured, but ${file} has no check of this name`;
    row(name, value, "(none)", "", why);
  }
  return {
    notebook,
    profile: opts.profile,
    file,
    group: opts.group,
    groupNote: opts.group !== undefined ? groups[opts.group] : undefined,
    rows,
    failures,
  };
}

/** The report as plain text (a caption line, aligned columns, the failures). */
export function formatReferenceReport(report: ReferenceCheckReport): string {
  const header = ["check", "measured", "reference", "tolerance", "ok"];
  const cells = report.rows.map((r) => [r.check, r.measured, r.reference, r.tolerance, r.ok ? "yes" : "NO"]);
  const widths = header.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j]!.length)));
  const line = (c: string[]) => c.map((v, j) => v.padEnd(widths[j]!)).join("  ").trimEnd();
  return [
    caption(report),
    ...(report.groupNote ? [`note (${report.group}): ${report.groupNote}`] : []),
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
  ].join("\n");
}

function caption(report: ReferenceCheckReport): string {
  const failed = report.failures.length;
  const where = displayPath(report.file);
  return `${report.notebook}: ${report.rows.length} checks against ${where.startsWith("..") ? report.file : where} (profile ${report.profile}` +
    `${report.group !== undefined ? `, group ${report.group}` : ""}): ${failed === 0 ? "all passed" : `${failed} FAILED`}`;
}

/**
 * Compares the notebook's measured headline numbers with its reference table for the current
 * profile (see the module comment), shows the table (in a notebook; printed elsewhere unless
 * `quiet`) and throws a {@link ReferenceCheckError} listing every failure. Returns nothing, so a
 * notebook cell echoes nothing.
 */
export function checkReferences(notebook: string, measured: Readonly<Record<string, MeasuredValue>>, opts: CheckReferencesOptions = {}): void {
  const { file, table } = readReferenceTable(notebook, opts);
  const report = evaluateReferences(table, measured, { notebook, profile: opts.profile ?? currentProfile(), group: opts.group, file });
  if (!opts.quiet) {
    if (insideTslab()) {
      if (report.groupNote) console.log(`note (${report.group}): ${report.groupNote}`);
      showTable(
        report.rows.map((r) => ({ check: r.check, measured: r.measured, reference: r.reference, tolerance: r.tolerance, ok: r.ok ? "yes" : "NO" })),
        { caption: caption(report) },
      );
    } else {
      console.log(formatReferenceReport(report));
    }
  }
  if (report.failures.length > 0) throw new ReferenceCheckError(report);
}
