/** Helpers shared by the tests that compare TensorFlow.js backends (backend, native) or need the native addon (encoding). */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { TestContext } from "node:test";
import { loadNativeAddon } from "../lib/src/ops/native/addon";

/** Why this project's native addon cannot be used here, or null when it loads. */
export const nativeSkipReason: string | null = (() => {
  const load = loadNativeAddon();
  return load.ok ? null : load.reason;
})();

/** Skips (or, with MIRNA_DL_REQUIRE_NATIVE=1, fails) a test when the native addon is missing. */
export function needNative(t: TestContext): boolean {
  if (nativeSkipReason == null) return true;
  if (process.env.MIRNA_DL_REQUIRE_NATIVE === "1") throw new Error(`MIRNA_DL_REQUIRE_NATIVE=1 but ${nativeSkipReason}`);
  t.skip(nativeSkipReason);
  return false;
}

/** Max |a−b| over max |a| (the agreement measure of every backend comparison); positions that are NaN on both sides are skipped. */
export function relativeDifference(reference: ArrayLike<number>, actual: ArrayLike<number>): number {
  assert.equal(actual.length, reference.length, "result sizes differ");
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!, a = actual[i]!; // same lengths (asserted above)
    if (Number.isNaN(r) && Number.isNaN(a)) continue;
    if (!Number.isFinite(a)) return Number.POSITIVE_INFINITY;
    maxDiff = Math.max(maxDiff, Math.abs(r - a));
    maxAbs = Math.max(maxAbs, Math.abs(r));
  }
  assert.ok(maxAbs > 0, "reference is all zeros: the comparison would prove nothing");
  return maxDiff / maxAbs;
}

/** Seeded N(0,1) values (made on whatever backend is active; the values do not depend on it). */
export function seededValues(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, "float32", seed).dataSync() as Float32Array).slice();
}

export function wasmDataIds(): number {
  return (tf.findBackend("wasm") as BackendWasm).numDataIds();
}
