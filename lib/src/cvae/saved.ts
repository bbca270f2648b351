import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { readMaybeGzip, writeFileAtomic } from "../io/files";
import { loadWeightsInto, saveTfjsModel } from "../io/tfjsModel";
import { EpochRecord } from "../training/checkpoint";
import { ArDecoderInfo, hasArDecoder, loadArDecoder } from "./arDecoder";
import { PROFILE_SIZE, VaeDataset } from "./data";
import { buildCvae, checkCvaeConfig, Cvae, CvaeConfig, disposeCvae } from "./model";
import type { SanityRules } from "./sanity";

/**
 * A trained CVAE on disk: a folder written by {@link saveCvae} and read back by
 * {@link loadCvae}, with
 *   model/             all weights (tfjs layers format)
 *   cvae.json          {@link CvaeModelInfo}: sizes, profile scaling, training options and
 *                      history, the sanity rules generated samples are checked against
 *   training.tsv.gz    the training hairpins (sequence, label, stem, loop, gc): for novelty and
 *                      for drawing profiles
 *   ar-decoder/, ar-decoder.json   the autoregressive column decoder, when trained (arDecoder.ts)
 * Training (train.ts) writes it; generation (generate.ts) and evaluation read it.
 */

/** Normalisation of the profile: (value − mean) / sd per entry. */
export interface ProfileScaling {
  mean: number[];
  sd: number[];
}

/** What `cvae.json` holds. */
export interface CvaeModelInfo {
  format: typeof CVAE_FORMAT;
  config: CvaeConfig;
  profileNames: string[];
  profileScaling: ProfileScaling;
  training: {
    seed: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    decayFrom: number;
    beta: number;
    warmupEpochs: number;
    classWeight: number;
    profileWeight: number;
    validationFraction: number;
    samples: number;
    positives: number;
    steps: number;
    backend: string;
    /** Seconds of training in this process (a resumed run counts only its own epochs). */
    seconds: number;
    /** Mean seconds per epoch over the history (all runs). */
    secondsPerEpoch: number;
    /** Optimizer steps per second, from the history. */
    stepsPerSecond: number;
  };
  history: EpochRecord[];
  /**
   * The hairpin sanity rules generated samples are checked against, with the MFE-per-nt range
   * from real held-out pre-miRNAs (set by whoever trains and evaluates: the experiment or
   * `hairpin train-vae`); null when not set.
   */
  sanity: { rules: SanityRules; source: string } | null;
}

export const CVAE_FORMAT = "mirna-dl hairpin cvae 1";

