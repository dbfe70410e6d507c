#!/usr/bin/env bash
# Replication throughput: zkeep as users run it vs the raw pipe vs syncoid 2.3.0.
#
#   ZKEEP_BUILD=/path/to/build tests/guest/run.sh --mem 8192 bench/replicate-bench.sh [MIB] [ROUNDS] [DATASETS]
#
# Runs INSIDE the test guest (real ZFS). Sends one snapshot of MIB MiB (default 1024) of
# incompressible data, ROUNDS times each (default 2, the best time counts), locally and
# over ssh to a private sshd on 127.0.0.1:
#
#   raw       zfs send | zfs receive                 (the limit)
#   zkeep     `syncoid --no-sync-snap --quiet SRC DST` with zkeep as syncoid: the command
#             a user runs, confined as by default (a worker with only its grants), its
#             default compression over ssh and --compress=none; and the same with
#             ZKEEP_NO_CONFINE=1, to show what confinement costs
#   component zfs send -> zkeep pump -> zfs receive (tests/tools/test-transport
#             send-recv: the pump alone, splice path and copying ring; named so)
#   syncoid   the reference, 2.3.0 (unpacked by tests/guest/install-deps.sh), --no-sync-snap
#             (mbuffer, pv, lzop; default --compress=lzo, and --compress=none);
#             ZKEEP_BENCH_REF=2.1 runs Debian 12's installed 2.1 instead
# ZKEEP_BENCH_ONLY=REGEX runs only the throughput measurements whose names (as printed)
# match, to measure a change again without the whole run.
#
# With DATASETS = N (e.g. 100) also N datasets with a small increment each, over ssh:
# `syncoid -r` of the reference syncoid vs zkeep run as `syncoid` (same command line; one
# dataset at a time, as syncoid), the same with --jobs=4 (run.sh --cpus sets the guest's
# vCPUs), vs `zkeep replicate -r --serve` (the remote key's forced command is `zkeep serve`):
# wall time, and the zfs/zpool/ssh processes and all programs
# started in the guest (every execve, counted by the kernel's sched_process_exec trace
# event: both ends are this machine, so ssh, sshd and zfs on the far side are counted
# too; /proc/stat's fork count would add the kernel threads ZFS starts and stops all
# the time, which grow with wall time alone). MIB = 0 runs only this part.
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
case ${ZKEEP_BENCH_REF:-2.3.0} in
    2.3.0) REF="syncoid 2.3.0" REF_SYNCOID=/var/cache/zkeep-refs/sanoid-2.3.0/usr/sbin/syncoid ;;
    2.1) REF="syncoid 2.1" REF_SYNCOID=/usr/sbin/syncoid ;;
    *) echo "ZKEEP_BENCH_REF: 2.3.0 or 2.1" >&2; exit 2 ;;
esac
[ -x "$REF_SYNCOID" ] || { echo "no $REF at $REF_SYNCOID (tests/guest/install-deps.sh)" >&2; exit 2; }
# shellcheck source=../tests/integration/transport.bash
source tests/integration/transport.bash
[ -x "$TT" ] || { echo "no $TT: build first" >&2; exit 2; }

# Root's shell start-up files, which the guest would share with the host and which every
# ssh command's remote shell runs, are removed in the guest by tests/guest/stage2.sh.

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

SSHD_PLAIN_SHELL_KEY=1 SERVE_ALLOW="--allow-receive bdst --allow-send bsrc" start_sshd >/dev/null
transport_env
ssh_cmd=(ssh -o BatchMode=yes -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -i "$SSHD_DIR/id" -p "$SSHD_PORT" root@127.0.0.1)
syncoid_ssh=(--sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/id" --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts")

now() { echo "$EPOCHREALTIME"; } # no program started: the many-dataset part counts them

