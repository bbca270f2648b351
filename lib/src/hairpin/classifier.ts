import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { checkFiniteWeights, loadTfjsModel } from "../io/tfjsModel";
import { CompileSpec, dropout, KERAS_ADAM } from "../ops/nn";
import { predict } from "../predict";
import { DEFAULT_SEED } from "../random";
import { HAIRPIN_IMAGE_CHANNELS, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "./image";

/**
 * The deepMir pre-miRNA classifier (Cordero, Menkovski & Allmer 2019, "Detection of pre-microRNA
 * with Convolutional Neural Networks", bioRxiv 840579; github.com/jacordero/deepmir): a VGG-style
 * CNN over 25 × 100 × 3 hairpin images scaled to [0, 1], two softmax outputs (0 = not a
 * pre-miRNA, 1 = pre-miRNA).
 */

/** Options of {@link buildDeepMirClassifier}. Defaults: the published best without pre-training. */
export interface DeepMirClassifierOptions {
  /** Number of conv modules (1–4). Default 2. */
  modules?: number;
  /** Filters of each module's two convolutions; at least `modules` values. Default [48, 60, 72, 84]. */
  filters?: readonly number[];
  /** Square kernel size of every convolution. Default 3 (the released 3-module model used 5). */
  kernelSize?: number;
  /** Units of the hidden dense layer ("FU"). Default 128. */
  denseUnits?: number;
  /**
   * Padding of the very first convolution. Default "valid", as the released Keras code
   * (`vgg_model_generator.py`: the input layer has no `padding='same'`, every later one has);
   * "same" pads every convolution alike.
   */
  firstConvPadding?: "valid" | "same";
  /** Seed for weight initialisers and dropout masks; layers take seed, seed + 1, … Default 1789. */
  seed?: number;
}

/** How deepMir was trained: Adam(1e-3, 0.9, 0.999, ε 1e-7; Keras' defaults), categorical cross-entropy, accuracy. */
export const DEEPMIR_TRAINING: Readonly<CompileSpec> = Object.freeze({ optimizer: KERAS_ADAM, loss: "categoricalCrossentropy", metrics: ["accuracy"] });

/**
 * Builds the deepMir VGG-style classifier (Cordero et al. 2019, released
 * `vgg_model_generator.py`): per module 2 × Conv2D(filters[i], k × k, ReLU; the first one of
 * the network "valid", all others "same") → MaxPool 2×2 → Dropout 0.25; then Flatten →
 * Dense(denseUnits, ReLU) → Dropout 0.5 → Dense(2, softmax). Input x: shape=(batch, 25, 100, 3),
 * floats in [0, 1] ({@link imagesToTensor}); output shape=(batch, 2), probabilities (column 1 =
 * pre-miRNA).
 * Glorot-uniform kernels and zero biases (Keras defaults) seeded from `seed`. Returned
 * uncompiled: the trainer compiles it ({@link DEEPMIR_TRAINING}). With the defaults: 2 modules →
 * 23 × 98 → 11 × 49 → 5 × 24 × 60 = 7,200 features, 1,002,554 parameters.
 */
export function buildDeepMirClassifier(opts: DeepMirClassifierOptions = {}): tf.LayersModel {
  const modules = opts.modules ?? 2;
  const filters = opts.filters ?? [48, 60, 72, 84];
  const kernelSize = opts.kernelSize ?? 3;
  const denseUnits = opts.denseUnits ?? 128;
  const firstPadding = opts.firstConvPadding ?? "valid";
  if (!Number.isInteger(modules) || modules < 1) throw new InputError(`modules must be a positive integer, got ${modules}`);
  if (filters.length < modules) throw new InputError(`${modules} modules need ${modules} filter counts, got ${filters.length}`);
  if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new InputError(`kernelSize must be a positive integer, got ${kernelSize}`);
  if (!Number.isInteger(denseUnits) || denseUnits < 1) throw new InputError(`denseUnits must be a positive integer, got ${denseUnits}`);
  let nextSeed = opts.seed ?? DEFAULT_SEED;
  const takeSeed = () => nextSeed++;

  const input = tf.input({ shape: [HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_CHANNELS], name: "hairpin_image" });
  let x: tf.SymbolicTensor = input;
  for (let m = 0; m < modules; m++) {
    for (let c = 0; c < 2; c++) {
      x = tf.layers.conv2d({
        name: `module${m + 1}_conv${c + 1}`, filters: filters[m]!, kernelSize,
        padding: m === 0 && c === 0 ? firstPadding : "same", activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: takeSeed() }),
      }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ name: `module${m + 1}_pool`, poolSize: 2, strides: 2, padding: "valid" }).apply(x) as tf.SymbolicTensor;
    x = dropout({ name: `module${m + 1}_dropout`, rate: 0.25, seed: takeSeed() }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({
    name: "dense", units: denseUnits, activation: "relu",
    kernelInitializer: tf.initializers.glorotUniform({ seed: takeSeed() }),
  }).apply(x) as tf.SymbolicTensor;
  x = dropout({ name: "dense_dropout", rate: 0.5, seed: takeSeed() }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({
    name: "logits_layer", units: 2, activation: "softmax",
    kernelInitializer: tf.initializers.glorotUniform({ seed: takeSeed() }),
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: `deepmir_vgg_${modules}x${kernelSize}_dense${denseUnits}` });
}

/** byte → byte / 255 in float32 (as NumPy's float64 division, then cast). */
const BYTE_SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Copies images `indices` of `images` (Uint8Array, shape=(n, 25, 100, 3), row-major bytes,
 * {@link HAIRPIN_IMAGE_SIZE} per image) into a float32 tensor, shape=(indices.length, 25, 100, 3),
 * floats in [0, 1].
 */
export function imagesToTensor(images: Uint8Array, indices: ArrayLike<number>): tf.Tensor4D {
  const count = indices.length;
  const out = new Float32Array(count * HAIRPIN_IMAGE_SIZE);
  for (let k = 0; k < count; k++) {
    const src = indices[k]! * HAIRPIN_IMAGE_SIZE;
    const dst = k * HAIRPIN_IMAGE_SIZE;
    for (let j = 0; j < HAIRPIN_IMAGE_SIZE; j++) out[dst + j] = BYTE_SCALE[images[src + j]!]!;
  }
  return tf.tensor4d(out, [count, HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_CHANNELS], "float32");
}

/**
 * Number of images n in a byte array of shape=(n, 25, 100, 3), or an InputError when its length
 * is not a multiple of 25 × 100 × 3.
 */
export function imageCount(images: Uint8Array): number {
  if (images.length % HAIRPIN_IMAGE_SIZE !== 0) {
    throw new InputError(`image bytes (${images.length}) are not a multiple of 25 × 100 × 3 = ${HAIRPIN_IMAGE_SIZE}`);
  }
  return images.length / HAIRPIN_IMAGE_SIZE;
}

/**
 * Rows `indices` (default: all) of `images` (Uint8Array, shape=(n, 25, 100, 3)) as an input
 * source for {@link predict}: make(start, end) gives shape=(end − start, 25, 100, 3), floats in [0, 1].
 */
export function imageSource(images: Uint8Array, indices?: ArrayLike<number>): { n: number; make(start: number, end: number): tf.Tensor } {
  const rows = indices ?? { length: imageCount(images) };
  const n = rows.length;
  return {
    n,
    make: (start, end) => imagesToTensor(images, indices ? Array.from({ length: end - start }, (_, k) => indices[start + k]!) : Array.from({ length: end - start }, (_, k) => start + k)),
  };
}

/**
 * Probability of "pre-miRNA" (softmax column 1) for each image of `images` (Uint8Array,
 * shape=(n, 25, 100, 3)), computed in batches of `batchSize` (default 256) by the shared
 * {@link predict}. Returns Float32Array, shape=(n,).
 */
export function predictHairpinImages(model: tf.LayersModel, images: Uint8Array, batchSize = 256): Float32Array {
  imageCount(images);
  return predict(model, imageSource(images), { batchSize, select: (y) => y.slice([0, 1], [-1, 1]) }).values;
}

/**
 * Loads a hairpin classifier saved by mirna-dl (TensorFlow.js folder) and checks it before any
 * work: its input must be hairpin images, shape=(batch, 25, 100, 3) (a binding model or any other
 * network is refused by its shapes), and its weights finite. InputErrors name `folder`.
 */
export async function loadHairpinClassifier(folder: string): Promise<tf.LayersModel> {
  const model = await loadTfjsModel(folder);
  try {
    const shape = model.inputs[0]!.shape;
    if (model.inputs.length !== 1 || shape.length !== 4 || shape[1] !== HAIRPIN_IMAGE_HEIGHT || shape[2] !== HAIRPIN_IMAGE_WIDTH || shape[3] !== HAIRPIN_IMAGE_CHANNELS) {
      const binding = shape.length === 4 && shape[1] === 50 && shape[2] === 20 ? " (this looks like a binding model: use 'mirna-dl predict')" : "";
      throw new InputError(`not a hairpin classifier: its input is (${shape.map((d) => d ?? "batch").join(", ")}), expected (batch, 25, 100, 3)${binding}`, { file: folder });
    }
    checkFiniteWeights(model, folder);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
