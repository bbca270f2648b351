#!/usr/bin/env bash
# Prepares this checkout for tests and notebooks. Idempotent; a run where
# everything is already in place only checks (well under a second).
#
#   bash environment/setup.sh [--quiet]
#
# Steps:
#   apt     Debian packages in environment/apt-packages.txt that dpkg does not
#           list as installed: `apt-get update` + `apt-get install` (as root,
#           else through sudo, else an error saying what to install).
#   npm     `npm ci` when node_modules is missing or does not match
#           package-lock.json. A stamp (sha256 of the lockfile) makes the
#           common case a single hash comparison.
#   lib     `tsc -p lib` when a file under lib/src (or lib's tsconfig/package
#           file) is newer than the last build; builds into a temporary folder
#           and swaps it in, so lib/dist is never half-written.
#   native  builds the native TensorFlow.js kernels (lib/native/: N-API addon over
#           oneDNN and OpenBLAS, see lib/src/ops/native/) with node-gyp into
#           lib/native/build/ when a source is newer than the built addon. Needs g++,
#           make, libdnnl-dev, libopenblas-dev and
#           Node's headers (no download); without them, or when the build
#           fails, it prints one notice and the wasm backend is used instead.
#           A failed build is not retried until lib/native/ changes.
#   lab     JupyterLab (pinned in environment/jupyterlab-requirements.txt) into
#           .venv/, a virtual environment of Debian's /usr/bin/python3
#           (MIRNA_DL_PYTHON overrides), with pip from the package index pip
#           is configured with (no retries: quick when an index is
#           unreachable). Skipped when .venv/ already holds that pin. When pip
#           cannot install it: one notice, and `npm run jupyter` uses Debian's
#           classic Notebook; not retried until the pin changes (or
#           .venv/.mirna-dl-lab-failed is deleted).
#   kernel  registers the tslab kernel into .jupyter/ of this checkout unless the
#           registered kernel already runs this checkout's node_modules/.bin/tslab.
#           Both front ends (JupyterLab from .venv/, the classic Notebook) and
#           nbconvert find it there through JUPYTER_PATH.
#   trust   marks the committed notebooks (notebooks/*.ipynb) trusted in Jupyter's
#           signature database, so the classic Notebook shows their figures
#           instead of "Not Trusted"; again whenever a notebook changed.
#
# --quiet prints only what is actually installed or built (and the notices).
# MIRNA_DL_SKIP_APT=1 skips the apt step (e.g. a conda environment on Ubuntu,
# see environment/environment.yml).
set -euo pipefail

quiet=0
for arg in "$@"; do
  case "$arg" in
    --quiet | -q) quiet=1 ;;
    -h | --help)
      awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown argument '$arg' (usage: bash environment/setup.sh [--quiet])" >&2
      exit 2
      ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# say: progress line, suppressed by --quiet. act: something is being changed,
# always printed.
say() { if [ "$quiet" = 0 ]; then echo "setup: $*"; fi; }
act() { echo "setup: $*"; }
die() {
  echo "setup: ERROR: $*" >&2
  exit 1
}

# Runs a command as root: directly, through sudo, or not at all (returns 1).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo > /dev/null 2>&1; then
    sudo "$@"
  else
    return 1
  fi
}
can_be_root() { [ "$(id -u)" = 0 ] || command -v sudo > /dev/null 2>&1; }

# ---------------------------------------------------------------- apt ------
# Sets the globals apt_packages (names) and apt_components (parallel array:
# archive component the package needs enabled, or empty).
read_apt_list() {
  apt_packages=()
  apt_components=()
  local line name comment component lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    name="${line%%#*}"
    name="${name//[[:space:]]/}"
    [ -n "$name" ] || continue
    if ! [[ "$name" =~ ^[a-z0-9][a-z0-9.+-]+$ ]]; then
      die "environment/apt-packages.txt:$lineno: '$name' is not a Debian package name"
    fi
    component=""
    if [[ "$line" == *"#"* ]]; then
      comment="${line#*#}"
      if [[ "$comment" =~ component=([a-z0-9-]+) ]]; then component="${BASH_REMATCH[1]}"; fi
    fi
    apt_packages+=("$name")
    apt_components+=("$component")
  done < environment/apt-packages.txt
}

