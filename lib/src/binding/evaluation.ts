import { prCurve, rankMetrics, rocCurve, RankMetrics } from "../metrics";
import type { PrCurveSeries, RocCurveSeries } from "../figures/specs";
import { ScorePairsOptions } from "./predict";
import type { LabelledPairs } from "./tables";
import { PairScorer } from "./scorer";

export interface SubsetOptions {
  /** Keep every k-th positive, starting with the first. Default 1 (all). */
  positiveStride?: number;
  /** Keep every k-th negative, starting with the first. Default 10. */
  negativeStride?: number;
}

/**
 * A fixed, deterministic subset: every `positiveStride`-th positive and every `negativeStride`-th
 * negative, in file order, each starting with the first of its class. With the defaults on a chr1
 * test set (21,385 positives, 427,700 negatives) this is a 64,155-row subset (every positive, a
 * tenth of the negatives).
 */
export function strideSubset(pairs: LabelledPairs, opts: SubsetOptions = {}): LabelledPairs {
  const positiveStride = opts.positiveStride ?? 1;
  const negativeStride = opts.negativeStride ?? 10;
  const mirnas: string[] = [];
  const sites: string[] = [];
  const labels: number[] = [];
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < pairs.labels.length; i++) {
    const y = pairs.labels[i]!;
    const keep = y === 1 ? positives++ % positiveStride === 0 : negatives++ % negativeStride === 0;
    if (!keep) continue;
    mirnas.push(pairs.mirnas[i]!);
    sites.push(pairs.sites[i]!);
    labels.push(y);
  }
  return { name: pairs.name, mirnas, sites, labels: Uint8Array.from(labels) };
}

/** One model on one test set. */
export interface EvaluationRow extends RankMetrics {
  model: string;
  testSet: string;
  seconds: number;
  /** Pairs scored per second (encoding + forward pass). */
  pairsPerSecond: number;
}

export interface EvaluationResult {
  rows: EvaluationRow[];
  /** Scores by `${model}|${testSet}`, in the order of the test set's pairs. */
  scores: Map<string, Float32Array>;
}

/**
 * Scores every test set with every scorer and computes rank metrics. Scorers are used as given
 * (open them with openScorer, dispose them yourself). `onStart` reports progress per pair.
 */
export async function evaluateScorers(
  scorers: readonly PairScorer[],
  testSets: readonly LabelledPairs[],
  opts: ScorePairsOptions & { onStart?: (model: string, testSet: string) => ScorePairsOptions["onProgress"] } = {},
): Promise<EvaluationResult> {
  const rows: EvaluationRow[] = [];
  const scores = new Map<string, Float32Array>();
  for (const scorer of scorers) {
    for (const set of testSets) {
      const onProgress = opts.onStart?.(scorer.name, set.name) ?? opts.onProgress;
      const started = performance.now();
      const s = await scorer.score(set.mirnas, set.sites, { ...opts, onProgress });
      const seconds = (performance.now() - started) / 1000;
      scores.set(`${scorer.name}|${set.name}`, s);
      rows.push({ model: scorer.name, testSet: set.name, ...rankMetrics(set.labels, s), seconds, pairsPerSecond: set.labels.length / seconds });
    }
  }
  return { rows, scores };
}

/**
 * ROC and PR curves of models on one labelled set (`labels` 1 / 0 and each model's scores,
 * shape=(n,)), with AUC, AP and the set's prevalence: ready for rocCurveSpec / prCurveSpec.
 */
export function curveSeries(labels: ArrayLike<number>, models: readonly { name: string; scores: ArrayLike<number> }[]): { roc: RocCurveSeries[]; pr: PrCurveSeries[] } {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  const prevalence = positives / labels.length;
  const roc: RocCurveSeries[] = [];
  const pr: PrCurveSeries[] = [];
  for (const m of models) {
    const metrics = rankMetrics(labels, m.scores);
    const r = rocCurve(labels, m.scores);
    const p = prCurve(labels, m.scores);
    roc.push({ name: m.name, fpr: r.fpr, tpr: r.tpr, auc: metrics.rocAuc });
    pr.push({ name: m.name, recall: p.recall, precision: p.precision, ap: metrics.averagePrecision, prevalence });
  }
  return { roc, pr };
}

/** ROC and PR curves of each model of an evaluation on one of its test sets ({@link curveSeries}). */
export function curvesFor(result: EvaluationResult, testSet: LabelledPairs) {
  const rows = result.rows.filter((r) => r.testSet === testSet.name);
  return curveSeries(testSet.labels, rows.map((row) => ({ name: row.model, scores: result.scores.get(`${row.model}|${row.testSet}`)! })));
}
