import { test } from "node:test";
import assert from "node:assert/strict";
import { nucleotideShares, pairsPerMirna, positionalComposition, seedMatchClassShares } from "../lib/src/binding/datasetStats";
import { MIRNA, SITE_8MER } from "./helpers";

test("seed-match class shares per label", () => {
  const rows = seedMatchClassShares({ mirnas: [MIRNA, MIRNA, MIRNA], sites: [SITE_8MER, "A".repeat(50), SITE_8MER], labels: [1, 0, 0] });
  const get = (label: string, cls: string) => rows.find((r) => r.label === label && r.class === cls)!;
  assert.equal(get("positive", "8mer").share, 1);
  assert.equal(get("negative", "8mer").count, 1);
  assert.equal(get("negative", "none").share, 0.5);
  assert.equal(rows.length, 10);
});

test("positional composition counts each letter at each position", () => {
  const rows = positionalComposition({ sites: ["ACGT", "AAGT", "CCCC"], labels: [1, 1, 0] });
  const share = (label: string, position: number, nucleotide: string) =>
    rows.find((r) => r.label === label && r.position === position && r.nucleotide === nucleotide)!.share;
  assert.equal(share("positive", 1, "A"), 1);
  assert.equal(share("positive", 2, "C"), 0.5);
  assert.equal(share("negative", 4, "C"), 1);
  assert.equal(rows.length, 2 * 4 * 4);
});

test("pairs per miRNA, most positives first", () => {
  assert.deepEqual(pairsPerMirna({ mirnas: ["B", "A", "A", "B", "A"], labels: [0, 1, 1, 0, 0] }), [
    { mirna: "A", positives: 2, negatives: 1 },
    { mirna: "B", positives: 0, negatives: 2 },
  ]);
});

test("overall nucleotide shares average the positions", () => {
  const rows = nucleotideShares({ sites: ["AACC", "AAAA"], labels: [1, 0] });
  const share = (label: string, n: string) => rows.find((r) => r.label === label && r.nucleotide === n)!.share;
  assert.equal(share("positive", "A"), 0.5);
  assert.equal(share("positive", "C"), 0.5);
  assert.equal(share("negative", "A"), 1);
  assert.equal(share("negative", "G"), 0);
});
