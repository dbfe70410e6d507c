#!/usr/bin/env bats
# zkeep as `sanoid`: 15-minute runs across the end and the start of daylight saving
# time in Europe/Vienna. Expected names are written out by hand: every run takes a
# frequently snapshot, every hour (not every local hour number) one hourly; the hour
# that repeats gets the "dst" names.

load lib
load sanoid-lib

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
    export TZ=Europe/Vienna
    write_conf <<'CONF'
[sd1/a]
	frequently = 100
	hourly = 100
	daily = 0
	monthly = 0
CONF
}

teardown() {
    destroy_pools
}

runs_every_15min() { # FROM-UTC-SECONDS COUNT
    local t=$1 i
    for ((i = 0; i < $2; i++)); do
        ZKEEP_NOW=$t zsanoid --cron >>"$SD/runs.log" 2>&1 || fail "run at $t failed: $(cat "$SD/runs.log")"
        t=$((t + 900))
    done
}

@test "sanoid DST end (2026-10-25, 03:00 CEST -> 02:00 CET): nothing skipped, nothing doubled" {
    make_pool sd1
    zfs create sd1/a
    # 01:30 CEST (23:30 UTC) .. 03:15 CET (02:15 UTC): 12 runs
    runs_every_15min "$(date -u -d '2026-10-24 23:30:00' +%s)" 12
    assert_equal "$(snaps sd1/a | grep _frequently | tr '\n' ' ')" \
"autosnap_2026-10-25_01:30:00_frequently autosnap_2026-10-25_01:45:00_frequently \
autosnap_2026-10-25_02:00:00_frequently autosnap_2026-10-25_02:00:00dst_frequently \
autosnap_2026-10-25_02:15:00_frequently autosnap_2026-10-25_02:15:00dst_frequently \
autosnap_2026-10-25_02:30:00_frequently autosnap_2026-10-25_02:30:00dst_frequently \
autosnap_2026-10-25_02:45:00_frequently autosnap_2026-10-25_02:45:00dst_frequently \
autosnap_2026-10-25_03:00:00_frequently autosnap_2026-10-25_03:15:00_frequently "
    assert_equal "$(snaps sd1/a | grep _hourly | tr '\n' ' ')" \
"autosnap_2026-10-25_01:30:00_hourly autosnap_2026-10-25_02:00:00_hourly \
autosnap_2026-10-25_02:00:00dst_hourly autosnap_2026-10-25_03:00:00_hourly "
}

@test "sanoid DST start (2026-03-29, 02:00 CET -> 03:00 CEST): nothing skipped, nothing doubled" {
    make_pool sd1
    zfs create sd1/a
    # 01:30 CET (00:30 UTC) .. 03:30 CEST (01:30 UTC): 5 runs
    runs_every_15min "$(date -u -d '2026-03-29 00:30:00' +%s)" 5
    assert_equal "$(snaps sd1/a | tr '\n' ' ')" \
"autosnap_2026-03-29_01:30:00_frequently autosnap_2026-03-29_01:30:00_hourly \
autosnap_2026-03-29_01:45:00_frequently autosnap_2026-03-29_03:00:00_frequently \
autosnap_2026-03-29_03:00:00_hourly autosnap_2026-03-29_03:15:00_frequently \
autosnap_2026-03-29_03:30:00_frequently "
}
