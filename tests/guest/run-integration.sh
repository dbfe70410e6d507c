#!/usr/bin/env bash
# Runs INSIDE the test guest: the integration tests, as TAP. From the host:
#
#   tests/guest/run.sh tests/guest/run-integration.sh [BATS ARGS...]
#
# With no arguments: every tests/integration/*.bats file, in name order. With
# arguments: bats gets them instead (e.g. one file, or --filter REGEX tests/integration).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ -z "${ZKEEP_GUEST:-}" ]; then
    echo "run-integration.sh: runs inside the test guest:" \
        "tests/guest/run.sh tests/guest/run-integration.sh" >&2
    exit 2
fi
command -v bats >/dev/null || { echo "run-integration.sh: bats not found (run tests/guest/install-deps.sh)" >&2; exit 2; }

# The sanitizer settings run-suites.sh uses, so one file against build-asan/ runs as
# in CI (leaks are checked by the unit tests, not here).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
if [ $# -eq 0 ]; then
    set -- tests/integration/
fi
status=0
bats --tap "$@" || status=$?
exit "$status"
