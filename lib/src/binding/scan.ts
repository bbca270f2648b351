import { InputError, shorten } from "../errors";
import { FastaPiece, readFasta, streamFasta } from "../io/fasta";
import { PairScorer } from "./scorer";
import { seedMatchClass, SeedMatchClass } from "./seedMatch";
import { fitMirnaLength, MIRNA_LENGTH, reverseComplement, SITE_LENGTH } from "./sequences";

/**
 * Scanning targets for miRNA sites (`mirna-dl scan`): every 50-nt window of every target (at a
 * stride), paired with every miRNA, scored by a binding model, streamed.
 *
 * - Windows: 0-based starts 0, stride, 2·stride, … up to length − 50, plus a last window ending
 *   at the target's end when the stride skips it (so every nucleotide is in some window). A
 *   target shorter than 50 nt gives one window, padded on the right with N (as miRNAs are).
 *   Coordinates in the output are 1-based and inclusive (start = 0-based start + 1, end = start
 *   + 49, or the target's length for a padded window).
 * - Seed prefilter (default): only windows holding a seed-region match are scored by the model:
 *   the reverse complement of miRNA nt 2–7 or of nt 3–8 (a 6mer or offset 6mer; every canonical
 *   site, 8mer, 7mer-m8, 7mer-A1, 6mer, holds one). The others are counted as not scored. On the
 *   published scan test set the iterative model scores 27,813 pairs ≥ 0.5, of which 909 (3.3%)
 *   have no such match; 902 of those are negatives, 7 positives; over 5 kb of chr1 3'UTR
 *   sequence with 100 miRNAs, 9.6% of the windows ≥ 0.5 had none (BENCHMARKS.md, "mirna-dl
 *   scan"). With `allWindows` every window is scored.
 * - Scores are exactly the model's scores of the windows scored (the same encoding and batched
 *   predict as `predict`); identical miRNAs (after fitting to 20 nt) are scored once.
 * - Output, as it comes: every scored window with score ≥ threshold (target order, then window
 *   start, then miRNA order), and, when a target is finished, its top K sites per miRNA: a site is
 *   a scored window that scores higher than every other scored window overlapping it (ties: the
 *   leftmost), so no two sites of a pair overlap; the K best by score.
 * - Memory does not grow with the length of a target: targets are read as a stream (one block
 *   of at most `blockLength` nt, plus 50 nt of overlap, at a time), windows are queued and scored
 *   in groups of `flushPairs`, and rows are handed out after each group.
 */

/** The seed-match class of a window: the canonical classes of seedMatch.ts, plus the offset 6mer (rc of miRNA nt 3–8 only). */
export type ScanSeedClass = SeedMatchClass | "offset-6mer";

/** A miRNA to scan with. */
export interface ScanMirna {
  /** Its name (FASTA header up to the first space). */
  name: string;
  /** The sequence as given, normalised (upper case, U → T). */
  sequence: string;
  /** The 20 nt the model sees: padded with N or cut (fitMirnaLength). */
  fitted: string;
  /** Where it was read, for messages. */
  file?: string;
  line?: number;
}

/** A scored window. Coordinates 1-based, inclusive. */
export interface ScanWindow {
  target: string;
  mirna: string;
  start: number;
  end: number;
  score: number;
  seedMatch: ScanSeedClass;
}

/** One of the top sites of a (target, miRNA) pair; rank 1 = best. */
export interface ScanSite extends ScanWindow {
  rank: number;
}

/** Counts of a scan. "Pairs" are (target, miRNA) pairs, "windows" (target, miRNA, window) triples. */
export interface ScanSummary {
  targets: number;
  nucleotides: number;
  mirnas: number;
  /** Distinct 20-nt miRNA sequences (each scored once). */
  distinctMirnas: number;
  pairs: number;
  windows: number;
  /** Windows the model scored (all of them with allWindows; else those with a seed-region match). */
  scored: number;
  /** Scored windows with score ≥ threshold (the rows written). */
  aboveThreshold: number;
  /** Pairs with no scored window (no seed-region match anywhere in the target): no top sites. */
  pairsNotScored: number;
  /** Targets shorter than 50 nt (one N-padded window each). */
  shortTargets: number;
  threshold: number;
  stride: number;
  allWindows: boolean;
  /** Most target nucleotides held at once (bounded by the block length, whatever the targets' lengths). */
  peakBufferedNucleotides: number;
}

