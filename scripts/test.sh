#!/usr/bin/env bash
# Runs every gate and test: ruff, mypy and the import-layer contracts (Python and TypeScript), the
# front end's type check and unit tests, then pytest (Python tests and the real-browser tests in
# tests/browser). Installs whatever is missing first (scripts/setup.sh).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k lab -x`.
set -euo pipefail
# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

failed=()
run_step() {
  local name="$1"
  shift
  section "$name"
  if "$@"; then
    echo "---- $name: ok"
  else
    echo "---- $name: FAILED (exit $?)"
    failed+=("$name")
  fi
}

run_step "gate: ruff check" ruff check src tests benchmarks
run_step "gate: ruff format --check" ruff format --check src tests benchmarks
run_step "gate: mypy" mypy
run_step "gate: import layers (lint-imports)" lint-imports
run_step "gate: no TypeScript import circle" npm run --silent check:cycles
run_step "gate: TypeScript layers import only downward" npm run --silent check:layers
run_step "test: npm run typecheck" npm run typecheck
run_step "test: npm test (vitest)" npm test
run_step "test: pytest" python -m pytest -q "$@"

section_summary
if [ "${#failed[@]}" -gt 0 ]; then
  printf '\n'
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
printf '\nall tests passed\n'