# True when some configured apt source already offers archive component $1.
component_enabled() {
  local component="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    if grep -Eq "^Components:.*[[:space:]]${component}([[:space:]]|\$)" "$f"; then return 0; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    if grep -Eq "^deb[[:space:]].*[[:space:]]${component}([[:space:]]|\$)" "$f"; then return 0; fi
  done
  return 1
}

# Enables archive component $1 (e.g. non-free) by writing a second deb822
# entry with the URIs, suites and key of the main archive entry (the first
# stanza of debian.sources whose suites are not *-security).
enable_component() {
  local component="$1" main_sources=/etc/apt/sources.list.d/debian.sources
  local target="/etc/apt/sources.list.d/mirna-dl-${component}.sources"
  [ -r "$main_sources" ] || die "cannot enable apt component '$component': $main_sources not found; add '$component' to your apt sources by hand"
  local stanza
  stanza="$(awk -v comp="$component" '
    BEGIN { RS = ""; FS = "\n" }
    {
      types = ""; uris = ""; suites = ""; signed = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Types:/) types = $i
        else if ($i ~ /^URIs:/) uris = $i
        else if ($i ~ /^Suites:/) suites = $i
        else if ($i ~ /^Signed-By:/) signed = $i
      }
      if (uris != "" && suites != "" && suites !~ /-security/) {
        print "# Written by mirna-dl environment/setup.sh: adds the " comp " component of the main archive."
        print (types != "" ? types : "Types: deb"); print uris; print suites
        print "Components: " comp
        if (signed != "") print signed
        exit
      }
    }' "$main_sources")"
  [ -n "$stanza" ] || die "cannot enable apt component '$component': no main archive entry in $main_sources"
  act "apt: enabling component '$component' ($target)"
  printf '%s\n' "$stanza" | as_root tee "$target.tmp" > /dev/null
  as_root mv "$target.tmp" "$target"
}

step_apt() {
  read_apt_list
  if [ "${MIRNA_DL_SKIP_APT:-0}" = 1 ]; then
    say "apt: skipped (MIRNA_DL_SKIP_APT=1)"
    return
  fi
  if ! command -v dpkg-query > /dev/null 2>&1; then
    say "apt: not a Debian system, skipped; provide ${apt_packages[*]} yourself (see environment/environment.yml)"
    return
  fi
  local installed missing=() missing_components=() i
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${apt_packages[@]}" 2> /dev/null || true)"
  for i in "${!apt_packages[@]}"; do
    if ! grep -qx "${apt_packages[$i]} ii *" <<< "$installed"; then
      missing+=("${apt_packages[$i]}")
      if [ -n "${apt_components[$i]}" ]; then missing_components+=("${apt_components[$i]}"); fi
    fi
  done
  if [ "${#missing[@]}" = 0 ]; then
    say "apt: ${#apt_packages[@]} packages installed"
    return
  fi
  if ! can_be_root; then
    local hint=""
    if [ "${#missing_components[@]}" != 0 ]; then
      hint=" (first add the apt component(s) ${missing_components[*]} to /etc/apt/sources.list.d/debian.sources)"
    fi
    die "missing Debian packages: ${missing[*]}. Not root and no sudo; as root run${hint}:
  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  local component
  for component in $(printf '%s\n' "${missing_components[@]}" | sort -u); do
    component_enabled "$component" || enable_component "$component"
  done
  act "apt: installing ${missing[*]}"
  # Wait for a dpkg lock held by another apt run instead of failing at once.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900 update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900 \
    install -y --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------- npm ------
npm_stamp=node_modules/.mirna-dl-setup.sha256

# Exit status 0 when every package in package-lock.json that npm ci would
# install is present in node_modules with the locked version. Optional
# packages are allowed to be missing (e.g. @tensorflow/tfjs-node, whose
# download fails offline) unless they are a native binary for this very
# platform (e.g. nodejs-polars-linux-x64-gnu).
node_modules_match_lock() {
  node - << 'EOF'
const fs = require("fs");
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
const libc = glibc ? "glibc" : "musl";
const forThisPlatform = (e) =>
  (!e.os || e.os.includes(process.platform)) &&
  (!e.cpu || e.cpu.includes(process.arch)) &&
  (!e.libc || e.libc.includes(libc));
const problems = [];
for (const [dir, entry] of Object.entries(lock.packages ?? {})) {
  if (!dir.includes("node_modules/")) continue;
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8"));
  } catch {
    const mayBeAbsent = entry.optional && (!(entry.os || entry.cpu || entry.libc) || !forThisPlatform(entry));
    if (!mayBeAbsent) problems.push(`${dir} missing`);
    continue;
  }
  if (!entry.link && entry.version && installed.version !== entry.version)
    problems.push(`${dir} is ${installed.version}, lock says ${entry.version}`);
}
if (problems.length) {
  console.error(`node_modules differs from package-lock.json: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ""}`);
  process.exit(1);
}
EOF
}