export interface ScanTargetsOptions {
  /** The model (or the seed-match baseline) that scores the windows. */
  scorer: PairScorer;
  /** Windows with score ≥ threshold are handed to onWindows. */
  threshold: number;
  /** Window step in nt. Default 1. */
  stride?: number;
  /** Top sites per (target, miRNA) pair handed to onSites. Default 0 (none). */
  top?: number;
  /** Score every window, not only those with a seed-region match. Default false. */
  allWindows?: boolean;
  /** Samples per forward pass. Default 256. */
  batchSize?: number;
  /** Windows queued before they are scored and handed out. Default 16,384. */
  flushPairs?: number;
  /** Target nucleotides held at once (a cap: smaller when there are many miRNAs). Default 65,536. */
  blockLength?: number;
  /** Receives the windows ≥ threshold, in order, after each scored group. */
  onWindows?: (rows: ScanWindow[]) => Promise<void> | void;
  /** Receives the top sites of each finished target (by miRNA order, then rank). */
  onSites?: (rows: ScanSite[]) => Promise<void> | void;
  /** After each scored group: the `progress` of the last target piece whose windows are queued (up to a block of them may still wait). */
  onProgress?: (progress: number) => void;
}

/**
 * What a target stream yields ({@link FastaPiece}): a record starts, some of its sequence
 * (normalised: ACGTN), it ends, with how far through the input it is.
 */
export type TargetPiece = FastaPiece;

// ---------------------------------------------------------------------------------------------
// reading

/**
 * Reads the miRNAs of a FASTA file (gzip allowed): letters A, C, G, T, U, N in either case (U
 * read as T), each fitted to 20 nt (padded with N or cut). Errors name the file, the line and the
 * record: other letters, empty records, duplicate names, no records.
 */
export function readScanMirnas(file: string): ScanMirna[] {
  const records = readFasta(file, {
    normalise: (raw, where, label) => {
      const sequence = raw.replace(/\s+/g, "").toUpperCase();
      const bad = /[^ACGTUN]/.exec(sequence);
      if (bad) throw new InputError(`${label} has a letter '${shorten(bad[0])}' at position ${bad.index + 1} that is not a nucleotide (A, C, G, T, U or N)`, where);
      return sequence.replace(/U/g, "T");
    },
  });
  return records.map((r) => ({ name: r.name, sequence: r.sequence, fitted: fitMirnaLength(r.sequence, MIRNA_LENGTH), file, line: r.line }));
}

/**
 * Streams the targets of a FASTA file (gzip allowed) without holding a record in memory: the
 * nucleotide stream of io/fasta.ts ({@link streamFasta}), its records called targets in errors.
 */
export function readTargetFasta(file: string): AsyncGenerator<TargetPiece> {
  return streamFasta(file, { recordWord: "target" });
}

/** A target stream over sequences in memory (normalised and checked as the FASTA reader does). */
export async function* targetsFromSequences(targets: readonly { name: string; sequence: string }[]): AsyncGenerator<TargetPiece> {
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name)) throw new InputError(`duplicate target name '${shorten(t.name)}'`);
    names.add(t.name);
    const sequence = t.sequence.toUpperCase().replace(/U/g, "T");
    const bad = /[^ACGTN]/.exec(sequence);
    if (bad) throw new InputError(`target '${shorten(t.name)}' has a letter '${shorten(bad[0])}' at position ${bad.index + 1} that is not a nucleotide (A, C, G, T, U or N)`);
    if (sequence.length === 0) throw new InputError(`target '${shorten(t.name)}' has an empty sequence`);
    yield { kind: "start", name: t.name };
    for (let at = 0; at < sequence.length; at += 1 << 16) yield { kind: "sequence", text: sequence.slice(at, at + (1 << 16)) };
    yield { kind: "end" };
  }
}

