import { longestRun } from "./realism";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { writeFileAtomic } from "../io/files";
import { derivedSeed, mulberry32 } from "../random";
import { ArDecoderInfo, ArRefineRound, disposeArDecoder, DrawingGrammar, hasArDecoder, loadArDecoder, sampleArDecoder, saveArDecoder, trainArDecoder } from "./arDecoder";
import { encodePosteriors, refoldCheck } from "./evaluate";
import { arDecoderInput, CvaeForGeneration, drawGeneration, ProfilePool, renderTokens } from "./generate";
import { FoldOptions } from "../hairpin/rnafold";
import { VaeDataset } from "./data";
import { globalLatents } from "./model";
import { TOKEN_COLUMNS } from "./tokens";

/**
 * Refold-consistent fine-tuning of the AR column decoder (expert iteration, or rejection-sampling
 * fine-tuning): RNAfold is used in training only. Each round
 *   1. draws `samplesPerClass` drafts per class as generation does (profiles of training
 *      hairpins, latents from the CVAE's priors, one AR draw each with the given sampling rules);
 *   2. folds every draft with RNAfold and accepts those whose fold re-encodes to exactly the drawn
 *      image (and that hold no single-nucleotide run of `maxRun` or more: a realism guard, so the
 *      decoder is not taught low-complexity arms that happen to fold as drawn);
 *   3. fine-tunes the decoder by teacher forcing on a seeded share of the real training hairpins
 *      whose own drawings refold exactly (z_g drawn from their posteriors, as in its first
 *      training) together with the accepted drafts (z_g = the latent each was drawn from),
 *      starting from the current weights.
 * Real hairpins stay in every round so the decoder keeps their distribution; the accepted
 * drafts teach it which of its own drawings RNAfold agrees with; real drawings RNAfold does not
 * refold (≈ 10%) are left out, as they teach drawings no fold gives. Generation stays one draw per
 * sample: nothing here filters what `generateHairpins` returns.
 *
 * Checkpoints: under `checkpointDir`, `round-R/drafts.json` (the accepted drafts and the
 * acceptance), `round-R/fit/` (the fine-tuning's epoch checkpoints) and `round-R/decoder/` (the
 * decoder after round R); a resumed run skips the rounds it finished and continues a round's
 * fine-tuning from its last epoch, so it ends in the same weights as an uninterrupted run.
 */

/** Options of {@link refineArDecoder}. */
export interface RefineArOptions {
  seed: number;
  /** Rounds of draft → fold → fine-tune. Default 1. */
  rounds?: number;
  /** Drafts per class and round. Default 2000. */
  samplesPerClass?: number;
  /** Fine-tuning epochs per round. Default 3. */
  epochs?: number;
  /** Adam's learning rate of the fine-tuning. Default 3e-4. */
  learningRate?: number;
  batchSize?: number;
  /** How drafts are drawn (see generate.ts); default the decoder's generation defaults given by the caller. */
  sampling: { temperature: number; tokenTemperature: number; topP: number; grammar: DrawingGrammar | false; profilePool?: ProfilePool };
  /** Drafts with a single-nucleotide run this long or longer are not accepted. Default 8. */
  maxRun?: number;
  /**
   * Share of the real training hairpins mixed into each round (a seeded subset per round; the
   * drafts weigh more, and a round is cheaper). Default 0.5.
   */
  realFraction?: number;
  /** Keep only the real hairpins whose own drawing RNAfold refolds exactly (folded once). Default true. */
  realRefoldingOnly?: boolean;
  /**
   * Match the accepted drafts to the real training hairpins of their class: per decile bin of
   * the real MFE per nt, then per quintile bin of the real length, a bin's share of the accepted
   * drafts is capped at its real share (seeded subsampling of over-full bins). Without it the
   * drafts that refold are the over-paired, more stable ones, and rounds drift there. Default true.
   */
  matchReal?: boolean;
  /** With `matchReal`, a bin may hold up to this multiple of its real share. Default 1. */
  matchTolerance?: number;
  checkpointDir?: string;
  fold?: FoldOptions;
  onRound?: (round: RefineRound) => void;
  onEpoch?: (round: number, record: Record<string, number | null>) => void;
}

/** What one round did (recorded in `ar-decoder.json` as `refinement`). */
export type RefineRound = ArRefineRound;

