import * as path from "node:path";
import { dataRoot } from "../data/paths";
import { DataFetchOptions, fetchData, formatChecks, isGood, listData, LOCK_FILE, verifyData } from "../data/fetch";
import { ToolError } from "../errors";
import { defineCommand, defineGroup, flag, integerInRange, option, repeatedOption } from "./args";

/** `mirna-dl data fetch|verify|list`: the public data of data/manifest.json (`npm run data:fetch` is a shortcut). */

/** Options every data command takes. */
const SELECTION = {
  only: repeatedOption({ arg: "SEL", inUsage: true, help: "only files matching SEL: a path, a base name, a folder (e.g. mirbind) or a glob\n(e.g. 'mirna_binding/**/*.h5')" }),
  manifest: option({ arg: "FILE", help: "another manifest (default data/manifest.json)" }),
};

const WHERE = `The data folder is $MIRNA_DL_DATA, default data/ in the repository.`;

const selection = (o: { only: string[]; manifest: string | undefined }): DataFetchOptions => ({ only: o.only.length ? o.only : undefined, manifest: o.manifest });

const fetchCommand = defineCommand({
  name: "fetch",
  summary: "download (or copy with --from) the missing public data, checking every file",
  description: `Fetches the public data listed in data/manifest.json into the data folder. Downloads every
missing file (resumable: an interrupted download continues from <file>.part on the next run),
checks its sha256, and renames it into place only when it is complete and correct. Files the
manifest has no checksum for: the first fetch records their size and sha256 in
<data folder>/${LOCK_FILE} and prints them; later runs check them against that record. Files
without a URL (made by this project) can only be copied with --from. Ctrl+C removes the
temporary file being written (a download's <file>.part is kept to resume).
${WHERE}
Exit codes: 0 success, 1 a file failed (download, checksum), 2 bad usage.`,
  examples: ["mirna-dl data fetch --only mirbind", "mirna-dl data fetch --from /mnt/mirror   # a local copy laid out like the data folder"],
  options: {
    ...SELECTION,
    from: option({ arg: "DIR", inUsage: true, help: "copy from a local mirror laid out like the data folder instead of downloading\n(files are verified)" }),
    retries: option({ arg: "N", parse: integerInRange(0), default: 2, help: "automatic retries of a lost download" }),
    quiet: flag("no progress lines", { short: "q" }),
  },
  async run(o) {
    const report = await fetchData({ ...selection(o), from: o.from, retries: o.retries, quiet: o.quiet });
    const err = (text: string) => process.stderr.write(text + "\n");
    for (const s of report.skipped) err(`skipped ${s.path}: ${s.reason}`);
    for (const u of report.unverified) err(`UNVERIFIED ${u}: present, but the manifest has no checksum for it and none was recorded (delete it and fetch it again to record one)`);
    for (const f of report.failed) err(`FAILED ${f.path}: ${f.error}`);
    console.log(
      `data folder: ${path.resolve(dataRoot())}\n${report.downloaded.length} downloaded, ${report.copied.length} copied, ${report.recorded.length} recorded in ${LOCK_FILE}, ` +
        `${report.present.length} already present, ${report.unverified.length} unverified, ${report.skipped.length} skipped, ${report.failed.length} failed`,
    );
    if (report.failed.length > 0) throw new ToolError(`${report.failed.length} file${report.failed.length === 1 ? "" : "s"} failed`);
  },
});

const verifyCommand = defineCommand({
  name: "verify",
  summary: "check every selected data file; exit 1 unless all are present and checked",
  description: `Computes the sha256 of every selected file of data/manifest.json in the data folder and
compares it with the manifest (or with the record of the first fetch). Missing, unverified and
wrong files fail.
${WHERE}`,
  examples: ["mirna-dl data verify --only mirbind"],
  options: SELECTION,
  async run(o) {
    const checks = await verifyData(selection(o));
    console.log(`data folder: ${path.resolve(dataRoot())}`);
    console.log(formatChecks(checks));
    const bad = checks.filter((c) => !isGood(c.state)).length;
    if (bad > 0) throw new ToolError(`${bad} of ${checks.length} files are not present and checked`);
  },
});

const listCommand = defineCommand({
  name: "list",
  summary: "show every data file: ok / UNVERIFIED / missing / WRONG",
  description: `Lists the files of data/manifest.json with their state in the data folder (checksums are
computed).
${WHERE}`,
  examples: ["mirna-dl data list", "mirna-dl data list --only 'mirna_binding/**/*.h5'"],
  options: SELECTION,
  async run(o) {
    console.log(`data folder: ${path.resolve(dataRoot())}`);
    console.log(formatChecks(await listData(selection(o))));
  },
});

export const dataGroup = defineGroup({
  name: "data",
  summary: "the public data: fetch, verify, list",
  description: "The public data of data/manifest.json (`npm run data:fetch` runs `mirna-dl data fetch`).",
  commands: [fetchCommand, verifyCommand, listCommand],
});
