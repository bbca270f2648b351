/**
 * Readers of the preprocessing inputs (ENCORI table, GTF, TargetScan families, indexed /
 * bgzipped genome) on the synthetic fixtures of lib/fixtures/preprocess (make_fixtures.ts),
 * plus every bad input they must reject with a message naming file, row and problem.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import pl from "nodejs-polars";
import { InputError } from "../lib/src/errors";
import { ENCORI_COLUMNS, readEncoriTargets } from "../lib/src/preprocess/encori";
import { UTR_FEATURES, readGtfFeatures } from "../lib/src/preprocess/gtf";
import { HUMAN_SPECIES_ID, readTargetScanFamilies, targetScanFamiliesFrame } from "../lib/src/preprocess/targetscan";
import { indexFasta, openGenome } from "../lib/src/preprocess/genome";
import { mulberry32, randomInteger } from "../lib/src/random";
import { FIXTURE_CHROMOSOMES, buildPreprocessFixtures, writePreprocessFixtures } from "../lib/fixtures/preprocess/make_fixtures";
import { tempDir, writeFixture } from "./helpers";
import { parseFasta } from "./helpers";

const FIXTURES = path.join(__dirname, "..", "lib", "fixtures", "preprocess");
const fixture = (name: string) => path.join(FIXTURES, name);
const dir = tempDir("mirna-dl-preprocess-");

/** Expects `action` to throw (or reject with) an InputError whose message contains every fragment. */
async function throwsInput(action: () => unknown, ...fragments: (string | RegExp)[]): Promise<void> {
  let error: unknown;
  try {
    await action();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
  for (const f of fragments) {
    const ok = typeof f === "string" ? error.message.includes(f) : f.test(error.message);
    assert.ok(ok, `message '${error.message}' lacks ${String(f)}`);
  }
}


const COMPLEMENT: Record<string, string> = { A: "T", C: "G", G: "C", T: "A", N: "N" };
const rc = (s: string) => [...s].reverse().map((c) => COMPLEMENT[c]!).join("");

// ---------------------------------------------------------------------------------------------
// Fixtures

test("fixtures: the committed files are what the seeded generator writes", () => {
  const { files, readme } = buildPreprocessFixtures();
  for (const [name, data] of Object.entries(files)) {
    const committed = fs.readFileSync(fixture(name));
    if (name.endsWith(".gzi")) continue; // depends on zlib's compressed sizes; read back in the genome tests
    if (name.endsWith(".gz")) {
      const expected = name === "genome.fa.gz" ? zlib.gunzipSync(data as Buffer) : Buffer.from(data as string);
      assert.ok(zlib.gunzipSync(committed).equals(expected), `${name} content differs from the generator's`);
    } else {
      assert.equal(committed.toString("utf8"), data.toString(), `${name} differs from the generator's`);
    }
  }
  assert.equal(fs.readFileSync(fixture("README.md"), "utf8"), readme);
  const total = fs.readdirSync(FIXTURES).reduce((sum, f) => sum + fs.statSync(fixture(f)).size, 0);
  assert.ok(total < 200_000, `fixtures take ${total} bytes`);
});

test("fixtures: writePreprocessFixtures writes every file into another folder", () => {
  const out = path.join(dir, "regenerated");
  const written = writePreprocessFixtures(out);
  assert.equal(written.length, 10);
  assert.equal(fs.readFileSync(path.join(out, "encori_mirna_target.tsv"), "utf8"), fs.readFileSync(fixture("encori_mirna_target.tsv"), "utf8"));
  assert.ok(zlib.gunzipSync(fs.readFileSync(path.join(out, "genome.fa.gz"))).equals(fs.readFileSync(fixture("genome.fa"))));
});

// ---------------------------------------------------------------------------------------------
// ENCORI

const ENCORI_FILE = fixture("encori_mirna_target.tsv");
const ENCORI_TEXT = fs.readFileSync(ENCORI_FILE, "utf8");
const ENCORI_LINES = ENCORI_TEXT.trimEnd().split("\n");
const ENCORI_COMMENTS = ENCORI_LINES.filter((l) => l.startsWith("#"));
const ENCORI_HEADER = ENCORI_LINES[ENCORI_COMMENTS.length]!;
const ENCORI_DATA = ENCORI_LINES.slice(ENCORI_COMMENTS.length + 1);

/** The fixture with data row `row` (1-based) edited by `edit` (fields of that row). */
function encoriWith(name: string, row: number, edit: (fields: string[]) => void): string {
  const data = ENCORI_DATA.map((l) => l.split("\t"));
  edit(data[row - 1]!);
  return writeFixture(dir, name, [...ENCORI_COMMENTS, ENCORI_HEADER, ...data.map((f) => f.join("\t"))].join("\n") + "\n");
}
const column = (name: string) => ENCORI_COLUMNS.indexOf(name as (typeof ENCORI_COLUMNS)[number]);

test("ENCORI: reads the API table, skipping '#' lines; coordinates Int64, counts Int32", () => {
  const frame = readEncoriTargets(ENCORI_FILE);
  assert.equal(ENCORI_COMMENTS.length, 3);
  assert.equal(frame.height, 64);
  assert.equal(frame.height, ENCORI_DATA.length);
  assert.deepEqual(frame.columns, [...ENCORI_COLUMNS]);
  assert.equal(String(frame.getColumn("narrowStart").dtype), String(pl.Int64));
  assert.equal(String(frame.getColumn("pancancerNum").dtype), String(pl.Int32));
  assert.equal(String(frame.getColumn("RBP").dtype), String(pl.String));
  // Row 1 (README): chr1:1501-1507 (+), hsa-miR-9001-5p, AGO2.
  const first = frame.row(0);
  assert.deepEqual(first.slice(0, 2), ["MIMAT9000001", "hsa-miR-9001-5p"]);
  assert.equal(frame.getColumn("chromosome").get(0), "chr1");
  assert.equal(frame.getColumn("narrowStart").get(0), 1501);
  assert.equal(frame.getColumn("narrowEnd").get(0), 1507);
  assert.equal(frame.getColumn("strand").get(0), "+");
  // Row 3: the minus-strand site chr1:2301-2307.
  assert.equal(frame.getColumn("strand").get(2), "-");
  assert.equal(frame.getColumn("narrowStart").get(2), 2301);
  // Row 23: the 9-nt site 1751..1759 (narrowEnd − narrowStart = 8); rows 18 and 19 are the same row twice.
  assert.equal((frame.getColumn("narrowEnd").get(22) as number) - (frame.getColumn("narrowStart").get(22) as number), 8);
  assert.deepEqual(frame.row(17), frame.row(18));
  // Cases the pipeline handles are all present.
  const rbp = frame.getColumn("RBP").toArray() as string[];
  assert.deepEqual([...new Set(rbp)].sort(), ["AGO1", "AGO2", "AGO3"]);
  assert.equal(rbp.filter((r) => r !== "AGO2").length, 3);
  assert.equal((frame.getColumn("miRNAid").toArray() as string[]).filter((m) => m === "MIMAT9009999").length, 2);
  const minus = (frame.getColumn("strand").toArray() as string[]).filter((s) => s === "-").length;
  assert.ok(minus >= 8, `only ${minus} minus-strand rows`);
  const chromosomes = new Set(frame.getColumn("chromosome").toArray() as string[]);
  assert.deepEqual([...chromosomes].sort(), ["chr1", "chr2", "chr3", "chrX"]);
});

test("ENCORI: .gz, Windows line ends and trailing blank lines read the same; extra columns of newer API versions are kept", () => {
  const gz = writeFixture(dir, "encori.tsv.gz", ENCORI_TEXT);
  assert.ok(readEncoriTargets(gz).frameEqual(readEncoriTargets(ENCORI_FILE)));
  const extra = writeFixture(
    dir,
    "encori_extra.tsv",
    [...ENCORI_COMMENTS, ENCORI_HEADER + "\tTDMDScore\tphyloP\tcellline/tissue\tregulation", ...ENCORI_DATA.map((l) => l + "\t0\t0.5\tHeLa\tNA")].join("\n") + "\n",
  );
  const blankEnd = writeFixture(dir, "encori_blank_end.tsv", ENCORI_TEXT + "\n\n");
  assert.equal(readEncoriTargets(blankEnd).height, ENCORI_DATA.length);
  const crlf = writeFixture(dir, "encori_crlf.tsv", ENCORI_TEXT.replace(/\n/g, "\r\n"));
  assert.ok(readEncoriTargets(crlf).frameEqual(readEncoriTargets(ENCORI_FILE)));
  const frame = readEncoriTargets(extra);
  assert.deepEqual(frame.columns.slice(22), ["TDMDScore", "phyloP", "cellline/tissue", "regulation"]);
  assert.equal(frame.getColumn("cellline/tissue").get(0), "HeLa");
});

test("ENCORI: an API error body is reported with its text", async () => {
  const notFound = writeFixture(dir, "api_error.tsv", "The miRNA name is not found");
  await throwsInput(() => readEncoriTargets(notFound), "api_error.tsv", "one-line message, not a table", '"The miRNA name is not found"');
  const withNewline = writeFixture(dir, "api_error2.tsv", "#ENCORI\nPlease input the correct assembly!\n");
  await throwsInput(() => readEncoriTargets(withNewline), "api_error2.tsv", '"Please input the correct assembly!"');
  const onlyComments = writeFixture(dir, "only_comments.tsv", "#ENCORI\n#Version 3\n");
  await throwsInput(() => readEncoriTargets(onlyComments), "only_comments.tsv", "only '#' comment lines");
  const notTsv = writeFixture(dir, "not_tsv.tsv", "a,b,c\n1,2,3\n");
  await throwsInput(() => readEncoriTargets(notTsv), "not_tsv.tsv", "is not tab-separated", '"a,b,c"');
});

test("ENCORI: missing file, header only, missing columns", async () => {
  await throwsInput(() => readEncoriTargets(path.join(dir, "nope.tsv")), "nope.tsv", "file not found");
  const headerOnly = writeFixture(dir, "header_only.tsv", [...ENCORI_COMMENTS, ENCORI_HEADER].join("\n") + "\n");
  await throwsInput(() => readEncoriTargets(headerOnly), "header_only.tsv", "no data rows");
  const keep = ENCORI_COLUMNS.map((_, i) => i).filter((i) => i !== column("strand") && i !== column("narrowEnd"));
  const pick = (line: string) => keep.map((i) => line.split("\t")[i]).join("\t");
  const noStrand = writeFixture(dir, "no_strand.tsv", [pick(ENCORI_HEADER), ...ENCORI_DATA.map(pick)].join("\n") + "\n");
  await throwsInput(() => readEncoriTargets(noStrand), "no_strand.tsv: missing columns 'narrowEnd', 'strand'");
});

test("ENCORI: malformed coordinates and strands name file, row and column", async () => {
  const letters = encoriWith("coord_letters.tsv", 3, (f) => (f[column("narrowStart")] = "23O1"));
  await throwsInput(() => readEncoriTargets(letters), "coord_letters.tsv, row 3 (line 7), column 'narrowStart': '23O1' is not a non-negative integer");
  const decimal = encoriWith("coord_decimal.tsv", 7, (f) => (f[column("broadEnd")] = "2110.5"));
  await throwsInput(() => readEncoriTargets(decimal), "coord_decimal.tsv, row 7 (line 11), column 'broadEnd'", "'2110.5'");
  const negative = encoriWith("coord_negative.tsv", 2, (f) => (f[column("narrowEnd")] = "-5"));
  await throwsInput(() => readEncoriTargets(negative), "coord_negative.tsv, row 2 (line 6), column 'narrowEnd': '-5' is not a non-negative integer");
  const empty = encoriWith("coord_empty.tsv", 5, (f) => (f[column("narrowStart")] = ""));
  await throwsInput(() => readEncoriTargets(empty), "coord_empty.tsv, row 5 (line 9), column 'narrowStart': empty value");
  const huge = encoriWith("count_huge.tsv", 8, (f) => (f[column("pancancerNum")] = "3000000000"));
  await throwsInput(() => readEncoriTargets(huge), "count_huge.tsv, row 8 (line 12), column 'pancancerNum': 3000000000 is too large");
  const count = encoriWith("count_bad.tsv", 4, (f) => (f[column("clipExpNum")] = "many"));
  await throwsInput(() => readEncoriTargets(count), "count_bad.tsv, row 4 (line 8), column 'clipExpNum'", "'many'");
  const reversed = encoriWith("reversed.tsv", 2, (f) => {
    [f[column("narrowStart")], f[column("narrowEnd")]] = [f[column("narrowEnd")]!, f[column("narrowStart")]!];
  });
  await throwsInput(() => readEncoriTargets(reversed), "reversed.tsv, row 2 (line 6), column 'narrowStart': narrowStart 1657 > narrowEnd 1651");
  const broad = encoriWith("broad_reversed.tsv", 6, (f) => (f[column("broadEnd")] = "1"));
  await throwsInput(() => readEncoriTargets(broad), "broad_reversed.tsv, row 6 (line 10)", "broadStart", "> broadEnd 1");
  const strand = encoriWith("strand.tsv", 4, (f) => (f[column("strand")] = "."));
  await throwsInput(() => readEncoriTargets(strand), "strand.tsv, row 4 (line 8), column 'strand': strand '.' (expected '+' or '-')");
  const noStrand = encoriWith("strand_empty.tsv", 9, (f) => (f[column("strand")] = ""));
  await throwsInput(() => readEncoriTargets(noStrand), "strand_empty.tsv, row 9 (line 13), column 'strand': strand ''");
  const short = writeFixture(dir, "ragged.tsv", [ENCORI_HEADER, ENCORI_DATA[0], ENCORI_DATA[1]!.split("\t").slice(0, 10).join("\t")].join("\n") + "\n");
  await throwsInput(() => readEncoriTargets(short), "ragged.tsv");
  // A start equal to the end is a 1-nt site: accepted.
  const oneBase = encoriWith("one_base.tsv", 2, (f) => (f[column("narrowEnd")] = f[column("narrowStart")]!));
  assert.equal(readEncoriTargets(oneBase).height, ENCORI_DATA.length);
});

// ---------------------------------------------------------------------------------------------
// GTF

const GTF_FILE = fixture("annotation.gtf");
const GTF_TEXT = fs.readFileSync(GTF_FILE, "utf8");
const GTF_DATA_LINES = GTF_TEXT.trimEnd().split("\n").filter((l) => !l.startsWith("#"));

test("GTF: every feature, 1-based coordinates as written, attributes parsed", async () => {
  const all = await readGtfFeatures(GTF_FILE);
  assert.equal(all.height, GTF_DATA_LINES.length);
  assert.equal(all.height, 8 + 9 * 5 + 18); // genes; transcript, exon, CDS, start/stop codon per transcript; UTRs
  assert.deepEqual(all.columns, ["seqname", "source", "feature", "start", "end", "score", "strand", "frame", "gene_id", "transcript_id", "gene_type"]);
  const counts = Object.fromEntries((all.getColumn("feature").toArray() as string[]).reduce((m, f) => m.set(f, (m.get(f) ?? 0) + 1), new Map<string, number>()));
  assert.deepEqual(counts, { gene: 8, transcript: 9, exon: 9, CDS: 9, start_codon: 9, stop_codon: 9, UTR: 18 });
  // The first line: GENEA's gene line has no transcript_id.
  assert.deepEqual(all.row(0), ["chr1", "HAVANA", "gene", 201, 1800, ".", "+", ".", "ENSG90000000001.1_1", null, "protein_coding"]);
  assert.equal(String(all.getColumn("start").dtype), String(pl.Int64));
});

test("GTF: feature filter keeps the UTRs (GENCODE 'UTR'), both strands, chromosome edges; .gz reads the same", async () => {
  const utr = await readGtfFeatures(GTF_FILE, { features: ["UTR"] });
  assert.equal(utr.height, 18);
  assert.ok(utr.frameEqual(await readGtfFeatures(GTF_FILE, { features: UTR_FEATURES })));
  assert.ok(utr.frameEqual(await readGtfFeatures(fixture("annotation.gtf.gz"), { features: ["UTR"] })));
  assert.deepEqual(new Set(utr.getColumn("strand").toArray()), new Set(["+", "-"]));
  // GENEB (minus strand) 3'UTR chr1:2201-2600, and GENEF's 3'UTR that starts at chr3 base 1.
  assert.deepEqual(utr.row(2).slice(0, 9), ["chr1", "HAVANA", "UTR", 2201, 2600, ".", "-", ".", "ENSG90000000002.1_1"]);
  assert.equal(utr.row(2)[9], "ENST90000000021.1_1");
  const chr3 = utr.filter(pl.col("seqname").eq(pl.lit("chr3")));
  assert.equal(chr3.getColumn("start").get(0), 1);
  assert.equal((await readGtfFeatures(GTF_FILE, { features: ["three_prime_UTR"] })).height, 0);
  // Windows line ends are accepted.
  const crlf = writeFixture(dir, "crlf.gtf", GTF_TEXT.replace(/\n/g, "\r\n"));
  assert.ok(utr.frameEqual(await readGtfFeatures(crlf, { features: ["UTR"] })));
});

test("GTF: bad lines name file and line", async () => {
  const lines = GTF_TEXT.split("\n");
  // Line numbers are 1-based file lines; line 5 is the first data line (4 '##' lines before it).
  const edit = (name: string, lineNumber: number, change: (fields: string[]) => void) => {
    const copy = [...lines];
    const fields = copy[lineNumber - 1]!.split("\t");
    change(fields);
    copy[lineNumber - 1] = fields.join("\t");
    return writeFixture(dir, name, copy.join("\n"));
  };
  await throwsInput(() => readGtfFeatures(edit("few.gtf", 11, (f) => f.splice(8)), { features: ["UTR"] }), "few.gtf, line 11: expected 9 tab-separated GTF fields, found 8");
  await throwsInput(() => readGtfFeatures(edit("start.gtf", 11, (f) => (f[3] = "14O1"))), "start.gtf, line 11, column 'start': start '14O1' is not a positive integer");
  await throwsInput(() => readGtfFeatures(edit("zero.gtf", 11, (f) => (f[3] = "0"))), "zero.gtf, line 11, column 'start'", "GTF coordinates are 1-based");
  await throwsInput(() => readGtfFeatures(edit("order.gtf", 11, (f) => (f[4] = "100"))), "order.gtf, line 11, column 'start': start 201 > end 100");
  await throwsInput(() => readGtfFeatures(edit("strand.gtf", 11, (f) => (f[6] = "?"))), "strand.gtf, line 11, column 'strand': strand '?'");
  // A bad line of an unwanted feature is skipped when filtering (streaming reads only what it keeps).
  const badCds = edit("bad_cds.gtf", 8, (f) => (f[3] = "x"));
  assert.equal((await readGtfFeatures(badCds, { features: ["UTR"] })).height, 18);
  await throwsInput(() => readGtfFeatures(badCds), "bad_cds.gtf, line 8");
  await throwsInput(() => readGtfFeatures(path.join(dir, "missing.gtf.gz")), "missing.gtf.gz: file not found");
  const truncated = path.join(dir, "truncated.gtf.gz");
  const gz = zlib.gzipSync(GTF_TEXT);
  fs.writeFileSync(truncated, gz.subarray(0, gz.length >> 1));
  await throwsInput(() => readGtfFeatures(truncated), "truncated.gtf.gz: truncated gzip file");
  const notGzip = writeFixture(dir, "plain_named.gtf", "");
  fs.renameSync(notGzip, notGzip + ".gz");
  fs.writeFileSync(notGzip + ".gz", GTF_TEXT);
  await throwsInput(() => readGtfFeatures(notGzip + ".gz"), "plain_named.gtf.gz: corrupt gzip file");
});

// ---------------------------------------------------------------------------------------------
// TargetScan

const TS_FILE = fixture("miR_Family_Info.txt");
const TS_TEXT = fs.readFileSync(TS_FILE, "utf8");

test("TargetScan: every species, typed rows, hand-checked values", () => {
  const rows = readTargetScanFamilies(TS_FILE);
  assert.equal(rows.length, 35);
  assert.equal(rows.filter((r) => r.speciesId === HUMAN_SPECIES_ID).length, 32);
  assert.deepEqual([...new Set(rows.map((r) => r.speciesId))].sort((a, b) => a - b), [9606, 10090, 10116]);
  const short = rows.find((r) => r.mirbaseId === "hsa-miR-9004-5p")!;
  assert.equal(short.matureSequence.length, 18);
  assert.equal(short.mirbaseAccession, "MIMAT9000004");
  assert.equal(short.seedM8, short.matureSequence.slice(1, 8));
  const tie = rows.filter((r) => r.family === "miR-9005/9006");
  assert.deepEqual(tie.map((r) => [r.mirbaseId, r.familyConservation, r.matureSequence.length]), [
    ["hsa-miR-9005", -1, 19],
    ["hsa-miR-9006", -1, 19],
  ]);
  assert.ok(!rows.some((r) => r.mirbaseAccession === "MIMAT9009999"), "hsa-miR-9999-5p must be missing");
  const frame = targetScanFamiliesFrame(rows);
  assert.equal(frame.height, 35);
  assert.equal(frame.getColumn("Species ID").get(3), 9606);
  assert.equal(frame.getColumn("MiRBase Accession").get(0), "MIMAT9000001");
  // Windows line ends give the same rows.
  const crlf = writeFixture(dir, "ts_crlf.txt", TS_TEXT.replace(/\n/g, "\r\n"));
  assert.deepEqual(readTargetScanFamilies(crlf), rows);
});

test("TargetScan: bad input names file, row and column", async () => {
  const lines = TS_TEXT.trimEnd().split("\n");
  const edit = (name: string, row: number, col: number, value: string) => {
    const copy = lines.map((l) => l.split("\t"));
    copy[row]![col] = value;
    return writeFixture(dir, name, copy.map((f) => f.join("\t")).join("\n") + "\n");
  };
  await throwsInput(() => readTargetScanFamilies(edit("ts_species.txt", 4, 2, "human")), "ts_species.txt, row 4 (line 5), column 'Species ID': 'human' is not an integer");
  await throwsInput(() => readTargetScanFamilies(edit("ts_seq.txt", 2, 4, "UAGGCUXAUG")), "ts_seq.txt, row 2 (line 3), column 'Mature sequence'", "'UAGGCUXAUG'");
  await throwsInput(() => readTargetScanFamilies(edit("ts_cons.txt", 3, 5, "yes")), "ts_cons.txt, row 3 (line 4), column 'Family Conservation?'");
  await throwsInput(() => readTargetScanFamilies(edit("ts_empty.txt", 5, 0, "")), "ts_empty.txt, row 5 (line 6), column 'miR family': empty value");
  const noAccession = writeFixture(dir, "ts_cols.txt", lines.map((l) => l.split("\t").slice(0, 6).join("\t")).join("\n") + "\n");
  await throwsInput(() => readTargetScanFamilies(noAccession), "ts_cols.txt: missing column 'MiRBase Accession'");
  await throwsInput(() => readTargetScanFamilies(path.join(dir, "none.txt")), "none.txt: file not found");
});

// ---------------------------------------------------------------------------------------------
// Genome

const FASTA = parseFasta(fs.readFileSync(fixture("genome.fa"), "utf8"));

for (const name of ["genome.fa", "genome.fa.gz"]) {
  test(`genome ${name}: chromosomes, first and last base, whole chromosomes, random windows`, async () => {
    const genome = await openGenome(fixture(name));
    assert.deepEqual(genome.chromosomes(), FIXTURE_CHROMOSOMES);
    assert.equal(genome.chromosomeLength("chr3"), 4410);
    for (const { name: chrom, length } of FIXTURE_CHROMOSOMES) {
      const sequence = FASTA.get(chrom)!.toUpperCase().replace(/R/g, "N");
      assert.equal(await genome.window(chrom, 0, 1, "+"), sequence[0]);
      assert.equal(await genome.window(chrom, length - 1, 1, "+"), sequence[length - 1]);
      assert.equal(await genome.window(chrom, 0, 1, "-"), rc(sequence[0]!));
      assert.equal(await genome.window(chrom, length - 50, 50, "-"), rc(sequence.slice(length - 50)));
      assert.equal(await genome.window(chrom, 0, length, "+"), sequence);
      assert.equal(await genome.window(chrom, 7, 0, "+"), "");
    }
    // Seeded random windows, many crossing FASTA lines and (in the .gz) BGZF block borders.
    const random = mulberry32(1789);
    for (let i = 0; i < 200; i++) {
      const { name: chrom, length } = FIXTURE_CHROMOSOMES[randomInteger(random, 0, FIXTURE_CHROMOSOMES.length - 1)]!;
      const size = randomInteger(random, 1, 1050);
      const start = randomInteger(random, 0, length - size);
      const strand = random() < 0.5 ? "+" : "-";
      const plus = FASTA.get(chrom)!.slice(start, start + size).toUpperCase().replace(/R/g, "N");
      assert.equal(await genome.window(chrom, start, size, strand), strand === "+" ? plus : rc(plus), `${chrom}:${start}+${size} ${strand}`);
    }
  });

  test(`genome ${name}: hand-checked minus-strand window, soft-masking, IUPAC, planted seed match`, async () => {
    const genome = await openGenome(fixture(name));
    // chr1 0-based 60..71 (the second FASTA line starts at 60); reverse complement by hand.
    assert.equal(FASTA.get("chr1")!.slice(60, 72), "ATCCGCTACGCA");
    assert.equal(await genome.window("chr1", 60, 12, "+"), "ATCCGCTACGCA");
    assert.equal(await genome.window("chr1", 60, 12, "-"), "TGCGTAGCGGAT");
    // chr2 0-based 3000..3059 is lower case in the FASTA; windows are upper case.
    assert.match(FASTA.get("chr2")!.slice(2998, 3002), /^[ACGT]{2}[acgt]{2}$/);
    assert.match(await genome.window("chr2", 2998, 4, "+"), /^[ACGT]{4}$/);
    // chrX: 100 N, and an R at 0-based 2450 comes back as N on both strands.
    assert.equal(await genome.window("chrX", 95, 5, "-"), "NNNNN");
    assert.equal(FASTA.get("chrX")![2450], "R");
    assert.equal((await genome.window("chrX", 2449, 3, "+"))[1], "N");
    assert.equal((await genome.window("chrX", 2449, 3, "-"))[1], "N");
    // ENCORI row 3: hsa-miR-9003-3p at chr1:2301-2307 (-), 1-based inclusive. On the minus strand
    // the site reads the reverse complement of miRNA nt 2–8, as the fixture planted it.
    const mirna = readTargetScanFamilies(TS_FILE).find((r) => r.mirbaseId === "hsa-miR-9003-3p")!.matureSequence.replace(/U/g, "T");
    assert.equal(await genome.window("chr1", 2300, 7, "-"), rc(mirna.slice(1, 8)));
    // ENCORI row 1: hsa-miR-9001-5p at chr1:1501-1507 (+), followed by an A (8mer).
    const mirna1 = readTargetScanFamilies(TS_FILE).find((r) => r.mirbaseId === "hsa-miR-9001-5p")!.matureSequence.replace(/U/g, "T");
    assert.equal(await genome.window("chr1", 1500, 8, "+"), rc(mirna1.slice(1, 8)) + "A");
  });

  test(`genome ${name}: 20,000 concurrent windows (one open file, no EMFILE)`, async () => {
    const genome = await openGenome(fixture(name));
    const starts = Array.from({ length: 20_000 }, (_, i) => (i * 37) % (6007 - 50));
    const windows = await Promise.all(starts.map((s) => genome.window("chr1", s, 50, "+")));
    const chr1 = FASTA.get("chr1")!;
    assert.ok(windows.every((w, i) => w === chr1.slice(starts[i]!, starts[i]! + 50)));
    genome.close();
  });

  test(`genome ${name}: unknown chromosome and windows off either end name file and chromosome`, async () => {
    const genome = await openGenome(fixture(name));
    await throwsInput(() => genome.window("chr9", 0, 10, "+"), `${name}: unknown chromosome 'chr9'`, "(it has chr1, chr2, chr3, chrX)");
    await throwsInput(() => genome.chromosomeLength("1"), "unknown chromosome '1'");
    await throwsInput(() => genome.window("chr1", 5998, 10, "+"), "window chr1:5998-6008", "runs off the end of chr1 (length 6007)", name);
    await throwsInput(() => genome.window("chr3", -5, 50, "-"), "window chr3:-5-45", "runs off the start of chr3");
    await throwsInput(() => genome.window("chr1", 6007, 1, "+"), "runs off the end of chr1");
    // The caller's location (e.g. the ENCORI row) leads the message.
    await throwsInput(
      () => genome.window("chr3", -10, 50, "-", { file: "encori.tsv", row: 10 }),
      /^encori\.tsv, row 10 \(line 11\): window chr3:-10-40 .*runs off the start of chr3 .* in genome .*genome\.fa/,
    );
    // Closed: reads fail, the index is still known.
    genome.close();
    assert.equal(genome.chromosomeLength("chr2"), 4999);
    await assert.rejects(genome.window("chr2", 0, 10, "+"), /closed/);
  });
}

test("all readers together: README rows match the table; every planted site reads rc(miRNA nt 2–8) on its strand", async () => {
  const frame = readEncoriTargets(ENCORI_FILE);
  const readme = fs.readFileSync(fixture("README.md"), "utf8");
  const listed = [...readme.matchAll(/^\| (\d+) \| [^|]+ \| (chr\w+):(\d+)-(\d+) \(([+-])\) \| (\S+) \| (\w+) \|.*$/gm)];
  assert.equal(listed.length, 29);
  const mature = new Map(readTargetScanFamilies(TS_FILE).map((r) => [r.mirbaseAccession, r.matureSequence.replace(/U/g, "T")]));
  const genome = await openGenome(fixture("genome.fa"));
  let checked = 0;
  for (const m of listed) {
    const r = Number(m[1]) - 1;
    const [chrom, start, end, strand, mirna, rbp] = [m[2], Number(m[3]), Number(m[4]), m[5], m[6], m[7]];
    assert.deepEqual(
      [frame.getColumn("chromosome").get(r), frame.getColumn("narrowStart").get(r), frame.getColumn("narrowEnd").get(r), frame.getColumn("strand").get(r), frame.getColumn("miRNAname").get(r), frame.getColumn("RBP").get(r)],
      [chrom, start, end, strand, mirna, rbp],
      `README row ${r + 1}`,
    );
  }
  for (let r = 0; r < frame.height; r++) {
    const sequence = mature.get(frame.getColumn("miRNAid").get(r) as string);
    if (sequence === undefined) continue; // hsa-miR-9999-5p: not in TargetScan
    const [start, end] = [frame.getColumn("narrowStart").get(r) as number, frame.getColumn("narrowEnd").get(r) as number];
    const strand = frame.getColumn("strand").get(r) as "+" | "-";
    const site = await genome.window(frame.getColumn("chromosome").get(r) as string, start - 1, end - start + 1, strand);
    if (site === rc(sequence.slice(1, 8))) checked++;
    else assert.ok(/seed not planted/.test(readme.split("\n").find((l) => l.startsWith(`| ${r + 1} |`)) ?? ""), `row ${r + 1}: site ${site} lacks the seed match`);
  }
  assert.equal(checked, frame.height - 2 - 3); // all but the 2 rows of hsa-miR-9999-5p and the 3 unplanted ones
  genome.close();
});

test("indexFasta: writes the samtools .fai of the fixture; Windows line ends; irregular FASTA is rejected", async () => {
  const copy = path.join(dir, "indexed.fa");
  fs.copyFileSync(fixture("genome.fa"), copy);
  assert.deepEqual(await indexFasta(copy), FIXTURE_CHROMOSOMES);
  // The committed .fai was checked against bgzip/gmod reads; the fixture's own index is the reference.
  assert.equal(fs.readFileSync(copy + ".fai", "utf8"), fs.readFileSync(fixture("genome.fa.fai"), "utf8"));
  const crlf = path.join(dir, "crlf.fa");
  fs.writeFileSync(crlf, fs.readFileSync(fixture("genome.fa"), "utf8").replace(/\n/g, "\r\n"));
  await indexFasta(crlf);
  assert.match(fs.readFileSync(crlf + ".fai", "utf8"), /^chr1\t6007\t42\t60\t62\n/);
  const genome = await openGenome(crlf);
  assert.equal(await genome.window("chr3", 4350, 60, "-"), rc(FASTA.get("chr3")!.slice(4350, 4410).toUpperCase()));
  genome.close();
  // Small hand-made FASTAs: the last line of a record may be shorter, no other.
  const small = writeFixture(dir, "small.fa", ">a desc\nACGT\nAC\n>b\nGG\n");
  assert.deepEqual(await indexFasta(small), [{ name: "a", length: 6 }, { name: "b", length: 2 }]);
  assert.equal(fs.readFileSync(small + ".fai", "utf8"), "a\t6\t8\t4\t5\nb\t2\t19\t2\t3\n"); // ">a desc\n" = 8 bytes; b starts after 8 + 5 + 3 + 3 = 19
  const ragged = writeFixture(dir, "ragged.fa", ">a\nACGT\nAC\nACGT\n");
  await throwsInput(() => indexFasta(ragged), "ragged.fa, line 4: lines of 'a' differ in length", "line 3 was shorter");
  const longer = writeFixture(dir, "longer.fa", ">a\nACGT\nACGTA\n");
  await throwsInput(() => indexFasta(longer), "longer.fa, line 3: lines of 'a' differ in length (4 bases a line, this one has 5)");
  await throwsInput(() => indexFasta(writeFixture(dir, "nohead.fa", "ACGT\n>a\nAC\n")), "nohead.fa, line 1: sequence text before the first '>' header");
  await throwsInput(() => indexFasta(writeFixture(dir, "twice.fa", ">a\nAC\n>a\nGG\n")), "twice.fa, line 3: sequence name 'a' used twice");
  await throwsInput(() => indexFasta(writeFixture(dir, "empty_seq.fa", ">a\n>b\nGG\n")), "empty_seq.fa, line 2: sequence 'a' has no bases");
  await throwsInput(() => indexFasta(writeFixture(dir, "zipped.fa.gz", ">a\nAC\n")), "zipped.fa.gz: indexFasta reads uncompressed FASTA only");
});

test("genome: missing or wrong index files", async () => {
  const bare = path.join(dir, "bare.fa");
  fs.copyFileSync(fixture("genome.fa"), bare);
  await throwsInput(() => openGenome(bare), "bare.fa.fai: missing FASTA index (.fai", "samtools faidx");
  await throwsInput(() => openGenome(path.join(dir, "absent.fa")), "absent.fa: missing FASTA file");
  const noGzi = path.join(dir, "nogzi.fa.gz");
  fs.copyFileSync(fixture("genome.fa.gz"), noGzi);
  fs.copyFileSync(fixture("genome.fa.gz.fai"), noGzi + ".fai");
  await throwsInput(() => openGenome(noGzi), "nogzi.fa.gz.gzi: missing bgzip index (.gzi");
  const plainGzip = path.join(dir, "plain.fa.gz");
  fs.writeFileSync(plainGzip, zlib.gzipSync(fs.readFileSync(fixture("genome.fa"))));
  fs.copyFileSync(fixture("genome.fa.fai"), plainGzip + ".fai");
  fs.copyFileSync(fixture("genome.fa.gz.gzi"), plainGzip + ".gzi");
  await throwsInput(() => openGenome(plainGzip), "plain.fa.gz: not bgzip-compressed");
  const badFai = path.join(dir, "badfai.fa");
  fs.copyFileSync(fixture("genome.fa"), badFai);
  fs.writeFileSync(badFai + ".fai", "chr1\t6007\t41\t60\t61\nchr2\tlong\t6190\t60\t61\n");
  await throwsInput(() => openGenome(badFai), "badfai.fa.fai, line 2: non-integer field");
  const fastaAsFai = path.join(dir, "swapped.fa");
  fs.copyFileSync(fixture("genome.fa"), fastaAsFai);
  fs.copyFileSync(fixture("genome.fa"), fastaAsFai + ".fai");
  await throwsInput(() => openGenome(fastaAsFai), "swapped.fa.fai, line 1");
  // An index that does not match its FASTA (chr2 offset shifted into chr1) is caught on read.
  const shifted = path.join(dir, "shifted.fa");
  fs.copyFileSync(fixture("genome.fa"), shifted);
  fs.writeFileSync(shifted + ".fai", fs.readFileSync(fixture("genome.fa.fai"), "utf8").replace("chrX\t2503\t15839", "chrX\t9000\t15839"));
  const genome = await openGenome(shifted);
  await throwsInput(() => genome.window("chrX", 2500, 100, "+"), "shifted.fa", "the .fai index does not match the FASTA");
});
