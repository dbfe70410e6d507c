#!/usr/bin/env bash
# Where the time of one `zkeep replicate` goes: every program it starts, when, for how
# long, and with which arguments - confined (the default: grants, guard, sandbox,
# mounts) and with ZKEEP_NO_CONFINE=1, so the fixed cost of confinement shows as the
# processes the first list has and the second has not.
#
#   ZKEEP_BUILD=$PWD/build tests/guest/run.sh bench/confine-profile.sh [MIB]
#
# Runs INSIDE the test guest (real ZFS), on two throwaway pools: a full send of MIB MiB
# (default 8) confined and the same unconfined (so a gap that grows with the data shows
# as the programs that ran longer), an incremental confined, an incremental unconfined.
# The kernel records each execve (a kprobe that reads the first ten arguments; one it
# could not read shows as garbage), each exec and each exit (sched events), so the
# figures cost no ptrace.
# Columns: seconds since the command started, seconds the program ran, its argv.
# Under emulation every zfs process costs about 0.1 s, whatever it does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -n "${ZKEEP_GUEST:-}" ] || { echo "confine-profile.sh: runs inside the guest (tests/guest/run.sh)" >&2; exit 2; }
case ${ZKEEP_BUILD:-build} in
    /*) ZKEEP=${ZKEEP_BUILD}/zkeep ;;
    *) ZKEEP=$PWD/${ZKEEP_BUILD:-build}/zkeep ;;
esac
work=$(mktemp -d /var/tmp/zkeep-profile.XXXXXX)
t=/sys/kernel/tracing
cleanup() {
    echo 0 >"$t/tracing_on" 2>/dev/null || true
    echo >"$t/kprobe_events" 2>/dev/null || true
    zpool destroy -f psrc 2>/dev/null || true
    zpool destroy -f pdst 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
MIB=${1:-8}
size=$((MIB * 2 + 512))
truncate -s "${size}M" "$work/a.img" "$work/b.img"
zpool create -f psrc "$work/a.img"
zpool create -f pdst "$work/b.img"
zfs create psrc/d
head -c "${MIB}M" /dev/urandom >/psrc/d/f
zfs snapshot psrc/d@s1

[ -e "$t/events" ] || mount -t tracefs nodev "$t"
echo 0 >"$t/tracing_on"
# execve(filename, argv, envp): the syscall wrapper's pt_regs in %di, argv in its si (offset 104)
args=""
for k in 0 1 2 3 4 5 6 7 8 9; do args="$args a$k=+u0(+u$((k * 8))(+104(%di))):ustring"; done
echo "p:zkexec __x64_sys_execve$args" >"$t/kprobe_events"
echo 1 >"$t/events/kprobes/zkexec/enable"
echo 1 >"$t/events/sched/sched_process_exec/enable"
echo 1 >"$t/events/sched/sched_process_exit/enable"
echo 32768 >"$t/buffer_size_kb"

profile() { # COMMAND...: run it traced, print its programs
    : >"$t/trace"
    echo 1 >"$t/tracing_on"
    local s e
    s=$(date +%s.%N)
    "$@" || echo "exit $?"
    e=$(date +%s.%N)
    echo 0 >"$t/tracing_on"
    echo "## $* : $(echo "$e - $s" | bc) s"
    cp "$t/trace" "$work/trace"
    python3 - "$work/trace" <<'PY'
import re, sys
start, args, end, order, pend = {}, {}, {}, [], {}
for line in open(sys.argv[1], errors='replace'):
    m = re.match(r'\s*(.*?)-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)', line)
    if not m:
        continue
    pid, ts, ev, rest = int(m[2]), float(m[3]), m[4], m[5]
    if ev == 'zkexec':
        pend[pid] = ' '.join(x for x in re.findall(r'a\d+="(.*?)"', rest) if x != '(fault)')
    elif ev == 'sched_process_exec':
        start[pid], args[pid] = ts, pend.get(pid, rest)
        order.append(pid)
    elif ev == 'sched_process_exit':
        end.setdefault(int(re.search(r'pid=(\d+)', rest)[1]), ts)
base = start[order[0]] if order else 0
n = 0
for p in order:
    # the guest's own background helpers are not the command's
    if re.match(r'(df|tail|tr|sleep|date|awk|cat|bc|python3) ', args[p] + ' '):
        continue
    n += 1
    print("%7.3f %6.3f %s" % (start[p] - base, end.get(p, base) - start[p], args[p][:160]))
print("## programs:", n)
PY
}
profile "$ZKEEP" replicate --no-sync-snap psrc/d pdst/d
ZKEEP_NO_CONFINE=1 profile "$ZKEEP" replicate --no-sync-snap psrc/d pdst/u
zfs snapshot psrc/d@s2
profile "$ZKEEP" replicate --no-sync-snap psrc/d pdst/d
zfs snapshot psrc/d@s3
ZKEEP_NO_CONFINE=1 profile "$ZKEEP" replicate --no-sync-snap psrc/d pdst/d
