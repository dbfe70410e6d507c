#!/usr/bin/env bats
# A target that is being received into is busy: a second run refuses with exit 1 (as
# syncoid 2.3 does) and changes nothing; the first run completes with the data intact.

bats_require_minimum_version 1.5.0

load lib
load replicate

setup() {
    setup_replicate
    make_pool srcp 512M
    make_pool dstp 512M
}

teardown() {
    pkill -P $$ sleep 2>/dev/null || true
    destroy_pools
}

@test "busy: two concurrent runs on one target; one replicates, the other refuses with exit 1" {
    zfs create srcp/b
    fill /srcp/b 4
    zfs snapshot srcp/b@s1
    "$ZKEEP" replicate --no-sync-snap --bwlimit=256K --buffer-size=64K srcp/b dstp/b \
        >"$BATS_TEST_TMPDIR/first.out" 2>&1 &
    first=$!
    wait_received 262144
    run "$ZKEEP" replicate --no-sync-snap srcp/b dstp/b
    [ "$status" -eq 1 ] || fail "second zkeep replicate: exit $status, not 1:" "$output"
    assert_output_contains "cannot replicate into dstp/b now"
    run --separate-stderr "$SYNCOID" --no-sync-snap srcp/b dstp/b
    [ "$status" -eq 1 ] || fail "second syncoid: exit $status, not 1:" "$output" "$stderr"
    # syncoid 2.3.0's words, on stderr; zkeep's reason with --debug
    assert_equal "$stderr" "WARNING: Cannot sync now: dstp/b is already target of a zfs receive process." "syncoid's stderr"
    run "$SYNCOID" --debug --no-sync-snap srcp/b dstp/b
    assert_output_contains "DEBUG: cannot replicate into dstp/b now: "
    wait "$first" || fail "the first run failed:" "$(cat "$BATS_TEST_TMPDIR/first.out")"
    assert_equal "$(zfs get -H -o value receive_resume_token dstp/b)" - "resume token"
    assert_same_tree /srcp/b/.zfs/snapshot/s1 /dstp/b/.zfs/snapshot/s1
    # no longer busy
    echo more >/srcp/b/more
    zfs snapshot srcp/b@s2
    run "$SYNCOID" --no-sync-snap srcp/b dstp/b
    assert_success
    assert_equal "$(plain_snaps_of dstp/b)" "s1 s2" "snapshots after the next run"
}

@test "busy: a foreign zfs receive into the target, and another run's lock, are refused" {
    zfs create srcp/f
    echo data >/srcp/f/data
    zfs snapshot srcp/f@s1
    zfs create dstp/f
    # a hand-made receive into a child of the target, waiting for its stream
    (sleep 60 | zfs receive dstp/f/child) &
    for ((i = 0; i < 100; i++)); do pgrep -f '^zfs receive dstp/f/child' >/dev/null && break; sleep 0.1; done
    run "$SYNCOID" --force-delete srcp/f dstp/f
    [ "$status" -eq 1 ] || fail "exit $status, not 1:" "$output"
    assert_output_contains "WARNING: Cannot sync now: dstp/f is already target of a zfs receive process."
    pkill -f '^sleep 60' || true
    wait || true
    assert_equal "$(snapshots_of dstp/f)" "" "the busy target was not touched"
    # the lock of another run (flock on the run dir's file for this target)
    export ZKEEP_RUN_DIR=$BATS_TEST_TMPDIR/run
    mkdir -p "$ZKEEP_RUN_DIR"
    flock "$ZKEEP_RUN_DIR/replicate-dstp%2Fg" sleep 60 &
    for ((i = 0; i < 100; i++)); do [ -e "$ZKEEP_RUN_DIR/replicate-dstp%2Fg" ] && break; sleep 0.1; done
    run "$ZKEEP" replicate srcp/f dstp/g
    [ "$status" -eq 1 ] || fail "exit $status, not 1:" "$output"
    assert_output_contains "another replication into it is running"
    assert_no_dataset dstp/g
    # a dry run only looks: allowed
    run "$ZKEEP" replicate --dry-run srcp/f dstp/g
    assert_success
    pkill -f '^sleep 60' || true
    wait || true
    run "$ZKEEP" replicate srcp/f dstp/g
    assert_success
    assert_same_tree /srcp/f/.zfs/snapshot/s1 /dstp/g/.zfs/snapshot/s1
}

# A local target whose name has a ':' after a '/' is local: it gets the busy check too.
@test "busy: a local target named with a ':' (dstp/h:x) is checked for a running zfs receive and locked" {
    zfs create srcp/f
    echo data >/srcp/f/data
    zfs snapshot srcp/f@s1
    zfs create dstp/h:x
    (sleep 60 | zfs receive dstp/h:x/child) &
    for ((i = 0; i < 100; i++)); do pgrep -f '^zfs receive dstp/h:x/child' >/dev/null && break; sleep 0.1; done
    run "$SYNCOID" --force-delete srcp/f dstp/h:x
    [ "$status" -eq 1 ] || fail "exit $status, not 1:" "$output"
    assert_output_contains "WARNING: Cannot sync now: dstp/h:x is already target of a zfs receive process."
    run "$ZKEEP" replicate srcp/f dstp/h:x
    [ "$status" -eq 1 ] || fail "exit $status, not 1:" "$output"
    assert_output_contains "target of a running zfs receive"
    pkill -f '^sleep 60' || true
    wait || true
    assert_equal "$(snapshots_of dstp/h:x)" "" "the busy target was not touched"
    run "$SYNCOID" --force-delete srcp/f dstp/h:x
    assert_success
    assert_same_tree /srcp/f/.zfs/snapshot/s1 /dstp/h:x/.zfs/snapshot/s1
}
