#!/usr/bin/env bats
# zkeep drive backup/status: the whole cycle with the backup pool on a loop device that
# is exported and detached between runs (as if unplugged) and attached again; an
# interrupted backup resumes; bad input fails with exit 2 and changes nothing.

load lib
load replicate
load drive

setup() {
    setup_drive
    make_pool srcp 256M
    make_encrypted srcp/enc
    zfs create srcp/plain
    zfs create srcp/plain/child
    make_drive usbp
    cat >"$CONF" <<EOF
[job other]
source = srcp/plain
target = elsewhere/x

[drive usb1]
pool = usbp
guid = $DRIVE_GUID
datasets = srcp/enc srcp/plain
snapdir = visible
canmount = noauto
mountpoint = none
EOF
}

teardown() {
    teardown_drive
}

@test "drive: the whole cycle, unplugged and plugged in again between backups" {
    echo one >/srcp/enc/f1
    head -c 300000 /dev/urandom >/srcp/plain/child/data
    zfs snapshot -r srcp@s1
    echo more >>/srcp/enc/f1
    zfs snapshot -r srcp@s2

    run "$ZKEEP" --verbose drive backup --config "$CONF" usb1
    assert_success
    assert_output_contains "[import]"
    assert_output_contains "[export]"
    assert_output_contains "is a loop device: not detached"
    ! pool_imported usbp || fail "usbp is still imported after the backup"
    # root imported and exported; a confined worker replicated, under grants now revoked,
    # and root ran its receives (the worker holds no receive: cli/root_receives.h)
    assert_output_contains "replicated to the drive as confined worker uid 607"
    uid=$(sed -n 's/.*confined worker uid \([0-9]*\).*/\1/p' <<<"$output" | head -n1)

    # what is on the drive
    zpool import -o cachefile=none -N usbp
    uids=$(zpool history -l usbp | grep ' zfs receive ' | sed -n 's/.*\[user \([0-9]*\).*/\1/p' | sort -u)
    assert_equal "$uids" 0 "the users of the receives into usbp (root's, for worker $uid)"
    assert_no_grants srcp usbp
    for ds in enc plain plain/child; do
        assert_equal "$(plain_snaps_of usbp/srcp/$ds)" "s1 s2" "snapshots of usbp/srcp/$ds"
        assert_equal "$(guid_of usbp/srcp/$ds@s2)" "$(guid_of srcp/$ds@s2)" "guid of $ds@s2"
        assert_prop usbp/srcp/$ds readonly on
        assert_prop usbp/srcp/$ds canmount noauto
        assert_prop usbp/srcp/$ds snapdir visible
    done
    assert_prop usbp/srcp/enc mountpoint none
    assert_prop usbp/srcp/enc encryption aes-256-gcm
    assert_prop usbp/srcp/enc keystatus unavailable
    # the snapshot the next backup needs is held on the source
    assert_equal "$(zfs holds -H srcp/enc@s2 | cut -f2)" zkeep_drive_usb1 "hold on the source"
    zpool export usbp

    # unplug; the drive is reported absent and a backup fails cleanly
    unplug
    run "$ZKEEP" drive status --config "$CONF" usb1
    assert_success
    assert_output_contains "drive usb1: absent"
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_failure 2
    assert_output_contains "pool usbp (guid $DRIVE_GUID) is not present"

    # a new snapshot, the oldest pruned on the source; plug in again
    echo two >/srcp/enc/f2
    rm /srcp/plain/child/data
    zfs snapshot -r srcp@s3
    zfs destroy -r srcp@s1
    plug_in
    run "$ZKEEP" drive status --config "$CONF" usb1
    assert_success
    assert_output_contains "drive usb1: present"
    assert_output_contains "srcp/enc -> usbp/srcp/enc: last backup"
    assert_output_contains "(@s2), 1 snapshot(s) behind"
    ! pool_imported usbp || fail "status left usbp imported"

    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    zpool import -o cachefile=none -N usbp
    for ds in enc plain plain/child; do
        assert_equal "$(plain_snaps_of usbp/srcp/$ds)" "s2 s3" "snapshots of usbp/srcp/$ds"
        assert_equal "$(guid_of usbp/srcp/$ds@s3)" "$(guid_of srcp/$ds@s3)" "guid of $ds@s3"
    done
    zpool export usbp

    run "$ZKEEP" drive status --json --config "$CONF" usb1
    assert_success
    [[ $output == *'"presence":"present"'* ]] || fail "status json: $output"
    [[ $output == *'"newest_common":"s3"'* ]] || fail "status json: $output"
    [[ $output == *'"behind":0'* ]] || fail "status json: $output"
}

