#!/usr/bin/env bats
# zkeep as `sanoid`: a year of hourly runs on a real pool.
#
# Under TCG a zfs call costs ~0.5 s, so 8,761 real runs would take hours. Instead the
# pool gets the snapshots those runs would have taken (an independent model below:
# every hour an hourly, at 00:00 a daily, at 00:00 on the 1st a monthly), made in one
# channel program, and the last three runs of the year are real `sanoid --cron`
# runs, which then prune the year down. The schedule itself, run by run for the
# whole year, is checked by tests/unit/test_schedule.c (same expectations).
# Default policy: hourly 48, daily 90, monthly 6.

load lib
load sanoid-lib

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
    export TZ=UTC
}

teardown() {
    destroy_pools
}

@test "sanoid: a year of hourly runs keeps 49 hourly, 91 daily, 7 monthly snapshots" {
    make_pool sy1 512M
    zfs create sy1/a
    write_conf <<'CONF'
[sy1/a]
CONF
    start=$(date -u -d '2026-01-01 00:00:00' +%s)
    last=$(date -u -d '2026-12-31 22:00:00' +%s)
    perl -MPOSIX -e 'my ($s, $e) = @ARGV;
        for (my $t = $s; $t < $e; $t += 3600) {
            my @l = gmtime($t);
            my $n = strftime("%Y-%m-%d_%H:%M:%S", @l);
            print "autosnap_${n}_monthly\n" if $l[3] == 1 && $l[2] == 0;
            print "autosnap_${n}_daily\n" if $l[2] == 0;
            print "autosnap_${n}_hourly\n";
        }' "$start" "$last" | mksnaps sy1/a
    assert_equal "$(snaps sy1/a | wc -l)" $((8758 + 365 + 12))
    for t in "$last" $((last + 3600)) $((last + 7200)); do
        ZKEEP_NOW=$t run zsanoid --cron
        assert_success
    done
    assert_equal "$(count_type sy1/a hourly)" 49
    assert_equal "$(snaps sy1/a | grep _hourly | head -n1)" autosnap_2026-12-30_00:00:00_hourly
    assert_equal "$(snaps sy1/a | grep _hourly | tail -n1)" autosnap_2027-01-01_00:00:00_hourly
    assert_equal "$(count_type sy1/a daily)" 91
    assert_equal "$(snaps sy1/a | grep _daily | head -n1)" autosnap_2026-10-03_00:00:00_daily
    assert_equal "$(count_type sy1/a monthly)" 7
    assert_equal "$(snaps sy1/a | grep _monthly | head -n1)" autosnap_2026-07-01_00:00:00_monthly
    assert_equal "$(snaps sy1/a | wc -l)" $((49 + 91 + 7))
}
