#!/usr/bin/env bash
# How zkeep as sanoid scales with the number of snapshots (#16: "peak RSS of zkeep
# itself at 100,000 snapshots", target under 50 MB, and how time and processes grow).
#
#   tests/guest/run.sh --mem 4096 --timeout 5400 bench/scale-bench.sh [DATASETS [CHECKPOINTS]]
#
# (from the repo root; defaults 1000 datasets and checkpoints "1000 10000 25000 50000
# 100000" snapshots; smoke run: `bench/scale-bench.sh 10 "11 33"`). In this project's TCG
# guest the defaults do not finish in 5400 s: on 2026-12-05 (a busy machine) it reached
# 25,025 snapshots in 2,517 s and measured them in 1,990 s (bench/RESULTS.md).
#
# Runs INSIDE the test guest (real ZFS; it sets the guest's clock). One pool on a sparse
# file under /var/tmp (the guest's tmpfs overlay): DATASETS datasets under bench/d, with
# a recursive policy on bench/d as bench/sanoid-bench.sh has it. Snapshots are added in
# rounds of `zfs snapshot -r bench/d` (one txg snapshots every dataset: DATASETS + 1
# snapshots a round); when the total reaches a checkpoint, it measures, each with no
# cache (cold: a full listing of every snapshot), and prints one line per measurement
# AT ONCE, so a run the watchdog (or the operator) cuts short keeps what it got:
#
#   zk-mon    zkeep `--monitor-snapshots` as root, confined by default (monitors and
#             --readonly change nothing, so they never start the confined worker)
#   zfs-list  `zfs list -t snapshot -H -o name,guid,createtxg,creation` alone: what the
#             listing itself costs, and the RSS of a zfs process holding every snapshot
#   zk-ro     zkeep `--cron --readonly --verbose` (plans the run: an hourly is due everywhere)
#   zku-mon   zkeep `--monitor-snapshots` with ZKEEP_NO_CONFINE=1 (at checkpoints up to
#             ZKEEP_BENCH_UNCONFINED_UPTO snapshots, default 10000: see below)
#
# Each with wall seconds, zfs/zpool processes (`strace -f --seccomp-bpf -e
# trace=execve`), /usr/bin/time's peak RSS - which is the largest of the tool AND every
# process it waited for, so with zkeep it is usually its `zfs list` child's - and, apart,
# the peak RSS (VmHWM) of the zkeep process itself and of its largest zfs child, read from
# /proc while they run. To read VmHWM at its final value, strace holds every traced
# process for HOLD seconds when it calls exit_group (`-e inject=exit_group:delay_enter`),
# and the sampler looks every HOLD/2 seconds; the wall times printed have HOLD times the
# number of exit_group calls taken off (the processes here run one after another).
# The reference Perl sanoid is not run (see bench/sanoid-bench.sh for the comparison).
set -euo pipefail

