import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import {
  hasSeedRegionMatch,
  readScanMirnas,
  readTargetFasta,
  scanSeedClass,
  scanSequences,
  scanTargets,
  ScanMirna,
  ScanWindow,
  TargetPiece,
  windowCount,
  windowStarts,
} from "../lib/src/binding/scan";
import { buildArch00b } from "../lib/src/binding/arch00b";
import { predictScores } from "../lib/src/binding/predict";
import { modelScorer, openScorer, PairScorer, seedMatchScorer } from "../lib/src/binding/scorer";
import { seedMatchClass } from "../lib/src/binding/seedMatch";
import { fitMirnaLength, reverseComplement } from "../lib/src/binding/sequences";
import { publishedModelPath } from "../lib/src/binding/paths";
import { missingData } from "../lib/src/data/paths";
import { InputError } from "../lib/src/errors";
import { initBackend } from "../lib/src/ops/backend";
import { mulberry32, randomSequence } from "../lib/src/random";
import { MIRNA, tempDir, writeFixture } from "./helpers";

before(() => initBackend({ quiet: true }));

const dir = tempDir();

/** A scorer whose score is a fixed function of the pair (a hash in [0, 1)), counting the pairs it saw. */
function hashScorer(): PairScorer & { pairs: number; calls: number } {
  const scorer = {
    name: "hash",
    kind: "tfjs" as const,
    model: null,
    pairs: 0,
    calls: 0,
    score: async (mirnas: readonly string[], sites: readonly string[]) => {
      scorer.calls++;
      scorer.pairs += mirnas.length;
      return Float32Array.from(mirnas, (m, k) => hashScore(m, sites[k]!));
    },
    dispose: () => {},
  };
  return scorer;
}

function hashScore(mirna: string, site: string): number {
  let h = 2166136261;
  for (const s of [mirna, site]) for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return Math.fround((h >>> 0) / 2 ** 32);
}

const mirna = (name: string, sequence: string): ScanMirna => ({ name, sequence, fitted: fitMirnaLength(sequence) });

/** Every window of every target, brute force: [target, miRNA name, 0-based start, window]. */
function allWindows(mirnas: readonly ScanMirna[], targets: readonly { name: string; sequence: string }[], stride: number) {
  const out: { target: string; mirna: ScanMirna; start: number; window: string; end: number }[] = [];
  for (const t of targets) {
    for (const start of windowStarts(t.sequence.length, stride)) {
      for (const m of mirnas) {
        const window = (t.sequence + "N".repeat(50)).slice(start, start + 50);
        out.push({ target: t.name, mirna: m, start, window, end: Math.min(start + 50, t.sequence.length) });
      }
    }
  }
  return out;
}

test("windows: starts 0, stride, 2·stride … plus one ending at the target's end; a short target has one", () => {
  assert.deepEqual(windowStarts(50, 1), [0]);
  assert.deepEqual(windowStarts(53, 1), [0, 1, 2, 3]);
  assert.deepEqual(windowStarts(120, 30), [0, 30, 60, 70]);
  assert.deepEqual(windowStarts(110, 30), [0, 30, 60]);
  assert.deepEqual(windowStarts(20, 5), [0]);
  for (const [length, stride] of [[50, 1], [5000, 1], [5000, 7], [5001, 50], [10, 3], [1234, 1000]]) {
    assert.equal(windowCount(length!, stride!), windowStarts(length!, stride!).length, `${length} / ${stride}`);
  }
  assert.equal(windowCount(5000, 1), 4951);
});

