/**
 * data:fetch against a loopback HTTP server started here (127.0.0.1, random port). It serves
 * files generated below from a seeded generator (never the shared data), supports Range, and
 * has routes that drop the connection midway, answer 404, ignore Range, or send wrong bytes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { dataRoot, missingData } from "../lib/src/data/paths";
import {
  checkManifest,
  fetchData,
  listData,
  Manifest,
  ManifestFile,
  manifestFiles,
  matchesSelector,
  readManifest,
  verifyData,
} from "../lib/src/data/fetch";
import { tempDir } from "./helpers";

const REPO = path.join(__dirname, "..");
const ENTRY = path.join(REPO, "environment", "fetch-data.ts");

/** Seeded bytes (mulberry32), so every run serves the same files. */
function seededBytes(seed: number, length: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** A seeded TSV in the lock format, `rows` data rows. */
function seededTsv(seed: number, rows: number): Buffer {
  const bytes = seededBytes(seed, rows * 70);
  const nt = (i: number) => "ACGT"[bytes[i]! & 3]!;
  const lines = ["mirna_binding_sequence\tbinding_sequence\tlabel"];
  for (let r = 0; r < rows; r++) {
    let mirna = "";
    let site = "";
    for (let j = 0; j < 20; j++) mirna += nt(r * 70 + j);
    for (let j = 0; j < 50; j++) site += nt(r * 70 + 20 + j);
    lines.push(`${mirna}\t${site}\t${r % 21 === 0 ? "positive" : "negative"}`);
  }
  return Buffer.from(lines.join("\n") + "\n");
}

const sha = (data: Buffer) => crypto.createHash("sha256").update(data).digest("hex");

/** A zip archive written here (local headers + central directory), deflated members. */
function makeZip(members: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const packed = zlib.deflateRawSync(m.data);
    const crc = zlib.crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(m.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += 30 + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// ---- the served files --------------------------------------------------------------------
const work = tempDir("mirna-dl-fetch-");
const PLAIN = seededBytes(1, 300_000);
const RESUMABLE = seededBytes(2, 400_000);
const TABLE = seededTsv(3, 2_000); // served as .tsv, stored gzipped
const SET_TSV = seededTsv(4, 1_500); // served inside a .tar.xz made by tar + xz
const FAMILIES = Buffer.from(seededTsv(5, 300).toString().replace(/\t/g, ",")); // served inside a zip
const DERIVED = zlib.gzipSync(seededTsv(6, 50));

const staging = path.join(work, "staging");
fs.mkdirSync(path.join(staging, "pack"), { recursive: true });
fs.writeFileSync(path.join(staging, "pack", "set_test_set.tsv"), SET_TSV);
fs.writeFileSync(path.join(staging, "pack", "README"), "not the member\n");
execFileSync("tar", ["-cJf", path.join(staging, "set.tar.xz"), "-C", path.join(staging, "pack"), "README", "set_test_set.tsv"]);
const SET_ARCHIVE = fs.readFileSync(path.join(staging, "set.tar.xz"));
const FAMILY_ZIP = makeZip([
  { name: "README.txt", data: Buffer.from("families\n") },
  { name: "Family_Info.txt", data: FAMILIES },
]);

const served: Record<string, Buffer> = {
  "plain.bin": PLAIN,
  "resumable.bin": RESUMABLE,
  "table.tsv": TABLE,
  "set.tar.xz": SET_ARCHIVE,
  "families.zip": FAMILY_ZIP,
};

// ---- the loopback server -----------------------------------------------------------------
interface Logged {
  url: string;
  range: string | undefined;
  status: number;
}
const requests: Logged[] = [];
const dropped = new Set<string>();
let server: http.Server;
let base = "";

/** Serves `body` honouring a `Range: bytes=N-` header (206 / 416), or ignoring it. */
function serveBody(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, honourRange: boolean): number {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
  if (range && honourRange) {
    const start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
      return 416;
    }
    res.writeHead(206, { "content-length": body.length - start, "content-range": `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return 206;
  }
  res.writeHead(200, { "content-length": body.length });
  res.end(body);
  return 200;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): number {
  const url = new URL(req.url ?? "/", "http://x");
  const [, route, name] = url.pathname.split("/");
  const body = name === undefined ? undefined : served[name];
  if (route === "files" && body) return serveBody(req, res, body, true);
  if (route === "norange" && body) return serveBody(req, res, body, false);
  if (route === "redirect" && body) {
    res.writeHead(302, { location: `/files/${name}` }).end();
    return 302;
  }
  if (route === "wrong" && body) {
    const other = Buffer.from(body);
    other[other.length >> 1]! ^= 0xff;
    return serveBody(req, res, other, true);
  }
  if (route === "drop-once" && body) {
    // First request per URL (query included): headers promise the whole file, half is sent,
    // then the connection is destroyed. Later requests are served normally with Range.
    if (!dropped.has(req.url ?? "")) {
      dropped.add(req.url ?? "");
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, body.length >> 1), () => setImmediate(() => res.socket?.destroy()));
      return 200;
    }
    return serveBody(req, res, body, true);
  }
  res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  return 404;
}

before(async () => {
  server = http.createServer((req, res) => {
    const status = handle(req, res);
    requests.push({ url: req.url ?? "", range: req.headers.range, status });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The test manifest: one entry per case, URLs on the loopback server. */
function testManifest(overrides: Partial<Record<string, Partial<ManifestFile>>> = {}): Manifest {
  const files: ManifestFile[] = [
    { path: "a/plain.bin", bytes: PLAIN.length, sha256: sha(PLAIN), url: `${base}/files/plain.bin` },
    { path: "a/resumable.bin", bytes: RESUMABLE.length, sha256: sha(RESUMABLE), url: `${base}/drop-once/resumable.bin` },
    // the mirror's gzip bytes (level 1) differ from what fetch writes (default level 6): checked by content
    {
      path: "b/table.tsv.gz",
      bytes: zlib.gzipSync(TABLE, { level: 1 }).length,
      sha256: sha(zlib.gzipSync(TABLE, { level: 1 })),
      content_bytes: TABLE.length,
      content_sha256: sha(TABLE),
      url: `${base}/files/table.tsv`,
      produce: "gzip",
    },
    {
      path: "b/set_test_set.tsv.gz",
      bytes: zlib.gzipSync(SET_TSV, { level: 1 }).length,
      sha256: sha(zlib.gzipSync(SET_TSV, { level: 1 })),
      content_sha256: sha(SET_TSV),
      url: `${base}/files/set.tar.xz`,
      produce: "tar.xz-member+gzip",
      member: "*.tsv",
      download_bytes: SET_ARCHIVE.length,
      download_sha256: sha(SET_ARCHIVE),
    },
    { path: "c/Family_Info.txt", bytes: FAMILIES.length, sha256: sha(FAMILIES), url: `${base}/files/families.zip`, produce: "zip-member", member: "Family_Info.txt" },
    { path: "c/derived.tsv.gz", bytes: DERIVED.length, sha256: sha(DERIVED), url: null, note: "made by this project" },
    { path: "d/missing-upstream.bin", bytes: 10, sha256: null, url: `${base}/files/no-such-file` },
    { path: "d/wrong.bin", bytes: PLAIN.length, sha256: sha(PLAIN), url: `${base}/wrong/plain.bin` },
  ];
  for (const f of files) Object.assign(f, overrides[f.path] ?? {});
  return checkManifest({ sources: [{ name: "test", origin: "loopback", files }] });
}

/** A mirror folder with every file of the test manifest, as the project stores them. */
function makeMirror(dir: string): string {
  const put = (p: string, data: Buffer) => {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), data);
  };
  put("a/plain.bin", PLAIN);
  put("a/resumable.bin", RESUMABLE);
  put("b/table.tsv.gz", zlib.gzipSync(TABLE, { level: 1 }));
  put("b/set_test_set.tsv.gz", zlib.gzipSync(SET_TSV, { level: 1 }));
  put("c/Family_Info.txt", FAMILIES);
  put("c/derived.tsv.gz", DERIVED);
  return dir;
}

let folders = 0;
function freshDir(): string {
  const dir = path.join(work, `data${folders++}`);
  fs.mkdirSync(dir);
  return dir;
}

const gunzip = (file: string) => zlib.gunzipSync(fs.readFileSync(file));

/** Runs the real entry point (async, so the server in this process keeps answering). */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", ENTRY, ...args], { cwd: REPO, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("downloads from a loopback server", () => {
  test("fresh download: as-is, gzip, tar.xz member + gzip, zip member; verified and in place", async () => {
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["a/plain.bin", "b", "c/Family_Info.txt"], quiet: true });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.downloaded.sort(), ["a/plain.bin", "b/set_test_set.tsv.gz", "b/table.tsv.gz", "c/Family_Info.txt"]);
    assert.deepEqual(fs.readFileSync(path.join(dir, "a/plain.bin")), PLAIN);
    assert.deepEqual(gunzip(path.join(dir, "b/table.tsv.gz")), TABLE);
    assert.deepEqual(gunzip(path.join(dir, "b/set_test_set.tsv.gz")), SET_TSV);
    assert.deepEqual(fs.readFileSync(path.join(dir, "c/Family_Info.txt")), FAMILIES);
    const leftovers = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.(part|tmp|bad)$/.test(f));
    assert.deepEqual(leftovers, []);
    // the gzip files were made here, so their bytes differ from the mirror's: accepted by content
    const states = Object.fromEntries((await listData({ manifest: testManifest(), dataDir: dir })).map((c) => [c.entry.path, c.state]));
    assert.equal(states["a/plain.bin"], "ok");
    assert.equal(states["b/table.tsv.gz"], "ok-content");
    assert.equal(states["b/set_test_set.tsv.gz"], "ok-content");
    assert.equal(states["c/Family_Info.txt"], "ok");
    assert.equal(states["a/resumable.bin"], "missing");
    // a second run has nothing to do
    const again = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["a/plain.bin", "b"], quiet: true });
    assert.deepEqual(again.present.sort(), ["a/plain.bin", "b/set_test_set.tsv.gz", "b/table.tsv.gz"]);
    assert.deepEqual(again.downloaded, []);
  });

  test("redirects are followed", async () => {
    const dir = freshDir();
    const manifest = testManifest({ "a/plain.bin": { url: `${base}/redirect/plain.bin` } });
    const report = await fetchData({ manifest, dataDir: dir, only: ["a/plain.bin"], quiet: true });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(fs.readFileSync(path.join(dir, "a/plain.bin")), PLAIN);
  });

  test("an interrupted download is kept in <file>.part and resumed with a Range request on the next run", async () => {
    const dir = freshDir();
    const target = path.join(dir, "a/resumable.bin");
    const first = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["a/resumable.bin"], retries: 0, quiet: true });
    assert.equal(first.failed.length, 1);
    assert.match(first.failed[0]!.error, /connection (lost|closed) after [\d,]+ of 400,000 bytes.*rerun to resume/);
    assert.equal(fs.existsSync(target), false, "no half file under the final name");
    const kept = fs.statSync(`${target}.part`).size;
    assert.ok(kept > 0 && kept < RESUMABLE.length, `part file holds ${kept} bytes`);

    const before = requests.length;
    const second = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["a/resumable.bin"], retries: 0, quiet: true });
    assert.deepEqual(second.failed, []);
    assert.deepEqual(fs.readFileSync(target), RESUMABLE);
    assert.equal(fs.existsSync(`${target}.part`), false);
    const resumed = requests.slice(before).filter((r) => r.url === "/drop-once/resumable.bin");
    assert.deepEqual(resumed, [{ url: "/drop-once/resumable.bin", range: `bytes=${kept}-`, status: 206 }]);
  });

  test("a lost connection is retried automatically, resuming", async () => {
    const dir = freshDir();
    const url = `${base}/drop-once/resumable.bin?auto`;
    const report = await fetchData({ manifest: testManifest({ "a/resumable.bin": { url } }), dataDir: dir, only: ["a/resumable.bin"], retries: 1, quiet: true });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(fs.readFileSync(path.join(dir, "a/resumable.bin")), RESUMABLE);
    const log = requests.filter((r) => r.url === "/drop-once/resumable.bin?auto");
    assert.equal(log.length, 2);
    assert.equal(log[0]!.range, undefined);
    assert.match(log[1]!.range ?? "", /^bytes=\d+-$/);
  });

  test("a server that ignores Range: the part file is restarted, not appended to", async () => {
    const dir = freshDir();
    const target = path.join(dir, "a/plain.bin");
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(`${target}.part`, PLAIN.subarray(0, 1000));
    const report = await fetchData({ manifest: testManifest({ "a/plain.bin": { url: `${base}/norange/plain.bin` } }), dataDir: dir, only: ["a/plain.bin"], quiet: true });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(fs.readFileSync(target), PLAIN);
  });

  test("checksum mismatch: error names the file and both hashes; nothing is put in place", async () => {
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["d/wrong.bin"], quiet: true });
    assert.equal(report.failed.length, 1);
    const { error } = report.failed[0]!;
    const wrong = Buffer.from(PLAIN);
    wrong[wrong.length >> 1]! ^= 0xff;
    assert.match(error, /checksum mismatch/);
    assert.ok(error.includes("d/wrong.bin"), error);
    assert.ok(error.includes(sha(PLAIN)), error);
    assert.ok(error.includes(sha(wrong)), error);
    assert.equal(fs.existsSync(path.join(dir, "d/wrong.bin")), false);
    assert.equal(fs.existsSync(path.join(dir, "d/wrong.bin.part")), false, "a bad download is not resumed later");
  });

  test("HTTP 404: error names the status and the URL", async () => {
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["d/missing-upstream.bin"], quiet: true });
    assert.equal(report.failed.length, 1);
    assert.match(report.failed[0]!.error, /HTTP 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/files\/no-such-file/);
    assert.equal(fs.existsSync(path.join(dir, "d/missing-upstream.bin")), false);
  });

  test("no network: the error says to use --from", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest({ "a/plain.bin": { url: `http://127.0.0.1:${port}/files/plain.bin` } }), dataDir: dir, only: ["a/plain.bin"], quiet: true });
    assert.equal(report.failed.length, 1);
    assert.match(report.failed[0]!.error, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED.*--from DIR/);
  });

  test("default run: downloads what it can, skips entries without URL, reports failures", async () => {
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest(), dataDir: dir, retries: 1, quiet: true });
    assert.deepEqual(report.skipped.map((s) => s.path), ["c/derived.tsv.gz"]);
    assert.match(report.skipped[0]!.reason, /not downloadable.*--from/);
    assert.deepEqual(report.failed.map((f) => f.path).sort(), ["d/missing-upstream.bin", "d/wrong.bin"]);
    assert.equal(report.downloaded.length, 5);
    // asked for explicitly, a file without URL is a failure
    const explicit = await fetchData({ manifest: testManifest(), dataDir: dir, only: ["derived.tsv.gz"], quiet: true });
    assert.equal(explicit.failed.length, 1);
  });
});