// ---------------------------------------------------------------------------------------------
// windows and seed matches

/** Number of windows of a target of `length` nt at `stride` (with the last window ending at the end). */
export function windowCount(length: number, stride: number): number {
  if (length <= SITE_LENGTH) return 1;
  const last = length - SITE_LENGTH;
  return Math.floor(last / stride) + 1 + (last % stride === 0 ? 0 : 1);
}

/** The 0-based window starts of a target of `length` nt at `stride`, in order (see windowCount). */
export function windowStarts(length: number, stride: number): number[] {
  if (length <= SITE_LENGTH) return [0];
  const last = length - SITE_LENGTH;
  const starts: number[] = [];
  for (let s = 0; s <= last; s += stride) starts.push(s);
  if (last % stride !== 0) starts.push(last);
  return starts;
}

/** Length of the seed-region matches the prefilter looks for (rc of miRNA nt 2–7 and 3–8). */
const SEED_MATCH_LENGTH = 6;

interface SeedProbe {
  /** rc(miRNA nt 2–7) and rc(nt 3–8); empty when the seed holds an N. */
  patterns: string[];
  /** rc(nt 3–8), for the offset-6mer class. */
  offset: string | null;
}

function seedProbe(fitted: string): SeedProbe {
  const seed = fitted.slice(1, 8);
  if (seed.length < 7 || seed.includes("N")) return { patterns: [], offset: null };
  const rc2to8 = reverseComplement(seed);
  const rc2to7 = rc2to8.slice(1);
  const rc3to8 = rc2to8.slice(0, 6);
  return { patterns: rc2to7 === rc3to8 ? [rc2to7] : [rc2to7, rc3to8], offset: rc3to8 };
}

/** The seed-match class of a window: canonical (seedMatch.ts), else offset 6mer when rc(nt 3–8) is in it, else none. */
export function scanSeedClass(mirna: string, window: string): ScanSeedClass {
  return classOf(seedProbe(mirna), mirna, window);
}

function classOf(probe: SeedProbe, mirna: string, window: string): ScanSeedClass {
  if (probe.offset === null) return "none";
  // Every canonical class holds rc(nt 2–7) (patterns[0]): without it, only the offset 6mer is left.
  if (window.includes(probe.patterns[0]!)) return seedMatchClass(mirna, window);
  return window.includes(probe.offset) ? "offset-6mer" : "none";
}

/** True when the window holds a seed-region match (what the prefilter lets through). */
export function hasSeedRegionMatch(mirna: string, window: string): boolean {
  return seedProbe(mirna).patterns.some((p) => window.includes(p));
}

// ---------------------------------------------------------------------------------------------
// top sites

interface Scored {
  start: number;
  score: number;
  cls: ScanSeedClass;
}

/** a before b: higher score, then the leftmost. */
const better = (a: Scored, b: Scored) => a.score > b.score || (a.score === b.score && a.start < b.start);

/**
 * The sites of one (target, miRNA) pair from its scored windows given in start order: a window is
 * a site when it is better than every other scored window overlapping it (starts < 50 nt apart).
 * Keeps the windows of the last 99 nt and the K best sites: memory independent of the target.
 */
class SiteTracker {
  private readonly windows: Scored[] = [];
  /** Index in `windows` of the first window not yet decided. */
  private undecided = 0;
  readonly best: Scored[] = [];
  constructor(private readonly k: number) {}

  add(w: Scored): void {
    this.windows.push(w);
    this.decide(w.start);
  }

