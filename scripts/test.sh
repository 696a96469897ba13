#!/usr/bin/env bash
# Runs every test: the front end's type check, unit tests and import checks, then pytest (Python tests and
# the real-browser tests in tests/browser). Installs whatever is missing first (scripts/setup.sh).
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

run_step "test: npm run typecheck" npm run typecheck
run_step "test: npm test (vitest)" npm test
run_step "test: npm run check:cycles" npm run check:cycles
run_step "test: npm run check:layers" npm run check:layers
run_step "test: pytest" python -m pytest -q "$@"

section_summary
if [ "${#failed[@]}" -gt 0 ]; then
  printf '\n'
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
printf '\nall tests passed\n'
