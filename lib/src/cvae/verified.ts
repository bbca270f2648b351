import { InputError } from "../errors";
import { derivedSeed, mulberry32 } from "../random";
import { sampleArDecoder } from "./arDecoder";
import { arDecoderInput, CvaeForGeneration, decodeLatentProbabilities, drawGeneration, GeneratedHairpins, GenerateOptions, renderTokens } from "./generate";
import { refoldCheck } from "./evaluate";
import { FoldOptions } from "../hairpin/rnafold";
import { candidateDecodings, COLUMN_TOKENS, TOKEN_COLUMNS } from "./tokens";

/**
 * RNAfold-verified decoding (a filter on top of the generator, reported apart from its raw
 * samples): each sample's latent gives a set of candidate decodings; the
 * generator keeps the first one that RNAfold folds into exactly the drawn structure (refold →
 * re-encode → same image). With the CVAE's own "columns" decoder the candidates are the
 * sample's alternative decodings in order of likelihood (other hairpin lengths and loop sizes
 * near the most likely ones, then decodings drawn at a low token temperature; tokens.ts
 * `candidateDecodings`); with the "autoregressive" decoder they are fresh draws from the same
 * z_g (each round seeded anew). The latent, and so the hairpin's class and profile, stay those
 * of the sample; when no candidate passes, the first decoding is kept. This makes the refold
 * check part of generation: the rate of the first decoding alone (`firstExact`: the most
 * likely decoding, or the first AR draw) is what the model achieves without it.
 */

/** Options of {@link generateVerifiedHairpins}. */
export interface VerifiedGenerateOptions extends GenerateOptions {
  /** Decodings tried per sample, the first one first (1 = no search). */
  candidates: number;
  /** "columns" decoder: how many candidates are drawn at `candidateTemperature` after the shape variants. Default 8. */
  sampledCandidates?: number;
  /** "columns" decoder: token temperature of the drawn candidates. Default 0.5. */
  candidateTemperature?: number;
  fold?: FoldOptions;
}

/** Verified samples: the kept decodings, and how they were found. */
export interface VerifiedGeneratedHairpins extends GeneratedHairpins {
  /** Rank of the kept decoding (0 = the first); −1 when none passed (the first is kept). */
  rank: Int16Array;
  /** 1 when the first decoding alone (most likely, or the first AR draw) passes the refold check. */
  firstExact: Uint8Array;
  /** RNAfold runs (decodings folded) in total. */
  folds: number;
}

/** What verified decoding cost: draws folded, samples that found a decoding RNAfold agrees with. */
export interface VerificationCost {
  samples: number;
  /** Decodings tried per sample at most. */
  candidates: number;
  /** Samples with a kept decoding that refolds exactly (the rest keep their first draw). */
  kept: number;
  keptFraction: number;
  /** Decodings folded in all (each sample's until one passed or `candidates` were tried). */
  draws: number;
  /** Passing decodings per decoding tried: kept / draws. */
  acceptanceRate: number;
  /** Draws per kept sample: draws / kept (null when none was kept); the failed samples' draws count too. */
  meanDrawsPerKept: number | null;
}

/** The {@link VerificationCost} of verified samples drawn with up to `candidates` decodings each. */
export function verificationCost(v: Pick<VerifiedGeneratedHairpins, "rank" | "folds">, candidates: number): VerificationCost {
  const samples = v.rank.length;
  let kept = 0;
  for (const r of v.rank) if (r >= 0) kept++;
  return {
    samples, candidates, kept, keptFraction: samples ? kept / samples : NaN, draws: v.folds,
    acceptanceRate: v.folds ? kept / v.folds : NaN, meanDrawsPerKept: kept ? v.folds / kept : null,
  };
}

/**
 * Generates `opts.n` hairpins as {@link generateHairpins} does (same seed, same latents and
 * first decodings), with RNAfold-verified decoding (see the module comment). Candidates are
 * folded in rounds: every sample's first candidate, then the next one of the samples still
 * failing, and so on, each round one RNAfold batch.
 */
