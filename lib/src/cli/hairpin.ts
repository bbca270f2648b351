import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import pl from "nodejs-polars";
import { initBackend } from "../ops/backend";
import { InputError, shorten } from "../errors";
import { makeOutputFolder, withAtomicFolder } from "../io/files";
import { encodePng } from "../io/png";
import { writeTsv } from "../io/tsv";
import { loadHairpinClassifier, predictHairpinImages } from "../hairpin/classifier";
import { listDeepMirDatasets, readImagesNpz, writeImagesNpz, writeNamesNpz } from "../hairpin/datasets";
import { HairpinSetMetrics } from "../hairpin/evaluate";
import { runHairpinClassifierExperiment } from "../hairpin/experiment";
import { formatMeanSd } from "../metrics";
import { encodeFastaRecords, readHairpinFasta, stackImages } from "../hairpin/fastaImages";
import { HAIRPIN_IMAGE_HEIGHT, HAIRPIN_IMAGE_WIDTH } from "../hairpin/image";
import { hairpinGenerateCommand, hairpinTrainVaeCommand } from "./vae";
import { defineCommand, defineGroup, finiteNumber, flag, integerInRange, integerList, option, positiveInteger, QUIET_FLAG, UsageError } from "./args";

/**
 * `mirna-dl hairpin …`: hairpin images from FASTA (RNAfold + the Cordero et al. encoding), the
 * deepMir classifier, and its training experiment from the command line.
 */

/** Longest file name stem written (file systems allow 255 bytes; ".png" and margin for the temp name). */
const MAX_STEM = 200;

/**
 * A file name stem for a record: letters, digits, '.', '_', '-' kept, anything else '_'; a name
 * longer than 200 characters is cut to 191 and given '_' plus 8 hex digits of its SHA-1, so it
 * stays unique and fits every file system.
 */
export function fileNameFor(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "_";
  if (safe.length <= MAX_STEM) return safe;
  return `${safe.slice(0, MAX_STEM - 9)}_${createHash("sha1").update(name).digest("hex").slice(0, 8)}`;
}

/** What `hairpin encode` writes: the PNGs and three tables (an earlier output may be replaced with --force). */
const ENCODE_FILES = ["hairpins.tsv", "hairpins_images.npz", "hairpins_names.npz"];
const encodeOwns = (entry: string) => ENCODE_FILES.includes(entry) || /^[^/]+\.png$/.test(entry);