step_npm() {
  command -v node > /dev/null 2>&1 || die "node is not on PATH (Node.js 20, 22 or 24 is required; README.md says how to get one)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old: 20, 22 or 24 is required (README.md says how to get one)"
  local lock_hash
  lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -d node_modules ] && [ "$(cat "$npm_stamp" 2> /dev/null || true)" = "$lock_hash" ]; then
    say "npm: node_modules matches package-lock.json"
    return
  fi
  # No stamp or another lockfile: node_modules may still be right (installed
  # by hand with npm install); check before reinstalling everything.
  local mismatch="node_modules is missing"
  if [ -d node_modules ] && mismatch="$(node_modules_match_lock 2>&1)"; then
    say "npm: node_modules matches package-lock.json (checked, stamp written)"
  else
    act "npm: installing packages with npm ci ($mismatch)"
    npm ci --no-audit --no-fund
  fi
  printf '%s\n' "$lock_hash" > "$npm_stamp.tmp"
  mv "$npm_stamp.tmp" "$npm_stamp"
}

# ---------------------------------------------------------------- lib ------
build_stamp=lib/dist/.mirna-dl-build-stamp

step_lib() {
  if [ -z "$(find lib/src -name '*.ts' -print -quit 2> /dev/null)" ]; then
    say "lib: no sources in lib/src yet, nothing to build"
    return
  fi
  if [ -f "$build_stamp" ] &&
    [ -z "$(find lib/src lib/tsconfig.json lib/package.json -newer "$build_stamp" -print -quit)" ]; then
    say "lib: lib/dist is up to date"
    return
  fi
  act "lib: building lib/dist (tsc -p lib)"
  local tmp="lib/.dist-building.$$" old="lib/.dist-old.$$"
  rm -rf "$tmp"
  # Stamp time = start of the build, so edits made during the build count.
  touch "$tmp.stamp"
  # node_modules/.bin/tsc is tslab's bundled TypeScript 5.0; build with the project's pinned one.
  if ! node node_modules/typescript/bin/tsc -p lib --outDir "$tmp"; then
    rm -rf "$tmp" "$tmp.stamp"
    die "lib: tsc -p lib failed (errors above)"
  fi
  mv "$tmp.stamp" "$tmp/.mirna-dl-build-stamp"
  if [ -d lib/dist ]; then mv lib/dist "$old"; fi
  mv "$tmp" lib/dist
  rm -rf "$old"
}

# ------------------------------------------------------------- native ------
native_addon=lib/native/build/Release/mirna_native.node
native_failed=lib/native/build/.mirna-dl-build-failed
native_log=lib/native/build/build.log