describe("--from a local mirror", () => {
  test("copies every file, verified, including ones that cannot be downloaded", async () => {
    const mirror = makeMirror(freshDir());
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest(), dataDir: dir, from: mirror, quiet: true });
    assert.deepEqual(report.failed, []);
    assert.equal(report.copied.length, 6);
    assert.deepEqual(report.skipped.map((s) => s.path).sort(), ["d/missing-upstream.bin", "d/wrong.bin"]);
    for (const p of ["a/plain.bin", "b/table.tsv.gz", "b/set_test_set.tsv.gz", "c/derived.tsv.gz"]) {
      assert.deepEqual(fs.readFileSync(path.join(dir, p)), fs.readFileSync(path.join(mirror, p)));
    }
    const states = Object.fromEntries((await verifyData({ manifest: testManifest(), dataDir: dir })).map((c) => [c.entry.path, c.state]));
    assert.deepEqual(Object.entries(states).filter(([, state]) => state !== "ok"), [["d/missing-upstream.bin", "missing"], ["d/wrong.bin", "missing"]]);
  });

  test("a corrupt mirror file is refused with both hashes, the others are copied", async () => {
    const mirror = makeMirror(freshDir());
    const corrupt = Buffer.from(PLAIN);
    corrupt[0]! ^= 1;
    fs.writeFileSync(path.join(mirror, "a/plain.bin"), corrupt);
    const dir = freshDir();
    const report = await fetchData({ manifest: testManifest(), dataDir: dir, from: mirror, only: ["a"], quiet: true });
    assert.deepEqual(report.copied, ["a/resumable.bin"]);
    assert.equal(report.failed.length, 1);
    assert.ok(report.failed[0]!.error.includes(sha(PLAIN)) && report.failed[0]!.error.includes(sha(corrupt)), report.failed[0]!.error);
    assert.equal(fs.existsSync(path.join(dir, "a/plain.bin")), false);
  });
});

