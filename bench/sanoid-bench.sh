#!/usr/bin/env bash
# zkeep as sanoid vs the reference sanoid (Perl) on the same kind of pool: 200 datasets,
# 20,000 snapshots. Per tool: a `--cron` run with no cache (cold), another ten minutes
# later within the cache's TTL (warm: nothing is due, as in most runs of a cron job
# every quarter hour), and `--monitor-snapshots` runs; prints wall time, zfs/zpool
# processes spawned and peak RSS, and the ratios.
# The reference is sanoid 2.3.0 (unpacked by tests/guest/install-deps.sh into
# /var/cache/zkeep-refs); ZKEEP_BENCH_REF=2.1 runs Debian 12's installed 2.1 instead.
#
#   tests/guest/run.sh --mem 4096 --timeout 9000 bench/sanoid-bench.sh [DATASETS [SNAPSHOTS]]
#
# (At full scale in this project's TCG guest the set-up takes about 21 minutes and
# sanoid 2.3.0's four runs about 25; 5400 s was too short on 2026-12-04.)
#
# (from the repo root; defaults 200 datasets and 100 snapshots each).
#
# Runs INSIDE the test guest (it needs real ZFS and sets the guest's clock). Two pools
# alike, one per tool: 200 datasets under bench?/d, each with 100 hourly snapshots (one
# created "200 hours ago" and 99 "2 hours ago": the clock is set back while they are
# made, since sanoid reads snapshot ages from their creation time; the parent bench?/d
# gets them too and is managed like its children, as `zfs snapshot -r` users have it:
# recursive = yes, so one `zfs destroy -r` can prune the tree). ZFS makes one snapshot per
# dataset per txg, so that is 100 txgs of `zfs snapshot -r`; the second pool is a copy
# of the first's image (new guid). Each tool runs with only its own pool imported.
# Setup is most of the run's time, and TCG is CPU-bound: run it when no other guest
# shares the machine (see bench/RESULTS.md).
# Policy hourly = SNAPSHOTS - 1: each --cron run takes one hourly and prunes one per dataset.
# zkeep runs --cron twice, each on its own copy of the pool: as root by default, that
# is confined (a worker with only `zfs allow` grants; channel programs are root only,
# so it destroys with `zfs destroy -r` where a whole tree drops a name, else one `zfs
# destroy` per dataset, several at once), and with
# ZKEEP_NO_CONFINE=1, with root's privileges as sanoid has them (one channel program
# per pool). ZKEEP_BENCH_SKIP_REF=1 leaves out Debian's sanoid (to re-measure zkeep only),
# ZKEEP_BENCH_SKIP_LISTINGS=1 the closing measurements of one listing alone.
# Processes are counted with `strace -f --seccomp-bpf -e trace=execve,exit_group` (it stops
# only at those, so it barely slows the runs; -ttt times each zfs command for the
# "longest" lines); RSS is /usr/bin/time's maximum resident set
# of the tool or any process it waited for.
set -euo pipefail

case ${ZKEEP_BUILD:-build} in
    /*) ZKEEP=${ZKEEP:-$ZKEEP_BUILD/zkeep} ;;
    *) ZKEEP=${ZKEEP:-$(pwd)/${ZKEEP_BUILD:-build}/zkeep} ;;
esac
NDS=${1:-200}
NSNAP=${2:-100}
[ -x "$ZKEEP" ] || { echo "no zkeep at $ZKEEP (set ZKEEP_BUILD)" >&2; exit 2; }
case ${ZKEEP_BENCH_REF:-2.3.0} in
    2.3.0) REF=2.3.0 REF_SANOID=/var/cache/zkeep-refs/sanoid-2.3.0/usr/sbin/sanoid ;;
    2.1) REF=2.1 REF_SANOID=/usr/sbin/sanoid ;;
    *) echo "ZKEEP_BENCH_REF: 2.3.0 or 2.1" >&2; exit 2 ;;
esac
[ -x "$REF_SANOID" ] || { echo "no sanoid $REF at $REF_SANOID (tests/guest/install-deps.sh)" >&2; exit 2; }
[ -c /dev/zfs ] || { echo "no ZFS here: run through tests/guest/run.sh" >&2; exit 2; }

work=$(mktemp -d /var/tmp/sanoid-bench.XXXXXX)
pools=()
cleanup() {
    for p in "${pools[@]}"; do zpool destroy -f "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
export TZ=UTC
now0=$(date +%s)
# a whole hour, so that the hourly is due at T0 for both tools
T0=$(( (now0 / 3600 + 1) * 3600 + 300 ))

conf() { # POOL DIR
    mkdir -p "$2/etc" "$2/cache" "$2/run"
    cat >"$2/etc/sanoid.conf" <<CONF
[$1/d]
	recursive = yes
	frequently = 0
	hourly = $((NSNAP - 1))
	daily = 0
	weekly = 0
	monthly = 0
	yearly = 0
	hourly_warn = 2h
	hourly_crit = 4h
CONF
}

measure() { # NAME OUTFILE CMD...: prints "wall_s zfs_procs rss_kb" on stdout
    local name=$1 out=$2
    shift 2
    local tr=$work/$name.trace tm=$work/$name.time start end
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$tm" strace -f -ttt --seccomp-bpf -qq -e trace=execve,exit_group -o "$tr" "$@" >"$out" 2>&1 || true
    end=$(date +%s.%N)
    local procs rss
    procs=$(grep -cE 'execve\("[^"]*/(zfs|zpool)"' "$tr" || true)
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tm")
    # said at once too (stderr: the caller reads stdout), so a run the guest's
    # watchdog cuts short still leaves its figures in the log
    echo "# $name: $(echo "$end - $start" | bc) s, $procs zfs/zpool processes, $rss KiB peak RSS" >&2
    echo "$(echo "$end - $start" | bc) $procs $rss"
}