# Hash of everything the native build reads, to remember a failed build.
native_sources_hash() {
  cat lib/native/binding.gyp lib/native/src/* 2> /dev/null | sha256sum | cut -d' ' -f1
}

# One line, printed even with --quiet: the native backend is not available.
native_notice() {
  echo "setup: native: NOTICE: native kernels not built ($1); TensorFlow.js uses the wasm backend"
}

step_native() {
  if [ ! -f lib/native/binding.gyp ]; then
    say "native: no lib/native/binding.gyp, nothing to build"
    return
  fi
  if [ -f "$native_addon" ] &&
    [ -z "$(find lib/native/binding.gyp lib/native/src -newer "$native_addon" -print -quit)" ]; then
    say "native: $native_addon is up to date"
    return
  fi
  local hash
  hash="$(native_sources_hash)"
  if [ -f "$native_failed" ] && [ "$(cat "$native_failed")" = "$hash" ]; then
    native_notice "an earlier build of these sources failed, see $native_log; delete $native_failed to retry"
    return
  fi
  if ! command -v g++ > /dev/null 2>&1 || ! command -v make > /dev/null 2>&1; then
    native_notice "no C++ compiler: apt-get install g++ make"
    return
  fi
  if ! printf '#include <dnnl.hpp>\n' | g++ -std=c++17 -E -x c++ - > /dev/null 2>&1; then
    native_notice "oneDNN headers not found: apt-get install libdnnl-dev"
    return
  fi
  if ! printf '#include <cblas.h>\n' | g++ -E -x c++ - > /dev/null 2>&1; then
    native_notice "OpenBLAS headers not found: apt-get install libopenblas-dev"
    return
  fi
  # node-gyp as bundled with npm; Node's own headers (never downloaded).
  local npm_cli gyp nodedir
  npm_cli="$(readlink -f "$(command -v npm)")"
  gyp="$(dirname "$npm_cli")/../node_modules/node-gyp/bin/node-gyp.js"
  if [ ! -f "$gyp" ]; then
    native_notice "node-gyp not found next to npm ($gyp)"
    return
  fi
  nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(node -p process.execPath)")")}"
  if [ ! -f "$nodedir/include/node/node_api.h" ]; then
    native_notice "Node's headers not found under $nodedir/include/node (set npm_config_nodedir)"
    return
  fi
  act "native: building $native_addon (node-gyp, oneDNN)"
  # node-gyp rebuild empties lib/native/build: log outside it, move the log in afterwards.
  local log
  log="$(mktemp)"
  if (cd lib/native && node "$gyp" rebuild --nodedir="$nodedir") > "$log" 2>&1 &&
    node -e 'require(require("path").resolve(process.argv[1])).version()' "$native_addon" >> "$log" 2>&1; then
    mv "$log" "$native_log"
    rm -f "$native_failed"
  else
    mkdir -p lib/native/build
    mv "$log" "$native_log"
    rm -f "$native_addon"
    printf '%s\n' "$hash" > "$native_failed"
    native_notice "node-gyp build failed, see $native_log"
  fi
}

# ---------------------------------------------------------------- lab ------
lab_venv=.venv
lab_requirements=environment/jupyterlab-requirements.txt
lab_stamp=$lab_venv/.mirna-dl-lab
lab_failed=$lab_venv/.mirna-dl-lab-failed
lab_log=$lab_venv/pip-install.log
# Debian's Python, explicitly: `python3` on PATH may be another one (pyenv, conda).
lab_python="${MIRNA_DL_PYTHON:-/usr/bin/python3}"

# One line, printed even with --quiet: JupyterLab is not available.
lab_notice() {
  echo "setup: lab: NOTICE: JupyterLab not installed ($1); npm run jupyter uses the classic Notebook"
}

# What the installed environment must match: the pinned requirements and the Python.
lab_hash() {
  { cat "$lab_requirements"; echo "python=$lab_python"; } | sha256sum | cut -d' ' -f1
}

step_lab() {
  local hash
  hash="$(lab_hash)"
  if [ -x "$lab_venv/bin/jupyter-lab" ] && [ "$(cat "$lab_stamp" 2> /dev/null || true)" = "$hash" ]; then
    say "lab: JupyterLab in $lab_venv/ ($(grep -m1 -o 'jupyterlab==[^ ]*' "$lab_requirements"))"
    return
  fi
  if [ -f "$lab_failed" ] && [ "$(cat "$lab_failed")" = "$hash" ]; then
    lab_notice "an earlier pip install failed, see $lab_log; delete $lab_failed to retry"
    return
  fi
  if [ ! -x "$lab_python" ]; then
    lab_notice "no Python at $lab_python (Debian: apt-get install python3-venv python3-pip; or set MIRNA_DL_PYTHON)"
    return
  fi
  act "lab: installing JupyterLab into $lab_venv/ (pip, $lab_python; pin in $lab_requirements)"
  local log
  log="$(mktemp)"
  # --retries 0 --timeout 10: an unreachable index fails at once instead of after minutes of retries.
  if { [ -x "$lab_venv/bin/python" ] || "$lab_python" -m venv "$lab_venv"; } > "$log" 2>&1 &&
    "$lab_venv/bin/python" -m pip install --disable-pip-version-check --no-input --retries 0 --timeout 10 \
      -r "$lab_requirements" >> "$log" 2>&1 &&
    "$lab_venv/bin/jupyter-lab" --version >> "$log" 2>&1; then
    mv "$log" "$lab_log"
    rm -f "$lab_failed"
    printf '%s\n' "$hash" > "$lab_stamp"
  else
    mkdir -p "$lab_venv"
    mv "$log" "$lab_log"
    rm -f "$lab_stamp"
    printf '%s\n' "$hash" > "$lab_failed"
    local why
    why="$(grep -E '^(ERROR|Error):' "$lab_log" | tail -1 | cut -c1-200)"
    lab_notice "pip failed${why:+: $why}; see $lab_log"
  fi
}

# ------------------------------------------------------------- kernel ------
kernel_dir=.jupyter/share/jupyter/kernels/tslab

step_kernel() {
  local tslab_bin="$root/node_modules/.bin/tslab"
  [ -x "$tslab_bin" ] || die "kernel: $tslab_bin not found (npm step did not install tslab?)"
  if [ -f "$kernel_dir/kernel.json" ] &&
    node -e 'const k = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
             process.exit(k.argv && k.argv[0] === process.argv[2] ? 0 : 1)' \
      "$kernel_dir/kernel.json" "$tslab_bin"; then
    say "kernel: tslab registered in .jupyter/ (runs this checkout's tslab)"
    return
  fi
  local jupyter python
  jupyter="$(command -v jupyter || true)"
  [ -n "$jupyter" ] || die "kernel: 'jupyter' is not on PATH (Debian: apt-get install jupyter-notebook jupyter-nbconvert; elsewhere see environment/environment.yml)"
  # jupyter runs on its own Python; the python3 first on PATH may lack jupyter_client.
  python="$(sed -n '1s/^#!//p' "$jupyter")"
  case "$python" in
    */env\ *) python="${python#*/env }" ;; # "#!/usr/bin/env python3"
  esac
  python="${python%% *}"
  [ -n "$python" ] || die "kernel: cannot read the Python interpreter from the first line of $jupyter"
  act "kernel: registering tslab in .jupyter/ (python $python)"
  local log
  if ! log="$("$tslab_bin" install --python "$python" --binary "$tslab_bin" --prefix "$root/.jupyter" 2>&1)"; then
    echo "$log" >&2
    die "kernel: tslab install failed"
  fi
  if [ "$quiet" = 0 ]; then echo "$log" | sed 's/^/  /'; fi
}