export const hairpinEncodeCommand = defineCommand({
  name: "encode",
  summary: "fold FASTA sequences with RNAfold and write their hairpin images (PNG + .npz)",
  description: `Folds every sequence with RNAfold (one batch, 37 °C; ViennaRNA must be installed) and draws
its hairpin image. A record may carry its own dot-bracket structure on the lines after its
sequence (as RNAfold prints it, energy optional); then it is not folded. Writes into DIR:
  <name>.png              one image per record, 100 × 25 pixels enlarged --scale times
  hairpins.tsv            name, sequence, structure, mfe (kcal/mol; empty when given), png
  hairpins_images.npz     uint8 (N, 25, 100, 3) RGB, as the deepMir *_images.npz (0–255)
  hairpins_names.npz      the record names (N,), as the deepMir *_names.npz`,
  examples: [
    "mirna-dl hairpin encode -i $MIRNA_DL_DATA/premirna/jacordero-deepmir/examples/sequences.fasta -o out/encoded",
  ],
  options: {
    input: option({
      short: "i", arg: "FASTA", required: true,
      help: "sequences (.fa / .fasta, .gz accepted); headers required, sequences\nmay span lines; A C G U (T is read as U, case ignored); at most 200 nt\n(an image holds 100 columns)",
    }),
    out: option({ short: "o", arg: "DIR", required: true, help: "output folder (created; must be new or empty unless --force)" }),
    scale: option({ arg: "N", parse: integerInRange(1, 32), default: 4, defaultText: "4: 400 × 100 pixels", inUsage: true, help: "PNG enlargement, 1–32" }),
    force: flag("replace the output of an earlier 'hairpin encode' in DIR (a folder holding\nanything else is never replaced)"),
    quiet: QUIET_FLAG,
  },
  async run(o) {
    // --out is checked first (a file, a folder holding other files, a path that cannot be
    // resolved), then everything goes into a fresh folder beside it, which replaces it once
    // complete: no stale PNGs of an earlier run, no half-written folder after an error or Ctrl+C.
    let count = 0;
    await withAtomicFolder(o.out, async (temp) => {
      const records = readHairpinFasta(o.input);
      const pngNames = records.map((r) => `${fileNameFor(r.name)}.png`);
      const clash = pngNames.findIndex((p, k) => pngNames.indexOf(p) !== k);
      if (clash >= 0) {
        throw new InputError(`record names '${shorten(records[pngNames.indexOf(pngNames[clash]!)]!.name)}' and '${shorten(records[clash]!.name)}' give the same file name ${shorten(pngNames[clash]!)}`, { file: o.input, line: records[clash]!.line });
      }
      const encoded = await encodeFastaRecords(records, o.input);
      encoded.forEach((e, k) => fs.writeFileSync(path.join(temp, pngNames[k]!), encodePng(e.image, HAIRPIN_IMAGE_WIDTH, HAIRPIN_IMAGE_HEIGHT, o.scale)));
      writeTsv(
        pl.DataFrame({
          name: encoded.map((e) => e.name),
          sequence: encoded.map((e) => e.sequence),
          structure: encoded.map((e) => e.structure),
          mfe: pl.Series("mfe", encoded.map((e) => (e.mfe === null ? null : e.mfe.toFixed(2))), pl.Utf8),
          png: pngNames,
        }),
        path.join(temp, "hairpins.tsv"),
      );
      writeImagesNpz(path.join(temp, "hairpins_images.npz"), stackImages(encoded.map((e) => e.image)));
      writeNamesNpz(path.join(temp, "hairpins_names.npz"), encoded.map((e) => e.name));
      count = encoded.length;
    }, { force: o.force, owns: encodeOwns, command: "hairpin encode" });
    if (!o.quiet) process.stderr.write(`mirna-dl: ${count} hairpin images written to ${o.out}\n`);
  },
});

/** One classified hairpin, as `hairpin classify --json` prints it. */
interface ClassifiedHairpin {
  name: string;
  /** P(pre-miRNA). */
  probability: number;
  /** 1 when probability ≥ threshold. */
  call: 0 | 1;
  sequence?: string;
  structure?: string;
  mfe?: number | null;
}

export const hairpinClassifyCommand = defineCommand({
  name: "classify",
  summary: "probability that each hairpin is a pre-miRNA, from FASTA or a deepMir .npz",
  description: `Scores hairpins with a classifier saved by mirna-dl (TensorFlow.js folder, e.g. from
'mirna-dl hairpin train'). FASTA input is folded with RNAfold and encoded first (records
may carry their own structure, see 'hairpin encode --help'); .npz input holds images as the
deepMir datasets (N, 25, 100, 3) with values 0–255 — names come from a sibling
<prefix>_names.npz when there is one, else the row number (0-based).
Prints name, probability (P(pre-miRNA)) and call (1 when probability ≥ threshold) as a
tab-separated table, or with --json one JSON object per line.`,
  examples: [
    "mirna-dl hairpin classify -m out/hairpin-classifier/seed-1/model -i $MIRNA_DL_DATA/premirna/jacordero-deepmir/examples/sequences.fasta",
    "mirna-dl hairpin classify -m out/hairpin-classifier/seed-1/model -i $MIRNA_DL_DATA/premirna/jacordero-deepmir/datasets/modhsa_test_images.npz --json",
  ],
  options: {
    model: option({ short: "m", arg: "DIR", required: true, help: "model folder (model.json + weights.bin)" }),
    input: option({ short: "i", arg: "FASTA|NPZ", required: true, help: "FASTA (.fa, .fasta, .gz) or .npz" }),
    json: flag("one JSON object per line", { inUsage: true }),
    threshold: option({ arg: "X", parse: finiteNumber, default: 0.5, help: "call a pre-miRNA when probability ≥ X" }),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 256, help: "images per forward pass" }),
    quiet: QUIET_FLAG,
  },
  async run(o) {
    await initBackend({ quiet: o.quiet }); // model first: a bad --model fails before any folding
    const model = await loadHairpinClassifier(o.model);
    let images: Uint8Array;
    let rows: Omit<ClassifiedHairpin, "probability" | "call">[];
    if (o.input.toLowerCase().endsWith(".npz")) {
      const read = readImagesNpz(o.input);
      images = read.images;
      rows = read.names.map((name) => ({ name }));
    } else {
      const encoded = await encodeFastaRecords(readHairpinFasta(o.input), o.input);
      images = stackImages(encoded.map((e) => e.image));
      rows = encoded.map((e) => ({ name: e.name, sequence: e.sequence, structure: e.structure, mfe: e.mfe }));
    }
    const probabilities = predictHairpinImages(model, images, o["batch-size"]);
    model.dispose();
    const results: ClassifiedHairpin[] = rows.map((r, k) => ({
      ...r, probability: probabilities[k]!, call: probabilities[k]! >= o.threshold ? 1 : 0,
    }));
    if (o.json) {
      for (const r of results) console.log(JSON.stringify({ ...r, probability: Number(r.probability.toFixed(6)) }));
    } else {
      console.log("name\tprobability\tcall");
      for (const r of results) console.log(`${r.name}\t${r.probability.toFixed(6)}\t${r.call}`);
    }
  },
});

