#!/usr/bin/env bash
# The whole zkeep test suite, from a fresh Debian 12 machine to a verdict.
#
#   tests/run-all.sh            (as root; README's test command; .ci/run calls it)
#
# 1. installs what is missing (tests/guest/install-deps.sh: compilers, libraries,
#    Debian's kernel, ZFS 2.3 from bookworm-backports, QEMU, reference tools);
# 2. builds zkeep twice: `build/` (gcc, release flags, warnings as errors) and
#    `build-asan/` (clang, AddressSanitizer + UndefinedBehaviorSanitizer);
# 3. runs the unit tests and fuzz-corpus replays of both builds (meson test, TAP);
# 4. boots the real-ZFS guest (two side by side on a two-core machine, each
#    running half of the test files; the first then boots with systemd as PID 1
#    for the NN-systemd-*.bats files and with OpenZFS 2.1.11 for the version
#    tier) and runs every integration test (bats,
#    TAP) against the sanitizer build - so memory and UB errors anywhere on a
#    real pool fail the suite - then the demo against the release build, which
#    drives the shipped binary through snapshot, replicate, prune, restore.
# Exit status 0 only when every step passed.
#
# Environment: ZKEEP_TEST_BUILDS (default "build-asan") names the builds the
# integration tests run against, e.g. "build build-asan" for both;
# ZKEEP_DEMO_BUILD (default "build", empty to skip) the build the demo runs;
# ZKEEP_TEST_FILTER=REGEX passes --filter to bats; ZKEEP_TEST_GUESTS=N splits
# the test files over N guests (default 2 on two or more cores, else 1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)
step() { printf '\n### %s (%ds)\n' "$*" "$(( $(date +%s) - started ))"; }

[ "$(id -u)" = 0 ] || { echo "run-all.sh: run as root (it installs packages and boots a VM)" >&2; exit 2; }

step "installing dependencies"
tests/guest/install-deps.sh

setup_build() { # DIR [MESON OPTIONS...]
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
    ninja -C "$dir"
}

step "building build/ (release, warnings are errors)"
setup_build build
step "building build-asan/ (clang, ASan + UBSan)"
# clang as a second compiler: it rejects what gcc lets pass (a goto that skips a
# cleanup variable). A build dir made by another compiler is remade.
if [ -f build-asan/compile_commands.json ] &&
    ! grep -q '"command": "clang ' build-asan/compile_commands.json; then
    rm -rf build-asan
fi
CC=clang setup_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

status=0
step "unit tests and fuzz corpora: build/"
meson test -C build --print-errorlogs || status=1
step "unit tests and fuzz corpora: build-asan/"
meson test -C build-asan --print-errorlogs || status=1

