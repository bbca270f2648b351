import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { loadKerasH5 } from "./kerasH5";
import { loadTfjsModel } from "../io/tfjsModel";
import { predictScores, ScorePairsOptions } from "./predict";
import { seedMatchScores } from "./seedMatch";

/** Something that scores miRNA–site pairs: a loaded network or the seed-match baseline. */
export interface PairScorer {
  /** Short name for tables and figures (file name without extension, or "seed-match"). */
  name: string;
  kind: "keras-h5" | "tfjs" | "seed-match";
  /** The network, when there is one. */
  model: tf.LayersModel | null;
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
    return modelScorer(await loadKerasH5(spec), path.basename(spec).replace(/\.[^.]+$/, ""), "keras-h5");
  }
  const isFolder = fs.statSync(spec).isDirectory();
  if (isFolder || spec.endsWith(".json")) {
    const name = path.basename(isFolder ? spec : path.dirname(spec));
    return modelScorer(await loadTfjsModel(spec), name, "tfjs");
  }
  throw new InputError("unknown model type (expected a Keras .h5 file, a tfjs model folder with model.json, or 'seed')", { file: spec });
}
