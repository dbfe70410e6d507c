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
# The files named NN-systemd-*.bats need systemd as PID 1: they are never in the
# shards. With ZKEEP_TEST_SYSTEMD=1 (in a guest booted with run.sh --systemd) it
# runs those files only, in one pass, without shards or demo:
#   ZKEEP_TEST_SYSTEMD=1 tests/guest/run.sh --systemd --hotplug-disk 128 tests/guest/run-suites.sh
# (--hotplug-disk: the drive tests' hot-plugged disk, 81-systemd-drive.bats).
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
all=()
systemd_files=()
for f in tests/integration/*.bats; do
    case ${f##*/} in
        [0-9]*-systemd-*.bats) systemd_files+=("$f") ;;
        *) all+=("$f") ;;
    esac
done
if [ "${ZKEEP_TEST_SYSTEMD:-0}" = 1 ]; then
    [ "$(cat /proc/1/comm)" = systemd ] || {
        echo "run-suites.sh: ZKEEP_TEST_SYSTEMD=1 needs systemd as PID 1: tests/guest/run.sh --systemd" >&2
        exit 2
    }
    status=0
    echo "# systemd pass: ${systemd_files[*]##*/}"
    for b in ${ZKEEP_TEST_BUILDS:-build}; do
        echo "# suite: systemd tests against $b/"
        ZKEEP_BUILD=$b tests/guest/run-integration.sh "${args[@]}" "${systemd_files[@]}" || status=1
    done
    exit $status
fi
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
# Longest first onto the least loaded shard. The weights are each file's seconds in
# a full run (one-vCPU guests, two side by side, the host otherwise busy: run-all.sh
# prints every file's time); a file not listed counts 60, the demo (about 90) goes
# to shard N.
declare -A weight=([00-guest]=40 [10-backend]=70 [30-sanoid-config]=10 [30-sanoid-diff]=90
    [30-sanoid-dst]=50 [30-sanoid-hooks]=20 [30-sanoid-monitor]=20 [30-sanoid-prune]=60
    [30-sanoid-runs]=60 [30-sanoid-take]=40 [30-sanoid-year]=120 [40-replicate-basic]=140
    [40-replicate-busy]=60 [40-replicate-options]=230 [40-replicate-progress]=50
    [40-replicate-resume]=160 [40-replicate-ssh]=530 [41-syncoid-diff]=540 [42-syncoid-scenarios]=270
    [45-transport-serve]=350 [45-transport-ssh]=270 [50-confine-worker]=140
    [51-confine-replicate]=100 [52-confine-units]=80 [53-confine-sanoid]=120
    [54-confine-ssh]=290 [60-drive-backup]=250 [60-drive-unplug]=40 [60-drive-verify]=130
    [70-hostile-receive]=170 [71-hostile-token]=150 [72-hostile-worker-tty]=70
    [73-hostile-restore]=20 [74-hostile-worker-files]=110 [75-hostile-grants]=50
    [76-hostile-drive]=40)
load=()
for ((i = 1; i <= n; i++)); do load[i]=0; done
load[n]=90
# ZKEEP_TEST_SHARD_EXTRA=SECONDS: shard 1's guest has that much more to run after
# its shard (tests/run-all.sh: the systemd pass and the version tier).
extra=${ZKEEP_TEST_SHARD_EXTRA:-0}
[[ $extra =~ ^[0-9]+$ ]] || { echo "run-suites.sh: ZKEEP_TEST_SHARD_EXTRA wants seconds" >&2; exit 2; }
[ "$n" -gt 1 ] && load[1]=$extra
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
    echo "${weight[$b]:-60} $f"
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
