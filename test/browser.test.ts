/**
 * `npm run jupyter` (environment/jupyter.ts) in a real browser: Debian's Chromium, headless,
 * driven by puppeteer-core (which never downloads a browser). The server serves a temporary
 * folder under out/ (inside the repository, so `import * as mdl from "mirna-dl"` resolves
 * through the workspace link in node_modules) holding a small notebook; its cells are run
 * through the UI with Shift+Enter, then the test checks that the printed text and the figure
 * appear, the figure by counting non-white pixels in a screenshot of its output.
 *
 * Which representation of a figure is drawn: the classic Notebook (Debian's, used here) has no
 * Vega-Lite renderer, so it shows the PNG of the bundle; JupyterLab draws the
 * `application/vnd.vegalite.v5+json` spec with its Vega-Lite 5 renderer. The test asserts
 * what it finds for the front end in use.
 *
 * Needs /usr/bin/chromium (apt package chromium), jupyter and the tslab kernel (bash
 * environment/setup.sh). Without them it is skipped, or fails when MIRNA_DL_REQUIRE_DATA=1 (CI).
 * MIRNA_DL_BROWSER_SCREENSHOT=FILE.png keeps the screenshot of the figure, to look at.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test, type TestContext } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { VEGA_LITE_MIME } from "../lib/src/figures/display";
import { VEGA_LITE_SCHEMA } from "../lib/src/figures/specs";

const repoRoot = path.resolve(__dirname, "..");
const chromiumPath = "/usr/bin/chromium";
/** Flags from the machine notes: without the background-networking ones Chromium keeps trying closed hosts. */
const chromiumFlags = [
  "--headless",
  "--no-sandbox", // CI runs as root, where Chromium's sandbox cannot start
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Why the browser test cannot run here, or undefined when it can. */
function unavailableReason(): string | undefined {
  if (!existsSync(chromiumPath)) return `${chromiumPath} not found (apt package chromium; run bash environment/setup.sh)`;
  const spec = path.join(repoRoot, ".jupyter", "share", "jupyter", "kernels", "tslab", "kernel.json");
  if (!existsSync(spec)) return `tslab kernel not registered (${spec} missing; run bash environment/setup.sh)`;
  if (!existsSync(path.join(repoRoot, "lib", "dist", "index.js"))) return "lib/dist is not built (run bash environment/setup.sh)";
  return undefined;
}

function available(t: TestContext): boolean {
  const reason = unavailableReason();
  if (reason === undefined) return true;
  if (process.env.MIRNA_DL_REQUIRE_DATA === "1") assert.fail(`MIRNA_DL_REQUIRE_DATA=1 but ${reason}`);
  t.skip(reason);
  return false;
}

const marker = "browser-notebook-ok";

/** The notebook the browser runs: imports the built package, prints, shows one figure. */
function testNotebook(): object {
  const code = (id: string, source: string) => ({ cell_type: "code", execution_count: null, id, metadata: {}, outputs: [], source });
  return {
    cells: [
      code("import", `import * as mdl from "mirna-dl";\nconsole.log("${marker} " + mdl.VEGA_LITE_MIME);`),
      code(
        "figure",
        'await mdl.showFigure(mdl.barSpec([{ kind: "a", n: 3 }, { kind: "b", n: 7 }, { kind: "c", n: 5 }], { x: "kind", y: "n", title: "browser test" }));',
      ),
    ],
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" }, language_info: { name: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

interface Server {
  process: ChildProcess;
  url: string;
  frontEnd: "lab" | "classic";
  output: () => string;
}

/** Starts `environment/jupyter.ts` on a free port serving `dir`; resolves once it printed its URL. */
function startServer(dir: string): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "environment", "jupyter.ts"), "--port", "0", "--dir", dir], {
    cwd: repoRoot,
    env: { ...process.env, MIRNA_DL_PROFILE: "ci" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from jupyter.ts within 120 s\n${stdout}${stderr}`)), 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`jupyter.ts exited with ${code} before printing its URL\n${stdout}${stderr}`));
    });
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /^jupyter: open (http:\/\/127\.0\.0\.1:\d+\S*)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ process: child, url: m[1]!, frontEnd: /^jupyter: JupyterLab /m.test(stdout) ? "lab" : "classic", output: () => stdout + stderr });
      }
    });
  });
}

/** Sends SIGTERM (the script stops Jupyter and its kernels) and waits for the exit status. */
function stopServer(server: Server): Promise<number | null> {
  if (server.process.exitCode !== null) return Promise.resolve(server.process.exitCode);
  return new Promise((resolve) => {
    server.process.once("exit", (code) => resolve(code));
    server.process.kill("SIGTERM");
  });
}

/** Front-end specific selectors. */
const selectors = {
  classic: {
    idleKernel: "#kernel_indicator_icon.kernel_idle_icon",
    firstCell: ".cell.code_cell .input_prompt",
    outputs: ".cell.code_cell .output_area",
    figure: ".output_area .output_subarea:not(.output_stream):not(.output_text)",
  },
  lab: {
    idleKernel: '.jp-Notebook-ExecutionIndicator[data-status="idle"]',
    firstCell: ".jp-Cell.jp-CodeCell .jp-InputPrompt",
    outputs: ".jp-Cell.jp-CodeCell .jp-OutputArea-output",
    figure: '.jp-OutputArea-output[data-mime-type]:not([data-mime-type^="application/vnd.jupyter.std"])',
  },
} as const;

/** Counts the pixels of a PNG (base64) that are not (nearly) white, decoding it in the page's canvas. */
async function nonWhitePixels(page: Page, pngBase64: string): Promise<{ width: number; height: number; nonWhite: number }> {
  return page.evaluate(async (b64: string) => {
    const { document, Image } = globalThis as any; // runs in the page (this program has no DOM types)
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let nonWhite = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! < 235 || data[i + 1]! < 235 || data[i + 2]! < 235) nonWhite++;
    return { width: canvas.width, height: canvas.height, nonWhite };
  }, pngBase64);
}

test("npm run jupyter: a notebook importing mirna-dl runs in headless Chromium and shows its text and figure", { timeout: 240_000 }, async (t) => {
  if (!available(t)) return;
  // Inside the repository: the kernel resolves "mirna-dl" from the notebook's folder upwards.
  mkdirSync(path.join(repoRoot, "out"), { recursive: true });
  const notebookDir = mkdtempSync(path.join(repoRoot, "out", "browser-test-"));
  cleanups.push(() => rmSync(notebookDir, { recursive: true, force: true }));
  writeFileSync(path.join(notebookDir, "figure.ipynb"), JSON.stringify(testNotebook(), null, 1));

  const server = await startServer(notebookDir);
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await stopServer(server);
  });
  const base = new URL(server.url);
  const token = base.searchParams.get("token");
  assert.ok(token && token.length >= 32, `the printed URL carries a token: ${server.url}`);
  assert.equal(base.hostname, "127.0.0.1", "the server listens on loopback");

  const userDataDir = mkdtempSync(path.join(tmpdir(), "mirna-dl-chromium-"));
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const browser: Browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumFlags, `--user-data-dir=${userDataDir}`],
  });
  cleanups.push(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const sel = selectors[server.frontEnd];

  const notebookUrl = `${base.origin}${server.frontEnd === "lab" ? "/lab/tree" : "/notebooks"}/figure.ipynb?token=${token}`;
  await page.goto(notebookUrl, { waitUntil: "load" });
  // Kernel started and idle: only then do keystrokes execute instead of queueing on a missing kernel.
  await page.waitForSelector(sel.idleKernel, { timeout: 60_000 });
  await page.click(sel.firstCell);
  await page.keyboard.press("Escape"); // command mode: Shift+Enter runs the cell and selects the next
  for (let i = 0; i < 2; i++) {
    await page.keyboard.down("Shift");
    await page.keyboard.press("Enter");
    await page.keyboard.up("Shift");
  }

  // The printed line (first cell) and the figure (second cell).
  await page.waitForFunction(
    (s: string, m: string) => [...(globalThis as any).document.querySelectorAll(s)].some((e: any) => e.textContent?.includes(m)),
    { timeout: 120_000 },
    sel.outputs,
    marker,
  );
  const outputsText = await page.$$eval(sel.outputs, (els) => els.map((e) => e.textContent ?? "").join("\n"));
  assert.ok(outputsText.includes(`${marker} ${VEGA_LITE_MIME}`), outputsText);
  const figure = (await page.waitForSelector(sel.figure, { timeout: 120_000 }))!;
  // Wait until the figure has its size (the PNG decoded, or Vega drew its canvas/SVG).
  await page.waitForFunction((e: any) => e.getBoundingClientRect().height > 100, { timeout: 30_000 }, figure);
  await page.waitForSelector(sel.idleKernel, { timeout: 60_000 });
  const allOutputs = await page.$$eval(sel.outputs, (els) => els.map((e) => e.textContent ?? "").join("\n"));
  assert.ok(!/Error|error TS/.test(allOutputs), `no error in the outputs:\n${allOutputs}`);

  // What the front end drew.
  if (server.frontEnd === "classic") {
    const drawn = await figure.evaluate((e: any) => ({ classes: String(e.className), img: (e.querySelector("img")?.getAttribute("src")?.slice(0, 22) ?? null) as string | null }));
    assert.match(drawn.classes, /\boutput_png\b/, "the classic Notebook shows the figure's PNG (it has no Vega-Lite renderer)");
    assert.equal(drawn.img, "data:image/png;base64,");
    // The output the notebook holds is the whole bundle: the spec under the v5 MIME type with the
    // matching $schema, the PNG and the text.
    const bundle = await page.evaluate(() => {
      const nb = (globalThis as any).Jupyter.notebook; // the classic Notebook's page API
      return nb.get_cell(1).output_area.outputs.map((o: any) => o.data ?? {}) as Record<string, unknown>[];
    });
    assert.equal(bundle.length, 1, "one display_data output for the figure");
    assert.deepEqual(Object.keys(bundle[0]!).sort(), [VEGA_LITE_MIME, "image/png", "text/plain"].sort());
    assert.equal((bundle[0]![VEGA_LITE_MIME] as { $schema?: string }).$schema, VEGA_LITE_SCHEMA);
    t.diagnostic(`classic Notebook: figure drawn from image/png; the bundle also holds ${VEGA_LITE_MIME} (schema ${VEGA_LITE_SCHEMA})`);
  } else {
    const mime = await figure.evaluate((e: any) => e.getAttribute("data-mime-type") as string | null);
    assert.equal(mime, VEGA_LITE_MIME, "JupyterLab draws the Vega-Lite spec");
    t.diagnostic(`JupyterLab: figure drawn from ${mime}`);
  }

  // Visible: the screenshot of the figure's box is not blank.
  const box = await figure.boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100, `figure box ${JSON.stringify(box)}`);
  const shot = (await figure.screenshot({ encoding: "base64" })) as string;
  const pixels = await nonWhitePixels(page, shot);
  const share = pixels.nonWhite / (pixels.width * pixels.height);
  t.diagnostic(`figure ${pixels.width}x${pixels.height} px on screen, ${(share * 100).toFixed(1)}% non-white`);
  assert.ok(pixels.nonWhite > 2000 && share > 0.02, `the figure is blank: ${JSON.stringify(pixels)}`);
  if (process.env.MIRNA_DL_BROWSER_SCREENSHOT) writeFileSync(process.env.MIRNA_DL_BROWSER_SCREENSHOT, Buffer.from(shot, "base64"));

  await browser.close();
  stopped = true;
  const code = await stopServer(server);
  assert.equal(code, 0, `jupyter.ts stops cleanly on SIGTERM:\n${server.output()}`);
  assert.match(server.output(), /Shutting down 1 kernel\b/, "the kernel is shut down with the server");
});