# -------------------------------------------------------------- trust ------
# Jupyter keeps notebook signatures in a database of the user's data folder, not in the files:
# trusting changes no notebook. The stamp holds the notebooks' hash and the database's inode,
# so a changed notebook or a new database is trusted again.
trust_stamp=.jupyter/.mirna-dl-trusted

step_trust() {
  local notebooks=() f
  for f in notebooks/*.ipynb; do [ -e "$f" ] && notebooks+=("$f"); done
  if [ "${#notebooks[@]}" = 0 ]; then
    say "trust: no notebooks in notebooks/"
    return
  fi
  local data_dir db state
  data_dir="${JUPYTER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}"
  db="$data_dir/nbsignatures.db"
  state="$({ cat "${notebooks[@]}"; stat -c 'db %i' "$db" 2> /dev/null || echo "no db"; } | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$trust_stamp" 2> /dev/null || true)" = "$state" ]; then
    say "trust: ${#notebooks[@]} notebooks trusted"
    return
  fi
  # nbformat's `jupyter trust`, run with the Python of the jupyter on PATH (Debian's).
  local python
  python="$(sed -n '1s/^#!//p' "$(command -v jupyter)")"
  case "$python" in */env\ *) python="${python#*/env }" ;; esac
  python="${python%% *}"
  act "trust: marking ${#notebooks[@]} notebooks trusted"
  local log
  if ! log="$("$python" -m nbformat.sign "${notebooks[@]}" 2>&1)"; then
    echo "$log" >&2
    die "trust: $python -m nbformat.sign failed"
  fi
  if [ "$quiet" = 0 ]; then echo "$log" | sed 's/^/  /'; fi
  mkdir -p .jupyter
  { cat "${notebooks[@]}"; stat -c 'db %i' "$db" 2> /dev/null || echo "no db"; } | sha256sum | cut -d' ' -f1 > "$trust_stamp"
}

start_ns=$(date +%s%N)
step_apt
step_npm
step_lib
step_native
step_lab
step_kernel
step_trust
say "done in $((($(date +%s%N) - start_ns) / 1000000)) ms"
