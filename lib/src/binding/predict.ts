import * as tf from "@tensorflow/tfjs";
import { InputError } from "../errors";
import { predictAsync, Predictor } from "../predict";
import { targetScore } from "../saliency";
import { bindingMatrixChannels, encodeBindingMatrix } from "./encoding";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";

export interface ScorePairsOptions {
  /** Samples per forward pass. Default 256. */
  batchSize?: number;
  /**
   * Pairs encoded and passed to the model at once (memory: chunk·4 KB per channel). Default =
   * batchSize: one forward pass per tensor. (Larger chunks made tfjs slice every batch out of one
   * big tensor and cost about 40% more time, most of it page faults: see BENCHMARKS.md.)
   */
  chunkSize?: number;
  /** Encode with the G:U wobble channel (for models trained with two channels). Default: from the model's input shape. */
  wobbleChannel?: boolean;
  /**
   * "probability" (the model's output) or "logit" (log(p / (1 − p)) read before the final
   * sigmoid, see saliency.ts targetScore: it still separates pairs whose probabilities round to
   * 0 or 1). Default "probability".
   */
  scale?: "probability" | "logit";
  /** Called after each chunk with pairs done and total. */
  onProgress?: (done: number, total: number) => void;
  /** Give the event loop a turn after a chunk when this many ms passed since the last turn. Default 50. */
  yieldEveryMs?: number;
}

/**
 * Scores miRNA–site pairs (`mirnas`, `sites`: shape=(n,) each) with a binding model (input
 * shape=(batch, 50, 20, channels), output shape=(batch, 1)) through the shared batched
 * {@link predictAsync}: pairs are encoded batch by batch into one reused buffer, so memory stays
 * flat for any table size, and the event loop gets a turn every 50 ms (Ctrl+C works during a
 * long run). Returns Float32Array, shape=(n,): one probability (or logit, see
 * {@link ScorePairsOptions.scale}) per pair, in input order. Leaves no tensors behind.
 */
export async function predictScores(
  model: tf.LayersModel,
  mirnas: readonly string[],
  sites: readonly string[],
  opts: ScorePairsOptions = {},
): Promise<Float32Array> {
  const n = mirnas.length;
  const batchSize = opts.batchSize ?? 256;
  const chunkSize = Math.max(batchSize, opts.chunkSize ?? batchSize);
  const wobbleChannel = opts.wobbleChannel ?? model.inputs[0]!.shape[3] === 2;
  const channels = bindingMatrixChannels({ wobbleChannel });
  const pairSize = SITE_LENGTH * MIRNA_LENGTH * channels;
  const buffer = new Float32Array(Math.min(chunkSize, n) * pairSize);
  const inputs = {
    n,
    make(start: number, end: number): tf.Tensor {
      const view = buffer.subarray(0, (end - start) * pairSize);
      encodeBindingMatrix(mirnas.slice(start, end), sites.slice(start, end), { wobbleChannel, out: view });
      return tf.tensor4d(view, [end - start, SITE_LENGTH, MIRNA_LENGTH, channels]);
    },
  };
  const scale = opts.scale ?? "probability";
  if (scale !== "probability" && scale !== "logit") throw new InputError(`scale must be 'probability' or 'logit', got '${String(scale)}'`);
  const target = scale === "logit" ? targetScore(model) : null;
  try {
    const predictor: Predictor = target ? target.score : model;
    return (await predictAsync(predictor, inputs, { batchSize, chunkSize, onProgress: opts.onProgress, yieldEveryMs: opts.yieldEveryMs })).values;
  } finally {
    target?.dispose();
  }
}
