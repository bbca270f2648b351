/**
 * Writing files safely (lib/src/io/files.ts): atomic replacement (temp file, fsync, rename) under
 * forced failures — an error injected in the middle of a write, a rename onto a folder, a
 * read-only folder — always leaves the old file intact and nothing partial at the target; special
 * files (devices, FIFOs) are written straight through, never replaced; symbolic links are
 * followed; streamed outputs (openOutput) are invisible until committed.
 * Run: node --import tsx --test test/files.test.ts
 */
import { afterEach, mock, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { InputError } from "../lib/src/errors";
import { openOutput, pendingTempPaths, readMaybeGzip, removePendingTemps, withAtomicFile, withAtomicFolder, writeFileAtomic } from "../lib/src/io/files";
import { tempDir } from "./helpers";

// The node:fs module object itself (an `import * as` namespace cannot be mocked): the library
// reads its functions from it at call time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsModule: typeof fs = require("node:fs");
const dir = tempDir();
let counter = 0;
/** A fresh folder holding `name` with the text "old". */
function withOldFile(name = "target.tsv"): { folder: string; file: string } {
  const folder = path.join(dir, `case-${++counter}`);
  fs.mkdirSync(folder);
  const file = path.join(folder, name);
  fs.writeFileSync(file, "old content\n");
  return { folder, file };
}
const NEW = "new content, longer than the old one, so that half of it is still more than nothing\n".repeat(50);

afterEach(() => mock.restoreAll());

/** The folder's entries: the target and nothing else (no temp file left behind). */
function assertOnly(folder: string, names: string[]): void {
  assert.deepEqual(fs.readdirSync(folder).sort(), [...names].sort(), "no temporary file left behind");
}

test("writeFileAtomic: an error in the middle of the write leaves the old file intact and no partial file", () => {
  const { folder, file } = withOldFile();
  const realWrite = fs.writeSync;
  let calls = 0;
  // The writer writes half of the data, then the disk fails.
  mock.method(fsModule, "writeSync", (fd: number, data: Uint8Array, offset = 0, length = data.length - offset) => {
    calls++;
    if (calls === 1) return realWrite(fd, data, offset, Math.floor(length / 2));
    const e = new Error("EIO: i/o error, write") as NodeJS.ErrnoException;
    e.code = "EIO";
    throw e;
  });
  assert.throws(() => writeFileAtomic(file, NEW), /EIO/);
  assert.ok(calls >= 2, "the injected failure happened");
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n", "old file intact");
  assertOnly(folder, ["target.tsv"]);
  assert.deepEqual(pendingTempPaths(), []);
});

test("writeFileAtomic: while the data is being written the target still holds the old file; fsync comes before the rename", () => {
  const { folder, file } = withOldFile();
  const seen: string[] = [];
  const order: string[] = [];
  const realWrite = fs.writeSync;
  const realFsync = fs.fsyncSync;
  const realRename = fs.renameSync;
  mock.method(fsModule, "writeSync", (fd: number, data: Uint8Array, offset = 0, length = data.length - offset) => {
    seen.push(fs.readFileSync(file, "utf8"));
    return realWrite(fd, data, offset, length);
  });
  mock.method(fsModule, "fsyncSync", (fd: number) => {
    order.push("fsync");
    return realFsync(fd);
  });
  mock.method(fsModule, "renameSync", (from: fs.PathLike, to: fs.PathLike) => {
    order.push("rename");
    return realRename(from, to);
  });
  writeFileAtomic(file, NEW);
  assert.ok(seen.length > 0);
  assert.ok(seen.every((text) => text === "old content\n"), "a reader sees the old file until the rename");
  assert.deepEqual(order, ["fsync", "rename"]);
  assert.equal(fs.readFileSync(file, "utf8"), NEW);
  assertOnly(folder, ["target.tsv"]);
});

test("writeFileAtomic: the target is a folder: refused with a message, the folder and its content intact", () => {
  const { folder } = withOldFile();
  const target = path.join(folder, "a-folder");
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, "inside.txt"), "keep me");
  assert.throws(() => writeFileAtomic(target, NEW), (e: unknown) => e instanceof InputError && /a-folder: is a folder, expected a file to write/.test(e.message));
  assert.equal(fs.readFileSync(path.join(target, "inside.txt"), "utf8"), "keep me");
  assertOnly(folder, ["a-folder", "target.tsv"]);
});