@test "drive: s1 is pruned on the source before the drive comes back: the held snapshot keeps it incremental" {
    zfs snapshot -r srcp@s1
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    zfs snapshot -r srcp@s2
    # a pruner cannot destroy the snapshot the drive needs
    run zfs destroy srcp/enc@s1
    assert_failure
    assert_dataset_exists srcp/enc@s1
    run "$ZKEEP" drive backup --json --config "$CONF" usb1
    assert_success
    [[ $output == *'"event":"send","step":"replicate","source":"srcp/enc","target":"usbp/srcp/enc","from":"srcp/enc@s1"'* ]] \
        || fail "no incremental from s1: $output"
    # the hold moved to s2
    assert_equal "$(zfs holds -H srcp/enc@s2 | cut -f2)" zkeep_drive_usb1 "hold on s2"
    assert_equal "$(zfs holds -H srcp/enc@s1 | wc -l)" 0 "holds left on s1"
}

# After an interrupted backup of srcp/plain@s1: the exported drive holds a resume
# token, and the next backup (without the bandwidth limit) resumes from it rather
# than starting over, and ends with the same data and guid.
assert_resumes_plain() {
    local token
    zpool import -o cachefile=none -N usbp
    token=$(zfs get -H -o value receive_resume_token usbp/srcp/plain)
    zpool export usbp
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token on the drive"

    sed -i '/^bwlimit/d' "$CONF"
    run "$ZKEEP" drive backup --json --config "$CONF" usb1
    assert_success
    [[ $output == *'"event":"send","step":"replicate","source":"srcp/plain","target":"usbp/srcp/plain","from":null,"to":null'* ]] \
        || fail "the interrupted send was not resumed: $output"
    zpool import -o cachefile=none -N usbp
    assert_drive_has_plain_s1
}

@test "drive: a backup interrupted mid-send exports the pool and resumes next time" {
    fill /srcp/plain 6
    zfs snapshot -r srcp@s1
    # about 12 s for 6 MiB: time enough to interrupt it
    echo "bwlimit = 512K" >>"$CONF"
    "$ZKEEP" drive backup --config "$CONF" usb1 >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
    bg=$!
    for ((i = 0; i < 150; i++)); do
        pid=$(pgrep -f '^zfs receive.*usbp/srcp/plain$' | head -n1)
        [ -n "$pid" ] && break
        sleep 0.2
    done
    sleep 1
    [ -n "$pid" ] || { cat "$BATS_TEST_TMPDIR/bg.out"; fail "no zfs receive into usbp/srcp/plain"; }
    kill -9 "$pid"
    rc=0
    wait "$bg" || rc=$?
    cat "$BATS_TEST_TMPDIR/bg.out"
    assert_equal "$rc" 1 "exit status of the interrupted backup"
    ! pool_imported usbp || fail "the interrupted backup left usbp imported"
    grep -q "exported pool usbp" "$BATS_TEST_TMPDIR/bg.out" || fail "no export reported"

    assert_resumes_plain
}