/** The profile scaling of a dataset: per entry its mean and sd (sd 1 when constant). */
export function profileScaling(d: Pick<VaeDataset, "n" | "profiles">): ProfileScaling {
  const mean = new Array<number>(PROFILE_SIZE).fill(0);
  const sd = new Array<number>(PROFILE_SIZE).fill(0);
  for (let i = 0; i < d.n; i++) for (let k = 0; k < PROFILE_SIZE; k++) mean[k] = mean[k]! + d.profiles[i * PROFILE_SIZE + k]! / d.n;
  for (let i = 0; i < d.n; i++) for (let k = 0; k < PROFILE_SIZE; k++) sd[k] = sd[k]! + (d.profiles[i * PROFILE_SIZE + k]! - mean[k]!) ** 2 / d.n;
  return { mean, sd: sd.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/** Profiles shape=(n, 3) scaled: (value − mean) / sd. */
export function scaleProfiles(profiles: ArrayLike<number>, scaling: ProfileScaling): Float32Array {
  const out = new Float32Array(profiles.length);
  for (let i = 0; i < profiles.length; i++) out[i] = (profiles[i]! - scaling.mean[i % PROFILE_SIZE]!) / scaling.sd[i % PROFILE_SIZE]!;
  return out;
}

/** The training hairpins saved with a model (novelty, profile draws). */
export interface CvaeTrainingSet {
  sequences: string[];
  labels: Uint8Array;
  /** shape=(n, 3) raw profiles. */
  profiles: Float32Array;
}

/**
 * Saves a trained CVAE into `dir`: `model/` (all weights, tfjs layers format), `cvae.json`
 * ({@link CvaeModelInfo}) and `training.tsv.gz` (sequence, label, stem, loop, gc of every
 * training hairpin). Files are written atomically.
 */
export async function saveCvae(dir: string, cvae: Cvae, info: CvaeModelInfo, training: CvaeTrainingSet): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await saveTfjsModel(cvae.container, path.join(dir, "model"));
  writeFileAtomic(path.join(dir, "cvae.json"), JSON.stringify(info, null, 1));
  const lines = ["sequence\tlabel\tstem\tloop\tgc"];
  for (let i = 0; i < training.sequences.length; i++) {
    const p = training.profiles;
    lines.push(`${training.sequences[i]}\t${training.labels[i]}\t${p[i * 3]}\t${p[i * 3 + 1]}\t${p[i * 3 + 2]!.toFixed(6)}`);
  }
  writeFileAtomic(path.join(dir, "training.tsv.gz"), lines.join("\n") + "\n"); // gzipped by its name
}

/** A CVAE read back by {@link loadCvae}. */
export interface LoadedCvae {
  /** With `cvae.arDecoder` set when the folder holds one. */
  cvae: Cvae;
  info: CvaeModelInfo;
  training: CvaeTrainingSet;
  /** The AR decoder's record, or null when the folder has none. */
  arDecoderInfo: ArDecoderInfo | null;
}

/**
 * Reads a model folder written by {@link saveCvae}. Errors name the file: a missing or
 * unreadable `cvae.json`, another format, weights that do not fit the sizes it declares, a
 * malformed `training.tsv.gz` row.
 */
export async function loadCvae(dir: string): Promise<LoadedCvae> {
  const infoFile = path.join(dir, "cvae.json");
  if (!fs.existsSync(dir)) throw new InputError("model folder not found", { file: dir });
  if (!fs.existsSync(infoFile)) throw new InputError("not a CVAE model folder: no cvae.json (train one with 'mirna-dl hairpin train-vae')", { file: dir });
  let info: CvaeModelInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile, "utf8")) as CvaeModelInfo;
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: infoFile });
  }
  if (typeof info !== "object" || info === null) throw new InputError("not a CVAE description (expected a JSON object)", { file: infoFile });
  if (info.format !== CVAE_FORMAT) throw new InputError(`format '${String(info.format)}' is not '${CVAE_FORMAT}'`, { file: infoFile });
  checkCvaeConfig(info.config, { file: infoFile }, "config."); // before any layer is built from it
  const training = readTrainingSet(path.join(dir, "training.tsv.gz"));
  const cvae = buildCvae(info.config);
  try {
    await loadWeightsInto(path.join(dir, "model"), cvae.container, "the saved weights do not fit the sizes in cvae.json");
  } catch (e) {
    disposeCvae(cvae);
    throw e;
  }
  let arDecoderInfo: ArDecoderInfo | null = null;
  if (hasArDecoder(dir)) {
    try {
      const loaded = await loadArDecoder(dir);
      cvae.arDecoder = loaded.decoder;
      arDecoderInfo = loaded.info;
    } catch (e) {
      disposeCvae(cvae);
      throw e;
    }
  }
  return { cvae, info, training, arDecoderInfo };
}

function readTrainingSet(file: string): CvaeTrainingSet {
  if (!fs.existsSync(file)) throw new InputError("file not found", { file });
  const lines = readMaybeGzip(file).toString("utf8").split("\n").filter((l) => l.length > 0);
  if (lines[0] !== "sequence\tlabel\tstem\tloop\tgc") throw new InputError(`unexpected header '${lines[0]}'`, { file, row: 0 });
  const n = lines.length - 1;
  const sequences: string[] = [];
  const labels = new Uint8Array(n);
  const profiles = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) {
    const f = lines[r + 1]!.split("\t");
    const values = f.slice(1).map(Number);
    if (f.length !== 5 || !/^[ACGU]+$/.test(f[0]!) || values.some((v) => !Number.isFinite(v)) || (values[0] !== 0 && values[0] !== 1)) {
      throw new InputError("expected sequence (A, C, G, U), label 0/1 and three numbers", { file, row: r + 1 });
    }
    sequences.push(f[0]!);
    labels[r] = values[0]!;
    profiles.set(values.slice(1), r * 3);
  }
  return { sequences, labels, profiles };
}