# best time of ROUNDS runs of "$@" (each receives into bdst/t, destroyed before)
declare -A best
# quotient A B SCALE: best[A] / best[B], or n/a when either is missing
quotient() { [ -n "${best[$1]:-}" ] && [ -n "${best[$2]:-}" ] && echo "scale=$3; ${best[$1]} / ${best[$2]}" | bc -l || echo "n/a"; }
# a failed measurement is reported and the others still run
measure() { _measure "$@" || true; }
_measure() { # NAME CMD...
    local name=$1 t0 t1 dt r
    shift
    # ZKEEP_BENCH_ONLY=REGEX: only the measurements whose names match (a re-measure)
    [[ -z ${ZKEEP_BENCH_ONLY:-} || $name =~ $ZKEEP_BENCH_ONLY ]] || return 0
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

mkdir -p "$work/bin"
ln -s "$ZKEEP" "$work/bin/syncoid"
zk_syncoid() { "$work/bin/syncoid" --no-sync-snap --quiet "$@"; }
zk_syncoid_unconfined() { ZKEEP_NO_CONFINE=1 "$work/bin/syncoid" --no-sync-snap --quiet "$@"; }
echo "# $MIB MiB, best of $ROUNDS; $(nproc) CPUs; $(zfs version | head -n1); reference $REF"
if [ "$MIB" -gt 0 ]; then
# The first transfers into the fresh target pool run slower (in bench/rounds.sh the raw
# pipe's three rounds took 13.4, 11.7 and 9.0 s, then 9.0, 9.2 and 8.6 s): two untimed
# rounds first, so that the raw pipe, measured first, is not the one that pays for them.
for ((r = 0; r < 2; r++)); do
    zfs destroy -r bdst/t 2>/dev/null || true
    raw_local
done
echo "## local"
measure "raw pipe" raw_local
measure "zkeep syncoid" zk_syncoid bsrc/data bdst/t
measure "zkeep syncoid unconfined" zk_syncoid_unconfined bsrc/data bdst/t
measure "component: pump (splice)" "$TT" send-recv bsrc/data@s1 bdst/t
measure "component: pump (copy)" "$TT" send-recv --no-splice bsrc/data@s1 bdst/t
measure "$REF" "$REF_SYNCOID" --no-sync-snap --quiet bsrc/data bdst/t
echo "## ssh to 127.0.0.1"
measure "raw pipe over ssh" raw_ssh
measure "zkeep syncoid ssh" zk_syncoid "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t
measure "zkeep syncoid ssh (none)" zk_syncoid --compress=none "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t
measure "zkeep syncoid ssh unconfined (none)" zk_syncoid_unconfined --compress=none "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t
measure "component: pump ssh (none)" "$TT" send-recv "${SSH_OPTS[@]}" bsrc/data@s1 root@127.0.0.1:bdst/t
measure "$REF ssh (lzo)" "$REF_SYNCOID" --no-sync-snap --quiet "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t
measure "$REF ssh (none)" "$REF_SYNCOID" --no-sync-snap --quiet --compress=none "${syncoid_ssh[@]}" bsrc/data root@127.0.0.1:bdst/t

ratio() { quotient "$2" "$1" 2; } # throughput of $1 over $2: the inverse of their times
echo "## ratios (throughput of the first over the second; > 1 is faster)"
echo "local:  zkeep/raw $(ratio "zkeep syncoid" "raw pipe")  unconfined/raw $(ratio "zkeep syncoid unconfined" "raw pipe")  zkeep/$REF $(ratio "zkeep syncoid" "$REF")  component pump/raw $(ratio "component: pump (splice)" "raw pipe")"
echo "ssh:    zkeep-none/raw $(ratio "zkeep syncoid ssh (none)" "raw pipe over ssh")  zkeep-default/raw $(ratio "zkeep syncoid ssh" "raw pipe over ssh")  unconfined-none/raw $(ratio "zkeep syncoid ssh unconfined (none)" "raw pipe over ssh")  zkeep-default/$REF-lzo $(ratio "zkeep syncoid ssh" "$REF ssh (lzo)")  zkeep-none/$REF-none $(ratio "zkeep syncoid ssh (none)" "$REF ssh (none)")  component pump-ssh/raw $(ratio "component: pump ssh (none)" "raw pipe over ssh")"
fi

# --- many datasets with small increments (opt-in: slow under TCG) ---------------------
# (an argument: run.sh passes only ZKEEP_* variables into the guest)
N=${3:-0}
if [ "$N" -gt 0 ]; then
    zfs create bsrc/many
    # zfs create waits for its txg: many at once share txgs
    seq -f "bsrc/many/d%g" 1 "$N" | xargs -P 16 -n 5 sh -c 'for d; do zfs create "$d"; done' sh
    for ((i = 1; i <= N; i++)); do
        head -c 65536 /dev/urandom >"/bsrc/many/d$i/base"
    done
    zfs snapshot -r bsrc/many@base
    tracefs=/sys/kernel/tracing
    [ -e "$tracefs/events/sched/sched_process_exec/enable" ] || mount -t tracefs nodev "$tracefs"
    echo 16384 >"$tracefs/buffer_size_kb"
    echo 0 >"$tracefs/tracing_on"
    echo 1 >"$tracefs/events/sched/sched_process_exec/enable"
    exec_trace_start() { : >"$tracefs/trace"; echo 1 >"$tracefs/tracing_on"; }
    exec_trace_stop() { # NAME: the counts in best[NAME-execs] and best[NAME-zfsssh]
        echo 0 >"$tracefs/tracing_on"
        cp "$tracefs/trace" "$work/$1.trace"
        grep -q '^# entries-in-buffer/entries-written: \([0-9]*\)/\1 ' "$work/$1.trace" \
            || echo "# WARNING: the trace buffer overflowed: $(grep entries-in-buffer "$work/$1.trace")"
        best[$1-execs]=$(grep -c 'sched_process_exec:' "$work/$1.trace" || true)
        best[$1-zfsssh]=$(grep -cE 'filename=[^ ]*/(zfs|zpool|ssh) ' "$work/$1.trace" || true)
    }
    most_started() { # NAME
        echo "#   most started: $(grep -oE 'filename=[^ ]+' "$work/$1.trace" | sed 's|.*/||' | sort | uniq -c | sort -rn | head -n 8 | tr -s ' ' | tr '\n' ';')"
    }
    many() { # NAME CMD...
        local name=$1 t0 t1
        shift
        exec_trace_start
        t0=$(now)
        # a failed run is reported and the others still run
        "$@" >/dev/null 2>"$work/err" || { exec_trace_stop "$name"; echo "# $name failed:"; cat "$work/err"; return 0; }
        t1=$(now)
        exec_trace_stop "$name"
        best[$name]=$(echo "$t1 - $t0" | bc -l)
        printf '%-26s %7.2f s  %6d programs started, %5d of them zfs/zpool/ssh\n' "$name" "${best[$name]}" \
            "${best[$name-execs]}" "${best[$name-zfsssh]}"
        most_started "$name"
    }
    q() { quotient "$1" "$2" 3; }
    echo "## $N datasets, one small increment each, syncoid -r over ssh"
    # the same start on both targets: @base received in full (not measured; one
    # replication stream each instead of two slow initial syncoid runs)
    echo "# $N datasets: initial full copies ($(date -u +%T))"
    zfs send -R bsrc/many@base | zfs receive -u bdst/sy
    zfs send -R bsrc/many@base | zfs receive -u bdst/zk
    zfs send -R bsrc/many@base | zfs receive -u bdst/zs
    zfs send -R bsrc/many@base | zfs receive -u bdst/z1
    for ((i = 1; i <= N; i++)); do
        head -c 4096 /dev/urandom >"/bsrc/many/d$i/inc"
    done
    zfs snapshot -r bsrc/many@inc1
    many "many: $REF" "$REF_SYNCOID" -r --no-sync-snap --quiet "${syncoid_ssh[@]}" bsrc/many root@127.0.0.1:bdst/sy
    # as syncoid zkeep replicates one dataset at a time unless --jobs says otherwise
    many "many: zkeep as syncoid" "$work/bin/syncoid" -r --no-sync-snap --quiet "${syncoid_ssh[@]}" bsrc/many root@127.0.0.1:bdst/zk
    many "many: zkeep --jobs=4" "$work/bin/syncoid" -r --no-sync-snap --quiet --jobs=4 "${syncoid_ssh[@]}" bsrc/many root@127.0.0.1:bdst/z1
    # zkeep on both ends: the key's forced command is `zkeep serve` (one ssh session
    # per command, as for a plain remote: serve restricts, it does not batch; as
    # `zkeep replicate`, one dataset per vCPU up to 4 at once)
    many "many: zkeep --serve" "$ZKEEP" replicate -r --no-sync-snap --no-hold --quiet --serve --sshport "$SSHD_PORT" \
        --sshkey "$SSHD_DIR/serve" --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts" bsrc/many root@127.0.0.1:bdst/zs
    for t in sy zk z1 zs; do
        [ "$(zfs list -H -o name "bdst/$t/d$N@inc1" 2>/dev/null)" = "bdst/$t/d$N@inc1" ] || echo "# bdst/$t: the increment is missing"
    done
    echo "many:   zkeep/syncoid wall time $(q "many: zkeep as syncoid" "many: $REF")  zfs/ssh processes $(q "many: zkeep as syncoid-zfsssh" "many: $REF-zfsssh")  all programs $(q "many: zkeep as syncoid-execs" "many: $REF-execs") (targets: <= 0.10 and <= 0.10)"
    echo "many:   zkeep --jobs=4/syncoid wall time $(q "many: zkeep --jobs=4" "many: $REF")  zfs/ssh processes $(q "many: zkeep --jobs=4-zfsssh" "many: $REF-zfsssh")  ($(nproc) vCPUs)"
    echo "many:   serve/syncoid wall time $(q "many: zkeep --serve" "many: $REF")  zfs/ssh processes $(q "many: zkeep --serve-zfsssh" "many: $REF-zfsssh")  all programs $(q "many: zkeep --serve-execs" "many: $REF-execs")"
fi
