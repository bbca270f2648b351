import { InputError } from "../errors";
import { derivedSeed, mulberry32 } from "../random";
import { CvaeForGeneration, decodeLatentProbabilities, drawProfiles, GeneratedHairpins, GenerateOptions, renderTokens, sampleLatents } from "./generate";
import { refoldCheck } from "./generateEval";
import { FoldOptions } from "./rnafold";
import { candidateDecodings, COLUMN_TOKENS, TOKEN_COLUMNS } from "./vaeTokens";

/**
 * RNAfold-verified decoding: the decoder gives per-column token probabilities; instead of
 * keeping only the most likely drawing, the generator tries the sample's alternative decodings
 * in order of likelihood (other hairpin lengths and loop sizes near the most likely ones, then
 * decodings drawn at a low token temperature; vaeTokens.ts `candidateDecodings`) and keeps the
 * first one that RNAfold folds into exactly the drawn structure (refold → re-encode → same
 * image). The latent, and so the hairpin's class, profile and most of its columns, stay those of
 * the sample; when no candidate passes, the most likely drawing is kept. This makes the refold
 * check part of generation: the rate of the most likely decoding alone (`argmaxExact`) is
 * what the model achieves without it.
 */

/** Options of {@link generateVerifiedHairpins}. */
export interface VerifiedGenerateOptions extends GenerateOptions {
  /** Decodings tried per sample, the most likely first (1 = no search). */
  candidates: number;
  /** Of those, how many are drawn at `candidateTemperature` after the shape variants. Default 8. */
  sampledCandidates?: number;
  /** Token temperature of the drawn candidates. Default 0.5. */
  candidateTemperature?: number;
  fold?: FoldOptions;
}

/** Verified samples: the kept decodings, and how they were found. */
export interface VerifiedGeneratedHairpins extends GeneratedHairpins {
  /** Rank of the kept decoding (0 = the most likely); −1 when none passed (the most likely is kept). */
  rank: Int16Array;
  /** 1 when the most likely decoding alone passes the refold check. */
  argmaxExact: Uint8Array;
  /** RNAfold runs (decodings folded) in total. */
  folds: number;
}

/**
 * Generates `opts.n` hairpins as {@link generateHairpins} does (same seed, same latents), with
 * RNAfold-verified decoding (see the module comment). Candidates are folded in rounds: every
 * sample's best candidate, then the next one of the samples still failing, and so on, each
 * round one RNAfold batch.
 */
export async function generateVerifiedHairpins(model: CvaeForGeneration, opts: VerifiedGenerateOptions): Promise<VerifiedGeneratedHairpins> {
  if (!Number.isInteger(opts.candidates) || opts.candidates < 1) throw new InputError(`candidates must be a positive integer, got ${opts.candidates}`);
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new InputError(`n must be a positive integer, got ${opts.n}`);
  const temperature = opts.temperature ?? 1;
  const profiles = drawProfiles(model.training, opts.label, opts.n, opts.seed, opts.profile);
  const latents = sampleLatents(model, opts.label, profiles, opts.seed + 1, temperature);
  const probabilities = decodeLatentProbabilities(model.cvae, latents, opts.batchSize);
  const verified = await verifyDecodings(probabilities, {
    candidates: opts.candidates, sampledCandidates: opts.sampledCandidates, candidateTemperature: opts.candidateTemperature, seed: opts.seed + 3, fold: opts.fold,
  });
  const kept = verified.tokens;
  return { n: opts.n, label: opts.label, tokens: kept, ...renderTokens(kept), profiles, latents, rank: verified.rank, argmaxExact: verified.argmaxExact, folds: verified.folds };
}

/**
 * The search of {@link generateVerifiedHairpins} on given probabilities shape=(n, 100, 31):
 * per sample up to `candidates` decodings (vaeTokens.ts `candidateDecodings`, the drawn ones
 * seeded by derivedSeed(seed, sample)), folded in rounds until one refolds exactly. Returns the
 * kept tokens shape=(n, 100), the rank kept (−1: none passed, the most likely is kept), whether
 * the most likely decoding passed, and the number of decodings folded.
 */
export async function verifyDecodings(
  probabilities: Float32Array,
  opts: { candidates: number; sampledCandidates?: number; candidateTemperature?: number; seed: number; fold?: FoldOptions },
): Promise<{ tokens: Uint8Array; rank: Int16Array; argmaxExact: Uint8Array; folds: number }> {
  const per = TOKEN_COLUMNS * COLUMN_TOKENS;
  if (probabilities.length % per !== 0) throw new InputError(`${probabilities.length} probabilities are not rows of ${TOKEN_COLUMNS} × ${COLUMN_TOKENS}`);
  if (!Number.isInteger(opts.candidates) || opts.candidates < 1) throw new InputError(`candidates must be a positive integer, got ${opts.candidates}`);
  const n = probabilities.length / per;
  const candidates = Array.from({ length: n }, (_, i) =>
    candidateDecodings(probabilities.subarray(i * per, (i + 1) * per), {
      max: opts.candidates,
      sampled: Math.min(opts.sampledCandidates ?? 8, Math.max(0, opts.candidates - 1)),
      temperature: opts.candidateTemperature ?? 0.5,
      random: mulberry32(derivedSeed(opts.seed, i)),
    }));
  const rank = new Int16Array(n).fill(-1);
  const argmaxExact = new Uint8Array(n);
  let folds = 0;
  for (let r = 0; r < opts.candidates; r++) {
    const open = [...rank.keys()].filter((i) => rank[i] === -1 && candidates[i]!.length > r);
    if (open.length === 0) break;
    const tokens = new Uint8Array(open.length * TOKEN_COLUMNS);
    open.forEach((i, k) => tokens.set(candidates[i]![r]!, k * TOKEN_COLUMNS));
    const rendered = renderTokens(tokens);
    const checked = await refoldCheck(rendered.sequences, rendered.columns, opts.fold);
    folds += open.length;
    open.forEach((i, k) => {
      if (checked[k]!.exact) {
        rank[i] = r;
        if (r === 0) argmaxExact[i] = 1;
      }
    });
  }
  const kept = new Uint8Array(n * TOKEN_COLUMNS);
  for (let i = 0; i < n; i++) kept.set(candidates[i]![Math.max(0, rank[i]!)]!, i * TOKEN_COLUMNS);
  return { tokens: kept, rank, argmaxExact, folds };
}
