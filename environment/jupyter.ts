/**
 * `npm run jupyter`: Jupyter in a browser, on the tslab kernel registered in this checkout's
 * `.jupyter/` (JUPYTER_PATH points there, as for the notebook runner), listening on loopback only.
 *
 *   node --import tsx environment/jupyter.ts [--port N] [--dir DIR] [--lab | --classic]
 *
 * Front end: JupyterLab from .venv/ (installed there by environment/setup.sh with pip), else a
 * `jupyter lab` on PATH (e.g. the conda environment of environment/environment.yml), else
 * Debian's classic Notebook (`jupyter notebook`, package jupyter-notebook). Figures: JupyterLab
 * draws the interactive Vega-Lite chart; the classic Notebook has no Vega-Lite renderer and
 * shows the PNG that comes with every figure. JupyterLab is started without its update check,
 * news feed and PyPI extension manager: nothing leaves the machine.
 *
 * Prints the URL with its access token once the server answers, then runs until Ctrl+C (or
 * SIGTERM, SIGHUP), which stops the server and its kernels. The server never outlives this
 * script: signals are passed on; under npm, when the npm process or its shell is gone (npm does
 * not pass a kill on to the script behind its shell) the script stops the server and exits; and
 * the server is started with a parent-death signal (setpriv --pdeathsig), so even a SIGKILL of
 * this script stops it. Exit status: 0 after a stop; the server's if it ended by itself; 2 bad
 * usage or set-up.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { checkKernel, jupyterPath, onPath, repoRoot, resolveDataDir, resolveProfile, runScript, UsageError, watchNpmParents } from "./common";

const usage = `usage: npm run jupyter [-- --port N] [--dir DIR] [--lab | --classic]
  --port N    first port to try on 127.0.0.1 (default 8888; the next free one up to N+49 is taken;
              0: any free port)
  --dir DIR   folder the server shows (default: the repository; the URL opens notebooks/)
  --lab       JupyterLab (the default when it is installed: .venv/ of bash environment/setup.sh)
  --classic   the classic Notebook (Debian's jupyter-notebook; the default otherwise)
env: MIRNA_DL_PROFILE, MIRNA_DL_DATA are passed to the kernels as for npm run notebooks`;

type FrontEnd = "lab" | "classic";

interface Options {
  port: number;
  dir: string;
  frontEnd: FrontEnd | undefined;
}

function parseOptions(argv: string[]): Options | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        dir: { type: "string" },
        lab: { type: "boolean", default: false },
        classic: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
  if (values.help) return "help";
  if (values.lab && values.classic) throw new UsageError("--lab and --classic exclude each other");
  const portText = values.port ?? "8888";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a port number (0-65535); got "${portText}"`);
  const dir = path.resolve(values.dir ?? repoRoot);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--dir ${dir}: not a folder`);
  return { port, dir, frontEnd: values.lab ? "lab" : values.classic ? "classic" : undefined };
}

/** JupyterLab as environment/setup.sh installs it: in the project's virtual environment. */
const venvLab = path.join(repoRoot, ".venv", "bin", "jupyter-lab");

/** A way to start a front end: the command and the arguments before the server options. */
interface Launcher {
  command: string;
  args: string[];
  version: string;
}

/** Version printed by `command ...args --version`, or undefined when it does not run. */
function versionOf(command: string, args: string[], env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync(command, [...args, "--version"], { env, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) return undefined;
  return r.stdout.trim().split("\n").pop()?.trim() || "?";
}

/** JupyterLab: the project's (.venv/), else `jupyter lab` on PATH; undefined when neither runs. */
function findLab(env: NodeJS.ProcessEnv): Launcher | undefined {
  for (const [command, args] of [[venvLab, []], ["jupyter", ["lab"]]] as const) {
    if (path.isAbsolute(command) && !existsSync(command)) continue;
    const version = versionOf(command, [...args], env);
    if (version !== undefined) return { command, args: [...args], version };
  }
  return undefined;
}

/** Debian's classic Notebook (`jupyter notebook`), or undefined. */
function findClassic(env: NodeJS.ProcessEnv): Launcher | undefined {
  const version = versionOf("jupyter", ["notebook"], env);
  return version === undefined ? undefined : { command: "jupyter", args: ["notebook"], version };
}

/** True when nothing listens on 127.0.0.1:port. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port: `first` or one of the 49 after it; with 0, one the system picks. */
async function choosePort(first: number): Promise<number> {
  if (first === 0) {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(port));
      });
    });
  }
  for (let port = first; port < Math.min(first + 50, 65536); port++) {
    if (await portFree(port)) return port;
  }
  throw new UsageError(`no free port on 127.0.0.1 from ${first} to ${first + 49}; choose another with --port`);
}

