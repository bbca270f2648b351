import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32, randomInteger, randomSequence } from "../lib/src/random";

test("same seed, same numbers; other seed, other numbers", () => {
  const a = mulberry32(1789);
  const b = mulberry32(1789);
  const c = mulberry32(1790);
  const xs = Array.from({ length: 5 }, () => a());
  assert.deepEqual(Array.from({ length: 5 }, () => b()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c()), xs);
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});

test("randomInteger stays in [low, high] and hits both ends; randomSequence uses the alphabet", () => {
  const r = mulberry32(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(randomInteger(r, 15, 29));
  assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: 15 }, (_, i) => 15 + i));
  const s = randomSequence(r, 200);
  assert.equal(s.length, 200);
  assert.match(s, /^[ACGT]+$/);
});
