/**
 * Adam with one native kernel per variable and step.
 *
 * tfjs' AdamOptimizer.applyGradients runs about 14 small kernels per variable
 * (and makes a scalar tensor for every constant): ≈500 kernel calls per arch_00b
 * step, most of a step's kernel count. `NativeAdamOptimizer` is a drop-in
 * AdamOptimizer (same constructor, state, serialisation name "Adam", weights
 * for getWeights/setWeights) whose applyGradients does the same float32
 * arithmetic in one addon call per variable ("MirnaAdam" kernel, three outputs:
 * value, first and second moment) when the native backend is active and the
 * tensors are float32; otherwise it is tfjs' own applyGradients.
 *
 * Use: `createAdam(learningRate, beta1, beta2, epsilon)` — a NativeAdamOptimizer
 * when the native backend is running, else `tf.train.adam(...)`.
 */
import * as tf from "@tensorflow/tfjs";
import {
  registerKernel,
  unregisterKernel,
  getKernel,
  type KernelFunc,
  type NamedTensorMap,
  type TensorInfo,
} from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { NativeAddon } from "./addon";
import { f32, HOST_BACKEND, kernelInputs } from "./nativeKernelUtil";

/** Name of the fused Adam kernel (registered for the wasm backend by registerNativeAdam). */
export const ADAM_KERNEL = "MirnaAdam";

/** Attributes of MirnaAdam: the eight float32 constants of the step (see native/src/elementwise.cc). */
interface AdamAttrs {
  constants: number[];
}

function adamKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { value, m, v, gradient } = kernelInputs(ADAM_KERNEL, args.inputs, ["value", "m", "v", "gradient"]);
    const { constants } = args.attrs as unknown as AdamAttrs;
    const newValue = backend.makeOutput(value.shape, "float32");
    const newM = backend.makeOutput(m.shape, "float32");
    const newV = backend.makeOutput(v.shape, "float32");
    addon.adam(
      f32(backend, value), f32(backend, m), f32(backend, v), f32(backend, gradient),
      f32(backend, newValue), f32(backend, newM), f32(backend, newV), Float32Array.from(constants),
    );
    return [newValue, newM, newV];
  };
}

/** Registers MirnaAdam for the wasm backend (idempotent). */
export function registerNativeAdam(addon: NativeAddon): void {
  if (getKernel(ADAM_KERNEL, HOST_BACKEND) != null) unregisterKernel(ADAM_KERNEL, HOST_BACKEND);
  registerKernel({ kernelName: ADAM_KERNEL, backendName: HOST_BACKEND, kernelFunc: adamKernel(addon) });
}

/** Parameter type of AdamOptimizer.applyGradients. */
type NamedTensor = Parameters<tf.AdamOptimizer["applyGradients"]>[0] extends infer P ? (P extends (infer E)[] ? E : never) : never;
type NamedVariableMap = Exclude<Parameters<tf.AdamOptimizer["applyGradients"]>[0], unknown[]>;

/** The AdamOptimizer fields applyGradients uses (private in tfjs' typings). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | null)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | null)[];
  incrementIterations(): void;
}

/** Adam whose per-variable update is one native kernel when it can run (see the module comment). */
export class NativeAdamOptimizer extends tf.AdamOptimizer {
  /** Serialised as plain Adam: a saved model loads with tfjs' own optimizer. */
  static override get className(): string {
    return "Adam";
  }

  override applyGradients(variableGradients: NamedVariableMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((g) => g.name) : Object.keys(variableGradients);
    const gradientOf = (i: number, name: string): tf.Tensor | undefined =>
      Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
    const usable =
      tf.getBackend() === HOST_BACKEND && getKernel(ADAM_KERNEL, HOST_BACKEND) != null &&
      names.every((name, i) => {
        const g = gradientOf(i, name);
        const value = tf.engine().registeredVariables[name];
        return g == null || (g.dtype === "float32" && value != null && value.dtype === "float32" && g.size === value.size);
      });
    if (!usable) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamState;
    const f = Math.fround;
    const accBeta1 = self.accBeta1.dataSync()[0]!; // scalars
    const accBeta2 = self.accBeta2.dataSync()[0]!;
    const constants = [
      f(self.beta1), f(1 - self.beta1), f(self.beta2), f(1 - self.beta2),
      f(1 - accBeta1), f(1 - accBeta2), f(self.epsilon), f(-self.learningRate),
    ];
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!; // every one checked in `usable`
        if (self.accumulatedFirstMoment[i] == null) {
          self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (self.accumulatedSecondMoment[i] == null) {
          self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        const gradient = gradientOf(i, name);
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = tf.engine().runKernel(
          ADAM_KERNEL,
          { value, m, v, gradient } as unknown as NamedTensorMap,
          { constants } as unknown as tf.NamedAttrMap,
        ) as [tf.Tensor, tf.Tensor, tf.Tensor];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

/**
 * Adam(learningRate, beta1, beta2, epsilon): a NativeAdamOptimizer when the
 * MirnaAdam kernel is registered (the native backend started), else tf.train.adam.
 */
export function createAdam(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number): tf.Optimizer {
  if (getKernel(ADAM_KERNEL, HOST_BACKEND) != null) return new NativeAdamOptimizer(learningRate, beta1, beta2, epsilon);
  return tf.train.adam(learningRate, beta1, beta2, epsilon);
}
