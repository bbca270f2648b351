/**
 * `npm run jupyter` (environment/jupyter.ts) in a real browser: Debian's Chromium, headless,
 * driven by puppeteer-core (which never downloads a browser), against both front ends.
 *
 * JupyterLab (installed into .venv/ by environment/setup.sh; the front end users run): each of
 * every notebook of notebooks/ is copied to a temporary folder under out/ (inside the
 * repository, so `import * as mdl from "mirna-dl"` resolves through the workspace link) and
 * opened; the kernel shows "TypeScript" and goes idle; the first code cell is run and its new
 * output read (on stdout: the backend line is no red stderr box); the committed figures are
 * interactive Vega-Lite (a vega-embed element with a canvas or SVG); the mouse is moved over the
 * first figure whose spec declares a tooltip until vega's tooltip shows, and its text is read; a
 * screenshot goes to out/browser-screenshots/. The notebooks' files are unchanged afterwards
 * (opening and running without saving writes nothing).
 *
 * The classic Notebook (Debian's, the fallback when pip cannot install JupyterLab), smaller: a
 * notebook that imports mirna-dl, prints a line and shows a figure; its cells are run with
 * Shift+Enter; the text must appear and the figure, which the classic Notebook draws from the
 * bundle's PNG (it has no Vega-Lite renderer), must not be blank.
 *
 * Needs /usr/bin/chromium (apt package chromium), jupyter and the tslab kernel (bash
 * environment/setup.sh). Without them the tests are skipped, or fail when MIRNA_DL_REQUIRE_DATA=1
 * (CI). Without JupyterLab the JupyterLab tests are skipped, or fail when
 * MIRNA_DL_REQUIRE_JUPYTERLAB=1 (CI). MIRNA_DL_BROWSER_SCREENSHOT=FILE.png keeps the screenshot
 * of the classic Notebook's figure.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import puppeteer, { type Browser, type ElementHandle, type Page } from "puppeteer-core";
import { NOTEBOOKS } from "../environment/notebook-data";
import { VEGA_LITE_MIME } from "../lib/src/figures/display";
import { VEGA_LITE_SCHEMA } from "../lib/src/figures/specs";
import { presentOrSkip, tslabKernelMissing } from "./helpers";

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
  const kernel = tslabKernelMissing();
  if (kernel !== undefined) return kernel;
  if (!existsSync(path.join(repoRoot, "lib", "dist", "index.js"))) return "lib/dist is not built (run bash environment/setup.sh)";
  return undefined;
}

/** JupyterLab as environment/setup.sh installs it. */
const venvLab = path.join(repoRoot, ".venv", "bin", "jupyter-lab");