test("seed-region match and class: rc of miRNA nt 2–7 or 3–8; the offset 6mer is its own class", () => {
  // MIRNA = TGAGGTAGTAGGTTGTATAG: nt 2–8 GAGGTAG, rc CTACCTC; rc(2–7) = TACCTC, rc(3–8) = CTACCT.
  const g = (n: number) => "G".repeat(n);
  const cases: [string, string, boolean][] = [
    [g(20) + "CTACCTCA" + g(22), "8mer", true],
    [g(20) + "CTACCTC" + g(23), "7mer-m8", true],
    [g(20) + "TACCTCA" + g(23), "7mer-A1", true],
    [g(20) + "TACCTC" + g(24), "6mer", true],
    [g(20) + "CTACCT" + g(24), "offset-6mer", true],
    [g(20) + "TACCT" + g(25), "none", false],
    [g(50), "none", false],
  ];
  for (const [site, cls, match] of cases) {
    assert.equal(scanSeedClass(MIRNA, site), cls, site);
    assert.equal(hasSeedRegionMatch(MIRNA, site), match, site);
  }
  // Canonical classes are seedMatch.ts's, on random windows too.
  const random = mulberry32(11);
  for (let i = 0; i < 2000; i++) {
    const m = randomSequence(random, 20);
    const site = randomSequence(random, 20) + reverseComplement(m.slice(1, 8)).slice(random() < 0.5 ? 0 : 1) + randomSequence(random, 24);
    const w = site.slice(0, 50);
    const canonical = seedMatchClass(m, w);
    assert.equal(scanSeedClass(m, w) === "offset-6mer" ? "none" : scanSeedClass(m, w), canonical);
    assert.ok(hasSeedRegionMatch(m, w));
  }
});

test("prefilter: exactly the windows holding a seed-region match are scored, each with the scorer's own score; --all-windows scores all; chunking never changes a row", async () => {
  const random = mulberry32(5);
  const mirnas = [mirna("let-7", MIRNA), mirna("r1", randomSequence(random, 22)), mirna("r2", randomSequence(random, 18))];
  // Targets with planted seed matches, one shorter than 50 nt, one of exactly 50.
  const plant = (seq: string, at: number, site: string) => seq.slice(0, at) + site + seq.slice(at + site.length);
  const targets = [
    { name: "t1", sequence: plant(plant(randomSequence(random, 3000), 100, "CTACCTCA"), 2990, "TACCTC") },
    { name: "short", sequence: randomSequence(random, 31) },
    { name: "fifty", sequence: plant(randomSequence(random, 50), 0, reverseComplement(mirnas[1]!.fitted.slice(1, 8))) },
    { name: "t2", sequence: randomSequence(random, 777) },
    // 2 × 1,024 nt: with blockLength 1,024 its last piece fills a block just as it ends.
    { name: "edge", sequence: plant(randomSequence(random, 2048), 2020, "CTACCTCA") },
  ];
  for (const stride of [1, 3, 50, 64]) {
    const brute = allWindows(mirnas, targets, stride);
    const expectFiltered = brute.filter((w) => hasSeedRegionMatch(w.mirna.fitted, w.window));
    assert.ok(expectFiltered.length >= 3 && expectFiltered.length < brute.length / 5, `stride ${stride}: ${expectFiltered.length} of ${brute.length}`);
    for (const all of [false, true]) {
      const expected = (all ? brute : expectFiltered).map((w) => ({
        target: w.target, mirna: w.mirna.name, start: w.start + 1, end: w.end, score: hashScore(w.mirna.fitted, w.window), seedMatch: scanSeedClass(w.mirna.fitted, w.window),
      }));
      // Row order: target, then window start, then miRNA (the brute force's order).
      for (const [blockLength, flushPairs] of [[1024, 7], [65_536, 16_384], [1024, 100_000]] as const) {
        const scorer = hashScorer();
        const { windows, summary } = await scanSequences(mirnas, targets, { scorer, threshold: -1, stride, allWindows: all, blockLength, flushPairs });
        const label = `stride ${stride}, all ${all}, block ${blockLength}, flush ${flushPairs}`;
        assert.deepEqual(windows, expected, label);
        assert.equal(summary.windows, brute.length, label);
        assert.equal(summary.scored, expected.length, label);
        assert.equal(scorer.pairs, expected.length, label);
        assert.equal(summary.shortTargets, 1);
      }
    }
  }
});

test("threshold: only windows with score ≥ threshold are handed out, in order", async () => {
  const random = mulberry32(9);
  const mirnas = [mirna("a", randomSequence(random, 20)), mirna("b", randomSequence(random, 20))];
  const targets = [{ name: "t", sequence: randomSequence(random, 2000) }];
  const all = await scanSequences(mirnas, targets, { scorer: hashScorer(), threshold: -1, allWindows: true });
  const high = await scanSequences(mirnas, targets, { scorer: hashScorer(), threshold: 0.9, allWindows: true });
  assert.deepEqual(high.windows, all.windows.filter((w) => w.score >= 0.9));
  assert.ok(high.windows.length > 100 && high.windows.length < all.windows.length / 5);
  assert.equal(high.summary.aboveThreshold, high.windows.length);
});

