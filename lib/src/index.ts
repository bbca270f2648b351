/**
 * mirna-dl: miRNA–target binding matrices, the CEITEC arch_00b CNN, metrics, the seed-match
 * baseline and Vega-Lite figures, in TypeScript. One module per operation; this file re-exports
 * them for `import { … } from "mirna-dl"` (notebooks import the built package).
 */
export * from "./errors";
export * from "./sequences";
export * from "./encoding";
export * from "./fileio";
export * from "./random";
export * from "./tables";
export * from "./data";
export { fetchData, listData, verifyData, readManifest, DEFAULT_MANIFEST } from "./dataFetch";
export type { DataFetchOptions, FetchReport, FileCheck, Manifest, ManifestFile } from "./dataFetch";
export * from "./metrics";
export * from "./seedMatch";
export * from "./backend";
export * from "./models/arch00b";
export * from "./models/seededDropout";
export * from "./models/kerasH5";
export * from "./models/tfjsFormat";
export * from "./predict";
export * from "./progress";
export * from "./scorer";
export * from "./evaluation";
export * from "./plots";
export * from "./display";
export * from "./hairpin/rna";
export * from "./hairpin/rnafold";
export * from "./hairpin/image";
export { readNpy, readNpyFile, readNpz, readNpzSingle, shapeSize } from "./npy";
export type { NdArray, NdData, ReadNpyOptions } from "./npy";
export * from "./hairpin/datasets";
export * from "./hairpin/classifier";
export * from "./hairpin/train";
export * from "./hairpin/evaluate";
export * from "./hairpin/cli";
export * from "./preprocess/encori";
export * from "./preprocess/gtf";
export * from "./preprocess/targetscan";
export * from "./preprocess/genome";
export * from "./preprocess/steps";
export * from "./preprocess/windows";
export * from "./preprocess/negatives";
export * from "./preprocess/pipeline";
export * from "./preprocess/outputs";
export * from "./preprocess/inputs";
export * from "./datasetStats";
export * from "./hairpin/experiment";
export * from "./hairpin/saliency";
export * from "./hairpin/gallery";
