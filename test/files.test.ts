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
import {
  canonicalPath, makeOutputFolder, openOutput, openOutputFolder, pendingTempPaths, readMaybeGzip, removePendingTemps, removeStaleTemps, withAtomicFile, withAtomicFolder, writeFileAtomic,
} from "../lib/src/io/files";
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
  // A signalled process exits here; this one goes on, so it closes the handle (else GC closes it, with a warning).
  await sink.abort();
  assertOnly(folder, ["target.tsv"]);
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

// ---------------------------------------------------------------------------------------------
// Temporary names, folders, standard output, paths the kernel cannot resolve

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cryptoModule: typeof import("node:crypto") = require("node:crypto");

/** Random bytes the writers draw temporary names from, made predictable: 8 values, cycled. */
const DRAWS = Array.from({ length: 8 }, (_, k) => Buffer.alloc(6, k + 1));
function predictableRandom(): void {
  let k = 0;
  mock.method(cryptoModule, "randomBytes", (size: number) => {
    assert.equal(size, 6);
    return Buffer.from(DRAWS[k++ % DRAWS.length]!);
  });
}

/**
 * Every temporary name a write to `target` could be given: the old `.NAME.PID.tmp` (and its
 * folder's `.old`), and with {@link predictableRandom} each `.NAME.PID-RANDOM.tmp` / `.old` the
 * draws give (all of them, or all but the last).
 */
function tempNamesFor(target: string, allButOne: boolean): string[] {
  const base = path.basename(target);
  const draws = allButOne ? DRAWS.slice(0, -1) : DRAWS;
  return [
    `.${base}.${process.pid}.tmp`, `.${base}.${process.pid}.tmp.old`,
    ...draws.flatMap((d) => [`.${base}.${process.pid}-${d.toString("hex")}.tmp`, `.${base}.${process.pid}-${d.toString("hex")}.old`]),
  ].map((name) => path.join(path.dirname(target), name));
}

test("temp files: symlinks planted at every temporary name a write could choose never lead it to another file", async () => {
  const writers: [string, (target: string) => Promise<void> | void][] = [
    ["writeFileAtomic", (t) => writeFileAtomic(t, NEW)],
    ["withAtomicFile", (t) => withAtomicFile(t, (temp) => fs.promises.writeFile(temp, NEW))],
    ["openOutput", async (t) => {
      const sink = await openOutput(t);
      await sink.write(NEW);
      await sink.commit();
    }],
  ];
  for (const allButOne of [true, false]) {
    for (const [name, write] of writers) {
      predictableRandom();
      const { folder, file } = withOldFile("out.tsv");
      const victim = path.join(dir, `victim-${counter}.txt`);
      fs.writeFileSync(victim, "precious\n");
      const planted = tempNamesFor(file, allButOne);
      for (const p of planted) fs.symlinkSync(victim, p);
      let failed: unknown = null;
      try {
        await write(file);
      } catch (e) {
        failed = e;
      }
      mock.restoreAll();
      assert.equal(fs.readFileSync(victim, "utf8"), "precious\n", `${name}: the victim is untouched`);
      assert.ok(!fs.lstatSync(file).isSymbolicLink(), `${name}: the output did not become a link`);
      for (const p of planted) assert.ok(fs.lstatSync(p).isSymbolicLink(), `${name}: the planted links are left as they were`);
      if (allButOne) {
        assert.equal(failed, null, `${name}: one free name is enough`);
        assert.equal(fs.readFileSync(file, "utf8"), NEW, `${name}: the output holds what was written`);
      } else {
        assert.ok(failed instanceof InputError && /out\.tsv: cannot write: 64 fresh temporary names beside it were all taken/.test(failed.message), `${name}: refused: ${String(failed)}`);
        assert.equal(fs.readFileSync(file, "utf8"), "old content\n", `${name}: the old output is untouched`);
      }
      assert.deepEqual(fs.readdirSync(folder).sort(), ["out.tsv", ...planted.map((p) => path.basename(p))].sort(), `${name}: nothing else written`);
    }
  }
});