describe("command line (environment/fetch-data.ts)", () => {
  let manifestFile = "";
  let dir = "";
  before(async () => {
    manifestFile = path.join(work, "cli-manifest.json");
    fs.writeFileSync(manifestFile, JSON.stringify(testManifest(), null, 2));
    dir = freshDir();
    await fetchData({ manifest: testManifest(), dataDir: dir, from: makeMirror(freshDir()), only: ["a", "b"], quiet: true });
    fs.writeFileSync(path.join(dir, "a/resumable.bin"), Buffer.from("damaged"));
  });

  test("--list shows ok / missing / WRONG per file and exits 0", async () => {
    const r = await runCli(["--manifest", manifestFile, "--list"], { MIRNA_DL_DATA: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`data folder: ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(r.stdout, /^ok\s+300,000\s+a\/plain\.bin$/m);
    assert.match(r.stdout, /^WRONG\s+7\s+a\/resumable\.bin\s+sha256 expected [0-9a-f]{64}, got [0-9a-f]{64}$/m);
    assert.match(r.stdout, /^missing\s+[\d,]+\s+c\/Family_Info\.txt\s+\(downloadable\)$/m);
    assert.match(r.stdout, /^missing\s+[\d,]+\s+c\/derived\.tsv\.gz\s+\(not downloadable; copy with --from\)$/m);
    assert.match(r.stdout, /^8 files: 3 ok, 0 unverified, 4 missing, 1 wrong$/m);
  });

  test("--verify checks every selected file and exits 1 naming the wrong and the missing ones; 0 when all are present and good", async () => {
    const bad = await runCli(["--manifest", manifestFile, "--verify"], { MIRNA_DL_DATA: dir });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^WRONG .*a\/resumable\.bin/m);
    assert.match(bad.stdout, /^missing\s+[\d,]+\s+c\/Family_Info\.txt/m);
    assert.match(bad.stdout, /^8 files: 3 ok, 0 unverified, 4 missing, 1 wrong$/m);
    const good = await runCli(["--manifest", manifestFile, "--verify", "--only", "b/*.gz", "--only", "plain.bin"], { MIRNA_DL_DATA: dir });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^3 files: 3 ok, 0 unverified, 0 missing, 0 wrong$/m);
  });

  test("fetch through the CLI: progress on stderr, exit 0; failures exit 1", async () => {
    const target = freshDir();
    const ok = await runCli(["--manifest", manifestFile, "--only", "plain.bin"], { MIRNA_DL_DATA: target });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /download a\/plain\.bin: 300,000\/300,000 \(100%, [\d,]+\/s\)/);
    assert.match(ok.stdout, /1 downloaded, 0 copied, 0 recorded in manifest\.lock\.json, 0 already present, 0 unverified, 0 skipped, 0 failed/);
    const failed = await runCli(["--manifest", manifestFile, "--only", "d/missing-upstream.bin", "--quiet"], { MIRNA_DL_DATA: target });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /FAILED d\/missing-upstream\.bin: HTTP 404/);
  });

  test("usage errors exit 2", async () => {
    const unknown = await runCli(["--frobnicate"], {});
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^mirna-dl: .*frobnicate/);
    const nothing = await runCli(["--manifest", manifestFile, "--list", "--only", "nope/*.x"], {});
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /--only 'nope\/\*\.x' matches no file in the manifest/);
    const both = await runCli(["--list", "--verify"], {});
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--list and --verify cannot be combined/);
    const fromList = await runCli(["--list", "--from", "x"], {});
    assert.equal(fromList.code, 2);
    assert.match(fromList.stderr, /Unknown option '--from'/);
    const badManifest = path.join(work, "bad-manifest.json");
    fs.writeFileSync(badManifest, JSON.stringify({ sources: [{ name: "x", origin: "y", files: [{ path: "../up", bytes: 1, sha256: null }] }] }));
    const bad = await runCli(["--manifest", badManifest, "--list"], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad-manifest\.json: sources\[0\]\.files\[0\]: 'path' must be a relative path/);
  });
});

describe("pieces", () => {
  test("selectors: path, base name, folder, glob", () => {
    assert.ok(matchesSelector("mirbind/test_set_1_1.tsv.gz", "mirbind"));
    assert.ok(matchesSelector("mirbind/test_set_1_1.tsv.gz", "mirbind/"));
    assert.ok(matchesSelector("mirbind/test_set_1_1.tsv.gz", "test_set_1_1.tsv.gz"));
    assert.ok(matchesSelector("mirna_binding/data/models/iterative.h5", "mirna_binding/**/*.h5"));
    assert.ok(matchesSelector("mirna_binding/data/models/iterative.h5", "*.h5"));
    assert.ok(!matchesSelector("mirna_binding/data/models/iterative.h5", "mirna_binding/*.h5"));
    assert.ok(!matchesSelector("mirbind2/x", "mirbind"));
  });
});

describe("the project's manifest", () => {
  test("is well formed: unique paths, known produce kinds, a URL or a note for every file", () => {
    const manifest = readManifest();
    const files = manifestFiles(manifest);
    assert.ok(files.length > 100, `${files.length} files`);
    for (const f of files) {
      assert.ok(f.url || f.note, `${f.path}: neither url nor note`);
      if (f.url?.includes("raw.githubusercontent.com")) assert.match(f.url, /raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//, `${f.path}: GitHub URL pinned to a commit`);
    }
  });

  test("every present file with a checksum matches it (data under MIRNA_DL_DATA)", async (t) => {
    // The files of the shared mirror: required in CI, skipped elsewhere when absent.
    const manifest = readManifest();
    const mirrored = manifestFiles(manifest).filter((f) => f.sha256 && /^(mirna_binding|mirbind|premirna)\//.test(f.path));
    const local = (f: ManifestFile) => path.join(dataRoot(), ...f.path.split("/"));
    // one file per folder decides skip / fail; a mirror that has some files of a folder must have all
    const firstPerFolder = new Map<string, ManifestFile>();
    for (const f of mirrored) if (!firstPerFolder.has(path.posix.dirname(f.path))) firstPerFolder.set(path.posix.dirname(f.path), f);
    const skip = missingData(...[...firstPerFolder.values()].map(local));
    if (skip) return t.skip(skip);
    assert.deepEqual(mirrored.filter((f) => !fs.existsSync(local(f))).map((f) => f.path), [], "files of the manifest missing from the data folder");
    const checks = await verifyData({ manifest });
    const wrong = checks.filter((c) => c.state === "wrong").map((c) => `${c.entry.path}: ${c.detail}`);
    assert.deepEqual(wrong, []);
    assert.ok(checks.filter((c) => c.state === "ok").length >= mirrored.length);
  });
});

// ---------------------------------------------------------------------------------------------
// No data accepted unchecked

/** A manifest of files the manifest has no checksum for, as the genome or the large deepMir image sets. */
function uncheckedManifest(): Manifest {
  return checkManifest({
    sources: [{
      name: "unchecked", origin: "loopback",
      files: [
        { path: "u/nosum.bin", bytes: null, sha256: null, url: `${base}/files/plain.bin`, note: "checksum unknown" },
        { path: "u/sized.npz", bytes: PLAIN.length, sha256: null, url: `${base}/files/plain.bin`, note: "size known, checksum unknown" },
        { path: "u/set.tsv.gz", bytes: null, sha256: null, content_sha256: null, url: `${base}/files/set.tar.xz`, produce: "tar.xz-member+gzip", member: "*.tsv", note: "as train_set_positives" },
        { path: "u/hand.bin", bytes: null, sha256: null, url: null, note: "placed by hand" },
      ],
    }],
  });
}

describe("files without a checksum in the manifest", () => {
  test("the first fetch records size and sha256 in the lock file and prints them; later runs check against the record", async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const first = await fetchData({ manifest: uncheckedManifest(), dataDir: dir, only: ["u/nosum.bin", "u/set.tsv.gz"], quiet: true, log: (l) => lines.push(l) });
    assert.deepEqual(first.failed, []);
    assert.deepEqual(first.recorded.map((r) => r.path).sort(), ["u/nosum.bin", "u/set.tsv.gz"]);
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "manifest.lock.json"), "utf8"));
    assert.deepEqual({ bytes: lock.files["u/nosum.bin"].bytes, sha256: lock.files["u/nosum.bin"].sha256 }, { bytes: PLAIN.length, sha256: sha(PLAIN) });
    assert.equal(lock.files["u/set.tsv.gz"].content_sha256, sha(SET_TSV), "a gzip file's content is recorded too");
    assert.match(lines.join("\n"), new RegExp(`recorded u/nosum\\.bin: 300,000 bytes, sha256 ${sha(PLAIN)} in .*manifest\\.lock\\.json \\(the manifest has no checksum for it`));
    // Later runs: checked against the record.
    const states = async () => Object.fromEntries((await listData({ manifest: uncheckedManifest(), dataDir: dir })).map((c) => [c.entry.path, [c.state, c.detail]]));
    assert.deepEqual((await states())["u/nosum.bin"], ["ok-recorded", undefined]);
    assert.deepEqual((await states())["u/set.tsv.gz"], ["ok-recorded", undefined]);
    // A zero-filled file of the same size is not accepted.
    fs.writeFileSync(path.join(dir, "u/nosum.bin"), Buffer.alloc(PLAIN.length));
    const [state, detail] = (await states())["u/nosum.bin"]!;
    assert.equal(state, "wrong");
    assert.match(detail!, new RegExp(`sha256 expected ${sha(PLAIN)} \\(recorded by its first fetch, \\d{4}-\\d\\d-\\d\\d, in manifest\\.lock\\.json\\), got ${sha(Buffer.alloc(PLAIN.length))}`));
    const again = await fetchData({ manifest: uncheckedManifest(), dataDir: dir, only: ["u/nosum.bin"], quiet: true, log: () => {} });
    assert.match(again.failed[0]!.error, /present but wrong .*recorded by its first fetch/);
    // Deleted, then fetched from a source that serves other bytes: refused against the record.
    fs.rmSync(path.join(dir, "u/nosum.bin"));
    const other = checkManifest({ sources: [{ name: "x", origin: "y", files: [{ ...uncheckedManifest().sources[0]!.files[0]!, url: `${base}/wrong/plain.bin` }] }] });
    const refetch = await fetchData({ manifest: other, dataDir: dir, quiet: true, log: () => {} });
    assert.equal(refetch.failed.length, 1);
    assert.match(refetch.failed[0]!.error, /was made but is wrong \(sha256 expected .* \(recorded by its first fetch/);
    assert.ok(!fs.existsSync(path.join(dir, "u/nosum.bin")));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "manifest.lock.json"), "utf8")).files["u/nosum.bin"].sha256, sha(PLAIN), "the record is kept");
  });

  test("--from records a copied file the same way", async () => {
    const mirror = freshDir();
    fs.mkdirSync(path.join(mirror, "u"));
    fs.writeFileSync(path.join(mirror, "u/hand.bin"), FAMILIES);
    const dir = freshDir();
    const report = await fetchData({ manifest: uncheckedManifest(), dataDir: dir, from: mirror, only: ["u/hand.bin"], quiet: true, log: () => {} });
    assert.deepEqual(report.copied, ["u/hand.bin"]);
    assert.equal(report.recorded[0]!.record.sha256, sha(FAMILIES));
    assert.equal(report.recorded[0]!.record.from, path.join(mirror, "u/hand.bin"));
  });

  test("--list and --verify: a file nothing can check is UNVERIFIED, never ok; a deleted one is missing; either makes --verify exit 1", async () => {
    const dir = freshDir();
    const manifestFile = path.join(dir, "..", `unchecked-${folders}.json`);
    fs.writeFileSync(manifestFile, JSON.stringify(uncheckedManifest()));
    await fetchData({ manifest: uncheckedManifest(), dataDir: dir, only: ["u/nosum.bin"], quiet: true, log: () => {} });
    fs.writeFileSync(path.join(dir, "u/hand.bin"), "8 bytes!"); // put there by hand: no record
    fs.writeFileSync(path.join(dir, "u/sized.npz"), "garbage!"); // the manifest knows its size
    const list = await runCli(["--manifest", manifestFile, "--list"], { MIRNA_DL_DATA: dir });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ok \(recorded\)\s+300,000\s+u\/nosum\.bin$/m);
    assert.match(list.stdout, /^UNVERIFIED\s+8\s+u\/hand\.bin\s+\(no checksum in the manifest and none recorded/m);
    assert.match(list.stdout, /^WRONG\s+8\s+u\/sized\.npz\s+size expected 300000 bytes, got 8$/m);
    assert.match(list.stdout, /^4 files: 1 ok, 1 unverified, 1 missing, 1 wrong$/m);
    const unverified = await runCli(["--manifest", manifestFile, "--verify", "--only", "u/hand.bin", "--only", "u/nosum.bin"], { MIRNA_DL_DATA: dir });
    assert.equal(unverified.code, 1, "unverified is not OK");
    assert.match(unverified.stdout, /^2 files: 1 ok, 1 unverified, 0 missing, 0 wrong$/m);
    const fetched = await runCli(["--manifest", manifestFile, "--only", "u/hand.bin"], { MIRNA_DL_DATA: dir });
    assert.match(fetched.stderr, /UNVERIFIED u\/hand\.bin: present, but the manifest has no checksum for it and none was recorded/);
    assert.match(fetched.stdout, /0 recorded in manifest\.lock\.json, 0 already present, 1 unverified/);
    assert.ok(!("u/hand.bin" in JSON.parse(fs.readFileSync(path.join(dir, "manifest.lock.json"), "utf8")).files), "a file put there by hand is not recorded");
    // 7. A deleted file: missing, counted, exit 1.
    fs.rmSync(path.join(dir, "u/nosum.bin"));
    const deleted = await runCli(["--manifest", manifestFile, "--verify", "--only", "u/nosum.bin"], { MIRNA_DL_DATA: dir });
    assert.equal(deleted.code, 1, deleted.stdout);
    assert.match(deleted.stdout, /^missing\s+\?\s+u\/nosum\.bin\s+\(downloadable\)$/m);
    assert.match(deleted.stdout, /^1 files: 0 ok, 0 unverified, 1 missing, 0 wrong$/m);
  });
});

describe("interrupted runs leave no temporary files", () => {
  /** Spawns the real entry point (signals need a child of our own). */
  function spawnCli(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY, ...args], { cwd: REPO, env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    return { child, exited, stderr: () => stderr };
  }
  /** Waits until `folder` holds a temporary file, or fails after 60 s. */
  async function waitForTemp(folder: string): Promise<string> {
    for (let waited = 0; waited < 60_000; waited += 20) {
      const temp = fs.existsSync(folder) ? fs.readdirSync(folder).find((f) => /^\.slow\.bin\.\d+(-[0-9a-f]{12})?\.tmp$/.test(f)) : undefined;
      if (temp) return temp;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no temporary file appeared in ${folder}`);
  }

  test("Ctrl+C during a copy removes the temp file; after kill -9 the next run removes it and says so", async () => {
    const mirror = freshDir();
    fs.mkdirSync(path.join(mirror, "s"));
    // The mirror's file is a FIFO nobody writes: the copy waits forever with its temp file open.
    assert.equal(spawnSync("mkfifo", [path.join(mirror, "s/slow.bin")]).status, 0);
    const manifestFile = path.join(mirror, "..", `slow-${folders}.json`);
    fs.writeFileSync(manifestFile, JSON.stringify({ sources: [{ name: "s", origin: "o", files: [{ path: "s/slow.bin", bytes: PLAIN.length, sha256: sha(PLAIN), url: null, note: "n" }] }] }));
    const dir = freshDir();
    const args = ["--manifest", manifestFile, "--from", mirror, "--only", "s/slow.bin"];
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const run = spawnCli(args, { MIRNA_DL_DATA: dir });
      try {
        const temp = await waitForTemp(path.join(dir, "s"));
        run.child.kill(signal);
        const guard = setTimeout(() => run.child.kill("SIGKILL"), 20_000);
        const result = await run.exited;
        clearTimeout(guard);
        assert.equal(result.signal, signal, `dies of ${signal}: ${run.stderr()}`);
        assert.ok(!fs.existsSync(path.join(dir, "s", temp)), `${signal}: the temporary file is removed`);
        assert.deepEqual(fs.readdirSync(path.join(dir, "s")), []);
      } finally {
        run.child.kill("SIGKILL"); // (a no-op once it has exited; never left waiting on the FIFO)
      }
    }
    const killed = spawnCli(args, { MIRNA_DL_DATA: dir });
    let left: string;
    try {
      left = await waitForTemp(path.join(dir, "s"));
    } finally {
      killed.child.kill("SIGKILL");
    }
    await killed.exited;
    assert.ok(fs.existsSync(path.join(dir, "s", left)), "kill -9 cannot clean up");
    fs.rmSync(path.join(mirror, "s/slow.bin"));
    fs.writeFileSync(path.join(mirror, "s/slow.bin"), PLAIN);
    const next = await runCli(args, { MIRNA_DL_DATA: dir });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, new RegExp(`removed .*s/${left.replace(/\./g, "\\.")}: a temporary file of an interrupted earlier run`));
    assert.deepEqual(fs.readdirSync(path.join(dir, "s")), ["slow.bin"]);
    assert.deepEqual(fs.readFileSync(path.join(dir, "s/slow.bin")), PLAIN);
  });
});
