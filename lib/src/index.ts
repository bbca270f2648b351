/**
 * mirna-dl: miRNA–target binding and pre-miRNA hairpin models in TypeScript. One module per
 * operation, one folder per task; this file re-exports the library for
 * `import { … } from "mirna-dl"` (notebooks import the built package). The command line
 * (lib/src/cli/) is not part of it.
 *
 *   binding/     miRNA–site pairs: sequences, binding matrices, seed matches, arch_00b, Keras
 *                import, scoring, evaluation
 *   hairpin/     pre-miRNA hairpins: RNAfold, 25 × 100 images, deepMir data, classifier,
 *                saliency, gallery
 *   cvae/        the conditional VAE that generates hairpins (on hairpin/): tokens, data, model,
 *                the saved format, training, generation, evaluation, realism, latent analysis
 *   preprocess/  ENCORI + genome + GENCODE + TargetScan → training and test sets
 *   training/    the task-independent training loop and its checkpoints
 *   ops/         TensorFlow.js backends and the layers / optimizer that use native kernels
 *   io/          files, TSV, FASTA, PNG, NumPy, archives, saved models
 *   data/        the data folder and the public data manifest
 *   figures/     Vega-Lite specs, rendering, notebook display
 *   predict, saliency, metrics, random, progress, errors: shared by every task
 *   checks       notebooks check their headline numbers against notebooks/references/*.json
 */
export * from "./errors";
export * from "./random";
export * from "./progress";
export * from "./checks";
export * from "./metrics";
export * from "./sequence";
export * from "./predict";
export * from "./saliency";

export * from "./training/loop";
export * from "./training/batches";
export * from "./training/checkpoint";
export * from "./ops/nn";

export * from "./io/files";
export * from "./io/tsv";
export * from "./io/fasta";
export * from "./io/png";
export * from "./io/npy";
export * from "./io/archives";
export * from "./io/tfjsModel";

export * from "./data/paths";
export { fetchData, listData, verifyData, readManifest, DEFAULT_MANIFEST } from "./data/fetch";
export type { DataFetchOptions, FetchReport, FileCheck, Manifest, ManifestFile } from "./data/fetch";

export * from "./ops/backend";
export * from "./ops/seededDropout";

export * from "./figures/specs";
export * from "./figures/binding";
export * from "./figures/cvae";
export * from "./figures/render";
export * from "./figures/display";

export * from "./binding/sequences";
export * from "./binding/encoding";
export * from "./binding/tables";
export * from "./binding/paperLayout";
export * from "./binding/paperTable";
export * from "./binding/paths";
export * from "./binding/seedMatch";
export * from "./binding/negatives";
export * from "./binding/arch00b";
export * from "./binding/kerasH5";
export * from "./binding/predict";
export * from "./binding/scorer";
export * from "./binding/evaluation";
export * from "./binding/benchmark";
export * from "./binding/datasetStats";
export * from "./binding/split";
export * from "./binding/trainingData";
export * from "./binding/trainStandard";
export * from "./binding/trainIterative";
export * from "./binding/trainStream";
export * from "./binding/positiveRows";
export * from "./binding/experiment";
export * from "./binding/trainingTime";
export * from "./binding/paperComparison";
export * from "./binding/experimentOutputs";
export * from "./binding/readings";
export * from "./binding/clashReadings";
export * from "./binding/attribution";
export * from "./binding/mutagenesis";
export * from "./binding/insilico";
export * from "./binding/siteTypes";
export * from "./binding/scan";

export * from "./hairpin/rna";
export * from "./hairpin/rnafold";
export * from "./hairpin/image";
export * from "./hairpin/fastaImages";
export * from "./hairpin/datasets";
export * from "./hairpin/classifier";
export * from "./hairpin/train";
export * from "./hairpin/evaluate";
export * from "./hairpin/experiment";
export * from "./hairpin/saliency";
export * from "./hairpin/gallery";
export * from "./hairpin/readings";

export * from "./cvae/tokens";
export * from "./cvae/data";
export * from "./cvae/arDecoder";
export * from "./cvae/model";
export * from "./cvae/sanity";
export * from "./cvae/saved";
export * from "./cvae/generate";
export * from "./cvae/novelty";
export * from "./cvae/evaluate";
export * from "./cvae/realism";
export * from "./cvae/arRefine";
export * from "./cvae/train";
export * from "./cvae/verified";
export * from "./cvae/settings";
export * from "./cvae/latentBiology";
export * from "./cvae/latentTree";
export * from "./cvae/readings";
export * from "./cvae/experiment";

export * from "./preprocess/encori";
export * from "./preprocess/gtf";
export * from "./preprocess/targetscan";
export * from "./preprocess/genome";
export * from "./preprocess/steps";
export * from "./preprocess/windows";

export * from "./preprocess/pipeline";
export * from "./preprocess/outputs";
export * from "./preprocess/inputs";
