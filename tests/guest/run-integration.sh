#!/usr/bin/env bash
# Runs INSIDE the test guest: the integration tests, as TAP. From the host:
#
#   tests/guest/run.sh tests/guest/run-integration.sh [BATS ARGS...]
#
# With no arguments: every tests/integration/*.bats file, in name order. With
# arguments: those files or folders, and bats options such as --filter REGEX.
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
# Options for bats (--filter REGEX, ...) and the files or folders to run.
opts=() files=()
while [ $# -gt 0 ]; do
    case $1 in
        --filter | -f) opts+=("$1" "$2"); shift 2 ;;
        -*) opts+=("$1"); shift ;;
        *) if [ -d "$1" ]; then files+=("${1%/}"/*.bats); else files+=("$1"); fi; shift ;;
    esac
done
# With no files: all of them, but those that need systemd as PID 1 (NN-systemd-*.bats)
# only in a guest booted with run.sh --systemd. Named explicitly, a file always runs
# (and the systemd ones fail outside such a guest).
if [ ${#files[@]} -eq 0 ]; then
    pid1=$(cat /proc/1/comm)
    for f in tests/integration/*.bats; do
        if [[ ${f##*/} == [0-9]*-systemd-*.bats && $pid1 != systemd ]]; then
            echo "# not run: $f needs systemd as PID 1 (tests/guest/run.sh --systemd)"
        else
            files+=("$f")
        fi
    done
fi
# One bats run per file, so each file's wall time (setup_file included) is known:
# "# time FILE: N s" lines, and "ok N NAME in N ms" per test (--timing), which
# tests/run-all.sh sorts into the slowest files and tests at the end of a run.
# Milliseconds since boot: tests set the wall clock (30-sanoid-diff), uptime goes on.
uptime_ms() {
    local up _
    read -r up _ </proc/uptime
    echo $((10#${up/./} * 10))
}
# Busy and idle CPU ticks of the guest (all vCPUs): a file that leaves the CPUs
# idle is waiting (sleeps, timeouts), not computing, and is cheap to speed up.
cpu_ticks() {
    local _cpu user nice sys idle iowait rest
    read -r _cpu user nice sys idle iowait rest </proc/stat
    echo "$((user + nice + sys)) $((idle + iowait))"
}
status=0
for f in "${files[@]}"; do
    echo "# file: $f"
    t0=$(uptime_ms)
    read -r busy0 idle0 < <(cpu_ticks)
    bats --tap --timing "${opts[@]}" "$f" || status=1
    read -r busy1 idle1 < <(cpu_ticks)
    echo "# time $(basename "$f" .bats): $(($(uptime_ms) - t0)) ms," \
        "cpu busy $(((busy1 - busy0) * 100 / (busy1 - busy0 + idle1 - idle0 + 1)))%"
done
exit "$status"