test("temp folders: links planted at every temporary name of a folder output (and of the folder it sets aside) are never followed", async () => {
  for (const allButOne of [true, false]) {
    predictableRandom();
    const { folder } = withOldFile();
    const target = path.join(folder, "out");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "a.png"), "old");
    const victim = path.join(dir, `victim-folder-${counter}`);
    fs.mkdirSync(victim);
    fs.writeFileSync(path.join(victim, "keep.txt"), "precious\n");
    const planted = tempNamesFor(target, allButOne);
    for (const p of planted) fs.symlinkSync(victim, p);
    let failed: unknown = null;
    try {
      await withAtomicFolder(target, (temp) => fs.writeFileSync(path.join(temp, "a.png"), "new"));
    } catch (e) {
      failed = e;
    }
    mock.restoreAll();
    assert.deepEqual(fs.readdirSync(victim), ["keep.txt"], "nothing written into the victim folder");
    assert.equal(fs.readFileSync(path.join(victim, "keep.txt"), "utf8"), "precious\n");
    for (const p of planted) assert.ok(fs.lstatSync(p).isSymbolicLink());
    assert.ok(!fs.lstatSync(target).isSymbolicLink());
    if (allButOne) {
      assert.equal(failed, null, "the one free name of each kind is found");
      assert.equal(fs.readFileSync(path.join(target, "a.png"), "utf8"), "new");
    } else {
      assert.ok(failed instanceof InputError && /cannot write: 64 fresh temporary names/.test(failed.message), String(failed));
      assert.equal(fs.readFileSync(path.join(target, "a.png"), "utf8"), "old");
    }
    assert.deepEqual(fs.readdirSync(folder).filter((e) => !planted.some((p) => path.basename(p) === e)).sort(), ["out", "target.tsv"], "no temporary folder left behind");
  }
});

test("paths are resolved as the kernel does, before any work: '..' after a missing folder, a path through a file, a trailing '/'", async () => {
  const { folder, file } = withOldFile();
  const missingDotDot = `${folder}/missing/../out.tsv`; // path.join would drop 'missing/..', open() does not
  assert.throws(() => canonicalPath(missingDotDot), (e: unknown) => e instanceof InputError && /missing\/\.\.\/out\.tsv: cannot write: folder not found \('.*missing' does not exist/.test(e.message));
  for (const attempt of [() => writeFileAtomic(missingDotDot, "x"), () => openOutput(missingDotDot), () => withAtomicFolder(`${folder}/missing/../g`, () => {}), () => makeOutputFolder(`${folder}/missing/../g`)]) {
    await assert.rejects(async () => attempt(), /cannot write: folder not found/);
  }
  assert.equal(canonicalPath(`${folder}/new/sub/x.tsv`), path.join(fs.realpathSync(folder), "new", "sub", "x.tsv"), "folders to be made are kept as written");
  // '..' after folders that exist, and links among the folders, resolve to the real place
  fs.mkdirSync(path.join(folder, "real", "deep"), { recursive: true });
  fs.symlinkSync(path.join(folder, "real", "deep"), path.join(folder, "shortcut"));
  assert.equal(canonicalPath(`${folder}/shortcut/../out.tsv`), path.join(fs.realpathSync(folder), "real", "out.tsv"), "'..' after a link is the link target's parent, as open() has it");
  assert.equal(canonicalPath(path.relative(process.cwd(), `${folder}/real/./deep/x`)), path.join(fs.realpathSync(folder), "real", "deep", "x"));
  await assert.rejects(async () => openOutput(path.join(file, "x.tsv")), /cannot write: a part of the path is a file, not a folder/);
  // '-o newdir/' names a folder: refused, never written as a file named 'newdir'
  for (const slash of [`${folder}/newdir/`, `${folder}/newdir/.`]) {
    assert.throws(() => writeFileAtomic(slash, "x"), (e: unknown) => e instanceof InputError && /ends in '\/', so it names a folder: expected a file to write/.test(e.message));
    await assert.rejects(openOutput(slash), /ends in '\/'/);
  }
  assertOnly(folder, ["real", "shortcut", "target.tsv"]);
});

test("output folders: an existing file, a non-empty folder without force, files the command does not write at any depth or links are refused before any work", async () => {
  const { folder, file } = withOldFile();
  const owns = (e: string) => e === "table.tsv" || e === "png/" || /^png\/[^/]+\.png$/.test(e);
  const opts = { owns, command: "tool" };
  assert.throws(() => openOutputFolder(file, opts), /target\.tsv: exists and is not a folder/);
  assert.throws(() => makeOutputFolder(file), /target\.tsv: exists and is not a folder/);
  const out = path.join(folder, "out");
  fs.mkdirSync(path.join(out, "png"), { recursive: true });
  fs.writeFileSync(path.join(out, "table.tsv"), "old");
  fs.writeFileSync(path.join(out, "png", "a.png"), "old");
  assert.throws(() => openOutputFolder(out, opts), /out: folder is not empty \(2 entries\): give --force to replace an earlier 'tool' output/);
  for (const [name, make] of [
    ["png/notes.txt", () => fs.writeFileSync(path.join(out, "png", "notes.txt"), "mine")],
    ["png/sub/", () => fs.mkdirSync(path.join(out, "png", "sub"))],
    ["png/b.png", () => fs.symlinkSync(file, path.join(out, "png", "b.png"))],
  ] as const) {
    make();
    assert.throws(() => openOutputFolder(out, { ...opts, force: true }), (e: unknown) => e instanceof InputError && e.message.includes(`holds files 'tool' does not write ('${name}')`) && /not replaced even with --force/.test(e.message), name);
    fs.rmSync(path.join(out, name), { recursive: true });
  }
  assertOnly(folder, ["out", "target.tsv"]);
  assert.deepEqual(fs.readdirSync(path.join(out, "png")), ["a.png"]);
  // With --force and only what the command writes: replaced whole; the mode of the old folder kept.
  fs.chmodSync(out, 0o750);
  await withAtomicFolder(out, (temp) => fs.writeFileSync(path.join(temp, "table.tsv"), "new"), { ...opts, force: true });
  assert.deepEqual(fs.readdirSync(out), ["table.tsv"]);
  assert.equal(fs.statSync(out).mode & 0o777, 0o750);
  assertOnly(folder, ["out", "target.tsv"]);
});

test("output folders: a full disk while filling is one message naming the folder; the old folder stays", async () => {
  const { folder } = withOldFile();
  const out = path.join(folder, "out");
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, "a.png"), "old");
  await assert.rejects(
    withAtomicFolder(out, (temp) => {
      fs.writeFileSync(path.join(temp, "a.png"), "half");
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }, { owns: (e) => e.endsWith(".png"), force: true, command: "tool" }),
    (e: unknown) => e instanceof InputError && e.message === `${out}: cannot write: no space left on the device`,
  );
  assert.equal(fs.readFileSync(path.join(out, "a.png"), "utf8"), "old");
  assertOnly(folder, ["out", "target.tsv"]);
  // Other errors of the work pass through unchanged (a missing input is not "cannot write").
  await assert.rejects(withAtomicFolder(out, () => {
    throw Object.assign(new Error("ENOENT: no such file or directory, open 'input.fa'"), { code: "ENOENT" });
  }), /ENOENT: no such file or directory, open 'input\.fa'/);
});

