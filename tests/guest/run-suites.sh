#!/usr/bin/env bash
# Runs INSIDE the guest, so one guest boot serves every pass:
#   1. the integration tests once per build named in ZKEEP_TEST_BUILDS
#      (default "build"), each a TAP stream announced by a "# suite:" line;
#   2. with ZKEEP_DEMO_BUILD set, the demo (demo/demo-guest.sh) against that
#      build: the whole snapshot -> replicate -> prune -> restore cycle.
# With ZKEEP_TEST_TIER=2.1 (in a guest booted with ZKEEP_ZFS=2.1) only the files of
# that version tier run, and no demo (below).
# With ZKEEP_TEST_QUEUE=DIR it runs only what it claims from a queue shared with
# other guests (below): tests/run-all.sh boots two guests at once, because one guest
# keeps about one host core busy (its tests run one zfs command after another) and
# CI machines have two.
# The files named NN-systemd-*.bats need systemd as PID 1: they are never in the
# queue. With ZKEEP_TEST_SYSTEMD=1 (in a guest booted with run.sh --systemd) it
# runs those files only, in one pass, without queue or demo:
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
# resume, the confined worker, the units' grants and the hostile grant cases. The guest must run that version (module and tools),
# else the pass fails at once instead of testing the host's ZFS under the tier's name.
# No demo in a tier pass.
tier=${ZKEEP_TEST_TIER:-}
case $tier in
    "") ;;
    2.1)
        all=(tests/integration/10-backend.bats tests/integration/30-sanoid-take.bats
            tests/integration/40-replicate-basic.bats tests/integration/40-replicate-resume.bats
            tests/integration/50-confine-worker.bats tests/integration/51-confine-replicate.bats
            tests/integration/52-confine-units.bats tests/integration/75-hostile-grants.bats)
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
# What to run, longest first (the weights below): each build's files, then the demo.
# Alone, a guest runs all of it. With ZKEEP_TEST_QUEUE=1, the guests of one run share
# $ZKEEP_GUEST_OUT (tests/run-all.sh gives each the same run.sh --out) and a guest
# runs only what it claims there: before each item it makes claimed.BUILD.FILE, and
# mkdir on the host is atomic, so exactly one guest gets each.
# Every guest walks the same list in the same order, so each takes the longest item
# left whenever it is free, and the guests end within about one short file of each
# other, whatever else (the systemd pass, the version tier) each ran before.
# The weights are each file's seconds in a full run (one-vCPU guests, two side by side:
# run-all.sh prints every file's time); a file not listed counts 60, the demo 90.
declare -A weight=([00-guest]=40 [10-backend]=70 [30-sanoid-config]=60 [30-sanoid-diff]=120
    [30-sanoid-dst]=40 [30-sanoid-hooks]=20 [30-sanoid-monitor]=25 [30-sanoid-prune]=60
    [30-sanoid-runs]=55 [30-sanoid-take]=70 [30-sanoid-year]=110 [40-replicate-basic]=135
    [40-replicate-busy]=50 [40-replicate-options]=200 [40-replicate-progress]=45
    [40-replicate-resume]=130 [40-replicate-ssh]=500 [41-syncoid-diff]=460 [42-syncoid-scenarios]=210
    [45-transport-serve]=250 [45-transport-ssh]=170 [50-confine-worker]=75
    [51-confine-replicate]=90 [52-confine-units]=45 [53-confine-sanoid]=80
    [54-confine-ssh]=195 [60-drive-backup]=190 [60-drive-unplug]=30 [60-drive-verify]=130
    [70-hostile-receive]=170 [71-hostile-token]=125 [72-hostile-worker-tty]=105
    [73-hostile-restore]=20 [74-hostile-worker-files]=110 [75-hostile-grants]=55
    [76-hostile-drive]=40 [demo]=90)
queue=
case ${ZKEEP_TEST_QUEUE:-0} in
    0) ;;
    1) queue=${ZKEEP_GUEST_OUT:-}
        [ -d "$queue" ] || { echo "run-suites.sh: ZKEEP_TEST_QUEUE=1 outside the guest (no ZKEEP_GUEST_OUT)" >&2; exit 2; } ;;
    *) echo "run-suites.sh: ZKEEP_TEST_QUEUE wants 0 or 1" >&2; exit 2 ;;
esac
items=() # "BUILD FILE", or "DEMO BUILD"
while IFS=' ' read -r _w b f; do
    items+=("$b $f")
done < <({
    for b in ${ZKEEP_TEST_BUILDS:-build}; do
        for f in "${all[@]}"; do
            name=$(basename "$f" .bats)
            echo "${weight[$name]:-60} $b $f"
        done
    done
    [ -z "${ZKEEP_DEMO_BUILD:-}" ] || echo "${weight[demo]} DEMO $ZKEEP_DEMO_BUILD"
} | sort -k1,1nr -k3,3 -k2,2)
# claim BUILD FILE: true when this guest runs it (always, without a queue).
claim() {
    [ -z "$queue" ] || mkdir "$queue/claimed.$1.$(basename "$2" .bats)" 2>/dev/null
}
echo "# ${tier:+tier $tier, }${#items[@]} items${queue:+, shared with the other guests}"
status=0
suite=
for item in "${items[@]}"; do
    b=${item%% *} f=${item#* }
    claim "$b" "$f" || continue
    if [ "$b" = DEMO ]; then
        echo "# suite: demo against $f/"
        suite=
        if ZKEEP_BUILD=$f demo/demo-guest.sh; then
            echo "ok - demo: snapshot, replicate, prune, restore with $f/zkeep"
        else
            echo "not ok - demo failed with $f/zkeep"
            status=1
        fi
        continue
    fi
    [ "$suite" = "$b" ] || echo "# suite: integration tests against $b/${tier:+ on ZFS $tier}"
    suite=$b
    ZKEEP_BUILD=$b tests/guest/run-integration.sh "${args[@]}" "$f" || status=1
done
exit $status