step "integration tests on real ZFS in the guest"
export ZKEEP_TEST_BUILDS=${ZKEEP_TEST_BUILDS-build-asan}
export ZKEEP_DEMO_BUILD=${ZKEEP_DEMO_BUILD-build}
# Emulation is CPU-bound and one guest keeps about one core busy, so the test
# files are split over ZKEEP_TEST_GUESTS guests (default: one per core, at most
# two) booted side by side; each line of their output says which guest said it,
# and each guest's whole log is kept in $logs.
guests=${ZKEEP_TEST_GUESTS:-$(( $(nproc) >= 2 ? 2 : 1 ))}
[[ $guests =~ ^[1-9][0-9]*$ ]] || { echo "run-all.sh: ZKEEP_TEST_GUESTS wants a number" >&2; exit 2; }
logs=$(mktemp -d /tmp/zkeep-run-all.XXXXXX)
# Each guest first runs a pass that needs a guest booted another way, then takes
# test files from a queue the guests share (run-suites.sh, ZKEEP_TEST_QUEUE: the
# longest file left goes to the first guest free, so both end together):
#   guest 1: the NN-systemd-*.bats files under systemd 252 as PID 1 (run.sh --systemd,
#            with the disk 81-systemd-drive.bats plugs in: --hotplug-disk);
#   guest 2: the version tier on OpenZFS 2.1.11 (ZKEEP_ZFS=2.1).
# With one guest, it runs all three passes. Every pass's run.sh gets the same --out
# directory, which the queue lives in.
# The watchdogs: CI stops everything at 5400 s, and install, builds and unit tests
# take about 6 minutes; a guest still running at 4900 s has lost anyway.
queue=$logs/queue
mkdir "$queue"
pass() { # NAME LOG-PREFIX ENV... -- RUN.SH-OPTIONS...: one guest running run-suites.sh
    local name=$1 prefix=$2 envs=()
    shift 2
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" tests/guest/run.sh --out "$queue" "$@" tests/guest/run-suites.sh 2>&1 |
        tee "$logs/$name.log" | sed -u "s/^/[$prefix] /"
    echo "${PIPESTATUS[0]}" >"$logs/$name.status"
}
systemd_pass() { # LOG-PREFIX
    pass guest-systemd "$1 systemd" ZKEEP_TEST_SYSTEMD=1 -- --systemd --hotplug-disk 128 --timeout 1200
}
tier_pass() { # LOG-PREFIX
    pass guest-zfs21 "$1 zfs 2.1" ZKEEP_ZFS=2.1 ZKEEP_TEST_TIER=2.1 -- --timeout 1800
}
passes=(guest-systemd guest-zfs21)
for ((g = 1; g <= guests; g++)); do
    passes+=("guest$g")
    (
        set +e
        if [ "$guests" = 1 ]; then
            systemd_pass "guest $g"
            tier_pass "guest $g"
        elif [ "$g" = 1 ]; then
            systemd_pass "guest $g"
        elif [ "$g" = 2 ]; then
            tier_pass "guest $g"
        fi
        pass "guest$g" "guest $g" ZKEEP_TEST_QUEUE=1 -- --timeout 4900
    ) &
done
wait
for p in "${passes[@]}"; do
    rc=$(cat "$logs/$p.status" 2>/dev/null || echo none)
    printf '# %s: exit %s; %s not ok\n' "$p" "$rc" "$(grep -c '^not ok' "$logs/$p.log" 2>/dev/null || true)"
    grep '^not ok' "$logs/$p.log" 2>/dev/null | sed "s/^/#   $p: /" || true
    [ "$rc" = 0 ] || status=1
done
echo "# guest logs: $logs"
# Where the time went (issue #15): every file's and every test's wall time is in
# the guest logs (tests/guest/run-integration.sh); the ten slowest of each.
# top10 reads all its input: `head` would exit early and, under pipefail, sort's
# SIGPIPE (exit 141) would fail a suite that passed (stop 28's CI did exactly that).
top10() { sort -rn | awk 'NR <= 10'; }
echo "# the ten slowest test files (seconds, setup included):"
sed -n 's/^# time \(.*\): \([0-9]*\) ms.*$/\2 \1/p' "$logs"/guest*.log | top10 |
    awk '{ printf "#   %5.0f  %s\n", $1 / 1000, $2 }'
echo "# the ten slowest tests (seconds):"
awk '/^# file: / { file = $3; sub(/.*\//, "", file); sub(/\.bats$/, "", file) }
     /^(not )?ok .* in -?[0-9]+ms$/ { ms = $NF; sub(/ms$/, "", ms); name = $0
         # bats times a test by the wall clock, which some tests set: skip such jumps
         if (ms + 0 < 0 || ms + 0 > 14400000) next
         sub(/^(not )?ok [0-9]+ /, "", name); sub(/ in -?[0-9]+ms$/, "", name)
         printf "%d %s: %s\n", ms, file, name }' "$logs"/guest*.log | top10 |
    awk '{ ms = $1; $1 = ""; printf "#   %5.0f %s\n", ms / 1000, $0 }'

step "done: $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