test("removeStaleTemps: temporary files of processes that are gone are removed, live ones and other files kept", () => {
  const { folder, file } = withOldFile("data.bin");
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const gone = Number(dead.stdout);
  const names = {
    stale: `.data.bin.${gone}-0123456789ab.tmp`,
    staleOld: `.data.bin.${gone}.tmp`, // the names before they were random
    live: `.data.bin.${process.pid}-0123456789ab.tmp`,
    aside: `.data.bin.${gone}-0123456789ab.old`,
    other: `.other.bin.${gone}-0123456789ab.tmp`,
    user: "notes.tmp",
  };
  for (const name of Object.values(names)) fs.writeFileSync(path.join(folder, name), "x");
  fs.symlinkSync(file, path.join(folder, `.data.bin.${gone}-aaaaaaaaaaaa.tmp`));
  const removed = removeStaleTemps(file).map((p) => path.basename(p)).sort();
  assert.deepEqual(removed, [names.stale, names.staleOld, `.data.bin.${gone}-aaaaaaaaaaaa.tmp`].sort());
  assert.equal(fs.readFileSync(file, "utf8"), "old content\n", "a link is removed as a link");
  assertOnly(folder, ["data.bin", names.live, names.aside, names.other, names.user]);
});

// ---------------------------------------------------------------------------------------------
// property: every mix of outputs is written exactly as asked or refused before any work

const HARNESS = path.join(__dirname, "fixtures", "write-outputs.ts");
/** What an output may be: standard output by name, files, links to them, FIFOs, the null device, paths that name no file. */
const OUTPUT_KINDS = ["-", "/dev/stdout", "new", "old", "link", "shared", "alias", "hard", "fifo", "dangling", "stdout-file", "slash", "null", "missing-dotdot"] as const;
type OutputKind = (typeof OUTPUT_KINDS)[number];