echo "# preparing two pools: $NDS datasets x $NSNAP snapshots each"
# elapsed seconds by the uptime clock (the wall clock is set back and forth)
up() { local u; read -r u _ </proc/uptime; echo "${u%.*}"; }
s=$(up)
pools=(bencha benchb benchc)
# The snapshots' creation times are the clock's (sanoid reads ages from them): the
# oldest round is made with the clock 200 hours back, the others 2 hours back.
# ZFS takes one snapshot per dataset per txg (channel programs too), so the pool
# costs NSNAP calls of `zfs snapshot -r` (the parent and all children at once,
# one txg each); it is made once and copied for the second tool.
mkdir -p "$work/a" "$work/b" "$work/c"
truncate -s 2G "$work/a/bencha.img"
zpool create -O mountpoint=none bencha "$work/a/bencha.img"
zfs create bencha/d
echo "# creating $NDS datasets"
# zfs create waits for its txg: several at once share txgs
seq -f "bencha/d/d%03g" 1 "$NDS" | xargs -P 8 -n 5 sh -c 'for d; do zfs create "$d"; done' sh
date -s "@$((T0 - 200 * 3600))" >/dev/null
zfs snapshot -r "bencha/d@autosnap_$(date -u -d "@$((T0 - 200 * 3600))" +%Y-%m-%d_%H:%M:%S)_hourly"
date -s "@$((T0 - 7200))" >/dev/null
echo "# $NSNAP rounds of zfs snapshot -r ($(($(up) - s)) s)"
for ((k = NSNAP - 1; k >= 1; k--)); do
    t=$((T0 - k * 3600 - 3600))
    zfs snapshot -r "bencha/d@autosnap_$(date -u -d "@$t" +%Y-%m-%d_%H:%M:%S)_hourly"
    (( k % 10 )) || echo "#   $k rounds to go ($(($(up) - s)) s)"
done
# the copy: import the image under the other name, then give it its own guid
zpool export bencha
cp --sparse=always "$work/a/bencha.img" "$work/b/benchb.img"
cp --sparse=always "$work/a/bencha.img" "$work/c/benchc.img"
zpool import -d "$work/b" bencha benchb
zpool reguid benchb
zpool import -d "$work/c" bencha benchc
zpool reguid benchc
zpool export benchc
zpool import -d "$work/a" bencha
echo "# prepared in $(($(up) - s)) s: $(zfs list -H -t snapshot -o name -r bencha | wc -l) + $(zfs list -H -t snapshot -o name -r benchb | wc -l) snapshots"
conf bencha "$work/ref"
conf benchb "$work/zk"
conf benchc "$work/zku"
ln -s "$ZKEEP" "$work/sanoid"

sanoid_ref() { "$REF_SANOID" --configdir="$work/ref/etc" --cache-dir="$work/ref/cache" --run-dir="$work/ref/run" "$@"; }
sanoid_zk() { "$work/sanoid" --configdir="$work/zk/etc" --cache-dir="$work/zk/cache" --run-dir="$work/zk/run" "$@"; }
sanoid_zku() { ZKEEP_NO_CONFINE=1 "$work/sanoid" --configdir="$work/zku/etc" --cache-dir="$work/zku/cache" --run-dir="$work/zku/run" "$@"; }
export -f sanoid_ref sanoid_zk sanoid_zku
export work ZKEEP REF_SANOID

