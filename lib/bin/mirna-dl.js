#!/usr/bin/env node
// Command-line entry point. A committed shim, so npm can link the `mirna-dl` command at install
// time, before lib/dist is built (environment/setup.sh builds it).
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const cli = path.join(__dirname, "..", "dist", "cli", "main.js");
if (!fs.existsSync(cli)) {
  process.stderr.write("mirna-dl: the library is not built yet (lib/dist missing); run `bash environment/setup.sh` or `npm run build` in the repository\n");
  process.exit(2);
}
require(cli).main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