/** A case's folder: files, links, a victim nobody names; FIFOs made when `fifos` name them. */
function makeCaseFolder(folder: string, fifos: string[]): void {
  fs.mkdirSync(folder);
  const put = (name: string, text: string) => fs.writeFileSync(path.join(folder, name), text);
  put("old1.tsv", "old 1\n");
  put("old2.tsv", "old 2\n");
  put("shared.tsv", "shared\n");
  put("victim.txt", "victim\n");
  put("stdout.log", "an unrelated log\n");
  fs.symlinkSync("old1.tsv", path.join(folder, "link1.tsv"));
  fs.symlinkSync("old2.tsv", path.join(folder, "link2.tsv"));
  fs.symlinkSync("shared.tsv", path.join(folder, "alias1.tsv"));
  fs.symlinkSync("shared.tsv", path.join(folder, "alias2.tsv"));
  fs.linkSync(path.join(folder, "shared.tsv"), path.join(folder, "hard.tsv"));
  fs.symlinkSync("created1.tsv", path.join(folder, "dangling1"));
  fs.symlinkSync("created2.tsv", path.join(folder, "dangling2"));
  for (const fifo of fifos) assert.equal(spawnSync("mkfifo", [path.join(folder, fifo)]).status, 0);
}

/** Every entry of a folder: a link's target, a FIFO, or a file's text. */
function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(folder).sort()) {
    const p = path.join(folder, name);
    const stat = fs.lstatSync(p);
    out[name] = stat.isSymbolicLink() ? `link → ${fs.readlinkSync(p)}` : stat.isFIFO() ? "fifo" : stat.isDirectory() ? "folder" : `file: ${fs.readFileSync(p, "utf8")}`;
  }
  return out;
}