/** Chromium and the kernel are here ({@link presentOrSkip}), and JupyterLab is installed (required when MIRNA_DL_REQUIRE_JUPYTERLAB=1). */
function labAvailable(t: TestContext): boolean {
  if (!presentOrSkip(t, unavailableReason())) return false;
  if (existsSync(venvLab)) return true;
  const reason = `JupyterLab is not installed (${venvLab} missing: bash environment/setup.sh installs it with pip; see .venv/pip-install.log)`;
  if (process.env.MIRNA_DL_REQUIRE_JUPYTERLAB === "1") assert.fail(`MIRNA_DL_REQUIRE_JUPYTERLAB=1 but ${reason}`);
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

/**
 * Starts `environment/jupyter.ts --lab|--classic` on a free port serving `dir`; resolves once it
 * printed its URL. `env` is added to the server's environment.
 */
function startServer(dir: string, frontEnd: "lab" | "classic", env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const script = path.join(repoRoot, "environment", "jupyter.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script, `--${frontEnd}`, "--port", "0", "--dir", dir], {
    cwd: repoRoot,
    env: { ...process.env, MIRNA_DL_PROFILE: "ci", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from jupyter.ts within 180 s\n${stdout}${stderr}`)), 180_000);
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

/** The classic Notebook's elements. */
const selectors = {
  classic: {
    idleKernel: "#kernel_indicator_icon.kernel_idle_icon",
    firstCell: ".cell.code_cell .input_prompt",
    outputs: ".cell.code_cell .output_area",
    figure: ".output_area .output_subarea:not(.output_stream):not(.output_text)",
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

/** Headless Chromium with the flags above and a fresh profile folder. */
async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "mirna-dl-chromium-"));
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  // protocolTimeout: a wait (kernel idle, a cell's output) is one DevTools call that may last minutes on a busy machine.
  const browser = await puppeteer.launch({ executablePath: chromiumPath, headless: true, protocolTimeout: 600_000, args: [...chromiumFlags, `--user-data-dir=${userDataDir}`] });
  cleanups.push(() => browser.close());
  return browser;
}

test("classic Notebook (npm run jupyter --classic): a notebook importing mirna-dl runs in headless Chromium and shows its text and its figure's PNG", { timeout: 300_000 }, async (t) => {
  if (!presentOrSkip(t, unavailableReason())) return;
  // Inside the repository: the kernel resolves "mirna-dl" from the notebook's folder upwards.
  mkdirSync(path.join(repoRoot, "out"), { recursive: true });
  const notebookDir = mkdtempSync(path.join(repoRoot, "out", "browser-test-"));
  cleanups.push(() => rmSync(notebookDir, { recursive: true, force: true }));
  writeFileSync(path.join(notebookDir, "figure.ipynb"), JSON.stringify(testNotebook(), null, 1));

  const server = await startServer(notebookDir, "classic");
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await stopServer(server);
  });
  const base = new URL(server.url);
  const token = base.searchParams.get("token");
  assert.ok(token && token.length >= 32, `the printed URL carries a token: ${server.url}`);
  assert.equal(base.hostname, "127.0.0.1", "the server listens on loopback");

  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  assert.equal(server.frontEnd, "classic", "--classic starts the classic Notebook");
  const sel = selectors.classic;

  const notebookUrl = `${base.origin}/notebooks/figure.ipynb?token=${token}`;
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
  const figure = (await page.waitForSelector(sel.figure, { timeout: 240_000 }))!;
  // Wait until the figure has its size (the PNG decoded, or Vega drew its canvas/SVG).
  await page.waitForFunction((e: any) => e.getBoundingClientRect().height > 100, { timeout: 30_000 }, figure);
  await page.waitForSelector(sel.idleKernel, { timeout: 60_000 });
  const allOutputs = await page.$$eval(sel.outputs, (els) => els.map((e) => e.textContent ?? "").join("\n"));
  assert.ok(!/Error|error TS/.test(allOutputs), `no error in the outputs:\n${allOutputs}`);

  // What the classic Notebook drew: the figure's PNG.
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

// ---------------------------------------------------------------------------------------------
// JupyterLab: every notebook

/** The figures (Vega-Lite specs) of a notebook's committed outputs, in output order. */
function committedFigures(notebookFile: string): { tooltip: boolean; title: string }[] {
  const nb = JSON.parse(readFileSync(notebookFile, "utf8")) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  return nb.cells
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.data?.[VEGA_LITE_MIME] !== undefined)
    .map((o) => {
      const spec = o.data![VEGA_LITE_MIME] as { title?: unknown };
      const title = typeof spec.title === "string" ? spec.title : ((spec.title as { text?: string } | undefined)?.text ?? "");
      return { tooltip: JSON.stringify(spec).includes('"tooltip"'), title };
    });
}

/**
 * JupyterLab settings for the test server: every cell rendered (no windowing, so every figure is
 * in the page) and no news prompt over the page. In a folder of their own, with the workspaces:
 * nothing of the user's ~/.jupyter is read or written.
 */
function labSettings(): NodeJS.ProcessEnv {
  const root = mkdtempSync(path.join(tmpdir(), "mirna-dl-lab-settings-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const settings = path.join(root, "settings");
  const write = (plugin: string, values: object) => {
    mkdirSync(path.join(settings, path.dirname(plugin)), { recursive: true });
    writeFileSync(path.join(settings, `${plugin}.jupyterlab-settings`), JSON.stringify(values));
  };
  write("@jupyterlab/notebook-extension/tracker", { windowingMode: "none" });
  write("@jupyterlab/apputils-extension/notification", { fetchNews: "false" });
  return { JUPYTERLAB_SETTINGS_DIR: settings, JUPYTERLAB_WORKSPACES_DIR: path.join(root, "workspaces") };
}

/**
 * Moves the mouse over `target` (a figure's canvas or SVG) on a grid until vega's tooltip element
 * shows; returns its text, or undefined when no point of the grid shows one.
 */
async function hoverForTooltip(page: Page, target: ElementHandle): Promise<string | undefined> {
  await target.evaluate((e: any) => e.scrollIntoView({ block: "center" }));
  const box = await target.boundingBox();
  assert.ok(box && box.width > 50 && box.height > 50, `figure box ${JSON.stringify(box)}`);
  const tooltip = () =>
    page.evaluate(() => {
      const el = (globalThis as any).document.getElementById("vg-tooltip-element");
      return el && el.classList.contains("visible") && el.textContent.trim() !== "" ? (el.textContent as string) : undefined;
    });
  // Coarse to fine: most marks (bars, heatmap cells, lines' points) are hit by the first grid.
  for (const step of [24, 10, 5]) {
    for (let y = box.y + step / 2; y < box.y + box.height; y += step) {
      for (let x = box.x + step / 2; x < box.x + box.width; x += step) {
        await page.mouse.move(x, y);
        const text = await tooltip();
        if (text !== undefined) return text;
      }
    }
  }
  return undefined;
}

/**
 * Clicks the first element matching `selector` once it is laid out: a big notebook is still
 * rendering its outputs when the kernel is idle, and elements move (or are not yet clickable).
 */
async function clickWhenReady(page: Page, selector: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const element = await page.waitForSelector(selector, { visible: true, timeout: 60_000 });
      await element!.evaluate((e: any) => e.scrollIntoView({ block: "center" }));
      await element!.click();
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

describe("JupyterLab (npm run jupyter --lab): every notebook in headless Chromium", () => {
  const notebookDir = path.join(repoRoot, "out", `browser-lab-${process.pid}`);
  const screenshotDir = path.join(repoRoot, "out", "browser-screenshots");
  let server: Server | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (unavailableReason() !== undefined || !existsSync(venvLab)) return; // each test skips or fails with the reason
    mkdirSync(notebookDir, { recursive: true });
    cleanups.push(() => rmSync(notebookDir, { recursive: true, force: true }));
    mkdirSync(screenshotDir, { recursive: true });
    for (const { name } of NOTEBOOKS) {
      const source = path.join(repoRoot, "notebooks", `${name}.ipynb`);
      if (existsSync(source)) copyFileSync(source, path.join(notebookDir, `${name}.ipynb`));
    }
    server = await startServer(notebookDir, "lab", labSettings());
    const started = server;
    cleanups.push(async () => {
      await stopServer(started);
    });
    browser = await launchBrowser();
  });

  /** The notebook on screen (a restored workspace could hold others, hidden). */
  const panel = ".jp-NotebookPanel:not(.lm-mod-hidden)";

  for (const { name } of NOTEBOOKS) {
    test(`${name}: kernel TypeScript idle, a code cell run, an interactive Vega-Lite figure, a tooltip, a screenshot`, { timeout: 600_000 }, async (t) => {
      if (!labAvailable(t)) return;
      const source = path.join(repoRoot, "notebooks", `${name}.ipynb`);
      if (!existsSync(source)) return t.skip(`${source} is not in this checkout`);
      assert.ok(server && browser, "server and browser started");
      assert.equal(server.frontEnd, "lab", "--lab starts JupyterLab");
      const copy = path.join(notebookDir, `${name}.ipynb`);
      const before = readFileSync(copy);
      const figures = committedFigures(copy);
      const base = new URL(server.url);
      const page = await browser.newPage();
      await page.setViewport({ width: 1400, height: 1000 });
      // ?reset: a fresh workspace, not the one the previous notebook's page left (with its tab).
      await page.goto(`${base.origin}/lab/tree/${name}.ipynb?reset&token=${base.searchParams.get("token")}`, { waitUntil: "load" });

      // The kernel: "TypeScript" in the notebook's toolbar, then idle.
      await page.waitForFunction(
        (p: string) => {
          const d = (globalThis as any).document;
          const kernel = d.querySelector(`${p} .jp-KernelName`)?.textContent;
          const status = d.querySelector(`${p} .jp-Notebook-ExecutionIndicator`)?.getAttribute("data-status");
          return kernel === "TypeScript" && status === "idle";
        },
        { timeout: 300_000, polling: 500 },
        panel,
      );

      // The first code cell, run from the keyboard; its committed output says "profile full",
      // the new one "profile ci".
      const firstCell = `${panel} .jp-Notebook .jp-CodeCell`;
      await clickWhenReady(page, `${firstCell} .jp-InputArea-editor`);
      await page.keyboard.press("Escape");
      await page.keyboard.down("Shift");
      await page.keyboard.press("Enter");
      await page.keyboard.up("Shift");
      await page.waitForFunction(
        (s: string) => /\bprofile ci\b/.test((globalThis as any).document.querySelector(`${s} .jp-OutputArea`)?.textContent ?? ""),
        { timeout: 300_000, polling: 500 },
        firstCell,
      );
      const cell = (await page.$(firstCell))!;
      const outputs = await cell.$$eval(".jp-OutputArea-output", (els) =>
        els.map((e) => ({ mime: e.getAttribute("data-mime-type") ?? "", text: e.textContent ?? "" })),
      );
      const text = outputs.map((o) => o.text).join("");
      assert.match(text, /\bprofile ci\b/, "the cell ran in this session (the ci profile of the test server)");
      assert.deepEqual(
        outputs.filter((o) => o.mime === "application/vnd.jupyter.stderr"),
        [],
        "no stderr box: the backend line is ordinary output",
      );
      if (/TensorFlow\.js backend/.test(text)) {
        assert.ok(outputs.some((o) => o.mime === "application/vnd.jupyter.stdout" && /^mirna-dl: TensorFlow\.js backend /m.test(o.text)), JSON.stringify(outputs));
      }
      t.diagnostic(`${name}: first code cell printed: ${text.trim().split("\n").pop()}`);

      // Interactive figures: vega-embed drew the committed specs (canvas or SVG), one per figure.
      assert.ok(figures.length > 0, `${name} has figures in its committed outputs`);
      const vegaMarks = `${panel} .jp-OutputArea-output .vega-embed :is(canvas, svg.marks)`;
      await page.waitForFunction((s: string, n: number) => (globalThis as any).document.querySelectorAll(s).length >= n, { timeout: 120_000 }, vegaMarks, figures.length);
      const drawn = await page.$$(vegaMarks);
      assert.equal(drawn.length, figures.length, "every committed figure is drawn by vega-embed");
      assert.ok((await page.$$(`${panel} .jp-OutputArea-output .vega-embed details[title]`)).length > 0, "with vega-embed's action menu");

      // A tooltip: the first figure whose spec declares one (every notebook has one).
      const withTooltip = figures.findIndex((f) => f.tooltip);
      assert.ok(withTooltip >= 0, `none of the ${figures.length} committed figures declares a tooltip`);
      const tip = await hoverForTooltip(page, drawn[withTooltip]!);
      assert.ok(tip !== undefined, `no tooltip anywhere over figure ${withTooltip + 1} ("${figures[withTooltip]!.title}")`);
      t.diagnostic(`${name}: tooltip over figure ${withTooltip + 1} ("${figures[withTooltip]!.title}"): ${tip.replace(/\s+/g, " ").slice(0, 120)}`);
      const shot = path.join(screenshotDir, `jupyterlab-${name}.png`);
      await page.screenshot({ path: shot as `${string}.png` });
      t.diagnostic(`${name}: screenshot ${path.relative(repoRoot, shot)}`);

      // Done: shut the kernel down, close the page; the file was never saved.
      const token = base.searchParams.get("token");
      const sessions = (await (await fetch(`${base.origin}/api/sessions?token=${token}`)).json()) as { id: string; path: string }[];
      for (const session of sessions.filter((x) => x.path.endsWith(`${name}.ipynb`))) {
        await fetch(`${base.origin}/api/sessions/${session.id}?token=${token}`, { method: "DELETE" });
      }
      await page.close();
      assert.ok(readFileSync(copy).equals(before), "opening and running the notebook without saving leaves its file unchanged");
    });
  }

  test("JupyterLab stops cleanly; next to the notebooks only its checkpoints, which git ignores", { timeout: 120_000 }, async (t) => {
    if (!labAvailable(t) || server === undefined) return;
    await browser?.close();
    const code = await stopServer(server);
    assert.equal(code, 0, `jupyter.ts stops cleanly on SIGTERM:\n${server.output()}`);
    // Opening a notebook makes JupyterLab write a first checkpoint into .ipynb_checkpoints/
    // beside it: in notebooks/ that folder must not show in `git status`.
    const notebooks = NOTEBOOKS.map((n) => `${n.name}.ipynb`).filter((f) => existsSync(path.join(repoRoot, "notebooks", f)));
    assert.deepEqual(readdirSync(notebookDir).filter((f) => f !== ".ipynb_checkpoints").sort(), notebooks.sort(), "nothing else written next to the notebooks");
    const ignored = spawnSync("git", ["check-ignore", "-q", "notebooks/.ipynb_checkpoints/preprocess-checkpoint.ipynb"], { cwd: repoRoot });
    if (ignored.error === undefined && ignored.status !== 128) assert.equal(ignored.status, 0, "git ignores notebooks/.ipynb_checkpoints/ (.gitignore)");
  });
});