export const hairpinTrainCommand = defineCommand({
  name: "train",
  summary: "the deepMir classifier experiment: train per seed, evaluate on every deepMir set",
  description: `The deepMir classifier experiment (Cordero et al. 2019): for each seed, trains the VGG-style
classifier on --train-set, then evaluates it on --test-set and every other deepMir set whose
images exist, or those --evaluate-on names (accuracy, sensitivity, specificity, F1, ROC-AUC;
single-class sets: accuracy = sensitivity or specificity), and prints the tables and mean ± sd
over seeds. The test set is also scored after every epoch, for the training curve only:
nothing is selected on it (the reported model is the last epoch's).
With --pretrain-epochs N (> 0), each seed first trains N epochs on a pre-training set built
from non-human images (positives: benchmark mmu, mmuplus, ggaplus, dreplus; negatives: chen,
shuffled) without any image whose hairpin shares a 25-nt stretch with a test-set hairpin,
balanced by seeded subsampling; then it trains --epochs on the training set with a fresh Adam.
Writes DIR/results.json (options, backend, per-seed history and metrics, summary with mean ±
sd) and DIR/seed-S/{model/, checkpoint/}; an interrupted run resumes from the checkpoints.
Needs the deepMir data ($MIRNA_DL_DATA/premirna).`,
  examples: [
    "mirna-dl hairpin train --seeds 1,2,3 --epochs 100   # the deepMir sets of $MIRNA_DL_DATA; writes out/hairpin-classifier",
    "mirna-dl hairpin train --seeds 1 --epochs 2 --max-train 256 --out out/quick-classifier",
  ],
  options: {
    seeds: option({ arg: "S,S,…", parse: integerList, default: [1], defaultText: "1", inUsage: true, help: "one training run per seed (weights, dropout, shuffling)" }),
    epochs: option({ arg: "N", parse: integerInRange(0), default: 100, inUsage: true, help: "training epochs per seed" }),
    out: option({ short: "o", arg: "DIR", default: "out/hairpin-classifier", inUsage: true, help: "folder for checkpoints, models and results.json" }),
    modules: option({ arg: "N", parse: integerInRange(1, 4), default: 2, help: "convolution modules, 1–4" }),
    "dense-units": option({ arg: "N", parse: positiveInteger, default: 128, help: "units of the hidden dense layer" }),
    "kernel-size": option({ arg: "N", parse: positiveInteger, default: 3, help: "square kernel size of every convolution" }),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 128, help: "images per training step" }),
    "max-train": option({ arg: "N", parse: positiveInteger, help: "use only N training images, at even spacing (default: all)" }),
    "pretrain-epochs": option({ arg: "N", parse: integerInRange(0), default: 0, help: "pre-training epochs on non-human images; 0 = none" }),
    "train-set": option({ arg: "PREFIX", default: "modhsa_train", help: "deepMir dataset to train on" }),
    "test-set": option({ arg: "PREFIX", default: "modhsa_test", help: "deepMir dataset to test on" }),
    "evaluate-on": option({ arg: "SETS", default: "all", help: "deepMir sets scored besides the test set: prefixes separated by commas, 'all' (every set with images) or 'none'" }),
    quiet: QUIET_FLAG,
  },
  async run(o) {
    const setName = (prefix: string) => prefix.replace(/^benchmark\//, ""); // as the dataset reader resolves it
    if (setName(o["test-set"]) === setName(o["train-set"])) {
      throw new UsageError(`--test-set is the training set ('${o["train-set"]}'): a model scored on the images it was trained on says nothing about new hairpins; choose another set`);
    }
    const evaluateOn = evaluationSets(o["evaluate-on"], setName);
    makeOutputFolder(o.out); // before any work: a file there, or a path that cannot be resolved, fails now
    await initBackend({ quiet: o.quiet });
    const results = await runHairpinClassifierExperiment({
      ...(o.quiet ? { progress: () => {} } : {}),
      seeds: o.seeds,
      epochs: o.epochs,
      outDir: o.out,
      modules: o.modules,
      denseUnits: o["dense-units"],
      kernelSize: o["kernel-size"],
      batchSize: o["batch-size"],
      maxTrain: o["max-train"],
      pretrainEpochs: o["pretrain-epochs"],
      trainSet: o["train-set"],
      testSet: o["test-set"],
      evaluateOn,
    });
    for (const s of results.perSeed) printSeedTable(s.seed, s.metrics);
    console.log(`\nmean ± sd over seeds ${o.seeds.join(", ")} (${results.epochs} epochs, ${results.backend}):`);
    for (const s of results.summary) {
      console.log(`${String(s.name).padEnd(16)} n ${String(s.n).padStart(5)}  accuracy ${formatMeanSd(s.accuracy)}  ROC-AUC ${formatMeanSd(s.rocAuc)}`);
    }
    if (results.notHeldOut.length) console.log(`note: ${results.notHeldOut.join(", ")} were pre-training data: not held out`);
    console.log(`seconds per epoch: ${results.perSeed.map((s) => s.secondsPerEpoch.toFixed(1)).join(", ")}; results in ${path.join(o.out, "results.json")}`);
  },
});

