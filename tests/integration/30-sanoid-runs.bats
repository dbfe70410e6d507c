#!/usr/bin/env bats
# zkeep as `sanoid`: a day of hourly runs on a real pool, across a month end, with a
# small policy (hourly 4, daily 1, monthly 1) so that every type is taken and pruned.
#
# The full year of hourly runs (8,761 runs, default policy: 49 hourly, 91 daily, 7
# monthly kept) is simulated run by run in tests/unit/test_schedule.c with the same
# engine code. On a real pool it cannot be done here: ZFS takes one snapshot per
# dataset per `zfs snapshot` call (channel programs too: EAGAIN), and under TCG a call
# costs ~0.5 s, so a year of snapshots of one dataset alone is over an hour.
#
# Expected, worked out by hand: every run takes an hourly; the first run (Jan 31
# 00:00) also a daily and a monthly; Feb 1 00:00 a daily (first run after 23:59) and a
# monthly. Pruning works on the list from before each run's own snapshot: after the
# last run (Feb 1 01:00) 5 hourlies remain (21:00 .. 01:00), the daily of Feb 1 (Jan
# 31's is older than a day and there are 2 > 1), both monthlies (not 31 days old).

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

@test "sanoid: 26 hourly runs across a month end take and prune by the rules" {
    make_pool sr1
    zfs create sr1/a
    write_conf <<'CONF'
[sr1/a]
	hourly = 4
	daily = 1
	monthly = 1
CONF
    t=$(date -u -d '2027-01-31 00:00:00' +%s)
    for ((i = 0; i < 26; i++)); do
        ZKEEP_NOW=$((t + i * 3600)) zsanoid --cron --verbose >>"$SD/runs.log" 2>&1 \
            || fail "run $i failed: $(cat "$SD/runs.log")"
    done
    assert_equal "$(snaps sr1/a | tr '\n' ' ')" \
"autosnap_2027-01-31_00:00:00_monthly autosnap_2027-01-31_21:00:00_hourly \
autosnap_2027-01-31_22:00:00_hourly autosnap_2027-01-31_23:00:00_hourly \
autosnap_2027-02-01_00:00:00_daily autosnap_2027-02-01_00:00:00_hourly \
autosnap_2027-02-01_00:00:00_monthly autosnap_2027-02-01_01:00:00_hourly "
    # every run took one hourly: 26 taken, 21 pruned
    assert_equal "$(grep -c 'pruning sr1/a@autosnap_.*_hourly' "$SD/runs.log")" 21
    assert_equal "$(grep -c 'taking snapshot sr1/a@autosnap_.*_hourly' "$SD/runs.log")" 26
}
