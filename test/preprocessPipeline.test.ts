/**
 * The preprocessing steps and pipeline (lib/src/preprocess/{steps,windows,negatives,pipeline,outputs}.ts)
 * on the synthetic fixtures of lib/fixtures/preprocess (rows and expected counts in its README),
 * under both coordinate readings; and the miRNA-negative acceptance check on the real chr1
 * positives (skipped without data).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import pl from "nodejs-polars";
import { InputError } from "../lib/src/errors";
import { dataPath, missingData } from "../lib/src/data/paths";
import { readPairTable } from "../lib/src/binding/tables";
import { mulberry32, randomInteger } from "../lib/src/random";
import { readEncoriTargets } from "../lib/src/preprocess/encori";
import { readGtfFeatures } from "../lib/src/preprocess/gtf";
import { readTargetScanFamilies } from "../lib/src/preprocess/targetscan";
import { Genome, openGenome } from "../lib/src/preprocess/genome";
import {
  CoordinateMode,
  ENCORI_ROW,
  buildIntervalIndex,
  filterByRbp,
  filterUtrOverlap,
  joinTargetScanFamilies,
  overlapsAny,
  removeAmbiguousSites,
  splitByChromosome,
  withEncoriRows,
} from "../lib/src/preprocess/steps";
import { cutSiteWindows, scanNegatives } from "../lib/src/preprocess/windows";
import { mirnaNegatives } from "../lib/src/binding/negatives";
import { DEFAULT_PREPROCESS_CONFIG, PreprocessResult, runPreprocessing } from "../lib/src/preprocess/pipeline";
import { writePreprocessOutputs } from "../lib/src/preprocess/outputs";
import { tempDir } from "./helpers";
import { parseFasta } from "./helpers";

const FIXTURES = path.join(__dirname, "..", "lib", "fixtures", "preprocess");
const fixture = (name: string) => path.join(FIXTURES, name);
const ENCORI_FILE = fixture("encori_mirna_target.tsv");
const INPUTS = { encori: ENCORI_FILE, gtf: fixture("annotation.gtf"), targetscan: fixture("miR_Family_Info.txt"), genome: fixture("genome.fa") };
const dir = tempDir("mirna-dl-preprocess-pipeline-");

/** Expected rows after each step, from lib/fixtures/preprocess/README.md ("Rows left after each step"). */
const EXPECTED: Record<CoordinateMode, Record<string, number>> = {
  exact: { "ENCORI rows": 64, AGO2: 61, "overlapping a UTR": 58, "unique site": 54, "window inside the chromosome": 53, "in TargetScan": 51, "test (chr1)": 18, "train (other chromosomes)": 33 },
  faithful: { "ENCORI rows": 64, AGO2: 61, "overlapping a UTR": 56, "unique site": 52, "window inside the chromosome": 51, "in TargetScan": 49, "test (chr1)": 18, "train (other chromosomes)": 31 },
};
const MODES: CoordinateMode[] = ["exact", "faithful"];

// Independent readings of the fixtures (not through the library's genome reader).
const GENOME = parseFasta(fs.readFileSync(fixture("genome.fa"), "utf8"));
const COMPLEMENT: Record<string, string> = { A: "T", C: "G", G: "C", T: "A", N: "N", U: "A" };
const rc = (s: string) => [...s].reverse().map((c) => COMPLEMENT[c]!).join("");
/** + strand letters [start0, start0 + length), upper case, non-ACGT → N; reverse complement for '-'. */
function slice(chrom: string, start0: number, length: number, strand: string): string {
  const plus = GENOME.get(chrom)!.slice(start0, start0 + length).toUpperCase().replace(/[^ACGTN]/g, "N");
  return strand === "-" ? rc(plus) : plus;
}
const FAMILIES = readTargetScanFamilies(fixture("miR_Family_Info.txt"));
const MATURE = new Map(FAMILIES.map((f) => [f.mirbaseId, f.matureSequence]));

const encori = () => withEncoriRows(readEncoriTargets(ENCORI_FILE));
const rowsOf = (frame: pl.DataFrame) => frame.getColumn(ENCORI_ROW).toArray() as number[];
const column = <T = string>(frame: pl.DataFrame, name: string) => frame.getColumn(name).toArray() as T[];
const missingRows = (before: pl.DataFrame, after: pl.DataFrame) => {
  const kept = new Set(rowsOf(after));
  return rowsOf(before).filter((r) => !kept.has(r));
};

