/**
 * Scale benchmark of the ENCORI preprocessing (the target: 460,000 sites over a genome of
 * ≥ 200 Mb through the whole pipeline in < 10 min and < 4 GB).
 *
 * Generates (seeded, mulberry32 1789; cached between runs) into --dir (default
 * /tmp/mirna-dl-preprocess-scale):
 *   genome.fa + .fai    10 chromosomes chr1..chr10 of 21 Mb (210 Mb), random bases, 60 a line
 *   annotation.gtf      GENCODE-like: ~60,000 genes on both strands, each with gene, transcript,
 *                       exon, CDS, start/stop codon, 5' and 3' UTR lines (~570,000 lines)
 *   encori.tsv          ENCORI miRNATarget format, --sites rows (default 460,000): ~5% not AGO2,
 *                       ~8% outside UTRs, ~28% of sites claimed by 2–3 miRNAs (ambiguous: ~half of the rows, as in ENCORI),
 *                       600 miRNAs of which 12 are missing from TargetScan
 *   miR_Family_Info.txt 450 families, human + mouse rows
 * then runs runPreprocessing (defaults: exact coordinates, chr1 test) and writePreprocessOutputs
 * (.tsv.gz + .parquet) and prints the wall time of each, the step counts and the peak RSS
 * (process.resourceUsage().maxRSS). For an outside view run it under `/usr/bin/time -v`.
 *
 * Run: node --import tsx bench/preprocess-scale.ts [--sites N] [--dir D] [--regenerate] [--json]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../lib/src/io/files";
import { mulberry32, randomInteger, randomSequence } from "../lib/src/random";
import { indexFasta } from "../lib/src/preprocess/genome";
import { runPreprocessing } from "../lib/src/preprocess/pipeline";
import { writePreprocessOutputs } from "../lib/src/preprocess/outputs";

const SEED = 1789;
const CHROMOSOMES = 10;
const CHROMOSOME_LENGTH = 21_000_000;
const GENE_SPACING = 3_500;
const MIRNAS = 600;
const FAMILIES = 450;
const MISSING_FROM_TARGETSCAN = 12;

interface Options {
  sites: number;
  dir: string;
  regenerate: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sites: 460_000, dir: "/tmp/mirna-dl-preprocess-scale", regenerate: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--sites") options.sites = Number(argv[++i]);
    else if (a === "--dir") options.dir = argv[++i]!;
    else if (a === "--regenerate") options.regenerate = true;
    else if (a === "--json") options.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(options.sites) || options.sites <= 0) throw new Error("--sites must be a positive integer");
  return options;
}

interface Gene {
  chrom: string;
  strand: "+" | "-";
  /** 1-based inclusive. */
  start: number;
  end: number;
  utr5: [number, number];
  utr3: [number, number];
  cds: [number, number];
}

