#!/usr/bin/env bash
# Runs INSIDE the test guest (see demo/run-demo.sh): zkeep's whole cycle on two
# file-backed pools, "tank" (the data) and "backup" (a second pool, as a backup
# drive or another host would be). A fake clock (ZKEEP_NOW, a test hook) lets a
# day of hourly snapshot runs pass in seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
Z=$PWD/${ZKEEP_BUILD:-build}/zkeep
[ -x "$Z" ] || { echo "demo: $Z is not built" >&2; exit 2; }
work=$(mktemp -d /tmp/zkeep-demo.XXXXXX)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
# A dataset's snapshots, oldest first; long lists show their ends only.
snaps() {
    local all n
    all=$(zfs list -H -o name -t snapshot -s createtxg -d 1 "$1")
    n=$(printf '%s\n' "$all" | grep -c .)
    if [ "$n" -gt 10 ]; then
        printf '%s\n' "$all" | head -n 4 | sed 's/^/    /'
        echo "    ... $((n - 8)) more ..."
        printf '%s\n' "$all" | tail -n 4 | sed 's/^/    /'
    else
        printf '%s\n' "$all" | sed 's/^/    /'
    fi
    echo "    ($n snapshots)"
}

say "Two throwaway pools on files"
truncate -s 256M "$work/tank.img" "$work/backup.img"
run zpool create -O atime=off tank "$work/tank.img"
run zpool create -O atime=off backup "$work/backup.img"
run zfs create tank/home
mkdir -p /tank/home/docs
for i in 1 2 3; do head -c 200000 /dev/urandom >"/tank/home/docs/report-$i.bin"; done
echo "the only copy of my thesis" >/tank/home/docs/thesis.txt

cat >"$work/sanoid.conf" <<CONF
# A sanoid.conf, unchanged from what sanoid users already have.
[tank/home]
    use_template = workstation

[template_workstation]
    frequently = 0
    hourly = 6
    daily = 2
    monthly = 0
    yearly = 0
    autosnap = yes
    autoprune = yes
CONF
say "The policy (zkeep config check)"
run "$Z" config check --config-dir "$work"

say "1. Snapshot by policy: a day of hourly runs (fake clock)"
# 2026-06-01 00:30 UTC, then every hour for 30 hours.
t0=1780273800
for h in $(seq 0 29); do
    ZKEEP_NOW=$((t0 + h * 3600)) "$Z" snapshot --config-dir "$work" >/dev/null
    [ $h = 12 ] && echo "edited at hour 12" >>/tank/home/docs/thesis.txt
done
echo "  after 30 hourly runs, tank/home has:"
snaps tank/home

say "2. Replicate to the backup pool (incremental next time, resumable)"
run "$Z" replicate --dry-run tank/home backup/home
run "$Z" replicate tank/home backup/home
echo "  backup/home now has:"
snaps backup/home
echo "  held on the source so no pruning can force a full resend:"
zfs list -H -o name -t snapshot tank/home | xargs -d '\n' zfs holds -H | sed 's/^/    /'

say "3. Prune by retention (hourly = 6, daily = 2)"
ZKEEP_NOW=$((t0 + 30 * 3600)) run "$Z" prune --config-dir "$work" --verbose
echo "  tank/home keeps:"
snaps tank/home
run "$Z" status --config-dir "$work"

say "4. Disaster, then restore from the backup"
run rm -f /tank/home/docs/thesis.txt
echo "  the thesis is gone from tank/home: $(ls /tank/home/docs | tr '\n' ' ')"
run "$Z" replicate backup/home tank/restored
run zfs mount tank/restored 2>/dev/null || true
mp=$(zfs get -H -o value mountpoint tank/restored)
echo "  restored copy of the thesis:"
sed 's/^/    /' "$mp/docs/thesis.txt"
if cmp -s "$mp/docs/report-1.bin" /tank/home/docs/report-1.bin; then
    echo "  report-1.bin restored bit for bit"
else
    echo "  report-1.bin differs!"; exit 1
fi

say "5. Verify the backup: same snapshots (guid, order), same files, byte for byte"
run "$Z" verify tank/home backup/home

say "Done: snapshot -> replicate -> prune -> restore, on real OpenZFS $(cat /sys/module/zfs/version)"
zpool destroy tank
zpool destroy backup
rm -rf "$work"
