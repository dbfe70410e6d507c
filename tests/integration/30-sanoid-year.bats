#!/usr/bin/env bats
# zkeep as `sanoid`: a year of hourly runs on a real pool (ZKEEP_NOW sets each run's
# clock), bounded to 50 runs. Still the slowest sanoid test and over the 3-minute aim:
# about 5 minutes with the debug build at load 5-6 (several guests on a 2-core machine),
# over 6 minutes with the ASan build at load 10.
#
# A real pool cannot afford all 8,761 hourly runs here: ZFS takes one snapshot per
# dataset per txg, so every run costs a few zfs processes (~0.5 s each under TCG).
# Of the year's hourly runs, only those the result depends on are made: every hour of
# the last 25 hours (the last run included), 00:00 of the last 15 days, and 00:00 on
# the 1st of every month - 50 runs. The policy is smaller than the defaults for the
# same reason (hourly 24, daily 14, monthly 6). tests/unit/test_schedule.c
# (test_bounded_year_keeps_what_the_hourly_year_keeps) runs the same 50 runs and the
# full 8,761 through the engine's schedule and retention and shows that both keep the
# same snapshots; it asserts the rule this test checks on the pool: COUNT + 1 of each
# type are kept (COUNT within the type's period of the last run, plus the last run's
# own), the oldest COUNT periods before the end. The year is Europe/Vienna's 2026,
# DST changes included. The expectation is computed here from the policy, not copied.

load lib
load sanoid-lib

H=24 D=14 M=6

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
    export TZ=Europe/Vienna
}

teardown() {
    destroy_pools
}

@test "sanoid: a year of hourly runs keeps hourly+1, daily+1, monthly+1 of the policy" {
    make_pool sy1
    zfs create sy1/a
    write_conf <<CONF
[sy1/a]
	frequently = 0
	hourly = $H
	daily = $D
	weekly = 0
	monthly = $M
	yearly = 0
CONF
    start=$(at "2026-01-01 00:00:00")
    end=$(at "2027-01-01 00:00:00")
    # the year's hours, kept when the result depends on them (see the top)
    seq "$start" 3600 "$end" | sed 's/^/@/' | date -f - '+%s %H:%M %d' |
        awk -v end="$end" -v h="$H" -v d="$D" \
            '$1 > end - (h + 1) * 3600 || ($2 == "00:00" && ($3 == "01" || $1 > end - (d + 1) * 86400)) { print $1 }' \
            >"$SD/runs"
    assert_equal "$(wc -l <"$SD/runs")" 50
    while read -r t; do
        ZKEEP_NOW=$t zsanoid --cron --verbose >>"$SD/runs.log" 2>&1 \
            || fail "run at $(date -d "@$t") failed: $(tail -n 20 "$SD/runs.log")"
    done <"$SD/runs"

    # COUNT + 1 of each type: the last COUNT periods before the end, and the end's own
    {
        for ((k = 0; k <= H; k++)); do date -d "@$((end - k * 3600))" +autosnap_%Y-%m-%d_%H:%M:%S_hourly; done
        for ((k = 0; k <= D; k++)); do date -d "2027-01-01 -$k days" +autosnap_%Y-%m-%d_00:00:00_daily; done
        for ((k = 0; k <= M; k++)); do date -d "2027-01-01 -$k months" +autosnap_%Y-%m-%d_00:00:00_monthly; done
    } | LC_ALL=C sort >"$SD/expected"
    assert_equal "$(count_type sy1/a hourly)" $((H + 1))
    assert_equal "$(count_type sy1/a daily)" $((D + 1))
    assert_equal "$(count_type sy1/a monthly)" $((M + 1))
    assert_equal "$(snaps sy1/a)" "$(cat "$SD/expected")"
    # and everything taken that is not kept was pruned by a run, none left behind
    taken=$(grep -c 'taking snapshot sy1/a@' "$SD/runs.log")
    pruned=$(grep -c 'pruning sy1/a@' "$SD/runs.log")
    assert_equal $((taken - pruned)) $((H + D + M + 3))
}
