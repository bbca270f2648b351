import * as tf from "@tensorflow/tfjs";
import { bindingMatrixChannels, encodeBindingMatrix } from "./encoding";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";

export interface PredictOptions {
  /** Samples per forward pass. Default 256. */
  batchSize?: number;
  /** Pairs encoded at once (memory: chunk·4 KB per channel). Default 8,192. */
  chunkSize?: number;
  /** Encode with the G:U wobble channel (for models trained with two channels). Default: from the model's input shape. */
  wobbleChannel?: boolean;
  /** Called after each chunk with pairs done and total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Scores miRNA–site pairs with a binding model (input [n, 50, 20, channels], output [n, 1]).
 * Encodes chunk by chunk into one reused buffer, so memory stays flat for any table size.
 * Returns one probability per pair, in input order. Leaves no tensors behind.
 */
export async function predictScores(
  model: tf.LayersModel,
  mirnas: readonly string[],
  sites: readonly string[],
  opts: PredictOptions = {},
): Promise<Float32Array> {
  const n = mirnas.length;
  const batchSize = opts.batchSize ?? 256;
  const chunkSize = Math.max(batchSize, opts.chunkSize ?? 8192);
  const inputShape = model.inputs[0]!.shape;
  const wobbleChannel = opts.wobbleChannel ?? inputShape[3] === 2;
  const channels = bindingMatrixChannels({ wobbleChannel });
  const pairSize = SITE_LENGTH * MIRNA_LENGTH * channels;
  const buffer = new Float32Array(Math.min(chunkSize, n) * pairSize);
  const scores = new Float32Array(n);
  for (let start = 0; start < n; start += chunkSize) {
    const end = Math.min(n, start + chunkSize);
    const m = end - start;
    const view = buffer.subarray(0, m * pairSize);
    encodeBindingMatrix(mirnas.slice(start, end), sites.slice(start, end), { wobbleChannel, out: view });
    const output = tf.tidy(() => {
      const x = tf.tensor4d(view, [m, SITE_LENGTH, MIRNA_LENGTH, channels]);
      return model.predict(x, { batchSize }) as tf.Tensor;
    });
    scores.set(await output.data(), start);
    output.dispose();
    opts.onProgress?.(end, n);
  }
  return scores;
}