let genomePromise: Promise<Genome> | undefined;
const genome = () => (genomePromise ??= openGenome(fixture("genome.fa")));
test.after(async () => {
  if (genomePromise) (await genomePromise).close();
});
const gtfPromise = readGtfFeatures(fixture("annotation.gtf"));

/** Steps 1–3 under `mode`. */
async function uniqueSites(mode: CoordinateMode) {
  const ago2 = filterByRbp(encori());
  const utr = filterUtrOverlap(ago2.frame, await gtfPromise, mode);
  return { ago2, utr, unique: removeAmbiguousSites(utr.frame) };
}

async function expectInputError(action: () => unknown, ...fragments: string[]): Promise<InputError> {
  let error: unknown;
  try {
    await action();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
  for (const f of fragments) assert.ok(error.message.includes(f), `message '${error.message}' lacks '${f}'`);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Steps 1–3

test("step 1: AGO2 filter keeps 61 of 64 rows, dropping rows 24, 26 (AGO1) and 27 (AGO3)", () => {
  const all = encori();
  assert.deepEqual(rowsOf(all), Array.from({ length: 64 }, (_, i) => i + 1));
  const ago2 = filterByRbp(all);
  assert.equal(ago2.count, 61);
  assert.equal(ago2.dropped, 3);
  assert.deepEqual(missingRows(all, ago2.frame), [24, 26, 27]);
  assert.equal(filterByRbp(all, "AGO1").count, 2);
});

test("step 2: UTR overlap — the edge rows 11 and 12 overlap only when coordinates are read as defined; rows 13–15 never", async () => {
  for (const mode of MODES) {
    const { ago2, utr } = await uniqueSites(mode);
    assert.equal(utr.count, EXPECTED[mode]["overlapping a UTR"], mode);
    assert.deepEqual(missingRows(ago2.frame, utr.frame), mode === "exact" ? [13, 14, 15] : [11, 12, 13, 14, 15], mode);
  }
});

test("step 2: the overlap ignores strand (as bedtools intersect without -s) and only counts the UTR features asked for", async () => {
  const gtf = await gtfPromise;
  // Row 1 (chr1:1501-1507 +, GENEA 3'UTR) put on the other strand stays in.
  const flipped = filterByRbp(encori()).frame.withColumn(pl.when(pl.col(ENCORI_ROW).eq(1)).then(pl.lit("-")).otherwise(pl.col("strand")).alias("strand"));
  assert.ok(rowsOf(filterUtrOverlap(flipped, gtf).frame).includes(1));
  // With CDS instead of UTR, row 14 (inside the GENEA CDS) is in and row 1 (3'UTR) out.
  const cds = rowsOf(filterUtrOverlap(flipped, gtf, "exact", ["CDS"]).frame);
  assert.ok(cds.includes(14) && !cds.includes(1));
});

test("step 2: interval index — merged unions, ≥ 1 shared base, half-open ends", () => {
  const index = buildIntervalIndex(["c", "c", "c", "d"], [10, 15, 30, 0], [20, 25, 40, 5]);
  assert.deepEqual([...index.get("c")!.from], [10, 30]);
  assert.deepEqual([...index.get("c")!.to], [25, 40]);
  const c = index.get("c");
  assert.equal(overlapsAny(c, 0, 10), false); // ends where the union starts
  assert.equal(overlapsAny(c, 0, 11), true); // shares base 10
  assert.equal(overlapsAny(c, 24, 30), true); // shares base 24
  assert.equal(overlapsAny(c, 25, 30), false); // the gap
  assert.equal(overlapsAny(c, 39, 100), true);
  assert.equal(overlapsAny(c, 40, 100), false);
  assert.equal(overlapsAny(c, 12, 12), false); // empty site
  assert.equal(overlapsAny(index.get("e"), 0, 100), false); // chromosome without UTRs
});

test("step 3: ambiguous sites — rows 16/17 (two miRNAs) and 18/19 (duplicate) go; same coordinates on another chromosome or another end stay", async () => {
  for (const mode of MODES) {
    const { utr, unique } = await uniqueSites(mode);
    assert.equal(unique.count, EXPECTED[mode]["unique site"], mode);
    assert.deepEqual(missingRows(utr.frame, unique.frame), [16, 17, 18, 19]);
    for (const row of [20, 21, 22, 23, 25]) assert.ok(rowsOf(unique.frame).includes(row), `row ${row}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Step 4: windows

test("step 4: seeded windows — offsets drawn one per row in row order, 50 nt read strand-aware, seed match at r nt after the window start", async () => {
  const g = await genome();
  for (const mode of MODES) {
    const { unique } = await uniqueSites(mode);
    const windows = await cutSiteWindows(unique.frame, g, { mode, file: ENCORI_FILE });
    assert.equal(windows.count, EXPECTED[mode]["window inside the chromosome"], mode);
    assert.deepEqual(windows.droppedRows, [10]);
    // Offsets: mulberry32(1789), one draw per input row, dropped rows included.
    const random = mulberry32(1789);
    const draws = rowsOf(unique.frame).map(() => randomInteger(random, 15, 29));
    const keptDraws = draws.filter((_, i) => rowsOf(unique.frame)[i] !== 10);
    assert.deepEqual(column<number>(windows.frame, "windowOffset"), keptDraws);
    const f = windows.frame;
    let checkedMinus = 0;
    for (let i = 0; i < f.height; i++) {
      const [chrom, strand, narrowStart, r, start, end, seq, row, name] = [
        column(f, "chromosome")[i]!, column(f, "strand")[i]!, column<number>(f, "narrowStart")[i]!, column<number>(f, "windowOffset")[i]!,
        column<number>(f, "windowStart")[i]!, column<number>(f, "windowEnd")[i]!, column(f, "binding_sequence")[i]!, rowsOf(f)[i]!, column(f, "miRNAname")[i]!,
      ];
      const siteStart0 = mode === "exact" ? narrowStart - 1 : narrowStart;
      assert.equal(start, siteStart0 - r);
      assert.equal(end - start, 50);
      assert.equal(seq, slice(chrom, start, 50, strand), `row ${row}`);
      // The planted seed match rc(miRNA nt 2–8) lies at 1-based narrowStart..narrowStart+6.
      const mature = MATURE.get(name);
      if (mature === undefined || row === 23) continue; // not in TargetScan / seed not planted (README)
      const seedMatch = rc(mature.slice(1, 8).replace(/U/g, "T"));
      const at = strand === "+" ? narrowStart - 1 - start : 50 - (narrowStart - 1 - start) - 7;
      assert.equal(seq.slice(at, at + 7), seedMatch, `row ${row} (${strand})`);
      if (strand === "-") checkedMinus++;
    }
    assert.ok(checkedMinus >= 5, `${checkedMinus} minus-strand windows checked`);
  }
});

test("step 4: minus-strand row 3 by hand — the window is the reverse complement of the + strand letters", async () => {
  const { unique } = await uniqueSites("exact");
  const windows = await cutSiteWindows(unique.frame, await genome());
  const i = rowsOf(windows.frame).indexOf(3);
  const start = column<number>(windows.frame, "windowStart")[i]!;
  const r = column<number>(windows.frame, "windowOffset")[i]!;
  assert.equal(start, 2300 - r);
  const plus = GENOME.get("chr1")!.slice(start, start + 50);
  assert.equal(column(windows.frame, "binding_sequence")[i], rc(plus));
  // The site (1-based 2301..2307) is the 7 nt ending r + 7 nt before... i.e. starting at 50 − r − 7 in the window.
  assert.equal(column(windows.frame, "binding_sequence")[i]!.slice(50 - r - 7, 50 - r), rc(GENOME.get("chr1")!.slice(2300, 2307)));
});

test("step 4: a window off the chromosome start (row 10) is dropped and reported, or an InputError naming file and row", async () => {
  const { unique } = await uniqueSites("exact");
  const g = await genome();
  const dropped = await cutSiteWindows(unique.frame, g, { file: ENCORI_FILE });
  assert.deepEqual(dropped.droppedRows, [10]);
  assert.equal(dropped.dropped, 1);
  await expectInputError(() => cutSiteWindows(unique.frame, g, { file: ENCORI_FILE, offChromosome: "error" }), ENCORI_FILE, "row 10", "runs off chr3");
  // Off the end: a site moved to the last bases of chr1.
  const atEnd = unique.frame.withColumns(
    pl.when(pl.col(ENCORI_ROW).eq(1)).then(pl.lit(6000)).otherwise(pl.col("narrowStart")).alias("narrowStart"),
    pl.when(pl.col(ENCORI_ROW).eq(1)).then(pl.lit(6006)).otherwise(pl.col("narrowEnd")).alias("narrowEnd"),
  );
  // r ≥ 15 puts the window start at ≤ 5984, so 50 nt run past chr1's 6,007.
  const moved = await cutSiteWindows(atEnd, g, { file: ENCORI_FILE });
  assert.deepEqual(moved.droppedRows, [1, 10]);
  await expectInputError(() => cutSiteWindows(atEnd, g, { file: ENCORI_FILE, offChromosome: "error" }), "row 1:", "runs off chr1 (length 6007)");
});

test("step 4: a chromosome missing from the genome is an InputError naming the ENCORI row", async () => {
  const { unique } = await uniqueSites("exact");
  const bad = unique.frame.withColumn(pl.when(pl.col(ENCORI_ROW).eq(7)).then(pl.lit("chr9")).otherwise(pl.col("chromosome")).alias("chromosome"));
  const g = await genome();
  await expectInputError(() => cutSiteWindows(bad, g, { file: ENCORI_FILE }), ENCORI_FILE, "row 7", "chr9", "not in the genome");
});

test("step 4: same seed → same windows; another seed → other offsets", async () => {
  const { unique } = await uniqueSites("exact");
  const g = await genome();
  const a = await cutSiteWindows(unique.frame, g, { seed: 1789 });
  const b = await cutSiteWindows(unique.frame, g, { seed: 1789 });
  const c = await cutSiteWindows(unique.frame, g, { seed: 1790 });
  assert.ok(a.frame.frameEqual(b.frame));
  assert.notDeepEqual(column<number>(a.frame, "windowOffset"), column<number>(c.frame, "windowOffset"));
  assert.notDeepEqual(column(a.frame, "binding_sequence"), column(c.frame, "binding_sequence"));
});

// ---------------------------------------------------------------------------------------------
// Steps 5–6

test("step 5: family join — rows 28/29 (not in TargetScan) dropped; representatives longest seen, ties first seen, U→T, padded / cut to 20", async () => {
  for (const mode of MODES) {
    const { unique } = await uniqueSites(mode);
    const windows = await cutSiteWindows(unique.frame, await genome(), { mode });
    const joined = joinTargetScanFamilies(windows.frame, FAMILIES);
    assert.equal(joined.count, EXPECTED[mode]["in TargetScan"], mode);
    assert.deepEqual(joined.droppedRows, [28, 29]);
    const t = (s: string) => s.replace(/U/g, "T");
    const rep = (family: string) => joined.representatives.get(family)!;
    assert.equal(rep("miR-9001-5p/9002-5p").mirbaseId, "hsa-miR-9002-5p");
    assert.equal(rep("miR-9001-5p/9002-5p").sequence, t(MATURE.get("hsa-miR-9002-5p")!).slice(0, 20));
    assert.equal(rep("miR-9003-3p/9008").mirbaseId, "hsa-miR-9003-3p"); // hsa-miR-9008 (24 nt) is never in the data
    assert.equal(rep("miR-9003-3p/9008").sequence, t(MATURE.get("hsa-miR-9003-3p")!).slice(0, 20));
    assert.equal(rep("miR-9004-5p").sequence, t(MATURE.get("hsa-miR-9004-5p")!) + "NN");
    assert.equal(rep("miR-9005/9006").mirbaseId, "hsa-miR-9006");
    assert.equal(rep("miR-9005/9006").sequence, t(MATURE.get("hsa-miR-9006")!) + "N");
    assert.equal(joined.representatives.size, 29);
    const f = joined.frame;
    for (const s of column(f, "mirna_binding_sequence")) assert.equal(s.length, 20);
    // Row 6 (hsa-miR-9005) carries the hsa-miR-9006 sequence; its own miRNA stays in MiRBase ID.
    const six = rowsOf(f).indexOf(6);
    assert.equal(column(f, "MiRBase ID")[six], "hsa-miR-9005");
    assert.equal(column(f, "mirna_binding_sequence")[six], rep("miR-9005/9006").sequence);
    // Order: by family name (code points), input order within a family.
    const families = column(f, "miRFamily");
    assert.deepEqual(families, [...families].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (let i = 1; i < f.height; i++) if (families[i] === families[i - 1]) assert.ok(rowsOf(f)[i]! > rowsOf(f)[i - 1]!);
  }
});

test("step 5: only rows of the asked species join (mouse accessions do not match human rows)", async () => {
  const { unique } = await uniqueSites("exact");
  const windows = await cutSiteWindows(unique.frame, await genome());
  assert.equal(joinTargetScanFamilies(windows.frame, FAMILIES, { speciesId: 10090 }).count, 0);
});

test("step 6: chromosome split — 18 test rows on chr1, the rest train", async () => {
  for (const mode of MODES) {
    const { unique } = await uniqueSites(mode);
    const joined = joinTargetScanFamilies((await cutSiteWindows(unique.frame, await genome(), { mode })).frame, FAMILIES);
    const { train, test: testRows } = splitByChromosome(joined.frame);
    assert.equal(testRows.height, EXPECTED[mode]["test (chr1)"]);
    assert.equal(train.height, EXPECTED[mode]["train (other chromosomes)"]);
    assert.ok(column(testRows, "chromosome").every((c) => c === "chr1"));
    assert.ok(column(train, "chromosome").every((c) => c !== "chr1"));
    assert.equal(splitByChromosome(joined.frame, "chrX").test.height, column(joined.frame, "chromosome").filter((c) => c === "chrX").length);
  }
});

// ---------------------------------------------------------------------------------------------
// Step 7: scan negatives

async function positivesOn(chromosome: string) {
  const { unique } = await uniqueSites("exact");
  const joined = joinTargetScanFamilies((await cutSiteWindows(unique.frame, await genome())).frame, FAMILIES);
  return splitByChromosome(joined.frame, chromosome).test;
}

test("step 7: scan negatives — 20 per positive in the published layout, the 1,050 nt around the window cut in 21, middle left out, strand-aware", async () => {
  const positives = await positivesOn("chr1");
  const scan = await scanNegatives(positives, await genome(), { file: ENCORI_FILE });
  assert.equal(scan.positives.height, 18);
  assert.equal(scan.perPositive, 20);
  assert.equal(scan.sites.length, 18 * 20);
  const starts = column<number>(positives, "windowStart");
  const strands = column(positives, "strand");
  const mirnas = column(positives, "mirna_binding_sequence");
  for (let k = 0; k < positives.height; k++) {
    const region = slice("chr1", starts[k]! - 500, 1050, strands[k]!);
    assert.equal(region.slice(500, 550), column(positives, "binding_sequence")[k]);
    const expectedWindows = Array.from({ length: 21 }, (_, w) => region.slice(50 * w, 50 * w + 50)).filter((_, w) => w !== 10);
    for (let j = 0; j < 20; j++) {
      const n = k * 20 + j;
      assert.equal(scan.positiveIndex[n], k);
      assert.equal(scan.windowIndex[n], j < 10 ? j : j + 1);
      assert.equal(scan.sites[n], expectedWindows[j]);
      assert.equal(scan.mirnas[n], mirnas[k]);
    }
  }
  assert.ok(strands.includes("-"));
  // Minus strand by hand: the first negative of a '-' positive is the reverse complement of the
  // 50 nt that end 500 nt after the window on the + strand (upstream on the transcript is + downstream).
  const k = strands.indexOf("-");
  const plusAfter = GENOME.get("chr1")!.slice(starts[k]! + 50 + 450, starts[k]! + 50 + 500);
  assert.equal(scan.sites[k * 20], rc(plusAfter.toUpperCase()));
});

test("step 7: scan regions off a chromosome end (rows 8 and 9) drop the positive from the scan set, or stop with an InputError", async () => {
  const g = await genome();
  const chr2 = await positivesOn("chr2");
  const scan2 = await scanNegatives(chr2, g, { file: ENCORI_FILE });
  assert.deepEqual(scan2.droppedRows, [8]);
  assert.equal(scan2.positives.height, chr2.height - 1);
  assert.equal(scan2.sites.length, 20 * (chr2.height - 1));
  assert.ok(!rowsOf(scan2.positives).includes(8));
  await expectInputError(() => scanNegatives(chr2, g, { file: ENCORI_FILE, offChromosome: "error" }), "row 8", "scan region", "runs off chr2 (length 4999)");
  const scan3 = await scanNegatives(await positivesOn("chr3"), g, { file: ENCORI_FILE });
  assert.deepEqual(scan3.droppedRows, [9]);
});

// ---------------------------------------------------------------------------------------------
// Step 8: miRNA negatives

test("step 8: miRNA negatives — ratio per positive, distinct, never the own miRNA nor a positive pair of the same site; seeded", () => {
  const pool = Array.from({ length: 30 }, (_, i) => `M${String(i).padStart(2, "0")}`);
  // Sites s0..s9; s3 is a positive of two miRNAs (M03 and M07), as in the real data.
  const mirnas = ["M00", "M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09"];
  const sites = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s3", "s8", "s9"];
  const negatives = mirnaNegatives(mirnas, sites, { ratio: 20, seed: 1789, pool });
  assert.equal(negatives.mirnas.length, 200);
  for (let k = 0; k < 10; k++) {
    const mine = negatives.mirnas.slice(k * 20, k * 20 + 20);
    assert.equal(new Set(mine).size, 20, `positive ${k}: duplicates`);
    assert.ok(!mine.includes(mirnas[k]!));
    assert.ok(negatives.sites.slice(k * 20, k * 20 + 20).every((s) => s === sites[k]));
    assert.ok([...negatives.positiveIndex.slice(k * 20, k * 20 + 20)].every((p) => p === k));
    if (sites[k] === "s3") assert.ok(!mine.includes("M03") && !mine.includes("M07"));
  }
  assert.deepEqual(mirnaNegatives(mirnas, sites, { ratio: 20, seed: 1789, pool }).mirnas, negatives.mirnas);
  assert.notDeepEqual(mirnaNegatives(mirnas, sites, { ratio: 20, seed: 7, pool }).mirnas, negatives.mirnas);
  // Default pool: the positives' own miRNAs (9 others at most) — too few for 20.
  assert.throws(() => mirnaNegatives(mirnas, sites, { ratio: 20 }), /only 9 miRNAs of the pool of 10 .* 20 needed/);
  assert.equal(mirnaNegatives(mirnas, sites, { ratio: 8 }).mirnas.length, 80);
});

// ---------------------------------------------------------------------------------------------
// Whole pipeline and outputs

const runs = new Map<string, Promise<PreprocessResult>>();
const run = (mode: CoordinateMode, seed = 1789) => {
  const key = `${mode}/${seed}`;
  if (!runs.has(key)) runs.set(key, runPreprocessing(INPUTS, { coordinates: mode, seed, mirnaNegativePool: "all" }));
  return runs.get(key)!;
};

test("pipeline: the counts after every step match the fixtures README in both coordinate modes", async () => {
  for (const mode of MODES) {
    const result = await run(mode);
    const got = Object.fromEntries(result.counts.map((c) => [c.step, c.rows]));
    for (const [step, rows] of Object.entries(EXPECTED[mode])) assert.equal(got[step], rows, `${mode}: ${step}`);
    assert.equal(got["scan negatives"], 18 * 20);
    assert.equal(got["miRNA negatives"], 18 * 20);
    assert.deepEqual(result.droppedRows, { windowOffChromosome: [10], scanOffChromosome: [], notInTargetScan: [28, 29] });
    assert.equal(result.trainPositives.height, EXPECTED[mode]["train (other chromosomes)"]);
    assert.equal(result.scanTestSet.height, 18 * 21);
    assert.equal(result.mirnaNegTestSet.height, 18 * 21);
    assert.equal(result.positives.height, EXPECTED[mode]["in TargetScan"]);
    assert.deepEqual(result.scanTestSet.columns, ["mirna_binding_sequence", "binding_sequence", "label"]);
    // Both test sets share the positive block (rows 0..17), as the published ones.
    assert.ok(result.scanTestSet.head(18).frameEqual(result.mirnaNegTestSet.head(18)));
    assert.deepEqual(column(result.scanTestSet, "label").slice(17, 19), ["positive", "negative"]);
    // miRNA negatives: never the own miRNA, never a positive pair (the pool is all 29 representatives).
    const positivePairs = new Set(column(result.positives, "mirna_binding_sequence").map((m, i) => `${m}\t${column(result.positives, "binding_sequence")[i]}`));
    const m = column(result.mirnaNegTestSet, "mirna_binding_sequence");
    const s = column(result.mirnaNegTestSet, "binding_sequence");
    for (let n = 18; n < m.length; n++) {
      const k = Math.floor((n - 18) / 20);
      assert.notEqual(m[n], m[k]);
      assert.equal(s[n], s[k]);
      assert.ok(!positivePairs.has(`${m[n]}\t${s[n]}`));
    }
  }
});

test("pipeline: the paper's default pool (test positives' miRNAs) is too small on the fixtures and says so", async () => {
  assert.equal(DEFAULT_PREPROCESS_CONFIG.mirnaNegativePool, "test");
  await assert.rejects(runPreprocessing(INPUTS), /only 1[0-9] miRNAs of the pool of 1[0-9].*mirnaNegativePool: "all"/);
  const fewer = await runPreprocessing(INPUTS, { mirnaNegativeRatio: 10 });
  assert.equal(fewer.mirnaNegTestSet.height, 18 * 11);
});

test("pipeline: deterministic — same seed, identical outputs; another seed, other windows", async () => {
  const a = await run("exact");
  const b = await runPreprocessing(INPUTS, { mirnaNegativePool: "all" });
  for (const key of ["positives", "trainPositives", "scanTestSet", "mirnaNegTestSet"] as const) assert.ok(a[key].frameEqual(b[key]), key);
  const other = await run("exact", 42);
  assert.notDeepEqual(column(other.positives, "binding_sequence"), column(a.positives, "binding_sequence"));
  assert.notDeepEqual(column(other.mirnaNegTestSet, "mirna_binding_sequence"), column(a.mirnaNegTestSet, "mirna_binding_sequence"));
});

test("pipeline: the bgzipped genome and gzipped GTF give the same outputs", async () => {
  const a = await run("exact");
  const b = await runPreprocessing({ ...INPUTS, genome: fixture("genome.fa.gz"), gtf: fixture("annotation.gtf.gz") }, { mirnaNegativePool: "all" });
  assert.ok(a.positives.frameEqual(b.positives));
  assert.ok(a.scanTestSet.frameEqual(b.scanTestSet));
});

test("pipeline: offChromosome 'error' stops at row 10 with file and row", async () => {
  await expectInputError(() => runPreprocessing(INPUTS, { offChromosome: "error", mirnaNegativePool: "all" }), ENCORI_FILE, "row 10");
});

test("outputs: TSV.gz and Parquet of every table, written atomically, read back equal", async () => {
  const result = await run("exact");
  const out = path.join(dir, "out");
  const written = writePreprocessOutputs(result, out, ["tsv", "tsv.gz", "parquet"]);
  assert.equal(written.length, 4 * 3 + 1);
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith(".tmp") || f.startsWith(".")), []);
  const scan = await readPairTable(path.join(out, "scan_test_set.tsv.gz"), { requireLabels: true });
  assert.equal(scan.mirnas.length, 18 * 21);
  assert.deepEqual(scan.sites, column(result.scanTestSet, "binding_sequence"));
  assert.equal([...scan.labels!].filter((l) => l === 1).length, 18);
  for (const name of ["train_positives", "scan_test_set", "mirna_neg_test_set", "positives"]) {
    const parquet = pl.readParquet(path.join(out, `${name}.parquet`));
    const tsv = pl.readCSV(fs.readFileSync(path.join(out, `${name}.tsv`)), { sep: "\t", inferSchemaLength: 0 });
    assert.equal(parquet.height, tsv.height, name);
    assert.deepEqual(parquet.columns, tsv.columns);
  }
  const positives = pl.readParquet(path.join(out, "positives.parquet"));
  assert.ok(positives.frameEqual(result.positives));
  assert.ok(["windowStart", "windowEnd", "windowOffset", "narrowStart", "strand", "miRFamily", "set", ENCORI_ROW].every((c) => positives.columns.includes(c)));
  const counts = fs.readFileSync(path.join(out, "counts.tsv"), "utf8");
  assert.match(counts, /^step\trows\tdropped\nENCORI rows\t64\t0\nAGO2\t61\t3\n/);
});

// ---------------------------------------------------------------------------------------------
// Acceptance check on the real chr1 positives

test("real data: miRNA negatives regenerated from the 21,385 published chr1 positives — 20 each, never the own miRNA nor a positive pair", async (t) => {
  const file = dataPath("mirna_binding", "data", "datasets", "mirna_neg_test_set.tsv.gz");
  const skip = missingData(file);
  if (skip) return t.skip(skip);
  const table = await readPairTable(file, { requireLabels: true });
  const P = 21385;
  assert.ok([...table.labels!.slice(0, P)].every((l) => l === 1) && table.labels![P] === 0);
  const mirnas = table.mirnas.slice(0, P);
  const sites = table.sites.slice(0, P);
  const started = performance.now();
  const negatives = mirnaNegatives(mirnas, sites, { ratio: 20, seed: 1789 });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(negatives.mirnas.length, P * 20);
  assert.equal(negatives.poolSize, 402);
  const positivePairs = new Set(mirnas.map((m, i) => `${m}\t${sites[i]}`));
  for (let n = 0; n < negatives.mirnas.length; n++) {
    const k = Math.floor(n / 20);
    assert.equal(negatives.positiveIndex[n], k);
    assert.equal(negatives.sites[n], sites[k]);
    assert.notEqual(negatives.mirnas[n], mirnas[k]);
    assert.ok(!positivePairs.has(`${negatives.mirnas[n]}\t${negatives.sites[n]}`), `negative ${n} is a positive pair`);
  }
  for (let k = 0; k < P; k++) assert.equal(new Set(negatives.mirnas.slice(k * 20, k * 20 + 20)).size, 20);

  // Composition next to the published negatives (reported, not asserted).
  const published = table.mirnas.slice(P);
  const countBy = (values: readonly string[]) => values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());
  const ours = countBy(negatives.mirnas);
  const theirs = countBy(published);
  const keys = [...new Set([...ours.keys(), ...theirs.keys()])];
  const a = keys.map((k) => ours.get(k) ?? 0);
  const b = keys.map((k) => theirs.get(k) ?? 0);
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ma, mb] = [mean(a), mean(b)];
  const cov = a.reduce((s, v, i) => s + (v - ma) * (b[i]! - mb), 0);
  const r = cov / Math.sqrt(a.reduce((s, v) => s + (v - ma) ** 2, 0) * b.reduce((s, v) => s + (v - mb) ** 2, 0));
  const tvd = keys.reduce((s, _, i) => s + Math.abs(a[i]! / negatives.mirnas.length - b[i]! / published.length), 0) / 2;
  // Per-site negatives in the published set (sites as sequences; duplicated sites merged).
  const publishedPerSite = countBy(table.sites.slice(P));
  const sitePositives = countBy(sites);
  const perPositive = [...publishedPerSite].map(([site, n]) => n / (sitePositives.get(site) ?? 1));
  const publishedOwn = published.filter((m, i) => positivePairs.has(`${m}\t${table.sites[P + i]}`)).length;
  t.diagnostic(
    `took ${seconds.toFixed(2)} s; pool ${negatives.poolSize} miRNAs; per-miRNA counts: ours ${Math.min(...a)}..${Math.max(...a)}, published ${Math.min(...b)}..${Math.max(...b)}; ` +
      `Pearson r ${r.toFixed(3)}, total variation distance ${tvd.toFixed(4)}; published negatives per positive site ` +
      `${Math.min(...perPositive).toFixed(1)}..${Math.max(...perPositive).toFixed(1)} (ours exactly 20); published negatives that are positive pairs: ${publishedOwn} (ours 0)`,
  );
});