test("writeFileAtomic: the rename fails (as onto a folder): the old file intact, no temp file", () => {
  const { folder, file } = withOldFile();
  mock.method(fsModule, "renameSync", () => {
    const e = new Error("EISDIR: illegal operation on a directory, rename") as NodeJS.ErrnoException;
    e.code = "EISDIR";
    throw e;
  });
  assert.throws(() => writeFileAtomic(file, NEW), InputError);
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n");
  assertOnly(folder, ["target.tsv"]);
});

test("writeFileAtomic: a read-only folder fails with a message naming the file; nothing is written", () => {
  const { folder, file } = withOldFile();
  if (process.getuid?.() === 0) {
    // root ignores permission bits: make the file system say what a read-only folder says.
    const realOpen = fs.openSync;
    mock.method(fsModule, "openSync", (p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      if (String(p).endsWith(".tmp")) {
        const e = new Error("EACCES: permission denied, open") as NodeJS.ErrnoException;
        e.code = "EACCES";
        throw e;
      }
      return realOpen(p, flags, mode);
    });
  } else fs.chmodSync(folder, 0o555);
  try {
    assert.throws(() => writeFileAtomic(file, NEW), (e: unknown) => e instanceof InputError && e.message === `${file}: cannot write: permission denied`);
  } finally {
    fs.chmodSync(folder, 0o755);
  }
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n");
  assertOnly(folder, ["target.tsv"]);
});

test("withAtomicFile: a writer that fails half-way leaves the old file intact; the target never shows the temp file", async () => {
  const { folder, file } = withOldFile();
  await assert.rejects(
    withAtomicFile(file, async (temp) => {
      assert.notEqual(path.resolve(temp), path.resolve(file), "writes go to a temporary file");
      fs.writeFileSync(temp, NEW.slice(0, 100));
      assert.equal(fs.readFileSync(file, "utf8"), "old content\n", "target untouched while writing");
      throw new Error("download interrupted");
    }),
    /download interrupted/,
  );
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n");
  assertOnly(folder, ["target.tsv"]);
  await withAtomicFile(file, (temp) => fs.writeFileSync(temp, NEW));
  assert.equal(fs.readFileSync(file, "utf8"), NEW);
  assertOnly(folder, ["target.tsv"]);
});

test("withAtomicFolder: a failing fill leaves the old folder as it was; success replaces it whole", async () => {
  const { folder } = withOldFile();
  const target = path.join(folder, "out");
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, "stale.png"), "old");
  await assert.rejects(withAtomicFolder(target, (temp) => {
    fs.writeFileSync(path.join(temp, "new.png"), "new");
    throw new Error("RNAfold died");
  }), /RNAfold died/);
  assert.deepEqual(fs.readdirSync(target), ["stale.png"]);
  assertOnly(folder, ["out", "target.tsv"]);
  await withAtomicFolder(target, (temp) => fs.writeFileSync(path.join(temp, "new.png"), "new"));
  assert.deepEqual(fs.readdirSync(target), ["new.png"], "no stale file of the earlier content");
  assertOnly(folder, ["out", "target.tsv"]);
});

test("a symbolic link is followed: its target is replaced atomically, the link stays a link", () => {
  const { folder, file } = withOldFile("real.tsv");
  const link = path.join(folder, "link.tsv");
  fs.symlinkSync("real.tsv", link);
  writeFileAtomic(link, NEW);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), "still a link");
  assert.equal(fs.readFileSync(file, "utf8"), NEW);
  assertOnly(folder, ["link.tsv", "real.tsv"]);
  // A dangling link: its target is created.
  const dangling = path.join(folder, "dangling.tsv");
  fs.symlinkSync("created.tsv", dangling);
  writeFileAtomic(dangling, "x\n");
  assert.ok(fs.lstatSync(dangling).isSymbolicLink());
  assert.equal(fs.readFileSync(path.join(folder, "created.tsv"), "utf8"), "x\n");
});