# Each tool runs with only its own pool imported: sanoid lists the snapshots of
# every pool, and a real system would not have the other tool's 20,000.
swap_to() { # POOL-TO-IMPORT POOL-TO-EXPORT
    zpool export "$2"
    zpool import -d "$work/${1#bench}" "$1"
}
# One tool's runs: --cron at T0 (no cache: cold), --cron again at T0 + 600 s (within
# every cache TTL, nothing due: warm), then --monitor-snapshots half an hour later (past
# sanoid 2.1's cache TTL of 900 s, within zkeep's 18000 s for monitor-only runs, sanoid
# 2.3's) and once more after a forced re-list (--force-update is an action in 2.3, so
# zkeep lists; sanoid 2.1 lists too). Sets NAME_{cron,warm,mon,monf}_{t,p,m}.
run_tool() { # NAME FUNCTION: NAME prefixes the variables and the files in $work
    local name=$1 fn=$2 t p m
    date -s "@$T0" >/dev/null
    read -r t p m < <(measure "$name-cron" "$work/$name-cron.out" bash -c "$fn --cron")
    printf -v "${name}_cron_t" %s "$t"; printf -v "${name}_cron_p" %s "$p"; printf -v "${name}_cron_m" %s "$m"
    date -s "@$((T0 + 600))" >/dev/null
    read -r t p m < <(measure "$name-warm" "$work/$name-warm.out" bash -c "$fn --cron")
    printf -v "${name}_warm_t" %s "$t"; printf -v "${name}_warm_p" %s "$p"; printf -v "${name}_warm_m" %s "$m"
    date -s "@$((T0 + 1800))" >/dev/null
    read -r t p m < <(measure "$name-mon" "$work/$name-mon.out" bash -c "$fn --monitor-snapshots")
    printf -v "${name}_mon_t" %s "$t"; printf -v "${name}_mon_p" %s "$p"; printf -v "${name}_mon_m" %s "$m"
    read -r t p m < <(measure "$name-monf" "$work/$name-monf.out" bash -c "$fn --force-update --monitor-snapshots")
    printf -v "${name}_monf_t" %s "$t"; printf -v "${name}_monf_p" %s "$p"; printf -v "${name}_monf_m" %s "$m"
}
zpool export benchb
if [ -z "${ZKEEP_BENCH_SKIP_REF:-}" ]; then
    echo "# running sanoid $REF --cron"
    run_tool ref sanoid_ref
else
    echo "# ZKEEP_BENCH_SKIP_REF: the reference sanoid not run"
    for v in ref_cron ref_warm ref_mon ref_monf; do
        for m in t p m; do printf -v "${v}_$m" 0; done
    done
