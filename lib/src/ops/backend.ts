/**
 * Chooses and starts the TensorFlow.js backend at run time.
 *
 * Order of preference, fastest first:
 *   node-gpu  @tensorflow/tfjs-node-gpu (libtensorflow with CUDA)
 *   node      @tensorflow/tfjs-node     (libtensorflow on the CPU)
 *   native    the wasm backend with this project's native kernels (native/, an
 *             N-API addon over oneDNN built by environment/setup.sh; see
 *             lib/src/ops/native/): convolutions, pooling gradient, elementwise ops
 *             and reductions run in C++ on `threads` OpenMP threads, directly on
 *             the wasm heap; available when the addon was built
 *   wasm      @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD build; always installed)
 *   cpu       tfjs' pure-JavaScript backend (always there; very slow to train)
 *
 * tfjs-node and tfjs-node-gpu are optional dependencies: their install script
 * downloads libtensorflow, which fails where only the npm registry is reachable;
 * npm then skips them. They are therefore `require`d lazily, and a package that
 * is missing, or installed without its native binary, counts as unavailable
 * with the reason recorded.
 *
 * The choice can be forced with `opts.preferred` (e.g. a CLI flag) or, failing
 * that, the environment variable MIRNA_DL_BACKEND; both take node-gpu, node,
 * native, wasm, cpu or auto. `native` is tfjs' wasm backend (tf.getBackend()
 * says "wasm") whose heavy kernels are replaced for the whole process. A forced backend that is unavailable is an error, never a
 * silent fallback.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { InputError } from "../errors";
import { insideTslab } from "../io/tslab";
import { registerWasmTrainingKernels } from "./wasm/wasmTrainingKernels";
import { loadNativeAddon } from "./native/addon";
import { registerNativeKernels } from "./native/nativeKernels";

/** Backend names as users write them (MIRNA_DL_BACKEND, --backend). */
export type BackendName = "node-gpu" | "node" | "native" | "wasm" | "cpu";

/** All backend names, in the automatic order of preference. */
export const BACKEND_NAMES: readonly BackendName[] = ["node-gpu", "node", "native", "wasm", "cpu"];

/** Environment variable that forces a backend. */
export const BACKEND_ENV_VAR = "MIRNA_DL_BACKEND";

export interface InitBackendOptions {
  /** Backend to use (node-gpu | node | native | wasm | cpu | auto); overrides MIRNA_DL_BACKEND. */
  preferred?: string;
  /** Do not print which backend is in use (stderr; stdout inside a notebook). */
  quiet?: boolean;
  /**
   * Threads. native: OpenMP threads of the native kernels (default: OpenMP's own,
   * i.e. OMP_NUM_THREADS or all cores). wasm: only the multi-threaded wasm build
   * can use more than one, and it does not start in Node (it spawns workers from
   * a blob: URL), so there this is recorded and reported but has no effect.
   * tfjs-node sizes its own thread pools.
   */
  threads?: number;
}

/** A backend was asked for by name but cannot be used here; `reason` says why. */
export class BackendUnavailableError extends InputError {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(`TensorFlow.js backend '${backend}' is unavailable: ${reason}`);
    this.name = "BackendUnavailableError";
  }
}

/** What initBackend settled on. */
interface ActiveBackend {
  name: BackendName;
  /** The name tfjs registered it under (tensorflow, wasm, cpu). */
  tfjsName: string;
  /** Short human detail, e.g. "SIMD, 1 thread". */
  detail: string;
  /** Longer remarks printed to stderr only (skipped broken backends, ignored options). */
  notes: string[];
}

// Registered on import (idempotent), so code that calls tf.setBackend('wasm')
// itself also trains; startWasm registers them again in case of a reset.
registerWasmTrainingKernels();

let active: ActiveBackend | null = null;
let pending: Promise<ActiveBackend> | null = null;

/** Native packages and how users install them, per backend. */
const NODE_PACKAGES = {
  "node-gpu": "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
} as const;

/**
 * Parses a user-supplied backend name; undefined, "" and "auto" mean automatic.
 * `source` names where the value came from, for the error message.
 */
export function parseBackendName(value: string | undefined, source: string): BackendName | null {
  if (value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (v === "" || v === "auto") return null;
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new InputError(
    `${source}: unknown TensorFlow.js backend '${value}'; valid values: ${BACKEND_NAMES.join(", ")}, auto`,
  );
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0]!; // split always gives at least one string
}

/** Throws BackendUnavailableError unless the package can be found from here. */
function resolvePackage(backend: BackendName, packageName: string): string {
  try {
    return require.resolve(packageName);
  } catch {
    throw new BackendUnavailableError(
      backend,
      `${packageName} is not installed (its install downloads libtensorflow` +
        (backend === "node-gpu" ? " built for CUDA" : "") +
        "; see README: install it where that download works)",
    );
  }
}

