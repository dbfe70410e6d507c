#!/usr/bin/env bats
# zkeep as `sanoid`: the Nagios monitors, their one-line output and exit codes,
# at OK, WARNING and CRITICAL.

load lib
load sanoid-lib

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
}

teardown() {
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
}