export async function generateVerifiedHairpins(model: CvaeForGeneration, opts: VerifiedGenerateOptions): Promise<VerifiedGeneratedHairpins> {
  if (!Number.isInteger(opts.candidates) || opts.candidates < 1) throw new InputError(`candidates must be a positive integer, got ${opts.candidates}`);
  const draw = drawGeneration(model, opts);
  const { decoder, profiles, latents } = draw;
  const done = (v: { tokens: Uint8Array; rank: Int16Array; firstExact: Uint8Array; folds: number }): VerifiedGeneratedHairpins => ({
    n: opts.n, label: opts.label, decoder, tokens: v.tokens, ...renderTokens(v.tokens), profiles, latents, rank: v.rank, firstExact: v.firstExact, folds: v.folds,
  });
  if (decoder === "columns") {
    const probabilities = decodeLatentProbabilities(model.cvae, latents, opts.batchSize);
    return done(await verifyDecodings(probabilities, {
      candidates: opts.candidates, sampledCandidates: opts.sampledCandidates, candidateTemperature: opts.candidateTemperature, seed: opts.seed + 3, fold: opts.fold,
    }));
  }
  const zg = arDecoderInput(model, latents, opts.label);
  const Dg = zg.length / opts.n;
  const sampling = { tokenTemperature: draw.tokenTemperature, topP: draw.topP, grammar: draw.grammar, batchSize: opts.batchSize };
  return done(await verifyInRounds(opts.n, opts.candidates, opts.fold, (round, open) => {
    // Round 0: every sample's first draw, as generateHairpins makes it (open = all samples, seed + 2).
    if (round === 0) return sampleArDecoder(model.cvae.arDecoder!, zg, { seed: opts.seed + 2, ...sampling });
    const z = new Float32Array(open.length * Dg);
    open.forEach((i, k) => z.set(zg.subarray(i * Dg, (i + 1) * Dg), k * Dg));
    return sampleArDecoder(model.cvae.arDecoder!, z, { seed: derivedSeed(opts.seed + 3, round), ...sampling });
  }));
}

/**
 * The search of {@link generateVerifiedHairpins} on given probabilities shape=(n, 100, 31):
 * per sample up to `candidates` decodings (tokens.ts `candidateDecodings`, the drawn ones
 * seeded by derivedSeed(seed, sample)), folded in rounds until one refolds exactly. Returns the
 * kept tokens shape=(n, 100), the rank kept (−1: none passed, the most likely is kept), whether
 * the most likely decoding passed, and the number of decodings folded.
 */
export async function verifyDecodings(
  probabilities: Float32Array,
  opts: { candidates: number; sampledCandidates?: number; candidateTemperature?: number; seed: number; fold?: FoldOptions },
): Promise<{ tokens: Uint8Array; rank: Int16Array; firstExact: Uint8Array; folds: number }> {
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
  return verifyInRounds(n, opts.candidates, opts.fold, (round, open) => {
    const tokens = new Uint8Array(open.length * TOKEN_COLUMNS);
    open.forEach((i, k) => tokens.set(candidates[i]![round]!, k * TOKEN_COLUMNS));
    return tokens;
  }, (round, i) => candidates[i]!.length > round);
}

/**
 * Rounds of RNAfold checks: in round r the samples without a passing decoding (and, with
 * `has`, that have an r-th candidate) get `candidate(r, open)` (shape=(open, 100)); the first
 * that refolds exactly is kept. Round 0's decodings are kept for samples where nothing passed.
 */
async function verifyInRounds(
  n: number, rounds: number, fold: FoldOptions | undefined,
  candidate: (round: number, open: number[]) => Uint8Array,
  has: (round: number, sample: number) => boolean = () => true,
): Promise<{ tokens: Uint8Array; rank: Int16Array; firstExact: Uint8Array; folds: number }> {
  const rank = new Int16Array(n).fill(-1);
  const firstExact = new Uint8Array(n);
  const kept = new Uint8Array(n * TOKEN_COLUMNS);
  let folds = 0;
  for (let r = 0; r < rounds; r++) {
    const open = [...rank.keys()].filter((i) => rank[i] === -1 && has(r, i));
    if (open.length === 0) break;
    const tokens = candidate(r, open);
    const rendered = renderTokens(tokens);
    const checked = await refoldCheck(rendered.sequences, rendered.columns, fold);
    folds += open.length;
    open.forEach((i, k) => {
      const row = tokens.subarray(k * TOKEN_COLUMNS, (k + 1) * TOKEN_COLUMNS);
      if (r === 0) kept.set(row, i * TOKEN_COLUMNS);
      if (checked[k]!.exact) {
        rank[i] = r;
        if (r > 0) kept.set(row, i * TOKEN_COLUMNS);
        if (r === 0) firstExact[i] = 1;
      }
    });
  }
  return { tokens: kept, rank, firstExact, folds };
}
