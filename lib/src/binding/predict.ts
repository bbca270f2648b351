import * as tf from "@tensorflow/tfjs";
import { predict } from "../predict";
import { bindingMatrixChannels, encodeBindingMatrix } from "./encoding";
import { MIRNA_LENGTH, SITE_LENGTH } from "./sequences";

export interface ScorePairsOptions {
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
 * Scores miRNA–site pairs with a binding model (input shape=(n, 50, 20, channels), output
 * shape=(n, 1)) through the shared batched {@link predict}: pairs are encoded chunk by chunk
 * into one reused buffer, so memory stays flat for any table size. Returns one probability
 * per pair, in input order, shape=(n,). Leaves no tensors behind.
 */
export async function predictScores(
  model: tf.LayersModel,
  mirnas: readonly string[],
  sites: readonly string[],
  opts: ScorePairsOptions = {},
): Promise<Float32Array> {
  const n = mirnas.length;
  const batchSize = opts.batchSize ?? 256;
  const chunkSize = Math.max(batchSize, opts.chunkSize ?? 8192);
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
  return predict(model, inputs, { batchSize, chunkSize, onProgress: opts.onProgress }).values;
}
