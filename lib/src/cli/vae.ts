import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import { makeOutputFolder, withAtomicFolder, writeFileAtomic } from "../io/files";
import { writeNpz } from "../io/npy";
import { encodePng } from "../io/png";
import { initBackend } from "../ops/backend";
import { loadHairpinClassifier } from "../hairpin/classifier";
import { writeImagesNpz, writeNamesNpz } from "../hairpin/datasets";
import { hairpinGalleryPng } from "../hairpin/gallery";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_SIZE, HAIRPIN_IMAGE_WIDTH } from "../hairpin/image";
import { AR_DECODER_EPOCHS } from "../cvae/arDecoder";
import { buildVaeData } from "../cvae/data";
import { evaluateGeneratedHairpins, GeneratedEvaluation } from "../cvae/evaluate";
import { CVAE_EPOCHS } from "../cvae/experiment";
import { DEFAULT_GENERATION, defaultProfilePool, generateHairpins, GenerationDecoder, ProfilePool } from "../cvae/generate";
import { DEFAULT_CVAE_CONFIG, disposeCvae, latentSize } from "../cvae/model";
import { sanityRulesFrom } from "../cvae/sanity";
import { loadCvae } from "../cvae/saved";
import { TOKEN_COLUMNS } from "../cvae/tokens";
import { DEFAULT_AR_REFINEMENT, trainCvaeSeed } from "../cvae/train";
import { generateVerifiedHairpins, VerificationCost, verificationCost, VerifiedGeneratedHairpins } from "../cvae/verified";
import { defineCommand, finiteNumber, flag, integerInRange, option, positiveInteger, QUIET_FLAG, UsageError, Validator } from "./args";

/**
 * `mirna-dl hairpin train-vae` and `mirna-dl hairpin generate`: the conditional VAE
 * (lib/src/cvae/) from the command line.
 */

/** Three comma-separated positive integers (latent sizes). */
const latentSizes: Validator<[number, number, number]> = (raw, flag) => {
  const parts = raw.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`${flag} must be three positive integers C,S,R, got '${raw}'`);
  // Checked here, before any data is read: the residual part is laid out as 25 blocks of 4 columns.
  if (parts[2]! % 25 !== 0) throw new UsageError(`${flag}: the residual size R must be a multiple of 25 (25 blocks of 4 columns), got ${parts[2]}`);
  return parts as [number, number, number];
};

/** A number in [0, 1]. */
const fraction: Validator<number> = (raw, flag) => {
  const n = finiteNumber(raw, flag);
  if (n < 0 || n > 1) throw new UsageError(`${flag} must be a fraction in 0–1, got '${raw}'`);
  return n;
};

/** A non-negative number. */
const nonNegative: Validator<number> = (raw, flag) => {
  const n = finiteNumber(raw, flag);
  if (n < 0) throw new UsageError(`${flag} must be ≥ 0, got '${raw}'`);
  return n;
};

/** A positive number. */
const positiveNumber: Validator<number> = (raw, flag) => {
  const n = finiteNumber(raw, flag);
  if (!(n > 0)) throw new UsageError(`${flag} must be > 0, got '${raw}'`);
  return n;
};

