import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../ops/backend";
import { progressReporter } from "../progress";
import { openScorer, PairScorer } from "../binding/scorer";
import { readScanMirnas, readTargetFasta, scanTargets, ScanSite, ScanSummary, ScanWindow } from "../binding/scan";
import { checkDistinctOutputs, openOutput, OutputSink } from "../io/files";
import { formatFloat32 } from "../io/tsv";
import { defineCommand, finiteNumber, flag, integerInRange, option, positiveInteger, UsageError } from "./args";

/** `mirna-dl scan`: where do these miRNAs bind in these targets? 50-nt windows scored along each target, streamed. */

/** Columns of the window table (--output) and of the top-sites table (--top-output). */
export const SCAN_WINDOW_COLUMNS = ["target", "mirna", "start", "end", "score", "seed_match"] as const;
export const SCAN_SITE_COLUMNS = ["target", "mirna", "rank", "start", "end", "score", "seed_match"] as const;

function isSeedModel(spec: string): boolean {
  return spec === "seed" || spec === "seed-match";
}

function windowLine(w: ScanWindow): string {
  return `${w.target}\t${w.mirna}\t${w.start}\t${w.end}\t${formatFloat32(w.score)}\t${w.seedMatch}`;
}

function siteLine(s: ScanSite): string {
  return `${s.target}\t${s.mirna}\t${s.rank}\t${s.start}\t${s.end}\t${formatFloat32(s.score)}\t${s.seedMatch}`;
}

