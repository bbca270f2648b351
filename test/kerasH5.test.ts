import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadKerasH5, readKerasH5Info } from "../lib/src/binding/kerasH5";
import { publishedModelPath } from "../lib/src/binding/paths";
import { missingData } from "../lib/src/data/paths";
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
