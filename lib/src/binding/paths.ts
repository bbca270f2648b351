import { dataPath } from "../data/paths";

/** The published CEITEC models (Keras HDF5), by name. */
export const PUBLISHED_MODELS = [
  "iterative",
  "standard_100k_ratio10",
  "standard_100k_ratio1",
  "standard_1k_ratio10",
  "standard_1k_ratio1",
] as const;
export type PublishedModelName = (typeof PUBLISHED_MODELS)[number];

/** Path of a published model's `.h5` file under the data folder. */
export function publishedModelPath(name: PublishedModelName): string {
  return dataPath("mirna_binding", "data", "models", `${name}.h5`);
}

/** The two chr1 test sets of the original work (github.com/ML-Bioinfo-CEITEC/mirna_binding). */
export const TEST_SETS = { scan: "scan_test_set.tsv.gz", mirnaNeg: "mirna_neg_test_set.tsv.gz" } as const;
export type TestSetName = keyof typeof TEST_SETS;

/** Path of a chr1 test set under the data folder. */
export function testSetPath(name: TestSetName): string {
  return dataPath("mirna_binding", "data", "datasets", TEST_SETS[name]);
}