/**
 * Loads tfjs-node(-gpu) and activates its 'tensorflow' backend.
 *
 * It must run on the same @tensorflow/tfjs-core instance as this project's
 * @tensorflow/tfjs, or tensors from one are foreign to the other. In a normal
 * install both are 4.22.0 and npm dedupes tfjs-core to one copy (tfjs-node
 * depends on @tensorflow/tfjs, which depends on tfjs-core); this is checked by
 * resolving tfjs-core from both packages before loading anything native.
 */
async function startNode(backend: "node-gpu" | "node"): Promise<ActiveBackend> {
  const packageName = NODE_PACKAGES[backend];
  const entry = resolvePackage(backend, packageName);
  const coreFromTfjs = require.resolve("@tensorflow/tfjs-core", {
    paths: [path.dirname(require.resolve("@tensorflow/tfjs"))],
  });
  let coreFromNode: string;
  try {
    coreFromNode = require.resolve("@tensorflow/tfjs-core", { paths: [path.dirname(entry)] });
  } catch (e) {
    throw new BackendUnavailableError(
      backend,
      `${packageName} (${entry}) cannot find @tensorflow/tfjs-core: ${firstLine(e)}`,
    );
  }
  if (coreFromNode !== coreFromTfjs) {
    throw new BackendUnavailableError(
      backend,
      `${packageName} uses another copy of @tensorflow/tfjs-core (${coreFromNode}) than ` +
        `@tensorflow/tfjs (${coreFromTfjs}); install the same version as @tensorflow/tfjs (${tf.version.tfjs})`,
    );
  }
  let version = "?";
  try {
    require(packageName); // registers the 'tensorflow' backend with our engine
    version = (require(`${packageName}/package.json`) as { version: string }).version;
  } catch (e) {
    throw new BackendUnavailableError(
      backend,
      `${packageName} is installed but failed to load (its native libtensorflow binding is ` +
        `missing or broken; reinstall it where its install script can download libtensorflow): ${firstLine(e)}`,
    );
  }
  if (tf.findBackendFactory("tensorflow") == null) {
    throw new BackendUnavailableError(backend, `${packageName} loaded but registered no 'tensorflow' backend`);
  }
  const ok = await tf.setBackend("tensorflow");
  if (!ok) {
    throw new BackendUnavailableError(backend, `${packageName} ${version}: tf.setBackend('tensorflow') failed`);
  }
  return { name: backend, tfjsName: "tensorflow", detail: `${packageName} ${version}`, notes: [] };
}

/**
 * Starts the wasm backend from the .wasm binaries inside the installed package
 * (no network). In Node tfjs never picks the threaded build
 * (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE), so the file loaded is
 * tfjs-backend-wasm-simd.wasm when WebAssembly SIMD validates (Node ≥ 16), else
 * tfjs-backend-wasm.wasm. Registers this project's training kernels for wasm.
 */
async function startWasm(threads: number | undefined): Promise<ActiveBackend> {
  registerWasmTrainingKernels();
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  const multithread = (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true;
  let ok: boolean;
  try {
    if (tf.findBackend("wasm") == null) {
      // Explicit path to dist/ so the binary is read from node_modules, never fetched.
      tfWasm.setWasmPaths(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + path.sep);
      if (threads !== undefined && multithread) tfWasm.setThreadsCount(threads);
    }
    ok = await tf.setBackend("wasm");
  } catch (e) {
    throw new BackendUnavailableError("wasm", `the WebAssembly module failed to start: ${firstLine(e)}`);
  }
  if (!ok) throw new BackendUnavailableError("wasm", "the WebAssembly module failed to start");
  const n = tfWasm.getThreadsCount();
  const notes: string[] = [];
  if (threads !== undefined && threads !== n) {
    notes.push(`${threads} wasm threads requested; using ${n}: the multi-threaded wasm build does not run in Node`);
  }
  return { name: "wasm", tfjsName: "wasm", detail: `${simd ? "SIMD" : "no SIMD"}, ${n} thread${n === 1 ? "" : "s"}`, notes };
}

async function startCpu(): Promise<ActiveBackend> {
  const ok = await tf.setBackend("cpu");
  if (!ok) throw new BackendUnavailableError("cpu", "tf.setBackend('cpu') failed");
  return { name: "cpu", tfjsName: "cpu", detail: "pure JavaScript, slow to train", notes: [] };
}

/**
 * Starts the wasm backend, then replaces its heavy kernels by the native addon's
 * (lib/src/ops/native/nativeKernels.ts). Unavailable, with the reason, when the addon
 * was not built or does not load.
 */
async function startNative(threads: number | undefined): Promise<ActiveBackend> {
  const load = loadNativeAddon();
  if (!load.ok) throw new BackendUnavailableError("native", load.reason);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new InputError(`initBackend: threads must be a positive integer, got ${threads}`);
  }
  const wasm = await startWasm(undefined);
  const replaced = registerNativeKernels(load.addon, threads);
  const n = load.addon.getThreads();
  return {
    name: "native",
    tfjsName: "wasm",
    detail: `${load.addon.version()}, ${n} thread${n === 1 ? "" : "s"}, ${replaced.length} native kernels on wasm ${wasm.detail.split(",")[0]}`,
    notes: wasm.notes,
  };
}

