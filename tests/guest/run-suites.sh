#!/usr/bin/env bash
# Runs INSIDE the guest, so one guest boot serves every pass:
#   1. the integration tests once per build named in ZKEEP_TEST_BUILDS
#      (default "build"), each a TAP stream announced by a "# suite:" line;
#   2. with ZKEEP_DEMO_BUILD set, the demo (demo/demo-guest.sh) against that
#      build: the whole snapshot -> replicate -> prune -> restore cycle.
# With ZKEEP_TEST_TIER=2.1 (in a guest booted with ZKEEP_ZFS=2.1) only the files of
# that version tier run, and no demo (below).
# With ZKEEP_TEST_SHARD=K/N (1 <= K <= N) it runs only shard K of N (files
# balanced by rough weights, below), and the demo only in shard N: tests/run-all.sh boots N
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
# ZKEEP_TEST_TIER=2.1: the version tier instead of every file, for a guest booted with
# ZKEEP_ZFS=2.1 (OpenZFS 2.1.11, Debian 12's): backend, snapshots, replication basics,
# resume and the confined worker. The guest must run that version (module and tools),
# else the pass fails at once instead of testing the host's ZFS under the tier's name.
# No demo in a tier pass.
tier=${ZKEEP_TEST_TIER:-}
case $tier in
    "") ;;
    2.1)
        all=(tests/integration/10-backend.bats tests/integration/30-sanoid-take.bats
            tests/integration/40-replicate-basic.bats tests/integration/40-replicate-resume.bats
            tests/integration/50-confine-worker.bats tests/integration/51-confine-replicate.bats)
        kmod=$(cat /sys/module/zfs/version 2>/dev/null)
        user=$(zfs version 2>/dev/null | head -n1)
        if [[ $kmod != 2.1.* || $user != zfs-2.1.* ]]; then
            echo "run-suites.sh: ZKEEP_TEST_TIER=2.1 but the guest runs zfs module '$kmod'," \
                "tools '$user': boot it with ZKEEP_ZFS=2.1 tests/guest/run.sh" >&2
            exit 2
        fi
        ZKEEP_DEMO_BUILD= ;;
    *)
        echo "run-suites.sh: ZKEEP_TEST_TIER='$tier' is not a tier (2.1)" >&2
        exit 2 ;;
esac
shard=${ZKEEP_TEST_SHARD:-1/1}
k=${shard%/*} n=${shard#*/}
[[ $k =~ ^[1-9][0-9]*$ && $n =~ ^[1-9][0-9]*$ ]] && [ "$k" -le "$n" ] ||
    { echo "run-suites.sh: ZKEEP_TEST_SHARD wants K/N with 1 <= K <= N, not '$shard'" >&2; exit 2; }
# Longest first onto the least loaded shard. The weights are rough minutes per file
# seen under TCG (a file not listed counts 2); the demo (about 3) goes to shard N.
declare -A weight=([10-backend]=4 [30-sanoid-diff]=6 [30-sanoid-prune]=4 [30-sanoid-year]=4
    [40-replicate-basic]=4 [40-replicate-options]=8 [40-replicate-resume]=5 [40-replicate-ssh]=10
    [41-syncoid-diff]=12 [45-transport-serve]=6 [45-transport-ssh]=3 [50-confine-worker]=6
    [52-confine-units]=3 [53-confine-sanoid]=6 [54-confine-ssh]=3 [60-drive-backup]=14
    [60-drive-unplug]=3 [60-drive-verify]=8 [70-hostile-receive]=4 [71-hostile-token]=3
    [74-hostile-worker-files]=3 [75-hostile-grants]=3 [76-hostile-drive]=3)
load=()
for ((i = 1; i <= n; i++)); do load[i]=0; done
load[n]=3
files=()
while IFS=' ' read -r w f; do
    best=1
    for ((i = 2; i <= n; i++)); do
        [ "${load[i]}" -lt "${load[best]}" ] && best=$i
    done
    load[best]=$((load[best] + w))
    [ "$best" -eq "$k" ] && files+=("$f")
done < <(for f in "${all[@]}"; do
    b=$(basename "$f" .bats)
    echo "${weight[$b]:-2} $f"
done | sort -k1,1nr -k2,2)
# ...and each shard in name order, as a single guest runs them.
[ ${#files[@]} -eq 0 ] || mapfile -t files < <(printf '%s\n' "${files[@]}" | sort)
[ "$k" -eq "$n" ] || ZKEEP_DEMO_BUILD=
echo "# shard $k/$n${tier:+, tier $tier}: ${files[*]##*/}"
status=0
for b in ${ZKEEP_TEST_BUILDS:-build}; do
    echo "# suite: integration tests against $b/${tier:+ on ZFS $tier}"
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
