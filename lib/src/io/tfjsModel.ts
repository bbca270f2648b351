import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError, shorten } from "../errors";
import { binaryFileKind, writeFileAtomic } from "./files";

/** File names of a saved model folder (the tfjs "layers-model" format, as tfjs-node writes it). */
const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

/**
 * Saves a model into `folder` as `model.json` + `weights.bin` (the TensorFlow.js layers format,
 * readable by `tf.loadLayersModel` in the browser or tfjs-node). Works on every backend (the
 * `file://` handler exists only in tfjs-node). Each file is written atomically.
 */
export async function saveTfjsModel(model: tf.LayersModel, folder: string): Promise<void> {
  fs.mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const weights = weightData === undefined
        ? Buffer.alloc(0)
        : Buffer.concat((Array.isArray(weightData) ? weightData : [weightData]).map((b) => Buffer.from(b)));
      const json = {
        format: "layers-model",
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: "mirna-dl",
        modelTopology: artifacts.modelTopology,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileAtomic(path.join(folder, WEIGHTS_BIN), weights);
      writeFileAtomic(path.join(folder, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.length } };
    }),
  );
}

/** Bytes per value of the weight dtypes tfjs writes. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/**
 * Loads a model saved by {@link saveTfjsModel} (or by tfjs-node's `file://` handler). Errors
 * name the file: no model.json, invalid JSON, not the layers format, a missing weights file,
 * weights files shorter or longer than model.json describes (truncated weights.bin), a topology
 * tfjs cannot rebuild (an unknown layer, a negative size) or that does not fit its weights.
 */
export async function loadTfjsModel(folder: string): Promise<tf.LayersModel> {
  const stat = fs.statSync(folder, { throwIfNoEntry: false });
  if (!stat) throw new InputError("model not found", { file: folder });
  const jsonPath = stat.isDirectory() ? path.join(folder, MODEL_JSON) : folder;
  if (!fs.existsSync(jsonPath)) throw new InputError(`no ${MODEL_JSON} found`, { file: folder });
  let json: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; trainingConfig?: tf.io.TrainingConfig };
  try {
    const raw = fs.readFileSync(jsonPath);
    const kind = binaryFileKind(raw.subarray(0, 16));
    if (kind) throw new InputError(`is ${kind}, expected a TensorFlow.js model.json`, { file: jsonPath });
    json = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not a valid model.json (${shorten((e as Error).message, 100)})`, { file: jsonPath });
  }
  if (json === null || typeof json !== "object" || typeof json.modelTopology !== "object" || json.modelTopology === null) {
    throw new InputError("not a TensorFlow.js layers model: no 'modelTopology'", { file: jsonPath });
  }
  const dir = path.dirname(jsonPath);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  if (json.weightsManifest !== undefined && !Array.isArray(json.weightsManifest)) {
    throw new InputError("'weightsManifest' is not a list", { file: jsonPath });
  }
  for (const group of json.weightsManifest ?? []) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) throw new InputError("a 'weightsManifest' entry lacks 'paths' or 'weights'", { file: jsonPath });
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new InputError(`weights file '${p}' is missing`, { file: jsonPath });
      buffers.push(fs.readFileSync(file));
    }
  }
  let expected = 0;
  for (const spec of specs) {
    const bytes = DTYPE_BYTES[spec.dtype];
    if (bytes === undefined || !Array.isArray(spec.shape) || (spec as { quantization?: unknown }).quantization !== undefined) {
      expected = -1;
      break;
    }
    expected += bytes * spec.shape.reduce((a, b) => a * b, 1);
  }
  const all = Buffer.concat(buffers);
  if (expected >= 0 && all.length !== expected) {
    const files = json.weightsManifest!.flatMap((g) => g.paths).join(", ");
    throw new InputError(
      `${files} hold${json.weightsManifest!.flatMap((g) => g.paths).length === 1 ? "s" : ""} ${all.length.toLocaleString("en-US")} bytes, model.json describes ${expected.toLocaleString("en-US")} (${all.length < expected ? "truncated" : "another model's"} weights?)`,
      { file: jsonPath },
    );
  }
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData, trainingConfig: json.trainingConfig }),
    );
  } catch (e) {
    // tfjs' own words (an unknown layer class, `units: -5`, a weight that does not fit), first line only.
    const why = shorten(((e as Error).message ?? String(e)).split("\n")[0]!.trim(), 160);
    throw new InputError(`cannot build the model it describes: ${why}`, { file: jsonPath });
  }
}

/**
 * Loads the weights of a model folder saved by {@link saveTfjsModel} into `model` (same layers
 * and shapes, else an InputError naming the folder with `mismatch` as its message).
 */
export async function loadWeightsInto(folder: string, model: tf.LayersModel, mismatch = "the saved model has other layers or shapes than this one"): Promise<void> {
  const saved = await loadTfjsModel(folder);
  try {
    const savedWeights = saved.getWeights();
    const own = model.getWeights();
    if (savedWeights.length !== own.length || savedWeights.some((w, i) => w.shape.join() !== own[i]!.shape.join())) {
      throw new InputError(mismatch, { file: folder });
    }
    model.setWeights(savedWeights);
  } finally {
    saved.dispose();
  }
}

/**
 * Throws an InputError naming `file` when a weight of `model` holds NaN or ±Infinity (a training
 * run that diverged, a damaged file): such a model scores everything NaN. Names the first such
 * weight and how many values are not finite.
 */
export function checkFiniteWeights(model: tf.LayersModel, file: string): void {
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const values = weight.read().dataSync();
      let bad = 0;
      let nan = false;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!Number.isFinite(v)) {
          bad++;
          nan ||= Number.isNaN(v);
        }
      }
      if (bad > 0) {
        throw new InputError(`the model's weights hold ${nan ? "NaN" : "infinite values"} (${bad.toLocaleString("en-US")} of ${values.length.toLocaleString("en-US")} values of '${weight.originalName}'): a diverged or damaged model, it cannot score`, { file });
      }
    }
  }
}
