import { SEED_MATCH_CLASSES, seedMatchClass } from "./seedMatch";
import type { LabelledPairs } from "./tables";

/** The parts of labelled pairs the statistics read (a {@link LabelledPairs} fits). */
export type PairsForStats = Pick<LabelledPairs, "mirnas" | "sites"> & { labels: ArrayLike<number> };

/** Labels as the lock format writes them. */
export type PairLabelName = "positive" | "negative";

function labelName(label: number): PairLabelName {
  return label === 1 ? "positive" : "negative";
}

/** Share of each seed-match class (8mer … none) among positives and among negatives. */
export function seedMatchClassShares({ mirnas, sites, labels }: PairsForStats) {
  const counts = new Map<string, number>();
  const totals = { positive: 0, negative: 0 };
  for (let i = 0; i < mirnas.length; i++) {
    const label = labelName(labels[i]!);
    const key = `${label}|${seedMatchClass(mirnas[i]!, sites[i]!)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    totals[label]++;
  }
  return (["positive", "negative"] as const).flatMap((label) =>
    SEED_MATCH_CLASSES.map((cls) => {
      const count = counts.get(`${label}|${cls}`) ?? 0;
      return { label, class: cls, count, share: totals[label] ? count / totals[label] : 0 };
    }),
  );
}

/**
 * Nucleotide shares per site position (1-based, 5'→3') for positives and negatives: rows
 * {label, position, nucleotide, share}, 2 × length × 4 rows (N is counted in no letter).
 */
export function positionalComposition({ sites, labels }: Pick<PairsForStats, "sites" | "labels">) {
  const length = sites.length ? sites[0]!.length : 0;
  const letters = ["A", "C", "G", "T"] as const;
  const counts = { positive: new Float64Array(length * 4), negative: new Float64Array(length * 4) };
  const totals = { positive: 0, negative: 0 };
  const index: Record<string, number> = { A: 0, C: 1, G: 2, T: 3 };
  for (let k = 0; k < sites.length; k++) {
    const label = labelName(labels[k]!);
    totals[label]++;
    const site = sites[k]!;
    const c = counts[label];
    for (let i = 0; i < length; i++) {
      const letter = index[site[i]!];
      if (letter !== undefined) c[i * 4 + letter]!++;
    }
  }
  return (["positive", "negative"] as const).flatMap((label) =>
    Array.from({ length: length * 4 }, (_, cell) => ({
      label,
      position: Math.floor(cell / 4) + 1,
      nucleotide: letters[cell % 4]!,
      share: totals[label] ? counts[label][cell]! / totals[label] : 0,
    })),
  );
}

/** Positives and negatives per miRNA, most positives first. */
export function pairsPerMirna({ mirnas, labels }: Pick<PairsForStats, "mirnas" | "labels">) {
  const byMirna = new Map<string, { mirna: string; positives: number; negatives: number }>();
  for (let i = 0; i < mirnas.length; i++) {
    let row = byMirna.get(mirnas[i]!);
    if (!row) byMirna.set(mirnas[i]!, (row = { mirna: mirnas[i]!, positives: 0, negatives: 0 }));
    if (labels[i] === 1) row.positives++;
    else row.negatives++;
  }
  return [...byMirna.values()].sort((a, b) => b.positives - a.positives || a.mirna.localeCompare(b.mirna));
}

/** Overall nucleotide shares of the sites, per label: rows {label, nucleotide, share}. */
export function nucleotideShares({ sites, labels }: Pick<PairsForStats, "sites" | "labels">) {
  const positional = positionalComposition({ sites, labels });
  const length = sites.length ? sites[0]!.length : 1;
  const sums = new Map<string, number>();
  for (const row of positional) sums.set(`${row.label}|${row.nucleotide}`, (sums.get(`${row.label}|${row.nucleotide}`) ?? 0) + row.share / length);
  return [...sums].map(([key, share]) => {
    const [label, nucleotide] = key.split("|") as [PairLabelName, string];
    return { label, nucleotide, share };
  });
}