const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(part / whole < 0.01 ? 2 : 1)}%` : "0%");
const count = (n: number) => n.toLocaleString("en-US");

/** The summary printed on standard error. */
function summaryText(s: ScanSummary, output: string, topOutput: string | undefined, top: number): string {
  const lines = [
    `scanned ${count(s.targets)} target${s.targets === 1 ? "" : "s"} (${count(s.nucleotides)} nt) with ${count(s.mirnas)} miRNA${s.mirnas === 1 ? "" : "s"}: ${count(s.windows)} windows at stride ${s.stride}`,
    s.allWindows
      ? `scored all ${count(s.scored)} windows (--all-windows)`
      : `scored ${count(s.scored)} windows (${percent(s.scored, s.windows)}) holding a seed-region match; the other ${count(s.windows - s.scored)} were not scored (--all-windows scores them)`,
    `${count(s.aboveThreshold)} windows with score ≥ ${s.threshold} written to ${output === "-" ? "standard output" : output}`,
  ];
  if (topOutput !== undefined) {
    lines.push(`top ${top} sites per target–miRNA pair written to ${topOutput === "-" ? "standard output" : topOutput}; ${count(s.pairsNotScored)} of ${count(s.pairs)} pairs had no scored window and have no sites`);
  }
  if (s.shortTargets > 0) lines.push(`${count(s.shortTargets)} target${s.shortTargets === 1 ? " was" : "s were"} shorter than 50 nt: one window each, padded with N`);
  return lines.map((l) => `mirna-dl scan: ${l}\n`).join("");
}

export const scanCommand = defineCommand({
  name: "scan",
  summary: "slide 50-nt windows along targets (FASTA) for each miRNA: where does it bind?",
  description: `For every miRNA of --mirnas and every target of --targets (e.g. 3'UTRs), scores the 50-nt
windows of the target (starts 1, 1 + N, 1 + 2N, … for --stride N, plus a last window ending at
the target's end) with the model and writes, as they come:
  --output: one row per window with score ≥ --threshold: target, mirna, start, end (1-based,
    inclusive), score, seed_match (8mer, 7mer-m8, 7mer-A1, 6mer, offset-6mer = rc of miRNA
    nt 3–8 only, none); in target order, then window start, then miRNA order.
  --top-output: the --top K best sites of each target–miRNA pair: target, mirna, rank, start,
    end, score, seed_match. A site is a scored window that scores higher than every other
    scored window overlapping it (ties: the leftmost), so a pair's sites never overlap.
Seed prefilter: by default the model scores only windows that hold a seed-region match (the
reverse complement of miRNA nt 2–7 or nt 3–8: a 6mer or offset 6mer; every 8mer, 7mer and 6mer
site has one): about 2.5% of the windows of a 3'UTR. The others are not scored and not written
(their count is printed). What this misses, measured with iterative.h5: on the published scan
test set (449,085 chr1 pairs), of the 27,813 pairs it scores ≥ 0.5, 909 (3.3%) have no
seed-region match, 902 of them negatives (flanking windows) and 7 positives (0.04% of the
18,403 positives it finds at 0.5); at ≥ 0.9, 25 of 7,380 (0.3%). Scanning 5 kb of chr1 3'UTR
sequence with 100 miRNAs at stride 1, 649 of the 6,740 windows ≥ 0.5 (9.6%) had no seed-region
match, and 6 of the 75 pairs with a site ≥ 0.5 had their best site among them.
--all-windows scores every window: about 35× the time.
Scores are the model's, as 'predict' gives them (the last bits depend on the batching: < 1e-6).
miRNAs are padded with N or cut to 20 nt; targets are read 5'→3' as given (the transcript
strand; the other strand is not scanned), as a stream (any length: memory does not grow with
it); letters A, C, G, T, U, N in either case, U read as T. A target shorter than
50 nt gives one window padded with N. Outputs are .tsv (gzip when named .gz), written to a
temporary file and renamed into place when complete, or '-' (standard output).`,
  examples: [
    "mirna-dl scan -m $MIRNA_DL_DATA/mirna_binding/data/models/iterative.h5 --mirnas $MIRNA_DL_DATA/mirna_binding/data/reference/targetscan.sanified.fasta \\\n-t utrs.fa -o sites.tsv --top-output top.tsv   # utrs.fa: your 3'UTRs (FASTA)",
    "mirna-dl scan -m seed --mirnas $MIRNA_DL_DATA/mirna_binding/data/reference/targetscan.sanified.fasta -t utrs.fa --all-windows | head",
  ],
  options: {
    model: option({ short: "m", arg: "PATH", required: true, help: "Keras .h5 file, tfjs model folder, or 'seed'" }),
    mirnas: option({ arg: "FASTA", required: true, help: "the miRNAs (mature sequences, any length: padded or cut to 20 nt)" }),
    targets: option({ short: "t", arg: "FASTA", required: true, help: "the target sequences (e.g. 3'UTRs; .gz allowed)" }),
    output: option({ short: "o", arg: "TSV", inUsage: true, help: "windows with score ≥ threshold; '-' = standard output (the default)" }),
    "top-output": option({ arg: "TSV", inUsage: true, help: "the top --top sites of each target–miRNA pair ('-' = standard output\nwhen --output is a file); not written when absent" }),
    top: option({ arg: "K", parse: positiveInteger, help: "sites per pair in --top-output (default 3)" }),
    stride: option({ arg: "N", parse: integerInRange(1, 1_000_000), default: 1, help: "nt between window starts" }),
    threshold: option({ arg: "X", parse: finiteNumber, help: "write windows with score ≥ X (default 0.5 for networks: on the scan test set iterative.h5 has precision 0.66, recall 0.86 there; 1 = 6mer or better for 'seed')" }),
    "all-windows": flag("score every window, not only those with a seed-region match"),
    "batch-size": option({ arg: "N", parse: positiveInteger, default: 256, help: "samples per forward pass" }),
    quiet: flag("no progress, backend line or summary on standard error", { short: "q" }),
  },
  async run(o) {
    const output = o.output ?? "-";
    const topOutput = o["top-output"];
    if (o.top !== undefined && topOutput === undefined) throw new UsageError("--top K sets the sites per pair written to --top-output: give --top-output PATH too");
    if (topOutput !== undefined) {
      if (topOutput === "-" && output === "-") throw new UsageError("--output and --top-output cannot both be standard output ('-'): name a file for one of them");
    }
    // Before any work: two names for one file (a link, /dev/stdout and '-') would interleave the tables.
    checkDistinctOutputs([["--output", output], ["--top-output", topOutput]]);
    const top = topOutput === undefined ? 0 : (o.top ?? 3);
    const threshold = o.threshold ?? (isSeedModel(o.model) ? 1 : 0.5);

    // The outputs first: a folder, a read-only folder or a full disk fails before any work.
    const sinks: OutputSink[] = [];
    try {
      const windows = await openOutput(output);
      sinks.push(windows);
      const sites = topOutput === undefined ? null : await openOutput(topOutput);
      if (sites) sinks.push(sites);
      const mirnas = readScanMirnas(o.mirnas);
      let scorer: PairScorer;
      if (isSeedModel(o.model)) scorer = await openScorer(o.model);
      else {
        await initBackend({ quiet: o.quiet });
        scorer = await openScorer(o.model);
      }
      let summary: ScanSummary;
      try {
        await windows.write(SCAN_WINDOW_COLUMNS.join("\t") + "\n");
        if (sites) await sites.write(SCAN_SITE_COLUMNS.join("\t") + "\n");
        const progress = progressReporter(`scanning ${path.basename(o.targets)} with ${scorer.name}`, { quiet: o.quiet });
        let reported = -1;
        let size = 0;
        try {
          size = fs.statSync(o.targets).size;
        } catch {
          // not there or unreadable: the reader says so, naming the file
        }
        summary = await scanTargets(mirnas, readTargetFasta(o.targets), {
          scorer,
          threshold,
          stride: o.stride,
          top,
          allWindows: o["all-windows"],
          batchSize: o["batch-size"],
          onWindows: (rows) => windows.write(rows.map(windowLine).join("\n") + "\n"),
          onSites: sites ? (rows) => sites.write(rows.map(siteLine).join("\n") + "\n") : undefined,
          onProgress: (done) => {
            if (done > reported) progress(Math.min((reported = done), size), size);
          },
        });
      } finally {
        scorer.dispose();
      }
      for (const sink of sinks) await sink.commit();
      if (!o.quiet) process.stderr.write(summaryText(summary, output, topOutput, top));
    } catch (e) {
      for (const sink of sinks) await sink.abort();
      throw e;
    }
  },
});
