/**
 * The original work's training table (layout: paperLayout.ts): where it is, whether it is
 * there, and reading it. The paper's own experiment (model_train_lock, experiment.ts with
 * `paperTable`) runs only when it is present.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { dataPath, displayPath, LIB_ROOT, REPO_ROOT } from "../data/paths";
import { InputError } from "../errors";
import { PAPER_CHROMOSOME_COLUMN, PAPER_LAYOUT_TITLE } from "./paperLayout";
import { readPairTable } from "./tables";

/**
 * Environment variable naming another copy of the table (e.g. the generated fixture, for CI).
 * A relative path is taken from the repository root, where `npm run notebooks` is typed (the
 * notebook kernels run in notebooks/).
 */
export const PAPER_TABLE_ENV = "MIRNA_DL_PAPER_TABLE";

/** Where `npm run data:fetch` puts the table: `$MIRNA_DL_DATA/mirna_binding/data/datasets/train_set_positives.tsv.gz`. */
export function paperTrainTablePath(): string {
  return dataPath("mirna_binding", "data", "datasets", "train_set_positives.tsv.gz");
}

/** The generated stand-in shipped with the package: 35 columns, synthetic sequences (lib/fixtures/paper). */
export function paperFixturePath(): string {
  return path.join(LIB_ROOT, "fixtures", "paper", "train_set_positives.tsv");
}

/** Where the original repository publishes the table. */
export const PAPER_TABLE_SOURCE = "github.com/ML-Bioinfo-CEITEC/mirna_binding, data/datasets/train_set_positives.tar.xz";

/** Whether the table is there, and why (for the notebook's "which setting ran" sentence). */
export interface PaperTableLocation {
  /** The table to train on, or null when it is absent. */
  file: string | null;
  /** Where the choice came from: the environment variable, the data folder, or neither. */
  source: "env" | "data" | "absent";
  /** One sentence: which file, or why there is none and how to get it. */
  reason: string;
}

/**
 * Finds the table: the file named by `$MIRNA_DL_PAPER_TABLE` when set (relative: from the
 * repository root; an InputError when that file does not exist: an explicit request is never
 * silently dropped), else
 * {@link paperTrainTablePath} when it exists, else absent.
 */
export function locatePaperTable(env: NodeJS.ProcessEnv = process.env): PaperTableLocation {
  const fromEnv = env[PAPER_TABLE_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    const file = path.resolve(REPO_ROOT, fromEnv);
    if (!fs.existsSync(file)) throw new InputError(`${PAPER_TABLE_ENV} names a file that does not exist`, { file });
    const fixture = file === path.resolve(paperFixturePath());
    return { file, source: "env", reason: `${PAPER_TABLE_ENV} names ${displayPath(file)}${fixture ? " (the generated 35-column fixture: synthetic sequences, not the real table)" : ""}` };
  }
  const file = paperTrainTablePath();
  if (fs.existsSync(file)) return { file, source: "data", reason: `the table is in the data folder (${displayPath(file)})` };
  return {
    file: null,
    source: "absent",
    reason: `${displayPath(file)} is not in the data folder (the original repository publishes it, ${PAPER_TABLE_SOURCE}; ` +
      `with internet, npm run data:fetch -- --only train_set_positives.tsv.gz fetches it)`,
  };
}

/** The table as read: the training pairs and what the experiment reports about it. */
export interface PaperTrainTable {
  file: string;
  /** Family representatives (20 nt, DNA alphabet), one per row. */
  mirnas: string[];
  /** 50-nt sites, one per row. */
  sites: string[];
  /** Rows per chromosome, in order of first appearance. */
  chromosomes: Record<string, number>;
  /** Distinct miRNAs (the pool negatives are drawn from). */
  families: number;
  /** sha256 of the file's bytes (identifies the table an experiment folder was trained on). */
  sha256: string;
}

/**
 * Reads and validates the original's training table (any file name; .gz is gunzipped): the 35
 * columns, no chr1 row, 20-nt miRNAs and 50-nt sites, at least one row; errors name the file,
 * the row (and its line) and the column. A table in another format is an InputError.
 */
export async function readPaperTrainTable(file: string): Promise<PaperTrainTable> {
  const table = await readPairTable(file);
  if (table.format !== "paper") {
    throw new InputError(`expected ${PAPER_LAYOUT_TITLE}; this is a ${table.format}-format pair table`, { file });
  }
  const chromosomes: Record<string, number> = {};
  for (const c of table.frame.getColumn(PAPER_CHROMOSOME_COLUMN).toArray() as string[]) chromosomes[c] = (chromosomes[c] ?? 0) + 1;
  const sha256 = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  return { file, mirnas: table.mirnas, sites: table.sites, chromosomes, families: new Set(table.mirnas).size, sha256 };
}
