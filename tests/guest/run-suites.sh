#!/usr/bin/env bash
# Runs INSIDE the guest, so one guest boot serves every pass:
#   1. the integration tests once per build named in ZKEEP_TEST_BUILDS
#      (default "build"), each a TAP stream announced by a "# suite:" line;
#   2. with ZKEEP_DEMO_BUILD set, the demo (demo/demo-guest.sh) against that
#      build: the whole snapshot -> replicate -> prune -> restore cycle.
# With ZKEEP_TEST_SHARD=K/N (1 <= K <= N) it runs only every Nth test file,
# starting with the Kth, and the demo only in shard N: tests/run-all.sh boots N
# guests at once, because one guest keeps about one host core busy (its tests
# run one zfs command after another) and CI machines have two.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Sanitizer runtime settings for the asan build (harmless for the others).
# Leaks are not errors here: a command that exits on a fatal error does not
# free what it held; the unit tests check leaks.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0

args=()
[ -n "${ZKEEP_TEST_FILTER:-}" ] && args+=(--filter "$ZKEEP_TEST_FILTER")
# Every file, the drive tests (60-drive-*) included: they used to take about 50
# minutes because each `zpool import` scan waited 30 s for the udev the guest does
# not run (now ZPOOL_IMPORT_UDEV_TIMEOUT_MS=0 in tests/integration/drive.bash, and
# zkeep imports with one scan instead of two).
all=(tests/integration/*.bats)
shard=${ZKEEP_TEST_SHARD:-1/1}
k=${shard%/*} n=${shard#*/}
[[ $k =~ ^[1-9][0-9]*$ && $n =~ ^[1-9][0-9]*$ ]] && [ "$k" -le "$n" ] ||
    { echo "run-suites.sh: ZKEEP_TEST_SHARD wants K/N with 1 <= K <= N, not '$shard'" >&2; exit 2; }
files=()
for i in "${!all[@]}"; do
    [ $((i % n + 1)) -eq "$k" ] && files+=("${all[$i]}")
done
[ "$k" -eq "$n" ] || ZKEEP_DEMO_BUILD=
echo "# shard $k/$n: ${files[*]##*/}"
status=0
for b in ${ZKEEP_TEST_BUILDS:-build}; do
    echo "# suite: integration tests against $b/"
    ZKEEP_BUILD=$b tests/guest/run-integration.sh "${args[@]}" "${files[@]}" || status=1
done
if [ -n "${ZKEEP_DEMO_BUILD:-}" ]; then
    echo "# suite: demo against $ZKEEP_DEMO_BUILD/"
    if ZKEEP_BUILD=$ZKEEP_DEMO_BUILD demo/demo-guest.sh; then
        echo "ok - demo: snapshot, replicate, prune, restore with $ZKEEP_DEMO_BUILD/zkeep"
    else
        echo "not ok - demo failed with $ZKEEP_DEMO_BUILD/zkeep"
        status=1
    fi
fi
exit $status