case ${ZKEEP_BUILD:-build} in
    /*) ZKEEP=${ZKEEP:-$ZKEEP_BUILD/zkeep} ;;
    *) ZKEEP=${ZKEEP:-$(pwd)/${ZKEEP_BUILD:-build}/zkeep} ;;
esac
NDS=${1:-1000}
read -r -a CHECKS <<<"${2:-1000 10000 25000 50000 100000}"
HOLD_US=200000
# ZKEEP_NO_CONFINE=1's monitor up to this many snapshots only: monitors never start the
# confined worker, so it runs the same code as the default one, and a full listing
# costs about as much as making the snapshots (the time goes to the largest checkpoints)
UNCONFINED_UPTO=${ZKEEP_BENCH_UNCONFINED_UPTO:-10000}
look=0.1 # the sampler's period: half the hold
[ -x "$ZKEEP" ] || { echo "no zkeep at $ZKEEP (set ZKEEP_BUILD)" >&2; exit 2; }
[ -c /dev/zfs ] || { echo "no ZFS here: run through tests/guest/run.sh" >&2; exit 2; }

work=$(mktemp -d /var/tmp/scale-bench.XXXXXX)
cleanup() {
    zpool destroy -f bench 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export TZ=UTC
now0=$(date +%s)
# elapsed seconds by the uptime clock (the wall clock is set back and forth)
up() { local u; read -r u _ </proc/uptime; echo "${u%.*}"; }
s=$(up)
real() { local e; e=$(up); date -u -d "@$((now0 + e - s))" +%H:%M:%S; } # the real time of day (UTC)
# The snapshots are made with the clock SKEW seconds back; measurements run at the real
# time, so the newest hourly is SKEW or more old: due (--cron plans a take everywhere),
# but not yet late for the monitor (warn 4h, crit 6h).
SKEW=$((3 * 3600))
clock_back() { local e; e=$(up); date -s "@$((now0 + e - s - SKEW))" >/dev/null; }
clock_real() { local e; e=$(up); date -s "@$((now0 + e - s))" >/dev/null; }

mkdir -p "$work/zk/etc" "$work/zk/cache" "$work/zk/run" "$work/zku/etc" "$work/zku/cache" "$work/zku/run"
for d in zk zku; do
    cat >"$work/$d/etc/sanoid.conf" <<CONF
[bench/d]
	recursive = yes
	frequently = 0
	hourly = 1000
	daily = 0
	weekly = 0
	monthly = 0
	yearly = 0
	hourly_warn = 4h
	hourly_crit = 6h
CONF
done
ln -s "$ZKEEP" "$work/sanoid"
# as sanoid-bench.sh runs zkeep: through a symlink named sanoid, root (confined by
# default) and ZKEEP_NO_CONFINE=1; the cache is emptied before every run (cold)
sanoid_zk() { rm -rf "$work/zk/cache"; "$work/sanoid" --configdir="$work/zk/etc" --cache-dir="$work/zk/cache" --run-dir="$work/zk/run" "$@"; }
sanoid_zku() { rm -rf "$work/zku/cache"; ZKEEP_NO_CONFINE=1 "$work/sanoid" --configdir="$work/zku/etc" --cache-dir="$work/zku/cache" --run-dir="$work/zku/run" "$@"; }
export -f sanoid_zk sanoid_zku
export work

# the sampler waits on a FIFO nobody writes to: read -t, no sleep process per look
mkfifo "$work/tick"
exec {tick}<>"$work/tick"
own_hwm=0 zfs_hwm=0
sample() { # PID: the largest VmHWM of zkeep (zkeep or sanoid) and of zfs in PID's tree
    local p=$1 c k v kids=() lines=()
    read -r c 2>/dev/null <"/proc/$p/comm" || return 0
    case $c in
        zkeep | sanoid | zfs)
            # the whole file in one read: one process's status at one moment (a
            # line-by-line read of a process that exits meanwhile can mix two)
            mapfile -t lines 2>/dev/null <"/proc/$p/status" || true
            for k in "${lines[@]}"; do
                [[ $k =~ ^VmHWM:[[:space:]]*([0-9]+) ]] || continue
                v=${BASH_REMATCH[1]}
                if [ "$c" = zfs ]; then
                    if ((v > zfs_hwm)); then zfs_hwm=$v; fi
                elif ((v > own_hwm)); then
                    own_hwm=$v
                fi
                break
            done
            ;;
    esac
    read -r -a kids 2>/dev/null <"/proc/$p/task/$p/children" || true
    for k in "${kids[@]}"; do sample "$k"; done
    return 0
}

# NAME CMD...: prints "# N=... NAME: ..." at once and appends a row to $work/rows
measure() {
    local name=$1
    shift
    local tr=$work/$name.trace tm=$work/$name.time out=$work/$name.out t0 t1 pid
    own_hwm=0 zfs_hwm=0
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$tm" strace -f --seccomp-bpf -qq -e trace=execve,exit_group \
        -e inject=exit_group:delay_enter=$HOLD_US -o "$tr" "$@" >"$out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sample "$pid"
        read -r -t "$look" -u "$tick" _ || true
    done
    wait "$pid" || true
    t1=$(date +%s.%N)
    local procs exits rss wall
    # (execvp's misses along PATH fail with ENOENT: not processes)
    procs=$(grep -E 'execve\("[^"]*/(zfs|zpool)"' "$tr" | grep -cv ' = -1 ' || true)
    exits=$(grep -c 'exit_group(' "$tr" || true)
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tm")
    wall=$(printf %.2f "$(echo "$t1 - $t0 - $exits * $HOLD_US / 1000000" | bc)")
    echo "# N=$nsnap $name: ${wall} s, $procs zfs/zpool processes, peak RSS $rss KiB (time -v: the largest of the tool and its children); zkeep itself $own_hwm KiB, its largest zfs $zfs_hwm KiB (VmHWM)  [$(real) UTC]"
    echo "$nsnap $name $wall $procs $rss $own_hwm $zfs_hwm" >>"$work/rows"
}

