import * as fs from "node:fs";
import * as path from "node:path";
import { LIB_ROOT, dataPath } from "../data/paths";

/** Paths of the four preprocessing inputs (see PreprocessInputs in pipeline.ts). */
export interface PreprocessInputPaths {
  encori: string;
  gtf: string;
  targetscan: string;
  genome: string;
  /** "real" = the public files under $MIRNA_DL_DATA/preprocessing, "fixtures" = the generated test fixtures. */
  source: "real" | "fixtures";
}

/**
 * The real inputs under `$MIRNA_DL_DATA/preprocessing/` (as `npm run data:fetch` lays them out),
 * or null with the reason when any is missing. The genome must be indexed: an uncompressed
 * `GRCh37.primary_assembly.genome.fa` with `.fai` (gunzip GENCODE's plain-gzip download, then
 * `samtools faidx` or indexFasta()), or a bgzipped `.fa.gz` with `.fai` and `.gzi`.
 */
export function realPreprocessInputs(): { paths: PreprocessInputPaths } | { missing: string[] } {
  const dir = dataPath("preprocessing");
  const encori = path.join(dir, "encori_hg19_mRNA_all.tsv.gz");
  const gtf = path.join(dir, "gencode.v34lift37.basic.annotation.gtf.gz");
  const targetscan = path.join(dir, "miR_Family_Info.txt");
  const plainGenome = path.join(dir, "GRCh37.primary_assembly.genome.fa");
  const bgzipGenome = `${plainGenome}.gz`;
  const genome = fs.existsSync(`${plainGenome}.fai`)
    ? plainGenome
    : fs.existsSync(`${bgzipGenome}.gzi`) ? bgzipGenome : `${plainGenome} (+ .fai)`;
  const missing = [encori, gtf, targetscan, genome].filter((f) => !fs.existsSync(f));
  return missing.length ? { missing } : { paths: { encori, gtf, targetscan, genome, source: "real" } };
}

/** The small generated inputs shipped in lib/fixtures/preprocess (see its README and make_fixtures.ts). */
export function fixturePreprocessInputs(): PreprocessInputPaths {
  const dir = path.join(LIB_ROOT, "fixtures", "preprocess");
  return {
    encori: path.join(dir, "encori_mirna_target.tsv"),
    gtf: path.join(dir, "annotation.gtf"),
    targetscan: path.join(dir, "miR_Family_Info.txt"),
    genome: path.join(dir, "genome.fa"),
    source: "fixtures",
  };
}
