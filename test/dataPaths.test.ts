import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { dataRoot, displayPath, REPO_ROOT } from "../lib/src/data/paths";

test("displayPath: repository paths relative, data paths under $MIRNA_DL_DATA, others unchanged", () => {
  assert.equal(displayPath(path.join(REPO_ROOT, "out", "binding", "split")), path.join("out", "binding", "split"));
  assert.equal(displayPath(REPO_ROOT), ".");
  assert.equal(displayPath(path.join(dataRoot(), "premirna", "x.npz")), path.join("$MIRNA_DL_DATA", "premirna", "x.npz"));
  assert.equal(displayPath("/somewhere/else"), "/somewhere/else");
});