test("top sites: each is the best scored window among those overlapping it (ties: leftmost), never overlapping, the K best per pair", async () => {
  const random = mulberry32(21);
  const a = randomSequence(random, 20);
  const mirnas = [mirna("a", a), mirna("b", randomSequence(random, 20)), mirna("a-twin", a + "TT")]; // a's twin after fitting to 20 nt
  const targets = [{ name: "t1", sequence: randomSequence(random, 1500) }, { name: "t2", sequence: randomSequence(random, 400) }];
  for (const stride of [1, 5]) {
    for (const [blockLength, flushPairs] of [[1024, 13], [65_536, 16_384]] as const) {
      const scorer = hashScorer();
      const { windows, sites } = await scanSequences(mirnas, targets, { scorer, threshold: -1, stride, allWindows: true, top: 4, blockLength, flushPairs });
      const better = (a: ScanWindow, b: ScanWindow) => a.score > b.score || (a.score === b.score && a.start < b.start);
      const expected: typeof sites = [];
      for (const t of targets) {
        for (const m of mirnas) {
          const pair = windows.filter((w) => w.target === t.name && w.mirna === m.name);
          const local = pair.filter((w) => pair.every((v) => v === w || Math.abs(v.start - w.start) >= 50 || !better(v, w)));
          local.sort((a, b) => (better(a, b) ? -1 : 1));
          local.slice(0, 4).forEach((w, r) => expected.push({ ...w, rank: r + 1 }));
        }
      }
      assert.deepEqual(sites, expected, `stride ${stride}, block ${blockLength}`);
      assert.equal(sites.length, 2 * 3 * 4);
      // The twin is scored once, reported under both names.
      assert.deepEqual(sites.filter((s) => s.mirna === "a-twin").map((s) => s.start), sites.filter((s) => s.mirna === "a").map((s) => s.start));
      assert.equal(scorer.pairs, windows.length * 2 / 3);
    }
  }
});

test("a pair without any seed-region match has no top sites and is counted", async () => {
  const { sites, summary } = await scanSequences([mirna("let-7", MIRNA)], [{ name: "g", sequence: "G".repeat(500) }, { name: "hit", sequence: "G".repeat(100) + "CTACCTCA" + "G".repeat(100) }], {
    scorer: seedMatchScorer(), threshold: 1, top: 3,
  });
  assert.equal(summary.pairsNotScored, 1);
  assert.deepEqual(sites.map((s) => [s.target, s.rank, s.seedMatch, s.score]), [["hit", 1, "8mer", 4]]);
});

test("scores are the network's own: every scanned window scores as predictScores scores it", async () => {
  const model = buildArch00b({ seed: 3 });
  try {
    const random = mulberry32(4);
    const mirnas = [mirna("a", randomSequence(random, 21)), mirna("b", MIRNA)];
    const targets = [{ name: "t", sequence: randomSequence(random, 260) }, { name: "s", sequence: randomSequence(random, 40) }];
    const { windows } = await scanSequences(mirnas, targets, { scorer: modelScorer(model, "fresh"), threshold: -Infinity, allWindows: true, batchSize: 64, flushPairs: 100 });
    const brute = allWindows(mirnas, targets, 1);
    assert.equal(windows.length, brute.length);
    const expected = await predictScores(model, brute.map((w) => w.mirna.fitted), brute.map((w) => w.window), { batchSize: 64 });
    const byKey = new Map(windows.map((w) => [`${w.target}:${w.mirna}:${w.start}`, w.score]));
    // The same computation; the last bits depend on how pairs are grouped into batches (oneDNN
    // picks its kernels by batch size), as they do for 'predict'.
    let maxDiff = 0;
    brute.forEach((w, k) => {
      const got = byKey.get(`${w.target}:${w.mirna.name}:${w.start + 1}`);
      assert.ok(got !== undefined, `${w.target} ${w.mirna.name} ${w.start}: not scanned`);
      maxDiff = Math.max(maxDiff, Math.abs(got - expected[k]!));
    });
    assert.ok(maxDiff < 1e-6, `max |difference| ${maxDiff}`);
    const spread = Math.max(...expected) - Math.min(...expected);
    assert.ok(spread > 1e-3, `scores spread ${spread}: a constant model would prove nothing`);
  } finally {
    model.dispose();
  }
});

