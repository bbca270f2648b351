import { test } from "node:test";
import assert from "node:assert/strict";
import { seedMatchClass, seedMatchScores } from "../lib/src/binding/seedMatch";
import { rankMetrics } from "../lib/src/metrics";
import { readPairTable } from "../lib/src/binding/tables";
import { reverseComplement } from "../lib/src/binding/sequences";
import { testSetPath } from "../lib/src/binding/paths";
import { missingData } from "../lib/src/data/paths";
import { MIRNA } from "./helpers";

// let-7a TGAGGTAGTAGGTTGTATAG: nt 2–8 = GAGGTAG, rc = CTACCTC; nt 2–7 = GAGGTA, rc = TACCTC.
const pad = (core: string) => core + "G".repeat(50 - core.length);

test("seed-match classes, best first", () => {
  assert.equal(seedMatchClass(MIRNA, pad("CTACCTCA")), "8mer");
  assert.equal(seedMatchClass(MIRNA, pad("CTACCTCG")), "7mer-m8");
  assert.equal(seedMatchClass(MIRNA, pad("GTACCTCA")), "7mer-A1");
  assert.equal(seedMatchClass(MIRNA, pad("GTACCTCG")), "6mer");
  assert.equal(seedMatchClass(MIRNA, pad("GTACCTGA")), "none");
  // Anywhere in the site, and the best match wins over an earlier weaker one.
  assert.equal(seedMatchClass(MIRNA, "GTACCTCG" + "G".repeat(30) + "CTACCTCA" + "GGGG"), "8mer");
  assert.equal(seedMatchClass("TNAGGTAGTAGGTTGTATAG", pad("CTACCTCA")), "none", "N in the seed never matches");
});

test("seedMatchScores gives 4…0", () => {
  const sites = ["CTACCTCA", "CTACCTCG", "GTACCTCA", "GTACCTCG", "GTACCTGA"].map(pad);
  assert.deepEqual(Array.from(seedMatchScores(sites.map(() => MIRNA), sites)), [4, 3, 2, 1, 0]);
});

test("a site with a 7mer-m8 and a 7mer-A1 but no 8mer is a 7mer-m8 (the better class wins, whatever the order in the site)", () => {
  // rc(2–8) = CTACCTC followed by G (7mer-m8, no 8mer); elsewhere GTACCTCA (7mer-A1, no 8mer).
  const m8ThenA1 = pad("CTACCTCG" + "GGGG" + "GTACCTCA");
  const a1ThenM8 = pad("GTACCTCA" + "GGGG" + "CTACCTCG");
  for (const site of [m8ThenA1, a1ThenM8]) {
    assert.equal(seedMatchClass(MIRNA, site), "7mer-m8", site);
    assert.deepEqual(Array.from(seedMatchScores([MIRNA], [site])), [3]);
  }
});

test("an N in the miRNA seed never matches, not even an N in the site", () => {
  // N at seed positions 2 and 8: the site holds the exact reverse complement, N facing N.
  const nAt2 = "TNAGGTAGTAGGTTGTATAG"; // nt 2–8 NAGGTAG → rc CTACCTN
  const nAt8 = "TGAGGTANTAGGTTGTATAG"; // nt 2–8 GAGGTAN → rc NTACCTC
  for (const [mirna, site] of [[nAt2, pad("CTACCTNA")], [nAt2, pad("GTACCTNG")], [nAt8, pad("NTACCTCA")], [nAt8, pad("NTACCTCG")]] as const) {
    assert.equal(seedMatchClass(mirna, site), "none", `${mirna} / ${site}`);
    assert.deepEqual(Array.from(seedMatchScores([mirna], [site])), [0]);
  }
  // N outside nt 2–8 does not matter; an N in the site breaks a match.
  assert.equal(seedMatchClass("NGAGGTAGTAGGTTGTATAN", pad("CTACCTCA")), "8mer");
  assert.equal(seedMatchClass(MIRNA, pad("CTACNTCA")), "none");
});

