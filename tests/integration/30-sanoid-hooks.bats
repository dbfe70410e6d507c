#!/usr/bin/env bats
# zkeep as `sanoid`: pre/post snapshot and pruning hooks: their environment,
# script_timeout (the hook is killed), failure handling (no_inconsistent_snapshot,
# force_post_snapshot_script).

load lib
load sanoid-lib

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
    # a hook that records its environment, one file per call
    cat >"$SD/hook" <<'HOOK'
#!/bin/sh
env | grep '^SANOID_' | sort >"$HOOK_DIR/$SANOID_SCRIPT.$$"
exit "${HOOK_EXIT:-0}"
HOOK
    chmod +x "$SD/hook"
    export HOOK_DIR=$SD/calls
    mkdir -p "$HOOK_DIR"
}

teardown() {
    destroy_pools
}

@test "sanoid hooks: pre and post get sanoid's environment; pruning_script per destroyed snapshot" {
    make_pool sh1
    zfs create sh1/a
    write_conf <<CONF
[sh1/a]
	hourly = 1
	daily = 1
	monthly = 0
	pre_snapshot_script = $SD/hook
	post_snapshot_script = $SD/hook
	pruning_script = $SD/hook
	script_timeout = 120
CONF
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron
    assert_success
    assert_equal "$(cat "$HOOK_DIR"/pre.*)" "SANOID_SCRIPT=pre
SANOID_SNAPNAME=autosnap_2026-07-01_10:00:00_daily
SANOID_SNAPNAMES=autosnap_2026-07-01_10:00:00_daily,autosnap_2026-07-01_10:00:00_hourly
SANOID_TARGET=sh1/a
SANOID_TARGETS=sh1/a
SANOID_TYPES=daily,hourly"
    assert_equal "$(cat "$HOOK_DIR"/post.*)" "SANOID_PRE_FAILURE=0
SANOID_SCRIPT=post
SANOID_SNAPNAME=autosnap_2026-07-01_10:00:00_daily
SANOID_SNAPNAMES=autosnap_2026-07-01_10:00:00_daily,autosnap_2026-07-01_10:00:00_hourly
SANOID_TARGET=sh1/a
SANOID_TARGETS=sh1/a
SANOID_TYPES=daily,hourly"
    rm -f "$HOOK_DIR"/*
    # a new hourly at 12:00; the 13:00 run prunes the 10:00 one (older than 1 h, and
    # 2 > 1 in the list from before the run took its own, as sanoid counts)
    ZKEEP_NOW=$(at "2026-07-01 12:00:00") run zsanoid --cron
    assert_success
    [ -z "$(ls "$HOOK_DIR"/prune.* 2>/dev/null)" ] || fail "pruned at 12:00: $(snaps sh1/a)"
    ZKEEP_NOW=$(at "2026-07-01 13:00:00") run zsanoid --cron
    assert_success
    assert_equal "$(snaps sh1/a | tr '\n' ' ')" "autosnap_2026-07-01_10:00:00_daily autosnap_2026-07-01_12:00:00_hourly autosnap_2026-07-01_13:00:00_hourly "
    assert_equal "$(cat "$HOOK_DIR"/prune.*)" "SANOID_SCRIPT=prune
SANOID_SNAPNAME=autosnap_2026-07-01_10:00:00_hourly
SANOID_TARGET=sh1/a"
}

@test "sanoid hooks: a failing pre script with no_inconsistent_snapshot takes nothing; a hung one is killed" {
    make_pool sh2
    zfs create sh2/a
    zfs create sh2/b
    cat >"$SD/slow" <<'HOOK'
#!/bin/sh
sleep 300 &
echo $! >"$HOOK_DIR/child.pid"
wait
HOOK
    chmod +x "$SD/slow"
    write_conf <<CONF
[template_t]
	hourly = 1
	daily = 0
	monthly = 0
	post_snapshot_script = $SD/hook
[sh2/a]
	use_template = t
	pre_snapshot_script = $SD/hook
	no_inconsistent_snapshot = yes
[sh2/b]
	use_template = t
	pre_snapshot_script = $SD/slow
	script_timeout = 2
	force_post_snapshot_script = yes
CONF
    start=$SECONDS
    HOOK_EXIT=3 ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron
    assert_failure 1
    assert_output_contains "pre_snapshot_script didn't finish in the allowed time"
    assert_output_contains "WARN: pre_snapshot_script failed"
    [ $((SECONDS - start)) -lt 200 ] || fail "the hung hook was waited for ($((SECONDS - start)) s)"
    # the hook's own child was killed with it (its process group)
    sleep 1
    ! kill -0 "$(cat "$HOOK_DIR/child.pid")" 2>/dev/null || fail "the hook's child still runs"
    # a: no snapshot, no post script. b: snapshot, and the forced post script knows
    assert_equal "$(snaps sh2/a | wc -l)" 0
    assert_equal "$(snaps sh2/b)" "autosnap_2026-07-01_10:00:00_hourly"
    assert_equal "$(cat "$HOOK_DIR"/post.* | grep -c .)" 7
    grep -qx "SANOID_PRE_FAILURE=1" "$HOOK_DIR"/post.* || fail "$(cat "$HOOK_DIR"/post.*)"
    grep -qx "SANOID_TARGET=sh2/b" "$HOOK_DIR"/post.* || fail "$(cat "$HOOK_DIR"/post.*)"
}