fi
swap_to benchb bencha
echo "# running zkeep --cron"
run_tool zk sanoid_zk
swap_to benchc benchb
echo "# running zkeep --cron with ZKEEP_NO_CONFINE=1 (root's privileges, as sanoid)"
date -s "@$T0" >/dev/null
read -r zku_cron_t zku_cron_p zku_cron_m < <(measure zku-cron "$work/zku-cron.out" bash -c 'sanoid_zku --cron')
swap_to benchb benchc
# where the time goes: the zfs commands each tool ran, and the listing alone
for n in ref-cron zk-cron zku-cron ref-warm zk-warm zk-monf ref-monf; do
    [ -f "$work/$n.trace" ] || continue
    echo "# $n ran: $(grep -oE 'execve\("[^"]*/(zfs|zpool|ps)", \[[^]]{0,100}' "$work/$n.trace" | sed -E 's/^execve\("[^"]*", \[//' | sort | uniq -c | sort -rn | head -n 4 | tr -s ' ' | tr '\n' ';')"
    # the zfs/zpool commands that took longest, from execve to exit (the trace's -ttt)
    echo "# $n longest: $(awk '$0 ~ /execve\("[^"]*\/(zfs|zpool)"/ { c = substr($0, index($0, "[") + 1);
            if (index(c, "]")) c = substr(c, 1, index(c, "]") - 1)
            cmd[$1] = substr(c, 1, 70); start[$1] = $2; next }
        /exit_group\(/ { if ($1 in start) { printf "%.1f s %s\n", $2 - start[$1], cmd[$1]; delete start[$1] } }' \
        "$work/$n.trace" | sort -rn | head -n 5 | tr '\n' ';')"
done
# (with the listing's own peak RSS: /usr/bin/time counts a tool's zfs children too)
tl() { local t0; t0=$(date +%s.%N); /usr/bin/time -f %M -o "$work/tl.rss" "$@" >/dev/null; echo "$(echo "$(date +%s.%N) - $t0" | bc) s, $(cat "$work/tl.rss") KiB: $*"; }
# (ZKEEP_BENCH_SKIP_LISTINGS=1 leaves these out: at full scale they take 10 - 17 minutes)
if [ -z "${ZKEEP_BENCH_SKIP_LISTINGS:-}" ]; then
    tl zfs list -Hp -o name,type,guid,createtxg,creation,userrefs -t filesystem,volume,snapshot -r benchb/d
    tl zfs list -Hp -o name,type,guid,createtxg,creation -t filesystem,volume,snapshot -r benchb/d
    tl zfs get -Hrpt snapshot creation benchb/d
fi
zpool import -d "$work/a" bencha

ref_n=$(zfs list -H -t snapshot -o name -r bencha | wc -l)
zk_n=$(zfs list -H -t snapshot -o name -r benchb | wc -l)
[ "$ref_n" = "$zk_n" ] || echo "# WARNING: snapshot counts differ after --cron: sanoid $ref_n, zkeep $zk_n"
# names compared without their time of day: zkeep stamps a run's snapshots with the
# time it started, sanoid apparently when it gets to taking them, after its listing,
# which takes minutes at full scale (the likely cause of the difference the run of
# 2026-11-23 found when only the seconds were blanked); a difference is shown
norm() { zfs list -H -t snapshot -o name -r "$1" | sed -E "s/^$1/P/; s/_[0-9]{2}:[0-9]{2}:[0-9]{2}/_TIME/" | sort; }
zpool import -d "$work/c" benchc
if [ -z "${ZKEEP_BENCH_SKIP_REF:-}" ]; then
    diff <(norm bencha) <(norm benchb) >"$work/names.diff" \
        && echo "# after --cron sanoid's and zkeep's pools have the same $zk_n snapshot names" \
        || { echo "# WARNING: snapshot names differ after --cron:"; head -n 8 "$work/names.diff"; }
fi
diff <(norm benchb) <(norm benchc) >/dev/null \
    && echo "# after --cron zkeep's confined and unconfined pools have the same snapshot names" \
    || echo "# WARNING: snapshot names differ between zkeep confined and unconfined"
echo "# monitor output: sanoid: $(head -c 100 "$work/ref-mon.out" 2>/dev/null)"
echo "#                 zkeep:  $(head -c 100 "$work/zk-mon.out")"
date -s "@$((now0 + $(up) - s))" >/dev/null

ratio() { echo "scale=1; $1 / $2" | bc; }
printf '\n%-34s %12s %12s %10s\n' "run" "sanoid $REF" "zkeep" "ratio"
row() { printf '%-34s %12s %12s %9sx\n' "$1" "$2" "$3" "$(ratio "$2" "$(echo "if ($3 == 0) 1 else $3" | bc)")"; }
# ref_* and zk_* are set by run_tool through printf -v, which shellcheck cannot follow
# shellcheck disable=SC2154
{
    row "--cron wall time (s)" "$ref_cron_t" "$zk_cron_t"
    row "--cron zfs/zpool processes" "$ref_cron_p" "$zk_cron_p"
    row "--cron peak RSS (KiB)" "$ref_cron_m" "$zk_cron_m"
    row "--cron warm wall time (s)" "$ref_warm_t" "$zk_warm_t"
    row "--cron warm zfs/zpool processes" "$ref_warm_p" "$zk_warm_p"
    row "--cron warm peak RSS (KiB)" "$ref_warm_m" "$zk_warm_m"
    row "--cron unconfined wall time (s)" "$ref_cron_t" "$zku_cron_t"
    row "--cron unconfined zfs/zpool procs" "$ref_cron_p" "$zku_cron_p"
    row "--cron unconfined peak RSS (KiB)" "$ref_cron_m" "$zku_cron_m"
    row "--monitor-snapshots wall (s)" "$ref_mon_t" "$zk_mon_t"
    row "--monitor-snapshots processes" "$ref_mon_p" "$zk_mon_p"
    row "--monitor-snapshots RSS (KiB)" "$ref_mon_m" "$zk_mon_m"
    row "--monitor (fresh list) wall (s)" "$ref_monf_t" "$zk_monf_t"
    row "--monitor (fresh list) processes" "$ref_monf_p" "$zk_monf_p"
    row "--monitor (fresh list) RSS (KiB)" "$ref_monf_m" "$zk_monf_m"
}
echo "# ratio = sanoid / zkeep (higher is better for zkeep; 0 processes counted as 1)"
echo "# zkeep --cron is confined by default as root; 'unconfined' is ZKEEP_NO_CONFINE=1"