interface DraftFile {
  round: number;
  drafts: [number, number];
  refoldExact: [number, number];
  accepted: [number, number];
  /** Accepted rows: tokens (100 each), z_g (Dg each), label. */
  tokens: number[];
  zg: number[];
  labels: number[];
}


/**
 * Fine-tunes `model.cvae.arDecoder` (see the module comment) on the training hairpins `train`
 * (tokens shape=(n, 100), labels) and its own refolding drafts. Replaces `model.cvae.arDecoder`
 * with the refined decoder and returns its record, with the rounds in `refinement`.
 */
export async function refineArDecoder(
  model: CvaeForGeneration & { info: CvaeForGeneration["info"] & { training: { seed: number; steps: number } } },
  base: ArDecoderInfo,
  train: Pick<VaeDataset, "n" | "tokens" | "labels">,
  opts: RefineArOptions,
): Promise<{ info: ArDecoderInfo }> {
  const rounds = opts.rounds ?? 1;
  const perClass = opts.samplesPerClass ?? 2000;
  const epochs = opts.epochs ?? 3;
  const learningRate = opts.learningRate ?? 3e-4;
  const maxRun = opts.maxRun ?? 8;
  const realFraction = opts.realFraction ?? 0.5;
  const realRefoldingOnly = opts.realRefoldingOnly ?? true;
  if (!(realFraction > 0 && realFraction <= 1)) throw new InputError(`refineArDecoder: realFraction must be in (0, 1], got ${realFraction}`);
  if (!model.cvae.arDecoder) throw new InputError("refining needs a model with an autoregressive decoder");
  for (const [v, what] of [[rounds, "rounds"], [perClass, "samplesPerClass"], [epochs, "epochs"]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`refineArDecoder: ${what} must be a positive integer, got ${v}`);
  }
  const conditionDims = base.conditionDims ?? 0;
  if (conditionDims !== 1) throw new InputError("refining needs a class-conditioned AR decoder (conditionDims 1)");
  // The real part of every round: tokens, posteriors of z_g, class.
  const posteriors = encodePosteriors(model.cvae, train.tokens, train.n);
  const realMean = globalLatents(model.cvae.config, posteriors.mean), realLogVar = globalLatents(model.cvae.config, posteriors.logVar);
  const Dg = realMean.length / train.n;
  const source = { ...(base.training.source ?? {}), refinedFrom: { seed: base.training.seed, epochs: base.training.epochs, validationNll: base.validationNll }, sampling: opts.sampling, perClass, maxRun, realFraction, realRefoldingOnly, matchReal: opts.matchReal ?? true, ...(opts.matchTolerance !== undefined ? { matchTolerance: opts.matchTolerance } : {}) };
  const folds = await realFolds(train, opts.checkpointDir ?? null, opts.fold);
  const realPool = realRefoldingOnly ? folds.rows : [...Array(train.n).keys()];
  const matchReal = opts.matchReal ?? true;
  const reference = matchReal ? ([0, 1] as const).map((label) => {
    const rows = [...Array(train.n).keys()].filter((i) => train.labels[i] === label);
    return { mfePerNt: rows.map((i) => folds.mfePerNt[i]!), lengths: rows.map((i) => folds.lengths[i]!) };
  }) : null;
  const history: RefineRound[] = [];
  let info: ArDecoderInfo = base;
  for (let round = 1; round <= rounds; round++) {
    const dir = opts.checkpointDir ? path.join(opts.checkpointDir, `round-${round}`) : null;
    if (dir && hasArDecoder(path.join(dir, "decoder"))) {
      const loaded = await loadArDecoder(path.join(dir, "decoder"));
      // A round's decoder resumes only for the same base decoder and refinement settings.
      const { round: _round, accepted: _accepted, ...savedSource } = (loaded.info.training.source ?? {}) as Record<string, unknown>;
      if (JSON.stringify(savedSource) !== JSON.stringify(source)) {
        disposeArDecoder(loaded.decoder);
        throw new InputError(`${path.join(dir, "decoder")}: this refinement round was made from another AR decoder or with other refinement settings, so --resume cannot continue from it; remove ${opts.checkpointDir} to refine again`);
      }
      disposeArDecoder(model.cvae.arDecoder!);
      model.cvae.arDecoder = loaded.decoder;
      info = loaded.info;
      history.splice(0, history.length, ...(loaded.info.refinement ?? []));
      continue;
    }
    const started = performance.now();
    const drafts = await acceptedDrafts(model, round, perClass, maxRun, opts, dir, reference);
    // This round's real rows: a seeded subset of the pool (ascending).
    const random = mulberry32(derivedSeed(opts.seed, 500 + round));
    const real = realPool.filter(() => random() < realFraction);
    const n = real.length + drafts.labels.length;
    const tokens = new Uint8Array(n * TOKEN_COLUMNS);
    const mean = new Float32Array(n * Dg), logVar = new Float32Array(n * Dg).fill(-30); // drafts: z_g exactly (sd e^-15)
    const conditions = new Float32Array(n);
    real.forEach((i, k) => {
      tokens.set(train.tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS), k * TOKEN_COLUMNS);
      mean.set(realMean.subarray(i * Dg, (i + 1) * Dg), k * Dg);
      logVar.set(realLogVar.subarray(i * Dg, (i + 1) * Dg), k * Dg);
      conditions[k] = train.labels[i]!;
    });
    tokens.set(drafts.tokens, real.length * TOKEN_COLUMNS);
    mean.set(drafts.zg, real.length * Dg);
    conditions.set(drafts.labels, real.length);
    const current = model.cvae.arDecoder!;
    const fitted = await trainArDecoder(tokens, { mean, logVar }, {
      seed: derivedSeed(opts.seed, round), epochs, learningRate, batchSize: opts.batchSize, config: current.config, init: current, conditions,
      checkpointDir: dir ? path.join(dir, "fit") : undefined,
      source: { ...source, round, accepted: drafts.accepted },
      onEpoch: opts.onEpoch ? (r) => opts.onEpoch!(round, r) : undefined,
    });
    disposeArDecoder(current);
    model.cvae.arDecoder = fitted.decoder;
    const record: RefineRound = {
      round, drafts: drafts.drafts, accepted: drafts.accepted, refoldExact: drafts.refoldExact, validationNll: fitted.info.validationNll, seconds: (performance.now() - started) / 1000,
    };
    history.push(record);
    // The record keeps every epoch so far: the first training's, then each round's (numbered on).
    const offset = info.history.length;
    info = { ...fitted.info, history: [...info.history, ...fitted.info.history.map((h) => ({ ...h, epoch: offset + h.epoch, refineRound: round }))], refinement: [...history] };
    if (dir) await saveArDecoder(path.join(dir, "decoder"), fitted.decoder, info);
    opts.onRound?.(record);
  }
  return { info: { ...info, refinement: history } };
}

