import { test } from "node:test";
import assert from "node:assert/strict";
import { seedMatchClass, seedMatchScores } from "../lib/src/binding/seedMatch";
import { rankMetrics } from "../lib/src/metrics";
import { readPairTable } from "../lib/src/binding/tables";
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

test("seed baseline on the full scan test set: ROC-AUC 0.97444, AP 0.66520 (spec §6)", async (t) => {
  const file = testSetPath("scan");
  const skip = missingData(file);
  if (skip) return t.skip(skip);
  const table = await readPairTable(file, { requireLabels: true });
  const m = rankMetrics(table.labels!, seedMatchScores(table.mirnas, table.sites));
  assert.equal(m.n, 449085);
  assert.ok(Math.abs(m.rocAuc - 0.97444) < 5e-6, `rocAuc ${m.rocAuc}`);
  assert.ok(Math.abs(m.averagePrecision - 0.6652) < 5e-6, `AP ${m.averagePrecision}`);
});