@test "drive: SIGTERM in the middle of the send stops it, exports the pool, and the next backup resumes" {
    fill /srcp/plain 6
    zfs snapshot -r srcp@s1
    # about 12 s for 6 MiB: time enough to interrupt it
    echo "bwlimit = 512K" >>"$CONF"
    "$ZKEEP" drive backup --config "$CONF" usb1 >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
    bg=$!
    wait_received 1048576
    kill -TERM "$bg"
    rc=0
    wait "$bg" || rc=$?
    cat "$BATS_TEST_TMPDIR/bg.out"
    assert_equal "$rc" 1 "exit status of the interrupted backup"
    grep -q "SIGTERM received: stopping the backup" "$BATS_TEST_TMPDIR/bg.out" || fail "no stop reported"
    grep -q "exported pool usbp" "$BATS_TEST_TMPDIR/bg.out" || fail "no export reported"
    grep -q "interrupted by SIGTERM; pool usbp was exported" "$BATS_TEST_TMPDIR/bg.out" \
        || fail "no final message"
    ! grep -q "power-off" "$BATS_TEST_TMPDIR/bg.out" || fail "power-off after an interruption"
    ! pool_imported usbp || fail "the interrupted backup left usbp imported"
    ! pgrep -f '^zfs (send|receive)' || fail "zfs send or receive still running"

    assert_resumes_plain
}

@test "drive: bad input fails with exit 2 and a clear message, and changes nothing" {
    zfs snapshot -r srcp@s1
    before=$(pool_state srcp)
    run "$ZKEEP" drive backup --config "$CONF" nosuch
    assert_failure 2
    assert_output_contains "no drive 'nosuch'"
    assert_output_contains "configured: usb1"

    sed -i 's|^datasets = .*|datasets = srcp/enc srcp/missing|' "$CONF"
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_failure 2
    assert_output_contains "srcp/missing"
    ! pool_imported usbp || fail "usbp was imported although a source is missing"

    sed -i 's|^datasets = .*|datasets = srcp/enc|; s|^pool = .*|pool = nopool|; s|^guid = .*|guid = 1|' "$CONF"
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_failure 2
    assert_output_contains "pool nopool (guid 1) is not present"

    printf '[drive x]\npool = usbp\nguid = 1\n' >"$CONF"
    run "$ZKEEP" drive backup --config "$CONF" x
    assert_failure 2
    assert_output_contains "needs datasets"
    assert_equal "$(pool_state srcp)" "$before" "source state"
}

@test "drive: --dry-run imports with delegation=off, plans, exports and writes no data" {
    zfs snapshot -r srcp@s1
    run "$ZKEEP" drive backup --dry-run --config "$CONF" usb1
    assert_success
    assert_output_contains "srcp/enc"
    ! pool_imported usbp || fail "dry run left usbp imported"
    zpool import -o cachefile=none -N usbp
    assert_no_dataset usbp/srcp
    zpool export usbp
    assert_equal "$(zfs holds -H srcp/enc@s1 | wc -l)" 0 "holds after a dry run"
}

@test "drive: units renders a udev rule matching the pool's guid and a oneshot service" {
    run "$ZKEEP" drive units --config "$CONF" --output "$BATS_TEST_TMPDIR" --zkeep /usr/bin/zkeep
    assert_success
    grep -q "ENV{ID_FS_UUID}==\"$DRIVE_GUID\"" "$BATS_TEST_TMPDIR/90-zkeep-drive-usb1.rules" || fail "rule"
    ! grep -q 'ID_FS_LABEL' "$BATS_TEST_TMPDIR/90-zkeep-drive-usb1.rules" || fail "rule matches the name"
    grep -q 'SYSTEMD_WANTS}+="zkeep-drive-usb1.service"' "$BATS_TEST_TMPDIR/90-zkeep-drive-usb1.rules" || fail "rule"
    grep -q "^ExecStart=/usr/bin/zkeep drive backup --config $CONF usb1$" "$BATS_TEST_TMPDIR/zkeep-drive-usb1.service" \
        || fail "ExecStart: $(cat "$BATS_TEST_TMPDIR/zkeep-drive-usb1.service")"
    # udev's blkid sees the pool's guid on the loop device
    blkid -p -o udev "$LOOPDEV" | grep -q "^ID_FS_UUID=$DRIVE_GUID\$" || fail "blkid: $(blkid -p -o udev "$LOOPDEV")"
}