/** What the real training hairpins are: rows whose drawing RNAfold refolds exactly, and each row's MFE per nt and length. */
interface RealFolds {
  n: number;
  rows: number[];
  mfePerNt: number[];
  lengths: number[];
}

/** The real training hairpins folded once (cached as `real-folds.json` in `dir`). */
async function realFolds(train: Pick<VaeDataset, "n" | "tokens">, dir: string | null, fold?: FoldOptions): Promise<RealFolds> {
  const file = dir ? path.join(dir, "real-folds.json") : null;
  if (file && fs.existsSync(file)) {
    try {
      const cached = JSON.parse(fs.readFileSync(file, "utf8")) as RealFolds;
      if (cached.n === train.n) return cached;
    } catch (e) {
      throw new InputError(`cannot read: ${(e as Error).message}`, { file });
    }
  }
  const drawn = renderTokens(train.tokens.subarray(0, train.n * TOKEN_COLUMNS));
  const refold = await refoldCheck(drawn.sequences, drawn.columns, fold);
  const lengths = drawn.sequences.map((q) => q.length);
  const out: RealFolds = {
    n: train.n, rows: [...refold.keys()].filter((i) => refold[i]!.exact),
    mfePerNt: refold.map((r, i) => (lengths[i]! > 0 ? Number((r.mfe / lengths[i]!).toPrecision(9)) : 0)), lengths,
  };
  if (file) {
    fs.mkdirSync(dir!, { recursive: true });
    writeFileAtomic(file, JSON.stringify(out));
  }
  return out;
}

/**
 * Indices of `values` kept so that no bin (edges at the `bins`-quantiles of `real`) holds a larger
 * share of `values` than `tolerance` times its share of `real`: each over-full bin is subsampled
 * (seeded) to that many. Returns the kept indices, ascending.
 */
