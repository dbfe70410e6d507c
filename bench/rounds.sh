#!/usr/bin/env bash
# Every round's time of a few transfers, side by side, to find where a transfer loses
# time (replicate-bench.sh prints only the best round of fixed measurements).
#
#   ZKEEP_BUILD=$PWD/build tests/guest/run.sh --mem 8192 bench/rounds.sh MIB ROUNDS 'm NAME CMD...' ...
#
# Runs INSIDE the test guest (real ZFS): two throwaway pools bsrc and bdst (compression
# off), MIB MiB of random data in bsrc/data@s1; then each 'm NAME CMD...' argument runs
# CMD ROUNDS times, each into a bdst/t destroyed before, and prints NAME and every
# round's seconds. In CMD, $ZKEEP is zkeep, $SYNCOID a `syncoid` link to it and $TT the
# transport test tool (tests/integration/transport.bash). For example:
#   'm raw bash -c "zfs send bsrc/data@s1 | zfs receive bdst/t"'
#   'm confined $SYNCOID --no-sync-snap --quiet bsrc/data bdst/t'
#   'm unconfined env ZKEEP_NO_CONFINE=1 $SYNCOID --no-sync-snap --quiet bsrc/data bdst/t'
#   'm pump-splice $TT send-recv bsrc/data@s1 bdst/t'
# The first round after the data is written reads it from disk; count the later ones.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -n "${ZKEEP_GUEST:-}" ] || { echo "rounds.sh: runs inside the guest (tests/guest/run.sh)" >&2; exit 2; }
ZKEEP_ROOT=$PWD
case ${ZKEEP_BUILD:-build} in
    /*) ZKEEP=${ZKEEP_BUILD}/zkeep ;;
    *) ZKEEP=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/zkeep ;;
esac
export ZKEEP ZKEEP_ROOT
# shellcheck source=../tests/integration/transport.bash
source tests/integration/transport.bash
MIB=${1:?MIB}
ROUNDS=${2:?ROUNDS}
shift 2
work=$(mktemp -d /var/tmp/zkeep-rounds.XXXXXX)
cleanup() {
    zpool destroy -f bsrc 2>/dev/null || true
    zpool destroy -f bdst 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
truncate -s $((MIB * 2 + 512))M "$work/src.img" "$work/dst.img"
zpool create -O compression=off bsrc "$work/src.img"
zpool create -O compression=off bdst "$work/dst.img"
zfs create bsrc/data
for ((i = 0; i < (MIB + 63) / 64; i++)); do
    head -c $((64 << 20)) /dev/urandom >"/bsrc/data/f$i"
done
zfs snapshot bsrc/data@s1
sync
mkdir -p "$work/bin"
ln -s "$ZKEEP" "$work/bin/syncoid"
SYNCOID=$work/bin/syncoid
echo "# $MIB MiB, $ROUNDS rounds; $(nproc) CPUs; $(zfs version | head -n1); zkeep $ZKEEP"
m() { # NAME CMD...
    local name=$1 r t0 t1 all=""
    shift
    for ((r = 0; r < ROUNDS; r++)); do
        zfs destroy -r bdst/t 2>/dev/null || true
        sync
        t0=$EPOCHREALTIME
        "$@" >/dev/null 2>"$work/err" || { echo "# $name failed:"; cat "$work/err"; return 0; }
        t1=$EPOCHREALTIME
        all="$all $(printf '%7.2f' "$(echo "$t1 - $t0" | bc -l)")"
    done
    printf '%-28s%s\n' "$name" "$all"
}
for c in "$@"; do
    eval "$c"
done