table() {
    printf '\n%-8s %-9s %9s %6s %11s %11s %11s\n' snapshots run wall_s zfs_p rss_KiB zkeep_KiB zfs_KiB
    while read -r n name w p r o z; do
        printf '%-8s %-9s %9s %6s %11s %11s %11s\n' "$n" "$name" "$w" "$p" "$r" "$o" "$z"
    done <"$work/rows"
    echo
}

echo "# zkeep: $ZKEEP ($("$ZKEEP" --version 2>&1 | head -n 1)); $NDS datasets; checkpoints ${CHECKS[*]}; started $(real) UTC"
truncate -s 20G "$work/bench.img" # sparse: only what ZFS writes takes tmpfs space
zpool create -O mountpoint=none bench "$work/bench.img"
zfs create bench/d
echo "# creating $NDS datasets"
# zfs create waits for its txg: several at once share txgs
for ((i = 1; i <= NDS; i += 100)); do
    # shellcheck disable=SC2016 # the inner sh expands it
    seq -f "bench/d/d%04g" "$i" "$((i + 99 < NDS ? i + 99 : NDS))" | xargs -P 8 -n 5 sh -c 'for d; do zfs create "$d"; done' sh
    echo "#   $((i + 99 < NDS ? i + 99 : NDS)) datasets ($(($(up) - s)) s, $(real) UTC)"
done
per=$((NDS + 1))
nsnap=0 round=0 last=
clock_back
for target in "${CHECKS[@]}"; do
    while ((nsnap < target)); do
        name=autosnap_$(date -u +%Y-%m-%d_%H:%M:%S)_hourly
        while [ "$name" = "$last" ]; do
            read -r -t 1 -u "$tick" _ || true
            name=autosnap_$(date -u +%Y-%m-%d_%H:%M:%S)_hourly
        done
        zfs snapshot -r "bench/d@$name"
        last=$name
        round=$((round + 1)) nsnap=$((nsnap + per))
        ((round % 5)) || echo "#   round $round: $nsnap snapshots ($(($(up) - s)) s, $(real) UTC)"
    done
    used=$(df -k --output=used /var/tmp | tail -n 1)
    echo "# checkpoint: $nsnap snapshots after $round rounds ($(($(up) - s)) s, $(real) UTC); pool allocated $(zpool list -Hp -o alloc bench) B; /var/tmp uses ${used// /} KiB; $(awk '/MemAvailable/ {print $2}' /proc/meminfo) KiB available"
    clock_real
    measure zk-mon bash -c 'sanoid_zk --monitor-snapshots'
    measure zfs-list zfs list -t snapshot -H -o name,guid,createtxg,creation
    measure zk-ro bash -c 'sanoid_zk --cron --readonly --verbose'
    # (the checkpoint asked for, not the count reached: 10,000 holds 10,010 at 1,000 datasets)
    ((target > UNCONFINED_UPTO)) || measure zku-mon bash -c 'sanoid_zku --monitor-snapshots'
    echo "#   monitor said: $(head -c 120 "$work/zk-mon.out" | tr '\n' ' ')"
    echo "#   readonly said $(wc -l <"$work/zk-ro.out") lines: $(head -n 2 "$work/zk-ro.out" | cut -c 1-100 | tr '\n' '|')"
    echo "#   listing lines: $(wc -l <"$work/zfs-list.out")"
    for n in zk-mon zk-ro; do
        echo "#   $n ran: $(grep -E 'execve\("[^"]*/(zfs|zpool)"' "$work/$n.trace" | grep -v ' = -1 ' | grep -oE '\[[^]]{0,160}' | tr '\n' ';')"
    done
    clock_back
    table
done
clock_real
echo "# done ($(($(up) - s)) s, $(real) UTC)"