test("matches at the very start and the very end of the site", () => {
  const g = (n: number) => "G".repeat(n);
  assert.equal(seedMatchClass(MIRNA, "CTACCTCA" + g(42)), "8mer", "8mer at the start");
  assert.equal(seedMatchClass(MIRNA, g(42) + "CTACCTCA"), "8mer", "8mer at the end");
  assert.equal(seedMatchClass(MIRNA, g(43) + "CTACCTC"), "7mer-m8", "7mer-m8 at the end: no room for the A");
  assert.equal(seedMatchClass(MIRNA, "TACCTCA" + g(43)), "7mer-A1", "7mer-A1 at the start: no room for position 8");
  assert.equal(seedMatchClass(MIRNA, g(43) + "TACCTCA"), "7mer-A1", "7mer-A1 at the end");
  assert.equal(seedMatchClass(MIRNA, "TACCTC" + g(44)), "6mer", "6mer at the start");
  assert.equal(seedMatchClass(MIRNA, g(44) + "TACCTC"), "6mer", "6mer at the end");
  assert.equal(seedMatchClass(MIRNA, "ACCTCA" + g(44)), "none", "a seed cut by the start is no match");
  assert.equal(seedMatchClass(MIRNA, g(44) + "CTACCT"), "none", "a seed cut by the end is no match");
});

test("overlapping matches: every occurrence counts, the best class wins", () => {
  // A 6mer whose last letters start an 8mer: TACCTC|TACCTCA is not it, CTACCTCA at index 5 is.
  assert.equal(seedMatchClass(MIRNA, pad("TACCTCTACCTCA")), "8mer");
  // Two 7mer-m8 sharing a C, neither followed by A.
  assert.equal(seedMatchClass(MIRNA, pad("CTACCTCTACCTCG")), "7mer-m8");
  // A 7mer-A1 inside a longer run that is not a 7mer-m8 (G before TACCTCA).
  assert.equal(seedMatchClass(MIRNA, pad("GTACCTCACCTCA")), "7mer-A1");
  // Overlapping half-matches that never complete a 6mer.
  assert.equal(seedMatchClass(MIRNA, pad("TACCTACCTACCT")), "none");
});

/** The seed baseline on the full scan test set, to full precision (an independent NumPy computation gives the same doubles). */
const SCAN_SEED_ROC_AUC = 0.9744405278731239;
const SCAN_SEED_AP = 0.6652015633883515;

test("seed baseline on the full scan test set: ROC-AUC 0.97444, AP 0.66520, to full precision", async (t) => {
  const file = testSetPath("scan");
  const skip = missingData(file);
  if (skip) return t.skip(skip);
  const table = await readPairTable(file, { requireLabels: true });
  const scores = seedMatchScores(table.mirnas, table.sites);
  const m = rankMetrics(table.labels!, scores);
  assert.equal(m.n, 449085);
  assert.ok(Math.abs(m.rocAuc - SCAN_SEED_ROC_AUC) < 1e-12, `rocAuc ${m.rocAuc}`);
  assert.ok(Math.abs(m.averagePrecision - SCAN_SEED_AP) < 1e-12, `AP ${m.averagePrecision}`);
  assert.equal(m.rocAuc.toFixed(5), "0.97444");
  assert.equal(m.averagePrecision.toFixed(5), "0.66520");
  // The 52 sites with a 7mer-m8 and a 7mer-A1 but no 8mer all score 3.
  let both = 0;
  for (let i = 0; i < table.mirnas.length; i++) {
    const rc = reverseComplement(table.mirnas[i]!.slice(1, 8));
    const site = table.sites[i]!;
    if (!rc.includes("N") && site.includes(rc) && site.includes(rc.slice(1) + "A") && !site.includes(rc + "A")) {
      both++;
      assert.equal(scores[i], 3, `row ${i + 1}`);
    }
  }
  assert.equal(both, 52);
});