/** Resolves when GET url answers 200, rejects when `gaveUp()` turns true or after `timeoutMs`. */
async function waitForHttp(url: string, gaveUp: () => string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = gaveUp();
    if (reason !== undefined) throw new UsageError(reason);
    const status = await new Promise<number>((resolve) => {
      const req = http.get(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.setTimeout(2000, () => req.destroy());
      req.on("error", () => resolve(0));
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new UsageError(`the Jupyter server did not answer at ${url} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts === "help") {
    console.log(usage);
    return 0;
  }
  checkKernel();
  const token = randomBytes(24).toString("hex");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    // The token goes through the environment, not the command line that `ps` shows to everyone.
    JUPYTER_TOKEN: token,
    MIRNA_DL_PROFILE: resolveProfile(undefined, process.env),
    MIRNA_DL_DATA: resolveDataDir(process.env),
  };
  const lab = opts.frontEnd === "classic" ? undefined : findLab(env);
  if (opts.frontEnd === "lab" && lab === undefined) {
    throw new UsageError(`--lab: JupyterLab is not installed (${path.relative(repoRoot, venvLab)} missing: run bash environment/setup.sh, which installs it with pip)`);
  }
  const frontEnd: FrontEnd = lab !== undefined ? "lab" : "classic";
  const launcher = lab ?? findClassic(env);
  if (launcher === undefined) {
    throw new UsageError("neither JupyterLab nor the classic Notebook ('jupyter notebook') is installed; run: bash environment/setup.sh");
  }
  const version = launcher.version;
  const port = await choosePort(opts.port);
  const args = [...launcher.args, "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0"];
  if (frontEnd === "lab") {
    args.push(
      `--ServerApp.root_dir=${opts.dir}`,
      // Nothing leaves the machine: no update check, no news feed, no PyPI extension manager.
      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
      "--LabApp.news_url=None",
      "--LabApp.extension_manager=readonly",
    );
  } else {
    args.push(`--notebook-dir=${opts.dir}`);
  }
  // Both servers refuse to start as root without it (CI and these machines run as root).
  if (process.getuid?.() === 0) args.push("--allow-root");

  // Own process group: Ctrl+C reaches only this script, which stops the server with SIGTERM
  // (on SIGINT the classic Notebook would ask for a confirmation on the terminal instead).
  // setpriv --pdeathsig (util-linux): the server gets SIGTERM when this script dies, even of SIGKILL.
  const [command, commandArgs] = onPath("setpriv", env)
    ? ["setpriv", ["--pdeathsig", "TERM", "--", launcher.command, ...args]]
    : [launcher.command, args];
  const child = spawn(command, commandArgs, { cwd: opts.dir, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
  let exited: string | undefined;
  const done = new Promise<number>((resolve) => {
    child.on("error", (e) => {
      exited = `cannot start jupyter: ${e.message}`;
      resolve(2);
    });
    child.on("exit", (code, signal) => {
      exited = `the Jupyter server exited (${signal ?? `status ${code}`}) before it answered; see its output above`;
      resolve(code ?? 1);
    });
  });
  let stopping = false;
  const stop = () => {
    if (stopping || exited !== undefined) return;
    stopping = true;
    child.kill("SIGTERM");
    // The server shuts its kernels down on SIGTERM; whatever of its group is left after 20 s is killed.
    setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone
      }
    }, 20_000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  // Under npm: a kill of the npm process ends npm and its shell but never reaches this script.
  watchNpmParents(() => {
    console.error("jupyter: the npm process that started this script is gone: stopping the server");
    stop();
  });

  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}/api`, () => exited, 120_000);
  } catch (e) {
    stop();
    await done;
    throw e;
  }
  const inRepo = path.relative(repoRoot, opts.dir) === "" && existsSync(path.join(repoRoot, "notebooks"));
  const start = inRepo ? "/tree/notebooks" : "/tree";
  const url = `${base}${frontEnd === "lab" ? "/lab" : ""}${start}?token=${token}`;
  const name = frontEnd === "lab" ? `JupyterLab ${version}` : `Jupyter Notebook ${version} (classic${lab === undefined && opts.frontEnd !== "classic" ? "; JupyterLab is not installed: bash environment/setup.sh installs it" : ""})`;
  console.log(`jupyter: ${name} on this checkout's tslab kernel, serving ${opts.dir}`);
  console.log(`jupyter: open ${url}`);
  console.log("jupyter: stop with Ctrl+C");
  const code = await done;
  return stopping ? 0 : code;
}

runScript("jupyter", main);