export const hairpinTrainVaeCommand = defineCommand({
  name: "train-vae",
  summary: "train the conditional VAE that generates hairpin images (checkpointed, resumable)",
  description: `Trains the conditional VAE of hairpin images: a class, a structure and a
residual latent part with learned priors p(z_class | class), p(z_structure | stem pairs,
loop nt, GC) and, for the residual (8 dims per block of 4 columns), an autoregressive prior
over the blocks given the other two parts; a structured decoder that predicts one of 31
column states per image column (its colours and, by the pairing rules, its bar lengths), so
every sample renders to an exact image. Then the autoregressive column decoder used for
generation (--ar-epochs; 0 = none): it writes a hairpin column by column from the loop
outwards given the class and structure parts; then --refine-rounds of refold-consistent
fine-tuning: it draws drafts as generation does, folds them with RNAfold and is fine-tuned on
those that refold exactly, with real training hairpins (RNAfold in training only; generation
stays one draw per sample). Training data: the deepMir images of human and other-species
pre-miRNAs and of pseudo-hairpin and shuffled negatives, read back into columns (single-stem
drawings only), deduplicated by sequence, without any hairpin sharing a 25-nt stretch with the
held-out set (default modhsa_test, the classifier's test set).
Writes into DIR: model/ (weights), cvae.json (sizes, options, history, sanity rules with the
MFE-per-nt window of the validation pre-miRNAs), training.tsv.gz (training hairpins, for novelty),
ar-decoder/ and ar-decoder.json (the AR decoder), checkpoint/, ar-checkpoint/ and
ar-checkpoint-refine/ (after every epoch and refinement round; an interrupted run resumes from
them). Prints the held-out reconstruction accuracy. Needs the deepMir data
($MIRNA_DL_DATA/premirna) and RNAfold.`,
  examples: [
    "mirna-dl hairpin train-vae --out out/hairpin-cvae --seed 1   # the deepMir sets of $MIRNA_DL_DATA; resumes when interrupted",
    "mirna-dl hairpin train-vae --out out/quick-cvae --epochs 2 --ar-epochs 1 --max-train 500",
  ],
  options: {
    out: option({ short: "o", arg: "DIR", default: "out/hairpin-cvae", inUsage: true, help: "model folder (with checkpoint/ inside)" }),
    seed: option({ arg: "N", parse: integerInRange(0), default: 1, inUsage: true, help: "seed of weights, shuffling and noise" }),
    epochs: option({ arg: "N", parse: integerInRange(0), default: CVAE_EPOCHS, inUsage: true, help: "training epochs" }),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 64, help: "images per step" }),
    "learning-rate": option({ arg: "X", parse: positiveNumber, default: 8e-4, help: "Adam learning rate" }),
    beta: option({ arg: "X", parse: nonNegative, default: 0.1, help: "β of each KL term after warm-up" }),
    "warmup-epochs": option({ arg: "N", parse: nonNegative, default: 5, help: "epochs over which β rises linearly from 0" }),
    latent: option({ arg: "C,S,R", parse: latentSizes, default: [DEFAULT_CVAE_CONFIG.latent.class, DEFAULT_CVAE_CONFIG.latent.structure, DEFAULT_CVAE_CONFIG.latent.residual] as [number, number, number], defaultText: "64,64,200", help: "dimensions of the class, structure and residual parts\n(the residual: 25 blocks of 4 columns, a multiple of 25)" }),
    "max-train": option({ arg: "N", parse: positiveInteger, help: "use at most N training hairpins (seeded, classes in proportion)" }),
    "held-out": option({ arg: "PREFIX", default: "modhsa_test", help: "deepMir set held out from training" }),
    "ar-epochs": option({ arg: "N", parse: integerInRange(0), default: AR_DECODER_EPOCHS, help: "epochs of the autoregressive column decoder (0 = do not train one)" }),
    "refine-rounds": option({ arg: "N", parse: integerInRange(0), default: DEFAULT_AR_REFINEMENT.rounds, help: "rounds of refold-consistent fine-tuning of the AR decoder\n(draft, fold with RNAfold, fine-tune on the drafts that refold exactly; 0 = none)" }),
    "refine-samples": option({ arg: "N", parse: integerInRange(1), default: DEFAULT_AR_REFINEMENT.samplesPerClass, help: "drafts per class and refinement round" }),
    "refine-epochs": option({ arg: "N", parse: integerInRange(1), default: DEFAULT_AR_REFINEMENT.epochs, help: "fine-tuning epochs per refinement round" }),
    quiet: QUIET_FLAG,
  },
  async run(o) {
    makeOutputFolder(o.out); // before any work: a file there, or a path that cannot be resolved, fails now
    await initBackend({ quiet: o.quiet });
    const say = (line: string) => void (o.quiet || process.stderr.write(line));
    const data = buildVaeData({ heldOutSet: o["held-out"], maxTrain: o["max-train"] });
    say(`mirna-dl: ${data.train.n} training hairpins (${data.train.labels.reduce((a, b) => a + b, 0)} pre-miRNA), ${data.heldOut.n} held out (${data["heldOutSet"]})\n`);
    const [c, s, r] = o.latent;
    // The sanity rules' MFE window from the validation pre-miRNAs: the test split chooses nothing.
    const positives = [...data.validation.labels.keys()].filter((i) => data.validation.labels[i] === 1).map((i) => data.validation.sequences[i]!);
    const { rules } = await sanityRulesFrom(positives);
    const { cvae, info, arDecoder: trained, reconstruction: rec } = await trainCvaeSeed(data.train, {
      seed: o.seed, checkpointRoot: o.out, modelDir: o.out, heldOut: data.heldOut,
      sanity: { rules, source: `MFE/nt window = 1st–99th percentile of the ${positives.length} validation pre-miRNAs folded with RNAfold` },
      training: {
        epochs: o.epochs, batchSize: o["batch-size"], learningRate: o["learning-rate"], beta: o.beta, warmupEpochs: o["warmup-epochs"],
        config: { ...DEFAULT_CVAE_CONFIG, latent: { class: c, structure: s, residual: r } },
        onEpoch: (h) => say(`epoch ${h.epoch}/${o.epochs}: loss ${h.total?.toFixed(2)} recon ${h.reconstruction?.toFixed(2)} β ${h.beta?.toFixed(3)} token acc ${h.tokenAccuracy?.toFixed(4)} | val recon ${h.valReconstruction?.toFixed(2) ?? "—"} | ${h.seconds.toFixed(1)} s\n`),
      },
      arDecoder: o["ar-epochs"] > 0 ? { epochs: o["ar-epochs"], refine: { ...DEFAULT_AR_REFINEMENT, rounds: o["refine-rounds"], samplesPerClass: o["refine-samples"], epochs: o["refine-epochs"] } } : null,
      onRefineRound: (r) => say(`AR decoder refinement round ${r.round}/${o["refine-rounds"]}: drafts refolding exactly ${r.refoldExact[1]}/${r.drafts[1]} pre-miRNA, ${r.refoldExact[0]}/${r.drafts[0]} negative; fine-tuned on ${r.accepted[0] + r.accepted[1]} of them | val ${r.validationNll === null ? "—" : r.validationNll.toFixed(2)} nats per hairpin | ${r.seconds.toFixed(1)} s\n`),
      onArEpoch: (h) => say(`AR decoder ${typeof h.refineRound === "number" ? `refinement round ${h.refineRound} epoch ${h.epoch}/${o["refine-epochs"]}` : `epoch ${h.epoch}/${o["ar-epochs"]}`}: token NLL ${(h.nll as number).toFixed(2)} | val ${typeof h.valNll === "number" ? h.valNll.toFixed(2) : "—"} nats per hairpin | ${h.seconds.toFixed(1)} s\n`),
    });
    try {
      const ar = trained && {
        epochs: o["ar-epochs"], validationNll: trained.info.validationNll === null ? null : round(trained.info.validationNll, 2), minutes: round(trained.info.history.reduce((a, h) => a + h.seconds, 0) / 60, 2),
        refinement: (trained.info.refinement ?? []).map((r) => ({ round: r.round, drafts: r.drafts, refoldExact: r.refoldExact, accepted: r.accepted })),
      };
      console.log(JSON.stringify({
        model: o.out, epochs: o.epochs, seed: o.seed, trainingHairpins: data.train.n, heldOut: data.heldOut.n,
        reconstruction: { colourAccuracy: round(rec!.colourAccuracy), barAccuracy: round(rec!.barAccuracy), exactImages: round(rec!.exactImages) },
        secondsPerEpoch: round(info.training.secondsPerEpoch, 2), stepsPerSecond: round(info.training.stepsPerSecond, 2), backend: info.training.backend,
        arDecoder: ar,
      }));
    } finally {
      disposeCvae(cvae);
    }
  },
});

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

