/**
 * Zip and tar archives (lib/src/io/archives.ts): the zip writer's archives read by Python's
 * zipfile (an independent reader) and by ours; the zip reader's member choice and errors; the
 * tar reader on an archive made by GNU tar.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readTar, readZipDirectory, readZipMember, zipArchive } from "../lib/src/io/archives";
import { tempDir } from "./helpers";

const MEMBERS = [
  { name: "README.txt", data: Buffer.from("read me\n") },
  { name: "Family_Info.txt", data: Buffer.from("miR family\tseed\n".repeat(200)) },
  { name: "empty.bin", data: Buffer.alloc(0) },
];

test("zip writer: Python's zipfile reads every member back, CRCs checked", () => {
  const file = path.join(tempDir(), "w.zip");
  fs.writeFileSync(file, zipArchive(MEMBERS));
  const listing = execFileSync("python3", ["-c", `
import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [i.compress_type, z.read(i).decode()] for i in z.infolist()}))`, file], { encoding: "utf8" });
  const read = JSON.parse(listing) as Record<string, [number, string]>;
  assert.deepEqual(Object.keys(read), MEMBERS.map((m) => m.name));
  for (const m of MEMBERS) assert.deepEqual(read[m.name], [8, m.data.toString()], m.name);
});

test("zip writer: the same members give the same bytes (no timestamps)", () => {
  assert.deepEqual(zipArchive(MEMBERS), zipArchive(MEMBERS));
});

test("zip reader: picks the named member; errors list the members", () => {
  const zip = zipArchive(MEMBERS);
  assert.deepEqual(readZipMember(zip, "Family_Info.txt").data, MEMBERS[1]!.data);
  assert.deepEqual(readZipMember(zip, "Family_*").data, MEMBERS[1]!.data);
  assert.deepEqual(readZipDirectory(zip, "z.zip").map((e) => [e.name, e.size]), MEMBERS.map((m) => [m.name, m.data.length]));
  assert.throws(() => readZipMember(zip, "*.csv", "f.zip"), /f\.zip: expected exactly one member matching '\*\.csv', found 0 \(members: README\.txt, Family_Info\.txt, empty\.bin\)/);
  assert.throws(() => readZipMember(Buffer.from("not a zip"), "x", "n.zip"), /n\.zip: corrupt zip archive: not a zip file/);
  const flipped = Buffer.from(zip);
  flipped[30 + "README.txt".length + 1]! ^= 0xff; // a byte of the first member's deflated data
  assert.throws(() => readZipMember(flipped, "README.txt", "c.zip"), /c\.zip, member 'README\.txt': corrupt zip archive: (CRC-32 mismatch|cannot inflate|the member holds)/);
});

test("tar reader: members of an archive written by GNU tar; truncation is an error naming the file", () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, "in"));
  fs.writeFileSync(path.join(dir, "in", "README"), "readme\n");
  const table = Buffer.from("a\tb\n".repeat(500));
  fs.writeFileSync(path.join(dir, "in", "set_test_set.tsv"), table);
  const tar = execFileSync("tar", ["-C", path.join(dir, "in"), "--sort=name", "-cf", "-", "README", "set_test_set.tsv"]);
  const members = readTar(tar);
  assert.deepEqual(members.map((m) => m.name), ["README", "set_test_set.tsv"]);
  assert.deepEqual(members[1]!.data, table);
  assert.throws(() => readTar(tar.subarray(0, 1024), "t.tar"), /t\.tar: truncated tar archive \(no end-of-archive block after byte 1024\)/);
  assert.throws(() => readTar(tar.subarray(0, 1024 + 600), "t.tar"), /t\.tar: truncated tar archive \(member at byte 1024 needs [\d]+ bytes\)/);
});