  /** Decides every window that no window starting at `before` or later can overlap. */
  decide(before: number): void {
    const ws = this.windows;
    while (this.undecided < ws.length && ws[this.undecided]!.start + SITE_LENGTH <= before) {
      const w = ws[this.undecided]!;
      let site = true;
      for (let i = 0; i < ws.length && site; i++) {
        const v = ws[i]!;
        if (v !== w && Math.abs(v.start - w.start) < SITE_LENGTH && better(v, w)) site = false;
      }
      if (site) this.offer(w);
      this.undecided++;
    }
    // Windows more than 49 nt left of the first undecided one can no longer matter.
    const keepFrom = this.undecided < ws.length ? ws[this.undecided]!.start - SITE_LENGTH : before - SITE_LENGTH;
    let drop = 0;
    while (drop < ws.length && ws[drop]!.start <= keepFrom) drop++;
    if (drop > 0) {
      ws.splice(0, drop);
      this.undecided -= drop;
    }
  }

  private offer(w: Scored): void {
    const best = this.best;
    if (best.length === this.k && !better(w, best[best.length - 1]!)) return;
    let at = best.length;
    while (at > 0 && better(w, best[at - 1]!)) at--;
    best.splice(at, 0, w);
    if (best.length > this.k) best.pop();
  }

  finish(): Scored[] {
    this.decide(Infinity);
    return this.best;
  }
}

// ---------------------------------------------------------------------------------------------
// the scan

/** Part of a target's sequence: nt [offset, offset + text.length). */
interface Segment {
  text: string;
  offset: number;
}

interface TargetState {
  name: string;
  index: number;
  length: number;
  /** Per distinct miRNA: its site tracker once it has a scored window (top > 0), or a mark that it has one. */
  trackers: (SiteTracker | null | undefined)[];
}

/**
 * Scans `targets` with `mirnas` (see the top of this file). Rows go to `onWindows` and `onSites`
 * as they are made; returns the counts. Throws an InputError before any work when a miRNA's seed
 * (nt 2–8) holds an N and the prefilter is on (it could never let a window through).
 */
