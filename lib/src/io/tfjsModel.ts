import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { writeFileAtomic } from "./files";

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

/** Loads a model saved by {@link saveTfjsModel} (or by tfjs-node's `file://` handler). */
export async function loadTfjsModel(folder: string): Promise<tf.LayersModel> {
  const jsonPath = fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory() ? path.join(folder, MODEL_JSON) : folder;
  if (!fs.existsSync(jsonPath)) throw new InputError(`no ${MODEL_JSON} found`, { file: folder });
  let json: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; trainingConfig?: tf.io.TrainingConfig };
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
  } catch (e) {
    throw new InputError(`not a valid model.json (${(e as Error).message})`, { file: jsonPath });
  }
  const dir = path.dirname(jsonPath);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new InputError(`weights file '${p}' is missing`, { file: jsonPath });
      buffers.push(fs.readFileSync(file));
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData, trainingConfig: json.trainingConfig }),
  );
}