test("a character device is written straight through, never replaced by a regular file", (t) => {
  const folder = path.join(dir, `dev-${++counter}`);
  fs.mkdirSync(folder);
  const device = path.join(folder, "null");
  const made = spawnSync("mknod", [device, "c", "1", "3"]);
  if (made.status !== 0) return t.skip(`cannot make a device node here (${made.stderr.toString().trim() || made.error?.message})`);
  writeFileAtomic(device, NEW);
  assert.ok(fs.statSync(device).isCharacterDevice(), "still a character device");
  assertOnly(folder, ["null"]);
});

test("a FIFO is written straight through (the reader gets the data), never replaced", async () => {
  const folder = path.join(dir, `fifo-${++counter}`);
  fs.mkdirSync(folder);
  const fifo = path.join(folder, "pipe");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
  const reader = spawn("cat", [fifo]);
  let received = "";
  reader.stdout.on("data", (d: Buffer) => (received += d.toString()));
  const closed = new Promise((resolve) => reader.on("close", resolve));
  await withAtomicFile(fifo, (p) => fs.promises.writeFile(p, "through the pipe\n"));
  if (!fs.statSync(fifo).isFIFO()) {
    reader.kill(); // it waits for a writer that will never come
    assert.fail("the FIFO was replaced by a regular file");
  }
  await closed;
  assert.equal(received, "through the pipe\n");
  assertOnly(folder, ["pipe"]);
});

test("openOutput: nothing visible at the target until commit; abort removes the temp file; gzip by name", async () => {
  const { folder, file } = withOldFile();
  const sink = await openOutput(file);
  await sink.write("header\n");
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n", "target untouched while streaming");
  assert.equal(pendingTempPaths().length, 1, "the temp file is listed for signal clean-up");
  await sink.abort();
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n");
  assertOnly(folder, ["target.tsv"]);

  const ok = await openOutput(file);
  await ok.write("a\tb\n");
  await ok.write(Buffer.from("1\t2\n"));
  await ok.commit();
  assert.equal(fs.readFileSync(file, "utf8"), "a\tb\n1\t2\n");
  assertOnly(folder, ["target.tsv"]);
  assert.deepEqual(pendingTempPaths(), []);

  const gz = path.join(folder, "out.tsv.gz");
  const zipped = await openOutput(gz);
  for (let i = 0; i < 1000; i++) await zipped.write(`row\t${i}\n`);
  await zipped.commit();
  assert.equal(zlib.gunzipSync(fs.readFileSync(gz)).toString().split("\n").length, 1001);
  assert.equal(readMaybeGzip(gz).toString().slice(0, 12), "row\t0\nrow\t1\n");
});

test("openOutput fails at once for a folder or an unwritable place (before any work)", async () => {
  const { folder } = withOldFile();
  await assert.rejects(openOutput(folder), (e: unknown) => e instanceof InputError && /is a folder, expected a file to write/.test(e.message));
  const underFile = path.join(folder, "target.tsv", "out.tsv");
  await assert.rejects(openOutput(underFile), (e: unknown) => e instanceof InputError && /cannot write: a part of the path is a file, not a folder/.test(e.message));
  assertOnly(folder, ["target.tsv"]);
});

test("removePendingTemps removes the temp files of writes in flight (what SIGINT / SIGTERM do)", async () => {
  const { folder, file } = withOldFile();
  const sink = await openOutput(file);
  await sink.write("partial");
  assert.equal(fs.readdirSync(folder).length, 2, "target and temp file");
  removePendingTemps();
  assertOnly(folder, ["target.tsv"]);
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n");
});

test("reading: a gzip file named .tsv is read, a .gz that is not gzip is refused by name", () => {
  const { folder } = withOldFile();
  const disguised = path.join(folder, "table.tsv");
  fs.writeFileSync(disguised, zlib.gzipSync("a\tb\n1\t2\n"));
  assert.equal(readMaybeGzip(disguised).toString(), "a\tb\n1\t2\n");
  const fake = path.join(folder, "fake.tsv.gz");
  fs.writeFileSync(fake, "a\tb\n");
  assert.throws(() => readMaybeGzip(fake), /fake\.tsv\.gz: named \.gz but not a gzip file/);
});