/** Seeded 3'UTR-like background (AT-rich) without any seed-region match of the miRNA (no rc of nt 2–7 or 3–8). */
function background(random: () => number, length: number, fitted: string): string {
  for (;;) {
    let s = "";
    for (let i = 0; i < length; i++) {
      const r = random();
      s += r < 0.3 ? "A" : r < 0.6 ? "T" : r < 0.8 ? "G" : "C";
    }
    if (!hasSeedRegionMatch(fitted, s)) return s;
  }
}

test("a planted 8mer is the top site (published iterative model; with the prefilter, and over all windows)", async (t) => {
  const file = publishedModelPath("iterative");
  const skip = missingData(file);
  if (skip) return t.skip(skip);
  const scorer = await openScorer(file);
  try {
    const random = mulberry32(1789);
    // let-7a-5p, miR-1-3p, miR-122-5p, miR-21-5p, miR-155-5p: mature sequences of 21–23 nt.
    const mirnas = [
      ["let-7a-5p", "UGAGGUAGUAGGUUGUAUAGUU"], ["miR-1-3p", "UGGAAUGUAAAGAAGUAUGUAU"], ["miR-122-5p", "UGGAGUGUGACAAUGGUGUUUG"],
      ["miR-21-5p", "UAGCUUAUCAGACUGAUGUUGA"], ["miR-155-5p", "UUAAUGCUAAUCGUGAUAGGGGU"],
    ].map(([name, rna]) => mirna(name!, rna!.replace(/U/g, "T")));
    const targets: { name: string; sequence: string }[] = [];
    const planted: number[] = [];
    for (const m of mirnas) {
      const eightMer = reverseComplement(m.fitted.slice(1, 8)) + "A";
      const bg = background(random, 2000, m.fitted);
      const at = 200 + Math.floor(random() * 1500);
      targets.push({ name: `utr-${m.name}`, sequence: bg.slice(0, at) + eightMer + bg.slice(at + 8) });
      planted.push(at + 1); // 1-based
    }
    const check = (sites: { target: string; mirna: string; rank: number; start: number; end: number; score: number; seedMatch: string }[], m: ScanMirna, p: number, how: string) => {
      const top = sites.find((s) => s.target === `utr-${m.name}` && s.mirna === m.name && s.rank === 1);
      assert.ok(top, `${m.name} (${how}): no top site`);
      assert.ok(top.start <= p && p + 7 <= top.end, `${m.name} (${how}): top site ${top.start}–${top.end} (${top.score}, ${top.seedMatch}) does not hold the 8mer at ${p}`);
      assert.equal(top.seedMatch, "8mer");
      assert.ok(top.score > 0.5, `${m.name} (${how}): ${top.score}`);
    };
    // With the prefilter: every miRNA against every target (the 8mer is the only seed match of its own target).
    const { sites } = await scanSequences(mirnas, targets, { scorer, threshold: 0.5, top: 3 });
    mirnas.forEach((m, i) => check(sites, m, planted[i]!, "prefilter"));
    // Over all 1,951 windows of its target: the network ranks the 8mer's windows first.
    for (let i = 0; i < mirnas.length; i++) {
      const all = await scanSequences([mirnas[i]!], [targets[i]!], { scorer, threshold: 0.5, top: 3, allWindows: true });
      assert.equal(all.summary.scored, 1951);
      check(all.sites, mirnas[i]!, planted[i]!, "all windows");
    }
  } finally {
    scorer.dispose();
  }
});