/** --evaluate-on as the experiment takes it: "all", or the named sets, each a deepMir set with images. */
function evaluationSets(value: string, setName: (prefix: string) => string): readonly string[] | "all" {
  if (value === "all") return "all";
  if (value === "none") return [];
  const named = value.split(",").map((p) => setName(p.trim()));
  const known = listDeepMirDatasets().filter((d) => d.images).map((d) => d.prefix);
  const unknown = named.filter((p) => !known.includes(p));
  if (named.some((p) => p === "") || unknown.length > 0) {
    throw new UsageError(`--evaluate-on: ${unknown.length > 0 ? `no deepMir set with images named ${unknown.map((p) => `'${p}'`).join(", ")}` : "an empty set name"}; the sets are ${known.join(", ")} (or 'all', 'none')`);
  }
  return named;
}

function printSeedTable(seed: number, metrics: HairpinSetMetrics[]): void {
  const f = (x: number | null) => (x === null ? "    —  " : x.toFixed(4).padStart(7));
  console.log(`\nseed ${seed}\nset                  n    pos    neg  accuracy  sensitiv  specific      F1   ROC-AUC`);
  for (const m of metrics) {
    console.log(
      `${String(m.name).padEnd(16)} ${String(m.n).padStart(5)} ${String(m.positives).padStart(6)} ${String(m.negatives).padStart(6)}   ${f(m.accuracy)}   ${f(m.sensitivity)}   ${f(m.specificity)} ${f(m.f1)}   ${f(m.rocAuc)}`,
    );
  }
}

export const hairpinGroup = defineGroup({
  name: "hairpin",
  summary: "pre-miRNA hairpins: encode | classify | train | train-vae | generate",
  description: "Pre-miRNA hairpins as 25 × 100 images (Cordero et al. 2019), the deepMir classifier, and the conditional VAE that generates them.",
  footer: "mirna-dl hairpin <command> --help shows the options of a command.",
  commands: [hairpinEncodeCommand, hairpinClassifyCommand, hairpinTrainCommand, hairpinTrainVaeCommand, hairpinGenerateCommand],
});
