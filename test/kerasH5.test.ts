import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadKerasH5, readKerasH5Info } from "../lib/src/binding/kerasH5";
import { publishedModelPath } from "../lib/src/binding/paths";
import { missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { tempDir } from "./helpers";

const dir = tempDir();

/** Writes an HDF5 file with a Keras-like model_config attribute (h5wasm can write, too). */
async function writeKerasLikeH5(file: string, layers: { class_name: string; config: { name: string } }[]) {
  const h5 = (await import("h5wasm/node")) as unknown as {
    ready: Promise<unknown>;
    File: new (p: string, mode: string) => { create_attribute(n: string, v: string): void; create_group(n: string): void; close(): void };
  };
  await h5.ready;
  const f = new h5.File(file, "w");
  f.create_attribute("model_config", JSON.stringify({ class_name: "Model", config: { name: "other_net", layers } }));
  f.create_attribute("keras_version", "2.2.4-tf");
  f.create_group("model_weights");
  f.close();
}

test("reads the published model's description", async (t) => {
  const file = publishedModelPath("iterative");
  const skip = missingData(file);
  if (skip) return t.skip(skip);
  const info = await readKerasH5Info(file);
  assert.equal(info.modelName, "arch_00b");
  assert.equal(info.kerasVersion, "2.2.4-tf");
  assert.equal(info.layers.length, 30);
  assert.equal(info.layers[16], "Flatten:2d_matrix");
});

test("bad input: missing file, not HDF5, another architecture", async () => {
  await assert.rejects(loadKerasH5(path.join(dir, "none.h5")), /none\.h5: model file not found/);
  const text = path.join(dir, "text.h5");
  fs.writeFileSync(text, "this is not hdf5\n");
  await assert.rejects(loadKerasH5(text), /text\.h5: not an HDF5 file/);
  const other = path.join(dir, "other.h5");
  await writeKerasLikeH5(other, [
    { class_name: "InputLayer", config: { name: "main_input" } },
    { class_name: "Dense", config: { name: "dense" } },
  ]);
  await assert.rejects(loadKerasH5(other), /other\.h5: model 'other_net' is not arch_00b: layer 2 is Dense:dense, expected Conv2D:conv_1/);
});

// ---------------------------------------------------------------------------------------------
// The stored architecture is compared with what we build, field by field.

interface EditableH5 {
  attrs: Record<string, { value: unknown } | undefined>;
  delete_attribute(name: string): number;
  create_attribute(name: string, value: string): void;
  close(): void;
}
type KerasConfig = { config: { layers: { class_name: string; config: Record<string, unknown>; inbound_nodes: unknown }[]; input_layers: unknown } };

/** A copy of `source` whose model_config was changed by `edit` (the weights are the published ones). */
async function editedCopy(source: string, name: string, edit: (config: KerasConfig) => void): Promise<string> {
  const file = path.join(dir, name);
  fs.copyFileSync(source, file);
  const h5 = (await import("h5wasm/node")) as unknown as { ready: Promise<unknown>; File: new (p: string, mode: string) => EditableH5 };
  await h5.ready;
  const f = new h5.File(file, "a");
  const config = JSON.parse(String(f.attrs.model_config!.value)) as KerasConfig;
  edit(config);
  f.delete_attribute("model_config");
  f.create_attribute("model_config", JSON.stringify(config));
  f.close();
  return file;
}

const layerNamed = (c: KerasConfig, name: string) => c.config.layers.find((l) => l.config.name === name)!.config;

test("a Keras file whose config differs from arch_00b in any computing field is refused, naming the layer and the field", async (t) => {
  const source = publishedModelPath("iterative");
  const skip = missingData(source);
  if (skip) return t.skip(skip);
  // The rewrite itself keeps a loadable model.
  const same = await editedCopy(source, "same.h5", () => {});
  (await loadKerasH5(same)).dispose();

  const cases: [string, (c: KerasConfig) => void, RegExp][] = [
    ["activation", (c) => (layerNamed(c, "conv_1").activation = "relu"), /layer 2 'conv_1' \(Conv2D\) has activation 'relu', expected 'linear'/],
    ["dense activation", (c) => (layerNamed(c, "main_output").activation = "linear"), /layer 30 'main_output' \(Dense\) has activation 'linear', expected 'sigmoid'/],
    ["LeakyReLU alpha", (c) => (layerNamed(c, "leaky_re_lu_1").alpha = 0.2), /layer \d+ 'leaky_re_lu_1' \(LeakyReLU\) has alpha 0\.2, expected 0\.3/],
    ["padding", (c) => (layerNamed(c, "conv_2").padding = "valid"), /'conv_2' \(Conv2D\) has padding 'valid', expected 'same'/],
    ["pool padding", (c) => (layerNamed(c, "Max_3").padding = "same"), /'Max_3' \(MaxPooling2D\) has padding 'same', expected 'valid'/],
    ["batch-norm epsilon", (c) => (layerNamed(c, "batch_normalization_4").epsilon = 0.01), /'batch_normalization_4' \(BatchNormalization\) has epsilon 0\.01, expected 0\.001/],
    ["batch-norm axis", (c) => (layerNamed(c, "batch_normalization").axis = [1]), /'batch_normalization' \(BatchNormalization\) has axis \[1\], expected 3/],
    ["filter count", (c) => (layerNamed(c, "conv_3").filters = 64), /'conv_3' \(Conv2D\) has filters 64, expected 128/],
    ["kernel size", (c) => (layerNamed(c, "conv_1").kernel_size = [5, 5]), /'conv_1' \(Conv2D\) has kernel_size \[5,5\], expected \[3,3\]/],
    ["dense units", (c) => (layerNamed(c, "dense_1").units = 32), /'dense_1' \(Dense\) has units 32, expected 64/],
    ["input shape", (c) => (layerNamed(c, "main_input").batch_input_shape = [null, 50, 20, 2]), /layer 1 'main_input' \(InputLayer\) has batch_input_shape \[null,50,20,2\], expected \[null,50,20,1\]/],
    ["dropout rate", (c) => (layerNamed(c, "dropout_3").rate = 0.5), /'dropout_3' \(Dropout\) has rate 0\.5, expected 0\.25/],
    ["use_bias", (c) => (layerNamed(c, "dense").use_bias = false), /'dense' \(Dense\) has use_bias false, expected true/],
    ["wiring", (c) => (c.config.layers.find((l) => l.config.name === "dense")!.inbound_nodes = [[["dropout_2", 0, 0, {}]]]), /wired differently from arch_00b: layer \d+ 'dense' \(Dense\) takes its input from 'dropout_2', expected '2d_matrix'/],
  ];
  for (const [label, edit, pattern] of cases) {
    const file = await editedCopy(source, `${label.replace(/\W+/g, "_")}.h5`, edit);
    await assert.rejects(loadKerasH5(file), (e: unknown) => {
      assert.ok(e instanceof InputError, `${label}: ${e}`);
      assert.match(e.message, pattern, label);
      assert.ok(e.message.startsWith(`${file}: model 'arch_00b' `), label);
      return true;
    });
  }
});

test("a truncated .h5 is one clear message, without HDF5's diagnostics", async () => {
  // A small HDF5 file written here (no data needed), then cut.
  const whole = path.join(dir, "small.h5");
  await writeKerasLikeH5(whole, [{ class_name: "InputLayer", config: { name: "main_input" } }]);
  const bytes = fs.readFileSync(whole);
  const cut = path.join(dir, "small-cut.h5");
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const printed: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await assert.rejects(loadKerasH5(cut), (e: unknown) => e instanceof InputError && new RegExp(`^${cut}: truncated HDF5 file: [\\d,]+ bytes, its superblock says ${bytes.length.toLocaleString("en-US")}$`).test(e.message));
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(printed, [], "nothing printed");
});