/** What `hairpin generate` writes (an earlier output may be replaced with --force; png/ only with PNGs in it). */
const GENERATE_FILES = ["generated.fa", "generated.tsv", "generated_images.npz", "generated_names.npz", "generated.npz", "gallery.png", "summary.json", "png/"];
const generateOwns = (entry: string) => GENERATE_FILES.includes(entry) || /^png\/[^/]+\.png$/.test(entry);

const CLASSES = { "pre-mirna": 1, negative: 0 } as const;

export const hairpinGenerateCommand = defineCommand({
  name: "generate",
  summary: "sample hairpins from a trained VAE: FASTA, PNGs, .npz, with the RNAfold check",
  description: `Samples hairpins of one class from a VAE trained by 'hairpin train-vae': z_class from the
learned class prior, z_structure from the structure prior given a profile (stem pairs, loop nt,
GC; each one requested with --stem / --loop / --gc, else that of a random training hairpin of
the class), scaled by --temperature. --decoder autoregressive (the default when the model has
one): the AR decoder writes the columns one by one from the loop outwards, each drawn at
--token-temperature; --decoder columns: the VAE's own decoder, given also z_residual from its
prior, most likely column states. Each sample is drawn as an exact image and read as a sequence.
By default every sample is the model's first draw (raw: no filtering, no retries), and the
summary's numbers are those of these raw samples: the refold check (RNAfold's fold of the
sequence re-encoded: exact = the same image), the hairpin sanity rules (one terminal loop,
≥ 18 bp, loop 3–20 nt, MFE/nt in the window stored with the model), novelty (edit distance to
the nearest training hairpin) and, with --classifier, P(pre-miRNA).
--verify adds RNAfold-verified decoding, a filter: up to --candidates decodings of each sample
are tried (AR: fresh draws from the same latent; columns: the most likely first, then other
hairpin lengths and loop sizes near it, then decodings drawn at a low token temperature) and
the first one RNAfold folds into exactly its drawn structure is kept (decoding_rank; −1: none
passed, the first is kept). The files then hold the kept samples; the summary keeps the raw
numbers and adds "verified": the kept samples' numbers and what the filter cost (samples kept,
draws folded, acceptance = kept / draws, mean draws per kept sample).
Writes into DIR:
  generated.fa             sequences
  generated.tsv            name, sequence, drawn structure, RNAfold structure and MFE, refold
                           exact, column agreement, sanity, requested profile, decoding rank,
                           novelty, P(pre-miRNA)
  png/<name>.png           one image per sample; gallery.png: the first 24
  generated_images.npz     uint8 (N, 25, 100, 3) as the deepMir sets (+ generated_names.npz):
                           'hairpin classify --input DIR/generated_images.npz' reads it
  generated.npz            tokens (N, 100), latents (N, D), profiles (N, 3), labels (N,)
  summary.json             the numbers above and the timings`,
  examples: [
    "mirna-dl hairpin generate -m out/hairpin-cvae -o out/generated --n 100 --classifier out/hairpin-classifier/seed-1/model",
    "mirna-dl hairpin generate -m out/hairpin-cvae -o out/long-stems --class pre-mirna --stem 30 --loop 8 --gc 0.5",
  ],
  options: {
    model: option({ short: "m", arg: "DIR", required: true, help: "model folder written by 'hairpin train-vae'" }),
    out: option({ short: "o", arg: "DIR", required: true, help: "output folder (new or empty unless --force)" }),
    class: option({
      arg: "CLASS", default: "pre-mirna" as keyof typeof CLASSES, inUsage: true, help: "pre-mirna or negative",
      parse: (raw, f) => {
        if (!(raw in CLASSES)) throw new UsageError(`${f} must be pre-mirna or negative, got '${raw}'`);
        return raw as keyof typeof CLASSES;
      },
    }),
    n: option({ arg: "N", parse: integerInRange(1, 1_000_000), default: 100, inUsage: true, help: "number of samples" }),
    seed: option({ arg: "N", parse: integerInRange(0), default: 1, help: "seed of every draw (same seed, same samples)" }),
    stem: option({ arg: "N", parse: integerInRange(0, TOKEN_COLUMNS), help: "requested stem length (paired columns)" }),
    loop: option({ arg: "N", parse: integerInRange(0, TOKEN_COLUMNS), help: "requested terminal-loop size (nt)" }),
    gc: option({ arg: "X", parse: fraction, help: "requested GC content (0–1)" }),
    profiles: option({
      arg: "POOL", help: "training hairpins that lend the other profile entries: canonical\n(≥ 18 pairs, loop 3–20 nt) or all (default: canonical for\npre-mirna, all for negative)",
      parse: (raw, f) => {
        if (raw !== "canonical" && raw !== "all") throw new UsageError(`${f} must be canonical or all, got '${raw}'`);
        return raw as ProfilePool;
      },
    }),
    decoder: option({
      arg: "NAME", help: "autoregressive or columns (default: autoregressive when the model has one)",
      parse: (raw, f) => {
        if (raw !== "autoregressive" && raw !== "columns") throw new UsageError(`${f} must be autoregressive or columns, got '${raw}'`);
        return raw as GenerationDecoder;
      },
    }),
    temperature: option({ arg: "X", parse: nonNegative, help: `spread of the latent draws relative to the priors (1 = the priors;\ndefault ${DEFAULT_GENERATION.autoregressive.temperature} with the autoregressive decoder, ${DEFAULT_GENERATION.columns.temperature} with columns)` }),
    "token-temperature": option({ arg: "X", parse: nonNegative, help: `temperature of each column's draw (0 = most likely; default\n${DEFAULT_GENERATION.autoregressive.tokenTemperature} with the autoregressive decoder, ${DEFAULT_GENERATION.columns.tokenTemperature} with columns)` }),
    "top-p": option({
      arg: "P", help: `autoregressive decoder: draw each column from the most likely tokens\nholding P of the probability (1 = all; default ${DEFAULT_GENERATION.autoregressive.topP})`,
      parse: (raw, f) => {
        const v = Number(raw);
        if (!(v > 0 && v <= 1)) throw new UsageError(`${f} must be a number in (0, 1], got '${raw}'`);
        return v;
      },
    }),
    verify: flag("RNAfold-verified decoding: keep the first of up to --candidates\ndecodings per sample that RNAfold folds into its drawn structure"),
    candidates: option({ arg: "K", parse: integerInRange(1, 200), help: `with --verify: decodings tried per sample (default ${DEFAULT_GENERATION.candidates})` }),
    classifier: option({ arg: "DIR", help: "a hairpin classifier folder: adds P(pre-miRNA) per sample" }),
    "no-novelty": flag("skip the edit-distance search against the training hairpins"),
    scale: option({ arg: "N", parse: integerInRange(1, 32), default: 4, help: "PNG enlargement" }),
    force: flag("replace the output of an earlier 'hairpin generate' in DIR"),
    quiet: QUIET_FLAG,
  },
  async run(o) {
    if (o.candidates !== undefined && !o.verify) throw new UsageError("--candidates needs --verify (without it every sample is its first draw)");
    // --out is checked (and its temporary folder made) before anything is loaded or sampled;
    // the work fills that folder, which replaces --out once complete.
    let written = 0;
    let verifiedCost: VerificationCost | null = null;
    await withAtomicFolder(o.out, async (temp) => {
      const started = performance.now();
      await initBackend({ quiet: o.quiet });
      const classifier = o.classifier ? await loadHairpinClassifier(o.classifier) : null;
      let loaded: Awaited<ReturnType<typeof loadCvae>>;
      try {
        loaded = await loadCvae(o.model);
      } catch (e) {
        classifier?.dispose();
        throw e;
      }
      const { cvae, info, training } = loaded;
      try {
        if (!info.sanity) throw new InputError("cvae.json has no sanity rules (train the model with 'hairpin train-vae')", { file: path.join(o.model, "cvae.json") });
        const label = CLASSES[o.class];
        const candidates = o.candidates ?? DEFAULT_GENERATION.candidates;
        const profile = { ...(o.stem !== undefined ? { stem: o.stem } : {}), ...(o.loop !== undefined ? { loop: o.loop } : {}), ...(o.gc !== undefined ? { gc: o.gc } : {}) };
        const request = { n: o.n, label, seed: o.seed, profile, profilePool: o.profiles, decoder: o.decoder, temperature: o.temperature, tokenTemperature: o["token-temperature"], topP: o["top-p"] } as const;
        const model = { cvae, info, training };
        const checks = { rules: info.sanity.rules, classifier, trainingSequences: o["no-novelty"] ? null : training.sequences };
        // Raw samples: the model's first draw of each (the numbers of the summary).
        const raw = generateHairpins(model, request);
        const generatedSeconds = (performance.now() - started) / 1000;
        const rawEvaluation = await evaluateGeneratedHairpins(raw, checks);
        // --verify: the same latents and first draws, then further draws until RNAfold agrees.
        let verify: { g: VerifiedGeneratedHairpins; evaluation: GeneratedEvaluation; cost: VerificationCost; seconds: number } | null = null;
        if (o.verify) {
          const t = performance.now();
          const v = await generateVerifiedHairpins(model, { ...request, candidates });
          verify = { g: v, evaluation: await evaluateGeneratedHairpins(v, checks), cost: verificationCost(v, candidates), seconds: (performance.now() - t) / 1000 };
        }
        const g = verify?.g ?? raw;
        const evaluation = verify?.evaluation ?? rawEvaluation;
        const rank = verify?.g.rank ?? new Int16Array(g.n);
        const defaults = DEFAULT_GENERATION[g.decoder];
        const names = g.sequences.map((_, i) => `cvae_${o.class}_${String(i + 1).padStart(String(o.n).length, "0")}`);
          fs.writeFileSync(path.join(temp, "generated.fa"), names.map((n, i) => `>${n}\n${g.sequences[i]}\n`).join(""));
          const header = ["name", "class", "sequence", "drawn_structure", "rnafold_structure", "mfe", "refold_exact", "column_agreement", "sanity_pass",
            "stem_pairs", "loop_nt", "mfe_per_nt", "requested_stem", "requested_loop", "requested_gc", "decoding_rank", "novelty", "p_pre_mirna"];
          const lines = [header.join("\t")];
          g.sequences.forEach((s, i) => {
            const r = evaluation.refold[i]!, q = evaluation.sanity[i]!;
            lines.push([
              names[i], o.class, s, g.structures[i], r.fold, r.mfe.toFixed(2), r.exact ? 1 : 0, r.columnAgreement.toFixed(4), q.pass ? 1 : 0,
              q.stemPairs, q.loopSize, q.mfePerNt.toFixed(4), g.profiles[3 * i], g.profiles[3 * i + 1], g.profiles[3 * i + 2]!.toFixed(4), rank[i],
              evaluation.novelty ? evaluation.novelty[i]!.distance : "", evaluation.classifierProbabilities ? evaluation.classifierProbabilities[i]!.toFixed(6) : "",
            ].join("\t"));
          });
          fs.writeFileSync(path.join(temp, "generated.tsv"), lines.join("\n") + "\n");
          fs.mkdirSync(path.join(temp, "png"));
          names.forEach((n, i) => {
            fs.writeFileSync(path.join(temp, "png", `${n}.png`), encodePng(g.images.subarray(i * HAIRPIN_IMAGE_SIZE, (i + 1) * HAIRPIN_IMAGE_SIZE), HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_HEIGHT, o.scale));
          });
          const first = Array.from({ length: Math.min(24, g.n) }, (_, i) => i);
          fs.writeFileSync(path.join(temp, "gallery.png"), hairpinGalleryPng(g.images, first, { columns: 3, scale: 3, captions: first.map((i) => `${names[i]}${evaluation.refold[i]!.exact ? "" : " (refold differs)"}`) }));
          writeImagesNpz(path.join(temp, "generated_images.npz"), g.images);
          writeNamesNpz(path.join(temp, "generated_names.npz"), names);
          const D = latentSize(cvae.config);
          writeNpz(path.join(temp, "generated.npz"), {
            tokens: { dtype: "|u1", shape: [g.n, TOKEN_COLUMNS], data: g.tokens },
            latents: { dtype: "<f4", shape: [g.n, D], data: g.latents },
            profiles: { dtype: "<f4", shape: [g.n, 3], data: g.profiles },
            labels: { dtype: "|u1", shape: [g.n], data: new Uint8Array(g.n).fill(label) },
          });
          const summary = {
            model: o.model, class: o.class, seed: o.seed, decoder: g.decoder,
            temperature: o.temperature ?? defaults.temperature, tokenTemperature: o["token-temperature"] ?? defaults.tokenTemperature, topP: o["top-p"] ?? defaults.topP, requested: profile, profilePool: o.profiles ?? defaultProfilePool(label),
            // Raw samples (one draw each): always the headline numbers.
            mode: verify ? "verified" : "raw",
            ...rawEvaluation.summary,
            verified: verify ? { ...verify.cost, ...verify.evaluation.summary } : null,
            sanityRules: info.sanity!.rules,
            seconds: {
              generate: round(generatedSeconds, 2), ...Object.fromEntries(Object.entries(rawEvaluation.seconds).map(([k, v]) => [k, round(v, 2)])),
              ...(verify ? { verify: round(verify.seconds, 2) } : {}), total: round((performance.now() - started) / 1000, 2),
            },
          };
          writeFileAtomic(path.join(temp, "summary.json"), JSON.stringify(summary, null, 1));
          console.log(JSON.stringify(summary));
        written = g.n;
        verifiedCost = verify?.cost ?? null;
      } finally {
        disposeCvae(cvae);
        classifier?.dispose();
      }
    }, { force: o.force, owns: generateOwns, command: "hairpin generate" });
    if (!o.quiet) {
      const c = verifiedCost as VerificationCost | null;
      if (c) {
        process.stderr.write(`mirna-dl: verified decoding: ${c.kept} of ${c.samples} samples found a decoding RNAfold folds into its drawing, after ${c.draws} draws (acceptance ${c.acceptanceRate.toFixed(3)} per draw, ${c.meanDrawsPerKept === null ? "—" : c.meanDrawsPerKept.toFixed(2)} draws per kept sample; the other ${c.samples - c.kept} keep their first draw)\n`);
      }
      process.stderr.write(`mirna-dl: ${written} ${o.class} hairpins (${c ? "verified" : "raw: one draw each"}) written to ${o.out}\n`);
    }
  },
});
