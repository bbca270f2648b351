import { test } from "node:test";
import assert from "node:assert/strict";
import { clashBarBullet, clashQuestion, clashQuestionBullet, clashStrongestBullet, clashTransferBullet } from "../lib/src/binding/clashReadings";
import { bootstrapAveragePrecision, meanSd } from "../lib/src/metrics";

// Toy scores with known order: "good" ranks every positive first, "fair" mixes a few, "poor" is
// close to chance; 200 rows at 1:1 and 1:10.
function set(n: number, ratio: number) {
  const labels = Array.from({ length: n }, (_, i) => (i % (ratio + 1) === 0 ? 1 : 0));
  const noise = (i: number, k: number) => ((i * k) % 97) / 97;
  const good = labels.map((y, i) => y + 0.5 * noise(i, 31));
  const fair = labels.map((y, i) => 0.5 * y + noise(i, 37));
  const poor = labels.map((y, i) => 0.05 * y + noise(i, 41));
  return { labels, good, fair, poor };
}

const sets = [["CLASH 1:1", set(400, 1)], ["CLASH 1:10", set(880, 10)]] as const;
const boots = sets.map(([name, s]) => ({
  testSet: name,
  ...bootstrapAveragePrecision(s.labels, { iterative_improved: [s.good], standard_itpos: [s.fair], "chr1 model": [s.poor], "published iterative": [s.fair] }, { resamples: 200, seed: 1 }),
}));
const row = (config: string, testSet: string, aps: number[], used?: number[]) => ({
  config, testSet, seeds: aps.length, rocAuc: meanSd(aps), averagePrecision: meanSd(aps), positivesUsed: used ? meanSd(used) : null, steps: meanSd([100]),
});
const summary = [
  row("iterative_improved", "CLASH 1:1", [0.95, 0.96], [9000, 11000]), row("iterative_improved", "CLASH 1:10", [0.8, 0.82], [9000, 11000]),
  row("standard_itpos", "CLASH 1:1", [0.9, 0.91]), row("standard_itpos", "CLASH 1:10", [0.7, 0.72]),
  row("chr1 model", "CLASH 1:1", [0.6, 0.62]), row("chr1 model", "CLASH 1:10", [0.25, 0.27]),
];

test("clashQuestion: helps / hurts / unresolved from the interval, and the answer over test sets", () => {
  const rows = clashQuestion(boots, "iterative_improved", "standard_itpos");
  assert.deepEqual(rows.map((r) => r.answer), ["helps", "helps"]);
  assert.ok(rows.every((r) => r.lo > 0 && r.difference > 0));
  assert.match(clashQuestionBullet(rows, summary), /^\* \*\*Does the iterative strategy help on CLASH at equal positives\?\*\* \*\*Yes\*\*\. AP\(`iterative_improved`\) − AP\(`standard_itpos`, standard training on the 10000 ± 1414 positives/);
  const reversed = clashQuestion(boots, "standard_itpos", "iterative_improved");
  assert.deepEqual(reversed.map((r) => r.answer), ["hurts", "hurts"]);
  assert.match(clashQuestionBullet(reversed, summary), /\*\*No\*\*/);
  // The same model against itself: the interval is [0, 0], which contains 0.
  const tie = clashQuestion(boots, "standard_itpos", "published iterative");
  assert.deepEqual(tie.map((r) => r.answer), ["no difference resolved", "no difference resolved"]);
  assert.match(clashQuestionBullet([rows[0]!, tie[1]!], summary), /\*\*Mixed\*\*/);
  assert.match(clashQuestionBullet(tie, summary), /\*\*Not resolved\*\*/);
  assert.match(clashQuestionBullet([reversed[0]!, tie[1]!], summary), /\*\*No\*\*/);
});

test("clashBarBullet, clashStrongestBullet, clashTransferBullet state the numbers they compare", () => {
  const bar = clashBarBullet(summary, ["iterative_improved", "standard_itpos"], { "CLASH 1:1": 0.969, "CLASH 1:10": 0.841 });
  assert.match(bar, /CLASH 1:1: `iterative_improved` 0\.9550 ± 0\.0071 against 0\.969 \(below by 0\.014\)/);
  assert.match(bar, /CLASH 1:10: `iterative_improved` 0\.8100 ± 0\.0141 against 0\.841 \(below by 0\.031\)/);
  assert.match(clashBarBullet(summary, ["iterative_improved"], { "CLASH 1:1": 0.9 }), /against 0\.900 \(reaches it\)/);
  const strongest = clashStrongestBullet(boots, ["iterative_improved", "standard_itpos"], ["chr1 model", "published iterative"]);
  assert.match(strongest, /CLASH 1:1: `iterative_improved` − `published iterative` = \+\d\.\d{4} \[95% CI \+\d\.\d{4}, \+\d\.\d{4}\] \(ours higher\)/);
  assert.match(strongest, /200 resamples of the rows\)/);
  const transfer = clashTransferBullet(summary, ["chr1 model"], ["iterative_improved", "standard_itpos"])!;
  assert.match(transfer, /CLASH 1:10: `chr1 model` 0\.2600 ± 0\.0141; the best of them −0\.5500 from `iterative_improved`/);
  assert.equal(clashTransferBullet(summary, [], ["iterative_improved"]), null);
});