/** Writes the genome FASTA chromosome by chromosome (2 bits of a 32-bit draw per base). */
function writeGenome(file: string): void {
  const random = mulberry32(SEED);
  const temp = file + ".partial";
  const fd = fs.openSync(temp, "w");
  const letters = Buffer.from("ACGT");
  try {
    for (let c = 1; c <= CHROMOSOMES; c++) {
      fs.writeSync(fd, `>chr${c} synthetic ${CHROMOSOME_LENGTH} nt\n`);
      const lines = Math.ceil(CHROMOSOME_LENGTH / 60);
      const buffer = Buffer.alloc(CHROMOSOME_LENGTH + lines);
      let at = 0;
      let bits = 0;
      let left = 0;
      for (let i = 0; i < CHROMOSOME_LENGTH; i++) {
        if (left === 0) {
          bits = (random() * 4294967296) >>> 0;
          left = 16;
        }
        buffer[at++] = letters[bits & 3]!;
        bits >>>= 2;
        left--;
        if (i % 60 === 59 || i === CHROMOSOME_LENGTH - 1) buffer[at++] = 0x0a;
      }
      fs.writeSync(fd, buffer, 0, at);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

function makeGenes(random: () => number): Gene[] {
  const genes: Gene[] = [];
  for (let c = 1; c <= CHROMOSOMES; c++) {
    for (let start = 5_000; start + 4_000 < CHROMOSOME_LENGTH - 5_000; start += GENE_SPACING) {
      const strand = random() < 0.5 ? "+" : "-";
      const s = start + randomInteger(random, 0, 400);
      const utrA = randomInteger(random, 50, 300);
      const cds = randomInteger(random, 600, 1_500);
      const utrB = randomInteger(random, 300, 1_600);
      const first: [number, number] = [s, s + utrA - 1];
      const middle: [number, number] = [first[1] + 1, first[1] + cds];
      const last: [number, number] = [middle[1] + 1, middle[1] + utrB];
      genes.push({ chrom: `chr${c}`, strand, start: first[0], end: last[1], utr5: strand === "+" ? first : last, utr3: strand === "+" ? last : first, cds: middle });
    }
  }
  return genes;
}

function writeGtf(file: string, genes: Gene[]): void {
  const out: string[] = ["##description: synthetic GENCODE-like annotation (mirna-dl bench/preprocess-scale.ts)", "##format: gtf"];
  genes.forEach((g, i) => {
    const id = `ENSG9${String(i).padStart(10, "0")}.1_1`;
    const tid = `ENST9${String(i).padStart(10, "0")}.1_1`;
    const base = `gene_id "${id}"; gene_type "protein_coding"; gene_name "G${i}"; level 2;`;
    const t = `gene_id "${id}"; transcript_id "${tid}"; gene_type "protein_coding"; gene_name "G${i}"; transcript_type "protein_coding"; transcript_name "G${i}-201"; exon_number 1; level 2; tag "basic"; remap_status "full_contig";`;
    const line = (feature: string, s: number, e: number, frame: string, attributes: string) => `${g.chrom}\tHAVANA\t${feature}\t${s}\t${e}\t.\t${g.strand}\t${frame}\t${attributes}`;
    out.push(line("gene", g.start, g.end, ".", base));
    out.push(line("transcript", g.start, g.end, ".", t));
    out.push(line("exon", g.start, g.end, ".", t));
    out.push(line("CDS", g.cds[0], g.cds[1], "0", t));
    out.push(line("start_codon", g.strand === "+" ? g.cds[0] : g.cds[1] - 2, g.strand === "+" ? g.cds[0] + 2 : g.cds[1], "0", t));
    out.push(line("stop_codon", g.strand === "+" ? g.cds[1] - 2 : g.cds[0], g.strand === "+" ? g.cds[1] : g.cds[0] + 2, "0", t));
    out.push(line("UTR", g.utr5[0], g.utr5[1], ".", t));
    out.push(line("UTR", g.utr3[0], g.utr3[1], ".", t));
  });
  writeFileAtomic(file, out.join("\n") + "\n");
}

interface Mirna {
  name: string;
  accession: string;
  sequence: string;
  family: number;
}

function makeMirnas(random: () => number): Mirna[] {
  return Array.from({ length: MIRNAS }, (_, i) => ({
    name: `hsa-miR-${10000 + i}`,
    accession: `MIMAT8${String(i).padStart(6, "0")}`,
    sequence: randomSequence(random, randomInteger(random, 18, 24), "ACGU"),
    family: i < FAMILIES ? i : randomInteger(random, 0, FAMILIES - 1),
  }));
}

function writeTargetScan(file: string, mirnas: Mirna[], random: () => number): void {
  const lines = ["miR family\tSeed+m8\tSpecies ID\tMiRBase ID\tMature sequence\tFamily Conservation?\tMiRBase Accession"];
  mirnas.slice(MISSING_FROM_TARGETSCAN).forEach((m, i) => {
    lines.push([`miR-fam${m.family}`, m.sequence.slice(1, 8), 9606, m.name, m.sequence, randomInteger(random, -1, 2), m.accession].join("\t"));
    if (i % 3 === 0) lines.push([`miR-fam${m.family}`, m.sequence.slice(1, 8), 10090, m.name.replace("hsa", "mmu"), m.sequence, 0, `MIMAT7${String(i).padStart(6, "0")}`].join("\t"));
  });
  writeFileAtomic(file, lines.join("\n") + "\n");
}

function writeEncori(file: string, sites: number, genes: Gene[], mirnas: Mirna[], random: () => number): void {
  const header = "miRNAid\tmiRNAname\tgeneID\tgeneName\tgeneType\tchromosome\tnarrowStart\tnarrowEnd\tbroadStart\tbroadEnd\tstrand\tclipExpNum\tdegraExpNum\tRBP\tPITA\tRNA22\tmiRmap\tmicroT\tmiRanda\tPicTar\tTargetScan\tpancancerNum";
  const chunks: string[] = ["#synthetic ENCORI-format table (mirna-dl bench/preprocess-scale.ts)", "#Version: bench", header];
  let written = 0;
  while (written < sites) {
    const g = genes[randomInteger(random, 0, genes.length - 1)]!;
    let start: number;
    if (random() < 0.08) start = randomInteger(random, g.cds[0], g.cds[1] - 30); // outside the UTRs
    else {
      const utr = random() < 0.85 ? g.utr3 : g.utr5;
      start = randomInteger(random, utr[0], Math.max(utr[0], utr[1] - 10));
    }
    const end = start + randomInteger(random, 5, 19);
    // ~28% of sites are claimed by 2–3 miRNAs (ambiguous, ~half the rows as in ENCORI); the rest by one.
    const claims = random() < 0.28 ? randomInteger(random, 2, 3) : 1;
    for (let c = 0; c < claims && written < sites; c++) {
      const m = mirnas[randomInteger(random, 0, mirnas.length - 1)]!;
      const rbp = random() < 0.05 ? "AGO1" : "AGO2";
      chunks.push(
        [m.accession, m.name, `ENSG${g.start}`, `G${g.start}`, "protein_coding", g.chrom, start, end, start - 3, end + 3, g.strand,
          randomInteger(random, 1, 20), 0, rbp, 0, 1, 0, 1, 1, 0, 1, randomInteger(random, 0, 20)].join("\t"),
      );
      written++;
    }
  }
  writeFileAtomic(file, chunks.join("\n") + "\n");
}

function generate(options: Options): Record<string, string> {
  fs.mkdirSync(options.dir, { recursive: true });
  const files = {
    genome: path.join(options.dir, "genome.fa"),
    gtf: path.join(options.dir, "annotation.gtf"),
    encori: path.join(options.dir, `encori_${options.sites}.tsv`),
    targetscan: path.join(options.dir, "miR_Family_Info.txt"),
  };
  const random = mulberry32(SEED + 1);
  const genes = makeGenes(random);
  const mirnas = makeMirnas(random);
  const timed = (what: string, action: () => void) => {
    const t0 = performance.now();
    action();
    process.stderr.write(`generated ${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  if (options.regenerate || !fs.existsSync(files.genome) || !fs.existsSync(files.genome + ".fai")) {
    timed("genome", () => writeGenome(files.genome));
  }
  if (options.regenerate || !fs.existsSync(files.gtf)) timed("GTF", () => writeGtf(files.gtf, genes));
  if (options.regenerate || !fs.existsSync(files.targetscan)) timed("TargetScan", () => writeTargetScan(files.targetscan, mirnas, random));
  if (options.regenerate || !fs.existsSync(files.encori)) timed("ENCORI", () => writeEncori(files.encori, options.sites, genes, mirnas, random));
  return files;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const files = generate(options);
  if (!fs.existsSync(files.genome + ".fai")) await indexFasta(files.genome!);
  const sizes = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, fs.statSync(f).size]));

  const t0 = performance.now();
  const result = await runPreprocessing({ encori: files.encori!, gtf: files.gtf!, targetscan: files.targetscan!, genome: files.genome! }, {}, { progress: !options.json });
  const t1 = performance.now();
  const outDir = path.join(options.dir, "out");
  const written = writePreprocessOutputs(result, outDir);
  const t2 = performance.now();
  const report = {
    sites: options.sites,
    genomeBases: CHROMOSOMES * CHROMOSOME_LENGTH,
    inputBytes: sizes,
    pipelineSeconds: Number(((t1 - t0) / 1000).toFixed(1)),
    writeSeconds: Number(((t2 - t1) / 1000).toFixed(1)),
    totalSeconds: Number(((t2 - t0) / 1000).toFixed(1)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    counts: result.counts,
    outputs: written.map((f) => ({ file: path.basename(f), bytes: fs.statSync(f).size })),
  };
  if (options.json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`sites ${report.sites.toLocaleString("en-US")}, genome ${(report.genomeBases / 1e6).toFixed(0)} Mb`);
  for (const c of report.counts) console.log(`  ${c.step.padEnd(58)} ${String(c.rows).padStart(9)}  (−${c.dropped})`);
  console.log(`pipeline ${report.pipelineSeconds} s, writing ${report.writeSeconds} s, total ${report.totalSeconds} s; peak RSS ${report.peakRssMB} MB`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