function start(name: BackendName, threads: number | undefined): Promise<ActiveBackend> {
  switch (name) {
    case "node-gpu":
    case "node":
      return startNode(name);
    case "native":
      return startNative(threads);
    case "wasm":
      return startWasm(threads);
    case "cpu":
      return startCpu();
  }
}

/** Automatic choice: the first backend that starts. Reasons of installed-but-broken ones are kept. */
async function startAutomatic(threads: number | undefined): Promise<ActiveBackend> {
  const brokenNotes: string[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      const started = await start(name, threads);
      started.notes.unshift(...brokenNotes);
      return started;
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      // "Not installed" is the normal case for the optional native packages: no note.
      if (!/is not installed/.test(e.reason)) brokenNotes.push(`skipped backend ${name}: ${e.reason}`);
      if (name === "cpu") throw e;
    }
  }
  throw new Error("unreachable: the cpu backend is always registered");
}

/**
 * tfjs' cpu backend prints a banner on its first tensor in Node ("Hi, looks like you are running
 * TensorFlow.js in Node.js. To speed things up dramatically, install our node backend …"). Here
 * the backend is chosen by {@link initBackend}, which says which one runs, and tfjs-node often
 * cannot be installed at all (its install downloads libtensorflow): the banner is noise and
 * misleading advice. It is shown once per backend instance, guarded by the instance's
 * `firstUse` flag; this clears the flag on the cpu backend tfjs has created, and wraps the
 * registered factory so that an instance created later starts with it cleared. Every other tfjs
 * warning is kept.
 */
function silenceCpuBanner(): void {
  const engine = tf.engine() as unknown as {
    registry: Record<string, unknown>;
    registryFactory: Record<string, { factory: () => unknown; quiet?: true } | undefined>;
  };
  const quiet = <T>(backend: T): T => {
    if (backend !== null && typeof backend === "object" && "firstUse" in backend) (backend as { firstUse: boolean }).firstUse = false;
    return backend;
  };
  quiet(engine.registry.cpu);
  const entry = engine.registryFactory.cpu;
  if (entry && !entry.quiet) {
    const factory = entry.factory;
    entry.factory = () => quiet(factory());
    entry.quiet = true;
  }
}
silenceCpuBanner();

/**
 * Picks and starts the backend once per process, prints
 * `mirna-dl: TensorFlow.js backend <name> (<detail>)` unless quiet — on stderr, or on stdout
 * inside a notebook (tslab shows stderr as a red box, which reads as an error) — and
 * returns its name. Later calls return the same backend without starting it again
 * (re-activating it if other code switched tfjs to another backend meanwhile).
 *
 * Errors: an unknown name (InputError listing the valid ones); a requested backend
 * that cannot start (BackendUnavailableError with the reason); a request for a
 * backend other than the one already started in this process.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendName> {
  const requested =
    opts.preferred !== undefined
      ? parseBackendName(opts.preferred, "initBackend({preferred})")
      : parseBackendName(process.env[BACKEND_ENV_VAR], BACKEND_ENV_VAR);
  if (requested === "node-gpu" || requested === "node") {
    resolvePackage(requested, NODE_PACKAGES[requested]); // "not installed" beats "already started"
  }
  if (pending == null) {
    pending = (requested ? start(requested, opts.threads) : startAutomatic(opts.threads)).then(
      (started) => {
        active = started;
        if (!opts.quiet) {
          // The CLI's stdout may be data (`predict -o -`): there the line goes to stderr.
          const log = insideTslab() ? process.stdout : process.stderr;
          log.write(`mirna-dl: TensorFlow.js backend ${started.name} (${started.detail})\n`);
          for (const note of started.notes) log.write(`mirna-dl: ${note}\n`);
        }
        return started;
      },
      (e: unknown) => {
        pending = null; // a failed start may be retried with another choice
        throw e;
      },
    );
  }
  const current = await pending;
  if (requested != null && requested !== current.name) {
    throw new InputError(
      `TensorFlow.js backend '${current.name}' is already in use in this process; ` +
        `cannot switch to '${requested}' (set ${BACKEND_ENV_VAR} before starting)`,
    );
  }
  if (tf.getBackend() !== current.tfjsName) await tf.setBackend(current.tfjsName);
  return current.name;
}

/**
 * Short description of the backend for JSON reports, e.g.
 * "wasm (SIMD, 1 thread; tfjs 4.22.0)"; "not initialized" before initBackend.
 */
export function describeBackend(): string {
  if (active == null) return "not initialized";
  return `${active.name} (${active.detail}; tfjs ${tf.version.tfjs})`;
}

/** The backend initBackend started, or null before. */
export function activeBackend(): BackendName | null {
  return active?.name ?? null;
}
