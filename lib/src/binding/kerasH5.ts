import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { InputError, shorten } from "../errors";
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
  config: { name: string } & Record<string, unknown>;
  inbound_nodes?: unknown;
}

/** The parsed `model_config` attribute. */
interface KerasModelConfig {
  class_name: string;
  config: { name: string; layers: KerasLayerConfig[]; input_layers?: unknown; output_layers?: unknown };
}

/**
 * Loads a published CEITEC Keras model (`.h5`, Keras 2.2.4-tf, architecture arch_00b) into our
 * {@link buildArch00b} network: checks the stored architecture layer by layer, then copies every
 * weight by layer name in the order of the file's `weight_names` (Keras and tfjs-layers share the
 * channels-last layouts: conv kernels HWIO, dense kernels shape=(in, out), and both flatten NHWC, so
 * no transposition is needed). The returned model is compiled like a fresh arch_00b.
 */
export async function loadKerasH5(file: string): Promise<tf.LayersModel> {
  const h5file = await openH5(file);
  // Every HDF5 read below is synchronous: one capture keeps the library's diagnostics off stderr.
  return quietly(() => readArch00b(h5file, file), file, "the model");
}

/** Builds arch_00b and fills it from an open Keras file (closed on return). */
function readArch00b(h5file: H5File, file: string): tf.LayersModel {
  let model: tf.LayersModel | null = null;
  try {
    const { info, config } = readInfo(h5file, file);
    model = buildArch00b();
    checkArchitecture(info, model, file);
    checkLayerConfigs(config, model, file);
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
        const value = quietly(() => dataset.value, file, `weight '${layer.name}/${name}'`);
        return tf.tensor(Float32Array.from(value as ArrayLike<number>), expected as number[], "float32");
      });
      layer.setWeights(values);
      tf.dispose(values);
    }
    const loaded = model;
    model = null;
    return loaded;
  } finally {
    model?.dispose();
    h5file.close();
  }
}

/**
 * Opens a Keras HDF5 file for reading: missing file, no HDF5 signature, a file shorter than its
 * superblock says (truncated) and files HDF5 cannot open are InputErrors naming the file. The
 * HDF5 library's own diagnostics (dozens of lines on stderr) are swallowed.
 */
async function openH5(file: string): Promise<H5File> {
  const h5 = await loadH5wasm();
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new InputError("model file not found", { file });
  if (stat.isDirectory()) throw new InputError("is a folder, expected a Keras .h5 file", { file });
  const signatureAt = hdf5SignatureOffset(file);
  if (signatureAt < 0) throw new InputError("not an HDF5 file (no HDF5 signature; expected a Keras .h5 model)", { file });
  const expected = hdf5ExpectedSize(file, signatureAt);
  if (expected !== null && stat.size < expected) {
    throw new InputError(`truncated HDF5 file: ${stat.size.toLocaleString("en-US")} bytes, its superblock says ${expected.toLocaleString("en-US")}`, { file });
  }
  return quietly(() => new h5.File(file, "r"), file, "the file");
}

/**
 * Runs an h5wasm call with the HDF5 library's stderr diagnostics captured; a failure becomes
 * one InputError ("cannot read <what> (corrupt HDF5 file?): <first diagnostic>").
 */
function quietly<T>(call: () => T, file: string, what: string): T {
  const captured: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  }) as typeof process.stderr.write;
  // h5wasm's file system layer may also write to descriptor 2 directly.
  // The node:fs module object itself (an `import * as` namespace may be a read-only copy).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsModule = require("node:fs") as { writeSync: typeof fs.writeSync };
  const originalWriteSync = fsModule.writeSync;
  fsModule.writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fd !== 2) return (originalWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
    if (typeof data === "string") {
      captured.push(data);
      return Buffer.byteLength(data);
    }
    const offset = typeof rest[0] === "number" ? rest[0] : 0;
    const length = typeof rest[1] === "number" ? rest[1] : data.byteLength - offset;
    captured.push(Buffer.from(data.buffer, data.byteOffset + offset, length).toString("utf8"));
    return length;
  }) as typeof fs.writeSync;
  try {
    return call();
  } catch (e) {
    if (e instanceof InputError) throw e;
    // HDF5's error stack: "#000: …/H5A.c line 1022 in H5Aread(): can't synchronously read data".
    const top = /#\d{3}: .* in ([A-Za-z0-9_]+\(\)): (.+)$/m.exec(captured.join(""));
    const detail = top ? `${top[2]!.trim()} in ${top[1]}` : (e as Error).message;
    throw new InputError(`cannot read ${what} (truncated or corrupt HDF5 file?): ${shorten(detail, 120)}`, { file });
  } finally {
    process.stderr.write = original;
    fsModule.writeSync = originalWriteSync;
  }
}