/** Seeded uniform draws in [0, 1) (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test("property: any mix of '-', /dev/stdout, files, links, FIFOs, append-mode standard output and same-file outputs is written exactly as asked or refused before any work; no file that was not named is written", async () => {
  const random = seededRandom(24);
  for (const stdoutMode of ["pipe", "truncate", "append"] as const) {
    const root = path.join(dir, `property-${stdoutMode}`);
    fs.mkdirSync(root);
    const log = path.join(root, "stdout.log");
    // The cases: every kind alone, with both writers, then seeded pairs.
    const shapes: { kinds: OutputKind[]; writer: "stream" | "whole" }[] = [];
    for (const kind of OUTPUT_KINDS) for (const writer of ["stream", "whole"] as const) shapes.push({ kinds: [kind], writer });
    for (let k = 0; k < 40; k++) {
      const pick = () => OUTPUT_KINDS[Math.floor(random() * OUTPUT_KINDS.length)]!;
      shapes.push({ kinds: [pick(), pick()], writer: random() < 0.7 ? "stream" : "whole" });
    }
    const cases = shapes.map((shape, k) => {
      const folder = path.join(root, `case-${k}`);
      const outputs = shape.kinds.map((kind, s) => {
        const i = s + 1;
        const at = (name: string) => path.join(folder, name);
        const [file, destination] = ({
          "-": ["-", "STDOUT"],
          "/dev/stdout": ["/dev/stdout", "STDOUT"],
          new: [at(`new${i}.tsv`), `new${i}.tsv`],
          old: [at(`old${i}.tsv`), `old${i}.tsv`],
          link: [at(`link${i}.tsv`), `old${i}.tsv`],
          shared: [at("shared.tsv"), "shared.tsv"],
          alias: [at(`alias${i}.tsv`), "shared.tsv"],
          hard: [at("hard.tsv"), "hard.tsv"],
          fifo: [at(`fifo${i}`), `fifo${i}`],
          dangling: [at(`dangling${i}`), `created${i}.tsv`],
          "stdout-file": stdoutMode === "pipe" ? [at("stdout.log"), "stdout.log"] : [log, "STDOUT"],
          slash: [at(`dir${i}/`), "REFUSE"],
          null: ["/dev/null", "NULL"],
          "missing-dotdot": [`${folder}/missing/../new${i}.tsv`, "REFUSE"], // not path.join: it would drop 'missing/..'

        } as Record<OutputKind, [string, string]>)[kind];
        const text = Array.from({ length: 30 }, (_, j) => `case ${k} output ${i} (${kind}) line ${j}\n`).join("");
        return { kind, file, destination, text, option: `--out${i}` };
      });
      // hard.tsv is a hard link to shared.tsv: one file until written (replaced atomically, it becomes its own).
      const destinations = outputs.map((o) => (o.destination === "hard.tsv" ? "shared.tsv" : o.destination)).filter((d) => d !== "NULL");
      const refused = destinations.includes("REFUSE") || new Set(destinations).size !== destinations.length;
      const fifos = outputs.filter((o) => o.kind === "fifo").map((o) => o.destination);
      makeCaseFolder(folder, fifos);
      return { folder, outputs, refused, writer: shape.writer, before: snapshot(folder), fifos };
    });
    const casesFile = path.join(root, "cases.json");
    fs.writeFileSync(casesFile, JSON.stringify(cases.map((c) => ({ outputs: c.outputs.map((o) => [o.option, o.file, o.text]), writer: c.writer }))));

    // FIFO readers first (a FIFO opened for writing waits for one); refused cases' readers are killed.
    const readers = cases.flatMap((c, k) => c.fifos.map((fifo) => {
      const reader = spawn("cat", [path.join(c.folder, fifo)]);
      let received = "";
      reader.stdout.on("data", (d: Buffer) => (received += d.toString()));
      const closed = new Promise<void>((resolve) => reader.on("close", () => resolve()));
      return { k, fifo, reader, closed, received: () => received };
    }));
    if (stdoutMode !== "pipe") fs.writeFileSync(log, stdoutMode === "append" ? "log line\n" : "");
    const stdoutFd = stdoutMode === "pipe" ? "pipe" : fs.openSync(log, stdoutMode === "append" ? "a" : "w");
    const harness = spawn(process.execPath, ["--import", "tsx", HARNESS, casesFile], { stdio: ["ignore", stdoutFd, "pipe"] });
    if (typeof stdoutFd === "number") fs.closeSync(stdoutFd);
    let stdout = "";
    let stderr = "";
    harness.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    harness.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => harness.on("close", (c) => resolve(c)));
    for (const r of readers) if (cases[r.k]!.refused) r.reader.kill();
    // A reader whose FIFO got its writer has its end of file by now; any other is stopped (and its case fails below).
    const settled = await Promise.race([Promise.all(readers.map((r) => r.closed)).then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000))]);
    if (!settled) for (const r of readers) r.reader.kill();
    await Promise.all(readers.map((r) => r.closed));
    assert.equal(code, 0, stderr);
    const results = stderr.trim().split("\n").map((l) => JSON.parse(l) as { case: number; code: number; message?: string });
    assert.equal(results.length, cases.length, stderr);

    let expectedStdout = stdoutMode === "append" ? "log line\n" : "";
    cases.forEach((c, k) => {
      const what = `${stdoutMode} stdout, case ${k} (${c.writer}: ${c.outputs.map((o) => o.kind).join(" + ")})`;
      const result = results[k]!;
      if (c.refused) {
        assert.equal(result.code, 2, `${what}: refused`);
        assert.match(result.message!, /same file|ends in '\/'|folder not found/, what);
        assert.doesNotMatch(result.message!, /\n/, `${what}: one line`);
        assert.deepEqual(snapshot(c.folder), c.before, `${what}: nothing written, nothing left behind`);
        for (const r of readers.filter((r) => r.k === k)) assert.equal(r.received(), "", `${what}: nothing sent into ${r.fifo}`);
        return;
      }
      assert.equal(result.code, 0, `${what}: ${result.message}`);
      const expected = { ...c.before };
      for (const o of c.outputs) {
        if (o.destination === "STDOUT") expectedStdout += o.text;
        else if (o.kind === "fifo") assert.equal(readers.find((r) => r.k === k && r.fifo === o.destination)!.received(), o.text, `${what}: the FIFO's reader gets the text`);
        else if (o.destination !== "NULL") expected[o.destination] = `file: ${o.text}`;
      }
      assert.deepEqual(snapshot(c.folder), expected, `${what}: exactly the named outputs changed, links kept, no temporary file left`);
    });
    assert.equal(stdoutMode === "pipe" ? stdout : fs.readFileSync(log, "utf8"), expectedStdout, `${stdoutMode}: standard output holds exactly the texts sent to it, in order${stdoutMode === "append" ? ", after the log's earlier line" : ""}`);
  }
});
