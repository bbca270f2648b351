/**
 * What later notebooks (interpret) read from the binding experiment of model_train_lock
 * (experiment.ts, in {@link bindingExperimentDir}): a trained model and the held-out test sets
 * of its split, and seeded samples of labelled pairs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { REPO_ROOT } from "../data/paths";
import { DEFAULT_SEED, mulberry32, shuffleInPlace } from "../random";
import { bindingExperimentDir } from "./experiment";
import { SPLIT_FILES } from "./split";
import type { LabelledPairs } from "./tables";

/** What a later notebook reads from the experiment folder. */
export interface ExperimentOutputs {
  dir: string;
  /** The model folder of `config` / `seed` (tfjs format, for openScorer). */
  model: string;
  /** The held-out scan test set of the split (positives first, 20 scan negatives per positive). */
  heldOutScan: string;
  /** The held-out miRNA-negative test set of the split. */
  heldOutMirnaNeg: string;
}

/**
 * The model `config` (default "best": improved iterative training on chr1-train + CLASH) of
 * `seed` (default 1) and the held-out test sets of the experiment in `dir` (default
 * {@link bindingExperimentDir}). Throws an InputError saying to run model_train_lock first when
 * any of them is missing.
 */
export function experimentOutputs(opts: { dir?: string; config?: string; seed?: number } = {}): ExperimentOutputs {
  const dir = opts.dir ?? bindingExperimentDir();
  const config = opts.config ?? "best";
  const seed = opts.seed ?? 1;
  const out: ExperimentOutputs = {
    dir,
    model: path.join(dir, config, `seed-${seed}`, "model"),
    heldOutScan: path.join(dir, "split", SPLIT_FILES.heldOutScan),
    heldOutMirnaNeg: path.join(dir, "split", SPLIT_FILES.heldOutMirnaNeg),
  };
  const missing = [path.join(out.model, "model.json"), out.heldOutScan, out.heldOutMirnaNeg].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new InputError(
      `the binding experiment's outputs are missing (${missing.map((f) => path.relative(REPO_ROOT, f)).join(", ")}): ` +
        `run notebooks/model_train_lock.ipynb first (npm run notebooks -- --only model_train_lock, same MIRNA_DL_PROFILE), ` +
        `which trains the '${config}' model and writes the split into ${dir}`,
    );
  }
  return out;
}

/**
 * A seeded sample of labelled pairs (e.g. the held-out scan set): `positives` positives and
 * `negatives` negatives drawn without replacement among the rows `keep` accepts (default all;
 * every row of a class when it has fewer), kept in their original order, positives first.
 * `rows` gives each sampled pair's index in `pairs`.
 */
export function sampleLabelledPairs(
  pairs: LabelledPairs,
  opts: { positives: number; negatives: number; seed?: number; keep?: (index: number) => boolean; name?: string },
): LabelledPairs & { rows: Int32Array } {
  const random = mulberry32(opts.seed ?? DEFAULT_SEED);
  const rows: number[] = [];
  for (const [label, count] of [[1, opts.positives], [0, opts.negatives]] as const) {
    if (!Number.isInteger(count) || count < 0) throw new InputError(`sample sizes must be non-negative integers, got ${count}`);
    const candidates = Int32Array.from(pairs.labels.keys()).filter((i) => pairs.labels[i] === label && (opts.keep?.(i) ?? true));
    shuffleInPlace(candidates, random);
    rows.push(...Array.from(candidates.subarray(0, Math.min(count, candidates.length))).sort((a, b) => a - b));
  }
  return {
    name: opts.name ?? pairs.name,
    mirnas: rows.map((i) => pairs.mirnas[i]!),
    sites: rows.map((i) => pairs.sites[i]!),
    labels: Uint8Array.from(rows, (i) => pairs.labels[i]!),
    rows: Int32Array.from(rows),
  };
}