export async function scanTargets(mirnas: readonly ScanMirna[], targets: AsyncIterable<TargetPiece>, opts: ScanTargetsOptions): Promise<ScanSummary> {
  const stride = opts.stride ?? 1;
  const topK = opts.top ?? 0;
  const allWindows = opts.allWindows ?? false;
  const batchSize = opts.batchSize ?? 256;
  const flushPairs = opts.flushPairs ?? 16_384;
  if (!Number.isInteger(stride) || stride < 1) throw new InputError(`stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(topK) || topK < 0) throw new InputError(`top must be an integer ≥ 0, got ${topK}`);
  if (!Number.isInteger(flushPairs) || flushPairs < 1) throw new InputError(`flushPairs must be a positive integer, got ${flushPairs}`);
  if (mirnas.length === 0) throw new InputError("no miRNAs to scan with");

  // Distinct 20-nt sequences, each scored once; names[u] = indices of the miRNAs with sequence u.
  const distinct: string[] = [];
  const namesOf: number[][] = [];
  const byFitted = new Map<string, number>();
  mirnas.forEach((m, i) => {
    if (m.fitted.length !== MIRNA_LENGTH) throw new InputError(`miRNA '${shorten(m.name)}': fitted sequence has length ${m.fitted.length}, expected ${MIRNA_LENGTH}`, { file: m.file, line: m.line });
    let u = byFitted.get(m.fitted);
    if (u === undefined) {
      u = distinct.length;
      byFitted.set(m.fitted, u);
      distinct.push(m.fitted);
      namesOf.push([]);
    }
    namesOf[u]!.push(i);
  });
  const probes = distinct.map(seedProbe);
  if (!allWindows) {
    const blind = mirnas.find((m) => probes[byFitted.get(m.fitted)!]!.patterns.length === 0);
    if (blind) {
      throw new InputError(
        `miRNA '${shorten(blind.name)}' (${shorten(blind.sequence)}) has ${blind.sequence.length < 8 ? "fewer than 8 nt" : "an N in its seed (nt 2–8)"}: the seed prefilter could never score a window for it (score every window with --all-windows / allWindows)`,
        { file: blind.file, line: blind.line },
      );
    }
  }
  const U = distinct.length;
  // Block length: candidate keys of a block are at most blockLength · U numbers (8 bytes each).
  const blockLength = Math.max(1024, Math.min(opts.blockLength ?? 65_536, Math.floor(4_194_304 / U)));

  const summary: ScanSummary = {
    targets: 0, nucleotides: 0, mirnas: mirnas.length, distinctMirnas: U, pairs: 0, windows: 0, scored: 0,
    aboveThreshold: 0, pairsNotScored: 0, shortTargets: 0, threshold: opts.threshold, stride, allWindows,
    peakBufferedNucleotides: 0,
  };

  // The queue of windows to score: segment, 0-based start, distinct miRNA; and where targets end.
  const qSegment: Segment[] = new Array<Segment>(flushPairs);
  const qStart = new Float64Array(flushPairs);
  const qMirna = new Int32Array(flushPairs);
  /** End of the padded window of a short target (its length), else 0. */
  const qPadded = new Int32Array(flushPairs);
  const qTarget: TargetState[] = new Array<TargetState>(flushPairs);
  let queued = 0;
  /** Nucleotides of the segments the queue refers to (a queue of few windows from many blocks is flushed early). */
  let retained = 0;
  let ends: { after: number; target: TargetState }[] = [];
  let lastYield = performance.now();
  /** Progress of the last piece consumed, and of the last piece whose windows are queued. */
  let pieceProgress = 0;
  let queuedProgress = 0;

  const finishTarget = (t: TargetState, sites: (ScanSite & { mi: number })[]) => {
    for (let u = 0; u < U; u++) {
      const tracker = t.trackers[u];
      if (tracker === undefined) {
        summary.pairsNotScored += namesOf[u]!.length;
        continue;
      }
      if (tracker === null) continue;
      const best = tracker.finish();
      for (const m of namesOf[u]!) {
        best.forEach((w, r) => sites.push({
          mi: m, target: t.name, mirna: mirnas[m]!.name, rank: r + 1, start: w.start + 1,
          end: w.start + SITE_LENGTH > t.length ? t.length : w.start + SITE_LENGTH, score: w.score, seedMatch: w.cls,
        }));
      }
    }
  };

  const flush = async () => {
    const n = queued;
    const siteMirnas = new Array<string>(n);
    const sites = new Array<string>(n);
    for (let k = 0; k < n; k++) {
      const seg = qSegment[k]!;
      const at = qStart[k]! - seg.offset;
      sites[k] = seg.text.slice(at, at + SITE_LENGTH);
      siteMirnas[k] = distinct[qMirna[k]!]!;
    }
    const scores = n > 0 ? await opts.scorer.score(siteMirnas, sites, { batchSize }) : new Float32Array(0);
    const rows: (ScanWindow & { ti: number; mi: number })[] = [];
    const siteRows: (ScanSite & { mi: number })[] = [];
    let e = 0;
    for (let k = 0; k < n; k++) {
      while (e < ends.length && ends[e]!.after <= k) finishTarget(ends[e++]!.target, siteRows);
      const u = qMirna[k]!;
      const t = qTarget[k]!;
      const score = scores[k]!;
      const start = qStart[k]!;
      const cls = classOf(probes[u]!, distinct[u]!, sites[k]!);
      summary.scored += namesOf[u]!.length;
      if (topK > 0) {
        let tracker = t.trackers[u];
        if (!tracker) tracker = t.trackers[u] = new SiteTracker(topK);
        tracker.add({ start, score, cls });
      } else t.trackers[u] = null;
      if (score >= opts.threshold) {
        const end = qPadded[k]! > 0 ? qPadded[k]! : start + SITE_LENGTH;
        for (const m of namesOf[u]!) rows.push({ target: t.name, mirna: mirnas[m]!.name, start: start + 1, end, score, seedMatch: cls, ti: t.index, mi: m });
      }
    }
    while (e < ends.length) finishTarget(ends[e++]!.target, siteRows);
    const done = queuedProgress;
    summary.aboveThreshold += rows.length;
    queued = 0;
    retained = 0;
    ends = [];
    // Target order, then window start, then miRNA order (jobs are in target, start, distinct-miRNA order).
    rows.sort((a, b) => a.ti - b.ti || a.start - b.start || a.mi - b.mi);
    if (rows.length && opts.onWindows) await opts.onWindows(rows.map(({ ti: _ti, mi: _mi, ...row }) => row));
    // Per target (in order): miRNA order, then rank.
    if (siteRows.length && opts.onSites) {
      const ordered: ScanSite[] = [];
      let from = 0;
      for (let i = 1; i <= siteRows.length; i++) {
        if (i < siteRows.length && siteRows[i]!.target === siteRows[from]!.target) continue;
        const group = siteRows.slice(from, i).sort((a, b) => a.mi - b.mi || a.rank - b.rank);
        for (const { mi: _mi, ...row } of group) ordered.push(row);
        from = i;
      }
      await opts.onSites(ordered);
    }
    opts.onProgress?.(done);
    qSegment.fill(undefined as unknown as Segment, 0, n);
    qTarget.fill(undefined as unknown as TargetState, 0, n);
    if (performance.now() - lastYield >= 50) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  };

  /** Queues one window; true when the queue is full (then flush). */
  const enqueue = (seg: Segment, start: number, u: number, t: TargetState, paddedEnd: number): boolean => {
    qSegment[queued] = seg;
    qStart[queued] = start;
    qMirna[queued] = u;
    qPadded[queued] = paddedEnd;
    qTarget[queued] = t;
    queued++;
    return queued === flushPairs;
  };

  /**
   * Queues the windows of `t` with starts in [from, to) (0-based; grid starts, plus `extra` when
   * it is ≥ 0) whose sequence lies in `seg`, in (start, miRNA) order: all of them, or those with a
   * seed-region match.
   */
  let marks = new Uint8Array(0);
  const queueWindows = async (t: TargetState, seg: Segment, from: number, to: number, extra: number, paddedEnd = 0) => {
    const before = queued;
    await queueWindowsOf(t, seg, from, to, extra, paddedEnd);
    if (queued !== before) retained += seg.text.length;
    if (retained > 1 << 25) await flush();
  };
  const queueWindowsOf = async (t: TargetState, seg: Segment, from: number, to: number, extra: number, paddedEnd: number) => {
    const isStart = (s: number) => (s >= from && s < to && s % stride === 0) || s === extra;
    if (allWindows) {
      const starts: number[] = [];
      for (let s = Math.ceil(from / stride) * stride; s < to; s += stride) starts.push(s);
      if (extra >= 0 && !(extra >= from && extra < to && extra % stride === 0)) starts.push(extra);
      starts.sort((a, b) => a - b);
      for (const s of starts) for (let u = 0; u < U; u++) if (enqueue(seg, s, u, t, paddedEnd)) await flush();
      return;
    }
    // Starts that can hold a match: [lo, hi).
    const lo = Math.min(from, extra >= 0 ? extra : from);
    const hi = Math.max(to, extra >= 0 ? extra + 1 : to);
    if (hi <= lo) return;
    if (marks.length < hi - lo) marks = new Uint8Array(hi - lo);
    const keys: number[] = [];
    const text = seg.text;
    for (let u = 0; u < U; u++) {
      const m = marks.subarray(0, hi - lo);
      m.fill(0);
      let any = false;
      for (const pattern of probes[u]!.patterns) {
        for (let q = text.indexOf(pattern); q >= 0; q = text.indexOf(pattern, q + 1)) {
          const at = seg.offset + q;
          // Windows [s, s + 50) holding [at, at + 6): s in [at + 6 − 50, at].
          const a = Math.max(lo, at + SEED_MATCH_LENGTH - SITE_LENGTH);
          const b = Math.min(hi - 1, at);
          for (let s = a; s <= b; s++) m[s - lo] = 1;
          if (a <= b) any = true;
        }
      }
      if (!any) continue;
      for (let i = 0; i < m.length; i++) if (m[i] && isStart(lo + i)) keys.push((lo + i) * U + u);
    }
    keys.sort((a, b) => a - b);
    for (const key of keys) if (enqueue(seg, Math.floor(key / U), key % U, t, paddedEnd)) await flush();
  };

  let t: TargetState | null = null;
  let buf = "";
  let bufStart = 0;
  /** Next grid start not yet queued. */
  let next = 0;

  /** Queues the grid windows that lie wholly in the buffer, then keeps only what later windows need. */
  const processBuffer = async () => {
    const bufEnd = bufStart + buf.length;
    const to = bufEnd - SITE_LENGTH + 1; // starts s with s + 50 ≤ bufEnd
    if (to > next) {
      await queueWindows(t!, { text: buf, offset: bufStart }, next, to, -1);
      next = Math.ceil(to / stride) * stride;
    }
    // Keep the last 50 nt (for the window ending at the target's end) and everything from `next`.
    const keepFrom = Math.max(bufStart, Math.min(next, bufEnd - SITE_LENGTH));
    buf = buf.slice(keepFrom - bufStart);
    bufStart = keepFrom;
  };

  for await (const piece of targets) {
    if (piece.progress !== undefined) pieceProgress = piece.progress;
    if (piece.kind === "start") {
      t = { name: piece.name, index: summary.targets, length: 0, trackers: new Array(U) };
      buf = "";
      bufStart = 0;
      next = 0;
    } else if (piece.kind === "sequence") {
      if (t === null) throw new InputError("target sequence before any target started");
      t.length += piece.text.length;
      // In slices of at most a block, so that a long piece never makes a long buffer.
      for (let at = 0; at < piece.text.length; at += blockLength) {
        buf += at === 0 && piece.text.length <= blockLength ? piece.text : piece.text.slice(at, at + blockLength);
        if (buf.length > summary.peakBufferedNucleotides) summary.peakBufferedNucleotides = buf.length;
        if (buf.length >= blockLength + SITE_LENGTH) await processBuffer();
      }
      // Windows starting before the last 49 nt are queued (those after wait for more sequence).
      queuedProgress = pieceProgress;
    } else {
      if (t === null) throw new InputError("target ended before it started");
      const length = t.length;
      summary.targets++;
      summary.nucleotides += length;
      summary.pairs += mirnas.length;
      summary.windows += windowCount(length, stride) * mirnas.length;
      if (length < SITE_LENGTH) {
        summary.shortTargets++;
        const padded = { text: buf + "N".repeat(SITE_LENGTH - length), offset: 0 };
        await queueWindows(t, padded, 0, 1, -1, length);
      } else {
        const last = length - SITE_LENGTH;
        const bufEnd = bufStart + buf.length;
        const extra = last % stride === 0 ? -1 : last;
        await queueWindows(t, { text: buf, offset: bufStart }, next, Math.min(last + 1, bufEnd - SITE_LENGTH + 1), extra);
      }
      ends.push({ after: queued, target: t });
      queuedProgress = pieceProgress;
      t = null;
      buf = "";
      if (ends.length >= 4096) await flush();
    }
  }
  if (t !== null) throw new InputError(`target '${shorten(t.name)}' did not end`);
  await flush();
  return summary;
}

/**
 * Scans targets held in memory and returns every row at once (for notebooks and tests; the CLI
 * streams with {@link scanTargets}).
 */
export async function scanSequences(
  mirnas: readonly ScanMirna[] | readonly { name: string; sequence: string }[],
  targets: readonly { name: string; sequence: string }[],
  opts: Omit<ScanTargetsOptions, "onWindows" | "onSites">,
): Promise<{ windows: ScanWindow[]; sites: ScanSite[]; summary: ScanSummary }> {
  const fitted = mirnas.map((m) => {
    const sequence = m.sequence.toUpperCase().replace(/U/g, "T");
    return "fitted" in m ? m : { name: m.name, sequence, fitted: fitMirnaLength(sequence, MIRNA_LENGTH) };
  });
  const windows: ScanWindow[] = [];
  const sites: ScanSite[] = [];
  const summary = await scanTargets(fitted, targetsFromSequences(targets), {
    ...opts,
    onWindows: (rows) => void windows.push(...rows),
    onSites: (rows) => void sites.push(...rows),
  });
  return { windows, sites, summary };
}