test("streaming: the nucleotides held do not grow with the target (200 kb and 2 Mb targets), and one long FASTA line is read in pieces", async () => {
  const random = mulberry32(8);
  const unit = randomSequence(random, 10_000);
  const longTarget = (copies: number): AsyncIterable<TargetPiece> => ({
    async *[Symbol.asyncIterator]() {
      yield { kind: "start", name: "long" };
      for (let i = 0; i < copies; i++) yield { kind: "sequence", text: unit.repeat(10) }; // 100 kb pieces
      yield { kind: "end" };
    },
  });
  const peaks: number[] = [];
  for (const copies of [2, 20]) {
    let rows = 0;
    const summary = await scanTargets([mirna("let-7", MIRNA)], longTarget(copies), { scorer: seedMatchScorer(), threshold: 1, top: 2, blockLength: 4096, onWindows: (r) => void (rows += r.length) });
    assert.equal(summary.nucleotides, copies * 100_000);
    assert.equal(summary.windows, copies * 100_000 - 49);
    assert.ok(rows > 0);
    peaks.push(summary.peakBufferedNucleotides);
  }
  assert.equal(peaks[0], peaks[1], `held ${peaks.join(" vs ")} nt`);
  assert.ok(peaks[0]! <= 2 * 4096 + 50, `held ${peaks[0]} nt`);
  // A 3 Mb record on one line: pieces of at most a read chunk (1 MiB), never the whole line.
  const file = path.join(dir, "one-line.fa");
  fs.writeFileSync(file, `>chr\n${unit.repeat(300)}\n>next\nACGT\n`);
  let longest = 0;
  let total = 0;
  for await (const piece of readTargetFasta(file)) {
    if (piece.kind === "sequence") {
      longest = Math.max(longest, piece.text.length);
      total += piece.text.length;
    }
  }
  assert.equal(total, 3_000_004);
  assert.ok(longest <= 1 << 20, `a piece of ${longest} nt`);
});

/** The records of a target FASTA as [name, sequence]. */
async function readAll(file: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const piece of readTargetFasta(file)) {
    if (piece.kind === "start") out.push([piece.name, ""]);
    else if (piece.kind === "sequence") out[out.length - 1]![1] += piece.text;
  }
  return out;
}

test("target FASTA: multi-line records, lower case, U, CRLF, blank lines, spaces, gzip", async () => {
  const text = "\n>a description here\r\nacgu\r\nNNAC\r\n\r\n>b\nAC GT\n\n  \n>c\nT";
  assert.deepEqual(await readAll(writeFixture(dir, "ok.fa", text)), [["a", "ACGTNNAC"], ["b", "ACGT"], ["c", "T"]]);
  assert.deepEqual(await readAll(writeFixture(dir, "ok.fa.gz", text)), [["a", "ACGTNNAC"], ["b", "ACGT"], ["c", "T"]]);
});

