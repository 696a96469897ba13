#!/usr/bin/env bash
# Opens the quickstart notebook in JupyterLab, after installing whatever is missing
# (scripts/setup.sh). Extra arguments go to `jupyter lab`, e.g. `bash scripts/lab.sh --port 8899`.
set -euo pipefail
# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
section_summary

args=()
if [ "$(id -u)" -eq 0 ]; then
  args+=(--allow-root)
fi
section "jupyter lab notebooks/quickstart.ipynb"
exec python -m jupyter lab notebooks/quickstart.ipynb "${args[@]}" "$@"
