#!/usr/bin/env bats
# zkeep as `sanoid`: the Nagios monitors, their one-line output and exit codes,
# at OK, WARNING and CRITICAL.

load lib
load sanoid-lib

bats_require_minimum_version 1.5.0

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
}

teardown() {
    rm -f /usr/local/sbin/zfs
    destroy_pools
}

@test "sanoid --monitor-snapshots: OK, WARN, CRIT lines and exit codes" {
    make_pool sm1
    zfs create sm1/a
    zfs create sm1/b
    write_conf <<'CONF'
[sm1/a]
	hourly = 24
	daily = 7
	monthly = 0
	daily_warn = 2d
	daily_crit = 4d
[sm1/b]
	hourly = 24
	daily = 0
	monthly = 0
	monitor_dont_crit = yes
CONF
    t0=$(at "2026-07-01 10:00:00")
    ZKEEP_NOW=$t0 run zsanoid --cron
    assert_success
    ZKEEP_NOW=$((t0 + 600)) run zsanoid --monitor-snapshots
    assert_success
    assert_equal "$output" "OK: all monitored datasets (sm1/a, sm1/b) have fresh snapshots"
    # 100 minutes: both hourlies over 90m (warn); the daily is fine
    ZKEEP_NOW=$((t0 + 6000)) run zsanoid --monitor-snapshots
    assert_failure 1
    assert_equal "$output" "WARN: sm1/a newest hourly snapshot is 1h 40m 0s old (should be < 1h 30m 0s), WARN: sm1/b newest hourly snapshot is 1h 40m 0s old (should be < 1h 30m 0s)"
    # 7 hours: over 360m = crit; b does not go critical (monitor_dont_crit) but says so
    ZKEEP_NOW=$((t0 + 25200)) run zsanoid --monitor-snapshots
    assert_failure 2
    assert_equal "$output" "CRIT: sm1/a newest hourly snapshot is 7h 0m 0s old (should be < 6h 0m 0s), CRIT: sm1/b newest hourly snapshot is 7h 0m 0s old (should be < 6h 0m 0s)"
    # no snapshots of a monitored type at all
    zfs destroy -r sm1/b@%
    ZKEEP_NOW=$((t0 + 600)) run zsanoid --monitor-snapshots --force-update
    assert_success # sm1/b: dont_crit
    assert_equal "$output" "CRIT: sm1/b has no hourly snapshots at all!"
}

@test "sanoid --monitor-capacity and --monitor-health" {
    make_pool sm2 256M
    zfs create -o compression=off sm2/a
    write_conf <<'CONF'
[sm2]
	capacity_warn = 10
	capacity_crit = 20
[sm2/a]
CONF
    run zsanoid --monitor-capacity
    assert_success
    assert_equal "$output" "OK ZPOOL sm2 : $(zpool list -H -o cap sm2)"
    dd if=/dev/urandom of=/sm2/a/fill bs=1M count=36 status=none
    zpool sync sm2
    run zsanoid --monitor-capacity
    assert_failure 1
    assert_equal "$output" "*** WARNING *** WARNING ZPOOL sm2 : $(zpool list -H -o cap sm2)"
    dd if=/dev/urandom of=/sm2/a/fill2 bs=1M count=30 status=none
    zpool sync sm2
    run zsanoid --monitor-capacity
    assert_failure 2
    assert_equal "$output" "*** CRITICAL *** CRITICAL ZPOOL sm2 : $(zpool list -H -o cap sm2)"
    run zsanoid --monitor-health
    assert_success
    read -r size cap free < <(zpool list -H -o size,cap,free sm2)
    assert_equal "$output" "OK ZPOOL sm2 : ONLINE {Size:$size Free:$free Cap:$cap} "

    # ZFS cannot be asked (here a zfs that fails as it does without the module):
    # each monitor says UNKNOWN on stdout, which Nagios shows, and exits 3.
    # zkeep runs zfs from a fixed PATH that starts with /usr/local/sbin (teardown removes it).
    printf '#!/bin/sh\necho "The ZFS modules are not loaded." >&2\nexit 1\n' >/usr/local/sbin/zfs
    chmod 755 /usr/local/sbin/zfs
    for m in --monitor-snapshots --monitor-health --monitor-capacity; do
        rm -f "$SD/cache/"* # else the monitor reads the cache the runs above left
        run --separate-stderr zsanoid $m
        assert_failure 3
        assert_equal "$output" "UNKNOWN 'zfs list' command returns no result! NOTE: This plugin needs OS support for ZFS, and execution with root privileges." "stdout of $m"
        [[ $stderr == *"The ZFS modules are not loaded."* ]] || fail "stderr of $m does not say why" "$stderr"
    done
    # What sanoid 2.3.0 says there (docs/sanoid.md, "What differs"), for the log.
    mkdir -p "$SD/ref"
    run "$REF230_SANOID" --configdir="$SD/etc" --cache-dir="$SD/ref" \
        --run-dir="$SD/ref" --monitor-snapshots
    echo "# sanoid 2.3.0 --monitor-snapshots without ZFS: exit $status: $output" >&3
}
