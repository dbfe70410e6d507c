#!/usr/bin/env bash
# Replication throughput: zkeep's pump vs the raw pipe vs Debian's syncoid 2.1.
#
#   ZKEEP_BUILD=/path/to/build tests/guest/run.sh --mem 8192 bench/replicate-bench.sh [MIB] [ROUNDS] [DATASETS]
#
# Runs INSIDE the test guest (real ZFS). Sends one snapshot of MIB MiB (default 1024) of
# incompressible data, ROUNDS times each (default 2, the best time counts), locally and
# over ssh to a private sshd on 127.0.0.1:
#
#   raw       zfs send | zfs receive                 (the limit)
#   zkeep     zfs send -> zkeep pump -> zfs receive  (tests/tools/test-transport send-recv;
#             splice path, and the copying ring with --no-splice)
#   syncoid   /usr/sbin/syncoid --no-sync-snap (mbuffer, pv, lzop; default --compress=lzo,
#             and --compress=none)
#
# With DATASETS = N (e.g. 100) also N datasets with a small increment each, over ssh:
# `syncoid -r` of Debian's syncoid 2.1 vs zkeep run as `syncoid` (same command line),
# wall time and processes started in the guest (fork count of /proc/stat: both ends
# are this machine, so ssh, sshd and zfs on the far side are counted too).
#
# and prints MB/s and the ratios zkeep/raw and zkeep/syncoid. Everything lives in RAM
# (the guest's tmpfs overlay), so the disks are not what is measured; TCG makes all
# figures slower than real hardware, the ratios are what matters.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -n "${ZKEEP_GUEST:-}" ] || { echo "replicate-bench.sh: runs inside the guest (tests/guest/run.sh)" >&2; exit 2; }
MIB=${1:-1024}
ROUNDS=${2:-2}
ZKEEP_ROOT=$PWD
case ${ZKEEP_BUILD:-build} in
    /*) ZKEEP=${ZKEEP_BUILD}/zkeep ;;
    *) ZKEEP=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/zkeep ;;
esac
export ZKEEP ZKEEP_ROOT
# shellcheck source=../tests/integration/transport.bash
source tests/integration/transport.bash
[ -x "$TT" ] || { echo "no $TT: build first" >&2; exit 2; }

work=$(mktemp -d /var/tmp/zkeep-bench.XXXXXX)
cleanup() {
    zpool destroy -f bsrc 2>/dev/null || true
    zpool destroy -f bdst 2>/dev/null || true
    stop_sshd 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

size=$((MIB * 2 + 512))M
truncate -s "$size" "$work/src.img" "$work/dst.img"
zpool create -O compression=off bsrc "$work/src.img"
zpool create -O compression=off bdst "$work/dst.img"
zfs create bsrc/data
echo "# writing $MIB MiB of random data"
for ((i = 0; i < MIB / 64; i++)); do
    head -c $((64 << 20)) /dev/urandom >"/bsrc/data/f$i"
done
zfs snapshot bsrc/data@s1
sync

SERVE_ALLOW="--allow-receive bdst --allow-send bsrc" start_sshd >/dev/null
transport_env
ssh_cmd=(ssh -o BatchMode=yes -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -i "$SSHD_DIR/id" -p "$SSHD_PORT" root@127.0.0.1)
syncoid_ssh=(--sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/id" --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts")

now() { date +%s.%N; }

# best time of ROUNDS runs of "$@" (each receives into bdst/t, destroyed before)
declare -A best
# a failed measurement is reported and the others still run
measure() { _measure "$@" || true; }
_measure() { # NAME CMD...
    local name=$1 t0 t1 dt r
    shift
    for ((r = 0; r < ROUNDS; r++)); do
        zfs destroy -r bdst/t 2>/dev/null || true
        sync
        t0=$(now)
        "$@" >/dev/null 2>"$work/err" || { echo "# $name failed:"; cat "$work/err"; return 1; }
        t1=$(now)
        zfs list bdst/t@s1 >/dev/null 2>&1 || { echo "# $name: nothing received"; cat "$work/err"; return 1; }
        dt=$(echo "$t1 - $t0" | bc -l)
        if [ -z "${best[$name]:-}" ] || [ "$(echo "$dt < ${best[$name]}" | bc -l)" = 1 ]; then
            best[$name]=$dt
        fi
    done
    printf '%-26s %7.2f s  %7.1f MB/s\n' "$name" "${best[$name]}" "$(echo "$MIB * 1.048576 / ${best[$name]}" | bc -l)"
}

raw_local() { zfs send bsrc/data@s1 | zfs receive bdst/t; }
raw_ssh() { zfs send bsrc/data@s1 | "${ssh_cmd[@]}" zfs receive bdst/t; }

echo "# $MIB MiB, best of $ROUNDS; $(nproc) CPUs; $(zfs version | head -n1)"
echo "## local"
measure "raw pipe" raw_local
measure "zkeep (splice)" "$TT" send-recv bsrc/data@s1 bdst/t
measure "zkeep (copy ring)" "$TT" send-recv --no-splice bsrc/data@s1 bdst/t
measure "syncoid 2.1" /usr/sbin/syncoid --no-sync-snap --quiet bsrc/data bdst/t
echo "## ssh to 127.0.0.1"
measure "raw pipe over ssh" raw_ssh
measure "zkeep ssh (none)" "$TT" send-recv "${SSH_OPTS[@]}" bsrc/data@s1 root@127.0.0.1:bdst/t
measure "zkeep ssh (lz4)" "$TT" send-recv "${SSH_OPTS[@]}" --compress lz4 bsrc/data@s1 root@127.0.0.1:bdst/t
measure "zkeep serve (none)" "$TT" send-recv "${SERVE_OPTS[@]}" bsrc/data@s1 root@127.0.0.1:bdst/t
measure "syncoid 2.1 ssh (lzo)" /usr/sbin/syncoid --no-sync-snap --quiet "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t
measure "syncoid 2.1 ssh (none)" /usr/sbin/syncoid --no-sync-snap --quiet --compress=none "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t

ratio() { [ -n "${best[$1]:-}" ] && [ -n "${best[$2]:-}" ] && echo "scale=2; ${best[$2]} / ${best[$1]}" | bc -l || echo "n/a"; }
echo "## ratios (throughput of the first over the second; > 1 is faster)"
echo "local:  zkeep/raw $(ratio "zkeep (splice)" "raw pipe")  zkeep-copy/raw $(ratio "zkeep (copy ring)" "raw pipe")  zkeep/syncoid $(ratio "zkeep (splice)" "syncoid 2.1")"
echo "ssh:    zkeep/raw $(ratio "zkeep ssh (none)" "raw pipe over ssh")  zkeep/syncoid-lzo $(ratio "zkeep ssh (none)" "syncoid 2.1 ssh (lzo)")  zkeep/syncoid-none $(ratio "zkeep ssh (none)" "syncoid 2.1 ssh (none)")  zkeep-lz4/syncoid-lzo $(ratio "zkeep ssh (lz4)" "syncoid 2.1 ssh (lzo)")  serve/raw $(ratio "zkeep serve (none)" "raw pipe over ssh")"

# --- many datasets with small increments (opt-in: slow under TCG) ---------------------
# (an argument: run.sh passes only ZKEEP_* variables into the guest)
N=${3:-0}
if [ "$N" -gt 0 ]; then
    mkdir -p "$work/bin"
    ln -s "$ZKEEP" "$work/bin/syncoid"
    zfs create bsrc/many
    # zfs create waits for its txg: many at once share txgs
    seq -f "bsrc/many/d%g" 1 "$N" | xargs -P 16 -n 5 sh -c 'for d; do zfs create "$d"; done' sh
    for ((i = 1; i <= N; i++)); do
        head -c 65536 /dev/urandom >"/bsrc/many/d$i/base"
    done
    zfs snapshot -r bsrc/many@base
    forks() { awk '/^processes/ {print $2}' /proc/stat; }
    run_many() { # SYNCOID-PROGRAM TARGET
        "$1" -r --no-sync-snap --quiet "${syncoid_ssh[@]}" bsrc/many "root@127.0.0.1:$2" >/dev/null 2>"$work/err" \
            || { echo "# $1 -> $2 failed:"; cat "$work/err"; return 1; }
    }
    many() { # NAME SYNCOID-PROGRAM TARGET
        local t0 t1 f0 f1
        f0=$(forks)
        t0=$(now)
        run_many "$2" "$3" || return 1
        t1=$(now)
        f1=$(forks)
        best[$1]=$(echo "$t1 - $t0" | bc -l)
        best[$1-forks]=$((f1 - f0))
        printf '%-26s %7.2f s  %6d processes\n' "$1" "${best[$1]}" "${best[$1-forks]}"
    }
    echo "## $N datasets, one small increment each, syncoid -r over ssh"
    # the same start on both targets: @base received in full (not measured; one
    # replication stream each instead of two slow initial syncoid runs)
    echo "# $N datasets: initial full copies ($(date -u +%T))"
    zfs send -R bsrc/many@base | zfs receive -u bdst/sy
    zfs send -R bsrc/many@base | zfs receive -u bdst/zk
    for ((i = 1; i <= N; i++)); do
        head -c 4096 /dev/urandom >"/bsrc/many/d$i/inc"
    done
    zfs snapshot -r bsrc/many@inc1
    many "many: syncoid 2.1" /usr/sbin/syncoid bdst/sy
    many "many: zkeep as syncoid" "$work/bin/syncoid" bdst/zk
    [ "$(zfs list -H -o name bdst/zk/d$N@inc1)" = "bdst/zk/d$N@inc1" ] || echo "# zkeep: increment missing on the target"
    [ "$(zfs list -H -o name bdst/sy/d$N@inc1)" = "bdst/sy/d$N@inc1" ] || echo "# syncoid: increment missing on the target"
    echo "many:   zkeep/syncoid wall time $(echo "scale=3; ${best[many: zkeep as syncoid]} / ${best[many: syncoid 2.1]}" | bc -l)  processes $(echo "scale=3; ${best[many: zkeep as syncoid-forks]} / ${best[many: syncoid 2.1-forks]}" | bc -l) (targets: <= 0.33 and <= 0.10)"
fi
