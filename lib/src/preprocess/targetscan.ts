/**
 * Reader for TargetScan 7.2 `miR_Family_Info.txt` (www.targetscan.org/vert_72/, file
 * `miR_Family_Info.txt.zip`, unzipped): tab-separated, header
 * `miR family	Seed+m8	Species ID	MiRBase ID	Mature sequence	Family Conservation?	MiRBase Accession`,
 * one row per mature miRNA of every species (human = Species ID 9606). The preprocessing joins
 * ENCORI's miRNAid (a MIMAT accession) on `MiRBase Accession`.
 */
import pl from "nodejs-polars";
import { InputError } from "../errors";
import { readTsv } from "../io/tsv";

/** Header of `miR_Family_Info.txt`, in file order. */
export const TARGETSCAN_FAMILY_COLUMNS = [
  "miR family",
  "Seed+m8",
  "Species ID",
  "MiRBase ID",
  "Mature sequence",
  "Family Conservation?",
  "MiRBase Accession",
] as const;

/** NCBI taxonomy id of human in TargetScan's `Species ID` column. */
export const HUMAN_SPECIES_ID = 9606;

/** One row of `miR_Family_Info.txt`. Strings are trimmed, otherwise as written. */
export interface TargetScanFamily {
  /** `miR family`, e.g. "let-7-5p/98-5p". */
  family: string;
  /** `Seed+m8`: miRNA nt 2–8 (RNA alphabet), e.g. "GAGGUAG". */
  seedM8: string;
  /** `Species ID`: NCBI taxonomy id (9606 = human). */
  speciesId: number;
  /** `MiRBase ID`, e.g. "hsa-let-7a-5p". */
  mirbaseId: string;
  /** `Mature sequence` 5'→3' as written (RNA alphabet, U), e.g. "UGAGGUAGUAGGUUGUAUAGUU". */
  matureSequence: string;
  /** `Family Conservation?`: TargetScan's class (2 broadly conserved, 1 conserved, 0 poorly, -1 other). */
  familyConservation: number;
  /** `MiRBase Accession`, e.g. "MIMAT0000062"; "" when the file leaves it empty. */
  mirbaseAccession: string;
}

const INTEGER = /^[+-]?\d+$/;
const NUCLEOTIDES = /^[ACGUTNacgutn]+$/;

/**
 * Reads `miR_Family_Info.txt` (or a `.gz` of it): every species, file order. Throws
 * {@link InputError} naming the file (and the 1-based data row, header = row 0, and column) for:
 * a missing / empty file, missing columns, a non-integer `Species ID` or
 * `Family Conservation?`, an empty family, MiRBase ID or mature sequence, or a mature
 * sequence with letters other than A, C, G, U, T, N.
 */
export function readTargetScanFamilies(file: string): TargetScanFamily[] {
  const frame = readTsv(file);
  // Windows line ends leave '\r' on the last header name and value: strip it.
  const names = frame.columns.map((c) => c.replace(/\r$/, "").trim());
  const missing = TARGETSCAN_FAMILY_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new InputError(
      `missing column${missing.length > 1 ? "s" : ""} '${missing.join("', '")}' (TargetScan miR_Family_Info.txt has ${TARGETSCAN_FAMILY_COLUMNS.join(", ")}); found: ${names.join(", ")}`,
      { file },
    );
  }
  const column = (name: (typeof TARGETSCAN_FAMILY_COLUMNS)[number]): (string | null)[] =>
    frame.getColumn(frame.columns[names.indexOf(name)]!).toArray() as (string | null)[];
  const family = column("miR family");
  const seed = column("Seed+m8");
  const species = column("Species ID");
  const mirbaseId = column("MiRBase ID");
  const mature = column("Mature sequence");
  const conservation = column("Family Conservation?");
  const accession = column("MiRBase Accession");

  const rows: TargetScanFamily[] = new Array(frame.height);
  for (let r = 0; r < frame.height; r++) {
    const where = (c: string) => ({ file, row: r + 1, column: c });
    const text = (values: (string | null)[], c: string, required: boolean): string => {
      const value = (values[r] ?? "").replace(/\r$/, "").trim();
      if (required && value === "") throw new InputError("empty value", where(c));
      return value;
    };
    const integer = (values: (string | null)[], c: string): number => {
      const value = text(values, c, true);
      if (!INTEGER.test(value)) throw new InputError(`'${value}' is not an integer`, where(c));
      return Number(value);
    };
    const matureSequence = text(mature, "Mature sequence", true);
    if (!NUCLEOTIDES.test(matureSequence)) {
      throw new InputError(`mature sequence '${matureSequence}' has letters other than A, C, G, U, T, N`, where("Mature sequence"));
    }
    rows[r] = {
      family: text(family, "miR family", true),
      seedM8: text(seed, "Seed+m8", false),
      speciesId: integer(species, "Species ID"),
      mirbaseId: text(mirbaseId, "MiRBase ID", true),
      matureSequence,
      familyConservation: integer(conservation, "Family Conservation?"),
      mirbaseAccession: text(accession, "MiRBase Accession", false),
    };
  }
  return rows;
}

/**
 * The rows as a data frame with the file's column names (`Species ID` and
 * `Family Conservation?` as Int32), for joins in nodejs-polars.
 */
export function targetScanFamiliesFrame(rows: readonly TargetScanFamily[]): pl.DataFrame {
  return pl.DataFrame([
    pl.Series("miR family", rows.map((r) => r.family), pl.Utf8),
    pl.Series("Seed+m8", rows.map((r) => r.seedM8), pl.Utf8),
    pl.Series("Species ID", rows.map((r) => r.speciesId), pl.Int32),
    pl.Series("MiRBase ID", rows.map((r) => r.mirbaseId), pl.Utf8),
    pl.Series("Mature sequence", rows.map((r) => r.matureSequence), pl.Utf8),
    pl.Series("Family Conservation?", rows.map((r) => r.familyConservation), pl.Int32),
    pl.Series("MiRBase Accession", rows.map((r) => r.mirbaseAccession), pl.Utf8),
  ]);
}
