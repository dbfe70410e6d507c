#!/usr/bin/env bats
# zkeep drive backup when the drive vanishes in the middle of the send: the backup pool
# is on a device-mapper disk whose table is switched to the `error` target (every I/O
# fails, as when the cable is pulled) and back (plugged in again).
#
# What ZFS does then: it suspends the pool (failmode=wait, the default) and holds every
# write - the receive waits, nothing fails. zkeep says so and what to do; when the disk
# is back and `zpool clear` resumes the pool, the same backup goes on and completes.

load lib
load replicate
load drive

setup() {
    setup_drive
    make_pool srcp 256M
    zfs create srcp/plain
    fill /srcp/plain 6
    zfs snapshot -r srcp@s1
    make_dm_drive usbp
    cat >"$CONF" <<EOF2
[drive usb1]
pool = usbp
guid = $DRIVE_GUID
datasets = srcp/plain
bwlimit = 512K
EOF2
}

teardown() {
    teardown_dm_drive
}

@test "unplug: the drive vanishes mid-send; plugged in again and cleared, the backup goes on and the data is identical" {
    before=$(pool_state srcp)
    "$ZKEEP" drive backup --config "$CONF" usb1 >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
    bg=$!
    wait_received 1048576
    dm_unplug
    for ((i = 0; i < 120; i++)); do
        grep -q "pool usbp is SUSPENDED" "$BATS_TEST_TMPDIR/bg.out" && break
        kill -0 "$bg" 2>/dev/null || break
        sleep 0.5
    done
    cat "$BATS_TEST_TMPDIR/bg.out"
    kill -0 "$bg" 2>/dev/null || fail "zkeep ended while the drive was gone"
    grep -q "pool usbp is SUSPENDED: its drive went away" "$BATS_TEST_TMPDIR/bg.out" || fail "no suspension reported"
    grep -q "run \`zpool clear usbp\`" "$BATS_TEST_TMPDIR/bg.out" || fail "no advice"
    assert_equal "$(zpool list -H -o health usbp)" SUSPENDED "health of usbp"
    assert_equal "$(pool_state srcp)" "$before" "the source while the drive is gone"

    dm_replug
    zpool clear usbp
    rc=0
    wait "$bg" || rc=$?
    cat "$BATS_TEST_TMPDIR/bg.out"
    assert_equal "$rc" 0 "exit status of the backup"
    grep -q "exported pool usbp" "$BATS_TEST_TMPDIR/bg.out" || fail "no export reported"
    ! pool_imported usbp || fail "usbp still imported"

    zpool import -d /dev/mapper -o cachefile=none -N usbp
    assert_equal "$(zpool list -H -o health usbp)" ONLINE "health after the backup"
    assert_drive_has_plain_s1
}
