/**
 * `npm run jupyter`: Jupyter in a browser, on the tslab kernel registered in this checkout's
 * `.jupyter/` (JUPYTER_PATH points there, as for the notebook runner), listening on loopback only.
 *
 *   node --import tsx environment/jupyter.ts [--port N] [--dir DIR] [--lab | --classic]
 *
 * Front end: JupyterLab when `jupyter lab` is installed (e.g. the conda environment of
 * environment/environment.yml), else Debian's classic Notebook (`jupyter notebook`, package
 * jupyter-notebook). Figures: JupyterLab draws the interactive Vega-Lite chart; the classic
 * Notebook has no Vega-Lite renderer and shows the PNG that comes with every figure.
 *
 * Prints the URL with its access token once the server answers, then runs until Ctrl+C (or
 * SIGTERM), which stops the server and its kernels. Exit status: the server's; 2 bad usage or
 * set-up.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { checkKernel, repoRoot, jupyterPath, resolveDataDir, resolveProfile, runScript, UsageError } from "./common";

const usage = `usage: npm run jupyter [-- --port N] [--dir DIR] [--lab | --classic]
  --port N    first port to try on 127.0.0.1 (default 8888; the next free one up to N+49 is taken;
              0: any free port)
  --dir DIR   folder the server shows (default: the repository; the URL opens notebooks/)
  --lab       JupyterLab (the default when 'jupyter lab' is installed)
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

/** Version printed by `jupyter <sub> --version`, or undefined when that subcommand is not installed. */
function subcommandVersion(sub: string, env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync("jupyter", [sub, "--version"], { env, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) return undefined;
  return r.stdout.trim().split("\n").pop()?.trim() || "?";
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
  const labVersion = opts.frontEnd === "classic" ? undefined : subcommandVersion("lab", env);
  if (opts.frontEnd === "lab" && labVersion === undefined) {
    throw new UsageError("--lab: 'jupyter lab' is not installed (JupyterLab is not in Debian; see environment/environment.yml)");
  }
  const frontEnd: FrontEnd = labVersion !== undefined ? "lab" : "classic";
  const version = frontEnd === "lab" ? labVersion : subcommandVersion("notebook", env);
  if (version === undefined) {
    throw new UsageError("neither 'jupyter lab' nor 'jupyter notebook' is installed; run: bash environment/setup.sh");
  }
  const port = await choosePort(opts.port);
  const args = [
    frontEnd === "lab" ? "lab" : "notebook",
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--port-retries=0",
    `--notebook-dir=${opts.dir}`,
  ];
  // Both servers refuse to start as root without it (CI and these machines run as root).
  if (process.getuid?.() === 0) args.push("--allow-root");

  // Own process group: Ctrl+C reaches only this script, which stops the server with SIGTERM
  // (on SIGINT the classic Notebook would ask for a confirmation on the terminal instead).
  const child = spawn("jupyter", args, { cwd: opts.dir, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
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
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);

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
  const name = frontEnd === "lab" ? `JupyterLab ${version}` : `Jupyter Notebook ${version} (classic${labVersion === undefined ? "; JupyterLab is not installed" : ""})`;
  console.log(`jupyter: ${name} on this checkout's tslab kernel, serving ${opts.dir}`);
  console.log(`jupyter: open ${url}`);
  console.log("jupyter: stop with Ctrl+C");
  const code = await done;
  return stopping ? 0 : code;
}

runScript("jupyter", main);