test("target FASTA errors name the file, the line and the problem", async () => {
  const cases: [string, string, RegExp][] = [
    ["before.fa", "ACGT\n>a\nACGT\n", /before\.fa, line 1: not FASTA: text before the first '>' header/],
    ["letter.fa", ">a\nACGT\nACRT\n", /letter\.fa, line 3: target 'a' has a letter 'R' at position 7 that is not a nucleotide \(A, C, G, T, U or N; other IUPAC codes: replace them with N\)/],
    ["empty.fa", ">a\n>b\nACGT\n", /empty\.fa, line 1: record 'a' has an empty sequence/],
    ["last-empty.fa", ">a\nACGT\n>b", /last-empty\.fa, line 3: record 'b' has an empty sequence/],
    ["dup.fa", ">a\nACGT\n>a\nAC\n", /dup\.fa, line 3: duplicate record name 'a' \(first at line 1\)/],
    ["noname.fa", ">\nACGT\n", /noname\.fa, line 1: FASTA header '>' without a name/],
    ["nothing.fa", "\n\n", /nothing\.fa: no FASTA records/],
    ["structure.fa", ">a\nACGU\n((..))\n", /structure\.fa, line 3: target 'a' has a letter '\('/],
  ];
  for (const [name, text, pattern] of cases) {
    await assert.rejects(readAll(writeFixture(dir, name, text)), (e: unknown) => e instanceof InputError && pattern.test(e.message), name);
  }
  await assert.rejects(readAll(path.join(dir, "missing.fa")), /missing\.fa: file not found/);
  const truncated = path.join(dir, "cut.fa.gz");
  const gz = zlib.gzipSync(">a\n" + "ACGT".repeat(100_000) + "\n");
  fs.writeFileSync(truncated, gz.subarray(0, gz.length >> 1));
  await assert.rejects(readAll(truncated), /cut\.fa\.gz: truncated gzip file/);
  const h5 = path.join(dir, "model.h5");
  fs.writeFileSync(h5, Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
  await assert.rejects(readAll(h5), /model\.h5: is an HDF5 file \(a Keras \.h5 model\?\), expected FASTA text/);
});

test("miRNA FASTA: fitted to 20 nt; a seed with N is refused under the prefilter, naming the file and line", async () => {
  const file = writeFixture(dir, "mirnas.fa", ">let-7a\nUGAGGUAGUAGGUUGUAUAGUU\n>short\nugagguag\n");
  const mirnas = readScanMirnas(file);
  assert.deepEqual(mirnas.map((m) => [m.name, m.sequence, m.fitted, m.line]), [
    ["let-7a", "TGAGGTAGTAGGTTGTATAGTT", "TGAGGTAGTAGGTTGTATAG", 1],
    ["short", "TGAGGTAG", "TGAGGTAGNNNNNNNNNNNN", 3],
  ]);
  assert.throws(() => readScanMirnas(writeFixture(dir, "bad-mirna.fa", ">x\nUGAGXUAG\n")), /bad-mirna\.fa, line 1: sequence of record 'x' has a letter 'X' at position 5/);
  const blind = readScanMirnas(writeFixture(dir, "blind.fa", ">ok\nUGAGGUAGUAGG\n>blind\nUGANGUAGUAGG\n>tiny\nUGAG\n"));
  const targets = [{ name: "t", sequence: "ACGT".repeat(30) }];
  await assert.rejects(scanSequences(blind, targets, { scorer: seedMatchScorer(), threshold: 1 }), /blind\.fa, line 3: miRNA 'blind' \(TGANGTAGTAGG\) has an N in its seed \(nt 2–8\): the seed prefilter could never score a window for it/);
  await assert.rejects(scanSequences(blind.filter((m) => m.name !== "blind"), targets, { scorer: seedMatchScorer(), threshold: 1 }), /line 5: miRNA 'tiny' \(TGAG\) has fewer than 8 nt/);
  const { summary } = await scanSequences(blind, targets, { scorer: seedMatchScorer(), threshold: 1, allWindows: true });
  assert.equal(summary.scored, 3 * windowCount(120, 1));
});

test("target FASTA: a UTF-8 byte order mark is skipped, as tables and --mirnas do", async () => {
  const text = "\ufeff>a\nACGT\n>b\nGG\n";
  assert.deepEqual(await readAll(writeFixture(dir, "bom.fa", text)), [["a", "ACGT"], ["b", "GG"]]);
  assert.deepEqual(await readAll(writeFixture(dir, "bom.fa.gz", text)), [["a", "ACGT"], ["b", "GG"]]);
  assert.deepEqual(readScanMirnas(writeFixture(dir, "bom-mirnas.fa", `\ufeff>m\n${MIRNA}\n`)).map((m) => m.name), ["m"]);
});

test("FASTA names that are not UTF-8 are refused naming the record's line, never changed to U+FFFD; a character split over two read chunks is fine", async () => {
  const latin1 = Buffer.concat([Buffer.from(">ok\nACGT\n>caf"), Buffer.from([0xe9]), Buffer.from("-mir\nACGT\n")]);
  const file = path.join(dir, "latin1.fa");
  fs.writeFileSync(file, latin1);
  const pattern = /latin1\.fa, line 3: the record name 'caf\\ufffd' is not UTF-8 text \(byte 0xe9\): save the file as UTF-8$/;
  await assert.rejects(readAll(file), (e: unknown) => e instanceof InputError && pattern.test(e.message));
  assert.throws(() => readScanMirnas(file), (e: unknown) => e instanceof InputError && pattern.test(e.message));
  // In a sequence line: the line is named.
  fs.writeFileSync(file, Buffer.concat([Buffer.from(">a\nAC"), Buffer.from([0xff]), Buffer.from("GT\n")]));
  await assert.rejects(readAll(file), /latin1\.fa, line 2: not UTF-8 text \(byte 0xff\): save the file as UTF-8$/);
  // A valid two-byte name character across the 1 MiB read boundary, and a bad byte after it, on the right line.
  const head = `>first\n${"A".repeat((1 << 20) - 10)}\n>`; // the 'é' of the next name starts at byte 2^20 − 1
  const split = Buffer.concat([Buffer.from(head), Buffer.from("é-1\nACGT\n>x"), Buffer.from([0xc3, 0x28]), Buffer.from("\nAC\n")]);
  assert.equal(Buffer.from(head).length, (1 << 20) - 1);
  fs.writeFileSync(file, split.subarray(0, split.length - 8));
  assert.deepEqual((await readAll(file)).map(([name]) => name), ["first", "é-1"]);
  fs.writeFileSync(file, split);
  await assert.rejects(readAll(file), /latin1\.fa, line 5: the record name 'x\\ufffd' is not UTF-8 text \(byte 0xc3\)/);
});
