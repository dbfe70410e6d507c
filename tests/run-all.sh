#!/usr/bin/env bash
# The whole zkeep test suite, from a fresh Debian 12 machine to a verdict.
#
#   tests/run-all.sh            (as root; README's test command; .ci/run calls it)
#
# 1. installs what is missing (tests/guest/install-deps.sh: compilers, libraries,
#    Debian's kernel, ZFS 2.3 from bookworm-backports, QEMU, reference tools);
# 2. builds zkeep twice: `build/` (release flags, warnings as errors) and
#    `build-asan/` (AddressSanitizer + UndefinedBehaviorSanitizer);
# 3. runs the unit tests and fuzz-corpus replays of both builds (meson test, TAP);
# 4. boots the real-ZFS guest once and runs every integration test (bats, TAP)
#    against each build in turn.
# Exit status 0 only when every step passed.
#
# Environment: ZKEEP_TEST_BUILDS="build build-asan" chooses which builds the
# integration tests run against; ZKEEP_TEST_FILTER=REGEX passes --filter to bats.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
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
step "building build-asan/ (ASan + UBSan)"
setup_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

status=0
step "unit tests and fuzz corpora: build/"
meson test -C build --print-errorlogs || status=1
step "unit tests and fuzz corpora: build-asan/"
meson test -C build-asan --print-errorlogs || status=1

step "integration tests on real ZFS in the guest"
builds=${ZKEEP_TEST_BUILDS:-build build-asan}
ZKEEP_TEST_BUILDS=$builds tests/guest/run.sh --timeout 3000 tests/guest/run-suites.sh || status=1

step "done: $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
