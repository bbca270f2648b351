import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { buildArch00b } from "./arch00b";

/** What the Keras HDF5 file says about itself. */
export interface KerasH5Info {
  modelName: string;
  kerasVersion: string;
  backend: string;
  /** Layers in order, as `Class:name`. */
  layers: string[];
}

// The part of h5wasm (ESM-only) this module uses, typed here so the CommonJS build needs no ESM types.
interface H5Attribute { value: unknown }
interface H5Node { type: string; attrs: Record<string, H5Attribute | undefined> }
interface H5Group extends H5Node { keys(): string[]; get(path: string): H5Group | H5Dataset | null }
interface H5Dataset extends H5Node { shape: number[] | null; value: unknown }
interface H5File extends H5Group { close(): void }
interface H5Module { ready: Promise<unknown>; File: new (path: string, mode: "r") => H5File }

let h5Module: Promise<H5Module> | undefined;
async function loadH5wasm(): Promise<H5Module> {
  // A real dynamic import (kept by module Node16) loads the ESM-only package from CommonJS.
  h5Module ??= (import("h5wasm/node") as Promise<unknown> as Promise<H5Module>).then(async (m) => {
    await m.ready;
    return m;
  });
  return h5Module;
}

interface KerasLayerConfig {
  class_name: string;
  name?: string;
  config: { name: string; alpha?: number; epsilon?: number; filters?: number; units?: number };
}

/**
 * Loads a published CEITEC Keras model (`.h5`, Keras 2.2.4-tf, architecture arch_00b) into our
 * {@link buildArch00b} network: checks the stored architecture layer by layer, then copies every
 * weight by layer name in the order of the file's `weight_names` (Keras and tfjs-layers share the
 * channels-last layouts: conv kernels HWIO, dense kernels [in, out], and both flatten NHWC, so
 * no transposition is needed). The returned model is compiled like a fresh arch_00b.
 */
export async function loadKerasH5(file: string): Promise<tf.LayersModel> {
  const h5 = await loadH5wasm();
  if (!fs.existsSync(file)) throw new InputError("model file not found", { file });
  if (!hasHdf5Signature(file)) throw new InputError("not an HDF5 file (no HDF5 signature; expected a Keras .h5 model)", { file });
  let h5file: H5File;
  try {
    h5file = new h5.File(file, "r");
  } catch (e) {
    throw new InputError(`not a readable HDF5 file (${(e as Error).message})`, { file });
  }
  try {
    const info = readInfo(h5file, file);
    const model = buildArch00b();
    checkArchitecture(info, model, file);
    const weightsRoot = h5file.get("model_weights");
    if (!isGroup(weightsRoot)) throw new InputError("no 'model_weights' group (is this a Keras model file?)", { file });
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const group = weightsRoot.get(layer.name);
      if (!isGroup(group)) throw new InputError(`no weights for layer '${layer.name}'`, { file });
      const names = attrStrings(group, "weight_names");
      if (names.length !== layer.weights.length) {
        throw new InputError(`layer '${layer.name}' has ${names.length} weights in the file, expected ${layer.weights.length}`, { file });
      }
      const values = names.map((name, k) => {
        const dataset = group.get(name);
        if (!isDataset(dataset)) throw new InputError(`missing weight '${layer.name}/${name}'`, { file });
        const expected = layer.weights[k]!.shape;
        const shape = dataset.shape ?? [];
        if (shape.join(",") !== expected.join(",")) {
          throw new InputError(`weight '${layer.name}/${name}' has shape [${shape}], expected [${expected}]`, { file });
        }
        return tf.tensor(Float32Array.from(dataset.value as ArrayLike<number>), expected as number[], "float32");
      });
      layer.setWeights(values);
      tf.dispose(values);
    }
    return model;
  } finally {
    h5file.close();
  }
}

/** Reads the model name, Keras version and layer list of a Keras HDF5 file. */
export async function readKerasH5Info(file: string): Promise<KerasH5Info> {
  const h5 = await loadH5wasm();
  if (!fs.existsSync(file)) throw new InputError("model file not found", { file });
  if (!hasHdf5Signature(file)) throw new InputError("not an HDF5 file (no HDF5 signature; expected a Keras .h5 model)", { file });
  const h5file = new h5.File(file, "r");
  try {
    return readInfo(h5file, file);
  } finally {
    h5file.close();
  }
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 files start with an 8-byte signature at offset 0, 512, 1024, … (after a user block). */
function hasHdf5Signature(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const probe = Buffer.alloc(8);
    for (let offset = 0; offset <= 8192; offset = offset === 0 ? 512 : offset * 2) {
      if (fs.readSync(fd, probe, 0, 8, offset) < 8) return false;
      if (probe.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function isGroup(x: unknown): x is H5Group {
  return x !== null && typeof x === "object" && (x as H5Group).type === "Group";
}
function isDataset(x: unknown): x is H5Dataset {
  return x !== null && typeof x === "object" && (x as H5Dataset).type === "Dataset";
}

function attrStrings(node: H5Node, name: string): string[] {
  const attr = node.attrs[name];
  if (!attr) return [];
  const value = attr.value;
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function readInfo(h5file: H5File, file: string): KerasH5Info {
  const configText = attrStrings(h5file, "model_config")[0];
  if (!configText) throw new InputError("no 'model_config' attribute (is this a Keras HDF5 model?)", { file });
  let config: { class_name: string; config: { name: string; layers: KerasLayerConfig[] } };
  try {
    config = JSON.parse(configText);
  } catch {
    throw new InputError("'model_config' is not valid JSON", { file });
  }
  return {
    modelName: config.config.name,
    kerasVersion: attrStrings(h5file, "keras_version")[0] ?? "unknown",
    backend: attrStrings(h5file, "backend")[0] ?? "unknown",
    layers: config.config.layers.map((l) => `${l.class_name}:${l.config.name}`),
  };
}

// Keras class names of the layers our builder makes, in order.
const TFJS_TO_KERAS_CLASS: Record<string, string> = {
  InputLayer: "InputLayer", Conv2D: "Conv2D", LeakyReLU: "LeakyReLU", BatchNormalization: "BatchNormalization",
  MaxPooling2D: "MaxPooling2D", Dropout: "Dropout", SeededDropout: "Dropout", Flatten: "Flatten", Dense: "Dense",
};

function checkArchitecture(info: KerasH5Info, model: tf.LayersModel, file: string): void {
  const ours = model.layers.map((l) => `${TFJS_TO_KERAS_CLASS[l.getClassName()] ?? l.getClassName()}:${l.name}`);
  if (ours.length !== info.layers.length || ours.some((l, i) => l !== info.layers[i])) {
    const i = ours.findIndex((l, k) => l !== info.layers[k]);
    throw new InputError(
      `model '${info.modelName}' is not arch_00b: layer ${i + 1} is ${info.layers[i] ?? "missing"}, expected ${ours[i] ?? "nothing"}`,
      { file },
    );
  }
}
