import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../lib/src/errors";
import { seedMatchClass } from "../lib/src/binding/seedMatch";
import { PLANTED_SITE_TYPES, plantSiteTypes, siteTypeRanking } from "../lib/src/binding/siteTypes";
import { mulberry32 } from "../lib/src/random";
import { MIRNA } from "./helpers";

const OTHER = "AACCGGTTAACCGGTTAACC"; // position 1 is A: its A1 types carry an A that does not pair

test("plantSiteTypes: five variants per context that differ only in the 8-nt block, each of exactly its class; X and Y never pair", () => {
  const p = plantSiteTypes([MIRNA, OTHER], { contexts: 30, offset: 21, seed: 4 });
  assert.deepEqual([p.contexts, p.contextMirnas.length, p.mirnas.length, p.sites.length], [30, 30, 150, 150]);
  assert.ok(p.contextMirnas.includes(MIRNA) && p.contextMirnas.includes(OTHER));
  const expected = ["8mer", "7mer-m8", "7mer-A1", "6mer", "none"];
  for (let c = 0; c < 30; c++) {
    const mirna = p.contextMirnas[c]!;
    const rows = [0, 1, 2, 3, 4].map((t) => c * 5 + t);
    rows.forEach((r, t) => {
      assert.equal(p.mirnas[r], mirna);
      assert.equal(p.types[r], PLANTED_SITE_TYPES[t]);
      assert.equal(seedMatchClass(mirna, p.sites[r]!), expected[t], `context ${c} ${PLANTED_SITE_TYPES[t]}`);
    });
    const sites = rows.map((r) => p.sites[r]!);
    // Outside positions 22–29 every variant is the background.
    for (const s of sites) assert.equal(s.slice(0, 21) + s.slice(29), sites[4]!.slice(0, 21) + sites[4]!.slice(29));
    const pairs: Record<string, string> = { A: "T", C: "G", G: "C", T: "A" };
    const x = sites[1]![28]!, y = sites[2]![21]!;
    assert.ok(x !== "A" && x !== pairs[mirna[0]!], `X = ${x} is neither A nor a pair for miRNA position 1 (${mirna[0]})`);
    assert.notEqual(y, pairs[mirna[7]!], "Y does not pair miRNA position 8");
    assert.equal(sites[0]!.slice(21, 29), sites[0]!.slice(21, 22) + sites[3]!.slice(22, 28) + "A");
  }
  assert.deepEqual(plantSiteTypes([MIRNA], { contexts: 3, seed: 1 }), plantSiteTypes([MIRNA], { contexts: 3, seed: 1 }));
  assert.throws(() => plantSiteTypes([]), InputError);
  assert.throws(() => plantSiteTypes(["ACGTN".repeat(4)]), /not a 20-nt/);
  assert.throws(() => plantSiteTypes([MIRNA], { offset: 43 }), InputError);
});

test("siteTypeRanking: means and paired steps with intervals; the verdict follows the rule", () => {
  const p = plantSiteTypes([MIRNA], { contexts: 40, seed: 2 });
  const noise = mulberry32(3);
  /** Scores = a context effect (cancels in the steps) + per-type means + a little noise. */
  const scoresFor = (means: number[], spread = 0.1) => {
    const context = Array.from({ length: 40 }, () => noise() * 4);
    return Float64Array.from({ length: 200 }, (_, r) => context[Math.floor(r / 5)]! + means[r % 5]! + (noise() - 0.5) * spread);
  };
  const canonical = siteTypeRanking(p, scoresFor([4, 3, 2, 1, 0]), { seed: 1 });
  assert.equal(canonical.verdict, "agrees");
  assert.deepEqual(canonical.order, ["8mer", "7mer-m8", "7mer-A1", "6mer"]);
  assert.deepEqual(canonical.steps.map((s) => `${s.higher}>${s.lower}`), ["8mer>7mer-m8", "7mer-m8>7mer-A1", "7mer-A1>6mer", "6mer>no site"]);
  for (const s of canonical.steps) assert.ok(Math.abs(s.difference.mean - 1) < 0.05 && s.difference.lo > 0.9, "paired steps cancel the context");
  assert.equal(canonical.types.length, 5);
  // The A1 types no better than their X twins (what a pairs-only matrix gives for a miRNA without U1).
  const noA = siteTypeRanking(p, scoresFor([3, 3, 1, 1, 0], 1), { seed: 1 });
  assert.notEqual(noA.verdict, "agrees");
  const swapped = siteTypeRanking(p, scoresFor([3, 4, 2, 1, 0]), { seed: 1 });
  assert.equal(swapped.verdict, "disagrees");
  assert.deepEqual(swapped.order.slice(0, 2), ["7mer-m8", "8mer"]);
  const unresolved = siteTypeRanking(p, scoresFor([4, 3.001, 3, 1, 0], 2), { seed: 1 });
  assert.ok(unresolved.verdict !== "agrees", `a step of 0.001 in noise of 2 is not resolved: ${unresolved.verdict}`);
  const some = siteTypeRanking(p, scoresFor([4, 3, 2, 1, 0]), { contexts: [0, 1, 2] });
  assert.equal(some.contexts, 3);
  assert.throws(() => siteTypeRanking(p, new Float64Array(10)), /10 scores for 200/);
  assert.throws(() => siteTypeRanking(p, scoresFor([4, 3, 2, 1, 0]), { contexts: [40] }), /out of range/);
});
