#!/usr/bin/env node
// Command-line entry point. A committed shim, so npm can link the `mirna-dl` command at install
// time, before lib/dist is built (environment/setup.sh builds it). It runs the built CLI
// (lib/dist/cli/main.js); from the sources: node --import tsx lib/src/cli/main.ts …
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const lib = path.join(__dirname, "..");
const cli = path.join(lib, "dist", "cli", "main.js");
if (!fs.existsSync(cli)) {
  process.stderr.write("mirna-dl: the library is not built (lib/dist/cli/main.js missing); run `bash environment/setup.sh` or `npm run build` in the repository\n");
  process.exit(2);
}
// A checkout newer than the build runs old code: say so (a warning; the command still runs).
if (newestMtime(path.join(lib, "src")) > fs.statSync(cli).mtimeMs) {
  process.stderr.write("mirna-dl: warning: lib/src is newer than lib/dist; run `npm run build` to use the current sources\n");
}
// In this process, never a child: signals sent to this PID reach the command itself, which
// removes its temporary files and stops (lib/src/cli/process.ts). runCli installs that handling;
// a build older than it only has main().
const entry = require(cli);
if (typeof entry.runCli === "function") entry.runCli(process.argv.slice(2));
else entry.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

/** Latest modification time of the .ts files under `dir` (0 when there are none). */
function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return newest;
}
