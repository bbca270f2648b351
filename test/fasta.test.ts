import { test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import * as fs from "node:fs";
import * as path from "node:path";
import { FastaPiece, readFasta, streamFasta } from "../lib/src/io/fasta";
import { tempDir, writeFixture } from "./helpers";

// io/fasta.ts: the whole-file reader and the stream, on the same text.
const dir = tempDir();
const TEXT = ">one first\nacgu\nNNAC\n>two\nGGGG\n";

async function collect(stream: AsyncGenerator<FastaPiece>): Promise<FastaPiece[]> {
  const out: FastaPiece[] = [];
  for await (const piece of stream) out.push(piece);
  return out;
}

test("streamFasta: start, normalised sequence, end per record, as readFasta reads them; gzip alike", async () => {
  const file = writeFixture(dir, "two.fa", TEXT);
  const pieces = await collect(streamFasta(file));
  const joined = new Map<string, string>();
  let name = "";
  for (const p of pieces) {
    if (p.kind === "start") joined.set((name = p.name), "");
    else if (p.kind === "sequence") joined.set(name, joined.get(name)! + p.text);
  }
  assert.deepEqual([...joined], [["one", "ACGTNNAC"], ["two", "GGGG"]]);
  assert.deepEqual(pieces.filter((p) => p.kind !== "sequence").map((p) => p.kind), ["start", "end", "start", "end"]);
  assert.deepEqual(readFasta(file).map((r) => [r.name, r.sequence.replace(/U/g, "T")]), [["one", "ACGTNNAC"], ["two", "GGGG"]]);
  const gz = path.join(dir, "two.fa.gz");
  fs.writeFileSync(gz, zlib.gzipSync(TEXT));
  assert.deepEqual((await collect(streamFasta(gz))).map(({ progress: _p, ...rest }) => rest), pieces.map(({ progress: _p, ...rest }) => rest));
});

test("streamFasta: errors name the file, the line and the record (called as the caller says)", async () => {
  const bad = writeFixture(dir, "bad.fa", ">t1\nACGT\nACXT\n");
  await assert.rejects(collect(streamFasta(bad)), /bad\.fa.*line 3.*record 't1' has a letter 'X' at position 7/);
  await assert.rejects(collect(streamFasta(bad, { recordWord: "target" })), /target 't1' has a letter 'X'/);
  await assert.rejects(collect(streamFasta(writeFixture(dir, "empty.fa", ">a\n>b\nAC\n"))), /line 1.*record 'a' has an empty sequence/);
  await assert.rejects(collect(streamFasta(writeFixture(dir, "none.fa", "ACGT\n"))), /not FASTA: text before the first '>'/);
  await assert.rejects(collect(streamFasta(writeFixture(dir, "twice.fa", ">a\nA\n>a\nC\n"))), /line 3.*duplicate record name 'a' \(first at line 1\)/);
});
