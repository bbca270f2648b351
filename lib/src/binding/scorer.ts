import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { binaryFileKind, readFileHead } from "../io/files";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";
import { loadKerasH5 } from "./kerasH5";
import { checkFiniteWeights, loadTfjsModel } from "../io/tfjsModel";
import { predictScores, ScorePairsOptions } from "./predict";
import { seedMatchScores } from "./seedMatch";

/** Something that scores miRNA–site pairs: a loaded network or the seed-match baseline. */
export interface PairScorer {
  /** Short name for tables and figures (file name without extension, or "seed-match"). */
  name: string;
  kind: "keras-h5" | "tfjs" | "seed-match";
  /** The network, when there is one. */
  model: tf.LayersModel | null;
  /** Scores of the pairs (`mirnas`, `sites`: shape=(n,) each): Float32Array, shape=(n,). */
  score(mirnas: readonly string[], sites: readonly string[], opts?: ScorePairsOptions): Promise<Float32Array>;
  /** Frees the model's tensors. */
  dispose(): void;
}

/** The seed-match baseline as a scorer (scores 0–4, see seedMatch.ts). */
export function seedMatchScorer(): PairScorer {
  return {
    name: "seed-match",
    kind: "seed-match",
    model: null,
    score: async (mirnas, sites) => seedMatchScores(mirnas, sites),
    dispose: () => {},
  };
}

/** A scorer around a loaded network. */
export function modelScorer(model: tf.LayersModel, name: string, kind: PairScorer["kind"] = "tfjs"): PairScorer {
  return {
    name,
    kind,
    model,
    score: (mirnas, sites, opts) => predictScores(model, mirnas, sites, opts),
    dispose: () => model.dispose(),
  };
}

/**
 * Opens a scorer from a command-line style spec: `seed` (the seed-match baseline), a Keras `.h5`
 * file (the published CEITEC models), or a folder / `model.json` saved in the tfjs format.
 * The TensorFlow.js backend must be initialised first for the network kinds (see backend.ts).
 */
export async function openScorer(spec: string): Promise<PairScorer> {
  if (spec === "seed" || spec === "seed-match") return seedMatchScorer();
  if (!fs.existsSync(spec)) {
    throw new InputError("model not found (give a Keras .h5 file, a tfjs model folder, or 'seed')", { file: spec });
  }
  if (/\.(h5|hdf5|keras)$/i.test(spec)) {
    const model = await loadKerasH5(spec);
    checked(model, () => checkFiniteWeights(model, spec));
    return modelScorer(model, path.basename(spec).replace(/\.[^.]+$/, ""), "keras-h5");
  }
  const isFolder = fs.statSync(spec).isDirectory();
  if (isFolder || spec.endsWith(".json")) {
    const name = path.basename(isFolder ? spec : path.dirname(spec));
    const model = await loadTfjsModel(spec);
    checked(model, () => {
      checkBindingModel(model, spec);
      checkFiniteWeights(model, spec);
    });
    return modelScorer(model, name, "tfjs");
  }
  const kind = binaryFileKind(readHead(spec));
  throw new InputError(`unknown model type${kind ? ` (${kind})` : ""}: expected a Keras .h5 file, a tfjs model folder with model.json, or 'seed'`, { file: spec });
}

/** Runs `check`; when it throws, frees `model` first (the caller never gets it). */
function checked(model: tf.LayersModel, check: () => void): void {
  try {
    check();
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The first 16 bytes of a file (fewer when it is shorter; none when unreadable). */
function readHead(file: string): Buffer {
  try {
    return readFileHead(file);
  } catch {
    return Buffer.alloc(0);
  }
}

/**
 * Throws an InputError naming `file` unless `model` takes binding matrices, shape=(batch, 50, 20,
 * channels) with channels 1 or 2, and gives one probability per pair, shape=(batch, 1): a hairpin
 * classifier or any other network given to `predict` is refused by its shapes instead of failing
 * deep inside tfjs.
 */
export function checkBindingModel(model: tf.LayersModel, file: string): void {
  const show = (shape: readonly (number | null)[]) => `(${shape.map((d) => d ?? "batch").join(", ")})`;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new InputError(`not a binding model: it has ${model.inputs.length} inputs and ${model.outputs.length} outputs, expected 1 and 1`, { file });
  }
  const input = model.inputs[0]!.shape;
  const output = model.outputs[0]!.shape;
  if (input.length !== 4 || input[1] !== SITE_LENGTH || input[2] !== MIRNA_LENGTH || (input[3] !== 1 && input[3] !== 2)) {
    throw new InputError(`not a binding model: its input is ${show(input)}, expected (batch, ${SITE_LENGTH}, ${MIRNA_LENGTH}, 1) binding matrices${input.length === 4 && input[1] === 25 && input[2] === 100 ? " (this looks like a hairpin classifier: use 'mirna-dl hairpin classify')" : ""}`, { file });
  }
  if (output.length !== 2 || output[1] !== 1) {
    throw new InputError(`not a binding model: its output is ${show(output)}, expected (batch, 1) probabilities`, { file });
  }
}