/** Reads the model name, Keras version and layer list of a Keras HDF5 file. */
export async function readKerasH5Info(file: string): Promise<KerasH5Info> {
  const h5file = await openH5(file);
  try {
    return quietly(() => readInfo(h5file, file).info, file, "the model description");
  } finally {
    h5file.close();
  }
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Offset of the HDF5 signature (0, 512, 1024, … after a user block), or -1 when there is none. */
function hdf5SignatureOffset(file: string): number {
  const fd = fs.openSync(file, "r");
  try {
    const probe = Buffer.alloc(8);
    for (let offset = 0; offset <= 8192; offset = offset === 0 ? 512 : offset * 2) {
      if (fs.readSync(fd, probe, 0, 8, offset) < 8) return -1;
      if (probe.equals(HDF5_SIGNATURE)) return offset;
    }
    return -1;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The file size the HDF5 superblock at `at` promises (base address + end-of-file address), or
 * null when the superblock cannot say (unknown version, undefined address). Superblock versions
 * 0 and 1: version, free-space, root-group and shared-header versions, offset and length sizes,
 * B-tree Ks, flags (v1: indexed-storage K), then base, free-space, end-of-file addresses;
 * versions 2 and 3: version, offset and length sizes, flags, then base, extension, end-of-file.
 */
function hdf5ExpectedSize(file: string, at: number): number | null {
  const fd = fs.openSync(file, "r");
  try {
    const sb = Buffer.alloc(96);
    const got = fs.readSync(fd, sb, 0, sb.length, at);
    if (got < 16) return Number.MAX_SAFE_INTEGER; // not even a superblock: truncated
    const version = sb[8]!;
    let offsetSize: number;
    let baseAt: number;
    let eofAt: number;
    if (version === 0 || version === 1) {
      offsetSize = sb[13]!;
      baseAt = version === 0 ? 24 : 28;
      eofAt = baseAt + 2 * offsetSize;
    } else if (version === 2 || version === 3) {
      offsetSize = sb[9]!;
      baseAt = 12;
      eofAt = baseAt + 2 * offsetSize;
    } else return null;
    if (offsetSize !== 8 && offsetSize !== 4) return null;
    if (got < eofAt + offsetSize) return Number.MAX_SAFE_INTEGER;
    const read = (pos: number) => (offsetSize === 8 ? Number(sb.readBigUInt64LE(pos)) : sb.readUInt32LE(pos));
    const undefinedAddress = offsetSize === 8 ? 2 ** 64 - 1 : 2 ** 32 - 1;
    const base = read(baseAt);
    const eof = read(eofAt);
    if (base >= undefinedAddress || eof >= undefinedAddress) return null;
    return base + eof;
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

function readInfo(h5file: H5File, file: string): { info: KerasH5Info; config: KerasModelConfig } {
  const configText = quietly(() => attrStrings(h5file, "model_config")[0], file, "'model_config'");
  if (!configText) throw new InputError("no 'model_config' attribute (is this a Keras HDF5 model?)", { file });
  let config: KerasModelConfig;
  try {
    config = JSON.parse(configText);
  } catch {
    throw new InputError("'model_config' is not valid JSON", { file });
  }
  const layers = config?.config?.layers;
  if (!Array.isArray(layers) || layers.some((l) => typeof l?.class_name !== "string" || typeof l?.config?.name !== "string")) {
    throw new InputError("'model_config' has no list of layers with class_name and config.name (not a Keras functional model)", { file });
  }
  const info = {
    modelName: String(config.config.name),
    kerasVersion: attrStrings(h5file, "keras_version")[0] ?? "unknown",
    backend: attrStrings(h5file, "backend")[0] ?? "unknown",
    layers: layers.map((l) => `${l.class_name}:${l.config.name}`),
  };
  return { info, config };
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

// ---------------------------------------------------------------------------------------------
// layer configurations: the file's, field by field, against the arch_00b we build

/** A field's value in a comparable form, or a text saying why it is malformed. */
type Canonical = string;

const PAIR = (v: unknown): Canonical => JSON.stringify(typeof v === "number" ? [v, v] : v);
const FLOAT32 = (v: unknown): Canonical => (typeof v === "number" ? String(Math.fround(v)) : JSON.stringify(v));
const DATA_FORMAT = (v: unknown): Canonical => JSON.stringify(v === "channelsLast" ? "channels_last" : v === "channelsFirst" ? "channels_first" : v);
const PLAIN = (v: unknown): Canonical => JSON.stringify(v ?? null);

interface FieldSpec {
  /** The Keras default, used when the file (or our config) omits the field. */
  default: unknown;
  canonical: (v: unknown, rank: number) => Canonical;
  /** How to show a value in the message. */
  show?: (v: unknown) => string;
}

const F = (def: unknown, canonical: FieldSpec["canonical"] = PLAIN): FieldSpec => ({ default: def, canonical });
const AXIS = (v: unknown, rank: number): Canonical => {
  const list = (Array.isArray(v) ? v : [v]) as unknown[];
  return JSON.stringify(list.map((a) => (typeof a === "number" && a < 0 ? a + rank : a)));
};

/**
 * Every field that changes what a layer computes (or how it trains), per Keras class, with the
 * Keras default. Names, initialisers, regularisers, constraints and dropout seeds do not change a
 * loaded model's output and are not compared.
 */
const LAYER_FIELDS: Record<string, Record<string, FieldSpec>> = {
  InputLayer: { batch_input_shape: F(null), dtype: F("float32"), sparse: F(false) },
  Conv2D: {
    filters: F(null), kernel_size: F(null, PAIR), strides: F([1, 1], PAIR), padding: F("valid"), data_format: F("channels_last", DATA_FORMAT),
    dilation_rate: F([1, 1], PAIR), activation: F("linear"), use_bias: F(true), dtype: F("float32"),
  },
  LeakyReLU: { alpha: F(0.3, FLOAT32), dtype: F("float32") },
  BatchNormalization: {
    axis: F(-1, AXIS), momentum: F(0.99, FLOAT32), epsilon: F(1e-3, FLOAT32), center: F(true), scale: F(true), dtype: F("float32"),
  },
  MaxPooling2D: { pool_size: F([2, 2], PAIR), strides: F(null, PAIR), padding: F("valid"), data_format: F("channels_last", DATA_FORMAT), dtype: F("float32") },
  Dropout: { rate: F(null, FLOAT32), noise_shape: F(null), dtype: F("float32") },
  Flatten: { data_format: F("channels_last", DATA_FORMAT), dtype: F("float32") },
  Dense: { units: F(null), activation: F("linear"), use_bias: F(true), dtype: F("float32") },
};

const camelCase = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The value of `field` in a config (Keras snake_case or tfjs camelCase), or `undefined`. */
function fieldOf(config: Record<string, unknown>, field: string): unknown {
  if (field in config) return config[field];
  const camel = camelCase(field);
  return camel in config ? config[camel] : undefined;
}

/** A value as it reads in a message. */
function showValue(v: unknown): string {
  return shorten(typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v), 60);
}

/**
 * Compares the file's layer configurations with the arch_00b we build, field by field, for every
 * layer (and the wiring: each layer's input is the previous one). Any difference is an
 * InputError naming the layer and the field: scores from a network we do not implement would be
 * wrong without a warning.
 */
function checkLayerConfigs(stored: KerasModelConfig, model: tf.LayersModel, file: string): void {
  const ours = model.layers;
  stored.config.layers.forEach((layer, k) => {
    const our = ours[k]!;
    const where = `layer ${k + 1} '${shorten(layer.config.name, 40)}' (${layer.class_name})`;
    const fields = LAYER_FIELDS[layer.class_name];
    if (!fields) throw new InputError(`model '${stored.config.name}': ${where}: class ${layer.class_name} is not part of arch_00b`, { file });
    const ourConfig = our.getConfig() as Record<string, unknown>;
    const rank = (Array.isArray(our.input) ? our.input[0]! : our.input).shape.length;
    for (const [field, spec] of Object.entries(fields)) {
      const theirs = fieldOf(layer.config, field);
      let mine = fieldOf(ourConfig, field);
      if (field === "dtype") mine = "float32";
      if (layer.class_name === "MaxPooling2D" && field === "strides") {
        // Keras: strides None = the pool size.
        const pool = fieldOf(layer.config, "pool_size") ?? spec.default;
        const theirStrides = theirs ?? pool;
        if (spec.canonical(theirStrides, rank) !== spec.canonical(mine ?? fieldOf(ourConfig, "pool_size"), rank)) {
          throw fieldError(stored, where, field, theirStrides, mine, file);
        }
        continue;
      }
      const a = spec.canonical(theirs === undefined ? spec.default : theirs, rank);
      const b = spec.canonical(mine === undefined ? spec.default : mine, rank);
      if (a !== b) throw fieldError(stored, where, field, theirs === undefined ? spec.default : theirs, mine === undefined ? spec.default : mine, file);
    }
    // Wiring: a chain, layer k fed by layer k − 1.
    const expectedInbound = k === 0 ? [] : [ours[k - 1]!.name];
    const inbound = inboundNames(layer.inbound_nodes);
    if (inbound === null || JSON.stringify(inbound) !== JSON.stringify(expectedInbound)) {
      throw new InputError(
        `model '${stored.config.name}' is wired differently from arch_00b: ${where} takes its input from ${inbound === null ? "an unreadable inbound_nodes" : inbound.length ? inbound.map((n) => `'${shorten(n, 40)}'`).join(", ") : "nothing"}, expected ${expectedInbound.length ? `'${expectedInbound[0]}'` : "nothing"}`,
        { file },
      );
    }
  });
  const ends = (v: unknown) => (Array.isArray(v) ? v.map((e) => (Array.isArray(e) ? String(e[0]) : String(e))) : null);
  const inputs = ends(stored.config.input_layers);
  const outputs = ends(stored.config.output_layers);
  if (inputs !== null && JSON.stringify(inputs) !== JSON.stringify([ours[0]!.name])) {
    throw new InputError(`model '${stored.config.name}': input layers ${showValue(inputs)}, expected ['${ours[0]!.name}']`, { file });
  }
  if (outputs !== null && JSON.stringify(outputs) !== JSON.stringify([ours[ours.length - 1]!.name])) {
    throw new InputError(`model '${stored.config.name}': output layers ${showValue(outputs)}, expected ['${ours[ours.length - 1]!.name}']`, { file });
  }
}

function fieldError(stored: KerasModelConfig, where: string, field: string, theirs: unknown, ours: unknown, file: string): InputError {
  return new InputError(
    `model '${stored.config.name}' differs from arch_00b: ${where} has ${field} ${showValue(theirs)}, expected ${showValue(ours)} (this loader implements arch_00b exactly; its scores would be wrong)`,
    { file },
  );
}

/** Names of the layers feeding a Keras layer (`[[["conv_1", 0, 0, {}]]]` → ["conv_1"]), or null when malformed. */
function inboundNames(nodes: unknown): string[] | null {
  if (nodes === undefined) return null;
  if (!Array.isArray(nodes)) return null;
  if (nodes.length === 0) return [];
  if (nodes.length !== 1 || !Array.isArray(nodes[0])) return null;
  const names: string[] = [];
  for (const entry of nodes[0] as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") return null;
    names.push(entry[0]);
  }
  return names;
}