export function capToReference(values: readonly number[], real: readonly number[], bins: number, random: () => number, tolerance = 1): number[] {
  if (values.length === 0 || real.length === 0) return [...values.keys()];
  const sorted = [...real].sort((a, b) => a - b);
  const edges = Array.from({ length: bins - 1 }, (_, k) => sorted[Math.floor(((k + 1) * sorted.length) / bins)]!);
  const binOf = (v: number) => {
    let b = 0;
    while (b < edges.length && v >= edges[b]!) b++;
    return b;
  };
  const realShare = new Array<number>(bins).fill(0);
  for (const v of real) realShare[binOf(v)]! += 1 / real.length;
  const members: number[][] = Array.from({ length: bins }, () => []);
  values.forEach((v, i) => members[binOf(v)]!.push(i));
  const kept: number[] = [];
  members.forEach((rows, b) => {
    const cap = Math.round(tolerance * realShare[b]! * values.length);
    if (rows.length <= cap) kept.push(...rows);
    else {
      // A seeded partial shuffle: the first `cap` of a random order.
      const order = [...rows];
      for (let k = 0; k < cap; k++) {
        const j = k + Math.floor(random() * (order.length - k));
        [order[k], order[j]] = [order[j]!, order[k]!];
      }
      kept.push(...order.slice(0, cap));
    }
  });
  return kept.sort((a, b) => a - b);
}

/** Round `round`'s accepted drafts (read back from `dir` when a run drew them before). */
async function acceptedDrafts(
  model: CvaeForGeneration, round: number, perClass: number, maxRun: number, opts: RefineArOptions, dir: string | null,
  reference: readonly { mfePerNt: number[]; lengths: number[] }[] | null,
): Promise<DraftFile> {
  const file = dir ? path.join(dir, "drafts.json") : null;
  if (file && fs.existsSync(file)) {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as DraftFile;
    } catch (e) {
      throw new InputError(`cannot read: ${(e as Error).message}`, { file });
    }
  }
  const out: DraftFile = { round, drafts: [0, 0], refoldExact: [0, 0], accepted: [0, 0], tokens: [], zg: [], labels: [] };
  for (const label of [0, 1] as const) {
    const seed = derivedSeed(opts.seed, 1000 * round + label);
    const draw = drawGeneration(model, { n: perClass, label, seed, decoder: "autoregressive", temperature: opts.sampling.temperature, tokenTemperature: opts.sampling.tokenTemperature, topP: opts.sampling.topP, grammar: opts.sampling.grammar, profilePool: opts.sampling.profilePool });
    const tokens = sampleArDecoder(model.cvae.arDecoder!, arDecoderInput(model, draw.latents, label), { seed: seed + 2, tokenTemperature: draw.tokenTemperature, topP: draw.topP, grammar: draw.grammar, batchSize: opts.batchSize });
    const zg = globalLatents(model.cvae.config, draw.latents);
    const Dg = zg.length / perClass;
    const drawn = renderTokens(tokens);
    const refold = await refoldCheck(drawn.sequences, drawn.columns, opts.fold);
    out.drafts[label] = perClass;
    let candidates: number[] = [];
    for (let i = 0; i < perClass; i++) {
      if (!refold[i]!.exact) continue;
      out.refoldExact[label]++;
      if (longestRun(drawn.sequences[i]!) < maxRun) candidates.push(i);
    }
    if (reference) {
      const random = mulberry32(derivedSeed(seed, 7));
      const length = (i: number) => drawn.sequences[i]!.length;
      const tolerance = opts.matchTolerance ?? 1;
      candidates = capToReference(candidates.map((i) => refold[i]!.mfe / length(i)), reference[label]!.mfePerNt, 10, random, tolerance).map((k) => candidates[k]!);
      candidates = capToReference(candidates.map(length), reference[label]!.lengths, 5, random, tolerance).map((k) => candidates[k]!);
    }
    for (const i of candidates) {
      out.accepted[label]++;
      out.tokens.push(...tokens.subarray(i * TOKEN_COLUMNS, (i + 1) * TOKEN_COLUMNS));
      out.zg.push(...Array.from(zg.subarray(i * Dg, (i + 1) * Dg), (v) => Number(v.toPrecision(9))));
      out.labels.push(label);
    }
  }
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(out));
  }
  return out;
}
